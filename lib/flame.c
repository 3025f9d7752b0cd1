/* The flame graph (see flame.h): a tree of frames built from the samples,
 * laid out in one pass that drops what is narrower than a pixel, and
 * written as SVG with a constant script. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "graph.h"
#include "report.h"
#include "units.h"
#include "util.h"

#define NONE		UINT32_MAX
#define MARGIN		10	/* left and right of the frames, pixels */
#define TOP		84	/* title, subtitle, controls */
#define ROW		16	/* a frame is 15 pixels high, 1 apart */
#define BOTTOM		28	/* the details line */
#define CHAR_WIDTH	7	/* of 12px Verdana, roughly, as flamegraph.pl */
/* Bounds on the work a hostile profile can ask for: a node takes about a
 * hundred bytes, a frame drawn about three hundred in the SVG. */
#define MAX_NODES	((size_t)1 << 22)
#define MAX_FRAMES	((size_t)1 << 19)

struct fnode {
	uint32_t name;		/* index in flame.names */
	uint32_t parent;
	const char *obj;	/* mapping file, "" when none */
	int64_t value;		/* cum: the new profile's (all of it if no base) */
	int64_t base;		/* cum of the base, positive */
	int64_t self;		/* the new profile's */
	uint32_t kid0, nkid;	/* callees: flame.kid[kid0 .. kid0 + nkid) */
	/* Filled by the layout, for the tooltip. */
	uint32_t nnarrow, ngone;
	int64_t narrow, gone;
};

/* A frame drawn: a node, or the remainder of a node's narrow callees. */
struct frame {
	uint32_t node;
	uint32_t depth;
	uint32_t end;		/* index of its last descendant */
	bool rem;
	int64_t x, w;		/* in the sample type's unit */
};

struct flame {
	const struct pp_profile *p;
	const struct pp_flame_opts *o;
	struct pp_arena arena;
	struct pp_strset strs;
	const char **names;	/* by id */
	size_t nnames, capnames;
	struct pp_u64map nameid;	/* interned pointer -> id */
	uint32_t *lname;	/* name ids of each location's lines */
	size_t *lstart;		/* by location index */
	struct fnode *node;
	size_t nnode, capnode;
	struct pp_u64map kids;	/* (parent, name) -> node */
	uint32_t *kid;
	struct frame *frame;
	size_t nframe, capframe;
	uint32_t maxdepth;
	bool diff;
	int width, plotw;
	int64_t total;
	const char *unit;
	const char *mainobj;	/* the main program's file (main_object) */
	struct pp_err *e;
};

/* Names and text *************************************************************/

/* The length of the character at s if it is valid UTF-8 and allowed in
 * XML 1.0 (no control characters but tab, no U+FFFE or U+FFFF), else 0. */
