#!/bin/bash
# A replicated store on loopback: three sites, each its own store, its
# replication process (pp-recv replicate) and its pp-recv under its own
# inetd. Pushes go to the master and reach the replicas; a replica answers
# a push 503 and the client keeps its profiles; without replicas to
# acknowledge it the master answers 503 too; per-connection pp-recv at
# the master are killed (SIGKILL) while a client pushes: the master's
# replication process starts again after each recovery, the master stays
# the master when they were killed mid-upload (and the test says whether
# it did when they were killed at random moments: a commit that reached
# the replicas only makes one of them the master), and every acknowledged
# profile reaches every site;
# then the master dies (its replication process and its inetd, SIGKILL)
# while a client keeps pushing, the two others elect a new master, the
# pushes go on there, and every profile that was acknowledged (200) is on
# both survivors.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"
. "$TEST_DIRECTORY/lib-pb.sh"

test -x "$SRC_ROOT/pp-recv" || skip_all 'pp-recv not built yet'
test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
command -v curl >/dev/null 2>&1 || skip_all 'no curl'

HOME=$TRASH_DIRECTORY/home
export HOME
unset PP_URL PP_SPOOL XDG_CONFIG_HOME
mkdir -p "$HOME"

# By site (a, b, c): its replication port, its replication process, its
# inetd and its URL.
declare -A rport repl inetd url
master= replica= new=

# Short timeouts, so that a failover takes seconds, not tens of them; but
# a failover delay that leaves a master's replication process, started
# again after a recovery (some 0.8 s here), ample time to come back.
TIMEOUTS='ack-timeout 2
election-timeout 1
election-retry 1
connection-retry 1
heartbeat 0.5
failover-delay 3'

# wait_for FILE ERE [N]: until more than N (default 0) lines of FILE
# match; at most some 60 s, and never a measure of how long it took.
wait_for() {
	local i=0
	while [ $i -lt 600 ]; do
		[ "$(count "$2" "$1")" -gt "${3:-0}" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "wait_for: no more than ${3:-0} lines like '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# role SITE: what SITE's replication process last said the site is.
role() {
	grep -E "this site is (the master|a replica)" $1.events | tail -n 1
}

# count ERE FILE: how many lines of FILE match (0 when there is none).
count() {
	local n
	n=$(grep -c -E -- "$1" "$2" 2>/dev/null)
	echo "${n:-0}"
}

# note TEXT: a TAP comment, for the figures (prove -v shows them).
note() { echo "# $*" >&5; }

# others: the sites other than the master.
others() {
	local s
	for s in a b c; do
		[ $s = "$master" ] || echo $s
	done
}

# mkprof N FILE: a CPU profile of its own (the shared hotspot profile,
# its time_nanos made N seconds past a base), gzipped.
mkprof() {
	{
		gzip -dc "$SRC_ROOT/t/data/hotspot.cpu.pb.gz" &&
		pb_write $(pb_int 9 $((1700000000000000000 + $1 * 1000000000)))
	} | gzip -c >"$2"
}

# push_all URL LOG: pp-push the spool to URL until it is empty (a busy
# machine may miss an acknowledgement's timeout: 503, pushed again), at
# most some 50 times; pp-push -v's messages to LOG.
push_all() {
	local i=0
	until pp-push -v -s spool -u "$1" -T alice.token 2>>"$2"; do
		[ $i -lt 50 ] || { cat "$2"; return 1; }
		sleep 0.2
		i=$((i + 1))
	done
}

# acked LOG...: the names pp-push -v reported stored (answered 200).
acked() {
	sed -n "s/^pp-push: stored '\\(.*\\)' as [0-9a-f]*\$/\\1/p;
		s/^pp-push: '\\(.*\\)' was stored already, as [0-9a-f]*\$/\\1/p" \
		"$@" | sort -u
}

# hashes SITE: the SHA-256 of every profile of alice's in SITE's store.
hashes() {
	pp-query -d "$1" -u alice -l -o json |
	sed -n 's/.*"sha256": *"\([0-9a-f]*\)".*/\1/p' | sort -u
}

# has_all SITE NAMES: SITE's store holds every profile named in NAMES
# (files in pool/), waiting (boundedly) for replication to bring them.
has_all() {
	local i=0 n
	while read -r n; do
		sha256sum "pool/$n" | cut -d" " -f1
	done <"$2" | sort -u >want.$1
	while [ $i -lt 300 ]; do
		hashes "$1" >have.$1 2>/dev/null &&
		comm -23 want.$1 have.$1 >missing.$1 &&
		! [ -s missing.$1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "has_all: $1 lacks $(wc -l <missing.$1) of $(wc -l <want.$1):" >&2
	cat missing.$1 >&2
	return 1
}

test_expect_success 'a bad failover delay is refused' '
	mkdir bad &&
	printf "local 127.0.0.1:1\nfailover-delay -1\n" >bad/replication &&
	test_must_fail pp-recv -d bad replicate 2>err &&
	grep "line 2: failover-delay wants seconds" err
'

test_expect_success 'setup: three sites elect a master' '
	mkdir pool &&
	for n in $(seq 1 400); do
		mkprof $n pool/p$(printf %04d $n).cpu.pb.gz || return 1
	done &&
	for s in a b c; do
		rport[$s]=$(pick_port) || return 1
	done &&
	for s in a b c; do
		mkdir $s &&
		{
			echo "local 127.0.0.1:${rport[$s]}" &&
			for p in a b c; do
				[ $p = $s ] || echo "peer 127.0.0.1:${rport[$p]}"
			done &&
			case $s in
			a) echo "priority 100" ;;
			b) echo "priority 50" ;;
			c) echo "priority 40" ;;
			esac &&
			echo "$TIMEOUTS"
		} >$s/replication &&
		start_daemon $s.repl.log pp-recv -d $s -L $s.events replicate &&
		repl[$s]=$DAEMON_PID || return 1
	done &&
	for s in a b c; do
		wait_for $s.events "this site is (the master|a replica; the master)" ||
			return 1
	done &&
	for s in a b c; do
		if role $s | grep -q "this site is the master"; then
			test -z "$master" && master=$s || return 1
		fi
	done &&
	echo "the master is $master" &&
	for s in $(others); do
		wait_for $s.events "in step with the master" || return 1
	done
