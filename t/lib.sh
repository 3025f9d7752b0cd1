#!/bin/bash
# t/lib.sh: the shell test library, after git's t/test-lib.sh.  A test is
# t/tNNNN-tool-what.sh and looks like
#
#	#!/bin/bash
#	. "$(dirname "$0")/lib.sh"
#	test_have_shared || skip_all 'no shared test profiles'
#	test_expect_success 'a missing profile is an error' '
#		test_must_fail pp-render missing.pb.gz 2>err &&
#		grep "cannot open" err
#	'
#	test_done
#
# It prints TAP, so prove(1) runs it.  Sourcing this file puts the built
# commands ($SRC_ROOT) and t/helper first on PATH, exports TZ=UTC and LC_ALL=C,
# and moves into a fresh scratch directory, $TRASH_DIRECTORY, removed at exit
# unless the script failed and PP_TEST_KEEP is set.  Test bodies run in this
# shell (variables they set persist; the directory is restored after each),
# with stdin from /dev/null and stdout and stderr captured; the capture is
# shown as "# " lines only when the test fails.  Bodies must not set an EXIT
# trap.  Bash only; safe under set -u and set -e.

if [ -z "${BASH_VERSION:-}" ]; then
	echo 'lib.sh: needs bash' >&2
	exit 1
fi
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo '1..0 # SKIP lib.sh is the test library, not a test'
	exit 0
fi

TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P) || exit 1
SRC_ROOT=$(dirname "$TEST_DIRECTORY")
TEST_NAME=$(basename "$0" .sh)
PATH="$SRC_ROOT:$SRC_ROOT/t/helper:$PATH"
SHARED_PROFILES=${PP_SHARED_PROFILES:-$SRC_ROOT/../shared/testdata/profiles}
export TEST_DIRECTORY SRC_ROOT TEST_NAME PATH SHARED_PROFILES
export TZ=UTC LC_ALL=C
unset DEBUGINFOD_URLS
# A sanitizer report must be a crash, never a clean failure for test_must_fail.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
# Graphviz's dot layout leaks a little on every layout; pp's leaks still count.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TEST_DIRECTORY/lsan.supp:print_suppressions=0}

# TAP goes to fd 5, so that it survives the redirections around test bodies.
exec 5>&1 6>&2

_pp_count=0 _pp_failed=0 _pp_done= _pp_in_test= _pp_body=
_pp_scratch=$(mktemp -d "${TMPDIR:-/tmp}/pp-$TEST_NAME.XXXXXX") || {
	echo "Bail out! lib.sh: cannot create a scratch directory"
	exit 1
}
_pp_out=$_pp_scratch/output
TRASH_DIRECTORY=$_pp_scratch/trash
export TRASH_DIRECTORY
mkdir "$TRASH_DIRECTORY" && cd "$TRASH_DIRECTORY" || exit 1

_pp_bail() {
	echo "Bail out! lib.sh: $*" >&5
	exit 1
}

_pp_result() { # status description body
	if [ "$1" = 0 ]; then
		echo "ok $_pp_count - $2" >&5
		return 0
	fi
	_pp_failed=$((_pp_failed + 1))
	{
		echo "not ok $_pp_count - $2"
		printf '%s\n' "$3" | sed 's/^/#	/'
		if [ -s "$_pp_out" ]; then
			echo '# output:'
			# awk, not sed: a last line without a newline must not swallow the next TAP line
			awk '{ print "# " $0 }' "$_pp_out"
		fi
	} >&5
}

_pp_exit() {
	local code=$?
	exec >&5 2>&6
	if [ -n "$_pp_in_test" ]; then
		_pp_result 1 "$_pp_in_test" "$_pp_body"
		echo "# the test body ended the script with status $code"
		echo "1..$_pp_count"
		code=1
	elif [ -z "$_pp_done" ]; then
		echo "# $TEST_NAME ended with status $code before test_done"
		[ "$code" != 0 ] || code=1
	fi
	if [ "$code" != 0 ] && [ -n "${PP_TEST_KEEP:-}" ]; then
		echo "# kept scratch directory $_pp_scratch"
	else
		cd / && chmod -R u+rwx "$_pp_scratch" 2>/dev/null
		rm -rf "$_pp_scratch"
	fi
	exit "$code"
}
trap _pp_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

_pp_eval() {
	eval "$1"
}

