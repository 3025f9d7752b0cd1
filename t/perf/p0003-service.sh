#!/bin/sh
# p0003-service: the store's side of pp, in the same run, against what a
# user would compare it with.
#
#  1. Uploads a second through openbsd-inetd on loopback, two clients at
#     once, each POSTing its own list of distinct small profiles (pp-test
#     scale of t/data/hotspot.cpu.pb.gz), a new connection each:
#     pp-recv against the same inetd running t/perf/discard.c, which only
#     reads the request and answers 200, the floor of inetd, fork, exec and
#     the client.  Target: pp-recv at least half the discard rate.  pp-recv
#     gets an empty store for every run, and after every run the store
#     must hold exactly the profiles uploaded (else it exits 1).
#  2. Listing one owner's last hour (pp-query -u u7 --since 1h -l) in a
#     store of 1,000,000 records against one of 10,000, both filled by
#     t/helper/pp-store-fill with the same shape (100 owners, 10 programs,
#     14 days, 1000 hosts), only the count differs; so the big store's
#     hour holds 100 times the records of the small one's: some 30 rows
#     against none or one (the rows are printed), and the small listing's
#     time is mostly that of starting pp-query and opening the store.
#     Target: the big listing at most twice the small one's time: its
#     cost must follow the rows returned, not the store.  Then
#     one host's profiles over every owner and all 14 days (pp-query -H)
#     in the big store through the host index, against the same store
#     without it (as one made before the index: every record read); no
#     target, the ratio shows what the index saves.
#  3. Merging 100 stored profiles (pp-test scale 1.01 .. 2.00 of the shared
#     pprof-large.cpu.pb.gz, stored by piping one POST each into pp-recv):
#     pp-query -u U -t cpu against `go tool pprof -proto` on the same 100
#     files.  Target: at most a fifth of pprof's time.  Both outputs must
#     show the same totals in `go tool pprof -top` (else it exits 1).
#
#	make bench                  (or)   sh t/perf/p0003-service.sh
#	PP_BENCH_RUNS=11            runs of each measure (default 5)
#	PP_BENCH_BIG=n              records of the big store (default 1000000:
#	                            ~45 s and ~500 MB to fill, in $TMPDIR)
#	PP_BENCH_UPLOADS=n          uploads per client (default 300)
#	PP_SHARED_PROFILES=dir      where pprof-large.cpu.pb.gz is
#	PP_INETD=path               openbsd-inetd (default /usr/sbin/inetd)
#	PP_BENCH_ONLY=list          only these measures, of uploads, listing
#	                            and merge (default all three)
#
# Each measure runs N times, the two sides alternating (and once each to
# warm up, except pprof's merge, whose first timed run is the check: its
# files are fresh in the page cache and its binary prebuilt); it prints
# medians and ratios.  The programs are copied into the temporary
# directory first, so that a rebuild in another shell during the run
# cannot change them half-way.  It reports and never fails on timing: it
# exits non-zero only when something does not work.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd -P) || exit 1
shared=${PP_SHARED_PROFILES:-$src/../shared/testdata/profiles}
shared=$(cd "$shared" 2>/dev/null && pwd -P) || shared=${PP_SHARED_PROFILES:-$shared}
large=$shared/pprof-large.cpu.pb.gz
hotspot=$src/t/data/hotspot.cpu.pb.gz
runs=${PP_BENCH_RUNS:-5}
big=${PP_BENCH_BIG:-1000000}
small=10000
nup=${PP_BENCH_UPLOADS:-300}
inetd=${PP_INETD:-/usr/sbin/inetd}
nmerge=100

die() { echo "p0003-service: $*" >&2; exit 1; }

for v in "$runs" "$big" "$nup"; do
	case $v in ''|*[!0-9]*|0) die "PP_BENCH_* must be positive integers: '$v'";; esac
done
for p in pp-recv pp-query t/helper/pp-store-fill t/helper/pp-store-old \
    t/helper/pp-test; do
	[ -x "$src/$p" ] || die "cannot run '$src/$p': run make first"
