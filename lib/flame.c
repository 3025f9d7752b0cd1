/* The flame graph (see flame.h): a tree of frames built from the samples,
 * laid out in one pass that drops what is narrower than a pixel, the
 * search data of what was dropped, and all written as SVG with a constant
 * script. */
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
	size_t data0, data1;	/* its data-n: flame.sdata[data0 .. data1) */
};

/* A node of a search tree (see "Search" below). */
struct snode {
	uint32_t name;		/* id of a clean name; NONE for the root */
	uint32_t parent;
	uint32_t kid, next;	/* first callee, next sibling (in reverse) */
	uint32_t nkid;
	uint32_t count;		/* nodes written for its subtree */
	int64_t self, cum;
};

/* A step of the walk of the callees left out: enter a node, or leave it. */
struct step {
	uint32_t node;
	uint32_t parent;	/* the search node of its caller */
	bool leave;
};

/* A search node that holds a name. */
struct posting {
	uint32_t name, node;
};

struct kidsort {
	const char *name;
	uint32_t id;
};

/* A name of the search, in its table: the search nodes that hold it are
 * flame.post[start .. end). */
struct sname {
	struct kidsort k;	/* first, for cmp_kid */
	size_t start, end;
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
	/* The search data. */
	uint32_t *clean;	/* by name id: the id of its clean text */
	uint32_t *onpath;	/* by clean id: nodes so named on the path */
	struct snode *sn;
	size_t nsn, capsn;
	struct pp_u64map skids;	/* (search node, clean name) -> search node */
	struct step *walk;
	size_t nwalk, capwalk;
	struct pp_buf sdata;	/* the frames' data-n, one after another */
	uint32_t nsearch;	/* search nodes written */
	struct posting *pairs;	/* in the order of the nodes */
	size_t npairs, cappairs;
	uint32_t *post;		/* the nodes of pairs, in the order of tab */
	struct sname *tab;	/* the names, sorted */
	size_t ntab;
	int64_t quantum;	/* of the values in the search data */
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

/* Appends s as add_xml shows it, unescaped: its clean text. */
static void
add_clean(struct pp_buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	for (; *s; s += n ? n : 1) {
		if ((n = xml_char_len(s)) == 0)
			pp_buf_addc(out, '?');
		else
			pp_buf_add(out, s, n);
	}
}

/* The length of the longest prefix of clean text s that prev starts with,
 * in UTF-16 code units (as JavaScript counts), and in bytes in *bytes. */
static size_t
common_prefix(const char *prev, const char *s, size_t *bytes)
{
	size_t i = 0, units = 0, n;

	for (; s[i] != '\0'; i += n, units += n == 4 ? 2 : 1) {
		n = xml_char_len((const unsigned char *)s + i);
		if (strncmp(prev + i, s + i, n) != 0)
			break;
	}
	*bytes = i;
	return units;
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
	f->data0 = f->data1 = 0;
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

/* Search *********************************************************************/

/* The search box shows the share of the samples whose stacks hold a frame
 * that matches (a frame inside a matching frame counted once comes to
 * that), and must count the callees too narrow to draw as well. Totals by
 * name would not do: where one of two names that a regular expression
 * matches calls the other, their samples would count twice. So a frame
 * carries the callees that it (or its remainder) leaves out as a tree
 * that keeps what the search needs of their stacks, the names on them (as
 * clean text, what the script sees):
 *
 *  - a node named as a frame on its path (recursion, or the name of a
 *    drawn caller) is folded into its caller: its name is on its stacks
 *    already;
 *  - callees of one node that have the same name are one node, their
 *    subtrees merged;
 *  - a chain of nodes without self value, each the only callee of the
 *    one before, is one node holding the names of the chain.
 *
 * The script walks a frame's tree in pre-order as it walks the frames: a
 * node holding a matching name adds its value, its subtree skipped; the
 * frames and nodes inside a matching frame add nothing more. A tree has
 * at most as many nodes and names as the subtrees it comes from, so the
 * data grows with the profile and its 4,194,304 nodes at the most, never
 * with the product of stacks and depths that sets of names per stack
 * could take. Each distinct name is written once, in a table sorted by
 * name, without the prefix it shares with the name before (names of one
 * package share most of theirs), each followed by the nodes holding it;
 * the script tests the regular expression once per name. Values are in
 * units of the largest value dividing every self value (a CPU profile's
 * sampling period), numbers in a base-32 code that needs no separator.
 * For pprof-large.cpu, 425,000 distinct stacks of 23,000 functions
 * called in random orders, and nothing drawn but the top frames, that is
 * 25,000 nodes holding 222,000 names: 700 kB, where the frames take 9. */

/* The digits of the numbers of the search data, as in flame.h. */
#define MORE_DIGITS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ+-./:="
#define LAST_DIGITS	"0123456789abcdefghijklmnopqrstuv"

static void
add_num(struct pp_buf *out, uint64_t v)
{
	char d[16];
	size_t n = 0;

	d[n++] = LAST_DIGITS[v & 31];
	for (v >>= 5; v > 0; v >>= 5)
		d[n++] = MORE_DIGITS[v & 31];
	while (n > 0)
		pp_buf_addc(out, d[--n]);
}

/* The id of the clean text of every name: as a frame's title shows it. */
static int
clean_names(struct flame *b)
{
	struct pp_buf t;
	size_t i, n = b->nnames;
	int rc = 0;

	if ((b->clean = malloc(n * sizeof(*b->clean))) == NULL)
		return PP_ENOMEM;
	pp_buf_init(&t);
	for (i = 0; i < n && rc == 0; i++) {
		t.len = 0;
		add_clean(&t, b->names[i]);
		rc = t.oom ? PP_ENOMEM : name_id(b, t.len ? t.data : "",
		    &b->clean[i]);
	}
	pp_buf_release(&t);
	if (rc == 0 && (b->onpath = calloc(b->nnames,
	    sizeof(*b->onpath))) == NULL)
		rc = PP_ENOMEM;
	return rc;
}

static int64_t
gcd64(int64_t a, int64_t b)
{
	while (b != 0) {
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int
add_snode(struct flame *b, uint32_t parent, uint32_t name, uint32_t *out)
{
	uint64_t key = ((uint64_t)(parent + 1) << 32) | ((uint64_t)name + 1);
	struct snode *s;
	uint64_t *v;

	if (parent != NONE && (v = pp_u64map_get(&b->skids, key)) != NULL) {
		*out = (uint32_t)*v;
		return 0;
	}
	if (pp_grow(&b->sn, &b->capsn, b->nsn + 1, sizeof(*b->sn)) < 0 ||
	    (parent != NONE && pp_u64map_put(&b->skids, key, b->nsn,
	    NULL) < 0))
		return PP_ENOMEM;
	s = &b->sn[b->nsn];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->parent = parent;
	s->kid = NONE;
	s->next = NONE;
	if (parent != NONE) {
		s->next = b->sn[parent].kid;
		b->sn[parent].kid = (uint32_t)b->nsn;
		b->sn[parent].nkid++;
	}
	*out = (uint32_t)b->nsn++;
	return 0;
}

static int
push_step(struct flame *b, uint32_t node, uint32_t parent, bool leave)
{
	if (pp_grow(&b->walk, &b->capwalk, b->nwalk + 1,
	    sizeof(*b->walk)) < 0)
		return PP_ENOMEM;
	b->walk[b->nwalk].node = node;
	b->walk[b->nwalk].parent = parent;
	b->walk[b->nwalk++].leave = leave;
	return 0;
}

/* The search tree of the callees of node d that are too narrow to draw,
 * from *root in b->sn on; b->onpath holds the names of d and its
 * callers (but the root). */
static int
search_tree(struct flame *b, uint32_t d, uint32_t *root)
{
	const struct fnode *n = &b->node[d];
	size_t k;
	int rc;

	if ((rc = add_snode(b, NONE, NONE, root)) < 0)
		return rc;
	for (k = n->nkid; k-- > 0;) {
		uint32_t id = b->kid[n->kid0 + k];
		int64_t v = b->node[id].value;

		if (v > 0 && !drawn(b, v) &&
		    (rc = push_step(b, id, *root, false)) < 0)
			return rc;
	}
	while (b->nwalk > 0) {
		struct step s = b->walk[--b->nwalk];
		const struct fnode *u = &b->node[s.node];
		uint32_t name = b->clean[u->name], at = s.parent;

		if (s.leave) {
			b->onpath[name]--;
			continue;
		}
		if (b->onpath[name] == 0 &&
		    (rc = add_snode(b, s.parent, name, &at)) < 0)
			return rc;
		b->sn[at].self += u->self;
		b->onpath[name]++;
		if ((rc = push_step(b, s.node, NONE, true)) < 0)
			return rc;
		for (k = u->nkid; k-- > 0;) {
			uint32_t id = b->kid[u->kid0 + k];

			if (b->node[id].value > 0 &&
			    (rc = push_step(b, id, at, false)) < 0)
				return rc;
		}
	}
	return 0;
}

/* Whether search node s is one with its caller, the only callee of a
 * node without self value. */
static bool
chained(const struct flame *b, const struct snode *s, uint32_t root)
{
	const struct snode *p = &b->sn[s->parent];

	return s->parent != root && p->self == 0 && p->nkid == 1;
}

/* Appends the tree from root to b->sdata, as the data-n of flame.h, and
 * the names its nodes hold to b->pairs. b->walk is the stack of the
 * nodes to write, in the parent of its steps. */
static int
write_tree(struct flame *b, uint32_t root)
{
	uint32_t i, t;
	int rc;

	for (i = (uint32_t)b->nsn; i-- > root + 1;) {
		struct snode *s = &b->sn[i], *p = &b->sn[s->parent];

		s->cum += s->self;
		s->count += !chained(b, s, root);
		p->cum += s->cum;
		p->count += s->count;
	}
	for (t = b->sn[root].kid; t != NONE; t = b->sn[t].next)
		if ((rc = push_step(b, NONE, t, false)) < 0)
			return rc;
	while (b->nwalk > 0) {
		t = b->walk[--b->nwalk].parent;
		add_num(&b->sdata, (uint64_t)(b->sn[t].cum / b->quantum));
		add_num(&b->sdata, b->sn[t].count - 1);
		for (;; t = b->sn[t].kid) {
			if (pp_grow(&b->pairs, &b->cappairs, b->npairs + 1,
			    sizeof(*b->pairs)) < 0)
				return PP_ENOMEM;
			b->pairs[b->npairs].name = b->sn[t].name;
			b->pairs[b->npairs++].node = b->nsearch;
			if (b->sn[t].self != 0 || b->sn[t].nkid != 1)
				break;
		}
		b->nsearch++;
		for (t = b->sn[t].kid; t != NONE; t = b->sn[t].next)
			if ((rc = push_step(b, NONE, t, false)) < 0)
				return rc;
	}
	return b->sdata.oom ? PP_ENOMEM : 0;
}

/* The table of names, sorted, and the nodes holding each, in order. */
static int
name_table(struct flame *b)
{
	size_t *slot, i, k;	/* by name: its nodes, then its place in tab */

	if ((slot = calloc(b->nnames, sizeof(*slot))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < b->npairs; i++)
		if (slot[b->pairs[i].name]++ == 0)
			b->ntab++;
	b->tab = malloc((b->ntab + 1) * sizeof(*b->tab));
	b->post = malloc((b->npairs + 1) * sizeof(*b->post));
	if (b->tab == NULL || b->post == NULL) {
		free(slot);
		return PP_ENOMEM;
	}
	for (i = 0, k = 0; i < b->nnames; i++) {
		if (slot[i] == 0)
			continue;
		b->tab[k].k.name = b->names[i];
		b->tab[k++].k.id = (uint32_t)i;
	}
	qsort(b->tab, b->ntab, sizeof(*b->tab), cmp_kid);
	for (i = 0, k = 0; i < b->ntab; i++) {
		b->tab[i].start = b->tab[i].end = k;
		k += slot[b->tab[i].k.id];
		slot[b->tab[i].k.id] = i;
	}
	for (i = 0; i < b->npairs; i++) {
		struct sname *t = &b->tab[slot[b->pairs[i].name]];

		b->post[t->end++] = b->pairs[i].node;
	}
	free(slot);
	return 0;
}

/* The search data: the frames' data-n and the table of names. The walk of
 * the frames keeps the names of the frames on its path in b->onpath. */
static int
search_data(struct flame *b)
{
	uint32_t *open = NULL, root;
	size_t nopen = 0, i;
	int rc = 0;

	for (i = 0; i < b->nframe; i++)
		if (b->node[b->frame[i].node].nnarrow > 0)
			break;
	if (i == b->nframe)
		return 0;
	b->quantum = 0;
	for (i = 0; i < b->nnode; i++)
		b->quantum = gcd64(b->node[i].self, b->quantum);
	if (b->quantum == 0)
		b->quantum = 1;
	if ((rc = clean_names(b)) < 0)
		return rc;
	if ((open = malloc((b->maxdepth + 1) * sizeof(*open))) == NULL)
		return PP_ENOMEM;
	for (i = 0; i < b->nframe; i++) {
		struct frame *f = &b->frame[i];
		const struct fnode *n = &b->node[f->node];

		while (nopen > 0 && b->frame[open[nopen - 1]].depth >= f->depth) {
			const struct frame *o = &b->frame[open[--nopen]];

			if (o->node != 0)
				b->onpath[b->clean[b->node[o->node].name]]--;
		}
		if (!f->rem) {
			open[nopen++] = (uint32_t)i;
			if (f->node != 0)
				b->onpath[b->clean[n->name]]++;
		}
		/* the remainder's frame carries them, when it is drawn */
		if (n->nnarrow == 0 || (!f->rem && drawn(b, n->narrow)))
			continue;
		f->data0 = b->sdata.len;
		if ((rc = search_tree(b, f->node, &root)) < 0 ||
		    (rc = write_tree(b, root)) < 0)
			goto out;
		f->data1 = b->sdata.len;
	}
	rc = name_table(b);
out:
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
	if (f->data1 > f->data0) {
		/* digits only: nothing to escape */
		pp_buf_adds(out, " data-n=\"");
		pp_buf_add(out, b->sdata.data + f->data0, f->data1 - f->data0);
		pp_buf_adds(out, "\"");
	}
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
".f.part rect { fill: #f0b0f0; }\n"
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
"var MORE = \"" MORE_DIGITS "\", LAST = \"" LAST_DIGITS "\";\n"
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
"/* The search data of the callees too narrow to draw (see flame.h), read\n"
" * at the first search: S.val[k] and S.end[k] are the value and the last\n"
" * descendant of node k, frame f holds nodes f.n0 .. f.n1 - 1, and name\n"
" * S.names[k] is held by node S.first[k] and those S.post[k] lists. */\n"
"var S = null, DIGIT = {}, at = 0;\n"
"for (i = 0; i < 32; i++) {\n"
"\tDIGIT[MORE.charAt(i)] = i;\n"
"\tDIGIT[LAST.charAt(i)] = 32 + i;\n"
"}\n"
"/* the number at s[at], which moves past it */\n"
"function num(s) {\n"
"\tvar v = 0, d;\n"
"\twhile (at < s.length) {\n"
"\t\td = DIGIT[s.charAt(at++)];\n"
"\t\tif (d === undefined)\n"
"\t\t\tbreak;\n"
"\t\tif (d >= 32)\n"
"\t\t\treturn v * 32 + d - 32;\n"
"\t\tv = v * 32 + d;\n"
"\t}\n"
"\treturn NaN;\n"
"}\n"
"function readSearch() {\n"
"\tvar meta = svg.querySelector(\"#narrow\"), q = 1, prev = \"\";\n"
"\tvar first = 0, j, f, s, lines, p, z;\n"
"\tS = { val: [], end: [], names: [], first: [], post: [] };\n"
"\tif (meta)\n"
"\t\tq = +meta.getAttribute(\"data-q\") || 1;\n"
"\tfor (j = 0; j < F.length; j++) {\n"
"\t\tf = F[j];\n"
"\t\ts = f.g.getAttribute(\"data-n\") || \"\";\n"
"\t\tf.n0 = S.val.length;\n"
"\t\tfor (at = 0; at < s.length;) {\n"
"\t\t\tS.val.push(num(s) * q);\n"
"\t\t\tS.end.push(S.val.length - 1 + num(s));\n"
"\t\t}\n"
"\t\tf.n1 = S.val.length;\n"
"\t}\n"
"\tlines = meta ? meta.textContent.split(\"\\n\") : [];\n"
"\tfor (j = 0; j < lines.length; j++) {\n"
"\t\tif ((p = lines[j].indexOf(\" \")) < 0)\n"
"\t\t\tcontinue;\n"
"\t\tat = 0;\n"
"\t\tz = num(lines[j]);\n"
"\t\tfirst += z % 2 ? -(z + 1) / 2 : z / 2;\n"
"\t\tS.first.push(first);\n"
"\t\tS.post.push(lines[j].slice(at, p));\n"
"\t\tat = p + 1;\n"
"\t\tprev = prev.slice(0, num(lines[j])) + lines[j].slice(at);\n"
"\t\tS.names.push(prev);\n"
"\t}\n"
"\tS.hit = new Uint8Array(S.val.length);\n"
"}\n"
"\n"
"/* Highlights the frames whose full name matches, and tints a remainder\n"
" * holding callees that match; the share is of the samples whose stacks\n"
" * hold a match, drawn or not: a frame inside a matching frame counts\n"
" * once. */\n"
"function search(term) {\n"
"\tvar re = null, sum = 0, under = 0, until = -1, n = 0, j, k, f, m, v;\n"
"\tif (term) {\n"
"\t\ttry {\n"
"\t\t\tre = new RegExp(term);\n"
"\t\t} catch (err) {\n"
"\t\t\tre = null;\n"
"\t\t}\n"
"\t}\n"
"\tfunction test(name) {\n"
"\t\treturn re ? re.test(name) : name.indexOf(term) >= 0;\n"
"\t}\n"
"\tif (!S)\n"
"\t\treadSearch();\n"
"\tS.hit.fill(0);\n"
"\tfor (j = 0; term && j < S.names.length; j++) {\n"
"\t\tif (!test(S.names[j]))\n"
"\t\t\tcontinue;\n"
"\t\tk = S.first[j];\n"
"\t\tS.hit[k] = 1;\n"
"\t\tfor (at = 0; at < S.post[j].length;) {\n"
"\t\t\tk += num(S.post[j]) + 1;\n"
"\t\t\tS.hit[k] = 1;\n"
"\t\t}\n"
"\t}\n"
"\tfor (j = 0; j < F.length; j++) {\n"
"\t\tf = F[j];\n"
"\t\tm = false;\n"
"\t\tif (term && !f.rem && !f.root)\n"
"\t\t\tm = test(f.name);\n"
"\t\tf.g.classList.toggle(\"match\", m);\n"
"\t\tif (m) {\n"
"\t\t\tn++;\n"
"\t\t\tif (j > until) {\n"
"\t\t\t\tsum += f.w;\n"
"\t\t\t\tuntil = f.e;\n"
"\t\t\t}\n"
"\t\t}\n"
"\t\tv = 0;\n"
"\t\tfor (k = f.n0; j > until && k < f.n1; k++)\n"
"\t\t\tif (S.hit[k]) {\n"
"\t\t\t\tv += S.val[k];\n"
"\t\t\t\tk = S.end[k];\n"
"\t\t\t}\n"
"\t\tf.g.classList.toggle(\"part\", f.rem && v > 0);\n"
"\t\tunder += v;\n"
"\t}\n"
"\tsum += under;\n"
"\tif (matched)\n"
"\t\tmatched.textContent = term ? \"Matched: \" + pct(sum) + \" (\" +\n"
"\t\t    fmt(sum) + \", \" + n + \" frame\" + (n === 1 ? \"\" : \"s\") +\n"
"\t\t    (under ? \" + \" + pct(under) + \" too narrow to draw\" : \"\") +\n"
"\t\t    \")\" : \"\";\n"
"\treturn { share: total ? sum / total : 0, value: sum, frames: n,\n"
"\t    narrow: under };\n"
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

/* The table of the names of the search data, as flame.h has it. */
static void
add_names(struct pp_buf *out, const struct flame *b)
{
	const char *prev = "";
	size_t i, k, bytes, units;
	int64_t first = 0, d;

	if (b->ntab == 0)
		return;
	pp_buf_addf(out, "<metadata id=\"narrow\" data-q=\"%lld\">\n",
	    (long long)b->quantum);
	for (i = 0; i < b->ntab; i++) {
		const struct sname *t = &b->tab[i];

		/* callees sorted by name are numbered in order: the first
		 * node of a name is near the one before's */
		d = (int64_t)b->post[t->start] - first;
		add_num(out, d >= 0 ? (uint64_t)d * 2 : (uint64_t)-d * 2 - 1);
		first = b->post[t->start];
		for (k = t->start + 1; k < t->end; k++)
			add_num(out, b->post[k] - b->post[k - 1] - 1);
		units = common_prefix(prev, t->k.name, &bytes);
		pp_buf_addc(out, ' ');
		add_num(out, units);
		add_xml(out, t->k.name + bytes, 0);
		pp_buf_addc(out, '\n');
		prev = t->k.name;
	}
	pp_buf_adds(out, "</metadata>\n");
}

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
	add_names(out, b);
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
	pp_u64map_init(&b.skids);
	pp_buf_init(&b.sdata);
	b.width = o->width == 0 ? 1200 : o->width < 100 ? 100 :
	    o->width > 100000 ? 100000 : o->width;
	b.plotw = b.width - 2 * MARGIN;
	b.total = o->total ? o->total : pp_profile_total(p, o->sample_index);
	b.unit = p->sample_type[o->sample_index].unit;
	b.mainobj = main_object(p);
	if ((rc = map_locations(&b)) < 0 || (rc = build_tree(&b)) < 0 ||
	    (rc = sort_kids(&b)) < 0 || (rc = layout(&b)) < 0 ||
	    (rc = search_data(&b)) < 0)
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
	free(b.clean);
	free(b.onpath);
	free(b.sn);
	free(b.walk);
	free(b.pairs);
	free(b.post);
	free(b.tab);
	pp_buf_release(&b.sdata);
	pp_u64map_release(&b.skids);
	pp_u64map_release(&b.nameid);
	pp_u64map_release(&b.kids);
	pp_strset_release(&b.strs);
	pp_arena_release(&b.arena);
	return rc;
}
