#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

static int
add_comment(struct pp_profile *p, size_t *cap, const char *key,
    const char *value)
{
	struct pp_buf b;
	const char *c;

	pp_buf_init(&b);
	pp_buf_addf(&b, "#pp %s=%s", key, value);
	if (b.oom || pp_grow(&p->comment, cap, p->ncomment + 1,
	    sizeof(*p->comment)) < 0 ||
	    (c = pp_profile_intern(p, b.data, b.len)) == NULL) {
		pp_buf_release(&b);
		return PP_ENOMEM;
	}
	pp_buf_release(&b);
	p->comment[p->ncomment++] = c;
	return 0;
}

int
pp_meta_apply(struct pp_profile *p, const struct pp_meta *m)
{
	const char **old = p->comment;
	size_t cap = 0, oldn = p->ncomment, i;
	char num[32];
	int rc;

	/* The comments array of a decoded profile lives in its arena: start
	 * a malloc'd one, owned through the profile's arena below. */
	p->comment = NULL;
	for (i = 0; i < p->ncomment; i++) {
		if (pp_grow(&p->comment, &cap, i + 1, sizeof(*p->comment)) < 0) {
			rc = PP_ENOMEM;
			goto fail;
		}
		p->comment[i] = old[i];
	}
	snprintf(num, sizeof(num), "%d", m->pid);
	if ((m->program && (rc = add_comment(p, &cap, "program",
	    m->program)) < 0) ||
	    (m->host && (rc = add_comment(p, &cap, "host", m->host)) < 0) ||
	    (m->pid && (rc = add_comment(p, &cap, "pid", num)) < 0) ||
	    (m->type && (rc = add_comment(p, &cap, "type", m->type)) < 0))
		goto fail;
	for (i = 0; i < m->nlabels; i++)
		if ((rc = add_comment(p, &cap, "label", m->labels[i])) < 0)
			goto fail;
	/* Move the array into the arena so the profile owns it. */
	if (p->ncomment > 0) {
		const char **arr = pp_profile_alloc(p, p->ncomment *
		    sizeof(*arr));

		if (arr == NULL) {
			rc = PP_ENOMEM;
			goto fail;
		}
		memcpy(arr, p->comment, p->ncomment * sizeof(*arr));
		free(p->comment);
		p->comment = arr;
	}
	if (m->start_ns != 0) {
		p->time_nanos = m->start_ns;
		p->duration_nanos = m->duration_ns;
	}
	return 0;
fail:
	free(p->comment);
	p->comment = old;
	p->ncomment = oldn;
	return rc;
}

int
pp_meta_read(const struct pp_profile *p, struct pp_meta *m)
{
	const char **labels = NULL;
	size_t cap = 0, n = 0, i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < p->ncomment; i++) {
		const char *c = p->comment[i];

		if (strncmp(c, "#pp ", 4) != 0)
			continue;
		c += 4;
		if (strncmp(c, "program=", 8) == 0)
			m->program = c + 8;
		else if (strncmp(c, "host=", 5) == 0)
			m->host = c + 5;
		else if (strncmp(c, "pid=", 4) == 0)
			m->pid = atoi(c + 4);
		else if (strncmp(c, "type=", 5) == 0)
			m->type = c + 5;
		else if (strncmp(c, "label=", 6) == 0) {
			if (pp_grow(&labels, &cap, n + 1, sizeof(*labels)) < 0) {
				free(labels);
				return PP_ENOMEM;
			}
			labels[n++] = c + 6;
		}
	}
	m->labels = labels;
	m->nlabels = n;
	m->start_ns = p->time_nanos;
	m->duration_ns = p->duration_nanos;
	return 0;
}
