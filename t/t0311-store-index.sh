#!/bin/bash
# The store's host and label index (byattr.db): filters on a host or a
# label read only the records that have it. What pp-query and pp-recv's
# listing return through it must equal what the records themselves say
# (the unfiltered listing, filtered here with awk), in the same order; the
# index holds one key per record's host and per distinct label, also after
# uploads and expiry; a store made before the index (pp-store-old
# removes it) answers the same by reading every record until
# pp-query --expire has built the index, in bounded transactions, and
# whatever deletes there builds it first; and a filtered listing does not
# wait for a writer.
. "$(dirname "$0")/lib.sh"

# The listing of every owner: ID USER START LENGTH PROGRAM TYPE HOST SIZE
# LABELS (the labels joined by commas).
list_all() {
	pp-query -d store -l >all
}

# expect OWNER HOST PROGRAM TYPE LABEL...: the ids of the rows of all that
# match ("" matches anything), in their order.
expect() {
	awk -v o="$1" -v h="$2" -v p="$3" -v t="$4" -v ls="${*:5}" '
		NR == 1 { next }
		{
			if ((o != "" && $2 != o) || (h != "" && $7 != h) ||
			    (p != "" && $5 != p) || (t != "" && $6 != t))
				next
			n = split(ls, want, " ")
			for (i = 1; i <= n; i++)
				if (index("," $9 ",", "," want[i] ",") == 0)
					next
			print $1
		}' all
}

# ids < listing: the ids of a listing's rows.
ids() {
	sed 1d | cut -d " " -f 1
}

# check_filters: pp-query with filters on hosts and labels returns exactly
# the rows the unfiltered listing says it should, in its order.
check_filters() {
	list_all &&
	test "$(sed 1d all | wc -l)" -gt 0 &&
	expect u1 h3 "" "" >want && test "$(wc -l <want)" -gt 20 &&
	pp-query -d store -u u1 -H h3 -l | ids >got && test_cmp want got &&
	expect u1 "" "" "" env=prod >want && test "$(wc -l <want)" -gt 20 &&
	pp-query -d store -u u1 -L env=prod -l | ids >got &&
	test_cmp want got &&
	expect u2 h0 "" cpu rack=r1 >want && test "$(wc -l <want)" -gt 5 &&
	pp-query -d store -u u2 -H h0 -L rack=r1 -t cpu -l | ids >got &&
	test_cmp want got &&
	expect "" h5 "" "" >want && test "$(wc -l <want)" -gt 100 &&
	pp-query -d store -H h5 -l | ids >got && test_cmp want got &&
	expect "" h1 prog2 "" >want && test "$(wc -l <want)" -gt 20 &&
	pp-query -d store -p prog2 -H h1 -l | ids >got && test_cmp want got &&
	expect u0 "" prog3 "" env=test rack=r0 >want &&
	test "$(wc -l <want)" -gt 20 &&
	pp-query -d store -u u0 -p prog3 -L env=test -L rack=r0 -l | ids >got &&
	test_cmp want got &&
	expect u0 h6 "" heap env=test >want && test "$(wc -l <want)" -gt 20 &&
	head -n 7 want >want7 &&
	pp-query -d store -u u0 -H h6 -t heap -L env=test --limit 7 -l |
		ids >got && test_cmp want7 got &&
	pp-query -d store -u u0 -H nosuchhost -l | ids >got &&
	test_line_count = 0 got
}

# check_count: byattr.db has a key for each record's host and each of its
# labels, no more.
check_count() {
	list_all &&
	awk 'NR > 1 { n += 1 + ($9 == "" ? 0 : split($9, x, ",")) }
		END { print n + 0 }' all >want &&
	pp-store-old count store >got &&
	test_cmp want got
}

test_expect_success 'a new store indexes hosts and labels as they come' '
	# Users first: adding one deletes what its name left behind.
	pp-recv -d store user add u1 >out && tail -n 1 out >token &&
	pp-recv -d store user add u7 >out && tail -n 1 out >token7 &&
	pp-store-fill store 3 4 6000 10 7 &&
	check_filters &&
	check_count
'

test_expect_success 'the index is what answers a filter on a host or label' '
	# Marked complete but emptied, it finds nothing: the filters above
	# were answered by it.
	cp -a store marked &&
	pp-store-old unindex marked &&
	pp-query -d marked -u u1 -H h3 -l | ids >got &&
	test "$(wc -l <got)" -gt 20 &&
	pp-store-old mark marked &&
	pp-query -d marked -u u1 -H h3 -l | ids >got &&
	test_line_count = 0 got &&
	pp-query -d marked -u u1 -L env=prod -l | ids >got &&
	test_line_count = 0 got &&
	pp-query -d marked -u u1 -l | ids >got &&
	test "$(wc -l <got)" -eq 2000
