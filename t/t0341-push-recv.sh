#!/bin/bash
# pp-push against the real pp-recv, run by openbsd-inetd on loopback:
# profiles recorded by pp-record into the spool are pushed, acknowledged
# and deleted; pushed again they are duplicates; a refused token, an
# outage and an answer lost after the commit keep every file, and the push
# that follows the lost answer stores nothing twice.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

test -x "$SRC_ROOT/pp-recv" || skip_all 'pp-recv not built yet'
test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'

P=$SRC_ROOT/t/progs
HOME=$TRASH_DIRECTORY/home
PP_SPOOL=$TRASH_DIRECTORY/spool
export HOME PP_SPOOL
unset PP_URL XDG_CONFIG_HOME
mkdir -p "$HOME"

# record: two runs of a program under pp-record, into the spool; at
# least two new profiles.
record() {
	local n0 n1
	n0=$(ls spool/new 2>/dev/null | wc -l)
	pp-record -l env=test -- ./exiter "exit 0" 0.2 >/dev/null &&
	pp-record -l env=test -- ./exiter "exit 0" 0.2 >/dev/null &&
	n1=$(ls spool/new | wc -l) &&
	if [ "$n1" -lt $((n0 + 2)) ]; then
		echo "record: pp-record wrote $((n1 - n0)) profiles" >&2
		return 1
	fi
}

# left: the files still in the spool, one a line.
left() { ls spool/new >left; }

# id_of NAME FILE: the id "pp-push -v" reported NAME stored as in FILE.
id_of() {
	sed -n "s/^pp-push: stored '$1' as \\([0-9a-f]*\\)\$/\\1/p;
		s/^pp-push: '$1' was stored already, as \\([0-9a-f]*\\)\$/\\1/p" "$2"
}

test_expect_success 'setup: a receiver, a user, profiles in the spool' '
	cc -O2 -g -o exiter "$P/exiter.c" &&
	start_recv &&
	test -n "$PP_URL" &&
	add_user alice &&
	stat -c %a alice.token >mode && echo 600 >expect &&
	test_cmp expect mode &&
	record &&
	ls spool/new >spooled &&
	cat spooled &&
	test_line_count -ge 2 spooled &&
	mkdir copies && cp spool/new/* copies/
'

test_expect_success 'push: every profile stored and deleted' '
	pp-push -v -T alice.token 2>push1 &&
	cat push1 &&
	left && test_line_count = 0 left &&
	while read -r f; do
		id_of "$f" push1 >id &&
		grep -x "[0-9a-f]\\{16\\}" id || return 1
	done <spooled &&
	n=$(wc -l <spooled) &&
	grep "^pp-push: $n stored, 0 stored already, 0 moved to bad, 0 kept, 0 failed\$" push1
'

test_expect_success 'a second push has nothing to do' '
	pp-push -T alice.token >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 0 err
'

test_expect_success 'pushed again as file operands: duplicates, same ids' '
	pp-push -v -T alice.token copies/* 2>err2 &&
	cat err2 &&
	while read -r f; do
		test -f "copies/$f" &&
		grep "^pp-push: '\''$f'\'' was stored already, as " err2 &&
		id_of "$f" push1 >id1 && id_of "$f" err2 >id2 &&
		test_cmp id1 id2 || return 1
	done <spooled &&
	n=$(wc -l <spooled) &&
	grep "^pp-push: 0 stored, $n stored already" err2
'

if command -v curl >/dev/null 2>&1; then
test_expect_success 'the receiver serves back what was pushed' '
	f=$(head -n 1 spooled) &&
	id=$(id_of "$f" push1) &&
	test -n "$id" &&
	curl -sS -f -o got -H "Authorization: Bearer $(cat alice.token)" \
		"$PP_URL/v1/profiles/$id" &&
	pp-render -f folded "copies/$f" >expect &&
	pp-render -f folded got >actual &&
	test_cmp expect actual
'
else
	test_skip 'the receiver serves back what was pushed' 'no curl(1)'
fi

test_expect_success 'a token the receiver does not know: refused, kept' '
	printf "%s\\n" 0000000000000000000000000000000000000000000000000000000000000000 >nobody.token &&
	chmod 600 nobody.token &&
	record && ls spool/new >before &&
	test_expect_code 1 pp-push -T nobody.token 2>err &&
	echo "pp-push: the receiver refused the token" >expect &&
	test_cmp expect err &&
	left && test_cmp before left
'

test_expect_success 'a file that is not pprof in the spool: bad/, the rest stored' '
	echo "not a profile" >spool/new/00000000T000000Z.junk.pb.gz &&
	test_expect_code 1 pp-push -T alice.token 2>err &&
	grep "^pp-push: moved '\''00000000T000000Z.junk.pb.gz'\'' to '\''$PP_SPOOL/bad'\''" err &&
	left && test_line_count = 0 left &&
	ls spool/bad >bad && echo 00000000T000000Z.junk.pb.gz >expect &&
	test_cmp expect bad
'

test_expect_success 'receiver down: every file kept, exit 75' '
	stop_recv &&
	record && ls spool/new >before &&
	test_expect_code 75 pp-push -T alice.token 2>err &&
	grep "^pp-push: cannot reach '\''$PP_URL'\'': " err &&
	left && test_cmp before left
'

test_expect_success 'receiver back: the kept files are delivered' '
	start_recv &&
	pp-push -v -T alice.token 2>err &&
	left && test_line_count = 0 left &&
	while read -r f; do
		grep "^pp-push: stored '\''$f'\'' as " err || return 1
	done <before
'

# stored_once: each file in the spool (named in before) is in the store
# exactly once, by its sha256.
stored_once() {
	pp-query -d "$RECV_STORE" -l -o json >list.json &&
	sed -n 's/^ *"sha256": "\([0-9a-f]*\)",$/\1/p' list.json >stored &&
	while read -r f; do
		h=$(sha256sum <"copies/$f" | cut -c1-64) &&
		test "$(grep -c -x "$h" stored)" = 1 ||
		{ echo "$f ($h) is stored $(grep -c -x "$h" stored) times"; return 1; }
	done <before
}

# The receiver commits, then its answer is lost: a wrapper runs the real
# pp-recv with its standard output (the answer) discarded, so the
# connection closes without a word once the profiles are stored.
test_expect_success 'the answer lost after the commit: exit 75, every file kept' '
	cat >lose-answer <<-\EOF &&
	#!/bin/sh
	exec "$@" >/dev/null 2>>"${0%/*}/lose-answer.err"
	EOF
	chmod +x lose-answer &&
	start_service "$TRASH_DIRECTORY/lose-answer" "$SRC_ROOT/pp-recv" \
		-d "$RECV_STORE" -L "$TRASH_DIRECTORY/recv.log" &&
	LOST_PID=$SERVICE_PID &&
	record && ls spool/new >before && cp spool/new/* copies/ &&
	test_expect_code 75 env PP_URL=$SERVICE_URL pp-push -T alice.token 2>err &&
	cat err &&
	grep "^pp-push: no answer from '\''$SERVICE_URL'\'': Empty reply from server\$" err &&
	left && test_cmp before left &&
	stored_once &&
	test ! -s lose-answer.err
'

test_expect_success 'pushed again: deleted from the spool, still stored once' '
	stop_service $LOST_PID &&
	pp-push -v -T alice.token 2>err &&
	cat err &&
	left && test_line_count = 0 left &&
	while read -r f; do
		grep "^pp-push: '\''$f'\'' was stored already, as " err || return 1
	done <before &&
	stored_once
'

test_done
