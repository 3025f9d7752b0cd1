#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl.h"
#include "util.h"

#define CONF_MAX	65536	/* bytes of a configuration file */
#define SECONDS_MAX	3600.0

static const struct {
	const char *name;
	int policy;
} acks[] = {
	{ "quorum", DB_REPMGR_ACKS_QUORUM },
	{ "all", DB_REPMGR_ACKS_ALL },
	{ "one", DB_REPMGR_ACKS_ONE },
	{ "none", DB_REPMGR_ACKS_NONE },
};

void
pp_repl_conf_free(struct pp_repl_conf *c)
{
	if (!c)
		return;
	free(c->peers);
	free(c);
}

/* HOST:PORT, or [HOST]:PORT for an IPv6 address. */
static int
parse_addr(const char *s, struct pp_repl_addr *a)
{
	const char *colon, *host = s, *hend;
	char *end;
	unsigned long port;

	if (*s == '[') {
		host = s + 1;
		if (!(hend = strchr(host, ']')) || hend[1] != ':')
			return -1;
		colon = hend + 1;
	} else {
		if (!(colon = strrchr(s, ':')))
			return -1;
		hend = colon;
		if (memchr(s, ':', (size_t)(colon - s)))
			return -1;	/* IPv6 wants brackets */
	}
	if (hend == host || (size_t)(hend - host) >= sizeof(a->host))
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535 ||
	    colon[1] == '-' || colon[1] == '+')
		return -1;
	memcpy(a->host, host, (size_t)(hend - host));
	a->host[hend - host] = '\0';
	a->port = (unsigned)port;
	return 0;
}

static int
same_addr(const struct pp_repl_addr *a, const struct pp_repl_addr *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* Seconds (a fraction allowed) to microseconds. */
static int
parse_seconds(const char *s, uint32_t *us)
{
	char *end;
	double v;

	if (*s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0 && v <= SECONDS_MAX))
		return -1;
	*us = (uint32_t)(v * 1e6 + 0.5);
	return 0;
}

int
pp_repl_conf_parse(const char *text, size_t len, const char *name,
    struct pp_repl_conf **out, struct pp_err *e)
{
	struct pp_repl_conf *c;
	size_t cap = 0, i, lineno = 0;
	const char *p = text, *end = text + len;
	int have_local = 0, rc = 0;