static size_t
xml_char_len(const unsigned char *s)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80)
		return (s[0] >= 0x20 && s[0] != 0x7f) || s[0] == '\t' ? 1 : 0;
	if ((n = pp_utf8_decode(s, 4, &c)) == 0 || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

/* The number of characters add_xml would show of s. */
static size_t
xml_chars(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, count = 0;

	for (; *s; s += n ? n : 1, count++)
		n = xml_char_len(s);
	return count;
}

/* Appends s escaped for XML text and attribute values, at most max
 * characters of it (0: all), ".." in place of the rest. A character that
 * XML cannot hold is shown as '?'. */
static void
add_xml(struct pp_buf *out, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, count, limit = SIZE_MAX;

	if (max > 0 && xml_chars(str) > max)
		limit = max > 2 ? max - 2 : 0;
	for (count = 0; *s && count < limit; count++) {
		if ((n = xml_char_len(s)) == 0) {
			pp_buf_addc(out, '?');
			s++;
			continue;
		}
		switch (*s) {
		case '&':
			pp_buf_adds(out, "&amp;");
			break;
		case '<':
			pp_buf_adds(out, "&lt;");
			break;
		case '>':
			pp_buf_adds(out, "&gt;");
			break;
		case '"':
			pp_buf_adds(out, "&quot;");
			break;
		case '\'':
			pp_buf_adds(out, "&apos;");
			break;
		case '\t':
			/* as a reference, or an attribute's value would
			 * have a space in its place */
			pp_buf_adds(out, "&#9;");
			break;
		default:
			pp_buf_add(out, s, n);
		}
		s += n;
	}
	if (*s)
		pp_buf_adds(out, "..");
}

static int
name_id(struct flame *b, const char *s, uint32_t *out)
{
	const char *in = pp_strset_intern(&b->strs, &b->arena, s, strlen(s));
	uint64_t *v;

	if (in == NULL)
		return PP_ENOMEM;
	if ((v = pp_u64map_get(&b->nameid, (uintptr_t)in)) != NULL) {
		*out = (uint32_t)*v;
		return 0;
	}
	if (pp_grow(&b->names, &b->capnames, b->nnames + 1,
	    sizeof(*b->names)) < 0 ||
	    pp_u64map_put(&b->nameid, (uintptr_t)in, b->nnames, NULL) < 0)
		return PP_ENOMEM;
	b->names[b->nnames] = in;
	*out = (uint32_t)b->nnames++;
	return 0;
}

/* The frames of every location, named as the call graph names its nodes
 * and pp_folded its frames. */
static int
map_locations(struct flame *b)
{
	const struct pp_profile *p = b->p;
	char buf[1100];
	size_t i, k, n = 0;
	int rc;

	for (i = 0; i < p->nlocation; i++)
		n += p->location[i]->nline ? p->location[i]->nline : 1;
	b->lname = malloc((n + 1) * sizeof(*b->lname));
	b->lstart = malloc((p->nlocation + 1) * sizeof(*b->lstart));
	if (b->lname == NULL || b->lstart == NULL)
		return PP_ENOMEM;
	n = 0;
	for (i = 0; i < p->nlocation; i++) {
		struct pp_location *l = p->location[i];
		const char *obj = l->mapping ? l->mapping->file : "";

		l->index = (uint32_t)i;
		b->lstart[i] = n;
		for (k = 0; k < (l->nline ? l->nline : 1); k++) {
			const char *name = k < l->nline ?
			    l->line[k].function->name : "";

			if (*name == '\0' && *obj != '\0') {
				snprintf(buf, sizeof(buf), "[%s]",
				    pp_base_name(obj));
				name = buf;
			} else if (*name == '\0') {
				name = "<unknown>";
			}
			if ((rc = name_id(b, name, &b->lname[n++])) < 0)
				return rc;
		}
	}
	b->lstart[p->nlocation] = n;
	return 0;
}

/* The tree *******************************************************************/

static int
add_node(struct flame *b, uint32_t parent, uint32_t name, const char *obj,
    uint32_t *out)
{
	struct fnode *n;

	if (b->nnode >= MAX_NODES)
		return pp_err_set(b->e, PP_ETOOBIG, "more than %zu frames in "
		    "the profile's stacks", MAX_NODES);
	if (pp_grow(&b->node, &b->capnode, b->nnode + 1, sizeof(*b->node)) < 0)
		return PP_ENOMEM;
	n = &b->node[b->nnode];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->parent = parent;
	n->obj = obj;
	*out = (uint32_t)b->nnode++;
	return 0;
}

static int
child(struct flame *b, uint32_t parent, uint32_t name, const char *obj,
    uint32_t *out)
{
	uint64_t key = ((uint64_t)(parent + 1) << 32) | ((uint64_t)name + 1);
	uint64_t *v;
	int rc;

	if ((v = pp_u64map_get(&b->kids, key)) != NULL) {
		*out = (uint32_t)*v;
		return 0;
	}
	if ((rc = add_node(b, parent, name, obj, out)) < 0)
		return rc;
	return pp_u64map_put(&b->kids, key, *out, NULL) < 0 ? PP_ENOMEM : 0;
}

static bool
is_base(const struct pp_sample *s)
{
	size_t k;

	for (k = 0; k < s->nlabel; k++)
		if (strcmp(s->label[k].key, "pprof::base") == 0 &&
		    strcmp(s->label[k].str, "true") == 0)
			return true;
	return false;
}

static int
build_tree(struct flame *b)
{
	const struct pp_profile *p = b->p;
	int si = b->o->sample_index;
	uint32_t unknown, cur;
	size_t i, k, j;
	int rc;

	if ((rc = name_id(b, "all", &cur)) < 0 ||
	    (rc = add_node(b, NONE, cur, "", &cur)) < 0 ||
	    (rc = name_id(b, "<unknown>", &unknown)) < 0)
		return rc;
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = p->sample[i];
		int64_t v = s->value[si], nv = 0, bv = 0;
		struct fnode *n;

		if (v == 0)
			continue;
		/* A sample of the base, or a negative value (pprof's -base
		 * without -diff_base) belongs to the base. */
		if (is_base(s) || v < 0) {
			bv = -v;
			b->diff = true;
		} else {
			nv = v;
		}
		b->node[0].value += nv;
		b->node[0].base += bv;
		cur = 0;
		for (k = s->nlocation; k-- > 0;) {
			const struct pp_location *l = s->location[k];
			const char *obj = l->mapping ? l->mapping->file : "";
			size_t lo = b->lstart[l->index];

			for (j = b->lstart[l->index + 1]; j-- > lo;) {
				if ((rc = child(b, cur, b->lname[j], obj,
				    &cur)) < 0)
					return rc;
				n = &b->node[cur];
				n->value += nv;
				n->base += bv;
			}
		}
		if (cur == 0) {
			/* No frames: pp_folded calls this stack <unknown>. */
			if ((rc = child(b, 0, unknown, "", &cur)) < 0)
				return rc;
			b->node[cur].value += nv;
			b->node[cur].base += bv;
		}
		b->node[cur].self += nv;
	}
	return 0;
}

struct kidsort {
	const char *name;
	uint32_t id;
};

static int
cmp_kid(const void *a, const void *b)
{
	return strcmp(((const struct kidsort *)a)->name,
	    ((const struct kidsort *)b)->name);
}

