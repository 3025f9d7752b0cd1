#!/bin/bash
# pp-query -l's table, and pp-recv user add when its cleanup fails:
#
#  - the table is aligned as ls -l aligns its own: every row's columns
#    start (numbers: end) where their headings do, however long a user,
#    program or host name is, in the listing of the store and in the
#    listing a receiver gives (--remote), which are the same table;
#  - past the first 1000 rows the widths stay: a longer value there pushes
#    only its own row along, and every row still starts with its id;
#  - pp-recv user add is all or nothing: when deleting what an earlier
#    user of the name left fails, the user is removed again, no token is
#    printed, and a later add works. A lock table too small for the
#    cleanup makes it fail; a file size limit, as t0390 uses, would not
#    do: past it, removing the user again fails as well.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"
. "$TEST_DIRECTORY/lib-pb.sh"
. "$TEST_DIRECTORY/lib-recv.sh"

LONGUSER=a-user-whose-name-is-longer-than-twelve
LONGPROG=a-program-whose-name-is-longer-than-sixteen
LONGHOST=a-host-whose-name-is-longer-than-sixteen.example.com
LASTPROG=zz-a-program-with-a-long-name-that-sorts-last

# mkprof FILE PROGRAM HOST START LABEL...: a CPU profile of one sample
# that says its program, host and labels as pp-record does (#pp comments),
# started at START (Unix seconds).
mkprof() {
	local file=$1 prog=$2 host=$3 start=$4 s st= comments
	shift 4
	local -a strs=("" samples count cpu nanoseconds /bin/x main
		"#pp program=$prog" "#pp host=$host")
	comments="$(pb_int 13 7) $(pb_int 13 8)"
	for s in "$@"; do
		strs+=("#pp label=$s")
		comments="$comments $(pb_int 13 $((${#strs[@]} - 1)))"
	done
	for s in "${strs[@]}"; do
		st="$st $(pb_str "$s")"
	done
	pb_write $(pb_len 1 $(pb_int 1 1) $(pb_int 2 2)) \
		$(pb_len 1 $(pb_int 1 3) $(pb_int 2 4)) \
		$(pb_len 2 $(pb_len 1 $(pb_varint 1)) \
			$(pb_len 2 $(pb_varint 1) $(pb_varint 10000000))) \
		$(pb_len 3 $(pb_int 1 1) $(pb_int 2 4096) $(pb_int 3 1048576) \
			$(pb_int 5 5)) \
		$(pb_len 4 $(pb_int 1 1) $(pb_int 2 1) $(pb_int 3 4097) \
			$(pb_len 4 $(pb_int 1 1) $(pb_int 2 1))) \
		$(pb_len 5 $(pb_int 1 1) $(pb_int 2 6) $(pb_int 3 6) \
			$(pb_int 4 5)) \
		$st $(pb_int 9 $((start * 1000000000))) \
		$(pb_int 10 10000000000) \
		$(pb_len 11 $(pb_int 1 3) $(pb_int 2 4)) $(pb_int 12 10000000) \
		$comments >"$file"
}

# aligned FILE: a table (its first line the headings) whose rows have each
# column where its heading is: starting at the heading's first character,
# or for LENGTH and SIZE ending at its last. A row without labels has one
# column fewer. The values here hold no spaces. Prints the rows that do
# not fit, and fails if there are any, or no rows.
aligned() {
	awk '
	# spans(s, st, en): the words of s, their first and last offsets.
	function spans(s, st, en,    i, n, c, prev) {
		n = 0
		prev = " "
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c != " " && prev == " ")
				st[++n] = i
			if (c != " ")
				en[n] = i
			prev = c
		}
		return n
	}
	NR == 1 {
		nh = spans($0, hs, he)
		for (i = 1; i <= nh; i++)
			head[i] = $i
		next
	}
	{
		rows++
		n = spans($0, rs, re)
		bad = n != nh && n != nh - 1
		for (i = 1; !bad && i <= n; i++)
			if (head[i] == "LENGTH" || head[i] == "SIZE")
				bad = re[i] != he[i]
			else
				bad = rs[i] != hs[i]
		if (bad) {
			print "not aligned with the headings: " $0
			status = 1
		}
	}
	END {
		if (!rows) {
			print "no rows"
			status = 1
		}
		exit status
	}' "$1"
}

test_expect_success 'setup: two users with short and long names, profiles' '
	RECV_STORE=$TRASH_DIRECTORY/store &&
	add_user "$LONGUSER" && add_user bo &&
	mkprof p1.pb "$LONGPROG" "$LONGHOST" 1700000000 env=prod zone=a &&
	mkprof p2.pb web h1 1700000600 &&
	mkprof p3.pb "$LONGPROG" h2 1700001200 env=test &&
	mkprof p4.pb db "$LONGHOST" 1700001800 &&
	recv_push "$LONGUSER" p1.pb && recv_push "$LONGUSER" p2.pb &&
	recv_push "$LONGUSER" p3.pb && recv_push bo p4.pb &&
	pp-query -d store -l >all &&
	test_line_count = 5 all
