#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "meta.h"
#include "recv.h"
#include "store.h"
#include "util.h"
#include "web.h"

#define MAX_LABELS	64	/* labels of one profile */
#define MAX_LISTING	100000	/* profiles in one listing */
/* Decoding, unless the options say otherwise: tighter than a local
 * tool's, since anyone with a token chooses the input, and inetd runs
 * many of us at once. Real profiles take 4 to 9 times their protobuf
 * bytes in protobuf-c's objects: 256 MiB admits some 30 MB of one, far
 * more than a push of many minutes holds; a crafted 120 KB upload of
 * empty samples asked for 1.2 GB before. */
#define RECV_MAX_RAW	((size_t)64 << 20)
#define RECV_MAX_MEMORY	((size_t)256 << 20)
/* A bundle's members, once unpacked, are all held until they are stored;
 * what is kept of each (gzipped) may be as much again. pp-push's bundles
 * hold gzipped profiles, a hundred of them a few MB, and a bundle over
 * the limit is sent again in halves. */
#define RECV_MAX_TOTAL	((size_t)128 << 20)

/* What one exchange knows, for the handlers and the log line. */
struct xchg {
	const struct pp_recv_opts *o;
	int out;
	struct pp_http_request req;
	struct pp_store *st;
	char owner[PP_OWNER_MAX + 1];
	char detail[300];
	int status;
};

static void
rlog(const struct pp_recv_opts *o, int error, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->log(o->log_arg, error, msg);
}

static void
detail(struct xchg *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
	va_end(ap);
}

static int
respond(struct xchg *x, int status, const char *type, const char *extra,
    const void *body, size_t len)
{
	/* The store is closed before a slow client is written to: if the
	 * deadline kills us mid-write, nobody has to recover the store. */
	pp_store_close(x->st);
	x->st = NULL;
	x->status = status;
	if (pp_http_respond(x->out, status, type, extra, body, len) < 0)
		x->status = 0;
	return x->status;
}

/* Answers with j (consumed) as JSON. */
static int
respond_json(struct xchg *x, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	int r;

	json_decref(j);
	if (!s) {
		static const char oom[] = "{\"error\":\"out of memory\"}\n";

		return respond(x, 500, "application/json", NULL, oom,
		    sizeof(oom) - 1);
	}
	{
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);

		if (t) {
			s = t;
			s[n++] = '\n';
			s[n] = '\0';
		}
		r = respond(x, status, "application/json", NULL, s, n);
	}
	free(s);
	return r;
}

static int
respond_error(struct xchg *x, int status, const char *msg)
{
	const char *extra = status == 401 ?
	    "WWW-Authenticate: Bearer realm=\"pp\"\r\n"
	    "WWW-Authenticate: Basic realm=\"pp\"\r\n" :
	    status == 503 ? "Retry-After: 30\r\n" : NULL;
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	int r;

	json_decref(j);
	if (!x->detail[0])
		detail(x, "%s", msg);
	if (!s)
		return respond(x, status, "text/plain", extra, msg, strlen(msg));
	r = respond(x, status, "application/json", extra, s, strlen(s));
	free(s);
	return r;
}

/*
 * Profile kinds.
 */

static int
has_type(const struct pp_profile *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nsample_type; i++)
		if (strcmp(p->sample_type[i].type, name) == 0)
			return 1;
	return 0;
}

static const char *const kinds[] = {
	"cpu", "heap", "goroutine", "threadcreate", "contentions", "wall",
	"alloc",
};

int
pp_is_profile_type(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(name, kinds[i]) == 0)
			return 1;
	return 0;
}

const char *
pp_profile_type(const struct pp_profile *p)
{
	const char *pt = p->period_type.type ? p->period_type.type : "";
	size_t i;

	for (i = 0; i < p->ncomment; i++)
		if (strncmp(p->comment[i], "#pp type=", 9) == 0 &&
		    p->comment[i][9])
			return p->comment[i] + 9;
	if (strcmp(pt, "cpu") == 0 || has_type(p, "cpu"))
		return "cpu";
	if (has_type(p, "inuse_space") || has_type(p, "inuse_objects"))
		return "heap";
	if (strcmp(pt, "goroutine") == 0 || has_type(p, "goroutine"))
		return "goroutine";
	if (strcmp(pt, "threadcreate") == 0 || has_type(p, "threadcreate"))
		return "threadcreate";
	if (has_type(p, "contentions") || has_type(p, "delay"))
		return "contentions";
	if (has_type(p, "wall"))
		return "wall";
	if (has_type(p, "alloc_space") || has_type(p, "alloc_objects"))
		return "alloc";
	if (p->default_sample_type && *p->default_sample_type)
		return p->default_sample_type;
	if (p->nsample_type)
		return p->sample_type[p->nsample_type - 1].type;
	return "unknown";
}

