/* The DOT call graph, as pprof's dotgraph.go writes it. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "units.h"
#include "util.h"

#define MAX_NODELETS	4

static bool
is_word(int c)
{
	return isalnum(c) || c == '_';
}

/* goVerRegExp `^(.*?)/v(?:[2-9]|[1-9][0-9]+)([./].*)$`: drops the first
 * "/vN" major version element of a Go module path. */
static void
drop_go_version(char *s)
{
	char *p, *d;

	for (p = s; (p = strstr(p, "/v")) != NULL; p++) {
		d = p + 2;
		while (isdigit((unsigned char)*d))
			d++;
		if (d - (p + 2) == 0 || (*d != '.' && *d != '/'))
			continue;
		if (d - (p + 2) == 1 ? p[2] < '2' : p[2] == '0')
			continue;
		memmove(p, d, strlen(d) + 1);
		return;
	}
}

/* goRegExp `^(?:[\w\-\.]+\/)+(.+)`: the name after the package path. */
static const char *
go_short(const char *s)
{
	const char *p = s, *last = NULL;

	for (;;) {
		const char *q = p;

		while (is_word((unsigned char)*q) || *q == '-' || *q == '.')
			q++;
		if (q == p || *q != '/')
			break;
		if (q[1] == '\0' || q[1] == '\n')
			break;
		last = q + 1;
		p = q + 1;
	}
	return last;
}

/* javaRegExp `^(?:[a-z]\w*\.)*([A-Z][\w\$]*\.(?:<init>|[a-z][\w\$]*
 * (?:\$\d+)?))(?:(?:\()|$)`: Class.method without package and arguments. */
static bool
java_short(const char *s, const char **start, size_t *len)
{
	const char *p = s, *q, *m;

	for (;;) {
		if (!islower((unsigned char)*p))
			break;
		for (q = p + 1; is_word((unsigned char)*q); q++)
			;
		if (*q != '.')
			break;
		p = q + 1;
	}
	if (!isupper((unsigned char)*p))
		return false;
	for (q = p + 1; is_word((unsigned char)*q) || *q == '$'; q++)
		;
	if (*q != '.')
		return false;
	m = q + 1;
	if (strncmp(m, "<init>", 6) == 0) {
		m += 6;
	} else {
		if (!islower((unsigned char)*m))
			return false;
		for (m++; is_word((unsigned char)*m) || *m == '$'; m++)
			;
	}
	if (*m != '\0' && *m != '(')
		return false;
	*start = p;
	*len = (size_t)(m - p);
	return true;
}

/* The group of cppRegExp at p: `_*[A-Z]\w*::~?[_a-zA-Z]\w*(?:<.*>)?`. */
static size_t
cpp_group(const char *p)
{
	const char *q = p, *gt;

	while (*q == '_')
		q++;
	if (!isupper((unsigned char)*q))
		return 0;
	for (q++; is_word((unsigned char)*q); q++)
		;
	if (strncmp(q, "::", 2) != 0)
		return 0;
	q += 2;
	if (*q == '~')
		q++;
	if (!isalpha((unsigned char)*q) && *q != '_')
		return 0;
	for (q++; is_word((unsigned char)*q); q++)
		;
	if (*q == '<' && (gt = strrchr(q, '>')) != NULL &&
	    memchr(q, '\n', (size_t)(gt - q)) == NULL)
		q = gt + 1;
	return (size_t)(q - p);
}

/* cppRegExp `^(?:[_a-zA-Z]\w*::)+(GROUP)`: the last namespace element
 * after which GROUP matches. */
static bool
cpp_short(const char *s, const char **start, size_t *len)
{
	const char *starts[256];
	size_t n = 0, k;
	const char *p = s, *q;

	while (n < 256) {
		if (!isalpha((unsigned char)*p) && *p != '_')
			break;
		for (q = p + 1; is_word((unsigned char)*q); q++)
			;
		if (strncmp(q, "::", 2) != 0)
			break;
		p = q + 2;
		starts[n++] = p;
	}
	for (k = n; k-- > 0;) {
		size_t g = cpp_group(starts[k]);

		if (g > 0) {
			*start = starts[k];
			*len = g;
			return true;
		}
	}
	return false;
}

