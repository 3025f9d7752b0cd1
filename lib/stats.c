#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "stats.h"
#include "units.h"

/* What a function is. */
enum {
	FN_ALLOC = 1,
	FN_GC = 2,
	FN_GO = 4,		/* only Go programs have it */
};

/* What a location holds, computed when a sample first needs it. */
enum {
	LOC_DONE = 1,
	LOC_LEAF_ALLOC = 2,	/* its innermost line is the allocator */
	LOC_ALLOC = 4,		/* some line is */
	LOC_GC = 8,		/* some line is the collector (Go) */
};

/* The lists below are sorted (strcmp) for bsearch; stats.h says why each
 * name is there. */
static const char *const c_alloc[] = {
	"__libc_calloc", "__libc_free", "__libc_malloc", "__libc_malloc_impl",
	"__libc_memalign", "__libc_pvalloc", "__libc_realloc",
	"__libc_reallocarray", "__libc_valloc", "__malloc_alloc_meta",
	"__malloc_donate", "__malloc_trim", "__malloc_usable_size",
	"__posix_memalign", "__simple_malloc", "_int_free", "_int_free_chunk",
	"_int_free_create_chunk", "_int_free_maybe_consolidate",
	"_int_free_merge_chunk", "_int_malloc", "_int_memalign",
	"_int_new_arena", "_int_realloc", "_mid_memalign", "aligned_alloc",
	"alloc_new_heap", "alloc_perturb", "arena_get2", "arena_get_retry",
	"calloc", "cfree", "dallocx", "free", "free_perturb", "get_free_list",
	"grow_heap", "heap_trim", "malloc", "malloc_consolidate",
	"malloc_printerr", "malloc_trim", "malloc_usable_size", "mallocx",
	"memalign", "mremap_chunk", "mtrim", "munmap_chunk", "musable",
	"nallocx", "new_heap", "posix_memalign", "ptmalloc_init", "pvalloc",
	"rallocx", "realloc", "reallocarray", "reused_arena", "sallocx",
	"sdallocx", "shrink_heap", "sysmalloc", "sysmalloc_mmap",
	"sysmalloc_mmap_fallback", "systrim", "unlink_chunk", "valloc",
	"xallocx",
};

static const char *const c_alloc_prefix[] = {
	"je_", "_rjem_", "tcache_",
	"tc_malloc", "tc_free", "tc_calloc", "tc_realloc", "tc_cfree",
	"tc_memalign", "tc_posix_memalign", "tc_pvalloc", "tc_valloc",
	"tc_new", "tc_delete", "tcmalloc::", "_ZN8tcmalloc",
	"mi_malloc", "mi_free", "mi_calloc", "mi_zalloc", "mi_realloc",
	"mi_rezalloc", "mi_recalloc", "mi_expand", "mi_cfree", "mi_new",
	"mi_heap_", "mi_usable_size", "mi_posix_memalign", "mi_aligned_alloc",
	"mi_memalign", "mi_valloc", "mi_pvalloc", "_mi_",
	"_Znw", "_Zna", "_Zdl", "_Zda",
};

/* Without "runtime.", and without a closure's ".funcN". */
static const char *const go_alloc[] = {
	"(*mcache).allocLarge", "(*mcache).nextFree", "(*mcache).refill",
	"(*mcentral).cacheSpan", "(*mcentral).grow", "(*mheap).alloc",
	"(*mheap).allocSpan", "(*mheap).allocSpanLocked",
	"(*mspan).initHeapBits", "(*mspan).nextFreeIndex",
	"(*mspan).refillAllocCache", "(*pageAlloc).alloc",
	"(*pageCache).alloc", "heapBits.initSpan", "largeAlloc", "makeslice",
	"newarray", "newobject", "nextFreeFast", "profilealloc",
};

static const char *const go_gc[] = {
	"(*mheap).reclaim", "(*mspan).sweep", "(*pageAlloc).scavenge",
	"(*scavengerState).run", "(*sweepLocked).sweep", "GC", "bgscavenge",
	"bgsweep", "deductSweepCredit", "gcAssistAlloc", "gcAssistAlloc1",
	"gcBgMarkWorker", "gcDrain", "gcDrainMarkWorkerDedicated",
	"gcDrainMarkWorkerFractional", "gcDrainMarkWorkerIdle", "gcDrainN",
	"gcMarkDone", "gcMarkTermination", "gcStart", "gcSweep", "markroot",
	"markrootBlock", "markrootSpans", "scanblock", "scanobject",
	"scanstack", "sweepone", "wbBufFlush", "wbBufFlush1",
};