/* Every node's callees, sorted by name, as ranges of b->kid. */
static int
sort_kids(struct flame *b)
{
	struct kidsort *ks;
	size_t i, k, n = b->nnode;

	if ((b->kid = malloc(n * sizeof(*b->kid))) == NULL ||
	    (ks = malloc(n * sizeof(*ks))) == NULL)
		return PP_ENOMEM;
	for (i = 1; i < n; i++)
		b->node[b->node[i].parent].nkid++;
	for (i = 0, k = 0; i < n; i++) {
		b->node[i].kid0 = (uint32_t)k;
		k += b->node[i].nkid;
		b->node[i].nkid = 0;
	}
	for (i = 1; i < n; i++) {
		struct fnode *pa = &b->node[b->node[i].parent];

		ks[pa->kid0 + pa->nkid].name = b->names[b->node[i].name];
		ks[pa->kid0 + pa->nkid++].id = (uint32_t)i;
	}
	for (i = 0; i < n; i++)
		if (b->node[i].nkid > 1)
			qsort(ks + b->node[i].kid0, b->node[i].nkid,
			    sizeof(*ks), cmp_kid);
	for (i = 0; i + 1 < n; i++)
		b->kid[i] = ks[i].id;
	free(ks);
	return 0;
}

/* Layout *********************************************************************/

/* Whether a value is at least one pixel wide. */
static bool
drawn(const struct flame *b, int64_t v)
{
	return v > 0 && (double)v * b->plotw >= (double)b->node[0].value;
}

static int
push_frame(struct frame **a, size_t *n, size_t *cap, uint32_t node,
    uint32_t depth, bool rem, int64_t x, int64_t w)
{
	struct frame *f;

	if (pp_grow(a, cap, *n + 1, sizeof(**a)) < 0)
		return PP_ENOMEM;
	f = &(*a)[(*n)++];
	f->node = node;
	f->depth = depth;
	f->end = 0;
	f->rem = rem;
	f->x = x;
	f->w = w;
	return 0;
}

/* The frames to draw, in pre-order, by a depth-first walk with a stack:
 * a node's callees are pushed last first, after the remainder of those
 * too narrow to draw, so that they come out in order. */
static int
layout(struct flame *b)
{
	struct frame *stack = NULL, f;
	uint32_t *open = NULL;
	size_t nstack = 0, capstack = 0, nopen = 0, i, k;
	int64_t x;
	int rc = PP_ENOMEM;

	if (!drawn(b, b->node[0].value))
		return 0;
	if ((rc = push_frame(&stack, &nstack, &capstack, 0, 0, false, 0,
	    b->node[0].value)) < 0)
		goto out;
	while (nstack > 0) {
		struct fnode *n;

		f = stack[--nstack];
		if (b->nframe >= MAX_FRAMES) {
			rc = pp_err_set(b->e, PP_ETOOBIG, "more than %zu frames "
			    "to draw", MAX_FRAMES);
			goto out;
		}
		if ((rc = push_frame(&b->frame, &b->nframe, &b->capframe,
		    f.node, f.depth, f.rem, f.x, f.w)) < 0)
			goto out;
		if (f.depth > b->maxdepth)
			b->maxdepth = f.depth;
		if (f.rem)
			continue;
		n = &b->node[f.node];
		for (k = 0; k < n->nkid; k++) {
			const struct fnode *c = &b->node[b->kid[n->kid0 + k]];

			if (c->value <= 0) {
				n->ngone++;
				n->gone += c->base;
			} else if (!drawn(b, c->value)) {
				n->nnarrow++;
				n->narrow += c->value;
			}
		}
		x = f.x;
		for (k = 0; k < n->nkid; k++)
			if (drawn(b, b->node[b->kid[n->kid0 + k]].value))
				x += b->node[b->kid[n->kid0 + k]].value;
		if (drawn(b, n->narrow) && (rc = push_frame(&stack, &nstack,
		    &capstack, f.node, f.depth + 1, true, x, n->narrow)) < 0)
			goto out;
		for (k = n->nkid; k-- > 0;) {
			uint32_t id = b->kid[n->kid0 + k];
			int64_t v = b->node[id].value;

			if (!drawn(b, v))
				continue;
			x -= v;
			if ((rc = push_frame(&stack, &nstack, &capstack, id,
			    f.depth + 1, false, x, v)) < 0)
				goto out;
		}
	}
	/* A frame's subtree ends where the next frame as shallow starts. */
	rc = PP_ENOMEM;
	if ((open = malloc((b->maxdepth + 1) * sizeof(*open))) == NULL)
		goto out;
	for (i = 0; i < b->nframe; i++) {
		while (nopen > 0 &&
		    b->frame[open[nopen - 1]].depth >= b->frame[i].depth)
			b->frame[open[--nopen]].end = (uint32_t)i - 1;
		open[nopen++] = (uint32_t)i;
	}
	while (nopen > 0)
		b->frame[open[--nopen]].end = (uint32_t)b->nframe - 1;
	rc = 0;
out:
	free(stack);
	free(open);
	return rc;
}

