#!/bin/bash
# contrib/demo.sh: what `make demo` runs. The whole of pp on one machine,
# without root and without a fixed port:
#
#	1. build contrib/demo/leaky.c, a program with a CPU hot spot
#	   (checksum) and a leak (log_request);
#	2. create a store and a user "demo" in a temporary directory, the
#	   user's token in a file of mode 600;
#	3. serve pp-recv on a free loopback port under openbsd-inetd (or
#	   systemd-socket-activate), as t/lib-service.sh does for the tests;
#	4. pp-record the program into a spool in the temporary directory;
#	5. pp-push the spool to that pp-recv;
#	6. pp-query --remote its heap and CPU profiles back;
#	7. pp-render report.svg (the call graph of the heap still in use:
#	   the leak) and flame.svg (the flame graph of the CPU time) into
#	   OUTDIR, and print their paths and what they show.
#
# The temporary directory is removed and the service stopped however the
# script ends: success, a failed step, or a signal.
#
#	contrib/demo.sh [OUTDIR]	(default $DEMO_OUT, else .)
#
# Environment: CC (the compiler, default cc); PP_RECORD, PP_PUSH, PP_RECV,
# PP_QUERY, PP_RENDER (the tools, default those built beside contrib/);
# PP_INETD (default /usr/sbin/inetd); TMPDIR.
# Progress goes to standard error, the results to standard output. Exit
# status: 0 on success, 1 when a step failed, 2 on bad usage, 128+N on
# signal N.

if [ -z "${BASH_VERSION:-}" ]; then
	echo 'demo: needs bash' >&2
	exit 1
fi

say() { printf 'demo: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

case ${1:-} in
-h|--help)
	echo 'usage: contrib/demo.sh [outdir]'
	exit 0
	;;
-*)
	echo 'usage: contrib/demo.sh [outdir]' >&2
	exit 2
	;;
esac
if [ $# -gt 1 ]; then
	echo 'usage: contrib/demo.sh [outdir]' >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd -P) || exit 1
CC=${CC:-cc}
PP_RECORD=${PP_RECORD:-$ROOT/pp-record}
PP_PUSH=${PP_PUSH:-$ROOT/pp-push}
PP_RECV=${PP_RECV:-$ROOT/pp-recv}
PP_QUERY=${PP_QUERY:-$ROOT/pp-query}
PP_RENDER=${PP_RENDER:-$ROOT/pp-render}
out=${1:-${DEMO_OUT:-.}}

# The launcher and its helpers: start_service, stop_service,
# test_have_inetd. They need $TRASH_DIRECTORY (set below) for their
# files; the EXIT trap the file sets is the tests' and replaced below.
. "$ROOT/t/lib-service.sh" || die "cannot read '$ROOT/t/lib-service.sh'"
trap - EXIT

for tool in "$PP_RECORD" "$PP_PUSH" "$PP_RECV" "$PP_QUERY" "$PP_RENDER"; do
	[ -x "$tool" ] && [ -f "$tool" ] ||
		die "cannot run '$tool': not built? (make all)"
done
test_have_inetd ||
	die "cannot serve pp-recv: neither '$PP_INETD' (apt-get install openbsd-inetd) nor systemd-socket-activate"
command -v "${CC%% *}" >/dev/null 2>&1 ||
	die "cannot find the C compiler '$CC'"
mkdir -p -- "$out" && out=$(cd -- "$out" && pwd -P) ||
	die "cannot use '$out' as the output directory"

tmp=
SERVICE_PID=

# Every process still running from the temporary directory: pp-recv's
# started by inetd before it was stopped, which end by themselves.
leftovers() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" != $$ ] || continue
		tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$tmp/" &&
			echo "$pid"
	done
}

