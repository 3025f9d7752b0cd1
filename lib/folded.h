/* Folded stacks, the input format of flamegraph.pl and speedscope. */
#ifndef PP_FOLDED_H
#define PP_FOLDED_H

#include "profile.h"
#include "util.h"

/* Appends p's samples of sample type si as folded stacks: one line per
 * distinct stack, frames from the root to the leaf separated by ';'
 * (inlined frames included, ';' in names replaced by '_'), a space, and
 * the summed value. Lines are sorted; stacks summing to zero are left
 * out. Returns 0 or PP_ENOMEM. */
int pp_folded(const struct pp_profile *p, int si, struct pp_buf *out);

#endif
