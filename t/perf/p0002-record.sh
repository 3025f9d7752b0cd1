#!/bin/sh
# p0002-record: what pp-record costs the program it profiles, against the
# tools a user would pick instead, in the same run and on the same
# programs: gperftools (libprofiler's CPU profiler, tcmalloc's heap
# profiler), heaptrack and `perf record -g`.
#
#	make bench                  (or)   sh t/perf/p0002-record.sh
#	PP_BENCH_RUNS=11 sh t/perf/p0002-record.sh
#	PP_BENCH_CPU_STEPS=n        steps of bench-cpu's loop (default: ~2 s)
#	PP_BENCH_HEAP_ITERS=n       mallocs of the heap row (default 2*10^7)
#	PP_BENCH_HEAP_SMALL=n       mallocs of the small heap row (default 10^6)
#
# It compiles t/perf/bench-cpu.c (a multiply-add chain in spin(), a fixed
# number of steps a thread, ~2 s) and t/perf/bench-malloc.c (malloc/free of
# random sizes 16..4096 in churn(), ~2 MiB kept live in a ring of 1000
# blocks) into a temporary directory, and for each row runs every tool once
# to warm up, then N rounds, each running every tool once, in an order that
# turns by one each round.  It prints the median wall time and its ratio to
# the bare program's; where the time went: "main" is the ratio of the time
# the program spent from main() to its return (it prints both clocks) to
# the bare program's, "after" the wall time from that return to the tool's
# exit (flushing, symbolizing, writing the profile); the median peak RSS of
# the program itself (its VmHWM, which it prints at exit) and what the tool
# added to it.  The tree RSS is GNU time's %M around the whole command: the
# largest process of the tool's tree (pp-record or the program, perf,
# heaptrack's interpreter...), not the sum.
#
# Targets: pp-record --cpu at 100 Hz at most 1.01 of the bare time;
# --heap at the default rate at most 1.05, and with -m 1 at most 2; and
# no more than 4 MiB added to the program's peak RSS.  The agent keeps no
# table of sampled blocks in the program, only a 16-byte header on each
# live one, so the allowance for remembering them is under 16 KiB here
# (at most 1000 live blocks) and is not added.
#
# tcmalloc's heap profiler records every allocation and is far too slow for
# the full heap row (about a minute a run), so it runs only in the small
# row, where all the heap tools run on PP_BENCH_HEAP_SMALL mallocs and the
# tools' fixed costs weigh more; "tcmalloc" there is the program on
# tcmalloc without the profiler, to tell the allocator from the profiler.
# The start-up row runs bench-cpu with 0 steps: each tool's fixed cost.
#
# Every run is checked: the program's output must match the bare run's,
# pp-record's profile must show spin() or churn() as its top function
# (pp-render -f top), gperftools and perf must report samples, heaptrack
# must have seen every allocation and tcmalloc must have dumped a heap
# profile, so that a tool that profiles nothing is not timed as fast.  It
# reports and never fails on timing: it exits non-zero only when a tool
# does not run or writes no profile.  A tool that is not installed, or perf
# when the kernel does not let it run, is shown as unavailable.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd -P) || exit 1
runs=${PP_BENCH_RUNS:-5}
heap_iters=${PP_BENCH_HEAP_ITERS:-20000000}
heap_small=${PP_BENCH_HEAP_SMALL:-1000000}
cpu_steps=${PP_BENCH_CPU_STEPS:-}
pp=$src/pp-record
render=$src/pp-render
gplib=/usr/lib/x86_64-linux-gnu
profiler=$gplib/libprofiler.so.0
tcmalloc=$gplib/libtcmalloc.so.4

die() { echo "p0002-record: $*" >&2; exit 1; }

for v in "$runs" "$heap_iters" "$heap_small" ${cpu_steps:+"$cpu_steps"}; do
	case $v in ''|*[!0-9]*|0) die "PP_BENCH_* must be positive integers: '$v'";; esac
done
[ -x "$pp" ] && [ -x "$render" ] && [ -f "$src/libpp-agent.so" ] ||
	die "cannot run '$pp': run make first"
