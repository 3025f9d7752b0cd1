/* Internals of pp's preload agent, libpp-agent.so.
 *
 * The agent lives inside someone else's program: it never prints, never
 * exits, never blocks a sample on the recorder, keeps errno as it found it,
 * and when anything goes wrong it goes inert and passes every call through.
 * It is built with -fvisibility=hidden: only the functions it interposes
 * (PP_EXPORT) are visible to the program.
 *
 * Files: agent.c (start-up, the connection, fork, threads, dlopen, exec
 * and _exit), cpu.c (the SIGPROF timer and handler), heap.c (the malloc
 * family, sampled blocks, the per-thread record buffer), objects.c (loaded
 * objects as OBJECT records), unwind.c (libunwind, loaded privately).
 *
 * Interposed: malloc, free, calloc, realloc, reallocarray, memalign,
 * aligned_alloc, posix_memalign, valloc, pvalloc, malloc_usable_size;
 * pthread_create; dlopen, dlclose; execve, execv, execvp, execvpe,
 * fexecve, execl, execlp, execle, _exit, _Exit; sigaction, signal,
 * bsd_signal, sysv_signal, sigset (for SIGPROF alone).
 */
#ifndef PP_AGENT_H
#define PP_AGENT_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "proto.h"
#include "walk.h"

#define PP_EXPORT	__attribute__((visibility("default")))
#define PP_HIDDEN	__attribute__((visibility("hidden")))
#define PP_TLS		__thread __attribute__((tls_model("initial-exec")))
#define PP_LIKELY(x)	__builtin_expect(!!(x), 1)
#define PP_UNLIKELY(x)	__builtin_expect(!!(x), 0)

#define PP_ALIGN8(n)	(((n) + 7) & ~(size_t)7)

/* Frames above the interesting ones that an unwind from inside the agent
 * can return (the agent's own, libc's signal trampoline). */
#define PP_SKIP_MAX	8

/* Per-thread state. Static TLS, zero in every new thread; kept small
 * because glibc carves static TLS out of every thread's stack (with 16 KiB
 * more of it, pthread_create fails with EINVAL for a thread asking for
 * PTHREAD_STACK_MIN), so the record buffer is mapped on first use. */
struct pp_thread {
	uint64_t countdown;	/* bytes before the next heap sample */
	uint64_t rng;		/* xorshift64* state; 0: not seeded */
	uint64_t key_next;	/* keys of sampled blocks reserved by */
	uint64_t key_end;	/* this thread, [next, end) */
	char *buf;		/* heap records not sent yet, or NULL */
	uint64_t *stacks;	/* PP_STACK_IDS hashes of the stacks its
				 * STACK records defined (0: none), after
				 * buf in the same mapping */
	uint32_t len;		/* bytes used in buf */
	uint32_t free_at;	/* 1 + offset of the last FREE record if it
				 * is the last record in buf; else 0 */
	uint32_t nrec;		/* records appended since the clock was read */
	uint64_t in_key0;	/* the keys of the ALLOCs in buf, noted where */
	uint16_t in_n;		/* they are (heap.c: in_buf_note), from */
	uint8_t in_closed;	/* in_key0 on; closed: no more noted */
	uint64_t first_ns;	/* CLOCK_MONOTONIC_COARSE of buf's first record */
	uint64_t last_ns;	/* of the last record appended */
	timer_t timer;
	struct pp_thread *tnext;	/* threads with a timer (cpu.c) */
	struct pp_thread *tprev;
	uint64_t cpu0;		/* the thread's CPU ns when its timer was */
	uint64_t first;		/* armed, and the first tick's offset */
	uint64_t ticks;		/* timer ticks its handler counted */
	uintptr_t stack_lo;	/* the thread's stack, for walk.c; */
	uintptr_t stack_hi;	/* hi 0: not asked yet, 1: unknown */
	uint64_t memo_h;	/* the stack hash of the heap sampler's last */
	uint16_t memo_k;	/* walk, its frames and truncation; h 0: */
	uint8_t memo_trunc;	/* none */
	uint64_t last_pc[PP_MAX_FRAMES];	/* the stack of its last tick */
	uint16_t last_n;	/* its frames; 0: no tick yet */
	uintptr_t start_fn;	/* its start routine; 0: the main thread */
	uint8_t last_trunc;
	pid_t tid;		/* 0: not asked yet */
	volatile int guard;	/* inside the agent: pass through, no unwind */
	volatile int in_dl;	/* inside dlopen/dlclose: no unwind */
	int forker;		/* inside its fork's handlers */
	volatile int warm;	/* libunwind may run in this thread's handler */
	int has_timer;
	int registered;		/* pthread key set: thread_exit will run */
	int slot;		/* 1 + index of its unwinding slot; 0: none
				 * yet, -1: none to be had */
};

