/* Bundles: tar archives of profiles with a JSON MANIFEST, read and written
 * with libarchive and jansson. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "bundle.h"
#include "util.h"

#define DEFAULT_MAX_MEMBERS	10000
#define DEFAULT_MAX_MEMBER	((size_t)64 << 20)
#define DEFAULT_MAX_TOTAL	((size_t)256 << 20)
#define DEFAULT_MAX_MANIFEST	((size_t)4 << 20)
/* Tar headers are not member bytes, but a hostile archive can make them
 * big (pax records, GNU long names, each up to 1 MiB in libarchive): the
 * decompressed stream may exceed the member bytes read so far by this much
 * per member and this much in all. */
#define HEADER_SLACK		((size_t)4 << 10)
#define STREAM_SLACK		((size_t)1 << 20)
#define NAME_MAX_LEN		255
#define RAW_STEP		((size_t)64 << 10)

struct bundle_priv {
	struct pp_arena arena;
};

/* A profile as the MANIFEST lists it. */
struct listed {
	const char *name;
	char sha256[PP_HEX256_LEN + 1];
	int64_t size;		/* -1: not given */
	const char *program, *host, *type;
	int64_t pid, start_ns, duration_ns;
	const char **labels;
	size_t nlabels;
	bool seen;
};

struct reader {
	struct archive *a;
	struct pp_bundle *b;
	struct pp_arena *arena;
	size_t mcap;
	size_t max_members, max_member, max_total, max_manifest;
	size_t total;		/* member bytes so far */
	struct listed *listed;	/* sorted by name */
	size_t nlisted;
	struct pp_err *e;
};

/* Member names are file names of the receiver's choosing: one path
 * element, printable, no "..". */
static bool
valid_name(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > NAME_MAX_LEN || strcmp(s, ".") == 0 ||
	    strstr(s, "..") != NULL || strchr(s, '/') != NULL)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static const char *
arena_strdup(struct pp_arena *a, const char *s)
{
	size_t len = strlen(s);
	char *p = pp_arena_alloc(a, len + 1);

	if (p != NULL)
		memcpy(p, s, len + 1);
	return p;
}

static int
cmp_listed(const void *x, const void *y)
{
	const struct listed *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* Copies an optional string field; 1 when absent, -1 when not a string
 * or out of memory (*oom tells). */
static int
opt_string(struct pp_arena *a, json_t *o, const char *key, const char **out,
    bool *oom)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_string(v))
		return -1;
	if ((*out = arena_strdup(a, json_string_value(v))) == NULL)
		return *oom = true, -1;
	return 0;
}

static int
opt_int(json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
parse_entry(struct reader *r, json_t *o, size_t i, struct listed *l)
{
	json_t *v, *lab;
	const char *s;
	bool oom = false;
	size_t j;

	if (!json_is_object(o))
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST: profiles[%zu] "
		    "is not an object", i);
	v = json_object_get(o, "name");
	if (!json_is_string(v) || !valid_name(json_string_value(v)) ||
	    strcmp(json_string_value(v), "MANIFEST") == 0)
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST: profiles[%zu] "
		    "has no valid name", i);
	if ((l->name = arena_strdup(r->arena, json_string_value(v))) == NULL)
		return PP_ENOMEM;
	v = json_object_get(o, "sha256");
	s = json_is_string(v) ? json_string_value(v) : "";
	if (strlen(s) != PP_HEX256_LEN ||
	    strspn(s, "0123456789abcdefABCDEF") != PP_HEX256_LEN)
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST: '%s' has no valid "
		    "sha256", l->name);
	for (j = 0; j <= PP_HEX256_LEN; j++)
		l->sha256[j] = (s[j] >= 'A' && s[j] <= 'F') ? s[j] - 'A' + 'a' :
		    s[j];
	switch (opt_int(o, "size", &l->size)) {
	case 1:
		l->size = -1;
		break;
	case 0:
		if (l->size >= 0)
			break;
		/* FALLTHROUGH */
	default:
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST: '%s' has a bad "
		    "size", l->name);
	}
	if (opt_string(r->arena, o, "program", &l->program, &oom) < 0 ||
	    opt_string(r->arena, o, "host", &l->host, &oom) < 0 ||
	    opt_string(r->arena, o, "type", &l->type, &oom) < 0 ||
	    opt_int(o, "pid", &l->pid) < 0 ||
	    opt_int(o, "start_ns", &l->start_ns) < 0 ||
	    opt_int(o, "duration_ns", &l->duration_ns) < 0) {
		if (oom)
			return PP_ENOMEM;
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST: '%s' has a field "
		    "of the wrong type", l->name);
	}
	lab = json_object_get(o, "labels");
	if (lab == NULL || json_is_null(lab))
		return 0;
	if (!json_is_array(lab))
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST: labels of '%s' "
		    "are not an array", l->name);
	l->nlabels = json_array_size(lab);
	l->labels = pp_arena_alloc(r->arena, (l->nlabels + 1) *
	    sizeof(*l->labels));
	if (l->labels == NULL)
		return PP_ENOMEM;
	for (j = 0; j < l->nlabels; j++) {
		v = json_array_get(lab, j);
		if (!json_is_string(v))
			return pp_err_set(r->e, PP_EPROTO, "MANIFEST: a label of "
			    "'%s' is not a string", l->name);
		if ((l->labels[j] = arena_strdup(r->arena,
		    json_string_value(v))) == NULL)
			return PP_ENOMEM;
	}
	return 0;
}

