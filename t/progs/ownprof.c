/* ownprof: profiles itself: profhandler.c's handler, installed by a
 * constructor (in a library or in this program), and its own
 * setitimer(ITIMER_PROF) at 100 Hz. Burns a second of CPU in own_burn(),
 * then prints how many SIGPROFs came from its timer and how many from
 * elsewhere. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

void profhandler_counts(int *own, int *other);

static volatile unsigned long sink;

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void
own_burn(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

int
main(void)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	int own, other;

	setitimer(ITIMER_PROF, &it, NULL);
	own_burn(1.0);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_PROF, &it, NULL);
	profhandler_counts(&own, &other);
	printf("own %d other %d\n", own, other);
	return 0;
}
