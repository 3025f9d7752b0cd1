#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "repl.h"
#include "store.h"
#include "util.h"

#define RETRIES		20
/* A checkpoint writes every dirty page and syncs each database file, some
 * 20-30 ms here: once per 1 MiB of log (some 300 small uploads), not per
 * 256 KiB, so that it rarely competes with the commits' log flushes,
 * while recovery still replays at most about 1 MiB. */
#define CKP_KBYTES	1024
#define REC_VERSION	1
#define TIME_BIAS	((uint64_t)1 << 63)	/* signed times sort unsigned */
#define MAX_PARTS	4	/* of an index key (see struct skey) */

enum {
	DB_META, DB_DATA, DB_BYTIME, DB_BYHASH, DB_USERS, DB_TOKENS, DB_WLOCK,
	DB_FLAGS, DB_BYATTR, NDB
};

/* The databases an operation uses: opened when first needed, since each
 * open costs some 25 us and a process serves one request. A secondary
 * index is associated with meta.db when it is opened, so every operation
 * that writes meta.db needs both. */
#define NEED(i)		(1u << (i))
#define NEED_ALL	(NEED(NDB) - 1)
#define NEED_RECORDS	(NEED(DB_META) | NEED(DB_DATA) | NEED(DB_BYTIME) | \
			    NEED(DB_BYHASH) | NEED(DB_BYATTR))
#define NEED_INDEXES	(NEED(DB_BYTIME) | NEED(DB_BYHASH) | NEED(DB_BYATTR))
#define NO_TXN		0x80000000u	/* run() flag: no transaction */

static const char *const db_files[NDB] = {
	"meta.db", "data.db", "bytime.db", "byhash.db", "users.db", "tokens.db",
	"lock.db", "flags.db", "byattr.db",
};

/* flags.db's keys: byattr.db holds every record (made with the store, or
 * built since by pp_store_index), and how far that build went. Not in
 * lock.db: every writer holds that one's page until it commits, and a
 * reader asking for the flag would wait for them. */
static const char attr_done_key[] = "byattr";
static const char attr_next_key[] = "byattr-next";

struct pp_store {
	DB_ENV *env;
	DB *db[NDB];
	unsigned want;		/* NEED() bits of the databases to open (and
				 * to reopen after another's recovery) */
	char *dir;
	char errmsg[200];	/* Berkeley DB's last message */
	/* The last record decoded for a caller: */
	unsigned char *recbuf;
	size_t recbuf_cap;
	const char **labels;
	size_t labels_cap;
	/* Replication (repl.h), when dir/replication exists: */
	struct pp_repl_conf *repl;
	int repl_joined;	/* joined as a subordinate process */
	int lockfd;		/* dir/replication.lock, or -1 */
	int attr_done;		/* byattr.db is known to hold every record */
	int no_attr;		/* byattr.db is absent and cannot be made
				 * here (a replica): filters read records */
	volatile int perm_failed;	/* a commit's acks did not come */
	volatile int panic;	/* recovered by another: open again */
	struct repl_events *events;	/* the replication process's */
};

/* A Berkeley DB code, or one of ours: ours are small negative numbers. */
static int
is_db_error(int r)
{
	return r > 0 || r < -1000;
}

/* A write that failed for want of space: a full disk, a quota, a file
 * size limit. Berkeley DB returns the system's errno. */
static int
is_space_error(int r)
{
	return r == ENOSPC || r == EDQUOT || r == EFBIG;
}

static int
db_fail(struct pp_store *st, struct pp_err *e, int r, const char *what)
{
	int code = is_space_error(r) ? PP_ENOSPC : PP_ESTORE;

	if (st->errmsg[0])
		return pp_err_set(e, code, "store '%s': %s: %s (%s)",
		    st->dir, what, db_strerror(r), st->errmsg);
	return pp_err_set(e, code, "store '%s': %s: %s", st->dir, what,
	    db_strerror(r));
}

static void repl_errcall(struct pp_store *st, const char *msg);
static void repl_event(DB_ENV *env, u_int32_t ev, void *info);
static void repl_join(struct pp_store *st);
static int repl_writable(struct pp_store *st, struct pp_err *e);
static int writer_lock(struct pp_store *st, DB_TXN *txn);
static int repl_not_master(struct pp_store *st, struct pp_err *e);
static int repl_unacknowledged(struct pp_store *st, struct pp_err *e);

static void
errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct pp_store *st = env->app_private;

	snprintf(st->errmsg, sizeof(st->errmsg), "%s", msg);
	if (st->events)
		repl_errcall(st, msg);
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void
dbt(DBT *d, const void *data, size_t size)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)data;
	d->size = (u_int32_t)size;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Records: version(1) pid start duration received size (8 each,
 * big-endian) sha256(32), then owner program host type sample_types and
 * the labels, each string as len(4, big-endian) bytes NUL, the labels
 * preceded by their count(4).
 */

static void
put_be32(struct pp_buf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };

	pp_buf_add(b, p, 4);
}

static void
put_str(struct pp_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	put_be32(b, (uint32_t)n);
	pp_buf_add(b, s ? s : "", n + 1);
}

static int
rec_encode(const struct pp_store_rec *r, struct pp_buf *b)
{
	unsigned char fixed[1 + 5 * 8];
	size_t i;

	fixed[0] = REC_VERSION;
	put_be64(fixed + 1, (uint64_t)r->pid);
	put_be64(fixed + 9, (uint64_t)r->start_ns);
	put_be64(fixed + 17, (uint64_t)r->duration_ns);
	put_be64(fixed + 25, (uint64_t)r->received_ns);
	put_be64(fixed + 33, r->size);
	pp_buf_add(b, fixed, sizeof(fixed));
	pp_buf_add(b, r->sha256, PP_SHA256_LEN);
	put_str(b, r->owner);
	put_str(b, r->program);
	put_str(b, r->host);
	put_str(b, r->type);
	put_str(b, r->sample_types);
	put_be32(b, (uint32_t)r->nlabels);
	for (i = 0; i < r->nlabels; i++)
		put_str(b, r->labels[i]);
	return b->oom ? PP_ENOMEM : 0;
}

/* A cursor over an encoded record. */
struct rd {
	const unsigned char *p, *end;
	int bad;
};

static uint32_t
rd_be32(struct rd *d)
{
	uint32_t v;

	if (d->end - d->p < 4) {
		d->bad = 1;
		return 0;
	}
	v = (uint32_t)d->p[0] << 24 | d->p[1] << 16 | d->p[2] << 8 | d->p[3];
	d->p += 4;
	return v;
}

static const char *
rd_str(struct rd *d)
{
	uint32_t n = rd_be32(d);
	const char *s = (const char *)d->p;

	if (d->bad || (size_t)(d->end - d->p) < (size_t)n + 1 || d->p[n]) {
		d->bad = 1;
		return "";
	}
	d->p += n + 1;
	return s;
}

/* Decodes the record in data (which must stay valid) into r; labels go to
 * *labels, grown as needed. Returns 0, PP_EFORMAT or PP_ENOMEM. */
static int
rec_decode(const void *data, size_t len, struct pp_store_rec *r,
    const char ***labels, size_t *labels_cap)
{
	struct rd d = { data, (const unsigned char *)data + len, 0 };
	uint32_t i, n;

	if (len < 1 + 5 * 8 + PP_SHA256_LEN || d.p[0] != REC_VERSION)
		return PP_EFORMAT;
	memset(r, 0, sizeof(*r));
	r->pid = (int64_t)get_be64(d.p + 1);
	r->start_ns = (int64_t)get_be64(d.p + 9);
	r->duration_ns = (int64_t)get_be64(d.p + 17);
	r->received_ns = (int64_t)get_be64(d.p + 25);
	r->size = get_be64(d.p + 33);
	memcpy(r->sha256, d.p + 41, PP_SHA256_LEN);
	d.p += 41 + PP_SHA256_LEN;
	r->owner = rd_str(&d);
	r->program = rd_str(&d);
	r->host = rd_str(&d);
	r->type = rd_str(&d);
	r->sample_types = rd_str(&d);
	n = rd_be32(&d);
	if (d.bad || n > (size_t)(d.end - d.p) / 5)
		return PP_EFORMAT;
	if (labels) {
		if (pp_grow(labels, labels_cap, n ? n : 1, sizeof(**labels)) < 0)
			return PP_ENOMEM;
		for (i = 0; i < n; i++)
			(*labels)[i] = rd_str(&d);
		r->labels = *labels;
		r->nlabels = n;
	}
	return d.bad ? PP_EFORMAT : 0;
}

/* The parts of a record the secondary indexes need, without copying. */
static int
rec_keys(const DBT *data, const char **owner, size_t *owner_len,
    const char **program, size_t *program_len, const char **type,
    size_t *type_len, uint64_t *start, const unsigned char **sha)
{
	struct rd d = { data->data, (const unsigned char *)data->data +
	    data->size, 0 };

	if (data->size < 1 + 5 * 8 + PP_SHA256_LEN || d.p[0] != REC_VERSION)
		return -1;
	*start = get_be64(d.p + 9) ^ TIME_BIAS;
	*sha = d.p + 41;
	d.p += 41 + PP_SHA256_LEN;
	*owner = rd_str(&d);
	*owner_len = strlen(*owner);
	*program = rd_str(&d);
	*program_len = strlen(*program);
	(void)rd_str(&d);
	*type = rd_str(&d);
	*type_len = strlen(*type);
	return d.bad ? -1 : 0;
}

/* Makes an index key in k, for Berkeley DB to free: the n parts, each
 * ending in a NUL, the second preceded by kind when that is not 0, then
 * start (8, big-endian). */
static int
index_key(DBT *k, const char *const *parts, int n, char kind,
    uint64_t start)
{
	size_t len[MAX_PARTS], size = 8 + (kind != 0);
	unsigned char *b, *q;
	int i;

	for (i = 0; i < n; i++)
		size += (len[i] = strlen(parts[i])) + 1;
	if (!(b = q = malloc(size)))
		return ENOMEM;
	for (i = 0; i < n; i++) {
		if (i == 1 && kind)
			*q++ = (unsigned char)kind;
		memcpy(q, parts[i], len[i] + 1);
		q += len[i] + 1;
	}
	put_be64(q, start);
	memset(k, 0, sizeof(*k));
	k->data = b;
	k->size = (u_int32_t)size;
	k->flags = DB_DBT_APPMALLOC;
	return 0;
}

