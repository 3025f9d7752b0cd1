/* pp-query: select stored profiles; list them, or write them merged (or
 * compared with a base) as one pprof profile, or summarise them for the
 * public (--stats); expire old ones. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <malloc.h>

#include "client.h"
#include "msg.h"
#include "push.h"
#include "query.h"
#include "recv.h"
#include "sigbus.h"
#include "stats.h"
#include "store.h"
#include "util.h"

#define DEFAULT_DIR	"/var/lib/pp"

enum {
	OPT_BASE = 256, OPT_BASE_SINCE, OPT_BASE_UNTIL, OPT_EXPIRE, OPT_LIMIT,
	OPT_MIN_OWNERS, OPT_REMOTE, OPT_SINCE, OPT_STATS, OPT_UNTIL,
};

static const struct option longopts[] = {
	{ "base", required_argument, NULL, OPT_BASE },
	{ "base-since", required_argument, NULL, OPT_BASE_SINCE },
	{ "base-until", required_argument, NULL, OPT_BASE_UNTIL },
	{ "dir", required_argument, NULL, 'd' },
	{ "expire", required_argument, NULL, OPT_EXPIRE },
	{ "help", no_argument, NULL, 'h' },
	{ "host", required_argument, NULL, 'H' },
	{ "label", required_argument, NULL, 'L' },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "list", no_argument, NULL, 'l' },
	{ "min-owners", required_argument, NULL, OPT_MIN_OWNERS },
	{ "output", required_argument, NULL, 'o' },
	{ "program", required_argument, NULL, 'p' },
	{ "remote", required_argument, NULL, OPT_REMOTE },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "token", required_argument, NULL, 'T' },
	{ "type", required_argument, NULL, 't' },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "user", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: pp-query [-hlv] [-d dir | --remote url [-T file]] "
	    "[-H host] [-L key=value]\n"
	    "                [-o format] [-p program] [-t type] [-u user] "
	    "[--since time]\n"
	    "                [--until time] [--limit count] "
	    "[--base file]\n"
	    "                [--base-since time] [--base-until time]\n"
	    "       pp-query [-v] [-d dir] [-H host] [-L key=value] [-o format] "
	    "[-p program]\n"
	    "                [-t type] [-u user] [--since time] [--until time] "
	    "[--limit count]\n"
	    "                [--min-owners count] --stats\n"
	    "       pp-query [-v] [-d dir] [-u user] --expire age\n");
	exit(status);
}

static int64_t
parse_time_opt(const char *s, const char *opt, int64_t now)
{
	int64_t t;

	if (pp_parse_time(s, now, &t) < 0)
		pp_die_usage("%s wants a time (1h, 2026-11-25T10:00, @1764064800"
		    ", now), not '%s'", opt, s);
	return t;
}

static void
fmt_time(int64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "@%lld", (long long)t);
}

static void
fmt_duration(int64_t ns, char *buf, size_t size)
{
	double s = (double)ns / 1e9;

	if (s >= 3600)
		snprintf(buf, size, "%.1fh", s / 3600);
	else if (s >= 60)
		snprintf(buf, size, "%.1fm", s / 60);
	else
		snprintf(buf, size, "%.1fs", s);
}

/*
 * The listing's table is aligned as ls -l aligns its own: each column as
 * wide as its widest value, never narrower than its heading. ls reads the
 * whole directory first; a listing can hold millions of rows, so the
 * widths come from the first TABLE_ROWS rows, held until then, and the
 * rows after those are printed as they come, in the same widths (a longer
 * value there pushes only its own row along). A thousand rows is many
 * screens, and more than most listings (one user's, one program's, one
 * day's) hold, so these are aligned whole; held, they take some 150 KiB
 * (about 150 bytes a row), 14 MiB at worst (64 labels of 200 bytes on
 * every row), and the first row waits only for a thousand records.
 */
#define TABLE_ROWS	1000

enum {
	COL_ID, COL_USER, COL_START, COL_LENGTH, COL_PROGRAM, COL_TYPE,
	COL_HOST, COL_SIZE, COL_LABELS, NCOLS
};

static const char *const col_head[NCOLS] = {
	"ID", "USER", "START", "LENGTH", "PROGRAM", "TYPE", "HOST", "SIZE",
	"LABELS",
};

