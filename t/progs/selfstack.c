/* selfstack: the main thread and a new one each ask for their own stack
 * first thing, as Rust's std and the Boehm GC do; glibc's
 * pthread_getattr_np allocates while it holds the thread's lock. Prints
 * "ok" (t0203). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

static int
own_stack(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	int rc;

	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return -1;
	rc = pthread_attr_getstack(&a, &addr, &size);
	pthread_attr_destroy(&a);
	return rc == 0 ? 0 : -1;
}

static void *
run(void *arg)
{
	(void)arg;
	return own_stack() == 0 ? NULL : (void *)1;
}

int
main(void)
{
	pthread_t t;
	void *r;

	if (own_stack() != 0 || pthread_create(&t, NULL, run, NULL) != 0 ||
	    pthread_join(t, &r) != 0 || r != NULL)
		return 1;
	printf("ok\n");
	return 0;
}
