#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

const char *pp_progname = "pp";

static void
vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", pp_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
pp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
pp_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

void
pp_die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(2);
}

long
pp_number_arg(const char *s, long min, long max, const char *fmt, ...)
{
	va_list ap;
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == 0 && end != s && *end == '\0' && v >= min && v <= max)
		return v;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(2);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
pp_write_output(const char *path, const void *data, size_t len)
{
	char *tmp = NULL;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, data, len) < 0)
			pp_die("cannot write to standard output: %s",
			    strerror(errno));
		return;
	}
	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		pp_die("out of memory");
	if ((fd = mkstemp(tmp)) < 0)
		pp_die("cannot create '%s': %s", path, strerror(errno));
	if (write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0 ||
	    close(fd) < 0) {
		int err = errno;

		unlink(tmp);
		pp_die("cannot write '%s': %s", path, strerror(err));
	}
	if (rename(tmp, path) < 0) {
		int err = errno;

		unlink(tmp);
		pp_die("cannot write '%s': %s", path, strerror(err));
	}
	free(tmp);
}

void
pp_finish_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		pp_die("cannot write the output: %s", strerror(errno));
}
