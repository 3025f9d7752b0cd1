/* What pp-record keeps of one profiled process: the agent's records
 * (lib/agent/proto.h) aggregated by stack, turned into pprof profiles on
 * demand. One struct pp_proc per agent connection, that is per process
 * image: a forked child or an exec'd program is a new one.
 */
#ifndef PP_RECORD_H
#define PP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "meta.h"
#include "profile.h"

enum pp_profile_kind {
	PP_KIND_CPU = 1,
	PP_KIND_HEAP = 2,
};

struct pp_proc;

/* A new process; symbolize_flags are pp_symbolize's (symbolize.h), for
 * every profile built of it. Returns NULL when out of memory. */
struct pp_proc *pp_proc_new(unsigned symbolize_flags);
void pp_proc_free(struct pp_proc *pr);

/* Feeds one message from the agent (one or more records). Returns 0, or
 * PP_EFORMAT for a malformed message (the connection should be dropped). */
int pp_proc_feed(struct pp_proc *pr, const void *msg, size_t len,
    struct pp_err *e);

/* What the agent said about itself. */
struct pp_proc_info {
	bool hello;		/* the agent has introduced itself */
	int pid, ppid;
	const char *exe;
	int hz;
	uint64_t heap_rate;
	int cpu_off;		/* PP_CPU_OFF_* from proto.h */
	int64_t start_ns;
	uint64_t cpu_samples, heap_samples, frees;
	uint64_t dropped_samples, dropped_frees;
};
void pp_proc_info(const struct pp_proc *pr, struct pp_proc_info *info);

/* Builds the profile of kind, symbolized, into *out:
 *   CPU: samples/count and cpu/nanoseconds of the samples since the last
 *        reset (or since the start), as Go writes CPU profiles;
 *   heap: alloc_objects, alloc_space, inuse_objects, inuse_space since the
 *        start, unsampled with Go's formula, as Go writes heap profiles.
 * reset starts a new CPU interval afterwards. *skipped (if not NULL) counts
 * objects the symbolizer could not read. Returns 0 or PP_ENOMEM. */
int pp_proc_profile(struct pp_proc *pr, enum pp_profile_kind kind,
    bool reset, struct pp_profile **out, size_t *skipped, struct pp_err *e);

/* Starts a new CPU interval at now_ns (wall clock): for a caller that
 * passed reset false and has now written the interval's profile. */
void pp_proc_cpu_reset(struct pp_proc *pr, int64_t now_ns);

/* CPU ticks recorded in the current interval. */
uint64_t pp_proc_interval_cpu(const struct pp_proc *pr);

#endif
