/* pexit [N [SECS]]: N threads (default 160), one after the other, each
 * burning SECS of CPU (default 0.0149) in burn() and ending by
 * pthread_exit(), not by returning; prints the process's CPU time in
 * nanoseconds, as the kernel counts it. A thread of 1.49 periods of 10 ms
 * is due one tick or two, a coin toss: 40 of them gave totals 5% apart
 * from run to run, and t0200's bound of 10% failed one run in twenty;
 * 160 give 2.5%. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void
burn(double secs)
{
	volatile unsigned long x = 0;
	double end = thread_cpu() + secs;

	while (thread_cpu() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1;
}

static double secs = 0.0149;

static void *
run(void *arg)
{
	(void)arg;
	burn(secs);
	pthread_exit(NULL);
}

int
main(int argc, char **argv)
{
	struct timespec ts;
	pthread_t t;
	int i, n = 160;

	if (argc > 1)
		n = atoi(argv[1]);
	if (argc > 2)
		secs = atof(argv[2]);
	for (i = 0; i < n; i++)
		if (pthread_create(&t, NULL, run, NULL) != 0 ||
		    pthread_join(t, NULL) != 0)
			return 1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	printf("%lld\n", (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
	return 0;
}