	*out = NULL;
	if (!(c = calloc(1, sizeof(*c))))
		return pp_err_set(e, PP_ENOMEM, "out of memory");
	c->priority = 100;
	c->ack = DB_REPMGR_ACKS_QUORUM;
	c->ack_name = "quorum";
	c->ack_timeout = 5000000;
	c->election_timeout = 2000000;
	c->election_retry = 5000000;
	c->connection_retry = 5000000;
	c->heartbeat = 5000000;
	c->failover_delay = 2000000;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512], *key, *arg, *extra, *hash, *save;

		lineno++;
		if (n >= sizeof(line)) {
			rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: too long",
			    name, lineno);
			goto out;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		if (!(key = strtok_r(line, " \t\r", &save)))
			continue;
		arg = strtok_r(NULL, " \t\r", &save);
		extra = arg ? strtok_r(NULL, " \t\r", &save) : NULL;
		if (!arg || extra) {
			rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: '%s' "
			    "takes one value", name, lineno, key);
			goto out;
		}
		if (strcmp(key, "local") == 0 || strcmp(key, "peer") == 0) {
			struct pp_repl_addr a;

			if (parse_addr(arg, &a) < 0) {
				rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: "
				    "'%s' is not HOST:PORT", name, lineno, arg);
				goto out;
			}
			if (key[0] == 'l') {
				if (have_local) {
					rc = pp_err_set(e, PP_EINVAL, "'%s' line "
					    "%zu: a second 'local'", name,
					    lineno);
					goto out;
				}
				c->local = a;
				have_local = 1;
				continue;
			}
			if (pp_grow(&c->peers, &cap, c->npeers + 1,
			    sizeof(*c->peers)) < 0) {
				rc = pp_err_set(e, PP_ENOMEM, "out of memory");
				goto out;
			}
			c->peers[c->npeers++] = a;
		} else if (strcmp(key, "priority") == 0) {
			char *pe;
			unsigned long v;

			errno = 0;
			v = strtoul(arg, &pe, 10);
			if (errno || *pe || pe == arg || arg[0] == '-' ||
			    v > 1000000) {
				rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: "
				    "priority wants 0 to 1000000, not '%s'",
				    name, lineno, arg);
				goto out;
			}
			c->priority = (unsigned)v;
		} else if (strcmp(key, "ack") == 0) {
			for (i = 0; i < sizeof(acks) / sizeof(acks[0]); i++)
				if (strcmp(arg, acks[i].name) == 0)
					break;
			if (i == sizeof(acks) / sizeof(acks[0])) {
				rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: ack "
				    "wants quorum, all, one or none, not '%s'",
				    name, lineno, arg);
				goto out;
			}
			c->ack = acks[i].policy;
			c->ack_name = acks[i].name;
		} else {
			static const char *const keys[] = {
				"ack-timeout", "election-timeout",
				"election-retry", "connection-retry",
				"heartbeat", "failover-delay",
			};
			uint32_t *vals[] = {
				&c->ack_timeout, &c->election_timeout,
				&c->election_retry, &c->connection_retry,
				&c->heartbeat, &c->failover_delay,
			};
			uint32_t us;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (strcmp(key, keys[i]) == 0)
					break;
			if (i == sizeof(keys) / sizeof(keys[0])) {
				rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: "
				    "unknown directive '%s'", name, lineno,
				    key);
				goto out;
			}
			/* Heartbeats and the delay may be 0. */
			if (parse_seconds(arg, &us) < 0 || (us == 0 &&
			    vals[i] != &c->heartbeat &&
			    vals[i] != &c->failover_delay)) {
				rc = pp_err_set(e, PP_EINVAL, "'%s' line %zu: %s "
				    "wants seconds (more than 0, at most "
				    "3600), not '%s'", name, lineno, key, arg);
				goto out;
			}
			*vals[i] = us;
		}
	}
	if (!have_local) {
		rc = pp_err_set(e, PP_EINVAL, "'%s': no 'local HOST:PORT' line",
		    name);
		goto out;
	}
	for (i = 0; i < c->npeers; i++) {
		size_t j;

		if (same_addr(&c->peers[i], &c->local)) {
			rc = pp_err_set(e, PP_EINVAL, "'%s': peer %s:%u is the "
			    "local site", name, c->local.host, c->local.port);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (same_addr(&c->peers[i], &c->peers[j])) {
				rc = pp_err_set(e, PP_EINVAL, "'%s': peer "
				    "%s:%u is listed twice", name,
				    c->peers[i].host, c->peers[i].port);
				goto out;
			}
	}
	*out = c;
	c = NULL;	/* transferred */
out:
	pp_repl_conf_free(c);
	return rc;
}

int
pp_repl_conf_load(const char *dir, struct pp_repl_conf **out,
    struct pp_err *e)
{
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	FILE *fp = NULL;
	int rc;

