/* Symbolization with elfutils' libdwfl.
 *
 * Each distinct file gets a Dwfl of its own, reported at base 0, so module
 * addresses are the file's own addresses and we apply each mapping's load
 * bias ourselves: a file is read once whatever its bias in the mappings
 * that name it (a merged profile has many processes), and the modules of a
 * Dwfl can never overlap.
 *
 * dwfl_module_addrname scans the whole symbol table for every address
 * (95 us an address in libc); we sort the table once per file instead.
 * dwarf_getscopes walks every DIE of the CU for every address and stops at
 * the innermost inlined instance; we index each CU's subprograms by address
 * once and descend from the one that holds the address, keeping the
 * concrete chain of inlined instances on the way. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "symbolize.h"

#define MAXFRAMES	128	/* inline depth, against looping DWARF */
#define MAXNEST		64	/* namespaces and classes searched */
#define MAXDEMANGLE	4096	/* longer names stay mangled */
#define MAXPAGE		0x10000	/* the largest page size we expect */
#define DEBUGDIR	"/usr/lib/debug"

/* libstdc++'s demangler; <cxxabi.h> is C++ only. */
extern char *__cxa_demangle(const char *, char *, size_t *, int *);

enum {
	F_FUNCTION = 1, F_FILENAME = 2, F_LINE = 4, F_INLINE = 8,
};

/* A function symbol: [lo, hi) is its extent, or for a symbol without a
 * size, up to the end of its section. */
struct sym {
	uint64_t lo, hi;
	const char *name;	/* libdwfl's, valid while the Dwfl lives */
	int rank;
	unsigned under, len;	/* leading underscores, length: to sort */
};

/* One address range of a CU or a subprogram. maxhi is the greatest hi of
 * this and every lower range, which bounds the backward search for the
 * range that holds an address. */
struct range {
	uint64_t lo, hi, maxhi;
	Dwarf_Die die;
};

/* A file's CUs or a CU's subprograms, by address. */
struct cu {
	struct range *range;
	size_t n;
};

/* What one address of a file resolved to. */
struct result {
	struct pp_line *line;	/* in the profile's arena */
	size_t nline;
	unsigned flags;
	bool given;		/* line is a location's own already */
};

struct object {
	const char *file;	/* interned */
	Dwfl *dwfl;		/* NULL: the file could not be used */
	Dwfl_Module *mod;
	Elf *elf;
	GElf_Half type;
	const char *build_id;	/* interned lower-case hex, "" for none */
	struct sym *sym;
	size_t nsym;
	char **owned;		/* names of sym without their @VERSION */
	size_t nowned, capowned;
	bool sym_loaded;
	bool names_only;	/* DWARF not read: see object_names_only */
	bool policy_set;
	struct cu cus;			/* when .debug_aranges fall short */
	Dwarf_Addr cus_bias;
	bool cus_loaded;
	struct cu *cu;
	size_t ncu, capcu;
	struct pp_u64map cu_by_offset;	/* CU DIE offset + 1 -> index */
	struct pp_u64map plain;		/* libdw/libelf string -> interned */
	struct pp_u64map path;		/* libdw file name -> interned, absolute */
	struct pp_u64map demangled;	/* the same, demangled */
	struct result *result;
	size_t nresult, capresult;
	struct pp_u64map result_by_addr;	/* address + 1 -> index */
};

struct frame {
	const char *name, *system_name, *file;	/* interned */
	int64_t line, column, start_line;
};

struct mapstate {
	struct object *obj;	/* NULL: skipped or left alone */
	uint64_t bias;
};

struct symbolizer {
	struct pp_profile *p;
	unsigned flags;		/* PP_SYMBOLIZE_* */
	const char *empty;
	struct pp_u64map function_by_key;	/* hash -> index in p->function */
	uint64_t next_function_id;
	struct object **obj;
	size_t nobj, capobj;
	struct pp_u64map obj_by_file;		/* interned file -> index */
	struct mapstate *ms;
	size_t nms, capms;
	struct pp_u64map ms_by_mapping;		/* mapping -> index in ms */
	size_t skipped;
	struct frame frame[MAXFRAMES];
	size_t nframe;
};

#define MIX(h, v)	((h) = pp_hash_u64((h) ^ (uint64_t)(v)) + 0x9e3779b97f4a7c15ULL)

static uint64_t
nz(uint64_t h)
{
	return h ? h : 1;
}

/* Opens path read-only if it is a regular file and not the file st. */
static int
open_regular(const char *path, const struct stat *not)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (not != NULL &&
	    st.st_dev == not->st_dev && st.st_ino == not->st_ino)) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