'

test_expect_success 'setup: a user on the master, a pp-recv at every site' '
	pp-recv -d $master user add alice >alice.out &&
	tail -n 1 alice.out >alice.token && chmod 600 alice.token &&
	for s in a b c; do
		start_service "$SRC_ROOT/pp-recv" -d "$TRASH_DIRECTORY/$s" \
			-L "$TRASH_DIRECTORY/$s.recv.log" &&
		url[$s]=$SERVICE_URL inetd[$s]=$SERVICE_PID || return 1
	done
'

test_expect_success 'a replica knows the user: the master replicated it' '
	for s in $(others); do
		i=0 &&
		until pp-recv -d $s user list >users.$s 2>&1 &&
			grep -q "^alice " users.$s; do
			[ $i -lt 100 ] || { cat users.$s; return 1; }
			sleep 0.1; i=$((i + 1))
		done || return 1
	done
'

test_expect_success 'a push to the master is stored and acknowledged' '
	mkdir -p spool/new spool/tmp &&
	cp pool/p000[1-5].cpu.pb.gz spool/new/ &&
	push_all ${url[$master]} push1.log &&
	ls spool/new >left && test_line_count = 0 left &&
	acked push1.log >acked1 &&
	test_line_count = 5 acked1
'

test_expect_success 'the replicas have them, and pp-query reads them there' '
	for s in a b c; do
		has_all $s acked1 || return 1
	done &&
	for s in $(others); do
		pp-query -d $s -u alice -l >list.$s &&
		test_line_count = 6 list.$s || return 1
	done
'

test_expect_success 'a replica answers a push 503, naming the master' '
	replica=$(others | head -n 1) &&
	cp pool/p0006.cpu.pb.gz spool/new/ &&
	test_expect_code 75 pp-push -s spool -u ${url[$replica]} \
		-T alice.token 2>err &&
	cat err &&
	grep "503" err &&
	grep "replica" err &&
	grep "the master is 127.0.0.1:${rport[$master]}" err &&
	ls spool/new >left && test_line_count = 1 left &&
	curl -s -i -X POST -H "Authorization: Bearer $(cat alice.token)" \
		--data-binary @pool/p0006.cpu.pb.gz \
		${url[$replica]}/v1/push >answer &&
	cat answer &&
	grep "^HTTP/1.1 503" answer &&
	grep -i "^Retry-After: [0-9]" answer &&
	push_all ${url[$master]} push6.log &&
	ls spool/new >left && test_line_count = 0 left