/* Colours ********************************************************************/

/* FNV-1a: a hash that is the same in every run, so colours are stable. */
static uint32_t
stable_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void
rgb(double r, double g, double b, char buf[8])
{
	snprintf(buf, 8, "#%02x%02x%02x", (unsigned)(uint8_t)(r * 255.0),
	    (unsigned)(uint8_t)(g * 255.0), (unsigned)(uint8_t)(b * 255.0));
}

static double
hue_part(double p, double q, double t)
{
	if (t < 0)
		t += 1;
	if (t > 1)
		t -= 1;
	if (t < 1.0 / 6)
		return p + (q - p) * 6 * t;
	if (t < 0.5)
		return q;
	if (t < 2.0 / 3)
		return p + (q - p) * (2.0 / 3 - t) * 6;
	return p;
}

/* hue in degrees, saturation and lightness 0..1 */
static void
hsl(double h, double s, double l, char buf[8])
{
	double q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;

	h /= 360;
	rgb(hue_part(p, q, h + 1.0 / 3), hue_part(p, q, h),
	    hue_part(p, q, h - 1.0 / 3), buf);
}

/* pprof's dotColor (graph/dotgraph.go), as the call graph of a difference
 * colours its nodes, with a saturation and value for filled frames: red
 * for score 1, green for -1, grey for 0. */
static void
diff_color(double score, char buf[8])
{
	/* pprof fades changes under 0.2 to grey; a frame keeps a tint, so
	 * that the direction of any change shows */
	pp_diff_color(score, 0.75, 0.96, 0.15, buf);
}

static void
frame_color(const struct flame *b, const struct frame *f, double maxdelta,
    char buf[8])
{
	const struct fnode *n = &b->node[f->node];
	uint32_t h = stable_hash(b->names[n->name]);
	double v1 = (double)(h & 0xff) / 255, v2 = (double)(h >> 8 & 0xff) / 255;
	double t;

	if (f->rem) {
		snprintf(buf, 8, "#d8d8d8");
	} else if (b->diff) {
		diff_color(maxdelta > 0 ? (double)(n->value - n->base) /
		    maxdelta : 0, buf);
	} else if (b->o->colors == PP_FLAME_HEAT) {
		/* pprof's curve for its heat colours: a share s looks like
		 * s^0.3, so that 1% is already warm */
		t = b->total != 0 ? pow(fmin(1.0, fabs((double)n->self /
		    (double)b->total)), 0.3) : 0;
		hsl(48 * (1 - t), 0.35 + 0.6 * t, 0.84 - 0.26 * t, buf);
	} else if (f->node == 0) {
		snprintf(buf, 8, "#c8c8c8");
	} else if (strcmp(n->obj, b->mainobj) == 0) {
		/* flamegraph.pl's "hot" palette, by function name */
		rgb((205 + 50 * v2) / 255, 230 * v1 / 255,
		    55 * (double)(h >> 16 & 0xff) / 255 / 255, buf);
	} else if (*n->obj == '\0') {
		hsl(0, 0, 0.72 + 0.1 * v1, buf);
	} else {
		/* A hue per file, away from the warm ones; the function name
		 * varies its lightness. */
		h = stable_hash(pp_base_name(n->obj));
		hsl(75 + (double)(h % 250), 0.55, 0.6 + 0.14 * v1, buf);
	}
}

/* The main program's file: pprof's, the first mapping's, unless that is
 * a pseudo-file ("[vdso]", as eBPF profilers may put first) or a shared
 * library, and a later mapping is neither. */
static const char *
main_object(const struct pp_profile *p)
{
	size_t i;

	for (i = 0; i < p->nmapping; i++) {
		const char *f = p->mapping[i]->file, *base = pp_base_name(f);

		if (*f != '\0' && *f != '[' && strstr(base, ".so") == NULL)
			return f;
	}
	return p->nmapping > 0 ? p->mapping[0]->file : "";
}

/* Output *********************************************************************/

static void
value_label(const struct flame *b, int64_t v, char *buf, size_t size)
{
	pp_unit_label(v, b->unit, "auto", buf, size);
}

/* "1.20s (45.30%)" */
static void
add_value(struct pp_buf *out, const struct flame *b, int64_t v)
{
	char val[64], pct[16];

	value_label(b, v, val, sizeof(val));
	pp_unit_percent(v, b->total, pct, sizeof(pct));
	add_xml(out, val, 0);
	pp_buf_addf(out, " (%s)", pct + strspn(pct, " "));
}

/* "+0.20s (+0.67%)" */
static void
add_change(struct pp_buf *out, const struct flame *b, int64_t d)
{
	char val[64], pct[16];

	value_label(b, d, val, sizeof(val));
	pp_unit_percent(d, b->total, pct, sizeof(pct));
	pp_buf_adds(out, d > 0 ? "+" : "");
	add_xml(out, val, 0);
	pp_buf_addf(out, " (%s%s)", d > 0 ? "+" : d < 0 ? "-" : "",
	    pct + strspn(pct, " "));
}