struct listing {
	int json, all_owners;
	json_t *arr;
	size_t n;
	/* The table: the widths, the rows held while they are counted
	 * (each its cells, NUL-terminated one after the other), and whether
	 * the heading and those rows are out. */
	size_t width[NCOLS];
	char **rows;
	size_t nrows, cap;
	int streaming;
	struct pp_buf row;
};

/* The columns s takes on a terminal: one a UTF-8 character (stored names
 * are valid UTF-8), not one a byte. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* r's cells into b (emptied first), each NUL-terminated. */
static void
format_row(const struct pp_store_rec *r, struct pp_buf *b)
{
	char id[17], start[32], dur[32];
	size_t i;

	pp_store_id_str(r->id, id);
	fmt_time(r->start_ns, start, sizeof(start));
	fmt_duration(r->duration_ns, dur, sizeof(dur));
	b->len = 0;
	pp_buf_add(b, id, strlen(id) + 1);
	pp_buf_add(b, r->owner, strlen(r->owner) + 1);
	pp_buf_add(b, start, strlen(start) + 1);
	pp_buf_add(b, dur, strlen(dur) + 1);
	pp_buf_add(b, r->program, strlen(r->program) + 1);
	pp_buf_add(b, r->type, strlen(r->type) + 1);
	pp_buf_add(b, r->host, strlen(r->host) + 1);
	pp_buf_addf(b, "%llu", (unsigned long long)r->size);
	pp_buf_addc(b, '\0');
	for (i = 0; i < r->nlabels; i++)
		pp_buf_addf(b, "%s%s", i ? "," : "", r->labels[i]);
	pp_buf_addc(b, '\0');
}

/* Prints a row of cells (col_head's, or format_row's) in l's widths: two
 * spaces between columns, numbers on the right, the labels last and not
 * padded, so no line ends in blanks. */
static void
print_row(const struct listing *l, const char *const cell[NCOLS])
{
	size_t w;
	int c, pad, first = 1;

	for (c = 0; c < NCOLS; c++) {
		if (c == COL_USER && !l->all_owners)
			continue;
		if (c == COL_LABELS && !*cell[c])
			break;
		if (!first)
			fputs("  ", stdout);
		first = 0;
		w = text_width(cell[c]);
		pad = w < l->width[c] ? (int)(l->width[c] - w) : 0;
		if (c == COL_LENGTH || c == COL_SIZE)
			printf("%*s%s", pad, "", cell[c]);
		else if (c == COL_LABELS)
			fputs(cell[c], stdout);
		else
			printf("%s%*s", cell[c], pad, "");
	}
	putchar('\n');
}

/* The cells of a row that format_row made. */
static void
split_row(const char *row, const char *cell[NCOLS])
{
	int c;

	for (c = 0; c < NCOLS; c++) {
		cell[c] = row;
		row += strlen(row) + 1;
	}
}

/* Prints the heading and the rows held, and lets them go: from here on
 * rows are printed as they come. */
static void
table_flush(struct listing *l)
{
	const char *cell[NCOLS];
	size_t i;

	print_row(l, col_head);
	for (i = 0; i < l->nrows; i++) {
		split_row(l->rows[i], cell);
		print_row(l, cell);
		free(l->rows[i]);
	}
	free(l->rows);
	l->rows = NULL;
	l->nrows = l->cap = 0;
	l->streaming = 1;
}

static int
table_add(struct listing *l, const struct pp_store_rec *r)
{
	const char *cell[NCOLS];
	char *held;
	size_t w;
	int c;

	format_row(r, &l->row);
	if (l->row.oom)
		return PP_ENOMEM;
	split_row(l->row.data, cell);
	if (l->streaming) {
		print_row(l, cell);
		return 0;
	}
	for (c = 0; c < NCOLS; c++)
		if ((w = text_width(cell[c])) > l->width[c])
			l->width[c] = w;
	if (pp_grow(&l->rows, &l->cap, l->nrows + 1, sizeof(*l->rows)) < 0 ||
	    !(held = malloc(l->row.len)))
		return PP_ENOMEM;
	memcpy(held, l->row.data, l->row.len);
	l->rows[l->nrows++] = held;
	if (l->nrows == TABLE_ROWS)
		table_flush(l);
	return 0;
}

