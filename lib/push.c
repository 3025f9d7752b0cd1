#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bundle.h"
#include "profile.h"
#include "push.h"
#include "record.h"
#include "util.h"

/* The receiver's answers are short; anything longer is not pp-recv's. */
#define MAX_ANSWER	((size_t)1 << 20)
/* What a member costs in a bundle besides its bytes: tar header, padding,
 * manifest entry. */
#define MEMBER_COST	1536

/* One file to push. */
struct pfile {
	char *path;
	char *name;		/* in the bundle */
	unsigned char *data;	/* while its bundle is being sent */
	size_t len;
	char sha[PP_HEX256_LEN + 1];
	char *program, *host, *type;
	int64_t pid, start_ns, duration_ns;
	char **labels;
	size_t nlabels;
	int done;		/* stored, moved, failed or vanished */
};

struct push {
	const struct pp_push_opts *o;
	struct pp_push_stats st;
	const char *dir;	/* the spool; NULL for named files */
	char **urls;		/* o->urls with /v1/push */
	size_t cur;		/* the receiver bundles go to first */
	const char *name;	/* its URL as given, for messages */
	CURL *curl;
	struct curl_slist *hdrs;
	char curlerr[CURL_ERROR_SIZE];
	size_t max_count, max_bytes;
	int stop;		/* the error that ended the push */
	int fail;		/* PP_EINVAL or PP_EIO: some files failed */
	struct pp_err *e;
};

