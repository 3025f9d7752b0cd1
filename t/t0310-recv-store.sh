#!/bin/bash
# pp-recv with requests piped into it, as inetd would hand it a connection,
# and pp-query on the same store: users and tokens, storing, listing,
# fetching, idempotency, isolation between users, merging and comparing.
. "$(dirname "$0")/lib.sh"

HOT=$SRC_ROOT/t/data/hotspot.cpu.pb.gz

# test_with_shared DESC BODY: a test that needs the shared profiles and go.
test_with_shared() {
	if ! test_have_shared; then
		test_skip "$1" "no shared profiles at $SHARED_PROFILES"
	elif ! command -v go >/dev/null 2>&1; then
		test_skip "$1" "no go tool pprof"
	else
		test_expect_success "$@"
	fi
}

# request METHOD PATH TOKEN [BODY-FILE]: writes the request to req.
request() {
	{
		printf '%s %s HTTP/1.1\r\nHost: pp\r\n' "$1" "$2"
		test -z "$3" || printf 'Authorization: Bearer %s\r\n' "$3"
		if test -n "${4:-}"; then
			printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$4")"
			cat "$4"
		else
			printf '\r\n'
		fi
	} >req
}

# recv METHOD PATH TOKEN [BODY-FILE]: runs the request through pp-recv;
# the status goes to status, the body to body.
recv() {
	request "$@" &&
	pp-recv -d store -L recv.log <req >resp
	sed -n '1s/^HTTP\/1.1 \([0-9]*\) .*/\1/p' resp >status &&
	sed '1,/^\r$/d' resp >body
}

test_expect_success 'user add prints a token alone on its last line' '
	pp-recv -d store user add alice >out 2>err &&
	tail -n 1 out >alice.token &&
	grep -E "^[0-9a-f]{64}$" alice.token &&
	grep "added user .alice." err &&
	pp-recv -d store user add bob | tail -n 1 >bob.token &&
	ALICE=$(cat alice.token) && BOB=$(cat bob.token) &&
	test "$ALICE" != "$BOB"
'

test_expect_success 'user add refuses a second alice and bad names' '
	test_must_fail pp-recv -d store user add alice 2>err &&
	grep "exists" err &&
	test_expect_code 2 pp-recv -d store user add "../x" 2>err &&
	grep "bad user name" err &&
	pp-recv -d store user list >list &&
	test_line_count = 2 list &&
	grep "^alice " list && grep "^bob " list
'