static int
list_one(const struct pp_store_rec *r, void *arg)
{
	struct listing *l = arg;
	char id[17], sha[PP_HEX256_LEN + 1];
	json_t *labels, *j;
	size_t i;

	l->n++;
	if (!l->json)
		return table_add(l, r);
	pp_store_id_str(r->id, id);
	pp_hex(r->sha256, PP_SHA256_LEN, sha);
	labels = json_array();
	for (i = 0; labels && i < r->nlabels; i++)
		json_array_append_new(labels, json_string(r->labels[i]));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s,"
	    "s:I,s:o*}", "id", id, "owner", r->owner, "program",
	    r->program, "host", r->host, "type", r->type,
	    "sample_types", r->sample_types, "pid", (json_int_t)r->pid,
	    "start_ns", (json_int_t)r->start_ns,
	    "duration_ns", (json_int_t)r->duration_ns,
	    "received_ns", (json_int_t)r->received_ns, "sha256", sha,
	    "size", (json_int_t)r->size, "labels", labels);
	if (!j || json_array_append_new(l->arr, j) < 0)
		return PP_ENOMEM;
	return 0;
}

/* Where profiles come from: the store, or a receiver. */
struct source {
	struct pp_store *st;
	const char *url;
	char token[256];
};

static void
list(struct source *src, const struct pp_store_filter *f, int json)
{
	struct listing l;
	struct pp_err e = { 0 };
	int rc, c;

	memset(&l, 0, sizeof(l));
	l.json = json;
	l.all_owners = !src->url && f->owner == NULL;
	for (c = 0; c < NCOLS; c++)
		l.width[c] = strlen(col_head[c]);
	pp_buf_init(&l.row);
	if (json && !(l.arr = json_array()))
		pp_die("out of memory");
	rc = src->url ? pp_client_list(src->url, src->token, f, list_one, &l,
	    &e) : pp_store_select(src->st, f, list_one, &l, &e);
	/* What was read before a failure is shown, then the failure. */
	if (rc < 0 && !json && !l.streaming)
		table_flush(&l);
	if (rc < 0) {
		fflush(stdout);
		pp_die("%s", rc == PP_ENOMEM ? "out of memory" :
		    pp_err_msg(&e, rc));
	}
	if (json) {
		if (json_dumpf(l.arr, stdout, JSON_INDENT(1)) < 0)
			pp_die("cannot write the output: %s", strerror(errno));
		putchar('\n');
		json_decref(l.arr);
	} else if (!l.streaming) {
		table_flush(&l);
	}
	pp_buf_release(&l.row);
}

/* The public summary of the CPU profiles f selects in st, naming the
 * libraries of at least min_owners owners. */
static void
stats(struct pp_store *st, const struct pp_store_filter *f,
    size_t min_owners, int json, int verbose)
{
	struct pp_stats *s;
	struct pp_err e = { 0 };
	struct pp_buf b;
	int rc;

	if ((s = pp_stats_new(min_owners)) == NULL)
		pp_die("out of memory");
	if ((rc = pp_stats_add_store(s, st, f, &e)) < 0)
		pp_die("%s", pp_err_msg(&e, rc));
	pp_buf_init(&b);
	if ((json ? pp_stats_json(s, &b) : pp_stats_table(s, &b)) < 0)
		pp_die("out of memory");
	fwrite(b.data, 1, b.len, stdout);
	if (verbose)
		fprintf(stderr, "pp-query: summarised %zu profiles, left out "
		    "%zu without CPU time\n", pp_stats_profiles(s),
		    pp_stats_left_out(s));
	pp_buf_release(&b);
	pp_stats_free(s);
}

/* Loads what f selects merged into one profile. */
static struct pp_profile *
load_merged(struct source *src, const struct pp_store_filter *f,
    const char *what)
{
	struct pp_profile *m = NULL;
	struct pp_err e = { 0 };
	int rc;

	rc = src->url ? pp_query_merge_remote(src->url, src->token, f, &m,
	    &e) : pp_query_merge(src->st, f, &m, &e);
	if (rc == PP_EMISMATCH)
		pp_die("%scannot merge the selected profiles: %s; "
		    "choose one type with -t", what, pp_err_msg(&e, rc));
	if (rc < 0)
		pp_die("%s%s", what, pp_err_msg(&e, rc));
	return m;
}

/* A full disk under the store's regions raises SIGBUS (sigbus.h): say so
 * and exit 1, as when a write fails for want of space. The store is
 * recovered by the next process that opens it, once there is room. */
