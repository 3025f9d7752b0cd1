/* Smoke test of pp_svg_from_dot(): a pprof-like graph renders, bad DOT gives
 * PP_EFORMAT with Graphviz's message, nothing is printed by the library.
 * Prints TAP. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "error.h"
#include "svg.h"

static const char good[] =
    "digraph \"unnamed\" {\n"
    "node [style=filled fillcolor=\"#f8f8f8\"]\n"
    "subgraph cluster_L { \"File: pp\" [shape=box fontsize=16 "
    "label=\"File: pp\\lType: cpu\\lShowing nodes accounting for 80ms, "
    "100% of 80ms total\\l\" tooltip=\"pp\"] }\n"
    "N1 [label=\"main\\n10ms (12.50%)\\nof 80ms (100%)\" id=\"node1\" "
    "fontsize=15 shape=box tooltip=\"main (80ms)\" color=\"#b20000\" "
    "fillcolor=\"#edd5d5\"]\n"
    "N2 [label=\"work\\n70ms (87.50%)\" id=\"node2\" fontsize=24 "
    "shape=box tooltip=\"work & <stuff> (70ms)\" color=\"#b21c00\" "
    "fillcolor=\"#edd8d5\" URL=\"source?f=work\"]\n"
    "N3 [label=\"inline\" fontsize=8 shape=box3d tooltip=\"inline\"]\n"
    "N1 -> N2 [label=\" 70ms\" weight=88 penwidth=5 color=\"#b21c00\" "
    "tooltip=\"main -> work (70ms)\" labeltooltip=\"main -> work (70ms)\"]\n"
    "N2 -> N3 [label=\" 5ms\" weight=7 style=dotted minlen=2]\n"
    "N3 -> N1 [style=dotted]\n"
    "}\n";

static int n, failed;

static void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed = 1;
}

int
main(void)
{
	struct pp_err e;
	char *svg = NULL;
	size_t len = 0;
	int r;

	/* No trailing NUL in what we pass: len stops short of it. */
	memset(&e, 0, sizeof(e));
	r = pp_svg_from_dot(good, strlen(good), &svg, &len, &e);
	ok(r == 0, "pprof-like graph renders");
	ok(svg != NULL && len > 5 && strncmp(svg, "<?xml", 5) == 0,
	    "output begins with <?xml");
	ok(svg != NULL && strstr(svg, "<svg") != NULL, "output holds <svg");
	ok(svg != NULL && strlen(svg) == len, "length matches, NUL-terminated");
	ok(svg != NULL && strstr(svg, "id=\"node2\"") != NULL, "id kept");
	ok(svg != NULL && strstr(svg, "xlink:href=\"source?f=work\"") != NULL,
	    "URL becomes a link");
	ok(svg != NULL && strstr(svg, "work &amp; &lt;stuff&gt;") != NULL,
	    "tooltip escaped");
	ok(svg != NULL && strstr(svg, "stroke-dasharray") != NULL,
	    "dotted edge");
	ok(svg != NULL && strstr(svg, "font-family=\"Times,serif\"") != NULL,
	    "default font");
	free(svg);
	svg = NULL;

	memset(&e, 0, sizeof(e));
	r = pp_svg_from_dot("digraph { a -> ; }", 18, &svg, &len, &e);
	ok(r == PP_EFORMAT && svg == NULL, "syntax error is PP_EFORMAT");
	ok(e.code == PP_EFORMAT && strstr(e.msg, "syntax error") != NULL,
	    "message says syntax error");
	printf("# %s\n", pp_err_msg(&e, r));

	memset(&e, 0, sizeof(e));
	r = pp_svg_from_dot("", 0, &svg, &len, &e);
	ok(r == PP_EFORMAT && e.msg[0] != '\0', "empty input is PP_EFORMAT");
	printf("# %s\n", pp_err_msg(&e, r));

	memset(&e, 0, sizeof(e));
	r = pp_svg_from_dot("digraph { a }\0x", 15, &svg, &len, &e);
	ok(r == PP_EFORMAT, "NUL byte is PP_EFORMAT");

	/* Only dot is linked in. */
	memset(&e, 0, sizeof(e));
	r = pp_svg_from_dot("graph { layout=neato; a }", 25, &svg, &len, &e);
	ok(r == PP_ERENDER && strstr(e.msg, "neato") != NULL,
	    "another layout engine is PP_ERENDER");
	printf("# %s\n", pp_err_msg(&e, r));

	/* cgraph's scanner keeps what follows the first graph, and its state
	 * inside a comment, for the next parse: both must be reset. */
	r = pp_svg_from_dot("digraph { a } digraph { zzz }", 29, &svg, &len,
	    NULL);
	ok(r == 0, "only the first graph is rendered");
	free(svg);
	svg = NULL;
	r = pp_svg_from_dot("digraph { q }", 13, &svg, &len, NULL);
	ok(r == 0 && strstr(svg, ">q</text>") != NULL &&
	    strstr(svg, "zzz") == NULL, "nothing left over from the last input");
	free(svg);
	svg = NULL;
	r = pp_svg_from_dot("digraph { a } /*", 16, &svg, &len, NULL);
	free(svg);
	svg = NULL;
	memset(&e, 0, sizeof(e));
	r = pp_svg_from_dot("digraph { b /*", 14, &svg, &len, &e);
	ok(r == PP_EFORMAT && strchr(e.msg, '\n') == NULL,
	    "unterminated comment is PP_EFORMAT, message on one line");
	printf("# %s\n", pp_err_msg(&e, r));

	/* The parser must recover from the errors above. */
	r = pp_svg_from_dot("digraph { a -> b }", 18, &svg, &len, NULL);
	ok(r == 0 && svg != NULL && strstr(svg, ">b</text>") != NULL,
	    "renders again after an error, with e NULL");
	free(svg);

	printf("1..%d\n", n);
	/* Before LeakSanitizer, which ends the process without flushing. */
	fflush(stdout);
	return failed;
}
