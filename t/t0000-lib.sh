#!/bin/bash
# Tests of t/lib.sh itself.  Most run a small nested test script and check
# the TAP it prints, since a broken library could not report its own failures.
. "$(dirname "$0")/lib.sh"

# sub NAME [env args...] <body: run body as the test script NAME.sh with
# TMPDIR=NAME.tmp and PP_TEST_KEEP unset; keep NAME.out, NAME.err, NAME.status.
sub() {
	local name=$1
	shift
	{ echo "#!/bin/bash" && cat; } >"$name.sh" &&
	chmod +x "$name.sh" &&
	mkdir "$name.tmp" &&
	env -u PP_TEST_KEEP "$@" TMPDIR="$PWD/$name.tmp" \
		bash "$name.sh" >"$name.out" 2>"$name.err"
	echo $? >"$name.status"
}

test_expect_success 'a passing test prints ok, and not its output' '
	sub pass <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "passes" "echo hidden-output; echo hidden-err >&2"
	test_done
	EOF
	printf "ok 1 - passes\n1..1\n" >expect &&
	test_cmp expect pass.out &&
	echo 0 >expect && test_cmp expect pass.status
'

test_expect_success 'a failing test prints not ok, its code and its output' '
	sub fail <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "fails" "echo shown-output; echo on-stderr >&2; false"
	test_expect_success "passes" "true"
	test_done
	EOF
	cat >expect <<-\EOF &&
	not ok 1 - fails
	#	echo shown-output; echo on-stderr >&2; false
	# output:
	# shown-output
	# on-stderr
	ok 2 - passes
	1..2
	# failed 1 among 2 test(s)
	EOF
	test_cmp expect fail.out &&
	echo 1 >expect && test_cmp expect fail.status
'

test_expect_success 'the environment is pinned' '
	sub env DEBUGINFOD_URLS=http://example.invalid TZ=Europe/Paris LC_ALL=fr_FR <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "env" "
		test \"\$TZ\" = UTC && test \"\$LC_ALL\" = C &&
		test -z \"\${DEBUGINFOD_URLS+set}\"
	"
	test_done
	EOF
	grep "^ok 1 - env" env.out &&
	test "$SRC_ROOT/t" = "$TEST_DIRECTORY" &&
	test -f "$SRC_ROOT/t/lib.sh" &&
	case $PATH in "$SRC_ROOT:$SRC_ROOT/t/helper:"*) ;; *) false ;; esac
'

test_expect_success 'each script runs in a fresh scratch directory under TMPDIR' '
	sub scratch <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	echo "# pwd $(pwd -P)"
	echo "# entries $(ls -A | wc -l)"
	test_done
	EOF
	tmp=$(cd scratch.tmp && pwd -P) &&
	grep "^# pwd $tmp/pp-scratch\.[^/]*/trash\$" scratch.out &&
	grep "^# entries 0\$" scratch.out &&
	test "$(pwd -P)" = "$(cd "$TRASH_DIRECTORY" && pwd -P)"
'

test_expect_success 'the scratch directory goes, unless failed with PP_TEST_KEEP' '
	test_must_fail ls -A pass.tmp/pp-* &&
	test_must_fail ls -A fail.tmp/pp-* &&
	printf ". \"\$TEST_DIRECTORY/lib.sh\"\ntest_expect_success t false\ntest_done\n" |
		sub keep PP_TEST_KEEP=1 &&
	grep "^# kept scratch directory .*/keep.tmp/pp-keep\." keep.out &&
	test -d keep.tmp/pp-keep.*/trash &&
	printf ". \"\$TEST_DIRECTORY/lib.sh\"\ntest_expect_success t true\ntest_done\n" |
		sub keep-ok PP_TEST_KEEP=1 &&
	test_must_fail ls -A keep-ok.tmp/pp-*
'

test_expect_success 'a body that ends the script is reported, with a plan' '
	sub exit <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "exits" "echo bye; exit 3"
	test_expect_success "never" "true"
	test_done
	EOF
	cat >expect <<-\EOF &&
	not ok 1 - exits
	#	echo bye; exit 3
	# output:
	# bye
	# the test body ended the script with status 3
	1..1
	EOF
	test_cmp expect exit.out &&
	echo 1 >expect && test_cmp expect exit.status &&
	test_must_fail ls -A exit.tmp/pp-*
'

