#!/bin/bash
# pp-query --stats: the public summary of every owner's CPU profiles. The
# shares must be right (profiles built here with known numbers; the shared
# Go and C++ profiles and a recorded program checked against go tool
# pprof), and nothing private may show: no owner, host, program, label,
# pid, path, or function outside a system library; nor a library that
# fewer than --min-owners owners have time in.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pb.sh"
. "$TEST_DIRECTORY/lib-recv.sh"

# mkprof OUT [count]: writes a CPU profile (raw protobuf) built from lines
# on stdin:
#	map ID PATH		a mapping
#	comment TEXT		a comment: "#pp host=h" is the host pp-recv
#				stores, and so on
#	period NS		the period (default 10 ms)
#	N FRAME;FRAME...	a sample of N periods, the leaf first; a FRAME
#				is MAP:NAME, MAP:INNER|OUTER for a location
#				with inlined lines, or MAP: for one without
# The sample types are samples/count and cpu/nanoseconds, or with "count"
# samples/count alone (as eBPF and Node.js agents write them).
mkprof() {
	local out=$1 kind=${2:-} line n rest fr map names name id i
	local period=10000000 nstr=1 nfn=0 nloc=0
	local strs_pb maps_pb= locs_pb= fns_pb= samples_pb= comments_pb= ids vals
	local -A strs fns locs
	local -a frames lines

	strs_pb=$(pb_str '')
	_str() {
		if [ -z "$1" ]; then
			REPLY=0
			return
		fi
		if [ -z "${strs[$1]+x}" ]; then
			strs[$1]=$nstr
			nstr=$((nstr + 1))
			strs_pb="$strs_pb $(pb_str "$1")"
		fi
		REPLY=${strs[$1]}
	}
	_fn() {
		if [ -z "${fns[$1]+x}" ]; then
			nfn=$((nfn + 1))
			fns[$1]=$nfn
			_str "$1"
			fns_pb="$fns_pb $(pb_len 5 $(pb_int 1 $nfn) $(pb_int 2 $REPLY) \
				$(pb_int 3 $REPLY))"
		fi
		REPLY=${fns[$1]}
	}
	_loc() {
		local key=$1 map=${1%%:*} names=${1#*:} l= name
		if [ -z "${locs[$key]+x}" ]; then
			nloc=$((nloc + 1))
			locs[$key]=$nloc
			if [ -n "$names" ]; then
				IFS='|' read -ra lines <<<"$names"
				for name in "${lines[@]}"; do
					_fn "$name"
					l="$l $(pb_len 4 $(pb_int 1 $REPLY) $(pb_int 2 1))"
				done
			fi
			locs_pb="$locs_pb $(pb_len 4 $(pb_int 1 $nloc) \
				$(pb_int 2 "$map") \
				$(pb_int 3 $(((map << 32) + 16 * nloc))) $l)"
		fi
		REPLY=${locs[$key]}
	}
	while IFS= read -r line; do
		case $line in
		'map '*)
			rest=${line#map }
			id=${rest%% *}
			_str "${rest#* }"
			maps_pb="$maps_pb $(pb_len 3 $(pb_int 1 "$id") \
				$(pb_int 2 $((id << 32))) \
				$(pb_int 3 $(((id << 32) + (1 << 24)))) \
				$(pb_int 5 $REPLY))"
			;;
		'comment '*)
			_str "${line#comment }"
			comments_pb="$comments_pb $(pb_int 13 $REPLY)"
			;;
		'period '*)
			period=${line#period }
			;;
		[0-9]*)
			n=${line%% *}
			IFS=';' read -ra frames <<<"${line#* }"
			ids=
			for fr in "${frames[@]}"; do
				_loc "$fr"
				ids="$ids $(pb_varint $REPLY)"
			done
			vals=$(pb_varint "$n")
			[ "$kind" = count ] ||
				vals="$vals $(pb_varint $((n * period)))"
			samples_pb="$samples_pb $(pb_len 2 $(pb_len 1 $ids) \
				$(pb_len 2 $vals))"
			;;
		esac
	done
	_str samples && local samples=$REPLY
	_str count && local count=$REPLY
	_str cpu && local cpu=$REPLY
	_str nanoseconds && local ns=$REPLY
	{
		pb_write $(pb_len 1 $(pb_int 1 $samples) $(pb_int 2 $count))
		[ "$kind" = count ] ||
			pb_write $(pb_len 1 $(pb_int 1 $cpu) $(pb_int 2 $ns))
		pb_write $samples_pb $maps_pb $locs_pb $fns_pb $strs_pb
		pb_write $(pb_int 9 1764000000000000000) $(pb_int 10 10000000000)
		pb_write $(pb_len 11 $(pb_int 1 $cpu) $(pb_int 2 $ns))
		pb_write $(pb_int 12 "$period") $comments_pb
	} >"$out"
}

