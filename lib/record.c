/* Aggregation of the agent's records, and the profiles built from them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/proto.h"
#include "record.h"
#include "symbolize.h"

struct object {
	uint64_t start, limit, offset;
	char *path;
	char build_id[81];	/* hex */
};

/* A distinct stack of one kind, and what was measured with it. */
struct stack {
	uint64_t *pc;
	uint16_t n;
	uint8_t kind;		/* PP_SAMPLE_* */
	uint64_t cpu_count, cpu_ns;		/* this interval */
	double alloc_objects, alloc_space;	/* since the start */
	double inuse_objects, inuse_space;	/* live now */
};

#define FREED_EARLY	UINT32_MAX	/* block.stack: its free came first */
/* A free that came before its allocation (block.size: when, monotonic
 * ns) waits this long for it; see live_sweep. */
#define EARLY_WAIT_NS	60000000000ULL

/* A live sampled block, by the agent's key for it (proto.h). */
struct block {
	uint64_t addr;		/* the key; 0: empty slot */
	uint32_t stack;
	uint64_t size;
	double weight;
};

struct pp_proc {
	struct pp_proc_info info;
	char *exe;
	struct object *obj;
	size_t nobj, capobj;
	struct stack *st;
	size_t nst, capst;
	struct pp_u64map stackmap;	/* hash -> index; probing on collision */
	struct pp_u64map stackids;	/* 1 + (tid << 16 | STACK id) -> index */
	struct block *live;		/* open addressing, linear probing */
	size_t caplive, nlive;
	size_t nearly;		/* of them FREED_EARLY */
	int64_t interval_start_ns;
	unsigned symbolize_flags;	/* PP_SYMBOLIZE_* */
	/* Every location symbolized so far, so that each address is looked
	 * up in its file once per process, not once per profile: reading a
	 * library's debug information costs tens of milliseconds. */
	struct pp_profile *symcache;
	struct pp_u64map symindex;	/* address -> symcache location */
};

struct pp_proc *
pp_proc_new(unsigned symbolize_flags)
{
	struct pp_proc *pr = calloc(1, sizeof(*pr));

	if (pr != NULL) {
		pr->symbolize_flags = symbolize_flags;
		pp_u64map_init(&pr->stackmap);
		pp_u64map_init(&pr->stackids);
		pp_u64map_init(&pr->symindex);
	}
	return pr;
}

void
pp_proc_free(struct pp_proc *pr)
{
	size_t i;

	if (pr == NULL)
		return;
	for (i = 0; i < pr->nobj; i++)
		free(pr->obj[i].path);
	for (i = 0; i < pr->nst; i++)
		free(pr->st[i].pc);
	free(pr->obj);
	free(pr->st);
	free(pr->live);
	free(pr->exe);
	pp_u64map_release(&pr->stackmap);
	pp_u64map_release(&pr->stackids);
	pp_u64map_release(&pr->symindex);
	pp_profile_free(pr->symcache);
	free(pr);
}

void
pp_proc_info(const struct pp_proc *pr, struct pp_proc_info *info)
{
	*info = pr->info;
	info->exe = pr->exe ? pr->exe : "";
}

static uint64_t
live_slot(uint64_t addr, size_t cap)
{
	return pp_hash_u64(addr) & (cap - 1);
}

static struct block *
live_find(struct pp_proc *pr, uint64_t addr)
{
	size_t j;

	if (pr->caplive == 0)
		return NULL;
	for (j = live_slot(addr, pr->caplive); pr->live[j].addr != 0;
	    j = (j + 1) & (pr->caplive - 1))
		if (pr->live[j].addr == addr)
			return &pr->live[j];
	return NULL;
}

/* Rebuilds the table with cap slots, leaving out the frees that waited
 * for their allocation since before expire_before (0: none left out). */
