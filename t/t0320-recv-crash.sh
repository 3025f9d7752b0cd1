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
		pp-test fromfolded >p/$i.pb.gz || exit 1
		{
			printf "POST /v1/push HTTP/1.1\r\nAuthorization: Bearer %s\r\n" "$TOKEN"
			printf "Content-Length: %d\r\n\r\n" $(wc -c <p/$i.pb.gz)
			cat p/$i.pb.gz
		} >p/$i.req
		i=$((i + 1))
	done &&
	test $(sha256sum p/*.pb.gz | cut -c1-64 | sort -u | wc -l) = $N
'

test_expect_success 'uploads killed at random moments' '
	i=0 &&
	while test $i -lt $N; do
		pp-recv -d store -L recv.log <p/$i.req >p/$i.resp 2>/dev/null &
		pid=$!
		# 0 to 40 ms: before, during and after the commit.
		sleep 0.0$((RANDOM % 40 / 10))$((RANDOM % 10))
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		i=$((i + 1))
	done &&
	grep -l "^HTTP/1.1 200" p/*.resp >acked || : &&
	echo "$(wc -l <acked) of $N answered 200" &&
	ls p/*.resp | wc -l
'

test_expect_success 'the store opens and lists, after recovery' '
	pp-query -d store -l -o json >list.json &&
	grep "\"id\":" list.json | sed "s/.*\"id\": \"\([0-9a-f]*\)\".*/\1/" >ids &&
	echo "$(wc -l <ids) stored"
'

test_expect_success 'every upload answered 200 is stored and intact' '
	while read resp; do
		i=$(basename $resp .resp)
		id=$(sed -n "s/.*\"id\":\"\([0-9a-f]*\)\".*/\1/p" $resp)
		test -n "$id" || { echo "no id in $resp"; exit 1; }
		grep -x $id ids || { echo "$i ($id) answered 200, not stored"; exit 1; }
		printf "GET /v1/profiles/%s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" $id "$TOKEN" |
		pp-recv -d store -L recv.log | sed "1,/^\r$/d" >got &&
		cmp p/$i.pb.gz got || { echo "$i ($id) differs"; exit 1; }
	done <acked
'

test_expect_success 'everything stored is whole: each profile is one that was sent' '
	sha256sum p/*.pb.gz | cut -c1-64 | sort >sent &&
	while read id; do
		printf "GET /v1/profiles/%s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" $id "$TOKEN" |
		pp-recv -d store -L recv.log | sed "1,/^\r$/d" >got &&
		pp-render -f top got >/dev/null &&
		h=$(sha256sum got | cut -c1-64) &&
		grep -x $h sent || { echo "$id is not a profile that was sent"; exit 1; }
	done <ids &&
	sort ids | uniq -d >dups &&
	test ! -s dups
'

test_expect_success 'after the crashes uploads work again, and resend nothing twice' '
	i=0 &&
	while test $i -lt $N; do
		pp-recv -d store -L recv.log <p/$i.req >p/$i.resp2 &&
		grep "^HTTP/1.1 200" p/$i.resp2 >/dev/null || { cat p/$i.resp2; exit 1; }
		i=$((i + 1))
	done &&
	pp-query -d store -l >all &&
	test_line_count = $((N + 1)) all
'

test_done
