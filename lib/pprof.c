/* Decoding, validation and encoding of profile.proto. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>
#include <zlib.h>

#include "profile.h"
#include "profile.pb-c.h"

#define DEFAULT_MAX_INPUT	((size_t)128 << 20)
#define DEFAULT_MAX_RAW		((size_t)128 << 20)
/* The sum of a sample type's absolute values must stay under this, so
 * that no total, node, edge or merge of a few profiles overflows. */
#define MAX_VALUE_SUM		((uint64_t)1 << 60)

typedef Perftools__Profiles__Profile PB_Profile;

/* protobuf-c has no limits of its own: a budgeted allocator makes unpack
 * fail cleanly when a small input asks for a huge amount of memory. The
 * memory comes from an arena, freed at once after the conversion: unpack
 * makes a great many small objects, and freeing each costs more than the
 * rest of the decoding. */
struct budget {
	size_t left;
	bool exhausted;
	struct pp_arena arena;
};

#define BUDGET_HDR	16	/* the size, before each object: aligned */

static void *
budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	unsigned char *p;

	if (size > b->left || size > SIZE_MAX / 2 - BUDGET_HDR) {
		b->exhausted = true;
		return NULL;
	}
	if ((p = pp_arena_alloc_uninit(&b->arena, size + BUDGET_HDR)) == NULL)
		return NULL;
	b->left -= size;
	memcpy(p, &size, sizeof(size));
	return p + BUDGET_HDR;
}

/* The memory stays in the arena; only the budget gets it back. */
static void
budget_free(void *data, void *ptr)
{
	struct budget *b = data;
	size_t size;

	if (ptr == NULL)
		return;
	memcpy(&size, (unsigned char *)ptr - BUDGET_HDR, sizeof(size));
	b->left += size;
}

static int
gunzip(const unsigned char *in, size_t len, size_t max, unsigned char **out,
    size_t *outlen, struct pp_err *e)
{
	z_stream z;
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;
	int zr, rc = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return pp_err_set(e, PP_ENOMEM, "cannot start gunzip");
	z.next_in = (unsigned char *)in;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				rc = pp_err_set(e, PP_ETOOBIG,
				    "profile is larger than %zu bytes when "
				    "uncompressed", max);
				goto out;
			}
			cap = cap ? cap * 2 : len * 4 + 4096;
			if (cap > max)
				cap = max;
			unsigned char *nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = pp_err_set(e, PP_ENOMEM,
				    "out of memory decompressing profile");
				goto out;
			}
			buf = nb;
		}
		z.next_out = buf + n;
		z.avail_out = (uInt)(cap - n > UINT32_MAX ? UINT32_MAX : cap - n);
		zr = inflate(&z, Z_NO_FLUSH);
		n = (size_t)(z.next_out - buf);
		if (zr == Z_STREAM_END) {
			/* Concatenated gzip members (as gzip writes them) are
			 * one stream, as Go's reader sees them. */
			if (z.avail_in > 0 && inflateReset(&z) == Z_OK)
				continue;
			break;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0) {
			rc = pp_err_set(e, PP_EFORMAT,
			    "truncated gzip data after %zu bytes", n);
			goto out;
		}
		if (zr != Z_OK) {
			rc = pp_err_set(e, PP_EFORMAT, "bad gzip data: %s",
			    z.msg ? z.msg : "inflate failed");
			goto out;
		}
	}
	*out = buf;
	*outlen = n;
	buf = NULL;	/* transferred */
out:
	inflateEnd(&z);
	free(buf);
	return rc;
}

/* Resolves ids to objects: a dense array when ids are small, else a map. */
struct idx {
	void **dense;
	size_t ndense;
	struct pp_u64map map;
};

static int
idx_put(struct idx *x, uint64_t id, void *obj)
{
	bool fresh;

	if (id < x->ndense) {
		if (x->dense[id] != NULL)
			return 1;
		x->dense[id] = obj;
		return 0;
	}
	if (pp_u64map_put(&x->map, id, (uint64_t)(uintptr_t)obj, &fresh) < 0)
		return -1;
	return fresh ? 0 : 1;
}

