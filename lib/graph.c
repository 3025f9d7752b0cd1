/* The report graph. The comments name the pprof functions whose rules each
 * part follows; where pprof iterates over a Go map (random order), any
 * fixed order gives the same result because pprof sorts afterwards by a
 * total order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "units.h"

#define NONE	UINT32_MAX

/* A node that can appear in a graph: pprof's NodeInfo at function
 * granularity, identified by (name, objfile, start_line). */
struct cnode {
	const char *name;
	const char *objfile;	/* only for frames without a function name */
	int64_t start_line;
	const char *printable;
	const char *info;	/* fmt.Sprint(NodeInfo), pprof's last tie-break */
	uint32_t next_unnamed;	/* chain of unnamed nodes of one objfile */
};

struct bytes_tag {
	const char *name;	/* formatted value */
	int64_t value;
	const char *unit;
};

struct sinfo {
	const char *labels;	/* joined string labels, NULL if none */
	struct bytes_tag *btag;
	size_t nbtag;
};

struct edge {
	uint32_t src, dst;	/* canonical ids */
	int64_t weight;
	bool residual, inlined, removed;
	uint32_t stamp;
};

struct nodeacc {
	int64_t flat, cum;
	uint32_t stamp;
	uint32_t *in, *out;
	size_t nin, nout, capin, capout;
	struct pp_gtag *tags;
	size_t ntags, captags;
};

/* One build of the graph from the samples (pprof's newGraph). */
struct inst {
	struct nodeacc *acc;	/* by canonical id */
	struct edge *edge;
	size_t nedge, capedge;
	struct pp_u64map edgemap;
	uint32_t *nodes;	/* g.Nodes: canonical ids */
	size_t nnodes;
};

struct build {
	const struct pp_profile *p;
	const struct pp_graph_opts *o;
	struct pp_arena arena;
	struct pp_strset strs;
	struct cnode *cn;
	size_t ncn, capcn;
	struct pp_u64map named, unnamed;
	uint32_t *lnode;	/* canonical ids of each location's lines */
	size_t *lstart;		/* by location index */
	struct sinfo *si;
	const char *sample_unit;
	int64_t *score;		/* sort keys */
};

static const char *
bstr(struct build *b, const char *s)
{
	return pp_strset_intern(&b->strs, &b->arena, s, strlen(s));
}

/* pprof's FindOrInsertNode over nodeInfo(): the canonical id of a frame. */
static int
canon(struct build *b, const char *name, const char *objfile,
    int64_t start_line, uint32_t *out)
{
	struct cnode *c;
	uint64_t *v;
	uint32_t id, *link = NULL;
	char buf[1200];

	if (*name != '\0') {
		objfile = "";
		start_line = 0;
		if ((v = pp_u64map_get(&b->named, (uintptr_t)name)) != NULL) {
			*out = (uint32_t)*v;
			return 0;
		}
	} else if ((v = pp_u64map_get(&b->unnamed, (uintptr_t)objfile))) {
		for (id = (uint32_t)*v; id != NONE; id = b->cn[id].next_unnamed) {
			if (b->cn[id].start_line == start_line) {
				*out = id;
				return 0;
			}
			link = &b->cn[id].next_unnamed;
		}
	}
	if (pp_grow(&b->cn, &b->capcn, b->ncn + 1, sizeof(*b->cn)) < 0)
		return PP_ENOMEM;
	id = (uint32_t)b->ncn++;
	c = &b->cn[id];
	c->name = name;
	c->objfile = objfile;
	c->start_line = start_line;
	c->next_unnamed = NONE;
	if (*name != '\0')
		c->printable = name;
	else if (*objfile != '\0') {
		snprintf(buf, sizeof(buf), "[%s]", pp_base_name(objfile));
		c->printable = bstr(b, buf);
	} else
		c->printable = "<unknown>";
	snprintf(buf, sizeof(buf), "{%s  0  %lld 0 %s}", name,
	    (long long)start_line, objfile);
	c->info = bstr(b, buf);
	if (c->printable == NULL || c->info == NULL)
		return PP_ENOMEM;
	if (*name != '\0') {
		if (pp_u64map_put(&b->named, (uintptr_t)name, id, NULL) < 0)
			return PP_ENOMEM;
	} else if (link != NULL) {
		*link = id;
	} else if (pp_u64map_put(&b->unnamed, (uintptr_t)objfile, id,
	    NULL) < 0)
		return PP_ENOMEM;
	*out = id;
	return 0;
}

