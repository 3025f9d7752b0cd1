/* Error codes of libpp.
 *
 * Library functions return 0 on success or a negative PP_E* code; they never
 * print and never exit. Where a code alone would not say enough (a malformed
 * profile: which field, which index), the function also fills a struct
 * pp_err that the caller may print.
 */
#ifndef PP_ERROR_H
#define PP_ERROR_H

#include <stddef.h>

enum {
	PP_OK = 0,
	PP_ENOMEM = -1,		/* out of memory, or over a memory budget */
	PP_EIO = -2,		/* read or write failed; errno is kept in pp_err */
	PP_EFORMAT = -3,	/* not a profile: bad gzip or bad protobuf */
	PP_EINVAL = -4,		/* a profile that decodes but is not valid */
	PP_ETOOBIG = -5,	/* input over a size limit */
	PP_ENOTFOUND = -6,	/* a named thing (sample type ...) does not exist */
	PP_EMISMATCH = -7,	/* profiles that cannot be merged */
	PP_EREGEX = -8,		/* a regular expression that does not compile */
	PP_EEMPTY = -9,		/* empty input */
	PP_ERENDER = -10,	/* the layout engine failed */
	PP_EEXIST = -11,	/* already exists (a user, a profile) */
	PP_ESTORE = -12,	/* the store (Berkeley DB) failed */
	PP_EAUTH = -13,		/* a token that is missing or not known */
	PP_ETIMEDOUT = -14,	/* a deadline passed */
	PP_EPROTO = -15,	/* a malformed request or response (HTTP, JSON) */
	PP_EBUSY = -16,		/* a lock held by another process */
	PP_ENET = -17,		/* the peer cannot be reached */
	PP_EARCHIVE = -18,	/* a bundle that is not a readable archive */
	PP_ENOSPC = -19,	/* no space left (a full disk, a quota, a file
				 * size limit) */
	PP_EREADONLY = -20,	/* a replicated store's site that is not the
				 * master takes no writes */
};

/* Details of a failure: the code and a message that names what is wrong. */
struct pp_err {
	int code;
	char msg[256];
};

/* Returns a static description of code. */
const char *pp_strerror(int code);

/* Sets e (when not NULL) to code and a printf-style message; returns code,
 * so that a failure reads "return pp_err_set(e, PP_EINVAL, ...)". */
int pp_err_set(struct pp_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message of e, or pp_strerror(code) when e holds none. */
const char *pp_err_msg(const struct pp_err *e, int code);

#endif
