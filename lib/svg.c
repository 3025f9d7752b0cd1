#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gvc.h>
#include <gvplugin.h>

#include "error.h"
#include "svg.h"

/*
 * The two plugin libraries are linked in (see the Makefile) and handed to
 * gvContextPlugins() directly. gvContext() would instead read Graphviz's
 * plugin config and dlopen every plugin, pango and fontconfig included,
 * which costs several times the whole render of a typical graph. Graphviz
 * installs a builtin only if its name starts with 'g' and contains
 * "_LTX_library". libgvc does not look for a symbol of its own, so the table
 * need not be called lt_preloaded_symbols and stays private.
 */
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;

static const lt_symlist_t builtins[] = {
	{ "gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library },
	{ "gvplugin_core_LTX_library", &gvplugin_core_LTX_library },
	{ NULL, NULL },
};

/*
 * agmemread() runs cgraph's flex scanner, whose state is global and outlives
 * the call: whatever follows the first graph stays buffered and is parsed by
 * the next agmemread() in place of its own input, and an unterminated
 * comment swallows every later input. cgraph.h does not declare the
 * scanner's reset, but libcgraph.so.6 exports it: flex's
 * yylex_destroy() under cgraph's prefix.
 */
extern int aaglex_destroy(void);

/*
 * Bounds on dot's work, applied unless the graph sets its own. Measured on
 * Graphviz 2.42 with 80-node graphs, the time goes to the network simplex
 * that places nodes across (nslimit caps its iterations at nslimit times
 * the node count; it needs 5 to 20 on pprof-like graphs of 110 to 150
 * edges, 30 to 110 on graphs of 250 to 300 edges with cycles, each
 * iteration walking every virtual node of the long edges) and to mincross
 * (mclimit scales its passes; 0.5 halves its time for a few percent more
 * crossings). A placement cut short is legal but less straight, and spline
 * routing then takes longer, so nslimit is not set lower. Ranking converged
 * within 15 iterations in every graph tried: nslimit1 is only a backstop.
 * searchsize is left alone: no value tried helped.
 */
static const struct {
	const char *name;
	const char *value;
} limits[] = {
	{ "nslimit", "10" },
	{ "nslimit1", "10" },
	{ "mclimit", "0.5" },
};

/*
 * Graphviz reports through agerr(), which prints to stderr unless a handler
 * is installed. The handler gets no context pointer, hence this static
 * state. It is called in pieces: "Error" or "Warning", then ": ", then the
 * message (a message at level AGPREV continues the one before without a
 * prefix). Keep the first error, or else the last warning.
 */
static struct {
	char msg[sizeof(((struct pp_err *)0)->msg)];
	size_t len;
	int iserr;	/* msg holds an error, not a warning */
	int keep;	/* append the pieces that follow */
	int prefix;	/* a level was just seen: drop the ": " */
} gverr;

static int
gverr_handler(char *s)
{
	size_t n;

	if (strcmp(s, "Error") == 0 || strcmp(s, "Warning") == 0) {
		/* A new message: it replaces a warning, never an error. */
		gverr.keep = !gverr.iserr;
		if (gverr.keep) {
			gverr.iserr = s[0] == 'E';
			gverr.len = 0;
			gverr.msg[0] = '\0';
		}
		gverr.prefix = 1;
		return 0;
	}
	if (gverr.prefix && strcmp(s, ": ") == 0) {
		gverr.prefix = 0;
		return 0;
	}
	gverr.prefix = 0;
	if (!gverr.keep)
		return 0;
	n = strlen(s);
	if (n > sizeof(gverr.msg) - 1 - gverr.len)
		n = sizeof(gverr.msg) - 1 - gverr.len;
	memcpy(gverr.msg + gverr.len, s, n);
	gverr.len += n;
	gverr.msg[gverr.len] = '\0';
	return 0;
}

/* The captured message on one line, or dflt. */
static const char *
gverr_msg(const char *dflt)
{
	size_t i;

	while (gverr.len > 0 && (gverr.msg[gverr.len - 1] == '\n' ||
	    gverr.msg[gverr.len - 1] == ' '))
		gverr.msg[--gverr.len] = '\0';
	for (i = 0; i < gverr.len; i++)
		if (gverr.msg[i] == '\n')
			gverr.msg[i] = ' ';
	return gverr.len > 0 ? gverr.msg : dflt;
}

int
pp_svg_from_dot(const char *dot, size_t len, char **out, size_t *outlen,
    struct pp_err *e)
{
	agusererrf olderrf;
	agerrlevel_t oldlevel;
	GVC_t *gvc = NULL;
	Agraph_t *g = NULL;
	char *src = NULL, *data = NULL, *svg = NULL, *v;
	unsigned int datalen = 0;
	int r;
	size_t i;

	memset(&gverr, 0, sizeof(gverr));
	olderrf = agseterrf(gverr_handler);
	/* Report from warnings up, through the handler: below the level
	 * Graphviz would write messages to a tmpfile() instead. */
	oldlevel = agseterr(AGWARN);

	if (memchr(dot, '\0', len) != NULL) {
		r = pp_err_set(e, PP_EFORMAT, "cannot parse DOT: NUL byte in "
		    "input");
		goto out;
	}
	/* agmemread() wants a C string. */
	if (len == SIZE_MAX || (src = malloc(len + 1)) == NULL) {
		r = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(src, dot, len);
	src[len] = '\0';

	/* The context comes first: it sets the default node label "\N". */
	if ((gvc = gvContextPlugins(builtins, 0)) == NULL) {
		r = pp_err_set(e, PP_ERENDER, "cannot start Graphviz: %s",
		    gverr_msg("unknown error"));
		goto out;
	}
	aaglex_destroy();
	g = agmemread(src);
	aaglex_destroy();
	if (g == NULL) {
		r = pp_err_set(e, PP_EFORMAT, "cannot parse DOT: %s",
		    gverr_msg("no graph in input"));
		goto out;
	}
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		v = agget(g, (char *)limits[i].name);
		if ((v == NULL || *v == '\0') && agsafeset(g,
		    (char *)limits[i].name, (char *)limits[i].value, "") != 0) {
			r = pp_err_set(e, PP_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* Graphviz would refuse it too, but leak on the way. */
	v = agget(g, "layout");
	if (v != NULL && *v != '\0' && strcmp(v, "dot") != 0) {
		r = pp_err_set(e, PP_ERENDER, "cannot lay out graph: layout "
		    "engine '%s' not available, only dot", v);
		goto out;
	}
	if (gvLayout(gvc, g, "dot") != 0) {
		r = pp_err_set(e, PP_ERENDER, "cannot lay out graph: %s",
		    gverr_msg("dot layout failed"));
		goto out;
	}
	if (gvRenderData(gvc, g, "svg", &data, &datalen) != 0 ||
	    data == NULL) {
		r = pp_err_set(e, PP_ERENDER, "cannot render SVG: %s",
		    gverr_msg("svg renderer failed"));
		goto out;
	}
	/* Copied, so that the caller frees with free(3), as documented, and
	 * not with gvFreeRenderData(). */
	if ((svg = malloc((size_t)datalen + 1)) == NULL) {
		r = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(svg, data, datalen);
	svg[datalen] = '\0';
	*out = svg;
	svg = NULL;	/* transferred */
	*outlen = datalen;
	r = 0;
out:
	free(svg);
	if (data != NULL)
		gvFreeRenderData(data);
	if (g != NULL) {
		/* Safe after a failed layout, or none. */
		gvFreeLayout(gvc, g);
		agclose(g);
	}
	if (gvc != NULL)
		gvFreeContext(gvc);
	free(src);
	agseterr(oldlevel);
	agseterrf(olderrf);
	return r;
}