/*
 * Turning a profile into a store item. The strings are copied into the
 * item's own pp_buf-backed pool, so the decoded profile can go at once.
 */

struct item_strs {
	char *program, *host, *type, *sample_types, *name;
	char **labels;
	size_t nlabels;
};

static void
item_strs_free(struct item_strs *s)
{
	size_t i;

	free(s->program);
	free(s->host);
	free(s->type);
	free(s->sample_types);
	free(s->name);
	for (i = 0; i < s->nlabels; i++)
		free(s->labels[i]);
	free(s->labels);
	memset(s, 0, sizeof(*s));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A short, printable copy of s: valid UTF-8 of at most 200 bytes, cut at
 * a character, with '?' for control characters and bytes that are not
 * UTF-8. What a profile says about itself is untrusted, and JSON needs
 * UTF-8. */
static char *
clean_dup(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, k;
	char *d;

	if (!(d = malloc(201)))
		return NULL;
	while (i < n) {
		k = pp_utf8_char(p + i, n - i);
		if (o + (k ? k : 1) > 200)
			break;
		if (k == 0) {
			d[o++] = '?';
			i++;
			continue;
		}
		memcpy(d + o, p + i, k);
		o += k;
		i += k;
	}
	d[o] = '\0';
	return d;
}

static const char *
main_program(const struct pp_profile *p)
{
	size_t i;

	for (i = 0; i < p->nmapping; i++) {
		const char *f = p->mapping[i]->file;

		if (f && *f && f[0] != '[')
			return pp_base_name(f);
	}
	return NULL;
}

/* Fills it (and s, which owns its strings) from profile p, the metadata
 * in p's comments first, then the fallbacks in m (may be NULL). */
static int
fill_item(struct pp_store_item *it, struct item_strs *s,
    const struct pp_profile *p, const struct pp_bundle_member *m,
    const char *owner, const char *program_hint,
    const char *const *extra_labels, size_t nextra, int64_t from_ns,
    int64_t until_ns)
{
	struct pp_meta meta;
	struct pp_buf st;
	const char *const *labels;
	size_t nlabels, i;
	const char *prog, *host;
	int rc;

	/* Labels are for selecting: a few dozen do. Thousands would only
	 * make every listing of this owner heavy. */
	for (i = 0, nlabels = 0; i < p->ncomment; i++)
		if (strncmp(p->comment[i], "#pp label=", 10) == 0)
			nlabels++;
	if (nlabels > MAX_LABELS || (m && m->nlabels > MAX_LABELS))
		return PP_EINVAL;
	memset(&meta, 0, sizeof(meta));
	if ((rc = pp_meta_read(p, &meta)) < 0)
		return rc;
	pp_buf_init(&st);
	for (i = 0; i < p->nsample_type; i++)
		pp_buf_addf(&st, "%s%s/%s", i ? "," : "",
		    p->sample_type[i].type, p->sample_type[i].unit);
	prog = meta.program && *meta.program ? meta.program :
	    m && m->program && *m->program ? m->program :
	    program_hint && *program_hint ? program_hint : main_program(p);
	host = meta.host && *meta.host ? meta.host :
	    m && m->host && *m->host ? m->host : "unknown";
	if (meta.nlabels) {
		labels = meta.labels;
		nlabels = meta.nlabels;
	} else if (m && m->nlabels) {
		labels = m->labels;
		nlabels = m->nlabels;
	} else {
		labels = extra_labels;
		nlabels = nextra;
	}
	rc = PP_ENOMEM;
	if (st.oom || !(s->sample_types = clean_dup(st.data ? st.data : "")) ||
	    !(s->program = clean_dup(prog && *prog ? prog : "unknown")) ||
	    !(s->host = clean_dup(host)) ||
	    !(s->type = clean_dup(pp_profile_type(p))))
		goto out;
	if (nlabels && !(s->labels = calloc(nlabels, sizeof(*s->labels))))
		goto out;
	for (i = 0; i < nlabels; i++, s->nlabels++)
		if (!(s->labels[i] = clean_dup(labels[i])))
			goto out;
	if (nlabels)
		qsort(s->labels, nlabels, sizeof(*s->labels), cmp_str);
	memset(it, 0, sizeof(*it));
	it->rec.owner = owner;
	it->rec.program = s->program;
	it->rec.host = s->host;
	it->rec.type = s->type;
	it->rec.sample_types = s->sample_types;
	it->rec.pid = meta.pid ? meta.pid : m ? m->pid : 0;
	it->rec.start_ns = p->time_nanos ? p->time_nanos :
	    m && m->start_ns ? m->start_ns : from_ns;
	it->rec.duration_ns = p->duration_nanos ? p->duration_nanos :
	    m && m->duration_ns ? m->duration_ns :
	    until_ns > from_ns && from_ns ? until_ns - from_ns : 0;
	if (!it->rec.start_ns)
		it->rec.start_ns = pp_now_ns();
	it->rec.labels = (const char *const *)s->labels;
	it->rec.nlabels = s->nlabels;
	rc = 0;
out:
	free((void *)meta.labels);
	pp_buf_release(&st);
	return rc;
}

/* The bytes to keep for a profile: gzipped, as pprof readers expect. */
static int
stored_bytes(const unsigned char *data, size_t len, void **keep,
    size_t *keep_len, int *owned)
{
	*owned = 0;
	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		*keep = (void *)data;
		*keep_len = len;
		return 0;
	}
	*owned = 1;
	return pp_gzip(data, len, keep, keep_len);
}

