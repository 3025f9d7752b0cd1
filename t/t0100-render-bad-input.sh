#!/bin/bash
# pp-render on bad input: garbage, truncated and hand-crafted invalid
# profiles, missing files, bad options.  Every failure must exit 1 (2 for bad
# usage), write nothing to stdout nor to the -o file, and say what is wrong
# in one line on stderr, "pp-render: ...".
. "$(dirname "$0")/lib.sh"

formats='top svg dot folded flame'

. "$TEST_DIRECTORY/lib-pb.sh"

# The parts of a minimal valid profile, after profile.proto: one sample of
# value 5 at location 1 (mapping 1, function 1 "main" in main.go, line 10).
ST=$(pb_len 1 $(pb_int 1 1) $(pb_int 2 2))		# samples/count
SAMPLE=$(pb_len 2 $(pb_len 1 01) $(pb_len 2 05))	# [1] = [5]
MAP=$(pb_len 3 $(pb_int 1 1) $(pb_int 5 5))		# id 1, /bin/x
LOC=$(pb_len 4 $(pb_int 1 1) $(pb_int 2 1) \
	$(pb_len 4 $(pb_int 1 1) $(pb_int 2 10)))	# id 1, mapping 1
FUNC=$(pb_len 5 $(pb_int 1 1) $(pb_int 2 3) $(pb_int 3 3) $(pb_int 4 4))
STRS=$(pb_str ''; pb_str samples; pb_str count; pb_str main;
	pb_str main.go; pb_str /bin/x)

# mkprof FILE: writes the profile; override a part for one call, as in
# LOC=... mkprof bad.pb.
mkprof() {
	pb_write $ST $SAMPLE $MAP $LOC $FUNC $STRS >"$1"
}

# seeded_bytes SEED N: N pseudo-random bytes, the same on every machine.
seeded_bytes() {
	printf "$(awk -v x="$1" -v n="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			x = (x * 69069 + 1) % 4294967296
			printf "\\x%02x", int(x / 16777216)
		}
	}')"
}

# usage_fails ERE ARGS...: pp-render ARGS... exits 2, as bad usage.
usage_fails() {
	local re=$1
	shift
	test_expect_code 2 pp-render "$@" >out 2>err &&
	check_error "$re"
}

# test_shared DESCRIPTION BODY: a test that needs $SHARED_PROFILES.
test_shared() {
	if test_have_shared; then
		test_expect_success "$1" "$2"
	else
		test_skip "$1" "no shared test profiles at $SHARED_PROFILES"
	fi
}

test_expect_success 'a hand-crafted minimal profile is valid' '
	mkprof valid.pb &&
	gzip -c valid.pb >valid.pb.gz &&
	cat >expect <<-\EOF &&
	File: x
	Type: samples
	Showing nodes accounting for 5, 100% of 5 total
	      flat  flat%   sum%        cum   cum%
	         5   100%   100%          5   100%  main
	EOF
	pp-render -f top valid.pb >actual &&
	test_cmp expect actual &&
	pp-render -f top valid.pb.gz >actual &&
	test_cmp expect actual &&
	pp-render -f top <valid.pb >actual &&
	test_cmp expect actual &&
	pp-render -f svg valid.pb >actual.svg &&
	grep "^<svg" actual.svg && grep ">main<" actual.svg &&
	pp-render -f folded valid.pb >actual &&
	echo "main 5" >expect &&
	test_cmp expect actual
'

if command -v go >/dev/null 2>&1; then
	test_expect_success 'go tool pprof reads the hand-crafted profile alike' '
		go tool pprof -symbolize=none -top valid.pb >expect 2>/dev/null &&
		pp-render -f top valid.pb >actual &&
		test_cmp expect actual
	'
else
	test_skip 'go tool pprof reads the hand-crafted profile alike' 'no go'
fi

