#!/bin/bash
# pp-push on its own: usage, the token file, the lock, -n, a receiver that
# cannot be reached, and what it does with each kind of answer, against a
# stand-in receiver (t/progs/fake-recv.pl) run by inetd.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

# Nothing from the user running the tests: no token, no spool, no URL.
HOME=$TRASH_DIRECTORY/home
PP_SPOOL=$TRASH_DIRECTORY/spool
export HOME PP_SPOOL
unset PP_URL XDG_CONFIG_HOME
mkdir -p "$HOME"

# spool N: a spool with N distinct profiles, named so that p1 is oldest.
spool() {
	local i=1
	rm -rf spool && mkdir -p spool/new spool/tmp &&
	while [ $i -le "$1" ]; do
		printf 'main;work;f%s %s\n' $i $((i + 2)) |
		pp-test fromfolded >spool/new/2026-0$i.p$i.pb.gz || return 1
		i=$((i + 1))
	done
}

# left: the files still in spool/new, one a line.
left() { ls spool/new >left; }

# sent: the requests the fake receiver saw ("N METHOD PATH NAME...").
sent() { cat fake/requests 2>/dev/null >sent; cat sent; }

# fake MODE: the fake receiver answers so from now on; forget requests.
fake() {
	rm -rf fake && mkdir fake && echo "$1" >fake/mode
}

test_expect_success 'setup' '
	printf "secret-token\\n" >tok &&
	chmod 600 tok &&
	port=$((20000 + RANDOM % 30000)) &&
	while ! _pp_port_free $port; do port=$((port + 1)); done &&
	DOWN=http://127.0.0.1:$port
'

test_expect_success '-h prints the usage; bad usage exits 2' '
	pp-push -h >out &&
	grep "^usage: pp-push \\[-hnv\\] \\[-b count\\]" out &&
	test_expect_code 2 pp-push -b 0 2>err &&
	grep "^pp-push: -b wants a count" err &&
	test_expect_code 2 pp-push -b x -u $DOWN 2>err &&
	test_expect_code 2 pp-push -s spool file 2>err &&
	test_expect_code 2 pp-push -u 2>err &&
	grep "^usage: pp-push" err
'

test_expect_success 'no URL: an error' '
	spool 1 &&
	test_expect_code 1 pp-push -T tok 2>err &&
	echo "pp-push: no receiver: use -u URL or set PP_URL" >expect &&
	test_cmp expect err &&
	test_expect_code 1 pp-push -T tok -u ftp://x/ 2>err &&
	grep "not an http or https URL" err
'

test_expect_success 'receiver unreachable: every file kept, exit 75' '
	spool 3 && ls spool/new >before &&
	test_expect_code 75 pp-push -T tok -u $DOWN 2>err &&
	grep "^pp-push: cannot reach '\''$DOWN'\'': " err &&
	left && test_cmp before left &&
	ls spool/bad 2>/dev/null | wc -l >nbad && echo 0 >expect &&
	test_cmp expect nbad
'

test_expect_success 'PP_URL is the default receiver' '
	PP_URL=$DOWN test_expect_code 75 pp-push -T tok 2>err &&
	grep "^pp-push: cannot reach '\''$DOWN'\''" err
'

test_expect_success 'the token file must not be open to others' '
	for mode in 644 640 604 620 602 660; do
		cp tok tok$mode && chmod $mode tok$mode &&
		test_expect_code 1 pp-push -T tok$mode -u $DOWN 2>err &&
		echo "pp-push: token file '\''tok$mode'\'' is accessible by others; chmod 600 it" >expect &&
		test_cmp expect err || return 1
	done &&
	left && test_line_count = 3 left
'

test_expect_success 'a missing or empty token file is an error' '
	test_expect_code 1 pp-push -T no-such-tok -u $DOWN 2>err &&
	grep "^pp-push: cannot open token file '\''no-such-tok'\''" err &&
	: >empty && chmod 600 empty &&
	test_expect_code 1 pp-push -T empty -u $DOWN 2>err &&
	grep "^pp-push: token file '\''empty'\'' is empty" err &&
	printf "a b\\n" >two && chmod 600 two &&
	test_expect_code 1 pp-push -T two -u $DOWN 2>err &&
	grep "^pp-push: token file '\''two'\''" err
'

