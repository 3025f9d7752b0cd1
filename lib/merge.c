/* pprof's merge (profile/merge.go): objects are deduplicated by content
 * keys, samples with the same stack and labels are summed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* Deduplicated objects of the merged profile are found by content: a table
 * of object indices under content hashes, probing h, h+1, ... on a
 * collision (equality is decided by the caller). Samples have a table of
 * their own that keeps the hash beside the index, so that a probe compares
 * a sample only when the hashes are equal. */
struct sample_slot {
	uint64_t hash;		/* 0: empty */
	size_t index;
};

struct pp_merger {
	struct pp_profile *p;
	size_t nsrc;			/* profiles added */
	bool typed;			/* the first one gave the types */
	uint64_t *sum;			/* |values| so far, by sample type */
	const char **comment;		/* malloc'd until finish */
	size_t capcomment;
	int failed;			/* the first failure, or 0 */
	struct pp_err why;		/* ... and what it was */

	struct pp_u64map mappings, functions, locations;
	struct sample_slot *samples;
	size_t capsamples;
	int64_t *mapping_offset;	/* by merged mapping index */
	size_t capoffset;

	/* Per source: its objects -> merged objects. Locations by their
	 * index (loc_by_index[i] is the merged index + 1, 0 not yet seen),
	 * unless the source's indices are not its positions. */
	uint32_t *loc_by_index;
	size_t caploc;
	bool by_index;
	/* Functions by id (fn_by_id[id] is the merged index + 1) when the
	 * source's ids are small, as decoded ones are; else by address. */
	uint32_t *fn_by_id, *fn_ids;
	size_t capfn;
	struct pp_u64map mapping_by_src, function_by_src, location_by_src;

	/* The sample being merged, before it is known to be new. */
	struct pp_location **stack;
	size_t capstack;
	struct pp_label *label;
	size_t caplabel;
};

#define MIX(h, v)	((h) = pp_hash_u64((h) ^ (uint64_t)(v)) + 0x9e3779b97f4a7c15ULL)

static uint64_t
nz(uint64_t h)
{
	return h ? h : 1;
}

static const char *
in(struct pp_profile *p, const char *s)
{
	return pp_profile_intern_str(p, s);
}

/* pprof's Mapping.key: size rounded to pages, offset, build id or file. */
static uint64_t
mapping_hash(const struct pp_mapping *m, uint64_t *size, const char **id)
{
	uint64_t h = 0;

	*size = m->limit - m->start + 0x1000 - 1;
	*size -= *size % 0x1000;
	*id = *m->build_id ? m->build_id : m->file;
	MIX(h, *size);
	MIX(h, m->offset);
	MIX(h, (uintptr_t)*id);
	return nz(h);
}

static int
map_mapping(struct pp_merger *x, const struct pp_mapping *src,
    struct pp_mapping **out, int64_t *offset)
{
	struct pp_profile *p = x->p;
	const char *file, *build_id, *id, *mid;
	struct pp_mapping *m;
	uint64_t h, size, msize, *v;
	size_t i;

	*out = NULL;
	*offset = 0;
	if (src == NULL)
		return 0;
	if ((v = pp_u64map_get(&x->mapping_by_src, (uintptr_t)src)) != NULL) {
		*out = p->mapping[*v];
		*offset = x->mapping_offset[*v];
		return 0;
	}
	if ((file = in(p, src->file)) == NULL ||
	    (build_id = in(p, src->build_id)) == NULL)
		return PP_ENOMEM;
	/* The key in the merged profile's strings. */
	struct pp_mapping key = *src;
	key.file = file;
	key.build_id = build_id;
	for (h = mapping_hash(&key, &size, &id);; h = nz(h + 1)) {
		if ((v = pp_u64map_get(&x->mappings, h)) == NULL)
			break;
		m = p->mapping[*v];
		mapping_hash(m, &msize, &mid);
		if (msize == size && m->offset == src->offset && mid == id) {
			if (pp_u64map_put(&x->mapping_by_src, (uintptr_t)src,
			    *v, NULL) < 0)
				return PP_ENOMEM;
			*out = m;
			/* pprof's mapInfo.offset: this source's addresses
			 * shifted to the merged mapping's start. */
			*offset = (int64_t)m->start - (int64_t)src->start;
			x->mapping_offset[*v] = *offset;
			return 0;
		}
	}
	i = p->nmapping;
	if ((m = pp_profile_add_mapping(p, i + 1)) == NULL ||
	    pp_grow(&x->mapping_offset, &x->capoffset, i + 1,
	    sizeof(*x->mapping_offset)) < 0)
		return PP_ENOMEM;
	*m = key;
	m->id = i + 1;
	x->mapping_offset[i] = 0;
	if (pp_u64map_put(&x->mappings, h, i, NULL) < 0 ||
	    pp_u64map_put(&x->mapping_by_src, (uintptr_t)src, i, NULL) < 0)
		return PP_ENOMEM;
	*out = m;
	return 0;
}

