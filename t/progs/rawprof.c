/* rawprof [vfork]: profiles itself as the Go runtime does, with a SIGPROF
 * handler put in by the rt_sigaction system call (not through libc's
 * sigaction) and its own setitimer(ITIMER_PROF) at 100 Hz. Burns 0.3 s of
 * CPU, starts and joins a thread, burns a second more in raw_burn(), then
 * prints how many SIGPROFs came from its timer (si_code SI_KERNEL) and
 * how many from elsewhere. With "vfork", between putting the handler in
 * and starting the thread it allocates and runs true(1) by vfork and
 * execve: the child, in the parent's memory, flushes the parent's heap
 * records and so looks at SIGPROF before the parent does. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The kernel's struct sigaction on x86-64. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#define KSA_RESTORER	0x04000000

/* What the handler returns to: rt_sigreturn, as libc's own. */
void rawprof_restorer(void);
__asm__(".text\n"
    "rawprof_restorer:\n"
    "\tmov $15, %rax\n"		/* SYS_rt_sigreturn */
    "\tsyscall\n");

static volatile sig_atomic_t own, other;
static volatile unsigned long sink;

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
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void
raw_burn(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

static void *
nothing(void *arg)
{
	return arg;
}

/* Allocates (under pp-record -m 1 the sample waits in the thread's
 * buffer) and runs true(1) by vfork: the child's execve sends the
 * buffer. */
static int
run_true(void)
{
	char *const argv[] = { "true", NULL };
	int st;
	pid_t p;

	free(malloc(100));
	if ((p = vfork()) == 0) {
		execve("/bin/true", argv, NULL);
		_exit(127);
	}
	return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	struct ksigaction k;
	pthread_t t;
	int use_vfork = argc > 1 && strcmp(argv[1], "vfork") == 0;

	raw_burn(0.3);
	/* Under pp-record -m 1 this sample goes at once (the thread's
	 * first in a while), the next waits in its buffer. */
	if (use_vfork)
		free(malloc(100));
	memset(&k, 0, sizeof(k));
	k.handler = (void *)on_prof;
	k.flags = SA_SIGINFO | SA_RESTART | KSA_RESTORER;
	k.restorer = (void *)rawprof_restorer;
	if (syscall(SYS_rt_sigaction, SIGPROF, &k, NULL, sizeof(k.mask)) == -1)
		return 1;
	if (use_vfork && run_true() == -1)
		return 1;
	/* Go starts threads soon after: the agent looks then. */
	if (pthread_create(&t, NULL, nothing, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		return 1;
	setitimer(ITIMER_PROF, &it, NULL);
	raw_burn(1.0);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_PROF, &it, NULL);
	printf("own %d other %d\n", (int)own, (int)other);
	return 0;
}