test_expect_success 'the default token file: ~/.config/pp/token' '
	test_expect_code 1 pp-push -u $DOWN 2>err &&
	grep "^pp-push: no token: use -T FILE or write the token into '\''$HOME/.config/pp/token'\''" err &&
	mkdir -p "$HOME/.config/pp" &&
	cp tok "$HOME/.config/pp/token" &&
	chmod 644 "$HOME/.config/pp/token" &&
	test_expect_code 1 pp-push -u $DOWN 2>err &&
	grep "is accessible by others" err &&
	chmod 600 "$HOME/.config/pp/token" &&
	test_expect_code 75 pp-push -u $DOWN 2>err &&
	grep "cannot reach" err
'

test_expect_success 'no spool yet: nothing to do; a missing -s DIR: an error' '
	PP_SPOOL=$TRASH_DIRECTORY/none pp-push -T tok -u $DOWN &&
	test_expect_code 1 pp-push -T tok -u $DOWN -s none 2>err &&
	grep "^pp-push: cannot open '\''none/new'\''" err
'

test_expect_success 'an empty spool: nothing to do, exit 0' '
	spool 0 &&
	pp-push -T tok -u $DOWN 2>err &&
	test_line_count = 0 err
'

test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'

test_expect_success 'the stand-in receiver' '
	fake ack &&
	start_service "$(command -v perl)" "$SRC_ROOT/t/progs/fake-recv.pl" \
		"$TRASH_DIRECTORY/fake" &&
	URL=$SERVICE_URL
'

test_expect_success 'all acknowledged: all deleted, one request' '
	spool 3 && fake ack &&
	pp-push -v -T tok -u $URL 2>err &&
	cat err &&
	left && test_line_count = 0 left &&
	sent && test_line_count = 1 sent &&
	echo "1 POST /v1/push 2026-01.p1.pb.gz 2026-02.p2.pb.gz 2026-03.p3.pb.gz" >expect &&
	test_cmp expect sent &&
	grep "^pp-push: stored '\''2026-02.p2.pb.gz'\'' as 0000000000abc001\$" err &&
	grep "^pp-push: 3 stored, 0 stored already, 0 moved to bad, 0 kept, 0 failed\$" err
'

test_expect_success 'the request: token, content type, no Expect' '
	tr -d "\\r" <fake/req.1.head >head &&
	grep -x "Authorization: Bearer secret-token" head &&
	grep -x "Content-Type: application/x-tar" head &&
	! grep -i "^expect:" head &&
	tar tf fake/req.1.body >members &&
	printf "%s\\n" MANIFEST 2026-01.p1.pb.gz 2026-02.p2.pb.gz \
		2026-03.p3.pb.gz >expect &&
	test_cmp expect members
'

test_expect_success 'the bundle holds the files as they were' '
	spool 3 && cp spool/new/2026-02.p2.pb.gz copy &&
	mkdir x && (cd x && tar xf ../fake/req.1.body) &&
	cmp copy x/2026-02.p2.pb.gz
'

test_expect_success 'a bundle over 1 MiB: no "Expect: 100-continue"' '
	spool 0 && fake ack &&
	for i in 1 2; do
		head -c 400000 /dev/urandom | od -An -tx1 -w30 | tr -d " " |
		sed "s/^/main;/; s/\$/ 1/" |
		pp-test fromfolded >spool/new/big$i.pb.gz || return 1
	done &&
	pp-push -T tok -u $URL &&
	left && test_line_count = 0 left &&
	test $(wc -c <fake/req.1.body) -gt 1048576 &&
	tr -d "\r" <fake/req.1.head >head &&
	! grep -i "^expect:" head &&
	sent && echo "1 POST /v1/push big1.pb.gz big2.pb.gz" >expect &&
	test_cmp expect sent
'

test_expect_success 'a second push has nothing to do' '
	spool 0 && fake ack &&
	pp-push -T tok -u $URL 2>err &&
	test_line_count = 0 err &&
	! test -e fake/requests
'

test_expect_success 'a URL with a path: /v1/push appended, one slash' '
	spool 1 && fake ack &&
	pp-push -T tok -u $URL/pp/ &&
	pp-push -T tok -u $URL/pp// &&
	spool 1 &&
	pp-push -T tok -u $URL/ &&
	sent &&
	cut -d" " -f3 sent >paths &&
	printf "%s\\n" /pp/v1/push /v1/push >expect &&
	test_cmp expect paths
'

