/* bench-malloc: an allocation-bound program for t/perf/p0002-record.sh.
 * In churn(), it does N (argv[1], default 2*10^7) malloc()s of random sizes
 * from 16 to 4096 bytes, writing to each, and keeps each block in a random
 * slot of a ring of 1000, freeing the block it replaces: about 2 MiB stays
 * live, in blocks of all sizes, so the allocator cannot hand back one
 * block again and again.  Prints a checksum, its own peak RSS (the VmHWM of
 * /proc/self/status, in kB) and the realtime clock in ns when main()
 * started and when it was about to return, to stdout at exit:
 *
 *	sum 1234567
 *	vmhwm 4360
 *	main 1764000000000000000 1764000001500000000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 1000

static unsigned char *ring[SLOTS];

static unsigned long
next(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Not inlined: the profiles must show it by name. */
__attribute__((noinline)) static unsigned long
churn(unsigned long n)
{
	unsigned long r, s = 88172645463325252UL, sum = 0;
	unsigned char *p;
	size_t size;

	while (n-- > 0) {
		r = next(&s);
		size = 16 + (r >> 32) % 4081;
		if ((p = malloc(size)) == NULL) {
			fprintf(stderr, "bench-malloc: out of memory\n");
			exit(1);
		}
		p[0] = (unsigned char)r;
		p[size - 1] = (unsigned char)n;
		r = (r & 0xffffffff) % SLOTS;
		if (ring[r] != NULL)
			sum += ring[r][0];
		free(ring[r]);
		ring[r] = p;
	}
	for (r = 0; r < SLOTS; r++)
		free(ring[r]);
	return sum;
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
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000000UL;

	printf("sum %lu\n", churn(n));
	printf("vmhwm %ld\n", vmhwm());
	printf("main %lld %lld\n", t0, now());
	return 0;
}