static int
parse_manifest(struct reader *r, const unsigned char *data, size_t len)
{
	json_error_t jerr;
	json_t *root = NULL, *v, *profiles;
	size_t i, n;
	int rc = 0;

	/* JSON_REJECT_DUPLICATES: a key given twice could be read either way
	 * by another reader. Without JSON_ALLOW_NUL, "\u0000" is refused. */
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (root == NULL)
		return pp_err_set(r->e, PP_EPROTO, "MANIFEST is not JSON: line "
		    "%d: %s", jerr.line, jerr.text);
	if (!json_is_object(root)) {
		rc = pp_err_set(r->e, PP_EPROTO, "MANIFEST is not an object");
		goto out;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		rc = pp_err_set(r->e, PP_EPROTO, "MANIFEST version is not 1");
		goto out;
	}
	profiles = json_object_get(root, "profiles");
	if (!json_is_array(profiles)) {
		rc = pp_err_set(r->e, PP_EPROTO, "MANIFEST has no profiles "
		    "array");
		goto out;
	}
	n = json_array_size(profiles);
	if (n >= r->max_members) {
		rc = pp_err_set(r->e, PP_ETOOBIG, "MANIFEST lists %zu profiles, "
		    "over the limit of %zu members", n, r->max_members);
		goto out;
	}
	r->listed = pp_arena_alloc(r->arena, (n + 1) * sizeof(*r->listed));
	if (r->listed == NULL) {
		rc = PP_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = parse_entry(r, json_array_get(profiles, i), i,
		    &r->listed[i])) < 0)
			goto out;
	r->nlisted = n;
	qsort(r->listed, n, sizeof(*r->listed), cmp_listed);
	for (i = 1; i < n; i++)
		if (strcmp(r->listed[i - 1].name, r->listed[i].name) == 0) {
			rc = pp_err_set(r->e, PP_EPROTO, "MANIFEST lists '%s' "
			    "twice", r->listed[i].name);
			goto out;
		}
out:
	json_decref(root);
	return rc;
}

static struct pp_bundle_member *
new_member(struct reader *r)
{
	struct pp_bundle *b = r->b;
	struct pp_bundle_member *m;

	if (pp_grow(&b->members, &r->mcap, b->nmembers + 1,
	    sizeof(*b->members)) < 0)
		return NULL;
	m = &b->members[b->nmembers++];
	memset(m, 0, sizeof(*m));
	return m;
}

static int
archive_failure(struct reader *r, const char *what)
{
	const char *s = archive_error_string(r->a);

	return pp_err_set(r->e, PP_EARCHIVE, "%s: %s", what,
	    s ? s : "unreadable archive");
}

/* Reads the data of the current entry, which the tar header says has size
 * bytes (already checked against the limits), NUL-terminated. */
static int
read_sized(struct reader *r, const char *name, size_t size,
    unsigned char **out)
{
	unsigned char *p;
	size_t got = 0;
	la_ssize_t n;

	if ((p = malloc(size + 1)) == NULL)
		return pp_err_set(r->e, PP_ENOMEM, "out of memory reading '%s'",
		    name);
	while (got < size) {
		n = archive_read_data(r->a, p + got, size - got);
		if (n < 0) {
			free(p);
			return archive_failure(r, name);
		}
		if (n == 0) {
			free(p);
			return pp_err_set(r->e, PP_EARCHIVE, "%s: truncated "
			    "after %zu of %zu bytes", name, got, size);
		}
		got += (size_t)n;
	}
	p[size] = '\0';
	*out = p;
	return 0;
}

