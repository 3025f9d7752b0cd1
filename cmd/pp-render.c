/* pp-render: turn pprof profiles into a call graph (SVG or DOT), a -top
 * table, folded stacks or a flame graph, of a profile or of its difference
 * from a base. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flame.h"
#include "folded.h"
#include "msg.h"
#include "profile.h"
#include "query.h"
#include "report.h"
#include "svg.h"

enum {
	OPT_NODEFRACTION = 256, OPT_EDGEFRACTION, OPT_FOCUS, OPT_IGNORE,
	OPT_BASE, OPT_COLORS, OPT_WIDTH,
};

static const struct option longopts[] = {
	{ "base", required_argument, NULL, OPT_BASE },
	{ "colors", required_argument, NULL, OPT_COLORS },
	{ "edgefraction", required_argument, NULL, OPT_EDGEFRACTION },
	{ "focus", required_argument, NULL, OPT_FOCUS },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "ignore", required_argument, NULL, OPT_IGNORE },
	{ "nodecount", required_argument, NULL, 'n' },
	{ "nodefraction", required_argument, NULL, OPT_NODEFRACTION },
	{ "output", required_argument, NULL, 'o' },
	{ "sample-type", required_argument, NULL, 'i' },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ NULL, 0, NULL, 0 },
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: pp-render [-h] [-f format] [-i type] [-n nodecount] "
	    "[-o file]\n"
	    "                 [--base file] [--colors lib | heat] "
	    "[--width pixels]\n"
	    "                 [--nodefraction fraction] "
	    "[--edgefraction fraction]\n"
	    "                 [--focus regex] [--ignore regex] [file ...]\n"
	    "formats: svg (default), dot, top, folded, flame\n");
	exit(status);
}

static double
parse_fraction(const char *s, const char *opt)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !(v >= 0 && v <= 1))
		pp_die_usage("%s wants a fraction between 0 and 1, not '%s'",
		    opt, s);
	return v;
}

/* Reads and decodes one profile; name "-" is stdin. */
static struct pp_profile *
load(const char *name)
{
	struct pp_profile *p = NULL;
	struct pp_err e = { 0 };
	int fd, rc;

	if (strcmp(name, "-") == 0) {
		fd = STDIN_FILENO;
		name = "<stdin>";
	} else if ((fd = open(name, O_RDONLY)) < 0) {
		pp_warn("cannot open '%s': %s", name, strerror(errno));
		return NULL;
	}
	rc = pp_profile_read_fd(fd, NULL, &p, &e);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0) {
		pp_warn("cannot read '%s': %s", name, pp_err_msg(&e, rc));
		return NULL;
	}
	return p;
}