# users STORE NAME...: adds the users to STORE, each token in NAME.token.
users() {
	local st=$1 u
	shift
	for u in "$@"; do
		pp-recv -d "$st" user add "$u" | tail -n 1 >"$u.token" || return 1
	done
}

# flat <JSON: the summary as lines ("cpu_ns N", "lib NAME N", "fn LIB
# NAME N", "other COUNT N" ...); a share that is not its cpu_ns over the
# total, or a field outside the documented ones, is a line of its own that
# no expected output has.
flat() {
	perl -MJSON::PP -e '
		local $/;
		my $j = decode_json(<STDIN>);
		sub keys_are {
			my ($h, $want) = @_;
			my $got = join(" ", sort keys %$h);
			print "FIELDS $got\n" if $got ne $want;
		}
		sub near {
			my ($what, $share, $ns, $total) = @_;
			my $want = $total ? $ns / $total : 0;
			print "SHARE $what $share != $want\n"
			    if abs($share - $want) > 1e-5 * $want + 1e-12;
		}
		keys_are($j, "allocator cpu_ns gc go_cpu_ns go_profiles " .
		    "left_out libraries min_owners other_libraries profiles");
		keys_are($j->{other_libraries}, "cpu_ns libraries share");
		keys_are($j->{allocator}, "self_ns self_share total_ns total_share");
		keys_are($j->{gc}, "cpu_ns go_share share");
		my $t = $j->{cpu_ns};
		print "$_ $j->{$_}\n" for qw(min_owners profiles go_profiles
		    left_out cpu_ns go_cpu_ns);
		my $a = $j->{allocator};
		print "allocator_self $a->{self_ns}\n";
		print "allocator_total $a->{total_ns}\n";
		print "gc $j->{gc}{cpu_ns}\n";
		near("self", $a->{self_share}, $a->{self_ns}, $t);
		near("total", $a->{total_share}, $a->{total_ns}, $t);
		near("gc", $j->{gc}{share}, $j->{gc}{cpu_ns}, $t);
		near("go", $j->{gc}{go_share}, $j->{gc}{cpu_ns},
		    $j->{go_cpu_ns});
		for my $l (@{$j->{libraries}}) {
			keys_are($l, "cpu_ns functions name share");
			print "lib $l->{name} $l->{cpu_ns}\n";
			near($l->{name}, $l->{share}, $l->{cpu_ns}, $t);
			for my $f (@{$l->{functions}}) {
				keys_are($f, "cpu_ns name share");
				print "fn $l->{name} $f->{name} $f->{cpu_ns}\n";
				near($f->{name}, $f->{share}, $f->{cpu_ns}, $t);
			}
		}
		my $o = $j->{other_libraries};
		print "other $o->{libraries} $o->{cpu_ns}\n";
		near("other", $o->{share}, $o->{cpu_ns}, $t);'
}

# The words that must never show: owners, hosts, programs, labels, pids,
# paths and private functions of the profiles below.
PRIVATE='alice bob carol alicehost bobhost carolhost secret team=blue blue
	987651 987652 987653
	/home /opt /srv vendor main genprof pprof-example-app-go cppbench
	math/big crypto/sha256 fib.Fibonacci runtime. clear_page_erms kallsyms'

# private FILE...: none of the private words is in FILE.
private() {
	local w f rc=0
	for f in "$@"; do
		for w in $PRIVATE; do
			if grep -F -i -e "$w" "$f"; then
				echo "'$w' is in $f"
				rc=1
			fi
		done
	done
	return $rc
}

