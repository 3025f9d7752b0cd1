#!/bin/bash
# Load: 10,000 uploads from 4 concurrent clients (t/progs/upload.c, libcurl,
# a new connection each) through openbsd-inetd to pp-recv, 2% of them
# malformed (a gzip stream cut in half, a gzip stream that is not one,
# text that is not a profile).  Every valid one is stored exactly once
# (count and hashes), every malformed one is refused with its 4xx, no
# pp-recv is left behind, and the peak memory of every pp-recv process,
# which it logs with each exchange, stays under a bound.
#
# PP_LOAD_UPLOADS=n changes the number of uploads (default 10000; 2500
# when pp-recv is built with AddressSanitizer, as in make check's second
# pass, where an upload costs some five times as much).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

test -x "$SRC_ROOT/pp-recv" || skip_all 'pp-recv not built yet'
test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'
command -v curl-config >/dev/null 2>&1 ||
	pkg-config --exists libcurl 2>/dev/null || skip_all 'no libcurl to build with'

if ldd "$SRC_ROOT/pp-recv" 2>/dev/null | grep -q libasan; then
	SANITIZED=1
else
	SANITIZED=
fi
N=${PP_LOAD_UPLOADS:-${SANITIZED:+2500}}
N=${N:-10000}
CLIENTS=4
# The bound of a process's peak resident memory, in KiB. What a pp-recv
# process touches: its code and data (a static executable, ~1 MiB), the
# heap of one small request (its body and its decoded profile, here a
# few KiB; the bound is for this load, not for the 64 MiB a body may
# have), and pages of Berkeley DB's shared regions, which are file
# mappings and count in the resident size once touched: its cache (16
# MiB) and the parts of its lock and log regions in use. A process that
# recovers the store or checkpoints it may touch the whole cache. So: 16
# MiB of cache, 8 MiB of regions and code, 8 MiB of slack: 32 MiB,
# however many profiles the store holds (the cache bounds what a process
# can touch; the test prints the median of the first and of the last
# thousand exchanges, which grows with the store until the cache is
# full). AddressSanitizer's
# runtime (its shadow memory, allocator and quarantine) adds some 10 MiB
# to every process: 64 MiB then.
RSS_BOUND=${SANITIZED:+65536}
RSS_BOUND=${RSS_BOUND:-32768}
# note TEXT: a TAP comment, for the figures (prove -v shows them).
note() { echo "# $*" >&5; }

# inetd must not take 10,000 connections in a minute for a loop.
PP_INETD_MAX=1000000
export PP_INETD_MAX

test_expect_success "setup: $N uploads, every 50th malformed" '
	cc -O2 -g -o upload "$SRC_ROOT/t/progs/upload.c" \
		$(pkg-config --cflags --libs libcurl 2>/dev/null || curl-config --libs) &&
	printf "main;load;work 7\nmain;load;other 3\n" | pp-test fromfolded |
	gzip -dc >template.pb &&
	mkdir up &&
	# One template, made distinct by its time (field 9, time_nanos, set
	# again at the end: the last one counts).
	perl -MIO::Compress::Gzip=gzip,\$GzipError -e '\''
		my ($tmpl, $n) = @ARGV;
		open(my $f, "<", $tmpl) or die "$tmpl: $!";
		binmode $f;
		my $raw = do { local $/; <$f> };
		sub varint {
			my ($v, $s) = (shift, "");
			while ($v >= 0x80) { $s .= chr(($v & 0x7f) | 0x80); $v >>= 7 }
			return $s . chr($v);
		}
		for my $i (1 .. $n) {
			my $pb = $raw . "\x48" . varint(1700000000000000000 + $i);
			my $gz;
			gzip(\$pb => \$gz) or die $GzipError;
			my ($name, $body);
			if ($i % 50 == 0) {
				my $k = ($i / 50) % 3;
				if ($k == 0) {
					($name, $body) = ("cut", substr($gz, 0, length($gz) / 2));
				} elsif ($k == 1) {
					($name, $body) = ("badgz", substr($gz, 0, 10) . "not deflate" x 20);
				} else {
					($name, $body) = ("text", "this is not a profile $i\n" x 10);
				}
			} else {
				($name, $body) = ("ok", $gz);
			}
			my $path = sprintf("up/%05d.%s", $i, $name);
			open(my $o, ">", $path) or die "$path: $!";
			binmode $o;
			print $o $body;
			close($o) or die "$path: $!";
		}
	'\'' template.pb $N &&
	ls up >all &&
	grep "\.ok\$" all >ok && grep -v "\.ok\$" all >bad &&
	test $(wc -l <all) = $N &&
	echo "$(wc -l <ok) valid, $(wc -l <bad) malformed" &&
	(cd up && sha256sum $(cat ../ok)) | cut -c1-64 | sort >ok.sums &&
	sort -u ok.sums >uniq.sums && test_cmp ok.sums uniq.sums &&
	c=0 &&
	while [ $c -lt $CLIENTS ]; do
		awk -v c=$c -v n=$CLIENTS "NR % n == c { print \"up/\" \$0 }" all \
			>list.$c || return 1
		c=$((c + 1))
	done
'