/* pprof's CreateNodes: every location's lines as canonical nodes. */
static int
map_locations(struct build *b)
{
	const struct pp_profile *p = b->p;
	size_t i, k, n = 0;
	int rc;

	for (i = 0; i < p->nlocation; i++)
		n += p->location[i]->nline ? p->location[i]->nline : 1;
	b->lnode = malloc((n + 1) * sizeof(*b->lnode));
	b->lstart = malloc((p->nlocation + 1) * sizeof(*b->lstart));
	if (b->lnode == NULL || b->lstart == NULL)
		return PP_ENOMEM;
	n = 0;
	for (i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = p->location[i];
		const char *obj = l->mapping ? l->mapping->file : "";

		b->lstart[i] = n;
		if (l->nline == 0) {
			if ((rc = canon(b, "", obj, 0, &b->lnode[n++])) < 0)
				return rc;
			continue;
		}
		for (k = 0; k < l->nline; k++) {
			const struct pp_function *f = l->line[k].function;

			if ((rc = canon(b, f->name, obj, f->start_line,
			    &b->lnode[n++])) < 0)
				return rc;
		}
	}
	b->lstart[p->nlocation] = n;
	return 0;
}

static void
add_dot_escaped(struct pp_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			pp_buf_addc(b, '\\');
		pp_buf_addc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' :
		    *s);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* pprof's joinLabels, and the numeric "bytes" labels pprof keeps for its
 * graph (report.newGraph), formatted as its FormatTag formats them. */
static int
sample_info(struct build *b)
{
	const struct pp_profile *p = b->p;
	struct pp_buf buf;
	const char **parts = NULL;
	size_t cap = 0, i, k, n;
	int rc = PP_ENOMEM;

	pp_buf_init(&buf);
	if ((b->si = calloc(p->nsample + 1, sizeof(*b->si))) == NULL)
		goto out;
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = p->sample[i];
		struct sinfo *si = &b->si[i];
		size_t nb = 0;

		n = 0;
		for (k = 0; k < s->nlabel; k++) {
			const struct pp_label *l = &s->label[k];

			if (*l->str != '\0') {
				if (strcmp(l->key, "pprof::base") == 0)
					continue;
				/* Joined for a DOT label: escaped here, the
				 * "\\n" between them is DOT's newline. */
				buf.len = 0;
				add_dot_escaped(&buf, l->key);
				pp_buf_addc(&buf, ':');
				add_dot_escaped(&buf, l->str);
				if (buf.oom || pp_grow(&parts, &cap, n + 1,
				    sizeof(*parts)) < 0 ||
				    (parts[n++] = bstr(b, buf.data)) == NULL)
					goto out;
			} else if (strcmp(l->key, "bytes") == 0 &&
			    (l->num != 0 || *l->unit != '\0'))
				nb++;
		}
		if (n > 0) {
			if (n > 1)
				qsort(parts, n, sizeof(*parts), cmp_str);
			buf.len = 0;
			for (k = 0; k < n; k++) {
				if (k > 0)
					pp_buf_adds(&buf, "\\n");
				pp_buf_adds(&buf, parts[k]);
			}
			if (buf.oom || (si->labels = bstr(b, buf.data)) == NULL)
				goto out;
		}
		if (nb == 0 || !b->o->visual)
			continue;
		if ((si->btag = pp_arena_alloc(&b->arena,
		    nb * sizeof(*si->btag))) == NULL)
			goto out;
		for (k = 0; k < s->nlabel; k++) {
			const struct pp_label *l = &s->label[k];
			struct bytes_tag *t;
			char lab[64];

			if (*l->str != '\0' || strcmp(l->key, "bytes") != 0 ||
			    (l->num == 0 && *l->unit == '\0'))
				continue;
			t = &si->btag[si->nbtag++];
			t->value = l->num;
			t->unit = *l->unit ? l->unit : "bytes";
			pp_unit_label(l->num, t->unit, "minimum", lab,
			    sizeof(lab));
			if ((t->name = bstr(b, lab)) == NULL)
				goto out;
		}
	}
	rc = 0;
