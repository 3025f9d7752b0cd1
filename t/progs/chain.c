/* chain: burns about a second of CPU (argv[1] seconds) in hot(), called
 * main -> outer -> middle -> hot, none of them inlined; built without
 * frame pointers by the tests, so only unwind tables find the callers. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void
hot(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

/* The increments after the calls keep them from being tail calls. */
__attribute__((noinline)) void middle(double secs) { hot(secs); sink++; }
__attribute__((noinline)) void outer(double secs) { middle(secs); sink++; }

int
main(int argc, char **argv)
{
	outer(argc > 1 ? atof(argv[1]) : 1.0);
	puts("chain done");
	return 0;
}
