/* Replication: a store that is one site of a Berkeley DB replication
 * group (repmgr). The store (store.h) uses this; nothing else needs to.
 *
 * A store is replicated when its directory holds the file "replication":
 * one directive a line, '#' to the end of a line is a comment, blank
 * lines are ignored, times are seconds (a fraction allowed: 0.5).
 *
 *   local HOST:PORT      this site's replication address (required): its
 *                        replication process listens there
 *   peer HOST:PORT       another site of the group, one line each: every
 *                        site lists all the others
 *   priority N           0-1000000 (default 100): an election prefers,
 *                        among the sites with the most log, the highest;
 *                        0: this site is never the master
 *   ack POLICY           which replicas must have a commit on disk before
 *                        it counts as done: "quorum" (default: enough that
 *                        any election majority has it), "all", "one",
 *                        "none"
 *   ack-timeout S        how long a commit waits for them (default 5)
 *   election-timeout S   how long one election may take (default 2)
 *   election-retry S     the pause before trying a failed one again (5)
 *   connection-retry S   the pause before connecting again to a site
 *                        that could not be reached (default 5)
 *   heartbeat S          the master says it is alive every S seconds; a
 *                        replica that hears nothing for 3 S takes it for
 *                        lost (default 5; 0: no heartbeats)
 *   failover-delay S     how long a site that lost the master (or has
 *                        none) waits for it before it calls an election
 *                        (default 2; 0: at once): time for the master's
 *                        replication process to start again after
 *                        another process's recovery and be elected again
 *
 * Every site lists the same group. The group is the one the sites list
 * when it first starts (each site is a Berkeley DB "legacy" site: no
 * site has to join through a master); changing it later needs
 * Berkeley DB's own procedures.
 *
 * The processes of a site share its environment as Berkeley DB's rules
 * for multi-process replication say: one long-running process, "pp-recv
 * replicate", is the replication process (it listens on the local
 * address, holds the connections, votes, applies the master's log on a
 * replica, writes the master's checkpoints); the short-lived processes
 * (pp-recv under inetd, pp-query) read the environment like any other,
 * and one that opens the master's environment joins replication at once
 * as a subordinate process, which sends its own log records to the
 * replicas and waits for their acknowledgements (store.c says why at
 * once).
 *
 * A process that dies in the environment (SIGKILL, a crash, its deadline)
 * makes the next one to open it recover it, and the replication process
 * must then start again, in a new process: its connections close. So
 * that one dead pp-recv does not cost the group its master, Berkeley
 * DB's own elections are off (it would hold one the moment the master's
 * connections close): a site calls one only when it has had no master
 * for the failover delay, and the master's replication process, started
 * again, calls one at once, which it wins with the most log of the group.
 * Unless the others have more: Berkeley DB sends a master's log records
 * to the replicas before it writes them to its own disk (a commit's too,
 * while it waits for their acknowledgements), and recovery loses what a
 * process interrupted in a transaction had not written; then the replica
 * with the most log wins, as it must. Nothing acknowledged is lost
 * either way: a commit is on the master's disk before it is answered.
 *
 * The file DIR/replication.lock tells them apart: the replication process
 * holds a write lock on its byte 0 while it runs (the short-lived ones
 * test it), and byte 1 is a gate: the replication process write-locks it
 * while it starts or stops replication, a process joining as subordinate
 * read-locks it meanwhile, so that no short-lived process can ever be
 * taken for the replication process. Byte 2 is held (write-locked) by
 * the replication process while its site, a replica, catches up with a
 * master (Berkeley DB may lock the environment out meanwhile: repl.c
 * says why no other process should open it then). Its content is a note
 * from one replication process to the next (pp_repl_note_master).
 */
#ifndef PP_REPL_H
#define PP_REPL_H

#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "error.h"

#define PP_REPL_FILE	"replication"
#define PP_REPL_LOCK	"replication.lock"

struct pp_repl_addr {
	char host[256];
	unsigned port;
};

struct pp_repl_conf {
	struct pp_repl_addr local;
	struct pp_repl_addr *peers;
	size_t npeers;
	unsigned priority;
	int ack;			/* DB_REPMGR_ACKS_* */
	const char *ack_name;		/* "quorum" */
	/* Microseconds, as Berkeley DB takes them: */
	uint32_t ack_timeout, election_timeout, election_retry,
	    connection_retry, heartbeat, failover_delay;
};

