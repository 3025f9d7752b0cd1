/* pp-agent-dump: a receiver for the preload agent's records, for tests.
 *
 *   pp-agent-dump [-q] [-l linger_ms] [-s nap_us] [-t timeout_s] NAME
 *
 * Listens on the abstract SOCK_SEQPACKET socket "\0NAME" (what pp-record
 * puts in PP_AGENT_SOCKET), accepts any number of connections and prints
 * one line a record, prefixed by the connection's number and its pid:
 *
 *   1 PID HELLO ppid=P version=1 hz=100 heap_rate=524288 cpu_off=0 exe=E
 *   1 PID OBJECT start=0x.. limit=0x.. offset=0x.. build_id=HEX path=P
 *   1 PID SAMPLE cpu tid=T value=V count=C addr=0x.. trunc=0 n=N 0x.. 0x..
 *   1 PID FREE n=N 0x.. 0x..
 *   1 PID DROPPED samples=S frees=F
 *   1 PID BAD reason                     (a malformed message or record)
 *   1 PID CLOSE msgs=M bytes=B samples=cpu/alloc frees=F dropped=S/F
 *
 * STACK and ALLOC records (heap samples naming a stack defined earlier)
 * print as the SAMPLE alloc line they stand for.
 *
 * With -q only the HELLO, DROPPED, BAD and CLOSE lines: for measuring the
 * agent's cost without the cost of printing. With -s, after reading what
 * was there it naps nap_us before polling again: a receiver asleep in poll
 * is woken by every message, which the sender pays for. It exits 0 once the last
 * connection has closed and none came for linger_ms (default 300) after
 * at least one was seen, or 1 after timeout_s (default 60) seconds.
 *
 * To watch a program:
 *
 *   t/helper/pp-agent-dump x > out & sleep 0.1
 *   PP_AGENT_SOCKET=x LD_PRELOAD=$PWD/libpp-agent.so ./prog
 *   wait
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "proto.h"

#define MAX_CONN	1024

#define STACK_BUCKETS	4096

/* A stack a thread defined with a STACK record. */
struct stack {
	struct stack *next;
	uint32_t tid, id;
	struct pp_rec_sample s;	/* kind, truncated, nframes, tid, pc[] */
};

struct conn {
	int fd;
	int id;
	int hello;
	uint32_t pid;
	uint64_t msgs, bytes, cpu, alloc, frees, drop_s, drop_f;
	struct stack **stacks;	/* STACK_BUCKETS chains, or NULL */
};

static int quiet;
static char *msgbuf;

