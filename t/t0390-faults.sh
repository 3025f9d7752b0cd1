#!/bin/bash
# Faults, each with its message, and nothing stored or spooled lost or
# corrupted by it:
#
#  - the disk fills under pp-recv (a file size limit, SIGXFSZ ignored, so
#    that its writes fail with EFBIG as on a full disk): the client gets
#    507, pp-push keeps its files and exits 75, the store stays
#    consistent and opens without manual recovery, also after a pp-recv
#    died while the disk was full, and uploads succeed once there is
#    room again;
#  - the same on a real full file system (a small tmpfs in a private mount
#    namespace), where Berkeley DB's mapped regions raise SIGBUS, when the
#    system lets the test make one;
#  - pp-query dies of SIGBUS (as --expire does on a full file system): it
#    says so and exits 1, and the store is intact once there is room;
#  - pp-record's spool fills (--spool-max) or cannot be written: the
#    program runs on with its exit status, with one message;
#  - the receiver answers 500 or 507, or closes the connection half-way
#    through its answer: pp-push keeps every file and exits 75.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"
. "$TEST_DIRECTORY/lib-recv.sh"

test -x "$SRC_ROOT/pp-recv" || skip_all 'pp-recv not built yet'
test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'

P=$SRC_ROOT/t/progs
HOME=$TRASH_DIRECTORY/home
PP_SPOOL=$TRASH_DIRECTORY/spool
export HOME PP_SPOOL
unset PP_URL XDG_CONFIG_HOME
mkdir -p "$HOME"

# spool N TAG: N distinct profiles in spool/new, TAG's own.
spool() {
	local i=1
	rm -rf spool && mkdir -p spool/new spool/tmp &&
	while [ $i -le "$1" ]; do
		printf 'main;%s;f%s %s\n' "$2" $i $((i + 2)) |
		pp-test fromfolded >spool/new/2026-0$i.$2.pb.gz || return 1
		i=$((i + 1))
	done
}

# sums DIR OUT: the SHA-256 of each file in DIR, sorted, into OUT.
sums() {
	(cd "$1" && find . -type f -exec sha256sum {} +) | cut -c1-64 |
	sort >"$2"
}

# store_sums OUT: the SHA-256 of the bytes of every profile in the store,
# as pp-recv gives them back, sorted, into OUT; the ids into ids.
store_sums() {
	local id
	pp-query -d "$RECV_STORE" -l -o json >list.json &&
	sed -n 's/^ *"id": "\([0-9a-f]*\)".*/\1/p' list.json >ids &&
	: >got.sums &&
	while read -r id; do
		printf 'GET /v1/profiles/%s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n' \
			"$id" "$(cat alice.token)" |
		pp-recv -d "$RECV_STORE" -L get.log >got.resp &&
		head -n 1 got.resp | grep -q "^HTTP/1.1 200 " &&
		sed "1,/^\r$/d" got.resp | sha256sum | cut -c1-64 >>got.sums ||
			return 1
	done <ids &&
	sort got.sums >"$1"
}

# post FILE: a request that pushes FILE as alice, into FILE.req.
post() {
	{
		printf 'POST /v1/push HTTP/1.1\r\nAuthorization: Bearer %s\r\n' \
			"$(cat alice.token)"
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$1")"
		cat "$1"
	} >"$1.req"
}

test_expect_success 'setup: pp-recv under a file size limit, through inetd' '
	cat >limited-recv <<-EOF &&
	#!/bin/bash
	# pp-recv under the file size limit (KiB) in fsize, if any, with
	# SIGXFSZ ignored: a write past it fails with EFBIG.
	trap "" XFSZ
	if [ -s "$TRASH_DIRECTORY/fsize" ]; then
		ulimit -S -f "\$(cat "$TRASH_DIRECTORY/fsize")" || exit 1
	fi
	exec "$TRASH_DIRECTORY/bin/pp-recv" "\$@"
	EOF
	chmod +x limited-recv &&
	# A copy: a rebuild in another shell must not make the execs fail.
	mkdir bin && cp "$SRC_ROOT/pp-recv" bin/ &&
	RECV_STORE=$TRASH_DIRECTORY/store &&
	add_user alice &&
	start_service "$TRASH_DIRECTORY/limited-recv" -d "$RECV_STORE" \
		-L "$TRASH_DIRECTORY/recv.log" &&
	PP_URL=$SERVICE_URL && export PP_URL &&
	spool 5 a && sums spool/new a.sums &&
	pp-push -T alice.token &&
	ls spool/new >left && test_line_count = 0 left &&
	store_sums stored && test_cmp a.sums stored