/* Reads a single profile of unknown size, counting while decompressing:
 * a few bytes of .gz.gz.gz can stand for gigabytes. */
static int
read_raw(struct reader *r, unsigned char **out, size_t *outlen)
{
	size_t limit = r->max_member < r->max_total ? r->max_member :
	    r->max_total, cap = 0, len = 0;
	unsigned char *p = NULL, *np;
	la_ssize_t n;
	int rc = 0;

	for (;;) {
		if (len + RAW_STEP + 1 > cap) {
			size_t ncap = cap ? cap * 2 : RAW_STEP * 4;

			if (ncap > limit + RAW_STEP + 1)
				ncap = limit + RAW_STEP + 1;
			if ((np = realloc(p, ncap)) == NULL) {
				rc = pp_err_set(r->e, PP_ENOMEM, "out of memory "
				    "reading the profile");
				goto out;
			}
			p = np;
			cap = ncap;
		}
		n = archive_read_data(r->a, p + len, RAW_STEP);
		if (n < 0) {
			rc = archive_failure(r, "profile");
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > limit) {
			rc = pp_err_set(r->e, PP_ETOOBIG, "profile is over the "
			    "limit of %zu bytes once decompressed", limit);
			goto out;
		}
	}
	p[len] = '\0';
	*out = p;
	*outlen = len;
	p = NULL;	/* transferred */
out:
	free(p);
	return rc;
}

/* Gives each member its manifest entry, or its error; then adds the
 * entries no member answered. */

/* The manifest's metadata of a member. */
static void
copy_listed(struct pp_bundle_member *m, const struct listed *l)
{
	m->program = l->program;
	m->host = l->host;
	m->type = l->type;
	m->pid = l->pid;
	m->start_ns = l->start_ns;
	m->duration_ns = l->duration_ns;
	m->labels = l->labels;
	m->nlabels = l->nlabels;
}

static int
match_manifest(struct reader *r)
{
	struct pp_bundle *b = r->b;
	struct pp_bundle_member *m;
	struct listed key, *l;
	size_t i, n = b->nmembers;

	for (i = 0; i < n; i++) {
		m = &b->members[i];
		if (m->error != NULL)
			continue;
		key.name = m->name;
		l = bsearch(&key, r->listed, r->nlisted, sizeof(*l), cmp_listed);
		if (l == NULL) {
			m->error = "not listed in MANIFEST";
			continue;
		}
		if (l->seen) {
			m->error = "repeated member name";
			continue;
		}
		l->seen = true;
		copy_listed(m, l);
		if (strcmp(m->sha256, l->sha256) != 0)
			m->error = "SHA-256 differs from MANIFEST";
		else if (l->size >= 0 && (uint64_t)l->size != m->len)
			m->error = "size differs from MANIFEST";
	}
	for (i = 0; i < r->nlisted; i++) {
		l = &r->listed[i];
		if (l->seen)
			continue;
		if ((m = new_member(r)) == NULL)
			return PP_ENOMEM;
		m->name = l->name;
		copy_listed(m, l);
		m->error = "listed in MANIFEST but absent";
	}
	return 0;
}