/* The tooltip: the full name on the first line, then the numbers. */
static void
add_title(struct pp_buf *out, const struct flame *b, const struct frame *f)
{
	const struct fnode *n = &b->node[f->node];
	char val[64];

	pp_buf_adds(out, "<title>");
	if (f->rem) {
		pp_buf_addf(out, "%u callee%s of ", n->nnarrow,
		    n->nnarrow > 1 ? "s" : "");
		add_xml(out, b->names[n->name], 0);
		pp_buf_adds(out, ", each under 1 px\n");
		add_value(out, b, f->w);
		pp_buf_adds(out, "</title>");
		return;
	}
	add_xml(out, b->names[n->name], 0);
	pp_buf_adds(out, "\n");
	if (b->diff) {
		add_value(out, b, n->value);
		pp_buf_adds(out, ", base ");
		value_label(b, n->base, val, sizeof(val));
		add_xml(out, val, 0);
		pp_buf_adds(out, "\nchange ");
		add_change(out, b, n->value - n->base);
	} else {
		add_value(out, b, n->value);
		if (n->nkid > 0 && n->self != 0) {
			pp_buf_adds(out, "\nself ");
			add_value(out, b, n->self);
		}
	}
	if (*n->obj != '\0' && f->node != 0) {
		pp_buf_adds(out, "\nin ");
		add_xml(out, pp_base_name(n->obj), 0);
	}
	if (n->nnarrow > 0) {
		pp_buf_addf(out, "\n%u callee%s too narrow to draw: ",
		    n->nnarrow, n->nnarrow > 1 ? "s" : "");
		add_value(out, b, n->narrow);
	}
	if (n->ngone > 0) {
		pp_buf_addf(out, "\n%u callee%s only in the base: ", n->ngone,
		    n->ngone > 1 ? "s" : "");
		value_label(b, n->gone, val, sizeof(val));
		add_xml(out, val, 0);
	}
	pp_buf_adds(out, "</title>");
}

static void
add_frame(struct pp_buf *out, const struct flame *b, size_t i,
    double maxdelta)
{
	const struct frame *f = &b->frame[i];
	const struct fnode *n = &b->node[f->node];
	const char *name = f->rem ? "" : b->names[n->name];
	const char *label = name;
	double scale = (double)b->plotw / (double)b->node[0].value;
	double x = MARGIN + (double)f->x * scale, w = (double)f->w * scale;
	int y = TOP + (int)(b->maxdepth - f->depth) * ROW;
	char shortname[1024], color[8];
	long fit;

	pp_buf_addf(out, "<g class=\"f%s\" data-x=\"%lld\" data-w=\"%lld\" "
	    "data-e=\"%u\"", f->rem ? " r" : f->node == 0 ? " root" : "",
	    (long long)f->x, (long long)f->w, f->end);
	if (!f->rem && f->node != 0) {
		pp_shorten_name(name, shortname, sizeof(shortname));
		if (strcmp(shortname, name) != 0) {
			label = shortname;
			pp_buf_adds(out, " data-s=\"");
			add_xml(out, label, 0);
			pp_buf_adds(out, "\"");
		}
	}
	pp_buf_adds(out, ">");
	add_title(out, b, f);
	frame_color(b, f, maxdelta, color);
	pp_buf_addf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
	    "height=\"%d\" rx=\"2\" ry=\"2\" fill=\"%s\"/>", x, y, w, ROW - 1,
	    color);
	fit = (long)((w - 6) / CHAR_WIDTH);
	if (*label != '\0' && fit >= 3) {
		pp_buf_addf(out, "<text x=\"%.2f\" y=\"%d\">", x + 3, y + 11);
		add_xml(out, label, (size_t)fit);
		pp_buf_adds(out, "</text>");
	}
	pp_buf_adds(out, "</g>\n");
}

static const char style[] =
"<style type=\"text/css\"><![CDATA[\n"
"text { font-family: Verdana, \"DejaVu Sans\", sans-serif; font-size: 12px;"
" fill: #000; }\n"
"#title { font-size: 17px; text-anchor: middle; }\n"
"#subtitle, #matched { fill: #444; }\n"
"#subtitle { text-anchor: middle; }\n"
"#matched { text-anchor: end; }\n"
".ctl { fill: #0645ad; cursor: pointer; }\n"
".f { cursor: pointer; }\n"
".f.r { cursor: default; }\n"
".f text { pointer-events: none; }\n"
".f:hover rect { stroke: #000; stroke-width: 0.7; }\n"
".f.match rect { fill: #e040e0; }\n"
".hide { display: none; }\n"
"]]></style>\n";

/* Constant: it reads the profile's data from the document, never the
 * other way round, and writes text only through textContent. */