static const char *const go_roots[] = {
	"goexit", "main", "mcall", "morestack", "mstart", "rt0_go",
	"systemstack",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool
in(const char *name, const char *const *list, size_t n)
{
	return bsearch(name, list, n, sizeof(*list), cmp_name) != NULL;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "operator new", "operator delete[]" ..., then '(', '[' or the end. */
static bool
cxx_operator(const char *name)
{
	const char *ops[] = { "operator new", "operator delete" };
	size_t i, n;

	for (i = 0; i < NELEM(ops); i++) {
		n = strlen(ops[i]);
		if (strncmp(name, ops[i], n) == 0 &&
		    (name[n] == '\0' || name[n] == '(' || name[n] == '['))
			return true;
	}
	return false;
}

/* The length of name without a symbol version ("@@GLIBC_2.2.5") or the
 * suffix of a compiler's clone ("malloc_consolidate.part.0", ".isra.0",
 * ".cold"): "malloc.Foo" (Go's package malloc) keeps its dot. */
static size_t
c_key_len(const char *name)
{
	static const char *const clones[] = {
		"part", "isra", "constprop", "cold", "lto_priv", "localalias",
		"clone", "llvm",
	};
	size_t n = strcspn(name, "@"), i, k;
	const char *dot;

	for (dot = name; (dot = memchr(dot, '.', n - (size_t)(dot - name))) !=
	    NULL; dot++)
		for (i = 0; i < NELEM(clones); i++) {
			k = strlen(clones[i]);
			if (strncmp(dot + 1, clones[i], k) == 0 &&
			    (dot[k + 1] == '\0' || dot[k + 1] == '.' ||
			    dot[k + 1] == '@'))
				return (size_t)(dot - name);
		}
	return n;
}

static unsigned
classify_c(const char *name)
{
	char key[64];
	size_t n, i;

	if (cxx_operator(name))
		return FN_ALLOC;
	for (i = 0; i < NELEM(c_alloc_prefix); i++)
		if (has_prefix(name, c_alloc_prefix[i]))
			return FN_ALLOC;
	n = c_key_len(name);
	if (n >= sizeof(key))
		return 0;
	memcpy(key, name, n);
	key[n] = '\0';
	return in(key, c_alloc, NELEM(c_alloc)) ? FN_ALLOC : 0;
}

/* Go: "runtime.X" with a closure's ".funcN[.M...]" cut off. */
static unsigned
classify_go(const char *name)
{
	char key[96];
	const char *p;
	size_t n;

	if (!has_prefix(name, "runtime."))
		return 0;
	name += 8;
	n = strlen(name);
	if ((p = strstr(name, ".func")) != NULL) {
		const char *q = p + 5;

		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q) ||
			    (*q == '.' && isdigit((unsigned char)q[1])))
				q++;
			if (*q == '\0')
				n = (size_t)(p - name);
		}
	}
	if (n >= sizeof(key))
		return 0;
	memcpy(key, name, n);
	key[n] = '\0';
	if (in(key, go_gc, NELEM(go_gc)))
		return FN_GC | FN_GO;
	if (in(key, go_alloc, NELEM(go_alloc)) || has_prefix(key, "mallocgc"))
		return FN_ALLOC | FN_GO;
	if (in(key, go_roots, NELEM(go_roots)))
		return FN_GO;
	return 0;
}

/*
 * System libraries.
 */

static bool
multiarch(const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	/* ARCH-linux-ABI: x86_64-linux-gnu, arm-linux-gnueabihf ... */
	return dash && dash > s && n - (size_t)(dash - s) > 7 &&
	    strncmp(dash, "-linux-", 7) == 0;
}

