/* One HTTP/1.1 request, server side, parsed with http-parser. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <sodium.h>

#include "crypto.h"
#include "http.h"
#include "util.h"

#define DEFAULT_MAX_HEADER	((size_t)16 << 10)
#define DEFAULT_MAX_BODY	((size_t)64 << 20)
#define DEFAULT_TIMEOUT_MS	30000
#define READ_SIZE		((size_t)16 << 10)
/* Chunk-size lines, chunk extensions and trailers are not body bytes;
 * http-parser puts no bound on extensions, so the bytes after the headers
 * may be at most twice the body limit and this much more. */
#define FRAMING_SLACK		((size_t)64 << 10)

struct reader {
	http_parser p;
	struct pp_http_request *req;
	size_t max_body;
	struct pp_buf url, field, value;
	size_t hcap;
	bool in_value, headers_done, done, oom;
	bool too_big;		/* the body passed max_body */
	struct pp_buf body;
};

static int
add_header(struct reader *r)
{
	struct pp_http_request *req = r->req;
	struct pp_http_header *h;
	char *v;
	size_t len;

	if (r->field.oom || r->value.oom ||
	    pp_grow(&req->headers, &r->hcap, req->nheaders + 1,
	    sizeof(*req->headers)) < 0)
		return -1;
	h = &req->headers[req->nheaders];
	v = r->value.data ? r->value.data : "";
	len = r->value.len;
	/* http-parser drops the blanks before a value, not those after. */
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	h->name = strndup(r->field.data ? r->field.data : "", r->field.len);
	h->value = strndup(v, len);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return -1;
	}
	/* A NUL inside would make the strings lie about what was sent. */
	if (strlen(h->name) != r->field.len || strlen(h->value) != len)
		h->name[0] = '\0';	/* refused by check_headers */
	req->nheaders++;
	r->field.len = r->value.len = 0;
	r->in_value = false;
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct reader *r = p->data;

	pp_buf_add(&r->url, at, len);
	if (r->url.oom)
		r->oom = true;
	return r->oom ? -1 : 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct reader *r = p->data;

	if (r->headers_done)	/* a trailer after a chunked body: ignored */
		return 0;
	if (r->in_value && add_header(r) < 0) {
		r->oom = true;
		return -1;
	}
	pp_buf_add(&r->field, at, len);
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct reader *r = p->data;

	if (r->headers_done)
		return 0;
	r->in_value = true;
	pp_buf_add(&r->value, at, len);
	return 0;
}

/* Both pause the parser, so that the caller can check the headers before
 * the body is read, and nothing after the request is parsed. */
static int
on_headers_complete(http_parser *p)
{
	struct reader *r = p->data;

	if (r->in_value && add_header(r) < 0) {
		r->oom = true;
		return -1;
	}
	r->headers_done = true;
	http_parser_pause(p, 1);
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct reader *r = p->data;

	r->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct reader *r = p->data;

	if (len > r->max_body - r->body.len) {
		r->too_big = true;
		return -1;
	}
	pp_buf_add(&r->body, at, len);
	if (r->body.oom)
		r->oom = true;
	return r->oom ? -1 : 0;
}

/* Decodes s[0..len) into a new string. plus: '+' means a blank (queries).
 * Returns the string, or NULL with *err PP_ENOMEM, or PP_EPROTO for a NUL
 * byte or (strict) a '%' not followed by two hex digits. */
