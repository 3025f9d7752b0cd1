#!/bin/bash
# The whole path, under a real openbsd-inetd on loopback: pp-record a
# program into the spool, pp-push, pp-query (directly and --remote),
# pp-render; what comes out equals what went in, as go tool pprof sees
# it. Then 8 pushers at once, 200 profiles each, 10 to a request, and a
# client that sends half a request and stops.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'

HOME=$TRASH_DIRECTORY/home
PP_SPOOL=$TRASH_DIRECTORY/spool
export HOME PP_SPOOL
unset PP_URL XDG_CONFIG_HOME
mkdir -p "$HOME"

# top FILE...: go tool pprof -top's rows (without the header that names
# the files).
top() {
	go tool pprof -top -nodecount=1000 "$@" 2>/dev/null |
	sed -n '/flat%/,$p'
}

# test_with_go DESC BODY: a test that compares with go tool pprof.
test_with_go() {
	if command -v go >/dev/null 2>&1; then
		test_expect_success "$@"
	else
		test_skip "$1" "no go tool pprof"
	fi
}

test_expect_success 'setup: a receiver and two users' '
	start_recv &&
	add_user alice &&
	add_user bob
'

test_expect_success 'pp-record writes profiles into the spool' '
	cc -O2 -g -o cpusplit "$SRC_ROOT/t/progs/cpusplit.c" -lpthread &&
	pp-record -i 1 -l env=e2e -- ./cpusplit 1 3 >/dev/null &&
	ls spool/new >spooled &&
	grep "\.cpu\." spooled >cpu &&
	test_line_count -ge 2 cpu &&
	mkdir copies && cp spool/new/* copies/
'

test_expect_success 'pp-push delivers them all and empties the spool' '
	pp-push -T alice.token &&
	ls spool/new >left &&
	test_line_count = 0 left
'

test_expect_success 'pp-query merges them, pp-render draws the merge' '
	pp-query -d "$RECV_STORE" -u alice -p cpusplit -t cpu -L env=e2e >q.pb.gz &&
	pp-render q.pb.gz >report.svg &&
	grep "<svg" report.svg &&
	grep ">heavy<" report.svg
'

test_with_go 'pp-query gives back their merge, as go tool pprof sees it' '
	top q.pb.gz >got &&
	top copies/*.cpu.*pb.gz >want &&
	test_line_count -gt 3 want &&
	test_cmp want got &&
	grep "heavy" got && grep "light" got
'

test_expect_success 'pp-query --remote lists and merges with the user'"'"'s token' '
	pp-query --remote "$PP_URL" -T alice.token -p cpusplit -t cpu >r.pb.gz &&
	pp-render -f top r.pb.gz >remote.top &&
	grep " heavy$" remote.top && grep " light$" remote.top &&
	pp-query --remote "$PP_URL" -T alice.token -l >list &&
	test_line_count = $(( $(wc -l <spooled) + 1 )) list &&
	pp-query --remote "$PP_URL" -T alice.token -l -o json >list.json &&
	grep "\"program\": \"cpusplit\"" list.json
'

test_with_go 'pp-query --remote gives the same merge, as go tool pprof sees it' '
	top copies/*.cpu.*pb.gz >want &&
	top r.pb.gz >remote &&
	test_line_count -gt 3 want &&
	test_cmp want remote
'

test_expect_success 'bob, remotely, sees nothing of alice'"'"'s' '
	pp-query --remote "$PP_URL" -T bob.token -l >list &&
	test_line_count = 1 list &&
	test_must_fail pp-query --remote "$PP_URL" -T bob.token -t cpu >out 2>err &&
	grep "no profiles match" err &&
	id=$(grep -m1 "\"id\":" list.json | sed "s/.*\"id\": \"\([0-9a-f]*\)\".*/\1/") &&
	curl -s -o got -w "%{http_code}" -H "Authorization: Bearer $(cat bob.token)" \
		"$PP_URL/v1/profiles/$id" >code &&
	test "$(cat code)" = 404 &&
	curl -s -o got -w "%{http_code}" -H "Authorization: Bearer $(cat alice.token)" \
		"$PP_URL/v1/profiles/$id" >code &&
	test "$(cat code)" = 200