done
[ -x /usr/bin/time ] || die "cannot run '/usr/bin/time': install GNU time"
command -v cc >/dev/null 2>&1 || die "cannot run 'cc': install a C compiler"
command -v go >/dev/null 2>&1 || die "cannot run 'go': install golang-go"
command -v perl >/dev/null 2>&1 || die "cannot run 'perl'"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pp-p0003.XXXXXX") || exit 1
inetd_pid=
cleanup() {
	[ -n "$inetd_pid" ] && kill "$inetd_pid" 2>/dev/null && wait "$inetd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
mkdir "$tmp/bin" "$tmp/home" "$tmp/run" "$tmp/up" "$tmp/list" "$tmp/merge" ||
	exit 1
export HOME="$tmp/home" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath"
export GOFLAGS= GOENV=off GOTOOLCHAIN=local TZ=UTC LC_ALL=C
unset DEBUGINFOD_URLS PPROF_TMPDIR PPROF_TOOLS PPROF_BINARY_PATH PP_HOME
cd "$tmp/run" || exit 1

cp "$src/pp-recv" "$src/pp-query" "$src/t/helper/pp-store-fill" \
	"$src/t/helper/pp-store-old" "$src/t/helper/pp-test" "$tmp/bin/" ||
	die "cannot copy the programs"
bin=$tmp/bin
cc -O2 -g -o "$bin/discard" "$src/t/perf/discard.c" &&
cc -O2 -g -o "$bin/upload" "$src/t/progs/upload.c" -lcurl ||
	die "cannot compile the benchmark programs"

# median COLUMN < lines: the median of one column of numbers.
median() {
	cut -d ' ' -f "$1" | sort -n | awk '{ v[NR] = $1 } END {
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# verdict RATIO OP LIMIT: "OPLIMIT PASS" or "OPLIMIT MISS" (OP <= or >=).
verdict() {
	awk -v r="$1" -v o="$2" -v l="$3" 'BEGIN {
		ok = o == "<=" ? r <= l + 0 : r >= l + 0
		printf "%s%s %s", o, l, ok ? "PASS" : "MISS" }'
}

# measure OUT CMD...: run CMD once with stdout to OUT and print
# "microseconds kilobytes" (wall time, peak RSS).
measure() {
	out=$1; shift
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >"$out" 2>"$tmp/err" ||
		die "'$*' failed: $(tail -n 3 "$tmp/err")"
	t1=$(date +%s%N)
	echo "$(( (t1 - t0) / 1000 )) $(tail -n 1 "$tmp/rss")"
}

# count_listed < pp-query -l output: the rows (lines starting with an id).
count_listed() {
	grep -c '^[0-9a-f]\{16\} '
}

# row NAME PP OTHER RATIO TARGET
row() {
	printf '%-36s %11s %11s %7s  %s\n' "$1" "$2" "$3" "$4" "$5"
}

echo "# p0003-service: median of $runs runs ($(nproc) cpus, load average $(cut -d ' ' -f 1-3 /proc/loadavg), $(go version | cut -d ' ' -f 3))"
: >"$tmp/notes"
: >"$tmp/table"

# ---- 1. uploads through inetd ---------------------------------------

# port_free PORT: nothing listens on 127.0.0.1:PORT now.
port_free() {
	perl -MIO::Socket::INET -e '
		IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => $ARGV[0], Proto => "tcp", Listen => 1)
		    or exit 1' "$1"
}

