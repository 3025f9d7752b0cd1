/* sigcatch: prints how it found SIGHUP, SIGINT, SIGQUIT and SIGTERM, one a
 * line ("HUP=ignored" or "HUP=default"...). Then, by argv[1]:
 *   -n  exits 0;
 *   -d  prints "ready" and sleeps up to 30 s, the signals as it found them;
 *   (none) handles the four, prints "ready", waits for one (up to 30 s),
 *       prints "got NAME" and exits with status 40 + its number. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct { int sig; const char *name; } sigs[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
	{ SIGTERM, "TERM" },
};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static volatile sig_atomic_t got;

static void
on_signal(int sig)
{
	got = sig;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	struct sigaction sa;
	size_t i;

	for (i = 0; i < NSIGS; i++) {
		sigaction(sigs[i].sig, NULL, &sa);
		printf("%s=%s\n", sigs[i].name,
		    sa.sa_handler == SIG_IGN ? "ignored" : "default");
	}
	if (strcmp(mode, "-n") == 0)
		return 0;
	if (strcmp(mode, "-d") != 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < NSIGS; i++)
			sigaction(sigs[i].sig, &sa, NULL);
	}
	puts("ready");
	fflush(stdout);
	for (i = 0; i < 300 && !got; i++)
		usleep(100000);
	for (i = 0; i < NSIGS; i++)
		if (sigs[i].sig == got) {
			printf("got %s\n", sigs[i].name);
			return 40 + got;
		}
	puts("got nothing");
	return 1;
}
