/* cpusplit: burns CPU in two functions, three parts in heavy() to one in
 * light(), on N threads (argv[1], default 1), for about S seconds of CPU a
 * thread (argv[2], default 1). Prints the process's CPU time in ns to
 * stdout at exit, as the kernel counts it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static volatile unsigned long sink;

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spins for d seconds of this thread's CPU time. */
static void
spin(double d)
{
	double end = cpu_seconds() + d;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 2000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

/* Not tail calls: their frames stay on the stack. */
__attribute__((noinline)) void heavy(double d) { spin(d); sink++; }
__attribute__((noinline)) void light(double d) { spin(d); sink += 2; }

static double per_thread = 1.0;

static void *
work(void *arg)
{
	unsigned seed = (unsigned)(unsigned long)arg * 2654435761u + 1;
	double done = 0, x;

	/* Interleaved in slices of random lengths (5 to 12 ms of light,
	 * three times that of heavy), so that both run all along and no
	 * slice pattern lines up with the sampling period. The kernel
	 * delivers CPU timer signals at its own tick (4 ms at HZ=250),
	 * whatever the rate asked: a slice much shorter than that is
	 * sampled as a coin toss, and the split would vary by several
	 * points from run to run. */
	while (done < per_thread) {
		x = (5000 + rand_r(&seed) % 7000) / 1e6;
		heavy(3 * x);
		light(x);
		done += 4 * x;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t t[64];
	struct rusage ru;

	if (argc > 2)
		per_thread = atof(argv[2]);
	if (n < 1 || n > 64)
		n = 1;
	for (long i = 1; i < n; i++)
		pthread_create(&t[i], NULL, work, (void *)i);
	work(NULL);
	for (int i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("%lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
	return 0;
}