test_expect_success '-b 2: bundles of two, oldest first' '
	spool 5 && fake ack &&
	pp-push -b 2 -T tok -u $URL &&
	left && test_line_count = 0 left &&
	sent && cut -d" " -f4- sent >bundles &&
	cat >expect <<-\EOF &&
	2026-01.p1.pb.gz 2026-02.p2.pb.gz
	2026-03.p3.pb.gz 2026-04.p4.pb.gz
	2026-05.p5.pb.gz
	EOF
	test_cmp expect bundles
'

test_expect_success '-n: says what would be sent; sends and deletes nothing' '
	spool 3 && fake ack && ls spool/new >before &&
	echo garbage >spool/new/2026-00.bad.pb.gz &&
	# exit 1: the push would move a file to bad/
	test_expect_code 1 pp-push -n -b 2 -s spool >out 2>err &&
	cat >expect <<-\EOF &&
	would send 2026-01.p1.pb.gz (NN bytes) in bundle 1
	would send 2026-02.p2.pb.gz (NN bytes) in bundle 1
	would send 2026-03.p3.pb.gz (NN bytes) in bundle 2
	EOF
	sed "s/([0-9]* bytes)/(NN bytes)/" out >actual &&
	test_cmp expect actual &&
	grep "^pp-push: would move '\''2026-00.bad.pb.gz'\'' to '\''spool/bad'\'': not a pprof profile" err &&
	rm spool/new/2026-00.bad.pb.gz &&
	left && test_cmp before left &&
	! test -e spool/bad &&
	! test -e fake/requests
'

test_expect_success 'a file that is not pprof goes to bad/ and is never sent' '
	spool 2 && fake ack &&
	echo "not a profile" >spool/new/2026-015.junk.pb.gz &&
	: >spool/new/2026-016.empty.pb.gz &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	grep "^pp-push: moved '\''2026-015.junk.pb.gz'\'' to '\''$PP_SPOOL/bad'\'': not a pprof profile" err &&
	grep "^pp-push: moved '\''2026-016.empty.pb.gz'\'' to" err &&
	left && test_line_count = 0 left &&
	ls spool/bad >bad &&
	printf "%s\\n" 2026-015.junk.pb.gz 2026-016.empty.pb.gz >expect &&
	test_cmp expect bad &&
	echo "not a profile" >expect && test_cmp expect spool/bad/2026-015.junk.pb.gz &&
	sent && echo "1 POST /v1/push 2026-01.p1.pb.gz 2026-02.p2.pb.gz" >expect &&
	test_cmp expect sent
'

test_expect_success 'the lock: a second pp-push on the spool exits 75' '
	spool 2 && fake ack && ls spool/new >before &&
	flock spool/.lock pp-push -T tok -u $URL -s spool 2>err;
	test $? = 75 &&
	echo "pp-push: another pp-push is running on '\''spool'\''" >expect &&
	test_cmp expect err &&
	left && test_cmp before left &&
	! test -e fake/requests &&
	pp-push -T tok -u $URL -s spool &&
	left && test_line_count = 0 left
'

test_expect_success 'only what is acknowledged is deleted' '
	spool 3 && fake ack-first &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	left && printf "%s\\n" 2026-02.p2.pb.gz 2026-03.p3.pb.gz >expect &&
	test_cmp expect left &&
	grep "^pp-push: kept '\''2026-02.p2.pb.gz'\'': the receiver did not acknowledge it" err
'

test_expect_success 'an acknowledgement with another hash deletes nothing' '
	spool 3 && fake ack-badsha && ls spool/new >before &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	left && test_cmp before left &&
	grep -c "did not acknowledge" err >n && echo 3 >expect && test_cmp expect n
'

test_expect_success 'duplicates are deleted and said so with -v' '
	spool 2 && fake ack-dup &&
	pp-push -v -T tok -u $URL 2>err &&
	left && test_line_count = 0 left &&
	grep "^pp-push: '\''2026-01.p1.pb.gz'\'' was stored already, as 0000000000abc000\$" err &&
	grep "^pp-push: 0 stored, 2 stored already" err
'