test_expect_success 'setup: pp-recv under inetd, a user' '
	# A copy: a rebuild in another shell during the run must not make
	# the execs fail.
	mkdir bin && cp "$SRC_ROOT/pp-recv" bin/ &&
	RECV_STORE=$TRASH_DIRECTORY/store &&
	add_user alice &&
	start_service "$TRASH_DIRECTORY/bin/pp-recv" -d "$RECV_STORE" \
		-L "$TRASH_DIRECTORY/recv.log" &&
	RECV_PID=$SERVICE_PID PP_URL=$SERVICE_URL
'

test_expect_success "$N uploads from $CLIENTS clients at once" '
	t0=$(date +%s%N) &&
	pids= &&
	c=0 &&
	while [ $c -lt $CLIENTS ]; do
		./upload "$PP_URL/v1/push" alice.token list.$c >answers.$c 2>err.$c &
		pids="$pids $!"
		c=$((c + 1))
	done &&
	fail=0 &&
	for p in $pids; do
		wait $p || fail=1
	done &&
	t1=$(date +%s%N) &&
	cat err.* &&
	test $fail = 0 &&
	cat answers.* >answers &&
	test $(wc -l <answers) = $N &&
	note "$N uploads from $CLIENTS clients in $(( (t1 - t0) / 1000000 )) ms"
'

test_expect_success 'every valid upload answered 200 and stored exactly once' '
	grep "^[0-9]* up/[0-9]*\.ok " answers >ok.answers &&
	test $(wc -l <ok.answers) = $(wc -l <ok) &&
	! grep -v "^200 " ok.answers &&
	grep -c "\"duplicate\":false" ok.answers >n &&
	wc -l <ok >expect && test_cmp expect n &&
	pp-query -d "$RECV_STORE" -l -o json >list.json &&
	sed -n "s/^ *\"sha256\": \"\([0-9a-f]*\)\".*/\1/p" list.json |
	sort >stored.sums &&
	test_cmp ok.sums stored.sums &&
	sed -n "s/^ *\"id\": \"\([0-9a-f]*\)\".*/\1/p" list.json | sort >ids &&
	sort -u ids >uniq.ids && test_cmp ids uniq.ids &&
	# The id each was answered with is the one stored with its hash.
	sed -n "s/.*\"id\":\"\([0-9a-f]*\)\",\"sha256\":\"\([0-9a-f]*\)\".*/\1 \2/p" \
		ok.answers | sort >answered &&
	sed -n "s/^ *\"id\": \"\([0-9a-f]*\)\".*/\1/p;
		s/^ *\"sha256\": \"\([0-9a-f]*\)\".*/\1/p" list.json |
	paste -d " " - - | sort >listed &&
	test_cmp listed answered
'

test_expect_success 'every malformed upload refused with its 4xx' '
	for k in cut:400 badgz:400 text:422; do
		grep " up/[0-9]*\.${k%:*} " answers >bad.answers &&
		test $(wc -l <bad.answers) = $(grep -c "\.${k%:*}\$" bad) &&
		note "${k%:*}: $(wc -l <bad.answers) answered $(cut -d" " -f1 bad.answers | sort -u)" &&
		! grep -v "^${k#*:} " bad.answers || return 1
	done &&
	grep "\.cut \"" answers | head -n 1 &&
	grep " up/[0-9]*\.cut {\"error\":\"bundle: truncated gzip input\"}" answers >/dev/null &&
	grep " up/[0-9]*\.badgz {\"error\":\"bundle: gzip decompression failed\"}" answers >/dev/null &&
	grep " up/[0-9]*\.text {\"error\":\"some profiles are unusable: nothing was stored\"" answers >/dev/null
'

test_expect_success 'one log line an exchange; no pp-recv left behind' '
	grep " alice POST /v1/push [0-9]* " "$TRASH_DIRECTORY/recv.log" >exchanges &&
	test $(wc -l <exchanges) = $N &&
	i=0 &&
	while pgrep -f "pp-recv -d $RECV_STORE " >left; do
		[ $i -lt 100 ] || break
		sleep 0.1; i=$((i + 1))
	done &&
	test_line_count = 0 left &&
	stop_service $RECV_PID &&
	! pgrep -f "pp-recv -d $RECV_STORE "
'

test_expect_success "every pp-recv's peak memory under $RSS_BOUND KiB" '
	sed -n "s/.* maxrss=\([0-9]*\)KiB\$/\1/p" exchanges >rss &&
	test $(wc -l <rss) = $N &&
	sort -n rss >rss.sorted &&
	first=$(head -n 1000 rss | sort -n | awk "{ v[NR] = \$1 } END { print v[int((NR + 1) / 2)] }") &&
	last=$(tail -n 1000 rss | sort -n | awk "{ v[NR] = \$1 } END { print v[int((NR + 1) / 2)] }") &&
	note "peak RSS of a pp-recv: median $(awk "{ v[NR] = \$1 } END { print v[int((NR + 1) / 2)] }" rss.sorted) KiB," \
		"max $(tail -n 1 rss.sorted) KiB (bound $RSS_BOUND);" \
		"median of the first 1000 exchanges $first KiB, of the last $last KiB" &&
	test $(tail -n 1 rss.sorted) -le $RSS_BOUND
'

test_done
