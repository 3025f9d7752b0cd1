/* CPU sampling: one CLOCK_THREAD_CPUTIME_ID timer per thread, delivered to
 * that thread (SIGEV_THREAD_ID) as SIGPROF. A process-wide setitimer hands
 * the signal to whichever thread the kernel picks and under-counts busy
 * processes (golang/go#35057).
 *
 * Lost ticks. The kernel looks at CPU timers only at its scheduler tick
 * (every 4 ms at HZ=250), and only in the thread running then: a thread
 * that shares its CPU with others may run through several expiries
 * between two looks, or through all of them (measured on a 2-CPU VM with
 * four busy programs beside it: a thread burning 0.3 s got 0 to 29 of its
 * 30 ticks, overruns included). So the handler does not count signals: it
 * reads the thread's CPU clock and counts the ticks due by then, less
 * those already counted. The first expiry is uniform in (0, period] of
 * the thread's CPU time, so the ticks due by CPU time c are an unbiased
 * count of c / period.
 *
 * The end of a thread. What ran since the last tick counted has no sample
 * yet: when the start routine returns (or the main thread calls exit),
 * the agent counts the ticks due by the thread's CPU clock and sends the
 * difference as one sample, on the stack of the thread's last tick; a
 * thread that never got one (2 ms of CPU, say) gets its start routine as
 * the leaf, the main thread the stack it exits from: where the time went
 * inside it is not known, that it went there is. A thread ending by
 * pthread_exit does the same from its thread-specific data's destructor,
 * where it does not walk: its start routine alone, or its last tick.
 *
 * A program's own SIGPROF. A program that installs a SIGPROF disposition
 * of its own (a self-profiler; or SIG_DFL, which the agent's ticks would
 * turn into a kill) gets SIGPROF to itself: sigaction and the signal()
 * family are interposed for SIGPROF, and before the program's call goes
 * through the agent deletes every thread's timer, discards any tick still
 * pending (setting SIG_IGN discards pending signals in every thread), and
 * tells pp-record (PP_REC_CPU_OFF). Every timer is on a list, so that one
 * thread can delete all of them; the list's lock is held with signals
 * blocked, so that a program's handler calling sigaction cannot find its
 * own thread holding it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "agent.h"

/* glibc 2.36 names the field only through the union. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id	_sigev_un._tid
#endif

#define SAMPLE_HDR	offsetof(struct pp_rec_sample, pc)

typedef int (*sigaction_fn)(int, const struct sigaction *,
    struct sigaction *);
typedef void (*sighandler_fn)(int);
typedef sighandler_fn (*signal_fn)(int, sighandler_fn);

static void *_Atomic real_sigaction, *_Atomic real_signal,
    *_Atomic real_bsd_signal, *_Atomic real_sysv_signal, *_Atomic real_sigset;

static atomic_flag timers_lock = ATOMIC_FLAG_INIT;
static struct pp_thread *timers;	/* threads with a timer */
static atomic_int stopped;		/* the program took SIGPROF */

static int
do_sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
	sigaction_fn f = (sigaction_fn)pp_next_sym(&real_sigaction,
	    "sigaction");

	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(sig, sa, old);
}

static void
lock_timers(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	while (atomic_flag_test_and_set_explicit(&timers_lock,
	    memory_order_acquire))
		sched_yield();
}

