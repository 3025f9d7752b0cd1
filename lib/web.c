#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "recv.h"
#include "web.h"
#include "when.h"

#define MAX_DRAWING	(64 << 20)	/* bytes of SVG read from pp-render */
#define DEFAULT_ROWS	100

/* Sent with every page: no sniffing, no referrer (URLs hold filters), no
 * copy kept by a cache (pages are private), no framing. */
#define COMMON_HEADERS \
	"X-Content-Type-Options: nosniff\r\n" \
	"Referrer-Policy: no-referrer\r\n" \
	"Cache-Control: no-store\r\n" \
	"X-Frame-Options: DENY\r\n" \
	"Cross-Origin-Opener-Policy: same-origin\r\n" \
	"Cross-Origin-Resource-Policy: same-origin\r\n"

/* A call graph has neither script nor style sheet; a sandbox without
 * scripts gives it an opaque origin as well. A flame graph carries its own
 * inline script (hover, zoom, search) and styles; still no request may
 * leave it (default-src 'none'), and its origin is opaque too. */
#define CSP_GRAPH \
	"Content-Security-Policy: default-src 'none'; " \
	"style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox\r\n"
#define CSP_FLAME \
	"Content-Security-Policy: default-src 'none'; " \
	"script-src 'unsafe-inline'; style-src 'unsafe-inline'; " \
	"frame-ancestors 'none'; sandbox allow-scripts\r\n"

/* The page's one style sheet, allowed by its hash: the page needs no
 * script at all. */
static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222}"
    "h1{font-size:1.3em;margin:0 0 .6em}"
    "form{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:flex-end;"
    "margin:0 0 1em}"
    "label{display:flex;flex-direction:column;font-size:.85em}"
    "input{font:inherit;padding:2px 4px}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #ddd;"
    "vertical-align:top}"
    "th{background:#f3f3f3}"
    "td.n{text-align:right;white-space:nowrap}"
    "tr:hover td{background:#fafaee}"
    ".labels{font-family:monospace;font-size:.85em;word-break:break-all}"
    ".err{color:#a00;font-weight:bold}"
    "a{color:#04b}";

static void
wlog(const struct pp_web_opts *o, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
wlog(const struct pp_web_opts *o, int error, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->log(o->log_arg, error, msg);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
fail(struct pp_web_answer *a, int status, struct pp_err *e, int code,
    const char *msg)
{
	a->status = status;
	return pp_err_set(e, code, "%s", msg);
}

/*
 * Escaping and formatting.
 */

void
pp_web_html_escape(struct pp_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		switch (*p) {
		case '&':
			pp_buf_adds(b, "&amp;");
			break;
		case '<':
			pp_buf_adds(b, "&lt;");
			break;
		case '>':
			pp_buf_adds(b, "&gt;");
			break;
		case '"':
			pp_buf_adds(b, "&quot;");
			break;
		case '\'':
			pp_buf_adds(b, "&#39;");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				pp_buf_adds(b, "\xef\xbf\xbd");
			else
				pp_buf_addc(b, (char)*p);
		}
	}
}

/* b's text; "" when nothing could be added. */
static const char *
text_of(const struct pp_buf *b)
{
	return b->data ? b->data : "";
}

static void
buf_clear(struct pp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Appends "?name=value" or "&name=value", the value percent-encoded; an
 * absent or empty value appends nothing. */
static void
url_param(struct pp_buf *b, const char *name, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)v;

	if (!v || !*v)
		return;
	pp_buf_addc(b, strchr(text_of(b), '?') ? '&' : '?');
	pp_buf_adds(b, name);
	pp_buf_addc(b, '=');
	for (; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			pp_buf_addc(b, (char)*p);
		} else {
			pp_buf_addc(b, '%');
			pp_buf_addc(b, hex[*p >> 4]);
			pp_buf_addc(b, hex[*p & 15]);
		}
	}
}

/* <a href="URL">TEXT</a>, both escaped. */
static void
html_link(struct pp_buf *b, const char *url, const char *text)
{
	pp_buf_adds(b, "<a href=\"");
	pp_web_html_escape(b, url);
	pp_buf_adds(b, "\">");
	pp_web_html_escape(b, text);
	pp_buf_adds(b, "</a>");
}

static void
fmt_time(char *buf, size_t size, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns < 0 || !gmtime_r(&t, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%lld ns", (long long)ns);
}

static void
fmt_duration(char *buf, size_t size, int64_t ns)
{
	double s = (double)ns / 1e9;

	if (ns <= 0)
		snprintf(buf, size, "-");
	else if (s < 1)
		snprintf(buf, size, "%.3g ms", s * 1e3);
	else if (s < 600)
		snprintf(buf, size, "%.3g s", s);
	else if (s < 36000)
		snprintf(buf, size, "%.3g min", s / 60);
	else
		snprintf(buf, size, "%.3g h", s / 3600);
}

static void
fmt_size(char *buf, size_t size, uint64_t n)
{
	if (n < 1024)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024);
	else
		snprintf(buf, size, "%.1f MiB", (double)n / (1024 * 1024));
}

/*
 * Parameters.
 */

int
pp_web_parse_time(const char *s, int64_t now_ns, int64_t *ns)
{
	long long v;
	char *end;

	/* Plain digits are Unix seconds, as in the API; the rest is what
	 * pp-query takes. */
	if (*s >= '0' && *s <= '9' && !s[strspn(s, "0123456789")]) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || v > 4102444800LL)
			return PP_EINVAL;
		*ns = (int64_t)v * 1000000000;
		return 0;
	}
	return pp_parse_time(s, now_ns, ns);
}