has_build_id(int fd, const void *id, size_t len)
{
	const void *got;
	ssize_t n;
	Elf *elf;
	bool same;

	if ((elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL)
		return false;
	n = dwelf_elf_gnu_build_id(elf, &got);
	same = n > 0 && (size_t)n == len && memcmp(got, id, len) == 0;
	elf_end(elf);
	return same;
}

/* The .gnu_debuglink CRC is zlib's CRC-32 of the whole file. */
static bool
crc_matches(int fd, GElf_Word crc)
{
	unsigned char buf[16384];
	uLong c = crc32(0, NULL, 0);
	off_t pos = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), pos)) > 0) {
		c = crc32(c, buf, (uInt)n);
		pos += n;
	}
	return n == 0 && (GElf_Word)c == crc;
}

static int
find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	/* Every module is reported with its file: never asked. */
	*elfp = NULL;
	return -1;
}

/* dwfl_standard_find_debuginfo without its last resort, debuginfod (see
 * symbolize.h): by build-id, then by the debuglink name in the usual
 * places. Called for the separate debug file, with the main file's
 * .gnu_debuglink, and again for a dwz file, with the .gnu_debugaltlink
 * name of the Dwarf then loaded. (dwfl_module_getdwarf may only be asked
 * in the second case: in the first it could start the search again.) */
static int
find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
    GElf_Addr base, const char *file_name, const char *link,
    GElf_Word crc, char **debuginfo_file_name)
{
	const unsigned char *bits;
	const void *id = NULL;
	const char *altname, *mainlink = NULL, *slash;
	char *path = NULL;
	struct stat main_st;
	Dwarf_Addr bias;
	GElf_Addr idaddr;
	GElf_Word maincrc;
	ssize_t idlen = 0;
	Dwarf *dw = NULL;
	Elf *elf;
	int fd, k;

	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base,
	    file_name, link, crc, debuginfo_file_name);
	if (fd >= 0)
		return fd;
	/* A name left behind would be opened by libdwfl unchecked. */
	free(*debuginfo_file_name);
	*debuginfo_file_name = NULL;
	if (link == NULL || *link == '\0' || file_name == NULL ||
	    stat(file_name, &main_st) < 0)
		return -1;
	if ((elf = dwfl_module_getelf(mod, &bias)) != NULL)
		mainlink = dwelf_elf_gnu_debuglink(elf, &maincrc);
	if (mainlink == NULL || strcmp(mainlink, link) != 0) {
		if ((dw = dwfl_module_getdwarf(mod, &bias)) == NULL ||
		    (idlen = dwelf_dwarf_gnu_debugaltlink(dw, &altname,
		    &id)) <= 0)
			return -1;
	} else if ((idlen = dwfl_module_build_id(mod, &bits, &idaddr)) > 0) {
		id = bits;
	} else if (crc == 0) {
		return -1;	/* nothing to check a candidate against */
	}
	slash = strrchr(file_name, '/');
	for (k = 0; k < 3 && fd < 0; k++) {
		int dirlen = slash ? (int)(slash - file_name) : 1;
		const char *dir = slash ? file_name : ".";
		int n;

		if (link[0] == '/' && k > 0)
			break;
		if (link[0] == '/')
			n = asprintf(&path, "%s", link);
		else if (k == 0)
			n = asprintf(&path, "%.*s/%s", dirlen, dir, link);
		else if (k == 1)
			n = asprintf(&path, "%.*s/.debug/%s", dirlen, dir,
			    link);
		else if (dir[0] == '/')
			n = asprintf(&path, DEBUGDIR "%.*s/%s", dirlen, dir,
			    link);
		else
			break;
		if (n < 0)
			return -1;
		if ((fd = open_regular(path, &main_st)) >= 0 &&
		    !(idlen > 0 ? has_build_id(fd, id, (size_t)idlen) :
		    crc_matches(fd, crc))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			free(path);
			path = NULL;
		}
	}
	*debuginfo_file_name = path;
	return fd;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* pprof's Mapping.Unsymbolizable, and names the kernel gives to memory
 * that is not a file. */
static bool
symbolizable(const char *file)
{
	const char *base = strrchr(file, '/');

	base = base != NULL ? base + 1 : file;
	return *file != '\0' && *base != '[' &&
	    strncmp(base, "linux-vdso", 10) != 0 &&
	    strncmp(file, "/dev/", 5) != 0 &&
	    strncmp(file, "//anon", 6) != 0 &&
	    strncmp(file, "/memfd:", 7) != 0 &&
	    strncmp(file, "anon_inode:", 11) != 0;
}

