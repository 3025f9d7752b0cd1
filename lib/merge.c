/* pprof's merge (profile/merge.go): objects are deduplicated by content
 * keys, samples with the same stack and labels are summed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* A hash table of object indices under content hashes; equality is
 * decided by the caller, so colliding hashes just probe further. */
struct keyed {
	struct pp_u64map map;
};

struct merger {
	struct pp_profile *p;
	struct keyed mappings, functions, locations, samples;
	/* per source: source object -> merged object */
	struct pp_u64map mapping_by_src, function_by_src, location_by_src;
	int64_t *mapping_offset;	/* by merged mapping index */
	size_t capoffset;
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
map_mapping(struct merger *x, const struct pp_mapping *src,
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
		if ((v = pp_u64map_get(&x->mappings.map, h)) == NULL)
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
	if (pp_u64map_put(&x->mappings.map, h, i, NULL) < 0 ||
	    pp_u64map_put(&x->mapping_by_src, (uintptr_t)src, i, NULL) < 0)
		return PP_ENOMEM;
	*out = m;
	return 0;
}

static int
map_function(struct merger *x, const struct pp_function *src,
    struct pp_function **out)
{
	struct pp_profile *p = x->p;
	const char *name, *sys, *file;
	struct pp_function *f;
	uint64_t h = 0, *v;
	size_t i;

	if ((v = pp_u64map_get(&x->function_by_src, (uintptr_t)src)) != NULL) {
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
		if ((v = pp_u64map_get(&x->functions.map, h)) == NULL)
			break;
		f = p->function[*v];
		if (f->start_line == src->start_line && f->name == name &&
		    f->system_name == sys && f->filename == file) {
			i = *v;
			goto found;
		}
	}
	i = p->nfunction;
	if ((f = pp_profile_add_function(p, i + 1)) == NULL ||
	    pp_u64map_put(&x->functions.map, h, i, NULL) < 0)
		return PP_ENOMEM;
	f->name = name;
	f->system_name = sys;
	f->filename = file;
	f->start_line = src->start_line;
found:
	if (pp_u64map_put(&x->function_by_src, (uintptr_t)src, i, NULL) < 0)
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

static int
map_location(struct merger *x, const struct pp_location *src,
    struct pp_location **out)
{
	struct pp_profile *p = x->p;
	struct pp_location cand, *l;
	struct pp_line lines[64], *lp = lines;
	uint64_t h = 0, *v;
	int64_t offset;
	size_t i, k;
	int rc;

