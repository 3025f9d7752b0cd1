#!/bin/bash
# contrib/ as documented, pointed at the built commands and at stores in
# the scratch directory: the inetd.conf line serves a push and a listing;
# the systemd units pass systemd-analyze verify, and pp-recv@.service's
# command serves one connection as Accept=yes would hand it over; each
# crontab line's command does its job as cron runs it.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

test -x "$SRC_ROOT/pp-recv" || skip_all 'pp-recv not built yet'

C=$SRC_ROOT/contrib
HOME=$TRASH_DIRECTORY/home
PP_SPOOL=$TRASH_DIRECTORY/spool
export HOME PP_SPOOL
unset PP_URL PP_HOME XDG_CONFIG_HOME XDG_STATE_HOME
mkdir -p "$HOME"

# serve LOG LAUNCH: runs the shell function LAUNCH in the background
# (stopped when the script ends), which execs a launcher that listens on
# 127.0.0.1:$port itself; true once it listens there. port is a free
# port, and another if someone takes it first.
serve() {
	local log=$1 try i
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		start_daemon "$log" "$2" || return 1
		i=0
		while [ $i -lt 200 ]; do
			_pp_listening "$DAEMON_PID" "$port" && return 0
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		stop_service "$DAEMON_PID"
	done
	echo "serve: $2 cannot listen on a loopback port:" >&2
	cat "$log" >&2
	return 1
}

# stored NAME FILE: the id pp-push -v reported NAME stored as, in FILE.
stored() {
	sed -n "s/^pp-push: stored '$1' as \\([0-9a-f]*\\)\$/\\1/p" "$2"
}

# profile NAME: a small profile of its own, NAME.pb.gz.
profile() {
	printf 'main;contrib;%s 3\n' "$1" | pp-test fromfolded >"$1.pb.gz"
}

test_expect_success 'setup: a store, a user' '
	mkdir store &&
	add_user alice &&
	mkdir -p "$HOME/.config/pp" &&
	cp alice.token "$HOME/.config/pp/token"
'

# The service line on loopback only, as the current user; inetd -d runs
# in the foreground, -E keeps the sanitizers' options.
launch_inetd() {
	sed "s/@PORT@/$port/" inetd.conf.in >inetd.conf &&
	exec "$PP_INETD" -d -E -i inetd.conf
}

if [ -x "$PP_INETD" ]; then
test_expect_success 'the inetd.conf line serves a push and a listing' '
	grep -v "^#" "$C/inetd.conf" | grep . >line &&
	test_line_count = 1 line &&
	sed -e "s|^8080[[:space:]]|127.0.0.1:@PORT@	|" \
		-e "s|[[:space:]]pp[[:space:]]|	$(id -un)	|" \
		-e "s|/usr/local/bin/pp-recv|$SRC_ROOT/pp-recv|" \
		-e "s|/var/lib/pp\$|$TRASH_DIRECTORY/store|" line >inetd.conf.in &&
	cat inetd.conf.in &&
	! grep -e 8080 -e /usr/local -e /var/lib -e "	pp	" inetd.conf.in &&
	serve inetd.log launch_inetd &&
	URL=http://127.0.0.1:$port &&
	profile viainetd &&
	pp-push -v -u "$URL" viainetd.pb.gz 2>err &&
	cat err &&
	id=$(stored viainetd.pb.gz err) &&
	test -n "$id" &&
	pp-query --remote "$URL" -l >list &&
	cat list &&
	grep "^$id " list &&
	pp-query -d store -l >local &&
	grep "^$id " local
'
else
	test_skip 'the inetd.conf line serves a push and a listing' "no $PP_INETD"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
test_expect_success 'the systemd units pass systemd-analyze verify' '
	mkdir units &&
	for u in pp-recv.socket pp-recv@.service pp-recv-replicate.service; do
		sed "s|^ExecStart=/usr/local/bin/|ExecStart=$SRC_ROOT/|" \
			"$C/$u" >units/$u || return 1
	done &&
	grep "^ExecStart=" units/* &&
	! grep "^ExecStart=/usr/local" units/* &&
	systemd-analyze verify --man=no units/pp-recv.socket \
		units/pp-recv@.service units/pp-recv-replicate.service 2>err &&
	test_line_count = 0 err
'
else
	test_skip 'the systemd units pass systemd-analyze verify' \
		'no systemd-analyze'
fi

# systemd-socket-activate --inetd -a does what Accept=yes with the
# socket on standard input and output does: one process a connection.
launch_socket() {
	exec systemd-socket-activate -l "127.0.0.1:$port" --inetd -a $(cat cmd)
}

if command -v systemd-socket-activate >/dev/null 2>&1; then
test_expect_success 'pp-recv@.service'"'"'s command serves a push' '
	sed -n "s|^ExecStart=/usr/local/bin/pp-recv -d /var/lib/pp\$|$SRC_ROOT/pp-recv -d $TRASH_DIRECTORY/store|p" \
		"$C/pp-recv@.service" >cmd &&
	test_line_count = 1 cmd &&
	serve socket.log launch_socket &&
	profile viasocket &&
	pp-push -v -u "http://127.0.0.1:$port" viasocket.pb.gz 2>err &&
	cat err &&
	id=$(stored viasocket.pb.gz err) &&
	test -n "$id" &&
	pp-query -d store -l >local &&
	grep "^$id " local
'
else
	test_skip 'pp-recv@.service'"'"'s command serves a push' \
		'no systemd-socket-activate'
fi

# cronline WORD: the command of contrib/crontab's line that runs WORD
# (the line less its five time fields), into cmd.
cronline() {
	grep -v "^#" "$C/crontab" | grep -F "$1 " >line &&
	test_line_count = 1 line &&
	grep -E "^([0-9*/,-]+[[:space:]]+){5}[^[:space:]]" line &&
	sed -E "s/^([^[:space:]]+[[:space:]]+){5}//" line >cmd
}

