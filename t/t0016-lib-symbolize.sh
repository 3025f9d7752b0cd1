#!/bin/bash
# lib/symbolize.c through its unit test, t/unit/symbolize.c, which prints
# TAP itself: functions, files, lines and inlined frames of its own code
# and of libc, build-ids, stripped copies, debug links, no network.
. "$(dirname "$0")/lib.sh"

command -v objcopy >/dev/null 2>&1 || skip_all 'objcopy (binutils) is not installed'

test_expect_success 'the unit test of pp_symbolize passes' '
	"$SRC_ROOT/t/unit/symbolize" >tap 2>err &&
	! grep "^not ok" tap &&
	test $(grep -c "^ok" tap) -ge 30 &&
	test ! -s err
'

test_done
