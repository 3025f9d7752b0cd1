/* threads: creates and joins N threads (argv[1], default 1000), at most 32
 * at a time; each spins for MS milliseconds of its own CPU time (argv[2],
 * default 1) in thread_work() and allocates a little. Prints how many
 * threads ran, then the process's CPU time in ns as the kernel counts it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BATCH 32

static double work_ms = 1.0;
static volatile unsigned long sink;

static double
thread_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) static void *
thread_work(void *arg)
{
	double end = thread_ms() + work_ms;
	unsigned long x = (unsigned long)arg;
	char *p;

	while (thread_ms() < end)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink += x;
	if ((p = malloc(4096)) != NULL) {
		memset(p, (int)x, 4096);
		sink += p[4095];
		free(p);
	}
	return arg;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, done = 0, ran = 0;
	pthread_t t[BATCH];
	struct rusage ru;

	if (argc > 2)
		work_ms = atof(argv[2]);
	while (done < n) {
		int k = n - done < BATCH ? n - done : BATCH, err;

		for (int i = 0; i < k; i++)
			if ((err = pthread_create(&t[i], NULL, thread_work,
			    (void *)(unsigned long)(done + i))) != 0) {
				fprintf(stderr, "threads: pthread_create: %s\n",
				    strerror(err));
				return 1;
			}
		for (int i = 0; i < k; i++) {
			void *r;

			if (pthread_join(t[i], &r) == 0 &&
			    (unsigned long)r == (unsigned long)(done + i))
				ran++;
		}
		done += k;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("threads ran %d\n", ran);
	printf("%lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
	return 0;
}
