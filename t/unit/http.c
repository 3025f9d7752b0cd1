/* Unit test of lib/http.c: requests read from regular files, pipes and a
 * socket with a live client; limits, the timeout, 100-continue, smuggling
 * attempts, query and Authorization helpers, responses. Prints TAP. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "http.h"

#include "tap.h"

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A regular file holding data[0..len), positioned at its start. */
static int
file_of(const void *data, size_t len)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) ||
	    fflush(f) != 0) {
		perror("tmpfile");
		exit(1);
	}
	fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Everything written to fd so far (a pipe's read end, non-blocking). */
static size_t
drain(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t r;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got + 1 < size && (r = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	return got;
}

struct result {
	int rc, status;
	struct pp_err e;
	struct pp_http_request req;
	char out[512];		/* what was written to out_fd */
};

/* Reads one request from a regular file holding len bytes of s. */
static void
run_len(const char *s, size_t len, const struct pp_http_limits *lim,
    struct result *r)
{
	int in = file_of(s, len), out[2];

	if (pipe(out) < 0) {
		perror("pipe");
		exit(1);
	}
	memset(r, 0, sizeof(*r));
	r->rc = pp_http_read_request(in, out[1], lim, &r->req, &r->status,
	    &r->e);
	close(out[1]);
	drain(out[0], r->out, sizeof(r->out));
	close(out[0]);
	close(in);
	if (r->rc < 0)
		printf("# %d %s\n", r->status, pp_err_msg(&r->e, r->rc));
}

static void
run(const char *s, const struct pp_http_limits *lim, struct result *r)
{
	run_len(s, strlen(s), lim, r);
}

static int
refused(const char *s, int rc, int status)
{
	struct result r;
	int good;

	run(s, NULL, &r);
	good = r.rc == rc && r.status == status && r.e.code == rc &&
	    r.e.msg[0] != '\0';
	pp_http_request_release(&r.req);
	return good;
}

static char *
repeat(char c, size_t len)
{
	char *s = malloc(len + 1);

	memset(s, c, len);
	s[len] = '\0';
	return s;
}

static void
test_basic(void)
{
	struct result r;
	struct pp_http_limits lim = { 0 };

	run("GET /v1/profiles/a%20b%2Fc?owner=me&x=%41 HTTP/1.1\r\n"
	    "Host: example\r\nX-Spaced:   padded value  \r\n"
	    "x-empty:\r\n\r\n", NULL, &r);
	ok(r.rc == 0 && r.status == 200, "simple GET is read");
	ok(strcmp(r.req.method, "GET") == 0, "method");
	ok(r.req.path && strcmp(r.req.path, "/v1/profiles/a b/c") == 0,
	    "path is percent-decoded and has no query");
	ok(r.req.query && strcmp(r.req.query, "owner=me&x=%41") == 0,
	    "query is kept raw");
	ok(r.req.nheaders == 3, "three headers");
	ok(pp_http_header(&r.req, "HOST") != NULL &&
	    strcmp(pp_http_header(&r.req, "HOST"), "example") == 0,
	    "header lookup ignores case");
	ok(strcmp(pp_http_header(&r.req, "x-spaced"), "padded value") == 0,
	    "blanks around a value are removed");
	ok(strcmp(pp_http_header(&r.req, "X-Empty"), "") == 0,
	    "empty header value");
	ok(pp_http_header(&r.req, "Missing") == NULL, "absent header is NULL");
	ok(r.req.body != NULL && r.req.body_len == 0 && r.req.body[0] == '\0',
	    "no body: empty NUL-terminated body");
	ok(r.out[0] == '\0', "nothing written to out_fd");
	pp_http_request_release(&r.req);

	run("GET /empty? HTTP/1.1\r\n\r\n", NULL, &r);
	ok(r.rc == 0 && r.req.query && r.req.query[0] == '\0' &&
	    strcmp(r.req.path, "/empty") == 0, "'?' alone: empty query");
	pp_http_request_release(&r.req);

	run("GET /plain HTTP/1.0\r\n\r\n", NULL, &r);
	ok(r.rc == 0 && r.req.query == NULL && strcmp(r.req.path, "/plain") == 0,
	    "HTTP/1.0 without query: query NULL");
	pp_http_request_release(&r.req);

	run("GET http://example:80/abs/path?q=1 HTTP/1.1\r\n\r\n", NULL, &r);
	ok(r.rc == 0 && strcmp(r.req.path, "/abs/path") == 0 &&
	    strcmp(r.req.query, "q=1") == 0, "absolute-form target");
	pp_http_request_release(&r.req);

	/* Exactly max_header bytes of headers pass; one fewer does not. */
	static const char small[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	lim.max_header = sizeof(small) - 1;
	run(small, &lim, &r);
	ok(r.rc == 0, "headers of exactly max_header bytes pass");
	pp_http_request_release(&r.req);
	lim.max_header = sizeof(small) - 2;
	run(small, &lim, &r);
	ok(r.rc == PP_ETOOBIG && r.status == 431,
	    "headers one byte over max_header: 431");
	pp_http_request_release(&r.req);
}

static void
test_bodies(void)
{
	struct result r;
	struct pp_http_limits lim = { 0 };
	char *big, *req, *tail;
	size_t blen = 40000, hlen, i, len;
	int fd, out[2];
	off_t at;

	run("POST /v1/push HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world",
	    NULL, &r);
	ok(r.rc == 0 && r.req.body_len == 11 &&
	    memcmp(r.req.body, "hello world", 12) == 0,
	    "Content-Length body, NUL-terminated");
	ok(strcmp(r.req.method, "POST") == 0, "method POST");
	pp_http_request_release(&r.req);

	/* A body bigger than one read, followed by bytes that are not part of
	 * the request: the reader stops at the body's end. */
	big = repeat('b', blen);
	tail = repeat('T', 100000);
	req = malloc(blen + 200 + 100000);
	hlen = (size_t)sprintf(req, "PUT /x HTTP/1.1\r\nContent-Length: %zu\r\n"
	    "\r\n", blen);
	memcpy(req + hlen, big, blen);
	memcpy(req + hlen + blen, tail, 100000);
	fd = file_of(req, hlen + blen + 100000);
	if (pipe(out) < 0)
		exit(1);
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(fd, out[1], NULL, &r.req, &r.status, &r.e);
	at = lseek(fd, 0, SEEK_CUR);
	ok(r.rc == 0 && r.req.body_len == blen &&
	    memcmp(r.req.body, big, blen) == 0, "40000-byte body read whole");
	ok(at == (off_t)(hlen + blen),
	    "nothing read past the request's end (offset %lld of %zu)",
	    (long long)at, hlen + blen);
	pp_http_request_release(&r.req);
	close(fd);
	close(out[0]);
	close(out[1]);
	free(tail);

	/* Chunked, across many reads, with an extension and a trailer. */
	len = (size_t)sprintf(req, "POST /v1/push HTTP/1.1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < blen; i += 1000)
		len += (size_t)sprintf(req + len, "%x%s\r\n%.1000s\r\n",
		    1000, i == 0 ? ";ext=1" : "", big + i);
	len += (size_t)sprintf(req + len, "0\r\nX-Trailer: t\r\n\r\n");
	run_len(req, len, NULL, &r);
	ok(r.rc == 0 && r.req.body_len == blen &&
	    memcmp(r.req.body, big, blen) == 0 && r.req.body[blen] == '\0',
	    "chunked body of 40 chunks is de-chunked");
	ok(pp_http_header(&r.req, "X-Trailer") == NULL,
	    "trailer is not taken as a header");
	pp_http_request_release(&r.req);

	lim.max_body = 39999;
	run_len(req, len, &lim, &r);
	ok(r.rc == PP_ETOOBIG && r.status == 413,
	    "chunks adding up to one byte over max_body: 413");
	pp_http_request_release(&r.req);
	lim.max_body = 40000;
	run_len(req, len, &lim, &r);
	ok(r.rc == 0, "chunks adding up to max_body exactly pass");
	pp_http_request_release(&r.req);

	/* http-parser bounds one chunk line (80 KiB), not their sum. */
	free(big);
	big = repeat('e', 50000);
	req = realloc(req, 4 * 50100);
	len = (size_t)sprintf(req, "POST / HTTP/1.1\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n");
	for (i = 0; i < 3; i++)
		len += (size_t)sprintf(req + len, "1;x=%s\r\n%c\r\n", big,
		    "abc"[i]);
	len += (size_t)sprintf(req + len, "0\r\n\r\n");
	lim.max_body = 1000;
	run_len(req, len, &lim, &r);
	ok(r.rc == PP_ETOOBIG && r.status == 413,
	    "150 kB of chunk extensions with a 1000-byte body limit: 413");
	pp_http_request_release(&r.req);
	run_len(req, len, NULL, &r);
	ok(r.rc == 0 && r.req.body_len == 3 && memcmp(r.req.body, "abc", 3) == 0,
	    "the same with the default limit is read");
	pp_http_request_release(&r.req);
	len = (size_t)sprintf(req, "POST / HTTP/1.1\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n1;x=%s%s%s\r\na\r\n0\r\n\r\n", big, big, big);
	run_len(req, len, NULL, &r);
	ok(r.rc == PP_ETOOBIG && r.status == 413,
	    "one chunk line of 150 kB: 413");
	pp_http_request_release(&r.req);
	free(big);
	free(req);
}

static void
test_limits(void)
{
	struct result r;
	struct pp_http_limits lim = { 0 };
	struct timespec t0;
	char *pad, *req, out_buf[256];
	int in[2], out[2];
	long ms;

	pad = repeat('p', 20000);
	req = malloc(20100);
	sprintf(req, "GET / HTTP/1.1\r\nX-Pad: %s\r\n\r\n", pad);
	run(req, NULL, &r);
	ok(r.rc == PP_ETOOBIG && r.status == 431 && r.e.code == PP_ETOOBIG,
	    "20 kB header with the default limit: 431");
	pp_http_request_release(&r.req);

	/* A header that never ends, on a pipe that stays open: the limit
	 * answers, not the timeout. */
	if (pipe(in) < 0 || pipe(out) < 0)
		exit(1);
	sprintf(req, "GET / HTTP/1.1\r\nX-Pad: %.17000s", pad);
	if (write(in[1], req, strlen(req)) != (ssize_t)strlen(req))
		exit(1);
	lim.timeout_ms = 5000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(in[0], out[1], &lim, &r.req, &r.status,
	    &r.e);
	ms = ms_since(&t0);
	ok(r.rc == PP_ETOOBIG && r.status == 431 && ms < 2000,
	    "endless header on an open pipe: 431 at once (%ld ms)", ms);
	pp_http_request_release(&r.req);
	close(in[0]);
	close(in[1]);

	/* Content-Length over the limit: refused before the body, which
	 * never comes, and no 100 Continue. */
	if (pipe(in) < 0)
		exit(1);
	sprintf(req, "POST /v1/push HTTP/1.1\r\nContent-Length: 1000001\r\n"
	    "Expect: 100-continue\r\n\r\n");
	if (write(in[1], req, strlen(req)) != (ssize_t)strlen(req))
		exit(1);
	lim.max_body = 1000000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(in[0], out[1], &lim, &r.req, &r.status,
	    &r.e);
	ms = ms_since(&t0);
	ok(r.rc == PP_ETOOBIG && r.status == 413 && ms < 2000,
	    "Content-Length over max_body: 413 without the body (%ld ms)", ms);
	printf("# %s\n", pp_err_msg(&r.e, r.rc));
	pp_http_request_release(&r.req);
	close(out[1]);
	ok(drain(out[0], out_buf, sizeof(out_buf)) == 0,
	    "no 100 Continue for a body that is refused");
	close(out[0]);

	/* Timeout: half a request on a pipe that stays open. */
	if (pipe(out) < 0)
		exit(1);
	sprintf(req, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
	if (write(in[1], req, strlen(req)) != (ssize_t)strlen(req))
		exit(1);
	lim.timeout_ms = 300;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(in[0], out[1], &lim, &r.req, &r.status,
	    &r.e);
	ms = ms_since(&t0);
	ok(r.rc == PP_ETIMEDOUT && r.status == 408,
	    "request that stops half-way on an open pipe: 408");
	ok(ms >= 290 && ms < 2000, "after the 300 ms timeout (%ld ms)", ms);
	pp_http_request_release(&r.req);

	/* A client that trickles bytes does not reset the deadline. */
	close(in[0]);
	close(in[1]);
	if (pipe(in) < 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		const char *s = "GET / HTTP/1.1\r\nX: 1234567890123456789\r\n";
		close(in[0]);
		for (; *s; s++) {
			if (write(in[1], s, 1) != 1)
				_exit(1);
			usleep(50000);
		}
		_exit(0);
	}
	close(in[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(in[0], out[1], &lim, &r.req, &r.status,
	    &r.e);
	ms = ms_since(&t0);
	ok(r.rc == PP_ETIMEDOUT && r.status == 408 && ms < 1000,
	    "a byte every 50 ms: 408 after the whole-request timeout (%ld ms)",
	    ms);
	pp_http_request_release(&r.req);
	close(in[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(out[0]);
	close(out[1]);
	free(pad);
	free(req);
}

static void
test_truncated(void)
{
	struct result r;
	int fd, out[2];

	ok(refused("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
	    PP_EPROTO, 400), "body shorter than Content-Length: 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Le", PP_EPROTO, 400),
	    "request ending inside the headers: 400");
	ok(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nabcde\r\n", PP_EPROTO, 400),
	    "chunked body without its last chunk: 400");
	ok(refused("", PP_EPROTO, 400), "nothing at all: 400");

	/* A directory cannot be read: nothing can be answered. */
	fd = open(".", O_RDONLY | O_DIRECTORY);
	if (fd < 0 || pipe(out) < 0)
		exit(1);
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(fd, out[1], NULL, &r.req, &r.status, &r.e);
	ok(r.rc == PP_EIO && r.status == 0, "read error: PP_EIO, status 0");
	close(fd);
	close(out[0]);
	close(out[1]);
}

static void
test_malformed(void)
{
	ok(refused("\x01\x02hello\r\n\r\n", PP_EPROTO, 400), "garbage: 400");
	ok(refused("GET / HTTP/1.1\nHost: x\n\n", PP_EPROTO, 400),
	    "bare LF line ends: 400");
	ok(refused("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", PP_EPROTO, 400),
	    "one bare LF among CRLFs: 400");
	ok(refused("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", PP_EPROTO, 400),
	    "folded header line: 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	    PP_EPROTO, 400), "Content-Length and Transfer-Encoding: 400");
	ok(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", PP_EPROTO, 400),
	    "Transfer-Encoding then Content-Length: 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Content-Length: 3\r\n\r\nabc", PP_EPROTO, 400),
	    "two Content-Length headers: 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Length: 3x\r\n\r\nabc",
	    PP_EPROTO, 400), "Content-Length '3x': 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\nabc",
	    PP_EPROTO, 400), "Content-Length '-1': 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\nabc",
	    PP_EPROTO, 400), "Content-Length '1 2': 400");
	ok(refused("POST / HTTP/1.1\r\nContent-Length: "
	    "99999999999999999999999\r\n\r\nabc", PP_EPROTO, 400),
	    "Content-Length overflowing 64 bits: 400");
	ok(refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	    "0\r\n\r\n", PP_EPROTO, 400), "Transfer-Encoding other than "
	    "chunked: 400");
	ok(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", PP_EPROTO, 400),
	    "two Transfer-Encoding headers: 400");
	ok(refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n", PP_EPROTO, 400),
	    "blank before a header's colon: 400");
	ok(refused("GET / HTTP/2.0\r\n\r\n", PP_EPROTO, 400), "HTTP/2.0: 400");
	ok(refused("GET /a%00b HTTP/1.1\r\n\r\n", PP_EPROTO, 400),
	    "%%00 in the path: 400");
	ok(refused("GET /a%zz HTTP/1.1\r\n\r\n", PP_EPROTO, 400),
	    "bad percent-escape in the path: 400");
	ok(refused("GET /a%2 HTTP/1.1\r\n\r\n", PP_EPROTO, 400),
	    "truncated percent-escape in the path: 400");
	ok(refused("CONNECT example:443 HTTP/1.1\r\n\r\n", PP_EPROTO, 400),
	    "CONNECT: 400");
	ok(refused("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", PP_EPROTO, 400),
	    "control character in a value: 400");
}

static void
test_continue(void)
{
	struct result r;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char head[] = "POST /v1/push HTTP/1.1\r\n"
	    "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n";
	struct pp_http_limits lim = { 0 };
	int sv[2];
	pid_t pid;

	run("POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n"
	    "\r\nhello", NULL, &r);
	ok(r.rc == 0 && strcmp(r.out, cont) == 0 && r.req.body_len == 5,
	    "Expect: 100-continue is answered on out_fd");
	pp_http_request_release(&r.req);
	run("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", NULL, &r);
	ok(r.rc == 0 && r.out[0] == '\0', "no Expect, no 100 Continue");
	pp_http_request_release(&r.req);
	run("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", NULL, &r);
	ok(r.rc == 0 && r.out[0] == '\0', "no body, no 100 Continue");
	pp_http_request_release(&r.req);

	/* A client that waits for 100 Continue before it sends the body, as
	 * curl does: without the answer, this would time out. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		exit(1);
	if ((pid = fork()) == 0) {
		char buf[64];
		struct pollfd pfd = { sv[1], POLLIN, 0 };
		size_t got = 0;
		ssize_t k;

		close(sv[0]);
		if (write(sv[1], head, sizeof(head) - 1) < 0)
			_exit(1);
		while (got < sizeof(cont) - 1 && poll(&pfd, 1, 3000) == 1 &&
		    (k = read(sv[1], buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)k;
		if (got != sizeof(cont) - 1 || memcmp(buf, cont, got) != 0)
			_exit(2);
		if (write(sv[1], "hello", 5) != 5)
			_exit(1);
		sleep(5);
		_exit(0);
	}
	close(sv[1]);
	lim.timeout_ms = 4000;
	memset(&r, 0, sizeof(r));
	r.rc = pp_http_read_request(sv[0], sv[0], &lim, &r.req, &r.status,
	    &r.e);
	ok(r.rc == 0 && r.req.body_len == 5 &&
	    memcmp(r.req.body, "hello", 5) == 0,
	    "a client waiting for 100 Continue gets it, then sends the body");
	if (r.rc < 0)
		printf("# %s\n", pp_err_msg(&r.e, r.rc));
	pp_http_request_release(&r.req);
	close(sv[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_query(void)
{
	struct result r;
	char *v;
	int err;

	run("GET /q?name=a%20b+c&x=1&name=second&empty=&flag&n%61med=yes"
	    "&bad=%zz&nul=%00&pct=100%25 HTTP/1.1\r\n\r\n", NULL, &r);
	ok(r.rc == 0, "request with a query");
	v = pp_http_query_param(&r.req, "name", &err);
	ok(v && strcmp(v, "a b c") == 0 && err == 0,
	    "percent and '+' decoded, first of two");
	free(v);
	v = pp_http_query_param(&r.req, "x", &err);
	ok(v && strcmp(v, "1") == 0, "second parameter");
	free(v);
	v = pp_http_query_param(&r.req, "empty", &err);
	ok(v && strcmp(v, "") == 0, "empty value");
	free(v);
	v = pp_http_query_param(&r.req, "flag", &err);
	ok(v && strcmp(v, "") == 0, "parameter without '=' is empty");
	free(v);
	v = pp_http_query_param(&r.req, "named", &err);
	ok(v && strcmp(v, "yes") == 0, "encoded name matches");
	free(v);
	v = pp_http_query_param(&r.req, "bad", &err);
	ok(v && strcmp(v, "%zz") == 0, "bad escape kept as it is");
	free(v);
	v = pp_http_query_param(&r.req, "pct", &err);
	ok(v && strcmp(v, "100%") == 0, "%%25 is '%%'");
	free(v);
	v = pp_http_query_param(&r.req, "nul", &err);
	ok(v == NULL && err == PP_EPROTO, "%%00: NULL and PP_EPROTO");
	v = pp_http_query_param(&r.req, "missing", &err);
	ok(v == NULL && err == 0, "absent: NULL and 0");
	v = pp_http_query_param(&r.req, "nam", &err);
	ok(v == NULL && err == 0, "a prefix of a name does not match");
	pp_http_request_release(&r.req);

	run("GET /q HTTP/1.1\r\n\r\n", NULL, &r);
	v = pp_http_query_param(&r.req, "name", &err);
	ok(v == NULL && err == 0, "no query: NULL and 0");
	pp_http_request_release(&r.req);
}

static int
token_of(const char *auth, char *tok, size_t size)
{
	char buf[512];
	struct result r;
	int rc;

	snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n%s\r\n\r\n", auth);
	run(buf, NULL, &r);
	if (r.rc < 0)
		return 99;
	rc = pp_http_auth_token(&r.req, tok, size);
	pp_http_request_release(&r.req);
	return rc;
}

static void
test_auth(void)
{
	char tok[65];

	ok(token_of("Authorization: Bearer abc123", tok, sizeof(tok)) == 0 &&
	    strcmp(tok, "abc123") == 0, "bearer token");
	ok(token_of("authorization: bearer  xyz ", tok, sizeof(tok)) == 0 &&
	    strcmp(tok, "xyz") == 0, "scheme and header name in any case");
	/* base64("user:s3cret:x") */
	ok(token_of("Authorization: Basic dXNlcjpzM2NyZXQ6eA==", tok,
	    sizeof(tok)) == 0 && strcmp(tok, "s3cret:x") == 0,
	    "basic: the password after the first ':'");
	/* base64(":tok") */
	ok(token_of("Authorization: Basic OnRvaw==", tok, sizeof(tok)) == 0 &&
	    strcmp(tok, "tok") == 0, "basic with an empty user");
	ok(token_of("X-Other: 1", tok, sizeof(tok)) == PP_EAUTH,
	    "no Authorization: PP_EAUTH");
	ok(token_of("Authorization: Bearer abcdef", tok, 6) == PP_ETOOBIG,
	    "token that does not fit: PP_ETOOBIG");
	ok(token_of("Authorization: Bearer abcdef", tok, 7) == 0 &&
	    strcmp(tok, "abcdef") == 0, "token that just fits");
	ok(token_of("Authorization: Basic !!!notbase64", tok, sizeof(tok)) ==
	    PP_EAUTH, "bad base64: PP_EAUTH");
	/* base64("nocolon") */
	ok(token_of("Authorization: Basic bm9jb2xvbg==", tok, sizeof(tok)) ==
	    PP_EAUTH, "basic without ':': PP_EAUTH");
	/* base64("u:") */
	ok(token_of("Authorization: Basic dTo=", tok, sizeof(tok)) == PP_EAUTH,
	    "basic with an empty password: PP_EAUTH");
	ok(token_of("Authorization: Bearer", tok, sizeof(tok)) == PP_EAUTH,
	    "bearer without a token: PP_EAUTH");
	ok(token_of("Authorization: Digest abc", tok, sizeof(tok)) == PP_EAUTH,
	    "other scheme: PP_EAUTH");
	ok(token_of("Authorization: Bearerabc", tok, sizeof(tok)) == PP_EAUTH,
	    "scheme not followed by a blank: PP_EAUTH");
}

static void
test_respond(void)
{
	static const char want[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 3\r\n"
	    "Connection: close\r\nX-A: b\r\n\r\nno\n";
	static const char want2[] = "HTTP/1.1 204 No Content\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	char buf[512];
	int p[2];

	if (pipe(p) < 0)
		exit(1);
	ok(pp_http_respond(p[1], 404, "text/plain", "X-A: b\r\n", "no\n", 3) ==
	    0, "respond returns 0");
	ok(drain(p[0], buf, sizeof(buf)) == sizeof(want) - 1 &&
	    strcmp(buf, want) == 0, "response bytes");
	ok(pp_http_respond(p[1], 204, NULL, NULL, NULL, 0) == 0 &&
	    drain(p[0], buf, sizeof(buf)) > 0 && strcmp(buf, want2) == 0,
	    "response without type, headers or body");
	close(p[0]);
	ok(pp_http_respond(p[1], 200, NULL, NULL, "x", 1) == PP_EIO,
	    "writing to a closed pipe: PP_EIO");
	close(p[1]);

	/* A client that hung up: PP_EIO, not a SIGPIPE that kills inetd's
	 * child before it can log. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) < 0)
		exit(1);
	close(p[0]);
	signal(SIGPIPE, SIG_DFL);
	ok(pp_http_respond(p[1], 200, NULL, NULL, "x", 1) == PP_EIO,
	    "writing to a closed socket: PP_EIO, no SIGPIPE");
	signal(SIGPIPE, SIG_IGN);
	close(p[1]);

	ok(strcmp(pp_http_reason(200), "OK") == 0, "reason 200");
	ok(strcmp(pp_http_reason(413), "Payload Too Large") == 0, "reason 413");
	ok(strcmp(pp_http_reason(431), "Request Header Fields Too Large") == 0,
	    "reason 431");
	ok(strcmp(pp_http_reason(999), "Unknown") == 0 &&
	    strcmp(pp_http_reason(299), "Unknown") == 0 &&
	    strcmp(pp_http_reason(-1), "Unknown") == 0, "unknown status");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_basic();
	test_bodies();
	test_limits();
	test_truncated();
	test_malformed();
	test_continue();
	test_query();
	test_auth();
	test_respond();
	printf("1..%d\n", n);
	fflush(stdout);
	return failed;
}
