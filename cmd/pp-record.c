/* pp-record: run a program under pp's preload agent and write its CPU and
 * heap profiles into the spool (or a directory) every interval and when it
 * ends. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/proto.h"
#include "msg.h"
#include "record.h"
#include "spool.h"
#include "symbolize.h"

#ifndef PP_LIBDIR
#define PP_LIBDIR "/usr/local/lib/pp"
#endif

#define BUSY_MSGS	4		/* messages a round that make it busy */
#define BUSY_PAUSE_NS	1000000		/* and the pause after it */

enum { OPT_CPU = 256, OPT_HEAP, OPT_SPOOL_MAX, OPT_SYSTEM_LINES };

static const struct option longopts[] = {
	{ "cpu", no_argument, NULL, OPT_CPU },
	{ "heap", no_argument, NULL, OPT_HEAP },
	{ "help", no_argument, NULL, 'h' },
	{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
	{ "system-lines", no_argument, NULL, OPT_SYSTEM_LINES },
	{ NULL, 0, NULL, 0 },
};

struct conn {
	int fd;
	struct pp_proc *proc;
	unsigned seq;		/* profiles written, for names */
	bool warned;
};

static struct {
	int hz;
	uint64_t heap_rate;
	int interval;
	bool cpu, heap, follow;
	unsigned symbolize_flags;	/* PP_SYMBOLIZE_* */
	const char *outdir;	/* -o: plain files */
	char spool[PATH_MAX];
	uint64_t spool_max;	/* --spool-max: the spool's size cap */
	const char **labels;
	size_t nlabels, caplabels;
	bool main_hello;	/* the program's agent said hello */
	bool write_failing;	/* the last profile could not be written */
	pid_t main_pid;
	char host[256];
	const char *program;
	pid_t child;
	struct conn *conns;
	size_t nconns, capconns;
	int failed;
} g = { .hz = 100, .heap_rate = 512 * 1024, .interval = 60, .follow = true,
    .symbolize_flags = PP_SYMBOLIZE_SYSTEM_NAMES,
    .spool_max = PP_SPOOL_CAP_DEFAULT };

static int sigpipe_fds[2] = { -1, -1 };

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: pp-record [-hx] [-F hz] [-i seconds] [-l key=value] "
	    "[-m bytes] [-o dir]\n"
	    "                 [--cpu] [--heap] [--spool-max bytes] "
	    "[--system-lines]\n"
	    "                 -- program [argument ...]\n");
	exit(status);
}

/* A size: a number of bytes, or of KiB, MiB or GiB with K, M or G. */
static uint64_t
parse_size(const char *s, const char *opt)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && end[0] != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'K': case 'k': shift = 10; end++; break;
		case 'M': case 'm': shift = 20; end++; break;
		case 'G': case 'g': shift = 30; end++; break;
		}
	}
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < 1 ||
	    v > (1ULL << 50) >> shift)
		pp_die_usage("%s wants a size of at least 1 byte, in bytes "
		    "or with K, M or G, not '%s'", opt, s);
	return (uint64_t)v << shift;
}

/* "256 MiB", "4 KiB", "1000 bytes": a size as the user would give it. */
static void
format_size(uint64_t v, char *buf, size_t size)
{
	if (v % (1 << 30) == 0)
		snprintf(buf, size, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v % (1 << 20) == 0)
		snprintf(buf, size, "%llu MiB", (unsigned long long)(v >> 20));
	else if (v % (1 << 10) == 0)
		snprintf(buf, size, "%llu KiB", (unsigned long long)(v >> 10));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)v);
}

/* Signals go through a pipe into the poll loop. Signals a user sent to
 * pp-record are passed on to the program; those the terminal sent to the
 * whole process group have reached it already. */
static void
on_signal(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)ctx;
	if (sig != SIGCHLD && g.child > 0 && si != NULL && si->si_code <= 0)
		kill(g.child, sig);
	if (write(sigpipe_fds[1], &c, 1) < 0) {
		/* the pipe is full: the loop wakes anyway */
	}
	errno = saved;
}

