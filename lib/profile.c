#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

struct pp_profile *
pp_profile_new(void)
{
	struct pp_profile *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	pp_arena_init(&p->arena);
	pp_strset_init(&p->strings);
	p->drop_frames = p->keep_frames = p->default_sample_type =
	    p->period_type.type = p->period_type.unit =
	    pp_profile_intern(p, "", 0);
	if (p->drop_frames == NULL) {
		pp_profile_free(p);
		return NULL;
	}
	return p;
}

void
pp_profile_free(struct pp_profile *p)
{
	if (p == NULL)
		return;
	free(p->sample);
	free(p->mapping);
	free(p->location);
	free(p->function);
	pp_strset_release(&p->strings);
	pp_arena_release(&p->arena);
	free(p);
}

const char *
pp_profile_intern(struct pp_profile *p, const char *s, size_t len)
{
	return pp_strset_intern(&p->strings, &p->arena, s, len);
}

const char *
pp_profile_intern_str(struct pp_profile *p, const char *s)
{
	return pp_profile_intern(p, s, strlen(s));
}

void *
pp_profile_alloc(struct pp_profile *p, size_t size)
{
	return pp_arena_alloc(&p->arena, size);
}

struct pp_mapping *
pp_profile_add_mapping(struct pp_profile *p, uint64_t id)
{
	struct pp_mapping *m;

	if (pp_grow(&p->mapping, &p->capmapping, p->nmapping + 1,
	    sizeof(*p->mapping)) < 0 ||
	    (m = pp_profile_alloc(p, sizeof(*m))) == NULL)
		return NULL;
	m->id = id;
	m->file = m->build_id = pp_profile_intern(p, "", 0);
	p->mapping[p->nmapping++] = m;
	return m;
}

struct pp_function *
pp_profile_add_function(struct pp_profile *p, uint64_t id)
{
	struct pp_function *f;

	if (pp_grow(&p->function, &p->capfunction, p->nfunction + 1,
	    sizeof(*p->function)) < 0 ||
	    (f = pp_profile_alloc(p, sizeof(*f))) == NULL)
		return NULL;
	f->id = id;
	f->name = f->system_name = f->filename = pp_profile_intern(p, "", 0);
	p->function[p->nfunction++] = f;
	return f;
}

struct pp_location *
pp_profile_add_location(struct pp_profile *p, uint64_t id, size_t nline)
{
	struct pp_location *l;

	if (nline > SIZE_MAX / sizeof(*l->line) ||
	    pp_grow(&p->location, &p->caplocation, p->nlocation + 1,
	    sizeof(*p->location)) < 0 ||
	    (l = pp_profile_alloc(p, sizeof(*l))) == NULL)
		return NULL;
	if (nline > 0 &&
	    (l->line = pp_profile_alloc(p, nline * sizeof(*l->line))) == NULL)
		return NULL;
	l->id = id;
	l->nline = nline;
	l->index = (uint32_t)p->nlocation;
	p->location[p->nlocation++] = l;
	return l;
}

struct pp_sample *
pp_profile_add_sample(struct pp_profile *p, size_t nloc, size_t nlabel)
{
	struct pp_sample *s;

	if (nloc > SIZE_MAX / sizeof(void *) ||
	    nlabel > SIZE_MAX / sizeof(struct pp_label) ||
	    pp_grow(&p->sample, &p->capsample, p->nsample + 1,
	    sizeof(*p->sample)) < 0 ||
	    (s = pp_profile_alloc(p, sizeof(*s))) == NULL)
		return NULL;
	if ((nloc > 0 && (s->location = pp_profile_alloc(p,
	    nloc * sizeof(*s->location))) == NULL) ||
	    (p->nsample_type > 0 && (s->value = pp_profile_alloc(p,
	    p->nsample_type * sizeof(*s->value))) == NULL) ||
	    (nlabel > 0 && (s->label = pp_profile_alloc(p,
	    nlabel * sizeof(*s->label))) == NULL))
		return NULL;
	s->nlocation = nloc;
	s->nlabel = nlabel;
	p->sample[p->nsample++] = s;
	return s;
}

int
pp_profile_sample_index(const struct pp_profile *p, const char *name,
    struct pp_err *e)
{
	const char *noinuse;
	char names[200];
	size_t i, off;
	char *end;
	long v;

