/* The metadata pp keeps in every profile it writes (pp-record writes it,
 * pp-push and pp-recv read it). Apart from lib/record.c so that a reader
 * does not link the recorder and its symbolizer. */
#ifndef PP_META_H
#define PP_META_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Metadata that travels with every profile pp writes, as comments that
 * pprof does not show ("#pp key=value") and the profile's own time and
 * duration. */
struct pp_meta {
	const char *program;	/* base name of the executable */
	const char *host;
	int pid;
	const char *type;	/* "cpu", "heap" */
	int64_t start_ns;	/* wall clock */
	int64_t duration_ns;
	const char *const *labels;	/* "key=value" */
	size_t nlabels;
};

/* Writes m into p: comments and time fields. Returns 0 or PP_ENOMEM. */
int pp_meta_apply(struct pp_profile *p, const struct pp_meta *m);

/* Reads the metadata pp_meta_apply wrote. Strings point into p; labels
 * are returned in a malloc'd array the caller frees (*labels). Fields not
 * found are NULL or 0. Returns 0 or PP_ENOMEM. */
int pp_meta_read(const struct pp_profile *p, struct pp_meta *m);
#endif
