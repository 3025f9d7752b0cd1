/* heapleak: keeps 64 MiB allocated from leak() (in blocks of random
 * sizes), while churn() allocates and frees far more. */
#include <stdlib.h>
#include <string.h>

static void *kept[1 << 16];
static size_t nkept;
static volatile unsigned char sink;

__attribute__((noinline)) static void
leak(size_t total)
{
	size_t done = 0;

	while (done < total) {
		size_t sz = 1024 + (size_t)(rand() % (64 * 1024));
		if (sz > total - done)
			sz = total - done;
		kept[nkept] = malloc(sz);
		memset(kept[nkept], 1, sz);
		nkept++;
		done += sz;
	}
}

__attribute__((noinline)) static void
churn(size_t total)
{
	size_t done = 0;

	while (done < total) {
		size_t sz = 16 + (size_t)(rand() % 8192);
		unsigned char *p = malloc(sz);
		p[0] = 1;
		sink += p[sz - 1];
		free(p);
		done += sz;
	}
}

int
main(void)
{
	srand(42);
	for (int i = 0; i < 8; i++) {
		leak((size_t)8 << 20);
		churn((size_t)128 << 20);
	}
	return 0;
}
