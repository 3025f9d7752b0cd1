/* exiter: prints "exiter pid PID", burns CPU in burn_before_exit() for
 * argv[2] seconds (default 0.3), then ends as argv[1] says: "exit N"
 * exits with status N; "SEGV", "KILL", "ABRT" or "TERM" raises that
 * signal, with its default action. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void
burn_before_exit(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "SEGV", SIGSEGV }, { "KILL", SIGKILL }, { "ABRT", SIGABRT },
		{ "TERM", SIGTERM },
	};
	const char *how = argc > 1 ? argv[1] : "exit 0";

	printf("exiter pid %d\n", (int)getpid());
	fflush(stdout);
	burn_before_exit(argc > 2 ? atof(argv[2]) : 0.3);
	if (strncmp(how, "exit ", 5) == 0)
		exit(atoi(how + 5));
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(how, sigs[i].name) == 0) {
			signal(sigs[i].sig, SIG_DFL);
			raise(sigs[i].sig);
		}
	fprintf(stderr, "exiter: cannot end by '%s'\n", how);
	return 99;
}