static bool
system_dir(const char *d, size_t n)
{
	static const char *const dirs[] = {
		"/lib", "/lib32", "/lib64", "/libx32", "/usr/lib",
		"/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/local/lib",
		"/usr/local/lib64",
	};
	static const char *const parents[] = {
		"/lib/", "/usr/lib/", "/usr/local/lib/",
	};
	size_t i, k;

	for (i = 0; i < NELEM(dirs); i++)
		if (strlen(dirs[i]) == n && memcmp(d, dirs[i], n) == 0)
			return true;
	for (i = 0; i < NELEM(parents); i++) {
		k = strlen(parents[i]);
		if (n > k && memcmp(d, parents[i], k) == 0 &&
		    multiarch(d + k, n - k))
			return true;
	}
	return false;
}

int
pp_stats_library(const char *path, char *buf, size_t size)
{
	static const char deleted[] = " (deleted)";
	const char *base, *end, *so, *p;
	size_t n, i;

	if (path == NULL || path[0] != '/' || (base = strrchr(path, '/')) ==
	    NULL || !system_dir(path, (size_t)(base - path)))
		return 0;
	base++;
	/* A library replaced by an upgrade while the program ran. */
	end = base + strlen(base);
	if ((size_t)(end - base) > sizeof(deleted) - 1 &&
	    strcmp(end - (sizeof(deleted) - 1), deleted) == 0)
		end -= sizeof(deleted) - 1;
	for (p = base; p < end; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._+-", *p))
			return 0;
	/* NAME.so or NAME.so.VERSION */
	for (so = base; (so = strstr(so, ".so")) != NULL && so < end; so++)
		if (so + 3 == end || so[3] == '.')
			break;
	if (so == NULL || so >= end || so == base)
		return 0;
	n = (size_t)(so - base);
	/* NAME-X.Y: libc-2.31.so */
	for (i = n; i > 0 && (isdigit((unsigned char)base[i - 1]) ||
	    base[i - 1] == '.'); i--)
		;
	if (i > 1 && i < n && base[i - 1] == '-' &&
	    isdigit((unsigned char)base[i]) && memchr(base + i, '.', n - i))
		n = i - 1;
	if (n + 1 > size)
		return 0;
	memcpy(buf, base, n);
	buf[n] = '\0';
	return 1;
}

/*
 * The summary.
 */

struct stats_lib {
	const char *name;
	int64_t cpu;
	size_t index;		/* in pp_stats.lib */
	size_t owners;		/* with time in it */
};

struct stats_fn {
	const char *name;	/* in the library */
	size_t lib;
	int64_t cpu;
};

struct pp_stats {
	size_t min_owners;
	size_t profiles, go_profiles, left_out;
	int64_t cpu, go_cpu, alloc_self, alloc_total, gc;
	struct stats_lib *lib;
	size_t nlib, caplib;
	struct stats_fn *fn;
	size_t nfn, capfn;
	struct pp_arena arena;
	struct pp_strset names;
	struct pp_u64map libs;	/* interned name -> index + 1 */
	struct pp_u64map fns;	/* interned "lib\0function" -> index + 1 */
	struct pp_u64map owners;	/* interned owner -> index + 1 */
	struct pp_u64map lib_owners;	/* (library index + 1) << 32 | owner
					 * index: that owner has time in it */
};

struct pp_stats *
pp_stats_new(size_t min_owners)
{
	struct pp_stats *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->min_owners = min_owners;
	pp_arena_init(&s->arena);
	pp_strset_init(&s->names);
	pp_u64map_init(&s->libs);
	pp_u64map_init(&s->fns);
	pp_u64map_init(&s->owners);
	pp_u64map_init(&s->lib_owners);
	return s;
}

void
pp_stats_free(struct pp_stats *s)
{
	if (s == NULL)
		return;
	free(s->lib);
	free(s->fn);
	pp_u64map_release(&s->libs);
	pp_u64map_release(&s->fns);
	pp_u64map_release(&s->owners);
	pp_u64map_release(&s->lib_owners);
	pp_strset_release(&s->names);
	pp_arena_release(&s->arena);
	free(s);
}

size_t
pp_stats_profiles(const struct pp_stats *s)
{
	return s->profiles;
}

size_t
pp_stats_left_out(const struct pp_stats *s)
{
	return s->left_out;
}

#define NAME_MAX_BYTES	200

/* Appends name to b as at most NAME_MAX_BYTES of printable UTF-8, '?' for
 * anything else: the table goes to terminals, JSON needs UTF-8. */
static void
add_clean(struct pp_buf *b, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name), i = 0, out = 0, k;

	while (i < n) {
		k = pp_utf8_char(p + i, n - i);
		if (out + (k ? k : 1) > NAME_MAX_BYTES)
			break;
		if (k) {
			pp_buf_add(b, p + i, k);
			i += k;
			out += k;
		} else {
			pp_buf_addc(b, '?');
			i++;
			out++;
		}
	}
}