test_expect_success 'a single profile is stored, listed and given back intact' '
	recv POST /v1/push "$ALICE" "$HOT" &&
	test "$(cat status)" = 200 &&
	grep "\"duplicate\":false" body &&
	id=$(sed "s/.*\"id\":\"\([0-9a-f]*\)\".*/\1/" body) &&
	test ${#id} = 16 &&
	recv GET /v1/profiles "$ALICE" &&
	test "$(cat status)" = 200 &&
	grep "\"id\":\"$id\"" body &&
	grep "\"program\":\"hotspot\"" body &&
	grep "\"type\":\"cpu\"" body &&
	recv GET /v1/profiles/$id "$ALICE" &&
	test "$(cat status)" = 200 &&
	cmp "$HOT" body
'

test_expect_success 'the same profile pushed again is stored once' '
	recv POST /v1/push "$ALICE" "$HOT" &&
	test "$(cat status)" = 200 &&
	grep "\"id\":\"$id\",.*\"duplicate\":true" body &&
	pp-query -d store -l -o json >list.json &&
	test $(grep -c "\"id\":" list.json) = 1
'

test_expect_success 'no token, or a wrong one, is 401; tokens are not logged' '
	recv GET /v1/profiles "" &&
	test "$(cat status)" = 401 &&
	grep -i "^WWW-Authenticate: Bearer" resp &&
	recv GET /v1/profiles/$id 0000000000000000000000000000000000000000000000000000000000000000 &&
	test "$(cat status)" = 401 &&
	recv POST /v1/push "${ALICE%?}0" "$HOT" &&
	test "$(cat status)" = 401 &&
	! grep -F "$ALICE" recv.log &&
	! grep -F "$BOB" recv.log &&
	! grep -r -F -a "$ALICE" store &&
	! grep -r -F -a "$BOB" store
'

test_expect_success 'basic authentication with the token as password works' '
	{
		printf "GET /v1/profiles HTTP/1.1\r\nAuthorization: Basic %s\r\n\r\n" \
			"$(printf "alice:%s" "$ALICE" | base64 -w0)"
	} >req &&
	pp-recv -d store -L recv.log <req >resp &&
	head -n 1 resp | grep "^HTTP/1.1 200" &&
	grep -F "\"id\":\"$id\"" resp
'

test_expect_success 'bob sees none of alice'"'"'s profiles, and cannot fetch them' '
	recv GET /v1/profiles "$BOB" &&
	test "$(cat status)" = 200 &&
	test "$(cat body)" = "{\"profiles\":[],\"truncated\":false}" &&
	recv GET /v1/profiles/$id "$BOB" &&
	test "$(cat status)" = 404 &&
	! cmp "$HOT" body &&
	recv GET /v1/profiles/0123456789abcdef "$BOB" &&
	test "$(cat status)" = 404 &&
	cp body missing.body &&
	recv GET /v1/profiles/$id "$BOB" &&
	test_cmp missing.body body
'

test_expect_success 'bob storing the same bytes gets his own copy' '
	recv POST /v1/push "$BOB" "$HOT" &&
	test "$(cat status)" = 200 &&
	grep "\"duplicate\":false" body &&
	bobid=$(sed "s/.*\"id\":\"\([0-9a-f]*\)\".*/\1/" body) &&
	test "$bobid" != "$id" &&
	recv GET /v1/profiles/$bobid "$ALICE" &&
	test "$(cat status)" = 404 &&
	pp-query -d store -u alice -l >a && grep $id a && ! grep $bobid a &&
	pp-query -d store -u bob -l >b && grep $bobid b && ! grep $id b &&
	pp-query -d store -l >all && test_line_count = 3 all
'

test_with_shared 'a tar bundle made by GNU tar is stored in one go' '
	mkdir bundle &&
	cp "$SHARED_PROFILES/go-heap.pb.gz" bundle/h.pb.gz &&
	cp "$SHARED_PROFILES/go-cpu.pb.gz" bundle/c.pb.gz &&
	(
		cd bundle &&
		printf "{\"version\":1,\"profiles\":[" >MANIFEST &&
		printf "{\"name\":\"h.pb.gz\",\"sha256\":\"%s\",\"host\":\"h1\",\"labels\":[\"env=test\"]}," \
			$(sha256sum h.pb.gz | cut -c1-64) >>MANIFEST &&
		printf "{\"name\":\"c.pb.gz\",\"sha256\":\"%s\",\"host\":\"h1\"}]}" \
			$(sha256sum c.pb.gz | cut -c1-64) >>MANIFEST &&
		tar cf ../b.tar MANIFEST h.pb.gz c.pb.gz
	) &&
	recv POST /v1/push "$ALICE" b.tar &&
	test "$(cat status)" = 200 &&
	grep "\"name\":\"h.pb.gz\"" body && grep "\"name\":\"c.pb.gz\"" body &&
	pp-query -d store -u alice -H h1 -l >l &&
	test_line_count = 3 l &&
	grep " heap .* env=test" l &&
	pp-query -d store -u alice -t heap -L env=test -l >l &&
	test_line_count = 2 l &&
	pp-query -d store -u alice -t inuse_space -l >l &&
	test_line_count = 2 l
'

test_with_shared 'a bundle with one corrupt profile stores nothing (422)' '
	pp-query -d store -l >before &&
	mkdir bad && cp "$SHARED_PROFILES/go-mutex.pb.gz" bad/ok.pb.gz &&
	head -c 300 "$SHARED_PROFILES/go-block.pb.gz" >bad/cut.pb.gz &&
	(
		cd bad &&
		printf "{\"version\":1,\"profiles\":[{\"name\":\"ok.pb.gz\",\"sha256\":\"%s\"},{\"name\":\"cut.pb.gz\",\"sha256\":\"%s\"}]}" \
			$(sha256sum ok.pb.gz | cut -c1-64) \
			$(sha256sum cut.pb.gz | cut -c1-64) >MANIFEST &&
		tar czf ../bad.tgz MANIFEST ok.pb.gz cut.pb.gz
	) &&
	recv POST /v1/push "$ALICE" bad.tgz &&
	test "$(cat status)" = 422 &&
	grep "\"refused\":\[{\"name\":\"cut.pb.gz\",\"error\":\"not a valid profile" body &&
	grep "\"stored\":\[\]" body &&
	pp-query -d store -l >after &&
	test_cmp before after
'

test_expect_success 'garbage, a truncated request and an oversized body store nothing' '
	pp-query -d store -l >before &&
	printf "this is not a profile" >garbage &&
	recv POST /v1/push "$ALICE" garbage &&
	test "$(cat status)" = 422 &&
	grep "not a valid profile" body &&
	request POST /v1/push "$ALICE" "$HOT" &&
	head -c $(( $(wc -c <req) - 100 )) req >half &&
	pp-recv -d store -L recv.log <half >resp;
	head -n 1 resp | grep "^HTTP/1.1 400" &&
	printf "POST /v1/push HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Length: 100000000\r\n\r\nxx" "$ALICE" >big &&
	pp-recv -d store -L recv.log <big >resp;
	head -n 1 resp | grep "^HTTP/1.1 413" &&
	printf "GARBAGE\r\n\r\n" | pp-recv -d store -L recv.log >resp;
	head -n 1 resp | grep "^HTTP/1.1 400" &&
	pp-query -d store -l >after &&
	test_cmp before after
'

test_expect_success 'gzip bombs are refused while they are unpacked' '
	pp-query -d store -l >before &&
	yes | head -c 300000000 | gzip -9 >bomb.gz &&
	test $(wc -c <bomb.gz) -lt 1000000 &&
	recv POST /v1/push "$ALICE" bomb.gz &&
	test "$(cat status)" = 413 &&
	head -c 300000000 /dev/zero | gzip -1 >zeros.gz &&
	recv POST /v1/push "$ALICE" zeros.gz &&
	grep "^4" status &&
	pp-query -d store -l >after &&
	test_cmp before after
'

test_expect_success 'labels: bytes that are not UTF-8 become ?, more than 64 are refused' '
	pp-record --heap -m 1 -o lab -l "k=$(printf "a\351b")" -l "n=$(printf "\303\251t\303\251")" \
		-- ls / >/dev/null &&
	recv POST /v1/push "$ALICE" lab/*.heap.pb.gz &&
	test "$(cat status)" = 200 &&
	recv GET "/v1/profiles?program=ls" "$ALICE" &&
	test "$(cat status)" = 200 &&
	grep -F "\"labels\":[\"k=a?b\",\"n=\\u00E9t\\u00E9\"]" body &&
	set -- && i=0 &&
	while test $i -lt 65; do set -- "$@" -l "l$i=v"; i=$((i + 1)); done &&
	pp-record --heap -m 1 -o many "$@" -- ls / >/dev/null &&
	pp-query -d store -l >before &&
	recv POST /v1/push "$ALICE" many/*.heap.pb.gz &&
	test "$(cat status)" = 422 &&
	grep "more than 64 labels" body &&
	pp-query -d store -l >after &&
	test_cmp before after
'

test_expect_success 'a listing says when a limit cut it short' '
	recv GET "/v1/profiles?limit=1" "$ALICE" &&
	test "$(cat status)" = 200 &&
	test $(grep -o "\"id\":" body | wc -l) = 1 &&
	grep "\"truncated\":true" body &&
	recv GET "/v1/profiles?limit=100" "$ALICE" &&
	grep "\"truncated\":false" body
'

test_expect_success 'unknown paths are 404, wrong methods 405' '
	recv GET /nothing "$ALICE" &&
	test "$(cat status)" = 404 &&
	recv GET /v1/push "$ALICE" &&
	test "$(cat status)" = 405 &&
	recv DELETE /v1/profiles/$id "$ALICE" &&
	test "$(cat status)" = 405
'

test_expect_success 'the log has one line per exchange, and no stderr' '
	recv GET /v1/profiles "$ALICE" 2>err &&
	test ! -s err &&
	tail -n 1 recv.log | grep " alice GET /v1/profiles 200 listed"
'

# The path is the client's: bytes that are not printable UTF-8 (here an
# invalid byte and a C1 control as UTF-8) reach the log as ?, and "é" as
# itself.
test_expect_success 'the log stays one line of printable UTF-8 whatever the path' '
	printf "GET /x\377y\302\205z\303\251w HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n\r\n" \
		"$ALICE" >req &&
	printf " alice GET /x?y?z\303\251w 404 " >want &&
	lines=$(wc -l <recv.log) &&
	pp-recv -d store -L recv.log <req >resp &&
	test $(wc -l <recv.log) = $((lines + 1)) &&
	tail -n 1 recv.log >last &&
	cat last &&
	grep -F -f want last &&
	iconv -f UTF-8 -t UTF-8 recv.log >/dev/null
'

test_with_shared 'pp-query merges what it selects as go tool pprof does' '
	pp-query -d store -u alice -t cpu >merged.pb.gz &&
	go tool pprof -top -nodecount=1000 merged.pb.gz >got 2>/dev/null &&
	go tool pprof -top -nodecount=1000 "$HOT" "$SHARED_PROFILES/go-cpu.pb.gz" >want 2>/dev/null &&
	sed -n "/flat%/,\$p" want >want.rows && sed -n "/flat%/,\$p" got >got.rows &&
	test_line_count -gt 5 want.rows &&
	test_cmp want.rows got.rows
'

test_with_shared 'pp-query --base-since compares as pprof -diff_base does' '
	pp-query -d store -u alice -t cpu -l -o json >l.json &&
	hs=$(grep -A8 "\"program\": \"hotspot\"" l.json | sed -n "s/.*\"start_ns\": \([0-9]*\)[0-9]\{9\},/\1/p") &&
	gs=$(grep -A8 "\"sample_types\": \"samples/count,cpu/nanoseconds\"" l.json | sed -n "s/.*\"start_ns\": \([0-9]*\)[0-9]\{9\},/\1/p" | grep -v "^$hs$") &&
	test -n "$hs" && test -n "$gs" &&
	pp-query -d store -u alice -t cpu --since @$hs --until @$((hs + 1)) \
		--base-since @$gs --base-until @$((gs + 1)) >diff.pb.gz &&
	go tool pprof -top -nodecount=1000 diff.pb.gz >got 2>/dev/null &&
	go tool pprof -top -nodecount=1000 -diff_base "$SHARED_PROFILES/go-cpu.pb.gz" "$HOT" >want 2>/dev/null &&
	sed -n "/flat%/,\$p" want >want.rows && sed -n "/flat%/,\$p" got >got.rows &&
	test_line_count -gt 5 want.rows &&
	test_cmp want.rows got.rows
'

test_with_shared 'pp-query --base FILE compares with a file as -diff_base does' '
	pp-query -d store -u alice -t cpu --since @$hs --until @$((hs + 1)) \
		--base "$SHARED_PROFILES/go-cpu.pb.gz" >diff2.pb.gz &&
	go tool pprof -top -nodecount=1000 diff2.pb.gz 2>/dev/null | sed -n "/flat%/,\$p" >got2.rows &&
	test_cmp want.rows got2.rows &&
	test_expect_code 2 pp-query -d store --base x --base-since 1h 2>err &&
	grep "not both" err
'

test_expect_success 'Pyroscope ingest: a raw pprof, and one in a multipart form' '
	printf "main;ingest;raw 7\n" | pp-test fromfolded >raw.pb.gz &&
	recv POST "/ingest?name=shop.cpu%7Benv%3Dstaging%2Cregion%3Deu%7D&from=1700000000&until=1700000010&format=pprof" "$ALICE" raw.pb.gz &&
	test "$(cat status)" = 200 &&
	pp-query -d store -u alice -p shop -l >l &&
	test_line_count = 2 l &&
	grep " cpu .*env=staging,region=eu" l &&
	printf "main;ingest;form 9\n" | pp-test fromfolded >form.pb.gz &&
	{
		printf -- "--XyZ\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n"
		printf "Content-Type: application/octet-stream\r\n\r\n"
		cat form.pb.gz
		printf "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"sample_type_config\"\r\n\r\n{}\r\n--XyZ--\r\n"
	} >form.body &&
	{
		printf "POST /ingest?name=shop&from=1700000100&until=1700000110 HTTP/1.1\r\n"
		printf "Authorization: Bearer %s\r\n" "$ALICE"
		printf "Content-Type: multipart/form-data; boundary=XyZ\r\n"
		printf "Content-Length: %d\r\n\r\n" $(wc -c <form.body)
		cat form.body
	} >req &&
	pp-recv -d store -L recv.log <req >resp &&
	head -n 1 resp | grep "^HTTP/1.1 200" &&
	pp-query -d store -u alice -p shop -t cpu >shop.pb.gz &&
	pp-render -f top shop.pb.gz >top &&
	grep " raw$" top && grep " form$" top &&
	recv POST "/ingest?name=shop&from=x" "$ALICE" raw.pb.gz &&
	test "$(cat status)" = 400 &&
	recv POST "/ingest?name=shop&format=jfr" "$ALICE" raw.pb.gz &&
	test "$(cat status)" = 400
'

test_expect_success 'pp-query says so when nothing matches, or there is no store' '
	test_must_fail pp-query -d store -p nosuch >out 2>err &&
	grep "^pp-query: no profiles match" err &&
	test_must_fail pp-query -d nostore -l 2>err &&
	grep "no store in .nostore." err
'

# script(1) runs the commands with a terminal as standard output; it runs
# them with $SHELL, which is dash in a bare environment.
if command -v script >/dev/null 2>&1; then
test_expect_success 'pp-query refuses to write a profile to a terminal' '
	pp-query -d store -u alice -p hotspot >want.pb.gz &&
	test -s want.pb.gz &&
	SHELL=/bin/sh script -qec "
		pp-query -d store -u alice -p hotspot; echo \"status \$?\"
		pp-query -d store -u alice -p hotspot >tty.pb.gz; echo \"status \$?\"
	" /dev/null >typescript &&
	tr -d "\r" <typescript >out &&
	cat out &&
	cat >expect <<-\EOF &&
	pp-query: not writing a binary profile to a terminal; redirect or pipe the output (or list with -l)
	status 1
	status 0
	EOF
	test_cmp expect out &&
	cmp want.pb.gz tty.pb.gz
'
else
	test_skip 'pp-query refuses to write a profile to a terminal' 'no script(1)'
fi

test_expect_success 'pp-query --expire deletes old profiles only' '
	pp-query -d store -l >before &&
	n=$(wc -l <before) &&
	pp-query -d store -v --expire 3650d 2>err &&
	grep "deleted 0 profiles" err &&
	pp-query -d store -u bob -v --expire 1s 2>err &&
	grep "deleted 1 profiles" err &&
	pp-query -d store -l >after &&
	test_line_count = $((n - 1)) after &&
	! grep " bob " after &&
	recv GET /v1/profiles/$bobid "$BOB" &&
	test "$(cat status)" = 404
'

# commits DIR: the transactions DIR's Berkeley DB environment committed
# since it was made (or last recovered).
commits() {
	db5.3_stat -h "$1" -t |
	sed -n 's/^\([0-9]*\)[[:space:]]*Number of transactions committed$/\1/p'
}

# starts: "id start_ns" for each profile of a pp-query -l -o json listing.
starts() {
	awk '/^  "id": / { gsub(/[",]/, "", $2); id = $2 }
	    /^  "start_ns": / { sub(/,/, "", $2); print id, $2 }'
}

# A store of 5500 records started over the last 10 days, 157 s apart;
# about 4950 are more than a day old. Expiring one day deletes them in
# transactions of at most 1000, so in at least 5 where an expiry that
# deletes nothing commits one (each commits as many others besides):
# at least 4 more commits.
if command -v db5.3_stat >/dev/null 2>&1; then
test_expect_success 'pp-query --expire deletes in transactions of at most 1000' '
	pp-store-fill old 3 4 5500 10 &&
	pp-query -d old -l -o json | starts >before &&
	test_line_count = 5500 before &&
	c0=$(commits old) &&
	pp-query -d old -v --expire 3650d 2>err &&
	grep "deleted 0 profiles" err &&
	c1=$(commits old) &&
	t0=$(date +%s%N) &&
	pp-query -d old -v --expire 1d 2>err &&
	t1=$(date +%s%N) &&
	c2=$(commits old) &&
	cat err &&
	d=$(sed -n "s/^pp-query: deleted \([0-9]*\) profiles older than 1d\$/\1/p" err) &&
	echo "$((c1 - c0)) commits to delete none, $((c2 - c1)) to delete $d" &&
	test $((c2 - c1 - (c1 - c0))) -ge $(((d + 999) / 1000 - 1)) &&
	day=86400000000000 &&
	: the cutoff was between t0 and t1, a day ago &&
	while read -r id start; do
		if test $start -lt $((t0 - day)); then
			echo $id >>gone
		elif test $start -ge $((t1 - day)); then
			echo $id >>kept
		fi
	done <before &&
	test_line_count -ge 4900 gone &&
	test_line_count -ge 500 kept &&
	test $d -ge $(wc -l <gone) &&
	pp-query -d old -l -o json | starts | cut -d " " -f 1 | sort >after &&
	test_line_count = $((5500 - d)) after &&
	sort kept | comm -23 - after >missing &&
	test_line_count = 0 missing &&
	sort gone | comm -12 - after >stayed &&
	test_line_count = 0 stayed
'
else
	test_skip 'pp-query --expire deletes in transactions of at most 1000' \
		'no db5.3_stat (Debian package db5.3-util)'
fi

test_expect_success 'user del: the token stops working at once' '
	recv GET /v1/profiles "$BOB" &&
	test "$(cat status)" = 200 &&
	recv POST /v1/push "$BOB" "$HOT" &&
	test "$(cat status)" = 200 &&
	pp-query -d store -u bob -l >bobs &&
	test_line_count = 2 bobs &&
	pp-recv -d store user del bob 2>err &&
	grep "removed user .bob. and their 1 profiles" err &&
	recv GET /v1/profiles "$BOB" &&
	test "$(cat status)" = 401 &&
	pp-query -d store -u bob -l >bobs &&
	test_line_count = 1 bobs &&
	pp-recv -d store user add bob | tail -n 1 >bob2.token &&
	recv GET /v1/profiles "$(cat bob2.token)" &&
	test "$(cat body)" = "{\"profiles\":[],\"truncated\":false}" &&
	pp-recv -d store user del bob &&
	pp-recv -d store user list >list &&
	test_line_count = 1 list &&
	test_must_fail pp-recv -d store user del bob 2>err &&
	grep "no user .bob." err &&
	recv GET /v1/profiles "$ALICE" &&
	test "$(cat status)" = 200
'

test_expect_success 'a store path that is a file: said so, nothing made' '
	echo x >afile &&
	test_must_fail pp-recv -d afile user add carol >out 2>err &&
	echo "pp-recv: no store in '\''afile'\'': not a directory" >expect &&
	test_cmp expect err && test_line_count = 0 out &&
	test_must_fail pp-query -d afile -l 2>err &&
	grep "no store in '\''afile'\'': not a directory" err &&
	echo x >expect && test_cmp expect afile
'

test_done
