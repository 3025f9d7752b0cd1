/* Unit test of lib/bundle.c: the writer and reader agree, compressed
 * bundles and single profiles read, bombs (gzip, .gz.gz.gz, many entries)
 * stop quickly at the limits, damaged tars and manifests are refused, and
 * bad members carry their error. Prints TAP.
 *
 * usage: bundle PROFILE.pb.gz */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "bundle.h"
#include "crypto.h"
#include "error.h"

#include "tap.h"

static void
skip(const char *what, const char *why)
{
	printf("ok %d - %s # skip %s\n", ++n, what, why);
}

static void
die(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

static double
secs_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A growing buffer. */
struct mem {
	unsigned char *p;
	size_t len, cap;
};

static void
mem_add(struct mem *m, const void *data, size_t len)
{
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2 + 4096;
		if ((m->p = realloc(m->p, m->cap)) == NULL)
			die("out of memory");
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
}

/* gzip of data[0..len), or (data NULL) of fill bytes of 'x': zeros would
 * read as an empty tar, not as one huge profile. */
static struct mem
gz(const void *data, size_t len, size_t fill)
{
	static unsigned char zero[1 << 20], out[1 << 16];
	struct mem m = { 0 };
	z_stream z;
	size_t left = data ? len : fill;
	int flush;

	memset(zero, 'x', sizeof(zero));
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2");
	do {
		size_t step = left > sizeof(zero) ? sizeof(zero) : left;

		z.next_in = data ? (unsigned char *)data + (len - left) : zero;
		z.avail_in = (uInt)step;
		left -= step;
		flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			deflate(&z, flush);
			mem_add(&m, out, sizeof(out) - z.avail_out);
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	return m;
}

static struct mem
gunzip(const unsigned char *in, size_t len)
{
	unsigned char out[1 << 16];
	struct mem m = { 0 };
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 31) != Z_OK)
		die("inflateInit2");
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		zr = inflate(&z, Z_NO_FLUSH);
		mem_add(&m, out, sizeof(out) - z.avail_out);
	} while (zr == Z_OK);
	if (zr != Z_STREAM_END)
		die("gunzip");
	inflateEnd(&z);
	return m;
}

/* Tars made by hand, for what the writer refuses to make. */
struct ent {
	const char *name;
	const void *data;	/* NULL: zeros */
	size_t len;
	int type;		/* AE_IFREG when 0 */
	const char *link;	/* symlink or hard link target */
};

static la_ssize_t
mem_write(struct archive *a, void *data, const void *buf, size_t len)
{
	mem_add(data, buf, len);
	return (la_ssize_t)len;
}

/* xattr: bytes of an extended attribute, in a pax header, given to each
 * member after the first. */
static struct mem
make_tar(const struct ent *ents, size_t nents, const char *filter,
    size_t xattr)
{
	static const char zero[1 << 16];
	struct mem m = { 0 };
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t i, left, step;

	archive_write_set_format_pax_restricted(a);
	if (filter != NULL && strcmp(filter, "gzip") == 0) {
		archive_write_add_filter_gzip(a);
		archive_write_set_filter_option(a, "gzip", "compression-level",
		    "1");
	}
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, &m, NULL, mem_write, NULL, NULL) !=
	    ARCHIVE_OK)
		die("archive_write_open2");
	for (i = 0; i < nents; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_filetype(e, ents[i].type ?
		    (unsigned)ents[i].type : AE_IFREG);
		archive_entry_set_perm(e, 0644);
		if (xattr > 0 && i > 0) {
			char *pad = malloc(xattr);

			memset(pad, 'p', xattr);
			archive_entry_xattr_add_entry(e, "user.pad", pad, xattr);
			free(pad);
		}
		if (ents[i].link && ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, ents[i].link);
		else if (ents[i].link)
			archive_entry_set_hardlink(e, ents[i].link);
		archive_entry_set_size(e, ents[i].type && ents[i].type !=
		    AE_IFREG ? 0 : (la_int64_t)ents[i].len);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			die(archive_error_string(a));
		if (ents[i].data)
			archive_write_data(a, ents[i].data, ents[i].len);
		else if (!ents[i].type)
			for (left = ents[i].len; left > 0; left -= step) {
				step = left > sizeof(zero) ? sizeof(zero) : left;
				archive_write_data(a, zero, step);
			}
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("archive_write_close");
	archive_write_free(a);
	return m;
}