/* The index of library name (added when new), or -1 when out of memory. */
static ssize_t
lib_index(struct pp_stats *s, const char *name)
{
	const char *key = pp_strset_intern(&s->names, &s->arena, name,
	    strlen(name));
	uint64_t *v;

	if (key == NULL)
		return -1;
	if ((v = pp_u64map_get(&s->libs, (uintptr_t)key)) != NULL)
		return (ssize_t)(*v - 1);
	if (pp_grow(&s->lib, &s->caplib, s->nlib + 1, sizeof(*s->lib)) < 0 ||
	    pp_u64map_put(&s->libs, (uintptr_t)key, s->nlib + 1, NULL) < 0)
		return -1;
	s->lib[s->nlib].name = key;
	s->lib[s->nlib].cpu = 0;
	s->lib[s->nlib].index = s->nlib;
	s->lib[s->nlib].owners = 0;
	return (ssize_t)s->nlib++;
}

/* The index of owner (added when new), or -1 when out of memory. */
static ssize_t
owner_index(struct pp_stats *s, const char *owner)
{
	const char *key = pp_strset_intern(&s->names, &s->arena, owner,
	    strlen(owner));
	uint64_t *v;
	size_t n = s->owners.n;

	if (key == NULL)
		return -1;
	if ((v = pp_u64map_get(&s->owners, (uintptr_t)key)) != NULL)
		return (ssize_t)(*v - 1);
	if (pp_u64map_put(&s->owners, (uintptr_t)key, n + 1, NULL) < 0)
		return -1;
	return (ssize_t)n;
}

/* Counts owner among those with time in library lib. Returns 0 or
 * PP_ENOMEM. */
static int
lib_owner(struct pp_stats *s, size_t lib, size_t owner)
{
	bool fresh;

	/* Not 0, which the map cannot hold. */
	if (pp_u64map_put(&s->lib_owners, (uint64_t)(lib + 1) << 32 | owner,
	    1, &fresh) < 0)
		return PP_ENOMEM;
	if (fresh)
		s->lib[lib].owners++;
	return 0;
}

/* The index of function name of library lib (added when new), or -1 when
 * out of memory. */
static ssize_t
fn_index(struct pp_stats *s, size_t lib, const char *name)
{
	const char *libname = s->lib[lib].name, *key;
	size_t nl = strlen(libname);
	struct pp_buf b;
	uint64_t *v;

	pp_buf_init(&b);
	pp_buf_add(&b, libname, nl + 1);
	if (name == NULL || *name == '\0')
		pp_buf_adds(&b, "[unknown]");
	else
		add_clean(&b, name);
	key = b.oom ? NULL : pp_strset_intern(&s->names, &s->arena, b.data,
	    b.len);
	pp_buf_release(&b);
	if (key == NULL)
		return -1;
	if ((v = pp_u64map_get(&s->fns, (uintptr_t)key)) != NULL)
		return (ssize_t)(*v - 1);
	if (pp_grow(&s->fn, &s->capfn, s->nfn + 1, sizeof(*s->fn)) < 0 ||
	    pp_u64map_put(&s->fns, (uintptr_t)key, s->nfn + 1, NULL) < 0)
		return -1;
	s->fn[s->nfn].name = key + nl + 1;
	s->fn[s->nfn].lib = lib;
	s->fn[s->nfn].cpu = 0;
	return (ssize_t)s->nfn++;
}

/* One profile being added. */
struct adding {
	struct pp_stats *s;
	const struct pp_profile *p;
	bool go;
	unsigned char *loc;		/* LOC_* by location index */
	ssize_t *leaf_fn;		/* stats_fn of a leaf location, or -1 */
	struct pp_u64map fnclass;	/* function -> FN_* + 1 */
	struct pp_u64map maplib;	/* mapping -> library + 2, 1: none */
};

