/* Pushing profiles to a receiver (pp-push's work).
 *
 * A push packs profiles into bundles (bundle.h), at most max_count
 * profiles and about max_bytes each, and POSTs each bundle with libcurl
 * to URL/v1/push with "Authorization: Bearer TOKEN". What the receiver
 * answers decides what happens to each file:
 *
 *   200  {"stored":[{"name","id","sha256","duplicate"}...],"refused":[...]}
 *        a spool file named in "stored" with the SHA-256 that was sent is
 *        deleted; nothing else ever is. A file the answer does not name is
 *        kept (and counted as a failure).
 *   422  {"error","stored":[],"refused":[{"name","error"}...]}: nothing was
 *        stored; refused spool files move to DIR/bad/, the others are sent
 *        again, once.
 *   413  the bundle is split in halves and each half sent, down to one
 *        file; a single file refused so goes to DIR/bad/.
 *   401  the token was refused: PP_EAUTH, and the push stops.
 *   408, 429, 5xx, no connection, a timeout: the same bundle goes to the
 *        next receiver given, if any (the sites of a replicated store:
 *        a replica answers 503), which later bundles then go to first;
 *        when none is left, or on a 200 whose body is not the JSON above:
 *        PP_ENET (the receiver is unreachable for now); every file is
 *        kept and the push stops.
 *   other answers: PP_EPROTO; files kept, the push stops.
 *
 * From a spool (pp_push_spool), files are taken from DIR/new/ oldest first
 * (by name) under an exclusive flock(2) on DIR/.lock; a file that is not
 * a pprof profile moves to DIR/bad/ and is never sent. Named files
 * (pp_push_files) are sent under their base names and never deleted or
 * moved.
 *
 * The library prints nothing: it reports each event to a callback.
 */
#ifndef PP_PUSH_H
#define PP_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define PP_PUSH_MAX_COUNT	100
#define PP_PUSH_MAX_BYTES	((size_t)32 << 20)
/* A file over this is not sent: the receiver takes no member larger. */
#define PP_PUSH_MAX_FILE	((size_t)64 << 20)

enum pp_push_event_kind {
	PP_PUSH_SENDING,	/* a bundle of nfiles, bytes long, is sent
				 * (to msg, the receiver tried first) */
	PP_PUSH_STORED,		/* name was stored as id (duplicate: it
				 * was there already); spool file deleted */
	PP_PUSH_WOULD_SEND,	/* dry run: name (bytes) would go in bundle */
	PP_PUSH_BAD,		/* spool file name moved to bad/ (or would
				 * be, in a dry run): msg says why */
	PP_PUSH_FAILED,		/* a named file was not sent or was refused
				 * (msg); it stays where it is */
	PP_PUSH_KEPT,		/* the receiver stored the bundle but did not
				 * acknowledge name: kept for the next push */
	PP_PUSH_RETRY,		/* the bundle is sent again (msg says why) */
};

struct pp_push_event {
	enum pp_push_event_kind kind;
	const char *name;	/* the file's name in the bundle */
	const char *path;	/* the file on disk */
	const char *id;		/* PP_PUSH_STORED */
	int duplicate;		/* PP_PUSH_STORED */
	const char *msg;	/* why (BAD, FAILED, KEPT, RETRY) */
	size_t nfiles;		/* SENDING */
	size_t bytes;		/* SENDING, WOULD_SEND */
	size_t bundle;		/* 1, 2, ...: the bundle's number */
};

struct pp_push_opts {
	const char *const *urls;	/* the receivers, in order of */
	size_t nurls;			/* preference; "/v1/push" is appended */
	const char *token;	/* not needed for a dry run */
	size_t max_count;	/* profiles per bundle [PP_PUSH_MAX_COUNT] */
	size_t max_bytes;	/* bytes per bundle [PP_PUSH_MAX_BYTES] */
	int dry_run;		/* report what would be sent; send nothing,
				 * delete and move nothing */
	long connect_timeout;	/* seconds [10] */
	long low_speed_time;	/* seconds under 1 byte/s that abort [30] */
	void (*report)(void *arg, const struct pp_push_event *ev);
	void *arg;
};

struct pp_push_stats {
	size_t stored;		/* newly stored */
	size_t duplicates;	/* stored already */
	size_t bad;		/* moved to bad/ */
	size_t failed;		/* named files not delivered, unacknowledged */
	size_t kept;		/* left for a later push (not sent, or the
				 * receiver was unreachable) */
	size_t bundles;		/* requests made */
};

/* Pushes the spool dir (its new/ directory). Returns:
 *   0            everything was delivered, or there was nothing to push
 *   PP_ENOTFOUND dir/new does not exist
 *   PP_EBUSY     another process holds dir/.lock (not taken for a dry run)
 *   PP_ENET      the receiver could not be reached (408, 429, 5xx, no
 *                connection, a timeout, an answer that is not pp-recv's)
 *   PP_EAUTH     the receiver refused the token (401)
 *   PP_EPROTO    the receiver refused a request otherwise (a 4xx)
 *   PP_EIO       a local file could not be listed, moved or deleted
 *   PP_EINVAL    some files were bad, refused or not acknowledged
 *   PP_ENOMEM
 * e holds the message of the first failure that stopped the push (for
 * PP_ENET, PP_EAUTH, PP_EPROTO: with the receiver's own message) or of a
 * local failure. stats (may be NULL) gets the counts. */
int pp_push_spool(const char *dir, const struct pp_push_opts *o,
    struct pp_push_stats *stats, struct pp_err *e);

/* Pushes the files paths[0..n-1], in order, under their base names (two
 * files with one base name go in different bundles). Nothing is deleted
 * or moved: a file that is not pprof, or that the receiver refuses, is a
 * PP_PUSH_FAILED event and makes the result PP_EINVAL. Returns as
 * pp_push_spool, without PP_ENOTFOUND and PP_EBUSY. */
int pp_push_files(const char *const *paths, size_t n,
    const struct pp_push_opts *o, struct pp_push_stats *stats,
    struct pp_err *e);

/* The URL requests go to: url with "/v1/push" appended, without doubling
 * a slash ("http://h:1" and "http://h:1/" give "http://h:1/v1/push",
 * "http://h/pp/" gives "http://h/pp/v1/push"). A malloc'd string, or NULL
 * when out of memory. */
char *pp_push_url(const char *url);

/* Reads a token from path into tok (size bytes): the file's content
 * without one trailing newline. Returns 0, PP_ENOTFOUND (no such file),
 * PP_EIO (cannot read it), PP_EAUTH (readable or writable by group or
 * others, not a regular file, empty, or with characters a header cannot
 * carry: e says which), PP_ETOOBIG (longer than size - 1). */
int pp_push_read_token(const char *path, char *tok, size_t size,
    struct pp_err *e);

/* The default token file into buf: $XDG_CONFIG_HOME/pp/token (or
 * ~/.config/pp/token) when it exists, else /etc/pp/token. Returns 0 or
 * PP_ENOTFOUND when neither exists (buf then names the first). */
int pp_push_default_token(char *buf, size_t size);

#endif