static void
unlock_timers(const sigset_t *old)
{
	atomic_flag_clear_explicit(&timers_lock, memory_order_release);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Locked. */
static void
unlist(struct pp_thread *t)
{
	if (t->tprev != NULL)
		t->tprev->tnext = t->tnext;
	else if (timers == t)
		timers = t->tnext;
	if (t->tnext != NULL)
		t->tnext->tprev = t->tprev;
	t->tnext = t->tprev = NULL;
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* The ticks due by the calling thread's CPU clock since its timer was
 * armed. */
static uint64_t
due_ticks(const struct pp_thread *t)
{
	uint64_t c = thread_cpu_ns(), period = pp_agent.period_ns;

	if (period == 0 || c < t->cpu0 + t->first)
		return 0;
	return 1 + (c - t->cpu0 - t->first) / period;
}

/* The loader's state for debuggers: RT_ADD or RT_DELETE while it changes
 * its list of objects (dlopen, dlclose, by any route), RT_CONSISTENT
 * otherwise. NULL: not found, treat the loader as always busy. */
static const volatile struct r_debug *loader;

/* Is unwinding safe at this interrupted PC? libunwind may take the
 * loader's lock and walk its list: not while this thread changes it. */
static int
loader_busy(struct pp_thread *t, uint64_t pc)
{
	if (t->in_dl)
		return 1;
	if (pc < pp_agent.ldso_lo || pc >= pp_agent.ldso_hi)
		return 0;
	/* In the loader's own code: fine in steady state (lazy binding,
	 * __tls_get_addr), not while it is adding or removing objects. */
	return loader == NULL || loader->r_state != RT_CONSISTENT;
}

/* Sends s, whose n frames are in place, as count ticks of thread t. */
static void
send_cpu(struct pp_thread *t, struct pp_rec_sample *s, int n, int trunc,
    uint64_t count)
{
	memset(s, 0, SAMPLE_HDR);
	s->h.type = PP_REC_SAMPLE;
	s->h.len = (uint32_t)(SAMPLE_HDR + 8 * (size_t)n);
	s->kind = PP_SAMPLE_CPU;
	s->truncated = (uint8_t)trunc;
	s->nframes = (uint16_t)n;
	s->tid = (uint32_t)pp_tid(t);
	s->count = count;
	s->value = count * pp_agent.period_ns;
	if (pp_send(s, s->h.len, 0) == 0)
		pp_report_drops();
	else
		atomic_fetch_add(&pp_agent.drop_samples, 1);
}

static void
prof_handler(int sig, siginfo_t *si, void *ucv)
{
	struct pp_thread *t = &pp_thr;
	ucontext_t *uc = ucv;
	uint64_t buf[SAMPLE_HDR / 8 + PP_MAX_FRAMES + PP_SKIP_MAX];
	struct pp_rec_sample *s = (struct pp_rec_sample *)buf;
	uint64_t leaf, count;
	int saved = errno, raw, n = 0, trunc = 0;

	(void)sig;
	/* Only our timers' ticks: a SIGPROF sent by kill or setitimer is
	 * not this thread's CPU time. */
	if (si == NULL || si->si_code != SI_TIMER ||
	    si->si_value.sival_ptr != &pp_agent || !pp_on() ||
	    atomic_load_explicit(&stopped, memory_order_relaxed))
		goto out;
	leaf = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	/* The ticks due by the thread's clock, less those counted. None
	 * when an earlier signal counted this expiry already (the clock
	 * was read just before the timer was armed, so it may run ahead);
	 * one when the clock cannot be read. */
	count = due_ticks(t);
	if (count == 0)
		count = 1;
	else if (count > t->ticks)
		count -= t->ticks;
	else
		goto out;
	t->ticks += count;

	/* Unwind only where libunwind is safe: not inside dlopen/dlclose
	 * or the loader changing its lists, and not when the agent itself
	 * was interrupted (its unwinder state and buffers are in use).
	 * Otherwise the sample is the interrupted PC alone. */
	if (t->warm && !t->guard && !loader_busy(t, leaf)) {
		t->guard = 1;
		/* libunwind's walk starts in this handler and passes the
		 * signal frame; the interrupted PC is where the program's
		 * stack begins. */
		raw = pp_unwind(s->pc, PP_MAX_FRAMES + PP_SKIP_MAX);
		n = pp_stack_from(s->pc, s->pc, raw, leaf, &trunc);
		if (raw == PP_MAX_FRAMES + PP_SKIP_MAX)
			trunc = 1;
		pp_objects_poll(1);
		t->guard = 0;
	}
	if (n == 0) {
		s->pc[0] = leaf;
		n = 1;
		trunc = 0;
	}
	memcpy(t->last_pc, s->pc, (size_t)n * sizeof(s->pc[0]));
	t->last_n = (uint16_t)n;
	t->last_trunc = (uint8_t)trunc;
	send_cpu(t, s, n, trunc, count);
out:
	errno = saved;
}

uint32_t
pp_cpu_init(void)
{
	struct sigaction old;

	loader = dlsym(RTLD_DEFAULT, "_r_debug");
	if (do_sigaction(SIGPROF, NULL, &old) == -1)
		return PP_CPU_OFF_TIMER;
	/* The program profiles itself (gperftools, its own setitimer): its
	 * handler stays, and pp samples no CPU. */
	if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
		return PP_CPU_OFF_SIGPROF;
	return PP_CPU_ON;
}

int
pp_cpu_install(void)
{
	struct sigaction sa;

	if (pp_agent.handler)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = prof_handler;
	/* No SA_ONSTACK: a program's alternate stack is sized for its own
	 * handlers, not for an unwinder's. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (do_sigaction(SIGPROF, &sa, NULL) == -1)
		return -1;
	pp_agent.handler = 1;
	return 0;
}

int
pp_cpu_thread_start(struct pp_thread *t)
{
	struct sigevent sev;
	sigset_t old;
	int rc = -1;

	if (t->has_timer)
		return 0;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = &pp_agent;
	sev.sigev_notify_thread_id = pp_tid(t);
	lock_timers(&old);
	/* Under the lock: a program taking SIGPROF meanwhile either sees
	 * this timer on the list or is seen here. */
	if (atomic_load(&stopped) ||
	    timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t->timer) == -1)
		goto out;
	t->has_timer = 1;
	t->tprev = NULL;
	t->tnext = timers;
	if (timers != NULL)
		timers->tprev = t;
	timers = t;
	rc = 0;
out:
	unlock_timers(&old);
	return rc;
}

int
pp_cpu_arm(struct pp_thread *t)
{
	struct itimerspec its;
	struct timespec ts;
	uint64_t r, period = pp_agent.period_ns ? pp_agent.period_ns : 1;
	sigset_t old;
	int rc = -1;

	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = (time_t)(pp_agent.period_ns / 1000000000);
	its.it_interval.tv_nsec = (long)(pp_agent.period_ns % 1000000000);
	/* The first tick at a uniformly random point of the period, not
	 * after a whole one, so that the ticks due are an unbiased count of
	 * the thread's CPU time, however short. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r = ((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)t) *
	    0x9e3779b97f4a7c15ULL;
	r ^= r >> 29;
	t->first = 1 + r % period;
	its.it_value.tv_sec = (time_t)(t->first / 1000000000);
	its.it_value.tv_nsec = (long)(t->first % 1000000000);
	lock_timers(&old);
	/* The sweep may have deleted the timer, and its number may be
	 * someone else's by now: arm it only while it is listed. */
	if (t->has_timer) {
		t->ticks = 0;
		t->last_n = 0;
		t->cpu0 = thread_cpu_ns();
		rc = timer_settime(t->timer, 0, &its, NULL);
	}
	unlock_timers(&old);
	return rc;
}

void
pp_cpu_thread_stop(struct pp_thread *t)
{
	sigset_t old;

	if (!t->has_timer)
		return;
	lock_timers(&old);
	if (t->has_timer) {
		/* First, so that a tick still pending asks no deleted
		 * timer. */
		t->has_timer = 0;
		unlist(t);
		timer_delete(t->timer);
	}
	unlock_timers(&old);
}

void
pp_cpu_thread_end(struct pp_thread *t, uintptr_t fn, int walk)
{
	uint64_t buf[SAMPLE_HDR / 8 + PP_MAX_FRAMES + PP_SKIP_MAX];
	struct pp_rec_sample *s = (struct pp_rec_sample *)buf;
	uint64_t due;
	int saved, g, raw, i, n, trunc = 0;

	if (!t->has_timer)
		return;
	saved = errno;
	g = t->guard;
	t->guard = 1;
	/* A tick pending at the delete is delivered as the call returns,
	 * and counted: read the clock after it. */
	pp_cpu_thread_stop(t);
	due = due_ticks(t);
	if (due <= t->ticks || !pp_on() || atomic_load(&stopped))
		goto out;
	if (t->last_n > 0) {
		n = t->last_n;
		trunc = t->last_trunc;
		memcpy(s->pc, t->last_pc, (size_t)n * sizeof(s->pc[0]));
	} else {
		/* fn as the leaf, under the frames that called it; or, with
		 * no fn, the frames that called the agent. */
		n = fn != 0;
		s->pc[0] = fn;
		raw = n + (walk ? pp_unwind(s->pc + n,
		    PP_MAX_FRAMES + PP_SKIP_MAX - n) : 0);
		for (i = n; i < raw && n < PP_MAX_FRAMES; i++)
			if (s->pc[i] < pp_agent.self_lo ||
			    s->pc[i] >= pp_agent.self_hi)
				s->pc[n++] = s->pc[i];
		if (n == 0)
			goto out;
	}
	send_cpu(t, s, n, trunc, due - t->ticks);
	t->ticks = due;
out:
	t->guard = g;
	errno = saved;
}

void
pp_cpu_child(void)
{
	/* One thread now, whose timer (not inherited) the child makes
	 * anew. */
	atomic_flag_clear(&timers_lock);
	timers = NULL;
	pp_thr.tnext = pp_thr.tprev = NULL;
}

/* The program is about to set SIGPROF's disposition to handler (a
 * function, SIG_DFL or SIG_IGN). */
/* The kernel's struct sigaction on x86-64, for rt_sigaction(2). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/* The program took SIGPROF (its handler is handler): stop every timer
 * and tell pp-record. raw: it did so by a system call of its own, and
 * its disposition is put back after the pending ticks are discarded. */
static void
program_sigprof(const void *handler, int raw)
{
	struct pp_thread *t = &pp_thr, *p, *next;
	struct pp_rec_cpu_off r;
	struct ksigaction kign, now;
	struct sigaction ign;
	sigset_t old;
	int saved, g;

	/* Before the agent's handler is in, pp_cpu_init sees the
	 * program's; the agent's own handler put back is no claim. */
	if (!pp_agent.handler ||
	    handler == (const void *)prof_handler ||
	    atomic_load(&stopped))
		return;
	saved = errno;
	/* A vfork child (about to exec) shares the parent's memory, not its
	 * timers or dispositions: stopping there would leave the parent's
	 * timers running into the program's handler. */
	if (getpid() != pp_agent.pid) {
		errno = saved;
		return;
	}
	g = t->guard;
	t->guard = 1;
	lock_timers(&old);
	if (atomic_exchange(&stopped, 1)) {
		unlock_timers(&old);
		goto out;
	}
	pp_agent.cpu_off = PP_CPU_OFF_SIGPROF;
	for (p = timers; p != NULL; p = next) {
		next = p->tnext;
		p->has_timer = 0;
		p->tnext = p->tprev = NULL;
		timer_delete(p->timer);
	}
	timers = NULL;
	unlock_timers(&old);
	/* Ticks already queued to some thread would reach the program's
	 * handler: SIG_IGN discards them everywhere. */
	if (raw) {
		/* What SIG_IGN replaced goes back, not what was read before
		 * the timers were deleted: another thread of the program
		 * may have changed it meanwhile. */
		memset(&kign, 0, sizeof(kign));
		kign.handler = SIG_IGN;
		if (syscall(SYS_rt_sigaction, SIGPROF, &kign, &now,
		    sizeof(now.mask)) == 0)
			(void)syscall(SYS_rt_sigaction, SIGPROF, &now, NULL,
			    sizeof(now.mask));
	} else {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		(void)do_sigaction(SIGPROF, &ign, NULL);
	}
	pp_agent.handler = 0;
	if (pp_on()) {
		memset(&r, 0, sizeof(r));
		r.h.type = PP_REC_CPU_OFF;
		r.h.len = sizeof(r);
		r.why = PP_CPU_OFF_SIGPROF;
		(void)pp_send(&r, sizeof(r), 100);
	}
out:
	t->guard = g;
	errno = saved;
}

void
pp_cpu_check_handler(void)
{
	struct ksigaction k;

	if (!pp_agent.handler || atomic_load(&stopped) ||
	    syscall(SYS_rt_sigaction, SIGPROF, NULL, &k, sizeof(k.mask)) == -1 ||
	    k.handler == (void *)prof_handler)
		return;
	program_sigprof(k.handler, 1);
}

void
pp_cpu_resolve(void)
{
	(void)pp_next_sym(&real_sigaction, "sigaction");
	(void)pp_next_sym(&real_signal, "signal");
	(void)pp_next_sym(&real_bsd_signal, "bsd_signal");
	(void)pp_next_sym(&real_sysv_signal, "sysv_signal");
	(void)pp_next_sym(&real_sigset, "sigset");
}

PP_EXPORT int
sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
	if (sig == SIGPROF && sa != NULL)
		program_sigprof(sa->sa_flags & SA_SIGINFO ?
		    (const void *)sa->sa_sigaction :
		    (const void *)sa->sa_handler, 0);
	return do_sigaction(sig, sa, old);
}