cleanup() {
	local code=$? i=0 pids
	trap '' INT TERM HUP
	stop_service "$SERVICE_PID"
	if [ -n "$tmp" ]; then
		while pids=$(leftovers) && [ -n "$pids" ] && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		# Still there after 10 seconds: a pp-recv that is stuck.
		[ -z "$pids" ] || kill $pids 2>/dev/null
		rm -rf -- "$tmp"
	fi
	exit "$code"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pp-demo.XXXXXX") ||
	die 'cannot create a temporary directory'
TRASH_DIRECTORY=$tmp
store=$tmp/store token=$tmp/demo.token
export PP_SPOOL=$tmp/spool
unset PP_URL PP_HOME

say "building contrib/demo/leaky.c"
$CC -O2 -g -o "$tmp/leaky" "$ROOT/contrib/demo/leaky.c" ||
	die "cannot build '$ROOT/contrib/demo/leaky.c'"

say "creating a store and the user demo in $store"
mkdir -p "$store" && "$PP_RECV" -d "$store" user add demo >"$tmp/user-add" ||
	die "pp-recv user add failed"
(umask 077 && tail -n 1 "$tmp/user-add" >"$token") && chmod 600 "$token" ||
	die "cannot write the token into '$token'"

if [ -x "$PP_INETD" ]; then
	say "serving pp-recv on a loopback port under $PP_INETD"
else
	say "serving pp-recv on a loopback port under systemd-socket-activate"
fi
start_service "$PP_RECV" -d "$store" -L "$tmp/recv.log" ||
	die "cannot start pp-recv under inetd or systemd-socket-activate"
url=$SERVICE_URL
say "pp-recv answers at $url"

say "recording leaky (pp-record -- leaky)"
"$PP_RECORD" -l demo=leaky -- "$tmp/leaky" >&2 ||
	die "pp-record failed"

say "pushing the spool to $url (pp-push)"
"$PP_PUSH" -v -s "$PP_SPOOL" -T "$token" -u "$url" ||
	die "pp-push failed"

say "querying the receiver (pp-query --remote)"
"$PP_QUERY" --remote "$url" -T "$token" -l >&2 &&
"$PP_QUERY" --remote "$url" -T "$token" -p leaky -t heap >"$tmp/heap.pb.gz" &&
"$PP_QUERY" --remote "$url" -T "$token" -p leaky -t cpu >"$tmp/cpu.pb.gz" ||
	die "pp-query failed"
stop_service "$SERVICE_PID"
SERVICE_PID=

# first_row FILE: the heaviest row of pp-render -f top, as
# "NAME<TAB>FLAT<TAB>FLAT%".
first_row() {
	awk '/^ *flat  *flat%/ { getline; n = $6
		for (i = 7; i <= NF; i++) n = n " " $i
		printf "%s\t%s\t%s\n", n, $1, $2; exit }' "$1"
}

say "drawing $out/report.svg (the heap in use) and $out/flame.svg (CPU)"
"$PP_RENDER" -i inuse_space -o "$out/report.svg" "$tmp/heap.pb.gz" ||
	die "pp-render failed: cannot draw report.svg"
"$PP_RENDER" -f top -i inuse_space "$tmp/heap.pb.gz" >"$tmp/heap.top" &&
"$PP_RENDER" -f top "$tmp/cpu.pb.gz" >"$tmp/cpu.top" ||
	die "pp-render -f top failed"
IFS=$'\t' read -r leak leak_bytes leak_pct < <(first_row "$tmp/heap.top")
IFS=$'\t' read -r hot _ hot_pct < <(first_row "$tmp/cpu.top")
[ -n "$leak" ] && [ -n "$hot" ] ||
	die "cannot read pp-render -f top's report"
echo "report.svg: $out/report.svg (call graph of the heap in use)"

flame=1
"$PP_RENDER" -f flame -o "$out/flame.svg" "$tmp/cpu.pb.gz" || flame=
[ -z "$flame" ] ||
	echo "flame.svg: $out/flame.svg (flame graph of the CPU time)"
echo "leak: $leak holds $leak_bytes in use ($leak_pct of the heap)," \
	"CPU hot spot: $hot ($hot_pct of CPU time)"
[ -n "$flame" ] || die "pp-render -f flame failed: no flame.svg"
