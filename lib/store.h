/* The store: every owner's profiles in a transactional Berkeley DB
 * environment that many short-lived processes share (pp-recv under inetd,
 * pp-query, cron's expiry).
 *
 * Files in DIR: the environment (__db.*, log.*), and
 *   meta.db    id -> record (owner, program, host, type, labels, times,
 *              content hash, size, sample types)
 *   data.db    id -> the profile as received (gzipped pprof)
 *   bytime.db  secondary: owner\0program\0type\0 start(8, big-endian) -> id
 *   byhash.db  secondary, unique: owner\0 sha256(32) -> id
 *   byattr.db  secondary: owner\0 kind value\0 program\0type\0 start(8)
 *              -> id, a key for the host (kind 'h') and one for each
 *              label (kind 'l', "key=value") of every record
 *   users.db   name -> sha256(token)(32) created_ns(8)
 *   tokens.db  sha256(token)(32) -> name
 *   lock.db    one record whose write lock every writing transaction
 *              takes first: writers queue rather than deadlock
 *   flags.db   whether byattr.db holds every record, and how far its
 *              build got (see pp_store_index)
 *   replication, replication.lock
 *              a replicated store's configuration and its replication
 *              process's lock (repl.h; see Replication below)
 *
 * Ids are random 64-bit numbers, shown as 16 hex digits: they say nothing
 * about how many profiles anyone has. A record is visible only to its
 * owner: every lookup takes the owner and answers PP_ENOTFOUND for another
 * owner's id. A commit is durable (synchronous log flush) before a
 * function returns 0. Deadlocks are retried; when another process ran
 * recovery (DB_RUNRECOVERY) the environment is reopened and the operation
 * retried.
 */
#ifndef PP_STORE_H
#define PP_STORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define PP_OWNER_MAX	64	/* bytes of an owner name: [A-Za-z0-9._-] */

/* One stored profile's record. Strings are owned by whoever filled it. */
struct pp_store_rec {
	uint64_t id;
	const char *owner, *program, *host, *type;
	const char *sample_types;	/* "samples/count,cpu/nanoseconds" */
	int64_t pid, start_ns, duration_ns, received_ns;
	unsigned char sha256[PP_SHA256_LEN];
	uint64_t size;			/* bytes of the stored profile */
	const char *const *labels;	/* "key=value", sorted */
	size_t nlabels;
};

struct pp_store;

#define PP_STORE_CREATE	1	/* create DIR and the store when absent */

/* Opens (with PP_STORE_CREATE: creates) the store in dir, running
 * recovery when a process died holding it. Returns 0 with *out set, or
 * PP_ENOTFOUND (no store there), PP_ESTORE, PP_ENOSPC, PP_ENOMEM; e says
 * why. Every function below that writes may also return PP_ENOSPC where
 * it returns PP_ESTORE: the write failed for want of space (a full disk,
 * a quota, a file size limit), and nothing of it was kept. */
int pp_store_open(struct pp_store **out, const char *dir, int flags,
    struct pp_err *e);

/* Checkpoints (when enough log was written) and closes. NULL is fine. */
void pp_store_close(struct pp_store *st);

/* 1 when name is a valid owner name. */
int pp_store_valid_owner(const char *name);

/* 1 when s is a label a filter can ask for: "key=value", the key not
 * empty (pp-query's -L). */
int pp_store_valid_label(const char *s);

/* Splits list, labels separated by commas (the label parameter of
 * pp-recv's listing and page), in place into *labels and *n, for
 * pp_store_filter's labels: *labels is malloc'd (the caller frees it; NULL
 * when *n is 0), its strings are list's. Empty items are skipped. Returns
 * 0, PP_EINVAL when an item is not a valid label, or PP_ENOMEM. */
int pp_store_split_labels(char *list, const char ***labels, size_t *n);

/* Adds a user and writes a fresh token to tok; only its hash is kept.
 * Returns 0, PP_EINVAL (bad name), PP_EEXIST, PP_ESTORE. */
int pp_store_user_add(struct pp_store *st, const char *name,
    char tok[PP_HEX256_LEN + 1], struct pp_err *e);

/* Removes a user and their token; their profiles stay until expired.
 * Returns 0, PP_ENOTFOUND, PP_ESTORE. */
int pp_store_user_del(struct pp_store *st, const char *name,
    struct pp_err *e);

/* Calls fn for each user, in name order. fn returning non-zero stops the
 * walk and is returned. */
int pp_store_user_list(struct pp_store *st,
    int (*fn)(const char *name, int64_t created_ns, void *arg), void *arg,
    struct pp_err *e);

/* Finds the user whose token is tok; owner (PP_OWNER_MAX + 1 bytes) gets
 * the name. Returns 0, PP_EAUTH (no such token), PP_ESTORE. */
int pp_store_auth(struct pp_store *st, const char *tok, char *owner,
    struct pp_err *e);

/* One profile to store: rec's owner, program, host, type, sample_types,
 * pid, times and labels are used (id, sha256, size and received_ns are
 * filled in), data is the profile's bytes. */