# Each bad profile differs from valid.pb in one part.
test_expect_success 'hand-craft the invalid profiles' '
	SAMPLE=$(pb_len 2 $(pb_len 1 02) $(pb_len 2 05)) mkprof no-loc.pb &&
	SAMPLE=$(pb_len 2 $(pb_len 1 00) $(pb_len 2 05)) mkprof loc-0.pb &&
	LOC=$(pb_len 4 $(pb_int 1 1) $(pb_int 2 1) \
		$(pb_len 4 $(pb_int 1 9) $(pb_int 2 10))) mkprof no-func.pb &&
	FUNC=$(pb_len 5 $(pb_int 1 1) $(pb_int 2 9) $(pb_int 3 3) \
		$(pb_int 4 4)) mkprof bad-str.pb &&
	ST=$(pb_len 1 $(pb_int 1 6) $(pb_int 2 2)) mkprof bad-type-str.pb &&
	STRS=$(pb_str x; pb_str samples; pb_str count; pb_str main;
		pb_str main.go; pb_str /bin/x) mkprof str0.pb &&
	STRS= mkprof no-strs.pb &&
	LOC="$LOC $LOC" mkprof dup-loc.pb &&
	FUNC="$FUNC $FUNC" mkprof dup-func.pb &&
	MAP="$MAP $MAP" mkprof dup-map.pb &&
	LOC=$(pb_len 4 $(pb_int 1 0) $(pb_int 2 1) \
		$(pb_len 4 $(pb_int 1 1) $(pb_int 2 10))) mkprof loc-id-0.pb &&
	FUNC=$(pb_len 5 $(pb_int 1 0) $(pb_int 2 3) $(pb_int 3 3) \
		$(pb_int 4 4)) mkprof func-id-0.pb &&
	SAMPLE=$(pb_len 2 $(pb_len 1 01) $(pb_len 2 05 07)) mkprof 2-values.pb &&
	SAMPLE=$(pb_len 2 $(pb_len 1 01)) mkprof 0-values.pb &&
	LOC=$(pb_len 4 $(pb_int 1 1) $(pb_int 2 2) \
		$(pb_len 4 $(pb_int 1 1) $(pb_int 2 10))) mkprof no-map.pb &&
	ST= mkprof no-types.pb &&
	ST= SAMPLE= mkprof empty-types.pb &&
	n=$(wc -c <valid.pb) &&
	head -c $((n - 3)) valid.pb >cut.pb &&
	for f in *.pb; do
		test -s "$f" || return 1
	done
'

# file|what is wrong|ERE for the message after "cannot read 'file': "
while IFS='|' read -r file what re; do
	for fmt in $formats; do
		test_expect_success "$fmt: $what" '
			render_fails "$fmt" "cannot read '\''$file'\'': $re" "$file"
		'
	done
done <<\EOF
no-loc.pb|a sample refers to a missing location|sample 0 refers to location 2, which does not exist
loc-0.pb|a sample refers to location 0|sample 0 refers to location 0, which does not exist
no-func.pb|a location refers to a missing function|location 1 refers to function 9, which does not exist
bad-str.pb|a string index out of range|function name: string index 9 out of range
bad-type-str.pb|a sample type string index out of range|sample type: string index 6 out of range
str0.pb|string_table[0] is not empty|string table does not start with ""
no-strs.pb|no string table|empty string table
dup-loc.pb|duplicate location ids|two locations with id 1
dup-func.pb|duplicate function ids|two functions with id 1
dup-map.pb|duplicate mapping ids|two mappings with id 1
loc-id-0.pb|a location with id 0|location .*reserved id 0
func-id-0.pb|a function with id 0|function .*reserved id 0
2-values.pb|a sample with 2 values for 1 sample type|sample 0 has 2 values for 1 sample type
0-values.pb|a sample with no value for 1 sample type|sample 0 has 0 values for 1 sample type
no-map.pb|a location refers to a missing mapping|location 1 refers to mapping 2, which does not exist
no-types.pb|samples but no sample types|profile has samples but no sample types
cut.pb|a raw profile cut short|not a pprof profile
EOF

for fmt in $formats; do
	test_expect_success "$fmt: a profile with no sample types at all" '
		render_fails "$fmt" "no sample types" empty-types.pb
	'
done

test_expect_success 'make garbage: seeded, random, gzipped, truncated, a bomb' '
	seed=$(printf %s "pp-render t0100" | cksum | cut -d" " -f1) &&
	seeded_bytes "$seed" 4096 >seeded.bin &&
	echo "937534048 4096 seeded.bin" >expect &&
	cksum seeded.bin >actual &&
	test_cmp expect actual &&
	{ head -c 40 valid.pb && head -c 400 seeded.bin; } >valid-then-junk.pb &&
	head -c 4096 /dev/urandom >random.bin &&
	: >empty &&
	gzip -c seeded.bin >seeded.gz &&
	printf "this is not a profile\n" | gzip -c >text.gz &&
	gzip -c empty >empty.gz &&
	n=$(wc -c <valid.pb.gz) &&
	head -c $((n / 2)) valid.pb.gz >half.pb.gz &&
	{ cat valid.pb.gz && printf "junk after the gzip member"; } >trailing.gz &&
	mkdir dir &&
	head -c 200M /dev/zero | gzip -9 >bomb.gz &&
	test $(wc -c <bomb.gz) -lt 1000000
