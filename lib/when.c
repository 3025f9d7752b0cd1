/* Times people write: durations and points in time (when.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "when.h"

int
pp_parse_duration(const char *s, int64_t *ns)
{
	const char *p = s;
	int64_t total = 0;

	if (!*p)
		return PP_EINVAL;
	while (*p) {
		char *end;
		unsigned long long v;
		int64_t unit;

		if (!isdigit((unsigned char)*p))
			return PP_EINVAL;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || end == p)
			return PP_EINVAL;
		switch (*end) {
		case 's': unit = 1000000000LL; break;
		case 'm': unit = 60 * 1000000000LL; break;
		case 'h': unit = 3600 * 1000000000LL; break;
		case 'd': unit = 86400 * 1000000000LL; break;
		case 'w': unit = 7 * 86400 * 1000000000LL; break;
		default: return PP_EINVAL;
		}
		/* At most about 290 years: it has to fit in int64 ns. */
		if (v > (unsigned long long)(INT64_MAX / unit) ||
		    total > INT64_MAX - (int64_t)v * unit)
			return PP_EINVAL;
		total += (int64_t)v * unit;
		p = end + 1;
	}
	*ns = total;
	return 0;
}

int
pp_parse_time(const char *s, int64_t now_ns, int64_t *ns)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	int64_t d;
	size_t i;

	if (strcmp(s, "now") == 0) {
		*ns = now_ns;
		return 0;
	}
	if (s[0] == '@') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v < 0 ||
		    v > INT64_MAX / 1000000000LL)
			return PP_EINVAL;
		*ns = (int64_t)v * 1000000000LL;
		return 0;
	}
	if (pp_parse_duration(s, &d) == 0) {
		*ns = now_ns - d;
		return 0;
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm;
		const char *end;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		if (!(end = strptime(s, formats[i], &tm)))
			continue;
		if (*end == 'Z')
			end++;
		if (*end)
			continue;
		/* Years before 1678 or after 2261 do not fit in int64 ns. */
		if ((t = timegm(&tm)) == (time_t)-1 ||
		    t > INT64_MAX / 1000000000LL ||
		    t < INT64_MIN / 1000000000LL)
			return PP_EINVAL;
		*ns = (int64_t)t * 1000000000LL;
		return 0;
	}
	return PP_EINVAL;
}