static json_t *
stored_json(const char *name, const struct pp_store_item *it)
{
	char id[17], sha[PP_HEX256_LEN + 1];

	pp_store_id_str(it->id, id);
	pp_hex(it->rec.sha256, PP_SHA256_LEN, sha);
	return json_pack("{s:s,s:s,s:s,s:b}", "name", name, "id", id,
	    "sha256", sha, "duplicate", it->duplicate);
}

/* Stores n items (all or none) and answers with what was stored. */
static int
store_and_answer(struct xchg *x, struct pp_store_item *items,
    struct item_strs *strs, size_t n)
{
	json_t *stored, *j;
	struct pp_err e = { 0 };
	size_t i, dups = 0;
	int rc;

	if ((rc = pp_store_put(x->st, items, n, &e)) < 0) {
		rlog(x->o, 1, "%s", pp_err_msg(&e, rc));
		/* Nothing was stored: the client keeps its profiles. */
		if (rc == PP_ENOSPC)
			return respond_error(x, 507, "no space left to store "
			    "the profiles; try again later");
		/* A replicated store's replica: not here, and not now. */
		if (rc == PP_EREADONLY) {
			char msg[400];

			snprintf(msg, sizeof(msg), "cannot store the profiles "
			    "here: %s; try again later", pp_err_msg(&e, rc));
			return respond_error(x, 503, msg);
		}
		return respond_error(x, 503, "cannot store the profiles now; "
		    "try again later");
	}
	if (!(stored = json_array()))
		return respond_error(x, 500, "out of memory");
	for (i = 0; i < n; i++) {
		dups += items[i].duplicate;
		json_array_append_new(stored, stored_json(strs[i].name,
		    &items[i]));
	}
	detail(x, "stored %zu profiles (%zu already there)", n - dups, dups);
	j = json_pack("{s:o,s:[]}", "stored", stored, "refused");
	return respond_json(x, 200, j);
}