'

# file|what is wrong|ERE for the message
while IFS='|' read -r file what re; do
	for fmt in $formats; do
		test_expect_success "$fmt: $what" '
			render_fails "$fmt" "$re" "$file"
		'
	done
done <<\EOF
seeded.bin|4096 seeded pseudo-random bytes|cannot read 'seeded\.bin': not a pprof profile
valid-then-junk.pb|a valid start, then junk|cannot read 'valid-then-junk\.pb': not a pprof profile
empty|an empty file|cannot read 'empty': empty input
/dev/null|/dev/null|cannot read '/dev/null': empty input
seeded.gz|a gzip of seeded bytes|cannot read 'seeded\.gz': not a pprof profile
text.gz|a gzip of text|cannot read 'text\.gz': not a pprof profile
empty.gz|a gzip of nothing|cannot read 'empty\.gz': empty profile
half.pb.gz|a gzipped profile cut in half|cannot read 'half\.pb\.gz': truncated gzip
trailing.gz|a gzipped profile, then junk|cannot read 'trailing\.gz': bad gzip
bomb.gz|a gzip of 200 MB of zeros|cannot read 'bomb\.gz': (not a pprof profile|.*larger than)
nosuch.pb.gz|a file that does not exist|cannot open 'nosuch\.pb\.gz': No such file or directory
dir|a directory|cannot read 'dir': .*Is a directory
EOF

for fmt in $formats; do
	test_expect_success "$fmt: 4096 random bytes" '
		render_fails "$fmt" \
		    "cannot read '\''random\.bin'\'': (not a pprof profile|.*gzip|.*too complex)" \
		    random.bin || {
			echo "the input began:" && od -An -tx1 random.bin | head -n 4
			false
		}
	'
	test_expect_success "$fmt: empty stdin" '
		render_fails "$fmt" "cannot read '\''<stdin>'\'': empty input" <empty &&
		render_fails "$fmt" "cannot read '\''<stdin>'\'': empty input" - <empty
	'
	test_expect_success "$fmt: garbage on stdin" '
		render_fails "$fmt" "cannot read '\''<stdin>'\'': not a pprof profile" \
			<seeded.bin
	'
	test_expect_success "$fmt: a directory on stdin" '
		render_fails "$fmt" "cannot read '\''<stdin>'\'': .*Is a directory" <dir
	'
	test_shared "$fmt: a shared profile cut in half" '
		f=$SHARED_PROFILES/go-cpu.pb.gz &&
		n=$(wc -c <"$f") &&
		head -c $((n / 2)) "$f" >go-cpu-half.pb.gz &&
		render_fails "$fmt" "cannot read '\''go-cpu-half\.pb\.gz'\'': truncated gzip" \
			go-cpu-half.pb.gz &&
		gzip -dc "$f" | head -c $((n / 2)) >go-cpu-half.pb &&
		render_fails "$fmt" "cannot read '\''go-cpu-half\.pb'\'': not a pprof profile" \
			go-cpu-half.pb
	'
	test_expect_success "$fmt: a bad operand among good ones fails the whole run" '
		render_fails "$fmt" "cannot read '\''no-func\.pb'\'': location 1 refers to function 9" \
			valid.pb no-func.pb valid.pb
	'
	test_expect_success "$fmt: each bad operand is named, and nothing is written" '
		test_expect_code 1 pp-render -f "$fmt" empty valid.pb nosuch dup-loc.pb \
			>out 2>err &&
		cat >expect <<-\EOF &&
		pp-render: cannot read '\''empty'\'': empty input
		pp-render: cannot open '\''nosuch'\'': No such file or directory
		pp-render: cannot read '\''dup-loc.pb'\'': two locations with id 1
		EOF
		test_cmp expect err &&
		test ! -s out
	'
done