static void
object_free(struct object *o)
{
	size_t i;

	if (o == NULL)
		return;
	if (o->dwfl != NULL)
		dwfl_end(o->dwfl);
	free(o->sym);
	for (i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	free(o->owned);
	free(o->cus.range);
	for (i = 0; i < o->ncu; i++)
		free(o->cu[i].range);
	free(o->cu);
	free(o->result);
	pp_u64map_release(&o->cu_by_offset);
	pp_u64map_release(&o->plain);
	pp_u64map_release(&o->path);
	pp_u64map_release(&o->demangled);
	pp_u64map_release(&o->result_by_addr);
	free(o);
}

/* Loads file into a new object. A file that cannot be used still gives
 * an object, with dwfl NULL, so it is tried only once. */
static int
object_load(struct symbolizer *s, const char *file, struct object **out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *id;
	struct object *o;
	GElf_Addr idaddr;
	Dwarf_Addr bias;
	GElf_Ehdr eh;
	struct stat st;
	char *buf;
	int i, n;

	if (pp_grow(&s->obj, &s->capobj, s->nobj + 1, sizeof(*s->obj)) < 0 ||
	    (o = calloc(1, sizeof(*o))) == NULL)
		return PP_ENOMEM;
	s->obj[s->nobj] = o;
	if (pp_u64map_put(&s->obj_by_file, (uintptr_t)file, s->nobj,
	    NULL) < 0) {
		free(o);
		return PP_ENOMEM;
	}
	s->nobj++;
	*out = o;
	o->file = file;
	o->build_id = s->empty;
	/* libdwfl opens the file itself; only a regular file may be
	 * opened at all (a FIFO would block). */
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((o->dwfl = dwfl_begin(&callbacks)) == NULL)
		return PP_ENOMEM;
	dwfl_report_begin(o->dwfl);
	/* add_p_vaddr: base is the bias, 0, not where the first segment
	 * starts (ET_EXEC files are always at bias 0 anyway). */
	if ((o->mod = dwfl_report_elf(o->dwfl, file, file, -1, 0,
	    true)) == NULL ||
	    dwfl_report_end(o->dwfl, NULL, NULL) != 0 ||
	    (o->elf = dwfl_module_getelf(o->mod, &bias)) == NULL ||
	    gelf_getehdr(o->elf, &eh) == NULL ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		goto unusable;
	o->type = eh.e_type;
	if ((n = dwfl_module_build_id(o->mod, &id, &idaddr)) > 0) {
		if ((buf = malloc(2 * (size_t)n + 1)) == NULL)
			return PP_ENOMEM;
		for (i = 0; i < n; i++) {
			buf[2 * i] = hex[id[i] >> 4];
			buf[2 * i + 1] = hex[id[i] & 15];
		}
		o->build_id = pp_profile_intern(s->p, buf, 2 * (size_t)n);
		free(buf);
		if (o->build_id == NULL)
			return PP_ENOMEM;
	}
	return 0;
unusable:
	dwfl_end(o->dwfl);
	o->dwfl = NULL;
	o->mod = NULL;
	o->elf = NULL;
	return 0;
}

/* The mapping's load bias: what to subtract from its addresses to get the
 * file's. The PT_LOAD segment holding the mapping's file offset says
 * where that offset is in the file's address space (executable segments
 * first: small files have several segments in one page). */
static uint64_t
mapping_bias(const struct object *o, const struct pp_mapping *m)
{
	GElf_Phdr ph;
	uint64_t best = 0, dist, bestdist = 0;
	size_t i, n;
	int score, bestscore = 0;

	if (o->type == ET_EXEC)
		return 0;
	if (elf_getphdrnum(o->elf, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(o->elf, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD ||
		    m->offset < (ph.p_offset & ~(uint64_t)(MAXPAGE - 1)) ||
		    m->offset >= ph.p_offset + ph.p_filesz)
			continue;
		score = ph.p_flags & PF_X ? 2 : 1;
		dist = ph.p_offset > m->offset ? ph.p_offset - m->offset :
		    m->offset - ph.p_offset;
		if (score > bestscore ||
		    (score == bestscore && dist < bestdist)) {
			bestscore = score;
			bestdist = dist;
			best = ph.p_vaddr - ph.p_offset;
		}
	}
	return m->start - m->offset - best;
}

static int
bind_rank(int bind)
{
	switch (bind) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		return 3;
	case STB_WEAK:
		return 2;
	}
	return 1;
}

static size_t
underscores(const char *s)
{
	size_t n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* By address; at one address the best name first: a function over a
 * label, sized over sizeless, global over weak over local, then the
 * public-looking name (malloc over __libc_malloc), then the shorter. */
static int
cmp_sym(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank > b->rank ? -1 : 1;
	if (a->under != b->under)
		return a->under < b->under ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The symbol table (.symtab, else .dynsym), sorted, one name an address. */
static int
load_symtab(struct object *o)
{
	int i, n, type;
	size_t k, kept;

	o->sym_loaded = true;
	if ((n = dwfl_module_getsymtab(o->mod)) <= 1)
		return 0;
	if ((o->sym = malloc((size_t)n * sizeof(*o->sym))) == NULL)
		return PP_ENOMEM;
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		GElf_Shdr sh;
		Elf_Scn *scn;
		Elf *elf = NULL;
		Dwarf_Addr bias = 0;
		const char *name, *at;
		struct sym *e;

		name = dwfl_module_getsym_info(o->mod, i, &sym, &addr, &shndx,
		    &elf, &bias);
		if (name == NULL || *name == '\0' || elf == NULL ||
		    shndx == SHN_UNDEF || shndx >= SHN_LORESERVE)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC &&
		    type != STT_NOTYPE) ||
		    (scn = elf_getscn(elf, shndx)) == NULL ||
		    gelf_getshdr(scn, &sh) == NULL ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		e = &o->sym[o->nsym];
		e->lo = addr;
		e->hi = sym.st_size > 0 ? addr + sym.st_size :
		    sh.sh_addr + bias + sh.sh_size;
		if (e->hi <= e->lo)
			continue;
		/* .symtab names versioned definitions as the assembler's
		 * .symver did (__libc_start_main@@GLIBC_2.34); DWARF and
		 * .dynsym do not. */
		if ((at = strchr(name, '@')) != NULL && at != name) {
			if (pp_grow(&o->owned, &o->capowned, o->nowned + 1,
			    sizeof(*o->owned)) < 0 ||
			    (o->owned[o->nowned] = strndup(name,
			    (size_t)(at - name))) == NULL)
				return PP_ENOMEM;
			name = o->owned[o->nowned++];
		}
		e->name = name;
		e->under = (unsigned)underscores(name);
		e->len = (unsigned)strnlen(name, UINT_MAX);
		e->rank = (type != STT_NOTYPE) * 8 + (sym.st_size > 0) * 4 +
		    bind_rank(GELF_ST_BIND(sym.st_info));
		o->nsym++;
	}
	if (o->nsym > 1)
		qsort(o->sym, o->nsym, sizeof(*o->sym), cmp_sym);
	for (k = 0, kept = 0; k < o->nsym; k++)
		if (kept == 0 || o->sym[kept - 1].lo != o->sym[k].lo)
			o->sym[kept++] = o->sym[k];
	o->nsym = kept;
	return 0;
}

/* As dwfl_module_addrsym: the nearest sized symbol holding pc, else the
 * nearest sizeless one in pc's section not hidden by a sized symbol that
 * ends before pc. Symbols nested more than 64 deep are not looked at. */
static const struct sym *
find_sym(const struct object *o, uint64_t pc)
{
	const struct sym *label = NULL, *e;
	size_t lo = 0, hi = o->nsym, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->sym[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; lo-- > 0 && k < 64; k++) {
		e = &o->sym[lo];
		if (e->rank & 4) {
			if (pc < e->hi)
				return e;
			break;
		}
		if (label == NULL && pc < e->hi)
			label = e;
	}
	return label;
}

static bool
is_container(int tag)
{
	switch (tag) {
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_interface_type:
		return true;
	}
	return false;
}

static bool
is_code_scope(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_lexical_block:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
		return true;
	}
	return false;
}

static int
cmp_range(const void *pa, const void *pb)
{
	const struct range *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

static void
index_ranges(struct cu *c)
{
	uint64_t maxhi = 0;
	size_t i;

	if (c->n > 1)
		qsort(c->range, c->n, sizeof(*c->range), cmp_range);
	for (i = 0; i < c->n; i++) {
		if (c->range[i].hi > maxhi)
			maxhi = c->range[i].hi;
		c->range[i].maxhi = maxhi;
	}
}

/* The innermost (latest starting) range of c that holds pc, or NULL. */
static Dwarf_Die *
find_range(struct cu *c, uint64_t pc)
{
	size_t lo = 0, hi = c->n, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->range[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i-- > 0 && c->range[i].maxhi > pc;)
		if (c->range[i].hi > pc)
			return &c->range[i].die;
	return NULL;
}

static int
add_ranges(struct cu *c, size_t *cap, Dwarf_Die *die, Dwarf_Addr bias)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off;

	for (off = 0; (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0;) {
		/* Code the linker dropped is left at 0. */
		if (lo == 0 || lo >= hi)
			continue;
		if (pp_grow(&c->range, cap, c->n + 1, sizeof(*c->range)) < 0)
			return PP_ENOMEM;
		c->range[c->n].lo = lo + bias;
		c->range[c->n].hi = hi + bias;
		c->range[c->n].die = *die;
		c->n++;
	}
	return 0;
}

static int
collect_functions(Dwarf_Die *parent, struct cu *c, size_t *cap, int depth)
{
	Dwarf_Die child;
	int rc, tag;

	if (depth > MAXNEST || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		tag = dwarf_tag(&child);
		if (is_container(tag))
			rc = collect_functions(&child, c, cap, depth + 1);
		else if (tag == DW_TAG_subprogram)
			rc = add_ranges(c, cap, &child, 0);
		else
			rc = 0;
		if (rc < 0)
			return rc;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/* The CU that holds addr. libdwfl finds it by .debug_aranges alone: with
 * none (clang without -gdwarf-aranges, Go) it finds nothing, and it takes
 * an address between aranges for the CU before (so code of a clang or
 * assembler object linked among gcc ones reads as the gcc CU's). So its
 * answer is checked against the CU's own ranges (a CU without any is
 * trusted), and the CUs' ranges, indexed once, are the fallback. */
static int
find_cu(struct object *o, uint64_t addr, Dwarf_Die *cudie, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = NULL, *found;
	size_t cap = 0;
	int rc;

	if ((found = dwfl_module_addrdie(o->mod, addr, bias)) != NULL &&
	    dwarf_haspc(found, addr - *bias) != 0) {
		*cudie = *found;
		return 1;
	}
	if (!o->cus_loaded) {
		o->cus_loaded = true;
		while ((cu = dwfl_module_nextcu(o->mod, cu,
		    &o->cus_bias)) != NULL)
			if ((rc = add_ranges(&o->cus, &cap, cu,
			    o->cus_bias)) < 0)
				return rc;
		index_ranges(&o->cus);
	}
	if ((found = find_range(&o->cus, addr)) == NULL)
		return 0;
	*cudie = *found;
	*bias = o->cus_bias;
	return 1;
}

/* The subprogram of cudie that holds pc, or NULL. */
static int
cu_function(struct object *o, Dwarf_Die *cudie, Dwarf_Addr pc,
    Dwarf_Die **out)
{
	uint64_t key = dwarf_dieoffset(cudie) + 1, *v;
	size_t cap = 0;
	struct cu *c;
	int rc;

	if ((v = pp_u64map_get(&o->cu_by_offset, key)) != NULL) {
		c = &o->cu[*v];
	} else {
		if (pp_grow(&o->cu, &o->capcu, o->ncu + 1,
		    sizeof(*o->cu)) < 0 ||
		    pp_u64map_put(&o->cu_by_offset, key, o->ncu, NULL) < 0)
			return PP_ENOMEM;
		c = &o->cu[o->ncu++];
		memset(c, 0, sizeof(*c));
		if ((rc = collect_functions(cudie, c, &cap, 0)) < 0)
			return rc;
		index_ranges(c);
	}
	*out = find_range(c, pc);
	return 0;
}

/* Appends to chain[n..] the scopes under parent that hold pc, outermost
 * first; returns the new length. */
static int
descend(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain, int n,
    int depth)
{
	Dwarf_Die child;
	int m, tag;

	if (n >= MAXFRAMES || depth > MAXNEST ||
	    dwarf_child(parent, &child) != 0)
		return n;
	do {
		tag = dwarf_tag(&child);
		if (is_code_scope(tag)) {
			if (dwarf_haspc(&child, pc) > 0) {
				chain[n] = child;
				return descend(&chain[n], pc, chain, n + 1,
				    depth + 1);
			}
		} else if (is_container(tag)) {
			/* A local class's member functions. */
			if ((m = descend(&child, pc, chain, n, depth + 1)) > n)
				return m;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return n;
}

/* The interned copy of a string of the object's files. Such strings do
 * not move while the Dwfl lives, so their address is the key. */
static const char *
plain(struct symbolizer *s, struct object *o, const char *raw)
{
	const char *c;
	uint64_t *v;

	if ((v = pp_u64map_get(&o->plain, (uintptr_t)raw)) != NULL)
		return (const char *)(uintptr_t)*v;
	if ((c = pp_profile_intern_str(s->p, raw)) == NULL ||
	    pp_u64map_put(&o->plain, (uintptr_t)raw, (uintptr_t)c, NULL) < 0)
		return NULL;
	return c;
}

/* raw demangled if it is an Itanium C++ ABI name, else as it is. */
static const char *
demangled(struct symbolizer *s, struct object *o, const char *raw)
{
	const char *c;
	char *d = NULL;
	uint64_t *v;
	int status;

	if ((v = pp_u64map_get(&o->demangled, (uintptr_t)raw)) != NULL)
		return (const char *)(uintptr_t)*v;
	if (raw[0] == '_' && raw[1] == 'Z' && strlen(raw) < MAXDEMANGLE)
		d = __cxa_demangle(raw, NULL, NULL, &status);
	c = pp_profile_intern_str(s->p, d != NULL ? d : raw);
	free(d);
	if (c == NULL || pp_u64map_put(&o->demangled, (uintptr_t)raw,
	    (uintptr_t)c, NULL) < 0)
		return NULL;
	return c;
}

/* A file name of the line table of cudie, made absolute as addr2line does
 * when libdw leaves it relative (GCC's DWARF 5 directory table has the
 * source's directory relative to the compilation directory). A relative
 * compilation directory (glibc's "./malloc", from -fdebug-prefix-map)
 * leaves the name as it is. */
static const char *
source_file(struct symbolizer *s, struct object *o, Dwarf_Die *cudie,
    const char *raw)
{
	Dwarf_Attribute a;
	const char *dir, *c;
	char *joined = NULL;
	uint64_t *v;

	if ((v = pp_u64map_get(&o->path, (uintptr_t)raw)) != NULL)
		return (const char *)(uintptr_t)*v;
	dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &a));
	if (raw[0] != '/' && dir != NULL && dir[0] == '/' &&
	    asprintf(&joined, "%s/%s", dir, raw) < 0)
		return NULL;
	c = pp_profile_intern_str(s->p, joined != NULL ? joined : raw);
	free(joined);
	if (c == NULL || pp_u64map_put(&o->path, (uintptr_t)raw,
	    (uintptr_t)c, NULL) < 0)
		return NULL;
	return c;
}

static const char *
die_string(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;
	const char *s;

	s = dwarf_formstring(dwarf_attr_integrate(die, name, &a));
	return s != NULL && *s != '\0' ? s : NULL;
}

/* The frame's names from the DIE of a subprogram or inlined instance:
 * the demangled linkage name, which has the namespaces and classes the
 * DW_AT_name lacks; else DW_AT_name. */
static int
die_function(struct symbolizer *s, struct object *o, Dwarf_Die *die,
    struct frame *f)
{
	const char *link, *name;
	int line;

	if ((link = die_string(die, DW_AT_linkage_name)) == NULL)
		link = die_string(die, DW_AT_MIPS_linkage_name);
	name = die_string(die, DW_AT_name);
	f->name = f->system_name = s->empty;
	if (link != NULL) {
		if ((f->system_name = plain(s, o, link)) == NULL ||
		    (f->name = demangled(s, o, link)) == NULL)
			return PP_ENOMEM;
		if (f->name == f->system_name && name != NULL &&
		    (f->name = plain(s, o, name)) == NULL)
			return PP_ENOMEM;
	} else if (name != NULL) {
		if ((f->name = f->system_name = plain(s, o, name)) == NULL)
			return PP_ENOMEM;
	}
	f->start_line = dwarf_decl_line(die, &line) == 0 && line > 0 ?
	    line : 0;
	return 0;
}

static uint64_t
function_key(const char *name, const char *sys, const char *file,
    int64_t start_line)
{
	uint64_t h = 0;

	MIX(h, (uintptr_t)name);
	MIX(h, (uintptr_t)sys);
	MIX(h, (uintptr_t)file);
	MIX(h, start_line);
	return nz(h);
}

static bool
same_function(const struct pp_function *f, const char *name,
    const char *sys, const char *file, int64_t start_line)
{
	return f->name == name && f->system_name == sys &&
	    f->filename == file && f->start_line == start_line;
}

/* Indexes p->function[i], unless an equal function is indexed already. */
static int
index_function(struct symbolizer *s, size_t i)
{
	const struct pp_function *f = s->p->function[i];
	uint64_t h, *v;

	for (h = function_key(f->name, f->system_name, f->filename,
	    f->start_line);; h = nz(h + 1)) {
		if ((v = pp_u64map_get(&s->function_by_key, h)) == NULL)
			break;
		if (same_function(s->p->function[*v], f->name,
		    f->system_name, f->filename, f->start_line))
			return 0;
	}
	return pp_u64map_put(&s->function_by_key, h, i, NULL) < 0 ?
	    PP_ENOMEM : 0;
}

static int
function_for(struct symbolizer *s, const struct frame *fr,
    struct pp_function **out)
{
	struct pp_profile *p = s->p;
	struct pp_function *f;
	uint64_t h, *v;

	for (h = function_key(fr->name, fr->system_name, fr->file,
	    fr->start_line);; h = nz(h + 1)) {
		if ((v = pp_u64map_get(&s->function_by_key, h)) == NULL)
			break;
		f = p->function[*v];
		if (same_function(f, fr->name, fr->system_name, fr->file,
		    fr->start_line)) {
			*out = f;
			return 0;
		}
	}
	if ((f = pp_profile_add_function(p, s->next_function_id)) == NULL ||
	    pp_u64map_put(&s->function_by_key, h, p->nfunction - 1,
	    NULL) < 0)
		return PP_ENOMEM;
	s->next_function_id++;
	f->name = fr->name;
	f->system_name = fr->system_name;
	f->filename = fr->file;
	f->start_line = fr->start_line;
	*out = f;
	return 0;
}

/* Whether the file has DWARF of its own (compressed or not). */
static bool
has_own_dwarf(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const char *name;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstrndx, sh.sh_name)) != NULL &&
		    (strcmp(name, ".debug_info") == 0 ||
		    strcmp(name, ".zdebug_info") == 0))
			return true;
	return false;
}

/* With PP_SYMBOLIZE_SYSTEM_NAMES, a file whose only DWARF is a separate
 * debug file under DEBUGDIR (a distribution's debug package) is named from
 * that file's symbol table and its DWARF is never opened: opening it
 * inflates every compressed .debug_* section (libc's: 10 MB, 50 ms) for
 * what is mostly a few frames of the C library. The symbol table of the
 * debug file is not compressed and has the local functions too. */
static int
object_names_only(struct object *o, bool *out)
{
	const char *debugfile = NULL;
	int rc;

	*out = false;
	if (has_own_dwarf(o->elf))
		return 0;
	if (!o->sym_loaded && (rc = load_symtab(o)) < 0)
		return rc;
	dwfl_module_info(o->mod, NULL, NULL, NULL, NULL, NULL, NULL,
	    &debugfile);
	*out = debugfile != NULL &&
	    strncmp(debugfile, DEBUGDIR "/", sizeof(DEBUGDIR)) == 0;
	return 0;
}

/* The frames at addr, an address of the file: from DWARF the chain of
 * inlined instances inside the subprogram that holds addr, each at the
 * call site of the one inside it, the innermost at addr's line; else a
 * single frame named from the symbol table. */
static int
find_frames(struct symbolizer *s, struct object *o, uint64_t addr,
    unsigned *flags)
{
	Dwarf_Die chain[MAXFRAMES], cu, *cudie = NULL, *fn = NULL;
	Dwarf_Files *files = NULL;
	Dwarf_Attribute a;
	Dwarf_Addr bias = 0, pc = 0;
	Dwarf_Word u;
	Dwarf_Line *ln;
	const struct sym *sym;
	const char *file = NULL;
	struct frame *f;
	int64_t line = 0, col = 0;
	size_t nfiles;
	int i, n = 0, rc, tag, v;

	s->nframe = 0;
	if (!o->policy_set) {
		o->policy_set = true;
		if ((s->flags & PP_SYMBOLIZE_SYSTEM_NAMES) &&
		    (rc = object_names_only(o, &o->names_only)) < 0)
			return rc;
	}
	if (o->names_only)
		rc = 0;
	else if ((rc = find_cu(o, addr, &cu, &bias)) < 0)
		return rc;
	if (rc > 0) {
		cudie = &cu;
		pc = addr - bias;
		if ((ln = dwarf_getsrc_die(cudie, pc)) != NULL) {
			file = dwarf_linesrc(ln, NULL, NULL);
			if (dwarf_lineno(ln, &v) == 0 && v > 0)
				line = v;
			if (dwarf_linecol(ln, &v) == 0 && v > 0)
				col = v;
		}
		if ((rc = cu_function(o, cudie, pc, &fn)) < 0)
			return rc;
		if (fn != NULL) {
			chain[0] = *fn;
			n = descend(&chain[0], pc, chain, 1, 0);
			*flags |= F_INLINE;
		}
	}
	for (i = n; i-- > 0;) {
		tag = dwarf_tag(&chain[i]);
		if (tag != DW_TAG_inlined_subroutine &&
		    tag != DW_TAG_subprogram)
			continue;
		f = &s->frame[s->nframe++];
		if ((rc = die_function(s, o, &chain[i], f)) < 0)
			return rc;
		f->file = s->empty;
		if (file != NULL &&
		    (f->file = source_file(s, o, cudie, file)) == NULL)
			return PP_ENOMEM;
		f->line = line;
		f->column = col;
		if (tag == DW_TAG_subprogram)
			break;
		file = NULL;
		line = col = 0;
		if (files == NULL && dwarf_getsrcfiles(cudie, &files,
		    &nfiles) != 0)
			files = NULL;
		if (files != NULL && dwarf_formudata(dwarf_attr(&chain[i],
		    DW_AT_call_file, &a), &u) == 0)
			file = dwarf_filesrc(files, u, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&chain[i], DW_AT_call_line,
		    &a), &u) == 0)
			line = (int64_t)u;
		if (dwarf_formudata(dwarf_attr(&chain[i], DW_AT_call_column,
		    &a), &u) == 0)
			col = (int64_t)u;
	}
	if (s->nframe > 0 && *s->frame[s->nframe - 1].name != '\0')
		return 0;
	if (!o->sym_loaded && (rc = load_symtab(o)) < 0)
		return rc;
	if ((sym = find_sym(o, addr)) == NULL)
		return 0;
	if (s->nframe == 0) {
		f = &s->frame[s->nframe++];
		f->file = s->empty;
		if (file != NULL &&
		    (f->file = source_file(s, o, cudie, file)) == NULL)
			return PP_ENOMEM;
		f->line = line;
		f->column = col;
		f->start_line = 0;
	}
	f = &s->frame[s->nframe - 1];
	if ((f->system_name = plain(s, o, sym->name)) == NULL ||
	    (f->name = demangled(s, o, sym->name)) == NULL)
		return PP_ENOMEM;
	return 0;
}