static int
map_function(struct pp_merger *x, const struct pp_function *src,
    struct pp_function **out)
{
	struct pp_profile *p = x->p;
	const char *name, *sys, *file;
	struct pp_function *f;
	uint64_t h = 0, *v;
	size_t i;

	if (x->fn_by_id != NULL && x->fn_by_id[src->id] != 0) {
		*out = p->function[x->fn_by_id[src->id] - 1];
		return 0;
	}
	if (x->fn_by_id == NULL &&
	    (v = pp_u64map_get(&x->function_by_src, (uintptr_t)src)) != NULL) {
		*out = p->function[*v];
		return 0;
	}
	if ((name = in(p, src->name)) == NULL ||
	    (sys = in(p, src->system_name)) == NULL ||
	    (file = in(p, src->filename)) == NULL)
		return PP_ENOMEM;
	MIX(h, src->start_line);
	MIX(h, (uintptr_t)name);
	MIX(h, (uintptr_t)sys);
	MIX(h, (uintptr_t)file);
	for (h = nz(h);; h = nz(h + 1)) {
		if ((v = pp_u64map_get(&x->functions, h)) == NULL)
			break;
		f = p->function[*v];
		if (f->start_line == src->start_line && f->name == name &&
		    f->system_name == sys && f->filename == file) {
			i = *v;
			goto found;
		}
	}
	i = p->nfunction;
	if (i >= UINT32_MAX - 1 ||
	    (f = pp_profile_add_function(p, i + 1)) == NULL ||
	    pp_u64map_put(&x->functions, h, i, NULL) < 0)
		return PP_ENOMEM;
	f->name = name;
	f->system_name = sys;
	f->filename = file;
	f->start_line = src->start_line;
found:
	if (x->fn_by_id != NULL)
		x->fn_by_id[src->id] = (uint32_t)(i + 1);
	else if (pp_u64map_put(&x->function_by_src, (uintptr_t)src, i,
	    NULL) < 0)
		return PP_ENOMEM;
	*out = p->function[i];
	return 0;
}

static bool
same_location(const struct pp_location *a, const struct pp_location *b)
{
	size_t k;

	if (a->mapping != b->mapping || a->is_folded != b->is_folded ||
	    a->nline != b->nline ||
	    a->address - (a->mapping ? a->mapping->start : 0) !=
	    b->address - (b->mapping ? b->mapping->start : 0))
		return false;
	for (k = 0; k < a->nline; k++)
		if (a->line[k].function != b->line[k].function ||
		    a->line[k].line != b->line[k].line)
			return false;
	return true;
}

/* The merged index + 1 of source location src, or 0 if not seen yet. */
static uint64_t
seen_location(const struct pp_merger *x, const struct pp_location *src)
{
	const uint64_t *v;

	if (x->by_index)
		return x->loc_by_index[src->index];
	v = pp_u64map_get(&x->location_by_src, (uintptr_t)src);
	return v ? *v + 1 : 0;
}

static int
remember_location(struct pp_merger *x, const struct pp_location *src,
    size_t i)
{
	if (x->by_index) {
		x->loc_by_index[src->index] = (uint32_t)(i + 1);
		return 0;
	}
	return pp_u64map_put(&x->location_by_src, (uintptr_t)src, i, NULL);
}

static int
map_location(struct pp_merger *x, const struct pp_location *src,
    struct pp_location **out)
{
	struct pp_profile *p = x->p;
	struct pp_location cand, *l;
	struct pp_line lines[64], *lp = lines;
	uint64_t h = 0, *v;
	int64_t offset;
	size_t i, k;
	int rc;

