#!/bin/bash
# What one request can make a pp-recv process take: small uploads that
# unpack to much more (many empty samples: a few bytes each on the wire,
# some sixty in protobuf-c's objects; a profile past 64 MiB once
# gunzipped; bundles of them, within the unpacked limit and past it) are
# refused with their 4xx, store nothing, and the process's peak memory
# (which pp-recv logs with each exchange) stays under the bound
# pp-recv(8) gives, some 600 MB; a bundle of many valid profiles, and
# real profiles, are stored.
. "$(dirname "$0")/lib.sh"

HOT=$SRC_ROOT/t/data/hotspot.cpu.pb.gz
LARGE=$SHARED_PROFILES/pprof-large.cpu.pb.gz

# AddressSanitizer's allocator keeps more (redzones, quarantine).
if ldd "$SRC_ROOT/pp-recv" 2>/dev/null | grep -q libasan; then
	SCALE=3
else
	SCALE=1
fi

# empties MIB: a profile (raw protobuf) of one sample type and MIB MiB of
# empty samples, each two bytes: field 2, length 0.
empties() {
	perl -e '
		binmode STDOUT;
		print "\x0a\x04\x08\x01\x10\x02",
		    "\x32\x00", "\x32\x07samples", "\x32\x05count";
		my $chunk = "\x12\x00" x 65536;
		print $chunk for 1 .. $ARGV[0] * 8;' "$1"
}

# ones N: a valid profile of 2 MiB, samples of value 1 (four bytes each),
# the last one of value N, so that each N gives another profile.
ones() {
	perl -e '
		binmode STDOUT;
		print "\x0a\x04\x08\x01\x10\x02",
		    "\x32\x00", "\x32\x07samples", "\x32\x05count",
		    "\x12\x02\x10\x01" x (524288 - 8),
		    "\x12\x02\x10", chr($ARGV[0]);' "$1"
}

# bundle OUT FILE...: a gzipped tar of the files and their MANIFEST.
bundle() {
	local out=$1 f sep=
	shift
	rm -rf bundle.d && mkdir bundle.d &&
	cp "$@" bundle.d/ &&
	{
		printf '{"version":1,"profiles":['
		for f in "$@"; do
			f=$(basename "$f")
			printf '%s{"name":"%s","sha256":"%s"}' "$sep" "$f" \
				"$(sha256sum <"bundle.d/$f" | cut -c1-64)"
			sep=,
		done
		printf ']}'
	} >bundle.d/MANIFEST &&
	(cd bundle.d && tar czf ../"$out" MANIFEST $(ls | grep -vx MANIFEST))
}

# post FILE: POSTs FILE to /v1/push through pp-recv; the status goes to
# status, the body to body, pp-recv's peak memory (KiB) to rss.
post() {
	{
		printf 'POST /v1/push HTTP/1.1\r\nHost: pp\r\n'
		printf 'Authorization: Bearer %s\r\n' "$(cat token)"
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$1")"
		cat "$1"
	} >req &&
	rm -f log &&
	pp-recv -d store -L log <req >resp
	sed -n '1s/^HTTP\/1.1 \([0-9]*\) .*/\1/p' resp >status &&
	sed '1,/^\r$/d' resp >body &&
	sed -n 's/.* maxrss=\([0-9]*\)KiB$/\1/p' log >rss &&
	test_line_count = 1 rss &&
	echo "# $1: $(cat status), peak $(cat rss) KiB" >&5
}

# under KIB: the peak was under KIB KiB (times SCALE).
under() {
	test "$(cat rss)" -lt $(($1 * SCALE))
}

nothing_stored() {
	pp-query -d store -l >l && test_line_count = 1 l
}

test_expect_success 'setup' '
	pp-recv -d store user add alice >out && tail -n 1 out >token &&
	empties 60 | gzip -9 >empties.pb.gz &&
	test "$(wc -c <empties.pb.gz)" -lt 100000 &&
	empties 70 | gzip -9 >over.pb.gz &&
	empties 60 >e1.pb && cp e1.pb e2.pb && cp e1.pb e3.pb &&
	bundle two.tgz e1.pb e2.pb &&
	bundle three.tgz e1.pb e2.pb e3.pb &&
	test "$(wc -c <three.tgz)" -lt 400000 &&
	for i in $(seq 10 69); do ones $i >o$i.pb || return 1; done &&
	bundle sixty.tgz o*.pb &&
	test "$(wc -c <sixty.tgz)" -lt 400000
'

test_expect_success 'many empty samples: 422, under 450 MB' '
	post empties.pb.gz &&
	test "$(cat status)" = 422 &&
	grep "too complex to decode within its memory budget" body &&
	under 460800 &&
	nothing_stored
'

test_expect_success 'over 64 MiB once gunzipped: 413, under 200 MB' '
	post over.pb.gz &&
	test "$(cat status)" = 413 &&
	grep "over the limit of 67108864 bytes once decompressed" body &&
	under 204800 &&
	nothing_stored
'

test_expect_success 'a bundle of two: 422 naming each, under 500 MB' '
	post two.tgz &&
	test "$(cat status)" = 422 &&
	for i in 1 2; do
		grep "\"name\":\"e$i.pb\",\"error\":\"not a valid profile: profile too complex" body ||
		return 1
	done &&
	under 512000 &&
	nothing_stored
'

test_expect_success 'a bundle over 128 MiB once unpacked: 413, under 250 MB' '
	post three.tgz &&
	test "$(cat status)" = 413 &&
	grep "limit of 134217728 bytes once unpacked" body &&
	under 256000 &&
	nothing_stored
'

test_expect_success 'sixty valid profiles of 2 MiB in one bundle: stored, under 600 MB' '
	post sixty.tgz &&
	test "$(cat status)" = 200 &&
	under 614400 &&
	pp-query -d store -l >l && test_line_count = 61 l &&
	# Each 524280 samples of 1 and one of 10 .. 69.
	pp-query -d store -t samples >merged.pb.gz &&
	pp-render -f top merged.pb.gz >top &&
	grep "of $((60 * 524280 + (10 + 69) * 30)) total" top
'

test_expect_success 'real profiles are stored as before' '
	post "$HOT" &&
	test "$(cat status)" = 200 &&
	under 65536 &&
	if test -f "$LARGE"; then
		post "$LARGE" && test "$(cat status)" = 200
	fi &&
	pp-query -d store -l >l &&
	test_line_count = $((test -f "$LARGE" && echo 63) || echo 62) l
'

test_done
