/* One HTTP/1.1 exchange, server side, for a process that inetd or systemd
 * socket activation started with the connection on stdin and stdout.
 *
 * The request is parsed with http-parser (Debian's libhttp-parser, the
 * parser Node.js used before llhttp). Bodies may be sent with
 * Content-Length or chunked; "Expect: 100-continue" is answered before the
 * body is read. Only one request is read per process; the response always
 * says "Connection: close".
 */
#ifndef PP_HTTP_H
#define PP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct pp_http_request;

/* Limits; 0 means the default in brackets. */
struct pp_http_limits {
	size_t max_header;	/* request line and headers [16 KiB] */
	size_t max_body;	/* body bytes after de-chunking [64 MiB] */
	int timeout_ms;		/* the whole request must arrive in this [30000] */
	/* When not NULL: called once the request line and headers are in
	 * (method, path, query and headers are set; the body is not), before
	 * "100 Continue" and before any of the body is read. A negative
	 * PP_E* code with *status set ends the read there: a client that
	 * may not send a body (no token) never gets it read. */
	int (*on_headers)(const struct pp_http_request *req, void *arg,
	    int *status, struct pp_err *e);
	void *on_headers_arg;
};

struct pp_http_header {
	char *name;		/* as sent */
	char *value;		/* surrounding blanks removed */
};

struct pp_http_request {
	char method[16];	/* "GET", "POST", ... */
	char *path;		/* decoded path, without the query: "/v1/push" */
	char *query;		/* raw query string after '?', or NULL */
	struct pp_http_header *headers;
	size_t nheaders;
	unsigned char *body;	/* NUL-terminated for convenience; never
				 * NULL after a successful read */
	size_t body_len;
	/* private */
	void *priv;
};

/* Reads one request from in_fd (a socket, pipe or file). When the request
 * sends "Expect: 100-continue", has a body and its headers are acceptable,
 * writes "HTTP/1.1 100 Continue" to out_fd before reading the body. Reads
 * 16 KiB at a time, and with a Content-Length no further than the body's
 * end; bytes after the request are not parsed.
 *
 * Returns 0 with *req filled (release with pp_http_request_release), or a
 * negative PP_E* code and *status the HTTP status to answer with:
 *   PP_EPROTO     400  malformed request, or the peer closed before its end
 *   PP_ETOOBIG    431  headers over max_header
 *   PP_ETOOBIG    413  body over max_body (Content-Length says so, or the
 *                      chunks add up to more); or chunk-size lines,
 *                      extensions and trailers over 80 KiB in one go or,
 *                      with the body, over 2 * max_body + 64 KiB
 *   PP_ETIMEDOUT  408  the request did not arrive within timeout_ms,
 *                      counted from the call
 *   PP_EIO        0    reading failed, or writing 100 Continue did
 *                      (nothing can be answered)
 *   PP_ENOMEM     500
 * e names what was wrong, fit to send to the client.
 *
 * Malformed, besides what http-parser refuses: a line ending in a bare LF,
 * a folded header line, a header name that is not a token ("Host :"),
 * more than one Content-Length or Transfer-Encoding header, both of them,
 * a Transfer-Encoding other than "chunked", a Content-Length that is not
 * digits, an HTTP version other than 1.x, CONNECT, and a path with a bad
 * percent-escape or one that decodes to NUL. Trailers after a chunked
 * body are parsed and dropped. */
int pp_http_read_request(int in_fd, int out_fd,
    const struct pp_http_limits *lim, struct pp_http_request *req,
    int *status, struct pp_err *e);

void pp_http_request_release(struct pp_http_request *req);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *pp_http_header(const struct pp_http_request *req,
    const char *name);

/* The value of query parameter name, percent- and '+'-decoded, in a
 * malloc'd string the caller frees; NULL when absent (or out of memory:
 * *err set to PP_ENOMEM then; or a value that decodes to a NUL byte:
 * *err set to PP_EPROTO then; else 0). A parameter given twice: the
 * first. A parameter without '=' has the value "". A '%' not followed by
 * two hex digits is kept as it is. */
char *pp_http_query_param(const struct pp_http_request *req,
    const char *name, int *err);

/* The token of an "Authorization: Bearer TOKEN" header, or the password of
 * "Authorization: Basic base64(user:TOKEN)" (all after the first ':'),
 * copied into tok (size bytes, the NUL included). The scheme is matched
 * without regard to case. Returns 0, PP_EAUTH when there is no usable
 * Authorization header (an empty token, bad base64, no ':', a NUL byte),
 * PP_ETOOBIG when the token does not fit. */
int pp_http_auth_token(const struct pp_http_request *req, char *tok,
    size_t size);

/* Writes a whole response to fd: status line with the standard reason
 * phrase, Content-Type (when not NULL), Content-Length, "Connection:
 * close", any extra header lines (each "Name: value\r\n", may be NULL),
 * then body. Retries short writes and EINTR. On a socket, a peer that has
 * gone is PP_EIO, not SIGPIPE (on a pipe, SIGPIPE is the caller's).
 * Returns 0 or PP_EIO. */
int pp_http_respond(int fd, int status, const char *content_type,
    const char *extra_headers, const void *body, size_t len);

/* The standard reason phrase for status ("Not Found"), or "Unknown". */
const char *pp_http_reason(int status);

#endif
