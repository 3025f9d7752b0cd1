/* Messages and output for the commands (never for lib/): one family of
 * helpers, "pp-render: cannot open 'x': No such file or directory". */
#ifndef PP_MSG_H
#define PP_MSG_H

#include <stddef.h>

extern const char *pp_progname;

void pp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the message and exits 1. */
void pp_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Prints the message and exits 2: bad usage. */
void pp_die_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* The decimal number s, from min to max; otherwise prints the message
 * (fmt and what follows, as for printf) and exits 2: bad usage. */
long pp_number_arg(const char *s, long min, long max, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes data to path (NULL or "-": stdout) completely or dies. A file is
 * written beside its final name and renamed into place, so a failure
 * leaves no partial output. */
void pp_write_output(const char *path, const void *data, size_t len);

/* Flushes standard output and dies (status 1) if anything written to it
 * was lost: "pp-query > /full/disk" must fail loudly. */
void pp_finish_stdout(void);

#endif
