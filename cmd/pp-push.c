/* pp-push: upload spooled profiles (or named pprof files) to a receiver;
 * delete only what it acknowledged. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "push.h"
#include "spool.h"

#define EX_TEMPFAIL	75	/* sysexits.h: try again later */

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct ctx {
	int verbose, dry_run;
	const char *dir;	/* the spool, or NULL for named files */
};

#define MAX_URLS	16

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: pp-push [-hnv] [-b count] [-s dir] [-T file] [-u url ...] "
	    "[-w seconds]\n"
	    "               [file ...]\n");
	exit(status);
}

static void
on_event(void *arg, const struct pp_push_event *ev)
{
	const struct ctx *c = arg;

	switch (ev->kind) {
	case PP_PUSH_SENDING:
		if (c->verbose)
			pp_warn("sending bundle %zu: %zu profile%s, %zu bytes, "
			    "to '%s'", ev->bundle, ev->nfiles,
			    ev->nfiles == 1 ? "" : "s", ev->bytes, ev->msg);
		break;
	case PP_PUSH_STORED:
		if (!c->verbose)
			break;
		if (ev->duplicate)
			pp_warn("'%s' was stored already, as %s", ev->name,
			    ev->id ? ev->id : "?");
		else
			pp_warn("stored '%s' as %s", ev->name,
			    ev->id ? ev->id : "?");
		break;
	case PP_PUSH_WOULD_SEND:
		printf("would send %s (%zu bytes) in bundle %zu\n", ev->name,
		    ev->bytes, ev->bundle);
		break;
	case PP_PUSH_BAD:
		pp_warn("%s '%s' to '%s/bad': %s",
		    c->dry_run ? "would move" : "moved", ev->name,
		    c->dir, ev->msg);
		break;
	case PP_PUSH_FAILED:
		pp_warn("cannot push '%s': %s", ev->path, ev->msg);
		break;
	case PP_PUSH_KEPT:
		pp_warn("kept '%s': %s", ev->name, ev->msg);
		break;
	case PP_PUSH_RETRY:
		if (c->verbose)
			pp_warn("%s", ev->msg);
		break;
	}
}

int
main(int argc, char **argv)
{
	struct pp_push_opts o;
	struct pp_push_stats st;
	struct pp_err e = { 0 };
	struct ctx c = { 0, 0, NULL };
	char spool[PATH_MAX], tokpath[PATH_MAX], token[1024];
	const char *sdir = NULL, *tfile = NULL, *urls[MAX_URLS];
	char *env = NULL, *u;
	size_t i, nurls = 0;
	int ch, rc, status;

	pp_progname = "pp-push";
	memset(&o, 0, sizeof(o));
	o.max_count = PP_PUSH_MAX_COUNT;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":b:hns:T:u:vw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			o.max_count = (size_t)pp_number_arg(optarg, 1, 10000,
			    "-b wants a count of profiles from 1 to 10000, "
			    "not '%s'", optarg);
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 's':
			sdir = optarg;
			break;
		case 'T':
			tfile = optarg;
			break;
		case 'u':
			if (nurls == MAX_URLS)
				pp_die_usage("at most %d receivers",
				    MAX_URLS);
			urls[nurls++] = optarg;
			break;
		case 'v':
			c.verbose = 1;
			break;
		case 'w':
			o.connect_timeout = o.low_speed_time =
			    pp_number_arg(optarg, 1, 3600, "-w wants seconds "
			    "from 1 to 3600, not '%s'", optarg);
			break;
		case 'h':
			usage(0);
			break;
		case ':':
			pp_warn("option '%s' needs an argument",
			    argv[optind - 1]);
			usage(2);
			break;
		default:
			if (optopt != 0 && optopt < 256)
				pp_warn("unknown option '-%c'", optopt);
			else
				pp_warn("unknown option '%s'",
				    argv[optind - 1]);
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && sdir != NULL)
		pp_die_usage("-s and file operands exclude each other");

	/* PP_URL: the receivers separated by blanks. */
	if (nurls == 0 && getenv("PP_URL") != NULL) {
		if ((env = strdup(getenv("PP_URL"))) == NULL)
			pp_die("out of memory");
		for (u = strtok(env, " \t\n"); u != NULL;
		    u = strtok(NULL, " \t\n")) {
			if (nurls == MAX_URLS)
				pp_die("PP_URL: at most %d receivers",
				    MAX_URLS);
			urls[nurls++] = u;
		}
	}
	if (nurls == 0 && !o.dry_run)
		pp_die("no receiver: use -u URL or set PP_URL");
	for (i = 0; i < nurls; i++)
		if (strncmp(urls[i], "http://", 7) != 0 &&
		    strncmp(urls[i], "https://", 8) != 0)
			pp_die("not an http or https URL: '%s'", urls[i]);
	/* Receivers are named in messages as the user gave them. */
	o.urls = urls;
	o.nurls = nurls;
	c.dry_run = o.dry_run;

	if (!o.dry_run) {
		if (tfile == NULL) {
			if (pp_push_default_token(tokpath, sizeof(tokpath)) <
			    0)
				pp_die("no token: use -T FILE or write the "
				    "token into '%s'", tokpath);
			tfile = tokpath;
		}
		if ((rc = pp_push_read_token(tfile, token, sizeof(token),
		    &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
		o.token = token;
	}
	o.report = on_event;
	o.arg = &c;

	if (argc > 0) {
		rc = pp_push_files((const char *const *)argv, (size_t)argc,
		    &o, &st, &e);
	} else {
		if (sdir == NULL) {
			if (pp_spool_default(spool, sizeof(spool)) < 0)
				pp_die("no spool directory: use -s DIR or set "
				    "PP_SPOOL or HOME");
		} else {
			snprintf(spool, sizeof(spool), "%s", sdir);
		}
		c.dir = spool;
		rc = pp_push_spool(spool, &o, &st, &e);
		/* No default spool yet: nothing was ever recorded here. */
		if (rc == PP_ENOTFOUND && sdir == NULL)
			rc = 0;
	}
	memset(token, 0, sizeof(token));

	switch (rc) {
	case 0:
		status = 0;
		break;
	case PP_EBUSY:
		pp_warn("%s", pp_err_msg(&e, rc));
		status = EX_TEMPFAIL;
		break;
	case PP_ENET:
		pp_warn("%s", pp_err_msg(&e, rc));
		status = st.bad || st.failed ? 1 : EX_TEMPFAIL;
		break;
	case PP_EINVAL:
		/* Each file was named as it failed. */
		status = 1;
		break;
	default:
		pp_warn("%s", pp_err_msg(&e, rc));
		status = 1;
		break;
	}
	if (c.verbose && !o.dry_run)
		pp_warn("%zu stored, %zu stored already, %zu moved to bad, "
		    "%zu kept, %zu failed", st.stored, st.duplicates, st.bad,
		    st.kept, st.failed);
	free(env);
	pp_finish_stdout();
	return status;
}