/* Reads dir/replication into *out (free it with pp_repl_conf_free).
 * Returns 0, PP_ENOTFOUND (no such file: the store is not replicated),
 * PP_EINVAL (e names the file, the line and what is wrong), PP_EIO,
 * PP_ENOMEM. */
int pp_repl_conf_load(const char *dir, struct pp_repl_conf **out,
    struct pp_err *e);

/* Parses the text of a configuration; name is for messages. */
int pp_repl_conf_parse(const char *text, size_t len, const char *name,
    struct pp_repl_conf **out, struct pp_err *e);

void pp_repl_conf_free(struct pp_repl_conf *c);

/* Configures an open environment as this site of c's group: the sites
 * (all "legacy", see above), the priority, the ack policy and the
 * timeouts, with Berkeley DB's own elections off (the replication
 * process calls them after the failover delay: pp_repl_elections). For
 * the replication process, before DB_ENV->repmgr_start. Returns 0 or a
 * Berkeley DB error. */
int pp_repl_configure(DB_ENV *env, const struct pp_repl_conf *c);

/* Turns Berkeley DB's elections on (on: 1) or off. Turned on while no
 * master is known, they start one at once; they stay on, retrying, until
 * one is known. Returns 0 or a Berkeley DB error. */
int pp_repl_elections(DB_ENV *env, int on);

/* This site's part in the group now. */
enum pp_repl_role {
	PP_REPL_NONE,		/* replication is not running in this
				 * environment (yet, or any more) */
	PP_REPL_MASTER,
	PP_REPL_REPLICA,
};

/* The role of env's site; master (size bytes) gets the master's address
 * "HOST:PORT", or "" when no master is known. */
enum pp_repl_role pp_repl_role(DB_ENV *env, char *master, size_t size);

/* The address of the site with Berkeley DB's id eid into buf, or
 * "site EID" when it is not known. */
void pp_repl_site_name(DB_ENV *env, int eid, char *buf, size_t size);

/* 1 when env has a connection to the site eid now. */
int pp_repl_site_connected(DB_ENV *env, int eid);

/* How many of the other sites env has connections to now. */
size_t pp_repl_connected(DB_ENV *env);

/* 1 when this site has a master it can reach: it is the master, or a
 * replica connected to the master it knows. */
int pp_repl_has_master(DB_ENV *env);

/* 1 when this site is a replica that knows a master and has not caught
 * up with it yet (Berkeley DB's start-up is not done: it may roll its
 * log back, or copy the master's store). */
int pp_repl_syncing(DB_ENV *env);

/* Waits (up to timeout_us) until env's own connections reach as many
 * replicas as c's ack policy needs acknowledgements from. Returns 1 when
 * they do, 0 when the time ran out. */
int pp_repl_await_connections(DB_ENV *env, const struct pp_repl_conf *c,
    uint32_t timeout_us);

/* Sets TCP_NODELAY on the process's TCP sockets (among its first 256
 * descriptors): replication's, which Berkeley DB leaves to Nagle's
 * algorithm, so that a commit waited some 40 ms for each acknowledgement
 * (a small message held back until the previous one was acknowledged).
 * A listening socket passes it on to the connections it accepts. */
void pp_repl_nodelay(void);

/* The lock file: opens (with create: creates) dir/replication.lock.
 * Returns the descriptor, or PP_EIO (e says why). */
int pp_repl_lock_open(const char *dir, int create, struct pp_err *e);

#define PP_REPL_BYTE_RUNNING	0
#define PP_REPL_BYTE_GATE	1
#define PP_REPL_BYTE_SYNCING	2

/* Locks one byte of the lock file (an open file description lock):
 * type is F_RDLCK, F_WRLCK or F_UNLCK; wait: block until granted.
 * Returns 0, or -1 with errno (EAGAIN: held by another). */
int pp_repl_lock_byte(int fd, int byte, int type, int wait);

/* 1 when some process holds a lock on the lock file's byte. */
int pp_repl_held(int fd, int byte);

/* 1 when a replication process holds the lock file's byte 0. */
int pp_repl_running(int fd);

/* The lock file's content is a note from a replication process to the
 * next one: "master" when it ended to start again (after another
 * process's recovery) while its site was the master. Only the holder of
 * byte 0 writes it; fd must be open for writing. pp_repl_note_master
 * writes it (master: 1) or clears it; pp_repl_take_note returns 1 when it
 * said "master", and clears it. */
void pp_repl_note_master(int fd, int master);
int pp_repl_take_note(int fd);

#endif
