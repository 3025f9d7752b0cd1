/* The TAP output of the C unit tests: ok() prints one test line; n counts
 * them and failed says whether one failed, for the plan and the status. */
#ifndef PP_UNIT_TAP_H
#define PP_UNIT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int n, failed;

__attribute__((format(printf, 2, 3))) static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		failed = 1;
}

#endif