# Alice's C++ program: the allocator, libraries of every kind, paths that
# only look like system libraries, the kernel, an inlined frame and a
# location without a function.
cat >alice.prof <<'EOF'
comment #pp program=secretprog
comment #pp host=alicehost
comment #pp pid=987651
comment #pp label=team=blue
map 1 /home/alice/bin/secretprog
map 2 /usr/lib/x86_64-linux-gnu/libc.so.6
map 3 /lib/x86_64-linux-gnu/libm-2.31.so
map 4 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
map 5 /usr/lib/../../home/alice/lib/libsecretlib.so
map 6 /opt/secretvendor/lib/libsecretvendor.so
map 7 [kernel.kallsyms]
map 8 /usr/lib/x86_64-linux-gnu/libz.so.1.2.13 (deleted)
map 9 /usr/lib/x86_64-linux-gnu/secretdir/libsecretnested.so
40 1:secret_compute;1:main
10 2:malloc;1:secret_alloc_wrapper;1:main
5 2:_int_malloc;2:malloc;1:secret_alloc_wrapper;1:main
3 4:_Znwm;1:secret_new_caller;1:main
2 4:operator delete(void*);1:secret_new_caller;1:main
8 2:__memmove_avx_unaligned_erms;1:secret_copy;1:main
6 3:sin;1:secret_math;1:main
4 5:secret_in_fake_lib;1:main
2 6:vendor_private_fn;2:malloc;1:main
1 2:_int_free|free;1:secret_free_caller;1:main
3 7:clear_page_erms;2:sysmalloc;2:_int_malloc;2:malloc;1:secret_alloc_wrapper;1:main
2 1:malloc;1:main
2 2:malloc_consolidate.part.0;2:free;1:secret_free_caller;1:main
1 8:inflate;1:secret_unzip;1:main
1 2:;1:main
1 9:secret_nested_fn;1:main
EOF

# Bob's Go program, with cgo, written as samples/count only: the collector
# (closures, an assist under the allocator), the allocator, inlining, and
# a package of its own called malloc.
cat >bob.prof <<'EOF'
comment #pp program=secretgo
comment #pp host=bobhost
comment #pp pid=987652
map 1 /srv/bob/secretgo
map 2 /usr/lib/x86_64-linux-gnu/libc.so.6
50 1:main.secretWork;1:main.main;1:runtime.main
10 1:runtime.scanobject;1:runtime.gcDrain;1:runtime.gcBgMarkWorker.func2;1:runtime.systemstack;1:runtime.gcBgMarkWorker
4 1:runtime.gcDrainN;1:runtime.gcAssistAlloc.func1;1:runtime.systemstack;1:runtime.gcAssistAlloc;1:runtime.mallocgc;1:runtime.newobject;1:main.secretAlloc;1:main.main;1:runtime.main
6 1:runtime.memclrNoHeapPointers;1:runtime.mallocgc;1:runtime.makeslice;1:main.secretAlloc;1:main.main;1:runtime.main
3 1:runtime.nextFreeFast|runtime.mallocgc;1:runtime.newobject;1:main.secretAlloc;1:main.main;1:runtime.main
2 1:runtime.bgsweep
1 1:runtime.(*mheap).alloc.func1;1:runtime.systemstack;1:runtime.(*mheap).alloc;1:runtime.(*mcache).refill;1:runtime.mallocgc;1:main.secretAlloc;1:main.main;1:runtime.main
4 2:memcpy;1:main.secretCgo;1:main.main;1:runtime.main
2 1:malloc.(*secretPool).Get;1:main.main;1:runtime.main
EOF

# Bob's eBPF-style profile: samples without a period, so no CPU time.
cat >bob-ebpf.prof <<'EOF'
comment #pp program=secretebpf
comment #pp host=bobhost
period 0
map 1 /srv/bob/secretebpf
map 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7 2:secret_leaks_here;1:secret_ebpf_main
EOF

test_expect_success 'two owners'"'"' profiles with known numbers' '
	mkprof alice.pb <alice.prof &&
	mkprof bob.pb count <bob.prof &&
	mkprof bob-ebpf.pb count <bob-ebpf.prof &&
	users store alice bob &&
	recv_push alice alice.pb && recv_push bob bob.pb && recv_push bob bob-ebpf.pb &&
	pp-query -d store -l >list &&
	test_line_count = 4 list &&
	grep "alice .* secretprog .* alicehost .* team=blue" list &&
	grep "bob .* secretgo .* bobhost" list
'

# The head of the table of store, the same whatever --min-owners says.
cat >head <<'EOF'
PROFILES  3 (1 Go; 1 left out, without CPU time)
CPU       1.73s (Go 820ms)

       CPU    SHARE  CATEGORY
     290ms   16.76%  allocator, self
     400ms   23.12%  allocator, total
     160ms    9.25%  garbage collector (Go)

       CPU    SHARE  LIBRARY / FUNCTION
EOF