void
pp_shorten_name(const char *name, char *buf, size_t size)
{
	static const char anon[] = "(anonymous namespace)::";
	char *f;
	const char *start;
	size_t len;

	if (strncmp(name, anon, sizeof(anon) - 1) == 0)
		name += sizeof(anon) - 1;
	if ((f = strdup(name)) == NULL) {
		snprintf(buf, size, "%s", name);
		return;
	}
	drop_go_version(f);
	if ((start = go_short(f)) != NULL) {
		snprintf(buf, size, "%s", start);
	} else if (java_short(f, &start, &len) || cpp_short(f, &start, &len)) {
		snprintf(buf, size, "%.*s", (int)len, start);
	} else {
		snprintf(buf, size, "%s", f);
	}
	free(f);
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t c;

	return pp_utf8_decode(s, 4, &c);
}

/* pprof's escapeForDot, and more: a profile is untrusted, so control
 * characters and bytes that are not UTF-8 (which would make the SVG
 * invalid XML) become '?'. */
static void
add_escaped(struct pp_buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s) {
		if (*s == '\\')
			pp_buf_adds(out, "\\\\");
		else if (*s == '"')
			pp_buf_adds(out, "\\\"");
		else if (*s == '\n')
			pp_buf_adds(out, "\\l");
		else if (*s < 0x20 || *s == 0x7f)
			pp_buf_addc(out, '?');
		else if ((n = utf8_len(s)) == 0)
			pp_buf_addc(out, '?');
		else {
			pp_buf_add(out, s, n);
			s += n;
			continue;
		}
		s++;
	}
}

/* add_escaped into a fixed buffer, for printf arguments. */
static const char *
esc(const char *s, char *buf, size_t size)
{
	struct pp_buf b;

	pp_buf_init(&b);
	add_escaped(&b, s);
	snprintf(buf, size, "%s", b.data ? b.data : "");
	pp_buf_release(&b);
	return buf;
}

/* A value in the report's unit, which comes from the profile: escaped. */
static void
dvalue(const struct pp_report *r, int64_t v, char *buf, size_t size)
{
	char raw[64];

	pp_report_value(r, v, raw, sizeof(raw));
	esc(raw, buf, size);
}

void
pp_diff_color(double score, double sat, double val, double min_tint,
    char buf[8])
{
	const double shift = 0.7;
	double r, g, b;

	score = fmax(-1.0, fmin(1.0, score));
	if (fabs(score) < 0.2)
		sat *= fmax(fabs(score) / 0.2, score != 0 ? min_tint : 0);
	if (score > 0.0)
		score = pow(score, 1.0 - shift);
	if (score < 0.0)
		score = -pow(-score, 1.0 - shift);
	if (score < 0.0) {
		g = val;
		r = val * (1 + sat * score);
	} else {
		r = val;
		g = val * (1 - sat * score);
	}
	b = val * (1 - sat);
	snprintf(buf, 8, "#%02x%02x%02x", (unsigned)(uint8_t)(r * 255.0),
	    (unsigned)(uint8_t)(g * 255.0), (unsigned)(uint8_t)(b * 255.0));
}

void
pp_dot_color(double score, bool background, char buf[8])
{
	pp_diff_color(score, background ? 0.1 : 1.0, background ? 0.93 : 0.7,
	    0, buf);
}