# listening PID PORT: PID holds a socket listening on 127.0.0.1:PORT.
listening() {
	hex=$(printf '%04X' "$2")
	for inode in $(awk -v a="0100007F:$hex" \
	    '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp); do
		ls -l "/proc/$1/fd" 2>/dev/null |
		grep -q "socket:\[$inode\]" && return 0
	done
	return 1
}

# start_inetd: one inetd serving pp-recv on recv_port and discard on
# discard_port, two free loopback ports picked at random.  nowait.100000:
# the default (256 starts a minute, then 10 minutes off) is far too low.
start_inetd() {
	user=$(id -un)
	for try in 1 2 3 4 5 6 7 8 9 10; do
		p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		recv_port=$((20000 + p % 30000)) discard_port=$((20001 + p % 30000))
		port_free "$recv_port" && port_free "$discard_port" || continue
		{
			printf '127.0.0.1:%s stream tcp nowait.100000 %s %s pp-recv -d %s -L %s\n' \
			    "$recv_port" "$user" "$bin/pp-recv" "$tmp/up/store" \
			    "$tmp/up/recv.log"
			printf '127.0.0.1:%s stream tcp nowait.100000 %s %s discard\n' \
			    "$discard_port" "$user" "$bin/discard"
		} >"$tmp/up/inetd.conf"
		"$inetd" -d -i "$tmp/up/inetd.conf" </dev/null \
			>"$tmp/up/inetd.log" 2>&1 &
		inetd_pid=$!
		i=0
		while [ $i -lt 200 ]; do
			listening "$inetd_pid" "$recv_port" &&
			listening "$inetd_pid" "$discard_port" && return 0
			kill -0 "$inetd_pid" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		kill "$inetd_pid" 2>/dev/null
		wait "$inetd_pid" 2>/dev/null
		inetd_pid=
	done
	die "cannot start inetd on loopback: $(tail -n 3 "$tmp/up/inetd.log")"
}

# upload_run recv|discard: both clients at once; prints "uploads/s".
# pp-recv starts from an empty store, and must hold every upload after.
upload_run() {
	if [ "$1" = recv ]; then
		rm -rf "$tmp/up/store" && mkdir "$tmp/up/store" || exit 1
		"$bin/pp-recv" -d "$tmp/up/store" user add bench \
			>"$tmp/up/user" 2>&1 ||
			die "cannot add a user: $(tail -n 2 "$tmp/up/user")"
		tail -n 1 "$tmp/up/user" >"$tmp/up/token"
		port=$recv_port
	else
		port=$discard_port
	fi
	url=http://127.0.0.1:$port/v1/push
	"$bin/upload" -s "$url" "$tmp/up/token" "$tmp/up/list.1" \
		>"$tmp/up/out.1" 2>"$tmp/up/err.1" &
	c1=$!
	"$bin/upload" -s "$url" "$tmp/up/token" "$tmp/up/list.2" \
		>"$tmp/up/out.2" 2>"$tmp/up/err.2" &
	c2=$!
	wait "$c1"; s1=$?
	wait "$c2"; s2=$?
	if [ "$s1" != 0 ] || [ "$s2" != 0 ]; then
		cat "$tmp/up/err.1" "$tmp/up/err.2" >&2
		[ "$1" = recv ] && tail -n 5 "$tmp/up/recv.log" >&2
		die "uploads to $1 failed"
	fi
	if [ "$1" = recv ]; then
		n=$("$bin/pp-query" -d "$tmp/up/store" -l | count_listed)
		[ "$n" = $((2 * nup)) ] ||
			die "pp-recv's store holds ${n:-no} profiles after $((2 * nup)) uploads"
	fi
	# The span from the first client's first upload to the last's end.
	awk '{ n += $2; if (s == "" || $3 < s) s = $3; if ($4 > e) e = $4 }
		END { printf "%.1f\n", n / ((e - s) / 1e9) }' \
		"$tmp/up/out.1" "$tmp/up/out.2"
}

# only NAME: the measure NAME was asked for.
only() {
	case " ${PP_BENCH_ONLY:-uploads listing merge} " in
	*" $1 "*) return 0;;
	esac
	return 1
}

if ! only uploads; then
	:
elif [ ! -x "$inetd" ]; then
	row "uploads/s, 2 clients (inetd)" - - - "unavailable (no $inetd)" >>"$tmp/table"