static void *
idx_get(const struct idx *x, uint64_t id)
{
	uint64_t *v;

	if (id < x->ndense)
		return x->dense[id];
	v = pp_u64map_get(&x->map, id);
	return v ? (void *)(uintptr_t)*v : NULL;
}

static int
idx_init(struct idx *x, size_t n)
{
	memset(x, 0, sizeof(*x));
	pp_u64map_init(&x->map);
	x->ndense = n + 1;
	x->dense = calloc(x->ndense, sizeof(*x->dense));
	return x->dense ? 0 : -1;
}

static void
idx_release(struct idx *x)
{
	free(x->dense);
	pp_u64map_release(&x->map);
}

struct conv {
	const PB_Profile *pb;
	struct pp_profile *p;
	const char **str;	/* interned string table */
	struct idx mappings, functions, locations;
	struct pp_err *e;
};

static int
getstr(struct conv *c, int64_t i, const char **out, const char *what)
{
	if (i < 0 || (uint64_t)i >= c->pb->n_string_table)
		return pp_err_set(c->e, PP_EINVAL,
		    "%s: string index %lld out of range [0..%zu)", what,
		    (long long)i, c->pb->n_string_table);
	*out = c->str[i];
	return 0;
}

static int
conv_strings(struct conv *c)
{
	size_t i;

	if (c->pb->n_string_table == 0)
		return pp_err_set(c->e, PP_EINVAL, "empty string table");
	if (c->pb->string_table[0][0] != '\0')
		return pp_err_set(c->e, PP_EINVAL,
		    "string table does not start with \"\"");
	c->str = calloc(c->pb->n_string_table, sizeof(*c->str));
	if (c->str == NULL)
		return PP_ENOMEM;
	for (i = 0; i < c->pb->n_string_table; i++)
		if ((c->str[i] = pp_profile_intern_str(c->p,
		    c->pb->string_table[i])) == NULL)
			return PP_ENOMEM;
	return 0;
}

static int
conv_mappings(struct conv *c)
{
	size_t i;
	int rc;

	if (idx_init(&c->mappings, c->pb->n_mapping) < 0)
		return PP_ENOMEM;
	for (i = 0; i < c->pb->n_mapping; i++) {
		const Perftools__Profiles__Mapping *pm = c->pb->mapping[i];
		struct pp_mapping *m;

		if (pm->id == 0)
			return pp_err_set(c->e, PP_EINVAL,
			    "mapping at index %zu has the reserved id 0", i);
		if ((m = pp_profile_add_mapping(c->p, pm->id)) == NULL)
			return PP_ENOMEM;
		if ((rc = idx_put(&c->mappings, pm->id, m)) < 0)
			return PP_ENOMEM;
		if (rc > 0)
			return pp_err_set(c->e, PP_EINVAL,
			    "two mappings with id %llu",
			    (unsigned long long)pm->id);
		m->start = pm->memory_start;
		m->limit = pm->memory_limit;
		m->offset = pm->file_offset;
		m->has_functions = pm->has_functions;
		m->has_filenames = pm->has_filenames;
		m->has_line_numbers = pm->has_line_numbers;
		m->has_inline_frames = pm->has_inline_frames;
		if ((rc = getstr(c, pm->filename, &m->file,
		    "mapping file name")) < 0 ||
		    (rc = getstr(c, pm->build_id, &m->build_id,
		    "mapping build id")) < 0)
			return rc;
	}
	return 0;
}

