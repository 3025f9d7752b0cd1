#!/bin/bash
# pp-recv killed with SIGKILL at random moments during 100 uploads: the
# store opens afterwards (the next process recovers it), every upload that
# was answered 200 is there and intact, and nothing half-stored is visible.
. "$(dirname "$0")/lib.sh"

N=100

test_expect_success 'a store and 100 distinct profiles' '
	pp-recv -d store user add alice | tail -n 1 >alice.token &&
	TOKEN=$(cat alice.token) &&
	mkdir p &&
	i=0 &&
	while test $i -lt $N; do
		printf "main;work;f%d %d\nmain;other %d\n" $i $((i + 1)) $((i % 7 + 1)) |
		pp-test fromfolded >p/$i.pb.gz || return 1
		{
			printf "POST /v1/push HTTP/1.1\r\nAuthorization: Bearer %s\r\n" "$TOKEN"
			printf "Content-Length: %d\r\n\r\n" $(wc -c <p/$i.pb.gz)
			cat p/$i.pb.gz
		} >p/$i.req
		i=$((i + 1))
	done &&
	test $(sha256sum p/*.pb.gz | cut -c1-64 | sort -u | wc -l) = $N
'

# upload I PASS MS: pp-recv takes upload I and is killed after 0 to MS-1
# ms, unless it is done by then; its answer goes to p/I.PASS.resp, and
# p/I.PASS.cut is made when the kill ended it before it answered. The
# wait is read -t on a FIFO that nobody writes, which starts no process
# (sleep(1) would take a ms or two itself, as long as an upload).
upload() {
	local pid code delay
	printf -v delay "0.%03d" $((RANDOM % $3))
	pp-recv -d store -L recv.log <p/$1.req >p/$1.$2.resp 2>/dev/null &
	pid=$!
	read -r -t $delay _ <>never
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	code=$?
	if test $code = 137 && ! grep -q "^HTTP/1\.1 [0-9]" p/$1.$2.resp; then
		: >p/$1.$2.cut
	fi
}

# answered: the responses in p/ that are a whole 200 answer, its body as
# long as its Content-Length says. (pp-recv writes the headers and the
# body apart: a kill between them leaves a status line and no answer,
# which a client does not take for one.)
answered() {
	local r cl
	for r in p/*.resp; do
		grep -q "^HTTP/1\.1 200 " "$r" || continue
		cl=$(sed -n "s/^Content-Length: \([0-9]*\)\r\$/\1/p" "$r")
		test -n "$cl" &&
		test "$(sed "1,/^\r\$/d" "$r" | wc -c)" = "$cl" &&
		echo "$r"
	done
}

# Kills within 40 ms fall before, during and after the commit where an
# upload takes 1 to 4 ms (about 10 built with the sanitizers). The test
# needs both: answers (else it checks nothing) and kills that landed
# before one. Should a pass of 100 lack either, another pass goes again
# with kills later (none answered) or sooner (none cut off).
test_expect_success 'uploads killed at random moments' '
	mkfifo never &&
	pass=1 ms=40 &&
	while :; do
		i=0 &&
		while test $i -lt $N; do
			upload $i $pass $ms
			i=$((i + 1))
		done &&
		answered >acked
		ls p/*.cut >cut 2>/dev/null
		echo "pass $pass, kills within $ms ms: so far $(wc -l <acked) answers 200, $(wc -l <cut) uploads cut off before an answer" &&
		if test -s acked && test -s cut; then
			break
		elif test $pass = 3; then
			echo "no pass had both answers and kills that cut one off"
			return 1
		elif test -s acked; then
			ms=$((ms / 4 + 1))
		else
			ms=$((ms * 4))
		fi
		pass=$((pass + 1))
	done
'

test_expect_success 'the store opens and lists, after recovery' '
	pp-query -d store -l -o json >list.json &&
	grep "\"id\":" list.json | sed "s/.*\"id\": \"\([0-9a-f]*\)\".*/\1/" >ids &&
	echo "$(wc -l <ids) stored"
'

test_expect_success 'every upload answered 200 is stored and intact' '
	while read resp; do
		i=${resp#p/} && i=${i%%.*}
		id=$(sed -n "s/.*\"id\":\"\([0-9a-f]*\)\".*/\1/p" $resp)
		test -n "$id" || { echo "no id in $resp"; return 1; }
		grep -x $id ids || { echo "$i ($id) answered 200, not stored"; return 1; }
		printf "GET /v1/profiles/%s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" $id "$TOKEN" |
		pp-recv -d store -L recv.log | sed "1,/^\r$/d" >got &&
		cmp p/$i.pb.gz got || { echo "$i ($id) differs"; return 1; }
	done <acked
'

test_expect_success 'everything stored is whole: each profile is one that was sent' '
	sha256sum p/*.pb.gz | cut -c1-64 | sort >sent &&
	while read id; do
		printf "GET /v1/profiles/%s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" $id "$TOKEN" |
		pp-recv -d store -L recv.log | sed "1,/^\r$/d" >got &&
		pp-render -f top got >/dev/null &&
		h=$(sha256sum got | cut -c1-64) &&
		grep -x $h sent || { echo "$id is not a profile that was sent"; return 1; }
	done <ids &&
	sort ids | uniq -d >dups &&
	test ! -s dups
'

test_expect_success 'after the crashes uploads work again, and resend nothing twice' '
	i=0 &&
	while test $i -lt $N; do
		pp-recv -d store -L recv.log <p/$i.req >p/$i.resp2 &&
		grep "^HTTP/1.1 200" p/$i.resp2 >/dev/null || { cat p/$i.resp2; return 1; }
		i=$((i + 1))
	done &&
	pp-query -d store -l >all &&
	test_line_count = $((N + 1)) all
'

test_done