else
	# 2 x nup distinct profiles: every value of hotspot scaled.
	awk -v n=$((2 * nup)) 'BEGIN { for (i = 1; i <= n; i++)
		printf "%d %.4f\n", i, 1 + i / (2 * n) }' |
	while read -r i r; do
		"$bin/pp-test" scale "$r" <"$hotspot" >"$tmp/up/h$i.pb.gz" ||
			exit 1
		echo "$tmp/up/h$i.pb.gz" >>"$tmp/up/list.$(( (i - 1) / nup + 1 ))"
	done || die "cannot make the upload profiles"
	[ "$(sha256sum "$tmp/up"/h*.pb.gz | cut -d ' ' -f 1 | sort -u | wc -l)" = $((2 * nup)) ] ||
		die "the $((2 * nup)) upload profiles are not distinct"
	echo x >"$tmp/up/token"
	start_inetd
	upload_run recv >/dev/null
	upload_run discard >/dev/null
	: >"$tmp/up/m.recv"; : >"$tmp/up/m.discard"
	i=0
	while [ $i -lt "$runs" ]; do
		if [ $((i % 2)) = 0 ]; then
			upload_run recv >>"$tmp/up/m.recv"
			upload_run discard >>"$tmp/up/m.discard"
		else
			upload_run discard >>"$tmp/up/m.discard"
			upload_run recv >>"$tmp/up/m.recv"
		fi
		i=$((i + 1))
	done
	kill "$inetd_pid" 2>/dev/null
	wait "$inetd_pid" 2>/dev/null
	inetd_pid=
	ur=$(median 1 <"$tmp/up/m.recv") ud=$(median 1 <"$tmp/up/m.discard")
	r=$(awk -v a="$ur" -v b="$ud" 'BEGIN { printf "%.3f", a / b }')
	row "uploads/s, 2 clients x $nup (inetd)" "${ur}/s" "${ud}/s" "$r" \
		"$(verdict "$r" ">=" 0.5)" >>"$tmp/table"
	echo "# uploads: pp-recv vs discard.c under the same inetd; pp-recv stored all $((2 * nup)) in every run; profiles of $(wc -c <"$tmp/up/h1.pb.gz") bytes" >>"$tmp/notes"
	rm -rf "$tmp/up"
fi

# ---- 2. listing the last hour in a big store --------------------------

# fill DIR COUNT: fill a store with pp-store-fill; prints the seconds.
fill() {
	t0=$(date +%s%N)
	"$bin/pp-store-fill" "$1" 100 10 "$2" 14 1000 >/dev/null 2>"$tmp/err" ||
		die "pp-store-fill $2 failed: $(tail -n 3 "$tmp/err")"
	t1=$(date +%s%N)
	awk -v t=$((t1 - t0)) 'BEGIN { printf "%.1f\n", t / 1e9 }'
}

if only listing; then
fs=$(fill "$tmp/list/small" "$small") || exit 1
fb=$(fill "$tmp/list/big" "$big") || exit 1
szs=$(du -sm "$tmp/list/small" | cut -f 1)
szb=$(du -sm "$tmp/list/big" | cut -f 1)
lq() { measure "$tmp/list/out.$1" "$bin/pp-query" -d "$tmp/list/$1" -u u7 --since 1h -l; }
lq small >/dev/null
lq big >/dev/null
: >"$tmp/list/m.small"; : >"$tmp/list/m.big"
i=0
while [ $i -lt "$runs" ]; do
	if [ $((i % 2)) = 0 ]; then
		lq small >>"$tmp/list/m.small"; lq big >>"$tmp/list/m.big"
	else
		lq big >>"$tmp/list/m.big"; lq small >>"$tmp/list/m.small"
	fi
	i=$((i + 1))