static int
conv_functions(struct conv *c)
{
	size_t i;
	int rc;

	if (idx_init(&c->functions, c->pb->n_function) < 0)
		return PP_ENOMEM;
	for (i = 0; i < c->pb->n_function; i++) {
		const Perftools__Profiles__Function *pf = c->pb->function[i];
		struct pp_function *f;

		if (pf->id == 0)
			return pp_err_set(c->e, PP_EINVAL,
			    "function at index %zu has the reserved id 0", i);
		if ((f = pp_profile_add_function(c->p, pf->id)) == NULL)
			return PP_ENOMEM;
		if ((rc = idx_put(&c->functions, pf->id, f)) < 0)
			return PP_ENOMEM;
		if (rc > 0)
			return pp_err_set(c->e, PP_EINVAL,
			    "two functions with id %llu",
			    (unsigned long long)pf->id);
		f->start_line = pf->start_line;
		if ((rc = getstr(c, pf->name, &f->name, "function name")) < 0 ||
		    (rc = getstr(c, pf->system_name, &f->system_name,
		    "function system name")) < 0 ||
		    (rc = getstr(c, pf->filename, &f->filename,
		    "function file name")) < 0)
			return rc;
	}
	return 0;
}

static int
conv_locations(struct conv *c)
{
	size_t i, k;
	int rc;

	if (idx_init(&c->locations, c->pb->n_location) < 0)
		return PP_ENOMEM;
	for (i = 0; i < c->pb->n_location; i++) {
		const Perftools__Profiles__Location *pl = c->pb->location[i];
		struct pp_location *l;

		if (pl->id == 0)
			return pp_err_set(c->e, PP_EINVAL,
			    "location at index %zu has the reserved id 0", i);
		if ((l = pp_profile_add_location(c->p, pl->id,
		    pl->n_line)) == NULL)
			return PP_ENOMEM;
		if ((rc = idx_put(&c->locations, pl->id, l)) < 0)
			return PP_ENOMEM;
		if (rc > 0)
			return pp_err_set(c->e, PP_EINVAL,
			    "two locations with id %llu",
			    (unsigned long long)pl->id);
		l->address = pl->address;
		l->is_folded = pl->is_folded;
		if (pl->mapping_id != 0 && (l->mapping =
		    idx_get(&c->mappings, pl->mapping_id)) == NULL)
			return pp_err_set(c->e, PP_EINVAL,
			    "location %llu refers to mapping %llu, which does "
			    "not exist", (unsigned long long)pl->id,
			    (unsigned long long)pl->mapping_id);
		for (k = 0; k < pl->n_line; k++) {
			const Perftools__Profiles__Line *pn = pl->line[k];

			l->line[k].line = pn->line;
			l->line[k].column = pn->column;
			if ((l->line[k].function = idx_get(&c->functions,
			    pn->function_id)) == NULL)
				return pp_err_set(c->e, PP_EINVAL,
				    "location %llu refers to function %llu, "
				    "which does not exist",
				    (unsigned long long)pl->id,
				    (unsigned long long)pn->function_id);
		}
	}
	return 0;
}