'

test_expect_success 'the disk fills while pp-recv commits: 507; pp-push keeps its files, exits 75' '
	spool 3 b && sums spool/new b.sums &&
	echo 16 >fsize &&
	test_expect_code 75 pp-push -T alice.token 2>err &&
	cat err &&
	echo "pp-push: cannot reach '\''$PP_URL'\'': it answered 507: no space left to store the profiles; try again later" >expect &&
	test_cmp expect err &&
	sums spool/new left && test_cmp b.sums left &&
	tail -n 2 recv.log &&
	grep "error: store '\''$RECV_STORE'\'': cannot store the profiles: File too large" recv.log &&
	grep "error: [0-9.]* alice POST /v1/push 507 no space left to store the profiles; try again later maxrss=[0-9]*KiB\$" recv.log
'

test_expect_success 'the store stays consistent: every earlier profile, intact, the failed ones absent' '
	store_sums stored && test_cmp a.sums stored
'

test_expect_success 'a pp-recv killed while the disk is full: 507 until there is room, then recovered' '
	# It holds the store while it waits for the rest of the body.
	recv_crash "$RECV_STORE" alice.token &&
	# The next one must recover the store, which rebuilds its regions:
	# that needs room.
	spool 3 b &&
	test_expect_code 75 pp-push -T alice.token 2>err &&
	cat err &&
	echo "pp-push: cannot reach '\''$PP_URL'\'': it answered 507: no space left in the store; try again later" >expect &&
	test_cmp expect err &&
	tail -n 2 recv.log &&
	grep "error: store '\''$RECV_STORE'\'': cannot open the environment: File too large" recv.log &&
	sums spool/new left && test_cmp b.sums left
'

test_expect_success 'with room again, the upload succeeds: everything stored once, intact' '
	rm fsize &&
	pp-push -T alice.token &&
	ls spool/new >left && test_line_count = 0 left &&
	sort a.sums b.sums >expect &&
	store_sums stored && test_cmp expect stored &&
	sort ids | uniq -d >dups && test_line_count = 0 dups &&
	spool 3 b &&
	pp-push -v -T alice.token 2>err &&
	grep "^pp-push: 0 stored, 3 stored already" err &&
	store_sums stored && test_cmp expect stored
'