'

test_expect_success 'user administration on a replica is refused' '
	test_must_fail pp-recv -d $replica user add bob 2>err &&
	grep "replica" err
'

test_expect_success 'expiry at a replica deletes nothing, and says so' '
	pp-query -v -d $replica --expire 3650d 2>err &&
	grep "nothing expired here: this site is a replica" err &&
	pp-query -v -d $master --expire 3650d 2>err &&
	grep "deleted 0 profiles" err
'

test_expect_success 'without its replicas the master acknowledges nothing' '
	for s in $(others); do
		stop_service ${repl[$s]} || return 1
	done &&
	cp pool/p0007.cpu.pb.gz spool/new/ &&
	test_expect_code 75 pp-push -s spool -u ${url[$master]} \
		-T alice.token 2>err &&
	cat err &&
	grep "503" err &&
	ls spool/new >left && test_line_count = 1 left &&
	grep "not acknowledge" $master.recv.log
'

test_expect_success 'with them back, the same push is acknowledged' '
	for s in $(others); do
		start_daemon $s.repl2.log pp-recv -d $s -L $s.events replicate &&
		repl[$s]=$DAEMON_PID || return 1
	done &&
	push_all ${url[$master]} push0.log &&
	role $master | grep "this site is the master" &&
	ls spool/new >left && test_line_count = 0 left &&
	acked push0.log >acked0 &&
	test_line_count = 1 acked0 &&
	for s in a b c; do
		has_all $s acked0 || return 1
	done
'

# The client: moves a new profile into its spool (the pool's N, N+1...),
# pushes the spool to whichever site takes it (in the order of the file
# urls), its messages to LOG (default push2.log), again and again until
# the file "stop" appears.
cat >pusher.sh <<'EOF'
n=$1 log=${2:-push2.log}
while ! [ -e stop ]; do
	cp pool/p$(printf %04d $n).cpu.pb.gz spool/new/ || break
	n=$((n + 1))
	for u in $(cat urls); do
		pp-push -v -s spool -u "$u" -T alice.token 2>>$log && break
	done
	sleep 0.05
done
EOF

# start_pusher N LOG: runs pusher.sh from the pool's N on, LOG its
# messages, to the master first and then to the others; sets pusher.
start_pusher() {
	{
		echo ${url[$master]} &&
		for s in $(others); do
			echo ${url[$s]}
		done
	} >urls &&
	: >"$2" &&
	start_daemon pusher.$2 bash pusher.sh "$1" "$2" &&
	pusher=$DAEMON_PID
}