	if (p->nsample_type == 0)
		return pp_err_set(e, PP_ENOTFOUND, "profile has no sample types");
	if (name == NULL || *name == '\0') {
		for (i = 0; i < p->nsample_type && *p->default_sample_type; i++)
			if (strcmp(p->sample_type[i].type,
			    p->default_sample_type) == 0)
				return (int)i;
		return (int)p->nsample_type - 1;
	}
	v = strtol(name, &end, 10);
	if (*end == '\0') {
		if (v >= 0 && (size_t)v < p->nsample_type)
			return (int)v;
		return pp_err_set(e, PP_ENOTFOUND,
		    "sample index %s is outside the range [0..%zu]", name,
		    p->nsample_type - 1);
	}
	noinuse = strncmp(name, "inuse_", 6) == 0 ? name + 6 : name;
	for (i = 0; i < p->nsample_type; i++)
		if (strcmp(p->sample_type[i].type, name) == 0 ||
		    strcmp(p->sample_type[i].type, noinuse) == 0)
			return (int)i;
	off = 0;
	names[0] = '\0';
	for (i = 0; i < p->nsample_type && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off,
		    "%s%s", i ? ", " : "", p->sample_type[i].type);
	return pp_err_set(e, PP_ENOTFOUND,
	    "no sample type '%.40s' (the profile has: %s)", name, names);
}

void
pp_profile_scale(struct pp_profile *p, double ratio)
{
	size_t i, j, kept = 0;

	if (ratio == 1)
		return;
	for (i = 0; i < p->nsample; i++) {
		struct pp_sample *s = p->sample[i];
		bool nonzero = false;

		for (j = 0; j < p->nsample_type; j++) {
			double v = (double)s->value[j] * ratio;

			/* round half away from zero, as Go's math.Round;
			 * kept within the bounds decoding enforces */
			v = v < 0 ? v - 0.5 : v + 0.5;
			if (!(v > -1e18 && v < 1e18))
				v = v < 0 ? -1e18 : 1e18;
			s->value[j] = (int64_t)v;
			nonzero |= s->value[j] != 0;
		}
		if (nonzero)
			p->sample[kept++] = s;
	}
	p->nsample = kept;
}

static bool
location_matches(const struct pp_location *l, const regex_t *re)
{
	size_t i;

	for (i = 0; i < l->nline; i++) {
		const struct pp_function *f = l->line[i].function;

		if (regexec(re, f->name, 0, NULL, 0) == 0 ||
		    regexec(re, f->filename, 0, NULL, 0) == 0)
			return true;
	}
	return l->mapping != NULL &&
	    regexec(re, l->mapping->file, 0, NULL, 0) == 0;
}

static int
compile(regex_t *re, const char *what, const char *pattern, const char *pre,
    const char *post, struct pp_err *e)
{
	char msg[128], *full;
	size_t n;
	int rc;

	n = strlen(pre) + strlen(pattern) + strlen(post) + 1;
	if ((full = malloc(n)) == NULL)
		return PP_ENOMEM;
	snprintf(full, n, "%s%s%s", pre, pattern, post);
	rc = regcomp(re, full, REG_EXTENDED | REG_NOSUB);
	free(full);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		return pp_err_set(e, PP_EREGEX, "bad %s expression '%.60s': %s",
		    what, pattern, msg);
	}
	return 0;
}

/* Marks: 0 neither, 1 focus, 2 ignore. */
int
pp_profile_filter(struct pp_profile *p, const char *focus, const char *ignore,
    struct pp_err *e)
{
	regex_t fre, ire;
	bool hasf = false, hasi = false;
	unsigned char *mark = NULL;
	size_t i, j, kept = 0;
	int rc = 0;

