/* forksites: a thread allocates 64 bytes in siteA and 32 in siteB, ten
 * times each in turn, while the main thread forks a hundred times. A
 * sample the agent may not walk (a fork in progress) keeps its leaf
 * alone: it must not take another sample's stack (t0203). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop, sink;

static __attribute__((noinline)) void
siteA(void)
{
	char *p = malloc(64);

	sink += p != NULL;
	free(p);
}

static __attribute__((noinline)) void
siteB(void)
{
	char *p = malloc(32);

	sink += p != NULL;
	free(p);
}

static void *
worker(void *arg)
{
	volatile int k;

	(void)arg;
	while (!stop) {
		for (k = 0; k < 10; k++)
			siteA();
		for (k = 0; k < 10; k++)
			siteB();
	}
	return NULL;
}

int
main(void)
{
	pthread_t t;
	pid_t p;
	int i, st;

	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	for (i = 0; i < 100; i++) {
		usleep(2000);
		if ((p = fork()) == 0)
			_exit(0);
		if (p == -1 || waitpid(p, &st, 0) != p)
			return 1;
	}
	stop = 1;
	pthread_join(t, NULL);
	return 0;
}