static void
catch_sigbus(const char *dir)
{
	char msg[PP_SIGBUS_MAX];
	const char *m = msg;
	int fd = STDERR_FILENO;

	snprintf(msg, sizeof(msg), "%s: store '%s': no space left on device "
	    "(SIGBUS)\n", pp_progname, dir);
	pp_sigbus_catch(-1, &fd, &m, 1, 1);
}

/* A base profile from a file ("-": standard input). */
static struct pp_profile *
load_file(const char *path)
{
	struct pp_profile *p = NULL;
	struct pp_err e = { 0 };
	int fd = STDIN_FILENO, rc;

	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) < 0)
		pp_die("cannot open '%s': %s", path, strerror(errno));
	rc = pp_profile_read_fd(fd, NULL, &p, &e);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0)
		pp_die("the base '%s': %s", path, pp_err_msg(&e, rc));
	return p;
}

int
main(int argc, char **argv)
{
	const char *dir = getenv("PP_HOME"), *format = NULL, *expire = NULL;
	const char *token_file = NULL, *base_file = NULL, **labels = NULL;
	struct source src;
	char deftok[4096];
	struct pp_store_filter f, bf;
	struct pp_err e = { 0 };
	int64_t now = pp_now_ns(), base_since = 0, base_until = 0;
	size_t nlabels = 0, cap = 0, min_owners = 3;
	int c, rc, listing = 0, verbose = 0, diff = 0, summary = 0;
	int owners_given = 0;
	char *end;

	pp_progname = "pp-query";
	/* Merging frees each profile as the next one is decoded: keep the
	 * freed memory for it rather than giving it back to the kernel and
	 * faulting it in again. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (!dir || !*dir)
		dir = DEFAULT_DIR;
	memset(&f, 0, sizeof(f));
	memset(&src, 0, sizeof(src));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:hH:lL:o:p:t:T:u:v", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'H':
			f.host = optarg;
			break;
		case 'l':
			listing = 1;
			break;
		case 'L':
			if (!pp_store_valid_label(optarg))
				pp_die_usage("-L wants key=value, not '%s'",
				    optarg);
			if (pp_grow(&labels, &cap, nlabels + 1,
			    sizeof(*labels)) < 0)
				pp_die("out of memory");
			labels[nlabels++] = optarg;
			break;
		case 'o':
			format = optarg;
			break;
		case 'p':
			f.program = optarg;
			break;
		case 't':
			if (pp_is_profile_type(optarg))
				f.type = optarg;
			else
				f.sample_type = optarg;
			break;
		case 'T':
			token_file = optarg;
			break;
		case OPT_REMOTE:
			src.url = optarg;
			break;
		case 'u':
			if (!pp_store_valid_owner(optarg))
				pp_die_usage("bad user name '%s'", optarg);
			f.owner = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_BASE:
			base_file = optarg;
			break;
		case OPT_BASE_SINCE:
			base_since = parse_time_opt(optarg, "--base-since", now);
			diff = 1;
			break;
		case OPT_BASE_UNTIL:
			base_until = parse_time_opt(optarg, "--base-until", now);
			diff = 1;
			break;
		case OPT_EXPIRE:
			expire = optarg;
			break;
		case OPT_LIMIT:
			errno = 0;
			f.limit = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-')
				pp_die_usage("--limit wants a count, not '%s'",
				    optarg);
			break;
		case OPT_MIN_OWNERS:
			errno = 0;
			min_owners = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' ||
			    min_owners == 0)
				pp_die_usage("--min-owners wants a count of 1 or "
				    "more, not '%s'", optarg);
			owners_given = 1;
			break;
		case OPT_SINCE:
			f.since_ns = parse_time_opt(optarg, "--since", now);
			break;
		case OPT_STATS:
			summary = 1;
			break;
		case OPT_UNTIL:
			f.until_ns = parse_time_opt(optarg, "--until", now);
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
	if (optind < argc)
		pp_die_usage("unexpected argument '%s'", argv[optind]);
	f.labels = labels;
	f.nlabels = nlabels;
	if (format && strcmp(format, "json") != 0 && strcmp(format, "table"))
		pp_die_usage("-o wants json or table, not '%s'", format);
	if (format && !listing && !summary)
		pp_die_usage("-o goes with -l or --stats");
	if (expire && (listing || diff || f.program || f.type ||
	    f.sample_type || f.host || nlabels || f.since_ns || f.until_ns))
		pp_die_usage("--expire takes only -d, -u and -v");
	if (base_file && diff)
		pp_die_usage("--base takes a file; --base-since and --base-until "
		    "a range of the store: not both");
	if (base_file)
		diff = 1;
	if (listing && diff)
		pp_die_usage("-l lists; --base, --base-since and --base-until "
		    "compare");
	if (summary && (listing || diff || expire))
		pp_die_usage("--stats summarises: no -l, --expire, --base, "
		    "--base-since or --base-until");
	if (owners_given && !summary)
		pp_die_usage("--min-owners goes with --stats");
	if (summary && src.url)
		pp_die_usage("--stats summarises every user's profiles in the "
		    "store (-d): not with --remote");
	if (summary && f.type && strcmp(f.type, "cpu") != 0)
		pp_die_usage("--stats summarises CPU profiles: -t %s does not "
		    "go with it", f.type);

	if (src.url && (expire || f.owner))
		pp_die_usage("--remote reads the token's own profiles: no -u or "
		    "--expire");
	if (token_file && !src.url)
		pp_die_usage("-T goes with --remote");
	if (src.url) {
		if (!token_file) {
			if (pp_push_default_token(deftok, sizeof(deftok)) < 0)
				pp_die("no token file: give one with -T (looked "
				    "for '%s')", deftok);
			token_file = deftok;
		}
		if ((rc = pp_push_read_token(token_file, src.token,
		    sizeof(src.token), &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
	} else {
		catch_sigbus(dir);
		if ((rc = pp_store_open(&src.st, dir, 0, &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
	}

	if (expire) {
		int64_t age;
		uint64_t deleted, indexed;

		if (pp_parse_duration(expire, &age) < 0)
			pp_die_usage("--expire wants an age (14d, 12h), not '%s'",
			    expire);
		/* A store made before the host and label index gets it
		 * here, from cron, once (expiry needs it whole). */
		if ((rc = pp_store_index(src.st, 0, &indexed, &e)) == 0) {
			if (verbose && indexed)
				fprintf(stderr, "pp-query: indexed %llu profiles "
				    "by host and label\n",
				    (unsigned long long)indexed);
			rc = pp_store_expire(src.st, f.owner, now - age, 0,
			    &deleted, &e);
		}
		/* A replicated store's replica: the master's expiry (cron runs
		 * it at every site) deletes, and the deletions replicate. */
		if (rc == PP_EREADONLY) {
			if (verbose)
				fprintf(stderr, "pp-query: nothing expired here: "
				    "%s\n", pp_err_msg(&e, rc));
		} else if (rc < 0) {
			pp_die("%s", pp_err_msg(&e, rc));
		} else if (verbose) {
			fprintf(stderr, "pp-query: deleted %llu profiles older "
			    "than %s\n", (unsigned long long)deleted, expire);
		}
	} else if (listing) {
		list(&src, &f, format && strcmp(format, "json") == 0);
	} else if (summary) {
		stats(src.st, &f, min_owners, format && strcmp(format,
		    "json") == 0, verbose);
	} else {
		struct pp_profile *p, *out = NULL;
		void *buf = NULL;
		size_t len;

		if (isatty(STDOUT_FILENO))
			pp_die("not writing a binary profile to a terminal; "
			    "redirect or pipe the output (or list with -l)");
		p = load_merged(&src, &f, "");
		if (diff) {
			struct pp_profile *two[2];

			two[0] = p;
			if (base_file) {
				two[1] = load_file(base_file);
			} else {
				bf = f;
				bf.since_ns = base_since;
				bf.until_ns = base_until;
				two[1] = load_merged(&src, &bf, "the base: ");
			}
			if (pp_profile_make_base(two[1]) < 0)
				pp_die("out of memory");
			if ((rc = pp_profile_merge(two, 2, &out, &e)) < 0)
				pp_die("cannot compare with the base: %s",
				    pp_err_msg(&e, rc));
			pp_profile_free(two[1]);
			pp_profile_free(p);
			p = out;
		}
		if (pp_profile_encode(p, &buf, &len) < 0)
			pp_die("out of memory");
		pp_profile_free(p);
		pp_write_output(NULL, buf, len);
		free(buf);
	}
	pp_store_close(src.st);
	memset(src.token, 0, sizeof(src.token));
	free(labels);
	pp_finish_stdout();
	return 0;
}
