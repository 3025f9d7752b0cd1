/* The agent's fast stack walk (lib/agent/walk.c) against libunwind's
 * unw_backtrace, the walk it stands in for, on stacks of many shapes:
 * frames found by rsp and by rbp (alloca), callee-saved registers live
 * across calls, a frame of 70 KB, frames of libc's qsort between ours, a
 * thread's stack down to clone, a signal handler's (where the fast walk
 * must give up), threads walking while another forgets every rule.
 * Prints TAP; the timings are comments, not tests. */
#include <alloca.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "walk.h"

#define MAX	64
#define NOINLINE	__attribute__((noinline))

static int (*unw_backtrace_fn)(void **, int);
static volatile unsigned sink;
/* Loop bounds the compiler cannot unroll: a loop unrolled is calls from
 * several places, which the memo rightly tells apart. */
static volatile int twice = 2;

static struct pp_walk_memo memo;
static struct pp_walk_memo *use_memo;

struct result {
	int hit;		/* the fast walk's memo was good */
	int fast, slow;		/* frames: the fast walk (-1: gave up), and */
	int same;		/* libunwind's; the callers' frames agree */
	uint64_t diff_fast, diff_slow;	/* the first that differ */
};

static void
bounds(uintptr_t *lo, uintptr_t *hi)
{
	pthread_attr_t a;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &a) != 0 ||
	    pthread_attr_getstack(&a, &addr, &size) != 0) {
		*lo = *hi = 0;
		return;
	}
	pthread_attr_destroy(&a);
	*lo = (uintptr_t)addr;
	*hi = (uintptr_t)addr + size;
}

/* Walks both ways from here and compares what lies above leaf's caller:
 * pc[2] on, the frames that leaf's caller and its callers are in. */
static NOINLINE void
leaf(struct result *r)
{
	uint64_t w[MAX];
	void *u[MAX];
	uintptr_t lo, hi;
	int i, j;

	bounds(&lo, &hi);
	r->fast = pp_walk(w, MAX, lo, hi, use_memo);
	r->hit = use_memo != NULL && use_memo->hit;
	r->slow = unw_backtrace_fn(u, MAX);
	r->same = 0;
	if (r->fast < 3 || r->slow < 1)
		return;
	for (j = 0; j < 4 && j < r->slow; j++)
		if ((uint64_t)(uintptr_t)u[j] == w[2])
			break;
	if (j == 4 || j == r->slow)
		return;
	r->same = 1;
	for (i = 2; i < r->fast && j < r->slow; i++, j++)
		if (w[i] != (uint64_t)(uintptr_t)u[j]) {
			r->same = 0;
			r->diff_fast = w[i];
			r->diff_slow = (uint64_t)(uintptr_t)u[j];
			return;
		}
	/* Both end together, or both stopped at MAX. */
	if (i < r->fast || (j < r->slow && r->fast < MAX))
		r->same = 0;
}

static void shapes(int depth, struct result *r);

/* CFA by rbp: the frame's size is only known at run time. */
static NOINLINE void
by_rbp(int depth, struct result *r)
{
	char *p = alloca(16 + (size_t)depth * 8);

	p[0] = (char)depth;
	shapes(depth - 1, r);
	sink += p[0];
}

/* Values live across the call: rbx, r12-r15 saved at various offsets. */
static NOINLINE void
regs(int depth, struct result *r)
{
	unsigned a = (unsigned)sink + 1, b = (unsigned)sink * 3,
	    c = (unsigned)sink ^ 7, d = (unsigned)sink - 5, e = (unsigned)depth;

	shapes(depth - 1, r);
	sink += a * b + c * d + e;
}

/* A frame of 70 KB. */
static NOINLINE void
big(int depth, struct result *r)
{
	volatile char buf[70000];

	buf[0] = (char)depth;
	buf[69999] = 1;
	shapes(depth - 1, r);
	sink += buf[0] + buf[69999];
}

static void
shapes(int depth, struct result *r)
{
	if (depth <= 0) {
		leaf(r);
		return;
	}
	switch (depth % 3) {
	case 0:
		by_rbp(depth, r);
		break;
	case 1:
		regs(depth, r);
		break;
	default:
		big(depth, r);
		break;
	}
	sink++;
}

static struct result *sort_result;

static int
compare(const void *a, const void *b)
{
	if (!sort_result->fast && !sort_result->slow)
		shapes(2, sort_result);
	return *(const int *)a - *(const int *)b;
}

static void *
thread_main(void *arg)
{
	shapes(9, arg);
	return NULL;
}

/* Threads walking while another forgets every rule: the table's entries
 * are written without a lock, and a miss races the forgetting. */
static volatile int forgetting;

static void *
forgetter(void *arg)
{
	(void)arg;
	while (forgetting) {
		pp_walk_forget();
		sched_yield();
	}
	return NULL;
}

static void *
walker(void *arg)
{
	struct result r;
	intptr_t i, differ = 0;

	for (i = 0; i < 1500; i++) {
		memset(&r, 0, sizeof(r));
		shapes(3 + (int)((i * 7 + (intptr_t)arg) % 20), &r);
		if (r.fast <= 0 || !r.same)
			differ++;
	}
	return (void *)differ;
}

static struct result signal_result;

static void
on_signal(int sig)
{
	(void)sig;
	leaf(&signal_result);
}

