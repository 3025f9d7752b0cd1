/* The public summary of CPU profiles (pp-query --stats): where the CPU time
 * of every owner's programs goes, in terms that name nobody's code.
 *
 * What is counted. A profile counts with its CPU time: the values of its
 * cpu/nanoseconds sample type, or else samples/count times the period when
 * the period type is cpu/nanoseconds; a profile with neither (an eBPF
 * profile with period 0) is left out, and so is one whose time would
 * overflow the totals. Samples whose value is not positive (the base of a
 * difference) are skipped. A profile is a Go profile when it has one of
 * the Go runtime's goroutine roots (runtime.goexit, runtime.main,
 * runtime.mstart, runtime.mcall, runtime.systemstack, runtime.morestack,
 * runtime.rt0_go) or one of the Go functions named below. In Go function
 * names a closure's ".funcN" suffix is ignored (runtime.markroot.func1 is
 * runtime.markroot); in other names a symbol version and the suffix of a
 * compiler's clone are ("malloc@@GLIBC_2.2.5", "malloc_consolidate.part.0";
 * the suffixes .part, .isra, .constprop, .cold, .lto_priv, .localalias,
 * .clone and .llvm, and what follows them).
 *
 * Garbage collection (Go profiles only; cumulative): a sample is GC time
 * when any of its frames is runtime.GC, gcBgMarkWorker, gcAssistAlloc,
 * gcAssistAlloc1, gcDrain, gcDrainN, gcDrainMarkWorkerDedicated,
 * gcDrainMarkWorkerFractional, gcDrainMarkWorkerIdle, gcMarkDone,
 * gcMarkTermination, gcStart, gcSweep, markroot, markrootBlock,
 * markrootSpans, scanobject, scanblock, scanstack, bgsweep, sweepone,
 * (*sweepLocked).sweep, (*mspan).sweep, deductSweepCredit,
 * (*mheap).reclaim, bgscavenge, (*scavengerState).run,
 * (*pageAlloc).scavenge, wbBufFlush or wbBufFlush1 (all "runtime."): the
 * mark workers and assists, sweeping, scavenging, the phase changes and
 * the write barrier's buffer flushes, with everything they call.
 *
 * The allocator: malloc, free, calloc, realloc, reallocarray, cfree,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * malloc_usable_size, malloc_trim and glibc's and musl's internals
 * (__libc_malloc ..., _int_malloc, _int_free*, _int_realloc,
 * _int_memalign, _mid_memalign, malloc_consolidate, sysmalloc*, systrim,
 * unlink_chunk, tcache_*, arena and heap functions ...); C++ operator
 * new and delete, mangled (_Znw*, _Zna*, _Zdl*, _Zda*) or not ("operator
 * new(unsigned long)"); jemalloc (je_*, _rjem_*, mallocx, rallocx,
 * xallocx, sallocx, dallocx, sdallocx, nallocx), tcmalloc (tc_malloc*,
 * tc_free*, tc_new*, tc_delete* ..., tcmalloc::*) and mimalloc
 * (mi_malloc*, mi_free* ..., mi_heap_*, _mi_*); and in Go profiles
 * runtime.mallocgc*, newobject, newarray, makeslice and the allocation
 * paths below them (nextFreeFast, (*mcache).nextFree, (*mcache).refill,
 * (*mcache).allocLarge, (*mcentral).cacheSpan, (*mcentral).grow,
 * (*mheap).alloc, (*mheap).allocSpan, heapBits.initSpan, (*pageAlloc).alloc
 * ...). Two measures, both over samples that are not GC time: "self",
 * samples whose leaf frame (the innermost line of the first location) is
 * an allocator function, as pprof's flat column counts them; and "total",
 * samples with an allocator function anywhere on the stack, which adds
 * what the allocator calls (zeroing fresh memory, page faults and system
 * calls, a heap profiler's own work).
 *
 * System libraries (flat): a sample counts for the library of its leaf
 * location's mapping when that mapping's file is a shared object ("NAME.so"
 * or "NAME.so.VERSION", made of [A-Za-z0-9._+-]) directly in /lib, /lib32,
 * /lib64, /libx32, /usr/lib, /usr/lib32, /usr/lib64, /usr/libx32,
 * /usr/local/lib or /usr/local/lib64, or in a multiarch directory
 * ("ARCH-linux-ABI") directly below /lib, /usr/lib or /usr/local/lib. The
 * library is named by the file without ".so..." and without a "-X.Y"
 * version (libc.so.6, libc-2.31.so and "libc.so.6 (deleted)", as the
 * kernel names a library replaced while it was mapped, are libc), and the
 * sample's
 * function by the leaf frame's name ("[unknown]" when it has none).
 *
 * What is shown. Only counts, times, shares, the names of system libraries
 * and of their functions: never an owner, host, program, label, pid,
 * profile id, the path of any mapping, or the name of a function outside
 * a system library (the Go runtime's included: GC and the allocator are
 * shown as shares only). Function names are cut to 200 bytes of printable
 * UTF-8, other bytes shown as '?'.
 *
 * A library that few owners use could name them: a library (and its
 * functions) is shown only when the profiles of at least min_owners
 * distinct owners have CPU time in it. The others are summed into one
 * "other libraries" row, so that the libraries still add up to all the
 * time in system libraries. The allocator, the collector and the totals
 * are sums over every profile added, whoever owns it: no library's or
 * function's name is in them.
 */
