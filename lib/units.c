#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

struct unit {
	const char *name;
	const char *aliases[4];
	double factor;
};

struct unit_type {
	struct unit units[10];
	struct unit dflt;
};

static const struct unit_type unit_types[] = {
	{ {
		{ "B", { "b", "byte" }, 1 },
		{ "kB", { "kb", "kbyte", "kilobyte" }, 1024.0 },
		{ "MB", { "mb", "mbyte", "megabyte" }, 1048576.0 },
		{ "GB", { "gb", "gbyte", "gigabyte" }, 1073741824.0 },
		{ "TB", { "tb", "tbyte", "terabyte" }, 1099511627776.0 },
		{ "PB", { "pb", "pbyte", "petabyte" }, 1125899906842624.0 },
	}, { "B", { "b", "byte" }, 1 } },
	{ {
		{ "ns", { "ns", "nanosecond" }, 1 },
		{ "us", { "\xce\xbcs", "us", "microsecond" }, 1e3 },
		{ "ms", { "ms", "millisecond" }, 1e6 },
		{ "s", { "s", "sec", "second" }, 1e9 },
		{ "hrs", { "hour", "hr" }, 3600e9 },
	}, { "s", { NULL }, 1e9 } },
	{ {
		{ "n*GCU", { "nanogcu" }, 1e-9 },
		{ "u*GCU", { "microgcu" }, 1e-6 },
		{ "m*GCU", { "milligcu" }, 1e-3 },
		{ "GCU", { "gcu" }, 1 },
		{ "k*GCU", { "kilogcu" }, 1e3 },
		{ "M*GCU", { "megagcu" }, 1e6 },
		{ "G*GCU", { "gigagcu" }, 1e9 },
		{ "T*GCU", { "teragcu" }, 1e12 },
		{ "P*GCU", { "petagcu" }, 1e15 },
	}, { "GCU", { NULL }, 1 } },
};

/* pprof's sniffUnit: lower case, a plural 's' dropped (not from "ms"). */
static const struct unit *
sniff(const struct unit_type *ut, const char *name)
{
	char low[64];
	size_t n, i, k;

	n = strlen(name);
	if (n >= sizeof(low))
		return NULL;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	if (n > 2 && low[n - 1] == 's')
		low[n - 1] = '\0';
	for (i = 0; i < sizeof(ut->units) / sizeof(ut->units[0]); i++) {
		const struct unit *u = &ut->units[i];

		if (u->name == NULL)
			break;
		for (k = 0; k < 4 && u->aliases[k] != NULL; k++)
			if (strcmp(low, u->aliases[k]) == 0)
				return u;
	}
	return NULL;
}

static int
convert(const struct unit_type *ut, int64_t value, const char *from,
    const char *to, double *out, const char **unit)
{
	const struct unit *fu, *tu, *best = NULL;
	double v, f = 0;
	size_t i;

	if ((fu = sniff(ut, from)) == NULL)
		return 0;
	v = (double)value * fu->factor;
	if (strcmp(to, "minimum") == 0 || strcmp(to, "auto") == 0) {
		for (i = 0; i < 10 && ut->units[i].name; i++) {
			const struct unit *u = &ut->units[i];

			if (u->factor >= f && v / u->factor >= 1.0) {
				f = u->factor;
				best = u;
			}
		}
		if (best != NULL) {
			*out = v / f;
			*unit = best->name;
		} else {
			*out = v / ut->dflt.factor;
			*unit = ut->dflt.name;
		}
		return 1;
	}
	if ((tu = sniff(ut, to)) == NULL) {
		*out = v / ut->dflt.factor;
		*unit = ut->dflt.name;
		return 1;
	}
	*out = v / tu->factor;
	*unit = tu->name;
	return 1;
}

void
pp_unit_scale(int64_t value, const char *from_unit, const char *to_unit,
    double *out, char *unit, size_t size)
{
	const char *u;
	size_t i;

	if (value == INT64_MIN)
		value++;	/* close enough, and -value exists */
	if (value < 0) {
		pp_unit_scale(-value, from_unit, to_unit, out, unit, size);
		*out = -*out;
		return;
	}
	for (i = 0; i < sizeof(unit_types) / sizeof(unit_types[0]); i++) {
		if (convert(&unit_types[i], value, from_unit, to_unit, out,
		    &u)) {
			snprintf(unit, size, "%s", u);
			return;
		}
	}
	*out = (double)value;
	if (strcmp(to_unit, "count") == 0 || strcmp(to_unit, "sample") == 0 ||
	    strcmp(to_unit, "unit") == 0 || strcmp(to_unit, "minimum") == 0 ||
	    strcmp(to_unit, "auto") == 0)
		snprintf(unit, size, "%s", "");
	else
		snprintf(unit, size, "%s", to_unit);
}

void
pp_unit_label(int64_t value, const char *from_unit, const char *to_unit,
    char *buf, size_t size)
{
	char unit[64], num[64];
	double v;
	size_t n;

	pp_unit_scale(value, from_unit, to_unit, &v, unit, sizeof(unit));
	snprintf(num, sizeof(num), "%.2f", v);
	n = strlen(num);
	if (n > 3 && strcmp(num + n - 3, ".00") == 0)
		num[n - 3] = '\0';
	if (strcmp(num, "0") == 0 || strcmp(num, "-0") == 0) {
		snprintf(buf, size, "0");
		return;
	}
	snprintf(buf, size, "%s%s", num, unit);
}

void
pp_unit_percent(int64_t value, int64_t total, char *buf, size_t size)
{
	double ratio = 0;

	if (total != 0)
		ratio = fabs((double)value / (double)total) * 100;
	if (ratio >= 99.95 && ratio <= 100.05)
		snprintf(buf, size, "  100%%");
	else if (ratio >= 1.0)
		snprintf(buf, size, "%5.2f%%", ratio);
	else
		snprintf(buf, size, "%5.2g%%", ratio);
}

int
pp_unit_compatible(const char *a, const char *b)
{
	size_t i;

	if (strcmp(a, b) == 0)
		return 1;
	for (i = 0; i < sizeof(unit_types) / sizeof(unit_types[0]); i++)
		if (sniff(&unit_types[i], a) && sniff(&unit_types[i], b))
			return 1;
	return 0;
}