# cron CMD: runs CMD as cron does, with /bin/sh and a PATH of its own
# (the built commands stand for those make install puts in /usr/local/bin);
# what it prints, which cron would mail, goes to mail.
cron() {
	env PATH="$SRC_ROOT:/usr/bin:/bin" SHELL=/bin/sh /bin/sh -c "$1" >mail 2>&1
}

test_expect_success 'the crontab has the two lines this script checks' '
	grep -v "^#" "$C/crontab" | grep -v "^PATH=" | grep . >lines &&
	test_line_count = 2 lines
'

test_expect_success 'crontab, pp-push: quiet and keeps the spool while the receiver is away' '
	cronline pp-push &&
	grep -F "https://pp.example.com" cmd &&
	mkdir -p spool/new spool/tmp &&
	profile a && cp a.pb.gz spool/new/20260101T000000Z.a.cpu.pb.gz &&
	ls spool/new >before &&
	away=$(pick_port) &&
	cron "$(sed "s|https://pp.example.com|http://127.0.0.1:$away|" cmd)" &&
	test_line_count = 0 mail &&
	ls spool/new >left &&
	test_cmp before left &&
	: and pp-push itself exits 75 there &&
	test_expect_code 75 pp-push -u "http://127.0.0.1:$away" 2>err &&
	grep "cannot reach" err
'

if [ -n "${URL:-}" ]; then
test_expect_success 'crontab, pp-push: delivers the spool, quietly' '
	cron "$(sed "s|https://pp.example.com|$URL|" cmd)" &&
	test_line_count = 0 mail &&
	ls spool/new >left &&
	test_line_count = 0 left &&
	h=$(sha256sum <a.pb.gz | cut -c1-64) &&
	pp-query -d store -l -o json >list.json &&
	grep "\"sha256\": \"$h\"" list.json
'
else
	test_skip 'crontab, pp-push: delivers the spool, quietly' \
		'no receiver under inetd'
fi

test_expect_success 'crontab, pp-push: any other failure is mailed' '
	mv "$HOME/.config/pp/token" token.away &&
	cp a.pb.gz spool/new/20260101T000001Z.a.cpu.pb.gz &&
	cron "$(sed "s|https://pp.example.com|http://127.0.0.1:$(pick_port)|" cmd)" &&
	cat mail &&
	grep "^pp-push: no token" mail &&
	mv token.away "$HOME/.config/pp/token"
'

# ids: the ids of a pp-query -l -o json listing, youngest last.
ids() {
	awk '/^  "id": / { gsub(/[",]/, "", $2); id = $2 }
	    /^  "start_ns": / { sub(/,/, "", $2); print $2, id }' |
	sort -n | cut -d " " -f 2
}

# pp-store-fill: 28 records, one a day, from 28 days old to 1 day old
# (and the seconds since): the 13 younger than 14 days stay.
test_expect_success 'crontab, pp-query: expires two weeks quietly' '
	cronline pp-query &&
	grep -F " /var/lib/pp " cmd &&
	pp-store-fill old 1 1 28 28 &&
	pp-query -d old -l -o json | ids >before &&
	test_line_count = 28 before &&
	cron "$(sed "s| /var/lib/pp | $TRASH_DIRECTORY/old |" cmd)" &&
	test_line_count = 0 mail &&
	pp-query -d old -l -o json | ids >after &&
	tail -n 13 before >want &&
	test_cmp want after
'

# cron runs a user's crontab with PATH=/usr/bin:/bin (crontab(5)), and
# make install puts pp-push and pp-query in /usr/local/bin.
test_expect_success 'the crontab finds pp-push and pp-query on cron'"'"'s PATH' '
	grep -q "^PATH=.*/usr/local/bin" "$C/crontab" ||
	! grep -v "^#" "$C/crontab" | grep -E "(^|[[:space:](;|&])pp-(push|query) "
'

test_done