#ifndef PP_STATS_H
#define PP_STATS_H

#include <stddef.h>

#include "error.h"
#include "profile.h"
#include "store.h"
#include "util.h"

struct pp_stats;

/* Returns a new, empty summary that names a library only when at least
 * min_owners owners have time in it (0 and 1: every library), or NULL
 * when out of memory. */
struct pp_stats *pp_stats_new(size_t min_owners);

/* Frees s; NULL is allowed. */
void pp_stats_free(struct pp_stats *s);

/* Adds profile p (not kept) of owner to s; owner is only counted, never
 * shown. Returns 0, 1 when p was left out (no CPU time in it, or time that
 * would overflow the totals), or PP_ENOMEM. */
int pp_stats_add(struct pp_stats *s, const struct pp_profile *p,
    const char *owner);

/* Adds every CPU profile that f selects in st (f->type is ignored: the
 * type is cpu; f->owner NULL is every owner's), fetched and decoded one at
 * a time, each as its owner's; profiles expired meanwhile are passed over.
 * Returns 0, PP_ESTORE, PP_ENOMEM, or a decoding error (e names the
 * profile). */
int pp_stats_add_store(struct pp_stats *s, struct pp_store *st,
    const struct pp_store_filter *f, struct pp_err *e);

/* The number of profiles added and of those left out. */
size_t pp_stats_profiles(const struct pp_stats *s);
size_t pp_stats_left_out(const struct pp_stats *s);

/* Appends the summary as a table for people:
 *
 *	PROFILES  N (G Go; L left out, without CPU time)
 *	CPU       TIME (Go TIME)
 *
 *	       CPU    SHARE  CATEGORY
 *	      TIME   PCT.NN%  allocator, self
 *	      TIME   PCT.NN%  allocator, total
 *	      TIME   PCT.NN%  garbage collector (Go)
 *
 *	       CPU    SHARE  LIBRARY / FUNCTION
 *	      TIME   PCT.NN%  libc
 *	      TIME   PCT.NN%    memcpy
 *	      TIME   PCT.NN%  (N other libraries)
 *
 * libraries by CPU time, each followed by its functions by CPU time (ties
 * by name), then those not shown, in one row when there are any. Shares
 * are of the total CPU time. Returns 0 or PP_ENOMEM. */
int pp_stats_table(const struct pp_stats *s, struct pp_buf *out);

/* Appends the summary as one JSON object (and a newline):
 *
 *	{ "profiles": N, "go_profiles": N, "left_out": N,
 *	  "cpu_ns": N, "go_cpu_ns": N,
 *	  "allocator": { "self_ns": N, "self_share": X,
 *	                 "total_ns": N, "total_share": X },
 *	  "gc": { "cpu_ns": N, "share": X, "go_share": X },
 *	  "libraries": [ { "name": S, "cpu_ns": N, "share": X,
 *	                   "functions": [ { "name": S, "cpu_ns": N,
 *	                                    "share": X } ... ] } ... ],
 *	  "other_libraries": { "libraries": N, "cpu_ns": N, "share": X },
 *	  "min_owners": N }
 *
 * in the table's order; shares are fractions of cpu_ns (go_share of
 * go_cpu_ns), 6 significant digits. Returns 0 or PP_ENOMEM. */
int pp_stats_json(const struct pp_stats *s, struct pp_buf *out);

/* When path names a system shared library (above), writes its name to
 * buf (size bytes) and returns 1; else returns 0. */
int pp_stats_library(const char *path, char *buf, size_t size);

#endif
