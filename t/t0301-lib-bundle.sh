#!/bin/bash
# lib/bundle.c through its unit test, t/unit/bundle.c, which prints TAP
# itself: writer and reader round trip, gzip/xz/zstd bundles, a single
# profile, gzip and .gz.gz.gz bombs, 20000-entry tars, truncated tars,
# SHA-256 mismatches, members missing from the MANIFEST or from the tar,
# links and directories, bad manifests.
. "$(dirname "$0")/lib.sh"

test_expect_success 'the unit test of lib/bundle.c passes' '
	"$SRC_ROOT/t/unit/bundle" "$TEST_DIRECTORY/data/hotspot.cpu.pb.gz" \
		>tap 2>err &&
	! grep "^not ok" tap &&
	test $(grep -c "^ok" tap) -ge 60 &&
	grep -q "^1\.\.[0-9]" tap &&
	test ! -s err
'

test_done
