#!/bin/sh
# p0001-render: pp-render against `go tool pprof`, the tool a user would pick
# instead, in the same run and on the same profiles.  For each of -f svg,
# -f top and -f dot on the shared pprof-large.cpu.pb.gz (and svg and top on
# the small pprof-sample.cpu.pb.gz, where start-up dominates) it runs each
# tool once to warm up, then N times alternating the two, and prints the
# median wall time, the median peak RSS and the ratios pp/pprof, with the
# targets: svg at most 0.5 of pprof's time, top at most 0.2, and peak memory
# no more than pprof's.  The large dot row and the small rows are context.
#
#	make bench                  (or)   sh t/perf/p0001-render.sh
#	PP_BENCH_RUNS=11 sh t/perf/p0001-render.sh
#	PP_SHARED_PROFILES=dir      where the profiles are (../shared/testdata/profiles)
#
# Wall time is taken with date +%s%N around GNU time, which gives the peak
# RSS (%M); the harness floor (timing /bin/echo) is printed so that the
# small-profile rows can be read against it.  pprof's RSS is the largest
# process of its tree (the go wrapper, pprof, and dot for -svg), not the sum.
# It reports and never fails on timing: it exits non-zero only when a tool
# does not run or writes no output.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd -P) || exit 1
shared=${PP_SHARED_PROFILES:-$src/../shared/testdata/profiles}
shared=$(cd "$shared" 2>/dev/null && pwd -P) || shared=${PP_SHARED_PROFILES:-$shared}
large=$shared/pprof-large.cpu.pb.gz
small=$shared/pprof-sample.cpu.pb.gz
runs=${PP_BENCH_RUNS:-5}
pp=$src/pp-render

die() { echo "p0001-render: $*" >&2; exit 1; }

if [ ! -f "$large" ] || [ ! -f "$small" ]; then
	echo "p0001-render: skipped: no profiles at $shared"
	exit 0
fi
case $runs in ''|*[!0-9]*|0) die "PP_BENCH_RUNS must be a positive integer: '$runs'";; esac
[ -x "$pp" ] || die "cannot run '$pp': run make first"
[ -x /usr/bin/time ] || die "cannot run '/usr/bin/time': install GNU time"
command -v go >/dev/null 2>&1 || die "cannot run 'go': install golang-go"
command -v dot >/dev/null 2>&1 || die "cannot run 'dot': install graphviz"

# A clean, private Go environment: nothing from the caller's go env, cache
# or home may change what `go tool pprof` does.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pp-p0001.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
mkdir "$tmp/home" "$tmp/run"
export HOME="$tmp/home" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath"
export GOFLAGS= GOENV=off GOTOOLCHAIN=local TZ=UTC LC_ALL=C
unset DEBUGINFOD_URLS PPROF_TMPDIR PPROF_TOOLS PPROF_BINARY_PATH
cd "$tmp/run" || exit 1

pprof_bin=$(go tool -n pprof) || die "cannot find 'go tool pprof'"
[ -x "$pprof_bin" ] || die "go tool pprof is not prebuilt at '$pprof_bin'"

# measure OUT CMD...: run CMD once with stdout to OUT, check that it wrote
# something (an <svg> for svg), and print "microseconds kilobytes".
measure() {
	out=$1; shift
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >"$out" 2>"$tmp/err" ||
		die "'$*' failed: $(tail -n 3 "$tmp/err")"
	t1=$(date +%s%N)
	[ -s "$out" ] || die "'$*' wrote nothing"
	case $out in *.svg) grep -q '<svg' "$out" || die "'$*' wrote no <svg>";; esac
	echo "$(( (t1 - t0) / 1000 )) $(tail -n 1 "$tmp/rss")"
}

# median COLUMN < lines: the median of one column of numbers.
median() {
	cut -d ' ' -f "$1" | sort -n | awk '{ v[NR] = $1 } END {
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# verdict RATIO LIMIT: "<=LIMIT PASS" or "<=LIMIT MISS"; "-" for no target.
verdict() {
	[ "$2" = - ] && { echo -; return; }
	awk -v r="$1" -v l="$2" 'BEGIN { printf "<=%s %s", l, (r <= l) ? "PASS" : "MISS" }'
}

# row NAME PROFILE FORMAT TIME-TARGET MEM-TARGET
row() {
	: >"$tmp/pp.m"; : >"$tmp/go.m"
	measure "$tmp/pp.$3" "$pp" -f "$3" "$2" >/dev/null
	measure "$tmp/go.$3" go tool pprof "-$3" -symbolize=none "$2" >/dev/null
	i=0
	while [ $i -lt "$runs" ]; do
		measure "$tmp/pp.$3" "$pp" -f "$3" "$2" >>"$tmp/pp.m"
		measure "$tmp/go.$3" go tool pprof "-$3" -symbolize=none "$2" >>"$tmp/go.m"
		i=$((i + 1))
	done
	pt=$(median 1 <"$tmp/pp.m") gt=$(median 1 <"$tmp/go.m")
	pm=$(median 2 <"$tmp/pp.m") gm=$(median 2 <"$tmp/go.m")
	rt=$(awk -v a="$pt" -v b="$gt" 'BEGIN { printf "%.3f", a / b }')
	rm=$(awk -v a="$pm" -v b="$gm" 'BEGIN { printf "%.2f", a / b }')
	awk -v n="$1" -v f="$3" -v pt="$pt" -v gt="$gt" -v rt="$rt" \
	    -v vt="$(verdict "$rt" "$4")" -v pm="$pm" -v gm="$gm" -v rm="$rm" \
	    -v vm="$(verdict "$rm" "$5")" 'BEGIN {
		printf "%-7s %-4s %8.3fs %8.3fs %6s  %-10s %7.1fM %7.1fM %5s  %s\n",
		    n, f, pt / 1e6, gt / 1e6, rt, vt, pm / 1024, gm / 1024, rm, vm }'
}

: >"$tmp/floor.m"
measure "$tmp/floor" echo x >/dev/null
i=0
while [ $i -lt "$runs" ]; do measure "$tmp/floor" echo x >>"$tmp/floor.m"; i=$((i + 1)); done

echo "# p0001-render: pp-render vs go tool pprof, median of $runs runs ($(go version | cut -d ' ' -f 3), $(nproc) cpus)"
printf '%-7s %-4s %9s %9s %6s  %-10s %8s %8s %5s  %s\n' profile fmt \
	pp pprof ratio target 'pp RSS' 'pprof' ratio target
row large "$large" svg 0.5 1
row large "$large" top 0.2 1
row large "$large" dot - -
row sample "$small" svg - -
row sample "$small" top - -
awk -v t="$(median 1 <"$tmp/floor.m")" 'BEGIN {
	printf "# harness floor (timing /bin/echo): %.3fs\n", t / 1e6 }'

# `go tool pprof` runs the prebuilt $GOTOOLDIR/pprof; it must not have
# built anything, or its first (warm-up) run would have paid for a compile.
if [ -n "$(find "$GOCACHE" -type f 2>/dev/null | head -n 1)" ]; then
	echo "# note: go tool pprof wrote to GOCACHE: it is not prebuilt ($pprof_bin)"
else
	echo "# go tool pprof is prebuilt ($pprof_bin); GOCACHE untouched"
fi
exit 0
