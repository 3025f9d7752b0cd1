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

test_done
