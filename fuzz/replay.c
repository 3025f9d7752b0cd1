/* A main() for a fuzz target built without libFuzzer: runs the target
 * once over each file named, as libFuzzer runs a reproducer. A failure is
 * the target's crash; a file that cannot be read is exit status 2.
 *
 *   fuzz/replay-pprof t/data/fuzz/pprof/crash-...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay(const char *name)
{
	unsigned char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if ((f = fopen(name, "rb")) == NULL) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", name,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read '%s'\n", name);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees a read past the end. */
	nb = malloc(len ? len : 1);
	if (nb == NULL) {
		free(buf);
		return -1;
	}
	memcpy(nb, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(nb, len);
	free(nb);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: replay-TARGET file ...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay(argv[i]) < 0)
			status = 2;
	return status;
}
