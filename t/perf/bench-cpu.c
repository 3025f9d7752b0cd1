/* bench-cpu: a CPU-bound program for t/perf/p0002-record.sh.  Runs N
 * threads (argv[1], default 1), each doing the same fixed number of steps
 * of a dependent multiply-add chain (argv[2], default 10^9) in spin(), so
 * that anything taken from it shows up as wall time.  Prints a checksum
 * (so the loop is not optimized away), its own peak RSS (the VmHWM of
 * /proc/self/status, in kB) and the realtime clock in ns when main()
 * started and when it was about to return, to stdout at exit:
 *
 *	sum 1234567
 *	vmhwm 1480
 *	main 1764000000000000000 1764000002000000000
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long steps = 1000000000UL;

/* Not inlined: the profiles must show it by name. */
__attribute__((noinline)) static unsigned long
spin(unsigned long x, unsigned long n)
{
	while (n-- > 0)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

static void *
work(void *arg)
{
	unsigned long *x = arg;

	*x = spin(*x, steps);
	return NULL;
}

static long long
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long
vmhwm(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

int
main(int argc, char **argv)
{
	long long t0 = now();
	unsigned long seed[64], sum = 0;
	pthread_t tid[64];
	int i, n = argc > 1 ? atoi(argv[1]) : 1;

	if (argc > 2)
		steps = strtoul(argv[2], NULL, 10);
	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: bench-cpu [threads [steps]]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		seed[i] = i + 1;
		if (i > 0 && pthread_create(&tid[i], NULL, work, &seed[i]) != 0) {
			fprintf(stderr, "bench-cpu: cannot create a thread\n");
			return 1;
		}
	}
	work(&seed[0]);
	for (i = 1; i < n; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < n; i++)
		sum += seed[i];
	printf("sum %lu\nvmhwm %ld\n", sum, vmhwm());
	printf("main %lld %lld\n", t0, now());
	return 0;
}