/* The filter's parameters, as given (empty ones NULL). */
enum {
	P_PROGRAM, P_TYPE, P_HOST, P_LABEL, P_SINCE, P_UNTIL, P_LIMIT,
	P_BEFORE, NP
};
static const char *const pnames[NP] = {
	"program", "type", "host", "label", "since", "until", "limit",
	"before",
};

struct params {
	char *v[NP];
	char *label_list;	/* a copy of v[P_LABEL], split */
	const char **labels;	/* into these, f's */
	struct pp_store_filter f;
	size_t limit;
	int has_cursor;
	int64_t cur_start;
	uint64_t cur_id;
};

static void
params_release(struct params *p)
{
	size_t i;

	for (i = 0; i < NP; i++)
		free(p->v[i]);
	free(p->label_list);
	free(p->labels);
}

/* Reads the parameters and makes the filter of them. Returns 0, PP_ENOMEM,
 * or PP_EINVAL with e saying which one is wrong. */
static int
params_read(struct params *p, const struct pp_http_request *req,
    const char *owner, struct pp_err *e)
{
	int64_t now = pp_now_ns();
	size_t i;
	int err;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < NP; i++) {
		p->v[i] = pp_http_query_param(req, pnames[i], &err);
		if (err == PP_ENOMEM)
			return pp_err_set(e, PP_ENOMEM, "out of memory");
		if (err)
			return pp_err_set(e, PP_EINVAL, "a bad '%s'",
			    pnames[i]);
		if (p->v[i] && !*p->v[i]) {
			free(p->v[i]);
			p->v[i] = NULL;
		}
	}
	p->f.owner = owner;
	p->f.program = p->v[P_PROGRAM];
	if (p->v[P_TYPE] && pp_is_profile_type(p->v[P_TYPE]))
		p->f.type = p->v[P_TYPE];
	else
		p->f.sample_type = p->v[P_TYPE];
	p->f.host = p->v[P_HOST];
	/* The labels as the listing API takes them, all to match. */
	if (p->v[P_LABEL]) {
		if (!(p->label_list = strdup(p->v[P_LABEL])))
			return pp_err_set(e, PP_ENOMEM, "out of memory");
		err = pp_store_split_labels(p->label_list, &p->labels,
		    &p->f.nlabels);
		if (err == PP_ENOMEM)
			return pp_err_set(e, PP_ENOMEM, "out of memory");
		if (err)
			return pp_err_set(e, PP_EINVAL, "'label' is key=value, "
			    "or several separated by commas");
		p->f.labels = p->labels;
	}
	if (p->v[P_SINCE] && pp_web_parse_time(p->v[P_SINCE], now,
	    &p->f.since_ns) < 0)
		return pp_err_set(e, PP_EINVAL, "'since' is not a time: use "
		    "Unix seconds, a duration before now (1h, 2d) or "
		    "YYYY-MM-DDTHH:MM (UTC)");
	if (p->v[P_UNTIL] && pp_web_parse_time(p->v[P_UNTIL], now,
	    &p->f.until_ns) < 0)
		return pp_err_set(e, PP_EINVAL, "'until' is not a time: use "
		    "Unix seconds, a duration before now (1h, 2d) or "
		    "YYYY-MM-DDTHH:MM (UTC)");
	/* 0 means "open" to the store: a range that ends before 1970 is
	 * an empty one. */
	if (p->v[P_UNTIL] && p->f.until_ns <= 0)
		p->f.until_ns = 1;
	p->limit = DEFAULT_ROWS;
	if (p->v[P_LIMIT]) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(p->v[P_LIMIT], &end, 10);
		if (errno || *end || p->v[P_LIMIT][0] < '0' ||
		    p->v[P_LIMIT][0] > '9' || n < 1 || n > PP_WEB_MAX_ROWS)
			return pp_err_set(e, PP_EINVAL, "'limit' is a number "
			    "of rows from 1 to %d", PP_WEB_MAX_ROWS);
		p->limit = n;
	}
	if (p->v[P_BEFORE]) {
		const char *s = p->v[P_BEFORE], *dot = strchr(s, '.');
		char *end;

		errno = 0;
		p->cur_start = strtoll(s, &end, 10);
		if (errno || end == s || end != dot ||
		    pp_store_id_parse(dot + 1, &p->cur_id) < 0)
			return pp_err_set(e, PP_EINVAL, "'before' is not a "
			    "cursor of this page");
		p->has_cursor = 1;
	}
	return 0;
}

/* The URL of the page or drawing at path for the filter in p (and
 * extra=value when extra is not NULL). */
static void
filter_url(struct pp_buf *b, const char *path, const struct params *p,
    const char *type, const char *extra, const char *value)
{
	pp_buf_adds(b, path);
	url_param(b, "program", p->v[P_PROGRAM]);
	url_param(b, "type", type);
	url_param(b, "host", p->v[P_HOST]);
	url_param(b, "label", p->v[P_LABEL]);
	url_param(b, "since", p->v[P_SINCE]);
	url_param(b, "until", p->v[P_UNTIL]);
	if (extra)
		url_param(b, extra, value);
}

/*
 * The listing: the newest rows of the selection, kept in a min-heap of
 * at most limit rows while the store is walked.
 *
 * The store walks a selection by program, type and time, not newest
 * first, so the newest rows are known only when every profile before the
 * cursor has been seen. The first walk counts: it stops past
 * PP_WEB_MAX_COUNT, and when it did not stop, it saw everything. Else the
 * rows come from a window of time below the cursor, [since, top]: widened
 * (four times, from a minute) while it holds no more than a page, and
 * halved while it holds more than WINDOW_PAGES pages. Every walk is so
 * bounded, and a window that holds more than a page holds the newest
 * rows of all, as nothing older than its start can be newer.
 */