	*out = NULL;
	if (asprintf(&path, "%s/%s", dir, PP_REPL_FILE) < 0)
		return pp_err_set(e, PP_ENOMEM, "out of memory");
	if (!(fp = fopen(path, "re"))) {
		rc = errno == ENOENT ? pp_err_set(e, PP_ENOTFOUND, "no '%s'",
		    path) : pp_err_set(e, PP_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (!(buf = malloc(CONF_MAX + 1))) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	len = fread(buf, 1, CONF_MAX + 1, fp);
	if (ferror(fp)) {
		rc = pp_err_set(e, PP_EIO, "cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (len > CONF_MAX) {
		rc = pp_err_set(e, PP_EINVAL, "'%s' is larger than %d bytes",
		    path, CONF_MAX);
		goto out;
	}
	rc = pp_repl_conf_parse(buf, len, path, out, e);
out:
	if (fp)
		fclose(fp);
	free(buf);
	free(path);
	return rc;
}

static int
add_site(DB_ENV *env, const struct pp_repl_addr *a, int local)
{
	DB_SITE *s;
	int r, t;

	if ((r = env->repmgr_site(env, a->host, a->port, &s, 0)) != 0)
		return r;
	if (local)
		r = s->set_config(s, DB_LOCAL_SITE, 1);
	/* Every site knows the whole group from the start: none has to
	 * join through a master that may not be elected yet. */
	if (r == 0)
		r = s->set_config(s, DB_LEGACY, 1);
	t = s->close(s);
	return r ? r : t;
}

int
pp_repl_configure(DB_ENV *env, const struct pp_repl_conf *c)
{
	uint32_t monitor = c->heartbeat > UINT32_MAX / 3 ? UINT32_MAX :
	    c->heartbeat * 3;
	size_t i;
	int r;

	if ((r = add_site(env, &c->local, 1)) != 0)
		return r;
	for (i = 0; i < c->npeers; i++)
		if ((r = add_site(env, &c->peers[i], 0)) != 0)
			return r;
	/*
	 * No NOWAIT: with it, a process that meets replication's lockout (a
	 * replica rolling its log back to a new master's, or copying its
	 * store) gets DB_REP_LOCKOUT at once, but Berkeley DB 5.3 then
	 * gives back a count of calls in progress that a DB_ENV->open (or
	 * ->close) that failed so never took: the count goes below 0, and
	 * the lockout, which waits for it to reach 0, never ends (the
	 * replica stops applying the master's log and voting). Without it
	 * such a process waits for the lockout to end; and the short-lived
	 * ones do not open a replica's environment while it catches up
	 * with its master (PP_REPL_BYTE_SYNCING), so few meet one.
	 *
	 * The request minimum of 1 us: a process that joins as a
	 * subordinate writes to the log before its connections are up
	 * (replication's own bookkeeping), so its first records reach a
	 * replica after a gap, which the replica asks the master to fill
	 * only when a message arrives more than the minimum after it (by
	 * default 40 ms: then the next message may be a heartbeat, and the
	 * first commit waited for as long).
	 *
	 * Elections off: Berkeley DB would hold one the moment the
	 * master's connection closes, and only counting the sites that
	 * remain. But the master's replication process closes its
	 * connections for a moment whenever another process at its site
	 * dies and makes the next one recover the store (it must start
	 * again), and the others would have elected a new master before it
	 * is back. The replication process turns elections on itself once
	 * the failover delay has passed without a master.
	 */
	if ((r = env->rep_set_config(env, DB_REP_CONF_NOWAIT, 0)) != 0 ||
	    (r = pp_repl_elections(env, 0)) != 0 ||
	    (r = env->rep_set_request(env, 1, 1280000)) != 0 ||
	    (r = env->rep_set_priority(env, c->priority)) != 0 ||
	    (r = env->repmgr_set_ack_policy(env, c->ack)) != 0 ||
	    (r = env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT,
	    c->ack_timeout)) != 0 ||
	    (r = env->rep_set_timeout(env, DB_REP_ELECTION_TIMEOUT,
	    c->election_timeout)) != 0 ||
	    (r = env->rep_set_timeout(env, DB_REP_ELECTION_RETRY,
	    c->election_retry)) != 0 ||
	    (r = env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY,
	    c->connection_retry)) != 0 ||
	    (r = env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND,
	    c->heartbeat)) != 0 ||
	    (r = env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR,
	    monitor)) != 0)
		return r;
	return 0;
}

int
pp_repl_elections(DB_ENV *env, int on)
{
	return env->rep_set_config(env, DB_REPMGR_CONF_ELECTIONS, on);
}

void
pp_repl_site_name(DB_ENV *env, int eid, char *buf, size_t size)
{
	DB_SITE *s = NULL;
	const char *host;
	u_int port;

	if (eid >= 0 && env->repmgr_site_by_eid(env, eid, &s) == 0 &&
	    s->get_address(s, &host, &port) == 0)
		snprintf(buf, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u",
		    host, port);
	else
		snprintf(buf, size, "site %d", eid);
	if (s)
		s->close(s);
}

enum pp_repl_role
pp_repl_role(DB_ENV *env, char *master, size_t size)
{
	DB_REP_STAT *sp = NULL;
	enum pp_repl_role role = PP_REPL_NONE;
	int eid = DB_EID_INVALID;

	if (size)
		master[0] = '\0';
	if (env->rep_stat(env, &sp, 0) != 0 || !sp)
		return PP_REPL_NONE;
	if (sp->st_status == DB_REP_MASTER)
		role = PP_REPL_MASTER;
	else if (sp->st_status == DB_REP_CLIENT)
		role = PP_REPL_REPLICA;
	eid = (int)sp->st_master;
	free(sp);
	if (size && role != PP_REPL_NONE && eid >= 0)
		pp_repl_site_name(env, eid, master, size);
	return role;
}

