/* A fast stack walk by cached .eh_frame rules (walk.c). Self-contained:
 * t/unit/walk builds it beside libunwind to compare the two. */
#ifndef PP_WALK_H
#define PP_WALK_H

#include <stdint.h>

#define PP_WALK_MAX	136	/* frames a walk returns at most */

/* A thread's last walk: where it started, the stack words it read and
 * what it found. A walk from the same place that finds the same words
 * there has the same result, and needs no rule: checking them costs a
 * load each, not a lookup each. */
struct pp_walk_memo {
	uint64_t sp, bp;	/* the walk's start; sp 0: none */
	uint64_t gen;		/* the rules' generation (pp_walk_forget) */
	int max, n;
	int nread;
	int hit;		/* the last call found the memo good */
	uint64_t at[2 * PP_WALK_MAX];	/* addresses read, */
	uint64_t val[2 * PP_WALK_MAX];	/* and what they held */
	uint64_t pc[PP_WALK_MAX];	/* the frames found */
};

/* Fills pc[] with the calling stack: pc[0] an address inside pp_walk,
 * then the return addresses, at most max (<= PP_WALK_MAX). The stack
 * lies in [lo, hi) (the calling thread's; reads outside it are refused).
 * Returns the count, or -1 when a frame needs what this walk does not
 * follow (then walk with libunwind). m, if not NULL, is the calling
 * thread's memo: m->hit says whether the result is the memo's. Not
 * async-signal-safe: a rule not cached yet is looked up with
 * dl_iterate_phdr. */
int pp_walk(uint64_t *pc, int max, uintptr_t lo, uintptr_t hi,
    struct pp_walk_memo *m) __attribute__((visibility("hidden")));
/* Forgets every cached rule: an object was unloaded, and another may
 * come at its addresses. */
void pp_walk_forget(void) __attribute__((visibility("hidden")));
/* From now on, for good, a rule not cached makes pp_walk return -1
 * rather than look it up: dl_iterate_phdr is never called. */
void pp_walk_cached_only(void) __attribute__((visibility("hidden")));

#endif