static int
handle_push(struct xchg *x)
{
	struct pp_bundle *b = NULL;
	struct pp_store_item *items = NULL;
	struct item_strs *strs = NULL;
	struct pp_profile *body_p = NULL;
	void **owned = NULL;
	json_t *refused = NULL;
	struct pp_err e = { 0 };
	size_t i, n = 0, nref = 0;
	int rc, single = 0;

	rc = pp_bundle_read(x->req.body, x->req.body_len, &x->o->bundle, &b,
	    &e);
	if (rc < 0) {
		const char *msg = pp_err_msg(&e, rc);

		if (rc == PP_ENOMEM)
			return respond_error(x, 500, "out of memory");
		return respond_error(x, rc == PP_ETOOBIG ? 413 : 400, msg);
	}
	if (b->nmembers == 0) {
		pp_bundle_free(b);
		return respond_error(x, 400, "an empty bundle");
	}
	/* A single profile: libarchive unpacked every layer of it; keep the
	 * request's own bytes when they are gzipped pprof, and the profile
	 * decoded from them, which is the one stored. */
	if (!b->has_manifest && b->nmembers == 1 && !b->members[0].error) {
		if (pp_profile_decode(x->req.body, x->req.body_len,
		    &x->o->decode, &body_p, &e) == 0)
			single = 1;
	}
	if (!(items = calloc(b->nmembers, sizeof(*items))) ||
	    !(strs = calloc(b->nmembers, sizeof(*strs))) ||
	    !(owned = calloc(b->nmembers, sizeof(*owned))) ||
	    !(refused = json_array())) {
		rc = respond_error(x, 500, "out of memory");
		goto out;
	}
	for (i = 0; i < b->nmembers; i++) {
		const struct pp_bundle_member *m = &b->members[i];
		struct pp_profile *p = NULL;
		char why[300];
		void *keep;
		size_t keep_len;
		int own;

		why[0] = '\0';
		if (body_p) {
			p = body_p;
			body_p = NULL;	/* transferred */
		}
		if (m->error) {
			snprintf(why, sizeof(why), "%s", m->error);
		} else if (!p && (rc = pp_profile_decode(m->data, m->len,
		    &x->o->decode, &p, &e)) < 0) {
			snprintf(why, sizeof(why), "not a valid profile: %s",
			    pp_err_msg(&e, rc));
		} else if ((rc = fill_item(&items[n], &strs[n], p, m, x->owner,
		    NULL, NULL, 0, 0, 0)) == PP_EINVAL) {
			snprintf(why, sizeof(why), "more than %d labels",
			    MAX_LABELS);
			item_strs_free(&strs[n]);
		} else if (rc < 0 ||
		    !(strs[n].name = clean_dup(m->name)) ||
		    stored_bytes(single ? x->req.body : m->data,
		    single ? x->req.body_len : m->len, &keep, &keep_len,
		    &own) < 0) {
			pp_profile_free(p);
			rc = respond_error(x, 500, "out of memory");
			goto out;
		} else {
			items[n].data = keep;
			items[n].len = keep_len;
			if (own)
				owned[n] = keep;
			n++;
		}
		pp_profile_free(p);
		if (why[0]) {
			char *name = clean_dup(m->name ? m->name : "");

			json_array_append_new(refused, json_pack("{s:s,s:s}",
			    "name", name ? name : "", "error", why));
			free(name);
			nref++;
		}
	}
	if (nref) {
		json_t *j = json_pack("{s:s,s:[],s:O}", "error",
		    "some profiles are unusable: nothing was stored", "stored",
		    "refused", refused);

		detail(x, "refused %zu of %zu profiles", nref, b->nmembers);
		rc = respond_json(x, 422, j);
		goto out;
	}
	rc = store_and_answer(x, items, strs, n);
out:
	for (i = 0; b && i < b->nmembers; i++) {
		if (strs)
			item_strs_free(&strs[i]);
		if (owned)
			free(owned[i]);
	}
	json_decref(refused);
	pp_profile_free(body_p);
	free(items);
	free(strs);
	free(owned);
	pp_bundle_free(b);
	return rc;
}

/*
 * Pyroscope's ingest API.
 */