/* bytime: owner\0program\0type\0 start(8) */
static int
bytime_key(DB *sec, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	const char *parts[3];
	size_t ol, pl, tl;
	uint64_t start;
	const unsigned char *sha;

	(void)sec;
	(void)pkey;
	if (rec_keys(pdata, &parts[0], &ol, &parts[1], &pl, &parts[2], &tl,
	    &start, &sha) < 0)
		return DB_DONOTINDEX;
	return index_key(skey, parts, 3, 0, start);
}

/* byhash: owner\0 sha256(32) */
static int
byhash_key(DB *sec, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	const char *o, *p, *t;
	size_t ol, pl, tl;
	uint64_t start;
	const unsigned char *sha;
	unsigned char *k;

	if (rec_keys(pdata, &o, &ol, &p, &pl, &t, &tl, &start, &sha) < 0)
		return DB_DONOTINDEX;
	if (!(k = malloc(ol + 1 + PP_SHA256_LEN)))
		return ENOMEM;
	memcpy(k, o, ol + 1);
	memcpy(k + ol + 1, sha, PP_SHA256_LEN);
	memset(skey, 0, sizeof(*skey));
	skey->data = k;
	skey->size = (u_int32_t)(ol + 1 + PP_SHA256_LEN);
	skey->flags = DB_DBT_APPMALLOC;
	return 0;
}

/* byattr: a key for the host and one for each distinct label, so that a
 * filter on either reads only the records that have it, in the order
 * bytime gives them. */
static int
attr_key(DB *sec, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	struct pp_store_rec r;
	const char **labels = NULL, *parts[4];
	size_t cap = 0, i, j, n = 0;
	uint64_t start;
	DBT *keys;
	int rc;

	(void)sec;
	(void)pkey;
	if ((rc = rec_decode(pdata->data, pdata->size, &r, &labels,
	    &cap)) < 0) {
		free(labels);
		return rc == PP_ENOMEM ? ENOMEM : DB_DONOTINDEX;
	}
	start = (uint64_t)r.start_ns ^ TIME_BIAS;
	if (!(keys = calloc(r.nlabels + 1, sizeof(*keys)))) {
		free(labels);
		return ENOMEM;
	}
	parts[0] = r.owner;
	parts[1] = r.host;
	parts[2] = r.program;
	parts[3] = r.type;
	rc = index_key(&keys[n++], parts, 4, 'h', start);
	/* The keys of one record must all differ: a repeated label once. */
	for (i = 0; rc == 0 && i < r.nlabels; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(r.labels[i], r.labels[j]) == 0)
				break;
		if (j < i)
			continue;
		parts[1] = r.labels[i];
		rc = index_key(&keys[n++], parts, 4, 'l', start);
	}
	free(labels);
	if (rc != 0) {
		for (i = 0; i < n; i++)
			free(keys[i].data);
		free(keys);
		return rc;
	}
	memset(skey, 0, sizeof(*skey));
	skey->data = keys;
	skey->size = (u_int32_t)n;
	skey->flags = DB_DBT_MULTIPLE | DB_DBT_APPMALLOC;
	return 0;
}

static void
close_dbs(struct pp_store *st)
{
	int i;

	/* Secondaries before their primary. */
	for (i = NDB - 1; i >= 0; i--) {
		if (st->db[i])
			st->db[i]->close(st->db[i], DB_NOSYNC);
		st->db[i] = NULL;
	}
}

/*
 * Takes the lock that Berkeley DB holds on byte 1 of __db.register while
 * a process that opens the environment checks the registered ones: it
 * reads a slot (a pid), then tries its lock, and a lock it gets means a
 * dead process, so it recovers the environment and panics it under
 * everyone. A closing process clears its slot and drops its lock without
 * that lock: between the read and the try it looks dead. Under many short
 * processes that happens (one upload in some thousands found the store
 * panicked). Closing under the lock makes the two exclusive. Returns the
 * descriptor, to be closed only after the environment: closing any
 * descriptor of the file drops every lock the process holds on it, its
 * registry slot's too. -1 when there is no registry.
 */