static char *
decode(const char *s, size_t len, bool plus, bool strict, int *err)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	*err = 0;
	if ((out = malloc(len + 1)) == NULL) {
		*err = PP_ENOMEM;
		return NULL;
	}
	for (i = 0, o = out; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = pp_hex_digit((unsigned char)s[i + 1])) >= 0 &&
		    (lo = pp_hex_digit((unsigned char)s[i + 2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
			if (o[-1] == '\0')
				goto bad;
		} else if (s[i] == '%' && strict) {
			goto bad;
		} else if (s[i] == '+' && plus) {
			*o++ = ' ';
		} else if (s[i] == '\0') {
			goto bad;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	*err = PP_EPROTO;
	return NULL;
}

static bool
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* The checks http-parser does not make, before any of the body is read. */
static int
check_headers(struct reader *r, int *status, struct pp_err *e)
{
	struct pp_http_request *req = r->req;
	struct http_parser_url u;
	const char *cl = NULL, *te = NULL, *s;
	size_t i, ncl = 0, nte = 0;
	uint64_t n = 0;
	bool has_query;
	int err;

	*status = 400;
	if (r->p.http_major != 1)
		return pp_err_set(e, PP_EPROTO, "HTTP version %u.%u is not "
		    "supported", r->p.http_major, r->p.http_minor);
	if (r->p.method == HTTP_CONNECT)
		return pp_err_set(e, PP_EPROTO, "CONNECT is not supported");
	snprintf(req->method, sizeof(req->method), "%s",
	    http_method_str((enum http_method)r->p.method));
	for (i = 0; i < req->nheaders; i++) {
		const struct pp_http_header *h = &req->headers[i];

		if (h->name[0] == '\0')
			return pp_err_set(e, PP_EPROTO, "bad header name");
		for (s = h->name; *s != '\0'; s++)
			if (!is_tchar((unsigned char)*s))
				return pp_err_set(e, PP_EPROTO,
				    "bad header name '%s'", h->name);
		if (strcasecmp(h->name, "Content-Length") == 0) {
			cl = h->value;
			ncl++;
		} else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
			te = h->value;
			nte++;
		}
	}
	/* Two lengths are how requests are smuggled past a proxy. */
	if (ncl + nte > 1)
		return pp_err_set(e, PP_EPROTO, "more than one Content-Length "
		    "or Transfer-Encoding header");
	if (te != NULL && strcasecmp(te, "chunked") != 0)
		return pp_err_set(e, PP_EPROTO, "Transfer-Encoding '%s' is not "
		    "supported", te);
	if (cl != NULL) {
		if (*cl == '\0' || strlen(cl) > 19)
			return pp_err_set(e, PP_EPROTO, "bad Content-Length");
		for (s = cl; *s != '\0'; s++) {
			if (*s < '0' || *s > '9')
				return pp_err_set(e, PP_EPROTO,
				    "bad Content-Length '%s'", cl);
			n = n * 10 + (uint64_t)(*s - '0');
		}
		if (n > r->max_body) {
			*status = 413;
			return pp_err_set(e, PP_ETOOBIG, "body of %llu bytes is "
			    "over the limit of %zu", (unsigned long long)n,
			    r->max_body);
		}
	}

	*status = 500;
	if (r->url.oom)
		return pp_err_set(e, PP_ENOMEM, "out of memory reading request");
	*status = 400;
	http_parser_url_init(&u);
	if (r->url.len == 0 ||
	    http_parser_parse_url(r->url.data, r->url.len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH)))
		return pp_err_set(e, PP_EPROTO, "bad request target");
	req->path = decode(r->url.data + u.field_data[UF_PATH].off,
	    u.field_data[UF_PATH].len, false, true, &err);
	if (req->path == NULL && err != PP_ENOMEM)
		return pp_err_set(e, PP_EPROTO, "bad percent-encoding in path");
	/* "/path?" has an empty query, which http-parser does not report. */
	has_query = memchr(r->url.data, '?', r->url.len) != NULL;
	if (u.field_set & (1 << UF_QUERY))
		req->query = strndup(r->url.data + u.field_data[UF_QUERY].off,
		    u.field_data[UF_QUERY].len);
	else if (has_query)
		req->query = strdup("");
	if (req->path == NULL || (has_query && req->query == NULL)) {
		*status = 500;
		return pp_err_set(e, PP_ENOMEM, "out of memory reading request");
	}
	*status = 0;
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads up to len bytes before the deadline. Returns the count (0 at the
 * end), or PP_ETIMEDOUT or PP_EIO. */
static ssize_t
timed_read(int fd, void *buf, size_t len, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	ssize_t n;
	int pr;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return PP_ETIMEDOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return PP_EIO;
		if (pr == 0)
			return PP_ETIMEDOUT;
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return PP_EIO;
	}
}