[ -x /usr/bin/time ] || die "cannot run '/usr/bin/time': install GNU time"
command -v cc >/dev/null 2>&1 || die "cannot run 'cc': install a C compiler"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pp-p0002.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
export TZ=UTC LC_ALL=C PP_AGENT_LIB="$src/libpp-agent.so"
unset LD_PRELOAD PP_SPOOL CPUPROFILE CPUPROFILE_FREQUENCY HEAPPROFILE \
	DEBUGINFOD_URLS
cd "$tmp" || exit 1

cc -O2 -g -o bench-cpu "$src/t/perf/bench-cpu.c" -lpthread &&
cc -O2 -g -o bench-malloc "$src/t/perf/bench-malloc.c" ||
	die "cannot compile the benchmark programs"

# Why a tool cannot run here, or nothing.
unavailable() {
	case $1 in
	gperf-cpu) [ -f "$profiler" ] || echo "not installed: $profiler";;
	gperf-heap|tcmalloc) [ -f "$tcmalloc" ] || echo "not installed: $tcmalloc";;
	heaptrack) command -v heaptrack >/dev/null 2>&1 || echo "not installed";;
	perf) echo "$perf_why";;
	esac
}

perf_why=
if ! command -v perf >/dev/null 2>&1; then
	perf_why="not installed"
elif ! perf record -g -F 100 -o "$tmp/probe.data" -- true \
    >/dev/null 2>"$tmp/probe.err"; then
	perf_why="$(grep -m 1 -i -e error -e denied -e 'not supported' \
	    "$tmp/probe.err" | tr -s ' \t' ' ' | cut -c 1-60)"
	perf_why="${perf_why:-perf record failed}; kernel.perf_event_paranoid=$(
	    cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)"
fi
perf_event=$( [ -z "$perf_why" ] && perf evlist -i "$tmp/probe.data" 2>/dev/null |
	head -n 1)
rm -f "$tmp/probe.data" "$tmp/probe.err"

# top FILE [pp-render options]: the function at the top of pp-render -f top.
top() {
	f=$1; shift
	"$render" -f top "$@" "$f" 2>/dev/null |
		awk 'hdr { print $6; exit } /flat%/ { hdr = 1 }'
}

# check TOOL PROG ARGS: what the run left in out/, stdout and err is real.
check() {
	tool=$1 prog=$2 args=$3 what="'$tool $prog $args'"
	grep -qx "$(grep '^sum ' "$tmp/expect.$prog.$args" 2>/dev/null ||
	    grep '^sum ' stdout)" stdout || die "$what: the program's output differs"
	[ "$args" = "1 0" ] && return 0
	case $prog in bench-cpu) hot=spin;; *) hot=churn;; esac
	case $tool in
	pp-*)
		set -- out/$prog.*.pb.gz
		[ -s "$1" ] || die "$what: pp-record wrote no profile: $(tail -n 2 err)"
		case $prog in bench-cpu) opt=;; *) opt="-i alloc_space";; esac
		t=$(top "$1" $opt)
		[ "$t" = "$hot" ] || die "$what: the profile's top function is '$t', not $hot"
		lost=$(sed -n 's/.*: \([0-9]*\) samples and \([0-9]*\) frees were lost.*/\1 \2/p' err)
		echo "${lost:-0 0}" >>"lost.$tool";;
	gperf-cpu)
		n=$(sed -n 's,^PROFILE: interrupts/evictions/bytes = \([0-9]*\)/.*,\1,p' err)
		[ -s out/cpu.prof ] && [ "${n:-0}" -gt 0 ] ||
			die "$what: libprofiler took no samples: $(tail -n 2 err)";;
	perf)
		n=$(sed -n 's/.*(\([0-9]*\) samples).*/\1/p' err)
		[ -s out/perf.data ] && [ "${n:-0}" -gt 0 ] ||
			die "$what: perf took no samples: $(tail -n 2 err)";;
	heaptrack)
		n=$(cat stdout err | sed -n 's/^[[:space:]]*allocations:[[:space:]]*\([0-9]*\).*/\1/p')
		set -- out/ht.*
		[ -s "$1" ] && [ "${n:-0}" -ge "$args" ] ||
			die "$what: heaptrack saw ${n:-no} allocations of $args"
		;;
	gperf-heap)
		set -- out/heap.*.heap
		[ -s "$1" ] && head -n 1 "$1" | grep -q '^heap profile:' ||
			die "$what: tcmalloc wrote no heap profile: $(tail -n 2 err)";;
	esac
}