static int
registry_lock(struct pp_store *st)
{
	char path[4096];
	struct flock fl;
	int fd;

	snprintf(path, sizeof(path), "%s/__db.register", st->dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 1;
	fl.l_len = 1;
	while (fcntl(fd, F_SETLKW, &fl) < 0 && errno == EINTR)
		;
	return fd;
}

static void
close_handles(struct pp_store *st)
{
	int fd;

	close_dbs(st);
	if (st->env) {
		fd = registry_lock(st);
		st->env->close(st->env, 0);
		if (fd >= 0)
			close(fd);
	}
	st->env = NULL;
	/* A new environment handle has not joined replication. */
	st->repl_joined = 0;
}

/* Waits a random while, longer with each attempt, so that transactions
 * that deadlocked do not meet again at once. */
static void
backoff(int attempt)
{
	unsigned r = 0;

	pp_random_bytes(&r, sizeof(r));
	usleep(1000 + r % (2000u << (attempt < 6 ? attempt : 6)));
}

static int
open_env(struct pp_store *st, u_int32_t fl)
{
	DB_ENV *env;
	int r;

	if ((r = db_env_create(&env, 0)) != 0)
		return r;
	st->env = env;
	env->app_private = st;
	env->set_errcall(env, errcall);
	if (st->repl)
		env->set_event_notify(env, repl_event);
	/* These size the shared regions when they are created. */
	if ((r = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (r = env->set_cachesize(env, 0, 16 << 20, 1)) != 0 ||
	    (r = env->set_lk_max_locks(env, 100000)) != 0 ||
	    (r = env->set_lk_max_objects(env, 100000)) != 0 ||
	    (r = env->set_lk_max_lockers(env, 10000)) != 0 ||
	    (r = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0 ||
	    (r = env->open(env, st->dir, fl, 0600)) != 0) {
		env->close(env, 0);
		st->env = NULL;
	}
	return r;
}

/* Removes the shared region files (__db.00N), not the data or the log:
 * what a process killed while it created them left behind. */
static void
remove_regions(struct pp_store *st)
{
	char path[4096];
	int i;

	/* DB_ENV->remove(DB_FORCE) would first try to join them, for as long
	 * again as the failed open: unlink them ourselves. */
	for (i = 1; i <= 9; i++) {
		snprintf(path, sizeof(path), "%s/__db.%03d", st->dir, i);
		unlink(path);
	}
}

/* Does a live process hold the environment? Each registers in
 * __db.register with a lock on its slot, held while it lives. F_GETLK
 * only asks: it takes nothing (closing the descriptor would drop every
 * lock this process has on the file, and it has none here: its open
 * failed and closed the environment). */
static int
others_registered(const struct pp_store *st)
{
	struct flock fl;
	char path[4096];
	int fd, held;

	snprintf(path, sizeof(path), "%s/__db.register", st->dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/*
 * Waits (some seconds at most) while the site's replication process says
 * that this replica is catching up with its master (repl.h): Berkeley DB
 * may lock the environment out meanwhile, for as long as it copies the
 * master's store, and a process that opens it then waits as long.
 * Returns 0, or PP_ESTORE when it still catches up.
 */
#define SYNC_WAIT_MS	2000

static int
sync_wait(struct pp_store *st, struct pp_err *e)
{
	int i;

	if (st->lockfd < 0 &&
	    (st->lockfd = pp_repl_lock_open(st->dir, 0, NULL)) < 0) {
		st->lockfd = -1;
		return 0;
	}
	for (i = 0; pp_repl_held(st->lockfd, PP_REPL_BYTE_SYNCING); i++) {
		if (i == SYNC_WAIT_MS / 10)
			return pp_err_set(e, PP_ESTORE, "store '%s': this site "
			    "is catching up with its master; try again later",
			    st->dir);
		usleep(10000);
	}
	return 0;
}

static int
open_handles(struct pp_store *st, struct pp_err *e)
{
	u_int32_t fl = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_REGISTER | DB_RECOVER;
	int r, attempt, removed = 0;

	/* Replication's threads share the handle: DB_THREAD. */
	if (st->repl)
		fl |= DB_INIT_REP | DB_THREAD;
	if (st->repl && !st->events && (r = sync_wait(st, e)) < 0)
		return r;

	/*
	 * Berkeley DB itself retries joining for some seconds when the
	 * regions look half-made. When it gives up (EAGAIN, or EINVAL from
	 * mmap) and no live process is registered, they are the regions of
	 * a process killed while it made them: remove them, and recovery
	 * rebuilds them from the log. Other failures may be passing
	 * (another process is creating the environment): wait, try again.
	 */
	for (attempt = 0;; attempt++) {
		st->errmsg[0] = '\0';
		r = open_env(st, fl);
		if (r == 0 || r == ENOENT || r == EACCES ||
		    is_space_error(r) || r == EROFS || attempt == 3)
			break;
		/* Regions made without replication, by processes that may
		 * still use them: not ours to remove (see pp-recv(8)). */
		if (r == EINVAL && st->repl && strstr(st->errmsg,
		    "incompatible with existing environment"))
			break;
		/* Only when nobody lives in them: a live process's regions
		 * hold what it committed and has not yet written out. */
		if ((r == EAGAIN || r == EINVAL) && !removed &&
		    !others_registered(st)) {
			remove_regions(st);
			removed = 1;
			continue;
		}
		backoff(attempt);
	}
	if (r == EINVAL && st->repl && strstr(st->errmsg,
	    "incompatible with existing environment"))
		return db_fail(st, e, r, "cannot open the environment, made "
		    "without replication: stop what uses the store, and "
		    "recover it (db5.3_recover), before it is a site");
	if (r != 0)
		return db_fail(st, e, r, "cannot open the environment");
	/* Not the replication process itself (it has events): join it. */
	if (st->repl && !st->events)
		repl_join(st);
	return 0;
}

/* Reads flags.db's key k, n bytes of value, into v in txn: 1 present, 0
 * absent (or not n bytes long), or a Berkeley DB error. */
static int
flag_get(struct pp_store *st, DB_TXN *txn, const char *k, void *v, size_t n,
    u_int32_t flags)
{
	DBT kd, vd;
	int r;

	dbt(&kd, k, strlen(k));
	memset(&vd, 0, sizeof(vd));
	vd.flags = DB_DBT_USERMEM;
	vd.data = v;
	vd.ulen = (u_int32_t)n;
	r = st->db[DB_FLAGS]->get(st->db[DB_FLAGS], txn, &kd, &vd, flags);
	if (r == DB_NOTFOUND || (r == 0 && vd.size != n))
		return 0;
	return r ? r : 1;
}

static int
flag_put(struct pp_store *st, DB_TXN *txn, const char *k, const void *v,
    size_t n)
{
	DBT kd, vd;

	dbt(&kd, k, strlen(k));
	dbt(&vd, v, n);
	return st->db[DB_FLAGS]->put(st->db[DB_FLAGS], txn, &kd, &vd, 0);
}

/* Opens flags.db into *out, making it when absent. Returns 0,
 * DB_NOTFOUND when it is absent and this site cannot write (a replica:
 * the master's will come), or a Berkeley DB error. */
static int
open_flags(struct pp_store *st, DB **out)
{
	DB *db;
	int r;

	*out = NULL;
	if ((r = db_create(&db, st->env, 0)) != 0)
		return r;
	r = db->open(db, NULL, db_files[DB_FLAGS], NULL, DB_BTREE,
	    DB_AUTO_COMMIT, 0600);
	if (r == ENOENT) {
		db->close(db, DB_NOSYNC);
		if (st->repl && repl_writable(st, NULL) < 0)
			return DB_NOTFOUND;
		if ((r = db_create(&db, st->env, 0)) != 0)
			return r;
		r = db->open(db, NULL, db_files[DB_FLAGS], NULL, DB_BTREE,
		    DB_CREATE | DB_AUTO_COMMIT, 0600);
	}
	if (r != 0) {
		db->close(db, DB_NOSYNC);
		return r;
	}
	*out = db;
	return 0;
}

/* Opens byattr.db into *out, making it when absent: in one transaction
 * under the writer's lock, so that no record is stored meanwhile by a
 * process that could not index it, and marked complete when there are no
 * records yet (a new store). A store made before byattr.db gets it empty
 * and unmarked: pp_store_expire fills it in. Returns 0, DB_NOTFOUND when
 * it is absent and this site cannot write (a replica: the master's will
 * come), or a Berkeley DB error. */
static int
open_attr(struct pp_store *st, DB **out)
{
	DB_TXN *txn = NULL;
	DB *db = NULL;
	DBC *c = NULL;
	DBT k, v;
	int r, attempt;

	*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = db_create(&db, st->env, 0)) != 0)
			return r;
		if ((r = db->set_flags(db, DB_DUPSORT)) != 0)
			break;
		r = db->open(db, NULL, db_files[DB_BYATTR], NULL, DB_BTREE,
		    DB_AUTO_COMMIT, 0600);
		if (r != ENOENT)
			break;
		db->close(db, DB_NOSYNC);
		db = NULL;
		if (st->repl && repl_writable(st, NULL) < 0)
			return DB_NOTFOUND;
		if ((r = db_create(&db, st->env, 0)) != 0)
			return r;
		if ((r = db->set_flags(db, DB_DUPSORT)) != 0 ||
		    (!st->db[DB_FLAGS] &&
		    (r = open_flags(st, &st->db[DB_FLAGS])) != 0) ||
		    (r = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0)
			break;
		if ((r = writer_lock(st, txn)) == 0 &&
		    (r = db->open(db, txn, db_files[DB_BYATTR], NULL,
		    DB_BTREE, DB_CREATE | DB_EXCL, 0600)) == 0 &&
		    (r = st->db[DB_META]->cursor(st->db[DB_META], txn, &c,
		    0)) == 0) {
			memset(&k, 0, sizeof(k));
			memset(&v, 0, sizeof(v));
			k.flags = v.flags = DB_DBT_PARTIAL;
			r = c->get(c, &k, &v, DB_FIRST);
			c->close(c);
			if (r == DB_NOTFOUND)
				r = flag_put(st, txn, attr_done_key, "1", 1);
		}
		if (r == 0) {
			r = txn->commit(txn, 0);
			break;
		}
		txn->abort(txn);
		db->close(db, DB_NOSYNC);
		db = NULL;
		/* Another process made it first: open theirs. */
		if (r != EEXIST)
			return r;
	}
	if (r != 0) {
		if (db)
			db->close(db, DB_NOSYNC);
		return r;
	}
	*out = db;
	return 0;
}

/* Opens the databases of want that are not open yet (and the
 * environment, when another process's recovery made us close it). */
static int
open_dbs(struct pp_store *st, unsigned want, struct pp_err *e)
{
	int r, i;

	if (want & NEED_INDEXES)
		want |= NEED(DB_META);
	/* Making byattr.db takes the writer's lock (lock.db); whether it
	 * is complete (flags.db) matters to selects and its build only. */
	if (want & NEED(DB_BYATTR))
		want |= NEED(DB_WLOCK);
	st->want |= want;
	if (!st->env && (r = open_handles(st, e)) < 0)
		return r;
	/* In index order: meta.db before the indexes associated with it,
	 * lock.db and flags.db before byattr.db. */
	for (i = 0; i < NDB; i++) {
		DB *db;

		if (!(st->want & NEED(i)) || st->db[i] ||
		    ((i == DB_BYATTR || i == DB_FLAGS) && st->no_attr))
			continue;
		if (i == DB_FLAGS) {
			if ((r = open_flags(st, &db)) == DB_NOTFOUND) {
				st->no_attr = 1;	/* a replica's, to come */
				continue;
			}
			if (r != 0)
				return db_fail(st, e, r, db_files[i]);
		} else if (i == DB_BYATTR) {
			if ((r = open_attr(st, &db)) == DB_NOTFOUND) {
				st->no_attr = 1;	/* a replica's, to come */
				continue;
			}
			if (r != 0)
				return db_fail(st, e, r, db_files[i]);
		} else {
			if ((r = db_create(&db, st->env, 0)) != 0)
				return db_fail(st, e, r, db_files[i]);
			if ((i == DB_BYTIME && (r = db->set_flags(db,
			    DB_DUPSORT)) != 0) ||
			    (r = db->open(db, NULL, db_files[i], NULL,
			    DB_BTREE, DB_CREATE | DB_AUTO_COMMIT, 0600)) != 0) {
				db->close(db, DB_NOSYNC);
				return db_fail(st, e, r, db_files[i]);
			}
		}
		/* An index not associated would miss writes: it is open
		 * only when associated. */
		if ((i == DB_BYTIME || i == DB_BYHASH || i == DB_BYATTR) &&
		    (r = st->db[DB_META]->associate(st->db[DB_META], NULL, db,
		    i == DB_BYTIME ? bytime_key : i == DB_BYHASH ? byhash_key :
		    attr_key, 0)) != 0) {
			db->close(db, DB_NOSYNC);
			return db_fail(st, e, r, "cannot open the indexes");
		}
		st->db[i] = db;
	}
	return 0;
}

int
pp_store_open(struct pp_store **out, const char *dir, int flags,
    struct pp_err *e)
{
	struct pp_store *st;
	struct stat sb;
	char *path = NULL;
	int rc;

	*out = NULL;
	if (!(st = calloc(1, sizeof(*st))) || !(st->dir = strdup(dir)) ||
	    asprintf(&path, "%s/meta.db", dir) < 0) {
		if (st)
			free(st->dir);
		free(st);
		return pp_err_set(e, PP_ENOMEM, "out of memory");
	}
	st->lockfd = -1;
	if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
		rc = pp_err_set(e, PP_ENOTFOUND, "no store in '%s': not a "
		    "directory", dir);
		goto out;
	}
	if (stat(path, &sb) < 0) {
		if (!(flags & PP_STORE_CREATE)) {
			rc = pp_err_set(e, PP_ENOTFOUND, "no store in '%s'", dir);
			goto out;
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			rc = pp_err_set(e, PP_ESTORE, "cannot create '%s': %s",
			    dir, strerror(errno));
			goto out;
		}
	}
	if ((rc = pp_crypto_init()) < 0) {
		pp_err_set(e, rc, "no source of randomness");
		goto out;
	}
	if ((rc = pp_repl_conf_load(dir, &st->repl, e)) < 0 &&
	    rc != PP_ENOTFOUND)
		goto out;
	/* A new store gets all its databases now; otherwise each operation
	 * opens those it uses. A replicated store's are made by the first
	 * operation on the master that uses them (elsewhere they would be
	 * writes). */
	if ((rc = open_handles(st, e)) < 0 ||
	    (rc = open_dbs(st, flags & PP_STORE_CREATE && !st->repl ?
	    NEED_ALL : 0, e)) < 0)
		goto out;
	*out = st;
	st = NULL;	/* transferred */
	rc = 0;
out:
	free(path);
	pp_store_close(st);
	return rc;
}

void
pp_store_close(struct pp_store *st)
{
	if (!st)
		return;
	/* Keep recovery short: checkpoint once CKP_KBYTES of log
	 * accumulated. A replicated store's replication process does it
	 * instead, on the master (a checkpoint is a replicated write). */
	if (st->env && !st->repl)
		st->env->txn_checkpoint(st->env, CKP_KBYTES, 0, 0);
	close_handles(st);
	if (st->lockfd >= 0)
		close(st->lockfd);
	pp_repl_conf_free(st->repl);
	free(st->recbuf);
	free(st->labels);
	free(st->dir);
	free(st);
}

/* Every writing transaction first takes the write lock of the one record
 * in lock.db: writers queue instead of deadlocking on each other's pages
 * (their work is short; the commit's log flush dominates). Readers
 * (read-committed) are not held up. */
static int
writer_lock(struct pp_store *st, DB_TXN *txn)
{
	static const char key[] = "writer";
	unsigned char one = 1;
	DBT k, v;
	int r;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = sizeof(key) - 1;
	v.data = &one;
	v.ulen = 1;
	v.flags = DB_DBT_USERMEM;
	r = st->db[DB_WLOCK]->get(st->db[DB_WLOCK], txn, &k, &v, DB_RMW);
	/* Replicated, every writer writes: its commit then waits for the
	 * replicas' acknowledgements even when all it had was duplicates,
	 * which covers the earlier commit that stored them. */
	if (r == DB_NOTFOUND || (r == 0 && st->repl)) {
		v.size = 1;
		r = st->db[DB_WLOCK]->put(st->db[DB_WLOCK], txn, &k, &v, 0);
	}
	return r;
}

/* Runs body in a transaction, retrying it after a deadlock and reopening
 * the environment after another process recovered it. body returns 0, a
 * PP_E* code (with e set) or a Berkeley DB code. */
static int
run(struct pp_store *st, int (*body)(struct pp_store *, DB_TXN *, void *,
    struct pp_err *), void *arg, unsigned need, u_int32_t txn_flags,
    const char *what, struct pp_err *e)
{
	int attempt, r, writes = (need & NEED(DB_WLOCK)) != 0;

	for (attempt = 0;; attempt++) {
		DB_TXN *txn = NULL;

		st->errmsg[0] = '\0';
		/* Replicated, only the master writes, and only a process
		 * that joined replication (its commits reach the replicas). */
		if (writes && st->repl && ((!st->env &&
		    (r = open_handles(st, e)) < 0) ||
		    (r = repl_writable(st, e)) < 0))
			return r;
		if ((r = open_dbs(st, need, e)) < 0)
			return r;
		/* A write must reach every index: byattr.db absent and not
		 * made here means this site cannot write now. */
		if (writes && (need & NEED(DB_BYATTR)) && st->no_attr)
			return repl_not_master(st, e);
		if (txn_flags & NO_TXN) {
			r = body(st, NULL, arg, e);
		} else if ((r = st->env->txn_begin(st->env, NULL, &txn,
		    txn_flags)) == 0) {
			r = body(st, txn, arg, e);
			if (r == 0) {
				st->perm_failed = 0;
				r = txn->commit(txn, 0);
				if (r == 0 && writes && st->perm_failed)
					return repl_unacknowledged(st, e);
			} else {
				txn->abort(txn);
			}
		}
		if (r == 0)
			return 0;
		/* Replication rolled back under an open handle, or is
		 * copying the master's pages: open the databases again. */
		if (st->repl && attempt + 1 < RETRIES &&
		    (r == DB_REP_HANDLE_DEAD || r == DB_REP_LOCKOUT)) {
			close_dbs(st);
			backoff(attempt);
			continue;
		}
		/* Berkeley DB's answer to a write on a replica: this site
		 * stopped being the master on the way. */
		if (st->repl && writes && r == EACCES)
			return repl_not_master(st, e);
		if (attempt + 1 < RETRIES && (r == DB_LOCK_DEADLOCK ||
		    r == DB_LOCK_NOTGRANTED)) {
			backoff(attempt);
			continue;
		}
		if (attempt + 1 < RETRIES && r == DB_RUNRECOVERY) {
			close_handles(st);
			continue;
		}
		if (!is_db_error(r))
			return r;
		return db_fail(st, e, r, what);
	}
}

int
pp_store_valid_owner(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > PP_OWNER_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
pp_store_valid_label(const char *s)
{
	return s[0] != '=' && strchr(s, '=') != NULL;
}

int
pp_store_split_labels(char *list, const char ***labels, size_t *n)
{
	char *tok, *save = NULL;
	size_t cap = 0;
	int rc;

	*labels = NULL;
	*n = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (!pp_store_valid_label(tok)) {
			rc = PP_EINVAL;
			goto fail;
		}
		if (pp_grow(labels, &cap, *n + 1, sizeof(**labels)) < 0) {
			rc = PP_ENOMEM;
			goto fail;
		}
		(*labels)[(*n)++] = tok;
	}
	return 0;
fail:
	free(*labels);
	*labels = NULL;
	*n = 0;
	return rc;
}

struct user_op {
	const char *name;
	unsigned char hash[PP_SHA256_LEN];
	int64_t created;
};

static int
user_add_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct user_op *op = arg;
	unsigned char val[PP_SHA256_LEN + 8];
	DBT k, v;
	int r;

	if ((r = writer_lock(st, txn)) != 0)
		return r;
	memcpy(val, op->hash, PP_SHA256_LEN);
	put_be64(val + PP_SHA256_LEN, (uint64_t)op->created);
	dbt(&k, op->name, strlen(op->name));
	dbt(&v, val, sizeof(val));
	r = st->db[DB_USERS]->put(st->db[DB_USERS], txn, &k, &v,
	    DB_NOOVERWRITE);
	if (r == DB_KEYEXIST)
		return pp_err_set(e, PP_EEXIST, "user '%s' exists", op->name);
	if (r)
		return r;
	dbt(&k, op->hash, PP_SHA256_LEN);
	dbt(&v, op->name, strlen(op->name));
	return st->db[DB_TOKENS]->put(st->db[DB_TOKENS], txn, &k, &v, 0);
}

int
pp_store_user_add(struct pp_store *st, const char *name,
    char tok[PP_HEX256_LEN + 1], struct pp_err *e)
{
	struct user_op op = { name, { 0 }, pp_now_ns() };

	if (!pp_store_valid_owner(name))
		return pp_err_set(e, PP_EINVAL, "bad user name '%s': use up to "
		    "%d letters, digits, '.', '_' and '-'", name, PP_OWNER_MAX);
	if (pp_random_token(tok) < 0)
		return pp_err_set(e, PP_EIO, "no source of randomness");
	pp_sha256(tok, PP_HEX256_LEN, op.hash);
	return run(st, user_add_body, &op,
	    NEED(DB_WLOCK) | NEED(DB_USERS) | NEED(DB_TOKENS), 0,
	    "cannot add the user", e);
}

static int
user_del_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct user_op *op = arg;
	DBT k, v;
	int r;

	if ((r = writer_lock(st, txn)) != 0)
		return r;
	dbt(&k, op->name, strlen(op->name));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	r = st->db[DB_USERS]->get(st->db[DB_USERS], txn, &k, &v, DB_RMW);
	if (r == DB_NOTFOUND)
		return pp_err_set(e, PP_ENOTFOUND, "no user '%s'", op->name);
	if (r)
		return r;
	if (v.size >= PP_SHA256_LEN)
		memcpy(op->hash, v.data, PP_SHA256_LEN);
	free(v.data);
	if ((r = st->db[DB_USERS]->del(st->db[DB_USERS], txn, &k, 0)) != 0)
		return r;
	dbt(&k, op->hash, PP_SHA256_LEN);
	r = st->db[DB_TOKENS]->del(st->db[DB_TOKENS], txn, &k, 0);
	return r == DB_NOTFOUND ? 0 : r;
}