'

test_expect_success 'pp-recv lists by host and label through the index' '
	printf "GET /v1/profiles?host=h3&label=env%%3Dtest HTTP/1.1\r\nHost: pp\r\nAuthorization: Bearer %s\r\n\r\n" \
		"$(cat token)" | pp-recv -d store -L recv.log >resp &&
	head -n 1 resp | grep "^HTTP/1.1 200 " &&
	sed "1,/^\r$/d" resp | grep -o "\"id\":\"[0-9a-f]*\"" |
		cut -d "\"" -f 4 >got &&
	expect u1 h3 "" "" env=test >want && test "$(wc -l <want)" -gt 20 &&
	test_cmp want got
'

test_expect_success 'a store made before the index answers the same, by reading' '
	pp-store-old unindex store &&
	check_filters &&
	pp-store-old count store >n && test "$(cat n)" = 0
'

test_expect_success 'what is stored meanwhile is indexed at once' '
	{
		printf "POST /ingest?name=app.cpu%%7Benv%%3Dnew%%2Crack%%3Dr1%%7D&from=1700000000&until=1700000010&format=pprof HTTP/1.1\r\nHost: pp\r\nAuthorization: Bearer %s\r\n" \
			"$(cat token7)" &&
		printf "Content-Length: %d\r\n\r\n" \
			"$(wc -c <"$SRC_ROOT/t/data/hotspot.cpu.pb.gz")" &&
		cat "$SRC_ROOT/t/data/hotspot.cpu.pb.gz"
	} >req &&
	pp-recv -d store -L recv.log <req >resp &&
	head -n 1 resp | grep "^HTTP/1.1 200 " &&
	pp-store-old count store >n &&
	list_all && grep " u7 .* env=new,rack=r1\$" all &&
	awk -v n="$(cat n)" '\''$2 == "u7" {
		k = 1 + ($9 == "" ? 0 : split($9, x, ","))
		exit !(n == k) }'\'' all
'

# Berkeley DB deletes a record's keys from every index and fails on one
# that lacks them: whatever deletes builds the index first.
test_expect_success 'removing a user from a store being indexed: all gone' '
	cp -a store deluser &&
	pp-recv -d deluser user del u1 2>err &&
	grep "removed user '\''u1'\'' and their 2000 profiles" err &&
	pp-query -d deluser -u u1 -l | ids >got && test_line_count = 0 got &&
	pp-query -d deluser -u u0 -H h3 -l | ids >got &&
	expect u0 h3 "" "" >want && test_cmp want got &&
	pp-recv -d deluser user add u0 >out 2>err &&
	test_line_count = 1 out &&
	pp-query -d deluser -u u0 -l | ids >got && test_line_count = 0 got
'

test_expect_success 'pp-query --expire builds the index in batches, then deletes' '
	pp-query -d store -v --expire 9d 2>err &&
	cat err &&
	grep "indexed 6001 profiles by host and label" err &&
	grep "deleted [1-9][0-9]* profiles older than 9d" err &&
	pp-query -d store -v --expire 30d 2>err &&
	! grep indexed err &&
	check_count &&
	check_filters &&
	# Marked complete now: emptied behind its back, it finds nothing.
	cp -a store check && pp-store-old unindex check &&
	pp-query -d check -u u1 -H h3 -l | ids >got &&
	test "$(wc -l <got)" -gt 20 &&
	pp-store-old mark check &&
	pp-query -d check -u u1 -H h3 -l | ids >got &&
	test_line_count = 0 got &&
	pp-query -d store -u u1 -H h3 -l | ids >got &&
	test "$(wc -l <got)" -gt 20
'

test_expect_success 'a filtered listing does not wait for a writer' '
	# (Not "mkfifo ... && ... &": the whole list would go in the
	# background.)
	rm -f hold.fifo && mkfifo hold.fifo || return 1
	pp-store-old hold store <hold.fifo >held &
	exec 8>hold.fifo &&
	i=0 &&
	while ! test -s held && test $i -lt 100; do
		sleep 0.1; i=$((i + 1))
	done &&
	test -s held &&
	timeout 60 pp-query -d store -u u1 -H h3 -l >l
	st=$?
	exec 8>&- &&
	wait &&
	test $st = 0 &&
	sed 1d l | wc -l >n && test "$(cat n)" -gt 20
'

test_expect_success 'expiry takes the expired records out of the index' '
	pp-query -d store --expire 5d 2>err &&
	list_all && test "$(sed 1d all | wc -l)" -lt 3500 &&
	check_count &&
	check_filters
'

test_done