	if (focus == NULL && ignore == NULL)
		return 0;
	if (focus != NULL) {
		if ((rc = compile(&fre, "focus", focus, "", "", e)) < 0)
			goto out;
		hasf = true;
	}
	if (ignore != NULL) {
		if ((rc = compile(&ire, "ignore", ignore, "", "", e)) < 0)
			goto out;
		hasi = true;
	}
	if ((mark = calloc(p->nlocation + 1, 1)) == NULL) {
		rc = PP_ENOMEM;
		goto out;
	}
	for (i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = p->location[i];

		if (hasi && location_matches(l, &ire))
			mark[i] = 2;
		else if (!hasf || location_matches(l, &fre))
			mark[i] = 1;
	}
	for (i = 0; i < p->nsample; i++) {
		struct pp_sample *s = p->sample[i];
		bool focused = false, ignored = false;

		for (j = 0; j < s->nlocation && !ignored; j++) {
			unsigned char m = mark[s->location[j]->index];

			focused |= m == 1;
			ignored |= m == 2;
		}
		if (focused && !ignored)
			p->sample[kept++] = s;
	}
	p->nsample = kept;
out:
	free(mark);
	if (hasf)
		regfree(&fre);
	if (hasi)
		regfree(&ire);
	return rc;
}

/* pprof's simplifyFunc: drop a leading '.' and an argument list, but not
 * the parenthesis of "(anonymous namespace)" or "operator()". */
static const char *
simplify_name(const char *name, char *buf, size_t size)
{
	static const char *const reserved[] = {
		"(anonymous namespace)", "operator()",
	};
	const char *s = name[0] == '.' ? name + 1 : name;
	const char *q;
	size_t k, n;

	for (q = s; *q != '\0'; q++) {
		bool skip = false;

		for (k = 0; k < 2; k++) {
			n = strlen(reserved[k]);
			if (strncmp(q, reserved[k], n) == 0) {
				q += n - 1;
				skip = true;
				break;
			}
		}
		if (!skip && *q == '(')
			break;
	}
	n = (size_t)(q - s);
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

int
pp_profile_prune(struct pp_profile *p, struct pp_err *e)
{
	regex_t drop, keep;
	bool hasd = false, hask = false;
	unsigned char *mark = NULL;	/* 1 prune beneath, 2 prune whole */
	char buf[1024];
	size_t i;
	int rc = 0;

	if (*p->drop_frames == '\0')
		return 0;
	if ((rc = compile(&drop, "drop_frames", p->drop_frames, "^(", ")$",
	    e)) < 0)
		goto out;
	hasd = true;
	if (*p->keep_frames != '\0') {
		if ((rc = compile(&keep, "keep_frames", p->keep_frames, "^(",
		    ")$", e)) < 0)
			goto out;
		hask = true;
	}
	if ((mark = calloc(p->nlocation + 1, 1)) == NULL) {
		rc = PP_ENOMEM;
		goto out;
	}
	for (i = 0; i < p->nlocation; i++) {
		struct pp_location *l = p->location[i];
		size_t k;

		for (k = l->nline; k-- > 0;) {
			const char *name = l->line[k].function->name;

			if (*name == '\0')
				continue;
			simplify_name(name, buf, sizeof(buf));
			if (regexec(&drop, buf, 0, NULL, 0) == 0 &&
			    (!hask || regexec(&keep, buf, 0, NULL, 0) != 0))
				break;
		}
		if (k == (size_t)-1)
			continue;
		mark[i] = 1;
		if (k == l->nline - 1) {
			mark[i] = 2;
		} else {
			l->line += k + 1;
			l->nline -= k + 1;
		}
	}
	for (i = 0; i < p->nsample; i++) {
		struct pp_sample *s = p->sample[i];
		bool user = false;
		size_t k;

		/* From the root; frames before the first user frame stay. */
		for (k = s->nlocation; k-- > 0;) {
			unsigned char m = mark[s->location[k]->index];

			if (m == 0) {
				user = true;
				continue;
			}
			if (!user)
				continue;
			if (m == 2) {
				s->location += k + 1;
				s->nlocation -= k + 1;
			} else {
				s->location += k;
				s->nlocation -= k;
			}
			break;
		}
	}
out:
	free(mark);
	if (hasd)
		regfree(&drop);
	if (hask)
		regfree(&keep);
	return rc;
}

int64_t
pp_profile_total(const struct pp_profile *p, int si)
{
	int64_t total = 0, base = 0, v;
	size_t i, k;

	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = p->sample[i];

		v = s->value[si] < 0 ? -s->value[si] : s->value[si];
		total += v;
		for (k = 0; k < s->nlabel; k++)
			if (strcmp(s->label[k].key, "pprof::base") == 0 &&
			    strcmp(s->label[k].str, "true") == 0) {
				base += v;
				break;
			}
	}
	return base > 0 ? base : total;
}
