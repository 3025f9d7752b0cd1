/* libFuzzer target: a GET of one of pp-recv's web pages (lib/web.c),
 * answered by pp_recv_serve as pp-recv answers it, against a small store
 * made once a process in a temporary directory: users alice and bob, and
 * profiles pushed as a client pushes them (POST /v1/push).
 *
 * The input is the request target ("/v1/merged.svg?type=cpu&since=1h"),
 * up to its first newline; the lines after it (each ending in a newline
 * sent as CRLF) are header lines sent after the Host and alice's token.
 * "$C" in it, C one of 0-9 a-g, becomes the id of profile C below (ids are
 * random): "/v1/profiles/$3.svg", "/?before=1764065040000000000.$4".
 * An input that starts with '~' is carol's request (that '~' not sent):
 * she has more profiles than a page counts (put_bulk).
 *
 * Drawings stop short of pp-render: PP_RENDER names a file that does not
 * exist, so that a drawing answers 500 once the profiles are read, merged
 * and encoded, without a child process for each input.
 *
 * Findings besides the sanitizers': an answer that is not HTTP, a 5xx
 * other than that one, and a "<script" in an HTML page (a label of
 * profile c holds one; the parameters are echoed).
 *
 * The store is $TMPDIR/pp-fuzz-web.PID (else /tmp), removed at exit, or
 * by the next process when a crash ended this one. PP_FUZZ_VERBOSE=1
 * prints pp-recv's log lines: what each input was answered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta.h"
#include "recv.h"
#include "store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0	1764064800LL	/* 2025-11-25T10:00:00Z */

/* The profiles, $0 to $g in this order. */
static const struct {
	const char *owner, *program, *host, *type, *labels;
	int64_t start_s;
	int kind;	/* 0 cpu, 1 heap, 2 cpu of one sample type, 3 empty */
} profiles[] = {
	{ "alice", "server", "web-1", "cpu", "env=prod,zone=a", T0, 0 },
	{ "alice", "server", "web-2", "cpu", "env=prod,zone=b", T0 + 60, 0 },
	{ "alice", "server", "web-1", "cpu", "env=staging", T0 + 120, 0 },
	{ "alice", "server", "web-2", "cpu", "", T0 + 180, 0 },
	{ "alice", "server", "web-1", "cpu", "env=prod", T0 + 240, 0 },
	{ "alice", "server", "web-2", "cpu", "env=prod", T0 + 240, 0 },
	{ "alice", "server", "web-1", "cpu", "env=prod", T0 + 360, 0 },
	{ "alice", "server", "web-1", "cpu", "env=prod", T0 + 86400, 0 },
	{ "alice", "worker", "web-1", "cpu", "env=prod", T0 + 420, 0 },
	{ "alice", "worker", "batch", "cpu", "env=prod", T0 - 86400, 0 },
	{ "alice", "server", "web-1", "heap", "env=prod", T0 + 30, 1 },
	{ "alice", "server", "web-1", "heap", "env=prod", T0 + 90, 1 },
	{ "alice", "b<&\"'>x", "h\xc3\xb4te", "cpu",
	    "note=<script>alert(1)</script>,k=a&b", T0 + 600, 0 },
	{ "alice", "server", "web-3", "cpu", "env=prod", T0 + 660, 2 },
	{ "alice", "idle", "web-1", "cpu", "", T0 + 720, 3 },
	{ "alice", "old", "web-1", "wall", "", 1, 0 },
	{ "bob", "server", "web-1", "cpu", "env=prod", T0, 0 },
};
#define NPROFILES	(sizeof(profiles) / sizeof(profiles[0]))

static char dir[64];
static char token[3][PP_HEX256_LEN + 1];	/* alice's, bob's, carol's */
static char ids[NPROFILES][17];

/* The memfd *fd (made once), holding the size bytes of data, at its start.
 * A write to a regular file is whole. */
