#!/bin/bash
# lib/svg.c through its unit test, t/unit/svg.c, which prints TAP itself:
# pp_svg_from_dot renders, refuses bad DOT with Graphviz's message, prints
# nothing, and recovers from a broken parse.
. "$(dirname "$0")/lib.sh"

test_expect_success 'the unit test of pp_svg_from_dot passes' '
	"$SRC_ROOT/t/unit/svg" >tap 2>err &&
	! grep "^not ok" tap &&
	grep -c "^ok" tap >count &&
	test $(cat count) -ge 10 &&
	test ! -s err
'

test_done