/* pprof's multilinePrintableName */
static void
add_multiline_name(struct pp_buf *out, const struct pp_gnode *n)
{
	char shortname[1024];
	const char *s;

	if (*n->funcname == '\0') {
		add_escaped(out, n->name);
		pp_buf_adds(out, "\\n");
		return;
	}
	pp_shorten_name(n->funcname, shortname, sizeof(shortname));
	struct pp_buf esc;
	pp_buf_init(&esc);
	add_escaped(&esc, shortname);
	for (s = esc.data ? esc.data : ""; *s; s++) {
		if (strncmp(s, "::", 2) == 0) {
			pp_buf_adds(out, "\\n");
			s++;
		} else if (strncmp(s, "[...]", 5) == 0) {
			pp_buf_adds(out, "[\xe2\x80\xa6]");
			s += 4;
		} else if (*s == '.') {
			pp_buf_adds(out, "\\n");
		} else {
			pp_buf_addc(out, *s);
		}
	}
	pp_buf_release(&esc);
	pp_buf_adds(out, "\\n");
}

static void
add_node(const struct pp_report *r, struct pp_buf *out, size_t i,
    double max_flat)
{
	const struct pp_graph *g = r->graph;
	const struct pp_gnode *n = &g->node[i];
	char flat[64], cum[64], pct[16], fg[8], bg[8];
	double score = (double)n->cum / (double)pp_abs64(g->total);
	int fontsize = 8;

	pp_buf_addf(out, "N%zu [label=\"", i + 1);
	add_multiline_name(out, n);
	dvalue(r, n->flat, flat, sizeof(flat));
	snprintf(cum, sizeof(cum), "%s", flat);
	if (n->flat != 0) {
		pp_unit_percent(n->flat, g->total, pct, sizeof(pct));
		pp_buf_addf(out, "%s (%s)", flat, pct + strspn(pct, " "));
	} else {
		pp_buf_adds(out, "0");
	}
	if (n->cum != n->flat) {
		pp_buf_adds(out, n->flat != 0 ? "\\n" : " ");
		dvalue(r, n->cum, cum, sizeof(cum));
		pp_unit_percent(n->cum, g->total, pct, sizeof(pct));
		pp_buf_addf(out, "of %s (%s)", cum, pct + strspn(pct, " "));
	}
	if (max_flat != 0 && n->flat != 0 &&
	    (double)pp_abs64(n->flat) <= max_flat)
		fontsize += (int)ceil(16.0 * sqrt((double)pp_abs64(n->flat) /
		    max_flat));
	pp_dot_color(score, false, fg);
	pp_dot_color(score, true, bg);
	pp_buf_addf(out, "\" id=\"node%zu\" fontsize=%d shape=box tooltip=\"",
	    i + 1, fontsize);
	add_escaped(out, n->name);
	pp_buf_addf(out, " (%s)\" color=\"%s\" fillcolor=\"%s\"]\n", cum, fg,
	    bg);
}