#define PAST_BOUND	1	/* list_one: more than the walk may see */
#define WINDOW_PAGES	8	/* a window holds at most this many pages */

struct row {
	uint64_t id;
	int64_t start_ns, duration_ns;
	uint64_t size;
	char *program, *host, *type;
	char **labels;
	size_t nlabels;
};

struct listing {
	const struct params *p;
	struct row *rows;	/* a min-heap by (start_ns, id) */
	size_t n;
	int counting;		/* the first walk: total, type and mixed */
	size_t total;		/* profiles the filter selects, up to
				 * PP_WEB_MAX_COUNT + 1 */
	size_t older;		/* of them (of the window's), before the
				 * cursor */
	size_t bound;		/* the walk stops past this many older */
	char *type;		/* their type, when they share one */
	int mixed;		/* they do not */
	int oom;
};

static void
row_release(struct row *r)
{
	size_t i;

	free(r->program);
	free(r->host);
	free(r->type);
	for (i = 0; i < r->nlabels; i++)
		free(r->labels[i]);
	free(r->labels);
	memset(r, 0, sizeof(*r));
}

static int
newer(int64_t s1, uint64_t id1, int64_t s2, uint64_t id2)
{
	return s1 > s2 || (s1 == s2 && id1 > id2);
}

static int
row_newer(const struct row *a, const struct row *b)
{
	return newer(a->start_ns, a->id, b->start_ns, b->id);
}

static int
row_fill(struct row *r, const struct pp_store_rec *rec)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->id = rec->id;
	r->start_ns = rec->start_ns;
	r->duration_ns = rec->duration_ns;
	r->size = rec->size;
	if (!(r->program = strdup(rec->program)) ||
	    !(r->host = strdup(rec->host)) || !(r->type = strdup(rec->type)))
		goto oom;
	if (rec->nlabels && !(r->labels = calloc(rec->nlabels,
	    sizeof(*r->labels))))
		goto oom;
	for (i = 0; i < rec->nlabels; i++, r->nlabels++)
		if (!(r->labels[i] = strdup(rec->labels[i])))
			goto oom;
	return 0;
oom:
	row_release(r);
	return PP_ENOMEM;
}