static void
report(const struct result *r, const char *what)
{
	ok(r->fast > 0 && r->same, "%s: the same frames as libunwind "
	    "(fast %d, libunwind %d)", what, r->fast, r->slow);
	if (!r->same && r->fast > 0)
		printf("# first difference: fast %#llx, libunwind %#llx\n",
		    (unsigned long long)r->diff_fast,
		    (unsigned long long)r->diff_slow);
}

/* Two callers with frames of one size, called from one place: the walk
 * from leaf starts at the same stack pointer under either. */
static NOINLINE void
caller_a(struct result *r)
{
	volatile int pad[4];

	pad[0] = 1;
	leaf(r);
	sink += pad[0];
}

static NOINLINE void
caller_b(struct result *r)
{
	volatile int pad[4];

	pad[0] = 2;
	leaf(r);
	sink += pad[0];
}

static NOINLINE void
either(int b, struct result *r)
{
	(b ? caller_b : caller_a)(r);
	sink++;
}

static double
ns_per(int how, int calls)
{
	struct timespec a, b;
	uint64_t w[MAX];
	uintptr_t lo, hi;
	int i;

	bounds(&lo, &hi);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < calls; i++)
		sink += how == 2 ? pp_walk(w, MAX, lo, hi, &memo) :
		    how == 1 ? pp_walk(w, MAX, lo, hi, NULL) :
		    unw_backtrace_fn((void **)w, MAX);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	    (double)(b.tv_nsec - a.tv_nsec)) / calls;
}

static NOINLINE void
timed(int depth)
{
	if (depth > 0) {
		timed(depth - 1);
		sink++;
		return;
	}
	uint64_t w[MAX];
	uintptr_t lo, hi;

	bounds(&lo, &hi);
	printf("# %d frames: fast walk %.1f ns, from its memo %.1f ns, "
	    "unw_backtrace %.1f ns\n", pp_walk(w, MAX, lo, hi, NULL),
	    ns_per(1, 1000000), ns_per(2, 1000000), ns_per(0, 1000000));
}

int
main(void)
{
	struct result r, deep, t;
	struct sigaction sa;
	pthread_t th, fth, wth[4];
	intptr_t differ;
	void *ret;
	int created;
	uintptr_t lo, hi;
	uint64_t w[MAX];
	int a[2] = { 2, 1 };
	void *h;
	int i;

	if ((h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (unw_backtrace_fn = (int (*)(void **, int))dlsym(h,
	    "unw_backtrace")) == NULL) {
		printf("1..0 # SKIP no libunwind.so.8\n");
		return 0;
	}

	memset(&r, 0, sizeof(r));
	leaf(&r);
	report(&r, "from main");

	memset(&r, 0, sizeof(r));
	shapes(12, &r);
	report(&r, "12 frames by rsp, by rbp, saved registers, 70 KB");

	memset(&deep, 0, sizeof(deep));
	shapes(90, &deep);
	ok(deep.fast == MAX && deep.same,
	    "90 frames: both stop at %d, the same (fast %d)", MAX, deep.fast);

	memset(&r, 0, sizeof(r));
	sort_result = &r;
	qsort(a, 2, sizeof(a[0]), compare);
	report(&r, "through libc's qsort");

	memset(&t, 0, sizeof(t));
	if (pthread_create(&th, NULL, thread_main, &t) == 0)
		pthread_join(th, NULL);
	report(&t, "a thread, down to clone");

	forgetting = 1;
	differ = created = 0;
	if (pthread_create(&fth, NULL, forgetter, NULL) == 0) {
		while (created < 4 && pthread_create(&wth[created], NULL,
		    walker, (void *)(intptr_t)created) == 0)
			created++;
		for (i = 0; i < created; i++) {
			pthread_join(wth[i], &ret);
			differ += (intptr_t)ret;
		}
		forgetting = 0;
		pthread_join(fth, NULL);
	}
	ok(created == 4 && differ == 0, "4 threads walking while another "
	    "forgets every rule: the same frames as libunwind (%d differ)",
	    (int)differ);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	ok(signal_result.fast == -1,
	    "a signal handler's stack: the fast walk gives up (%d)",
	    signal_result.fast);

	bounds(&lo, &hi);
	ok(pp_walk(w, MAX, hi, hi + 4096, NULL) == -1,
	    "a stack pointer outside the bounds given: gives up");
	pp_walk_forget();
	memset(&r, 0, sizeof(r));
	shapes(6, &r);
	report(&r, "after forgetting every rule");

	use_memo = &memo;
	for (i = 0; i < twice; i++) {	/* one call site */
		memset(&r, 0, sizeof(r));
		shapes(7, &r);
	}
	ok(r.hit, "the same walk again: from the memo");
	report(&r, "the same walk again");
	for (i = 0; i < twice + 1; i++) {
		memset(&r, 0, sizeof(r));
		either(i > 0, &r);
		if (i == 1)
			ok(!r.hit, "another caller at the same depth: "
			    "not from the memo");
	}
	report(&r, "another caller at the same depth");
	ok(r.hit, "that caller again: from the memo");
	pp_walk_forget();
	for (i = 0; i < twice; i++) {
		memset(&r, 0, sizeof(r));
		either(1, &r);
		if (i == 0)
			ok(!r.hit, "after forgetting the rules: not from "
			    "the memo");
	}
	report(&r, "after forgetting the rules, with a memo");
	use_memo = NULL;

	timed(0);
	timed(8);
	timed(24);

	printf("1..%d\n", n);
	return failed;
}