out:
	free(parts);
	pp_buf_release(&buf);
	return rc;
}

static void
inst_release(struct inst *g, size_t ncn)
{
	size_t i;

	if (g->acc != NULL) {
		for (i = 0; i < ncn; i++) {
			free(g->acc[i].in);
			free(g->acc[i].out);
			free(g->acc[i].tags);
		}
	}
	free(g->acc);
	free(g->edge);
	free(g->nodes);
	pp_u64map_release(&g->edgemap);
	memset(g, 0, sizeof(*g));
}

static int
push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (pp_grow(a, cap, *n + 1, sizeof(**a)) < 0)
		return -1;
	(*a)[(*n)++] = v;
	return 0;
}

/* pprof's AddToEdgeDiv, with the per-sample "seen" check of newGraph. */
static int
add_edge(struct inst *g, uint32_t src, uint32_t dst, int64_t w, bool residual,
    bool inlined, uint32_t stamp)
{
	uint64_t key = ((uint64_t)(src + 1) << 32) | (dst + 1), *v;
	struct edge *e;
	uint32_t idx;

	if ((v = pp_u64map_get(&g->edgemap, key)) != NULL) {
		e = &g->edge[*v];
		if (e->stamp == stamp)
			return 0;
		e->stamp = stamp;
		e->weight += w;
		if (residual)
			e->residual = true;
		if (!inlined)
			e->inlined = false;
		return 0;
	}
	if (pp_grow(&g->edge, &g->capedge, g->nedge + 1, sizeof(*g->edge)) < 0)
		return PP_ENOMEM;
	idx = (uint32_t)g->nedge++;
	e = &g->edge[idx];
	memset(e, 0, sizeof(*e));
	e->src = src;
	e->dst = dst;
	e->weight = w;
	e->residual = residual;
	e->inlined = inlined;
	e->stamp = stamp;
	if (pp_u64map_put(&g->edgemap, key, idx, NULL) < 0 ||
	    push_u32(&g->acc[src].out, &g->acc[src].nout, &g->acc[src].capout,
	    idx) < 0 ||
	    push_u32(&g->acc[dst].in, &g->acc[dst].nin, &g->acc[dst].capin,
	    idx) < 0)
		return PP_ENOMEM;
	return 0;
}

static struct pp_gtag *
find_tag(struct nodeacc *n, const char *name, const char *labels,
    bool numeric, int64_t value, const char *unit)
{
	struct pp_gtag *t;
	size_t i;

	for (i = 0; i < n->ntags; i++) {
		t = &n->tags[i];
		if (t->name == name && t->labels == labels &&
		    t->numeric == numeric)
			return t;
	}
	if (pp_grow(&n->tags, &n->captags, n->ntags + 1, sizeof(*n->tags)) < 0)
		return NULL;
	t = &n->tags[n->ntags++];
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->labels = labels;
	t->numeric = numeric;
	t->value = value;
	t->unit = unit;
	return t;
}

/* pprof's Node.addSample. */
static int
add_sample(struct build *b, struct nodeacc *n, const struct sinfo *si,
    int64_t w, bool flat)
{
	struct pp_gtag *t;
	size_t k;

	if (flat)
		n->flat += w;
	else
		n->cum += w;
	if (!b->o->visual)
		return 0;
	if (si->labels != NULL) {
		if ((t = find_tag(n, si->labels, si->labels, false, 0,
		    NULL)) == NULL)
			return PP_ENOMEM;
		if (flat)
			t->flat += w;
		else
			t->cum += w;
	}
	for (k = 0; k < si->nbtag; k++) {
		if ((t = find_tag(n, si->btag[k].name, si->labels, true,
		    si->btag[k].value, si->btag[k].unit)) == NULL)
			return PP_ENOMEM;
		if (flat)
			t->flat += w;
		else
			t->cum += w;
	}
	return 0;
}

