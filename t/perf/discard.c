/* discard: the least an HTTP upload service can do, for
 * t/perf/p0003-service.sh to measure inetd and the client against.  Run by
 * inetd, one process per connection, the connection on stdin and stdout:
 * it reads the request's headers up to the blank line, then Content-Length
 * bytes of body, throws them away and answers 200 with an empty body.
 * A request it cannot read (no blank line within 16 KiB, a body shorter
 * than announced) is answered 400, so a broken client is not timed as
 * fast. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
answer(const char *status)
{
	printf("HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	    status);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

int
main(void)
{
	static char buf[65536];
	char line[16384];
	unsigned long long want = 0;
	size_t got, hdr = 0;

	for (;;) {
		if (!fgets(line, sizeof(line), stdin))
			return answer("400 Bad Request") || 1;
		hdr += strlen(line);
		if (hdr >= sizeof(line))
			return answer("431 Request Header Fields Too Large") || 1;
		if (strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0)
			break;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			want = strtoull(line + 15, NULL, 10);
	}
	while (want > 0) {
		got = fread(buf, 1, want < sizeof(buf) ? want : sizeof(buf),
		    stdin);
		if (got == 0)
			return answer("400 Bad Request") || 1;
		want -= got;
	}
	return answer("200 OK");
}
