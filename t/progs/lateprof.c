/* lateprof: takes SIGPROF late, while other threads run. Three threads
 * burn CPU in early_burn() (0.2 s of CPU each) under whoever samples the
 * process; then main installs a SIGPROF handler with signal() and starts
 * its own setitimer(ITIMER_PROF) at 100 Hz, and the threads burn another
 * 0.2 s each in late_burn(). Prints how many SIGPROFs came from its
 * timer (si_code SI_KERNEL) and how many from elsewhere, which it gets
 * through sigaction's siginfo, installed over the signal() one. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define NTHREADS 3

static volatile sig_atomic_t own, other, phase;
static volatile unsigned long sink;

static void
on_prof_plain(int sig)
{
	(void)sig;
	other++;
}

static void
on_prof(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (si->si_code == SI_KERNEL)
		own++;
	else
		other++;
}

static double
thread_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
spin(double secs)
{
	double end = thread_seconds() + secs;
	unsigned long x = sink;

	while (thread_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void early_burn(double s) { spin(s); sink++; }
__attribute__((noinline)) void late_burn(double s) { spin(s); sink += 2; }

static void *
work(void *arg)
{
	(void)arg;
	early_burn(0.2);
	/* Keep the CPU busy until main has taken SIGPROF. */
	while (!phase)
		spin(0.001);
	late_burn(0.2);
	return NULL;
}

int
main(void)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	struct sigaction sa;
	pthread_t t[NTHREADS];
	int i;

	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, work, NULL);
	early_burn(0.2);
	signal(SIGPROF, on_prof_plain);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	setitimer(ITIMER_PROF, &it, NULL);
	phase = 1;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_PROF, &it, NULL);
	printf("own %d other %d\n", (int)own, (int)other);
	return 0;
}
