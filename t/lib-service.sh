# t/lib-service.sh: services on loopback for the tests, run as inetd runs
# pp-recv: one process per connection, the connection on stdin and stdout.
# Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$TEST_DIRECTORY/lib-service.sh"
#	test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
#	test_expect_success 'a receiver' '
#		start_recv && add_user alice
#	'
#	test_expect_success 'push' '
#		pp-push -T alice.token ...
#	'
#
# start_service PROGRAM ARG...  serves PROGRAM on a free loopback port
#	under openbsd-inetd (inetd -d -i, in the background), or under
#	systemd-socket-activate when there is no inetd; sets SERVICE_PORT,
#	SERVICE_PID and SERVICE_URL.  The port is picked at random and
#	checked free; the service is up when the launcher itself listens on
#	it.  The launcher's messages go to $TRASH_DIRECTORY/service.PORT.log.
# stop_service PID	stops one (its running connections finish).
# start_recv		pp-recv -d $RECV_STORE -L $TRASH_DIRECTORY/recv.log
#	as a service (RECV_STORE defaults to $TRASH_DIRECTORY/store, kept
#	across restarts); sets RECV_PID, RECV_PORT and exports PP_URL.
# stop_recv		stops it.
# add_user NAME		pp-recv -d $RECV_STORE user add NAME; its token
#	(the last line of its output) into $TRASH_DIRECTORY/NAME.token, mode
#	600.
# pick_port		prints a loopback port that is free now (for a
#	program that listens by itself, such as a replication process).
# start_daemon LOG PROGRAM ARG...  runs a long-lived PROGRAM in the
#	background, its standard output and error to LOG; sets DAEMON_PID.
#	It is stopped (SIGTERM) with the services; stop_service PID stops
#	it earlier, kill -9 PID kills it (then stop_service PID forgets it).
#
# Every service still running is stopped when the script ends, however it
# ends: this file chains lib.sh's EXIT trap (test bodies still must not
# set one).  PP_INETD names the inetd to use (default /usr/sbin/inetd);
# PP_INETD_MAX how many connections a minute it starts before it takes the
# service for looping and stops it (default 10000).

PP_INETD=${PP_INETD:-/usr/sbin/inetd}
_pp_services=

test_have_inetd() {
	[ -x "$PP_INETD" ] ||
	command -v systemd-socket-activate >/dev/null 2>&1
}

# _pp_port_free PORT: nothing listens on 127.0.0.1:PORT now.
_pp_port_free() {
	perl -MIO::Socket::INET -e '
		IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => $ARGV[0], Proto => "tcp", Listen => 1)
		    or exit 1' "$1"
}

# _pp_listening PID PORT: PID holds a socket listening on 127.0.0.1:PORT
# (so the port is not someone else's).
_pp_listening() {
	local hex inode
	hex=$(printf '%04X' "$2")
	for inode in $(awk -v a="0100007F:$hex" \
	    '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp); do
		ls -l "/proc/$1/fd" 2>/dev/null |
		grep -q "socket:\[$inode\]" && return 0
	done
	return 1
}

start_service() {
	local try port pid i log= a prog=$1
	shift
	for a in "$prog" "$@"; do
		case $a in
		*[[:space:]]*)
			echo "start_service: inetd.conf cannot hold '$a'" >&2
			return 1
			;;
		esac
	done
	for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		port=$((20000 + RANDOM % 30000))
		_pp_port_free "$port" || continue
		log=$TRASH_DIRECTORY/service.$port.log
		if [ -x "$PP_INETD" ]; then
			# nowait.10000: inetd's default limit (256 starts a
			# minute, then 10 minutes off) is too low for tests.
			{
				printf '127.0.0.1:%s stream tcp nowait.%s ' \
					"$port" "${PP_INETD_MAX:-10000}"
				printf '%s %s %s' "$(id -un)" "$prog" \
					"$(basename "$prog")"
				[ $# = 0 ] || printf ' %s' "$@"
				echo
			} >"$TRASH_DIRECTORY/inetd.$port.conf"
			# -E: keep the environment (the sanitizers' options).
			"$PP_INETD" -d -E -i "$TRASH_DIRECTORY/inetd.$port.conf" \
				</dev/null >"$log" 2>&1 &
		else
			systemd-socket-activate -l "127.0.0.1:$port" --inetd -a \
				"$prog" "$@" </dev/null 2>"$log" &
		fi
		pid=$!
		i=0
		while [ $i -lt 200 ]; do
			_pp_listening "$pid" "$port" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		if _pp_listening "$pid" "$port"; then
			SERVICE_PID=$pid SERVICE_PORT=$port
			SERVICE_URL=http://127.0.0.1:$port
			_pp_services="$_pp_services $pid"
			return 0
		fi
		# Someone else took the port first: try another.
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "start_service: cannot serve $prog on a loopback port" >&2
	[ -s "$log" ] && cat "$log" >&2
	return 1
}

stop_service() {
	local p rest=
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in $_pp_services; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	_pp_services=$rest
	return 0
}

start_recv() {
	if ! [ -x "$SRC_ROOT/pp-recv" ]; then
		echo "start_recv: $SRC_ROOT/pp-recv is not built" >&2
		return 1
	fi
	RECV_STORE=${RECV_STORE:-$TRASH_DIRECTORY/store}
	mkdir -p "$RECV_STORE" &&
	start_service "$SRC_ROOT/pp-recv" -d "$RECV_STORE" \
		-L "$TRASH_DIRECTORY/recv.log" || return 1
	RECV_PID=$SERVICE_PID RECV_PORT=$SERVICE_PORT
	PP_URL=$SERVICE_URL
	export PP_URL
}

stop_recv() {
	stop_service "${RECV_PID:-}"
	RECV_PID=
}

add_user() {
	local out=$TRASH_DIRECTORY/$1.user-add token
	RECV_STORE=${RECV_STORE:-$TRASH_DIRECTORY/store}
	mkdir -p "$RECV_STORE" &&
	"$SRC_ROOT/pp-recv" -d "$RECV_STORE" user add "$1" >"$out" ||
		return 1
	token=$(tail -n 1 "$out")
	case $token in
	''|*[[:space:]]*)
		echo "add_user: no token on the last line of:" >&2
		cat "$out" >&2
		return 1
		;;
	esac
	(umask 077 && printf '%s\n' "$token" >"$TRASH_DIRECTORY/$1.token") &&
	chmod 600 "$TRASH_DIRECTORY/$1.token"
}

pick_port() {
	local try port
	for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		port=$((20000 + RANDOM % 30000))
		_pp_port_free "$port" || continue
		echo "$port"
		return 0
	done
	echo "pick_port: no free loopback port" >&2
	return 1
}

start_daemon() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1 &
	DAEMON_PID=$!
	_pp_services="$_pp_services $DAEMON_PID"
}

_pp_service_exit() {
	local code=$? p
	for p in $_pp_services; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_pp_services=
	(exit "$code")
	_pp_exit
}
trap _pp_service_exit EXIT
