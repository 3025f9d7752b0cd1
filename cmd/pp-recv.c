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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "recv.h"
#include "store.h"

#define DEFAULT_DIR	"/var/lib/pp"

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: pp-recv [-h] [-d dir] [-L logfile] [-t seconds]\n"
	    "       pp-recv [-d dir] user add|del|list [name]\n");
	exit(status);
}

static FILE *logfp;

/* Under inetd stderr is the client's socket: messages go to the log file
 * (-L) or to syslog, never to stderr. */
static void
log_line(void *arg, int error, const char *msg)
{
	if (logfp) {
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;

		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime_r(&t, &tm));
		fprintf(logfp, "%s pp-recv[%ld]: %s%s\n", ts, (long)getpid(),
		    error ? "error: " : "", msg);
		fflush(logfp);
	} else {
		syslog(error ? LOG_ERR : LOG_INFO, "%s", msg);
	}
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
		    &e)) == 0) {
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
	/* A process that outlives its deadline dies (SIGALRM's default): a
	 * stuck one cannot hold the store, and the next opener recovers it. */
	alarm((unsigned)deadline);
	memset(&o, 0, sizeof(o));
	o.store_dir = dir;
	o.http.timeout_ms = (int)(deadline > 30 ? 30000 : deadline * 1000 / 2);
	o.log = log_line;
	status = pp_recv_serve(STDIN_FILENO, STDOUT_FILENO, &o);
	if (logfp)
		fclose(logfp);
	return status == 0 || status >= 500 ? 1 : 0;
}