/* The "profile" part of a multipart/form-data body, or NULL. */
static const unsigned char *
multipart_part(const struct pp_http_request *req, const char *ctype,
    const char *want, size_t *len)
{
	const char *bp = strstr(ctype, "boundary=");
	char delim[80 + 4];
	size_t dl;
	const unsigned char *p = req->body, *end = p + req->body_len;

	if (!bp)
		return NULL;
	bp += 9;
	if (*bp == '"')
		bp++;
	dl = strcspn(bp, "\";, ");
	if (dl == 0 || dl > 70)
		return NULL;
	snprintf(delim, sizeof(delim), "--%.*s", (int)dl, bp);
	dl += 2;
	for (;;) {
		const unsigned char *part, *hend, *next;
		char hdr[1024];
		size_t hl;

		p = memmem(p, end - p, delim, dl);
		if (!p || end - p < (ptrdiff_t)dl + 2 || p[dl] == '-')
			return NULL;
		part = p + dl;
		if (!(hend = memmem(part, end - part, "\r\n\r\n", 4)))
			return NULL;
		hl = (size_t)(hend - part);
		if (hl > sizeof(hdr) - 1)
			hl = sizeof(hdr) - 1;
		memcpy(hdr, part, hl);
		hdr[hl] = '\0';
		hend += 4;
		if (!(next = memmem(hend, end - hend, delim, dl)) ||
		    next - hend < 2)
			return NULL;
		{
			char needle[64];

			snprintf(needle, sizeof(needle), "name=\"%s\"", want);
			if (strstr(hdr, needle)) {
				*len = next - 2 - hend;	/* CRLF before delim */
				return hend;
			}
		}
		p = next;
	}
}

/* Answers a query parameter that pp_http_query_param refused (err). */
static int
respond_bad_param(struct xchg *x, int err)
{
	if (err == PP_ENOMEM)
		return respond_error(x, 500, "out of memory");
	return respond_error(x, 400, "a query parameter decodes to a NUL byte");
}

static int64_t
param_seconds(const struct pp_http_request *req, const char *name, int *bad)
{
	int err = 0;
	char *v = pp_http_query_param(req, name, &err), *end;
	long long s;
	int ok;

	if (!v) {
		*bad |= err != 0;
		return 0;
	}
	errno = 0;
	s = strtoll(v, &end, 10);
	ok = !errno && end != v && !*end && s >= 0 && s <= 4102444800LL;
	free(v);
	if (!ok) {
		*bad = 1;
		return 0;
	}
	return (int64_t)s * 1000000000;
}

/* Pyroscope's own type suffixes of an application name. */
static const char *const pyro_suffixes[] = {
	"cpu", "itimer", "wall", "alloc_objects", "alloc_space",
	"inuse_objects", "inuse_space", "goroutines", "mutex_count",
	"mutex_duration", "block_count", "block_duration",
};

static int
handle_ingest(struct xchg *x)
{
	char *name = NULL, *format = NULL, *prog = NULL, **labels = NULL;
	const char *ctype = pp_http_header(&x->req, "Content-Type");
	const unsigned char *body = x->req.body;
	size_t len = x->req.body_len, nlabels = 0, i;
	struct pp_profile *p = NULL;
	struct pp_store_item it;
	struct item_strs s;
	struct pp_err e = { 0 };
	int64_t from, until;
	int rc, err = 0, bad = 0, own = 0;
	void *keep = NULL;
	size_t keep_len;
	char *brace;

	memset(&s, 0, sizeof(s));
	name = pp_http_query_param(&x->req, "name", &err);
	if (!err)
		format = pp_http_query_param(&x->req, "format", &err);
	from = param_seconds(&x->req, "from", &bad);
	until = param_seconds(&x->req, "until", &bad);
	if (err) {
		rc = respond_bad_param(x, err);
		goto out;
	}
	if (!name || !*name || bad) {
		rc = respond_error(x, 400, "ingest needs name=APP and numeric "
		    "from and until");
		goto out;
	}
	if (format && strcmp(format, "pprof") != 0) {
		rc = respond_error(x, 400, "only format=pprof is supported");
		goto out;
	}
	/* name=APP.KIND{k=v,...} */
	if ((brace = strchr(name, '{'))) {
		char *end = strrchr(brace, '}'), *tok, *save = NULL;

		if (!end) {
			rc = respond_error(x, 400, "a name with '{' and no '}'");
			goto out;
		}
		*end = '\0';
		*brace = '\0';
		for (tok = strtok_r(brace + 1, ",", &save); tok;
		    tok = strtok_r(NULL, ",", &save)) {
			char **nl;

			if (!strchr(tok, '=') || nlabels >= 64)
				continue;
			if (!(nl = realloc(labels, (nlabels + 1) *
			    sizeof(*labels))) || !(nl[nlabels] = strdup(tok))) {
				labels = nl ? nl : labels;
				rc = respond_error(x, 500, "out of memory");
				goto out;
			}
			labels = nl;
			nlabels++;
		}
	}
	if (!(prog = strdup(name))) {
		rc = respond_error(x, 500, "out of memory");
		goto out;
	}
	{
		char *dot = strrchr(prog, '.');

		for (i = 0; dot && i < sizeof(pyro_suffixes) /
		    sizeof(pyro_suffixes[0]); i++)
			if (strcmp(dot + 1, pyro_suffixes[i]) == 0)
				*dot = '\0';
	}
	if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0 &&
	    !(body = multipart_part(&x->req, ctype, "profile", &len))) {
		rc = respond_error(x, 400, "no \"profile\" part in the form");
		goto out;
	}
	if ((rc = pp_profile_decode(body, len, &x->o->decode, &p, &e)) < 0) {
		char why[300];

		snprintf(why, sizeof(why), "not a valid profile: %s",
		    pp_err_msg(&e, rc));
		rc = respond_error(x, rc == PP_ETOOBIG ? 413 : 422, why);
		goto out;
	}
	if ((rc = fill_item(&it, &s, p, NULL, x->owner, prog,
	    (const char *const *)labels, nlabels, from, until)) == PP_EINVAL) {
		rc = respond_error(x, 422, "a profile with more than 64 labels");
		goto out;
	}
	if (rc < 0 || !(s.name = strdup("profile")) ||
	    stored_bytes(body, len, &keep, &keep_len, &own) < 0) {
		rc = respond_error(x, 500, "out of memory");
		goto out;
	}
	it.data = keep;
	it.len = keep_len;
	rc = store_and_answer(x, &it, &s, 1);