static int
fn_class(struct adding *a, const struct pp_function *f, unsigned *out)
{
	uint64_t *v = pp_u64map_get(&a->fnclass, (uintptr_t)f);
	unsigned c;

	if (v != NULL) {
		*out = (unsigned)(*v - 1);
		return 0;
	}
	c = classify_go(f->name);
	if (!a->go)
		c = 0;
	c |= classify_c(f->name);
	if (pp_u64map_put(&a->fnclass, (uintptr_t)f, c + 1, NULL) < 0)
		return PP_ENOMEM;
	*out = c;
	return 0;
}

static int
loc_class(struct adding *a, const struct pp_location *l, unsigned *out)
{
	unsigned c = LOC_DONE, fc;
	size_t i;
	int rc;

	if (a->loc[l->index] & LOC_DONE) {
		*out = a->loc[l->index];
		return 0;
	}
	for (i = 0; i < l->nline; i++) {
		if ((rc = fn_class(a, l->line[i].function, &fc)) < 0)
			return rc;
		if (fc & FN_ALLOC)
			c |= LOC_ALLOC | (i == 0 ? LOC_LEAF_ALLOC : 0);
		if (fc & FN_GC)
			c |= LOC_GC;
	}
	a->loc[l->index] = (unsigned char)c;
	*out = c;
	return 0;
}

/* The stats_fn of leaf location l: -1 when not in a system library. */
static int
leaf_fn(struct adding *a, const struct pp_location *l, ssize_t *out)
{
	char name[256];
	uint64_t *v;
	ssize_t lib, fn;

	if (a->leaf_fn[l->index] != -2) {
		*out = a->leaf_fn[l->index];
		return 0;
	}
	*out = a->leaf_fn[l->index] = -1;
	if (l->mapping == NULL)
		return 0;
	if ((v = pp_u64map_get(&a->maplib, (uintptr_t)l->mapping)) != NULL) {
		lib = (ssize_t)*v - 2;
	} else {
		lib = -1;
		if (pp_stats_library(l->mapping->file, name, sizeof(name)) &&
		    (lib = lib_index(a->s, name)) < 0)
			return PP_ENOMEM;
		if (pp_u64map_put(&a->maplib, (uintptr_t)l->mapping,
		    (uint64_t)(lib + 2), NULL) < 0)
			return PP_ENOMEM;
	}
	if (lib < 0)
		return 0;
	fn = fn_index(a->s, (size_t)lib, l->nline ?
	    l->line[0].function->name : NULL);
	if (fn < 0)
		return PP_ENOMEM;
	*out = a->leaf_fn[l->index] = fn;
	return 0;
}

static bool
is_go(const struct pp_profile *p)
{
	size_t i;

	for (i = 0; i < p->nfunction; i++)
		if (classify_go(p->function[i]->name) & FN_GO)
			return true;
	return false;
}

static int
find_type(const struct pp_profile *p, const char *type, const char *unit)
{
	size_t i;

	for (i = 0; i < p->nsample_type; i++)
		if (strcmp(p->sample_type[i].type, type) == 0 &&
		    strcmp(p->sample_type[i].unit, unit) == 0)
			return (int)i;
	return -1;
}

/* The CPU time of sample i in *v (0 when not positive). false when it
 * does not fit in int64. */
static bool
sample_cpu(const struct pp_profile *p, int si, int64_t mul, size_t i,
    int64_t *v)
{
	int64_t x = p->sample[i]->value[si];

	*v = 0;
	if (x <= 0)
		return true;
	return !__builtin_mul_overflow(x, mul, v);
}

/* p is counted, but its time is not. */
static int
leave_out(struct pp_stats *s)
{
	s->profiles++;
	s->left_out++;
	return 1;
}