int
pp_store_user_del(struct pp_store *st, const char *name, struct pp_err *e)
{
	struct user_op op = { name, { 0 }, 0 };

	return run(st, user_del_body, &op,
	    NEED(DB_WLOCK) | NEED(DB_USERS) | NEED(DB_TOKENS), 0,
	    "cannot remove the user", e);
}

struct user_list {
	char **names;
	int64_t *created;
	size_t n, cap, cap2;
};

static void
user_list_clear(struct user_list *ul)
{
	size_t i;

	for (i = 0; i < ul->n; i++)
		free(ul->names[i]);
	ul->n = 0;
}

/* Collects the users: fn runs after the transaction, once, even when a
 * deadlock restarts the walk. */
static int
user_list_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct user_list *ul = arg;
	DBC *c;
	DBT k, v;
	int r;

	user_list_clear(ul);
	if ((r = st->db[DB_USERS]->cursor(st->db[DB_USERS], txn, &c, 0)) != 0)
		return r;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	/* Memory of our own: a replicated store's handles are shared with
	 * replication's threads (DB_THREAD). */
	k.flags = v.flags = DB_DBT_REALLOC;
	while ((r = c->get(c, &k, &v, DB_NEXT)) == 0) {
		if (pp_grow(&ul->names, &ul->cap, ul->n + 1,
		    sizeof(*ul->names)) < 0 ||
		    pp_grow(&ul->created, &ul->cap2, ul->n + 1,
		    sizeof(*ul->created)) < 0 ||
		    !(ul->names[ul->n] = strndup(k.data, k.size))) {
			r = pp_err_set(e, PP_ENOMEM, "out of memory");
			break;
		}
		ul->created[ul->n++] = v.size >= PP_SHA256_LEN + 8 ?
		    (int64_t)get_be64((unsigned char *)v.data + PP_SHA256_LEN) :
		    0;
	}
	c->close(c);
	free(k.data);
	free(v.data);
	return r == DB_NOTFOUND ? 0 : r;
}

int
pp_store_user_list(struct pp_store *st,
    int (*fn)(const char *name, int64_t created_ns, void *arg), void *arg,
    struct pp_err *e)
{
	struct user_list ul;
	size_t i;
	int r;

	memset(&ul, 0, sizeof(ul));
	r = run(st, user_list_body, &ul, NEED(DB_USERS), DB_READ_COMMITTED,
	    "cannot list the users", e);
	for (i = 0; r == 0 && i < ul.n; i++)
		r = fn(ul.names[i], ul.created[i], arg);
	user_list_clear(&ul);
	free(ul.names);
	free(ul.created);
	return r;
}

struct auth_op {
	unsigned char hash[PP_SHA256_LEN];
	char *owner;
};

static int
auth_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct auth_op *op = arg;
	char buf[PP_OWNER_MAX + 1];
	DBT k, v;
	int r;

	dbt(&k, op->hash, PP_SHA256_LEN);
	memset(&v, 0, sizeof(v));
	v.data = buf;
	v.ulen = sizeof(buf) - 1;
	v.flags = DB_DBT_USERMEM;
	r = st->db[DB_TOKENS]->get(st->db[DB_TOKENS], txn, &k, &v, 0);
	if (r == DB_NOTFOUND)
		return pp_err_set(e, PP_EAUTH, "unknown token");
	if (r)
		return r;
	buf[v.size] = '\0';
	memcpy(op->owner, buf, v.size + 1);
	return 0;
}

int
pp_store_auth(struct pp_store *st, const char *tok, char *owner,
    struct pp_err *e)
{
	struct auth_op op;

	pp_sha256(tok, strlen(tok), op.hash);
	op.owner = owner;
	/* One read needs no transaction. */
	return run(st, auth_body, &op, NEED(DB_TOKENS), NO_TXN,
	    "cannot check the token", e);
}

struct put_op {
	struct pp_store_item *items;
	size_t n;
	int64_t received;
};

