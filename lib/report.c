/* Text and DOT reports, following pprof's internal/report and
 * internal/graph/dotgraph.go line by line where the output must match. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "units.h"

static const char *
sample_unit(const struct pp_report *r)
{
	return r->prof->sample_type[r->sample_index].unit;
}

void
pp_report_value(const struct pp_report *r, int64_t v, char *buf, size_t size)
{
	pp_unit_label(v, sample_unit(r), r->output_unit, buf, size);
}

/* pprof's selectOutputUnit with the default unit "minimum". */
static void
select_output_unit(struct pp_report *r)
{
	const struct pp_graph *g = r->graph;
	int64_t min = 0, max = g->total, v;
	char minu[32], maxu[32], unit[32];
	double d;
	size_t i;

	snprintf(r->output_unit, sizeof(r->output_unit), "minimum");
	if (g->nnode == 0)
		return;
	for (i = 0; i < g->nnode; i++) {
		v = pp_abs64(g->node[i].flat);
		if (v == 0)
			v = pp_abs64(g->node[i].cum);
		if (v > 0 && (min == 0 || v < min))
			min = v;
	}
	if (min == 0)
		min = max;
	pp_unit_scale(min, sample_unit(r), "minimum", &d, minu, sizeof(minu));
	pp_unit_scale(max, sample_unit(r), "minimum", &d, maxu, sizeof(maxu));
	snprintf(unit, sizeof(unit), "%s", minu);
	/* min <= max < 2^62 (pprof.c bounds values): 100 * min needs care. */
	if (strcmp(minu, maxu) != 0 && min < max / 100 + (max % 100 != 0))
		pp_unit_scale(100 * min, sample_unit(r), "minimum", &d, unit,
		    sizeof(unit));
	snprintf(r->output_unit, sizeof(r->output_unit), "%s",
	    *unit ? unit : sample_unit(r));
}

int
pp_report_init(struct pp_report *r, const struct pp_profile *p,
    const struct pp_graph_opts *o, const char *const *filters)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->prof = p;
	r->sample_index = o->sample_index;
	r->filters = filters;
	r->nodefraction = o->nodefraction;
	r->edgefraction = o->edgefraction;
	if ((rc = pp_graph_new(p, o, &r->graph)) < 0)
		return rc;
	select_output_unit(r);
	return 0;
}

void
pp_report_release(struct pp_report *r)
{
	pp_graph_free(r->graph);
	memset(r, 0, sizeof(*r));
}

/* Go's time layout "Jan 2, 2006 at 3:04pm (MST)", in local time. */
static void
format_time(int64_t nanos, char *buf, size_t size)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(nanos / 1000000000);
	struct tm tm;
	int h;

	if (nanos % 1000000000 < 0)
		t--;
	localtime_r(&t, &tm);
	h = tm.tm_hour % 12;
	snprintf(buf, size, "%s %d, %d at %d:%02d%s (%s)", mon[tm.tm_mon],
	    tm.tm_mday, tm.tm_year + 1900, h ? h : 12, tm.tm_min,
	    tm.tm_hour < 12 ? "am" : "pm", tm.tm_zone ? tm.tm_zone : "UTC");
}

