/* plugin: a shared library for dlopener.c; plugin_burn() spins for the
 * given seconds of CPU. */
#include <time.h>

static volatile unsigned long sink;

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void
plugin_spin(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

void
plugin_burn(double secs)
{
	plugin_spin(secs);
	sink++;
}
