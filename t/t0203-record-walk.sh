#!/bin/bash
# The agent's own stack walk for heap samples (lib/agent/walk.c: cached
# .eh_frame rules, a memo of the last walk) against libunwind, the walk
# it stands in for: in its unit test, frame by frame, and through
# pp-record, where every allocation of a program with stacks of many
# shapes must land on the same addresses either way (PP_AGENT_WALK=0
# makes the agent use libunwind alone).
. "$(dirname "$0")/lib.sh"

test_expect_success 'the unit test of the walk passes' '
	"$SRC_ROOT/t/unit/walk" >tap 2>err &&
	cat tap &&
	! grep "^not ok" tap &&
	test $(grep -c "^ok" tap) -ge 15 &&
	test ! -s err
'

command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'

test_expect_success 'build the program (no frame pointers)' '
	cc -O2 -g -fomit-frame-pointer -o shapes "$SRC_ROOT/t/progs/shapes.c" \
		-lpthread
'

# Both runs without address space randomisation, so that the two
# profiles' addresses can be compared as they are.
if command -v setarch >/dev/null 2>&1 && setarch -R true 2>/dev/null &&
   command -v go >/dev/null 2>&1; then
	# traces FILE: each sample's count and addresses, sorted.
	traces() {
		go tool pprof -traces -addresses -sample_index=alloc_objects \
			"$1" 2>/dev/null | python3 -c '
import sys
t = sys.stdin.read().split("-----------+" + "-" * 55 + "\n")
sys.stdout.write("".join(sorted(t[1:])))'
	}
	test_expect_success 'every allocation: the same stacks, address by address' '
		setarch -R pp-record -m 1 -o fast -- ./shapes &&
		PP_AGENT_WALK=0 setarch -R pp-record -m 1 -o slow -- ./shapes &&
		traces fast/shapes.*.heap.pb.gz >fast.tr &&
		traces slow/shapes.*.heap.pb.gz >slow.tr &&
		# 4 threads x 3000 + 200 allocations, on stacks through
		# alloc, by_rbp, big, regs and qsort.
		test $(grep -c " alloc /" fast.tr) -ge 40 &&
		grep -q " by_rbp " fast.tr && grep -q " big " fast.tr &&
		grep -q " regs " fast.tr && grep -q " msort_with_tmp" fast.tr &&
		test_cmp slow.tr fast.tr
	'
else
	test_skip 'every allocation: the same stacks, address by address' \
		'no setarch -R or no go'
fi

test_expect_success 'the same functions by folded stacks' '
	pp-record -m 1 -o f2 -- ./shapes &&
	PP_AGENT_WALK=0 pp-record -m 1 -o s2 -- ./shapes &&
	pp-render -f folded -i alloc_objects f2/shapes.*.heap.pb.gz >f2.folded &&
	pp-render -f folded -i alloc_objects s2/shapes.*.heap.pb.gz >s2.folded &&
	# 4 x 3000 + 200 calls of alloc, a quarter of them two allocations
	# (malloc, realloc), and the three threads'"'"' TLS blocks.
	awk "{ n += \$NF } END { print n }" f2.folded >total &&
	echo 15253 >expect &&
	test_cmp expect total &&
	test_cmp s2.folded f2.folded
'

test_done
