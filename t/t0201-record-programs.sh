#!/bin/bash
# pp-record on programs of every kind (t/progs): no frame pointers, C++
# with inlining, dlopen, a thousand threads, fork and exec, a program that
# closes every descriptor, one with its own SIGPROF handler, a stripped
# binary. The profiles must name the functions that really ran.
. "$(dirname "$0")/lib.sh"

command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'

P=$SRC_ROOT/t/progs

# share FILE FRAMES: "matching total" samples of FILE's folded stacks,
# those on stacks that hold FRAMES ("main;a;b", whole frames in a row),
# and all.
share() {
	pp-render -f folded -i samples "$1" >folded.tmp &&
	PP_FRAMES=";$2;" awk '{
		n = $NF; s = $0; sub(/ [0-9]+$/, "", s)
		if (index(";" s ";", ENVIRON["PP_FRAMES"]) > 0)
			m += n
		t += n
	} END { print m + 0, t + 0 }' folded.tmp
}

# at_least PCT "matching total": matching is at least PCT% of a non-zero
# total.
at_least() {
	set -- "$1" $2
	echo "$2 of $3 samples (want >= $1%)"
	test "$3" -gt 0 && test $((100 * $2)) -ge $(($1 * $3))
}

test_expect_success 'build the test programs' '
	cc -O2 -g -fomit-frame-pointer -o chain "$P/chain.c" &&
	cc -O2 -g -shared -fPIC -o libplugin.so "$P/plugin.c" &&
	cc -O2 -g -o dlopener "$P/dlopener.c" -ldl &&
	cc -O2 -g -o threads "$P/threads.c" -lpthread &&
	cc -O2 -g -o forker "$P/forker.c" &&
	cc -O2 -g -o forkdl "$P/forkdl.c" -ldl -lpthread &&
	cc -O2 -g -o fdcloser "$P/fdcloser.c" &&
	cc -O2 -g -shared -fPIC -o libprofhandler.so "$P/profhandler.c" &&
	cc -O2 -g -o ownprof-lib "$P/ownprof.c" -L. -lprofhandler \
		-Wl,-rpath,"$PWD" &&
	cc -O2 -g -o ownprof-exe "$P/ownprof.c" "$P/profhandler.c" &&
	cc -O2 -g -o lateprof "$P/lateprof.c" -lpthread &&
	cc -O2 -g -o rawprof "$P/rawprof.c" -lpthread &&
	cc -O2 -g -rdynamic -o chain-rdynamic "$P/chain.c" &&
	strip -o chain-stripped chain-rdynamic
'

test_expect_success 'no frame pointers: the hot function under its callers' '
	pp-record --cpu -o fp -- ./chain 1 >out &&
	echo "chain done" >expect && test_cmp expect out &&
	p=$(echo fp/chain.*.cpu.pb.gz) &&
	pp-render -f top -i samples --nodefraction 0 "$p" >top &&
	awk "\$6 == \"hot\" { print; f = 1 } END { exit !f }" top &&
	for fn in main outer middle; do
		awk -v f=$fn "\$6 == f { print; n++ } END { exit n != 1 }" top ||
		return 1
	done &&
	at_least 90 "$(share "$p" "main;outer;middle;hot")"
'

if command -v g++ >/dev/null 2>&1; then
	test_expect_success 'C++: demangled names, and the inlined frame' '
		g++ -O2 -g -o worker "$P/worker.cc" &&
		! nm -C worker | grep "ns::mix" &&
		pp-record --cpu -o cxx -- ./worker 1 >out &&
		echo "worker 1" >expect && test_cmp expect out &&
		p=$(echo cxx/worker.*.cpu.pb.gz) &&
		pp-render -f top -i samples --nodefraction 0 "$p" >top &&
		grep "%  ns::Worker::crunch(int)\$" top &&
		pp-render -f folded -i samples "$p" >folded &&
		! grep "_Z" folded &&
		at_least 80 "$(share "$p" \
			"main;ns::Worker::crunch(int);ns::mix(unsigned long)")"
	'
else
	test_skip 'C++: demangled names, and the inlined frame' 'no g++'
fi