extern PP_TLS struct pp_thread pp_thr PP_HIDDEN;

enum {
	PP_STATE_OFF = 0,	/* not started, or inert: pass through */
	PP_STATE_ON = 1,
};

/* The process's agent. One per process by nature: LD_PRELOAD loads the
 * library once. */
struct pp_agent {
	atomic_int state;
	atomic_int fd;		/* connection to pp-record; -1: none */
	dev_t dev;		/* the connection's socket inode: an fd the */
	ino_t ino;		/* program closed and reused is not ours */
	pid_t pid;
	int follow;		/* PP_AGENT_FOLLOW != "0" */
	char sock[108];		/* PP_AGENT_SOCKET */

	uint32_t hz;		/* CPU samples a second a thread; 0: off */
	uint32_t cpu_off;	/* PP_CPU_* */
	uint64_t period_ns;
	uint64_t heap_rate;	/* mean bytes between heap samples; 0: off */
	int fast_walk;		/* heap stacks by walk.c first; 2: only */
	uint64_t start_ns;

	uintptr_t self_lo, self_hi;	/* the agent's code */
	uintptr_t ldso_lo, ldso_hi;	/* the dynamic loader's code */

	atomic_uint_fast64_t drop_samples;	/* not sent since the last */
	atomic_uint_fast64_t drop_frees;	/* PP_REC_DROPPED */
	atomic_uint_fast64_t keys;	/* next free block key range */
	atomic_int unwinders;	/* threads inside libunwind */
	atomic_int forking;	/* fork in progress: no new unwinds, new
				 * dlopens wait */
	atomic_int in_loader;	/* threads in the agent's dlopen, dlclose
				 * or its own dl_iterate_phdr (unwind.c) */
	int no_loader;		/* a forked child where dl_iterate_phdr
				 * may hang: never called */

	int inited;		/* the constructor ran (whatever it decided) */
	atomic_int final;	/* the process is exiting: send at once */
	int handler;		/* our SIGPROF handler is installed */

	char exe[4096];		/* /proc/self/exe */
	uint32_t exe_len;
};

extern struct pp_agent pp_agent PP_HIDDEN;

static inline int
pp_on(void)
{
	return atomic_load_explicit(&pp_agent.state, memory_order_relaxed) ==
	    PP_STATE_ON;
}

/* glibc's allocator under its own names: the agent's own allocations never
 * come back through its wrappers, and no dlsym is needed at start-up.
 * Called through the GOT, not a PLT stub: one jump less on every malloc
 * and free. */
#ifdef __has_attribute
#if __has_attribute(noplt)
#define PP_NOPLT	__attribute__((noplt))
#endif
#endif
#ifndef PP_NOPLT
#define PP_NOPLT
#endif
extern void *__libc_malloc(size_t) PP_NOPLT;
extern void *__libc_calloc(size_t, size_t) PP_NOPLT;
extern void *__libc_realloc(void *, size_t) PP_NOPLT;
extern void __libc_free(void *) PP_NOPLT;
extern void *__libc_memalign(size_t, size_t) PP_NOPLT;
extern void *__libc_valloc(size_t) PP_NOPLT;
extern void *__libc_pvalloc(size_t) PP_NOPLT;

