/* A pp-recv's reading API from the client side (pp-query --remote): the
 * listing and the profiles, over HTTP with libcurl and the user's token. */
#ifndef PP_CLIENT_H
#define PP_CLIENT_H

#include <stddef.h>

#include "error.h"
#include "store.h"

/* GETs url with "Authorization: Bearer token". *body (malloc'd,
 * NUL-terminated, the caller frees) gets at most max bytes of the
 * answer, *status its HTTP status. Returns 0 for any answer, PP_ENET when
 * there is none (no connection, a timeout: e says why), PP_ETOOBIG when
 * the answer is longer than max, PP_ENOMEM. */
int pp_client_get(const char *url, const char *token, size_t max,
    void **body, size_t *len, long *status, struct pp_err *e);

/* Lists the caller's profiles that f selects (f->owner is ignored: the
 * token decides) from the receiver at base (as given to pp-push -u), and
 * calls fn with each, in the receiver's order; fn returning non-zero
 * stops and is returned. Errors: those of pp_client_get, PP_EAUTH (401),
 * PP_EPROTO (another answer, or one that is not a listing: e holds the
 * receiver's message). */
int pp_client_list(const char *base, const char *token,
    const struct pp_store_filter *f,
    int (*fn)(const struct pp_store_rec *rec, void *arg), void *arg,
    struct pp_err *e);

/* Fetches profile id (16 hex digits) from base into *data (malloc'd).
 * Errors as pp_client_list, and PP_ENOTFOUND (404). */
int pp_client_fetch(const char *base, const char *token, const char *id,
    void **data, size_t *len, struct pp_err *e);

#endif
