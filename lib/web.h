/* pp-recv's web pages: an owner's profiles as an HTML table, and their
 * call graphs and flame graphs as SVG, for a browser.
 *
 * Pages (GET only; pp-recv has authenticated the owner first, with HTTP
 * basic auth when a browser asks):
 *
 *   /?program=&type=&host=&label=&since=&until=&limit=N&before=CURSOR
 *       text/html: the owner's profiles, newest first, limit rows (1 to
 *       1000, default 100) started before the cursor; how many the
 *       filter selects (counted up to PP_WEB_MAX_COUNT: beyond, "more
 *       than" that); a form with the filters; each row links to its call
 *       graph, its flame graph and its pprof (/v1/profiles/ID); a link to
 *       the next, older rows; and the links to all the profiles the
 *       filter selects merged. Empty parameters are absent ones. Its cost
 *       follows PP_WEB_MAX_COUNT and the page, not the owner's profiles.
 *   /v1/profiles/ID.svg          the profile's call graph (pp-render -f svg)
 *   /v1/profiles/ID.flame.svg    its flame graph (pp-render -f flame)
 *   /v1/merged.svg?program=&type=&host=&label=&since=&until=
 *   /v1/merged.flame.svg?...     the profiles the filter selects, merged
 *       (at most PP_WEB_MAX_MERGE of them, of one type), drawn the same
 *       ways.
 *
 * label is as in the listing API (pp_store_split_labels): "key=value",
 * or several separated by commas, all of which a profile must have.
 * since and until are Unix seconds (as in the API), "now", a duration
 * before now ("90m", "1h30m", "2d"; units s m h d w), or a UTC date and
 * time "YYYY-MM-DD[THH:MM[:SS]][Z]" (a space may replace the T). The
 * cursor is what a page's "older" link says: START_NS.ID.
 *
 * Drawings are made by pp-render, run as a child process: pp-recv itself
 * does not load Graphviz, since it starts once per connection. The child
 * gets the profile on a pipe as its standard input, writes the SVG to
 * another, its standard error to a third (logged); it inherits no other
 * descriptor and is killed at the deadline, or when its parent dies.
 *
 * Every answer carries a Content-Security-Policy (the HTML page allows
 * its own style sheet only; a call graph nothing; a flame graph its own
 * inline script and styles), "X-Content-Type-Options: nosniff",
 * "Referrer-Policy: no-referrer", "Cache-Control: no-store" and
 * "X-Frame-Options: DENY". Every string that came from a profile is
 * escaped for where it goes (HTML text, attribute, URL).
 */
#ifndef PP_WEB_H
#define PP_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "http.h"
#include "profile.h"
#include "store.h"
#include "util.h"

#define PP_WEB_MAX_MERGE	1000	/* profiles in one merged drawing */
#define PP_WEB_MAX_ROWS		1000	/* rows of one page */
#define PP_WEB_MAX_COUNT	10000	/* profiles a page counts */

_Static_assert(PP_WEB_MAX_COUNT > PP_WEB_MAX_ROWS &&
    PP_WEB_MAX_COUNT >= PP_WEB_MAX_MERGE, "a page counts past a page and "
    "past a merge");

struct pp_web_opts {
	/* The pp-render to run. NULL: $PP_RENDER when set and not empty,
	 * else pp-render in the directory of the running program
	 * (/proc/self/exe), where make and make install put it. */
	const char *render;
	/* CLOCK_MONOTONIC nanoseconds by which a drawing must be done (the
	 * merge too); 0: no deadline. */
	int64_t deadline_ns;
	const struct pp_decode_limits *decode;	/* may be NULL */
	/* Receives pp-render's complaints and failures worth a look. */
	void (*log)(void *arg, int error, const char *msg);
	void *log_arg;
};

/* A page, ready to be sent. */
struct pp_web_answer {
	int status;		/* the HTTP status, also when failing */
	const char *type;	/* the Content-Type */
	char *headers;		/* extra header lines, each ending in CRLF */
	char *body;
	size_t len;
	char detail[200];	/* what was done, for the log line */
};

/* 1 when path is one of the pages above (whatever its method), else 0. */
int pp_web_path(const char *path);

/* Answers request req of owner with one of the pages. *st is the open
 * store; it is closed (and *st set to NULL) before anything is drawn, so
 * that a slow drawing does not hold it.
 *
 * Returns 0 with a filled (release it with pp_web_answer_release), or a
 * negative code with a->status the HTTP status to answer and e a message
 * fit for the client: PP_EINVAL 400 (a bad parameter), PP_ENOTFOUND 404
 * (no such profile, or another owner's; nothing matched), PP_ETOOBIG 422
 * (more than PP_WEB_MAX_MERGE profiles to merge), PP_EMISMATCH 422
 * (profiles of different types), PP_ETIMEDOUT 503 (the deadline came),
 * PP_ESTORE 503, PP_ERENDER 500 (pp-render is missing or failed; the log
 * says why), PP_ENOMEM 500. A bad filter on the HTML page is answered
 * with the page itself, 400 and the message in it: returns 0 then.
 *
 * Writing to pp-render may raise SIGPIPE: it is blocked meanwhile, and
 * one that it raised is consumed. SIGCHLD is reset to its default while
 * the child runs, so that it can be waited for. */
int pp_web_serve(struct pp_store **st, const char *owner,
    const struct pp_http_request *req, const struct pp_web_opts *o,
    struct pp_web_answer *a, struct pp_err *e);

/* Frees what a holds; a zeroed answer is fine. */
void pp_web_answer_release(struct pp_web_answer *a);

/* Parses a point in time of since and until (above) into Unix
 * nanoseconds, now_ns being now. Returns 0 or PP_EINVAL. */
int pp_web_parse_time(const char *s, int64_t now_ns, int64_t *ns);

/* Appends s to b escaped for HTML text and double-quoted attribute values
 * (& < > " ' as character references; control characters as U+FFFD). */
void pp_web_html_escape(struct pp_buf *b, const char *s);

#endif