for fmt in $formats; do
	test_expect_success "$fmt: -i with a sample type that does not exist" '
		render_fails "$fmt" "no sample type '\''nosuch'\'' .*has: samples\)" \
			-i nosuch valid.pb &&
		render_fails "$fmt" "sample index 1 is outside the range \[0\.\.0\]" \
			-i 1 valid.pb
	'
	test_shared "$fmt: -i nosuch lists the sample types of the profile" '
		render_fails "$fmt" "no sample type '\''nosuch'\''.*alloc_objects, alloc_space, inuse_objects, inuse_space" \
			-i nosuch "$SHARED_PROFILES/go-heap.pb.gz"
	'
	test_expect_success "$fmt: a bad --focus or --ignore expression" '
		render_fails "$fmt" "bad focus expression '\''\('\''" \
			--focus "(" valid.pb &&
		render_fails "$fmt" "bad ignore expression '\''\['\''" \
			--ignore "[" valid.pb
	'
	test_expect_success "$fmt: profiles of different sample types are not merged" '
		STRS=$(pb_str ""; pb_str alloc; pb_str bytes; pb_str main;
			pb_str main.go; pb_str /bin/x) mkprof alloc.pb &&
		render_fails "$fmt" "cannot merge profiles: incompatible sample types: samples/count and alloc/bytes" \
			valid.pb alloc.pb
	'
	test_shared "$fmt: go-cpu and go-heap are not merged" '
		render_fails "$fmt" "cannot merge profiles: incompatible" \
			"$SHARED_PROFILES/go-cpu.pb.gz" "$SHARED_PROFILES/go-heap.pb.gz"
	'
done

# -o: nothing is written on failure, an existing file is left as it was, and
# no temporary file is left behind.
for fmt in $formats; do
	test_expect_success "$fmt: -o keeps an existing file on every bad input" '
		mkdir o-$fmt && cd o-$fmt &&
		echo precious >report && cp report expect &&
		: >out && : >err && : >after &&
		ls -A >before &&
		for args in ../empty ../seeded.bin ../half.pb.gz \
			../no-loc.pb ../no-func.pb ../bad-str.pb ../str0.pb \
			../dup-loc.pb ../loc-id-0.pb ../2-values.pb ../no-map.pb \
			../nosuch ../dir "../valid.pb ../empty" \
			"-i nosuch ../valid.pb" "--focus ( ../valid.pb" \
			"../valid.pb ../alloc.pb"
		do
			render_fails "$fmt" "^pp-render: " -o report $args &&
			test_cmp expect report &&
			ls -A >after &&
			test_cmp before after || return 1
		done
	'
	test_expect_success "$fmt: -o leaves no file behind on bad input" '
		render_fails "$fmt" "empty input" -o new.out empty &&
		test ! -e new.out &&
		render_fails "$fmt" "empty input" -o new.out <empty &&
		test ! -e new.out
	'
	test_expect_success "$fmt: -o into a directory that does not exist" '
		render_fails "$fmt" "cannot (create|write) .*nodir/out[^ ]*: No such file or directory" \
			-o nodir/out valid.pb &&
		test ! -e nodir
	'
	test_expect_success "$fmt: -o into a missing directory names the file asked for" '
		render_fails "$fmt" "cannot (create|write) '\''nodir/out'\'': No such file or directory" \
			-o nodir/out valid.pb
	'
	test_expect_success "$fmt: -o onto a directory" '
		mkdir d-$fmt && cd d-$fmt && mkdir outdir &&
		render_fails "$fmt" "cannot (create|write) '\''outdir'\'': Is a directory" \
			-o outdir ../valid.pb &&
		printf "actual\nerr\nexpect\nout\noutdir\n" >expect &&
		ls -A >actual &&
		test_cmp expect actual &&
		test_must_fail ls -A outdir/*
	'
done

test_expect_success 'bad usage exits 2, with one line and nothing on stdout' '
	usage_fails "unknown format '\''nosuch'\''" -f nosuch valid.pb &&
	usage_fails "unknown format '\''nosuch'\''" -f nosuch nosuch.pb &&
	usage_fails "-n wants a count of nodes, not '\''abc'\''" -n abc valid.pb &&
	usage_fails "-n wants a count of nodes, not '\''-1'\''" -n -1 valid.pb &&
	usage_fails "-n wants a count of nodes, not '\'''\''" -n "" valid.pb &&
	usage_fails "--nodefraction wants a fraction .*'\''2'\''" \
		--nodefraction 2 valid.pb &&
	usage_fails "--edgefraction wants a fraction .*'\''x'\''" \
		--edgefraction x valid.pb
'

test_expect_success 'an unknown option exits 2 and shows the usage' '
	test_expect_code 2 pp-render -x valid.pb >out 2>err &&
	test ! -s out &&
	grep "^usage: pp-render " err &&
	test_expect_code 2 pp-render --no-such-option valid.pb >out 2>err &&
	test ! -s out &&
	grep "^usage: pp-render " err &&
	test_expect_code 2 pp-render -f >out 2>err &&
	test ! -s out &&
	grep "^usage: pp-render " err
'

test_done