/* send() with MSG_NOSIGNAL, so that a client gone away is PP_EIO and not
 * SIGPIPE; write() when fd is not a socket (a pipe in tests). */
static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	bool sock = true;
	ssize_t n;

	while (len > 0) {
		n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0 && errno == ENOTSOCK && sock) {
			sock = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return PP_EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bare LF line ends and folded header lines are read differently by
 * different servers and proxies: refused. *prev is the byte before s. */
static int
check_line_ends(const char *s, size_t len, char *prev, struct pp_err *e)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && *prev != '\r')
			return pp_err_set(e, PP_EPROTO, "line ends without CR");
		if ((s[i] == ' ' || s[i] == '\t') && *prev == '\n')
			return pp_err_set(e, PP_EPROTO, "folded header line");
		*prev = s[i];
	}
	return 0;
}

static int
parse_failure(struct reader *r, int *status, struct pp_err *e)
{
	enum http_errno he = HTTP_PARSER_ERRNO(&r->p);

	if (r->oom) {
		*status = 500;
		return pp_err_set(e, PP_ENOMEM, "out of memory reading request");
	}
	if (r->too_big) {
		*status = 413;
		return pp_err_set(e, PP_ETOOBIG, "body is over the limit of "
		    "%zu bytes", r->max_body);
	}
	/* http-parser's own bound (80 KiB), when max_header is larger, or
	 * on a chunk-size line or the trailers after the body. */
	if (he == HPE_HEADER_OVERFLOW && !r->headers_done) {
		*status = 431;
		return pp_err_set(e, PP_ETOOBIG, "request headers too large");
	}
	if (he == HPE_HEADER_OVERFLOW) {
		*status = 413;
		return pp_err_set(e, PP_ETOOBIG, "chunk line or trailers too "
		    "large");
	}
	*status = 400;
	return pp_err_set(e, PP_EPROTO, "malformed request: %s",
	    http_errno_description(he));
}