	if ((i = seen_location(x, src)) != 0) {
		*out = p->location[i - 1];
		return 0;
	}
	memset(&cand, 0, sizeof(cand));
	if ((rc = map_mapping(x, src->mapping, &cand.mapping, &offset)) < 0)
		return rc;
	cand.address = (uint64_t)((int64_t)src->address + offset);
	cand.is_folded = src->is_folded;
	cand.nline = src->nline;
	if (src->nline > 64 &&
	    (lp = malloc(src->nline * sizeof(*lp))) == NULL)
		return PP_ENOMEM;
	cand.line = lp;
	for (k = 0; k < src->nline; k++) {
		lp[k] = src->line[k];
		if ((rc = map_function(x, src->line[k].function,
		    &lp[k].function)) < 0)
			goto out;
	}
	MIX(h, cand.address - (cand.mapping ? cand.mapping->start : 0));
	MIX(h, cand.mapping ? cand.mapping->id : 0);
	MIX(h, cand.is_folded);
	for (k = 0; k < cand.nline; k++) {
		MIX(h, cand.line[k].function->id);
		MIX(h, cand.line[k].line);
	}
	for (h = nz(h);; h = nz(h + 1)) {
		if ((v = pp_u64map_get(&x->locations, h)) == NULL)
			break;
		if (same_location(p->location[*v], &cand)) {
			i = *v;
			goto found;
		}
	}
	i = p->nlocation;
	rc = PP_ENOMEM;
	if (i >= UINT32_MAX - 1 ||
	    (l = pp_profile_add_location(p, i + 1, cand.nline)) == NULL ||
	    pp_u64map_put(&x->locations, h, i, NULL) < 0)
		goto out;
	l->mapping = cand.mapping;
	l->address = cand.address;
	l->is_folded = cand.is_folded;
	if (cand.nline > 0)
		memcpy(l->line, cand.line, cand.nline * sizeof(*l->line));
found:
	rc = PP_ENOMEM;
	if (remember_location(x, src, i) < 0)
		goto out;
	*out = p->location[i];
	rc = 0;
out:
	if (lp != lines)
		free(lp);
	return rc;
}

static int
cmp_label(const void *pa, const void *pb)
{
	const struct pp_label *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->key, b->key)) != 0 ||
	    (c = strcmp(a->str, b->str)) != 0)
		return c;
	if (a->num != b->num)
		return a->num < b->num ? -1 : 1;
	return strcmp(a->unit, b->unit);
}

/* Is s (the merged profile's sample) the one in x's scratch arrays? */
static bool
same_sample(const struct pp_merger *x, const struct pp_sample *s,
    size_t nloc, size_t nlabel)
{
	size_t k;

	/* A sample without locations may have a NULL array: memcmp must
	 * not see it, even for 0 bytes. */
	if (s->nlocation != nloc || s->nlabel != nlabel || (nloc > 0 &&
	    memcmp(s->location, x->stack, nloc * sizeof(*x->stack)) != 0))
		return false;
	for (k = 0; k < nlabel; k++)
		if (s->label[k].key != x->label[k].key ||
		    s->label[k].str != x->label[k].str ||
		    s->label[k].num != x->label[k].num ||
		    s->label[k].unit != x->label[k].unit)
			return false;
	return true;
}

static int
grow_samples(struct pp_merger *x)
{
	struct sample_slot *slot;
	size_t cap = x->capsamples ? x->capsamples * 2 : 1024, i, j;

	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < x->capsamples; i++) {
		if (x->samples[i].hash == 0)
			continue;
		for (j = x->samples[i].hash & (cap - 1); slot[j].hash != 0;
		    j = (j + 1) & (cap - 1))
			;
		slot[j] = x->samples[i];
	}
	free(x->samples);
	x->samples = slot;
	x->capsamples = cap;
	return 0;
}