static int
lookup(struct symbolizer *s, struct object *o, uint64_t addr,
    struct result *r)
{
	struct pp_line *line;
	size_t k;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = find_frames(s, o, addr, &r->flags)) < 0 || s->nframe == 0)
		return rc;
	if ((line = pp_profile_alloc(s->p, s->nframe * sizeof(*line))) == NULL)
		return PP_ENOMEM;
	for (k = 0; k < s->nframe; k++) {
		const struct frame *f = &s->frame[k];

		if ((rc = function_for(s, f, &line[k].function)) < 0)
			return rc;
		line[k].line = f->line;
		line[k].column = f->column;
		if (*f->name != '\0')
			r->flags |= F_FUNCTION;
		if (*f->file != '\0')
			r->flags |= F_FILENAME;
		if (f->line > 0)
			r->flags |= F_LINE;
	}
	r->line = line;
	r->nline = s->nframe;
	return 0;
}

static int
resolve(struct symbolizer *s, struct object *o, uint64_t addr,
    struct result **out)
{
	uint64_t key = addr + 1, *v;
	struct result r;
	int rc;

	if (key != 0 &&
	    (v = pp_u64map_get(&o->result_by_addr, key)) != NULL) {
		*out = &o->result[*v];
		return 0;
	}
	if ((rc = lookup(s, o, addr, &r)) < 0)
		return rc;
	if (pp_grow(&o->result, &o->capresult, o->nresult + 1,
	    sizeof(*o->result)) < 0 ||
	    (key != 0 && pp_u64map_put(&o->result_by_addr, key, o->nresult,
	    NULL) < 0))
		return PP_ENOMEM;
	o->result[o->nresult] = r;
	*out = &o->result[o->nresult++];
	return 0;
}