'

test_expect_success '8 pushers of 200 profiles, 10 a request, at once: all land once' '
	before=$(pp-query -d "$RECV_STORE" -u alice -l | wc -l) &&
	for p in 1 2 3 4 5 6 7 8; do
		mkdir -p s$p/new s$p/tmp &&
		i=0 &&
		while test $i -lt 200; do
			printf "main;pusher%d;f%d %d\n" $p $i $((i + 1)) |
			pp-test fromfolded >s$p/new/$(printf "%04d" $i).p$p.cpu.pb.gz || exit 1
			i=$((i + 1))
		done
	done &&
	pids= &&
	for p in 1 2 3 4 5 6 7 8; do
		pp-push -b 10 -s s$p -T alice.token 2>push$p.err &
		pids="$pids $!"
	done &&
	failed=0 &&
	for pid in $pids; do
		wait $pid || failed=$((failed + 1))
	done &&
	cat push*.err &&
	test $failed = 0 &&
	ls s*/new >left 2>&1 && ! grep "pb.gz" left &&
	after=$(pp-query -d "$RECV_STORE" -u alice -l | wc -l) &&
	test $((after - before)) = 1600 &&
	pp-query -d "$RECV_STORE" -u alice -l -o json | grep "\"sha256\"" | sort | uniq -d >dups &&
	test ! -s dups
'

test_expect_success 'a client that sends half a request is answered 408 and cut off' '
	start_service "$SRC_ROOT/pp-recv" -d "$RECV_STORE" -t 4 -L "$TRASH_DIRECTORY/slow.log" &&
	perl -MIO::Socket::INET -e "
		my \$s = IO::Socket::INET->new(PeerAddr => \"127.0.0.1:$SERVICE_PORT\")
		    or die \"connect: \$!\";
		print \$s \"POST /v1/push HTTP/1.1\r\nAuthorization: Bearer $(cat alice.token)\r\nContent-Length: 1000\r\n\r\nabc\";
		\$s->flush;
		local \$SIG{ALRM} = sub { print \"still open\n\"; exit 1 };
		alarm 30;
		my \$all = \"\";
		while (sysread(\$s, my \$buf, 4096)) { \$all .= \$buf }
		print \$all;
	" >answer &&
	head -n 1 answer | grep "^HTTP/1.1 408" &&
	stop_service $SERVICE_PID
'

test_expect_success 'without a token, the body is not even read: 401 at once' '
	start_service "$SRC_ROOT/pp-recv" -d "$RECV_STORE" -t 20 -L "$TRASH_DIRECTORY/slow.log" &&
	perl -MIO::Socket::INET -e "
		my \$s = IO::Socket::INET->new(PeerAddr => \"127.0.0.1:$SERVICE_PORT\")
		    or die \"connect: \$!\";
		print \$s \"POST /v1/push HTTP/1.1\r\nContent-Length: 60000000\r\nExpect: 100-continue\r\n\r\n\";
		\$s->flush;
		local \$SIG{ALRM} = sub { print \"still open\n\"; exit 1 };
		alarm 15;
		my \$all = \"\";
		while (sysread(\$s, my \$buf, 4096)) { \$all .= \$buf }
		print \$all;
	" >answer &&
	head -n 1 answer | grep "^HTTP/1.1 401" &&
	! grep "100 Continue" answer &&
	stop_service $SERVICE_PID
'

test_expect_success 'the receiver logged every exchange and no token' '
	test -s recv.log &&
	! grep -F "$(cat alice.token)" recv.log slow.log &&
	! grep -F "$(cat bob.token)" recv.log slow.log &&
	! grep -r -a -F "$(cat alice.token)" "$RECV_STORE"
'

test_done