static void
sift_down(struct row *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct row t;

		if (l < n && row_newer(&h[m], &h[l]))
			m = l;
		if (r < n && row_newer(&h[m], &h[r]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
sift_up(struct row *h, size_t i)
{
	while (i > 0) {
		size_t up = (i - 1) / 2;
		struct row t;

		if (!row_newer(&h[up], &h[i]))
			return;
		t = h[i];
		h[i] = h[up];
		h[up] = t;
		i = up;
	}
}

static int
list_one(const struct pp_store_rec *rec, void *arg)
{
	struct listing *l = arg;
	const struct params *p = l->p;
	struct row r;

	if (l->counting && ++l->total > PP_WEB_MAX_COUNT)
		return PAST_BOUND;
	if (l->counting && !l->mixed) {
		if (!l->type) {
			if (!(l->type = strdup(rec->type)))
				goto oom;
		} else if (strcmp(l->type, rec->type) != 0) {
			l->mixed = 1;
		}
	}
	if (p->has_cursor && !newer(p->cur_start, p->cur_id, rec->start_ns,
	    rec->id))
		return 0;
	if (++l->older > l->bound)
		return PAST_BOUND;
	if (l->n == p->limit && !newer(rec->start_ns, rec->id,
	    l->rows[0].start_ns, l->rows[0].id))
		return 0;
	if (row_fill(&r, rec) < 0)
		goto oom;
	if (l->n < p->limit) {
		l->rows[l->n] = r;
		sift_up(l->rows, l->n++);
	} else {
		row_release(&l->rows[0]);
		l->rows[0] = r;
		sift_down(l->rows, l->n, 0);
	}
	return 0;
oom:
	l->oom = 1;
	return PP_ENOMEM;
}

/* Walks the profiles of the filter that started at since or later
 * (INT64_MIN: all of them) and before the cursor, into an empty heap;
 * stops past bound of them. Returns 0, PAST_BOUND, or the store's error. */
static int
walk_window(struct pp_store *st, struct listing *l, int64_t since,
    size_t bound, struct pp_err *e)
{
	const struct params *p = l->p;
	struct pp_store_filter f = p->f;
	size_t i;

	for (i = 0; i < l->n; i++)
		row_release(&l->rows[i]);
	l->n = 0;
	l->older = 0;
	l->counting = 0;
	l->bound = bound;
	f.since_ns = since;
	/* Nothing newer than the cursor is walked (until 0 is no end). */
	if (p->has_cursor && (!f.until_ns || p->cur_start < f.until_ns))
		f.until_ns = p->cur_start ? p->cur_start : 1;
	return pp_store_select(st, &f, list_one, l, e);
}

/* The rows before the cursor when more than PP_WEB_MAX_COUNT profiles
 * match: see above. Returns 0 or the store's error. */
static int
list_window(struct pp_store *st, struct listing *l, struct pp_err *e)
{
	const struct params *p = l->p;
	int64_t floor = p->f.since_ns ? p->f.since_ns : INT64_MIN;
	int64_t top = p->f.until_ns ? p->f.until_ns : pp_now_ns();
	int64_t hi, lo = 0, t;
	uint64_t w = 60 * (uint64_t)1000000000;
	size_t bound = WINDOW_PAGES * (p->limit + 1);
	int too_many = 0, all, rc;

	if (p->has_cursor && (!p->f.until_ns || p->cur_start < top))
		top = p->cur_start;
	hi = top;	/* a window that starts at hi holds at most a page */
	for (;;) {
		all = 0;
		if (too_many && (uint64_t)hi - (uint64_t)lo <= 1)
			/* More than WINDOW_PAGES - 1 pages started in one
			 * nanosecond, at lo: all of them it is. */
			return walk_window(st, l, lo, SIZE_MAX, e);
		if (too_many) {
			t = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
		} else {
			if (w > INT64_MAX || __builtin_sub_overflow(top,
			    (int64_t)w, &t) || t <= floor) {
				t = floor;
				all = 1;
			}
			w *= 4;
		}
		rc = walk_window(st, l, t, bound, e);
		if (rc < 0)
			return rc;
		if (rc == PAST_BOUND) {
			lo = t;		/* holds too many */
			too_many = 1;
		} else if (all || l->older > p->limit) {
			return 0;
		} else {
			hi = t;
		}
	}
}

static int
cmp_newest(const void *a, const void *b)
{
	return row_newer(a, b) ? -1 : row_newer(b, a) ? 1 : 0;
}

static void
page_start(struct pp_buf *b, const char *owner)
{
	pp_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>pp: profiles of ");
	pp_web_html_escape(b, owner);
	pp_buf_adds(b, "</title>\n<style>");
	pp_buf_adds(b, css);
	pp_buf_adds(b, "</style>\n</head>\n<body>\n<h1>Profiles of ");
	pp_web_html_escape(b, owner);
	pp_buf_adds(b, "</h1>\n");
}

static void
form_field(struct pp_buf *b, const char *label, const char *name,
    const char *value, const char *extra)
{
	pp_buf_addf(b, "<label>%s <input name=\"%s\"", label, name);
	if (value) {
		pp_buf_adds(b, " value=\"");
		pp_web_html_escape(b, value);
		pp_buf_adds(b, "\"");
	}
	pp_buf_addf(b, "%s></label>\n", extra ? extra : "");
}

static void
page_form(struct pp_buf *b, const struct params *p)
{
	static const char *const types[] = {
		"cpu", "heap", "alloc", "goroutine", "threadcreate",
		"contentions", "wall",
	};
	size_t i;

	pp_buf_adds(b, "<form method=\"get\" action=\"/\">\n");
	form_field(b, "Program", "program", p->v[P_PROGRAM], NULL);
	form_field(b, "Type", "type", p->v[P_TYPE], " list=\"types\"");
	form_field(b, "Host", "host", p->v[P_HOST], NULL);
	form_field(b, "Labels", "label", p->v[P_LABEL],
	    " placeholder=\"env=prod,zone=a\"");
	form_field(b, "Since", "since", p->v[P_SINCE],
	    " placeholder=\"1h, 2d, 2024-05-01T10:00\"");
	form_field(b, "Until", "until", p->v[P_UNTIL],
	    " placeholder=\"now (UTC)\"");
	form_field(b, "Rows", "limit", p->v[P_LIMIT],
	    " type=\"number\" min=\"1\" max=\"1000\" placeholder=\"100\"");
	pp_buf_adds(b, "<button type=\"submit\">Show</button>\n"
	    "<a href=\"/\">all profiles</a>\n<datalist id=\"types\">");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		pp_buf_addf(b, "<option value=\"%s\">", types[i]);
	pp_buf_adds(b, "</datalist>\n</form>\n");
}

static void
page_row(struct pp_buf *b, const struct row *r)
{
	char id[17], t[64], d[32], s[32];
	struct pp_buf u;
	size_t i;

	pp_store_id_str(r->id, id);
	fmt_time(t, sizeof(t), r->start_ns);
	fmt_duration(d, sizeof(d), r->duration_ns);
	fmt_size(s, sizeof(s), r->size);
	pp_buf_init(&u);
	pp_buf_adds(&u, "/");
	url_param(&u, "program", r->program);
	pp_buf_addf(b, "<tr id=\"p%s\"><td>", id);
	html_link(b, text_of(&u), r->program);
	pp_buf_release(&u);
	pp_buf_adds(b, "</td><td>");
	pp_web_html_escape(b, r->type);
	pp_buf_adds(b, "</td><td>");
	pp_web_html_escape(b, r->host);
	pp_buf_addf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
	    "<td class=\"labels\">", t, d);
	for (i = 0; i < r->nlabels; i++) {
		if (i)
			pp_buf_adds(b, "<br>");
		pp_web_html_escape(b, r->labels[i]);
	}
	pp_buf_addf(b, "</td><td class=\"n\">%s</td><td>"
	    "<a class=\"graph\" href=\"/v1/profiles/%s.svg\">call graph</a> "
	    "<a class=\"flame\" href=\"/v1/profiles/%s.flame.svg\">"
	    "flame graph</a> "
	    "<a class=\"pprof\" href=\"/v1/profiles/%s\" download=\"%s.pb.gz\">"
	    "pprof</a></td></tr>\n", s, id, id, id, id);
}

/* The headers of the HTML page: its style sheet is allowed by hash. */
static char *
page_headers(void)
{
	unsigned char h[PP_SHA256_LEN];
	char b64[sodium_base64_ENCODED_LEN(PP_SHA256_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];
	char *s;

	pp_sha256(css, sizeof(css) - 1, h);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL);
	if (asprintf(&s, "Content-Security-Policy: default-src 'none'; "
	    "style-src 'sha256-%s'; form-action 'self'; base-uri 'none'; "
	    "frame-ancestors 'none'\r\n" COMMON_HEADERS, b64) < 0)
		return NULL;
	return s;
}

static int
serve_page(struct pp_store *st, const char *owner,
    const struct pp_http_request *req, const struct pp_web_opts *o,
    struct pp_web_answer *a, struct pp_err *e)
{
	struct params p;
	struct listing l;
	struct pp_buf b;
	struct pp_err pe = { 0 }, se = { 0 };
	const char *type;
	size_t i;
	int rc, bad = 0, many;

	memset(&l, 0, sizeof(l));
	pp_buf_init(&b);
	if ((rc = params_read(&p, req, owner, &pe)) == PP_ENOMEM) {
		rc = fail(a, 500, e, rc, "out of memory");
		goto out;
	}
	bad = rc < 0;
	page_start(&b, owner);
	page_form(&b, &p);
	if (bad) {
		pp_buf_adds(&b, "<p class=\"err\">");
		pp_web_html_escape(&b, pp_err_msg(&pe, rc));
		pp_buf_adds(&b, "</p>\n");
		snprintf(a->detail, sizeof(a->detail), "page: %s",
		    pp_err_msg(&pe, rc));
		goto done;
	}
	l.p = &p;
	l.counting = 1;
	l.bound = SIZE_MAX;
	if (!(l.rows = calloc(p.limit, sizeof(*l.rows)))) {
		rc = fail(a, 500, e, PP_ENOMEM, "out of memory");
		goto out;
	}
	rc = pp_store_select(st, &p.f, list_one, &l, &se);
	if (rc == PAST_BOUND)
		rc = list_window(st, &l, &se);
	if (rc < 0) {
		if (rc == PP_ENOMEM || l.oom) {
			rc = fail(a, 500, e, PP_ENOMEM, "out of memory");
			goto out;
		}
		wlog(o, 1, "%s", pp_err_msg(&se, rc));
		rc = fail(a, 503, e, PP_ESTORE, "cannot list the profiles now");
		goto out;
	}
	qsort(l.rows, l.n, sizeof(*l.rows), cmp_newest);
	many = l.total > PP_WEB_MAX_COUNT;
	snprintf(a->detail, sizeof(a->detail), "page of %zu of %s%zu "
	    "profiles", l.n, many ? "more than " : "", many ?
	    (size_t)PP_WEB_MAX_COUNT : l.total);
	if (l.total == 0) {
		pp_buf_adds(&b, "<p id=\"count\">No profiles match.</p>\n");
		goto done;
	}
	if (many)
		pp_buf_addf(&b, "<p id=\"count\">More than %d profiles match",
		    PP_WEB_MAX_COUNT);
	else
		pp_buf_addf(&b, "<p id=\"count\">%zu profile%s match%s",
		    l.total, l.total == 1 ? "" : "s",
		    l.total == 1 ? "es" : "");
	if (l.n < l.total && p.has_cursor)
		pp_buf_addf(&b, "; %zu older ones are shown", l.n);
	else if (l.n < l.total)
		pp_buf_addf(&b, "; the newest %zu are shown", l.n);
	pp_buf_adds(&b, ".\n");
	/* Merging needs one type: the filter's, or the one they all have. */
	type = p.v[P_TYPE] ? p.v[P_TYPE] : l.mixed ? NULL : l.type;
	if (!type) {
		pp_buf_adds(&b, "Choose a type to see them merged.</p>\n");
	} else if (l.total > PP_WEB_MAX_MERGE) {
		pp_buf_addf(&b, "Narrow the selection to at most %d to see "
		    "them merged.</p>\n", PP_WEB_MAX_MERGE);
	} else {
		struct pp_buf u;

		pp_buf_adds(&b, "All of them merged: ");
		pp_buf_init(&u);
		filter_url(&u, "/v1/merged.svg", &p, type, NULL, NULL);
		pp_buf_adds(&b, "<a id=\"merged-graph\" href=\"");
		pp_web_html_escape(&b, text_of(&u));
		pp_buf_adds(&b, "\">call graph</a>, ");
		buf_clear(&u);
		filter_url(&u, "/v1/merged.flame.svg", &p, type, NULL, NULL);
		pp_buf_adds(&b, "<a id=\"merged-flame\" href=\"");
		pp_web_html_escape(&b, text_of(&u));
		pp_buf_adds(&b, "\">flame graph</a>.</p>\n");
		if (u.oom)
			b.oom = true;
		pp_buf_release(&u);
	}
	pp_buf_adds(&b, "<table>\n<thead><tr><th>Program</th><th>Type</th>"
	    "<th>Host</th><th>Start (UTC)</th><th>Duration</th>"
	    "<th>Labels</th><th>Size</th><th>Views</th></tr></thead>\n"
	    "<tbody>\n");
	for (i = 0; i < l.n; i++)
		page_row(&b, &l.rows[i]);
	pp_buf_adds(&b, "</tbody>\n</table>\n");
	if (l.older > l.n || p.has_cursor) {
		struct pp_buf u;
		char cur[48];

		pp_buf_adds(&b, "<p>");
		pp_buf_init(&u);
		if (p.has_cursor) {
			filter_url(&u, "/", &p, p.v[P_TYPE], "limit",
			    p.v[P_LIMIT]);
			pp_buf_adds(&b, "<a id=\"newest\" href=\"");
			pp_web_html_escape(&b, text_of(&u));
			pp_buf_adds(&b, "\">newest</a> ");
		}
		if (l.older > l.n) {
			const struct row *last = &l.rows[l.n - 1];
			char id[17];

			pp_store_id_str(last->id, id);
			snprintf(cur, sizeof(cur), "%lld.%s",
			    (long long)last->start_ns, id);
			buf_clear(&u);
			filter_url(&u, "/", &p, p.v[P_TYPE], "limit",
			    p.v[P_LIMIT]);
			url_param(&u, "before", cur);
			pp_buf_adds(&b, "<a id=\"older\" href=\"");
			pp_web_html_escape(&b, text_of(&u));
			pp_buf_adds(&b, "\">older profiles</a>");
		}
		pp_buf_adds(&b, "</p>\n");
		if (u.oom)
			b.oom = true;
		pp_buf_release(&u);
	}
done:
	pp_buf_adds(&b, "</body>\n</html>\n");
	if (b.oom || !(a->headers = page_headers())) {
		rc = fail(a, 500, e, PP_ENOMEM, "out of memory");
		goto out;
	}
	a->status = bad ? 400 : 200;
	a->type = "text/html; charset=utf-8";
	a->body = b.data;
	a->len = b.len;
	b.data = NULL;	/* transferred */
	rc = 0;
out:
	for (i = 0; i < l.n; i++)
		row_release(&l.rows[i]);
	free(l.rows);
	free(l.type);
	pp_buf_release(&b);
	params_release(&p);
	return rc;
}

/*
 * Drawing: pp-render as a child process.
 */

static const char *
find_render(const struct pp_web_opts *o, char *buf, size_t size)
{
	const char *env = getenv("PP_RENDER");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (o->render)
		return o->render;
	if (env && *env)
		return env;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return NULL;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return NULL;
	*slash = '\0';
	if (snprintf(buf, size, "%s/pp-render", self) >= (int)size)
		return NULL;
	return buf;
}

/* In the child, between fork and exec: only the three pipes, as 0, 1 and
 * 2, and default signal handling go to pp-render. */
static void __attribute__((noreturn))
child(const char *path, char *const argv[], int in, int out, int err,
    pid_t parent)
{
	static const char msg[] = "cannot execute pp-render\n";
	struct sigaction sa;
	sigset_t none;
	int i, fd;

	/* Our deadline (SIGALRM's default) ends the child as well. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* Above 2 first, so that no dup2 below overwrites another pipe. */
	if ((in = fcntl(in, F_DUPFD, 3)) < 0 ||
	    (out = fcntl(out, F_DUPFD, 3)) < 0 ||
	    (err = fcntl(err, F_DUPFD, 3)) < 0 || dup2(in, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	if (close_range(3, ~0U, 0) < 0)
		for (fd = 3; fd < 65536; fd++)
			close(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		sigaction(i, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(path, argv);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Runs pp-render -f format with in on its standard input; its standard
 * output into out. Returns 0, PP_ERENDER (logged), PP_ETIMEDOUT,
 * PP_ENOMEM. */
static int
render(const struct pp_web_opts *o, const char *format, const void *in,
    size_t inlen, struct pp_buf *out, struct pp_err *e)
{
	char pathbuf[PATH_MAX], errtext[512];
	char *argv[] = { "pp-render", "-f", (char *)format, NULL };
	const char *path = find_render(o, pathbuf, sizeof(pathbuf));
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	struct sigaction dfl, oldchld;
	sigset_t pipeset, oldmask, pending;
	size_t off = 0, errlen = 0;
	pid_t pid = -1, parent = getpid();
	int rc = 0, status = 0, was_pending, too_big = 0, timed_out = 0;

	errtext[0] = '\0';
	if (!path || access(path, X_OK) < 0) {
		wlog(o, 1, "cannot run pp-render '%s': %s", path ? path : "?",
		    path ? strerror(errno) : "no path to it");
		return pp_err_set(e, PP_ERENDER, "cannot draw: pp-render is "
		    "not installed");
	}
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    pipe2(perr, O_CLOEXEC) < 0) {
		wlog(o, 1, "pipe: %s", strerror(errno));
		rc = pp_err_set(e, PP_ERENDER, "cannot draw now");
		goto out;
	}
	/* A child that dies early must not kill us with SIGPIPE; and one
	 * that our caller's SIGCHLD disposition would reap (SIG_IGN) could
	 * not be waited for. */
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipeset, &oldmask);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &dfl, &oldchld);
	if ((pid = fork()) < 0) {
		wlog(o, 1, "fork: %s", strerror(errno));
		rc = pp_err_set(e, PP_ERENDER, "cannot draw now");
		goto restore;
	}
	if (pid == 0)
		child(path, argv, pin[0], pout[1], perr[1], parent);
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	if (inlen == 0)
		close_fd(&pin[1]);
	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd pf[3];
		char buf[65536];
		int timeout = -1, k;
		ssize_t n;

		if (o->deadline_ns) {
			int64_t left = o->deadline_ns - mono_ns();

			if (left <= 0) {
				timed_out = 1;
				break;
			}
			timeout = left / 1000000 > INT_MAX ? INT_MAX :
			    (int)(left / 1000000) + 1;
		}
		pf[0] = (struct pollfd){ .fd = pin[1], .events = POLLOUT };
		pf[1] = (struct pollfd){ .fd = pout[0], .events = POLLIN };
		pf[2] = (struct pollfd){ .fd = perr[0], .events = POLLIN };
		if ((k = poll(pf, 3, timeout)) < 0) {
			if (errno == EINTR)
				continue;
			wlog(o, 1, "poll: %s", strerror(errno));
			rc = pp_err_set(e, PP_ERENDER, "cannot draw now");
			break;
		}
		if (pin[1] >= 0 && pf[0].revents) {
			size_t want = inlen - off < sizeof(buf) ?
			    inlen - off : sizeof(buf);

			n = write(pin[1], (const char *)in + off, want);
			if (n > 0)
				off += (size_t)n;
			/* EPIPE: it stopped reading; its status says why. */
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == inlen)
				close_fd(&pin[1]);
		}
		if (pout[0] >= 0 && pf[1].revents) {
			n = read(pout[0], buf, sizeof(buf));
			if (n > 0) {
				pp_buf_add(out, buf, (size_t)n);
				if (out->len > MAX_DRAWING) {
					too_big = 1;
					break;
				}
			} else if (n == 0 || (errno != EAGAIN &&
			    errno != EINTR)) {
				close_fd(&pout[0]);
			}
		}
		if (perr[0] >= 0 && pf[2].revents) {
			n = read(perr[0], buf, sizeof(buf));
			if (n > 0) {
				size_t keep = sizeof(errtext) - 1 - errlen;

				if ((size_t)n < keep)
					keep = (size_t)n;
				memcpy(errtext + errlen, buf, keep);
				errlen += keep;
				errtext[errlen] = '\0';
			} else if (n == 0 || (errno != EAGAIN &&
			    errno != EINTR)) {
				close_fd(&perr[0]);
			}
		}
	}
	if (timed_out || too_big || rc < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* One line of it for the log, printable: it may quote the profile. */
	errtext[strcspn(errtext, "\n")] = '\0';
	for (off = 0; errtext[off]; off++)
		if ((unsigned char)errtext[off] < 0x20 || errtext[off] == 0x7f)
			errtext[off] = '?';
	if (timed_out) {
		wlog(o, 1, "pp-render -f %s did not finish in time: killed",
		    format);
		rc = pp_err_set(e, PP_ETIMEDOUT, "drawing took too long");
	} else if (too_big) {
		wlog(o, 1, "pp-render -f %s wrote more than %d MiB: killed",
		    format, MAX_DRAWING >> 20);
		rc = pp_err_set(e, PP_ERENDER, "the drawing is too big");
	} else if (rc == 0 && out->oom) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
	} else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		if (WIFEXITED(status))
			wlog(o, 1, "pp-render -f %s failed (status %d): %s",
			    format, WEXITSTATUS(status), errtext);
		else
			wlog(o, 1, "pp-render -f %s died of signal %d: %s",
			    format, WTERMSIG(status), errtext);
		rc = pp_err_set(e, PP_ERENDER, "cannot draw the profile");
	} else if (rc == 0 && errtext[0]) {
		wlog(o, 0, "pp-render -f %s: %s", format, errtext);
	}
restore:
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&perr[0]);
	sigaction(SIGCHLD, &oldchld, NULL);
	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipeset, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
out:
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	return rc;
}