void
pp_report_legend(const struct pp_report *r, bool full, struct pp_buf *out)
{
	const struct pp_profile *p = r->prof;
	const struct pp_graph *g = r->graph;
	char a[64], b[64], pct[16];
	int64_t flat = 0;
	size_t i;

	if (p->nmapping > 0 && *p->mapping[0]->file != '\0')
		pp_buf_addf(out, "File: %s\n", pp_base_name(p->mapping[0]->file));
	if (p->nmapping > 0 && *p->mapping[0]->build_id != '\0')
		pp_buf_addf(out, "Build ID: %s\n", p->mapping[0]->build_id);
	for (i = 0; i < p->ncomment; i++)
		if (p->comment[i][0] != '#')
			pp_buf_addf(out, "%s\n", p->comment[i]);
	pp_buf_addf(out, "Type: %s\n", p->sample_type[r->sample_index].type);
	if (p->time_nanos != 0) {
		format_time(p->time_nanos, a, sizeof(a));
		pp_buf_addf(out, "Time: %s\n", a);
	}
	if (p->duration_nanos != 0) {
		double total_ns;
		char unit[32], ratio[24] = "";

		pp_unit_label(p->duration_nanos, "nanoseconds", "auto", a,
		    sizeof(a));
		pp_unit_scale(g->total, sample_unit(r), "nanoseconds",
		    &total_ns, unit, sizeof(unit));
		if (strcmp(unit, "ns") == 0 && fabs(total_ns) < 9e18 &&
		    (int64_t)total_ns != 0) {
			pp_unit_percent((int64_t)total_ns, p->duration_nanos,
			    pct, sizeof(pct));
			snprintf(ratio, sizeof(ratio), "(%s)", pct);
		}
		pp_report_value(r, g->total, b, sizeof(b));
		pp_buf_addf(out, "Duration: %s, Total samples = %s %s\n", a, b,
		    ratio);
	}
	if (r->filters != NULL && r->filters[0] != NULL) {
		pp_buf_adds(out, "Active filters:\n");
		for (i = 0; r->filters[i] != NULL; i++)
			pp_buf_addf(out, "   %.80s%s\n", r->filters[i],
			    strlen(r->filters[i]) > 80 ? "\xe2\x80\xa6" : "");
	}
	for (i = 0; i < g->nnode; i++)
		flat += g->node[i].flat;
	pp_report_value(r, flat, a, sizeof(a));
	pp_report_value(r, g->total, b, sizeof(b));
	pp_unit_percent(flat, g->total, pct, sizeof(pct));
	pp_buf_addf(out, "Showing nodes accounting for %s, %s of %s total\n",
	    a, pct + strspn(pct, " "), b);
	if (g->total != 0) {
		if (g->dropped_nodes > 0) {
			pp_report_value(r, pp_abs64((int64_t)((double)g->total *
			    r->nodefraction)), a, sizeof(a));
			pp_buf_addf(out, "Dropped %zu node%s (cum <= %s)\n",
			    g->dropped_nodes, g->dropped_nodes > 1 ? "s" : "",
			    a);
		}
		if (full && g->dropped_edges > 0) {
			pp_report_value(r, pp_abs64((int64_t)((double)g->total *
			    r->edgefraction)), a, sizeof(a));
			pp_buf_addf(out, "Dropped %zu edge%s (freq <= %s)\n",
			    g->dropped_edges, g->dropped_edges > 1 ? "s" : "",
			    a);
		}
		if (g->nnode > 0 && g->nnode < g->orig_count)
			pp_buf_addf(out, "Showing top %zu nodes out of %zu\n",
			    g->nnode, g->orig_count);
		if (g->capped_edges > 0)
			pp_buf_addf(out, "Showing the heaviest %zu edges out "
			    "of %zu\n", g->nedge, g->nedge + g->capped_edges);
	}
	if (full)
		pp_buf_adds(out, "\nSee https://git.io/JfYMW for how to read "
		    "the graph\n");
}

void
pp_report_top(const struct pp_report *r, struct pp_buf *out)
{
	const struct pp_graph *g = r->graph;
	char flat[64], cum[64], p1[16], p2[16], p3[16];
	int64_t sum = 0;
	size_t i, k;

	pp_report_legend(r, false, out);
	pp_buf_addf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum",
	    "cum", "cum");
	for (i = 0; i < g->nnode; i++) {
		const struct pp_gnode *n = &g->node[i];
		bool inl = false, noinl = false;

		for (k = 0; k < n->nin; k++) {
			if (g->edge[n->in[k]].inlined)
				inl = true;
			else
				noinl = true;
		}
		sum += n->flat;
		pp_report_value(r, n->flat, flat, sizeof(flat));
		pp_report_value(r, n->cum, cum, sizeof(cum));
		pp_unit_percent(n->flat, g->total, p1, sizeof(p1));
		pp_unit_percent(sum, g->total, p2, sizeof(p2));
		pp_unit_percent(n->cum, g->total, p3, sizeof(p3));
		pp_buf_addf(out, "%10s %s %s %10s %s  %s%s\n", flat, p1, p2, cum,
		    p3, n->name, !inl ? "" : noinl ? " (partial-inline)" :
		    " (inline)");
	}
}