test_expect_success '422: the refused files go to bad/, the rest is sent again' '
	spool 4 && fake "refuse p[23]" &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	grep "^pp-push: moved '\''2026-02.p2.pb.gz'\'' to '\''$PP_SPOOL/bad'\'': refused by the receiver: fake refusal\$" err &&
	grep "^pp-push: moved '\''2026-03.p3.pb.gz'\''" err &&
	left && test_line_count = 0 left &&
	ls spool/bad >bad &&
	printf "%s\\n" 2026-02.p2.pb.gz 2026-03.p3.pb.gz >expect &&
	test_cmp expect bad &&
	sent && cut -d" " -f4- sent >bundles &&
	cat >expect <<-\EOF &&
	2026-01.p1.pb.gz 2026-02.p2.pb.gz 2026-03.p3.pb.gz 2026-04.p4.pb.gz
	2026-01.p1.pb.gz 2026-04.p4.pb.gz
	EOF
	test_cmp expect bundles
'

test_expect_success '413: the bundle is sent in halves' '
	spool 5 && fake "max 2" &&
	pp-push -T tok -u $URL &&
	left && test_line_count = 0 left &&
	sent && cut -d" " -f4- sent >bundles &&
	cat >expect <<-\EOF &&
	2026-01.p1.pb.gz 2026-02.p2.pb.gz 2026-03.p3.pb.gz 2026-04.p4.pb.gz 2026-05.p5.pb.gz
	2026-01.p1.pb.gz 2026-02.p2.pb.gz
	2026-03.p3.pb.gz 2026-04.p4.pb.gz 2026-05.p5.pb.gz
	2026-03.p3.pb.gz
	2026-04.p4.pb.gz 2026-05.p5.pb.gz
	EOF
	test_cmp expect bundles
'

test_expect_success '413 for one file: it goes to bad/' '
	spool 2 && fake "max 0" &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	grep "^pp-push: moved '\''2026-01.p1.pb.gz'\'' to '\''$PP_SPOOL/bad'\'': too large for the receiver: bundle too large\$" err &&
	left && test_line_count = 0 left &&
	ls spool/bad >bad && test_line_count = 2 bad
'

test_expect_success '401: the token was refused; files kept, exit 1' '
	spool 3 && fake "status 401" && ls spool/new >before &&
	test_expect_code 1 pp-push -b 1 -T tok -u $URL 2>err &&
	echo "pp-push: the receiver refused the token" >expect &&
	test_cmp expect err &&
	left && test_cmp before left &&
	sent && test_line_count = 1 sent
'

for st in 500 503 429 408; do
	test_expect_success "$st: unreachable for now; files kept, exit 75" '
		spool 3 && fake "status '$st'" && ls spool/new >before &&
		test_expect_code 75 pp-push -b 1 -T tok -u $URL 2>err &&
		echo "pp-push: cannot reach '\''$URL'\'': it answered '$st': fake error '$st'" >expect &&
		test_cmp expect err &&
		left && test_cmp before left &&
		sent && test_line_count = 1 sent
	'
done

test_expect_success 'another 4xx: an error; files kept, exit 1' '
	spool 3 && fake "status 404" && ls spool/new >before &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	echo "pp-push: '\''$URL'\'' answered 404: fake error 404" >expect &&
	test_cmp expect err &&
	left && test_cmp before left
'

test_expect_success 'a 200 that is not the receiver'\''s answer: exit 75' '
	spool 2 && fake garbage && ls spool/new >before &&
	test_expect_code 75 pp-push -T tok -u $URL 2>err &&
	grep "^pp-push: cannot reach '\''$URL'\'': it answered 200 with something" err &&
	left && test_cmp before left
'

test_expect_success 'a silent receiver: given up after -w seconds, files kept' '
	spool 2 && ls spool/new >before && fake "silent 20" &&
	test_expect_code 75 pp-push -w 2 -T tok -u $URL 2>err &&
	cat err &&
	grep "^pp-push: cannot reach '\''$URL'\'': .*the last 2 seconds" err &&
	left && test_cmp before left &&
	test_expect_code 2 pp-push -w 0 -u $URL 2>err &&
	grep "^pp-push: -w wants seconds from 1 to 3600" err
'

test_expect_success 'a bad file and an outage: exit 1, not 75' '
	spool 2 && fake "status 503" &&
	echo junk >spool/new/2026-00.junk &&
	test_expect_code 1 pp-push -T tok -u $URL 2>err &&
	grep "cannot reach" err && grep "moved '\''2026-00.junk'\''" err &&
	left && test_line_count = 2 left
'