static int
read_b(const void *buf, size_t len, const struct pp_bundle_limits *lim,
    struct pp_bundle **b, struct pp_err *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	*b = NULL;
	rc = pp_bundle_read(buf, len, lim, b, e);
	if (rc < 0)
		printf("# %s\n", pp_err_msg(e, rc));
	if ((rc < 0) != (*b == NULL))
		die("*out and the return value disagree");
	return rc;
}

static const struct pp_bundle_member *
member(const struct pp_bundle *b, const char *name)
{
	size_t i;

	for (i = 0; b && i < b->nmembers; i++)
		if (strcmp(b->members[i].name, name) == 0)
			return &b->members[i];
	return NULL;
}

static char profile_a[3000], profile_b[5000];

/* A bundle of a, b and an empty member, as pp-push makes it. */
static struct mem
sample_bundle(void)
{
	static const char *const labels[] = { "env=prod", "zone=b" };
	struct pp_bundle_writer *w = pp_bundle_writer_new();
	struct pp_bundle_member m;
	struct mem out = { 0 };
	void *buf;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.program = "myserver";
	m.host = "host1";
	m.type = "cpu";
	m.pid = 4242;
	m.start_ns = 1764100000123000000LL;
	m.duration_ns = 60000000000LL;
	m.labels = labels;
	m.nlabels = 2;
	if (w == NULL ||
	    pp_bundle_writer_add(w, "a.cpu.pb.gz", profile_a,
	    sizeof(profile_a), &m) != 0 ||
	    pp_bundle_writer_add(w, "b.heap.pb.gz", profile_b,
	    sizeof(profile_b), NULL) != 0 ||
	    pp_bundle_writer_add(w, "empty", "", 0, NULL) != 0 ||
	    pp_bundle_writer_finish(w, &buf, &len, NULL) != 0)
		die("cannot write the sample bundle");
	mem_add(&out, buf, len);
	free(buf);
	pp_bundle_writer_free(w);
	return out;
}

static void
test_writer(void)
{
	struct pp_bundle_writer *w = pp_bundle_writer_new();
	static const char *const bad[] = { "", ".", "..", "a/b", "/abs",
	    "../up", "a..b", "MANIFEST", "tab\there", "del\x7f", "\xff\xfe" };
	struct mem s1, s2;
	size_t i;
	int all = 1;

	ok(w != NULL, "writer made");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pp_bundle_writer_add(w, bad[i], "x", 1, NULL) != PP_EINVAL) {
			printf("# accepted '%s'\n", bad[i]);
			all = 0;
		}
	ok(all, "bad names refused with PP_EINVAL");
	ok(pp_bundle_writer_add(w, "ok.pb.gz", "x", 1, NULL) == 0 &&
	    pp_bundle_writer_add(w, "ok.pb.gz", "y", 1, NULL) == PP_EINVAL,
	    "a repeated name is refused");
	{
		struct pp_bundle_member m;
		const char *lab[] = { "k=\xff" };

		memset(&m, 0, sizeof(m));
		m.labels = lab;
		m.nlabels = 1;
		ok(pp_bundle_writer_add(w, "lab", "x", 1, &m) == PP_EINVAL &&
		    pp_bundle_writer_add(w, "lab", "x", 1, NULL) == 0,
		    "a label that is not UTF-8 is refused, the name stays free");
	}
	pp_bundle_writer_free(w);

	s1 = sample_bundle();
	s2 = sample_bundle();
	ok(s1.len % 512 == 0 && s1.len >= 512 * 6, "tar of %zu bytes", s1.len);
	ok(memcmp(s1.p, "MANIFEST", 9) == 0, "MANIFEST is the first member");
	ok(memcmp(s1.p + 257, "ustar", 5) == 0, "ustar header");
	ok(s1.len == s2.len && memcmp(s1.p, s2.p, s1.len) == 0,
	    "the same members make the same bytes");
	free(s1.p);
	free(s2.p);
}

