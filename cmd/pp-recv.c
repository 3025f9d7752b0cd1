/* pp-recv: one HTTP exchange on stdin/stdout against the store (as inetd
 * or systemd socket activation runs it), and the store's user
 * administration. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "recv.h"
#include "sigbus.h"
#include "store.h"
#include "util.h"

#define DEFAULT_DIR	"/var/lib/pp"

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: pp-recv [-h] [-d dir] [-L logfile] [-t seconds]\n"
	    "       pp-recv [-d dir] user add|del|list [name]\n"
	    "       pp-recv [-d dir] [-L logfile] replicate\n");
	exit(status);
}

static FILE *logfp;

/* Under inetd stderr is the client's socket: messages go to the log file
 * (-L) or to syslog, never to stderr. Each line ends with the process's
 * peak resident memory so far, so that its bound can be watched. */
static void
log_line(void *arg, int error, const char *raw)
{
	struct rusage ru;
	long rss = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
	const unsigned char *p = (const unsigned char *)raw;
	char msg[1024];
	size_t i = 0, n = strlen(raw), k;
	uint32_t c;

	/* Much of a line is the client's (its path, names in its bundle):
	 * one line of valid, printable UTF-8 whatever it sent, '?' for the
	 * rest. */
	while (*p && i + 4 < sizeof(msg)) {
		if ((k = pp_utf8_char(p, n)) == 0) {
			/* One ? a character (a control), or a byte. */
			if ((k = pp_utf8_decode(p, n, &c)) == 0)
				k = 1;
			msg[i++] = '?';
		} else {
			memcpy(msg + i, p, k);
			i += k;
		}
		p += k;
		n -= k;
	}
	msg[i] = '\0';

	if (logfp) {
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;

		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime_r(&t, &tm));
		fprintf(logfp, "%s pp-recv[%ld]: %s%s maxrss=%ldKiB\n", ts,
		    (long)getpid(), error ? "error: " : "", msg, rss);
		fflush(logfp);
	} else {
		syslog(error ? LOG_ERR : LOG_INFO, "%s maxrss=%ldKiB", msg, rss);
	}
}

/*
 * A full disk under the store's shared regions (files that Berkeley DB
 * maps and grows) is not a failed write but SIGBUS, when a page of them is
 * first touched (sigbus.h). Nothing has been answered then (the store is
 * closed before any answer is written): answer 507, as to a write that
 * failed for want of space, and end; the next process recovers the store.
 */
static void
catch_sigbus(const char *dir)
{
	static const char body[] = "{\"error\":\"no space left in the store; "
	    "try again later\"}\n";
	char answer[256], line[512] = "", ts[32];
	const char *msg[2] = { answer, line };
	int fd[2] = { STDOUT_FILENO, -1 };
	time_t t = time(NULL);
	struct tm tm;
	int n;

	n = snprintf(answer, sizeof(answer), "HTTP/1.1 507 "
	    "Insufficient Storage\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    sizeof(body) - 1, body);
	if (n < 0 || (size_t)n >= sizeof(answer))
		return;
	if (logfp) {
		/* The time is the process's start, less than its deadline
		 * before. */
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime_r(&t, &tm));
		n = snprintf(line, sizeof(line), "%s pp-recv[%ld]: "
		    "error: store '%s': no space left on its device (SIGBUS); "
		    "answered 507\n", ts, (long)getpid(), dir);
		if (n > 0 && (size_t)n < sizeof(line))
			fd[1] = fileno(logfp);
	}
	/* What the client sent that was not read would make the close reset
	 * the connection, and the answer could be lost: it is read first. */
	pp_sigbus_catch(STDIN_FILENO, fd, msg, 2, 1);
}

static int
print_user(const char *name, int64_t created_ns, void *arg)
{
	time_t t = (time_t)(created_ns / 1000000000);
	struct tm tm;
	char ts[32];

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
	printf("%-32s %s\n", name, ts);
	return 0;
}

static volatile sig_atomic_t stop_replicating;

static void
on_stop(int sig)
{
	stop_replicating = 1;
	/* Stopping must not take long: past this, the next process to
	 * open the store recovers it. */
	alarm(30);
}

/* The site's replication process (a replicated store, pp_store_replicate):
 * runs until SIGTERM, SIGINT or SIGHUP; starts itself again (exec, the
 * same process id) when the store was recovered under it. */
static int
replicate(const char *dir, const char *logfile, char **argv)
{
	struct pp_store_repl_opts o;
	struct pp_err e = { 0 };
	struct sigaction sa;
	int rc;

	if (logfile && !(logfp = fopen(logfile, "ae")))
		pp_die("cannot open '%s': %s", logfile, strerror(errno));
	if (!logfp)
		openlog("pp-recv", LOG_PID, LOG_DAEMON);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof(o));
	o.stop = &stop_replicating;
	o.log = log_line;
	if ((rc = pp_store_replicate(dir, &o, &e)) < 0) {
		log_line(NULL, 1, pp_err_msg(&e, rc));
		pp_die("%s", pp_err_msg(&e, rc));
	}
	if (logfp)
		fclose(logfp);
	if (rc == PP_STORE_RESTART) {
		int fd;

		for (fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		usleep(200000);	/* not in a tight loop, whatever happens */
		execv("/proc/self/exe", argv);
		pp_die("cannot start again: %s", strerror(errno));
	}
	return 0;
}