static void
report(struct push *P, enum pp_push_event_kind kind, const struct pfile *f,
    const char *msg)
{
	struct pp_push_event ev;

	if (P->o->report == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.bundle = P->st.bundles;
	if (f != NULL) {
		ev.name = f->name;
		ev.path = f->path;
		ev.bytes = f->len;
	}
	ev.msg = msg;
	P->o->report(P->o->arg, &ev);
}

/* Stops the push: later bundles are not sent. The first reason wins. */
static int
stop(struct push *P, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
stop(struct push *P, int code, const char *fmt, ...)
{
	va_list ap;

	if (P->stop != 0)
		return code;
	P->stop = code;
	if (P->e != NULL) {
		P->e->code = code;
		va_start(ap, fmt);
		vsnprintf(P->e->msg, sizeof(P->e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void
pfile_unload(struct pfile *f)
{
	size_t i;

	free(f->data);
	f->data = NULL;
	free(f->program);
	free(f->host);
	free(f->type);
	f->program = f->host = f->type = NULL;
	for (i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->labels);
	f->labels = NULL;
	f->nlabels = 0;
}

static void
pfile_release(struct pfile *f)
{
	pfile_unload(f);
	free(f->path);
	free(f->name);
}

static char *
dup_or_null(const char *s, int *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return d;
}

/* A file that cannot be sent: a spool file moves to bad/, a named file is
 * reported and left alone. */
static void
give_up(struct push *P, struct pfile *f, const char *why)
{
	char bad[PATH_MAX], from[PATH_MAX], to[PATH_MAX];

	f->done = 1;
	if (P->fail == 0)
		P->fail = PP_EINVAL;
	if (P->dir == NULL) {
		P->st.failed++;
		report(P, PP_PUSH_FAILED, f, why);
		return;
	}
	P->st.bad++;
	report(P, PP_PUSH_BAD, f, why);
	if (P->o->dry_run)
		return;
	snprintf(bad, sizeof(bad), "%s/bad", P->dir);
	snprintf(from, sizeof(from), "%s/new/%s", P->dir, f->name);
	snprintf(to, sizeof(to), "%s/bad/%s", P->dir, f->name);
	if ((mkdir(bad, 0700) < 0 && errno != EEXIST) ||
	    rename(from, to) < 0) {
		char msg[2 * PATH_MAX + 64];

		snprintf(msg, sizeof(msg), "cannot move '%s' to '%s': %s",
		    from, bad, strerror(errno));
		P->fail = PP_EIO;
		report(P, PP_PUSH_FAILED, f, msg);
	}
}

/* Reads, decodes and describes f. Returns 0 when f can be sent, 1 when
 * it cannot (already reported), PP_ENOMEM. */
static int
load(struct push *P, struct pfile *f)
{
	struct pp_decode_limits lim = { .max_input = PP_PUSH_MAX_FILE };
	struct pp_profile *p = NULL;
	struct pp_meta m;
	struct pp_err pe = { 0 };
	char msg[sizeof(pe.msg) + 64];
	struct stat st;
	size_t got = 0, i;
	ssize_t r;
	int fd, rc, oom = 0;

	memset(&m, 0, sizeof(m));
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && P->dir != NULL) {
			/* Gone since the listing (pp-record's size cap). */
			f->done = 1;
			return 1;
		}
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof(msg), "not a regular file");
		close(fd);
		if (P->dir != NULL) {
			/* Not ours to move; leave it. */
			f->done = 1;
			return 1;
		}
		goto fail;
	}
	if ((uint64_t)st.st_size > PP_PUSH_MAX_FILE) {
		close(fd);
		snprintf(msg, sizeof(msg), "larger than %zu MiB",
		    PP_PUSH_MAX_FILE >> 20);
		give_up(P, f, msg);
		return 1;
	}
	if ((f->data = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return PP_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, f->data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(msg, sizeof(msg), "cannot read: %s",
			    strerror(errno));
			close(fd);
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	f->len = got;

	if ((rc = pp_profile_decode(f->data, f->len, &lim, &p, &pe)) < 0) {
		if (rc == PP_ENOMEM)
			return rc;
		pfile_unload(f);
		snprintf(msg, sizeof(msg), "%s%s",
		    strncmp(pp_err_msg(&pe, rc), "not a pprof", 11) == 0 ?
		    "" : "not a pprof profile: ", pp_err_msg(&pe, rc));
		give_up(P, f, msg);
		return 1;
	}
	if (pp_meta_read(p, &m) < 0) {
		pp_profile_free(p);
		return PP_ENOMEM;
	}
	f->program = dup_or_null(m.program, &oom);
	f->host = dup_or_null(m.host, &oom);
	f->type = dup_or_null(m.type, &oom);
	f->pid = m.pid;
	f->start_ns = m.start_ns;
	f->duration_ns = m.duration_ns;
	if (m.nlabels > 0 &&
	    (f->labels = calloc(m.nlabels, sizeof(*f->labels))) == NULL)
		oom = 1;
	for (i = 0; f->labels != NULL && i < m.nlabels; i++)
		if ((f->labels[f->nlabels++] = strdup(m.labels[i])) == NULL)
			oom = 1;
	free((void *)m.labels);
	pp_profile_free(p);
	if (oom)
		return PP_ENOMEM;
	pp_sha256_hex(f->data, f->len, f->sha);
	return 0;
fail:
	pfile_unload(f);
	f->done = 1;
	if (P->fail == 0)
		P->fail = PP_EINVAL;
	if (P->dir != NULL)
		P->st.kept++;
	else
		P->st.failed++;
	report(P, PP_PUSH_FAILED, f, msg);
	return 1;
}

/* The tar of g[0..n-1]. */
static int
build(struct push *P, struct pfile **g, size_t n, void **buf, size_t *len)
{
	struct pp_bundle_writer *w;
	struct pp_bundle_member m;
	struct pp_err be = { 0 };
	size_t i;
	int rc = 0;

	if ((w = pp_bundle_writer_new()) == NULL)
		return stop(P, PP_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.program = g[i]->program;
		m.host = g[i]->host;
		m.type = g[i]->type;
		m.pid = g[i]->pid;
		m.start_ns = g[i]->start_ns;
		m.duration_ns = g[i]->duration_ns;
		m.labels = (const char *const *)g[i]->labels;
		m.nlabels = g[i]->nlabels;
		if ((rc = pp_bundle_writer_add(w, g[i]->name, g[i]->data,
		    g[i]->len, &m)) < 0) {
			stop(P, rc, "cannot add '%s' to a bundle: %s",
			    g[i]->name, pp_strerror(rc));
			goto out;
		}
	}
	if ((rc = pp_bundle_writer_finish(w, buf, len, &be)) < 0)
		stop(P, rc, "cannot make a bundle: %s", pp_err_msg(&be, rc));
out:
	pp_bundle_writer_free(w);
	return rc;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct pp_buf *b = arg;
	size_t n = size * nmemb;

	/* Past the cap the answer is still read, not kept: it is not
	 * pp-recv's and will not parse. */
	if (b->len < MAX_ANSWER)
		pp_buf_add(b, ptr, n < MAX_ANSWER - b->len ? n :
		    MAX_ANSWER - b->len);
	return n;
}

static int
setup_curl(struct push *P)
{
	char *auth = NULL;
	struct curl_slist *h;
	CURL *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (P->curl = c = curl_easy_init()) == NULL)
		return stop(P, PP_ENOMEM, "cannot initialise libcurl");
	if (asprintf(&auth, "Authorization: Bearer %s",
	    P->o->token ? P->o->token : "") < 0)
		return stop(P, PP_ENOMEM, "out of memory");
	h = curl_slist_append(NULL, auth);
	free(auth);
	if (h != NULL)
		P->hdrs = h;
	if (h == NULL ||
	    (h = curl_slist_append(P->hdrs,
	    "Content-Type: application/x-tar")) == NULL ||
	    (h = curl_slist_append(P->hdrs, "Expect:")) == NULL)
		return stop(P, PP_ENOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, P->hdrs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    P->o->connect_timeout > 0 ? P->o->connect_timeout : 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	    P->o->low_speed_time > 0 ? P->o->low_speed_time : 30L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pp-push");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, P->curlerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	return 0;
}

/* The message of an answer: its {"error": ...}, else its first line,
 * printable and short. */
static void
answer_message(const struct pp_buf *body, long status, char *out,
    size_t size)
{
	json_t *j, *m;
	size_t i, n = 0;

	if (body->len > 0 &&
	    (j = json_loadb(body->data, body->len, 0, NULL)) != NULL) {
		m = json_is_object(j) ? json_object_get(j, "error") : NULL;
		if (json_is_string(m)) {
			snprintf(out, size, "%s", json_string_value(m));
			json_decref(j);
			goto clean;
		}
		json_decref(j);
	}
	for (i = 0; i < body->len && n + 1 < size && n < 200; i++) {
		if (body->data[i] == '\n' || body->data[i] == '\r')
			break;
		out[n++] = body->data[i];
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, size, "HTTP status %ld", status);
clean:
	/* Never let the receiver write control characters to a terminal. */
	for (i = 0; out[i] != '\0'; i++)
		if (!isprint((unsigned char)out[i]))
			out[i] = '?';
}

static struct pfile *
find(struct pfile **g, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!g[i]->done && strcmp(g[i]->name, name) == 0)
			return g[i];
	return NULL;
}

/* Acts on a 200's "stored": deletes what the receiver acknowledged with
 * the hash that was sent. */
static void
acknowledge(struct push *P, struct pfile **g, size_t n, json_t *stored)
{
	struct pp_push_event ev;
	char path[PATH_MAX];
	const char *name, *sha, *id;
	struct pfile *f;
	json_t *it, *dup;
	size_t i;

	json_array_foreach(stored, i, it) {
		name = json_string_value(json_object_get(it, "name"));
		sha = json_string_value(json_object_get(it, "sha256"));
		id = json_string_value(json_object_get(it, "id"));
		dup = json_object_get(it, "duplicate");
		if (name == NULL || sha == NULL ||
		    (f = find(g, n, name)) == NULL || strcmp(sha, f->sha) != 0)
			continue;
		if (P->dir != NULL) {
			snprintf(path, sizeof(path), "%s/new/%s", P->dir,
			    f->name);
			if (unlink(path) < 0 && errno != ENOENT) {
				char msg[PATH_MAX + 64];

				snprintf(msg, sizeof(msg),
				    "stored, but cannot delete '%s': %s",
				    path, strerror(errno));
				P->fail = PP_EIO;
				report(P, PP_PUSH_FAILED, f, msg);
			}
		}
		f->done = 1;
		if (json_is_true(dup))
			P->st.duplicates++;
		else
			P->st.stored++;
		if (P->o->report != NULL) {
			memset(&ev, 0, sizeof(ev));
			ev.kind = PP_PUSH_STORED;
			ev.name = f->name;
			ev.path = f->path;
			ev.id = id;
			ev.duplicate = json_is_true(dup);
			ev.bytes = f->len;
			ev.bundle = P->st.bundles;
			P->o->report(P->o->arg, &ev);
		}
	}
}

/* The "refused" entries that name a file of g: error messages. */
static size_t
refuse(struct push *P, struct pfile **g, size_t n, json_t *refused,
    int keep)
{
	const char *name, *err;
	char msg[512];
	struct pfile *f;
	json_t *it;
	size_t i, count = 0;

	json_array_foreach(refused, i, it) {
		name = json_string_value(json_object_get(it, "name"));
		err = json_string_value(json_object_get(it, "error"));
		if (name == NULL || (f = find(g, n, name)) == NULL)
			continue;
		snprintf(msg, sizeof(msg), "refused by the receiver: %s",
		    err != NULL ? err : "no reason given");
		for (char *p = msg; *p != '\0'; p++)
			if (!isprint((unsigned char)*p))
				*p = '?';
		count++;
		if (keep) {
			f->done = 1;
			P->st.kept++;
			P->fail = P->fail ? P->fail : PP_EINVAL;
			report(P, PP_PUSH_KEPT, f, msg);
		} else {
			give_up(P, f, msg);
		}
	}
	return count;
}

static int send_group(struct push *P, struct pfile **g, size_t n,
    int resent);

/* The files of g not settled yet, into a new array *rest. */
static size_t
remaining(struct pfile **g, size_t n, struct pfile ***rest)
{
	size_t i, k = 0;

	if ((*rest = calloc(n ? n : 1, sizeof(**rest))) == NULL)
		return (size_t)-1;
	for (i = 0; i < n; i++)
		if (!g[i]->done)
			(*rest)[k++] = g[i];
	return k;
}

/* An answer that says the receiver cannot take anything now. */
static int
unreachable(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

/* How to say that a transfer failed: a connection closed with no answer,
 * or half of one, after the bundle went out may follow the receiver's
 * commit (the bundle sent again is stored once); anything else is a
 * receiver not reached. */
static const char *
failed_how(CURLcode cc)
{
	return cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE ||
	    cc == CURLE_RECV_ERROR ? "no answer from" : "cannot reach";
}

static int
on_answer(struct push *P, struct pfile **g, size_t n, int resent,
    long status, const struct pp_buf *body)
{
	struct pfile **rest = NULL;
	json_t *j = NULL, *stored, *refused;
	char msg[512], why[600];
	size_t i, k;
	int rc = 0;

	answer_message(body, status, msg, sizeof(msg));
	if (status == 200 || status == 422) {
		j = json_loadb(body->data ? body->data : "", body->len, 0,
		    NULL);
		stored = json_object_get(j, "stored");
		refused = json_object_get(j, "refused");
		if (!json_is_object(j) || !json_is_array(stored) ||
		    (refused != NULL && !json_is_array(refused))) {
			rc = stop(P, PP_ENET, "cannot reach '%s': it answered "
			    "%ld with something that is not pp-recv's answer",
			    P->name, status);
			goto out;
		}
	}
	switch (status) {
	case 200:
		acknowledge(P, g, n, stored);
		refuse(P, g, n, refused, 1);
		for (i = 0; i < n; i++) {
			if (g[i]->done)
				continue;
			g[i]->done = 1;
			P->st.kept++;
			P->fail = P->fail ? P->fail : PP_EINVAL;
			report(P, PP_PUSH_KEPT, g[i],
			    "the receiver did not acknowledge it");
		}
		break;
	case 422:
		if (refuse(P, g, n, refused, 0) == 0) {
			rc = stop(P, PP_EPROTO, "'%s' refused a bundle (422) "
			    "without naming a profile: %s", P->name, msg);
			break;
		}
		if ((k = remaining(g, n, &rest)) == (size_t)-1) {
			rc = stop(P, PP_ENOMEM, "out of memory");
			break;
		}
		if (k == 0)
			break;
		if (resent) {
			/* Twice refused: keep the rest for the next push. */
			for (i = 0; i < k; i++) {
				rest[i]->done = 1;
				P->st.kept++;
				report(P, PP_PUSH_KEPT, rest[i], msg);
			}
			P->fail = P->fail ? P->fail : PP_EINVAL;
			break;
		}
		snprintf(why, sizeof(why), "%zu of %zu profiles refused; "
		    "sending the other %zu again", n - k, n, k);
		report(P, PP_PUSH_RETRY, NULL, why);
		rc = send_group(P, rest, k, 1);
		break;
	case 413:
		if (n == 1) {
			snprintf(why, sizeof(why), "too large for the "
			    "receiver: %s", msg);
			give_up(P, g[0], why);
			break;
		}
		snprintf(why, sizeof(why), "bundle of %zu profiles too large "
		    "for the receiver; sending it in two halves", n);
		report(P, PP_PUSH_RETRY, NULL, why);
		if ((rc = send_group(P, g, n / 2, resent)) == 0 && !P->stop)
			rc = send_group(P, g + n / 2, n - n / 2, resent);
		break;
	case 401:
		rc = stop(P, PP_EAUTH, "the receiver refused the token");
		break;
	default:
		if (unreachable(status))
			rc = stop(P, PP_ENET, "cannot reach '%s': it answered "
			    "%ld: %s", P->name, status, msg);
		else
			rc = stop(P, PP_EPROTO, "'%s' answered %ld: %s",
			    P->name, status, msg);
		break;
	}
out:
	free(rest);
	json_decref(j);
	return rc;
}

/* Sends g[0..n-1] as one bundle and acts on the answer. Returns 0 or the
 * error that stops the push. */
static int
send_group(struct push *P, struct pfile **g, size_t n, int resent)
{
	struct pp_buf body;
	void *buf = NULL;
	size_t len = 0;
	struct pp_push_event ev;
	char why[600];
	long status = 0;
	CURLcode cc;
	size_t tried;
	int rc;

	if (n == 0 || P->stop)
		return P->stop;
	if ((rc = build(P, g, n, &buf, &len)) < 0)
		return rc;
	P->st.bundles++;
	if (P->o->report != NULL) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = PP_PUSH_SENDING;
		ev.msg = P->name;
		ev.nfiles = n;
		ev.bytes = len;
		ev.bundle = P->st.bundles;
		P->o->report(P->o->arg, &ev);
	}
	curl_easy_setopt(P->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	curl_easy_setopt(P->curl, CURLOPT_POSTFIELDS, buf);
	curl_easy_setopt(P->curl, CURLOPT_WRITEDATA, &body);
	/* Each receiver once, from the one that last took a bundle. A
	 * bundle whose answer was lost after its commit may reach the
	 * next one too: the store takes it as the duplicate it is. */
	for (tried = 1; ; tried++) {
		pp_buf_init(&body);
		P->curlerr[0] = '\0';
		status = 0;
		curl_easy_setopt(P->curl, CURLOPT_URL, P->urls[P->cur]);
		cc = curl_easy_perform(P->curl);
		if (cc == CURLE_OK && !body.oom)
			curl_easy_getinfo(P->curl, CURLINFO_RESPONSE_CODE,
			    &status);
		if (tried == P->o->nurls || body.oom ||
		    (cc == CURLE_OK && !unreachable(status)))
			break;
		if (cc != CURLE_OK)
			snprintf(why, sizeof(why), "%s '%s': %s; trying '%s'",
			    failed_how(cc), P->name, P->curlerr[0] ?
			    P->curlerr : curl_easy_strerror(cc),
			    P->o->urls[(P->cur + 1) % P->o->nurls]);
		else
			snprintf(why, sizeof(why), "'%s' answered %ld; "
			    "trying '%s'", P->name, status,
			    P->o->urls[(P->cur + 1) % P->o->nurls]);
		report(P, PP_PUSH_RETRY, NULL, why);
		pp_buf_release(&body);
		P->cur = (P->cur + 1) % P->o->nurls;
		P->name = P->o->urls[P->cur];
	}
	free(buf);
	if (cc != CURLE_OK) {
		rc = stop(P, PP_ENET, "%s '%s': %s", failed_how(cc), P->name,
		    P->curlerr[0] ? P->curlerr : curl_easy_strerror(cc));
	} else if (body.oom) {
		rc = stop(P, PP_ENOMEM, "out of memory");
	} else {
		rc = on_answer(P, g, n, resent, status, &body);
	}
	pp_buf_release(&body);
	return rc;
}

/* Sends or, for a dry run, describes one group. */
static int
flush(struct push *P, struct pfile **g, size_t n)
{
	size_t i;
	int rc = 0;

	if (P->o->dry_run) {
		P->st.bundles++;
		for (i = 0; i < n; i++)
			report(P, PP_PUSH_WOULD_SEND, g[i], NULL);
	} else {
		rc = send_group(P, g, n, 0);
	}
	for (i = 0; i < n; i++)
		pfile_unload(g[i]);
	return rc;
}

static int
run(struct push *P, struct pfile *fs, size_t n)
{
	struct pfile **g = NULL;
	size_t i, ng = 0, bytes = 0, cost;
	int rc = 0;

	P->max_count = P->o->max_count ? P->o->max_count : PP_PUSH_MAX_COUNT;
	P->max_bytes = P->o->max_bytes ? P->o->max_bytes : PP_PUSH_MAX_BYTES;
	if (n == 0)
		goto out;
	if (!P->o->dry_run) {
		if (P->o->nurls == 0) {
			rc = stop(P, PP_EINVAL, "no receiver");
			goto out;
		}
		if ((P->urls = calloc(P->o->nurls, sizeof(*P->urls))) ==
		    NULL) {
			rc = stop(P, PP_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < P->o->nurls; i++)
			if ((P->urls[i] = pp_push_url(P->o->urls[i])) ==
			    NULL) {
				rc = stop(P, PP_ENOMEM, "out of memory");
				goto out;
			}
		P->name = P->o->urls[0];
		if ((rc = setup_curl(P)) < 0)
			goto out;
	}
	if ((g = calloc(P->max_count, sizeof(*g))) == NULL) {
		rc = stop(P, PP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n && !P->stop; i++) {
		if ((rc = load(P, &fs[i])) < 0) {
			stop(P, rc, "out of memory");
			break;
		}
		if (rc > 0) {
			rc = 0;
			continue;
		}
		cost = fs[i].len + MEMBER_COST;
		if (ng > 0 && (ng == P->max_count ||
		    bytes + cost > P->max_bytes ||
		    find(g, ng, fs[i].name) != NULL)) {
			flush(P, g, ng);
			ng = bytes = 0;
			if (P->stop)
				break;
		}
		g[ng++] = &fs[i];
		bytes += cost;
	}
	if (ng > 0 && !P->stop)
		flush(P, g, ng);
out:
	/* What was not settled stays for the next push. */
	for (i = 0; i < n; i++) {
		pfile_unload(&fs[i]);
		if (fs[i].done)
			continue;
		if (P->dir != NULL)
			P->st.kept++;
		else
			P->st.failed++;
	}
	free(g);
	if (P->curl != NULL) {
		curl_easy_cleanup(P->curl);
		curl_global_cleanup();
	}
	curl_slist_free_all(P->hdrs);
	for (i = 0; P->urls != NULL && i < P->o->nurls; i++)
		free(P->urls[i]);
	free(P->urls);
	if (P->stop != 0)
		return P->stop;
	if (P->fail != 0 && P->e != NULL) {
		P->e->code = P->fail;
		snprintf(P->e->msg, sizeof(P->e->msg),
		    "%zu profiles not delivered",
		    P->st.bad + P->st.failed + P->st.kept);
	}
	return P->fail;
}

static int
cmp_pfile(const void *a, const void *b)
{
	return strcmp(((const struct pfile *)a)->name,
	    ((const struct pfile *)b)->name);
}

int
pp_push_spool(const char *dir, const struct pp_push_opts *o,
    struct pp_push_stats *stats, struct pp_err *e)
{
	struct push P;
	struct pfile *fs = NULL;
	size_t n = 0, cap = 0, i;
	char path[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dp = NULL;
	int lockfd = -1, rc;

	memset(&P, 0, sizeof(P));
	P.o = o;
	P.dir = dir;
	P.e = e;
	if (snprintf(path, sizeof(path), "%s/new", dir) >= (int)sizeof(path))
		return pp_err_set(e, PP_EIO, "path too long: '%s'", dir);
	if ((dp = opendir(path)) == NULL) {
		rc = errno == ENOENT ? PP_ENOTFOUND : PP_EIO;
		pp_err_set(e, rc, "cannot open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (!o->dry_run) {
		snprintf(path, sizeof(path), "%s/.lock", dir);
		if ((lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
		    0600)) < 0) {
			rc = pp_err_set(e, PP_EIO, "cannot open '%s': %s",
			    path, strerror(errno));
			goto out;
		}
		if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK)
				rc = pp_err_set(e, PP_EBUSY, "another pp-push "
				    "is running on '%s'", dir);
			else
				rc = pp_err_set(e, PP_EIO, "cannot lock "
				    "'%s': %s", path, strerror(errno));
			goto out;
		}
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) <
		    0 || !S_ISREG(st.st_mode))
			continue;
		if (pp_grow(&fs, &cap, n + 1, sizeof(*fs)) < 0) {
			rc = pp_err_set(e, PP_ENOMEM, "out of memory");
			goto out;
		}
		memset(&fs[n], 0, sizeof(fs[n]));
		if ((fs[n].name = strdup(d->d_name)) == NULL ||
		    asprintf(&fs[n].path, "%s/new/%s", dir, d->d_name) < 0) {
			fs[n].path = NULL;
			free(fs[n].name);
			rc = pp_err_set(e, PP_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	closedir(dp);
	dp = NULL;
	if (n > 1)
		qsort(fs, n, sizeof(*fs), cmp_pfile);
	rc = run(&P, fs, n);
out:
	if (dp != NULL)
		closedir(dp);
	if (lockfd >= 0)
		close(lockfd);
	for (i = 0; i < n; i++)
		pfile_release(&fs[i]);
	free(fs);
	if (stats != NULL)
		*stats = P.st;
	return rc;
}

int
pp_push_files(const char *const *paths, size_t n,
    const struct pp_push_opts *o, struct pp_push_stats *stats,
    struct pp_err *e)
{
	struct push P;
	struct pfile *fs = NULL;
	size_t i;
	int rc;

	memset(&P, 0, sizeof(P));
	P.o = o;
	P.e = e;
	if ((fs = calloc(n ? n : 1, sizeof(*fs))) == NULL) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((fs[i].path = strdup(paths[i])) == NULL ||
		    (fs[i].name = strdup(pp_base_name(paths[i]))) == NULL) {
			rc = pp_err_set(e, PP_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = run(&P, fs, n);
out:
	for (i = 0; fs != NULL && i < n; i++)
		pfile_release(&fs[i]);
	free(fs);
	if (stats != NULL)
		*stats = P.st;
	return rc;
}

char *
pp_push_url(const char *url)
{
	size_t len = strlen(url);
	char *s;

	while (len > 0 && url[len - 1] == '/')
		len--;
	if (asprintf(&s, "%.*s/v1/push", (int)len, url) < 0)
		return NULL;
	return s;
}

int
pp_push_read_token(const char *path, char *tok, size_t size,
    struct pp_err *e)
{
	struct stat st;
	size_t got = 0, i;
	ssize_t r;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return pp_err_set(e, errno == ENOENT ? PP_ENOTFOUND : PP_EIO,
		    "cannot open token file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = pp_err_set(e, PP_EIO, "cannot read token file '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = pp_err_set(e, PP_EAUTH, "token file '%s' is not a "
		    "regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = pp_err_set(e, PP_EAUTH, "token file '%s' is accessible "
		    "by others; chmod 600 it", path);
		goto out;
	}
	for (;;) {
		if (got + 1 >= size) {
			rc = pp_err_set(e, PP_ETOOBIG, "token file '%s' is "
			    "too long", path);
			goto out;
		}
		r = read(fd, tok + got, size - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pp_err_set(e, PP_EIO, "cannot read token file "
			    "'%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > 0 && tok[got - 1] == '\n')
		got--;
	tok[got] = '\0';
	if (got == 0) {
		rc = pp_err_set(e, PP_EAUTH, "token file '%s' is empty", path);
		goto out;
	}
	/* It goes into a header line: no blanks, no control characters. */
	for (i = 0; i < got; i++) {
		if ((unsigned char)tok[i] <= ' ' ||
		    (unsigned char)tok[i] >= 0x7f) {
			rc = pp_err_set(e, PP_EAUTH, "token file '%s' holds "
			    "more than one token (blank or control "
			    "character at byte %zu)", path, i + 1);
			goto out;
		}
	}
out:
	if (rc < 0)
		memset(tok, 0, size);
	close(fd);
	return rc;
}

int
pp_push_default_token(char *buf, size_t size)
{
	const char *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (cfg != NULL && *cfg == '/')
		snprintf(buf, size, "%s/pp/token", cfg);
	else if (home != NULL && *home != '\0')
		snprintf(buf, size, "%s/.config/pp/token", home);
	else
		buf[0] = '\0';
	if (buf[0] != '\0' && access(buf, F_OK) == 0)
		return 0;
	if (access("/etc/pp/token", F_OK) == 0) {
		snprintf(buf, size, "/etc/pp/token");
		return 0;
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "/etc/pp/token");
	return PP_ENOTFOUND;
}