/* Draws data (a pprof profile) as format into a. */
static int
draw(const struct pp_web_opts *o, const char *format, const char *name,
    const void *data, size_t len, struct pp_web_answer *a,
    struct pp_err *e)
{
	struct pp_buf svg;
	int rc;

	pp_buf_init(&svg);
	if ((rc = render(o, format, data, len, &svg, e)) < 0) {
		a->status = rc == PP_ETIMEDOUT ? 503 : 500;
		pp_buf_release(&svg);
		return rc;
	}
	if (asprintf(&a->headers, "%sContent-Disposition: inline; "
	    "filename=\"%s\"\r\n" COMMON_HEADERS, strcmp(format, "flame") ?
	    CSP_GRAPH : CSP_FLAME, name) < 0) {
		a->headers = NULL;
		pp_buf_release(&svg);
		return fail(a, 500, e, PP_ENOMEM, "out of memory");
	}
	a->status = 200;
	a->type = "image/svg+xml";
	a->body = svg.data;
	a->len = svg.len;
	return 0;
}

static int
serve_one(struct pp_store **st, const char *owner, const char *name,
    const struct pp_web_opts *o, struct pp_web_answer *a, struct pp_err *e)
{
	const char *dot = strchr(name, '.');
	const char *format;
	char idstr[17], file[40];
	struct pp_err se = { 0 };
	void *data = NULL;
	size_t len = 0;
	uint64_t id;
	int rc;

	if (!dot || dot - name != 16)
		return fail(a, 404, e, PP_ENOTFOUND, "no such profile");
	if (strcmp(dot, ".svg") == 0)
		format = "svg";
	else if (strcmp(dot, ".flame.svg") == 0)
		format = "flame";
	else
		return fail(a, 404, e, PP_ENOTFOUND, "no such profile");
	memcpy(idstr, name, 16);
	idstr[16] = '\0';
	if (pp_store_id_parse(idstr, &id) < 0)
		return fail(a, 404, e, PP_ENOTFOUND, "no such profile");
	rc = pp_store_get(*st, owner, id, &data, &len, NULL, &se);
	pp_store_close(*st);
	*st = NULL;
	if (rc == PP_ENOTFOUND)
		return fail(a, 404, e, rc, "no such profile");
	if (rc == PP_ENOMEM)
		return fail(a, 500, e, rc, "out of memory");
	if (rc < 0) {
		wlog(o, 1, "%s", pp_err_msg(&se, rc));
		return fail(a, 503, e, rc, "cannot read the profile now");
	}
	pp_store_id_str(id, idstr);
	snprintf(file, sizeof(file), "%s%s", idstr, dot);
	rc = draw(o, format, file, data, len, a, e);
	free(data);
	if (rc == 0)
		snprintf(a->detail, sizeof(a->detail), "drew %s as %s (%zu "
		    "bytes)", idstr, format, a->len);
	return rc;
}