static int
admin(const char *dir, int argc, char **argv)
{
	struct pp_store *st = NULL;
	struct pp_err e = { 0 };
	char tok[PP_HEX256_LEN + 1];
	uint64_t gone = 0;
	int rc;

	if (argc < 2 || strcmp(argv[0], "user") != 0)
		usage(2);
	if (strcmp(argv[1], "list") == 0) {
		if (argc != 2)
			usage(2);
		if ((rc = pp_store_open(&st, dir, 0, &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
		rc = pp_store_user_list(st, print_user, NULL, &e);
	} else if (strcmp(argv[1], "add") == 0) {
		if (argc != 3)
			usage(2);
		if (!pp_store_valid_owner(argv[2]))
			pp_die_usage("bad user name '%s': use up to %d letters, "
			    "digits, '.', '_' and '-'", argv[2], PP_OWNER_MAX);
		if ((rc = pp_store_open(&st, dir, PP_STORE_CREATE, &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
		/* Profiles are kept under the name: a new user of a name must
		 * not inherit what an earlier one left (a del interrupted
		 * before its profiles were gone). */
		if ((rc = pp_store_user_add(st, argv[2], tok, &e)) == 0 &&
		    (rc = pp_store_expire(st, argv[2], INT64_MAX, 0, &gone,
		    &e)) < 0) {
			/* All or nothing: a user whose token was never shown,
			 * and whose name a second "user add" refuses, is of
			 * no use to anyone. What the cleanup deleted before it
			 * failed stays deleted; the rest goes at the next
			 * add. */
			struct pp_err e2 = { 0 };
			int rc2;

			memset(tok, 0, sizeof(tok));
			pp_warn("cannot add user '%s': %s", argv[2],
			    pp_err_msg(&e, rc));
			if ((rc2 = pp_store_user_del(st, argv[2], &e2)) < 0)
				pp_warn("nor remove them again: %s; remove "
				    "them with 'pp-recv user del %s'",
				    pp_err_msg(&e2, rc2), argv[2]);
			pp_store_close(st);
			exit(1);
		}
		if (rc == 0) {
			fprintf(stderr, "pp-recv: added user '%s'; their token "
			    "follows and is not shown again\n", argv[2]);
			printf("%s\n", tok);
			memset(tok, 0, sizeof(tok));
		}
	} else if (strcmp(argv[1], "del") == 0) {
		if (argc != 3)
			usage(2);
		if ((rc = pp_store_open(&st, dir, 0, &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
		/* The token first, so that nothing new arrives; then the
		 * profiles. */
		if ((rc = pp_store_user_del(st, argv[2], &e)) == 0 &&
		    (rc = pp_store_expire(st, argv[2], INT64_MAX, 0, &gone,
		    &e)) == 0)
			fprintf(stderr, "pp-recv: removed user '%s' and their "
			    "%llu profiles\n", argv[2], (unsigned long long)gone);
	} else {
		usage(2);
	}
	pp_store_close(st);
	if (rc < 0)
		pp_die("%s", pp_err_msg(&e, rc));
	pp_finish_stdout();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = getenv("PP_HOME"), *logfile = NULL;
	struct pp_recv_opts o;
	long deadline = 60;
	char *end;
	int c, fd, status;

	pp_progname = "pp-recv";
	if (!dir || !*dir)
		dir = DEFAULT_DIR;
	opterr = 0;
	while ((c = getopt(argc, argv, ":d:hL:t:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'L':
			logfile = optarg;
			break;
		case 't':
			errno = 0;
			deadline = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || deadline < 1 ||
			    deadline > 3600)
				pp_die_usage("-t wants seconds between 1 and "
				    "3600, not '%s'", optarg);
			break;
		case ':':
			pp_warn("option -%c needs an argument", optopt);
			usage(2);
			break;
		default:
			pp_warn("unknown option '%s'", argv[optind - 1]);
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "replicate") == 0)
		return replicate(dir, logfile, argv - optind);
	if (argc > 0)
		return admin(dir, argc, argv);

	if (logfile && !(logfp = fopen(logfile, "ae")))
		pp_die("cannot open '%s': %s", logfile, strerror(errno));
	if (!logfp)
		openlog("pp-recv", LOG_PID, LOG_DAEMON);
	/* From here on nothing may reach stderr, which may be the socket. */
	if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	}
	signal(SIGPIPE, SIG_IGN);
	catch_sigbus(dir);
	/* A process that outlives its deadline dies (SIGALRM's default): a
	 * stuck one cannot hold the store, and the next opener recovers it. */
	alarm((unsigned)deadline);
	memset(&o, 0, sizeof(o));
	o.store_dir = dir;
	o.http.timeout_ms = (int)(deadline > 30 ? 30000 : deadline * 1000 / 2);
	/* A drawing (pp-render, a child) must be done with a tenth of the
	 * deadline left, to send it. */
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		o.deadline_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
		    (int64_t)deadline * 900000000;
	}
	o.log = log_line;
	status = pp_recv_serve(STDIN_FILENO, STDOUT_FILENO, &o);
	if (logfp)
		fclose(logfp);
	return status == 0 || status >= 500 ? 1 : 0;
}