static const int handled[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static bool ignored[NSIG];	/* ignored when we started: left so */
static sigset_t caller_mask;	/* the mask we started with: the program's */

/* Installs the handlers, with the handled signals blocked: until spawn()
 * knows the program's pid there is nobody to pass a signal on to, and one
 * that came meanwhile would be lost (the program would run on as if it
 * had never been sent). spawn() unblocks them, and what is pending then
 * goes to the program. */
static void
setup_signals(void)
{
	struct sigaction sa, old;
	sigset_t block;
	size_t i;

	sigemptyset(&block);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(&block, handled[i]);
	sigprocmask(SIG_BLOCK, &block, &caller_mask);
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		pp_die("cannot create a pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
		/* As nohup(1) expects: what the caller ignores stays
		 * ignored, for us and for the program. */
		if (handled[i] != SIGCHLD &&
		    sigaction(handled[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN) {
			ignored[handled[i]] = true;
			continue;
		}
		sigaction(handled[i], &sa, NULL);
	}
}

static const char *
find_agent(char *buf, size_t size)
{
	const char *env = getenv("PP_AGENT_LIB");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && *env != '\0')
		return access(env, R_OK) == 0 ? env : NULL;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(buf, size, "%s/libpp-agent.so", self) <
			    (int)size && access(buf, R_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, size, "%s/libpp-agent.so", PP_LIBDIR);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

static int
listen_socket(char *name, size_t size)
{
	struct sockaddr_un sa;
	struct timespec ts;
	socklen_t len;
	int fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, size, "pp-record.%d.%lx", (int)getpid(),
	    (unsigned long)ts.tv_nsec);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0)
		pp_die("cannot create a socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* An abstract name: nothing in the file system to clean up. */
	memcpy(sa.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 64) < 0)
		pp_die("cannot listen on a socket: %s", strerror(errno));
	return fd;
}

static void
setenv_num(const char *name, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	setenv(name, buf, 1);
}

/* Starts the program; returns its pid. Exits 127 (126) when it cannot be
 * run, as a shell does. Called with the handled signals blocked
 * (setup_signals); returns with the caller's mask back. */
static pid_t
spawn(char **argv, const char *agent, const char *sockname)
{
	int errpipe[2], err = 0;
	sigset_t all;
	pid_t pid;
	ssize_t n;

	if (pipe2(errpipe, O_CLOEXEC) < 0)
		pp_die("cannot create a pipe: %s", strerror(errno));
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if ((pid = fork()) < 0)
		pp_die("cannot fork: %s", strerror(errno));
	if (pid == 0) {
		size_t i;

		for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
			if (!ignored[handled[i]])
				signal(handled[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &caller_mask, NULL);
		close(errpipe[0]);
		if (agent != NULL) {
			const char *pre = getenv("LD_PRELOAD");
			char *v;

			if (pre != NULL && *pre != '\0' &&
			    asprintf(&v, "%s:%s", agent, pre) >= 0)
				setenv("LD_PRELOAD", v, 1);
			else
				setenv("LD_PRELOAD", agent, 1);
			setenv(PP_AGENT_SOCKET_ENV, sockname, 1);
			setenv_num(PP_AGENT_HZ_ENV, g.cpu ? (unsigned)g.hz : 0);
			setenv_num(PP_AGENT_HEAP_ENV, g.heap ? g.heap_rate : 0);
			setenv(PP_AGENT_FOLLOW_ENV, g.follow ? "1" : "0", 1);
			setenv_num(PP_AGENT_PID_ENV, (unsigned)getpid());
		}
		execvp(argv[0], argv);
		err = errno;
		if (write(errpipe[1], &err, sizeof(err)) < 0) {
			/* the parent sees EOF and a failed child */
		}
		_exit(127);
	}
	close(errpipe[1]);
	g.child = g.main_pid = pid;
	/* A signal held since setup_signals is passed on now. */
	sigprocmask(SIG_SETMASK, &caller_mask, NULL);
	while ((n = read(errpipe[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(errpipe[0]);
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		pp_warn("cannot run '%s': %s", argv[0], strerror(err));
		exit(err == ENOENT ? 127 : 126);
	}
	return pid;
}

/* Writes one profile of c's process. */
static void
write_profile(struct conn *c, enum pp_profile_kind kind, bool last)
{
	struct pp_proc_info info;
	struct pp_profile *p = NULL;
	struct pp_meta m;
	struct pp_err e = { 0 };
	char name[PATH_MAX], stamp[32];
	const char *type = kind == PP_KIND_CPU ? "cpu" : "heap";
	struct timespec now;
	struct tm tm;
	size_t skipped = 0, dropped = 0;
	void *buf = NULL;
	size_t len;
	time_t t;
	int rc;

	pp_proc_info(c->proc, &info);
	if (!info.hello || (kind == PP_KIND_CPU ?
	    pp_proc_interval_cpu(c->proc) : info.heap_samples) == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	/* In the spool a CPU profile covers one interval; in -o files it
	 * covers the whole run. */
	if ((rc = pp_proc_profile(c->proc, kind, false, &p, &skipped,
	    &e)) < 0) {
		pp_warn("cannot build the %s profile of pid %d: %s", type,
		    info.pid, pp_err_msg(&e, rc));
		g.failed = 1;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.program = pp_base_name(info.exe);
	/* The agent's word: a name for files and nothing more. */
	if (*m.program == '\0' || strchr(m.program, '/') != NULL ||
	    strcmp(m.program, ".") == 0 || strcmp(m.program, "..") == 0)
		m.program = "unknown";
	m.host = g.host;
	m.pid = info.pid;
	m.type = type;
	m.labels = g.labels;
	m.nlabels = g.nlabels;
	m.start_ns = p->time_nanos;
	m.duration_ns = p->duration_nanos;
	if ((rc = pp_meta_apply(p, &m)) < 0 ||
	    (rc = pp_profile_encode(p, &buf, &len)) < 0) {
		pp_warn("cannot encode the %s profile of pid %d: %s", type,
		    info.pid, pp_strerror(rc));
		g.failed = 1;
		goto out;
	}
	if (g.outdir != NULL) {
		snprintf(name, sizeof(name), "%s/%s.%d.%s.pb.gz", g.outdir,
		    m.program, info.pid, type);
		rc = pp_write_file_atomic(name, buf, len, &e);
	} else {
		t = now.tv_sec;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(name, sizeof(name), "%s.%09ld.%s.%d.%s.%u.pb.gz",
		    stamp, now.tv_nsec, g.host, info.pid, type, c->seq);
		/* Room first, then the new profile: the oldest go. */
		if (pp_spool_trim(g.spool, len < g.spool_max ?
		    g.spool_max - len : 0, &dropped, NULL) == 0 &&
		    dropped > 0) {
			char cap[32];

			format_size(g.spool_max, cap, sizeof(cap));
			pp_warn("spool '%s' is over %s: dropped the %zu "
			    "oldest profile%s", g.spool, cap, dropped,
			    dropped == 1 ? "" : "s");
		}
		rc = pp_spool_put(g.spool, name, buf, len, &e);
	}
	if (rc < 0) {
		/* Once per failure streak: it says it all, on the program's
		 * stderr, at every interval otherwise. */
		if (!g.write_failing)
			pp_warn("%s", pp_err_msg(&e, rc));
		g.write_failing = true;
		g.failed = 1;
	} else {
		if (g.write_failing)
			pp_warn("profiles are written again");
		g.write_failing = false;
		/* In the spool a CPU profile covers one interval; in -o files
		 * it covers the whole run. */
		if (kind == PP_KIND_CPU && g.outdir == NULL)
			pp_proc_cpu_reset(c->proc, p->time_nanos +
			    p->duration_nanos);
	}
	if (skipped > 0 && last && !c->warned) {
		pp_warn("%zu objects of pid %d could not be read for symbols",
		    skipped, info.pid);
		c->warned = true;
	}
out:
	free(buf);
	pp_profile_free(p);
}

static void
flush_conn(struct conn *c, bool last)
{
	if (g.cpu)
		write_profile(c, PP_KIND_CPU, last);
	if (g.heap)
		write_profile(c, PP_KIND_HEAP, last);
	c->seq++;
}

static void
report_conn(struct conn *c)
{
	struct pp_proc_info info;

	pp_proc_info(c->proc, &info);
	if (!info.hello)
		return;
	if (info.pid == g.main_pid)
		g.main_hello = true;
	/* PP_CPU_OFF_SIGPROF comes in HELLO, or later when the program
	 * installed its handler after the agent started: then the samples
	 * before it stand. */
	if (g.cpu && info.cpu_off == PP_CPU_OFF_SIGPROF &&
	    info.cpu_samples > 0)
		pp_warn("pid %d handles SIGPROF itself: its CPU time after it "
		    "took SIGPROF was not profiled", info.pid);
	else if (g.cpu && info.cpu_off == PP_CPU_OFF_SIGPROF)
		pp_warn("pid %d handles SIGPROF itself: its CPU time was not "
		    "profiled", info.pid);
	else if (g.cpu && info.cpu_off == PP_CPU_OFF_TIMER)
		pp_warn("pid %d: cannot start CPU timers: its CPU time was "
		    "not profiled", info.pid);
	if (info.dropped_samples + info.dropped_frees > 0)
		pp_warn("pid %d: %llu samples and %llu frees were lost (the "
		    "recorder did not keep up)", info.pid,
		    (unsigned long long)info.dropped_samples,
		    (unsigned long long)info.dropped_frees);
}

/* Reads what a connection has; returns false at its end. */
/* Reads up to max messages of c into its process; *got counts them, and
 * *more is set when max stopped it before the socket was empty. False
 * when the connection ended or sent garbage. */
static bool
drain(struct conn *c, int max, int *got, bool *more)
{
	static unsigned char buf[PP_MAX_MSG];
	struct pp_err e = { 0 };
	ssize_t n;
	int rc;

	/* A bounded number a wake-up, so that one busy process does not
	 * hold up the others or the interval's profiles. */
	while (max-- > 0) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		++*got;
		if ((rc = pp_proc_feed(c->proc, buf, (size_t)n, &e)) < 0) {
			pp_warn("bad message from the agent: %s",
			    pp_err_msg(&e, rc));
			return false;
		}
	}
	*more = true;
	return true;
}

static void
close_conn(size_t i)
{
	struct conn *c = &g.conns[i];

	flush_conn(c, true);
	report_conn(c);
	close(c->fd);
	pp_proc_free(c->proc);
	g.conns[i] = g.conns[--g.nconns];
}

static void
accept_all(int lfd)
{
	struct conn *c;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) >= 0) {
		struct ucred uc;
		socklen_t ul = sizeof(uc);

		/* The socket's name is visible to every local user: take
		 * records only from processes running as us. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0 ||
		    uc.uid != geteuid()) {
			close(fd);
			continue;
		}
		if (pp_grow(&g.conns, &g.capconns, g.nconns + 1,
		    sizeof(*g.conns)) < 0) {
			close(fd);
			continue;
		}
		c = &g.conns[g.nconns];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		if ((c->proc = pp_proc_new(g.symbolize_flags)) == NULL) {
			close(fd);
			continue;
		}
		g.nconns++;
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The exit status a shell would give. */
static int
exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int
main(int argc, char **argv)
{
	struct pollfd *pfds = NULL;
	size_t cappfds = 0, i, n;
	char agentbuf[PATH_MAX], sockname[108];
	const char *agent;
	struct pp_err e = { 0 };
	int64_t next_flush;
	int c, lfd, status = 0, rc;
	bool child_done = false, only_cpu = false, only_heap = false;

	pp_progname = "pp-record";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:F:hi:l:m:o:x", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'F':
			g.hz = (int)pp_number_arg(optarg, 1, 10000,
			    "-F wants a number from 1 to 10000, not '%s'",
			    optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'i':
			g.interval = (int)pp_number_arg(optarg, 1, 86400,
			    "-i wants a number from 1 to 86400, not '%s'",
			    optarg);
			break;
		case 'l':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				pp_die_usage("-l wants key=value, not '%s'",
				    optarg);
			if (pp_grow(&g.labels, &g.caplabels, g.nlabels + 1,
			    sizeof(*g.labels)) < 0)
				pp_die("out of memory");
			g.labels[g.nlabels++] = optarg;
			break;
		case 'm':
			g.heap_rate = (uint64_t)pp_number_arg(optarg, 1,
			    1L << 40, "-m wants a number from 1 to %ld, not '%s'",
			    1L << 40, optarg);
			break;
		case 'o':
			g.outdir = optarg;
			break;
		case 'x':
			g.follow = false;
			break;
		case OPT_CPU:
			only_cpu = true;
			break;
		case OPT_HEAP:
			only_heap = true;
			break;
		case OPT_SPOOL_MAX:
			g.spool_max = parse_size(optarg, "--spool-max");
			break;
		case OPT_SYSTEM_LINES:
			g.symbolize_flags &= ~PP_SYMBOLIZE_SYSTEM_NAMES;
			break;
		case ':':
			pp_warn("option '%s' needs an argument",
			    argv[optind - 1]);
			usage(2);
			break;
		default:
			pp_warn("unknown option '%s'", argv[optind - 1]);
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage(2);
	g.cpu = only_cpu || !only_heap;
	g.heap = only_heap || !only_cpu;
	g.program = argv[0];
	if (gethostname(g.host, sizeof(g.host)) < 0)
		snprintf(g.host, sizeof(g.host), "localhost");
	g.host[sizeof(g.host) - 1] = '\0';

	if (g.outdir != NULL) {
		struct stat st;

		if (mkdir(g.outdir, 0777) < 0 && errno != EEXIST)
			pp_die("cannot create '%s': %s", g.outdir,
			    strerror(errno));
		if (stat(g.outdir, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    access(g.outdir, W_OK) < 0)
			pp_die("cannot write profiles into '%s': %s",
			    g.outdir, S_ISDIR(st.st_mode) ? strerror(errno) :
			    "Not a directory");
	} else {
		if (pp_spool_default(g.spool, sizeof(g.spool)) < 0)
			pp_die("no spool directory: set PP_SPOOL or HOME");
		if ((rc = pp_spool_init(g.spool, &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
	}
	if ((agent = find_agent(agentbuf, sizeof(agentbuf))) == NULL)
		pp_warn("cannot find the agent library libpp-agent.so: "
		    "running '%s' without profiling", argv[0]);
	setup_signals();
	lfd = listen_socket(sockname, sizeof(sockname));
	spawn(argv, agent, sockname);

	next_flush = now_ms() + (int64_t)g.interval * 1000;
	while (!child_done) {
		int64_t wait = next_flush - now_ms();
		bool more;
		int got;

		if (pp_grow(&pfds, &cappfds, g.nconns + 2, sizeof(*pfds)) < 0)
			pp_die("out of memory");
		pfds[0] = (struct pollfd){ .fd = sigpipe_fds[0], .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < g.nconns; i++)
			pfds[i + 2] = (struct pollfd){ .fd = g.conns[i].fd,
			    .events = POLLIN };
		n = g.nconns;
		if (poll(pfds, n + 2, wait < 0 ? 0 : (int)wait) < 0 &&
		    errno != EINTR)
			pp_die("poll: %s", strerror(errno));
		if (pfds[0].revents & POLLIN) {
			unsigned char sigs[64];

			while (read(sigpipe_fds[0], sigs, sizeof(sigs)) > 0)
				;
		}
		if (pfds[1].revents & POLLIN)
			accept_all(lfd);
		/* From the end, as close_conn moves the last one down. */
		got = 0;
		more = false;
		for (i = n; i-- > 0;)
			if (pfds[i + 2].revents &&
			    !drain(&g.conns[i], 64, &got, &more))
				close_conn(i);
		/* A busy agent (a program allocating at -m 1): let messages
		 * gather for a moment instead of waking at each. A sleeper in
		 * poll(2) costs the program a wake-up a message, which on a
		 * virtual machine is an interprocessor interrupt (7% of a
		 * malloc loop's time at -m 1); the socket holds what comes
		 * meanwhile (a millisecond at -m 1 is about 200 KB). Not
		 * while one is behind: what it has queued is read at once. */
		if (got >= BUSY_MSGS && !more)
			nanosleep(&(struct timespec){ 0, BUSY_PAUSE_NS }, NULL);
		if (waitpid(g.main_pid, &status, WNOHANG) == g.main_pid) {
			/* Its pid may be reused: signal nobody from now. */
			g.child = 0;
			child_done = true;
		}
		if (now_ms() >= next_flush) {
			for (i = 0; i < g.nconns; i++)
				flush_conn(&g.conns[i], false);
			next_flush = now_ms() + (int64_t)g.interval * 1000;
		}
	}

	/* The program is gone: what its processes sent is still queued. */
	accept_all(lfd);
	for (i = g.nconns; i-- > 0;) {
		struct pp_proc_info info;
		bool more = false;
		int got = 0;

		if (drain(&g.conns[i], INT_MAX, &got, &more)) {
			pp_proc_info(g.conns[i].proc, &info);
			if (info.hello && info.pid != g.main_pid)
				pp_warn("pid %d is still running: its profiles "
				    "end here", info.pid);
		}
		close_conn(i);
	}
	close(lfd);
	free(pfds);
	free(g.conns);
	free(g.labels);
	if (agent != NULL && !g.main_hello)
		pp_warn("no profile of '%s': the agent did not start in it "
		    "(a static or set-user-ID program?)", g.program);
	if (g.failed)
		pp_warn("some profiles of '%s' could not be written", g.program);
	return exit_status(status);
}