static const char script[] =
"<script type=\"text/ecmascript\"><![CDATA[\n"
"(function () {\n"
"\"use strict\";\n"
"/* the graph's own svg element, also when it is inlined in a page */\n"
"var me = document.currentScript;\n"
"var svg = (me && me.ownerSVGElement) || document.documentElement;\n"
"var NS = \"http://www.w3.org/2000/svg\";\n"
"var X0 = +svg.getAttribute(\"data-plot-x\");\n"
"var W = +svg.getAttribute(\"data-plot-w\");\n"
"var total = +svg.getAttribute(\"data-total\");\n"
"var unit = svg.getAttribute(\"data-unit\") || \"\";\n"
"var holder = svg.querySelector(\"#frames\");\n"
"var details = svg.querySelector(\"#details\");\n"
"var matched = svg.querySelector(\"#matched\");\n"
"var reset = svg.querySelector(\"#reset\");\n"
"var input = svg.querySelector(\"#search\");\n"
"var F = [], zoomed = 0, i;\n"
"if (!holder)\n"
"\treturn;\n"
"for (i = 0; i < holder.children.length; i++) {\n"
"\tvar g = holder.children[i];\n"
"\tvar t = g.getElementsByTagName(\"title\")[0];\n"
"\tvar lines = t ? t.textContent.split(\"\\n\") : [\"\"];\n"
"\tF.push({ g: g, i: i, rect: g.getElementsByTagName(\"rect\")[0],\n"
"\t    text: g.getElementsByTagName(\"text\")[0] || null,\n"
"\t    x: +g.getAttribute(\"data-x\"), w: +g.getAttribute(\"data-w\"),\n"
"\t    e: +g.getAttribute(\"data-e\"), name: lines[0],\n"
"\t    info: lines.join(\"  |  \"),\n"
"\t    label: g.getAttribute(\"data-s\") || lines[0],\n"
"\t    rem: g.classList.contains(\"r\"),\n"
"\t    root: g.classList.contains(\"root\") });\n"
"\tg.ppFrame = F[i];\n"
"}\n"
"\n"
"/* pprof's units, for the search's total */\n"
"var UNITS = { ns: [0, 1], nanosecond: [0, 1], us: [0, 1e3],\n"
"    microsecond: [0, 1e3], ms: [0, 1e6], millisecond: [0, 1e6],\n"
"    s: [0, 1e9], sec: [0, 1e9], second: [0, 1e9], b: [1, 1],\n"
"    byte: [1, 1], kb: [1, 1024], kilobyte: [1, 1024],\n"
"    mb: [1, 1048576], megabyte: [1, 1048576], gb: [1, 1073741824],\n"
"    gigabyte: [1, 1073741824] };\n"
"var SCALES = [[[\"ns\", 1], [\"us\", 1e3], [\"ms\", 1e6], [\"s\", 1e9],\n"
"    [\"hrs\", 3600e9]], [[\"B\", 1], [\"kB\", 1024], [\"MB\", 1048576],\n"
"    [\"GB\", 1073741824], [\"TB\", 1099511627776],\n"
"    [\"PB\", 1125899906842624]]];\n"
"function fmt(v) {\n"
"\tvar u = unit.toLowerCase(), a, s, best, k, x;\n"
"\tif (u.length > 2 && u.charAt(u.length - 1) === \"s\")\n"
"\t\tu = u.slice(0, -1);\n"
"\tif (!Object.prototype.hasOwnProperty.call(UNITS, u))\n"
"\t\treturn String(v);\n"
"\ta = UNITS[u];\n"
"\tx = Math.abs(v) * a[1];\n"
"\tbest = SCALES[a[0]][0];\n"
"\tfor (k = 0; k < SCALES[a[0]].length; k++)\n"
"\t\tif (x / SCALES[a[0]][k][1] >= 1)\n"
"\t\t\tbest = SCALES[a[0]][k];\n"
"\ts = (x / best[1]).toFixed(2).replace(/\\.00$/, \"\");\n"
"\treturn s === \"0\" ? s : (v < 0 ? \"-\" : \"\") + s + best[0];\n"
"}\n"
"function pct(v) {\n"
"\tvar r = total ? Math.abs(v / total) * 100 : 0;\n"
"\tif (r >= 99.95 && r <= 100.05)\n"
"\t\treturn \"100%\";\n"
"\treturn (r >= 1 ? r.toFixed(2) : String(+r.toPrecision(2))) + \"%\";\n"
"}\n"
"\n"
"/* the label of frame f, x and px wide */\n"
"function fit(f, x, px) {\n"
"\tvar n = Math.floor((px - 6) / 7), c = Array.from(f.label), lab = \"\";\n"
"\tif (f.rem)\n"
"\t\treturn;\n"
"\tif (n >= 3)\n"
"\t\tlab = c.length <= n ? f.label : c.slice(0, n - 2).join(\"\") + \"..\";\n"
"\tif (!f.text) {\n"
"\t\tif (!lab)\n"
"\t\t\treturn;\n"
"\t\tf.text = document.createElementNS(NS, \"text\");\n"
"\t\tf.text.setAttribute(\"y\", +f.rect.getAttribute(\"y\") + 11);\n"
"\t\tf.g.appendChild(f.text);\n"
"\t}\n"
"\tf.text.setAttribute(\"x\", (x + 3).toFixed(2));\n"
"\tf.text.textContent = lab;\n"
"}\n"
"\n"
"/* Frame i takes the full width; its callers stay, full width; the\n"
" * frames outside its subtree are hidden. */\n"
"function zoom(i) {\n"
"\tvar z = F[i], j, f, x, w;\n"
"\tif (!z)\n"
"\t\treturn;\n"
"\tfor (j = 0; j < F.length; j++) {\n"
"\t\tf = F[j];\n"
"\t\tif (j >= i && j <= z.e) {\n"
"\t\t\tx = X0 + (f.x - z.x) / z.w * W;\n"
"\t\t\tw = f.w / z.w * W;\n"
"\t\t} else if (j < i && f.e >= i) {\n"
"\t\t\tx = X0;\n"
"\t\t\tw = W;\n"
"\t\t} else {\n"
"\t\t\tf.g.classList.add(\"hide\");\n"
"\t\t\tcontinue;\n"
"\t\t}\n"
"\t\tf.g.classList.remove(\"hide\");\n"
"\t\tf.rect.setAttribute(\"x\", x.toFixed(2));\n"
"\t\tf.rect.setAttribute(\"width\", w.toFixed(2));\n"
"\t\tfit(f, x, w);\n"
"\t}\n"
"\tzoomed = i;\n"
"\tif (reset)\n"
"\t\treset.classList.toggle(\"hide\", i === 0);\n"
"}\n"
"\n"
"/* Highlights the frames whose full name matches; the share counts a\n"
" * frame inside a matching frame once. */\n"
"function search(term) {\n"
"\tvar re = null, sum = 0, until = -1, n = 0, j, f, m;\n"
"\tif (term) {\n"
"\t\ttry {\n"
"\t\t\tre = new RegExp(term);\n"
"\t\t} catch (err) {\n"
"\t\t\tre = null;\n"
"\t\t}\n"
"\t}\n"
"\tfor (j = 0; j < F.length; j++) {\n"
"\t\tf = F[j];\n"
"\t\tm = false;\n"
"\t\tif (term && !f.rem && !f.root)\n"
"\t\t\tm = re ? re.test(f.name) : f.name.indexOf(term) >= 0;\n"
"\t\tf.g.classList.toggle(\"match\", m);\n"
"\t\tif (m) {\n"
"\t\t\tn++;\n"
"\t\t\tif (j > until) {\n"
"\t\t\t\tsum += f.w;\n"
"\t\t\t\tuntil = f.e;\n"
"\t\t\t}\n"
"\t\t}\n"
"\t}\n"
"\tif (matched)\n"
"\t\tmatched.textContent = term ? \"Matched: \" + pct(sum) + \" (\" +\n"
"\t\t    fmt(sum) + \", \" + n + \" frame\" + (n === 1 ? \"\" : \"s\") +\n"
"\t\t    \")\" : \"\";\n"
"\treturn { share: total ? sum / total : 0, value: sum, frames: n };\n"
"}\n"
"\n"
"function frameOf(t) {\n"
"\tfor (; t && t !== holder; t = t.parentNode)\n"
"\t\tif (t.ppFrame)\n"
"\t\t\treturn t.ppFrame;\n"
"\treturn null;\n"
"}\n"
"holder.addEventListener(\"mouseover\", function (ev) {\n"
"\tvar f = frameOf(ev.target);\n"
"\tif (f && details)\n"
"\t\tdetails.textContent = f.info;\n"
"});\n"
"holder.addEventListener(\"mouseout\", function () {\n"
"\tif (details)\n"
"\t\tdetails.textContent = \" \";\n"
"});\n"
"holder.addEventListener(\"click\", function (ev) {\n"
"\tvar f = frameOf(ev.target);\n"
"\tif (f && !f.rem)\n"
"\t\tzoom(f.root ? 0 : f.i);\n"
"});\n"
"if (reset)\n"
"\treset.addEventListener(\"click\", function () { zoom(0); });\n"
"if (input)\n"
"\tinput.addEventListener(\"input\", function () { search(input.value); });\n"
"document.addEventListener(\"keydown\", function (ev) {\n"
"\tif (ev.key === \"Escape\")\n"
"\t\tzoom(0);\n"
"});\n"
"window.ppFlame = { zoom: zoom, search: search,\n"
"    zoomed: function () { return zoomed; } };\n"
"})();\n"
"]]></script>\n";