static int
map_sample(struct pp_merger *x, const struct pp_sample *src)
{
	struct pp_profile *p = x->p;
	struct pp_sample *s;
	size_t nloc = src->nlocation, nlabel = src->nlabel, k, j;
	uint64_t h = 0;
	int rc;

	if (pp_grow(&x->stack, &x->capstack, nloc, sizeof(*x->stack)) < 0 ||
	    pp_grow(&x->label, &x->caplabel, nlabel, sizeof(*x->label)) < 0)
		return PP_ENOMEM;
	for (k = 0; k < nloc; k++)
		if ((rc = map_location(x, src->location[k], &x->stack[k])) < 0)
			return rc;
	for (k = 0; k < nlabel; k++) {
		x->label[k].num = src->label[k].num;
		if ((x->label[k].key = in(p, src->label[k].key)) == NULL ||
		    (x->label[k].str = in(p, src->label[k].str)) == NULL ||
		    (x->label[k].unit = in(p, src->label[k].unit)) == NULL)
			return PP_ENOMEM;
	}
	if (nlabel > 1)
		qsort(x->label, nlabel, sizeof(*x->label), cmp_label);
	/* The locations' addresses: no cache miss on each location. */
	for (k = 0; k < nloc; k++)
		MIX(h, (uintptr_t)x->stack[k]);
	for (k = 0; k < nlabel; k++) {
		MIX(h, (uintptr_t)x->label[k].key);
		MIX(h, (uintptr_t)x->label[k].str);
		MIX(h, x->label[k].num);
	}
	h = nz(h);
	if ((p->nsample + 1) * 2 > x->capsamples && grow_samples(x) < 0)
		return PP_ENOMEM;
	for (j = h & (x->capsamples - 1); x->samples[j].hash != 0;
	    j = (j + 1) & (x->capsamples - 1)) {
		if (x->samples[j].hash != h)
			continue;
		s = p->sample[x->samples[j].index];
		if (same_sample(x, s, nloc, nlabel)) {
			for (k = 0; k < p->nsample_type; k++)
				s->value[k] += src->value[k];
			return 0;
		}
	}
	if ((s = pp_profile_add_sample(p, nloc, nlabel)) == NULL)
		return PP_ENOMEM;
	if (nloc > 0)
		memcpy(s->location, x->stack, nloc * sizeof(*s->location));
	if (nlabel > 0)
		memcpy(s->label, x->label, nlabel * sizeof(*s->label));
	memcpy(s->value, src->value, p->nsample_type * sizeof(*s->value));
	x->samples[j].hash = h;
	x->samples[j].index = p->nsample - 1;
	return 0;
}

static bool
zero_sample(const struct pp_sample *s, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (s->value[k] != 0)
			return false;
	return true;
}

static int
compatible(const struct pp_profile *a, const struct pp_profile *b,
    struct pp_err *e)
{
	size_t i;

	if (strcmp(a->period_type.type, b->period_type.type) != 0 ||
	    strcmp(a->period_type.unit, b->period_type.unit) != 0)
		return pp_err_set(e, PP_EMISMATCH,
		    "incompatible period types %s/%s and %s/%s",
		    a->period_type.type, a->period_type.unit,
		    b->period_type.type, b->period_type.unit);
	if (a->nsample_type != b->nsample_type)
		return pp_err_set(e, PP_EMISMATCH,
		    "incompatible sample types: %zu and %zu types",
		    a->nsample_type, b->nsample_type);
	for (i = 0; i < a->nsample_type; i++)
		if (strcmp(a->sample_type[i].type, b->sample_type[i].type) ||
		    strcmp(a->sample_type[i].unit, b->sample_type[i].unit))
			return pp_err_set(e, PP_EMISMATCH,
			    "incompatible sample types: %s/%s and %s/%s",
			    a->sample_type[i].type, a->sample_type[i].unit,
			    b->sample_type[i].type, b->sample_type[i].unit);
	return 0;
}

