/* Times people write, on command lines and in the web page's filters. */
#ifndef PP_WHEN_H
#define PP_WHEN_H

#include <stdint.h>

/* Parses a duration: a number and a unit, s m h d w ("90s", "1h",
 * "14d"), several may follow each other ("1h30m"). Returns 0 with *ns, or
 * PP_EINVAL. */
int pp_parse_duration(const char *s, int64_t *ns);

/* Parses a point in time: a duration meaning that long before now ("1h"),
 * "now", "@SECONDS" (Unix time), or UTC "YYYY-MM-DD", "YYYY-MM-DDTHH:MM",
 * "YYYY-MM-DDTHH:MM:SS" (a space may replace the T; a trailing Z is
 * allowed). Returns 0 with *ns (Unix nanoseconds), or PP_EINVAL. */
int pp_parse_time(const char *s, int64_t now_ns, int64_t *ns);

#endif