struct ids {
	uint64_t *id;
	size_t n, cap;
};

static int
collect_id(const struct pp_store_rec *rec, void *arg)
{
	struct ids *ids = arg;

	if (pp_grow(&ids->id, &ids->cap, ids->n + 1, sizeof(*ids->id)) < 0)
		return PP_ENOMEM;
	ids->id[ids->n++] = rec->id;
	return 0;
}

static int
serve_merged(struct pp_store **st, const char *owner,
    const struct pp_http_request *req, const char *format,
    const struct pp_web_opts *o, struct pp_web_answer *a, struct pp_err *e)
{
	struct params p;
	struct ids ids = { NULL, 0, 0 };
	struct pp_merger *m = NULL;
	struct pp_profile *merged = NULL;
	struct pp_err se = { 0 };
	void *data = NULL, *enc = NULL;
	size_t len = 0, enclen = 0, i;
	int rc;

	if ((rc = params_read(&p, req, owner, e)) < 0) {
		a->status = rc == PP_ENOMEM ? 500 : 400;
		goto out;
	}
	p.f.limit = PP_WEB_MAX_MERGE + 1;
	if ((rc = pp_store_select(*st, &p.f, collect_id, &ids, &se)) < 0) {
		if (rc == PP_ENOMEM) {
			rc = fail(a, 500, e, rc, "out of memory");
			goto out;
		}
		wlog(o, 1, "%s", pp_err_msg(&se, rc));
		rc = fail(a, 503, e, PP_ESTORE, "cannot list the profiles now");
		goto out;
	}
	if (ids.n == 0) {
		rc = fail(a, 404, e, PP_ENOTFOUND, "no profiles match");
		goto out;
	}
	if (ids.n > PP_WEB_MAX_MERGE) {
		a->status = 422;
		rc = pp_err_set(e, PP_ETOOBIG, "more than %d profiles match: "
		    "narrow the selection", PP_WEB_MAX_MERGE);
		goto out;
	}
	/* One profile is drawn as it is stored; more are merged here (the
	 * merge needs no Graphviz), each freed as soon as it is added. */
	for (i = 0; i < ids.n; i++) {
		struct pp_profile *one = NULL;
		struct pp_err de = { 0 };

		if (o->deadline_ns && mono_ns() > o->deadline_ns) {
			rc = fail(a, 503, e, PP_ETIMEDOUT,
			    "merging took too long");
			goto out;
		}
		rc = pp_store_get(*st, owner, ids.id[i], &data, &len, NULL,
		    &se);
		if (rc == PP_ENOTFOUND)		/* expired meanwhile */
			continue;
		if (rc < 0) {
			if (rc == PP_ENOMEM) {
				rc = fail(a, 500, e, rc, "out of memory");
				goto out;
			}
			wlog(o, 1, "%s", pp_err_msg(&se, rc));
			rc = fail(a, 503, e, rc, "cannot read the profiles now");
			goto out;
		}
		if (ids.n == 1)
			break;
		rc = pp_profile_decode(data, len, o->decode, &one, &de);
		free(data);
		data = NULL;
		if (rc < 0) {
			char id[17];

			pp_store_id_str(ids.id[i], id);
			wlog(o, 1, "stored profile %s: %s", id,
			    pp_err_msg(&de, rc));
			rc = fail(a, rc == PP_ENOMEM ? 500 : 422, e, rc,
			    "a stored profile cannot be read");
			goto out;
		}
		if (!m && !(m = pp_merger_new())) {
			pp_profile_free(one);
			rc = fail(a, 500, e, PP_ENOMEM, "out of memory");
			goto out;
		}
		rc = pp_merger_add(m, one, &de);
		pp_profile_free(one);
		if (rc < 0) {
			a->status = rc == PP_ENOMEM ? 500 : 422;
			rc = pp_err_set(e, rc, "cannot merge these profiles: "
			    "%s%s", pp_err_msg(&de, rc), rc == PP_EMISMATCH ?
			    " (choose one type)" : "");
			goto out;
		}
	}
	pp_store_close(*st);
	*st = NULL;
	if (m) {
		if ((rc = pp_merger_finish(m, &merged, &se)) < 0) {
			a->status = rc == PP_ENOMEM ? 500 : 422;
			rc = pp_err_set(e, rc, "cannot merge these profiles: %s",
			    pp_err_msg(&se, rc));
			goto out;
		}
		if ((rc = pp_profile_encode(merged, &enc, &enclen)) < 0) {
			rc = fail(a, 500, e, rc, "out of memory");
			goto out;
		}
	} else if (!data) {
		rc = fail(a, 404, e, PP_ENOTFOUND, "no profiles match");
		goto out;
	}
	rc = draw(o, format, strcmp(format, "flame") ? "merged.svg" :
	    "merged.flame.svg", enc ? enc : data, enc ? enclen : len, a, e);
	if (rc == 0)
		snprintf(a->detail, sizeof(a->detail), "drew %zu profiles "
		    "merged as %s (%zu bytes)", ids.n, format, a->len);
out:
	free(data);
	free(enc);
	pp_profile_free(merged);
	pp_merger_free(m);
	free(ids.id);
	params_release(&p);
	return rc;
}