/* How many sites env has connections to: all (eid -1), or the one. */
static size_t
connections(DB_ENV *env, int eid)
{
	DB_REPMGR_SITE *list = NULL;
	u_int n = 0, i;
	size_t up = 0;

	if (env->repmgr_site_list(env, &n, &list) != 0 || !list)
		return 0;
	for (i = 0; i < n; i++)
		if (eid < 0 || list[i].eid == eid)
			up += list[i].status == DB_REPMGR_CONNECTED;
	free(list);
	return up;
}

int
pp_repl_site_connected(DB_ENV *env, int eid)
{
	return eid >= 0 && connections(env, eid) > 0;
}

size_t
pp_repl_connected(DB_ENV *env)
{
	return connections(env, -1);
}

int
pp_repl_syncing(DB_ENV *env)
{
	DB_REP_STAT *sp = NULL;
	int syncing;

	if (env->rep_stat(env, &sp, 0) != 0 || !sp)
		return 0;
	syncing = sp->st_status == DB_REP_CLIENT && !sp->st_startup_complete &&
	    (int)sp->st_master >= 0;
	free(sp);
	return syncing;
}

int
pp_repl_has_master(DB_ENV *env)
{
	DB_REP_STAT *sp = NULL;
	int eid, has;

	if (env->rep_stat(env, &sp, 0) != 0 || !sp)
		return 0;
	eid = (int)sp->st_master;
	has = sp->st_status == DB_REP_MASTER ||
	    (sp->st_status == DB_REP_CLIENT && eid >= 0 &&
	    pp_repl_site_connected(env, eid));
	free(sp);
	return has;
}

/* How many replicas must acknowledge a commit under c's policy: what
 * Berkeley DB's repmgr counts (repmgr_net.c), for a group of c's size. */
static size_t
acks_needed(const struct pp_repl_conf *c)
{
	size_t n = c->npeers;

	switch (c->ack) {
	case DB_REPMGR_ACKS_NONE:
		return 0;
	case DB_REPMGR_ACKS_ALL:
		return n;
	case DB_REPMGR_ACKS_QUORUM:
		return n > 1 ? n / 2 : n;
	default:
		return n ? 1 : 0;
	}
}

int
pp_repl_await_connections(DB_ENV *env, const struct pp_repl_conf *c,
    uint32_t timeout_us)
{
	size_t need = acks_needed(c);
	uint32_t waited = 0;

	for (;;) {
		if (pp_repl_connected(env) >= need)
			return 1;
		if (waited >= timeout_us)
			return 0;
		usleep(1000);
		waited += 1000;
	}
}

void
pp_repl_nodelay(void)
{
	int fd, one = 1;

	for (fd = 3; fd < 256; fd++) {
		int type, domain;
		socklen_t len = sizeof(type);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM)
			continue;
		len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    (domain != AF_INET && domain != AF_INET6))
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

int
pp_repl_lock_open(const char *dir, int create, struct pp_err *e)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, PP_REPL_LOCK);
	fd = create ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) :
	    open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_err_set(e, PP_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
	return fd;
}

int
pp_repl_lock_byte(int fd, int byte, int type, int wait)
{
	struct flock fl;
	int r;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	do
		r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
	while (r < 0 && errno == EINTR && wait);
	return r;
}

int
pp_repl_held(int fd, int byte)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return 0;
	return fl.l_type != F_UNLCK;
}

int
pp_repl_running(int fd)
{
	return pp_repl_held(fd, PP_REPL_BYTE_RUNNING);
}

#define NOTE_MASTER	"master\n"

void
pp_repl_note_master(int fd, int master)
{
	if (ftruncate(fd, 0) < 0 || !master)
		return;
	if (pwrite(fd, NOTE_MASTER, sizeof(NOTE_MASTER) - 1, 0) < 0) {
		/* no note: the next process waits the failover delay */
	}
}

int
pp_repl_take_note(int fd)
{
	char buf[sizeof(NOTE_MASTER)];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	pp_repl_note_master(fd, 0);
	/* Half a note (a failed write) is none. */
	return n == (ssize_t)sizeof(NOTE_MASTER) - 1 &&
	    memcmp(buf, NOTE_MASTER, (size_t)n) == 0;
}
