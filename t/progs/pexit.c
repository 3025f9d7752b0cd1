/* pexit: 40 threads, one after the other, each burning about 15 ms of CPU
 * in burn() and ending by pthread_exit(), not by returning; prints the
 * process's CPU time in nanoseconds, as the kernel counts it. */
#include <pthread.h>
#include <stdio.h>
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

static void *
run(void *arg)
{
	(void)arg;
	burn(0.0149);
	pthread_exit(NULL);
}

int
main(void)
{
	struct timespec ts;
	pthread_t t;
	int i;

	for (i = 0; i < 40; i++)
		if (pthread_create(&t, NULL, run, NULL) != 0 ||
		    pthread_join(t, NULL) != 0)
			return 1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	printf("%lld\n", (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
	return 0;
}
