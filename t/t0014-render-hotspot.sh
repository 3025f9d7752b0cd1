#!/bin/bash
# A profile of a program with a known hot spot (t/data/hotspot: busyThree
# burns three times the CPU of busyOne), written by Go's runtime/pprof.
. "$(dirname "$0")/lib.sh"

prof=$TEST_DIRECTORY/data/hotspot.cpu.pb.gz

# cum (a count of samples) of the function named $1 in top table $2.
cum_of() { awk -v f="$1" '$6 == f { print $4 }' "$2"; }

test_expect_success 'the top table shows the 3:1 split' '
	pp-render -f top -i samples --nodefraction 0 "$prof" >top &&
	three=$(cum_of main.busyThree top) && one=$(cum_of main.busyOne top) &&
	test -n "$three" && test -n "$one" &&
	pct=$((100 * three / (three + one))) &&
	test "$pct" -ge 72 && test "$pct" -le 78
'

test_expect_success 'the hot function leads the call graph' '
	pp-render -f dot "$prof" >g.dot &&
	grep "^N1 \\[label=\"main\\\\nspin\\\\n" g.dot &&
	pp-render -o report.svg "$prof" &&
	grep -q "busyThree" report.svg
'

test_expect_success 'folded stacks put the samples under both callers' '
	pp-render -f folded -i samples "$prof" >folded &&
	grep -q "main.busyThree;main.spin [0-9]" folded &&
	grep -q "main.busyOne;main.spin [0-9]" folded
'

test_done