# test_expect_success 'description' 'code': run code; it passes if it returns 0.
test_expect_success() {
	[ $# = 2 ] || _pp_bail "test_expect_success: wants 2 arguments, got $#"
	_pp_count=$((_pp_count + 1))
	_pp_in_test=$1 _pp_body=$2
	if _pp_eval "$2" </dev/null >"$_pp_out" 2>&1; then
		_pp_status=0
	else
		_pp_status=$?
	fi
	_pp_in_test=
	cd "$TRASH_DIRECTORY" || _pp_bail "the test removed $TRASH_DIRECTORY"
	_pp_result "$_pp_status" "$1" "$2"
}

# test_expect_failure 'description' 'shell code': a known defect, as in
# git: the code should succeed but does not yet. Reported as a TAP TODO,
# which prove does not count as a failure; "fixed?" when it passes.
test_expect_failure() {
	[ $# = 2 ] || _pp_bail "test_expect_failure: wants 2 arguments, got $#"
	_pp_count=$((_pp_count + 1))
	if _pp_eval "$2" </dev/null >"$_pp_out" 2>&1; then
		echo "ok $_pp_count - $1 # TODO known defect; fixed?" >&5
	else
		echo "not ok $_pp_count - $1 # TODO known defect" >&5
	fi
	cd "$TRASH_DIRECTORY" || _pp_bail "the test removed $TRASH_DIRECTORY"
}

# test_skip 'description' 'reason': count a test as skipped.
test_skip() {
	_pp_count=$((_pp_count + 1))
	echo "ok $_pp_count - $1 # skip $2" >&5
}

# skip_all 'reason': skip the whole script (or, after tests ran, the rest).
skip_all() {
	if [ "$_pp_count" -gt 0 ]; then
		echo "# skipping the remaining tests: $1" >&5
		test_done
	fi
	_pp_done=1
	echo "1..0 # SKIP $1" >&5
	exit 0
}

# test_done: print the plan; exit 1 if any test failed.
test_done() {
	_pp_done=1
	echo "1..$_pp_count" >&5
	if [ "$_pp_failed" -gt 0 ]; then
		echo "# failed $_pp_failed among $_pp_count test(s)" >&5
		exit 1
	fi
	exit 0
}

# test_have_shared: true if the shared test profiles are there.
test_have_shared() {
	[ -d "$SHARED_PROFILES" ]
}

# test_must_fail cmd...: cmd must fail cleanly, with a status from 1 to 125.
# Success, a signal (status > 128), and 126 or 127 (cannot run) do not count.
test_must_fail() {
	"$@"
	local _pp_code=$?
	if [ "$_pp_code" -ge 1 ] && [ "$_pp_code" -le 125 ]; then
		return 0
	elif [ "$_pp_code" = 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
	elif [ "$_pp_code" -gt 128 ]; then
		echo "test_must_fail: died of SIG$(kill -l "$_pp_code"): $*" >&2
	else
		echo "test_must_fail: could not run (status $_pp_code): $*" >&2
	fi
	return 1
}

# test_expect_code N cmd...: cmd must exit with status N exactly.
test_expect_code() {
	local _pp_want=$1
	shift
	"$@"
	local _pp_code=$?
	[ "$_pp_code" = "$_pp_want" ] && return 0
	echo "test_expect_code: status $_pp_code, wanted $_pp_want: $*" >&2
	return 1
}

# test_cmp expected actual: the files must be equal; shows diff -u if not.
test_cmp() {
	if [ $# != 2 ]; then
		echo 'test_cmp: usage: test_cmp expected actual' >&2
		return 2
	fi
	diff -u -- "$1" "$2"
}

# test_line_count OP N file: file has OP N lines; OP is = != -lt -le -gt -ge.
test_line_count() {
	local _pp_op _pp_n
	case ${1:-} in
	=|-eq) _pp_op=-eq ;;
	!=|-ne) _pp_op=-ne ;;
	-lt|-le|-gt|-ge) _pp_op=$1 ;;
	*) _pp_op= ;;
	esac
	if [ $# != 3 ] || [ -z "$_pp_op" ]; then
		echo 'test_line_count: usage: test_line_count =|!=|-lt|-le|-gt|-ge N file' >&2
		return 2
	fi
	_pp_n=$(wc -l <"$3") || return 1
	[ "$_pp_n" "$_pp_op" "$2" ] && return 0
	echo "test_line_count: $3 has $_pp_n lines, wanted $1 $2:" >&2
	cat "$3" >&2
	return 1
}
