/* forkdl: two threads dlopen() and dlclose() the library argv[1] (a path)
 * in a loop while main forks argv[2] children (200) that allocate and
 * exit; every tenth child first forks a grandchild that does the same.
 * glibc does not reset in the child the lock the loader holds while it
 * changes its list of objects, which dl_iterate_phdr takes: a profiler
 * that calls it in such a child hangs there. Prints its pid and the
 * children that failed, and exits 1 if any did. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *lib;
static volatile int stop;
static volatile unsigned long sink;

static void *
dl_loop(void *arg)
{
	void (*burn)(double);
	void *h;

	(void)arg;
	while (!stop) {
		if ((h = dlopen(lib, RTLD_NOW)) == NULL) {
			fprintf(stderr, "forkdl: %s\n", dlerror());
			exit(1);
		}
		if ((burn = (void (*)(double))dlsym(h, "plugin_burn")) != NULL)
			burn(0);
		dlclose(h);
	}
	return NULL;
}

/* Called only in the children: their walks meet frames whose unwind
 * rules nobody looked up yet. */
__attribute__((noinline)) static void
child_alloc(int n)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(32 + (i & 127));

		sink += p != NULL;
		free(p);
	}
}

/* Forks a process that allocates and exits 0 (one that runs sub forks a
 * grandchild first); returns 0 if it did. */
static int
spawn(int sub)
{
	int status;
	pid_t pid;

	if ((pid = fork()) < 0) {
		perror("forkdl: fork");
		return -1;
	}
	if (pid == 0) {
		child_alloc(500);
		_exit(sub && spawn(0) != 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t t[2];
	int i, n, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: forkdl library [children]\n");
		return 2;
	}
	lib = argv[1];
	n = argc > 2 ? atoi(argv[2]) : 200;
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, dl_loop, NULL);
	for (i = 0; i < n; i++)
		if (spawn(i % 10 == 0) != 0)
			bad++;
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("forkdl pid %d: %d children, %d failed\n", (int)getpid(), n,
	    bad);
	return bad != 0;
}