static int
conv_samples(struct conv *c)
{
	const PB_Profile *pb = c->pb;
	uint64_t *sums;
	size_t i, k;
	int rc;

	c->p->nsample_type = pb->n_sample_type;
	if (pb->n_sample_type > 0 && (c->p->sample_type = pp_profile_alloc(c->p,
	    pb->n_sample_type * sizeof(*c->p->sample_type))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < pb->n_sample_type; i++)
		if ((rc = getstr(c, pb->sample_type[i]->type,
		    &c->p->sample_type[i].type, "sample type")) < 0 ||
		    (rc = getstr(c, pb->sample_type[i]->unit,
		    &c->p->sample_type[i].unit, "sample unit")) < 0)
			return rc;
	if (pb->n_sample > 0 && pb->n_sample_type == 0)
		return pp_err_set(c->e, PP_EINVAL,
		    "profile has samples but no sample types");
	if ((sums = pp_profile_alloc(c->p, (pb->n_sample_type + 1) *
	    sizeof(*sums))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < pb->n_sample; i++) {
		const Perftools__Profiles__Sample *ps = pb->sample[i];
		struct pp_sample *s;

		if (ps->n_value != pb->n_sample_type)
			return pp_err_set(c->e, PP_EINVAL,
			    "sample %zu has %zu values for %zu sample type%s",
			    i, ps->n_value, pb->n_sample_type,
			    pb->n_sample_type == 1 ? "" : "s");
		if ((s = pp_profile_add_sample(c->p, ps->n_location_id,
		    ps->n_label)) == NULL)
			return PP_ENOMEM;
		memcpy(s->value, ps->value, ps->n_value * sizeof(*s->value));
		for (k = 0; k < ps->n_value; k++) {
			int64_t v = ps->value[k];
			uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;

			if (a > MAX_VALUE_SUM || (sums[k] += a) > MAX_VALUE_SUM)
				return pp_err_set(c->e, PP_EINVAL,
				    "sample values of type %zu add up to more "
				    "than 2^60", k);
		}
		for (k = 0; k < ps->n_location_id; k++)
			if ((s->location[k] = idx_get(&c->locations,
			    ps->location_id[k])) == NULL)
				return pp_err_set(c->e, PP_EINVAL,
				    "sample %zu refers to location %llu, which "
				    "does not exist", i,
				    (unsigned long long)ps->location_id[k]);
		for (k = 0; k < ps->n_label; k++) {
			const Perftools__Profiles__Label *pl = ps->label[k];
			struct pp_label *l = &s->label[k];

			l->num = pl->num;
			if ((rc = getstr(c, pl->key, &l->key, "label key")) < 0 ||
			    (rc = getstr(c, pl->str, &l->str,
			    "label value")) < 0 ||
			    (rc = getstr(c, pl->num_unit, &l->unit,
			    "label unit")) < 0)
				return rc;
		}
	}
	return 0;
}

static int
conv_profile(struct conv *c)
{
	const PB_Profile *pb = c->pb;
	struct pp_profile *p = c->p;
	size_t i;
	int rc;

	if ((rc = conv_strings(c)) < 0 || (rc = conv_mappings(c)) < 0 ||
	    (rc = conv_functions(c)) < 0 || (rc = conv_locations(c)) < 0 ||
	    (rc = conv_samples(c)) < 0)
		return rc;
	p->time_nanos = pb->time_nanos;
	p->duration_nanos = pb->duration_nanos;
	p->period = pb->period;
	if ((rc = getstr(c, pb->drop_frames, &p->drop_frames,
	    "drop_frames")) < 0 ||
	    (rc = getstr(c, pb->keep_frames, &p->keep_frames,
	    "keep_frames")) < 0 ||
	    (rc = getstr(c, pb->default_sample_type, &p->default_sample_type,
	    "default sample type")) < 0)
		return rc;
	if (pb->period_type != NULL &&
	    ((rc = getstr(c, pb->period_type->type, &p->period_type.type,
	    "period type")) < 0 ||
	    (rc = getstr(c, pb->period_type->unit, &p->period_type.unit,
	    "period unit")) < 0))
		return rc;
	if (pb->n_comment > 0 && (p->comment = pp_profile_alloc(p,
	    pb->n_comment * sizeof(*p->comment))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < pb->n_comment; i++)
		if ((rc = getstr(c, pb->comment[i], &p->comment[i],
		    "comment")) < 0)
			return rc;
	p->ncomment = pb->n_comment;
	return 0;
}

int
pp_profile_decode(const void *buf, size_t len,
    const struct pp_decode_limits *lim, struct pp_profile **out,
    struct pp_err *e)
{
	size_t max_input = lim && lim->max_input ? lim->max_input :
	    DEFAULT_MAX_INPUT;
	size_t max_raw = lim && lim->max_raw ? lim->max_raw : DEFAULT_MAX_RAW;
	const unsigned char *raw = buf;
	unsigned char *inflated = NULL;
	size_t rawlen = len;
	struct budget budget;
	ProtobufCAllocator alloc = { budget_alloc, budget_free, &budget };
	struct conv c;
	PB_Profile *pb = NULL;
	bool arena_live = false;
	int rc;

	memset(&c, 0, sizeof(c));
	if (len == 0)
		return pp_err_set(e, PP_EEMPTY, "empty input");
	if (len > max_input)
		return pp_err_set(e, PP_ETOOBIG,
		    "input is larger than %zu bytes", max_input);
	if (len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
		if ((rc = gunzip(raw, len, max_raw, &inflated, &rawlen, e)) < 0)
			return rc;
		raw = inflated;
		if (rawlen == 0) {
			rc = pp_err_set(e, PP_EEMPTY, "empty profile");
			goto out;
		}
	}
	/* Generous for real profiles (a few times their size in memory),
	 * fatal for a small message of many empty repeated fields. */
	budget.left = rawlen * 16 + ((size_t)64 << 20);
	if (lim && lim->max_memory && budget.left > lim->max_memory)
		budget.left = lim->max_memory;
	budget.exhausted = false;
	pp_arena_init(&budget.arena);
	arena_live = true;
	pb = perftools__profiles__profile__unpack(&alloc, rawlen, raw);
	if (pb == NULL) {
		rc = pp_err_set(e, PP_EFORMAT,
		    budget.exhausted ? "profile too complex to decode "
		    "within its memory budget" :
		    "not a pprof profile: protobuf decoding failed");
		goto out;
	}
	c.pb = pb;
	c.e = e;
	if ((c.p = pp_profile_new()) == NULL) {
		rc = PP_ENOMEM;
		goto out;
	}
	if ((rc = conv_profile(&c)) < 0) {
		if (rc == PP_ENOMEM)
			pp_err_set(e, rc, "out of memory decoding profile");
		goto out;
	}
	*out = c.p;
	c.p = NULL;	/* transferred */
out:
	/* pb lives in the budget's arena: no free_unpacked. */
	if (arena_live)
		pp_arena_release(&budget.arena);
	idx_release(&c.mappings);
	idx_release(&c.functions);
	idx_release(&c.locations);
	free(c.str);
	pp_profile_free(c.p);
	free(inflated);
	return rc;
}

int
pp_profile_read_fd(int fd, const struct pp_decode_limits *lim,
    struct pp_profile **out, struct pp_err *e)
{
	size_t max = lim && lim->max_input ? lim->max_input : DEFAULT_MAX_INPUT;
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int rc;

	for (;;) {
		if (n == cap) {
			if (cap > max) {
				rc = pp_err_set(e, PP_ETOOBIG,
				    "input is larger than %zu bytes", max);
				goto out;
			}
			if (pp_grow(&buf, &cap, n + 65536, 1) < 0) {
				rc = PP_ENOMEM;
				goto out;
			}
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pp_err_set(e, PP_EIO, "read error: %s",
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	rc = pp_profile_decode(buf, n, lim, out, e);
out:
	free(buf);
	return rc;
}

/* Encoding: the model back to protobuf-c structures, then gzip. */

struct enc {
	const struct pp_profile *p;
	struct pp_u64map strindex;	/* interned pointer -> index + 1 */
	char **strs;
	size_t nstrs, capstrs;
	struct pp_arena arena;
	bool oom;
};

/* NULL for n == 0; x->oom is set when an allocation fails. */
static void *
enc_alloc(struct enc *x, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	if ((p = pp_arena_alloc(&x->arena, n * size)) == NULL)
		x->oom = true;
	return p;
}

static int64_t
enc_str(struct enc *x, const char *s, int *err)
{
	uint64_t *v, key;
	const char *interned = s;

	/* Strings of the model are interned, so the pointer is the key; the
	 * empty string is always index 0. */
	if (*s == '\0')
		return 0;
	key = (uint64_t)(uintptr_t)interned;
	if ((v = pp_u64map_get(&x->strindex, key)) != NULL)
		return (int64_t)*v;
	if (pp_grow(&x->strs, &x->capstrs, x->nstrs + 1, sizeof(*x->strs)) < 0 ||
	    pp_u64map_put(&x->strindex, key, x->nstrs, NULL) < 0) {
		*err = 1;
		return 0;
	}
	x->strs[x->nstrs] = (char *)s;
	return (int64_t)x->nstrs++;
}

int
pp_gzip(const void *in, size_t len, void **out, size_t *outlen)
{
	z_stream z;
	unsigned char *buf;
	size_t cap;
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return PP_ENOMEM;
	cap = deflateBound(&z, len) + 64;
	if ((buf = malloc(cap)) == NULL) {
		deflateEnd(&z);
		return PP_ENOMEM;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	zr = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return PP_ENOMEM;
	}
	*out = buf;
	*outlen = cap - z.avail_out;
	return 0;
}

int
pp_profile_encode(const struct pp_profile *p, void **out, size_t *outlen)
{
	PB_Profile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType period_type =
	    PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	struct enc x;
	unsigned char *packed = NULL;
	size_t i, k, size;
	int err = 0, rc = PP_ENOMEM;

	memset(&x, 0, sizeof(x));
	x.p = p;
	pp_u64map_init(&x.strindex);
	pp_arena_init(&x.arena);
	if (pp_grow(&x.strs, &x.capstrs, 1, sizeof(*x.strs)) < 0)
		goto out;
	x.strs[x.nstrs++] = "";

	pb.n_sample_type = p->nsample_type;
	pb.sample_type = enc_alloc(&x, p->nsample_type, sizeof(void *));
	if (x.oom)
		goto out;
	for (i = 0; i < p->nsample_type; i++) {
		Perftools__Profiles__ValueType *vt;

		if ((vt = enc_alloc(&x, 1, sizeof(*vt))) == NULL)
			goto out;
		perftools__profiles__value_type__init(vt);
		vt->type = enc_str(&x, p->sample_type[i].type, &err);
		vt->unit = enc_str(&x, p->sample_type[i].unit, &err);
		pb.sample_type[i] = vt;
	}

	pb.n_sample = p->nsample;
	pb.sample = enc_alloc(&x, p->nsample, sizeof(void *));
	if (x.oom)
		goto out;
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = p->sample[i];
		Perftools__Profiles__Sample *ps;

		if ((ps = enc_alloc(&x, 1, sizeof(*ps))) == NULL)
			goto out;
		perftools__profiles__sample__init(ps);
		ps->n_location_id = s->nlocation;
		ps->location_id = enc_alloc(&x, s->nlocation, sizeof(uint64_t));
		if (x.oom)
			goto out;
		for (k = 0; k < s->nlocation; k++)
			ps->location_id[k] = s->location[k]->id;
		ps->n_value = p->nsample_type;
		ps->value = s->value;
		ps->n_label = s->nlabel;
		ps->label = enc_alloc(&x, s->nlabel, sizeof(void *));
		if (x.oom)
			goto out;
		for (k = 0; k < s->nlabel; k++) {
			Perftools__Profiles__Label *pl;

			if ((pl = enc_alloc(&x, 1, sizeof(*pl))) == NULL)
				goto out;
			perftools__profiles__label__init(pl);
			pl->key = enc_str(&x, s->label[k].key, &err);
			pl->str = enc_str(&x, s->label[k].str, &err);
			pl->num = s->label[k].num;
			pl->num_unit = enc_str(&x, s->label[k].unit, &err);
			ps->label[k] = pl;
		}
		pb.sample[i] = ps;
	}

	pb.n_mapping = p->nmapping;
	pb.mapping = enc_alloc(&x, p->nmapping, sizeof(void *));
	if (x.oom)
		goto out;
	for (i = 0; i < p->nmapping; i++) {
		const struct pp_mapping *m = p->mapping[i];
		Perftools__Profiles__Mapping *pm;

		if ((pm = enc_alloc(&x, 1, sizeof(*pm))) == NULL)
			goto out;
		perftools__profiles__mapping__init(pm);
		pm->id = m->id;
		pm->memory_start = m->start;
		pm->memory_limit = m->limit;
		pm->file_offset = m->offset;
		pm->filename = enc_str(&x, m->file, &err);
		pm->build_id = enc_str(&x, m->build_id, &err);
		pm->has_functions = m->has_functions;
		pm->has_filenames = m->has_filenames;
		pm->has_line_numbers = m->has_line_numbers;
		pm->has_inline_frames = m->has_inline_frames;
		pb.mapping[i] = pm;
	}

	pb.n_location = p->nlocation;
	pb.location = enc_alloc(&x, p->nlocation, sizeof(void *));
	if (x.oom)
		goto out;
	for (i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = p->location[i];
		Perftools__Profiles__Location *pl;

		if ((pl = enc_alloc(&x, 1, sizeof(*pl))) == NULL)
			goto out;
		perftools__profiles__location__init(pl);
		pl->id = l->id;
		pl->mapping_id = l->mapping ? l->mapping->id : 0;
		pl->address = l->address;
		pl->is_folded = l->is_folded;
		pl->n_line = l->nline;
		pl->line = enc_alloc(&x, l->nline, sizeof(void *));
		if (x.oom)
			goto out;
		for (k = 0; k < l->nline; k++) {
			Perftools__Profiles__Line *pn;

			if ((pn = enc_alloc(&x, 1, sizeof(*pn))) == NULL)
				goto out;
			perftools__profiles__line__init(pn);
			pn->function_id = l->line[k].function->id;
			pn->line = l->line[k].line;
			pn->column = l->line[k].column;
			pl->line[k] = pn;
		}
		pb.location[i] = pl;
	}

	pb.n_function = p->nfunction;
	pb.function = enc_alloc(&x, p->nfunction, sizeof(void *));
	if (x.oom)
		goto out;
	for (i = 0; i < p->nfunction; i++) {
		const struct pp_function *f = p->function[i];
		Perftools__Profiles__Function *pf;

		if ((pf = enc_alloc(&x, 1, sizeof(*pf))) == NULL)
			goto out;
		perftools__profiles__function__init(pf);
		pf->id = f->id;
		pf->name = enc_str(&x, f->name, &err);
		pf->system_name = enc_str(&x, f->system_name, &err);
		pf->filename = enc_str(&x, f->filename, &err);
		pf->start_line = f->start_line;
		pb.function[i] = pf;
	}

	pb.drop_frames = enc_str(&x, p->drop_frames, &err);
	pb.keep_frames = enc_str(&x, p->keep_frames, &err);
	pb.time_nanos = p->time_nanos;
	pb.duration_nanos = p->duration_nanos;
	period_type.type = enc_str(&x, p->period_type.type, &err);
	period_type.unit = enc_str(&x, p->period_type.unit, &err);
	if (period_type.type != 0 || period_type.unit != 0)
		pb.period_type = &period_type;
	pb.period = p->period;
	pb.n_comment = p->ncomment;
	pb.comment = enc_alloc(&x, p->ncomment, sizeof(int64_t));
	if (x.oom)
		goto out;
	for (i = 0; i < p->ncomment; i++)
		pb.comment[i] = enc_str(&x, p->comment[i], &err);
	pb.default_sample_type = enc_str(&x, p->default_sample_type, &err);
	if (err)
		goto out;
	pb.n_string_table = x.nstrs;
	pb.string_table = x.strs;

	size = perftools__profiles__profile__get_packed_size(&pb);
	if ((packed = malloc(size ? size : 1)) == NULL)
		goto out;
	perftools__profiles__profile__pack(&pb, packed);
	rc = pp_gzip(packed, size, out, outlen);
out:
	free(packed);
	free(x.strs);
	pp_u64map_release(&x.strindex);
	pp_arena_release(&x.arena);
	return rc;
}
