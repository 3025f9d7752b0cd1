/* Stack walks with libunwind, loaded privately.
 *
 * libunwind.so.8 also defines _Unwind_RaiseException, _Unwind_Backtrace and
 * backtrace; linked normally it could take those from libgcc_s and glibc
 * for the whole program. dlopen(RTLD_LOCAL) keeps every one of its symbols
 * out of the program's scope; the agent reaches it through dlsym alone,
 * and so needs only its soname at run time, not its headers.
 *
 * unw_backtrace is libunwind's fast walk (a per-thread cache of frame
 * shapes, about 160 ns for 25 frames when warm). Its first use in the
 * process initialises with a mutex, pthread_once and mmap, and its first
 * use in a thread touches its thread-local variables, which for a
 * dlopen'd library glibc allocates with malloc: both happen outside any
 * signal handler (pp_unwind_init, pp_unwind_warm).
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define UNW_SONAME		"libunwind.so.8"
/* From libunwind-common.h, so that no headers are needed. */
#define UNW_CACHE_GLOBAL	1

/* The x86-64 ABI's argument of __tls_get_addr. */
struct tls_index {
	unsigned long module;
	unsigned long offset;
};
extern void *__tls_get_addr(struct tls_index *);

static void barrier_register(void);

static int (*unw_backtrace_fn)(void **, int);
static size_t unw_modid;

