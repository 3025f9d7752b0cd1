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
 * the NUL, in *outlen.
 *
 * Unless the graph sets them itself, the layout is bounded with the graph
 * attributes nslimit, nslimit1, mclimit and searchsize, so that graphs of a
 * few hundred nodes with cycles lay out in well under a second; keep node
 * counts bounded all the same.
 *
 * Returns 0, or a negative code with *out and *outlen untouched and e (when
 * not NULL) holding Graphviz's message: PP_EFORMAT if the DOT does not parse
 * or holds no graph (or holds a NUL byte), PP_ERENDER if layout or rendering
 * fails, PP_ENOMEM. Never prints, never exits (but Graphviz itself exits
 * when one of its own allocations fails).
 */
int pp_svg_from_dot(const char *dot, size_t len, char **out, size_t *outlen,
    struct pp_err *e);

#endif