static sighandler_fn
call_signal(void *_Atomic *slot, const char *name, int sig, sighandler_fn h)
{
	signal_fn f = (signal_fn)pp_next_sym(slot, name);

	if (sig == SIGPROF && h != SIG_ERR)
		program_sigprof((const void *)h, 0);
	if (f == NULL) {
		errno = ENOSYS;
		return SIG_ERR;
	}
	return f(sig, h);
}

PP_EXPORT sighandler_fn
signal(int sig, sighandler_fn h)
{
	return call_signal(&real_signal, "signal", sig, h);
}

PP_EXPORT sighandler_fn
bsd_signal(int sig, sighandler_fn h)
{
	return call_signal(&real_bsd_signal, "bsd_signal", sig, h);
}

PP_EXPORT sighandler_fn
sysv_signal(int sig, sighandler_fn h)
{
	return call_signal(&real_sysv_signal, "sysv_signal", sig, h);
}

PP_EXPORT sighandler_fn
sigset(int sig, sighandler_fn h)
{
	signal_fn f;

	/* SIG_HOLD blocks the signal and leaves the handler alone. */
	if (h == SIG_HOLD) {
		if ((f = (signal_fn)pp_next_sym(&real_sigset,
		    "sigset")) == NULL) {
			errno = ENOSYS;
			return SIG_ERR;
		}
		return f(sig, h);
	}
	return call_signal(&real_sigset, "sigset", sig, h);
}