struct pp_store_item {
	struct pp_store_rec rec;
	const void *data;
	size_t len;
	/* out: */
	uint64_t id;
	int duplicate;		/* already stored: id is the earlier one */
};

/* Stores n items in one transaction: all or none. An item whose (owner,
 * content hash) is stored already is not stored again: its duplicate flag
 * is set and id is the stored one's. Returns 0 or PP_ESTORE/PP_ENOSPC/
 * PP_ENOMEM. */
int pp_store_put(struct pp_store *st, struct pp_store_item *items, size_t n,
    struct pp_err *e);

/* A selection. NULL/0 fields select everything. */
struct pp_store_filter {
	const char *owner;	/* NULL: all owners (local access only) */
	const char *program, *type, *host;
	const char *sample_type;	/* one of the record's sample types */
	const char *const *labels;	/* all of these "key=value" */
	size_t nlabels;
	int64_t since_ns, until_ns;	/* start time in [since, until]; 0: open */
	size_t limit;			/* at most this many; 0: no limit */
};

/* Calls fn with each selected record (valid during the call), ordered by
 * owner, program, type and start time. fn returning non-zero stops the
 * walk and is returned. The cost grows with the number of (owner, program,
 * type) groups and of records returned, not with the size of the store. */
int pp_store_select(struct pp_store *st, const struct pp_store_filter *f,
    int (*fn)(const struct pp_store_rec *rec, void *arg), void *arg,
    struct pp_err *e);

/* Reads profile id of owner (NULL: any owner): *data (malloc'd, the
 * caller frees) and *len, and rec when not NULL (its strings are valid
 * until the next call on st). Returns 0, PP_ENOTFOUND (absent or another
 * owner's), PP_ESTORE, PP_ENOMEM. */
int pp_store_get(struct pp_store *st, const char *owner, uint64_t id,
    void **data, size_t *len, struct pp_store_rec *rec, struct pp_err *e);

/* Deletes profiles (of owner, NULL: all) that started before before_ns,
 * at most batch (0: 1000) per transaction. *deleted gets the count.
 * Returns 0 or PP_ESTORE. */
int pp_store_expire(struct pp_store *st, const char *owner,
    int64_t before_ns, size_t batch, uint64_t *deleted, struct pp_err *e);

/* Builds the host and label index (byattr.db) of a store made before
 * it, batch (0: 1000) records to a transaction, resuming where an
 * interrupted build stopped; *indexed gets the records indexed now.
 * Until it is built, filters on a host or a label read every record the
 * other filters select; records stored meanwhile are indexed as they
 * come. A built index costs one read. pp_store_expire runs it first
 * (Berkeley DB's deletes need every record indexed), and so does
 * pp-query --expire from cron. Returns 0, PP_EREADONLY (a replica: the
 * master's build replicates), PP_ESTORE, PP_ENOSPC. */
int pp_store_index(struct pp_store *st, size_t batch, uint64_t *indexed,
    struct pp_err *e);

/* id as 16 hex digits; parses them back (0 or -1). */
void pp_store_id_str(uint64_t id, char buf[17]);
int pp_store_id_parse(const char *s, uint64_t *id);

/*
 * Replication. When DIR/replication exists (its format: repl.h), the
 * store is one site of a Berkeley DB replication group, and every
 * function above works as before with these differences: only the
 * master's store takes writes (elsewhere they return PP_EREADONLY, and e
 * names the master when one is known); a write's commit counts only once
 * enough replicas acknowledged it (the "ack" policy; else PP_ESTORE:
 * the write is on the master but may not survive it, so the caller must
 * not report it done, and may send it again: pp_store_put is
 * idempotent); reads on a replica see what it has received so far.
 * Writes need the site's replication process, pp_store_replicate.
 */
struct pp_store_repl_opts {
	volatile sig_atomic_t *stop;	/* set it (a signal handler) to stop */
	/* Receives a line for each change of role, election, connection
	 * and failure. Called from the calling thread only. */
	void (*log)(void *arg, int error, const char *msg);
	void *log_arg;
};

#define PP_STORE_RESTART	1

/* Runs the replication process of the store in dir (created when
 * absent): listens on the local address, connects to the peers, takes
 * part in elections, calls one when the site has had no master for the
 * failover delay (repl.h), applies the master's log on a replica, writes
 * the master's checkpoints. Returns 0 once *o->stop is set;
 * PP_STORE_RESTART when another process's recovery made the environment
 * unusable (the caller must run it again in a new process, by exec, at
 * once: Berkeley DB keeps the old environment's memory until the process
 * ends; the next run, when the site was the master, calls an election as
 * soon as it reaches the other sites, which it wins unless they have log
 * it lost); or PP_ENOTFOUND (no dir/replication), PP_EINVAL (a bad one),
 * PP_EBUSY (another replication process runs for dir), PP_ESTORE, PP_EIO,
 * PP_ENOMEM. */
int pp_store_replicate(const char *dir, const struct pp_store_repl_opts *o,
    struct pp_err *e);

#endif
