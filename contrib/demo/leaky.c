/* leaky: the program that make demo (contrib/demo.sh) profiles.
 *
 * It serves made-up requests in a loop, as a small server would: each
 * request is read into a buffer (read_request), checksummed many times
 * over (checksum: the CPU hot spot), logged (log_request: the leak, a copy
 * of every request that is never freed), and its buffer freed. So its CPU
 * profile shows checksum on top, and its heap profile shows log_request
 * holding about half of all bytes allocated, still in use at exit.
 *
 *	leaky [requests]	(default 4000: 32 MiB leaked, a second or so)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_SIZE	8192
#define ROUNDS		24

/* The last log entry, so that the compiler keeps the allocations; every
 * earlier one is lost when this is overwritten. */
static char *volatile last_log;

static __attribute__((noinline)) char *
read_request(unsigned n, size_t *len)
{
	uint32_t x = 2463534242u ^ n;
	char *buf;
	size_t i;

	if ((buf = malloc(REQUEST_SIZE)) == NULL)
		return NULL;
	for (i = 0; i < REQUEST_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)('a' + x % 26);
	}
	*len = REQUEST_SIZE;
	return buf;
}

/* FNV-1a, ROUNDS times over: far more work than the rest together. */
static __attribute__((noinline)) uint64_t
checksum(const char *buf, size_t len)
{
	uint64_t h = 14695981039346656037u;
	size_t i;
	int r;

	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < len; i++) {
			h ^= (unsigned char)buf[i];
			h *= 1099511628211u;
		}
	return h;
}

/* The bug: the copy is meant for a log writer that was never written. */
static __attribute__((noinline)) int
log_request(const char *buf, size_t len, uint64_t sum)
{
	char *copy;

	if ((copy = malloc(len + 32)) == NULL)
		return -1;
	memcpy(copy, buf, len);
	snprintf(copy + len, 32, " %016llx", (unsigned long long)sum);
	last_log = copy;
	return 0;
}

static __attribute__((noinline)) uint64_t
serve(unsigned n)
{
	uint64_t sum;
	size_t len;
	char *buf;

	if ((buf = read_request(n, &len)) == NULL)
		return 0;
	sum = checksum(buf, len);
	if (log_request(buf, len, sum) < 0)
		sum = 0;
	free(buf);
	return sum;
}

int
main(int argc, char **argv)
{
	unsigned long i, n = 4000;
	uint64_t all = 0;

	if (argc > 2 || (argc == 2 && (n = strtoul(argv[1], NULL, 10)) == 0)) {
		fprintf(stderr, "usage: leaky [requests]\n");
		return 2;
	}
	for (i = 0; i < n; i++)
		all ^= serve((unsigned)i);
	printf("leaky: served %lu requests (checksum %016llx)\n", n,
	    (unsigned long long)all);
	return 0;
}