test_expect_success 'dlopen by path: the library function by name' '
	pp-record --cpu -o dl -- ./dlopener ./libplugin.so 1 >out &&
	echo "dlopener done" >expect && test_cmp expect out &&
	at_least 85 "$(share dl/dlopener.*.cpu.pb.gz "main;plugin_burn;plugin_spin")"
'

test_expect_success 'dlopen by bare name (LD_LIBRARY_PATH): by name too' '
	LD_LIBRARY_PATH=$PWD pp-record --cpu -o dl2 -- \
		./dlopener libplugin.so 1 >out &&
	echo "dlopener done" >expect && test_cmp expect out &&
	at_least 85 "$(share dl2/dlopener.*.cpu.pb.gz "main;plugin_burn;plugin_spin")"
'

# 1000 threads, 2 ms of CPU each: 2 s in all, about 200 samples at 100 Hz.
# Threads that end before a whole sampling period of their own CPU time
# must count too: a timer per thread that first fires after 10 ms of it
# never sees them, and loses the last partial period of every thread; and
# the kernel checks CPU timers only at its own tick, so a thread that ends
# between its timer's expiry and the next tick loses that sample too.
test_expect_success '1000 threads: exit 0, output intact' '
	pp-record -o thr -- ./threads 1000 2 >out &&
	head -n 1 out >first &&
	echo "threads ran 1000" >expect && test_cmp expect first &&
	test_line_count = 2 out
'

test_expect_success '1000 threads: a CPU profile of the threads'\'' time' '
	p=$(echo thr/threads.*.cpu.pb.gz) && test -f "$p" &&
	pp-render -f top "$p" >top &&
	set -- $(share "$p" "thread_work") &&
	k=$(tail -n 1 out) &&
	echo "thread_work: $1 samples; kernel: $k ns of CPU" &&
	test $(($1 * 10000000)) -ge $((k / 2))
'

test_expect_success 'fork and exec: a profile per process, each its own' '
	pp-record --cpu -o fork -- ./forker ./chain 0.5 >out &&
	grep -x "chain done" out &&
	set -- $(sed -n "s/^forker pid \\([0-9]*\\) child \\([0-9]*\\) exited 0\$/\\1 \\2/p" out) &&
	parent=$1 child=$2 && test -n "$child" &&
	ls fork >files &&
	printf "%s\n" chain.$child.cpu.pb.gz forker.$child.cpu.pb.gz \
		forker.$parent.cpu.pb.gz | sort >expect &&
	test_cmp expect files &&
	pp-render -f folded fork/forker.$parent.cpu.pb.gz >parent &&
	pp-render -f folded fork/forker.$child.cpu.pb.gz >child &&
	pp-render -f folded fork/chain.$child.cpu.pb.gz >exec &&
	grep ";main;parent_burn;" parent && ! grep "child_burn\\|hot" parent &&
	grep ";main;child_burn;" child && ! grep "parent_burn\\|hot" child &&
	grep ";main;outer;middle;hot" exec && ! grep "_burn" exec
'

test_expect_success 'fork and exec with -x: only the program'\''s profile' '
	pp-record -x --cpu -o forkx -- ./forker ./chain 0.5 >out &&
	grep -x "chain done" out &&
	parent=$(sed -n "s/^forker pid \\([0-9]*\\) .*/\\1/p" out) &&
	ls forkx >files &&
	echo forker.$parent.cpu.pb.gz >expect &&
	test_cmp expect files
'

