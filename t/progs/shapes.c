/* shapes: allocates from stacks of many shapes, the same number of times
 * on every run: frames found by rsp and by rbp (alloca), callee-saved
 * registers live across calls, a 70 KB frame, libc's qsort between its
 * frames, calloc, realloc and posix_memalign, in the main thread and in
 * three others. A test compares the heap profiles of its two stack walks
 * (t0203). */
#include <alloca.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE	__attribute__((noinline))

static volatile unsigned sink;

static void shapes(int depth, int what);

static NOINLINE void
alloc(int what)
{
	void *p = NULL;

	switch (what % 4) {
	case 0:
		p = malloc(24 + (size_t)what);
		break;
	case 1:
		p = calloc(3, 40);
		break;
	case 2:
		p = realloc(malloc(16), 4096);
		break;
	default:
		if (posix_memalign(&p, 64, 100) != 0)
			p = NULL;
		break;
	}
	sink += p != NULL;
	free(p);
}

static NOINLINE void
by_rbp(int depth, int what)
{
	char *p = alloca(16 + (size_t)depth * 8);

	p[0] = (char)depth;
	shapes(depth - 1, what);
	sink += p[0];
}

static NOINLINE void
regs(int depth, int what)
{
	unsigned a = (unsigned)sink + 1, b = (unsigned)sink * 3,
	    c = (unsigned)sink ^ 7, d = (unsigned)sink - 5;

	shapes(depth - 1, what);
	sink += a * b + c * d + depth;
}

static NOINLINE void
big(int depth, int what)
{
	volatile char buf[70000];

	buf[0] = (char)depth;
	buf[69999] = 1;
	shapes(depth - 1, what);
	sink += buf[0] + buf[69999];
}

static int sort_what;

static int
compare(const void *a, const void *b)
{
	shapes(2, sort_what);
	return *(const int *)a - *(const int *)b;
}

static void
shapes(int depth, int what)
{
	if (depth <= 0) {
		alloc(what);
		return;
	}
	switch ((depth + what) % 3) {
	case 0:
		by_rbp(depth, what);
		break;
	case 1:
		regs(depth, what);
		break;
	default:
		big(depth, what);
		break;
	}
	sink++;
}

static void *
run(void *arg)
{
	int i, base = (int)(long)arg;

	for (i = 0; i < 3000; i++)
		shapes(1 + (i + base) % 12, i + base);
	return NULL;
}

int
main(void)
{
	pthread_t t[3];
	int a[2] = { 2, 1 };
	int i;

	for (i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, run, (void *)(long)(i + 1)) != 0)
			return 1;
	run(0);
	for (i = 0; i < 200; i++) {
		sort_what = i;
		qsort(a, 2, sizeof(a[0]), compare);
	}
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}
