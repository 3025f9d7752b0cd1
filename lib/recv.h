/* pp-recv's work: one HTTP exchange against the store.
 *
 * Routes (every one needs a token, "Authorization: Bearer TOKEN" or HTTP
 * basic auth with the token as the password):
 *
 *   POST /v1/push          a bundle (bundle.h) or a single pprof profile.
 *                          200 {"stored":[{"name","id","sha256",
 *                          "duplicate"}],"refused":[]}; when any member
 *                          is unusable nothing is stored: 422 with the
 *                          same shape, "refused":[{"name","error"}].
 *   POST /ingest?name=APP[.KIND]{k=v,...}&from=S&until=S&format=pprof
 *                          Pyroscope's ingest API: one pprof, raw or as the
 *                          "profile" part of multipart/form-data.
 *   GET /v1/profiles?program=&type=&host=&label=k=v,...&since=S&until=S&limit=N
 *                          the caller's profiles: {"profiles":[{"id",
 *                          "program","host","type","sample_types","pid",
 *                          "start_ns","duration_ns","received_ns","sha256",
 *                          "size","labels":[]}],"truncated":false}; times S in Unix
 *                          seconds; at most 100000 a listing ("truncated":
 *                          true when more matched).
 *   GET /v1/profiles/ID    the profile as stored (gzipped pprof), as an
 *                          attachment (Content-Disposition).
 *
 * Pages for a browser (web.h; a 401 asks for basic auth, so a browser
 * prompts for a user name, which is ignored, and the token):
 *
 *   GET /?program=&type=&host=&since=&until=&limit=N&before=CURSOR
 *                          text/html: the caller's profiles, newest
 *                          first, N (1-1000, default 100) a page, with a
 *                          form for the filters; each row links to the
 *                          three below; a bad filter is the page, 400.
 *   GET /v1/profiles/ID.svg        the call graph (pp-render -f svg)
 *   GET /v1/profiles/ID.flame.svg  the flame graph (pp-render -f flame)
 *   GET /v1/merged.svg?program=&type=&host=&since=&until=
 *   GET /v1/merged.flame.svg?...   every profile the filter selects (at
 *                          most 1000, of one type: else 422) merged, drawn
 *                          the same ways; none: 404.
 *   since and until there: Unix seconds, "now", a duration before now
 *   ("1h30m") or a UTC "YYYY-MM-DD[THH:MM[:SS]]".
 *
 * Errors are {"error":"message"} with 400, 401, 404, 405, 408, 413, 422,
 * 431, 500, 503 or 507 (no space left to store). Another owner's profile answers 404, as if absent.
 */
#ifndef PP_RECV_H
#define PP_RECV_H

#include "bundle.h"
#include "http.h"
#include "profile.h"

struct pp_recv_opts {
	const char *store_dir;
	struct pp_http_limits http;
	struct pp_bundle_limits bundle;
	struct pp_decode_limits decode;
	/* CLOCK_MONOTONIC nanoseconds by which a page must be drawn (the
	 * process's own deadline, less time to send it); 0: none. */
	int64_t deadline_ns;
	/* Receives one line per exchange and any failure worth a look;
	 * never a token. */
	void (*log)(void *arg, int error, const char *msg);
	void *log_arg;
};

/* Reads one request from in_fd, answers it on out_fd. Returns the HTTP
 * status answered, or 0 when nothing could be answered (the peer went
 * away). */
int pp_recv_serve(int in_fd, int out_fd, const struct pp_recv_opts *o);

/* The kind of profile p is, for the store's type index: its "#pp type"
 * when it has one, else from its sample and period types: "cpu", "heap",
 * "goroutine", "threadcreate", "contentions", "wall", "alloc", or the
 * name of its default (else last) sample type. */
const char *pp_profile_type(const struct pp_profile *p);

/* 1 when name is one of the kinds pp_profile_type derives from sample
 * types (which the type index holds); other names are sample types. */
int pp_is_profile_type(const char *name);

#endif