/* agent.c */
extern void *(*pp_real_dlopen)(const char *, int) PP_HIDDEN;
/* The next definition of name (glibc's), looked up on first use and kept
 * in *slot; NULL if there is none. dlsym may allocate: resolve early what
 * a signal handler may call. */
void *pp_next_sym(void *_Atomic *slot, const char *name) PP_HIDDEN;
/* Sends one message of whole records. wait_ms > 0 allows waiting that long
 * for room (start-up records only); samples never wait. Returns 0, or -1
 * when the message was not sent (the caller counts the drop). A connection
 * the program closed, reused or the recorder hung up makes the agent inert.
 * Async-signal-safe. */
int pp_send(const void *buf, size_t len, int wait_ms) PP_HIDDEN;
/* Sends a PP_REC_DROPPED record if anything was dropped. Async-signal-safe. */
void pp_report_drops(void) PP_HIDDEN;
void pp_go_inert(void) PP_HIDDEN;
uint64_t pp_now_coarse(void) PP_HIDDEN;
/* Registers the calling thread for pp_thread_exit. */
void pp_thread_register(struct pp_thread *t) PP_HIDDEN;
pid_t pp_tid(struct pp_thread *t) PP_HIDDEN;

/* cpu.c */
/* Whether CPU sampling can run: PP_CPU_ON, or why not. */
uint32_t pp_cpu_init(void) PP_HIDDEN;
/* Installs the SIGPROF handler (once). Returns 0 or -1. */
int pp_cpu_install(void) PP_HIDDEN;
/* Creates the calling thread's timer, disarmed; pp_cpu_arm starts it. */
int pp_cpu_thread_start(struct pp_thread *t) PP_HIDDEN;
int pp_cpu_arm(struct pp_thread *t) PP_HIDDEN;
void pp_cpu_thread_stop(struct pp_thread *t) PP_HIDDEN;
/* The thread's start routine fn returned (or, fn 0, the thread is calling
 * exit; or it is ending by pthread_exit, walk 0): stops its timer and
 * sends, as one sample, the ticks its CPU time since arming was due but
 * the handler had not counted: on the stack of its last tick, else of fn
 * (under its callers when walk is set), else of the caller (see cpu.c). */
void pp_cpu_thread_end(struct pp_thread *t, uintptr_t fn, int walk)
    PP_HIDDEN;
/* Has the program put a SIGPROF handler of its own in by a system call,
 * not through sigaction (the Go runtime does)? Then as if it had called
 * sigaction: every timer stops, and pp-record is told. Not in a handler. */
void pp_cpu_check_handler(void) PP_HIDDEN;
/* Looks up the functions the SIGPROF wrappers pass calls to. */
void pp_cpu_resolve(void) PP_HIDDEN;
/* In a forked child: the parent's threads and timers are gone. */
void pp_cpu_child(void) PP_HIDDEN;

/* heap.c */
int pp_heap_init(void) PP_HIDDEN;
/* Sends the thread's buffered heap records. */
void pp_heap_flush(struct pp_thread *t) PP_HIDDEN;
/* The thread is gone: flush and unmap its buffer. */
void pp_heap_thread_exit(struct pp_thread *t) PP_HIDDEN;
/* In a forked child: forget every sampled block and buffered record. */
void pp_heap_child(struct pp_thread *t) PP_HIDDEN;

/* objects.c */
/* Sends OBJECT records for the objects loaded since the last scan (all of
 * them if force). nowait (in a signal handler, inside malloc): don't wait
 * for the lock or for room. Returns 0 or -1. */
int pp_objects_scan(int force, int nowait) PP_HIDDEN;
/* At most once a second: a cheap look whether objects were loaded or
 * unloaded (dlopen by bare name, libc's own dlopen), then a scan. */
void pp_objects_poll(int nowait) PP_HIDDEN;
/* Makes the next pp_objects_poll look, however recent the last one. */
void pp_objects_poll_soon(void) PP_HIDDEN;
/* In a forked child: sends what the parent's last scan found. */
int pp_objects_send_all(void) PP_HIDDEN;
int pp_objects_lock(int wait) PP_HIDDEN;
void pp_objects_unlock(void) PP_HIDDEN;
/* In a forked child; locked: fork_prepare held the lock. */
void pp_objects_child(int locked) PP_HIDDEN;

