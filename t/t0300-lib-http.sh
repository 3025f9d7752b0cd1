#!/bin/bash
# lib/http.c through its unit test, t/unit/http.c, which prints TAP itself:
# requests from files, pipes and a live socket; Content-Length and chunked
# bodies; the header, body and time limits (431, 413, 408); 100-continue;
# truncated, malformed and smuggling requests (400); query parameters,
# bearer and basic tokens; responses.
. "$(dirname "$0")/lib.sh"

test_expect_success 'the unit test of lib/http.c passes' '
	"$SRC_ROOT/t/unit/http" >tap 2>err &&
	! grep "^not ok" tap &&
	test $(grep -c "^ok" tap) -ge 90 &&
	grep -q "^1\.\.[0-9]" tap &&
	test ! -s err
'

test_done