int
pp_http_read_request(int in_fd, int out_fd,
    const struct pp_http_limits *lim, struct pp_http_request *req,
    int *status, struct pp_err *e)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	http_parser_settings st;
	struct reader r;
	char *buf = NULL, prev = '\n';
	size_t max_header, pos = 0, end = 0, hdr_fed = 0, wire = 0, feed, n;
	size_t want;
	bool was_done;
	int64_t deadline;
	ssize_t got;
	int rc = 0;

	memset(req, 0, sizeof(*req));
	memset(&r, 0, sizeof(r));
	max_header = lim && lim->max_header ? lim->max_header :
	    DEFAULT_MAX_HEADER;
	r.max_body = lim && lim->max_body ? lim->max_body : DEFAULT_MAX_BODY;
	deadline = now_ms() + (lim && lim->timeout_ms > 0 ? lim->timeout_ms :
	    DEFAULT_TIMEOUT_MS);
	r.req = req;
	pp_buf_init(&r.url);
	pp_buf_init(&r.field);
	pp_buf_init(&r.value);
	pp_buf_init(&r.body);
	http_parser_settings_init(&st);
	st.on_url = on_url;
	st.on_header_field = on_header_field;
	st.on_header_value = on_header_value;
	st.on_headers_complete = on_headers_complete;
	st.on_body = on_body;
	st.on_message_complete = on_message_complete;
	http_parser_init(&r.p, HTTP_REQUEST);
	r.p.data = &r;
	*status = 500;
	if ((buf = malloc(READ_SIZE)) == NULL) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory reading request");
		goto out;
	}

	while (!r.done) {
		if (!r.headers_done && hdr_fed >= max_header) {
			*status = 431;
			rc = pp_err_set(e, PP_ETOOBIG, "request headers over "
			    "the limit of %zu bytes", max_header);
			goto out;
		}
		if (pos == end) {
			/* With a Content-Length, read no further than the
			 * body's end. */
			want = READ_SIZE;
			if (r.headers_done && (r.p.flags & F_CONTENTLENGTH) &&
			    r.p.content_length > 0 &&
			    r.p.content_length < want)
				want = (size_t)r.p.content_length;
			got = timed_read(in_fd, buf, want, deadline);
			if (got == PP_ETIMEDOUT) {
				*status = 408;
				rc = pp_err_set(e, PP_ETIMEDOUT, "request not "
				    "received within %d ms", lim &&
				    lim->timeout_ms > 0 ? lim->timeout_ms :
				    DEFAULT_TIMEOUT_MS);
				goto out;
			}
			if (got < 0) {
				*status = 0;
				rc = pp_err_set(e, PP_EIO, "cannot read request: "
				    "%s", strerror(errno));
				goto out;
			}
			if (got == 0) {
				*status = 400;
				rc = pp_err_set(e, PP_EPROTO, "connection closed "
				    "before the end of the request");
				goto out;
			}
			pos = 0;
			end = (size_t)got;
			wire += end;
			if (r.headers_done && wire > max_header +
			    2 * r.max_body + FRAMING_SLACK) {
				*status = 413;
				rc = pp_err_set(e, PP_ETOOBIG, "chunk lines "
				    "too large");
				goto out;
			}
		}
		feed = end - pos;
		if (!r.headers_done && feed > max_header - hdr_fed)
			feed = max_header - hdr_fed;
		was_done = r.headers_done;
		n = http_parser_execute(&r.p, &st, buf + pos, feed);
		if (!was_done) {
			/* Paused on the headers' end: n stops before the
			 * last LF, which the next call parses again. */
			size_t hn = r.headers_done ? n + 1 : n;

			if ((rc = check_line_ends(buf + pos, hn, &prev, e))
			    < 0) {
				*status = 400;
				goto out;
			}
			hdr_fed += hn;
		}
		pos += n;
		if (HTTP_PARSER_ERRNO(&r.p) == HPE_PAUSED) {
			http_parser_pause(&r.p, 0);
			if (r.done)
				break;
			if (r.headers_done && !was_done) {
				if ((rc = check_headers(&r, status, e)) < 0)
					goto out;
				if (lim != NULL && lim->on_headers != NULL &&
				    (rc = lim->on_headers(req,
				    lim->on_headers_arg, status, e)) < 0)
					goto out;
				if ((r.p.flags & F_CHUNKED) ||
				    ((r.p.flags & F_CONTENTLENGTH) &&
				    r.p.content_length > 0)) {
					const char *x = pp_http_header(req,
					    "Expect");

					if (x != NULL && strcasecmp(x,
					    "100-continue") == 0 &&
					    write_all(out_fd, cont,
					    sizeof(cont) - 1) < 0) {
						*status = 0;
						rc = pp_err_set(e, PP_EIO,
						    "cannot write 100 Continue: "
						    "%s", strerror(errno));
						goto out;
					}
				}
			}
			continue;
		}
		if (HTTP_PARSER_ERRNO(&r.p) != HPE_OK) {
			rc = parse_failure(&r, status, e);
			goto out;
		}
	}

	*status = 500;
	if (r.body.oom) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory reading request");
		goto out;
	}
	if (r.body.data == NULL && (r.body.data = calloc(1, 1)) == NULL) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory reading request");
		goto out;
	}
	req->body = (unsigned char *)r.body.data;
	req->body_len = r.body.len;
	pp_buf_init(&r.body);	/* transferred */
	*status = 200;
out:
	if (rc < 0)
		pp_http_request_release(req);
	free(buf);
	pp_buf_release(&r.url);
	pp_buf_release(&r.field);
	pp_buf_release(&r.value);
	pp_buf_release(&r.body);
	return rc;
}

