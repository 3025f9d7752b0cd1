/* SVG rendering of DOT graphs with Graphviz, in process.
 *
 * Only Graphviz's dot layout and its core renderers are used; they are linked
 * in, not loaded through Graphviz's plugin configuration, and no pango or
 * fontconfig is involved: text widths are estimated from built-in metrics of
 * the Times, Helvetica and Courier families.
 *
 * Graphviz keeps global state (its error handler, the parser, attribute
 * defaults), so these functions are not thread-safe: call them from one
 * thread at a time.
 */
#ifndef PP_SVG_H
#define PP_SVG_H

#include <stddef.h>

#include "error.h"

/* Lays out the graph in DOT source text (len bytes, not necessarily
 * NUL-terminated) with Graphviz's dot layout, in process, and returns the SVG
 * in *out (malloc'd and NUL-terminated, caller frees) and its length, without
 * the NUL, in *outlen. Only the first graph in dot is read; what follows it
 * is ignored.
 *
 * Unless the graph sets them itself, the graph attributes nslimit, nslimit1
 * and mclimit bound dot's work: an 80-node graph with 250 edges and cycles
 * takes about 0.3 s instead of 0.5 s, one with 300 edges 0.6 s instead of
 * 2 s. Time still grows steeply with size (300 nodes and 900 edges: 17 s),
 * so bound node and edge counts before calling.
 *
 * Returns 0, or a negative code with *out and *outlen untouched and e (when
 * not NULL) holding Graphviz's message: PP_EFORMAT if the DOT does not parse,
 * holds no graph or holds a NUL byte, PP_ERENDER if layout or rendering fails
 * (as for a graph that asks for another layout engine than dot), PP_ENOMEM.
 * Never prints, never exits; but Graphviz does not recover from a failure of
 * its own allocations.
 */
int pp_svg_from_dot(const char *dot, size_t len, char **out, size_t *outlen,
    struct pp_err *e);

#endif