int
pp_unwind_init(void)
{
	int (*policy)(void *, int);
	void **as;
	void *h, *pc[8];

	if (pp_real_dlopen == NULL ||
	    (h = pp_real_dlopen(UNW_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -1;
	if ((unw_backtrace_fn = (int (*)(void **, int))dlsym(h,
	    "unw_backtrace")) == NULL)
		return -1;
	/* unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_GLOBAL)
	 * by their x86-64 names: this libunwind treats per-thread caching
	 * as global anyway. */
	policy = (int (*)(void *, int))dlsym(h,
	    "_ULx86_64_set_caching_policy");
	as = dlsym(h, "_ULx86_64_local_addr_space");
	if (policy != NULL && as != NULL)
		(void)policy(*as, UNW_CACHE_GLOBAL);
	if (dlinfo(h, RTLD_DI_TLS_MODID, &unw_modid) == -1)
		unw_modid = 0;
	if (unw_backtrace_fn(pc, 8) <= 0)
		return -1;
	pp_thr.warm = 1;
	barrier_register();
	return 0;
}

void
pp_unwind_warm(struct pp_thread *t)
{
	struct tls_index ti;

	if (unw_backtrace_fn == NULL)
		return;
	/* Allocate libunwind's thread-local block for this thread now,
	 * without walking: a walk would also build the thread's frame
	 * cache (256 KiB), which a thread that is never sampled does not
	 * need; libunwind builds it with mmap on the first walk, which is
	 * safe in the handler. */
	if (unw_modid != 0) {
		ti.module = unw_modid;
		ti.offset = 0;
		(void)__tls_get_addr(&ti);
	}
	t->warm = 1;
}

/*
 * fork: glibc resets the loader's main lock in the child but not the
 * lock dl_iterate_phdr takes, and libunwind has locks of its own. A thread
 * inside libunwind when another forks would leave the child hung at its
 * first walk. So fork waits, briefly and boundedly, until no thread is
 * inside libunwind, and refuses new walks meanwhile (those samples keep
 * their leaf only).
 *
 * A shared counter of walkers costs two locked instructions a walk on a
 * cache line every sampling thread writes: at rate 1 with two threads it
 * doubled the agent's cost. Instead each thread owns a slot and marks it
 * with plain stores; fork_prepare makes those visible with membarrier(2),
 * which runs a memory barrier on every thread of the process. Threads
 * without a slot (more than NSLOTS at once) and kernels without membarrier
 * use the counter.
 */
#define NSLOTS		1024
#define PROBES		8

struct slot {
	atomic_int owner;	/* tid, 0: free */
	atomic_int busy;	/* inside libunwind */
	char pad[56];		/* a cache line each: no false sharing */
};

static struct slot slots[NSLOTS];
static int use_membarrier;

static void
barrier_register(void)
{
	use_membarrier = syscall(SYS_membarrier,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

static struct slot *
slot_of(struct pp_thread *t)
{
	int i, zero, tid;

	if (t->slot == 0 && use_membarrier) {
		t->slot = -1;
		tid = pp_tid(t);
		for (i = 0; i < PROBES; i++) {
			zero = 0;
			if (atomic_compare_exchange_strong(
			    &slots[(tid + i) % NSLOTS].owner, &zero, tid)) {
				t->slot = (tid + i) % NSLOTS + 1;
				break;
			}
		}
	}
	return t->slot > 0 ? &slots[t->slot - 1] : NULL;
}

void
pp_unwind_thread_exit(struct pp_thread *t)
{
	if (t->slot > 0) {
		atomic_store(&slots[t->slot - 1].busy, 0);
		atomic_store(&slots[t->slot - 1].owner, 0);
	}
	t->slot = 0;
}

int
pp_unwind(uint64_t *pc, int max)
{
	struct pp_thread *t = &pp_thr;
	struct slot *sl;
	int n;

	if (unw_backtrace_fn == NULL)
		return 0;
	if ((sl = slot_of(t)) != NULL) {
		atomic_store_explicit(&sl->busy, 1, memory_order_relaxed);
		/* Only the compiler must keep the order; membarrier in
		 * fork_prepare orders it for the processor. */
		atomic_signal_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&pp_agent.forking,
		    memory_order_relaxed)) {
			atomic_store_explicit(&sl->busy, 0,
			    memory_order_relaxed);
			return 0;
		}
	} else {
		if (atomic_load(&pp_agent.forking))
			return 0;
		atomic_fetch_add(&pp_agent.unwinders, 1);
		if (atomic_load(&pp_agent.forking)) {
			atomic_fetch_sub(&pp_agent.unwinders, 1);
			return 0;
		}
	}
	n = unw_backtrace_fn((void **)pc, max);
	if (sl != NULL)
		atomic_store_explicit(&sl->busy, 0, memory_order_release);
	else
		atomic_fetch_sub(&pp_agent.unwinders, 1);
	return n < 0 ? 0 : n;
}

static int
walkers(void)
{
	int i;

	if (atomic_load(&pp_agent.unwinders) != 0)
		return 1;
	for (i = 0; i < NSLOTS && use_membarrier; i++)
		if (atomic_load_explicit(&slots[i].busy,
		    memory_order_acquire))
			return 1;
	return 0;
}

void
pp_unwind_fork_prepare(void)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	atomic_store(&pp_agent.forking, 1);
	if (use_membarrier && syscall(SYS_membarrier,
	    MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == -1) {
		/* Cannot see the slots: wait as long as allowed. */
		nanosleep(&ms, NULL);
	}
	for (i = 0; i < 200 && walkers(); i++) {
		if (i < 100)
			sched_yield();
		else
			nanosleep(&ms, NULL);
	}
}

void
pp_unwind_fork_done(void)
{
	atomic_store(&pp_agent.forking, 0);
}

void
pp_unwind_child(struct pp_thread *t)
{
	/* One thread now: every other slot's owner is gone. */
	memset(slots, 0, sizeof(slots));
	t->slot = 0;
	atomic_store(&pp_agent.unwinders, 0);
	atomic_store(&pp_agent.forking, 0);
	barrier_register();
}

int
pp_stack_from(uint64_t *out, const uint64_t *raw, int n, uint64_t leaf,
    int *truncated)
{
	int i, j, k;

	for (i = 0; i < n && i < PP_SKIP_MAX; i++)
		if (raw[i] == leaf)
			break;
	if (i == n || i == PP_SKIP_MAX)
		return 0;
	/* In place is fine: k never passes j. The agent's frames further
	 * down (its thread start routine, a wrapper) are not the program's
	 * and are left out. */
	out[0] = raw[i];
	k = 1;
	for (j = i + 1; j < n; j++) {
		if (raw[j] >= pp_agent.self_lo && raw[j] < pp_agent.self_hi)
			continue;
		if (k == PP_MAX_FRAMES) {
			*truncated = 1;
			break;
		}
		out[k++] = raw[j];
	}
	return k;
}