# libc in it: alice's and bob's.
cat >libc <<'EOF'
     310ms   17.92%  libc
     100ms    5.78%    malloc
      80ms    4.62%    __memmove_avx_unaligned_erms
      50ms    2.89%    _int_malloc
      40ms    2.31%    memcpy
      20ms    1.16%    malloc_consolidate.part.0
      10ms    0.58%    [unknown]
      10ms    0.58%    _int_free
EOF

# table_is ARG... <TAIL: pp-query -d store --stats ARG... writes head,
# then TAIL.
table_is() {
	pp-query -d store --stats "$@" >out &&
	cat head - >expect &&
	test_cmp expect out
}

test_expect_success 'the table: two owners are too few to name a library' '
	table_is <<-\EOF
	     430ms   24.86%  (4 other libraries)
	EOF
'

test_expect_success 'the table with --min-owners 2: the library of both owners' '
	cat libc - <<-\EOF | table_is --min-owners 2
	     120ms    6.94%  (3 other libraries)
	EOF
'

test_expect_success 'the table with --min-owners 1: every library' '
	cat libc - <<-\EOF | table_is --min-owners 1
	      60ms    3.47%  libm
	      60ms    3.47%    sin
	      50ms    2.89%  libstdc++
	      30ms    1.73%    _Znwm
	      20ms    1.16%    operator delete(void*)
	      10ms    0.58%  libz
	      10ms    0.58%    inflate
	EOF
'

test_expect_success 'JSON: the same numbers, the documented fields only' '
	pp-query -d store --stats --min-owners 1 -o json >out.json &&
	flat <out.json >got &&
	cat >expect <<-\EOF &&
	min_owners 1
	profiles 3
	go_profiles 1
	left_out 1
	cpu_ns 1730000000
	go_cpu_ns 820000000
	allocator_self 290000000
	allocator_total 400000000
	gc 160000000
	lib libc 310000000
	fn libc malloc 100000000
	fn libc __memmove_avx_unaligned_erms 80000000
	fn libc _int_malloc 50000000
	fn libc memcpy 40000000
	fn libc malloc_consolidate.part.0 20000000
	fn libc [unknown] 10000000
	fn libc _int_free 10000000
	lib libm 60000000
	fn libm sin 60000000
	lib libstdc++ 50000000
	fn libstdc++ _Znwm 30000000
	fn libstdc++ operator delete(void*) 20000000
	lib libz 10000000
	fn libz inflate 10000000
	other 0 0
	EOF
	test_cmp expect got &&
	grep "\"self_share\": 0.16763," out.json &&
	grep "\"go_share\": 0.195122$" out.json &&
	pp-query -d store --stats -o json >out3.json &&
	flat <out3.json >got &&
	sed -e "s/^min_owners 1$/min_owners 3/" -e "/^lib /d" -e "/^fn /d" \
		-e "s/^other 0 0$/other 4 430000000/" expect >expect3 &&
	test_cmp expect3 got &&
	grep "\"share\": 0.248555$" out3.json
'

# Carol's C program: libc, as alice's and bob's, and libm, as alice's.
cat >carol.prof <<'EOF'
comment #pp program=secretcarol
comment #pp host=carolhost
comment #pp pid=987653
map 1 /srv/carol/secretcarol
map 2 /usr/lib/x86_64-linux-gnu/libc.so.6
map 3 /usr/lib/x86_64-linux-gnu/libm.so.6
30 1:secret_carol_loop;1:secret_carol_start
6 2:strlen;1:secret_carol_loop;1:secret_carol_start
3 3:cos;1:secret_carol_loop;1:secret_carol_start
1 2:malloc;1:secret_carol_loop;1:secret_carol_start
EOF