'

test_expect_success 'the store'"'"'s listing of every user is aligned' '
	cat all &&
	aligned all &&
	head -n 1 all >head &&
	printf "%-16s  %-${#LONGUSER}s  %-20s  %6s  %-${#LONGPROG}s  %-4s  %-${#LONGHOST}s  %4s  %s\n" \
		ID USER START LENGTH PROGRAM TYPE HOST SIZE LABELS >want &&
	test_cmp want head &&
	grep "^[0-9a-f]\{16\}  $LONGUSER  [0-9T:Z-]\{20\}   10\.0s  $LONGPROG  cpu   $LONGHOST   [0-9]\{3\}  env=prod,zone=a\$" all &&
	grep "^[0-9a-f]\{16\}  bo  .*  db  .*  $LONGHOST   [0-9]\{3\}\$" all
'

test_expect_success 'one user'"'"'s listing is aligned too, without USER' '
	pp-query -d store -u "$LONGUSER" -l >one &&
	cat one &&
	test_line_count = 4 one &&
	aligned one &&
	! grep USER one &&
	! grep " \$" one
'

test_expect_success 'rows still start with the id and a space (as scripts read them)' '
	grep -c "^[0-9a-f]\{16\} " all >n &&
	echo 4 >want && test_cmp want n &&
	sed 1d all | cut -d " " -f 1 >ids &&
	pp-query -d store -l -o json |
	sed -n "s/^ *\"id\": \"\([0-9a-f]*\)\".*/\1/p" >json-ids &&
	test_cmp json-ids ids
'

test_expect_success 'past the first 1000 rows the widths stay; a longer value pushes only its row' '
	add_user u0 &&
	# Newer than the 1200 below, so listed after them.
	mkprof last.pb "$LASTPROG" h1 $(($(date +%s) + 3600)) &&
	recv_push u0 last.pb &&
	pp-store-fill store 1 1 1200 1 &&
	pp-query -d store -u u0 -l >many &&
	test_line_count = 1202 many &&
	tail -n 1 many | grep -- "$LASTPROG" &&
	head -n 1 many | grep "  PROGRAM  TYPE  HOST   SIZE  LABELS\$" &&
	head -n -1 many >rest &&
	aligned rest &&
	tail -n 1 many |
	grep "^[0-9a-f]\{16\}  [0-9T:Z-]\{20\}   10\.0s  $LASTPROG  cpu   h1      [0-9]\{3\}\$"
'

if test_have_inetd; then
	test_expect_success 'setup: the receiver under inetd' '
		start_recv
	'

	test_expect_success 'the listing a receiver gives (--remote) is the same table' '
		pp-query --remote "$PP_URL" -T "$LONGUSER.token" -l >remote &&
		cat remote &&
		aligned remote &&
		test_cmp one remote &&
		pp-query --remote "$PP_URL" -T u0.token -l >remote-many &&
		test_cmp many remote-many
	'
else
	test_skip 'the listing a receiver gives (--remote) is the same table' \
		'neither inetd nor systemd-socket-activate'
fi

# The cleanup fails here for want of locks: a lock table (DB_CONFIG)
# large enough for adding or removing a user, too small for deleting a
# thousand profiles in one transaction, as the cleanup does.
test_expect_success 'pp-recv user add: when the cleanup fails, no user and no token' '
	LOST=$TRASH_DIRECTORY/lost &&
	pp-store-fill "$LOST" 1 1 3000 1 &&
	pp-recv -d "$LOST" user add keeper | tail -n 1 >keeper.token &&
	pp-query -d "$LOST" -u u0 -l >before &&
	test_line_count = 3001 before &&
	printf "set_lk_max_locks 50\nset_lk_max_objects 50\n" >"$LOST/DB_CONFIG" &&
	recv_crash "$LOST" keeper.token &&
	test_expect_code 1 pp-recv -d "$LOST" user add u0 >out 2>err &&
	cat err &&
	test_line_count = 0 out &&
	grep "^pp-recv: cannot add user '\''u0'\'': store '\''$LOST'\'': cannot delete old profiles: .*lock" err &&
	test_line_count = 1 err &&
	pp-recv -d "$LOST" user list >users &&
	cut -d " " -f 1 users >names &&
	echo keeper >want && test_cmp want names &&
	pp-query -d "$LOST" -u u0 -l >after &&
	test_cmp before after
'

test_expect_success 'pp-recv user add: once the cleanup can run, the add works' '
	rm "$LOST/DB_CONFIG" &&
	recv_crash "$LOST" keeper.token &&
	pp-recv -d "$LOST" user add u0 >out &&
	grep -E "^[0-9a-f]{64}\$" out &&
	pp-recv -d "$LOST" user list >users &&
	grep "^u0 " users &&
	pp-query -d "$LOST" -u u0 -l >after &&
	test_line_count = 1 after
'

test_done