/* pprof's combineHeaders: the first profile gives the types. */
static int
first_headers(struct pp_profile *p, const struct pp_profile *s)
{
	size_t i;

	p->nsample_type = s->nsample_type;
	if ((p->sample_type = pp_profile_alloc(p, (p->nsample_type + 1) *
	    sizeof(*p->sample_type))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < p->nsample_type; i++)
		if ((p->sample_type[i].type = in(p,
		    s->sample_type[i].type)) == NULL ||
		    (p->sample_type[i].unit = in(p,
		    s->sample_type[i].unit)) == NULL)
			return PP_ENOMEM;
	if ((p->drop_frames = in(p, s->drop_frames)) == NULL ||
	    (p->keep_frames = in(p, s->keep_frames)) == NULL ||
	    (p->period_type.type = in(p, s->period_type.type)) == NULL ||
	    (p->period_type.unit = in(p, s->period_type.unit)) == NULL)
		return PP_ENOMEM;
	return 0;
}

/* ... and every profile adds its time, period and comments. */
static int
add_headers(struct pp_merger *x, const struct pp_profile *s)
{
	struct pp_profile *p = x->p;
	size_t k, j;

	if (p->time_nanos == 0 || s->time_nanos < p->time_nanos)
		p->time_nanos = s->time_nanos;
	p->duration_nanos += s->duration_nanos;
	if (p->period == 0 || p->period < s->period)
		p->period = s->period;
	for (k = 0; k < s->ncomment; k++) {
		const char *c = in(p, s->comment[k]);

		if (c == NULL)
			return PP_ENOMEM;
		for (j = 0; j < p->ncomment && x->comment[j] != c; j++)
			;
		if (j < p->ncomment)
			continue;
		if (pp_grow(&x->comment, &x->capcomment, p->ncomment + 1,
		    sizeof(*x->comment)) < 0)
			return PP_ENOMEM;
		x->comment[p->ncomment++] = c;
	}
	if (*p->default_sample_type == '\0' &&
	    (p->default_sample_type = in(p, s->default_sample_type)) == NULL)
		return PP_ENOMEM;
	return 0;
}

/* Each input's values are bounded (pprof.c); so must their sum be. */
static int
add_sums(struct pp_merger *x, const struct pp_profile *s, struct pp_err *e)
{
	size_t k, j;

	for (k = 0; k < s->nsample_type; k++) {
		uint64_t sum = x->sum[k];

		for (j = 0; j < s->nsample; j++) {
			int64_t v = s->sample[j]->value[k];

			sum += v < 0 ? -(uint64_t)v : (uint64_t)v;
			if (sum > ((uint64_t)1 << 62))
				return pp_err_set(e, PP_EINVAL,
				    "merged sample values would overflow");
		}
	}
	for (k = 0; k < s->nsample_type; k++)
		for (j = 0; j < s->nsample; j++) {
			int64_t v = s->sample[j]->value[k];

			x->sum[k] += v < 0 ? -(uint64_t)v : (uint64_t)v;
		}
	return 0;
}

struct pp_merger *
pp_merger_new(void)
{
	struct pp_merger *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if ((x->p = pp_profile_new()) == NULL) {
		free(x);
		return NULL;
	}
	return x;
}

void
pp_merger_free(struct pp_merger *x)
{
	if (x == NULL)
		return;
	pp_profile_free(x->p);
	free(x->sum);
	free(x->comment);
	pp_u64map_release(&x->mappings);
	pp_u64map_release(&x->functions);
	pp_u64map_release(&x->locations);
	free(x->samples);
	free(x->mapping_offset);
	free(x->loc_by_index);
	free(x->fn_ids);
	pp_u64map_release(&x->mapping_by_src);
	pp_u64map_release(&x->function_by_src);
	pp_u64map_release(&x->location_by_src);
	free(x->stack);
	free(x->label);
	free(x);
}

/* Makes x ready for the objects of src: forgets the last source's. */
static int
begin_source(struct pp_merger *x, const struct pp_profile *src)
{
	size_t i;

	pp_u64map_clear(&x->mapping_by_src);
	pp_u64map_clear(&x->function_by_src);
	pp_u64map_clear(&x->location_by_src);
	x->by_index = src->nlocation < UINT32_MAX;
	for (i = 0; x->by_index && i < src->nlocation; i++)
		if (src->location[i]->index != i)
			x->by_index = false;
	if (x->by_index) {
		if (pp_grow(&x->loc_by_index, &x->caploc, src->nlocation,
		    sizeof(*x->loc_by_index)) < 0)
			return PP_ENOMEM;
		if (src->nlocation > 0)
			memset(x->loc_by_index, 0,
			    src->nlocation * sizeof(*x->loc_by_index));
	} else if (pp_u64map_reserve(&x->location_by_src,
	    src->nlocation) < 0) {
		return PP_ENOMEM;
	}
	/* Ids are unique (profile.h): those up to nfunction index an array. */
	x->fn_by_id = NULL;
	if (src->nfunction >= UINT32_MAX || pp_grow(&x->fn_ids, &x->capfn,
	    src->nfunction + 1, sizeof(*x->fn_ids)) < 0)
		return PP_ENOMEM;
	memset(x->fn_ids, 0, (src->nfunction + 1) * sizeof(*x->fn_ids));
	for (i = 0; i < src->nfunction; i++) {
		uint64_t id = src->function[i]->id;

		if (id > src->nfunction || x->fn_ids[id] != 0)
			break;
		x->fn_ids[id] = 1;
	}
	memset(x->fn_ids, 0, (src->nfunction + 1) * sizeof(*x->fn_ids));
	if (i == src->nfunction)
		x->fn_by_id = x->fn_ids;
	else if (pp_u64map_reserve(&x->function_by_src,
	    src->nfunction) < 0) {
		return PP_ENOMEM;
	}
	return 0;
}

int
pp_merger_add(struct pp_merger *x, const struct pp_profile *src,
    struct pp_err *e)
{
	struct pp_mapping *m;
	int64_t off;
	size_t k;
	int rc;

	if (x->failed) {
		/* pp_profile_merge checks every profile's types before any
		 * values: a later mismatch is what it would report. */
		if (x->failed == PP_EINVAL && x->typed &&
		    (rc = compatible(x->p, src, &x->why)) < 0)
			x->failed = rc;
		if (e != NULL)
			*e = x->why;
		return x->failed;
	}
	if (x->typed && (rc = compatible(x->p, src, e)) < 0)
		goto fail;
	if (!x->typed) {
		rc = PP_ENOMEM;
		if ((x->sum = calloc(src->nsample_type + 1,
		    sizeof(*x->sum))) == NULL ||
		    first_headers(x->p, src) < 0)
			goto fail;
		x->typed = true;
	}
	if ((rc = add_sums(x, src, e)) < 0)
		goto fail;
	x->nsrc++;
	if ((rc = add_headers(x, src)) < 0 ||
	    (rc = begin_source(x, src)) < 0)
		goto fail;
	/* The first mapping is the main binary: keep it first. */
	if (x->p->nmapping == 0 && src->nmapping > 0 &&
	    (rc = map_mapping(x, src->mapping[0], &m, &off)) < 0)
		goto fail;
	for (k = 0; k < src->nsample; k++)
		if (!zero_sample(src->sample[k], src->nsample_type) &&
		    (rc = map_sample(x, src->sample[k])) < 0)
			goto fail;
	return 0;
fail:
	if (rc == PP_ENOMEM)
		pp_err_set(e, rc, "out of memory merging profiles");
	x->failed = rc;
	if (e != NULL)
		x->why = *e;
	else
		pp_err_set(&x->why, rc, "%s", pp_strerror(rc));
	return rc;
}

int
pp_merger_finish(struct pp_merger *x, struct pp_profile **out,
    struct pp_err *e)
{
	struct pp_profile *p = x->p, *again = NULL;
	size_t k;
	int rc;

	if (x->failed) {
		if (e != NULL)
			*e = x->why;
		return x->failed;
	}
	if (x->nsrc == 0)
		return pp_err_set(e, PP_EINVAL, "no profiles to merge");
	if (p->ncomment > 0) {
		if ((p->comment = pp_profile_alloc(p,
		    p->ncomment * sizeof(*p->comment))) == NULL)
			return pp_err_set(e, PP_ENOMEM,
			    "out of memory merging profiles");
		memcpy(p->comment, x->comment,
		    p->ncomment * sizeof(*p->comment));
	}
	for (k = 0; k < p->nsample; k++) {
		if (zero_sample(p->sample[k], p->nsample_type)) {
			/* Merge once more to collect what only zero
			 * samples used, as pprof does. */
			if ((rc = pp_profile_merge(&p, 1, &again, e)) < 0)
				return rc;
			pp_profile_free(p);
			p = again;
			break;
		}
	}
	*out = p;
	x->p = NULL;	/* transferred */
	x->typed = false;
	x->failed = PP_EINVAL;
	pp_err_set(&x->why, PP_EINVAL, "the merge is finished");
	return 0;
}

int
pp_profile_merge(struct pp_profile *const *ps, size_t n,
    struct pp_profile **out, struct pp_err *e)
{
	struct pp_merger *x = NULL;
	size_t i;
	int rc;

	if (n == 0)
		return pp_err_set(e, PP_EINVAL, "no profiles to merge");
	/* Every type is checked before any value (pp_merger_add checks
	 * both, one profile at a time). */
	for (i = 1; i < n; i++)
		if ((rc = compatible(ps[0], ps[i], e)) < 0)
			return rc;
	if ((x = pp_merger_new()) == NULL)
		return pp_err_set(e, PP_ENOMEM,
		    "out of memory merging profiles");
	for (i = 0; i < n; i++)
		if ((rc = pp_merger_add(x, ps[i], e)) < 0)
			goto out;
	rc = pp_merger_finish(x, out, e);
out:
	pp_merger_free(x);
	return rc;
}