# The libraries of store4 by owners with time in them: libc 3, libm 2
# (alice's sin, carol's cos), libstdc++ 1 and libz 1 (alice's).
test_expect_success 'a library of fewer owners is not named; its time is the other row'"'"'s' '
	mkprof carol.pb <carol.prof &&
	users store4 alice bob carol &&
	RECV_STORE=store4 recv_push alice alice.pb && RECV_STORE=store4 recv_push bob bob.pb &&
	RECV_STORE=store4 recv_push carol carol.pb &&
	pp-query -d store4 --stats -o json >s4.json &&
	flat <s4.json >got &&
	cat >expect <<-\EOF &&
	min_owners 3
	profiles 3
	go_profiles 1
	left_out 0
	cpu_ns 2130000000
	go_cpu_ns 820000000
	allocator_self 300000000
	allocator_total 410000000
	gc 160000000
	lib libc 380000000
	fn libc malloc 110000000
	fn libc __memmove_avx_unaligned_erms 80000000
	fn libc strlen 60000000
	fn libc _int_malloc 50000000
	fn libc memcpy 40000000
	fn libc malloc_consolidate.part.0 20000000
	fn libc [unknown] 10000000
	fn libc _int_free 10000000
	other 3 150000000
	EOF
	test_cmp expect got &&
	pp-query -d store4 --stats >s4.txt &&
	tail -n 10 s4.txt >got &&
	cat >expect <<-\EOF &&
	     380ms   17.84%  libc
	     110ms    5.16%    malloc
	      80ms    3.76%    __memmove_avx_unaligned_erms
	      60ms    2.82%    strlen
	      50ms    2.35%    _int_malloc
	      40ms    1.88%    memcpy
	      20ms    0.94%    malloc_consolidate.part.0
	      10ms    0.47%    [unknown]
	      10ms    0.47%    _int_free
	     150ms    7.04%  (3 other libraries)
	EOF
	test_cmp expect got &&
	for w in libm sin cos libstdc++ _Znwm "operator delete" libz inflate; do
		! grep -F -e "$w" s4.txt s4.json || return 1
	done &&
	private s4.txt s4.json &&
	pp-query -d store4 --stats --min-owners 2 -o json | flat >got2 &&
	grep "^lib libm 90000000$" got2 && grep "^fn libm sin 60000000$" got2 &&
	grep "^fn libm cos 30000000$" got2 && grep "^other 2 60000000$" got2 &&
	! grep -e libstdc++ -e libz got2 &&
	pp-query -d store4 --stats --min-owners 1 -o json | flat >got1 &&
	grep "^lib libstdc++ 50000000$" got1 && grep "^lib libz 10000000$" got1 &&
	grep "^fn libz inflate 10000000$" got1 && grep "^other 0 0$" got1 &&
	pp-query -d store4 --stats --min-owners 1 >s4-1.txt &&
	grep "^      10ms    0.47%  libz$" s4-1.txt &&
	! grep "other librar" s4-1.txt &&
	pp-query -d store4 --stats --min-owners 4 -o json | flat >got4 &&
	grep "^other 4 530000000$" got4 && ! grep "^lib " got4
'

# alice's operator new and delete are allocator time in libstdc++, which
# is named only with --min-owners 1.
test_expect_success 'the allocator and the collector are over every owner'"'"'s profiles' '
	for n in 1 2 3 4; do
		pp-query -d store4 --stats --min-owners $n -o json | flat |
		grep -e "^allocator" -e "^gc" -e "^cpu_ns" >alloc.$n || return 1
	done &&
	test_cmp alloc.1 alloc.2 && test_cmp alloc.1 alloc.3 &&
	test_cmp alloc.1 alloc.4 &&
	grep "^allocator_self 300000000$" alloc.1
'

test_expect_success 'no owner, host, program, label, pid, path or private function shows' '
	private out out.json &&
	! grep -F / out.json &&
	! grep -F "[kernel" out &&
	pp-query -d store -v --stats -o json 2>err >/dev/null &&
	private err
'

test_expect_success 'the usual options narrow the selection' '
	pp-query -d store -u alice --stats -o json | flat >alice &&
	grep "^profiles 1$" alice && grep "^cpu_ns 910000000$" alice &&
	grep "^gc 0$" alice && grep "^other 4 390000000$" alice &&
	! grep "^lib " alice &&
	pp-query -d store -p secretgo --stats --min-owners 1 -o json |
	flat >bob &&
	grep "^go_profiles 1$" bob && grep "^cpu_ns 820000000$" bob &&
	grep "^fn libc memcpy 40000000$" bob && ! grep libm bob &&
	grep "^other 0 0$" bob &&
	pp-query -d store -p secretgo --stats -o json | flat >bob3 &&
	grep "^other 1 40000000$" bob3 && ! grep "^lib " bob3 &&
	pp-query -d store -L team=blue --stats -o json | flat >l &&
	test_cmp alice l &&
	pp-query -d store -H bobhost --stats -o json | flat >h &&
	grep "^profiles 2$" h && grep "^left_out 1$" h &&
	pp-query -d store --until 2025-01-01 --stats -o json | flat >none &&
	grep "^profiles 0$" none && grep "^cpu_ns 0$" none &&
	pp-query -d store --since 2025-01-01 --stats -t cpu -o json |
	flat >since && flat <out3.json >all && test_cmp all since &&
	pp-query -d store -p nosuch --stats >empty &&
	grep "^PROFILES  0 (0 Go; 0 left out" empty