# stop_pusher: until the pusher has seen the file stop and ended.
stop_pusher() {
	local i=0
	touch stop &&
	while kill -0 $pusher 2>/dev/null; do
		[ $i -lt 600 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done &&
	stop_service $pusher &&
	rm -f stop
}

# A client that stalls mid-upload: sends a push's headers and the first
# bytes of its body to 127.0.0.1:PORT, writes its own port and waits; the
# pp-recv serving it holds the store open, reading the body.
cat >stall.pl <<'EOF'
use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or
    die "stall.pl: cannot connect: $!\n";
open(my $t, '<', 'alice.token') or die "stall.pl: alice.token: $!\n";
chomp(my $tok = <$t>);
$s->autoflush(1);
print $s "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    "Authorization: Bearer $tok\r\nContent-Length: 100000\r\n\r\n", "x" x 100;
$| = 1;
print $s->sockport, "\n";
sleep 60;
EOF

# handler PORT: the master's pp-recv serving the connection from the
# local port PORT, once it has the store open.
handler() {
	local inode pid
	inode=$(awk -v r="0100007F:$(printf %04X "$1")" \
	    '$3 == r { print $10 }' /proc/net/tcp)
	[ -n "$inode" ] || return 1
	for pid in $(pgrep -P ${inetd[$master]} pp-recv); do
		ls -l /proc/$pid/fd 2>/dev/null >fds.$pid || continue
		grep -q "socket:\[$inode\]" fds.$pid &&
		grep -q "__db.register" fds.$pid &&
		echo $pid && return 0
	done
	return 1
}

test_expect_success 'pp-recv killed mid-upload at the master: it stays the master' '
	start_pusher 250 push4.log &&
	wait_for push4.log "^pp-push: stored" 2 &&
	for k in 1 2; do
		restarts=$(count "starting replication again" $master.events) &&
		said=$(count "this site is the master" $master.events) &&
		start_daemon stall$k.log perl stall.pl ${url[$master]##*:} &&
		stall=$DAEMON_PID &&
		wait_for stall$k.log "^[0-9]+\$" &&
		i=0 &&
		until h=$(handler $(cat stall$k.log)); do
			[ $i -lt 300 ] || return 1
			sleep 0.05; i=$((i + 1))
		done &&
		kill -9 $h &&
		wait_for $master.events "starting replication again" $restarts &&
		wait_for $master.events "this site is the master" $said &&
		stop_service $stall || return 1
	done &&
	role $master | grep "this site is the master" &&
	for s in $(others); do
		! grep -E "this site is the master|won an election" $s.events ||
			return 1
	done &&
	wait_for push4.log "^pp-push: stored" \
		$(count "^pp-push: stored" push4.log) &&
	note "2 pp-recv killed mid-upload at the master: $(count "starting replication again" $master.events) recoveries there, the master still $master"
'

test_expect_success 'pp-recv killed at random moments at the master: pushes go on' '
	for k in 1 2 3; do
		before=$(count "^pp-push: stored" push4.log) &&
		i=0 &&
		until kids=$(pgrep -P ${inetd[$master]} pp-recv); do
			[ $i -lt 2000 ] || return 1
			sleep 0.005; i=$((i + 1))
		done &&
		sleep 0.0$((RANDOM % 4))$((RANDOM % 10)) &&
		{ kill -9 $kids 2>/dev/null || :; } &&
		wait_for push4.log "^pp-push: stored" $((before + 1)) ||
			return 1
	done &&
	stop_pusher &&
	now= &&
	for s in a b c; do
		if role $s | grep -q "this site is the master"; then
			now="$now $s"
		fi
	done &&
	set -- $now &&
	test $# = 1 &&
	if [ $1 = $master ]; then
		note "3 pp-recv killed at random moments: the master still $master"
	else
		note "3 pp-recv killed at random moments: the master moved from $master to $1 (a killed commit had reached the replicas only)"
		master=$1
	fi
'

test_expect_success 'every profile acknowledged meanwhile is on every site' '
	acked push1.log push6.log push0.log push4.log >acked4 &&
	note "$(wc -l <acked4) profiles acknowledged so far" &&
	for s in a b c; do
		has_all $s acked4 || return 1
	done
'

test_expect_success 'the master dies while a client pushes' '
	start_pusher 10 push2.log &&
	i=0 &&
	until [ $(acked push2.log | wc -l) -ge 5 ]; do
		[ $i -lt 300 ] || { cat pusher.push2.log push2.log; return 1; }
		sleep 0.1; i=$((i + 1))
	done &&
	role $master | grep "this site is the master" &&
	kill -9 ${repl[$master]} ${inetd[$master]} &&
	stop_service ${repl[$master]} &&
	stop_service ${inetd[$master]}
'

test_expect_success 'the others elect a new master; the pushes go on there' '
	i=0 &&
	while [ -z "$new" ]; do
		for s in $(others); do
			role $s | grep -q "this site is the master" && new=$s
		done
		[ -n "$new" ] && break
		[ $i -lt 600 ] || return 1
		sleep 0.1; i=$((i + 1))
	done &&
	echo "the new master is $new" &&
	before=$(acked push2.log | wc -l) &&
	i=0 &&
	until [ $(acked push2.log | wc -l) -ge $((before + 5)) ]; do
		[ $i -lt 600 ] || { cat pusher.push2.log push2.log; return 1; }
		sleep 0.1; i=$((i + 1))
	done &&
	stop_pusher
'

test_expect_success 'every acknowledged profile is on both survivors' '
	acked push1.log push2.log >acked2 &&
	cat acked2 &&
	for s in $(others); do
		has_all $s acked2 || return 1
	done
'

test_expect_success 'what was not acknowledged is pushed again, and arrives' '
	push_all ${url[$new]} push3.log &&
	ls spool/new >left && test_line_count = 0 left &&
	acked push1.log push2.log push3.log >acked3 &&
	for s in $(others); do
		has_all $s acked3 || return 1
	done
'

test_expect_success 'the replication processes stop on SIGTERM' '
	for s in $(others); do
		stop_service ${repl[$s]} &&
		grep "replication stopped" $s.events || return 1
	done
'

test_done