static int
put_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct put_op *op = arg;
	struct pp_buf b;
	size_t i;
	int r = 0;

	if ((r = writer_lock(st, txn)) != 0)
		return r;
	pp_buf_init(&b);
	for (i = 0; i < op->n; i++) {
		struct pp_store_item *it = &op->items[i];
		struct pp_store_rec *rec = &it->rec;
		size_t ol = strlen(rec->owner);
		unsigned char hk[PP_OWNER_MAX + 1 + PP_SHA256_LEN], idb[8];
		DBT k, pk, v;
		int tries;

		it->duplicate = 0;
		it->id = 0;
		pp_sha256(it->data, it->len, rec->sha256);
		rec->size = it->len;
		rec->received_ns = op->received;
		memcpy(hk, rec->owner, ol + 1);
		memcpy(hk + ol + 1, rec->sha256, PP_SHA256_LEN);
		dbt(&k, hk, ol + 1 + PP_SHA256_LEN);
		memset(&pk, 0, sizeof(pk));
		pk.data = idb;
		pk.ulen = sizeof(idb);
		pk.flags = DB_DBT_USERMEM;
		memset(&v, 0, sizeof(v));
		/* Only the primary key: no bytes of the record. */
		v.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
		r = st->db[DB_BYHASH]->pget(st->db[DB_BYHASH], txn, &k, &pk,
		    &v, 0);
		if (r == 0 && pk.size == 8) {
			it->duplicate = 1;
			it->id = get_be64(idb);
			continue;
		}
		if (r != DB_NOTFOUND)
			break;
		b.len = 0;
		if ((r = rec_encode(rec, &b)) < 0) {
			pp_err_set(e, r, "out of memory");
			break;
		}
		for (tries = 0; tries < 8; tries++) {
			uint64_t id;

			if ((r = pp_random_bytes(&id, sizeof(id))) < 0) {
				pp_err_set(e, r, "no source of randomness");
				goto out;
			}
			if (id == 0)
				continue;
			put_be64(idb, id);
			dbt(&k, idb, 8);
			dbt(&v, b.data, b.len);
			r = st->db[DB_META]->put(st->db[DB_META], txn, &k, &v,
			    DB_NOOVERWRITE);
			if (r == DB_KEYEXIST)
				continue;
			if (r)
				goto out;
			it->id = id;
			dbt(&v, it->data, it->len);
			if ((r = st->db[DB_DATA]->put(st->db[DB_DATA], txn, &k,
			    &v, 0)) != 0)
				goto out;
			break;
		}
		if (!it->id) {
			r = pp_err_set(e, PP_ESTORE, "cannot choose an id");
			break;
		}
	}
	if (r == DB_NOTFOUND)
		r = 0;
out:
	pp_buf_release(&b);
	return r;
}

int
pp_store_put(struct pp_store *st, struct pp_store_item *items, size_t n,
    struct pp_err *e)
{
	struct put_op op = { items, n, pp_now_ns() };
	size_t i;

	for (i = 0; i < n; i++)
		if (!items[i].rec.owner || !pp_store_valid_owner(items[i].rec.owner))
			return pp_err_set(e, PP_EINVAL, "bad owner");
	if (n == 0)
		return 0;
	return run(st, put_body, &op, NEED(DB_WLOCK) | NEED_RECORDS, 0,
	    "cannot store the profiles", e);
}

/*
 * Selection: a skip scan over bytime. Keys are grouped by (owner, program,
 * type); inside a group they are ordered by start time. The scan seeks
 * (DB_SET_RANGE) to the first key that can match and, when a key falls
 * outside the filter, seeks past the rest of its group instead of reading
 * it.
 */

/* An index key: NUL-terminated parts (MAX_PARTS at most), then the
 * start time (8). bytime's parts are owner, program, type; byattr's
 * owner, attribute, program, type. */

struct skey {
	const unsigned char *part[MAX_PARTS];
	size_t len[MAX_PARTS];
	uint64_t start;
};

static int
parse_skey(const DBT *k, int nparts, struct skey *s)
{
	const unsigned char *p = k->data, *end, *z;
	int i;

	if (k->size < (size_t)nparts + 8)
		return -1;
	end = p + k->size - 8;
	for (i = 0; i < nparts; i++) {
		if (!(z = memchr(p, 0, end - p)))
			return -1;
		s->part[i] = p;
		s->len[i] = z - p;
		p = z + 1;
	}
	if (p != end)
		return -1;
	s->start = get_be64(end);
	return 0;
}

/* Compares bytes a (n) with string b like the key order does. */
static int
cmp_part(const unsigned char *a, size_t n, const char *b)
{
	size_t bn = strlen(b);
	int c = memcmp(a, b, n < bn ? n : bn);

	if (c)
		return c;
	return n < bn ? -1 : n > bn;
}

/* Builds a seek key: the parts given, each ending in term (0, or 1 for
 * "past everything with this prefix"), then the time when time_too. */
static int
seek_key(struct pp_buf *b, const unsigned char *const *parts,
    const size_t *lens, int nparts, int last_term, int time_too,
    uint64_t t)
{
	unsigned char tb[8];
	int i;

	b->len = 0;
	for (i = 0; i < nparts; i++) {
		unsigned char term = i + 1 == nparts ? (unsigned char)last_term : 0;

		pp_buf_add(b, parts[i], lens[i]);
		pp_buf_add(b, &term, 1);
	}
	if (time_too) {
		put_be64(tb, t);
		pp_buf_add(b, tb, 8);
	}
	return b->oom ? PP_ENOMEM : 0;
}

static int
has_label(const struct pp_store_rec *r, const char *l)
{
	size_t i;

	for (i = 0; i < r->nlabels; i++)
		if (strcmp(r->labels[i], l) == 0)
			return 1;
	return 0;
}

/* 1 when list ("a/u,b/u") has an entry whose name is name. */
static int
has_sample_type(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		if (strncmp(p, name, n) == 0 && p[n] == '/')
			return 1;
		if (!(p = strchr(p, ',')))
			break;
		p++;
	}
	return 0;
}

static int
rec_matches(const struct pp_store_filter *f, const struct pp_store_rec *r)
{
	size_t i;

	if (f->host && strcmp(f->host, r->host) != 0)
		return 0;
	if (f->sample_type && !has_sample_type(r->sample_types, f->sample_type))
		return 0;
	for (i = 0; i < f->nlabels; i++)
		if (!has_label(r, f->labels[i]))
			return 0;
	return 1;
}

struct scan {
	const struct pp_store_filter *f;
	/* The index walked, its parts, and the value the filter wants of
	 * each (NULL: any); attr is byattr's "h" host or "l" label. */
	int index, nparts, chosen;
	const char *want[MAX_PARTS];
	char *attr;
	/* for select: */
	int (*fn)(const struct pp_store_rec *, void *);
	void *arg;
	size_t emitted;
	int stopped;
	/* Where a restarted scan resumes: after this key and id. */
	struct pp_buf last;
	unsigned char last_id[8];
	int have_last;
	/* for expire: */
	size_t batch, deleted_now;
	int delete;
};

/* What to do with the key under the cursor. */
enum { TAKE, SEEK, DONE };

static int
classify(const struct scan *sc, const struct skey *s, struct pp_buf *b,
    int *rc)
{
	const struct pp_store_filter *f = sc->f;
	uint64_t since = f->since_ns ? (uint64_t)f->since_ns ^ TIME_BIAS : 0;
	uint64_t until = f->until_ns ? (uint64_t)f->until_ns ^ TIME_BIAS :
	    UINT64_MAX;
	const unsigned char *parts[MAX_PARTS];
	size_t lens[MAX_PARTS];
	int i, c, fixed = 1;	/* every part before i is the filter's */

	*rc = 0;
	memcpy(parts, s->part, sizeof(parts));
	memcpy(lens, s->len, sizeof(lens));
	for (i = 0; i < sc->nparts; i++) {
		const char *w = sc->want[i];

		if (!w) {
			fixed = 0;
			continue;
		}
		if ((c = cmp_part(s->part[i], s->len[i], w)) == 0)
			continue;
		if (c > 0) {
			if (fixed)
				return DONE;
			/* The next value of the last part not fixed. */
			*rc = seek_key(b, parts, lens, i, 1, 0, 0);
			return SEEK;
		}
		parts[i] = (const unsigned char *)w;
		lens[i] = strlen(w);
		*rc = seek_key(b, parts, lens, i + 1, 0, 0, 0);
		return SEEK;
	}
	if (s->start < since) {
		*rc = seek_key(b, parts, lens, sc->nparts, 0, 1, since);
		return SEEK;
	}
	if (s->start > until) {
		if (fixed)
			return DONE;
		*rc = seek_key(b, parts, lens, sc->nparts, 1, 0, 0);
		return SEEK;
	}
	return TAKE;
}

/* 1 when byattr.db is known to hold every record (then cached). */
static int
attr_complete(struct pp_store *st, DB_TXN *txn)
{
	unsigned char one;

	if (!st->attr_done && st->db[DB_BYATTR] && st->db[DB_FLAGS] &&
	    flag_get(st, txn, attr_done_key, &one, 1, 0) == 1)
		st->attr_done = 1;
	return st->attr_done;
}

/* Picks the index for the filter, once per select: byattr when it asks
 * for a host or labels (the host first: usually the rarer) and byattr
 * holds every record, else bytime. */
static int
choose_index(struct pp_store *st, DB_TXN *txn, struct scan *sc)
{
	const struct pp_store_filter *f = sc->f;
	int n = 0;

	sc->chosen = 1;
	sc->want[n++] = f->owner;
	if ((f->host || f->nlabels) && !sc->delete &&
	    attr_complete(st, txn)) {
		if (asprintf(&sc->attr, "%c%s", f->host ? 'h' : 'l',
		    f->host ? f->host : f->labels[0]) < 0) {
			sc->attr = NULL;
			return PP_ENOMEM;
		}
		sc->want[n++] = sc->attr;
	}
	sc->index = n == 2 ? DB_BYATTR : DB_BYTIME;
	sc->want[n++] = f->program;
	sc->want[n++] = f->type;
	sc->nparts = n;
	return 0;
}

