/* libFuzzer target: one HTTP request, as pp-recv would read it from its
 * connection, then the helpers pp-recv calls on a request it accepted. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const params[] = { "name", "from", "until", "format",
	"program", "type", "host", "label", "since", "limit", "", "=" };
static const char *const headers[] = { "Host", "Content-Length",
	"Transfer-Encoding", "Authorization", "Content-Type", "Expect", "" };

/* A regular file holding the bytes, read from its start; reused. */
static int
input_fd(const uint8_t *data, size_t size)
{
	static int fd = -1;
	size_t off = 0;
	ssize_t n;

	if (fd < 0 && (fd = memfd_create("pp-fuzz-http", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0)
		abort();
	while (off < size) {
		if ((n = pwrite(fd, data + off, size - off, (off_t)off)) <= 0)
			abort();
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		abort();
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	struct pp_http_limits lim = { .max_header = 0, .max_body = 1 << 20,
		.timeout_ms = 5000 };
	struct pp_http_request req = { 0 };
	struct pp_err e = { 0 };
	char tok[128], small[4];
	size_t i;
	int status = 0, err;

	if (devnull < 0 && (devnull = open("/dev/null", O_WRONLY)) < 0)
		abort();
	if (pp_http_read_request(input_fd(data, size), devnull, &lim, &req,
	    &status, &e) < 0)
		return 0;
	if (req.body == NULL || req.body[req.body_len] != '\0' ||
	    req.path == NULL)
		__builtin_trap();
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		(void)pp_http_header(&req, headers[i]);
	for (i = 0; i < req.nheaders; i++)
		if (pp_http_header(&req, req.headers[i].name) == NULL)
			__builtin_trap();
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		err = 0;
		free(pp_http_query_param(&req, params[i], &err));
	}
	(void)pp_http_auth_token(&req, tok, sizeof(tok));
	(void)pp_http_auth_token(&req, small, sizeof(small));
	pp_http_request_release(&req);
	return 0;
}