static int
read_entries(struct reader *r)
{
	struct archive_entry *ent;
	struct pp_bundle_member *m;
	const char *name;
	unsigned char *data = NULL;
	size_t nentries = 0, size, len = 0;
	int64_t esize;
	bool raw;
	int ar, rc;

	for (;;) {
		ar = archive_read_next_header(r->a, &ent);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return archive_failure(r, nentries == 0 ? "bundle" :
			    "bundle after its first members");
		if (++nentries > r->max_members)
			return pp_err_set(r->e, PP_ETOOBIG, "bundle has more "
			    "than %zu members", r->max_members);
		if ((uint64_t)archive_filter_bytes(r->a, 0) > r->total +
		    nentries * HEADER_SLACK + STREAM_SLACK)
			return pp_err_set(r->e, PP_ETOOBIG, "bundle headers "
			    "are too large");
		raw = (archive_format(r->a) & ARCHIVE_FORMAT_BASE_MASK) ==
		    ARCHIVE_FORMAT_RAW;
		if (raw) {
			if ((rc = read_raw(r, &data, &len)) < 0)
				return rc;
			if ((m = new_member(r)) == NULL) {
				free(data);
				return PP_ENOMEM;
			}
			m->name = "profile";
			m->data = data;
			m->len = len;
			pp_sha256_hex(data, len, m->sha256);
			continue;
		}

		name = archive_entry_pathname_utf8(ent);
		if (name == NULL)
			name = archive_entry_pathname(ent);
		if (name == NULL)
			return pp_err_set(r->e, PP_EARCHIVE, "member %zu has no "
			    "name", nentries);
		/* A link or directory is never what pp-push writes; and a
		 * hard link would make two members share one's data. */
		if (archive_entry_filetype(ent) != AE_IFREG ||
		    archive_entry_hardlink(ent) != NULL)
			return pp_err_set(r->e, PP_EARCHIVE, "member '%s' is not "
			    "a regular file", name);
		esize = archive_entry_size(ent);
		if (!archive_entry_size_is_set(ent) || esize < 0)
			return pp_err_set(r->e, PP_EARCHIVE, "member '%s' has no "
			    "size", name);
		if ((uint64_t)esize > r->max_member ||
		    (nentries == 1 && (uint64_t)esize > r->max_manifest))
			return pp_err_set(r->e, PP_ETOOBIG, "member '%s' of %lld "
			    "bytes is over the limit of %zu", name,
			    (long long)esize, nentries == 1 ? r->max_manifest :
			    r->max_member);
		size = (size_t)esize;
		if (size > r->max_total - r->total)
			return pp_err_set(r->e, PP_ETOOBIG, "bundle is over the "
			    "limit of %zu bytes once unpacked", r->max_total);
		r->total += size;
		if (nentries == 1) {
			if (strcmp(name, "MANIFEST") != 0)
				return pp_err_set(r->e, PP_EPROTO, "bundle does "
				    "not begin with MANIFEST");
			if ((rc = read_sized(r, name, size, &data)) < 0)
				return rc;
			rc = parse_manifest(r, data, size);
			free(data);
			if (rc < 0)
				return rc;
			r->b->has_manifest = 1;
			continue;
		}
		if ((m = new_member(r)) == NULL)
			return PP_ENOMEM;
		if ((m->name = arena_strdup(r->arena, name)) == NULL)
			return PP_ENOMEM;
		if ((rc = read_sized(r, name, size, &data)) < 0)
			return rc;
		m->data = data;
		m->len = size;
		pp_sha256_hex(data, size, m->sha256);
		if (!valid_name(name))
			m->error = "bad member name";
	}
	if (nentries == 0)
		return pp_err_set(r->e, PP_EPROTO, "bundle does not begin with "
		    "MANIFEST");
	return 0;
}

int
pp_bundle_read(const void *buf, size_t len,
    const struct pp_bundle_limits *lim, struct pp_bundle **out,
    struct pp_err *e)
{
	struct reader r;
	struct pp_bundle *b = NULL;
	struct bundle_priv *priv;
	int rc = 0;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.e = e;
	r.max_members = lim && lim->max_members ? lim->max_members :
	    DEFAULT_MAX_MEMBERS;
	r.max_member = lim && lim->max_member ? lim->max_member :
	    DEFAULT_MAX_MEMBER;
	r.max_total = lim && lim->max_total ? lim->max_total :
	    DEFAULT_MAX_TOTAL;
	r.max_manifest = lim && lim->max_manifest ? lim->max_manifest :
	    DEFAULT_MAX_MANIFEST;
	if (len == 0)
		return pp_err_set(e, PP_EARCHIVE, "empty bundle");
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (priv = calloc(1, sizeof(*priv))) == NULL) {
		free(b);
		return pp_err_set(e, PP_ENOMEM, "out of memory reading bundle");
	}
	pp_arena_init(&priv->arena);
	b->priv = priv;
	r.b = b;
	r.arena = &priv->arena;
	/* Not support_filter_all: for lzop, lrzip and grzip it registers
	 * external programs, which hostile input would then run. Each of
	 * these returns ARCHIVE_WARN when it would do the same. */
	if ((r.a = archive_read_new()) == NULL) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory reading bundle");
		goto out;
	}
	if (archive_read_support_filter_gzip(r.a) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(r.a) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(r.a) != ARCHIVE_OK ||
	    archive_read_support_filter_lzma(r.a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r.a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(r.a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(r.a) != ARCHIVE_OK) {
		rc = pp_err_set(e, PP_EARCHIVE, "libarchive cannot read "
		    "tar, gzip, bzip2, xz or zstd by itself");
		goto out;
	}
	if (archive_read_open_memory(r.a, buf, len) != ARCHIVE_OK) {
		rc = archive_failure(&r, "bundle");
		goto out;
	}
	if ((rc = read_entries(&r)) < 0)
		goto out;
	if (b->has_manifest && (rc = match_manifest(&r)) < 0)
		goto out;
	*out = b;
	b = NULL;	/* transferred */
out:
	if (rc == PP_ENOMEM && (e == NULL || e->code != PP_ENOMEM))
		pp_err_set(e, PP_ENOMEM, "out of memory reading bundle");
	if (r.a != NULL)
		archive_read_free(r.a);
	pp_bundle_free(b);
	return rc;
}

void
pp_bundle_free(struct pp_bundle *b)
{
	struct bundle_priv *priv;
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nmembers; i++)
		free((void *)b->members[i].data);
	free(b->members);
	if ((priv = b->priv) != NULL) {
		pp_arena_release(&priv->arena);
		free(priv);
	}
	free(b);
}