out:
	if (own)
		free(keep);
	pp_profile_free(p);
	item_strs_free(&s);
	for (i = 0; i < nlabels; i++)
		free(labels[i]);
	free(labels);
	free(prog);
	free(name);
	free(format);
	return rc;
}

/*
 * Reading.
 */

static json_t *
rec_json(const struct pp_store_rec *r)
{
	char id[17], sha[PP_HEX256_LEN + 1];
	json_t *labels = json_array();
	size_t i;

	pp_store_id_str(r->id, id);
	pp_hex(r->sha256, PP_SHA256_LEN, sha);
	for (i = 0; labels && i < r->nlabels; i++)
		json_array_append_new(labels, json_string(r->labels[i]));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:o*}",
	    "id", id, "program", r->program, "host", r->host, "type", r->type,
	    "sample_types", r->sample_types, "pid", (json_int_t)r->pid,
	    "start_ns", (json_int_t)r->start_ns,
	    "duration_ns", (json_int_t)r->duration_ns,
	    "received_ns", (json_int_t)r->received_ns, "sha256", sha,
	    "size", (json_int_t)r->size, "labels", labels);
}

static int
list_one(const struct pp_store_rec *r, void *arg)
{
	json_t *j = rec_json(r);

	if (!j || json_array_append_new(arg, j) < 0)
		return PP_ENOMEM;
	return 0;
}