'

test_expect_success 'bad usage: --remote, listing, comparing, expiring, other types' '
	test_expect_code 2 pp-query -d store --stats --remote http://127.0.0.1:1 \
		>out 2>err &&
	grep "^pp-query: --stats .*not with --remote" err && test ! -s out &&
	test_expect_code 2 pp-query --remote http://127.0.0.1:1 -T alice.token \
		--stats 2>err &&
	grep "not with --remote" err &&
	test_expect_code 2 pp-query -d store --stats -l 2>err &&
	grep "^pp-query: --stats summarises" err &&
	test_expect_code 2 pp-query -d store --stats --base-since 1h 2>err &&
	test_expect_code 2 pp-query -d store --stats --expire 1d 2>err &&
	test_expect_code 2 pp-query -d store --stats -t heap 2>err &&
	grep "CPU profiles" err &&
	test_expect_code 2 pp-query -d store --stats -o xml 2>err &&
	test_expect_code 2 pp-query -d store -o json 2>err &&
	grep "goes with -l or --stats" err &&
	test_must_fail pp-query -d nostore --stats 2>err &&
	grep "no store" err &&
	for n in 0 -1 x 2x ""; do
		test_expect_code 2 pp-query -d store --stats --min-owners "$n" \
			>out 2>err &&
		grep "^pp-query: --min-owners wants a count of 1 or more" err &&
		test ! -s out || return 1
	done &&
	test_expect_code 2 pp-query -d store -l --min-owners 2 2>err &&
	grep "^pp-query: --min-owners goes with --stats" err
'

# The allocator and the collector as go tool pprof regular expressions,
# written from the definitions in the man page.
GC_RE='^runtime\.(GC|gcBgMarkWorker|gcAssistAlloc|gcAssistAlloc1|gcDrain|gcDrainN|gcDrainMarkWorker(Dedicated|Fractional|Idle)|gcMarkDone|gcMarkTermination|gcStart|gcSweep|markroot|markrootBlock|markrootSpans|scanobject|scanblock|scanstack|bgsweep|sweepone|\(\*sweepLocked\)\.sweep|\(\*mspan\)\.sweep|deductSweepCredit|\(\*mheap\)\.reclaim|bgscavenge|\(\*scavengerState\)\.run|\(\*pageAlloc\)\.scavenge|wbBufFlush|wbBufFlush1)(\.func[0-9]+(\.[0-9]+)*)?$'
GO_ALLOC_RE='^runtime\.(mallocgc.*|newobject|newarray|makeslice|nextFreeFast|\(\*mcache\)\.(nextFree|refill|allocLarge)|largeAlloc|\(\*mcentral\)\.(cacheSpan|grow)|\(\*mheap\)\.(alloc|allocSpan|allocSpanLocked)|\(\*mspan\)\.(initHeapBits|nextFreeIndex|refillAllocCache)|\(\*pageAlloc\)\.alloc|\(\*pageCache\)\.alloc|heapBits\.initSpan|profilealloc)(\.func[0-9]+(\.[0-9]+)*)?$'
C_ALLOC_RE='^(malloc|free|calloc|realloc|reallocarray|cfree|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|malloc_trim|__libc_(malloc|free|calloc|realloc|reallocarray|memalign|valloc|pvalloc|malloc_impl)|__malloc_(alloc_meta|donate|trim|usable_size)|__posix_memalign|__simple_malloc|_int_(malloc|free|free_chunk|free_create_chunk|free_maybe_consolidate|free_merge_chunk|realloc|memalign|new_arena)|_mid_memalign|malloc_consolidate|malloc_printerr|sysmalloc|sysmalloc_mmap|sysmalloc_mmap_fallback|systrim|mtrim|musable|unlink_chunk|alloc_perturb|free_perturb|alloc_new_heap|new_heap|grow_heap|shrink_heap|heap_trim|arena_get2|arena_get_retry|get_free_list|reused_arena|ptmalloc_init|munmap_chunk|mremap_chunk|mallocx|rallocx|xallocx|sallocx|dallocx|sdallocx|nallocx)(\.(part|isra|constprop|cold|lto_priv|localalias|clone|llvm)([.@].*)?|@.*)?$|^(je_|_rjem_|tcache_|tc_(malloc|free|calloc|realloc|cfree|memalign|posix_memalign|pvalloc|valloc|new|delete)|tcmalloc::|_ZN8tcmalloc|mi_(malloc|free|calloc|zalloc|realloc|rezalloc|recalloc|expand|cfree|new|heap_|usable_size|posix_memalign|aligned_alloc|memalign|valloc|pvalloc)|_mi_|_Znw|_Zna|_Zdl|_Zda)|^operator (new|delete)([[(].*)?$'

