#include "profile.h"

int
pp_profile_merge(struct pp_profile *const *ps, size_t n,
    struct pp_profile **out, struct pp_err *e)
{
	return pp_err_set(e, PP_EMISMATCH, "merge not implemented yet");
}