static int
mem_fd(int *fd, const void *data, size_t size)
{
	if (*fd < 0 && (*fd = memfd_create("pp-fuzz-web", 0)) < 0)
		abort();
	if (ftruncate(*fd, 0) < 0 || (size && pwrite(*fd, data, size, 0) !=
	    (ssize_t)size) || lseek(*fd, 0, SEEK_SET) < 0)
		abort();
	return *fd;
}

/* What was written to fd, NUL-terminated (the caller frees). */
static char *
output_of(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *s;

	if (end < 0 || !(s = malloc((size_t)end + 1)) ||
	    pread(fd, s, (size_t)end, 0) != end)
		abort();
	s[end] = '\0';
	*len = (size_t)end;
	return s;
}

/* pp-recv's log lines, on stderr when $PP_FUZZ_VERBOSE is set. */
static void
show(void *arg, int error, const char *msg)
{
	fprintf(stderr, "fuzz-web: %s%s\n", error ? "error: " : "", msg);
}

/* Answers raw, a whole request, as pp-recv would; returns the status and
 * the answer in *answer (the caller frees). */
static int
exchange(const void *raw, size_t len, char **answer, size_t *alen)
{
	static int in = -1, out = -1;
	struct pp_recv_opts o;
	int status;

	memset(&o, 0, sizeof(o));
	o.store_dir = dir;
	o.http.timeout_ms = 5000;
	if (getenv("PP_FUZZ_VERBOSE"))
		o.log = show;
	status = pp_recv_serve(mem_fd(&in, raw, len), mem_fd(&out, NULL, 0),
	    &o);
	*answer = output_of(out, alen);
	return status;
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fuzz-web: %s\n", what);
	abort();
}

/* A profile of the given kind: main;serve;parse and the like. */
static void *
make_profile(size_t i, size_t *len)
{
	static const char *const stacks[][3] = {
		{ "main", "serve", "parse" }, { "main", "serve", "write" },
		{ "main", "gc", NULL },
	};
	static const char *const heap_types[][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	struct pp_profile *p = pp_profile_new();
	struct pp_meta m;
	struct pp_mapping *map;
	const char *labels[4];
	char lbuf[128], *tok, *save = NULL;
	void *buf = NULL;
	size_t s, f, k, nt;
	int kind = profiles[i].kind;

	if (!p || !(map = pp_profile_add_mapping(p, 1)))
		die("out of memory");
	map->start = 0x1000;
	map->limit = 0x100000;
	map->file = pp_profile_intern_str(p, "/usr/bin/server");
	map->has_functions = true;
	nt = kind == 1 ? 4 : kind == 2 ? 1 : 2;
	if (!(p->sample_type = pp_profile_alloc(p, nt *
	    sizeof(*p->sample_type))))
		die("out of memory");
	p->nsample_type = nt;
	for (k = 0; k < nt; k++) {
		p->sample_type[k].type = pp_profile_intern_str(p, kind == 1 ?
		    heap_types[k][0] : k ? "cpu" : "samples");
		p->sample_type[k].unit = pp_profile_intern_str(p, kind == 1 ?
		    heap_types[k][1] : k ? "nanoseconds" : "count");
	}
	p->period_type = p->sample_type[nt - 1];
	p->period = 10000000;
	for (s = 0; kind != 3 && s < 3; s++) {
		struct pp_location *loc[3];
		struct pp_sample *smp;
		size_t n = 0;

		for (f = 0; f < 3 && stacks[s][f]; f++, n++) {
			const char *name = pp_profile_intern_str(p,
			    stacks[s][f]);
			struct pp_function *fn;

			for (k = 0; k < p->nlocation; k++)
				if (p->location[k]->line[0].function->name ==
				    name)
					break;
			if (k < p->nlocation) {
				loc[n] = p->location[k];
				continue;
			}
			if (!(fn = pp_profile_add_function(p,
			    p->nfunction + 1)) || !(loc[n] =
			    pp_profile_add_location(p, p->nlocation + 1, 1)))
				die("out of memory");
			fn->name = fn->system_name = name;
			loc[n]->line[0].function = fn;
			loc[n]->address = 0x1000 + 16 * p->nlocation;
			loc[n]->mapping = map;
		}
		if (!(smp = pp_profile_add_sample(p, n, 0)))
			die("out of memory");
		for (k = 0; k < n; k++)
			smp->location[k] = loc[n - 1 - k];
		for (k = 0; k < nt; k++)
			smp->value[k] = (int64_t)((s + 1) * (i + 1) *
			    (k + 1) * 1000);
	}
	memset(&m, 0, sizeof(m));
	m.program = profiles[i].program;
	m.host = profiles[i].host;
	m.pid = (int)(100 + i);
	m.type = profiles[i].type;
	m.start_ns = profiles[i].start_s * 1000000000;
	m.duration_ns = 10000000000LL;
	snprintf(lbuf, sizeof(lbuf), "%s", profiles[i].labels);
	for (tok = strtok_r(lbuf, ",", &save); tok && m.nlabels < 4;
	    tok = strtok_r(NULL, ",", &save))
		labels[m.nlabels++] = tok;
	m.labels = labels;
	if (pp_meta_apply(p, &m) < 0 || pp_profile_encode(p, &buf, len) < 0)
		die("out of memory");
	pp_profile_free(p);
	return buf;
}

/* Removes directory path and the files in it. */
static void
remove_dir(const char *path)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) < 0)
		return;
	if ((d = fdopendir(fd))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(fd, de->d_name, 0);
		closedir(d);
	} else {
		close(fd);
	}
	rmdir(path);
}