/* The state of mapping m, set up the first time: its object, or NULL
 * when it is skipped (counted) or not a file (not counted). */
static int
mapping_state(struct symbolizer *s, struct pp_mapping *m,
    struct mapstate **out)
{
	struct object *o;
	struct mapstate *st;
	uint64_t *v;
	int rc;

	if ((v = pp_u64map_get(&s->ms_by_mapping, (uintptr_t)m)) != NULL) {
		*out = &s->ms[*v];
		return 0;
	}
	if (pp_grow(&s->ms, &s->capms, s->nms + 1, sizeof(*s->ms)) < 0 ||
	    pp_u64map_put(&s->ms_by_mapping, (uintptr_t)m, s->nms, NULL) < 0)
		return PP_ENOMEM;
	st = *out = &s->ms[s->nms++];
	st->obj = NULL;
	st->bias = 0;
	if (!symbolizable(m->file))
		return 0;
	if ((v = pp_u64map_get(&s->obj_by_file, (uintptr_t)m->file)) != NULL)
		o = s->obj[*v];
	else if ((rc = object_load(s, m->file, &o)) < 0)
		return rc;
	if (o->dwfl == NULL || (*m->build_id != '\0' &&
	    strcasecmp(m->build_id, o->build_id) != 0)) {
		s->skipped++;
		return 0;
	}
	if (*m->build_id == '\0')
		m->build_id = o->build_id;
	st->obj = o;
	st->bias = mapping_bias(o, m);
	return 0;
}