test_expect_success 'file operands: sent under their base names, kept' '
	spool 2 && fake ack && mkdir a b &&
	cp spool/new/2026-01.p1.pb.gz a/one.pb.gz &&
	cp spool/new/2026-02.p2.pb.gz b/two.pb.gz &&
	pp-push -T tok -u $URL a/one.pb.gz b/two.pb.gz &&
	test -f a/one.pb.gz && test -f b/two.pb.gz &&
	left && test_line_count = 2 left &&
	sent && echo "1 POST /v1/push one.pb.gz two.pb.gz" >expect &&
	test_cmp expect sent
'

test_expect_success 'file operands with one base name go in two bundles' '
	fake ack && cp a/one.pb.gz b/one.pb.gz &&
	pp-push -T tok -u $URL a/one.pb.gz b/one.pb.gz &&
	sent && cut -d" " -f4- sent >bundles &&
	printf "%s\\n" one.pb.gz one.pb.gz >expect &&
	test_cmp expect bundles
'

test_expect_success 'a file operand that is not pprof: error, the rest sent' '
	fake ack && echo junk >junk.pb.gz &&
	test_expect_code 1 pp-push -T tok -u $URL a/one.pb.gz junk.pb.gz \
		no-such.pb.gz b/two.pb.gz 2>err &&
	grep "^pp-push: cannot push '\''junk.pb.gz'\'': not a pprof profile" err &&
	grep "^pp-push: cannot push '\''no-such.pb.gz'\'': cannot open: No such file" err &&
	test -f junk.pb.gz &&
	sent && echo "1 POST /v1/push one.pb.gz two.pb.gz" >expect &&
	test_cmp expect sent
'

test_expect_success 'a refused file operand is an error and stays' '
	fake "refuse one" &&
	test_expect_code 1 pp-push -T tok -u $URL a/one.pb.gz b/two.pb.gz 2>err &&
	grep "^pp-push: cannot push '\''a/one.pb.gz'\'': refused by the receiver: fake refusal" err &&
	test -f a/one.pb.gz &&
	sent && cut -d" " -f4- sent >bundles &&
	printf "%s\\n" "one.pb.gz two.pb.gz" two.pb.gz >expect &&
	test_cmp expect bundles
'

# The sites of a replicated store: a replica answers 503 and names the
# master; a site that is down refuses the connection. The bundle goes to
# the next receiver given, and so do the bundles after it.
test_expect_success 'several receivers: the next takes what one cannot' '
	spool 2 && fake ack &&
	pp-push -v -T tok -u $DOWN -u $URL 2>err &&
	cat err &&
	grep "^pp-push: cannot reach '\''$DOWN'\'': .*; trying '\''$URL'\''\$" err &&
	left && test_line_count = 0 left &&
	sent && test_line_count = 1 sent
'

test_expect_success 'a receiver that answers 503: the next one, for every bundle' '
	rm -rf fake2 && mkdir fake2 && echo "status 503" >fake2/mode &&
	PID1=$SERVICE_PID &&
	start_service "$(command -v perl)" "$SRC_ROOT/t/progs/fake-recv.pl" \
		"$TRASH_DIRECTORY/fake2" &&
	URL2=$SERVICE_URL PID2=$SERVICE_PID &&
	spool 3 && fake ack &&
	pp-push -v -b 1 -T tok -u $URL2 -u $URL 2>err &&
	cat err &&
	grep "^pp-push: '\''$URL2'\'' answered 503; trying '\''$URL'\''\$" err &&
	left && test_line_count = 0 left &&
	sent && test_line_count = 3 sent &&
	test_line_count = 1 fake2/requests
'

test_expect_success 'PP_URL holds several receivers' '
	spool 1 && fake ack &&
	PP_URL="$DOWN $URL" pp-push -T tok 2>err &&
	left && test_line_count = 0 left
'

test_expect_success 'no receiver takes it: every file kept, exit 75' '
	spool 2 && ls spool/new >before && fake ack &&
	test_expect_code 75 pp-push -T tok -u $URL2 -u $DOWN 2>err &&
	cat err &&
	grep "^pp-push: cannot reach '\''$DOWN'\'': " err &&
	left && test_cmp before left &&
	sent && test_line_count = 0 sent &&
	stop_service $PID2 &&
	SERVICE_PID=$PID1
'

test_expect_success 'stop the stand-in receiver; now unreachable' '
	stop_service $SERVICE_PID &&
	spool 1 &&
	test_expect_code 75 pp-push -T tok -u $URL 2>err &&
	grep "cannot reach" err &&
	left && test_line_count = 1 left
'

test_done