	if ((v = pp_u64map_get(&x->location_by_src, (uintptr_t)src)) != NULL) {
		*out = p->location[*v];
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
		if ((v = pp_u64map_get(&x->locations.map, h)) == NULL)
			break;
		if (same_location(p->location[*v], &cand)) {
			i = *v;
			goto found;
		}
	}
	i = p->nlocation;
	rc = PP_ENOMEM;
	if ((l = pp_profile_add_location(p, i + 1, cand.nline)) == NULL ||
	    pp_u64map_put(&x->locations.map, h, i, NULL) < 0)
		goto out;
	l->mapping = cand.mapping;
	l->address = cand.address;
	l->is_folded = cand.is_folded;
	if (cand.nline > 0)
		memcpy(l->line, cand.line, cand.nline * sizeof(*l->line));
found:
	rc = PP_ENOMEM;
	if (pp_u64map_put(&x->location_by_src, (uintptr_t)src, i, NULL) < 0)
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

static bool
same_sample(const struct pp_sample *a, const struct pp_sample *b)
{
	size_t k;

	if (a->nlocation != b->nlocation || a->nlabel != b->nlabel)
		return false;
	for (k = 0; k < a->nlocation; k++)
		if (a->location[k] != b->location[k])
			return false;
	for (k = 0; k < a->nlabel; k++)
		if (a->label[k].key != b->label[k].key ||
		    a->label[k].str != b->label[k].str ||
		    a->label[k].num != b->label[k].num ||
		    a->label[k].unit != b->label[k].unit)
			return false;
	return true;
}

static int
map_sample(struct merger *x, const struct pp_sample *src)
{
	struct pp_profile *p = x->p;
	struct pp_sample *s, *t;
	uint64_t h = 0, *v;
	size_t k;
	int rc;

	/* Built in place as the next sample; dropped again if it exists. */
	if ((s = pp_profile_add_sample(p, src->nlocation, src->nlabel)) == NULL)
		return PP_ENOMEM;
	p->nsample--;
	for (k = 0; k < src->nlocation; k++)
		if ((rc = map_location(x, src->location[k],
		    &s->location[k])) < 0)
			return rc;
	for (k = 0; k < src->nlabel; k++) {
		s->label[k].num = src->label[k].num;
		if ((s->label[k].key = in(p, src->label[k].key)) == NULL ||
		    (s->label[k].str = in(p, src->label[k].str)) == NULL ||
		    (s->label[k].unit = in(p, src->label[k].unit)) == NULL)
			return PP_ENOMEM;
	}
	if (s->nlabel > 1)
		qsort(s->label, s->nlabel, sizeof(*s->label), cmp_label);
	for (k = 0; k < s->nlocation; k++)
		MIX(h, s->location[k]->id);
	for (k = 0; k < s->nlabel; k++) {
		MIX(h, (uintptr_t)s->label[k].key);
		MIX(h, (uintptr_t)s->label[k].str);
		MIX(h, s->label[k].num);
	}
	for (h = nz(h);; h = nz(h + 1)) {
		if ((v = pp_u64map_get(&x->samples.map, h)) == NULL)
			break;
		t = p->sample[*v];
		if (same_sample(t, s)) {
			for (k = 0; k < p->nsample_type; k++)
				t->value[k] += src->value[k];
			return 0;
		}
	}
	memcpy(s->value, src->value, p->nsample_type * sizeof(*s->value));
	if (pp_u64map_put(&x->samples.map, h, p->nsample, NULL) < 0)
		return PP_ENOMEM;
	p->nsample++;
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

/* pprof's combineHeaders */
static int
combine_headers(struct pp_profile *p, struct pp_profile *const *ps, size_t n)
{
	size_t i, k, j;

	p->nsample_type = ps[0]->nsample_type;
	if ((p->sample_type = pp_profile_alloc(p, (p->nsample_type + 1) *
	    sizeof(*p->sample_type))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < p->nsample_type; i++)
		if ((p->sample_type[i].type = in(p,
		    ps[0]->sample_type[i].type)) == NULL ||
		    (p->sample_type[i].unit = in(p,
		    ps[0]->sample_type[i].unit)) == NULL)
			return PP_ENOMEM;
	if ((p->drop_frames = in(p, ps[0]->drop_frames)) == NULL ||
	    (p->keep_frames = in(p, ps[0]->keep_frames)) == NULL ||
	    (p->period_type.type = in(p, ps[0]->period_type.type)) == NULL ||
	    (p->period_type.unit = in(p, ps[0]->period_type.unit)) == NULL)
		return PP_ENOMEM;
	for (i = 0, k = 0; i < n; i++)
		k += ps[i]->ncomment;
	if (k > 0 && (p->comment = pp_profile_alloc(p,
	    k * sizeof(*p->comment))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < n; i++) {
		const struct pp_profile *s = ps[i];

		if (p->time_nanos == 0 || s->time_nanos < p->time_nanos)
			p->time_nanos = s->time_nanos;
		p->duration_nanos += s->duration_nanos;
		if (p->period == 0 || p->period < s->period)
			p->period = s->period;
		for (k = 0; k < s->ncomment; k++) {
			const char *c = in(p, s->comment[k]);

			if (c == NULL)
				return PP_ENOMEM;
			for (j = 0; j < p->ncomment && p->comment[j] != c; j++)
				;
			if (j == p->ncomment)
				p->comment[p->ncomment++] = c;
		}
		if (*p->default_sample_type == '\0' &&
		    (p->default_sample_type = in(p,
		    s->default_sample_type)) == NULL)
			return PP_ENOMEM;
	}
	return 0;
}

static void
merger_release(struct merger *x)
{
	pp_u64map_release(&x->mappings.map);
	pp_u64map_release(&x->functions.map);
	pp_u64map_release(&x->locations.map);
	pp_u64map_release(&x->samples.map);
	pp_u64map_release(&x->mapping_by_src);
	pp_u64map_release(&x->function_by_src);
	pp_u64map_release(&x->location_by_src);
	free(x->mapping_offset);
}

int
pp_profile_merge(struct pp_profile *const *ps, size_t n,
    struct pp_profile **out, struct pp_err *e)
{
	struct merger x;
	struct pp_profile *again = NULL;
	struct pp_mapping *m;
	int64_t off;
	size_t i, k;
	int rc;

	memset(&x, 0, sizeof(x));
	if (n == 0)
		return pp_err_set(e, PP_EINVAL, "no profiles to merge");
	for (i = 1; i < n; i++)
		if ((rc = compatible(ps[0], ps[i], e)) < 0)
			return rc;
	/* Each input's values are bounded (pprof.c); so must their sum be. */
	for (k = 0; k < ps[0]->nsample_type; k++) {
		uint64_t sum = 0;

		for (i = 0; i < n; i++) {
			const struct pp_profile *s = ps[i];
			size_t j;

			for (j = 0; j < s->nsample; j++) {
				int64_t v = s->sample[j]->value[k];

				sum += v < 0 ? -(uint64_t)v : (uint64_t)v;
				if (sum > ((uint64_t)1 << 62))
					return pp_err_set(e, PP_EINVAL,
					    "merged sample values would "
					    "overflow");
			}
		}
	}
	rc = PP_ENOMEM;
	if ((x.p = pp_profile_new()) == NULL ||
	    (rc = combine_headers(x.p, ps, n)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct pp_profile *src = ps[i];

		pp_u64map_release(&x.mapping_by_src);
		pp_u64map_release(&x.function_by_src);
		pp_u64map_release(&x.location_by_src);
		/* The first mapping is the main binary: keep it first. */
		if (x.p->nmapping == 0 && src->nmapping > 0 &&
		    (rc = map_mapping(&x, src->mapping[0], &m, &off)) < 0)
			goto out;
		for (k = 0; k < src->nsample; k++)
			if (!zero_sample(src->sample[k], src->nsample_type) &&
			    (rc = map_sample(&x, src->sample[k])) < 0)
				goto out;
	}
	for (k = 0; k < x.p->nsample; k++) {
		if (zero_sample(x.p->sample[k], x.p->nsample_type)) {
			/* Merge once more to collect what only zero
			 * samples used, as pprof does. */
			if ((rc = pp_profile_merge(&x.p, 1, &again, e)) < 0)
				goto out;
			pp_profile_free(x.p);
			x.p = again;
			break;
		}
	}
	*out = x.p;
	x.p = NULL;	/* transferred */
	rc = 0;
out:
	if (rc == PP_ENOMEM)
		pp_err_set(e, rc, "out of memory merging profiles");
	pp_profile_free(x.p);
	merger_release(&x);
	return rc;
}