static void
add_subtitle(struct pp_buf *out, const struct flame *b)
{
	const struct pp_profile *p = b->p;
	char val[64];
	size_t i;

	if (p->nmapping > 0 && *p->mapping[0]->file != '\0') {
		pp_buf_adds(out, "File: ");
		add_xml(out, pp_base_name(p->mapping[0]->file), 0);
		pp_buf_adds(out, ", ");
	}
	pp_buf_adds(out, "Type: ");
	add_xml(out, p->sample_type[b->o->sample_index].type, 0);
	if (b->diff) {
		pp_buf_adds(out, ", base ");
		value_label(b, b->node[0].base, val, sizeof(val));
		add_xml(out, val, 0);
		pp_buf_adds(out, ", new ");
		value_label(b, b->node[0].value, val, sizeof(val));
		add_xml(out, val, 0);
		pp_buf_adds(out, "; width: new, red grew, green shrank");
	} else {
		pp_buf_adds(out, ", total ");
		value_label(b, b->total, val, sizeof(val));
		add_xml(out, val, 0);
	}
	for (i = 0; b->o->filters != NULL && b->o->filters[i] != NULL; i++) {
		pp_buf_adds(out, ", ");
		add_xml(out, b->o->filters[i], 80);
	}
}

static void
write_svg(struct flame *b, struct pp_buf *out)
{
	int width = b->width, rows = b->nframe ? (int)b->maxdepth + 1 : 1;
	int height = TOP + rows * ROW + BOTTOM;
	double maxdelta = 0;
	size_t i;

	for (i = 0; i < b->nframe; i++) {
		const struct fnode *n = &b->node[b->frame[i].node];

		if (b->frame[i].rem)
			continue;
		maxdelta = fmax(maxdelta, fabs((double)n->value -
		    (double)n->base));
	}
	pp_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
	    "standalone=\"no\"?>\n");
	pp_buf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "class=\"pp-flame\" data-total=\"%lld\" data-unit=\"", width,
	    height, width, height, (long long)b->total);
	add_xml(out, b->unit, 0);
	pp_buf_addf(out, "\" data-plot-x=\"%d\" data-plot-w=\"%d\" "
	    "data-diff=\"%d\">\n", MARGIN, b->plotw, b->diff);
	pp_buf_adds(out, style);
	pp_buf_adds(out, "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" "
	    "fill=\"#f8f8f8\"/>\n");
	pp_buf_addf(out, "<text id=\"title\" x=\"%d\" y=\"24\">%s</text>\n",
	    width / 2, b->diff ? "Flame graph of a difference" :
	    "Flame graph");
	pp_buf_addf(out, "<text id=\"subtitle\" x=\"%d\" y=\"44\">", width / 2);
	add_subtitle(out, b);
	pp_buf_adds(out, "</text>\n");
	pp_buf_addf(out, "<text id=\"reset\" class=\"ctl hide\" x=\"%d\" "
	    "y=\"70\">Reset zoom</text>\n", MARGIN);
	pp_buf_addf(out, "<foreignObject x=\"%d\" y=\"54\" width=\"300\" "
	    "height=\"24\"><input xmlns=\"http://www.w3.org/1999/xhtml\" "
	    "id=\"search\" type=\"search\" placeholder=\"Search "
	    "(regular expression)\" style=\"width: 100%%; box-sizing: "
	    "border-box; font: 12px sans-serif\"/></foreignObject>\n",
	    width - MARGIN - 300);
	pp_buf_addf(out, "<text id=\"matched\" x=\"%d\" y=\"70\"></text>\n",
	    width - MARGIN - 310);
	pp_buf_adds(out, "<g id=\"frames\">\n");
	for (i = 0; i < b->nframe; i++)
		add_frame(out, b, i, maxdelta);
	pp_buf_adds(out, "</g>\n");
	if (b->nframe == 0)
		pp_buf_addf(out, "<text x=\"%d\" y=\"%d\">No samples%s</text>\n",
		    MARGIN, TOP + 12, b->diff ?
		    " in the new profile" : "");
	pp_buf_addf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
	    MARGIN, height - 10);
	pp_buf_adds(out, script);
	pp_buf_adds(out, "</svg>\n");
}

