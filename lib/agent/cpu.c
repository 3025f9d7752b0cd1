/* CPU sampling: one CLOCK_THREAD_CPUTIME_ID timer per thread, delivered to
 * that thread (SIGEV_THREAD_ID) as SIGPROF. A process-wide setitimer hands
 * the signal to whichever thread the kernel picks and under-counts busy
 * processes (golang/go#35057). */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "agent.h"

/* glibc 2.36 names the field only through the union. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id	_sigev_un._tid
#endif

#define SAMPLE_HDR	offsetof(struct pp_rec_sample, pc)

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

static void
prof_handler(int sig, siginfo_t *si, void *ucv)
{
	struct pp_thread *t = &pp_thr;
	ucontext_t *uc = ucv;
	uint64_t buf[SAMPLE_HDR / 8 + PP_MAX_FRAMES + PP_SKIP_MAX];
	struct pp_rec_sample *s = (struct pp_rec_sample *)buf;
	uint64_t leaf, count;
	int saved = errno, raw, n = 0, trunc = 0, ov;

	(void)sig;
	/* Only our timers' ticks: a SIGPROF sent by kill or setitimer is
	 * not this thread's CPU time. */
	if (si == NULL || si->si_code != SI_TIMER ||
	    si->si_value.sival_ptr != &pp_agent || !pp_on())
		goto out;
	leaf = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	count = 1;
	if (t->has_timer && (ov = timer_getoverrun(t->timer)) > 0)
		count += (uint64_t)ov;

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
	memset(s, 0, SAMPLE_HDR);
	s->h.type = PP_REC_SAMPLE;
	s->h.len = (uint32_t)(SAMPLE_HDR + 8 * (size_t)n);
	s->kind = PP_SAMPLE_CPU;
	s->truncated = (uint8_t)trunc;
	s->nframes = (uint16_t)n;
	s->tid = (uint32_t)pp_tid(t);
	s->value = count * pp_agent.period_ns;
	s->count = count;
	if (pp_send(s, s->h.len, 0) == 0)
		pp_report_drops();
	else
		atomic_fetch_add(&pp_agent.drop_samples, 1);
out:
	errno = saved;
}

uint32_t
pp_cpu_init(void)
{
	struct sigaction old;

	loader = dlsym(RTLD_DEFAULT, "_r_debug");
	if (sigaction(SIGPROF, NULL, &old) == -1)
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
	if (sigaction(SIGPROF, &sa, NULL) == -1)
		return -1;
	pp_agent.handler = 1;
	return 0;
}

int
pp_cpu_thread_start(struct pp_thread *t)
{
	struct sigevent sev;

	if (t->has_timer)
		return 0;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = &pp_agent;
	sev.sigev_notify_thread_id = pp_tid(t);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t->timer) == -1)
		return -1;
	t->has_timer = 1;
	return 0;
}

int
pp_cpu_arm(struct pp_thread *t)
{
	struct itimerspec its;

	if (!t->has_timer)
		return -1;
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = (time_t)(pp_agent.period_ns / 1000000000);
	its.it_interval.tv_nsec = (long)(pp_agent.period_ns % 1000000000);
	/* The first tick at a random point of the period, not after a whole
	 * one, so that threads shorter than a period are sampled too, in
	 * proportion. */
	{
		struct timespec ts;
		uint64_t r, first;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = ((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)t) *
		    0x9e3779b97f4a7c15ULL;
		r ^= r >> 29;
		first = 1 + r % (pp_agent.period_ns ? pp_agent.period_ns : 1);
		its.it_value.tv_sec = (time_t)(first / 1000000000);
		its.it_value.tv_nsec = (long)(first % 1000000000);
	}
	return timer_settime(t->timer, 0, &its, NULL);
}

void
pp_cpu_thread_stop(struct pp_thread *t)
{
	if (!t->has_timer)
		return;
	/* First, so that a tick still pending asks no deleted timer. */
	t->has_timer = 0;
	timer_delete(t->timer);
}