int
main(int argc, char **argv)
{
	const char *format = "svg", *type = NULL, *output = NULL;
	const char *focus = NULL, *ignore = NULL, *base = NULL;
	const char *filters[3] = { NULL, NULL, NULL };
	char *ffocus = NULL, *fignore = NULL;
	struct pp_graph_opts go = { 0, false, -1, 0.005, 0.001, 0, 0 };
	struct pp_flame_opts fo = { 0, PP_FLAME_LIB, 1200, 0, NULL };
	struct pp_profile **ps = NULL, *p = NULL, *two[2];
	struct pp_report rep;
	struct pp_buf out;
	struct pp_err e = { 0 };
	char *svg = NULL;
	size_t svglen, i, nps = 0, nf = 0;
	int c, rc, si, failed = 0;

	pp_progname = "pp-render";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:hi:n:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'i':
			type = optarg;
			break;
		case 'n':
			go.nodecount = (int)pp_number_arg(optarg, 0, INT_MAX,
			    "-n wants a count of nodes, not '%s'", optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_BASE:
			base = optarg;
			break;
		case OPT_COLORS:
			if (strcmp(optarg, "lib") == 0)
				fo.colors = PP_FLAME_LIB;
			else if (strcmp(optarg, "heat") == 0)
				fo.colors = PP_FLAME_HEAT;
			else
				pp_die_usage("unknown colour scheme '%s' (lib or "
				    "heat)", optarg);
			break;
		case OPT_EDGEFRACTION:
			go.edgefraction = parse_fraction(optarg,
			    "--edgefraction");
			break;
		case OPT_FOCUS:
			focus = optarg;
			break;
		case OPT_IGNORE:
			ignore = optarg;
			break;
		case OPT_NODEFRACTION:
			go.nodefraction = parse_fraction(optarg,
			    "--nodefraction");
			break;
		case OPT_WIDTH:
			fo.width = (int)pp_number_arg(optarg, 100, 100000,
			    "--width wants pixels from 100 to 100000, not '%s'",
			    optarg);
			break;
		case 'h':
			usage(0);
			break;
		case ':':
			pp_warn("option '%s' needs an argument", argv[optind - 1]);
			usage(2);
			break;
		default:
			if (optopt != 0 && optopt < 256)
				pp_warn("unknown option '-%c'", optopt);
			else
				pp_warn("unknown option '%s'", argv[optind - 1]);
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(format, "svg") != 0 && strcmp(format, "dot") != 0 &&
	    strcmp(format, "top") != 0 && strcmp(format, "folded") != 0 &&
	    strcmp(format, "flame") != 0)
		pp_die_usage("unknown format '%s' (svg, dot, top, folded or "
		    "flame)", format);
	if (base != NULL && strcmp(base, "-") == 0 && argc == 0)
		pp_die_usage("the profile and its base cannot both be read "
		    "from the standard input");
	go.visual = strcmp(format, "svg") == 0 || strcmp(format, "dot") == 0;
	if (go.nodecount < 0)
		go.nodecount = go.visual ? 80 : 0;
	/* Graphviz's layout time grows steeply with edges: an SVG shows the
	 * heaviest, at most four edges a node. */
	if (strcmp(format, "svg") == 0)
		go.max_edges = 4 * (size_t)(go.nodecount ? go.nodecount : 80);

	/* Every input is read and checked before anything is written. */
	if ((ps = calloc((size_t)argc + 2, sizeof(*ps))) == NULL)
		pp_die("out of memory");
	if (argc == 0) {
		if ((ps[nps++] = load("-")) == NULL)
			failed = 1;
	}
	for (i = 0; i < (size_t)argc; i++)
		if ((ps[nps++] = load(argv[i])) == NULL)
			failed = 1;
	if (base != NULL && (ps[nps] = load(base)) == NULL)
		failed = 1;
	if (failed)
		exit(1);
	if (nps == 1) {
		p = ps[0];
		ps[0] = NULL;
	} else if ((rc = pp_profile_merge(ps, nps, &p, &e)) < 0) {
		pp_die("cannot merge profiles: %s", pp_err_msg(&e, rc));
	}
	/* A difference as pprof's -diff_base makes it: the base's samples
	 * negated, labelled pprof::base=true, merged with the profile. */
	if (base != NULL) {
		two[0] = p;
		two[1] = ps[nps];
		if (pp_profile_make_base(two[1]) < 0)
			pp_die("out of memory");
		if ((rc = pp_profile_merge(two, 2, &p, &e)) < 0)
			pp_die("cannot compare with the base: %s",
			    pp_err_msg(&e, rc));
		pp_profile_free(two[0]);
		pp_profile_free(two[1]);
	}
	for (i = 0; i < nps; i++)
		pp_profile_free(ps[i]);
	free(ps);

	if (p->nsample_type == 0)
		pp_die("profile has no sample types");
	if ((si = pp_profile_sample_index(p, type, &e)) < 0)
		pp_die("%s", pp_err_msg(&e, si));
	go.sample_index = si;
	/* Percentages are of the whole profile, before --focus/--ignore, as
	 * in pprof. */
	go.total = pp_profile_total(p, si);
	if ((rc = pp_profile_filter(p, focus, ignore, &e)) < 0 ||
	    (rc = pp_profile_prune(p, &e)) < 0)
		pp_die("%s", pp_err_msg(&e, rc));
	if (focus != NULL && asprintf(&ffocus, "focus=%s", focus) >= 0)
		filters[nf++] = ffocus;
	if (ignore != NULL && asprintf(&fignore, "ignore=%s", ignore) >= 0)
		filters[nf++] = fignore;

	pp_buf_init(&out);
	if (strcmp(format, "folded") == 0) {
		if ((rc = pp_folded(p, si, &out)) < 0)
			pp_die("%s", pp_strerror(rc));
	} else if (strcmp(format, "flame") == 0) {
		fo.sample_index = si;
		fo.total = go.total;
		fo.filters = filters;
		if ((rc = pp_flame_svg(p, &fo, &out, &e)) < 0)
			pp_die("cannot draw the flame graph: %s",
			    pp_err_msg(&e, rc));
	} else {
		if ((rc = pp_report_init(&rep, p, &go, filters)) < 0)
			pp_die("%s", pp_strerror(rc));
		if (strcmp(format, "top") == 0)
			pp_report_top(&rep, &out);
		else
			pp_report_dot(&rep, &out);
		pp_report_release(&rep);
	}
	if (out.oom)
		pp_die("out of memory");
	if (strcmp(format, "svg") == 0) {
		if ((rc = pp_svg_from_dot(out.data, out.len, &svg, &svglen,
		    &e)) < 0)
			pp_die("cannot lay out the graph: %s",
			    pp_err_msg(&e, rc));
		pp_buf_release(&out);
		out.data = svg;
		out.len = svglen;
	}
	pp_write_output(output, out.data, out.len);
	free(out.data);
	free(ffocus);
	free(fignore);
	pp_profile_free(p);
	return 0;
}