static int
scan_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct scan *sc = arg;
	const struct pp_store_filter *f = sc->f;
	struct pp_buf seek;
	DBC *c = NULL;
	DBT k, pk, v;
	u_int32_t op = DB_SET_RANGE;
	int r, rc;

	/* Before any "goto out", which frees what they hold. */
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	k.flags = DB_DBT_REALLOC;
	/* Memory of our own (DB_THREAD, for replication's threads). */
	pk.flags = v.flags = DB_DBT_REALLOC;
	pp_buf_init(&seek);
	sc->deleted_now = 0;
	if (sc->delete && (r = writer_lock(st, txn)) != 0)
		return r;
	if (!sc->chosen && (r = choose_index(st, txn, sc)) < 0) {
		r = pp_err_set(e, r, "out of memory");
		goto out;
	}
	if (sc->have_last) {
		pp_buf_add(&seek, sc->last.data, sc->last.len);
	} else {
		/* At the first key with the parts the filter fixes first. */
		const unsigned char *parts[MAX_PARTS];
		size_t lens[MAX_PARTS];
		int n;

		for (n = 0; n < sc->nparts && sc->want[n]; n++) {
			parts[n] = (const unsigned char *)sc->want[n];
			lens[n] = strlen(sc->want[n]);
		}
		if (n)
			seek_key(&seek, parts, lens, n, 0, 0, 0);
		else
			pp_buf_add(&seek, "", 1);
	}
	if (seek.oom) {
		r = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = st->db[sc->index]->cursor(st->db[sc->index], txn, &c,
	    sc->delete ? 0 : DB_READ_COMMITTED)) != 0)
		goto out;
	for (;;) {
		struct skey s;
		struct pp_store_rec rec;
		int what;

		if (op == DB_SET_RANGE) {
			void *d = realloc(k.data, seek.len ? seek.len : 1);

			if (!d) {
				r = pp_err_set(e, PP_ENOMEM, "out of memory");
				break;
			}
			k.data = d;
			memcpy(k.data, seek.data, seek.len);
			k.size = (u_int32_t)seek.len;
			k.ulen = (u_int32_t)seek.len;
		}
		r = c->pget(c, &k, &pk, &v, op);
		if (r)
			break;
		op = DB_NEXT;
		if (parse_skey(&k, sc->nparts, &s) < 0)
			continue;
		what = classify(sc, &s, &seek, &rc);
		if (rc < 0) {
			r = pp_err_set(e, rc, "out of memory");
			break;
		}
		if (what == DONE)
			break;
		if (what == SEEK) {
			op = DB_SET_RANGE;
			continue;
		}
		if (sc->have_last) {
			/* Resuming: skip what the interrupted pass returned. */
			int cmp = k.size == sc->last.len ? memcmp(k.data,
			    sc->last.data, k.size) : 1;

			if (cmp == 0 && pk.size == 8 &&
			    memcmp(pk.data, sc->last_id, 8) <= 0)
				continue;
			sc->have_last = 0;
		}
		if ((rc = rec_decode(v.data, v.size, &rec, &st->labels,
		    &st->labels_cap)) < 0) {
			if (rc == PP_ENOMEM) {
				r = pp_err_set(e, rc, "out of memory");
				break;
			}
			continue;	/* not ours to judge: skip it */
		}
		rec.id = pk.size == 8 ? get_be64(pk.data) : 0;
		if (!rec_matches(f, &rec))
			continue;
		if (sc->delete) {
			if (sc->deleted_now == sc->batch)
				break;
			if ((r = c->del(c, 0)) != 0)
				break;
			if ((r = st->db[DB_DATA]->del(st->db[DB_DATA], txn,
			    &pk, 0)) != 0 && r != DB_NOTFOUND)
				break;
			r = 0;
			sc->deleted_now++;
			continue;
		}
		sc->last.len = 0;
		pp_buf_add(&sc->last, k.data, k.size);
		if (sc->last.oom) {
			r = pp_err_set(e, PP_ENOMEM, "out of memory");
			break;
		}
		memcpy(sc->last_id, pk.data, 8);
		sc->emitted++;
		if ((sc->stopped = sc->fn(&rec, sc->arg)) != 0)
			break;
		/* have_last is set only for a restart; see run_scan */
		if (f->limit && sc->emitted >= f->limit)
			break;
	}
	if (r == DB_NOTFOUND)
		r = 0;
out:
	if (c)
		c->close(c);
	free(k.data);
	free(pk.data);
	free(v.data);
	pp_buf_release(&seek);
	return r;
}

/* A restarted select resumes after the last record it returned. */
static int
scan_select_body(struct pp_store *st, DB_TXN *txn, void *arg,
    struct pp_err *e)
{
	struct scan *sc = arg;
	int r;

	sc->have_last = sc->emitted > 0;
	r = scan_body(st, txn, arg, e);
	return r;
}

int
pp_store_select(struct pp_store *st, const struct pp_store_filter *f,
    int (*fn)(const struct pp_store_rec *rec, void *arg), void *arg,
    struct pp_err *e)
{
	struct scan sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.f = f;
	sc.fn = fn;
	sc.arg = arg;
	pp_buf_init(&sc.last);
	r = run(st, scan_select_body, &sc, NEED(DB_META) | NEED(DB_BYTIME) |
	    (f->host || f->nlabels ? NEED(DB_FLAGS) | NEED(DB_BYATTR) : 0),
	    DB_READ_COMMITTED,
	    "cannot read the profiles", e);
	pp_buf_release(&sc.last);
	free(sc.attr);
	if (r == 0 && sc.stopped)
		return sc.stopped;
	return r;
}

struct get_op {
	const char *owner;
	uint64_t id;
	DBT meta, data;
};

static int
get_body(struct pp_store *st, DB_TXN *txn, void *arg, struct pp_err *e)
{
	struct get_op *op = arg;
	unsigned char idb[8];
	struct pp_store_rec rec;
	DBT k;
	int r;

	free(op->meta.data);
	free(op->data.data);
	memset(&op->meta, 0, sizeof(op->meta));
	memset(&op->data, 0, sizeof(op->data));
	op->meta.flags = op->data.flags = DB_DBT_MALLOC;
	put_be64(idb, op->id);
	dbt(&k, idb, 8);
	r = st->db[DB_META]->get(st->db[DB_META], txn, &k, &op->meta, 0);
	if (r == DB_NOTFOUND)
		return pp_err_set(e, PP_ENOTFOUND, "no such profile");
	if (r)
		return r;
	if (rec_decode(op->meta.data, op->meta.size, &rec, NULL, NULL) < 0)
		return pp_err_set(e, PP_ESTORE, "a damaged record");
	if (op->owner && strcmp(op->owner, rec.owner) != 0)
		return pp_err_set(e, PP_ENOTFOUND, "no such profile");
	r = st->db[DB_DATA]->get(st->db[DB_DATA], txn, &k, &op->data, 0);
	if (r == DB_NOTFOUND)
		return pp_err_set(e, PP_ENOTFOUND, "no such profile");
	return r;
}

int
pp_store_get(struct pp_store *st, const char *owner, uint64_t id,
    void **data, size_t *len, struct pp_store_rec *rec, struct pp_err *e)
{
	struct get_op op;
	int r;

	memset(&op, 0, sizeof(op));
	op.owner = owner;
	op.id = id;
	*data = NULL;
	*len = 0;
	r = run(st, get_body, &op, NEED(DB_META) | NEED(DB_DATA),
	    DB_READ_COMMITTED, "cannot read the profile", e);
	if (r == 0 && rec) {
		free(st->recbuf);
		st->recbuf = op.meta.data;
		op.meta.data = NULL;
		if ((r = rec_decode(st->recbuf, op.meta.size, rec, &st->labels,
		    &st->labels_cap)) < 0)
			pp_err_set(e, r, "a damaged record");
		rec->id = id;
	}
	if (r == 0) {
		*data = op.data.data;
		*len = op.data.size;
		op.data.data = NULL;
	}
	free(op.meta.data);
	free(op.data.data);
	return r;
}

struct attr_build {
	size_t batch, now;	/* records a transaction, in this one */
	uint64_t done;		/* in those committed */
	int finished;
};

/* One batch of byattr.db's build for a store made before it: stores the
 * next batch of records again, unchanged, which adds their keys to
 * byattr.db (Berkeley DB keeps the indexes of what is stored); lock.db
 * keeps where it got to, and the mark once all are in. Records stored
 * meanwhile by others are indexed as they come. */
static int
attr_build_body(struct pp_store *st, DB_TXN *txn, void *arg,
    struct pp_err *e)
{
	struct attr_build *ab = arg;
	unsigned char next[8], one;
	DBC *c = NULL;
	DBT k, v;
	size_t n = 0;
	int r;

	(void)e;
	ab->finished = 0;
	ab->now = 0;
	if ((r = writer_lock(st, txn)) != 0)
		return r;
	if ((r = flag_get(st, txn, attr_done_key, &one, 1, 0)) == 1) {
		ab->finished = 1;
		return 0;
	}
	if (r != 0 || (r = flag_get(st, txn, attr_next_key, next, 8,
	    DB_RMW)) < 0 || r > 1)
		return r;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.flags = v.flags = DB_DBT_REALLOC;
	if (r == 1) {
		if (!(k.data = malloc(8)))
			return ENOMEM;
		memcpy(k.data, next, 8);
		k.size = 8;
	}
	if ((r = st->db[DB_META]->cursor(st->db[DB_META], txn, &c, 0)) != 0)
		goto out;
	for (r = c->get(c, &k, &v, k.size ? DB_SET_RANGE : DB_FIRST);
	    r == 0 && n < ab->batch;
	    r = c->get(c, &k, &v, DB_NEXT), n++) {
		DBT pk, pv;

		dbt(&pk, k.data, k.size);
		dbt(&pv, v.data, v.size);
		if ((r = st->db[DB_META]->put(st->db[DB_META], txn, &pk, &pv,
		    0)) != 0)
			break;
	}
	if (r == DB_NOTFOUND) {
		/* All in: mark it, forget the place. */
		if ((r = flag_put(st, txn, attr_done_key, "1", 1)) == 0) {
			DBT kd;

			dbt(&kd, attr_next_key, strlen(attr_next_key));
			r = st->db[DB_FLAGS]->del(st->db[DB_FLAGS], txn, &kd, 0);
			if (r == DB_NOTFOUND)
				r = 0;
			ab->finished = 1;
		}
	} else if (r == 0 && k.size == 8) {
		/* k is the first record of the next batch. */
		r = flag_put(st, txn, attr_next_key, k.data, 8);
	}
	if (r == 0)
		ab->now = n;
out:
	if (c)
		c->close(c);
	free(k.data);
	free(v.data);
	return r;
}

int
pp_store_index(struct pp_store *st, size_t batch, uint64_t *indexed,
    struct pp_err *e)
{
	struct attr_build ab;
	int r;

	*indexed = 0;
	if (st->attr_done)
		return 0;
	memset(&ab, 0, sizeof(ab));
	ab.batch = batch ? batch : 1000;
	do {
		r = run(st, attr_build_body, &ab, NEED(DB_WLOCK) |
		    NEED(DB_FLAGS) | NEED_RECORDS, 0, "cannot index the "
		    "profiles by host and label", e);
		if (r == 0)
			ab.done += ab.now;
	} while (r == 0 && !ab.finished && !st->no_attr);
	if (r == 0 && ab.finished)
		st->attr_done = 1;
	*indexed = ab.done;
	return r;
}