done
rs=$(count_listed <"$tmp/list/out.small") rb=$(count_listed <"$tmp/list/out.big")
ls_=$(median 1 <"$tmp/list/m.small") lb=$(median 1 <"$tmp/list/m.big")
ms=$(median 2 <"$tmp/list/m.small") mb=$(median 2 <"$tmp/list/m.big")
r=$(awk -v a="$lb" -v b="$ls_" 'BEGIN { printf "%.3f", a / b }')
row "list u7 --since 1h, $big vs $small" \
	"$(awk -v t="$lb" 'BEGIN { printf "%.4fs", t / 1e6 }')" \
	"$(awk -v t="$ls_" 'BEGIN { printf "%.4fs", t / 1e6 }')" "$r" \
	"$(verdict "$r" "<=" 2)" >>"$tmp/table"
awk -v rb="$rb" -v rs="$rs" -v big="$big" -v small="$small" -v fb="$fb" \
    -v fs="$fs" -v szb="$szb" -v szs="$szs" -v mb="$mb" -v ms="$ms" 'BEGIN {
	printf "# list: rows returned %d (%d records) vs %d (%d records); peak RSS %.1fM vs %.1fM\n",
	    rb, big, rs, small, mb / 1024, ms / 1024
	printf "# list: filled %d records in %.1fs (%d MB), %d in %.1fs (%d MB) with pp-store-fill DIR 100 10 COUNT 14 1000\n",
	    big, fb, szb, small, fs, szs }' >>"$tmp/notes"

# One host of the 1000 over every owner and the whole 14 days, through
# the host index, then the same store without it (pp-store-old unindex:
# as a store made before the index, which reads every record).
hq() { measure "$tmp/list/out.$1" "$bin/pp-query" -d "$tmp/list/big" -H h43 -l; }
hq index >/dev/null
: >"$tmp/list/m.index"; : >"$tmp/list/m.none"
i=0
while [ $i -lt "$runs" ]; do
	hq index >>"$tmp/list/m.index"
	i=$((i + 1))
done
"$bin/pp-store-old" unindex "$tmp/list/big" 2>"$tmp/err" ||
	die "pp-store-old unindex failed: $(tail -n 3 "$tmp/err")"
hq none >/dev/null
i=0
while [ $i -lt "$runs" ]; do
	hq none >>"$tmp/list/m.none"
	i=$((i + 1))
done
cmp -s "$tmp/list/out.index" "$tmp/list/out.none" ||
	die "pp-query -H lists other rows without the index"
ri=$(count_listed <"$tmp/list/out.index")
li=$(median 1 <"$tmp/list/m.index") ln=$(median 1 <"$tmp/list/m.none")
r=$(awk -v a="$li" -v b="$ln" 'BEGIN { printf "%.3f", a / b }')
row "list -H (1 of 1000 hosts), index vs none" \
	"$(awk -v t="$li" 'BEGIN { printf "%.4fs", t / 1e6 }')" \
	"$(awk -v t="$ln" 'BEGIN { printf "%.4fs", t / 1e6 }')" "$r" \
	"(no target)" >>"$tmp/table"
echo "# list -H: $ri rows of $big records, every owner, 14 days; the same store read without its host index" >>"$tmp/notes"
rm -rf "$tmp/list"
fi

# ---- 3. merging 100 stored profiles ------------------------------------

# post DIR TOKEN FILE: store FILE with one POST /v1/push piped into pp-recv.
post() {
	{
		printf 'POST /v1/push HTTP/1.1\r\nHost: localhost\r\n'
		printf 'Authorization: Bearer %s\r\n' "$2"
		printf 'Content-Length: %s\r\n\r\n' "$(wc -c <"$3")"
		cat "$3"
	} | "$bin/pp-recv" -d "$1" -L "$tmp/merge/recv.log" >"$3.answer" 2>&1
	head -n 1 "$3.answer" | grep -q '^HTTP/1\.1 200 ' ||
		{ echo "p0003-service: storing '$3': $(head -n 1 "$3.answer")" >&2; return 1; }
}

# showing FILE: the totals line of go tool pprof -top.
showing() {
	go tool pprof -top "$1" 2>"$tmp/err" | grep '^Showing nodes accounting for' ||
		die "go tool pprof -top '$1' shows no totals: $(tail -n 2 "$tmp/err")"
}