static void
test_round_trip(void)
{
	const struct pp_bundle_member *a, *b, *z;
	struct pp_bundle *bd;
	struct pp_err e;
	struct mem s = sample_bundle(), g;
	char sha[PP_HEX256_LEN + 1];
	struct archive *ar;
	int rc, i;

	rc = read_b(s.p, s.len, NULL, &bd, &e);
	ok(rc == 0 && bd->has_manifest && bd->nmembers == 3,
	    "round trip: three members and a manifest");
	if (rc < 0)
		goto out;
	a = &bd->members[0];
	b = &bd->members[1];
	z = &bd->members[2];
	ok(strcmp(a->name, "a.cpu.pb.gz") == 0 &&
	    strcmp(b->name, "b.heap.pb.gz") == 0 && strcmp(z->name, "empty") == 0,
	    "members in the order added");
	ok(a->len == sizeof(profile_a) &&
	    memcmp(a->data, profile_a, a->len) == 0 &&
	    b->len == sizeof(profile_b) &&
	    memcmp(b->data, profile_b, b->len) == 0 && z->len == 0 &&
	    z->data != NULL, "member bytes unchanged");
	pp_sha256_hex(profile_a, sizeof(profile_a), sha);
	ok(strcmp(a->sha256, sha) == 0, "sha256 computed");
	ok(a->error == NULL && b->error == NULL && z->error == NULL,
	    "no member errors");
	ok(a->program && strcmp(a->program, "myserver") == 0 &&
	    strcmp(a->host, "host1") == 0 && strcmp(a->type, "cpu") == 0 &&
	    a->pid == 4242 && a->start_ns == 1764100000123000000LL &&
	    a->duration_ns == 60000000000LL, "metadata from the manifest");
	ok(a->nlabels == 2 && strcmp(a->labels[0], "env=prod") == 0 &&
	    strcmp(a->labels[1], "zone=b") == 0, "labels");
	ok(b->program == NULL && b->host == NULL && b->pid == 0 &&
	    b->nlabels == 0, "absent metadata is NULL/0");
	pp_bundle_free(bd);

	g = gz(s.p, s.len, 0);
	rc = read_b(g.p, g.len, NULL, &bd, &e);
	ok(rc == 0 && bd->nmembers == 3 && bd->members[1].len ==
	    sizeof(profile_b) && memcmp(bd->members[1].data, profile_b,
	    sizeof(profile_b)) == 0, "gzipped bundle reads");
	pp_bundle_free(bd);
	free(g.p);

	/* xz and zstd, where this libarchive can write them. */
	for (i = 0; i < 2; i++) {
		const char *what = i ? "zstd" : "xz";
		struct mem c = { 0 };

		ar = archive_write_new();
		archive_write_set_format_raw(ar);
		if ((i ? archive_write_add_filter_zstd(ar) :
		    archive_write_add_filter_xz(ar)) != ARCHIVE_OK) {
			archive_write_free(ar);
			skip("xz/zstd bundle", "libarchive cannot write it");
			continue;
		}
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_filetype(en, AE_IFREG);
		archive_write_set_bytes_in_last_block(ar, 1);
		archive_write_open2(ar, &c, NULL, mem_write, NULL, NULL);
		archive_write_header(ar, en);
		archive_write_data(ar, s.p, s.len);
		archive_write_close(ar);
		archive_write_free(ar);
		archive_entry_free(en);
		rc = read_b(c.p, c.len, NULL, &bd, &e);
		ok(rc == 0 && bd->nmembers == 3 && bd->has_manifest &&
		    c.len < s.len, "%s-compressed bundle reads", what);
		pp_bundle_free(bd);
		free(c.p);
	}
out:
	free(s.p);
}