static void
remove_store(void)
{
	remove_dir(dir);
}

/* A crash ends the process without atexit: the stores of processes gone
 * (pp-fuzz-web.PID in tmp) are removed by the next one. */
static void
sweep(const char *tmp)
{
	struct dirent *de;
	char path[320], *end;
	DIR *d;
	long pid;

	if (!(d = opendir(tmp)))
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "pp-fuzz-web.", 12) != 0)
			continue;
		pid = strtol(de->d_name + 12, &end, 10);
		/* Ours is not made yet: one of our pid is an earlier one's. */
		if (*end || pid <= 0 || (pid != (long)getpid() &&
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
		remove_dir(path);
	}
	closedir(d);
}

/* carol's profiles: more than a page counts (PP_WEB_MAX_COUNT), so that
 * her pages are found a window of time at a time. Stored straight, their
 * bytes not profiles (a listing does not read them): programs bulk0 to
 * bulk2, cpu and heap, 7 s apart, the last 40 in one nanosecond. */
#define NBULK	12000

static void
put_bulk(struct pp_store *st)
{
	static struct pp_store_item items[1000];
	static char data[1000][24];
	static const char *const programs[] = { "bulk0", "bulk1", "bulk2" };
	static const char *const labels[] = { "env=prod" };
	struct pp_err e = { 0 };
	size_t i, n;

	for (i = 0; i < NBULK; i += n) {
		memset(items, 0, sizeof(items));
		for (n = 0; n < 1000 && i + n < NBULK; n++) {
			struct pp_store_rec *r = &items[n].rec;
			size_t k = i + n;

			snprintf(data[n], sizeof(data[n]), "record %zu", k);
			r->owner = "carol";
			r->program = programs[k % 3];
			r->host = k % 2 ? "web-1" : "web-2";
			r->type = k % 4 ? "cpu" : "heap";
			r->sample_types = k % 4 ? "samples/count,cpu/nanoseconds" :
			    "inuse_space/bytes";
			r->start_ns = T0 * 1000000000 - (k < NBULK - 40 ?
			    (int64_t)k * 7000000000 : 1);
			r->duration_ns = 10000000000LL;
			r->labels = labels;
			r->nlabels = k % 5 ? 1 : 0;
			items[n].data = data[n];
			items[n].len = strlen(data[n]);
		}
		if (pp_store_put(st, items, n, &e) < 0)
			die(pp_err_msg(&e, PP_ESTORE));
	}
}

