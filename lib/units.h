/* Units and their formatting, as pprof's measurement package does it, so
 * that pp's reports print the same numbers as pprof's. */
#ifndef PP_UNITS_H
#define PP_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Converts value in from_unit to to_unit ("minimum" and "auto" choose the
 * largest unit in which the value is at least 1). Stores the value in *out
 * and the name of the unit ("" for plain counts) in unit[size]. */
void pp_unit_scale(int64_t value, const char *from_unit, const char *to_unit,
    double *out, char *unit, size_t size);

/* pprof's ScaledLabel: "%.2f" of the scaled value, ".00" dropped, the unit
 * appended: "1.72s", "85.60MB", "0". */
void pp_unit_label(int64_t value, const char *from_unit, const char *to_unit,
    char *buf, size_t size);

/* pprof's Percentage: "  100%", "73.26%" or "%5.2g%%" below 1%. */
void pp_unit_percent(int64_t value, int64_t total, char *buf, size_t size);

/* Whether two units measure the same kind of thing (bytes, time ...). */
int pp_unit_compatible(const char *a, const char *b);

#endif
