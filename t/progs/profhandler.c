/* profhandler: a SIGPROF handler installed by a constructor, as a
 * self-profiler such as gperftools' installs it; it counts the SIGPROFs
 * from ITIMER_PROF (si_code SI_KERNEL) apart from any others. Built into
 * a shared library that ownprof links, or into ownprof itself. */
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t own, other;

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

__attribute__((constructor)) static void
install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
}

void
profhandler_counts(int *o, int *x)
{
	*o = own;
	*x = other;
}