struct wmember {
	const char *name;	/* in names' arena */
	unsigned char *data;
	size_t len;
	int64_t start_ns;
};

struct pp_bundle_writer {
	struct wmember *m;
	size_t n, cap;
	json_t *profiles;
	struct pp_strset names;
	struct pp_arena arena;
};

struct pp_bundle_writer *
pp_bundle_writer_new(void)
{
	struct pp_bundle_writer *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((w->profiles = json_array()) == NULL) {
		free(w);
		return NULL;
	}
	pp_strset_init(&w->names);
	pp_arena_init(&w->arena);
	return w;
}

void
pp_bundle_writer_free(struct pp_bundle_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++)
		free(w->m[i].data);
	free(w->m);
	json_decref(w->profiles);
	pp_strset_release(&w->names);
	pp_arena_release(&w->arena);
	free(w);
}

/* Sets key to a new value v; NULL v (out of memory, or a string that is
 * not UTF-8) fails. */
static int
set_new(json_t *o, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, key, v);
}

static json_t *
manifest_entry(const char *name, const char *sha, size_t len,
    const struct pp_bundle_member *m)
{
	json_t *o, *lab;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if (set_new(o, "name", json_string(name)) < 0 ||
	    set_new(o, "sha256", json_string(sha)) < 0 ||
	    set_new(o, "size", json_integer((json_int_t)len)) < 0)
		goto fail;
	if (m == NULL)
		return o;
	if ((m->program && set_new(o, "program", json_string(m->program)) < 0) ||
	    (m->host && set_new(o, "host", json_string(m->host)) < 0) ||
	    (m->pid && set_new(o, "pid", json_integer(m->pid)) < 0) ||
	    (m->type && set_new(o, "type", json_string(m->type)) < 0) ||
	    (m->start_ns && set_new(o, "start_ns",
	    json_integer(m->start_ns)) < 0) ||
	    (m->duration_ns && set_new(o, "duration_ns",
	    json_integer(m->duration_ns)) < 0))
		goto fail;
	if (m->nlabels == 0)
		return o;
	if ((lab = json_array()) == NULL || json_object_set_new(o, "labels",
	    lab) < 0)
		goto fail;
	for (i = 0; i < m->nlabels; i++)
		if (m->labels[i] == NULL ||
		    json_array_append_new(lab, json_string(m->labels[i])) < 0)
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int
pp_bundle_writer_add(struct pp_bundle_writer *w, const char *name,
    const void *data, size_t len, const struct pp_bundle_member *m)
{
	char sha[PP_HEX256_LEN + 1];
	const char *interned;
	unsigned char *copy = NULL;
	json_t *o = NULL, *probe;
	size_t before;
	int rc = 0;

	if (!valid_name(name) || strcmp(name, "MANIFEST") == 0)
		return PP_EINVAL;
	if (m != NULL && m->nlabels > 0 && m->labels == NULL)
		return PP_EINVAL;
	if (pp_grow(&w->m, &w->cap, w->n + 1, sizeof(*w->m)) < 0)
		return PP_ENOMEM;
	pp_sha256_hex(data, len, sha);
	if ((o = manifest_entry(name, sha, len, m)) == NULL) {
		/* json_string refuses strings that are not UTF-8: a name
		 * or label that cannot go into the MANIFEST is a bad
		 * argument, unless memory ran out. */
		probe = json_string("");
		rc = probe == NULL ? PP_ENOMEM : PP_EINVAL;
		json_decref(probe);
		goto out;
	}
	if ((copy = malloc(len ? len : 1)) == NULL) {
		rc = PP_ENOMEM;
		goto out;
	}
	before = w->names.n;
	if ((interned = pp_strset_intern(&w->names, &w->arena, name,
	    strlen(name))) == NULL) {
		rc = PP_ENOMEM;
		goto out;
	}
	if (w->names.n == before) {
		rc = PP_EINVAL;		/* repeated */
		goto out;
	}
	/* The name is taken now even if appending fails: out of memory
	 * leaves the writer good for nothing but pp_bundle_writer_free. */
	rc = json_array_append_new(w->profiles, o) < 0 ? PP_ENOMEM : 0;
	o = NULL;	/* transferred, even on failure */
	if (rc < 0)
		goto out;
	memcpy(copy, data, len);
	w->m[w->n].name = interned;
	w->m[w->n].data = copy;
	w->m[w->n].len = len;
	w->m[w->n].start_ns = m ? m->start_ns : 0;
	w->n++;
	copy = NULL;	/* transferred */
out:
	free(copy);
	json_decref(o);
	return rc;
}

static la_ssize_t
write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	struct pp_buf *out = data;

	pp_buf_add(out, buf, len);
	if (out->oom) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)len;
}