int
pp_flame_svg(const struct pp_profile *p, const struct pp_flame_opts *o,
    struct pp_buf *out, struct pp_err *e)
{
	struct flame b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.p = p;
	b.o = o;
	b.e = e;
	pp_arena_init(&b.arena);
	pp_strset_init(&b.strs);
	pp_u64map_init(&b.nameid);
	pp_u64map_init(&b.kids);
	b.width = o->width == 0 ? 1200 : o->width < 100 ? 100 :
	    o->width > 100000 ? 100000 : o->width;
	b.plotw = b.width - 2 * MARGIN;
	b.total = o->total ? o->total : pp_profile_total(p, o->sample_index);
	b.unit = p->sample_type[o->sample_index].unit;
	b.mainobj = main_object(p);
	if ((rc = map_locations(&b)) < 0 || (rc = build_tree(&b)) < 0 ||
	    (rc = sort_kids(&b)) < 0 || (rc = layout(&b)) < 0)
		goto out;
	write_svg(&b, out);
	rc = out->oom ? PP_ENOMEM : 0;
out:
	if (rc == PP_ENOMEM)
		pp_err_set(e, rc, "out of memory");
	free(b.names);
	free(b.lname);
	free(b.lstart);
	free(b.node);
	free(b.kid);
	free(b.frame);
	pp_u64map_release(&b.nameid);
	pp_u64map_release(&b.kids);
	pp_strset_release(&b.strs);
	pp_arena_release(&b.arena);
	return rc;
}
