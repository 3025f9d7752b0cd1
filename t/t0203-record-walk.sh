#!/bin/bash
# The agent's own stack walk for heap samples (lib/agent/walk.c: cached
# .eh_frame rules, a memo of the last walk) against libunwind, the walk
# it stands in for: in its unit test, frame by frame, and through
# pp-record, where every allocation of a program with stacks of many
# shapes must land on the same addresses either way (PP_AGENT_WALK=0
# makes the agent use libunwind alone, PP_AGENT_WALK=2 its rules alone).
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

# The two runs above agree even if the agent never used its rules (say,
# no thread's stack bounds known): with PP_AGENT_WALK=2 a stack the rules
# do not walk keeps its leaf alone, and all of this program's must be
# walked.
test_expect_success 'the rules alone walk every stack (PP_AGENT_WALK=2)' '
	PP_AGENT_WALK=2 pp-record -m 1 -o r2 -- ./shapes &&
	pp-render -f folded -i alloc_objects r2/shapes.*.heap.pb.gz >r2.folded &&
	test_cmp s2.folded r2.folded
'

# While a fork is in progress the agent walks no stack (fork_prepare waits
# for the walks under way): a sample then keeps its leaf. It took the
# stack of the thread's last sample instead when that one came from the
# memo, and a later sample from the memo could take its leaf: siteA's
# stack held 32-byte blocks too (62.9 bytes a block), siteB's 64-byte
# ones.
test_expect_success 'a sample during a fork keeps its own function' '
	cc -O2 -g -o forksites "$SRC_ROOT/t/progs/forksites.c" -lpthread &&
	pp-record -m 1 -o fs -- ./forksites &&
	pp-render -f folded -i alloc_objects fs/forksites.*.heap.pb.gz >objs &&
	pp-render -f folded -i alloc_space fs/forksites.*.heap.pb.gz >space &&
	# Each stack ending in siteA or siteB, and its bytes a block.
	awk "NR == FNR { n[\$1] = \$2; next }
	    \$1 ~ /site[AB]\$/ { print \$1, \$2 / n[\$1] }" objs space >per-block &&
	cat per-block &&
	grep -q "worker;siteA 64\$" per-block &&
	grep -q "worker;siteB 32\$" per-block &&
	! awk "\$1 ~ /siteA\$/ && \$2 != 64 || \$1 ~ /siteB\$/ && \$2 != 32" \
		per-block | grep .
'

# glibc's pthread_getattr_np allocates while it holds the thread's lock:
# the agent asking for the stack bounds from inside that allocation
# waited for ever (both walks: the bounds were asked first).
for walk in 1 0; do
	test_expect_success "a thread asking for its own stack (PP_AGENT_WALK=$walk)" '
		cc -O2 -g -o selfstack "$SRC_ROOT/t/progs/selfstack.c" \
			-lpthread &&
		PP_AGENT_WALK=$walk timeout 60 pp-record -m 1 -o ss$walk -- \
			./selfstack >out &&
		echo ok >expect &&
		test_cmp expect out
	'
done

test_done
