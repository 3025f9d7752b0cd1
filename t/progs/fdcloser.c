/* fdcloser: closes every descriptor from 3 to 1023, as daemons do, opens
 * files onto the freed numbers and writes a line to each, burns CPU (and
 * allocates) in after_close(), and then checks that each descriptor is
 * still its file and the file holds exactly its line: nothing in the
 * process may read, write or close what is now the program's. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NFILES 16

static volatile unsigned long sink;

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void
after_close(double secs)
{
	double end = cpu_seconds() + secs;
	unsigned long x = sink;

	while (cpu_seconds() < end) {
		for (int i = 0; i < 4000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		free(malloc(1 + x % 65536));
	}
	sink = x;
}

int
main(void)
{
	char name[NFILES][16], line[32], buf[64];
	int fds[NFILES], bad = 0;
	struct stat a, b;
	ssize_t n;

	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	for (int i = 0; i < NFILES; i++) {
		snprintf(name[i], sizeof(name[i]), "fd.%d", i);
		snprintf(line, sizeof(line), "file %d\n", i);
		if ((fds[i] = open(name[i], O_RDWR | O_CREAT | O_TRUNC,
		    0666)) < 0 || write(fds[i], line, strlen(line)) < 0) {
			perror(name[i]);
			return 1;
		}
	}
	after_close(0.5);
	for (int i = 0; i < NFILES; i++) {
		snprintf(line, sizeof(line), "file %d\n", i);
		if (fstat(fds[i], &a) < 0 || stat(name[i], &b) < 0 ||
		    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			fprintf(stderr, "fdcloser: descriptor %d is no longer "
			    "%s\n", fds[i], name[i]);
			bad = 1;
			continue;
		}
		n = pread(fds[i], buf, sizeof(buf), 0);
		if (n != (ssize_t)strlen(line) || memcmp(buf, line, n) != 0) {
			fprintf(stderr, "fdcloser: %s (descriptor %d) holds "
			    "%zd bytes, not its line\n", name[i], fds[i], n);
			bad = 1;
		}
		close(fds[i]);
	}
	if (bad)
		return 1;
	puts("fdcloser done");
	return 0;
}