/* pprof's SortTags */
static int sort_flat;
static int
cmp_tag(const void *pa, const void *pb)
{
	const struct pp_gtag *a = *(struct pp_gtag *const *)pa;
	const struct pp_gtag *b = *(struct pp_gtag *const *)pb;

	/* Absolute values, as in cmp_edge: pprof's order of 5 and -5 is not
	 * fixed. */
	if (!sort_flat && pp_abs64(a->cum) != pp_abs64(b->cum))
		return pp_abs64(a->cum) > pp_abs64(b->cum) ? -1 : 1;
	if (pp_abs64(a->flat) != pp_abs64(b->flat))
		return pp_abs64(a->flat) > pp_abs64(b->flat) ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void
sort_tags(struct pp_gtag **t, size_t n, bool flat)
{
	sort_flat = flat;
	if (n > 1)
		qsort(t, n, sizeof(*t), cmp_tag);
}

/* pprof's tagDistance */
static double
tag_distance(const struct pp_gtag *t, const struct pp_gtag *u)
{
	char unit[32];
	double v;

	pp_unit_scale(u->value, u->unit, t->unit, &v, unit, sizeof(unit));
	return v < (double)t->value ? (double)t->value - v :
	    v - (double)t->value;
}

/* A nodelet of collapsed numeric tags: pprof's collapsedTags groups the
 * tags beyond the first count with the nearest of those. */
struct group {
	struct pp_gtag tag;	/* flat and cum summed over the group */
	const struct pp_gtag *min, *max;
	size_t n;
};

static int
cmp_group(const void *pa, const void *pb)
{
	const struct pp_gtag *a = &((const struct group *)pa)->tag;
	const struct pp_gtag *b = &((const struct group *)pb)->tag;

	return cmp_tag(&a, &b);
}

/* pprof's collapsedTags. Returns the number of groups filled. */
static size_t
collapse_tags(struct pp_gtag **ts, size_t n, size_t count, bool flat,
    struct group *groups)
{
	size_t gi, i, k;
	char unit[32];
	double v, d, nd;

	sort_tags(ts, n, flat);
	if (n < count)
		count = n;
	for (i = 0; i < count; i++) {
		groups[i].tag = *ts[i];
		groups[i].min = groups[i].max = ts[i];
		groups[i].n = 1;
	}
	for (i = count; i < n; i++) {
		const struct pp_gtag *t = ts[i];

		gi = 0;
		d = tag_distance(t, ts[0]);
		for (k = 1; k < count; k++)
			if ((nd = tag_distance(t, ts[k])) < d) {
				gi = k;
				d = nd;
			}
		pp_unit_scale(t->value, t->unit, groups[gi].min->unit, &v,
		    unit, sizeof(unit));
		if ((int64_t)v < groups[gi].min->value)
			groups[gi].min = t;
		pp_unit_scale(t->value, t->unit, groups[gi].max->unit, &v,
		    unit, sizeof(unit));
		if ((int64_t)v > groups[gi].max->value)
			groups[gi].max = t;
		groups[gi].tag.flat += t->flat;
		groups[gi].tag.cum += t->cum;
		groups[gi].n++;
	}
	if (n > count) {
		sort_flat = flat;
		qsort(groups, count, sizeof(*groups), cmp_group);
	}
	return count;
}

/* pprof's tagGroupLabel */
static void
group_label(const struct group *g, char *buf, size_t size)
{
	char a[64], b[64];

	if (g->n == 1) {
		pp_unit_label(g->tag.value, g->tag.unit, "auto", buf, size);
		return;
	}
	pp_unit_label(g->min->value, g->min->unit, "auto", a, sizeof(a));
	pp_unit_label(g->max->value, g->max->unit, "auto", b, sizeof(b));
	snprintf(buf, size, "%s..%s", a, b);
}

/* pprof's numericNodelets */
static void
numeric_nodelets(const struct pp_report *r, struct pp_buf *out,
    struct pp_gtag **nts, size_t n, bool flat_tags, const char *source)
{
	struct group groups[MAX_NODELETS];
	size_t k, m;
	char w[64], lab[140], name[300];

	m = collapse_tags(nts, n, MAX_NODELETS, flat_tags, groups);
	for (k = 0; k < m; k++) {
		const struct pp_gtag *t = &groups[k].tag;
		int64_t v = t->cum;
		const char *attr = " style=\"dotted\"";

		if (flat_tags || t->flat == t->cum) {
			v = t->flat;
			attr = "";
		}
		if (v == 0)
			continue;
		group_label(&groups[k], lab, sizeof(lab));
		esc(lab, name, sizeof(name));
		dvalue(r, v, w, sizeof(w));
		pp_buf_addf(out, "N%s_%zu [label = \"%s\" id=\"N%s_%zu\" "
		    "fontsize=8 shape=box3d tooltip=\"%s\"]\n", source, k,
		    name, source, k, w);
		pp_buf_addf(out, "%s -> N%s_%zu [label=\" %s\" weight=100 "
		    "tooltip=\"%s\" labeltooltip=\"%s\"%s]\n", source, source,
		    k, w, w, w, attr);
	}
}

/* pprof's addNodelets: up to four label tags of a node, and the numeric
 * tags under each and under the node itself. Returns whether any. */
static bool
add_nodelets(const struct pp_report *r, struct pp_buf *out, size_t i)
{
	const struct pp_gnode *n = &r->graph->node[i];
	bool flat_tags = n->nout > 0;
	struct pp_gtag **lt, **nt;
	size_t nl = 0, nn, k, j;
	size_t before = out->len;
	char w[64], src[64];

	lt = calloc(n->ntags + 1, sizeof(*lt));
	nt = calloc(n->ntags + 1, sizeof(*nt));
	if (lt == NULL || nt == NULL) {
		out->oom = true;
		goto out;
	}
	for (k = 0; k < n->ntags; k++)
		if (!n->tags[k].numeric)
			lt[nl++] = &n->tags[k];
	sort_tags(lt, nl, flat_tags);
	if (nl > MAX_NODELETS)
		nl = MAX_NODELETS;
	for (k = 0; k < nl; k++) {
		const struct pp_gtag *t = lt[k];
		int64_t v = flat_tags ? t->flat : t->cum;

		if (v == 0)
			continue;
		dvalue(r, v, w, sizeof(w));
		pp_buf_addf(out, "N%zu_%zu [label = \"%s\" id=\"N%zu_%zu\" "
		    "fontsize=8 shape=box3d tooltip=\"%s\"]\n", i + 1, k,
		    t->name, i + 1, k, w);
		pp_buf_addf(out, "N%zu -> N%zu_%zu [label=\" %s\" weight=100 "
		    "tooltip=\"%s\" labeltooltip=\"%s\"]\n", i + 1, i + 1, k,
		    w, w, w);
		for (j = nn = 0; j < n->ntags; j++)
			if (n->tags[j].numeric && n->tags[j].labels == t->name)
				nt[nn++] = &n->tags[j];
		if (nn > 0) {
			snprintf(src, sizeof(src), "N%zu_%zu", i + 1, k);
			numeric_nodelets(r, out, nt, nn, flat_tags, src);
		}
	}
	for (j = nn = 0; j < n->ntags; j++)
		if (n->tags[j].numeric && n->tags[j].labels == NULL)
			nt[nn++] = &n->tags[j];
	if (nn > 0) {
		snprintf(src, sizeof(src), "N%zu", i + 1);
		numeric_nodelets(r, out, nt, nn, flat_tags, src);
	}
out:
	free(lt);
	free(nt);
	return out->len != before;
}

static void
add_edge(const struct pp_report *r, struct pp_buf *out,
    const struct pp_gedge *e, bool has_nodelets)
{
	const struct pp_graph *g = r->graph;
	char w[64], color[8];
	int64_t weight, width;

	dvalue(r, e->weight, w, sizeof(w));
	pp_buf_addf(out, "N%u -> N%u [label=\" %s%s\"", e->src + 1, e->dst + 1,
	    w, e->inlined ? "\\n (inline)" : "");
	if (g->total != 0) {
		/* In 128 bits: values are bounded (see pprof.c), their
		 * products are not. */
		weight = (int64_t)((__int128)e->weight * 100 / g->total);
		weight = 1 + (pp_abs64(weight) < 100 ? pp_abs64(weight) : 100);
		if (weight > 1)
			pp_buf_addf(out, " weight=%lld", (long long)weight);
		width = (int64_t)((__int128)e->weight * 5 / g->total);
		width = 1 + (pp_abs64(width) < 5 ? pp_abs64(width) : 5);
		if (width > 1)
			pp_buf_addf(out, " penwidth=%lld", (long long)width);
		pp_dot_color((double)e->weight / (double)pp_abs64(g->total),
		    false, color);
		pp_buf_addf(out, " color=\"%s\"", color);
	}
	for (int k = 0; k < 2; k++) {
		pp_buf_adds(out, k == 0 ? " tooltip=\"" : " labeltooltip=\"");
		add_escaped(out, g->node[e->src].name);
		pp_buf_adds(out, e->residual ? " ... " : " -> ");
		add_escaped(out, g->node[e->dst].name);
		pp_buf_addf(out, " (%s)\"", w);
	}
	if (e->residual)
		pp_buf_adds(out, " style=\"dotted\"");
	if (has_nodelets)
		pp_buf_adds(out, " minlen=2");
	pp_buf_adds(out, "]\n");
}

static const struct pp_graph *cmp_graph;
static int
cmp_edge(const void *pa, const void *pb)
{
	const struct pp_gedge *a = *(struct pp_gedge *const *)pa;
	const struct pp_gedge *b = *(struct pp_gedge *const *)pb;
	int c;

	/* pprof compares weights with != and then their absolute values,
	 * so that 5 and -5 are neither less than the other: its order of
	 * such edges in a difference changes from run to run. Here the
	 * names decide, so that the order is fixed and qsort gets a
	 * consistent comparison. */
	if (pp_abs64(a->weight) != pp_abs64(b->weight))
		return pp_abs64(a->weight) > pp_abs64(b->weight) ? -1 : 1;
	if ((c = strcmp(cmp_graph->node[a->src].name,
	    cmp_graph->node[b->src].name)))
		return c;
	return strcmp(cmp_graph->node[a->dst].name,
	    cmp_graph->node[b->dst].name);
}

void
pp_report_dot(const struct pp_report *r, struct pp_buf *out)
{
	const struct pp_profile *p = r->prof;
	const struct pp_graph *g = r->graph;
	const char *title = NULL;
	const struct pp_gedge **edges = NULL;
	struct pp_buf leg;
	bool *has_nodelets = NULL;
	double max_flat;
	size_t i, k;
	char *nl;

	if (p->nmapping > 0 && *p->mapping[0]->file != '\0')
		title = pp_base_name(p->mapping[0]->file);
	pp_buf_adds(out, "digraph \"");
	add_escaped(out, title ? title : "unnamed");
	pp_buf_adds(out, "\" {\n");
	pp_buf_adds(out, "node [style=filled fillcolor=\"#f8f8f8\"]\n");

	/* The legend: its first line names it. */
	pp_buf_init(&leg);
	pp_report_legend(r, true, &leg);
	if (leg.len > 0 && leg.data[leg.len - 1] == '\n')
		leg.data[--leg.len] = '\0';
	nl = leg.data ? strchr(leg.data, '\n') : NULL;
	pp_buf_adds(out, "subgraph cluster_L { \"");
	if (nl != NULL)
		*nl = '\0';
	add_escaped(out, leg.data ? leg.data : "");
	if (nl != NULL)
		*nl = '\n';
	pp_buf_adds(out, "\" [shape=box fontsize=16 label=\"");
	add_escaped(out, leg.data ? leg.data : "");
	pp_buf_adds(out, "\\l\"");
	if (title != NULL) {
		pp_buf_adds(out, " tooltip=\"");
		add_escaped(out, title);
		pp_buf_adds(out, "\"");
	}
	pp_buf_adds(out, "] }\n");
	pp_buf_release(&leg);

	if (g->nnode == 0)
		goto out;
	if ((has_nodelets = calloc(g->nnode, sizeof(*has_nodelets))) == NULL ||
	    (edges = calloc(g->nedge + 1, sizeof(*edges))) == NULL) {
		out->oom = true;
		goto out;
	}
	max_flat = (double)pp_abs64(g->node[0].flat);
	for (i = 0; i < g->nnode; i++)
		if ((double)pp_abs64(g->node[i].flat) > max_flat)
			max_flat = (double)pp_abs64(g->node[i].flat);
	for (i = 0; i < g->nnode; i++) {
		add_node(r, out, i, max_flat);
		has_nodelets[i] = add_nodelets(r, out, i);
	}
	for (k = 0; k < g->nedge; k++)
		edges[k] = &g->edge[k];
	cmp_graph = g;
	if (g->nedge > 1)
		qsort(edges, g->nedge, sizeof(*edges), cmp_edge);
	for (k = 0; k < g->nedge; k++)
		add_edge(r, out, edges[k], has_nodelets[edges[k]->src]);
out:
	pp_buf_adds(out, "}\n");
	free(has_nodelets);
	free(edges);
}
