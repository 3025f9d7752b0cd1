#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "query.h"
#include "util.h"


struct ids {
	uint64_t *id;
	size_t n, cap;
	const struct pp_store_filter *f;	/* remote: exact times */
};

static int
collect(const struct pp_store_rec *r, void *arg)
{
	struct ids *ids = arg;

	if (ids->f && ((ids->f->since_ns && r->start_ns < ids->f->since_ns) ||
	    (ids->f->until_ns && r->start_ns > ids->f->until_ns)))
		return 0;

	if (pp_grow(&ids->id, &ids->cap, ids->n + 1, sizeof(*ids->id)) < 0)
		return PP_ENOMEM;
	ids->id[ids->n++] = r->id;
	return 0;
}

/* One profile being decoded: by a thread of its own, so that decoding
 * the next profile overlaps folding this one (on two or more CPUs). */
struct job {
	void *data;
	size_t len;
	char id[17];
	struct pp_profile *p;
	int rc;
	struct pp_err e;
	pthread_t thread;
	bool running;
};

static void *
decode_job(void *arg)
{
	struct job *j = arg;

	j->rc = pp_profile_decode(j->data, j->len, NULL, &j->p, &j->e);
	free(j->data);
	j->data = NULL;
	return NULL;
}

/* Starts decoding j; without a thread, decodes it here. */
static void
job_start(struct job *j)
{
	if (pthread_create(&j->thread, NULL, decode_job, j) == 0)
		j->running = true;
	else
		decode_job(j);
}

static void
job_wait(struct job *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
}

/* Fetches ids->id[*i], [*i + 1] ... until one is there (profiles may
 * expire meanwhile) into j. Returns 0 with *i at the next id, 1 when
 * none is left, or an error. */
static int
fetch_next(struct pp_store *st, const char *base, const char *token,
    const struct pp_store_filter *f, const struct ids *ids, size_t *i,
    struct job *j, struct pp_err *e)
{
	int rc;

	memset(j, 0, sizeof(*j));
	for (; *i < ids->n; (*i)++) {
		pp_store_id_str(ids->id[*i], j->id);
		rc = base ? pp_client_fetch(base, token, j->id, &j->data,
		    &j->len, e) : pp_store_get(st, f->owner, ids->id[*i],
		    &j->data, &j->len, NULL, e);
		if (rc == PP_ENOTFOUND)
			continue;	/* expired meanwhile */
		if (rc < 0)
			return rc;
		(*i)++;
		return 0;
	}
	return 1;
}

/* Fetches and decodes what f selects, one profile at a time: each is
 * handed to fold (which owns it from then on) as soon as it is decoded,
 * while the next one is decoded beside it. */
static int
load(struct pp_store *st, const char *base, const char *token,
    const struct pp_store_filter *f,
    int (*fold)(struct pp_profile *, void *), void *arg, size_t *nout,
    struct pp_err *e)
{
	struct ids ids = { NULL, 0, 0, base ? f : NULL };
	struct job jobs[2], *cur = &jobs[0], *next = &jobs[1], *t;
	size_t i = 0, n = 0;
	int rc, more;

	memset(jobs, 0, sizeof(jobs));
	*nout = 0;
	rc = base ? pp_client_list(base, token, f, collect, &ids, e) :
	    pp_store_select(st, f, collect, &ids, e);
	if (rc < 0) {
		if (rc == PP_ENOMEM)
			pp_err_set(e, rc, "out of memory");
		goto out;
	}
	if ((more = fetch_next(st, base, token, f, &ids, &i, cur, e)) < 0) {
		rc = more;
		goto out;
	}
	if (more == 0)
		job_start(cur);
	while (more == 0) {
		job_wait(cur);
		if (cur->rc < 0) {
			rc = pp_err_set(e, cur->rc, "stored profile %s: %s",
			    cur->id, pp_err_msg(&cur->e, cur->rc));
			goto out;
		}
		if ((more = fetch_next(st, base, token, f, &ids, &i, next,
		    e)) < 0) {
			rc = more;
			goto out;
		}
		if (more == 0)
			job_start(next);
		rc = fold(cur->p, arg);
		cur->p = NULL;	/* transferred */
		if (rc < 0)
			goto out;
		n++;
		t = cur;
		cur = next;
		next = t;
	}
	if (n == 0) {
		rc = pp_err_set(e, PP_ENOTFOUND, "no profiles match");
		goto out;
	}
	*nout = n;
	rc = 0;
out:
	for (t = jobs; t < jobs + 2; t++) {
		job_wait(t);
		free(t->data);
		pp_profile_free(t->p);
	}
	free(ids.id);
	return rc;
}