# pprof_ns FILE ARGS...: the nanoseconds go tool pprof -top shows for FILE
# with ARGS (-focus ...): "flat" for the flat time of the functions
# matching $SELF_RE, else the total of what the filters keep.
pprof_ns() {
	local f=$1
	shift
	go tool pprof -top -symbolize=none -nodecount=1000000 -nodefraction=0 \
		-edgefraction=0 -unit=ns "$@" "$f" 2>/dev/null >top.txt &&
	if [ -n "${SELF_RE:-}" ]; then
		SELF_RE=$SELF_RE awk '
			/flat%/ { rows = 1; next }
			rows {
				n = $0
				sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", n)
				sub(/ \(inline\)$/, "", n)
				v = $1; sub(/ns$/, "", v)
				if (n ~ ENVIRON["SELF_RE"]) s += v
			}
			END { printf "%.0f\n", s }' top.txt
	else
		sed -n "s/^Showing nodes accounting for \([0-9]*\)n*s*, .*/\1/p" \
			top.txt
	fi
}

test_have_go() {
	test_have_shared && command -v go >/dev/null 2>&1
}

if test_have_go; then
	test_expect_success 'with the shared Go and C++ profiles: as go tool pprof counts' '
		S=$SHARED_PROFILES &&
		users store2 alice bob &&
		RECV_STORE=store2 recv_push alice "$S/go-cpu.pb.gz" &&
		RECV_STORE=store2 recv_push alice alice.pb &&
		RECV_STORE=store2 recv_push bob "$S/parca-fib.pb.gz" &&
		RECV_STORE=store2 recv_push bob "$S/pprof-cppbench-nosym.cpu.pb.gz" &&
		RECV_STORE=store2 recv_push bob bob.pb &&
		pp-query -d store2 --stats --min-owners 1 -o json >s.json &&
		flat <s.json >got &&
		cpu=0 gc=0 total=0 self=0 &&
		# bob.pb has samples/count alone: pprof counts samples, pp-query
		# multiplies them by the period, 10 ms.
		for fm in "$S/go-cpu.pb.gz 1" "alice.pb 1" "$S/parca-fib.pb.gz 1" \
		    "$S/pprof-cppbench-nosym.cpu.pb.gz 1" "bob.pb 10000000"; do
			f=${fm% *} m=${fm##* } &&
			go tool pprof -top -symbolize=none -unit=ns "$f" 2>/dev/null |
			sed -n "s/.* of \([0-9]*\)ns total$/\1/p" >t &&
			test -s t &&
			cpu=$((cpu + $(cat t) * m)) &&
			n=$(pprof_ns "$f" -focus="$GC_RE") &&
			gc=$((gc + ${n:-0} * m)) &&
			n=$(pprof_ns "$f" -focus="$GO_ALLOC_RE|$C_ALLOC_RE" \
				-ignore="$GC_RE") &&
			total=$((total + ${n:-0} * m)) &&
			n=$(SELF_RE="$GO_ALLOC_RE|$C_ALLOC_RE" pprof_ns "$f" \
				-ignore="$GC_RE") &&
			self=$((self + ${n:-0} * m)) || return 1
		done &&
		echo "cpu $cpu gc $gc total $total self $self" &&
		test $gc -gt 160000000 && test $self -gt 290000000 &&
		test $total -gt 400000000 &&
		grep "^profiles 5$" got && grep "^go_profiles 3$" got &&
		grep "^left_out 0$" got &&
		grep "^cpu_ns $cpu$" got &&
		grep "^gc $gc$" got &&
		grep "^allocator_total $total$" got &&
		grep "^allocator_self $self$" got &&
		sed -n "/^lib/,\$p" got >libs &&
		grep "^lib " libs &&
		pp-query -d store --stats --min-owners 1 -o json | flat |
		sed -n "/^lib/,\$p" >want &&
		test_cmp want libs &&
		pp-query -d store2 --stats >s.txt &&
		private s.txt s.json
	'
else
	test_skip 'with the shared Go and C++ profiles: as go tool pprof counts' \
		'no shared profiles or no go'
fi

if command -v go >/dev/null 2>&1 && command -v cc >/dev/null 2>&1; then
	test_expect_success 'a recorded program: libraries by function, as its profile says' '
		cat >work.c <<-\EOF &&
		#include <math.h>
		#include <stdlib.h>
		#include <string.h>
		#include <time.h>

		volatile double sink;

		static void *
		churn(size_t n)
		{
			void *p = malloc(n);

			memset(p, 1, n);
			return p;
		}

		int
		main(void)
		{
			struct timespec t0, t;
			int i;

			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
			do {
				for (i = 0; i < 10000; i++) {
					char *a = churn(64 + i % 512);
					void *b = calloc(1, 4096);

					sink += sin(i) * cos(i) + a[3];
					free(a);
					free(b);
				}
				clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
			} while ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
			return 0;
		}
		EOF
		cc -O1 -g -o secretwork work.c -lm &&
		pp-record --cpu -F 250 -o rec -l team=blue -- ./secretwork &&
		users store3 alice &&
		RECV_STORE=store3 recv_push alice rec/secretwork.*.cpu.pb.gz &&
		pp-query -d store3 --stats --min-owners 1 -o json >r.json &&
		flat <r.json >got &&
		f=$(ls rec/secretwork.*.cpu.pb.gz) &&
		go tool pprof -raw -symbolize=none "$f" 2>/dev/null >raw &&
		awk "
			/^Samples:/ { sec = \"s\"; next }
			/^Locations/ { sec = \"l\"; next }
			/^Mappings/ { sec = \"m\"; next }
			sec == \"s\" && /^ *[0-9]+ +[0-9]+: / {
				v[NR] = \$2 + 0; leaf[NR] = \$3
			}
			sec == \"l\" && /^ *[0-9]+: 0x[0-9a-f]+ M=/ {
				id = \$1; sub(/:/, \"\", id)
				m = \$3; sub(/M=/, \"\", m)
				map[id] = m; fn[id] = NF >= 4 ? \$4 : \"[unknown]\"
			}
			sec == \"m\" && /^[0-9]+: 0x/ {
				id = \$1; sub(/:/, \"\", id); file[id] = \$3
			}
			END {
				for (i in v) {
					f = file[map[leaf[i]]]
					if (f !~ /^\/(usr\/)?lib(32|64)?\/([a-z0-9_]+-linux-[a-z0-9_]+\/)?lib[^\/]*\.so(\.[0-9.]+)?$/)
						continue
					lib = f; sub(/.*\//, \"\", lib)
					sub(/\.so.*/, \"\", lib)
					sub(/-[0-9]+\.[0-9.]+$/, \"\", lib)
					ns[lib] += v[i]
					fns[lib \" \" fn[leaf[i]]] += v[i]
				}
				for (l in ns) printf \"lib %s %.0f\\n\", l, ns[l]
				for (k in fns) printf \"fn %s %.0f\\n\", k, fns[k]
			}" raw | sort >want &&
		grep "^fn libc " want && grep "^fn libm " want &&
		grep "^lib\|^fn" got | sort >libs &&
		test_cmp want libs &&
		pp-query -d store3 --stats -o json | flat >got3 &&
		! grep "^lib \|^fn " got3 &&
		awk "/^lib / { n++; t += \$3 }
			END { printf \"other %d %.0f\\n\", n, t }" libs >want3 &&
		grep "^other " got3 >other3 &&
		test_cmp want3 other3 &&
		go tool pprof -top -symbolize=none -unit=ns "$f" 2>/dev/null |
		sed -n "s/.* of \([0-9]*\)ns total$/\1/p" >t &&
		grep "^cpu_ns $(cat t)$" got &&
		n=$(pprof_ns "$f" -focus="$C_ALLOC_RE") &&
		grep "^allocator_total $n$" got &&
		n=$(SELF_RE=$C_ALLOC_RE pprof_ns "$f") &&
		test "$n" -gt 0 &&
		grep "^allocator_self $n$" got &&
		pp-query -d store3 --stats >r.txt &&
		host=$(uname -n) &&
		if test ${#host} -lt 4; then host=; fi &&
		PRIVATE="secret blue churn work.c /tmp /home $host" \
			private r.txt r.json &&
		! grep -E "\"name\": \"(main|churn)\"" r.json &&
		! grep -E " (main|churn)$" r.txt
	'
else
	test_skip 'a recorded program: libraries by function, as its profile says' \
		'no go or no cc'
fi

test_done