/* The store, its users, and the profiles pushed. */
static void
setup(void)
{
	struct pp_store *st = NULL;
	struct pp_err e = { 0 };
	const char *tmp = getenv("TMPDIR");
	char path[128];
	size_t i;

	if (!tmp || !*tmp || strlen(tmp) > 32)
		tmp = "/tmp";
	sweep(tmp);
	snprintf(dir, sizeof(dir), "%s/pp-fuzz-web.%ld", tmp, (long)getpid());
	if (mkdir(dir, 0700) < 0)
		die("cannot make a directory for the store");
	atexit(remove_store);
	/* pp-render is not run (above). */
	snprintf(path, sizeof(path), "%s/no-pp-render", dir);
	setenv("PP_RENDER", path, 1);
	if (pp_store_open(&st, dir, PP_STORE_CREATE, &e) < 0 ||
	    pp_store_user_add(st, "alice", token[0], &e) < 0 ||
	    pp_store_user_add(st, "bob", token[1], &e) < 0 ||
	    pp_store_user_add(st, "carol", token[2], &e) < 0)
		die(pp_err_msg(&e, PP_ESTORE));
	put_bulk(st);
	pp_store_close(st);
	for (i = 0; i < NPROFILES; i++) {
		struct pp_buf req;
		char *answer, *id;
		size_t len, alen;
		void *body = make_profile(i, &len);

		pp_buf_init(&req);
		pp_buf_addf(&req, "POST /v1/push HTTP/1.1\r\nHost: pp\r\n"
		    "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		    token[strcmp(profiles[i].owner, "alice") != 0], len);
		pp_buf_add(&req, body, len);
		free(body);
		if (req.oom)
			die("out of memory");
		if (exchange(req.data, req.len, &answer, &alen) != 200 ||
		    !(id = strstr(answer, "\"id\":\"")) || strlen(id) < 22)
			die("cannot push a profile");
		memcpy(ids[i], id + 6, 16);
		ids[i][16] = '\0';
		free(answer);
		pp_buf_release(&req);
	}
}

/* The request of an input: its first line the target, "$C" replaced. */
static void
make_request(struct pp_buf *b, const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789abcdefg";
	const char *tok = token[0];
	size_t i = 0;
	int line = 0;

	if (size && data[0] == '~') {
		tok = token[2];
		i++;
	}
	pp_buf_adds(b, "GET ");
	for (; i < size; i++) {
		const char *c;

		if (data[i] == '$' && i + 1 < size && data[i + 1] &&
		    (c = strchr(digits, data[i + 1]))) {
			pp_buf_adds(b, ids[c - digits]);
			i++;
		} else if (data[i] == '\n') {
			if (!line++)
				pp_buf_addf(b, " HTTP/1.1\r\nHost: pp\r\n"
				    "Authorization: Bearer %s", tok);
			pp_buf_adds(b, "\r\n");
		} else {
			pp_buf_addc(b, (char)data[i]);
		}
	}
	if (!line)
		pp_buf_addf(b, " HTTP/1.1\r\nHost: pp\r\n"
		    "Authorization: Bearer %s\r\n", tok);
	pp_buf_adds(b, "\r\n");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_buf req;
	char *answer, *body;
	size_t alen;
	int status;

	if (!dir[0])
		setup();
	pp_buf_init(&req);
	make_request(&req, data, size);
	if (req.oom)
		die("out of memory");
	status = exchange(req.data, req.len, &answer, &alen);
	if (status && (alen < 12 || memcmp(answer, "HTTP/1.1 ", 9) != 0 ||
	    atoi(answer + 9) != status))
		die("the answer is not HTTP");
	if (status >= 500 && !(status == 500 &&
	    strstr(answer, "pp-render is not installed")))
		die("an answer 5xx");
	if ((body = strstr(answer, "\r\n\r\n"))) {
		*body = '\0';
		if (strcasestr(answer, "\r\nContent-Type: text/html") &&
		    strcasestr(body + 4, "<script"))
			die("a page with a <script");
	}
	free(answer);
	pp_buf_release(&req);
	return 0;
}