/* pprof's newGraph: kept (by canonical id) may be NULL for all nodes. */
static int
inst_build(struct build *b, const unsigned char *kept, struct inst *g)
{
	const struct pp_profile *p = b->p;
	int si = b->o->sample_index;
	size_t i, k, j;
	int rc;

	memset(g, 0, sizeof(*g));
	pp_u64map_init(&g->edgemap);
	if ((g->acc = calloc(b->ncn + 1, sizeof(*g->acc))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = p->sample[i];
		uint32_t stamp = (uint32_t)i + 1, parent = NONE;
		int64_t w = s->value[si];
		bool residual = false;

		if (w == 0)
			continue;
		for (k = s->nlocation; k-- > 0;) {
			size_t li = s->location[k]->index;
			size_t lo = b->lstart[li], hi = b->lstart[li + 1];

			for (j = hi; j-- > lo;) {
				uint32_t n = b->lnode[j];

				if (kept != NULL && !kept[n]) {
					residual = true;
					continue;
				}
				if (g->acc[n].stamp != stamp) {
					g->acc[n].stamp = stamp;
					if ((rc = add_sample(b, &g->acc[n],
					    &b->si[i], w, false)) < 0)
						return rc;
				}
				if (parent != NONE && n != parent &&
				    (rc = add_edge(g, parent, n, w, residual,
				    j != hi - 1, stamp)) < 0)
					return rc;
				parent = n;
				residual = false;
			}
		}
		if (parent != NONE && !residual &&
		    (rc = add_sample(b, &g->acc[parent], &b->si[i], w,
		    true)) < 0)
			return rc;
	}
	/* pprof's selectNodesForGraph */
	if ((g->nodes = malloc((b->ncn + 1) * sizeof(*g->nodes))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < b->ncn; i++)
		if (g->acc[i].flat != 0 || g->acc[i].cum != 0)
			g->nodes[g->nnodes++] = (uint32_t)i;
	return 0;
}

/* Go's math.Log2, which differs from C's log2 in the last bit. */
static double
go_log2(double x)
{
	int exp;
	double frac = frexp(x, &exp);

	if (frac == 0.5)
		return (double)(exp - 1);
	return log(frac) * (1 / M_LN2) + (double)exp;
}

/* pprof's edgeEntropyScore */
static double
edge_entropy(const struct inst *g, const uint32_t *edges, size_t n,
    int64_t self)
{
	double score = 0, frac;
	int64_t total = self;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct edge *e = &g->edge[edges[i]];

		if (!e->removed && e->weight > 0)
			total += pp_abs64(e->weight);
	}
	if (total != 0) {
		for (i = 0; i < n; i++) {
			const struct edge *e = &g->edge[edges[i]];

			if (e->removed)
				continue;
			frac = (double)pp_abs64(e->weight) / (double)total;
			score += -frac * go_log2(frac);
		}
		if (self > 0) {
			frac = (double)pp_abs64(self) / (double)total;
			score += -frac * go_log2(frac);
		}
	}
	return score;
}

static size_t
live_edges(const struct inst *g, const uint32_t *edges, size_t n)
{
	size_t i, live = 0;

	for (i = 0; i < n; i++)
		live += !g->edge[edges[i]].removed;
	return live;
}

/* pprof's entropyScore */
static int64_t
entropy_score(const struct inst *g, uint32_t id)
{
	const struct nodeacc *n = &g->acc[id];
	double score = 0;

	if (live_edges(g, n->in, n->nin) == 0)
		score++;
	else
		score += edge_entropy(g, n->in, n->nin, 0);
	if (live_edges(g, n->out, n->nout) == 0)
		score++;
	else
		score += edge_entropy(g, n->out, n->nout, n->flat);
	score *= (double)n->cum;
	/* Out of range, Go's conversion gives a huge negative number; any
	 * fixed answer is as good, and C's conversion would be undefined. */
	if (!(score > -9e18 && score < 9e18))
		score = score < 0 ? -9e18 : 9e18;
	return (int64_t)score + n->flat;
}

/* qsort has no context argument; one sort runs at a time. */
static struct build *sort_b;
static struct inst *sort_g;

/* pprof's FlatNameOrder */
static int
cmp_flat(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct nodeacc *na = &sort_g->acc[a], *nb = &sort_g->acc[b];
	int c;

	if (pp_abs64(na->flat) != pp_abs64(nb->flat))
		return pp_abs64(na->flat) > pp_abs64(nb->flat) ? -1 : 1;
	if ((c = strcmp(sort_b->cn[a].printable, sort_b->cn[b].printable)))
		return c;
	if (pp_abs64(na->cum) != pp_abs64(nb->cum))
		return pp_abs64(na->cum) > pp_abs64(nb->cum) ? -1 : 1;
	return strcmp(sort_b->cn[a].info, sort_b->cn[b].info);
}

/* pprof's score order (CumNameOrder, EntropyOrder) */
static int
cmp_score(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int64_t sa = pp_abs64(sort_b->score[a]), sb = pp_abs64(sort_b->score[b]);
	const struct nodeacc *na = &sort_g->acc[a], *nb = &sort_g->acc[b];
	int c;

	if (sa != sb)
		return sa > sb ? -1 : 1;
	if ((c = strcmp(sort_b->cn[a].printable, sort_b->cn[b].printable)))
		return c;
	if (pp_abs64(na->flat) != pp_abs64(nb->flat))
		return pp_abs64(na->flat) > pp_abs64(nb->flat) ? -1 : 1;
	return strcmp(sort_b->cn[a].info, sort_b->cn[b].info);
}

static int
sort_nodes(struct build *b, struct inst *g)
{
	size_t i;

	sort_b = b;
	sort_g = g;
	if (!b->o->visual) {
		if (g->nnodes > 1)
			qsort(g->nodes, g->nnodes, sizeof(*g->nodes),
			    cmp_flat);
		return 0;
	}
	if (b->score == NULL &&
	    (b->score = calloc(b->ncn + 1, sizeof(*b->score))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < g->nnodes; i++)
		b->score[g->nodes[i]] = entropy_score(g, g->nodes[i]);
	if (g->nnodes > 1)
		qsort(g->nodes, g->nnodes, sizeof(*g->nodes), cmp_score);
	return 0;
}

/* pprof's edgeList order: weight, then source and destination names. */
static int
cmp_edge(const void *pa, const void *pb)
{
	const struct edge *a = &sort_g->edge[*(const uint32_t *)pa];
	const struct edge *b = &sort_g->edge[*(const uint32_t *)pb];
	int c;

	/* pprof compares weights with != and then their absolute values,
	 * so that 5 and -5 are neither less than the other: its order of
	 * such edges in a difference changes from run to run. Here the
	 * names decide, so that the order is fixed and qsort gets a
	 * consistent comparison. */
	if (pp_abs64(a->weight) != pp_abs64(b->weight))
		return pp_abs64(a->weight) > pp_abs64(b->weight) ? -1 : 1;
	if ((c = strcmp(sort_b->cn[a->src].printable,
	    sort_b->cn[b->src].printable)))
		return c;
	return strcmp(sort_b->cn[a->dst].printable,
	    sort_b->cn[b->dst].printable);
}

/* Removes removed edges from the adjacency lists and sorts them. */
static void
compact_edges(struct build *b, struct inst *g, uint32_t id)
{
	struct nodeacc *n = &g->acc[id];
	size_t i, k;

	for (i = k = 0; i < n->nin; i++)
		if (!g->edge[n->in[i]].removed)
			n->in[k++] = n->in[i];
	n->nin = k;
	for (i = k = 0; i < n->nout; i++)
		if (!g->edge[n->out[i]].removed)
			n->out[k++] = n->out[i];
	n->nout = k;
	sort_b = b;
	sort_g = g;
	if (n->nin > 1)
		qsort(n->in, n->nin, sizeof(*n->in), cmp_edge);
	if (n->nout > 1)
		qsort(n->out, n->nout, sizeof(*n->out), cmp_edge);
}

/* pprof's TrimLowFrequencyEdges */
static size_t
trim_edges(struct inst *g, int64_t cutoff)
{
	size_t i, dropped = 0;

	for (i = 0; i < g->nedge; i++) {
		if (!g->edge[i].removed && pp_abs64(g->edge[i].weight) < cutoff) {
			g->edge[i].removed = true;
			dropped++;
		}
	}
	return dropped;
}

/* pprof's TrimLowFrequencyTags */
static void
trim_tags(struct inst *g, int64_t cutoff)
{
	size_t i, k, kept;

	for (i = 0; i < g->nnodes; i++) {
		struct nodeacc *n = &g->acc[g->nodes[i]];

		for (k = kept = 0; k < n->ntags; k++)
			if (pp_abs64(n->tags[k].flat) >= cutoff ||
			    pp_abs64(n->tags[k].cum) >= cutoff)
				n->tags[kept++] = n->tags[k];
		n->ntags = kept;
	}
}

/* pprof's countTags */
static size_t
count_tags(const struct nodeacc *n)
{
	size_t k, c = 0;

	for (k = 0; k < n->ntags; k++)
		c += n->tags[k].flat != 0;
	return c;
}

/* pprof's selectTopNodes: the first max nodes, counting tags as nodes in
 * visual mode. */
static size_t
select_top(struct build *b, struct inst *g, size_t max)
{
	size_t i, count = 0, tags;

	if (max > 0 && b->o->visual) {
		for (i = 0; i < g->nnodes; i++) {
			tags = count_tags(&g->acc[g->nodes[i]]);
			if (tags > 4)
				tags = 4;
			if ((count += tags + 1) >= max) {
				max = i + 1;
				break;
			}
		}
	}
	return max < g->nnodes ? max : g->nnodes;
}

/* pprof's isRedundantEdge: can e's source reach its destination another
 * way? A breadth-first search backwards from the destination. */
static int
redundant(struct inst *g, uint32_t eidx, uint32_t *queue, uint32_t *seen,
    uint32_t stamp, bool *out)
{
	const struct edge *e = &g->edge[eidx];
	size_t head = 0, tail = 0, i;

	seen[e->dst] = stamp;
	queue[tail++] = e->dst;
	while (head < tail) {
		const struct nodeacc *n = &g->acc[queue[head++]];

		for (i = 0; i < n->nin; i++) {
			const struct edge *ie = &g->edge[n->in[i]];

			if (n->in[i] == eidx || ie->removed ||
			    seen[ie->src] == stamp)
				continue;
			if (ie->src == e->src) {
				*out = true;
				return 0;
			}
			seen[ie->src] = stamp;
			queue[tail++] = ie->src;
		}
	}
	*out = false;
	return 0;
}

/* pprof's RemoveRedundantEdges */
static int
remove_redundant(struct build *b, struct inst *g)
{
	uint32_t *queue, *seen, stamp = 0;
	size_t i, j;
	bool red;

	queue = malloc((b->ncn + 1) * sizeof(*queue));
	seen = calloc(b->ncn + 1, sizeof(*seen));
	if (queue == NULL || seen == NULL) {
		free(queue);
		free(seen);
		return PP_ENOMEM;
	}
	for (i = 0; i < g->nnodes; i++)
		compact_edges(b, g, g->nodes[i]);
	for (i = g->nnodes; i-- > 0;) {
		struct nodeacc *n = &g->acc[g->nodes[i]];

		for (j = n->nin; j-- > 0;) {
			struct edge *e = &g->edge[n->in[j]];

			if (e->removed)
				continue;
			if (!e->residual)
				break;
			redundant(g, n->in[j], queue, seen, ++stamp, &red);
			if (red)
				e->removed = true;
		}
	}
	free(queue);
	free(seen);
	return 0;
}

static unsigned char *
keep_set(struct build *b, const struct inst *g, size_t n, int64_t cutoff)
{
	unsigned char *kept;
	size_t i;

	if ((kept = calloc(b->ncn + 1, 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (pp_abs64(g->acc[g->nodes[i]].cum) >= cutoff)
			kept[g->nodes[i]] = 1;
	return kept;
}

static int
cmp_edge_weight(const void *pa, const void *pb)
{
	const struct edge *a = &sort_g->edge[*(const uint32_t *)pa];
	const struct edge *b = &sort_g->edge[*(const uint32_t *)pb];

	if (pp_abs64(a->weight) != pp_abs64(b->weight))
		return pp_abs64(a->weight) > pp_abs64(b->weight) ? -1 : 1;
	return cmp_edge(pa, pb);
}

/* Not pprof's: a graph of many more edges than nodes takes Graphviz
 * minutes to draw (its spline routing), so a picture keeps the heaviest
 * max edges. Returns how many were dropped. */
static size_t
cap_edges(struct build *b, struct inst *g, size_t max)
{
	uint32_t *live;
	size_t i, n = 0;

	if ((live = malloc((g->nedge + 1) * sizeof(*live))) == NULL)
		return 0;
	for (i = 0; i < g->nedge; i++)
		if (!g->edge[i].removed)
			live[n++] = (uint32_t)i;
	if (n > max) {
		sort_b = b;
		sort_g = g;
		qsort(live, n, sizeof(*live), cmp_edge_weight);
		for (i = max; i < n; i++)
			g->edge[live[i]].removed = true;
	}
	free(live);
	return n > max ? n - max : 0;
}

/* The final graph, in the public form. */
static int
publish(struct build *b, struct inst *g, struct pp_graph *out)
{
	uint32_t *pos = NULL;
	size_t i, k;
	int rc = PP_ENOMEM;

	if ((pos = malloc((b->ncn + 1) * sizeof(*pos))) == NULL ||
	    (out->node = calloc(g->nnodes + 1, sizeof(*out->node))) == NULL ||
	    (out->edge = calloc(g->nedge + 1, sizeof(*out->edge))) == NULL)
		goto out;
	for (i = 0; i < g->nnodes; i++) {
		pos[g->nodes[i]] = (uint32_t)i;
		compact_edges(b, g, g->nodes[i]);
	}
	/* Edge indices of the public graph: the live ones, renumbered. */
	for (i = 0, k = 0; i < g->nedge; i++) {
		struct edge *e = &g->edge[i];

		if (e->removed)
			continue;
		out->edge[k].src = pos[e->src];
		out->edge[k].dst = pos[e->dst];
		out->edge[k].weight = e->weight;
		out->edge[k].residual = e->residual;
		out->edge[k].inlined = e->inlined;
		e->stamp = (uint32_t)k++;
	}
	out->nedge = k;
	for (i = 0; i < g->nnodes; i++) {
		struct nodeacc *n = &g->acc[g->nodes[i]];
		struct pp_gnode *o = &out->node[i];

		o->name = b->cn[g->nodes[i]].printable;
		o->funcname = b->cn[g->nodes[i]].name;
		o->flat = n->flat;
		o->cum = n->cum;
		for (k = 0; k < n->nin; k++)
			n->in[k] = g->edge[n->in[k]].stamp;
		for (k = 0; k < n->nout; k++)
			n->out[k] = g->edge[n->out[k]].stamp;
		o->in = n->in;
		o->nin = n->nin;
		o->out = n->out;
		o->nout = n->nout;
		o->tags = n->tags;
		o->ntags = n->ntags;
		n->in = n->out = NULL;	/* transferred */
		n->tags = NULL;
	}
	out->nnode = g->nnodes;
	rc = 0;
out:
	free(pos);
	return rc;
}

struct priv {
	struct pp_arena arena;
	struct pp_strset strs;
};

int
pp_graph_new(const struct pp_profile *p, const struct pp_graph_opts *o,
    struct pp_graph **out)
{
	struct build b;
	struct inst g, g2;
	struct pp_graph *res = NULL;
	struct priv *priv = NULL;
	unsigned char *kept = NULL;
	int64_t total_value = 0, node_cutoff, edge_cutoff;
	size_t i, n;
	int rc = PP_ENOMEM;

	memset(&b, 0, sizeof(b));
	memset(&g, 0, sizeof(g));
	memset(&g2, 0, sizeof(g2));
	b.p = p;
	b.o = o;
	pp_arena_init(&b.arena);
	pp_strset_init(&b.strs);
	pp_u64map_init(&b.named);
	pp_u64map_init(&b.unnamed);
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (priv = calloc(1, sizeof(*priv))) == NULL)
		goto out;
	for (i = 0; i < p->nlocation; i++)
		p->location[i]->index = (uint32_t)i;
	if ((rc = map_locations(&b)) < 0 || (rc = sample_info(&b)) < 0 ||
	    (rc = inst_build(&b, NULL, &g)) < 0)
		goto out;
	res->total = o->total ? o->total : pp_profile_total(p, o->sample_index);

	/* pprof's newTrimmedGraph */
	for (i = 0; i < g.nnodes; i++)
		total_value += g.acc[g.nodes[i]].flat;
	node_cutoff = pp_abs64((int64_t)((double)total_value * o->nodefraction));
	edge_cutoff = pp_abs64((int64_t)((double)total_value * o->edgefraction));
	if (node_cutoff > 0) {
		rc = PP_ENOMEM;
		if ((kept = keep_set(&b, &g, g.nnodes, node_cutoff)) == NULL)
			goto out;
		for (i = n = 0; i < b.ncn; i++)
			n += kept[i];
		if (n != g.nnodes) {
			res->dropped_nodes = g.nnodes - n;
			if ((rc = inst_build(&b, kept, &g2)) < 0)
				goto out;
			inst_release(&g, b.ncn);
			g = g2;
			memset(&g2, 0, sizeof(g2));
		}
		free(kept);
		kept = NULL;
	}
	res->orig_count = g.nnodes;
	if ((rc = sort_nodes(&b, &g)) < 0)
		goto out;
	if (o->nodecount > 0) {
		trim_tags(&g, node_cutoff);
		trim_edges(&g, edge_cutoff);
		n = select_top(&b, &g, (size_t)o->nodecount);
		if (n != g.nnodes) {
			rc = PP_ENOMEM;
			if ((kept = keep_set(&b, &g, n, INT64_MIN)) == NULL)
				goto out;
			if ((rc = inst_build(&b, kept, &g2)) < 0)
				goto out;
			inst_release(&g, b.ncn);
			g = g2;
			memset(&g2, 0, sizeof(g2));
			if ((rc = sort_nodes(&b, &g)) < 0)
				goto out;
		}
	}
	trim_tags(&g, node_cutoff);
	res->dropped_edges = trim_edges(&g, edge_cutoff);
	if (o->visual && (rc = remove_redundant(&b, &g)) < 0)
		goto out;
	if (o->max_edges > 0)
		res->capped_edges = cap_edges(&b, &g, o->max_edges);
	if ((rc = publish(&b, &g, res)) < 0)
		goto out;
	/* The names live in the profile or in the build's arena, which the
	 * graph keeps. */
	priv->arena = b.arena;
	priv->strs = b.strs;
	pp_arena_init(&b.arena);
	pp_strset_init(&b.strs);
	res->priv = priv;
	priv = NULL;
	*out = res;
	res = NULL;	/* transferred */
	rc = 0;
out:
	free(kept);
	inst_release(&g, b.ncn);
	inst_release(&g2, b.ncn);
	free(b.cn);
	free(b.lnode);
	free(b.lstart);
	free(b.si);
	free(b.score);
	pp_u64map_release(&b.named);
	pp_u64map_release(&b.unnamed);
	pp_strset_release(&b.strs);
	pp_arena_release(&b.arena);
	free(priv);
	pp_graph_free(res);
	return rc;
}

void
pp_graph_free(struct pp_graph *g)
{
	struct priv *priv;
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nnode; i++) {
		free(g->node[i].in);
		free(g->node[i].out);
		free(g->node[i].tags);
	}
	free(g->node);
	free(g->edge);
	if ((priv = g->priv) != NULL) {
		pp_strset_release(&priv->strs);
		pp_arena_release(&priv->arena);
		free(priv);
	}
	free(g);
}
