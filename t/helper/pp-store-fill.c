/* pp-store-fill: fills a store with many small records straight through
 * lib/store, for the benchmarks (t/perf/p0003-service.sh).
 *
 *   pp-store-fill DIR OWNERS PROGRAMS COUNT DAYS [HOSTS]
 *
 * COUNT records, spread round-robin over OWNERS users (u0, u1 ...) and
 * PROGRAMS programs each (prog0 ...), types cpu and heap alternating, start
 * times spread evenly over the last DAYS days, 1000 to a transaction. The
 * stored bytes are a short distinct string, not a profile: only listings
 * read them. The host is "bench"; with HOSTS, one of h0 .. h(HOSTS-1),
 * and labels: env=prod on about one record in four, else env=test,
 * and rack=r0 or rack=r1 on about two in three (t0311 checks the host and label
 * index with them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "store.h"

int
main(int argc, char **argv)
{
	struct pp_store *st = NULL;
	struct pp_err e = { 0 };
	struct pp_store_item items[1000];
	char owners[1000][24], progs[1000][32], data[1000][32];
	char hosts[1000][24], racks[1000][8];
	const char *labels[1000][2];
	unsigned long nowners, nprogs, count, days, nhosts = 0, i;
	struct timespec ts;
	int64_t now, span;
	int rc;

	pp_progname = "pp-store-fill";
	if (argc != 6 && argc != 7)
		pp_die_usage("usage: pp-store-fill dir owners programs count "
		    "days [hosts]");
	if (argc == 7 && !(nhosts = strtoul(argv[6], NULL, 10)))
		pp_die_usage("hosts must be positive");
	nowners = strtoul(argv[2], NULL, 10);
	nprogs = strtoul(argv[3], NULL, 10);
	count = strtoul(argv[4], NULL, 10);
	days = strtoul(argv[5], NULL, 10);
	if (!nowners || !nprogs || !days)
		pp_die_usage("owners, programs and days must be positive");
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	span = (int64_t)days * 86400 * 1000000000;
	if ((rc = pp_store_open(&st, argv[1], PP_STORE_CREATE, &e)) < 0)
		pp_die("%s", pp_err_msg(&e, rc));
	for (i = 0; i < count;) {
		size_t n = 0;

		memset(items, 0, sizeof(items));
		for (; n < 1000 && i < count; n++, i++) {
			struct pp_store_item *it = &items[n];

			snprintf(owners[n], sizeof(owners[n]), "u%lu", i % nowners);
			snprintf(progs[n], sizeof(progs[n]), "prog%lu",
			    (i / nowners) % nprogs);
			snprintf(data[n], sizeof(data[n]), "record %lu", i);
			it->rec.owner = owners[n];
			it->rec.program = progs[n];
			it->rec.host = "bench";
			if (nhosts) {
				/* Not in step with owners or programs. */
				unsigned long x = (i * 2654435761u) &
				    0xffffffffu;

				snprintf(hosts[n], sizeof(hosts[n]), "h%lu",
				    x % nhosts);
				snprintf(racks[n], sizeof(racks[n]),
				    "rack=r%lu", x >> 8 & 1);
				it->rec.host = hosts[n];
				labels[n][0] = x >> 12 & 3 ? "env=test" :
				    "env=prod";
				labels[n][1] = racks[n];
				it->rec.labels = labels[n];
				it->rec.nlabels = (x >> 16) % 3 ? 2 : 1;
			}
			it->rec.type = i / (nowners * nprogs) % 2 ? "heap" : "cpu";
			it->rec.sample_types = "samples/count,cpu/nanoseconds";
			it->rec.start_ns = now - span +
			    (int64_t)((double)span * i / count);
			it->rec.duration_ns = 60000000000LL;
			it->data = data[n];
			it->len = strlen(data[n]);
		}
		if ((rc = pp_store_put(st, items, n, &e)) < 0)
			pp_die("%s", pp_err_msg(&e, rc));
	}
	pp_store_close(st);
	return 0;
}
