/* Reports of a profile's graph, as pprof writes them: the -top table, the
 * -dot call graph, and the legend they share. */
#ifndef PP_REPORT_H
#define PP_REPORT_H

#include <stdbool.h>

#include "graph.h"
#include "profile.h"
#include "util.h"

/* A report: a profile (which it does not own), one of its sample types,
 * and the graph of that sample type (which it owns). */
struct pp_report {
	const struct pp_profile *prof;
	int sample_index;
	struct pp_graph *graph;
	const char *const *filters;	/* "focus=RE" ..., NULL-terminated */
	double nodefraction, edgefraction;
	char output_unit[32];		/* pprof's selectOutputUnit */
};

/* Builds the report of p for sample type o->sample_index with graph
 * options o; filters (may be NULL) are listed in the legend. Returns 0
 * or PP_ENOMEM. */
int pp_report_init(struct pp_report *r, const struct pp_profile *p,
    const struct pp_graph_opts *o, const char *const *filters);
void pp_report_release(struct pp_report *r);

/* Formats v in the report's output unit, as pprof does ("1.26s"). */
void pp_report_value(const struct pp_report *r, int64_t v, char *buf,
    size_t size);

/* Appends the legend: pprof's ProfileLabels and reportLabels, each line
 * ended by '\n'. full adds what the graph legend has (dropped edges, the
 * pointer to how to read the graph). */
void pp_report_legend(const struct pp_report *r, bool full, struct pp_buf *out);

/* Appends pprof's -top table (legend, header, one row a node). */
void pp_report_top(const struct pp_report *r, struct pp_buf *out);

/* Appends pprof's -dot graph. */
void pp_report_dot(const struct pp_report *r, struct pp_buf *out);

/* pprof's dotColor: the colour of a node or edge that carries score (a
 * share of the total, -1..1; negative is green, as in a diff). */
void pp_dot_color(double score, bool background, char buf[8]);

/* The colour behind pp_dot_color, for saturation sat and value val:
 * scores under 0.2 fade to grey, but a non-zero one keeps at least
 * min_tint of its saturation (0: pprof's fading). */
void pp_diff_color(double score, double sat, double val, double min_tint,
    char buf[8]);

#endif