# measure TOOL PROG ARGS: run PROG ARGS under TOOL once, check it, and
# print "microseconds tree-kB program-kB main()-microseconds
# after-main()-microseconds".
measure() {
	tool=$1 prog=$2 args=$3
	rm -rf out && mkdir out || exit 1
	case $tool in
	bare)	set -- ./$prog;;
	pp-cpu)	set -- "$pp" -o out --cpu -- ./$prog;;
	pp-heap) set -- "$pp" -o out --heap -- ./$prog;;
	pp-heap1) set -- "$pp" -o out -m 1 --heap -- ./$prog;;
	gperf-cpu) set -- env LD_PRELOAD="$profiler" CPUPROFILE=out/cpu.prof \
		CPUPROFILE_FREQUENCY=100 ./$prog;;
	perf)	set -- perf record -g -F 100 -o out/perf.data -- ./$prog;;
	heaptrack) set -- heaptrack -o out/ht ./$prog;;
	gperf-heap) set -- env LD_PRELOAD="$tcmalloc" HEAPPROFILE="$tmp/out/heap" ./$prog;;
	tcmalloc) set -- env LD_PRELOAD="$tcmalloc" ./$prog;;
	esac
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o rss "$@" $args >stdout 2>err ||
		die "'$* $args' failed: $(tail -n 3 err)"
	t1=$(date +%s%N)
	check "$tool" "$prog" "$args"
	awk -v t0="$t0" -v t1="$t1" -v m="$(tail -n 1 rss)" '
		$1 == "vmhwm" { kb = $2 } $1 == "main" { a = $2; b = $3 }
		END { printf "%d %d %d %d %d\n", (t1 - t0) / 1000, m, kb,
			(b - a) / 1000, (t1 - b) / 1000 }' stdout
}

# median COLUMN < lines: the median of one column of numbers.
median() {
	cut -d ' ' -f "$1" | sort -n | awk '{ v[NR] = $1 } END {
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# verdict VALUE LIMIT: "<=LIMIT PASS" or "<=LIMIT MISS"; "-" for no target.
verdict() {
	[ "$2" = - ] && { echo -; return; }
	awk -v r="$1" -v l="$2" 'BEGIN { printf "<=%s %s", l, (r <= l + 0) ? "PASS" : "MISS" }'
}

label() {
	case $1 in
	bare) echo bare;; pp-cpu) echo "pp-record --cpu";;
	pp-heap) echo "pp-record --heap";; pp-heap1) echo "pp-record -m 1";;
	gperf-cpu) echo "gperftools cpu";; perf) echo "perf record -g";;
	heaptrack) echo heaptrack;; gperf-heap) echo "gperftools heap";;
	tcmalloc) echo "tcmalloc (no prof)";;
	esac
}