/* pp_query_merge's fold: the first profile is kept as it is (one profile
 * is not merged), a second starts the merger. Merge failures are kept
 * until every profile is decoded, as a decoding failure comes first. */
struct folding {
	struct pp_profile *first;
	struct pp_merger *x;
	bool oom;		/* the merge ran out of memory: see why */
	struct pp_err why;
};

static int
fold(struct pp_profile *p, void *arg)
{
	struct folding *fo = arg;
	int rc;

	if (fo->first == NULL && fo->x == NULL) {
		fo->first = p;
		return 0;
	}
	if (fo->x == NULL) {
		if ((fo->x = pp_merger_new()) == NULL) {
			pp_err_set(&fo->why, PP_ENOMEM, "out of memory");
			fo->oom = true;
			pp_profile_free(p);
			return PP_ENOMEM;
		}
		rc = pp_merger_add(fo->x, fo->first, &fo->why);
		pp_profile_free(fo->first);
		fo->first = NULL;
		if (rc == PP_ENOMEM) {
			fo->oom = true;
			pp_profile_free(p);
			return rc;
		}
	}
	/* Other failures stay in the merger until pp_merger_finish. */
	rc = pp_merger_add(fo->x, p, &fo->why);
	pp_profile_free(p);
	if (rc == PP_ENOMEM) {
		fo->oom = true;
		return rc;
	}
	return 0;
}

static int
merge(struct pp_store *st, const char *base, const char *token,
    const struct pp_store_filter *f, struct pp_profile **out,
    struct pp_err *e)
{
	struct folding fo;
	size_t n;
	int rc;

	memset(&fo, 0, sizeof(fo));
	*out = NULL;
	rc = load(st, base, token, f, fold, &fo, &n, e);
	if (rc == PP_ENOMEM && fo.oom && e != NULL)
		*e = fo.why;
	if (rc < 0)
		goto out;
	if (fo.first != NULL) {
		*out = fo.first;
		fo.first = NULL;	/* transferred */
		goto out;
	}
	rc = pp_merger_finish(fo.x, out, e);
out:
	pp_profile_free(fo.first);
	pp_merger_free(fo.x);
	return rc;
}

int
pp_query_merge(struct pp_store *st, const struct pp_store_filter *f,
    struct pp_profile **out, struct pp_err *e)
{
	return merge(st, NULL, NULL, f, out, e);
}

int
pp_query_merge_remote(const char *base, const char *token,
    const struct pp_store_filter *f, struct pp_profile **out,
    struct pp_err *e)
{
	return merge(NULL, base, token, f, out, e);
}

int
pp_profile_make_base(struct pp_profile *p)
{
	const char *key = pp_profile_intern_str(p, "pprof::base");
	const char *val = pp_profile_intern_str(p, "true");
	const char *empty = pp_profile_intern_str(p, "");
	size_t i, j;

	if (!key || !val || !empty)
		return PP_ENOMEM;
	for (i = 0; i < p->nsample; i++) {
		struct pp_sample *s = p->sample[i];
		struct pp_label *l = pp_profile_alloc(p, (s->nlabel + 1) *
		    sizeof(*l));

		if (!l)
			return PP_ENOMEM;
		if (s->nlabel)
			memcpy(l, s->label, s->nlabel * sizeof(*l));
		l[s->nlabel].key = key;
		l[s->nlabel].str = val;
		l[s->nlabel].num = 0;
		l[s->nlabel].unit = empty;
		s->label = l;
		s->nlabel++;
		for (j = 0; j < p->nsample_type; j++)
			s->value[j] = -s->value[j];
	}
	return 0;
}
