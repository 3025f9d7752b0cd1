/* libFuzzer target: pp_profile_decode, the only door for untrusted
 * profiles, then what libpp promises of a profile it accepted: it encodes,
 * the encoding decodes again to the same encoding, and it merges with
 * itself, by pp_profile_merge and by a pp_merger alike. A broken promise
 * is a trap, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that a gzip bomb costs milliseconds. */
static const struct pp_decode_limits lim = { .max_input = 1 << 20,
	.max_raw = 16 << 20 };

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int
same_encoding(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_profile *p = NULL, *q = NULL, *m = NULL, *m2 = NULL;
	struct pp_profile *pair[2];
	struct pp_merger *x = NULL;
	struct pp_err e = { 0 };
	void *b1 = NULL, *b2 = NULL, *bm = NULL, *bm2 = NULL;
	size_t l1, l2, lm, lm2;
	int rc;

	if (pp_profile_decode(data, size, &lim, &p, &e) < 0)
		return 0;

	/* The round trip: what libpp writes, libpp reads, unchanged. */
	if (pp_profile_encode(p, &b1, &l1) < 0)
		goto out;	/* only PP_ENOMEM */
	rc = pp_profile_decode(b1, l1, NULL, &q, &e);
	if (rc == PP_ENOMEM)
		goto out;
	CHECK(rc == 0);
	CHECK(q->nsample == p->nsample && q->nlocation == p->nlocation &&
	    q->nfunction == p->nfunction && q->nmapping == p->nmapping &&
	    q->nsample_type == p->nsample_type && q->ncomment == p->ncomment);
	if (pp_profile_encode(q, &b2, &l2) < 0)
		goto out;
	CHECK(same_encoding(b1, l1, b2, l2));

	/* A profile merges with itself: the same types, and values that are
	 * at most 2^61 in sum. */
	pair[0] = pair[1] = p;
	rc = pp_profile_merge(pair, 2, &m, &e);
	if (rc == PP_ENOMEM)
		goto out;
	CHECK(rc == 0);
	CHECK(m->nsample <= p->nsample && m->nsample_type == p->nsample_type);
	if (pp_profile_encode(m, &bm, &lm) < 0)
		goto out;

	/* The merger, one profile at a time, gives the same result. */
	if ((x = pp_merger_new()) == NULL)
		goto out;
	if ((rc = pp_merger_add(x, p, &e)) == 0)
		rc = pp_merger_add(x, q, &e);
	if (rc == 0)
		rc = pp_merger_finish(x, &m2, &e);
	if (rc == PP_ENOMEM)
		goto out;
	CHECK(rc == 0);
	if (pp_profile_encode(m2, &bm2, &lm2) < 0)
		goto out;
	CHECK(same_encoding(bm, lm, bm2, lm2));
out:
	pp_merger_free(x);
	pp_profile_free(p);
	pp_profile_free(q);
	pp_profile_free(m);
	pp_profile_free(m2);
	free(b1);
	free(b2);
	free(bm);
	free(bm2);
	return 0;
}