static int
live_rehash(struct pp_proc *pr, size_t cap, uint64_t expire_before)
{
	struct block *old = pr->live, *nb;
	size_t oldcap = pr->caplive, i, j;

	if ((nb = calloc(cap, sizeof(*nb))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < oldcap; i++) {
		if (old[i].addr == 0)
			continue;
		if (old[i].stack == FREED_EARLY &&
		    old[i].size < expire_before) {
			pr->nlive--;
			pr->nearly--;
			continue;
		}
		for (j = live_slot(old[i].addr, cap); nb[j].addr != 0;
		    j = (j + 1) & (cap - 1))
			;
		nb[j] = old[i];
	}
	free(old);
	pr->live = nb;
	pr->caplive = cap;
	return 0;
}

static int
live_grow(struct pp_proc *pr)
{
	return live_rehash(pr, pr->caplive ? pr->caplive * 2 : 1024, 0);
}

static int
live_put(struct pp_proc *pr, const struct block *b)
{
	size_t j;

	if ((pr->nlive + 1) * 2 > pr->caplive && live_grow(pr) < 0)
		return PP_ENOMEM;
	for (j = live_slot(b->addr, pr->caplive); pr->live[j].addr != 0;
	    j = (j + 1) & (pr->caplive - 1))
		;
	pr->live[j] = *b;
	pr->nlive++;
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A free waits in the table for its allocation, which travels in another
 * thread's buffer: milliseconds, or as long as that thread stays idle
 * after it. An allocation the agent could not send (the recorder fell
 * behind: counted in dropped_samples) never comes, and its free would
 * wait for ever, each one slowing every lookup. So once samples were
 * lost, each heap profile forgets the frees that waited more than
 * EARLY_WAIT_NS; an allocation arriving later still counts as allocated,
 * and as live. Without a loss every allocation comes, however late (a
 * producer idle for minutes after handing its blocks to a consumer that
 * freed them): its free must still be there, or the blocks would show
 * as leaked. */
static int
live_sweep(struct pp_proc *pr)
{
	size_t i, expired = 0;
	uint64_t now;

	if (pr->nearly == 0 || pr->info.dropped_samples == 0)
		return 0;
	now = now_ns();
	if (now <= EARLY_WAIT_NS)
		return 0;
	/* Frees wait for a moment at any time: rebuild the table (as large
	 * as every live block) only when one waited too long. */
	for (i = 0; i < pr->caplive; i++)
		if (pr->live[i].addr != 0 &&
		    pr->live[i].stack == FREED_EARLY &&
		    pr->live[i].size < now - EARLY_WAIT_NS)
			expired++;
	if (expired == 0)
		return 0;
	return live_rehash(pr, pr->caplive, now - EARLY_WAIT_NS);
}

/* Deletion with backward shift, so lookups need no tombstones. */
static void
live_del(struct pp_proc *pr, struct block *b)
{
	size_t cap = pr->caplive, i = (size_t)(b - pr->live), j = i, k;

	for (;;) {
		j = (j + 1) & (cap - 1);
		if (pr->live[j].addr == 0)
			break;
		k = live_slot(pr->live[j].addr, cap);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		pr->live[i] = pr->live[j];
		i = j;
	}
	pr->live[i].addr = 0;
	pr->nlive--;
}

static int
find_stack(struct pp_proc *pr, uint8_t kind, const uint64_t *pc, uint16_t n,
    uint32_t *out)
{
	struct stack *s;
	uint64_t h, *v;

	h = pp_hash_bytes(pc, n * sizeof(*pc), kind) | 1;
	for (;; h += 2) {
		if ((v = pp_u64map_get(&pr->stackmap, h)) == NULL)
			break;
		s = &pr->st[*v];
		if (s->kind == kind && s->n == n &&
		    memcmp(s->pc, pc, n * sizeof(*pc)) == 0) {
			*out = (uint32_t)*v;
			return 0;
		}
	}
	if (pp_grow(&pr->st, &pr->capst, pr->nst + 1, sizeof(*pr->st)) < 0)
		return PP_ENOMEM;
	s = &pr->st[pr->nst];
	memset(s, 0, sizeof(*s));
	if ((s->pc = malloc((n ? n : 1) * sizeof(*pc))) == NULL)
		return PP_ENOMEM;
	memcpy(s->pc, pc, n * sizeof(*pc));
	s->n = n;
	s->kind = kind;
	if (pp_u64map_put(&pr->stackmap, h, pr->nst, NULL) < 0) {
		free(s->pc);
		return PP_ENOMEM;
	}
	*out = (uint32_t)pr->nst++;
	return 0;
}

/* Go's unsampling: an allocation of size bytes sampled at mean rate
 * stands for 1/(1-exp(-size/rate)) allocations like it. */
static double
heap_weight(uint64_t size, uint64_t rate)
{
	double p;

	if (rate <= 1 || size == 0)
		return 1;
	p = 1 - exp(-(double)size / (double)rate);
	return p > 0 ? 1 / p : 1;
}

static int
free_block(struct pp_proc *pr, uint64_t addr)
{
	struct block *b, early = { addr, FREED_EARLY, 0, 0 };
	struct stack *s;
	int rc;

	/* Records travel in per-thread buffers: a block freed by another
	 * thread can be reported freed before it is reported allocated. */
	if ((b = live_find(pr, addr)) == NULL) {
		if (addr == 0)
			return 0;
		early.size = now_ns();
		if ((rc = live_put(pr, &early)) == 0)
			pr->nearly++;
		return rc;
	}
	if (b->stack == FREED_EARLY)
		return 0;
	s = &pr->st[b->stack];
	s->inuse_objects -= b->weight;
	s->inuse_space -= b->weight * (double)b->size;
	live_del(pr, b);
	pr->info.frees++;
	return 0;
}

/* An allocation of size bytes with key addr on stack idx. */
static int
feed_alloc(struct pp_proc *pr, uint32_t idx, uint64_t size, uint64_t addr)
{
	struct stack *s = &pr->st[idx];
	struct block b, *old;

	b.addr = addr;
	b.stack = idx;
	b.size = size;
	b.weight = heap_weight(size, pr->info.heap_rate);
	s->alloc_objects += b.weight;
	s->alloc_space += b.weight * (double)b.size;
	pr->info.heap_samples++;
	if (b.addr == 0)
		return 0;
	if ((old = live_find(pr, b.addr)) != NULL) {
		if (old->stack == FREED_EARLY) {
			live_del(pr, old);
			pr->nearly--;
			pr->info.frees++;
			return 0;
		}
		/* keys are not reused: a repeat is a bug upstream */
		return 0;
	}
	s->inuse_objects += b.weight;
	s->inuse_space += b.weight * (double)b.size;
	return live_put(pr, &b);
}

static int
feed_sample(struct pp_proc *pr, const struct pp_rec_sample *r, size_t len,
    struct pp_err *e)
{
	struct stack *s;
	uint32_t idx;
	int rc;

	if (len < sizeof(*r) + r->nframes * sizeof(uint64_t) ||
	    r->nframes > PP_MAX_FRAMES)
		return pp_err_set(e, PP_EFORMAT, "bad sample record");
	if (r->kind != PP_SAMPLE_CPU && r->kind != PP_SAMPLE_ALLOC)
		return pp_err_set(e, PP_EFORMAT, "unknown sample kind %u",
		    r->kind);
	if ((rc = find_stack(pr, r->kind, r->pc, r->nframes, &idx)) < 0)
		return rc;
	if (r->kind == PP_SAMPLE_ALLOC)
		return feed_alloc(pr, idx, r->value, r->addr);
	s = &pr->st[idx];
	s->cpu_count += r->count;
	s->cpu_ns += r->value;
	pr->info.cpu_samples += r->count;
	return 0;
}

static uint64_t
stack_id_key(uint32_t tid, uint32_t id)
{
	return 1 + ((uint64_t)tid << 16 | id);
}

static int
feed_stack(struct pp_proc *pr, const struct pp_rec_stack *r, size_t len,
    struct pp_err *e)
{
	uint32_t idx;
	int rc;

	if (len < sizeof(*r) + r->nframes * sizeof(uint64_t) ||
	    r->nframes > PP_MAX_FRAMES || r->id >= PP_STACK_IDS ||
	    r->kind != PP_SAMPLE_ALLOC)
		return pp_err_set(e, PP_EFORMAT, "bad stack record");
	if ((rc = find_stack(pr, r->kind, r->pc, r->nframes, &idx)) < 0)
		return rc;
	if (pp_u64map_put(&pr->stackids, stack_id_key(r->tid, r->id), idx,
	    NULL) < 0)
		return PP_ENOMEM;
	return 0;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
feed_object(struct pp_proc *pr, const struct pp_rec_object *r, size_t len,
    struct pp_err *e)
{
	struct object *o;
	size_t i;

	if (len < sizeof(*r) + r->path_len + 1 || r->build_id_len > 40 ||
	    r->path[r->path_len] != '\0')
		return pp_err_set(e, PP_EFORMAT, "bad object record");
	for (i = 0; i < pr->nobj; i++)
		if (pr->obj[i].start == r->start && pr->obj[i].limit == r->limit &&
		    strcmp(pr->obj[i].path, r->path) == 0)
			return 0;
	/* The latest object mapped over a range replaces what was there. */
	for (i = 0; i < pr->nobj;) {
		if (pr->obj[i].start < r->limit && r->start < pr->obj[i].limit) {
			free(pr->obj[i].path);
			pr->obj[i] = pr->obj[--pr->nobj];
			/* Its addresses mean something else now. */
			pp_profile_free(pr->symcache);
			pr->symcache = NULL;
			pp_u64map_release(&pr->symindex);
		} else {
			i++;
		}
	}
	if (pp_grow(&pr->obj, &pr->capobj, pr->nobj + 1, sizeof(*pr->obj)) < 0)
		return PP_ENOMEM;
	o = &pr->obj[pr->nobj];
	memset(o, 0, sizeof(*o));
	if ((o->path = strdup(r->path)) == NULL)
		return PP_ENOMEM;
	o->start = r->start;
	o->limit = r->limit;
	o->offset = r->offset;
	hex(r->build_id, r->build_id_len, o->build_id);
	pr->nobj++;
	return 0;
}

int
pp_proc_feed(struct pp_proc *pr, const void *msg, size_t len, struct pp_err *e)
{
	const unsigned char *p = msg;
	const struct pp_rec *h;
	size_t k;
	int rc;

	while (len > 0) {
		if (len < sizeof(*h))
			return pp_err_set(e, PP_EFORMAT, "short record");
		h = (const struct pp_rec *)p;
		if (h->len < sizeof(*h) || h->len > len || h->len % 8 != 0)
			return pp_err_set(e, PP_EFORMAT, "bad record length");
		switch (h->type) {
		case PP_REC_HELLO: {
			const struct pp_rec_hello *r = (const void *)p;

			if (h->len < sizeof(*r) ||
			    h->len < sizeof(*r) + (size_t)r->exe_len + 1 ||
			    r->exe[r->exe_len] != '\0' ||
			    r->version != PP_PROTO_VERSION)
				return pp_err_set(e, PP_EFORMAT,
				    "bad hello record");
			free(pr->exe);
			if ((pr->exe = strdup(r->exe)) == NULL)
				return PP_ENOMEM;
			pr->info.hello = true;
			pr->info.pid = (int)r->pid;
			pr->info.ppid = (int)r->ppid;
			pr->info.hz = (int)r->hz;
			pr->info.heap_rate = r->heap_rate;
			pr->info.cpu_off = (int)r->cpu_off;
			pr->info.start_ns = (int64_t)r->start_ns;
			pr->interval_start_ns = (int64_t)r->start_ns;
			break;
		}
		case PP_REC_OBJECT:
			if (h->len < sizeof(struct pp_rec_object) + 8)
				return pp_err_set(e, PP_EFORMAT,
				    "short object record");
			if ((rc = feed_object(pr, (const void *)p, h->len,
			    e)) < 0)
				return rc;
			break;
		case PP_REC_SAMPLE:
			if (h->len < sizeof(struct pp_rec_sample))
				return pp_err_set(e, PP_EFORMAT,
				    "short sample record");
			if ((rc = feed_sample(pr, (const void *)p, h->len,
			    e)) < 0)
				return rc;
			break;
		case PP_REC_STACK:
			if (h->len < sizeof(struct pp_rec_stack))
				return pp_err_set(e, PP_EFORMAT,
				    "short stack record");
			if ((rc = feed_stack(pr, (const void *)p, h->len,
			    e)) < 0)
				return rc;
			break;
		case PP_REC_ALLOC: {
			const struct pp_rec_alloc *r = (const void *)p;
			uint64_t *idx;

			if (h->len < sizeof(*r))
				return pp_err_set(e, PP_EFORMAT,
				    "short alloc record");
			idx = pp_u64map_get(&pr->stackids,
			    stack_id_key(r->tid, r->id));
			if (idx == NULL) {
				/* Its STACK was in a message that was
				 * dropped. */
				pr->info.dropped_samples++;
				break;
			}
			if ((rc = feed_alloc(pr, (uint32_t)*idx, r->value,
			    r->addr)) < 0)
				return rc;
			break;
		}
		case PP_REC_FREE: {
			const struct pp_rec_free *r = (const void *)p;

			if (h->len < sizeof(*r) ||
			    r->n > (h->len - sizeof(*r)) / sizeof(uint64_t))
				return pp_err_set(e, PP_EFORMAT,
				    "bad free record");
			for (k = 0; k < r->n; k++)
				if ((rc = free_block(pr, r->addr[k])) < 0)
					return rc;
			break;
		}
		case PP_REC_CPU_OFF: {
			const struct pp_rec_cpu_off *r = (const void *)p;

			if (h->len < sizeof(*r))
				return pp_err_set(e, PP_EFORMAT,
				    "bad cpu-off record");
			pr->info.cpu_off = (int)r->why;
			break;
		}
		case PP_REC_DROPPED: {
			const struct pp_rec_dropped *r = (const void *)p;

			if (h->len < sizeof(*r))
				return pp_err_set(e, PP_EFORMAT,
				    "bad dropped record");
			pr->info.dropped_samples += r->samples;
			pr->info.dropped_frees += r->frees;
			break;
		}
		default:
			/* Unknown records are skipped: newer agents. */
			break;
		}
		p += h->len;
		len -= h->len;
	}
	return 0;
}

static struct pp_mapping *
mapping_of(struct pp_profile *p, uint64_t pc)
{
	size_t i;

	for (i = 0; i < p->nmapping; i++)
		if (pc >= p->mapping[i]->start && pc < p->mapping[i]->limit)
			return p->mapping[i];
	return NULL;
}

/* Gives l (of dst) the lines of from (of another profile), its functions
 * found or made in dst. fmap maps the other profile's functions to dst's. */
static int
copy_lines(struct pp_profile *dst, struct pp_location *l,
    const struct pp_location *from, struct pp_u64map *fmap)
{
	size_t k;

	if ((l->line = pp_profile_alloc(dst, from->nline *
	    sizeof(*l->line))) == NULL)
		return PP_ENOMEM;
	for (k = 0; k < from->nline; k++) {
		const struct pp_function *sf = from->line[k].function;
		uint64_t *v = pp_u64map_get(fmap, (uintptr_t)sf);
		struct pp_function *f;

		if (v != NULL) {
			f = (struct pp_function *)(uintptr_t)*v;
		} else {
			if ((f = pp_profile_add_function(dst, dst->nfunction +
			    1)) == NULL ||
			    (f->name = pp_profile_intern_str(dst, sf->name)) ==
			    NULL ||
			    (f->system_name = pp_profile_intern_str(dst,
			    sf->system_name)) == NULL ||
			    (f->filename = pp_profile_intern_str(dst,
			    sf->filename)) == NULL ||
			    pp_u64map_put(fmap, (uintptr_t)sf, (uintptr_t)f,
			    NULL) < 0)
				return PP_ENOMEM;
			f->start_line = sf->start_line;
		}
		l->line[k] = from->line[k];
		l->line[k].function = f;
	}
	l->nline = from->nline;
	return 0;
}

/* Symbolizes p, reusing and then extending pr's cache of symbolized
 * addresses. */
static int
symbolize(struct pp_proc *pr, struct pp_profile *p, size_t *skipped,
    struct pp_err *e)
{
	struct pp_u64map tocache, fromcache;
	struct pp_location *l, *c;
	uint64_t *v;
	size_t i;
	int rc = PP_ENOMEM;

	pp_u64map_init(&tocache);
	pp_u64map_init(&fromcache);
	if (pr->symcache == NULL && (pr->symcache = pp_profile_new()) == NULL)
		goto out;
	for (i = 0; i < p->nlocation; i++) {
		l = p->location[i];
		if ((v = pp_u64map_get(&pr->symindex, l->address)) == NULL)
			continue;
		if ((rc = copy_lines(p, l, pr->symcache->location[*v],
		    &fromcache)) < 0)
			goto out;
		/* What the symbolizer would have said of the mapping. */
		if (l->mapping != NULL && l->nline > 0) {
			l->mapping->has_functions = true;
			l->mapping->has_filenames |=
			    *l->line[0].function->filename != '\0';
			l->mapping->has_line_numbers |= l->line[0].line > 0;
			l->mapping->has_inline_frames |= l->nline > 1;
		}
	}
	/* What is not cached comes from the files; the mappings' build-ids
	 * are filled in once more, which reads only ELF headers. */
	if ((rc = pp_symbolize(p, pr->symbolize_flags, skipped, e)) < 0)
		goto out;
	rc = PP_ENOMEM;
	for (i = 0; i < p->nlocation; i++) {
		l = p->location[i];
		if (l->nline == 0 || l->address == 0 ||
		    pp_u64map_get(&pr->symindex, l->address) != NULL)
			continue;
		if ((c = pp_profile_add_location(pr->symcache,
		    pr->symcache->nlocation + 1, 0)) == NULL ||
		    copy_lines(pr->symcache, c, l, &tocache) < 0 ||
		    pp_u64map_put(&pr->symindex, l->address,
		    pr->symcache->nlocation - 1, NULL) < 0)
			goto out;
		c->address = l->address;
	}
	rc = 0;
out:
	pp_u64map_release(&tocache);
	pp_u64map_release(&fromcache);
	return rc;
}

static int
set_types(struct pp_profile *p, const char *const *names, size_t n)
{
	size_t i;

	if ((p->sample_type = pp_profile_alloc(p, n *
	    sizeof(*p->sample_type))) == NULL)
		return PP_ENOMEM;
	p->nsample_type = n;
	for (i = 0; i < n; i++) {
		const char *slash = strchr(names[i], '/');

		if ((p->sample_type[i].type = pp_profile_intern(p, names[i],
		    (size_t)(slash - names[i]))) == NULL ||
		    (p->sample_type[i].unit = pp_profile_intern_str(p,
		    slash + 1)) == NULL)
			return PP_ENOMEM;
	}
	return 0;
}

int
pp_proc_profile(struct pp_proc *pr, enum pp_profile_kind kind, bool reset,
    struct pp_profile **out, size_t *skipped, struct pp_err *e)
{
	static const char *const cpu_types[] = {
		"samples/count", "cpu/nanoseconds",
	};
	static const char *const heap_types[] = {
		"alloc_objects/count", "alloc_space/bytes",
		"inuse_objects/count", "inuse_space/bytes",
	};
	struct pp_profile *p = NULL;
	struct pp_u64map locs;
	int64_t now;
	size_t i, k;
	int rc = PP_ENOMEM;

	pp_u64map_init(&locs);
	if (kind == PP_KIND_HEAP && (rc = live_sweep(pr)) < 0)
		goto out;
	rc = PP_ENOMEM;
	if ((p = pp_profile_new()) == NULL)
		goto out;
	if (kind == PP_KIND_CPU) {
		if ((rc = set_types(p, cpu_types, 2)) < 0)
			goto out;
		p->period_type = p->sample_type[1];
		p->period = pr->info.hz > 0 ? 1000000000 / pr->info.hz : 0;
	} else {
		if ((rc = set_types(p, heap_types, 4)) < 0)
			goto out;
		rc = PP_ENOMEM;
		if ((p->period_type.type = pp_profile_intern_str(p,
		    "space")) == NULL ||
		    (p->period_type.unit = pp_profile_intern_str(p,
		    "bytes")) == NULL)
			goto out;
		p->period = (int64_t)pr->info.heap_rate;
		/* Go's heap profiles show in-use space unless asked. */
		p->default_sample_type = p->sample_type[3].type;
	}
	rc = PP_ENOMEM;
	for (i = 0; i < pr->nobj; i++) {
		const struct object *o = &pr->obj[i];
		struct pp_mapping *m;

		if ((m = pp_profile_add_mapping(p, p->nmapping + 1)) == NULL ||
		    (m->file = pp_profile_intern_str(p, o->path)) == NULL ||
		    (m->build_id = pp_profile_intern_str(p, o->build_id)) ==
		    NULL)
			goto out;
		m->start = o->start;
		m->limit = o->limit;
		m->offset = o->offset;
	}
	for (i = 0; i < pr->nst; i++) {
		const struct stack *st = &pr->st[i];
		struct pp_sample *s;
		bool cpu = st->kind == PP_SAMPLE_CPU;

		if (cpu != (kind == PP_KIND_CPU))
			continue;
		if (cpu ? st->cpu_count == 0 : st->alloc_objects == 0)
			continue;
		if ((s = pp_profile_add_sample(p, st->n, 0)) == NULL)
			goto out;
		for (k = 0; k < st->n; k++) {
			/* Return addresses point after the call: the call
			 * is at pc - 1. A leaf is the interrupted or the
			 * allocating instruction itself (proto.h). */
			uint64_t addr = st->pc[k] - (k == 0 ? 0 : 1);
			uint64_t *v = pp_u64map_get(&locs, addr);
			struct pp_location *l;

			if (v != NULL) {
				l = p->location[*v];
			} else {
				if ((l = pp_profile_add_location(p,
				    p->nlocation + 1, 0)) == NULL ||
				    pp_u64map_put(&locs, addr, p->nlocation - 1,
				    NULL) < 0)
					goto out;
				l->address = addr;
				l->mapping = mapping_of(p, addr);
			}
			s->location[k] = l;
		}
		if (cpu) {
			s->value[0] = (int64_t)st->cpu_count;
			s->value[1] = (int64_t)st->cpu_ns;
		} else {
			s->value[0] = llround(st->alloc_objects);
			s->value[1] = llround(st->alloc_space);
			s->value[2] = llround(st->inuse_objects);
			s->value[3] = llround(st->inuse_space);
		}
	}
	if ((rc = symbolize(pr, p, skipped, e)) < 0)
		goto out;
	now = pp_now_ns();
	p->time_nanos = kind == PP_KIND_CPU ? pr->interval_start_ns :
	    pr->info.start_ns;
	p->duration_nanos = now - p->time_nanos;
	if (kind == PP_KIND_CPU && reset)
		pp_proc_cpu_reset(pr, now);
	*out = p;
	p = NULL;	/* transferred */
	rc = 0;
out:
	pp_u64map_release(&locs);
	pp_profile_free(p);
	return rc;
}

void
pp_proc_cpu_reset(struct pp_proc *pr, int64_t now_ns)
{
	size_t i;

	for (i = 0; i < pr->nst; i++)
		pr->st[i].cpu_count = pr->st[i].cpu_ns = 0;
	pr->interval_start_ns = now_ns;
}

uint64_t
pp_proc_interval_cpu(const struct pp_proc *pr)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < pr->nst; i++)
		n += pr->st[i].cpu_count;
	return n;
}