static void
usage(void)
{
	fprintf(stderr, "usage: pp-agent-dump [-q] [-l linger_ms] [-s nap_us] "
	    "[-t timeout_s] name\n");
	exit(2);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
bad(struct conn *c, const char *why)
{
	printf("%d %u BAD %s\n", c->id, c->pid, why);
}

static void
print_sample(struct conn *c, const struct pp_rec_sample *s)
{
	int i;

	if (s->kind == PP_SAMPLE_CPU)
		c->cpu++;
	else
		c->alloc++;
	if (quiet)
		return;
	printf("%d %u SAMPLE %s tid=%u value=%llu count=%llu addr=0x%llx "
	    "trunc=%u n=%u", c->id, c->pid,
	    s->kind == PP_SAMPLE_CPU ? "cpu" :
	    s->kind == PP_SAMPLE_ALLOC ? "alloc" : "?",
	    s->tid, (unsigned long long)s->value,
	    (unsigned long long)s->count, (unsigned long long)s->addr,
	    s->truncated, s->nframes);
	for (i = 0; i < s->nframes; i++)
		printf(" 0x%llx", (unsigned long long)s->pc[i]);
	putchar('\n');
}

static struct stack **
stack_slot(struct conn *c, uint32_t tid, uint32_t id)
{
	struct stack **p;

	if (c->stacks == NULL &&
	    (c->stacks = calloc(STACK_BUCKETS, sizeof(*c->stacks))) == NULL) {
		perror("pp-agent-dump");
		exit(1);
	}
	p = &c->stacks[(tid * 257u + id) % STACK_BUCKETS];
	while (*p != NULL && ((*p)->tid != tid || (*p)->id != id))
		p = &(*p)->next;
	return p;
}

static void
define_stack(struct conn *c, const struct pp_rec_stack *r)
{
	struct stack **p = stack_slot(c, r->tid, r->id), *st;

	if (*p != NULL) {
		st = *p;
		*p = st->next;
		free(st);
	}
	if ((st = malloc(sizeof(*st) + 8 * (size_t)r->nframes)) == NULL) {
		perror("pp-agent-dump");
		exit(1);
	}
	memset(st, 0, sizeof(*st));
	st->tid = r->tid;
	st->id = r->id;
	st->s.kind = r->kind;
	st->s.truncated = r->truncated;
	st->s.nframes = r->nframes;
	st->s.tid = r->tid;
	memcpy(st->s.pc, r->pc, 8 * (size_t)r->nframes);
	st->next = *p;
	*p = st;
}

static void
free_stacks(struct conn *c)
{
	struct stack *st, *next;
	size_t i;

	if (c->stacks == NULL)
		return;
	for (i = 0; i < STACK_BUCKETS; i++)
		for (st = c->stacks[i]; st != NULL; st = next) {
			next = st->next;
			free(st);
		}
	free(c->stacks);
	c->stacks = NULL;
}

static void
record(struct conn *c, const struct pp_rec *h)
{
	const struct pp_rec_hello *he;
	const struct pp_rec_object *o;
	const struct pp_rec_sample *s;
	const struct pp_rec_free *f;
	const struct pp_rec_dropped *d;
	uint32_t i;

	if (!c->hello && h->type != PP_REC_HELLO) {
		bad(c, "first record is not HELLO");
		c->hello = 1;
	}
	switch (h->type) {
	case PP_REC_HELLO:
		he = (const void *)h;
		if (h->len < sizeof(*he) ||
		    h->len < sizeof(*he) + he->exe_len + 1 ||
		    he->exe[he->exe_len] != '\0') {
			bad(c, "short HELLO");
			return;
		}
		if (c->hello)
			bad(c, "second HELLO");
		c->hello = 1;
		c->pid = he->pid;
		printf("%d %u HELLO ppid=%u version=%u hz=%u heap_rate=%llu "
		    "cpu_off=%u exe=%s\n", c->id, c->pid, he->ppid,
		    he->version, he->hz, (unsigned long long)he->heap_rate,
		    he->cpu_off, he->exe);
		break;
	case PP_REC_OBJECT:
		o = (const void *)h;
		if (h->len < sizeof(*o) || o->build_id_len > 40 ||
		    h->len < sizeof(*o) + o->path_len + 1 ||
		    o->path[o->path_len] != '\0') {
			bad(c, "short OBJECT");
			return;
		}
		if (quiet)
			break;
		printf("%d %u OBJECT start=0x%llx limit=0x%llx offset=0x%llx "
		    "build_id=", c->id, c->pid, (unsigned long long)o->start,
		    (unsigned long long)o->limit,
		    (unsigned long long)o->offset);
		for (i = 0; i < o->build_id_len; i++)
			printf("%02x", o->build_id[i]);
		printf(" path=%s\n", o->path);
		break;
	case PP_REC_SAMPLE:
		s = (const void *)h;
		if (h->len < sizeof(*s) ||
		    h->len != sizeof(*s) + 8 * (size_t)s->nframes ||
		    s->nframes == 0 || s->nframes > PP_MAX_FRAMES) {
			bad(c, "bad SAMPLE length");
			return;
		}
		print_sample(c, s);
		break;
	case PP_REC_STACK: {
		const struct pp_rec_stack *r = (const void *)h;

		if (h->len < sizeof(*r) ||
		    h->len != sizeof(*r) + 8 * (size_t)r->nframes ||
		    r->nframes == 0 || r->nframes > PP_MAX_FRAMES ||
		    r->id >= PP_STACK_IDS) {
			bad(c, "bad STACK");
			return;
		}
		define_stack(c, r);
		break;
	}
	case PP_REC_ALLOC: {
		const struct pp_rec_alloc *r = (const void *)h;
		struct stack *st;

		if (h->len != sizeof(*r)) {
			bad(c, "bad ALLOC length");
			return;
		}
		if ((st = *stack_slot(c, r->tid, r->id)) == NULL) {
			bad(c, "ALLOC on a stack never defined");
			return;
		}
		st->s.value = r->value;
		st->s.count = 1;
		st->s.addr = r->addr;
		print_sample(c, &st->s);
		break;
	}
	case PP_REC_FREE:
		f = (const void *)h;
		if (h->len < sizeof(*f) ||
		    h->len != sizeof(*f) + 8 * (size_t)f->n) {
			bad(c, "bad FREE length");
			return;
		}
		c->frees += f->n;
		if (quiet)
			break;
		printf("%d %u FREE n=%u", c->id, c->pid, f->n);
		for (i = 0; i < f->n; i++)
			printf(" 0x%llx", (unsigned long long)f->addr[i]);
		putchar('\n');
		break;
	case PP_REC_DROPPED:
		d = (const void *)h;
		if (h->len != sizeof(*d)) {
			bad(c, "bad DROPPED length");
			return;
		}
		c->drop_s += d->samples;
		c->drop_f += d->frees;
		printf("%d %u DROPPED samples=%llu frees=%llu\n", c->id, c->pid,
		    (unsigned long long)d->samples,
		    (unsigned long long)d->frees);
		break;
	default:
		bad(c, "unknown record type");
		break;
	}
}

static void
message(struct conn *c, const char *buf, size_t len)
{
	const struct pp_rec *h;
	size_t off;

	c->msgs++;
	c->bytes += len;
	for (off = 0; off < len; off += h->len) {
		h = (const struct pp_rec *)(buf + off);
		if (len - off < sizeof(*h) || h->len < sizeof(*h) ||
		    h->len % 8 != 0 || h->len > len - off) {
			bad(c, "bad record length");
			return;
		}
		record(c, h);
	}
}

/* Returns 0 while the connection is open, -1 once it closed. */
static int
drain(struct conn *c)
{
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = msgbuf;
		iov.iov_len = PP_MAX_MSG;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
		if (mh.msg_flags & MSG_TRUNC)
			bad(c, "message over PP_MAX_MSG");
		else
			message(c, msgbuf, (size_t)n);
	}
	printf("%d %u CLOSE msgs=%llu bytes=%llu samples=%llu/%llu "
	    "frees=%llu dropped=%llu/%llu\n", c->id, c->pid,
	    (unsigned long long)c->msgs, (unsigned long long)c->bytes,
	    (unsigned long long)c->cpu, (unsigned long long)c->alloc,
	    (unsigned long long)c->frees, (unsigned long long)c->drop_s,
	    (unsigned long long)c->drop_f);
	free_stacks(c);
	close(c->fd);
	return -1;
}