int
pp_web_path(const char *path)
{
	size_t n;

	if (strcmp(path, "/") == 0 || strcmp(path, "/v1/merged.svg") == 0 ||
	    strcmp(path, "/v1/merged.flame.svg") == 0)
		return 1;
	if (strncmp(path, "/v1/profiles/", 13) != 0)
		return 0;
	n = strlen(path + 13);
	return n > 4 && strcmp(path + 13 + n - 4, ".svg") == 0;
}

int
pp_web_serve(struct pp_store **st, const char *owner,
    const struct pp_http_request *req, const struct pp_web_opts *o,
    struct pp_web_answer *a, struct pp_err *e)
{
	const char *path = req->path;

	memset(a, 0, sizeof(*a));
	a->status = 500;
	if (strcmp(path, "/") == 0)
		return serve_page(*st, owner, req, o, a, e);
	if (strcmp(path, "/v1/merged.svg") == 0)
		return serve_merged(st, owner, req, "svg", o, a, e);
	if (strcmp(path, "/v1/merged.flame.svg") == 0)
		return serve_merged(st, owner, req, "flame", o, a, e);
	if (pp_web_path(path))
		return serve_one(st, owner, path + 13, o, a, e);
	return fail(a, 404, e, PP_ENOTFOUND, "no such page");
}

void
pp_web_answer_release(struct pp_web_answer *a)
{
	free(a->headers);
	free(a->body);
	memset(a, 0, sizeof(*a));
}