int
pp_stats_add(struct pp_stats *s, const struct pp_profile *p,
    const char *owner)
{
	struct adding a;
	int64_t total = 0, v, mul = 1;
	ssize_t who;
	size_t i, k;
	int si, rc;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.p = p;
	pp_u64map_init(&a.fnclass);
	pp_u64map_init(&a.maplib);
	if ((si = find_type(p, "cpu", "nanoseconds")) < 0) {
		si = find_type(p, "samples", "count");
		mul = p->period;
		if (si < 0 || mul <= 0 || !p->period_type.type ||
		    !p->period_type.unit ||
		    strcmp(p->period_type.type, "cpu") != 0 ||
		    strcmp(p->period_type.unit, "nanoseconds") != 0) {
			rc = leave_out(s);
			goto out;
		}
	}
	/* The whole profile's time first: every sum below is part of it,
	 * so none of them can overflow once this one fits. */
	for (i = 0; i < p->nsample; i++) {
		if (!sample_cpu(p, si, mul, i, &v) ||
		    __builtin_add_overflow(total, v, &total)) {
			rc = leave_out(s);
			goto out;
		}
	}
	if (__builtin_add_overflow(s->cpu, total, &v)) {
		rc = leave_out(s);
		goto out;
	}

	rc = PP_ENOMEM;
	if ((who = owner_index(s, owner)) < 0)
		goto out;
	a.go = is_go(p);
	if (p->nlocation && (!(a.loc = calloc(p->nlocation, 1)) ||
	    !(a.leaf_fn = malloc(p->nlocation * sizeof(*a.leaf_fn)))))
		goto out;
	for (i = 0; i < p->nlocation; i++)
		a.leaf_fn[i] = -2;	/* not looked up yet */
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *smp = p->sample[i];
		unsigned any = 0, c, leaf = 0;
		ssize_t fn;

		sample_cpu(p, si, mul, i, &v);
		if (v == 0 || smp->nlocation == 0)
			continue;
		for (k = 0; k < smp->nlocation; k++) {
			if ((rc = loc_class(&a, smp->location[k], &c)) < 0)
				goto out;
			any |= c;
			if (k == 0)
				leaf = c;
		}
		/* The collector first: an assist under mallocgc is GC. */
		if (any & LOC_GC) {
			s->gc += v;
		} else if (any & LOC_ALLOC) {
			s->alloc_total += v;
			if (leaf & LOC_LEAF_ALLOC)
				s->alloc_self += v;
		}
		if ((rc = leaf_fn(&a, smp->location[0], &fn)) < 0)
			goto out;
		if (fn >= 0) {
			s->fn[fn].cpu += v;
			s->lib[s->fn[fn].lib].cpu += v;
			if ((rc = lib_owner(s, s->fn[fn].lib, (size_t)who)) < 0)
				goto out;
		}
	}
	s->cpu += total;
	s->profiles++;
	if (a.go) {
		s->go_profiles++;
		s->go_cpu += total;
	}
	rc = 0;
out:
	free(a.loc);
	free(a.leaf_fn);
	pp_u64map_release(&a.fnclass);
	pp_u64map_release(&a.maplib);
	return rc;
}

/*
 * From the store.
 */

struct ids {
	uint64_t *id;
	size_t n, cap;
};

static int
collect(const struct pp_store_rec *r, void *arg)
{
	struct ids *ids = arg;

	if (pp_grow(&ids->id, &ids->cap, ids->n + 1, sizeof(*ids->id)) < 0)
		return PP_ENOMEM;
	ids->id[ids->n++] = r->id;
	return 0;
}