# glibc does not reset in a forked child the lock the loader holds while
# dlopen or dlclose changes its list, and dl_iterate_phdr takes it: a
# child forked while another thread was there hung at its first heap
# sample, when the agent looked up an unwind rule. Fork waits for such
# threads now, and a child that finds the lock held keeps leaves only.
# forkdl: 220 processes (200 children, 20 grandchildren) of 500
# allocations each.
#
# forkdl_ok DIR: forkdl's output is in out and its profiles in DIR; the
# children's hold child_alloc under its callers for at least 90% of their
# samples, and are removed then (go tool pprof below reads every profile).
forkdl_ok() {
	cat out &&
	pid=$(sed -n "s/^forkdl pid \([0-9]*\): 200 children, 0 failed\$/\1/p" out) &&
	test -n "$pid" && test -f "$1/forkdl.$pid.heap.pb.gz" &&
	ls "$1"/*.heap.pb.gz | grep -v "\.$pid\." >children &&
	test_line_count = 220 children &&
	pp-render -f folded -i alloc_objects $(cat children) >folded &&
	cat folded &&
	awk '/;main;spawn;(spawn;)?child_alloc [0-9]+$/ { m += $NF }
		{ t += $NF } END { print m + 0, t + 0 }' folded >share &&
	at_least 90 "$(cat share)" &&
	rm $(cat children)
}

test_expect_success 'fork while threads dlopen and dlclose: no child hangs' '
	timeout 60 pp-record -m 1 -o fdl -- ./forkdl ./libplugin.so >out &&
	forkdl_ok fdl
'

# By bare name, dlopen goes to glibc without coming back through the agent.
test_expect_success 'the same, dlopen by bare name' '
	LD_LIBRARY_PATH=$PWD timeout 60 pp-record -m 1 -o fdl2 -- \
		./forkdl libplugin.so >out &&
	forkdl_ok fdl2
'

# libunwind checks addresses by writing them into a pipe of its own; a
# program that closes every descriptor and opens files gets that pipe's
# numbers, and an agent that lets libunwind reopen its pipe closes them.
test_expect_success 'a program that closes every descriptor keeps working' '
	pp-record -o fds -- ./fdcloser >out &&
	echo "fdcloser done" >expect && test_cmp expect out
'

test_expect_success 'a SIGPROF handler (a library constructor) is kept' '
	pp-record --cpu -o prof -- ./ownprof-lib >out 2>err &&
	cat out err &&
	read -r w1 own w2 other <out && test "$w1 $w2" = "own other" &&
	test "$own" -ge 50 && test "$other" = 0 &&
	grep "^pp-record: pid [0-9]* handles SIGPROF itself: its CPU time was not profiled\$" err &&
	! ls prof/*.cpu.pb.gz
'

# The program's constructors run after the agent's: its handler replaces
# the agent's while the agent's timer already ticks. (A tick may come
# before the program's constructor: then the CPU time before it is
# profiled, and the message says so.)
test_expect_success 'a SIGPROF handler (the program'\''s constructor) is kept' '
	pp-record --cpu -o prof2 -- ./ownprof-exe >out 2>err &&
	cat out err &&
	read -r w1 own w2 other <out && test "$w1 $w2" = "own other" &&
	test "$own" -ge 50 && test "$other" = 0 &&
	grep -E "^pp-record: pid [0-9]* handles SIGPROF itself: its CPU time (after it took SIGPROF )?was not profiled\$" err &&
	test $(grep -c SIGPROF err) = 1
'

# signal(), then sigaction, from main while three threads run under the
# agent's timers: none of the agent's ticks may reach the program's
# handlers, the program's own timer must, and the CPU time before stays
# in the profile.
test_expect_success 'a SIGPROF handler installed late, with threads running' '
	pp-record --cpu -o late -- ./lateprof >out 2>err &&
	cat out err &&
	read -r w1 own w2 other <out && test "$w1 $w2" = "own other" &&
	test "$own" -ge 20 && test "$other" = 0 &&
	grep "^pp-record: pid [0-9]* handles SIGPROF itself: its CPU time after it took SIGPROF was not profiled\$" err &&
	test $(grep -c SIGPROF err) = 1 &&
	at_least 50 "$(share late/lateprof.*.cpu.pb.gz "early_burn")" &&
	test "$(share late/lateprof.*.cpu.pb.gz late_burn)" = "0 $(share late/lateprof.*.cpu.pb.gz early_burn | cut -d" " -f2)"
'

# As the Go runtime does: the handler put in by the rt_sigaction system
# call, which no interposed function sees. The agent looks when a thread
# starts, at each heap flush and at exit; the ticks must stop reaching the
# program's handler (all 100 did before), and pp-record says so.
test_expect_success 'a SIGPROF handler put in by a system call' '
	pp-record --cpu -o rawprof.out -- ./rawprof >out 2>err &&
	cat out err &&
	read -r w1 own w2 other <out && test "$w1 $w2" = "own other" &&
	test "$own" -ge 50 && test "$other" -le 1 &&
	grep "^pp-record: pid [0-9]* handles SIGPROF itself: its CPU time after it took SIGPROF was not profiled\$" err &&
	at_least 50 "$(share rawprof.out/rawprof.*.cpu.pb.gz "main;raw_burn")"
'

# A vfork child runs in the parent's memory until it execs: what it does
# there (the agent's look at SIGPROF when it flushes the heap buffer) must
# not stop the parent's timers in the parent's name (own 100 other 100).
test_expect_success 'a SIGPROF handler put in by a system call, and a vfork child' '
	pp-record -m 1 -o rawvfork.out -- ./rawprof vfork >out 2>err &&
	cat out err &&
	read -r w1 own w2 other <out && test "$w1 $w2" = "own other" &&
	test "$own" -ge 50 && test "$other" -le 1
'

test_expect_success 'stripped (-rdynamic): dynamic symbols and the build-id' '
	id=$(readelf -n chain-stripped | awk "/Build ID:/ { print \$3 }") &&
	test -n "$id" &&
	! readelf -S chain-stripped | grep -F .symtab &&
	pp-record --cpu -o strip -- ./chain-stripped 1 >out &&
	p=$(echo strip/chain-stripped.*.cpu.pb.gz) &&
	at_least 90 "$(share "$p" "main;outer;middle;hot")" &&
	pp-render -f top "$p" >top &&
	grep -x "Build ID: $id" top &&
	gzip -dc "$p" | grep -aF "$id"
'

# libc's separate debug file (libc6-dbg), by build-id, if installed.
libc=$(ldd ./chain 2>/dev/null | awk '/libc\.so/ { print $3; exit }')
libc_id=$(readelf -n "$libc" 2>/dev/null | awk '/Build ID:/ { print $3 }')
libc_debug=/usr/lib/debug/.build-id/$(echo "$libc_id" | cut -c 1-2)/$(
	echo "$libc_id" | cut -c 3-).debug
if test -n "$libc_id" && test -r "$libc_debug"; then
	test_expect_success 'libc from its debug package: names, no lines' '
		pp-record --cpu -o sysnames -- ./chain 1 >out &&
		p=$(echo sysnames/chain.*.cpu.pb.gz) &&
		at_least 90 "$(share "$p" "main;outer;middle;hot")" &&
		pp-render -f folded -i samples "$p" >folded &&
		grep "__libc_start_call_main;main;outer;middle;hot " folded &&
		! grep -F @ folded &&
		! gzip -dc "$p" | grep -aF csu/libc-start.c
	'
	test_expect_success 'libc with --system-lines: its files and lines' '
		pp-record --cpu --system-lines -o syslines -- ./chain 1 >out &&
		p=$(echo syslines/chain.*.cpu.pb.gz) &&
		at_least 90 "$(share "$p" "main;outer;middle;hot")" &&
		gzip -dc "$p" | grep -aF csu/libc-start.c
	'
else
	test_skip 'libc from its debug package: names, no lines' \
		'no libc debug file'
	test_skip 'libc with --system-lines: its files and lines' \
		'no libc debug file'
fi

if command -v go >/dev/null 2>&1; then
	test_expect_success 'go tool pprof reads every profile' '
		n=0 &&
		for f in */*.pb.gz; do
			test -f "$f" || continue
			n=$((n + 1))
			go tool pprof -top "$f" >/dev/null 2>err || {
				echo "$f:"; cat err; return 1; }
		done &&
		echo "$n profiles" && test $n -ge 8
	'
	test_expect_success 'go tool pprof: the stripped binary'\''s mapping has its build-id' '
		id=$(readelf -n chain-stripped | awk "/Build ID:/ { print \$3 }") &&
		go tool pprof -raw strip/chain-stripped.*.cpu.pb.gz >raw &&
		sed -n "/^Mappings/,\$p" raw >maps &&
		grep "/chain-stripped $id " maps
	'
else
	test_skip 'go tool pprof reads every profile' 'go is not installed'
	test_skip 'go tool pprof: the stripped binary'\''s mapping has its build-id' 'go is not installed'
fi

test_done