static int
write_member(struct archive *a, const char *name, const void *data,
    size_t len, time_t mtime, struct pp_err *e)
{
	struct archive_entry *ent;
	int rc = 0;

	if ((ent = archive_entry_new()) == NULL)
		return pp_err_set(e, PP_ENOMEM, "out of memory writing bundle");
	archive_entry_set_pathname_utf8(ent, name);
	archive_entry_set_size(ent, (la_int64_t)len);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_mtime(ent, mtime, 0);
	if (archive_write_header(a, ent) != ARCHIVE_OK ||
	    (len > 0 && archive_write_data(a, data, len) != (la_ssize_t)len))
		rc = pp_err_set(e, archive_errno(a) == ENOMEM ? PP_ENOMEM :
		    PP_EARCHIVE, "cannot write '%s' to bundle: %s", name,
		    archive_error_string(a) ? archive_error_string(a) :
		    "libarchive failed");
	archive_entry_free(ent);
	return rc;
}

int
pp_bundle_writer_finish(struct pp_bundle_writer *w, void **buf,
    size_t *len, struct pp_err *e)
{
	struct archive *a = NULL;
	struct pp_buf out;
	json_t *root = NULL;
	char *text = NULL;
	time_t mtime = 0, t;
	size_t i;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	pp_buf_init(&out);
	/* Times come from the profiles, so the same profiles make the same
	 * bytes. */
	for (i = 0; i < w->n; i++) {
		t = (time_t)(w->m[i].start_ns / 1000000000);
		if (t > mtime)
			mtime = t;
	}
	if ((root = json_object()) == NULL ||
	    set_new(root, "version", json_integer(1)) < 0 ||
	    json_object_set(root, "profiles", w->profiles) < 0 ||
	    (text = json_dumps(root, JSON_COMPACT)) == NULL) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory writing MANIFEST");
		goto out;
	}
	if ((a = archive_write_new()) == NULL ||
	    archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, &out, NULL, write_cb, NULL, NULL) !=
	    ARCHIVE_OK) {
		rc = pp_err_set(e, PP_EARCHIVE, "cannot start the bundle: %s",
		    a && archive_error_string(a) ? archive_error_string(a) :
		    "libarchive failed");
		goto out;
	}
	if ((rc = write_member(a, "MANIFEST", text, strlen(text), mtime, e)) < 0)
		goto out;
	for (i = 0; i < w->n; i++)
		if ((rc = write_member(a, w->m[i].name, w->m[i].data,
		    w->m[i].len, (time_t)(w->m[i].start_ns / 1000000000),
		    e)) < 0)
			goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = pp_err_set(e, out.oom ? PP_ENOMEM : PP_EARCHIVE,
		    "cannot finish the bundle: %s", archive_error_string(a) ?
		    archive_error_string(a) : "libarchive failed");
		goto out;
	}
	*buf = out.data;
	*len = out.len;
	pp_buf_init(&out);	/* transferred */
out:
	if (a != NULL)
		archive_write_free(a);
	free(text);
	json_decref(root);
	pp_buf_release(&out);
	return rc;
}