int
pp_symbolize(struct pp_profile *p, unsigned flags, size_t *skipped,
    struct pp_err *e)
{
	struct symbolizer s;
	struct mapstate *st;
	struct pp_location *l;
	struct pp_mapping *m;
	struct result *r;
	size_t i;
	int rc = PP_ENOMEM;

	memset(&s, 0, sizeof(s));
	s.p = p;
	s.flags = flags;
	if (skipped != NULL)
		*skipped = 0;
	if ((s.empty = pp_profile_intern(p, "", 0)) == NULL)
		goto out;
	elf_version(EV_CURRENT);
	for (i = 0; i < p->nfunction; i++) {
		if (p->function[i]->id >= s.next_function_id)
			s.next_function_id = p->function[i]->id;
		if ((rc = index_function(&s, i)) < 0)
			goto out;
	}
	s.next_function_id++;
	for (i = 0; i < p->nlocation; i++) {
		l = p->location[i];
		m = l->mapping;
		if (l->nline > 0 || l->address == 0 || m == NULL ||
		    *m->file == '\0')
			continue;
		if ((rc = mapping_state(&s, m, &st)) < 0)
			goto out;
		if (st->obj == NULL)
			continue;
		if ((rc = resolve(&s, st->obj, l->address - st->bias,
		    &r)) < 0)
			goto out;
		if (r->nline == 0)
			continue;
		if (!r->given) {
			l->line = r->line;
			r->given = true;
		} else {
			rc = PP_ENOMEM;
			if ((l->line = pp_profile_alloc(p,
			    r->nline * sizeof(*l->line))) == NULL)
				goto out;
			memcpy(l->line, r->line, r->nline * sizeof(*l->line));
		}
		l->nline = r->nline;
		m->has_functions |= (r->flags & F_FUNCTION) != 0;
		m->has_filenames |= (r->flags & F_FILENAME) != 0;
		m->has_line_numbers |= (r->flags & F_LINE) != 0;
		m->has_inline_frames |= (r->flags & F_INLINE) != 0;
	}
	rc = 0;
out:
	if (rc == PP_ENOMEM)
		pp_err_set(e, rc, "out of memory symbolizing");
	if (skipped != NULL)
		*skipped = s.skipped;
	for (i = 0; i < s.nobj; i++)
		object_free(s.obj[i]);
	free(s.obj);
	free(s.ms);
	pp_u64map_release(&s.obj_by_file);
	pp_u64map_release(&s.ms_by_mapping);
	pp_u64map_release(&s.function_by_key);
	return rc;
}
