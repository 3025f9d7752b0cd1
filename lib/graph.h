/* pprof's report graph: a profile summarised at function granularity into
 * nodes (functions) and edges (calls), trimmed the way pprof trims it.
 *
 * The rules are pprof's (internal/graph and internal/report), so that a
 * graph built here lists the same nodes, values and edges as
 * `go tool pprof -top` or `-dot` of the same profile:
 *   - a node is a function name; a frame without one is its mapping file
 *     ("[libc.so.6]") or "<unknown>";
 *   - nodes whose cum is under nodefraction of the total are dropped, and
 *     the graph rebuilt from the samples, so edges across dropped nodes
 *     become residual edges;
 *   - with nodecount > 0, only the first nodecount nodes in entropy order
 *     (visual) or flat order are kept, the graph rebuilt again;
 *   - edges under edgefraction of the total are dropped; in visual mode
 *     residual edges that another path already explains are removed.
 */
#ifndef PP_GRAPH_H
#define PP_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

struct pp_graph_opts {
	int sample_index;	/* which value of each sample */
	bool visual;		/* DOT/SVG: entropy order, label tags */
	int nodecount;		/* keep at most this many nodes; 0: all */
	double nodefraction;	/* pprof's defaults: 0.005 */
	double edgefraction;	/* 0.001 */
	int64_t total;		/* percentages of this; 0: the profile's */
	size_t max_edges;	/* keep the heaviest this many; 0: all */
};

/* A tag: a share of a node's value carried by samples with some labels
 * (numeric == false: name is the joined "key:value" labels) or by a
 * numeric "bytes" label (name is the formatted size, labels the string
 * labels it came with, or NULL). */
struct pp_gtag {
	const char *name;
	const char *labels;
	bool numeric;
	int64_t value;
	const char *unit;
	int64_t flat, cum;
};

struct pp_gnode {
	const char *name;	/* printable name */
	const char *funcname;	/* function name, "" when none */
	int64_t flat, cum;
	uint32_t *in, *out;	/* edge indices, sorted as pprof sorts edges */
	size_t nin, nout;
	struct pp_gtag *tags;
	size_t ntags;
};

struct pp_gedge {
	uint32_t src, dst;	/* indices in pp_graph.node */
	int64_t weight;
	bool residual;		/* goes over dropped nodes */
	bool inlined;		/* the call was inlined */
};

struct pp_graph {
	struct pp_gnode *node;	/* in report order */
	size_t nnode;
	struct pp_gedge *edge;	/* every edge of the final graph */
	size_t nedge;
	int64_t total;		/* pprof's report total (absolute values) */
	size_t orig_count;	/* nodes before nodecount selection */
	size_t dropped_nodes;	/* under nodefraction */
	size_t dropped_edges;	/* under edgefraction */
	size_t capped_edges;	/* over max_edges */
	void *priv;
};

/* Builds the graph of p's sample type o->sample_index. p must be valid
 * (see profile.h). Returns 0 or PP_ENOMEM. */
int pp_graph_new(const struct pp_profile *p, const struct pp_graph_opts *o,
    struct pp_graph **out);
void pp_graph_free(struct pp_graph *g);

/* pprof's ShortenFunctionName: "crypto/sha256.block" -> "sha256.block",
 * Java and C++ namespaces dropped. Writes into buf. */
void pp_shorten_name(const char *name, char *buf, size_t size);

#endif