int
pp_stats_add_store(struct pp_stats *s, struct pp_store *st,
    const struct pp_store_filter *f, struct pp_err *e)
{
	struct pp_store_filter cf = *f;
	struct ids ids = { NULL, 0, 0 };
	struct pp_store_rec rec;
	struct pp_profile *p = NULL;
	struct pp_err de = { 0 };
	void *data = NULL;
	size_t len, i;
	char id[17];
	int rc;

	cf.type = "cpu";
	/* The ids first: no cursor stays open while profiles are read. */
	if ((rc = pp_store_select(st, &cf, collect, &ids, e)) < 0) {
		if (rc == PP_ENOMEM)
			pp_err_set(e, rc, "out of memory");
		goto out;
	}
	for (i = 0; i < ids.n; i++) {
		rc = pp_store_get(st, NULL, ids.id[i], &data, &len, &rec, e);
		if (rc == PP_ENOTFOUND)
			continue;	/* expired meanwhile */
		if (rc < 0)
			goto out;
		rc = pp_profile_decode(data, len, NULL, &p, &de);
		free(data);
		data = NULL;
		if (rc < 0) {
			pp_store_id_str(ids.id[i], id);
			rc = pp_err_set(e, rc, "stored profile %s: %s", id,
			    pp_err_msg(&de, rc));
			goto out;
		}
		rc = pp_stats_add(s, p, rec.owner);
		pp_profile_free(p);
		p = NULL;
		if (rc < 0) {
			rc = pp_err_set(e, rc, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(data);
	pp_profile_free(p);
	free(ids.id);
	return rc;
}

/*
 * Output. Only what struct pp_stats holds is written: counts, times, and
 * the names of system libraries and their functions.
 */

static int
cmp_lib(const void *x, const void *y)
{
	const struct stats_lib *a = x, *b = y;

	if (a->cpu != b->cpu)
		return a->cpu > b->cpu ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* By library (its rank in the output), then by CPU time, then name. */
static int
cmp_fn(const void *x, const void *y)
{
	const struct stats_fn *a = x, *b = y;

	if (a->lib != b->lib)
		return a->lib < b->lib ? -1 : 1;
	if (a->cpu != b->cpu)
		return a->cpu > b->cpu ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The libraries and functions sorted for output; fn[lib_start[i] ..
 * lib_start[i + 1]) are those of lib[i], and their lib is i. Libraries
 * of too few owners are not shown but summed into the other row. */
struct sorted {
	struct stats_lib *lib;
	struct stats_fn *fn;
	size_t *lib_start;
	bool *shown;		/* by rank */
	size_t nother;
	int64_t other_cpu;
};

static void
sorted_release(struct sorted *o)
{
	free(o->lib);
	free(o->fn);
	free(o->lib_start);
	free(o->shown);
}

static int
sort_output(const struct pp_stats *s, struct sorted *o)
{
	size_t *rank = NULL, i, k;
	int rc = PP_ENOMEM;

	memset(o, 0, sizeof(*o));
	if (!(o->lib = calloc(s->nlib + 1, sizeof(*o->lib))) ||
	    !(o->fn = calloc(s->nfn + 1, sizeof(*o->fn))) ||
	    !(o->lib_start = calloc(s->nlib + 1, sizeof(*o->lib_start))) ||
	    !(o->shown = calloc(s->nlib + 1, sizeof(*o->shown))) ||
	    !(rank = calloc(s->nlib + 1, sizeof(*rank))))
		goto out;
	if (s->nlib)
		memcpy(o->lib, s->lib, s->nlib * sizeof(*o->lib));
	qsort(o->lib, s->nlib, sizeof(*o->lib), cmp_lib);
	for (i = 0; i < s->nlib; i++) {
		rank[o->lib[i].index] = i;
		o->shown[i] = o->lib[i].owners >= s->min_owners;
		if (!o->shown[i]) {
			o->nother++;
			o->other_cpu += o->lib[i].cpu;
		}
	}
	if (s->nfn)
		memcpy(o->fn, s->fn, s->nfn * sizeof(*o->fn));
	for (k = 0; k < s->nfn; k++)
		o->fn[k].lib = rank[o->fn[k].lib];
	qsort(o->fn, s->nfn, sizeof(*o->fn), cmp_fn);
	for (i = 0, k = 0; i < s->nlib; i++) {
		o->lib_start[i] = k;
		while (k < s->nfn && o->fn[k].lib == i)
			k++;
	}
	o->lib_start[s->nlib] = k;
	rc = 0;
out:
	free(rank);
	return rc;
}

static double
share(int64_t v, int64_t total)
{
	return total > 0 ? (double)v / (double)total : 0;
}

static void
row(struct pp_buf *b, int64_t v, int64_t total, const char *indent,
    const char *what)
{
	char t[64];

	pp_unit_label(v, "nanoseconds", "auto", t, sizeof(t));
	pp_buf_addf(b, "%10s %7.2f%%  %s%s\n", t, 100 * share(v, total),
	    indent, what);
}

int
pp_stats_table(const struct pp_stats *s, struct pp_buf *out)
{
	struct sorted o;
	char t[64], g[64];
	size_t i, k;
	int rc;

	if ((rc = sort_output(s, &o)) < 0)
		goto out;
	pp_unit_label(s->cpu, "nanoseconds", "auto", t, sizeof(t));
	pp_unit_label(s->go_cpu, "nanoseconds", "auto", g, sizeof(g));
	pp_buf_addf(out, "PROFILES  %zu (%zu Go; %zu left out, without CPU "
	    "time)\nCPU       %s (Go %s)\n\n", s->profiles, s->go_profiles,
	    s->left_out, t, g);
	pp_buf_addf(out, "%10s %8s  %s\n", "CPU", "SHARE", "CATEGORY");
	row(out, s->alloc_self, s->cpu, "", "allocator, self");
	row(out, s->alloc_total, s->cpu, "", "allocator, total");
	row(out, s->gc, s->cpu, "", "garbage collector (Go)");
	pp_buf_addf(out, "\n%10s %8s  %s\n", "CPU", "SHARE",
	    "LIBRARY / FUNCTION");
	for (i = 0; i < s->nlib; i++) {
		if (!o.shown[i])
			continue;
		row(out, o.lib[i].cpu, s->cpu, "", o.lib[i].name);
		for (k = o.lib_start[i]; k < o.lib_start[i + 1]; k++)
			row(out, o.fn[k].cpu, s->cpu, "  ", o.fn[k].name);
	}
	if (o.nother) {
		snprintf(t, sizeof(t), "(%zu other librar%s)", o.nother,
		    o.nother == 1 ? "y" : "ies");
		row(out, o.other_cpu, s->cpu, "", t);
	}
	rc = out->oom ? PP_ENOMEM : 0;
out:
	sorted_release(&o);
	return rc;
}

int
pp_stats_json(const struct pp_stats *s, struct pp_buf *out)
{
	json_t *root = NULL, *libs, *fns, *j;
	struct sorted o;
	char *text = NULL;
	size_t i, k;
	int rc = PP_ENOMEM;

	if (sort_output(s, &o) < 0)
		goto out;
	root = json_pack("{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:f,s:I,s:f},"
	    "s:{s:I,s:f,s:f},s:[],s:{s:I,s:I,s:f},s:I}",
	    "profiles", (json_int_t)s->profiles,
	    "go_profiles", (json_int_t)s->go_profiles,
	    "left_out", (json_int_t)s->left_out,
	    "cpu_ns", (json_int_t)s->cpu,
	    "go_cpu_ns", (json_int_t)s->go_cpu,
	    "allocator",
	    "self_ns", (json_int_t)s->alloc_self,
	    "self_share", share(s->alloc_self, s->cpu),
	    "total_ns", (json_int_t)s->alloc_total,
	    "total_share", share(s->alloc_total, s->cpu),
	    "gc",
	    "cpu_ns", (json_int_t)s->gc,
	    "share", share(s->gc, s->cpu),
	    "go_share", share(s->gc, s->go_cpu),
	    "libraries",
	    "other_libraries",
	    "libraries", (json_int_t)o.nother,
	    "cpu_ns", (json_int_t)o.other_cpu,
	    "share", share(o.other_cpu, s->cpu),
	    "min_owners", (json_int_t)s->min_owners);
	if (root == NULL || (libs = json_object_get(root, "libraries")) == NULL)
		goto out;
	for (i = 0; i < s->nlib; i++) {
		if (!o.shown[i])
			continue;
		j = json_pack("{s:s,s:I,s:f,s:[]}", "name", o.lib[i].name,
		    "cpu_ns", (json_int_t)o.lib[i].cpu, "share",
		    share(o.lib[i].cpu, s->cpu), "functions");
		if (j == NULL || json_array_append_new(libs, j) < 0 ||
		    (fns = json_object_get(j, "functions")) == NULL)
			goto out;
		for (k = o.lib_start[i]; k < o.lib_start[i + 1]; k++) {
			j = json_pack("{s:s,s:I,s:f}", "name", o.fn[k].name,
			    "cpu_ns", (json_int_t)o.fn[k].cpu, "share",
			    share(o.fn[k].cpu, s->cpu));
			if (j == NULL || json_array_append_new(fns, j) < 0)
				goto out;
		}
	}
	if ((text = json_dumps(root, JSON_INDENT(1) |
	    JSON_REAL_PRECISION(6))) == NULL)
		goto out;
	pp_buf_adds(out, text);
	pp_buf_addc(out, '\n');
	rc = out->oom ? PP_ENOMEM : 0;
out:
	free(text);
	json_decref(root);
	sorted_release(&o);
	return rc;
}