test_expect_success 'works under set -eu; a subshell exit fails only its test' '
	sub strict <<-\EOF &&
	set -eu
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "last status counts" "false; true"
	test_expect_success "subshell" "(exit 3)"
	test_skip "skipped" "why not"
	test_expect_success "helpers" "
		test_must_fail false && test_expect_code 0 true &&
		echo x >a && test_cmp a a && test_line_count = 1 a
	"
	test_have_shared || true
	test_expect_success "unset variable" "echo \$no_such_variable"
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - last status counts
	not ok 2 - subshell
	#	(exit 3)
	ok 3 - skipped # skip why not
	ok 4 - helpers
	not ok 5 - unset variable
	#	echo $no_such_variable
	# output:
	EOF
	head -n 8 strict.out >actual &&
	test_cmp expect actual &&
	grep "no_such_variable: unbound variable" strict.out &&
	tail -n 2 strict.out >actual &&
	printf "# the test body ended the script with status 1\n1..5\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'skip_all prints an empty plan and exits 0' '
	sub skip PP_SHARED_PROFILES=$PWD/nowhere <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_have_shared || skip_all "no shared profiles"
	test_expect_success "never" "false"
	test_done
	EOF
	echo "1..0 # SKIP no shared profiles" >expect &&
	test_cmp expect skip.out &&
	echo 0 >expect && test_cmp expect skip.status
'

test_expect_success 'SHARED_PROFILES defaults to ../shared, or PP_SHARED_PROFILES' '
	printf ". \"\$TEST_DIRECTORY/lib.sh\"\necho \"# \$SHARED_PROFILES\"\ntest_have_shared && echo \"# have\"\ntest_done\n" >shared &&
	sub shared-default -u PP_SHARED_PROFILES <shared &&
	grep -Fx "# $SRC_ROOT/../shared/testdata/profiles" shared-default.out &&
	sub shared-here PP_SHARED_PROFILES=$PWD <shared &&
	grep -Fx "# $PWD" shared-here.out &&
	grep -Fx "# have" shared-here.out
'

test_expect_success 'test_must_fail wants a clean failure' '
	test_must_fail false &&
	test_must_fail sh -c "exit 125" &&
	! test_must_fail true &&
	! test_must_fail sh -c "exit 126" &&
	! test_must_fail pp-no-such-command &&
	! test_must_fail sh -c "kill -SEGV \$\$" 2>err &&
	grep "died of SIGSEGV" err
'

test_expect_success 'test_must_fail true fails the test' '
	printf ". \"\$TEST_DIRECTORY/lib.sh\"\ntest_expect_success t \"test_must_fail true\"\ntest_done\n" |
		sub mustfail &&
	grep "^not ok 1 - t\$" mustfail.out &&
	grep "^# test_must_fail: command succeeded: true\$" mustfail.out
'

test_expect_success 'test_expect_code wants the exact status' '
	test_expect_code 3 sh -c "exit 3" &&
	test_expect_code 0 true &&
	! test_expect_code 3 sh -c "exit 4" &&
	! test_expect_code 1 true
'

test_expect_success 'test_cmp shows a unified diff' '
	printf "a\nb\n" >one && printf "a\nc\n" >two &&
	test_cmp one one &&
	test_expect_code 1 test_cmp one two >diff &&
	grep "^-b\$" diff && grep "^+c\$" diff &&
	test_expect_code 2 test_cmp one
'

test_expect_success 'test_line_count' '
	printf "1\n2\n3\n" >three && : >empty &&
	test_line_count = 3 three && test_line_count -eq 3 three &&
	test_line_count != 2 three && test_line_count -gt 2 three &&
	test_line_count -lt 4 three && test_line_count -ge 3 three &&
	test_line_count -le 3 three && test_line_count = 0 empty &&
	! test_line_count = 2 three && ! test_line_count -gt 3 three &&
	! test_line_count -lt 3 three && ! test_line_count = 1 missing &&
	test_expect_code 2 test_line_count == 3 three &&
	test_expect_code 2 test_line_count = 3
'

test_expect_success 'a test may set variables and cd' '
	pp_var=set && mkdir sub && cd sub
'
test_expect_success 'the variables persist, the directory does not' '
	test "$pp_var" = set &&
	test "$(pwd -P)" = "$(cd "$TRASH_DIRECTORY" && pwd -P)"
'

test_expect_success 'test bodies read /dev/null' '
	cat >stdin.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "reads nothing" "cat >\"\$GOT\""
	test_done
	EOF
	echo data | env -u PP_TEST_KEEP GOT=$PWD/got bash stdin.sh &&
	test -f got && test ! -s got
'

test_expect_success 'run directly, lib.sh skips itself' '
	bash "$TEST_DIRECTORY/lib.sh" >out &&
	grep "^1\.\.0 # SKIP" out
'

if command -v prove >/dev/null; then
	test_expect_success 'prove reads the TAP' '
		mkdir prove.tmp &&
		env -u PP_TEST_KEEP TMPDIR=$PWD/prove.tmp \
			PP_SHARED_PROFILES=$PWD/nowhere prove pass.sh skip.sh >out 2>&1 &&
		test_must_fail env -u PP_TEST_KEEP TMPDIR=$PWD/prove.tmp \
			prove fail.sh >out 2>&1 &&
		test_must_fail ls -A prove.tmp/pp-*
	'
else
	test_skip 'prove reads the TAP' 'no prove'
fi

test_done