# row NAME PROG ARGS TOOL:TIME-TARGET:MEM-TARGET...: the first tool is bare.
row() {
	name=$1 prog=$2 args=$3; shift 3
	tools=
	for t in "$@"; do
		t=${t%%:*}
		why=$(unavailable "$t")
		if [ -n "$why" ]; then
			printf '%s\t%s\n' "$t" "$why" >>unavail
		else
			tools="$tools $t"
		fi
	done
	# The bare run's output is what every tool's run must print.
	measure bare "$prog" "$args" >/dev/null && cp stdout "expect.$prog.$args"
	for t in $tools; do
		: >"m.$t"
		measure "$t" "$prog" "$args" >/dev/null
		rm -f "lost.$t"
	done
	i=0
	while [ $i -lt "$runs" ]; do
		set -- $tools
		j=0
		while [ $j -lt $((i % $#)) ]; do
			x=$1; shift; set -- "$@" "$x"; j=$((j + 1))
		done
		for t; do measure "$t" "$prog" "$args" >>"m.$t"; done
		i=$((i + 1))
	done
	bt=$(median 1 <m.bare) bm=$(median 3 <m.bare) bi=$(median 4 <m.bare)
	for t in $tools; do
		tt=- mt=-
		for spec in $row_specs; do
			[ "${spec%%:*}" = "$t" ] || continue
			tt=$(echo "$spec" | cut -d : -f 2) mt=$(echo "$spec" | cut -d : -f 3)
		done
		pt=$(median 1 <"m.$t") pm=$(median 3 <"m.$t") tm=$(median 2 <"m.$t")
		pi=$(median 4 <"m.$t") pa=$(median 5 <"m.$t")
		ri=$(awk -v a="$pi" -v b="$bi" 'BEGIN {
			if (b < 1000) print "-"; else printf "%.3f", a / b }')
		if [ "$t" = bare ]; then
			r=- vt=- add=- vm=-
		else
			r=$(awk -v a="$pt" -v b="$bt" 'BEGIN { printf "%.3f", a / b }')
			vt=$(verdict "$r" "$tt")
			add=$(awk -v a="$pm" -v b="$bm" 'BEGIN { printf "%+.2fM", (a - b) / 1024 }')
			vm=$(verdict "$(awk -v a="$pm" -v b="$bm" 'BEGIN { print (a - b) / 1024 }')" "$mt")
		fi
		awk -v n="$name" -v l="$(label "$t")" -v pt="$pt" -v r="$r" -v vt="$vt" \
		    -v pm="$pm" -v add="$add" -v vm="$vm" -v tm="$tm" -v ri="$ri" \
		    -v pa="$pa" 'BEGIN {
			printf "%-14s %-18s %7.3fs %7s  %-12s %6s %5dms %5.1fM %6s  %-9s %6.1fM\n",
			    n, l, pt / 1e6, r, vt, ri, pa / 1000, pm / 1024, add, vm, tm / 1024 }'
		if [ -s "lost.$t" ]; then
			awk -v n="$name" -v l="$(label "$t")" '{ s += $1; k++ }
			    $1 > 0 { m = $1 > m ? $1 : m; j++ }
			    END { if (j) printf "# %s, %s: samples lost (the recorder did not keep up) in %d of %d runs, %d a run on average, at most %d\n",
				n, l, j, k, s / k, m }' "lost.$t" >>notes
			rm -f "lost.$t"
		fi
	done
	if [ -s unavail ]; then
		tab=$(printf '\t')
		while IFS=$tab read -r t why; do
			printf '%-14s %-18s unavailable (%s)\n' "$name" "$(label "$t")" "$why"
		done <unavail
		rm -f unavail
	fi
}

# Steps of bench-cpu's loop for about 2 s of one thread's CPU time.
if [ -z "$cpu_steps" ]; then
	best=
	for k in 1 2 3; do
		t0=$(date +%s%N); ./bench-cpu 1 200000000 >/dev/null; t1=$(date +%s%N)
		t=$(( (t1 - t0) / 1000 ))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	cpu_steps=$(awk -v t="$best" 'BEGIN { printf "%d", 200000000 * 2e6 / t }')
fi

load0=$(cut -d ' ' -f 1-3 /proc/loadavg)
echo "# p0002-record: pp-record vs gperftools, heaptrack, perf record; median of $runs runs ($(nproc) cpus, load average $load0)"
echo "# cpu: bench-cpu THREADS $cpu_steps (a fixed number of steps a thread); heap: bench-malloc ITERATIONS"
printf '%-14s %-18s %8s %7s  %-12s %6s %7s %6s %6s  %-9s %7s\n' workload tool \
	time ratio target main after RSS added target tree
: >notes
row_specs="pp-cpu:1.01:4M"
row "cpu 1 thr" bench-cpu "1 $cpu_steps" bare pp-cpu gperf-cpu perf
row "cpu 2 thr" bench-cpu "2 $cpu_steps" bare pp-cpu gperf-cpu perf
row_specs="pp-heap:1.05:4M pp-heap1:2:4M"
row "heap $heap_iters" bench-malloc "$heap_iters" bare pp-heap pp-heap1 heaptrack
row_specs=
row "heap $heap_small" bench-malloc "$heap_small" bare pp-heap pp-heap1 \
	heaptrack gperf-heap tcmalloc
row "start-up" bench-cpu "1 0" bare pp-cpu pp-heap gperf-cpu perf heaptrack
cat notes
[ -n "$perf_event" ] && echo "# perf record's event: $perf_event"
echo "# load average at the end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
exit 0
