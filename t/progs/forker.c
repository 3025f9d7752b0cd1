/* forker: forks; the child burns CPU in child_burn() and then execs
 * argv[1] (with the rest of the arguments), if there is one, while the
 * parent burns CPU in parent_burn() and waits for it. Prints both pids
 * and the child's exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
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

__attribute__((noinline)) static void
spin(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end)
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

/* Not tail calls: their frames stay on the stack. */
__attribute__((noinline)) void parent_burn(double s) { spin(s); sink++; }
__attribute__((noinline)) void child_burn(double s) { spin(s); sink++; }

int
main(int argc, char **argv)
{
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		perror("forker: fork");
		return 1;
	}
	if (pid == 0) {
		child_burn(0.3);
		if (argc < 2)
			_exit(0);
		execv(argv[1], argv + 1);
		perror("forker: execv");
		_exit(127);
	}
	parent_burn(0.5);
	if (waitpid(pid, &status, 0) != pid) {
		perror("forker: waitpid");
		return 1;
	}
	printf("forker pid %d child %d exited %d\n", (int)getpid(), (int)pid,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