static int
handle_list(struct xchg *x)
{
	static const char *const names[] = {
		"program", "type", "host", "label", "since", "until", "limit",
	};
	char *v[7] = { 0 };
	const char **labels = NULL;
	struct pp_store_filter f;
	struct pp_err e = { 0 };
	json_t *arr = NULL;
	size_t i, nlabels = 0;
	int rc, err = 0, bad = 0, truncated;
	size_t cap;

	memset(&f, 0, sizeof(f));
	/* Each call sets err: stop at the first that fails. */
	for (i = 0; i < 7 && !err; i++)
		v[i] = pp_http_query_param(&x->req, names[i], &err);
	if (err) {
		rc = respond_bad_param(x, err);
		goto out;
	}
	f.owner = x->owner;
	f.program = v[0];
	if (v[1] && pp_is_profile_type(v[1]))
		f.type = v[1];
	else
		f.sample_type = v[1];
	f.host = v[2];
	if (v[3] && (rc = pp_store_split_labels(v[3], &labels,
	    &nlabels)) < 0) {
		rc = rc == PP_ENOMEM ? respond_error(x, 500, "out of memory") :
		    respond_error(x, 400, "label is key=value[,key=value...]");
		goto out;
	}
	f.labels = labels;
	f.nlabels = nlabels;
	f.since_ns = param_seconds(&x->req, "since", &bad);
	f.until_ns = param_seconds(&x->req, "until", &bad);
	if (v[6]) {
		char *end;
		unsigned long n = strtoul(v[6], &end, 10);

		if (*end || end == v[6])
			bad = 1;
		f.limit = n;
	}
	if (bad) {
		rc = respond_error(x, 400, "since and until are Unix seconds, "
		    "limit a count");
		goto out;
	}
	cap = f.limit && f.limit < MAX_LISTING ? f.limit : MAX_LISTING;
	f.limit = cap + 1;
	if (!(arr = json_array())) {
		rc = respond_error(x, 500, "out of memory");
		goto out;
	}
	if ((rc = pp_store_select(x->st, &f, list_one, arr, &e)) < 0) {
		rlog(x->o, 1, "%s", pp_err_msg(&e, rc));
		rc = respond_error(x, rc == PP_ENOMEM ? 500 : 503,
		    "cannot list the profiles now");
		goto out;
	}
	/* One more than the cap was asked for: it says there are more. */
	if ((truncated = json_array_size(arr) > cap))
		json_array_remove(arr, cap);
	detail(x, "listed %zu profiles%s", json_array_size(arr),
	    truncated ? " (truncated)" : "");
	rc = respond_json(x, 200, json_pack("{s:O,s:b}", "profiles", arr,
	    "truncated", truncated));
out:
	json_decref(arr);
	for (i = 0; i < 7; i++)
		free(v[i]);
	free(labels);
	return rc;
}

static int
handle_get(struct xchg *x, const char *idstr)
{
	struct pp_err e = { 0 };
	uint64_t id;
	void *data = NULL;
	size_t len = 0;
	char extra[128];
	int rc;

	if (pp_store_id_parse(idstr, &id) < 0)
		return respond_error(x, 404, "no such profile");
	rc = pp_store_get(x->st, x->owner, id, &data, &len, NULL, &e);
	if (rc == PP_ENOTFOUND)
		return respond_error(x, 404, "no such profile");
	if (rc < 0) {
		rlog(x->o, 1, "%s", pp_err_msg(&e, rc));
		return respond_error(x, rc == PP_ENOMEM ? 500 : 503,
		    "cannot read the profile now");
	}
	snprintf(extra, sizeof(extra), "Content-Disposition: attachment; "
	    "filename=\"%016llx.pb.gz\"\r\n"
	    "X-Content-Type-Options: nosniff\r\n", (unsigned long long)id);
	detail(x, "sent %016llx", (unsigned long long)id);
	rc = respond(x, 200, "application/octet-stream", extra, data, len);
	free(data);
	return rc;
}

static void
peer_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "";

	snprintf(buf, size, "-");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    host, sizeof(host));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    host, sizeof(host));
	if (host[0])
		snprintf(buf, size, "%s", host);
}

/* The reader's on_headers hook: the token is checked (and the store
 * opened) before any of the body is read, so that a client without a
 * valid token cannot make us read and hold a large body. */
static int
authenticate(const struct pp_http_request *req, void *arg, int *status,
    struct pp_err *e)
{
	struct xchg *x = arg;
	struct pp_err se = { 0 };
	char tok[128];
	int rc;

	if (pp_http_auth_token(req, tok, sizeof(tok)) < 0) {
		*status = 401;
		return pp_err_set(e, PP_EAUTH, "a token is needed");
	}
	if ((rc = pp_store_open(&x->st, x->o->store_dir, 0, &se)) < 0) {
		sodium_memzero(tok, sizeof(tok));
		rlog(x->o, 1, "%s", pp_err_msg(&se, rc));
		/* Opening writes too, when it recovers the store. */
		if (rc == PP_ENOSPC) {
			*status = 507;
			return pp_err_set(e, PP_ESTORE, "no space left in the "
			    "store; try again later");
		}
		*status = 503;
		return pp_err_set(e, PP_ESTORE, "the store is not available");
	}
	rc = pp_store_auth(x->st, tok, x->owner, &se);
	sodium_memzero(tok, sizeof(tok));
	if (rc == PP_EAUTH) {
		*status = 401;
		return pp_err_set(e, PP_EAUTH, "the token is not valid");
	}
	if (rc < 0) {
		rlog(x->o, 1, "%s", pp_err_msg(&se, rc));
		*status = 503;
		return pp_err_set(e, PP_ESTORE, "the store is not available");
	}
	return 0;
}

