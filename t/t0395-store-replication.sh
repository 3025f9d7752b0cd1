#!/bin/bash
# A replicated store on loopback: three sites, each its own store, its
# replication process (pp-recv replicate) and its pp-recv under its own
# inetd. Pushes go to the master and reach the replicas; a replica answers
# a push 503 and the client keeps its profiles; without replicas to
# acknowledge it the master answers 503 too; then the master dies (its
# replication process and its inetd, SIGKILL) while a client keeps
# pushing, the two others elect a new master, the pushes go on there, and
# every profile that was acknowledged (200) is on both survivors.
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

# Short timeouts, so that a failover takes seconds, not tens of them.
TIMEOUTS='ack-timeout 2
election-timeout 1
election-retry 1
connection-retry 1
heartbeat 0.5'

# wait_for FILE ERE: until a line of FILE matches; at most some 60 s, and
# never a measure of how long it took.
wait_for() {
	local i=0
	while [ $i -lt 600 ]; do
		grep -E -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "wait_for: nothing like '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# role SITE: what SITE's replication process last said the site is.
role() {
	grep -E "this site is (the master|a replica)" $1.events | tail -n 1
}

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

test_expect_success 'setup: three sites elect a master' '
	mkdir pool &&
	for n in $(seq 1 300); do
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

# The client: moves a new profile into its spool, pushes the spool to
# whichever site takes it (in the order of the file urls), again and
# again until the file "stop" appears.
cat >pusher.sh <<'EOF'
n=$1
while ! [ -e stop ]; do
	cp pool/p$(printf %04d $n).cpu.pb.gz spool/new/ || break
	n=$((n + 1))
	for u in $(cat urls); do
		pp-push -v -s spool -u "$u" -T alice.token 2>>push2.log && break
	done
	sleep 0.05
done
EOF

test_expect_success 'the master dies while a client pushes' '
	{
		echo ${url[$master]} &&
		for s in $(others); do
			echo ${url[$s]}
		done
	} >urls &&
	: >push2.log &&
	start_daemon pusher.log bash pusher.sh 10 &&
	pusher=$DAEMON_PID &&
	i=0 &&
	until [ $(acked push2.log | wc -l) -ge 5 ]; do
		[ $i -lt 300 ] || { cat pusher.log push2.log; return 1; }
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
		[ $i -lt 600 ] || { cat pusher.log push2.log; return 1; }
		sleep 0.1; i=$((i + 1))
	done &&
	touch stop &&
	i=0 &&
	while kill -0 $pusher 2>/dev/null; do
		[ $i -lt 600 ] || return 1
		sleep 0.1; i=$((i + 1))
	done &&
	stop_service $pusher
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
