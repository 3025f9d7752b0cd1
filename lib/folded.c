/* flamegraph.pl's folded stacks: "root;caller;leaf value", one line per
 * distinct stack, sorted. */
#include <stdlib.h>
#include <string.h>

#include "folded.h"

static const char *
frame_name(const struct pp_location *l, size_t k, struct pp_buf *tmp)
{
	const char *obj;

	if (k < l->nline && *l->line[k].function->name != '\0')
		return l->line[k].function->name;
	obj = l->mapping ? l->mapping->file : "";
	if (*obj == '\0')
		return "<unknown>";
	tmp->len = 0;
	pp_buf_addf(tmp, "[%s]", pp_base_name(obj));
	return tmp->data;
}

struct line {
	char *stack;
	int64_t value;
};

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack,
	    ((const struct line *)b)->stack);
}

int
pp_folded(const struct pp_profile *p, int si, struct pp_buf *out)
{
	struct pp_u64map seen;
	struct line *lines = NULL;
	struct pp_buf stack, tmp;
	size_t n = 0, cap = 0, i, k, j;
	int rc = PP_ENOMEM;

	pp_u64map_init(&seen);
	pp_buf_init(&stack);
	pp_buf_init(&tmp);
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = p->sample[i];
		uint64_t h, *v;

		if (s->value[si] == 0)
			continue;
		stack.len = 0;
		for (k = s->nlocation; k-- > 0;) {
			const struct pp_location *l = s->location[k];
			size_t nl = l->nline ? l->nline : 1;

			for (j = nl; j-- > 0;) {
				const char *name = frame_name(l, j, &tmp);

				if (stack.len > 0)
					pp_buf_addc(&stack, ';');
				/* ';' and newlines would break the format */
				for (; *name; name++)
					pp_buf_addc(&stack, *name == ';' ||
					    *name == '\n' ? '_' : *name);
			}
		}
		if (stack.len == 0)
			pp_buf_adds(&stack, "<unknown>");
		if (stack.oom || tmp.oom)
			goto out;
		h = pp_hash_bytes(stack.data, stack.len, 1) | 1;
		for (;; h += 2) {
			if ((v = pp_u64map_get(&seen, h)) == NULL) {
				if (pp_grow(&lines, &cap, n + 1,
				    sizeof(*lines)) < 0 ||
				    (lines[n].stack = strdup(stack.data)) ==
				    NULL ||
				    pp_u64map_put(&seen, h, n, NULL) < 0)
					goto out;
				lines[n++].value = s->value[si];
				break;
			}
			if (strcmp(lines[*v].stack, stack.data) == 0) {
				lines[*v].value += s->value[si];
				break;
			}
		}
	}
	if (n > 1)
		qsort(lines, n, sizeof(*lines), cmp_line);
	for (i = 0; i < n; i++)
		if (lines[i].value != 0)
			pp_buf_addf(out, "%s %lld\n", lines[i].stack,
			    (long long)lines[i].value);
	rc = out->oom ? PP_ENOMEM : 0;
out:
	for (i = 0; i < n; i++)
		free(lines[i].stack);
	free(lines);
	pp_u64map_release(&seen);
	pp_buf_release(&stack);
	pp_buf_release(&tmp);
	return rc;
}