test_expect_success 'pp-query dying of SIGBUS (a full disk under the store) says so, exits 1; the store intact' '
	# It holds the store while it waits for its base on a FIFO: SIGBUS
	# is what touching a page of the store'\''s regions raises when the
	# disk is full (below).
	rm -f base.fifo && mkfifo base.fifo || return 1
	pp-query -d "$RECV_STORE" --base base.fifo >/dev/null 2>err &
	pid=$!
	i=0
	while ! grep -q "$RECV_STORE/__db.001" /proc/$pid/maps 2>/dev/null &&
	    [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -BUS $pid
	wait $pid
	code=$?
	cat err &&
	test $code = 1 &&
	echo "pp-query: store '\''$RECV_STORE'\'': no space left on device (SIGBUS)" >expect &&
	test_cmp expect err &&
	sort a.sums b.sums >expect &&
	store_sums stored && test_cmp expect stored
'

# A real full file system: a small tmpfs in a private mount namespace, as
# root or where unprivileged user namespaces are allowed.
mkdir probe
if unshare -rm sh -c 'mount -t tmpfs -o size=1m none probe' 2>/dev/null; then
	SMALL_FS="unshare -rm"
elif unshare -m sh -c 'mount -t tmpfs -o size=1m none probe' 2>/dev/null; then
	SMALL_FS="unshare -m"
else
	SMALL_FS=
fi

# on_small_fs SCRIPT: runs bash SCRIPT where "small" is a tmpfs of 64 MiB
# holding a copy of the store and the spool's directories, and full (but
# for what SCRIPT frees by removing small/fill).
on_small_fs() {
	$SMALL_FS bash -c '
		mkdir -p small &&
		mount -t tmpfs -o size=64m none small &&
		cp -a "$2" small/store &&
		mkdir -p small/spool/tmp small/spool/new &&
		{ dd if=/dev/zero of=small/fill bs=64k 2>/dev/null; :; } &&
		. "$1"' on_small_fs "$1" "$RECV_STORE"
}

if [ -n "$SMALL_FS" ]; then
	test_expect_success 'a full file system under pp-recv: 507; with room again, stored' '
		# pp-recv dies of SIGBUS there or fails a write: either way the
		# client is told 507. The profile is large (some 300 KB), so
		# that its log records cannot fit in what is left of a page.
		head -c 300000 /dev/urandom | od -An -tx1 -w30 | tr -d " " |
		sed "s/^/main;/; s/\$/ 1/" | pp-test fromfolded >full1.pb.gz &&
		printf "main;full;f2 2\n" | pp-test fromfolded >full2.pb.gz &&
		post full1.pb.gz && post full2.pb.gz &&
		cat >full.sh <<-\EOF &&
		pp-recv -d small/store -L full.log <full1.pb.gz.req >full1.resp
		rm small/fill
		pp-recv -d small/store -L full.log <full1.pb.gz.req >room1.resp
		pp-recv -d small/store -L full.log <full2.pb.gz.req >room2.resp
		pp-query -d small/store -l -o json >small.json
		EOF
		on_small_fs full.sh &&
		cat full.log &&
		head -n 1 full1.resp | grep "^HTTP/1.1 507 Insufficient Storage" &&
		grep "^{\"error\":\"no space left" full1.resp &&
		grep "error: store '\''small/store'\'': \(cannot store the profiles: No space left on device\|no space left on its device (SIGBUS)\)" full.log &&
		for r in room1 room2; do
			head -n 1 $r.resp | grep "^HTTP/1.1 200 OK" &&
			grep "\"duplicate\":false" $r.resp || return 1
		done &&
		sed -n "s/^ *\"sha256\": \"\([0-9a-f]*\)\".*/\1/p" small.json |
		sort >small.sums &&
		sha256sum full1.pb.gz full2.pb.gz | cut -c1-64 |
		sort - a.sums b.sums >expect &&
		test_cmp expect small.sums
	'
else
	test_skip 'a full file system under pp-recv: 507; with room again, stored' \
		'cannot mount a tmpfs in a private mount namespace'
fi

if [ -n "$SMALL_FS" ] && command -v fallocate >/dev/null 2>&1; then
	test_expect_success 'a full file system under pp-query --expire: SIGBUS, said so, status 1; with room again, the store intact' '
		cat >expire.sh <<-\EOF &&
		# Fresh regions, as after a recovery: a process dies holding the
		# store, the next one recovers it.
		rm small/fill
		mkfifo hold.fifo
		pp-query -d small/store --base hold.fifo >/dev/null 2>&1 &
		pid=$!
		i=0
		while ! grep -q small/store/__db.001 /proc/$pid/maps 2>/dev/null &&
		    [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 $pid
		wait $pid
		pp-query -d small/store -u nobody -l >/dev/null
		# The pages of the regions that hold nothing yet are not backed
		# (Berkeley DB writes the files whole when it makes them: dig
		# the holes), and the disk is full again.
		for f in small/store/__db.0*; do fallocate --dig-holes "$f"; done
		{ dd if=/dev/zero of=small/fill bs=64k 2>/dev/null; :; }
		pp-query -d small/store --expire 0s 2>expire.err
		echo $? >expire.code
		rm small/fill
		pp-query -d small/store -l -o json >expire.json
		EOF
		on_small_fs expire.sh &&
		cat expire.err &&
		echo 1 >expect && test_cmp expect expire.code &&
		echo "pp-query: store '\''small/store'\'': no space left on device (SIGBUS)" >expect &&
		test_cmp expect expire.err &&
		sed -n "s/^ *\"sha256\": \"\([0-9a-f]*\)\".*/\1/p" expire.json |
		sort >expire.sums &&
		sort a.sums b.sums >expect &&
		test_cmp expect expire.sums
	'
else
	test_skip 'a full file system under pp-query --expire: SIGBUS, said so, status 1; with room again, the store intact' \
		'no tmpfs in a private mount namespace, or no fallocate'
fi

test_expect_success 'pp-record: build a program' '
	cc -O2 -g -o exiter "$P/exiter.c"
'

# seqs FILE: the sequence numbers of the spooled profiles named in FILE.
seqs() { awk -F. '{ print $(NF - 2) }' "$1" | sort -n; }

test_expect_success 'the spool fills: the oldest are dropped, with a message; the program runs on' '
	rm -rf spool &&
	test_expect_code 7 pp-record -i 1 --cpu --spool-max 2500 -- \
		./exiter "exit 7" 3.5 >out 2>err &&
	cat err &&
	grep "^exiter pid " out &&
	grep "^pp-record: spool '\''$PP_SPOOL'\'' is over 2500 bytes: dropped the [0-9]* oldest profiles\\{0,1\\}\$" err >drops &&
	! grep -v "^pp-record: spool " err &&
	ls spool/tmp >tmpfiles && test_line_count = 0 tmpfiles &&
	ls spool/new >kept && cat kept &&
	test_line_count -ge 1 kept &&
	total=$(cat spool/new/* | wc -c) && echo "$total bytes kept" &&
	test "$total" -le 2500 &&
	# The newest are kept: the last sequence numbers, as many as
	# were not dropped.
	dropped=$(sed "s/.* dropped the \([0-9]*\) .*/\1/" drops |
		awk "{ s += \$1 } END { print s + 0 }") &&
	seqs kept >kept.seqs &&
	last=$(tail -n 1 kept.seqs) &&
	test $((dropped + $(wc -l <kept))) = $((last + 1)) &&
	seq $((last + 1 - $(wc -l <kept))) $last >expect &&
	test_cmp expect kept.seqs &&
	for f in $(cat kept); do
		pp-render -f top spool/new/$f >/dev/null || return 1
	done
'

# record_limited OUT ERR ARGS...: pp-record ARGS with a file size limit of
# 0 (soft) and SIGXFSZ ignored; its output through pipes, which the limit
# does not touch, to OUT and ERR. In the background: RECORD_PID is
# pp-record; record_wait waits for it and its pipes, and sets code.
record_limited() {
	local out=$1 err=$2
	shift 2
	# The cats create these files in the background: a caller that
	# waits for a line in err must not find the last test's.
	rm -f o.fifo e.fifo "$out" "$err" && mkfifo o.fifo e.fifo || return 1
	cat o.fifo >"$out" &
	CAT_PIDS=$!
	cat e.fifo >"$err" &
	CAT_PIDS="$CAT_PIDS $!"
	(trap "" XFSZ && ulimit -S -f 0 && exec pp-record "$@") \
		>o.fifo 2>e.fifo &
	RECORD_PID=$!
}
record_wait() {
	wait $RECORD_PID
	code=$?
	wait $CAT_PIDS
}

test_expect_success 'the spool cannot be written: one message; the program runs on with its status' '
	rm -rf spool &&
	record_limited out err -i 1 --cpu -- ./exiter "exit 7" 3.5 &&
	record_wait &&
	cat err &&
	test $code = 7 &&
	grep "^exiter pid " out &&
	grep -c "^pp-record: cannot write '\''$PP_SPOOL/tmp/[^/]*\.pb\.gz'\'': File too large\$" err >n &&
	echo 1 >expect && test_cmp expect n &&
	grep "^pp-record: some profiles of '\''./exiter'\'' could not be written\$" err &&
	test_line_count = 2 err &&
	ls spool/tmp spool/new >files && ! grep pb.gz files
'

# The program runs 8 s, so that a loaded machine still lifts the limit
# (once the first write has failed) well before it ends.
if command -v prlimit >/dev/null 2>&1; then
	test_expect_success 'once the spool can be written again, profiles are spooled again' '
		rm -rf spool &&
		record_limited out err -i 1 --cpu -- ./exiter "exit 7" 8 &&
		i=0 &&
		while ! grep -q "cannot write" err && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		echo "waited $i"
		prlimit --pid $RECORD_PID --fsize=unlimited
		echo "prlimit: $?"
		record_wait
		echo "pp-record: $code"
		cat err &&
		test $code = 7 &&
		grep -c "cannot write" err >n && echo 1 >expect && test_cmp expect n &&
		grep "^pp-record: profiles are written again\$" err &&
		ls spool/new >kept && test_line_count -ge 1 kept &&
		ls spool/tmp >tmpfiles && test_line_count = 0 tmpfiles &&
		for f in $(cat kept); do
			pp-render -f top spool/new/$f >/dev/null || return 1
		done
	'
else
	test_skip 'once the spool can be written again, profiles are spooled again' \
		'no prlimit'
fi

if [ -n "$SMALL_FS" ]; then
	test_expect_success 'the spool on a full file system: one message; the program runs on' '
		cat >spool.sh <<-\EOF &&
		PP_SPOOL=$PWD/small/spool pp-record -i 1 --cpu -- \
			./exiter "exit 7" 2.5 >full.out 2>full.err
		echo $? >full.code
		ls small/spool/tmp small/spool/new >full.files
		EOF
		on_small_fs spool.sh &&
		cat full.err &&
		echo 7 >expect && test_cmp expect full.code &&
		grep -c "^pp-record: cannot write '\''.*/small/spool/tmp/[^/]*'\'': No space left on device\$" full.err >n &&
		echo 1 >expect && test_cmp expect n &&
		! grep pb.gz full.files
	'
else
	test_skip 'the spool on a full file system: one message; the program runs on' \
		'cannot mount a tmpfs in a private mount namespace'
fi

# The receiver's failures that the real one cannot be made to show.
sent() { cat fake/requests 2>/dev/null >sent; cat sent; }
fake() { rm -rf fake && mkdir fake && echo "$1" >fake/mode; }

test_expect_success 'setup: a stand-in receiver' '
	printf "secret-token\\n" >tok && chmod 600 tok &&
	fake ack &&
	start_service "$(command -v perl)" "$SRC_ROOT/t/progs/fake-recv.pl" \
		"$TRASH_DIRECTORY/fake" &&
	FAKE=$SERVICE_URL
'

while IFS='	' read -r mode message; do
	test_expect_success "the receiver's answer: $mode: every file kept, exit 75" '
		spool 3 c && sums spool/new before &&
		fake "'"$mode"'" &&
		test_expect_code 75 pp-push -T tok -u $FAKE 2>err &&
		cat err &&
		grep "^pp-push: '"${message%%: *}"' '\''$FAKE'\'': '"${message#*: }"'" err &&
		test_line_count = 1 err &&
		sums spool/new after && test_cmp before after &&
		sent && test_line_count = 1 sent
	'
done <<\EOF
status 500	cannot reach: it answered 500: fake error 500$
status 507	cannot reach: it answered 507: fake error 507$
cut 200	no answer from: transfer closed with [0-9]* bytes remaining to read$
cut 500	no answer from: transfer closed with [0-9]* bytes remaining to read$
cut-head	cannot reach: it answered 200 with something that is not pp-recv's answer$
EOF

test_done