int
pp_store_expire(struct pp_store *st, const char *owner, int64_t before_ns,
    size_t batch, uint64_t *deleted, struct pp_err *e)
{
	struct pp_store_filter f;
	struct scan sc;
	uint64_t indexed;
	int r;

	*deleted = 0;
	/* Berkeley DB deletes a record's keys from every index, and fails
	 * on one that lacks them: byattr.db must hold every record first. */
	if ((r = pp_store_index(st, batch, &indexed, e)) < 0)
		return r;
	memset(&f, 0, sizeof(f));
	f.owner = owner;
	f.until_ns = before_ns - 1;
	if (f.until_ns == 0)
		f.until_ns = -1;
	memset(&sc, 0, sizeof(sc));
	sc.f = &f;
	sc.delete = 1;
	sc.batch = batch ? batch : 1000;
	pp_buf_init(&sc.last);
	do {
		r = run(st, scan_body, &sc, NEED(DB_WLOCK) | NEED_RECORDS, 0,
		    "cannot delete old profiles", e);
		if (r == 0)
			*deleted += sc.deleted_now;
	} while (r == 0 && sc.deleted_now == sc.batch);
	pp_buf_release(&sc.last);
	free(sc.attr);
	return r;
}

void
pp_store_id_str(uint64_t id, char buf[17])
{
	snprintf(buf, 17, "%016llx", (unsigned long long)id);
}

int
pp_store_id_parse(const char *s, uint64_t *id)
{
	unsigned char b[8];

	if (strlen(s) != 16 || pp_unhex(s, b, 8) < 0)
		return -1;
	*id = get_be64(b);
	return *id ? 0 : -1;
}

/*
 * Replication (repl.h): the short-lived processes' side, then the
 * replication process.
 */

/* What the replication process's main loop logs, from Berkeley DB's
 * threads (events, messages) to the main one. */
#define REPL_EVENTS	64
#define REPL_MESSAGE	DB_EVENT_NO_SUCH_EVENT

struct repl_events {
	pthread_mutex_t mu;
	struct {
		u_int32_t ev;
		int eid;
		char msg[200];	/* a Berkeley DB message, when ev is
				 * REPL_MESSAGE */
	} q[REPL_EVENTS];
	size_t head, n, lost;
	int quiet;		/* closing a panicked environment: its
				 * complaints say nothing new */
	int panicked;		/* said so already */
	char last[200];		/* the last message, not repeated */
	/* Sites (by id) connected as far as the log says: subordinate
	 * processes' connections come and go without a line each. */
	unsigned char up[64];
};

static void
repl_queue(struct pp_store *st, u_int32_t ev, int eid, const char *msg)
{
	struct repl_events *q = st->events;
	size_t i;

	pthread_mutex_lock(&q->mu);
	if (msg) {
		if (strcmp(q->last, msg) == 0)
			goto out;
		snprintf(q->last, sizeof(q->last), "%s", msg);
	}
	if (q->n == REPL_EVENTS) {
		q->lost++;
		goto out;
	}
	i = (q->head + q->n++) % REPL_EVENTS;
	q->q[i].ev = ev;
	q->q[i].eid = eid;
	snprintf(q->q[i].msg, sizeof(q->q[i].msg), "%s", msg ? msg : "");
out:
	pthread_mutex_unlock(&q->mu);
}

static void
repl_errcall(struct pp_store *st, const char *msg)
{
	/* The master offers every file of the directory to a replica that
	 * copies the store, and says which are no databases: ours. */
	if ((strstr(msg, "unexpected file type or format") &&
	    strstr(msg, PP_REPL_FILE)) || st->events->quiet)
		return;
	repl_queue(st, REPL_MESSAGE, -1, msg);
}

/* Berkeley DB's events, in whichever thread they happen: the committing
 * one for PERM_FAILED, replication's own for most. */
static void
repl_event(DB_ENV *env, u_int32_t ev, void *info)
{
	struct pp_store *st = env->app_private;
	int eid = -1;

	switch (ev) {
	case DB_EVENT_PANIC:
	case DB_EVENT_REG_PANIC:
		st->panic = 1;
		break;
	case DB_EVENT_REP_PERM_FAILED:
		st->perm_failed = 1;
		break;
	case DB_EVENT_REP_NEWMASTER:
		/* At once: the catching up (and a lockout) may begin before
		 * the replication process's next look (repl_watch). */
		if (st->events && st->lockfd >= 0)
			pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_SYNCING,
			    F_WRLCK, 0);
		/* FALLTHROUGH */
	case DB_EVENT_REP_CONNECT_ESTD:
		if (info)
			eid = *(int *)info;
		break;
	case DB_EVENT_REP_CONNECT_BROKEN:
	case DB_EVENT_REP_CONNECT_TRY_FAILED:
		if (info)
			eid = ((DB_REPMGR_CONN_ERR *)info)->eid;
		break;
	}
	if (st->events && ev != DB_EVENT_REP_CONNECT_TRY_FAILED)
		repl_queue(st, ev, eid, NULL);
}

static int
not_master(enum pp_repl_role role, const char *master, struct pp_err *e)
{
	if (role == PP_REPL_REPLICA && master[0])
		return pp_err_set(e, PP_EREADONLY, "this site is a replica; "
		    "the master is %s", master);
	if (role == PP_REPL_REPLICA)
		return pp_err_set(e, PP_EREADONLY, "this site is a replica and "
		    "knows no master now (an election may be running)");
	if (role == PP_REPL_MASTER)
		return pp_err_set(e, PP_EREADONLY, "this site stopped being "
		    "the master");
	return pp_err_set(e, PP_EREADONLY, "replication is not running at "
	    "this site (pp-recv replicate)");
}

static int
repl_not_master(struct pp_store *st, struct pp_err *e)
{
	char master[300];

	return not_master(pp_repl_role(st->env, master, sizeof(master)),
	    master, e);
}

/*
 * A process that opens a database on the master writes to the log (the
 * file's registration), and Berkeley DB then starts replication's
 * connections in it by itself ("autostart"), without the
 * acknowledgements a write needs coming back on them in time; a
 * repmgr_start after that starts a second set of threads, and closing the
 * environment crashes. So a short-lived process joins replication as a
 * subordinate process (repmgr_start) as soon as it opens the environment
 * of the master, before any database: its commits then go to the
 * replicas on its own connections and wait for their acknowledgements.
 *
 * The first process to call repmgr_start becomes the replication
 * process: call it only while the replication process runs and has
 * started (then this one is a subordinate), never while it starts or
 * stops (the gate).
 */
static void
repl_join(struct pp_store *st)
{
	char master[300];
	int r, running;

	if (pp_repl_role(st->env, master, sizeof(master)) != PP_REPL_MASTER)
		return;
	if (st->lockfd < 0 &&
	    (st->lockfd = pp_repl_lock_open(st->dir, 0, NULL)) < 0) {
		st->lockfd = -1;
		return;
	}
	if (pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_GATE, F_RDLCK, 1) < 0)
		return;
	running = pp_repl_running(st->lockfd);
	if (running && pp_repl_role(st->env, master, sizeof(master)) ==
	    PP_REPL_MASTER) {
		/* No threads of its own: a subordinate has none. */
		r = st->env->repmgr_start(st->env, 0, DB_REP_CLIENT);
		st->repl_joined = r == DB_REP_IGNORE;
	}
	pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_GATE, F_UNLCK, 0);
}

/* Before a write: this site must be the master, and this process must
 * have joined replication when it opened the environment. */
static int
repl_writable(struct pp_store *st, struct pp_err *e)
{
	char master[300];
	enum pp_repl_role role;

	if ((role = pp_repl_role(st->env, master, sizeof(master))) !=
	    PP_REPL_MASTER)
		return not_master(role, master, e);
	if (!st->repl_joined) {
		if (st->lockfd < 0 || !pp_repl_running(st->lockfd))
			return not_master(PP_REPL_NONE, "", e);
		return pp_err_set(e, PP_EREADONLY, "this site became the "
		    "master only now");
	}
	/* Its own connections to the replicas take a moment: a commit
	 * sent before they are up would not be acknowledged. If they do
	 * not come, the commit says so. */
	pp_repl_await_connections(st->env, st->repl, st->repl->ack_timeout);
	pp_repl_nodelay();
	return 0;
}

/* The commit is on the master's disk, but not (known to be) on enough
 * replicas: it might not survive the master. Not done, then: the client
 * sends it again, and the store's idempotence makes that harmless. */
static int
repl_unacknowledged(struct pp_store *st, struct pp_err *e)
{
	return pp_err_set(e, PP_ESTORE, "store '%s': the replicas did not "
	    "acknowledge the commit within %.1f s (ack %s)", st->dir,
	    st->repl->ack_timeout / 1e6, st->repl->ack_name);
}

static void
repl_log(const struct pp_store_repl_opts *o, int error, const char *fmt,
    ...)
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

