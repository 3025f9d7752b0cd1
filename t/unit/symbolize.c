/* pp_symbolize() on this very program and on libc: names, files, lines and
 * an inlined frame at known lines, malloc in libc, build-ids, skipped
 * mappings; then copies of this program: stripped, named from .dynsym;
 * with their debug information split off and found by .gnu_debuglink;
 * without .debug_aranges; all with a debuginfod server configured that
 * must not be asked. Needs objcopy. Prints TAP.
 *
 * Build with -O2 -g and link with -rdynamic, which exports pp_test_outer
 * and the C++-named function to .dynsym; without it the stripped-copy
 * tests are skipped. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "profile.h"
#include "symbolize.h"

static int n, failed;
static unsigned lines_flags;	/* pp_symbolize's flags in lines_in */

static void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed = 1;
}

static void
skip(const char *what, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++n, what, why);
}

/* Code at known lines. */

#if __has_attribute(noclone)
#define NOINLINE	__attribute__((noinline, noclone))
#else
#define NOINLINE	__attribute__((noinline))
#endif

static volatile uintptr_t ra;
static volatile int capture_line, call_line;

/* Records its call site in its caller, as a profiler would: the return
 * address minus one. */
NOINLINE static void
capture(void)
{
	ra = (uintptr_t)__builtin_return_address(0) - 1;
	__asm__ volatile("");
}

enum { INLINED_LINE = __LINE__ + 2 };
static inline __attribute__((always_inline)) int
inlined(int x)
{
	capture_line = __LINE__, capture();
	return x * 3;
}

int pp_test_outer(int);

enum { OUTER_LINE = __LINE__ + 2 };
NOINLINE int
pp_test_outer(int x)
{
	int r;

	call_line = __LINE__, r = inlined(x);
	return r + 1;
}

/* A C function under a C++ name, to be demangled. */
int pp_test_mangled(int) __asm__("_ZN2pp4test7mangledEi");

NOINLINE int
pp_test_mangled(int x)
{
	return x ^ 0x55;
}

/* Test scaffolding. */

struct map {
	uint64_t start, limit, offset;
	char path[PATH_MAX];
};

/* The line of /proc/self/maps that holds addr. */
static int
find_map(uintptr_t addr, struct map *m)
{
	unsigned long long s, e, o;
	char line[PATH_MAX + 128], perms[8];
	FILE *f;
	int pos, found = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		pos = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms,
		    &o, &pos) < 4 || pos == 0 || addr < s || addr >= e)
			continue;
		line[strcspn(line, "\n")] = '\0';
		m->start = s;
		m->limit = e;
		m->offset = o;
		snprintf(m->path, sizeof(m->path), "%s", line + pos);
		found = 1;
	}
	fclose(f);
	return found;
}

struct note_search {
	uintptr_t addr;
	char hex[2 * 64 + 1];
	int found;
};

static int
note_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct note_search *ns = arg;
	const ElfW(Phdr) *ph;
	int i, here = 0;

	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD &&
		    ns->addr >= info->dlpi_addr + ph->p_vaddr &&
		    ns->addr < info->dlpi_addr + ph->p_vaddr + ph->p_memsz)
			here = 1;
	}
	if (!here)
		return 0;
	ns->found = 1;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const unsigned char *q, *end;

		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		q = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		end = q + ph->p_memsz;
		while (q + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)q;
			const unsigned char *name = q + sizeof(*nh);
			const unsigned char *desc = name +
			    ((nh->n_namesz + 3) & ~3u);
			size_t k;

			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= 64) {
				for (k = 0; k < nh->n_descsz; k++)
					sprintf(ns->hex + 2 * k, "%02x", desc[k]);
				return 1;
			}
			q = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;
}

/* The GNU build-id, in hex, of the loaded object that holds addr, as the
 * loader mapped it; "" if it has none. */
static const char *
build_id_at(uintptr_t addr, char *buf, size_t size)
{
	struct note_search ns;

	memset(&ns, 0, sizeof(ns));
	ns.addr = addr;
	dl_iterate_phdr(note_cb, &ns);
	snprintf(buf, size, "%s", ns.hex);
	return buf;
}

