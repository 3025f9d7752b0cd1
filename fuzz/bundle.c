/* libFuzzer target: a bundle as pp-recv reads a push's body, with limits
 * small enough that a decompression bomb costs milliseconds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pp_bundle_limits lim = { .max_members = 64,
		.max_member = 1 << 20, .max_total = 4 << 20,
		.max_manifest = 64 << 10 };
	struct pp_bundle *b = NULL;
	struct pp_err e = { 0 };
	size_t i, k;

	if (pp_bundle_read(data, size, &lim, &b, &e) < 0)
		return 0;
	/* Touch what the receiver reads of every member. */
	for (i = 0; i < b->nmembers; i++) {
		const struct pp_bundle_member *m = &b->members[i];

		if (m->name == NULL)
			__builtin_trap();
		if (m->data != NULL && (m->data[m->len] != '\0' ||
		    strlen(m->sha256) != PP_HEX256_LEN))
			__builtin_trap();
		for (k = 0; k < m->nlabels; k++)
			if (m->labels[k] == NULL)
				__builtin_trap();
		(void)(m->program && strlen(m->program));
		(void)(m->host && strlen(m->host));
		(void)(m->type && strlen(m->type));
		(void)(m->error && strlen(m->error));
	}
	pp_bundle_free(b);
	return 0;
}
