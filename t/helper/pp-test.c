/* pp-test: library internals for the shell tests.
 *
 *   pp-test roundtrip < in > out     decode, encode (libpp's writer)
 *   pp-test merge FILE...  > out     merge with libpp, encode
 *   pp-test scale RATIO < in > out   scale every value, encode
 *   pp-test summary < in             counts of the decoded profile
 *   pp-test fromfolded < in > out    a CPU profile (samples/count,
 *                                    cpu/nanoseconds) from folded stacks,
 *                                    "root;...;leaf COUNT", 10 ms a sample
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "profile.h"

static struct pp_profile *
load_fd(int fd, const char *name)
{
	struct pp_profile *p = NULL;
	struct pp_err e = { 0 };
	int rc;

	if ((rc = pp_profile_read_fd(fd, NULL, &p, &e)) < 0)
		pp_die("cannot read '%s': %s", name, pp_err_msg(&e, rc));
	return p;
}

static struct pp_profile *
load(const char *name)
{
	struct pp_profile *p;
	int fd;

	if ((fd = open(name, O_RDONLY)) < 0)
		pp_die("cannot open '%s'", name);
	p = load_fd(fd, name);
	close(fd);
	return p;
}

static void
emit(struct pp_profile *p)
{
	void *buf;
	size_t len;

	if (pp_profile_encode(p, &buf, &len) < 0)
		pp_die("cannot encode");
	pp_write_output(NULL, buf, len);
	free(buf);
}

static struct pp_location *
frame(struct pp_profile *p, const char *name)
{
	struct pp_function *f;
	struct pp_location *l;
	size_t i;

	name = pp_profile_intern_str(p, name);
	for (i = 0; i < p->nlocation; i++)
		if (p->location[i]->line[0].function->name == name)
			return p->location[i];
	if ((f = pp_profile_add_function(p, p->nfunction + 1)) == NULL ||
	    (l = pp_profile_add_location(p, p->nlocation + 1, 1)) == NULL)
		pp_die("out of memory");
	f->name = f->system_name = name;
	l->line[0].function = f;
	l->address = 0x1000 + 16 * p->nlocation;
	l->mapping = p->mapping[0];
	return l;
}

static struct pp_profile *
from_folded(FILE *in)
{
	struct pp_profile *p = pp_profile_new();
	struct pp_location *stack[512];
	struct pp_mapping *m;
	struct pp_sample *s;
	char line[8192], *sp, *tok, *save;
	long long count;
	size_t n, i;

	if (p == NULL || (m = pp_profile_add_mapping(p, 1)) == NULL ||
	    (p->sample_type = pp_profile_alloc(p, 2 *
	    sizeof(*p->sample_type))) == NULL)
		pp_die("out of memory");
	m->start = 0x1000;
	m->limit = 0x100000;
	m->file = pp_profile_intern_str(p, "/usr/bin/synthetic");
	m->has_functions = true;
	p->nsample_type = 2;
	p->sample_type[0].type = pp_profile_intern_str(p, "samples");
	p->sample_type[0].unit = pp_profile_intern_str(p, "count");
	p->sample_type[1].type = pp_profile_intern_str(p, "cpu");
	p->sample_type[1].unit = pp_profile_intern_str(p, "nanoseconds");
	p->period_type = p->sample_type[1];
	p->period = 10000000;
	while (fgets(line, sizeof(line), in) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((sp = strrchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		count = atoll(sp + 1);
		n = 0;
		for (tok = strtok_r(line, ";", &save); tok != NULL && n < 512;
		    tok = strtok_r(NULL, ";", &save))
			stack[n++] = frame(p, tok);
		if ((s = pp_profile_add_sample(p, n, 0)) == NULL)
			pp_die("out of memory");
		for (i = 0; i < n; i++)
			s->location[i] = stack[n - 1 - i];
		s->value[0] = count;
		s->value[1] = count * p->period;
	}
	return p;
}

int
main(int argc, char **argv)
{
	struct pp_profile *p;
	struct pp_err e = { 0 };
	int rc;

	pp_progname = "pp-test";
	if (argc < 2)
		pp_die_usage("usage: pp-test roundtrip|merge|scale|summary ...");
	if (strcmp(argv[1], "roundtrip") == 0) {
		p = load_fd(0, "<stdin>");
		emit(p);
	} else if (strcmp(argv[1], "merge") == 0) {
		struct pp_profile **ps = calloc((size_t)argc, sizeof(*ps));
		int i;

		for (i = 2; i < argc; i++)
			ps[i - 2] = load(argv[i]);
		if ((rc = pp_profile_merge(ps, (size_t)argc - 2, &p, &e)) < 0)
			pp_die("cannot merge: %s", pp_err_msg(&e, rc));
		for (i = 0; i < argc - 2; i++)
			pp_profile_free(ps[i]);
		free(ps);
		emit(p);
	} else if (strcmp(argv[1], "scale") == 0 && argc == 3) {
		p = load_fd(0, "<stdin>");
		pp_profile_scale(p, atof(argv[2]));
		emit(p);
	} else if (strcmp(argv[1], "fromfolded") == 0) {
		p = from_folded(stdin);
		emit(p);
	} else if (strcmp(argv[1], "summary") == 0) {
		p = load_fd(0, "<stdin>");
		printf("samples %zu\nlocations %zu\nfunctions %zu\n"
		    "mappings %zu\nsample_types %zu\n", p->nsample,
		    p->nlocation, p->nfunction, p->nmapping, p->nsample_type);
	} else {
		pp_die_usage("unknown command '%s'", argv[1]);
	}
	pp_profile_free(p);
	return 0;
}