if ! only merge; then
	:
elif [ ! -f "$large" ]; then
	row "merge $nmerge cpu profiles" - - - "skipped (no $large)" >>"$tmp/table"
else
	m=$tmp/merge
	mkdir "$m/store" || exit 1
	"$bin/pp-recv" -d "$m/store" user add merger >"$m/user" 2>&1 ||
		die "cannot add a user: $(tail -n 2 "$m/user")"
	token=$(tail -n 1 "$m/user")
	# Two at a time, on the two cpus: scale, then store.
	i=1
	while [ $i -le $nmerge ]; do
		for j in $i $((i + 1)); do
			r=$(awk -v j=$j 'BEGIN { printf "%.2f", 1 + j / 100 }')
			{ "$bin/pp-test" scale "$r" <"$large" >"$m/p$j.pb.gz" &&
			    post "$m/store" "$token" "$m/p$j.pb.gz"; } &
			eval "w$((j - i))=\$!"
		done
		wait "$w0" || die "cannot make and store profile $i"
		wait "$w1" || die "cannot make and store profile $((i + 1))"
		i=$((i + 2))
	done
	n=$("$bin/pp-query" -d "$m/store" -u merger -l | count_listed)
	[ "$n" = $nmerge ] || die "the store holds ${n:-no} profiles, not $nmerge"
	files=$(i=1; while [ $i -le $nmerge ]; do echo "$m/p$i.pb.gz"; i=$((i + 1)); done)
	pq() { measure "$m/pp.pb.gz" "$bin/pp-query" -d "$m/store" -u merger -t cpu; }
	# shellcheck disable=SC2086
	gp() { measure "$m/go.pb.gz" go tool pprof -symbolize=none -proto $files; }
	pq >/dev/null
	: >"$m/m.pp"; : >"$m/m.go"
	i=0
	while [ $i -lt "$runs" ]; do
		if [ $((i % 2)) = 0 ]; then
			pq >>"$m/m.pp"; gp >>"$m/m.go"
		else
			gp >>"$m/m.go"; pq >>"$m/m.pp"
		fi
		if [ $i = 0 ]; then
			sp=$(showing "$m/pp.pb.gz") || exit 1
			sg=$(showing "$m/go.pb.gz") || exit 1
			[ "$sp" = "$sg" ] ||
				die "the merges differ: pp-query: '$sp'; pprof: '$sg'"
		fi
		i=$((i + 1))
	done
	mp=$(median 1 <"$m/m.pp") mg=$(median 1 <"$m/m.go")
	kp=$(median 2 <"$m/m.pp") kg=$(median 2 <"$m/m.go")
	r=$(awk -v a="$mp" -v b="$mg" 'BEGIN { printf "%.3f", a / b }')
	row "merge $nmerge cpu profiles vs pprof" \
		"$(awk -v t="$mp" 'BEGIN { printf "%.3fs", t / 1e6 }')" \
		"$(awk -v t="$mg" 'BEGIN { printf "%.3fs", t / 1e6 }')" "$r" \
		"$(verdict "$r" "<=" 0.2)" >>"$tmp/table"
	awk -v kp="$kp" -v kg="$kg" -v s="$sp" -v n=$nmerge -v sz="$(wc -c <"$m/p1.pb.gz")" 'BEGIN {
		printf "# merge: %d profiles of ~%.1f MB (pp-test scale 1.01 .. 2.00 of pprof-large.cpu.pb.gz); peak RSS pp-query %.1fM, pprof %.1fM\n",
		    n, sz / 1048576, kp / 1024, kg / 1024
		printf "# merge: both outputs, go tool pprof -top: %s\n", s }' >>"$tmp/notes"
	rm -rf "$m"
fi

row measure pp other ratio target
cat "$tmp/table" "$tmp/notes"
echo "# load average at the end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
exit 0
