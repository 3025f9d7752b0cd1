#!/bin/bash
# Inputs that the fuzz targets (fuzz/, make fuzz) once crashed on, kept in
# t/data/fuzz/TARGET/: each is replayed through the same target built with
# gcc (fuzz/replay-TARGET), and through the command a user would run. A
# sanitizer finding is a crash, so "make check SANITIZE=1" catches the
# undefined behaviour that a plain build may let pass.
. "$(dirname "$0")/lib.sh"

FUZZ_DATA=$SRC_ROOT/t/data/fuzz

for f in "$FUZZ_DATA"/*/*; do
	[ -f "$f" ] || continue
	target=$(basename "$(dirname "$f")")
	name=$target/$(basename "$f")
	test_expect_success "fuzz/replay-$target survives $name" '
		"$SRC_ROOT/fuzz/replay-$target" "'"$f"'"
	'
done

test_expect_success 'a profile with a sample of no locations merges with itself' '
	pp-test merge "$FUZZ_DATA/pprof/merge-empty-stack" \
		"$FUZZ_DATA/pprof/merge-empty-stack" >merged &&
	pp-test summary <merged >summary &&
	pp-test summary <"$FUZZ_DATA/pprof/merge-empty-stack" >orig &&
	grep "^samples 2$" orig &&
	grep "^samples 2$" summary
'

test_expect_success 'a date that does not fit in int64 nanoseconds is refused' '
	test_expect_code 2 pp-query -d nowhere -l --until 1012-11-26 2>err &&
	cat err &&
	grep "^pp-query: --until wants a time (.*), not '\''1012-11-26'\''\$" err &&
	test_expect_code 2 pp-query -d nowhere -l --since 2300-01-01 2>err &&
	grep "^pp-query: --since wants a time" err
'

test_expect_success 'a listing with a parameter that decodes to a NUL byte: 400' '
	pp-recv -d store user add alice | tail -n 1 >token &&
	printf "GET /v1/profiles?program=a&limit=2%%00 HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" \
		"$(cat token)" | pp-recv -d store -L log >resp &&
	cat resp &&
	head -n 1 resp | grep "^HTTP/1.1 400 " &&
	grep "^{\"error\":\"a query parameter decodes to a NUL byte\"}" resp &&
	printf "GET /v1/profiles?program=%%00&limit=2 HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" \
		"$(cat token)" | pp-recv -d store -L log >resp &&
	head -n 1 resp | grep "^HTTP/1.1 400 "
'

test_done