int
main(int argc, char **argv)
{
	static struct conn conn[MAX_CONN];
	static struct pollfd pfd[MAX_CONN + 1];
	struct sockaddr_un sun;
	socklen_t len;
	uint64_t linger = 300, timeout = 60, nap = 0, deadline, idle_since = 0;
	struct timespec ts;
	size_t namelen;
	int ch, lfd, fd, i, n, nconn = 0, seen = 0, rcv = 1 << 22;

	pp_progname = "pp-agent-dump";
	while ((ch = getopt(argc, argv, "l:qs:t:")) != -1) {
		switch (ch) {
		case 'l':
			linger = strtoull(optarg, NULL, 10);
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			nap = strtoull(optarg, NULL, 10);
			break;
		case 't':
			timeout = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	namelen = strlen(argv[optind]);
	if (namelen == 0 || namelen >= sizeof(sun.sun_path) - 1)
		pp_die_usage("bad socket name '%s'", argv[optind]);
	if ((msgbuf = malloc(PP_MAX_MSG)) == NULL)
		pp_die("out of memory");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, argv[optind], namelen);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + namelen);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		pp_die("cannot create socket: %s", strerror(errno));
	if (bind(lfd, (struct sockaddr *)&sun, len) == -1 ||
	    listen(lfd, 128) == -1)
		pp_die("cannot listen on '%s': %s", argv[optind],
		    strerror(errno));

	deadline = now_ms() + timeout * 1000;
	for (;;) {
		if (seen && nconn == 0) {
			if (idle_since == 0)
				idle_since = now_ms();
			if (now_ms() - idle_since >= linger)
				break;
		} else
			idle_since = 0;
		if (now_ms() >= deadline) {
			fflush(stdout);
			pp_die("timed out with %d connections open", nconn);
		}
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nconn; i++) {
			pfd[i + 1].fd = conn[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if ((n = poll(pfd, (nfds_t)nconn + 1, 50)) == -1) {
			if (errno == EINTR)
				continue;
			pp_die("poll: %s", strerror(errno));
		}
		/* Connections first, so that a message is never read after a
		 * CLOSE that the same poll reported. */
		for (i = nconn - 1; i >= 0; i--) {
			if (pfd[i + 1].revents == 0)
				continue;
			if (drain(&conn[i]) == -1)
				conn[i] = conn[--nconn];
		}
		if (pfd[0].revents & POLLIN) {
			if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
				continue;
			if (nconn == MAX_CONN) {
				close(fd);
				continue;
			}
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv,
			    sizeof(rcv));
			memset(&conn[nconn], 0, sizeof(conn[nconn]));
			conn[nconn].fd = fd;
			conn[nconn].id = ++seen;
			nconn++;
		}
		if (fflush(stdout) == EOF)
			pp_die("cannot write output: %s", strerror(errno));
		if (nap != 0 && n > 0) {
			ts.tv_sec = (time_t)(nap / 1000000);
			ts.tv_nsec = (long)(nap % 1000000) * 1000;
			nanosleep(&ts, NULL);
		}
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		pp_die("cannot write output: %s", strerror(errno));
	return 0;
}