static void
test_single(const char *path)
{
	struct pp_bundle *b;
	struct pp_err e;
	struct mem f = { 0 }, raw;
	char sha[PP_HEX256_LEN + 1], chunk[4096];
	unsigned char junk[1000];
	FILE *fp;
	size_t k;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL)
		die("cannot open the test profile");
	while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		mem_add(&f, chunk, k);
	fclose(fp);
	raw = gunzip(f.p, f.len);

	rc = read_b(f.p, f.len, NULL, &b, &e);
	ok(rc == 0 && !b->has_manifest && b->nmembers == 1 &&
	    strcmp(b->members[0].name, "profile") == 0,
	    "a gzipped profile is one member called profile");
	pp_sha256_hex(raw.p, raw.len, sha);
	ok(rc == 0 && b->members[0].len == raw.len &&
	    memcmp(b->members[0].data, raw.p, raw.len) == 0 &&
	    strcmp(b->members[0].sha256, sha) == 0 &&
	    b->members[0].error == NULL,
	    "its data is the decompressed profile, with its sha256");
	pp_bundle_free(b);

	rc = read_b(raw.p, raw.len, NULL, &b, &e);
	ok(rc == 0 && b->nmembers == 1 && b->members[0].len == raw.len &&
	    memcmp(b->members[0].data, raw.p, raw.len) == 0,
	    "an uncompressed profile reads the same");
	pp_bundle_free(b);

	{
		struct pp_bundle_limits lim = { 0 };

		lim.max_member = raw.len - 1;
		rc = read_b(f.p, f.len, &lim, &b, &e);
		ok(rc == PP_ETOOBIG && e.code == PP_ETOOBIG,
		    "a profile one byte over max_member: PP_ETOOBIG");
		lim.max_member = raw.len;
		rc = read_b(f.p, f.len, &lim, &b, &e);
		ok(rc == 0, "a profile of exactly max_member bytes reads");
		pp_bundle_free(b);
	}

	rc = read_b(f.p, f.len / 2, NULL, &b, &e);
	ok(rc == PP_EARCHIVE, "a truncated gzipped profile: PP_EARCHIVE");
	rc = read_b("", 0, NULL, &b, &e);
	ok(rc == PP_EARCHIVE, "empty input: PP_EARCHIVE");

	for (k = 0; k < sizeof(junk); k++)
		junk[k] = (unsigned char)(k * 7 + 13);
	rc = read_b(junk, sizeof(junk), NULL, &b, &e);
	ok(rc == 0 && b->nmembers == 1 && b->members[0].len == sizeof(junk),
	    "bytes that are no archive are a single profile, for the "
	    "profile decoder to judge");
	pp_bundle_free(b);

	/* support_filter_all would hand lzop data to an lzop program (and
	 * fail here, where there is none): it is a single profile. */
	memcpy(junk, "\x89LZO\0\r\n\x1a\n", 9);
	rc = read_b(junk, sizeof(junk), NULL, &b, &e);
	ok(rc == 0 && b->nmembers == 1 && b->members[0].len == sizeof(junk),
	    "lzop data is not given to an lzop program");
	pp_bundle_free(b);
	free(f.p);
	free(raw.p);
}