/* Logs what the queue holds. */
static void
repl_drain(struct pp_store *st, const struct pp_store_repl_opts *o)
{
	struct repl_events *q = st->events;

	for (;;) {
		u_int32_t ev;
		int eid;
		char msg[200], site[300];
		size_t lost;

		pthread_mutex_lock(&q->mu);
		if (q->n == 0) {
			lost = q->lost;
			q->lost = 0;
			pthread_mutex_unlock(&q->mu);
			if (lost)
				repl_log(o, 1, "%zu replication events were "
				    "not logged", lost);
			return;
		}
		ev = q->q[q->head].ev;
		eid = q->q[q->head].eid;
		memcpy(msg, q->q[q->head].msg, sizeof(msg));
		q->head = (q->head + 1) % REPL_EVENTS;
		q->n--;
		pthread_mutex_unlock(&q->mu);
		if (eid >= 0 && st->env)
			pp_repl_site_name(st->env, eid, site, sizeof(site));
		else
			snprintf(site, sizeof(site), "a site");
		switch (ev) {
		case REPL_MESSAGE:
			repl_log(o, 0, "berkeley db: %s", msg);
			break;
		case DB_EVENT_PANIC:
		case DB_EVENT_REG_PANIC:
			/* Every call that meets the panic says it. */
			if (!q->panicked)
				repl_log(o, 1, "the environment must be opened "
				    "again (recovered by another process)");
			q->panicked = 1;
			break;
		/* CLIENT, MASTER, NEWMASTER: repl_watch says what the role
		 * is (events come only with changes, not after a restart). */
		case DB_EVENT_REP_ELECTED:
			repl_log(o, 0, "this site won an election");
			break;
		case DB_EVENT_REP_ELECTION_FAILED:
			repl_log(o, 1, "an election failed; trying again");
			break;
		case DB_EVENT_REP_MASTER_FAILURE:
			repl_log(o, 1, "lost the master; an election in %.1f s "
			    "unless it is back", st->repl->failover_delay / 1e6);
			break;
		case DB_EVENT_REP_DUPMASTER:
			repl_log(o, 1, "another site is the master too; this "
			    "one steps down for an election");
			break;
		case DB_EVENT_REP_STARTUPDONE:
			repl_log(o, 0, "in step with the master");
			break;
		case DB_EVENT_REP_INIT_DONE:
			repl_log(o, 0, "copied the store from the master");
			break;
		case DB_EVENT_REP_CONNECT_ESTD:
			if (eid >= 0 && eid < (int)sizeof(q->up)) {
				if (q->up[eid])
					break;
				q->up[eid] = 1;
			}
			repl_log(o, 0, "connected to %s", site);
			break;
		case DB_EVENT_REP_CONNECT_BROKEN:
			if (eid >= 0 && eid < (int)sizeof(q->up)) {
				if (!q->up[eid] || (st->env &&
				    pp_repl_site_connected(st->env, eid)))
					break;
				q->up[eid] = 0;
			}
			repl_log(o, 0, "lost the connection to %s", site);
			break;
		case DB_EVENT_REP_PERM_FAILED:
			repl_log(o, 1, "a commit was not acknowledged in time");
			break;
		case DB_EVENT_REP_JOIN_FAILURE:
			repl_log(o, 1, "cannot join the group");
			break;
		case DB_EVENT_REP_LOCAL_SITE_REMOVED:
			repl_log(o, 1, "this site was removed from the group");
			break;
		case DB_EVENT_WRITE_FAILED:
			repl_log(o, 1, "a write failed");
			break;
		}
	}
}

/* Starts replication (with the gate closed): the environment, this site's
 * configuration, Berkeley DB's replication manager as the replication
 * process, which holds an election. */
static int
repl_start(struct pp_store *st, struct pp_err *e)
{
	int r;

	if (!st->env && (r = open_handles(st, e)) < 0)
		return r;
	st->errmsg[0] = '\0';
	if ((r = pp_repl_configure(st->env, st->repl)) != 0)
		return db_fail(st, e, r, "cannot configure replication");
	r = st->env->repmgr_start(st->env, 3, DB_REP_ELECTION);
	if (r == DB_REP_IGNORE)
		return pp_err_set(e, PP_EBUSY, "store '%s': another process "
		    "is the replication process already", st->dir);
	if (r != 0)
		return db_fail(st, e, r, "cannot start replication");
	return 0;
}

/*
 * Elections (pp_repl_configure turns Berkeley DB's own off): a site calls
 * one when it has had no master it can reach for the failover delay. The
 * master's replication process starts again whenever another process at
 * its site dies in the store (the next one recovers it), and meanwhile
 * the others wait for it instead of electing one of themselves. Started
 * again, a site that was the master calls the election itself, as soon
 * as it reaches every other site and has heard of no master for a moment
 * (a master that the others elected while it was away would have said
 * so): it has all the log the others have and more (what recovery
 * wrote), so it wins, and the group keeps its master. Unless recovery
 * lost records that a process interrupted in a transaction had sent
 * them already (repl.h): then one of them has more log, and wins.
 */
#define REPL_PROBE_NS	(200 * 1000000LL)

struct repl_elect {
	int on;			/* Berkeley DB's elections are on */
	int master;		/* this site was the master at the last look */
	int restarted;		/* ... and started again as it */
	int64_t since;		/* no master since then; 0: there is one */
	int64_t reached;	/* restarted: reached every site then */
};

static void
repl_elect(struct pp_store *st, const struct pp_store_repl_opts *o,
    struct repl_elect *el)
{
	int64_t now = pp_now_ns(), due;

	if (pp_repl_has_master(st->env)) {
		el->since = el->reached = 0;
		el->restarted = 0;
		if (el->on && pp_repl_elections(st->env, 0) == 0)
			el->on = 0;
		return;
	}
	if (!el->since)
		el->since = now;
	if (el->on)
		return;
	due = el->since + (int64_t)st->repl->failover_delay * 1000;
	if (el->restarted && !el->reached &&
	    pp_repl_connected(st->env) >= st->repl->npeers)
		el->reached = now;
	if (el->reached && el->reached + REPL_PROBE_NS < due)
		due = el->reached + REPL_PROBE_NS;
	if (now < due || pp_repl_elections(st->env, 1) != 0)
		return;
	el->on = 1;
	if (el->reached)
		repl_log(o, 0, "calling an election: this site was the master "
		    "before its replication process started again");
	else
		repl_log(o, 0, "no master for %.1f s: calling an election",
		    (now - el->since) / 1e9);
}

/* Watches replication until told to stop, or until another process's
 * recovery makes the environment unusable. */
static void
repl_watch(struct pp_store *st, const struct pp_store_repl_opts *o,
    struct repl_elect *el)
{
	int64_t last_ckp = pp_now_ns();
	char said[400] = "";

	while (!*o->stop && !st->panic) {
		struct timespec ts = { 0, 100 * 1000000 };
		char master[300], role[400];
		enum pp_repl_role r;
		int master_now;

		nanosleep(&ts, NULL);	/* a signal cuts it short */
		repl_drain(st, o);
		/* Connections come and go (subordinate processes'). */
		pp_repl_nodelay();
		if (*o->stop || st->panic)
			break;
		r = pp_repl_role(st->env, master, sizeof(master));
		master_now = r == PP_REPL_MASTER;
		/* None: not started yet, or recovered under us. */
		if (r != PP_REPL_NONE)
			el->master = master_now;
		repl_elect(st, o, el);
		pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_SYNCING,
		    pp_repl_syncing(st->env) ? F_WRLCK : F_UNLCK, 0);
		if (r == PP_REPL_MASTER)
			snprintf(role, sizeof(role), "this site is the master");
		else if (r == PP_REPL_REPLICA && master[0])
			snprintf(role, sizeof(role), "this site is a replica; "
			    "the master is %s", master);
		else if (r == PP_REPL_REPLICA)
			snprintf(role, sizeof(role), "this site is a replica; "
			    "no master is known");
		else
			role[0] = '\0';
		if (role[0] && strcmp(role, said) != 0) {
			repl_log(o, 0, "%s", role);
			memcpy(said, role, sizeof(said));
		}
		/* Checkpoints are the master's to write (the replicas
		 * follow its): keep recovery short. */
		if (master_now && pp_now_ns() - last_ckp > 30 * 1000000000LL) {
			st->env->txn_checkpoint(st->env, CKP_KBYTES, 0, 0);
			last_ckp = pp_now_ns();
		}
	}
	repl_drain(st, o);
}

int
pp_store_replicate(const char *dir, const struct pp_store_repl_opts *o,
    struct pp_err *e)
{
	struct pp_store *st;
	struct repl_events *q = NULL;
	struct repl_elect el;
	int rc;

	memset(&el, 0, sizeof(el));
	if (!(st = calloc(1, sizeof(*st))) || !(st->dir = strdup(dir)) ||
	    !(q = calloc(1, sizeof(*q)))) {
		if (st)
			free(st->dir);
		free(st);
		return pp_err_set(e, PP_ENOMEM, "out of memory");
	}
	st->lockfd = -1;
	pthread_mutex_init(&q->mu, NULL);
	if ((rc = pp_repl_conf_load(dir, &st->repl, e)) < 0)
		goto out;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = pp_err_set(e, PP_ESTORE, "cannot create '%s': %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((rc = pp_crypto_init()) < 0) {
		pp_err_set(e, rc, "no source of randomness");
		goto out;
	}
	if ((rc = st->lockfd = pp_repl_lock_open(dir, 1, e)) < 0) {
		st->lockfd = -1;
		goto out;
	}
	if (pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_RUNNING, F_WRLCK,
	    0) < 0) {
		rc = errno == EAGAIN || errno == EACCES ? pp_err_set(e,
		    PP_EBUSY, "another replication process runs for the "
		    "store '%s'", dir) : pp_err_set(e, PP_EIO, "cannot lock "
		    "'%s/%s': %s", dir, PP_REPL_LOCK, strerror(errno));
		goto out;
	}
	st->events = q;
	el.restarted = pp_repl_take_note(st->lockfd);
	pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_GATE, F_WRLCK, 1);
	rc = repl_start(st, e);
	pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_GATE, F_UNLCK, 0);
	if (rc < 0)
		goto out;
	repl_log(o, 0, "replicating the store '%s' as %s:%u, one of %zu sites "
	    "(priority %u, ack %s)", dir, st->repl->local.host,
	    st->repl->local.port, st->repl->npeers + 1, st->repl->priority,
	    st->repl->ack_name);
	repl_watch(st, o, &el);
	/* Stopping replication closes the gate too: no process may join
	 * while nobody is the replication process. */
	pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_GATE, F_WRLCK, 1);
	repl_drain(st, o);
	q->quiet = st->panic;
	close_handles(st);
	pp_repl_lock_byte(st->lockfd, PP_REPL_BYTE_GATE, F_UNLCK, 0);
	repl_drain(st, o);
	/* Berkeley DB keeps the regions of a panicked environment mapped
	 * (some 80 MB) for as long as the process lives: a new process
	 * must take over. */
	if (st->panic && !*o->stop) {
		repl_log(o, 1, "starting replication again%s", el.master ?
		    " (this site was the master)" : "");
		pp_repl_note_master(st->lockfd, el.master);
		rc = PP_STORE_RESTART;
	} else {
		repl_log(o, 0, "replication stopped");
		rc = 0;
	}
out:
	if (st->env)
		repl_drain(st, o);
	close_handles(st);
	st->events = NULL;
	pthread_mutex_destroy(&q->mu);
	free(q);
	if (st->lockfd >= 0)
		close(st->lockfd);	/* releases its locks */
	pp_repl_conf_free(st->repl);
	free(st->dir);
	free(st);
	return rc;
}