void
pp_http_request_release(struct pp_http_request *req)
{
	size_t i;

	if (req == NULL)
		return;
	for (i = 0; i < req->nheaders; i++) {
		/* Authorization holds a secret: leave nothing of it behind. */
		if (req->headers[i].value != NULL)
			sodium_memzero(req->headers[i].value,
			    strlen(req->headers[i].value));
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	free(req->path);
	free(req->query);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

const char *
pp_http_header(const struct pp_http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

char *
pp_http_query_param(const struct pp_http_request *req, const char *name,
    int *err)
{
	const char *s, *amp, *eq;
	char *key, *val;
	size_t klen;
	int kerr;

	*err = 0;
	if (req->query == NULL)
		return NULL;
	for (s = req->query; *s != '\0'; s = *amp ? amp + 1 : amp) {
		amp = s + strcspn(s, "&");
		eq = memchr(s, '=', (size_t)(amp - s));
		klen = (size_t)((eq ? eq : amp) - s);
		key = decode(s, klen, true, false, &kerr);
		if (key == NULL) {
			if (kerr == PP_ENOMEM) {
				*err = PP_ENOMEM;
				return NULL;
			}
			continue;	/* a key that cannot be a name */
		}
		if (strcmp(key, name) != 0) {
			free(key);
			continue;
		}
		free(key);
		if (eq == NULL)
			val = strdup("");
		else
			val = decode(eq + 1, (size_t)(amp - eq - 1), true, false,
			    err);
		if (val == NULL && *err == 0)
			*err = PP_ENOMEM;
		return val;
	}
	return NULL;
}

int
pp_http_auth_token(const struct pp_http_request *req, char *tok, size_t size)
{
	const char *a = pp_http_header(req, "Authorization"), *t, *colon;
	unsigned char *bin = NULL;
	size_t blen, alen = 0, len;
	int rc = PP_EAUTH;

	if (size > 0)
		tok[0] = '\0';
	if (a == NULL)
		return PP_EAUTH;
	if (strncasecmp(a, "Bearer ", 7) == 0) {
		t = a + 7;
		t += strspn(t, " ");
		len = strlen(t);
		if (len == 0 || strchr(t, ' ') != NULL)
			return PP_EAUTH;
	} else if (strncasecmp(a, "Basic ", 6) == 0) {
		a += 6;
		a += strspn(a, " ");
		alen = strlen(a);
		if (alen == 0 || (bin = malloc(alen)) == NULL)
			return alen == 0 ? PP_EAUTH : PP_ENOMEM;
		if (sodium_base642bin(bin, alen, a, alen, NULL, &blen, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    memchr(bin, '\0', blen) != NULL ||
		    (colon = memchr(bin, ':', blen)) == NULL)
			goto out;
		t = colon + 1;
		len = blen - (size_t)(t - (char *)bin);
		if (len == 0)
			goto out;
	} else {
		return PP_EAUTH;
	}
	if (len >= size) {
		rc = PP_ETOOBIG;
		goto out;
	}
	memcpy(tok, t, len);
	tok[len] = '\0';
	rc = 0;
out:
	if (bin != NULL) {
		sodium_memzero(bin, alen);
		free(bin);
	}
	return rc;
}

const char *
pp_http_reason(int status)
{
	const char *s;

	if (status < 100 || status > 599)
		return "Unknown";
	s = http_status_str((enum http_status)status);
	return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

int
pp_http_respond(int fd, int status, const char *content_type,
    const char *extra_headers, const void *body, size_t len)
{
	struct pp_buf h;
	int rc;

	pp_buf_init(&h);
	pp_buf_addf(&h, "HTTP/1.1 %d %s\r\n", status, pp_http_reason(status));
	if (content_type != NULL)
		pp_buf_addf(&h, "Content-Type: %s\r\n", content_type);
	pp_buf_addf(&h, "Content-Length: %zu\r\nConnection: close\r\n", len);
	if (extra_headers != NULL)
		pp_buf_adds(&h, extra_headers);
	pp_buf_adds(&h, "\r\n");
	if (h.oom)
		rc = PP_EIO;
	else if ((rc = write_all(fd, h.data, h.len)) == 0 && len > 0)
		rc = write_all(fd, body, len);
	pp_buf_release(&h);
	return rc;
}