static void
test_bombs(void)
{
	struct pp_bundle *b;
	struct pp_err e;
	struct pp_bundle_limits lim = { 0 };
	struct timespec t0;
	struct mem g1, g2, g3, t;
	double s;
	int rc;

	/* 200 MiB in a few hundred kB. */
	g1 = gz(NULL, 0, (size_t)200 << 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_b(g1.p, g1.len, NULL, &b, &e);
	s = secs_since(&t0);
	ok(rc == PP_ETOOBIG && s < 3,
	    "gzip bomb (%zu bytes for 200 MiB): PP_ETOOBIG in %.2f s", g1.len, s);

	g2 = gz(g1.p, g1.len, 0);
	g3 = gz(g2.p, g2.len, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_b(g3.p, g3.len, NULL, &b, &e);
	s = secs_since(&t0);
	ok(rc == PP_ETOOBIG && s < 3 && g3.len < 20000,
	    ".gz.gz.gz bomb (%zu bytes for 200 MiB): PP_ETOOBIG in %.2f s",
	    g3.len, s);
	lim.max_member = 1 << 20;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_b(g3.p, g3.len, &lim, &b, &e);
	s = secs_since(&t0);
	ok(rc == PP_ETOOBIG && s < 0.5,
	    "with a 1 MiB limit it stops sooner (%.3f s)", s);
	lim.max_member = 0;
	lim.max_total = 1 << 20;
	rc = read_b(g3.p, g3.len, &lim, &b, &e);
	ok(rc == PP_ETOOBIG, "a single profile also counts against max_total");
	free(g1.p);
	free(g2.p);
	free(g3.p);

	/* A member that says it is 100 MiB: refused from its header. */
	{
		static const char man[] = "{\"version\":1,\"profiles\":[]}";
		struct ent ents[] = {
			{ "MANIFEST", man, sizeof(man) - 1, 0, NULL },
			{ "big", NULL, (size_t)100 << 20, 0, NULL },
		};

		t = make_tar(ents, 2, "gzip", 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = read_b(t.p, t.len, NULL, &b, &e);
		s = secs_since(&t0);
		ok(rc == PP_ETOOBIG && s < 1 && strstr(e.msg, "big"),
		    "tar.gz member of 100 MiB (%zu bytes): PP_ETOOBIG in "
		    "%.3f s", t.len, s);
		free(t.p);
	}

	/* Tar headers are no member bytes, but decompressing them costs
	 * the same: pax headers of 100 kB each. */
	{
		static const char man[] = "{\"version\":1,\"profiles\":[]}";
		struct ent ents[21];
		size_t i;

		memset(ents, 0, sizeof(ents));
		ents[0].name = "MANIFEST";
		ents[0].data = man;
		ents[0].len = sizeof(man) - 1;
		for (i = 1; i < 21; i++) {
			ents[i].name = "x";
			ents[i].data = "x";
			ents[i].len = 1;
		}
		t = make_tar(ents, 3, "gzip", 100000);
		rc = read_b(t.p, t.len, NULL, &b, &e);
		ok(rc == 0 && b->nmembers == 2, "two 100 kB pax headers read");
		pp_bundle_free(b);
		free(t.p);
		t = make_tar(ents, 21, "gzip", 100000);
		rc = read_b(t.p, t.len, NULL, &b, &e);
		ok(rc == PP_ETOOBIG && strstr(e.msg, "headers"),
		    "twenty 100 kB pax headers for 20 bytes: PP_ETOOBIG");
		free(t.p);
	}
}

static void
test_many_entries(void)
{
	struct pp_bundle_writer *w = pp_bundle_writer_new();
	struct pp_bundle_limits lim = { 0 };
	struct pp_bundle *b;
	struct pp_err e;
	struct timespec t0;
	struct mem g;
	char name[32];
	void *buf;
	size_t len, i, bad = 0;
	double s;
	int rc;

	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "p%05zu", i);
		if (pp_bundle_writer_add(w, name, name, 1, NULL) != 0)
			die("writer_add");
	}
	if (pp_bundle_writer_finish(w, &buf, &len, NULL) != 0)
		die("writer_finish");
	pp_bundle_writer_free(w);
	g = gz(buf, len, 0);
	free(buf);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_b(g.p, g.len, NULL, &b, &e);
	s = secs_since(&t0);
	ok(rc == PP_ETOOBIG && s < 2,
	    "20000 entries in %zu bytes, default limit: PP_ETOOBIG in %.2f s",
	    g.len, s);
	lim.max_members = 20001;
	rc = read_b(g.p, g.len, &lim, &b, &e);
	for (i = 0; rc == 0 && i < b->nmembers; i++)
		if (b->members[i].error != NULL)
			bad++;
	ok(rc == 0 && b->nmembers == 20000 && bad == 0,
	    "20000 entries with max_members 20001 read, all good");
	pp_bundle_free(b);
	lim.max_members = 20000;
	rc = read_b(g.p, g.len, &lim, &b, &e);
	ok(rc == PP_ETOOBIG, "max_members counts the manifest");
	free(g.p);

	/* The same entries under a MANIFEST that lists none of them: the
	 * entries themselves are counted. */
	{
		static const char man[] = "{\"version\":1,\"profiles\":[]}";
		struct ent *ents = calloc(20001, sizeof(*ents));
		char (*names)[8] = calloc(20001, sizeof(*names));
		struct mem t;

		ents[0].name = "MANIFEST";
		ents[0].data = man;
		ents[0].len = sizeof(man) - 1;
		for (i = 1; i <= 20000; i++) {
			snprintf(names[i], sizeof(names[i]), "q%05zu", i);
			ents[i].name = names[i];
			ents[i].data = "q";
			ents[i].len = 1;
		}
		t = make_tar(ents, 20001, "gzip", 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = read_b(t.p, t.len, NULL, &b, &e);
		s = secs_since(&t0);
		ok(rc == PP_ETOOBIG && strstr(e.msg, "more than 10000") &&
		    s < 2, "20000 unlisted entries in %zu bytes: PP_ETOOBIG "
		    "in %.2f s", t.len, s);
		lim.max_members = 20001;
		rc = read_b(t.p, t.len, &lim, &b, &e);
		ok(rc == 0 && b->nmembers == 20000 && b->members[19999].error &&
		    strstr(b->members[19999].error, "not listed"),
		    "with max_members 20001: 20000 unlisted members");
		pp_bundle_free(b);
		free(t.p);
		free(ents);
		free(names);
	}
}

static void
test_damaged(void)
{
	struct pp_bundle *b;
	struct pp_err e;
	struct pp_bundle_limits lim = { 0 };
	struct mem s = sample_bundle(), g;
	unsigned char *copy, *at;
	int rc;

	/* Cut inside b's data (the members are 3000 and 5000 bytes). */
	rc = read_b(s.p, s.len - 4096, NULL, &b, &e);
	ok(rc == PP_EARCHIVE && e.code == PP_EARCHIVE,
	    "tar cut inside a member: PP_EARCHIVE");
	g = gz(s.p, s.len, 0);
	rc = read_b(g.p, g.len - 20, NULL, &b, &e);
	ok(rc == PP_EARCHIVE, "truncated tar.gz: PP_EARCHIVE");
	free(g.p);

	copy = malloc(s.len);
	memcpy(copy, s.p, s.len);
	at = memmem(copy, s.len, profile_a, sizeof(profile_a));
	if (at == NULL)
		die("member a not found in the tar");
	at[100] ^= 1;
	rc = read_b(copy, s.len, NULL, &b, &e);
	ok(rc == 0 && member(b, "a.cpu.pb.gz")->error != NULL &&
	    strstr(member(b, "a.cpu.pb.gz")->error, "SHA-256") != NULL,
	    "changed member: its error says SHA-256");
	ok(rc == 0 && member(b, "b.heap.pb.gz")->error == NULL &&
	    member(b, "empty")->error == NULL, "the other members are fine");
	if (rc == 0)
		printf("# %s\n", member(b, "a.cpu.pb.gz")->error);
	pp_bundle_free(b);
	free(copy);

	/* The MANIFEST of the sample is about 500 bytes. */
	lim.max_total = sizeof(profile_a) + sizeof(profile_b) + 600;
	rc = read_b(s.p, s.len, &lim, &b, &e);
	ok(rc == 0, "members and manifest within max_total");
	pp_bundle_free(b);
	lim.max_total = sizeof(profile_a) + sizeof(profile_b) + 400;
	rc = read_b(s.p, s.len, &lim, &b, &e);
	ok(rc == PP_ETOOBIG, "over max_total, the MANIFEST counted: "
	    "PP_ETOOBIG");
	lim.max_total = 0;
	lim.max_member = sizeof(profile_b) - 1;
	rc = read_b(s.p, s.len, &lim, &b, &e);
	ok(rc == PP_ETOOBIG && strstr(e.msg, "b.heap.pb.gz") != NULL,
	    "a member over max_member: PP_ETOOBIG naming it");
	lim.max_member = 0;
	lim.max_manifest = 50;
	rc = read_b(s.p, s.len, &lim, &b, &e);
	ok(rc == PP_ETOOBIG && strstr(e.msg, "MANIFEST") != NULL,
	    "a MANIFEST over max_manifest: PP_ETOOBIG");
	free(s.p);
}

/* A MANIFEST listing a and ghost, for a tar holding a and extra. */
static void
test_manifest_members(void)
{
	char man[1024], sha_a[PP_HEX256_LEN + 1], sha_x[PP_HEX256_LEN + 1];
	const struct pp_bundle_member *m;
	struct pp_bundle *b;
	struct pp_err e;
	struct mem t;
	size_t i;
	int rc;

	pp_sha256_hex("AAA", 3, sha_a);
	pp_sha256_hex("XXX", 3, sha_x);
	/* Upper-case hex is the same hash. */
	for (i = 0; sha_x[i]; i++)
		if (sha_x[i] >= 'a')
			sha_x[i] -= 32;
	snprintf(man, sizeof(man), "{\"version\":1,\"profiles\":["
	    "{\"name\":\"a\",\"sha256\":\"%s\",\"host\":\"h\",\"pid\":7},"
	    "{\"name\":\"ghost\",\"sha256\":\"%s\",\"type\":\"heap\"},"
	    "{\"name\":\"sized\",\"sha256\":\"%s\",\"size\":4}],"
	    "\"future\":{\"ignored\":true}}", sha_a, sha_a, sha_x);
	struct ent ents[] = {
		{ "MANIFEST", man, strlen(man), 0, NULL },
		{ "a", "AAA", 3, 0, NULL },
		{ "extra", "EEE", 3, 0, NULL },
		{ "sized", "XXX", 3, 0, NULL },
		{ "a", "AAA", 3, 0, NULL },
		{ "../evil", "AAA", 3, 0, NULL },
		{ "ctl\x01", "AAA", 3, 0, NULL },
	};
	t = make_tar(ents, sizeof(ents) / sizeof(ents[0]), NULL, 0);
	rc = read_b(t.p, t.len, NULL, &b, &e);
	ok(rc == 0 && b->nmembers == 7, "tar with odd members reads, "
	    "7 members");
	if (rc < 0) {
		free(t.p);
		return;
	}
	m = &b->members[0];
	ok(strcmp(m->name, "a") == 0 && m->error == NULL && m->pid == 7 &&
	    strcmp(m->host, "h") == 0, "listed member is good");
	m = member(b, "extra");
	ok(m && m->error && strstr(m->error, "not listed") && m->len == 3,
	    "member missing from the manifest: its error");
	m = member(b, "ghost");
	ok(m && m->error && strstr(m->error, "absent") && m->data == NULL &&
	    m->type && strcmp(m->type, "heap") == 0,
	    "listed but absent: a member without data, with its error");
	m = member(b, "sized");
	ok(m && m->error && strstr(m->error, "size"),
	    "size differing from the manifest: its error");
	ok(b->members[3].error && strstr(b->members[3].error, "repeated") &&
	    b->members[0].error == NULL, "second member of the same name: "
	    "its error");
	m = member(b, "../evil");
	ok(m && m->error && strstr(m->error, "name"),
	    "member name with '/' and '..': its error");
	m = member(b, "ctl\x01");
	ok(m && m->error && strstr(m->error, "name"),
	    "member name with a control character: its error");
	pp_bundle_free(b);
	free(t.p);
}

static void
test_entry_types(void)
{
	static const char man[] = "{\"version\":1,\"profiles\":[]}";
	struct ent dir[] = { { "MANIFEST", man, sizeof(man) - 1, 0, NULL },
	    { "d", NULL, 0, AE_IFDIR, NULL } };
	struct ent sym[] = { { "MANIFEST", man, sizeof(man) - 1, 0, NULL },
	    { "s", NULL, 0, AE_IFLNK, "/etc/passwd" } };
	struct ent hard[] = { { "MANIFEST", man, sizeof(man) - 1, 0, NULL },
	    { "h", NULL, 0, AE_IFREG, "MANIFEST" } };
	struct ent fifo[] = { { "MANIFEST", man, sizeof(man) - 1, 0, NULL },
	    { "f", NULL, 0, AE_IFIFO, NULL } };
	struct ent notfirst[] = { { "a", "x", 1, 0, NULL },
	    { "MANIFEST", man, sizeof(man) - 1, 0, NULL } };
	struct ent *cases[] = { dir, sym, hard, fifo };
	const char *what[] = { "directory", "symlink", "hard link", "fifo" };
	struct pp_bundle *b;
	struct pp_err e;
	struct mem t;
	unsigned char zeros[1024] = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < 4; i++) {
		t = make_tar(cases[i], 2, NULL, 0);
		rc = read_b(t.p, t.len, NULL, &b, &e);
		ok(rc == PP_EARCHIVE && strstr(e.msg, "regular"),
		    "%s entry: PP_EARCHIVE", what[i]);
		free(t.p);
	}
	t = make_tar(notfirst, 2, NULL, 0);
	rc = read_b(t.p, t.len, NULL, &b, &e);
	ok(rc == PP_EPROTO, "MANIFEST not first: PP_EPROTO");
	free(t.p);
	rc = read_b(zeros, sizeof(zeros), NULL, &b, &e);
	ok(rc == PP_EPROTO, "empty tar: PP_EPROTO (no MANIFEST)");
}

static int
manifest_rc(const char *man, const struct pp_bundle_limits *lim)
{
	struct ent ents[] = { { "MANIFEST", man, strlen(man), 0, NULL } };
	struct pp_bundle *b;
	struct pp_err e;
	struct mem t = make_tar(ents, 1, NULL, 0);
	int rc;

	rc = read_b(t.p, t.len, lim, &b, &e);
	pp_bundle_free(b);
	free(t.p);
	return rc;
}

static void
test_bad_manifests(void)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"profiles\":[]}",
		"{\"version\":2,\"profiles\":[]}",
		"{\"version\":\"1\",\"profiles\":[]}",
		"{\"version\":1}",
		"{\"version\":1,\"profiles\":{}}",
		"{\"version\":1,\"profiles\":[1]}",
		"{\"version\":1,\"profiles\":[{\"sha256\":\"H\"}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\"}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\",\"sha256\":\"abc\"}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a/b\",\"sha256\":\"H\"}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"MANIFEST\",\"sha256\":\"H\"}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\",\"sha256\":\"H\"},"
		    "{\"name\":\"a\",\"sha256\":\"H\"}]}",
		"{\"version\":1,\"version\":1,\"profiles\":[]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\",\"sha256\":\"H\","
		    "\"pid\":\"7\"}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\",\"sha256\":\"H\","
		    "\"labels\":[\"x\",3]}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\",\"sha256\":\"H\","
		    "\"size\":-1}]}",
		"{\"version\":1,\"profiles\":[{\"name\":\"a\\u0000b\",\"sha256\":\"H\"}]}",
		"{\"version\":1,\"profiles\":[]} trailing",
	};
	char hex[PP_HEX256_LEN + 1], buf[512], *p;
	struct pp_bundle_limits lim = { 0 };
	size_t i;
	int rc, all = 1;

	pp_sha256_hex("", 0, hex);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* H stands for a valid hash. */
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		while ((p = strstr(buf, "\"H\"")) != NULL) {
			char rest[512];

			snprintf(rest, sizeof(rest), "%s", p + 3);
			snprintf(p, sizeof(buf) - (size_t)(p - buf), "\"%s\"%s",
			    hex, rest);
		}
		if ((rc = manifest_rc(buf, NULL)) != PP_EPROTO) {
			printf("# %d for %s\n", rc, buf);
			all = 0;
		}
	}
	ok(all, "%zu bad manifests: PP_EPROTO each", i);

	snprintf(buf, sizeof(buf), "{\"version\":1,\"profiles\":["
	    "{\"name\":\"a\",\"sha256\":\"%s\"}]}", hex);
	ok(manifest_rc(buf, NULL) == 0, "the good manifest they vary reads");
	snprintf(buf, sizeof(buf), "{\"version\":1,\"profiles\":["
	    "{\"name\":\"a\",\"sha256\":\"%s\"},{\"name\":\"b\",\"sha256\":"
	    "\"%s\"}]}", hex, hex);
	lim.max_members = 2;
	ok(manifest_rc(buf, &lim) == PP_ETOOBIG,
	    "a manifest listing more than max_members: PP_ETOOBIG");
	lim.max_members = 3;
	ok(manifest_rc(buf, &lim) == 0, "listing max_members - 1 reads");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: bundle PROFILE.pb.gz\n");
		return 2;
	}
	for (i = 0; i < sizeof(profile_a); i++)
		profile_a[i] = (char)('a' + i % 23);
	for (i = 0; i < sizeof(profile_b); i++)
		profile_b[i] = (char)('B' + i % 19);
	test_writer();
	test_round_trip();
	test_single(argv[1]);
	test_bombs();
	test_many_entries();
	test_damaged();
	test_manifest_members();
	test_entry_types();
	test_bad_manifests();
	printf("1..%d\n", n);
	fflush(stdout);
	return failed;
}
