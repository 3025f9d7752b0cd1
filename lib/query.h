/* pp-query's work: profiles selected from the store, merged or compared
 * (and, from when.h, times people write). */
#ifndef PP_QUERY_H
#define PP_QUERY_H

#include <stdint.h>

#include "profile.h"
#include "store.h"
#include "when.h"

/* Merges every profile f selects into *out (the caller frees it), each
 * freed as soon as it is merged, so that memory follows the merge and not
 * the inputs. One profile is handed over as it was decoded, not merged. Returns 0, PP_ENOTFOUND when
 * nothing matched, the first failure to fetch or decode (e names the
 * profile), else pp_profile_merge's errors. */
int pp_query_merge(struct pp_store *st, const struct pp_store_filter *f,
    struct pp_profile **out, struct pp_err *e);

/* As pp_query_merge, from the receiver at base (pp-query --remote) with
 * the user's token: f->owner is ignored, the token decides. Errors also
 * those of pp_client_list and pp_client_fetch. */
int pp_query_merge_remote(const char *base, const char *token,
    const struct pp_store_filter *f, struct pp_profile **out,
    struct pp_err *e);

/* Marks every sample of base with the label pprof::base=true and negates
 * its values, as pprof's -diff_base does, so that merging it with the
 * profile it is compared to gives the difference. Returns 0 or PP_ENOMEM. */
int pp_profile_make_base(struct pp_profile *base);

#endif