/* The web pages (web.h): the HTML listing and the drawings. */
static int
handle_web(struct xchg *x)
{
	struct pp_web_opts wo;
	struct pp_web_answer a;
	struct pp_err e = { 0 };
	int rc;

	memset(&wo, 0, sizeof(wo));
	wo.deadline_ns = x->o->deadline_ns;
	wo.decode = &x->o->decode;
	wo.log = x->o->log;
	wo.log_arg = x->o->log_arg;
	if ((rc = pp_web_serve(&x->st, x->owner, &x->req, &wo, &a, &e)) < 0)
		return respond_error(x, a.status, pp_err_msg(&e, rc));
	detail(x, "%s", a.detail);
	rc = respond(x, a.status, a.type, a.headers, a.body, a.len);
	pp_web_answer_release(&a);
	return rc;
}

static int
route(struct xchg *x)
{
	const char *path = x->req.path, *m = x->req.method;

	if (pp_web_path(path)) {
		if (strcmp(m, "GET") != 0)
			return respond_error(x, 405, "use GET");
		return handle_web(x);
	}
	if (strcmp(path, "/v1/push") == 0 || strcmp(path, "/ingest") == 0) {
		if (strcmp(m, "POST") != 0)
			return respond_error(x, 405, "use POST");
		return path[1] == 'v' ? handle_push(x) : handle_ingest(x);
	}
	if (strcmp(path, "/v1/profiles") == 0) {
		if (strcmp(m, "GET") != 0)
			return respond_error(x, 405, "use GET");
		return handle_list(x);
	}
	if (strncmp(path, "/v1/profiles/", 13) == 0) {
		if (strcmp(m, "GET") != 0)
			return respond_error(x, 405, "use GET");
		return handle_get(x, path + 13);
	}
	return respond_error(x, 404, "no such page");
}

int
pp_recv_serve(int in_fd, int out_fd, const struct pp_recv_opts *opts)
{
	struct pp_recv_opts oo = *opts;
	const struct pp_recv_opts *o = &oo;
	struct pp_http_limits lim = o->http;
	struct xchg x;
	struct pp_err e = { 0 };
	char peer[64];
	int rc, status = 0;

	if (!oo.decode.max_raw)
		oo.decode.max_raw = RECV_MAX_RAW;
	if (!oo.decode.max_memory)
		oo.decode.max_memory = RECV_MAX_MEMORY;
	if (!oo.bundle.max_total)
		oo.bundle.max_total = RECV_MAX_TOTAL;
	memset(&x, 0, sizeof(x));
	x.o = o;
	x.out = out_fd;
	peer_name(in_fd, peer, sizeof(peer));
	lim.on_headers = authenticate;
	lim.on_headers_arg = &x;
	rc = pp_http_read_request(in_fd, out_fd, &lim, &x.req, &status, &e);
	if (rc < 0) {
		detail(&x, "%s", pp_err_msg(&e, rc));
		if (status)
			respond_error(&x, status, x.detail);
		rlog(o, x.status >= 500, "%s %s %s %d %s", peer,
		    x.owner[0] ? x.owner : "-", x.req.method[0] ?
		    x.req.method : "-", x.status, x.detail);
		pp_store_close(x.st);
		pp_http_request_release(&x.req);
		return x.status;
	}
	route(&x);
	/* The request line is the client's: keep it short and printable. */
	{
		char path[120];
		size_t i;

		snprintf(path, sizeof(path), "%s", x.req.path ? x.req.path : "");
		for (i = 0; path[i]; i++)
			if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
				path[i] = '?';
		rlog(o, x.status >= 500, "%s %s %s %s %d %s", peer,
		    x.owner[0] ? x.owner : "-", x.req.method, path, x.status,
		    x.detail);
	}
	pp_store_close(x.st);
	pp_http_request_release(&x.req);
	return x.status;
}
