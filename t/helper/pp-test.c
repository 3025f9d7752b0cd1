/* pp-test: library internals for the shell tests.
 *
 *   pp-test roundtrip < in > out     decode, encode (libpp's writer)
 *   pp-test merge FILE...  > out     merge with libpp, encode
 *   pp-test scale RATIO < in > out   scale every value, encode
 *   pp-test summary < in             counts of the decoded profile
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
