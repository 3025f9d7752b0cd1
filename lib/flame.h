/* Flame graphs: a profile's stacks drawn as an SVG that stands alone in a
 * browser.
 *
 * The graph is a tree at function granularity, as pprof's own flame graph
 * and the call graph are: a frame is a function name (a frame without one
 * is its binary, "[libc.so.6]", or "<unknown>"), inlined functions are
 * frames of their own, and equal stacks of names are merged. The root,
 * "all", is at the bottom; a frame's width is its share of the root; the
 * callees of a frame are sorted by name, drawn from its left edge, and the
 * room left above it is its self value.
 *
 * A frame narrower than one pixel at the SVG's width is not drawn: its
 * value stays in its caller, whose tooltip says how many callees and how
 * much value were left out, and the callees left out of one caller are
 * drawn together as one unlabelled grey remainder frame when they add up
 * to a pixel or more. So a profile of any size gives at most one frame per
 * pixel of a row.
 *
 * The output is one SVG document: the CSS and the script are constant,
 * inline, and fetch nothing. Nothing taken from the profile (function,
 * file and mapping names, units) goes into the script or the style: it
 * appears only as XML text and attribute values, escaped, with control
 * characters (but tab), bytes that are not UTF-8 and characters XML
 * cannot hold shown as '?' (the name's clean text). The script reads what
 * it needs from the document (its own svg element, so that the SVG may be
 * inlined in a page), and writes text only through textContent:
 *
 *   <svg ... data-total="T" data-unit="U" data-plot-x="X0"
 *       data-plot-w="W" data-diff="0|1">
 *   <g id="frames">
 *     <g class="f" data-x="X" data-w="V" data-e="E" [data-s="SHORT"]
 *         [data-n="NODES"]>
 *       <title>FULL NAME
 *   DETAILS</title><rect .../>[<text ...>LABEL</text>]</g>
 *     ...
 *   </g>
 *   [<metadata id="narrow" data-q="Q">
 *   FIRST NEXT... SHARED REST
 *   ...
 *   </metadata>]
 *
 * Frames are in pre-order (a frame before its callees, callees sorted by
 * name), the root first; X is the frame's offset from the root's left edge
 * and V its width, both in the sample type's unit; E is the index of its
 * last descendant, so that frame J is inside frame I's subtree when
 * I <= J <= E(I); SHORT is pprof's short name, drawn as the label, when it
 * differs from the full name. The root has class "f root", a remainder
 * class "f r". T is the total that shares are of (pprof's report total:
 * in a difference, the base's); U the sample type's unit.
 *
 * The rest is the search data of the callees too narrow to draw, written
 * when there are any. The frame that stands for a caller's callees left
 * out (its remainder, or the caller itself when no remainder is drawn)
 * has NODES: a tree of search nodes in pre-order, each as two numbers,
 * its value in units of Q and its number of descendants. Each sample of
 * those callees belongs to one search node, and the names that node and
 * its ancestors hold are the names on the sample's stack that the path
 * from the root to the caller does not have (the root's "all" aside); a
 * node's value is that of the samples of its subtree. Search nodes are
 * numbered from 0 through the document, in order. The metadata has a
 * line for each name that search nodes hold, sorted by clean text (by
 * byte): the numbers of the nodes holding it, a space, and the name: the
 * number SHARED of UTF-16 code units (as JavaScript counts them) that it
 * shares with the name of the line before, then the REST of its clean
 * text, escaped (clean text has no newline). FIRST is D, the first node
 * less that of the line before (of 0 for the first line), as 2D if D >=
 * 0, else -2D - 1; each NEXT is the next node less the one before, less
 * one. A number is written in base 32, most significant digit first, with
 * no separator: every digit but the last is one of
 * "ABCDEFGHIJKLMNOPQRSTUVWXYZ+-./:=" (0 to 31), the last one of
 * "0123456789abcdefghijklmnopqrstuv". So the value of the samples whose
 * stacks hold a name that matches is that of the frames that match, not
 * inside one that does, plus for each NODES not inside a matching frame
 * that of its search nodes holding a name that matches, not inside one
 * that does.
 *
 * In a browser: hovering a frame shows its name, value and share (the
 * title, and the line at the bottom); clicking a frame zooms into it (it
 * takes the full width, its callers stay drawn full width below it, other
 * frames are hidden); clicking the root, "Reset zoom" or pressing Escape
 * undoes it. The search box takes a JavaScript regular expression (text
 * that does not compile as one is searched for as it is), highlights the
 * frames whose full name matches, tints a remainder holding callees that
 * match, and shows the share of the total that the samples whose stacks
 * hold a match account for, whatever the zoom, with how much of it is in
 * frames too narrow to draw: a frame inside a matching frame is not
 * counted again, and a frame too narrow to draw is counted as if drawn.
 *
 * A difference (a profile holding samples labelled pprof::base=true, as
 * pp-query --base and pp-render --base write it, or negative values) is
 * drawn as Brendan Gregg's differential flame graphs are: the width of a
 * frame is its value in the new profile (the samples that are not the
 * base's), its colour the change from the base to the new profile, with
 * pprof's colours for differences: red for growth, green for shrinkage,
 * the largest change of any frame fully saturated. A callee that only the
 * base has takes no width; its caller's tooltip lists what it lost.
 */
#ifndef PP_FLAME_H
#define PP_FLAME_H

#include <stdint.h>

#include "profile.h"
#include "util.h"

enum pp_flame_colors {
	/* By binary: the file of the frame's mapping. Warm colours for the
	 * main program (the first mapping, or the first after it that is
	 * neither a shared library nor a pseudo-file such as "[vdso]"), a
	 * hue per other file that depends on its name only, grey when
	 * there is no mapping. */
	PP_FLAME_LIB,
	/* By self value: the frame's own share of the total, s, on pprof's
	 * curve for heat (s^0.3), from pale for none to red for all. */
	PP_FLAME_HEAT,
};

struct pp_flame_opts {
	int sample_index;		/* which value of each sample */
	enum pp_flame_colors colors;	/* ignored for a difference */
	int width;			/* of the SVG in pixels; 0: 1200 */
	int64_t total;			/* shares of this; 0: the profile's */
	const char *const *filters;	/* "focus=RE" ..., NULL-terminated,
					 * shown under the title; or NULL */
};

/* Appends the flame graph of p's sample type o->sample_index to out, as
 * described above. p must be valid (see profile.h). o->width below 100 or
 * above 100000 is taken as 100 or 100000. Returns 0, PP_ENOMEM, or
 * PP_ETOOBIG when the stacks hold more than 4,194,304 distinct frames or
 * the graph would draw more than 524,288 (a profile of recursion a
 * million calls deep), with e (when not NULL) saying which. On failure,
 * out may hold part of the graph. */
int pp_flame_svg(const struct pp_profile *p, const struct pp_flame_opts *o,
    struct pp_buf *out, struct pp_err *e);

#endif