static int
mapped(const char *what)
{
	char line[PATH_MAX + 128];
	FILE *f;
	int found = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

static struct pp_mapping *
add_mapping(struct pp_profile *p, const struct map *m, const char *file,
    const char *build_id)
{
	struct pp_mapping *pm = pp_profile_add_mapping(p, p->nmapping + 1);

	if (pm == NULL)
		abort();
	pm->start = m->start;
	pm->limit = m->limit;
	pm->offset = m->offset;
	pm->file = pp_profile_intern_str(p, file);
	if (build_id != NULL)
		pm->build_id = pp_profile_intern_str(p, build_id);
	return pm;
}

static struct pp_location *
add_location(struct pp_profile *p, struct pp_mapping *m, uintptr_t addr)
{
	struct pp_location *l = pp_profile_add_location(p,
	    p->nlocation + 1, 0);

	if (l == NULL)
		abort();
	l->mapping = m;
	l->address = addr;
	return l;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const char *
name_at(const struct pp_location *l, size_t k)
{
	return k < l->nline ? l->line[k].function->name : "";
}

static void
show(const char *what, const struct pp_location *l)
{
	size_t k;

	printf("# %s %#llx:", what, (unsigned long long)l->address);
	for (k = 0; k < l->nline; k++)
		printf(" [%s (%s) %s:%lld:%lld start %lld]",
		    l->line[k].function->name,
		    l->line[k].function->system_name,
		    l->line[k].function->filename, (long long)l->line[k].line,
		    (long long)l->line[k].column,
		    (long long)l->line[k].function->start_line);
	printf("\n");
}

static void
test_self_and_libc(void)
{
	struct pp_profile *p;
	struct pp_mapping *mexe, *mlibc, *mnone, *mwrong, *mvdso;
	struct pp_location *linl, *linl2, *louter, *lcap, *lmalloc, *lnone;
	struct pp_location *lwrong, *lvdso;
	struct map exe, libc;
	struct pp_err e;
	char debug[PATH_MAX], id[2 * 64 + 1];
	void *h, *mallocp;
	size_t skipped = 99, k, nfunc, count;
	int r, first_ok;

	if ((p = pp_profile_new()) == NULL)
		abort();
	h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	mallocp = h != NULL ? dlsym(h, "malloc") : NULL;
	if (!find_map((uintptr_t)pp_test_outer, &exe) || mallocp == NULL ||
	    !find_map((uintptr_t)mallocp, &libc)) {
		printf("Bail out! cannot find this program's or libc's "
		    "mapping in /proc/self/maps\n");
		exit(1);
	}
	mexe = add_mapping(p, &exe, exe.path, NULL);
	mlibc = add_mapping(p, &libc, libc.path, NULL);
	mnone = add_mapping(p, &exe, "/nonexistent/pp-test/libnothing.so",
	    NULL);
	mnone->start += 0x40000000;
	mnone->limit += 0x40000000;
	mwrong = add_mapping(p, &exe, exe.path, "00112233445566778899");
	mvdso = add_mapping(p, &exe, "[vdso]", NULL);

	linl = add_location(p, mexe, ra);
	louter = add_location(p, mexe, (uintptr_t)pp_test_outer);
	lcap = add_location(p, mexe, (uintptr_t)capture);
	lmalloc = add_location(p, mlibc, (uintptr_t)mallocp);
	linl2 = add_location(p, mexe, ra);
	lnone = add_location(p, mnone, mnone->start + 0x100);
	lwrong = add_location(p, mwrong, ra);
	lvdso = add_location(p, mvdso, ra);

	memset(&e, 0, sizeof(e));
	r = pp_symbolize(p, 0, &skipped, &e);
	ok(r == 0, "pp_symbolize returns 0");
	show("inlined", linl);
	show("outer", louter);
	show("capture", lcap);
	show("malloc", lmalloc);

	ok(linl->nline == 2, "the call site in an inlined function has 2 lines");
	ok(strcmp(name_at(linl, 0), "inlined") == 0,
	    "line[0] is the inlined function");
	ok(strcmp(name_at(linl, 1), "pp_test_outer") == 0,
	    "line[1] is its caller");
	first_ok = linl->nline == 2;
	ok(first_ok && linl->line[0].line == capture_line,
	    "line[0]'s line is the call in the inlined function");
	ok(first_ok && linl->line[1].line == call_line,
	    "line[1]'s line is where it was inlined");
	ok(first_ok &&
	    ends_with(linl->line[0].function->filename, "/symbolize.c") &&
	    ends_with(linl->line[1].function->filename, "/symbolize.c"),
	    "the file names end with /symbolize.c");
	ok(first_ok && linl->line[0].function->filename[0] == '/',
	    "a file name relative to the compilation directory is made "
	    "absolute");
	ok(first_ok && linl->line[0].function->start_line == INLINED_LINE &&
	    linl->line[1].function->start_line == OUTER_LINE,
	    "start lines are the functions' declarations");
	ok(first_ok && strcmp(linl->line[0].function->system_name,
	    "inlined") == 0, "a C function's system name is its name");

	ok(louter->nline == 1 &&
	    strcmp(name_at(louter, 0), "pp_test_outer") == 0,
	    "a function's entry is the function, not inlined");
	/* With -O2 the entry is the first statement's, not the brace's. */
	ok(louter->nline == 1 && louter->line[0].line >= OUTER_LINE &&
	    louter->line[0].line <= call_line,
	    "a function's entry is at its first lines");
	ok(lcap->nline == 1 && strcmp(name_at(lcap, 0), "capture") == 0,
	    "a static function is named");

	ok(linl2->nline == 2 && first_ok &&
	    linl2->line[0].function == linl->line[0].function &&
	    linl2->line[1].function == linl->line[1].function &&
	    linl2->line[0].line == linl->line[0].line,
	    "an address twice gets the same functions and lines");
	for (k = 0, count = 0; k < p->nfunction; k++)
		count += strcmp(p->function[k]->name, "inlined") == 0;
	ok(count == 1, "functions are shared");

	ok(lmalloc->nline >= 1 &&
	    strstr(name_at(lmalloc, lmalloc->nline - 1), "malloc") != NULL,
	    "malloc in libc is named ...malloc...");
	ok(strcmp(mexe->build_id, build_id_at((uintptr_t)pp_test_outer, id,
	    sizeof(id))) == 0, "this program's build-id is filled in");
	printf("# build-id '%s'\n", id);
	ok(strcmp(mlibc->build_id, build_id_at((uintptr_t)mallocp, id,
	    sizeof(id))) == 0 && *id != '\0', "libc's build-id is filled in");
	snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug",
	    mlibc->build_id, mlibc->build_id + 2);
	if (access(debug, R_OK) == 0)
		ok(lmalloc->nline >= 1 && lmalloc->line[0].line > 0 &&
		    ends_with(lmalloc->line[0].function->filename, ".c") &&
		    mlibc->has_line_numbers,
		    "libc's lines come from its separate debug file");
	else
		skip("libc's lines come from its separate debug file",
		    "libc's debug file is not installed");
	ok(mexe->has_functions && mexe->has_filenames &&
	    mexe->has_line_numbers && mexe->has_inline_frames,
	    "this program's mapping has functions, files, lines, inlines");
	ok(mlibc->has_functions, "libc's mapping has functions");

	ok(skipped == 2, "a missing file and a wrong build-id are skipped");
	printf("# skipped %zu\n", skipped);
	ok(lnone->nline == 0 && !mnone->has_functions &&
	    *mnone->build_id == '\0', "a missing file's location is untouched");
	ok(lwrong->nline == 0 &&
	    strcmp(mwrong->build_id, "00112233445566778899") == 0,
	    "a mismatched build-id's location is untouched");
	ok(lvdso->nline == 0, "[vdso] is left alone");

	nfunc = p->nfunction;
	r = pp_symbolize(p, 0, &skipped, NULL);
	ok(r == 0 && p->nfunction == nfunc && linl->nline == 2 &&
	    skipped == 2, "a second pass changes nothing");
	pp_profile_free(p);
}

static int
run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Symbolizes ra (the inlined call site) in file, a copy of this program
 * mapped as exe is; returns its number of lines, and the mapping's
 * has_line_numbers in *lines. */
static size_t
lines_in(const char *file, const struct map *exe, int *lines)
{
	struct pp_profile *p;
	struct pp_mapping *m;
	struct pp_location *l;
	size_t skipped = 99, nline;

	if ((p = pp_profile_new()) == NULL)
		abort();
	m = add_mapping(p, exe, file, NULL);
	l = add_location(p, m, ra);
	if (pp_symbolize(p, lines_flags, &skipped, NULL) != 0 || skipped != 0)
		abort();
	show(file, l);
	nline = l->nline;
	*lines = m->has_line_numbers;
	pp_profile_free(p);
	return nline;
}

/* Separate debug files found by .gnu_debuglink, in DIR/.debug/ checked by
 * build-id, and next to the file checked by CRC. */
static void
test_debuglink(const char *dir, const struct map *exe)
{
	char file[PATH_MAX + 16];
	int lines;

	if (run("mkdir '%s/.debug' && "
	    "objcopy --only-keep-debug '%s' '%s/.debug/withid.debug' && "
	    "objcopy --strip-debug --add-gnu-debuglink='%s/.debug/withid.debug'"
	    " '%s' '%s/withid'", dir, exe->path, dir, dir, exe->path,
	    dir) != 0) {
		skip("a debug file by .gnu_debuglink", "objcopy failed");
		return;
	}
	snprintf(file, sizeof(file), "%s/withid", dir);
	ok(lines_in(file, exe, &lines) == 2 && lines,
	    "DIR/.debug/LINK is found, checked by build-id");
	lines_flags = PP_SYMBOLIZE_SYSTEM_NAMES;
	ok(lines_in(file, exe, &lines) == 2 && lines,
	    "with PP_SYMBOLIZE_SYSTEM_NAMES, DIR/.debug/LINK is read too");
	lines_flags = 0;

	/* objcopy warns about the notes it cannot place in nobid.debug. */
	if (run("(cd '%s' && "
	    "objcopy --remove-section=.note.gnu.build-id '%s' nobid && "
	    "objcopy --only-keep-debug nobid nobid.debug && "
	    "objcopy --strip-debug --add-gnu-debuglink=nobid.debug nobid crc"
	    ") 2>/dev/null", dir, exe->path) != 0) {
		skip("a debug file by .gnu_debuglink, no build-id",
		    "objcopy failed");
		return;
	}
	snprintf(file, sizeof(file), "%s/crc", dir);
	ok(lines_in(file, exe, &lines) == 2 && lines,
	    "DIR/LINK is found, checked by CRC when there is no build-id");
	if (run("echo >>'%s/nobid.debug'", dir) != 0)
		abort();
	ok(lines_in(file, exe, &lines) == 1 && !lines,
	    "a debug file with the wrong CRC is not used (names only)");
}

static void
test_stripped(void)
{
	char dir[PATH_MAX], copy[PATH_MAX + 16], url[64], id[2 * 64 + 1];
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_in sin;
	struct pp_profile *p;
	struct pp_mapping *m;
	struct pp_location *lout, *lmangled, *lcap;
	struct map exe;
	socklen_t len = sizeof(sin);
	size_t skipped = 99;
	int fd, r, c;

	if (dlsym(RTLD_DEFAULT, "pp_test_outer") == NULL) {
		skip("a stripped copy is named from .dynsym",
		    "not linked with -rdynamic");
		return;
	}
	if (!find_map((uintptr_t)pp_test_outer, &exe))
		abort();
	snprintf(dir, sizeof(dir), "%s/pp-symbolize.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(copy, sizeof(copy), "%s/stripped", dir);
	if (run("objcopy --strip-all '%s' '%s'", exe.path, copy) != 0) {
		skip("a stripped copy is named from .dynsym",
		    "objcopy --strip-all failed");
		return;
	}

	/* A debuginfod server that would be asked for the copy's missing
	 * debug file: it must never see a connection. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		abort();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sin.sin_port));
	setenv("DEBUGINFOD_URLS", url, 1);
	setenv("DEBUGINFOD_TIMEOUT", "2", 1);
	setenv("DEBUGINFOD_CACHE_PATH", dir, 1);

	if ((p = pp_profile_new()) == NULL)
		abort();
	m = add_mapping(p, &exe, copy, NULL);
	lout = add_location(p, m, (uintptr_t)pp_test_outer + 1);
	lmangled = add_location(p, m, (uintptr_t)pp_test_mangled);
	lcap = add_location(p, m, (uintptr_t)capture);
	r = pp_symbolize(p, 0, &skipped, NULL);
	show("stripped outer", lout);
	show("stripped mangled", lmangled);
	show("stripped capture", lcap);
	ok(r == 0 && skipped == 0, "a stripped copy is symbolized");
	ok(lout->nline == 1 && strcmp(name_at(lout, 0), "pp_test_outer") == 0,
	    "an exported function is named from .dynsym");
	ok(lout->nline == 1 && lout->line[0].line == 0 &&
	    *lout->line[0].function->filename == '\0',
	    "without lines or files");
	ok(lmangled->nline == 1 &&
	    strcmp(name_at(lmangled, 0), "pp::test::mangled(int)") == 0 &&
	    strcmp(lmangled->line[0].function->system_name,
	    "_ZN2pp4test7mangledEi") == 0,
	    "a C++ name is demangled, the system name kept");
	ok(lcap->nline == 0 && lcap->address == (uintptr_t)capture,
	    "a static function resolves to nothing and keeps its address");
	ok(strcmp(m->build_id, build_id_at((uintptr_t)pp_test_outer, id,
	    sizeof(id))) == 0 && m->has_functions && !m->has_line_numbers &&
	    !m->has_inline_frames,
	    "the copy's build-id is filled in, it has functions only");
	pp_profile_free(p);

	test_debuglink(dir, &exe);

	/* As clang writes it: libdwfl alone would find no CU. */
	snprintf(copy, sizeof(copy), "%s/noaranges", dir);
	if (run("objcopy --remove-section=.debug_aranges '%s' '%s'",
	    exe.path, copy) == 0)
		ok(lines_in(copy, &exe, &c) == 2 && c,
		    "without .debug_aranges, lines and inlines are found");
	else
		skip("without .debug_aranges, lines and inlines are found",
		    "objcopy failed");

	c = accept(fd, NULL, NULL);
	ok(c < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "debuginfod is not asked");
	ok(!mapped("libdebuginfod"), "libdebuginfod is not even loaded");
	if (c >= 0)
		close(c);
	close(fd);
	if (run("rm -rf '%s'", dir) != 0)
		printf("# cannot remove %s\n", dir);
}

/* PP_SYMBOLIZE_SYSTEM_NAMES: this program's own DWARF is read, libc's
 * separate debug file under /usr/lib/debug gives names only. */
static void
test_system_names(void)
{
	struct pp_profile *p;
	struct pp_mapping *mexe, *mlibc;
	struct pp_location *linl, *lmalloc, *lstart;
	struct map exe, libc;
	char debug[PATH_MAX];
	void *h, *mallocp, *startp;
	size_t skipped = 99;
	int r;

	if ((p = pp_profile_new()) == NULL)
		abort();
	h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	mallocp = h != NULL ? dlsym(h, "malloc") : NULL;
	startp = h != NULL ? dlsym(h, "__libc_start_main") : NULL;
	if (!find_map((uintptr_t)pp_test_outer, &exe) || mallocp == NULL ||
	    startp == NULL || !find_map((uintptr_t)mallocp, &libc)) {
		printf("Bail out! cannot find this program's or libc's "
		    "mapping in /proc/self/maps\n");
		exit(1);
	}
	mexe = add_mapping(p, &exe, exe.path, NULL);
	mlibc = add_mapping(p, &libc, libc.path, NULL);
	linl = add_location(p, mexe, ra);
	lmalloc = add_location(p, mlibc, (uintptr_t)mallocp);
	lstart = add_location(p, mlibc, (uintptr_t)startp + 1);
	r = pp_symbolize(p, PP_SYMBOLIZE_SYSTEM_NAMES, &skipped, NULL);
	ok(r == 0 && skipped == 0,
	    "pp_symbolize with PP_SYMBOLIZE_SYSTEM_NAMES returns 0");
	show("system names: inlined", linl);
	show("system names: malloc", lmalloc);
	show("system names: __libc_start_main + 1", lstart);
	ok(linl->nline == 2 && linl->line[0].line == capture_line &&
	    strcmp(name_at(linl, 0), "inlined") == 0 &&
	    mexe->has_line_numbers && mexe->has_inline_frames,
	    "with system names, this program still has lines and inlines");
	ok(lmalloc->nline >= 1 &&
	    strstr(name_at(lmalloc, lmalloc->nline - 1), "malloc") != NULL,
	    "with system names, malloc in libc is named ...malloc...");
	ok(lstart->nline == 1 && strstr(name_at(lstart, 0),
	    "__libc_start_main") == name_at(lstart, 0) &&
	    strchr(name_at(lstart, 0), '@') == NULL,
	    "a versioned symbol is named without its @VERSION");
	snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug",
	    mlibc->build_id, mlibc->build_id + 2);
	if (access(debug, R_OK) == 0)
		ok(lmalloc->nline == 1 && lmalloc->line[0].line == 0 &&
		    *lmalloc->line[0].function->filename == '\0' &&
		    mlibc->has_functions && !mlibc->has_line_numbers &&
		    !mlibc->has_inline_frames,
		    "with system names, libc's debug file gives names only");
	else
		skip("with system names, libc's debug file gives names only",
		    "libc's debug file is not installed");
	pp_profile_free(p);
}

int
main(void)
{
	if (pp_test_outer(4) != 13 || pp_test_mangled(1) != 0x54)
		abort();
	test_self_and_libc();
	test_system_names();
	test_stripped();
	printf("1..%d\n", n);
	/* Before LeakSanitizer, which ends the process without flushing. */
	fflush(stdout);
	return failed;
}
