/* sigcount: counts the SIGINTs it gets. Prints "ready", waits (up to
 * 30 s) for the first, then half a second more for any other, and prints
 * "SIGINT N" (N the count) and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void
on_int(int sig)
{
	(void)sig;
	count++;
}

int
main(void)
{
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_int;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	puts("ready");
	fflush(stdout);
	for (i = 0; i < 300 && count == 0; i++)
		usleep(100000);
	for (i = 0; i < 5; i++)
		usleep(100000);
	printf("SIGINT %d\n", (int)count);
	return 0;
}