/* unwind.c */
/* Loads libunwind privately, takes away its descriptors (unwind.c), and
 * runs it once in the calling thread (its first walk allocates and takes
 * locks: never in a handler). Where its descriptors cannot be taken away,
 * returns 0 without enabling it: stacks are then the leaf alone. */
int pp_unwind_init(void) PP_HIDDEN;
/* Makes libunwind usable from this thread's signal handler: allocates its
 * thread-local block now, outside any handler. */
void pp_unwind_warm(struct pp_thread *t) PP_HIDDEN;
/* Fills pc[] with return addresses of the calling stack (callers of the
 * caller of this function first), at most max. Returns the count, or 0
 * when unwinding is not possible now (fork in progress, not loaded, a
 * child without dl_iterate_phdr). Async-signal-safe when the thread is
 * warm. */
int pp_unwind(uint64_t *pc, int max) PP_HIDDEN;
/* The same for the heap sampler, outside any handler: by the cached
 * .eh_frame rules of walk.c where they do (m the thread's memo), else by
 * libunwind. The rules walk only a thread whose stack pp_unwind_stack
 * found. A child without dl_iterate_phdr walks by the rules cached
 * already, and no libunwind. */
int pp_unwind_heap(uint64_t *pc, int max, struct pp_walk_memo *m)
    PP_HIDDEN;
/* Finds the calling thread's stack for pp_unwind_heap, once, when heap
 * stacks are walked by the rules. Only where the program holds no lock
 * (it calls pthread_getattr_np): the constructor, a thread's start. */
void pp_unwind_stack(struct pp_thread *t) PP_HIDDEN;
/* Copies the stack found in raw[0..n) starting at the frame equal to
 * leaf, leaving out the agent's own frames below the leaf; returns the
 * frames kept (at most PP_MAX_FRAMES; *truncated set when more), or 0 when
 * leaf is not among the first PP_SKIP_MAX frames. */
int pp_stack_from(uint64_t *out, const uint64_t *raw, int n, uint64_t leaf,
    int *truncated) PP_HIDDEN;
/* In a forked child, first: forgets the parent's other threads, and
 * decides whether the child may call dl_iterate_phdr (see unwind.c);
 * risky: the parent's fork_prepare could not make sure. */
void pp_unwind_child(struct pp_thread *t, int risky) PP_HIDDEN;
void pp_unwind_thread_exit(struct pp_thread *t) PP_HIDDEN;
/* Waits (bounded) until no other thread is inside libunwind, the agent's
 * dlopen or dlclose, or the loader's changes to its lists, and the lock
 * dl_iterate_phdr takes is free; new unwinds are refused, new dlopens held
 * back, until pp_unwind_fork_done. Returns 0, or -1 when it gave up
 * waiting. */
int pp_unwind_fork_prepare(struct pp_thread *t) PP_HIDDEN;
void pp_unwind_fork_done(void) PP_HIDDEN;
/* Around the program's dlopen and dlclose: pp_dl_enter waits (bounded)
 * while a fork is in progress, then counts the thread in (t->in_dl too),
 * so that the next fork waits for it. Nested calls do not wait. Keep
 * errno. */
void pp_dl_enter(struct pp_thread *t) PP_HIDDEN;
void pp_dl_leave(struct pp_thread *t) PP_HIDDEN;
/* Only the wait, for a dlopen that goes to glibc and does not come back
 * through the agent. Returns 0 when no fork is in progress (or the call
 * is nested), -1 when it gave up waiting. Keeps errno. */
int pp_dl_wait(struct pp_thread *t) PP_HIDDEN;
/* Around the agent's own dl_iterate_phdr outside a walk (objects.c): 0
 * (then pp_phdr_end after it), or -1 when it must not be called now (a
 * fork in progress, or a child where it may hang). Async-signal-safe. */
int pp_phdr_begin(void) PP_HIDDEN;
void pp_phdr_end(void) PP_HIDDEN;

#endif
