/* Loaded objects, as OBJECT records: each executable segment with its
 * file, file offset and GNU build-id, so that pp-record can symbolize
 * after the fact and tell a rebuilt binary from the one profiled.
 *
 * The table of what was sent is fixed-size static memory, and a scan needs
 * no allocation, so that a scan may also run in the SIGPROF handler (see
 * pp_objects_poll). One lock guards the table and the record buffers; in a
 * handler or inside malloc it is only tried, never waited for.
 *
 * A scan also keeps the records of every object loaded, so that a forked
 * child describes them without dl_iterate_phdr: glibc does not reset that
 * function's lock in the child, and a thread of the parent inside it at
 * the fork would hang the child at its first call. So a fork waits for
 * the scans inside it and refuses new ones (pp_phdr_begin), and a child
 * that cannot be sure of that lock (unwind.c) never scans.
 */
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "agent.h"

#define MAX_OBJECTS	2048
#define OBJ_BUF		(256 * 1024)
#define POLL_NS		1000000000ULL
#define SOON_NS		200000000ULL

struct obj_key {
	uint64_t base;		/* dlpi_addr */
	uint64_t name;		/* hash of dlpi_name */
};

struct scan {
	int force;
	int first;
	uint64_t gen;
	uintptr_t vdso;
	uintptr_t ldso;
};

static atomic_int lock;
static struct obj_key known[MAX_OBJECTS], seen[MAX_OBJECTS];
static int nknown, nseen;
static char buf[OBJ_BUF] __attribute__((aligned(8)));	/* new ones */
static char all[OBJ_BUF] __attribute__((aligned(8)));	/* every one */
static size_t buflen, alllen;
static int bufover, all_ok;
static char cwdpath[4096];
static atomic_uint_fast64_t last_gen;
static atomic_uint_fast64_t next_poll;
static atomic_uint_fast64_t soon_until;

int
pp_objects_lock(int wait)
{
	int i, zero;

	for (i = 0; ; i++) {
		zero = 0;
		if (atomic_compare_exchange_strong(&lock, &zero, 1))
			return 0;
		/* Bounded: a lock held by the thread itself (a program's
		 * signal handler that forks) would never come free. */
		if (!wait || i == 2000)
			return -1;
		sched_yield();
	}
}

void
pp_objects_unlock(void)
{
	atomic_store(&lock, 0);
}

void
pp_objects_child(int locked)
{
	/* Unless fork_prepare held the lock, a scan may have been half
	 * done: describe the objects afresh. */
	atomic_store(&lock, 0);
	if (!locked) {
		all_ok = 0;
		nknown = 0;
		atomic_store(&last_gen, 0);
	}
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int
is_known(const struct obj_key *k)
{
	int i;

	for (i = 0; i < nknown; i++)
		if (known[i].base == k->base && known[i].name == k->name)
			return 1;
	return 0;
}

static uint32_t
build_id(const struct dl_phdr_info *info, uint8_t *out)
{
	const ElfW(Phdr) *ph;
	const ElfW(Nhdr) *nh;
	const char *p, *end;
	size_t align, nsz, dsz;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		align = ph->p_align == 8 ? 8 : 4;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(*nh) <= end) {
			nh = (const ElfW(Nhdr) *)p;
			nsz = (nh->n_namesz + align - 1) & ~(align - 1);
			dsz = (nh->n_descsz + align - 1) & ~(align - 1);
			if ((size_t)(end - p) < sizeof(*nh) + nsz + dsz)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID &&
			    nh->n_namesz == 4 &&
			    memcmp(p + sizeof(*nh), "GNU", 4) == 0) {
				dsz = nh->n_descsz > 40 ? 40 : nh->n_descsz;
				memcpy(out, p + sizeof(*nh) + nsz, dsz);
				return (uint32_t)dsz;
			}
			p += sizeof(*nh) + nsz + dsz;
		}
	}
	return 0;
}

static void
add_record(int new, uint64_t start, uint64_t limit, uint64_t offset,
    const uint8_t *bid, uint32_t bidlen, const char *path, size_t pathlen)
{
	struct pp_rec_object *o;
	size_t len;

	len = PP_ALIGN8(offsetof(struct pp_rec_object, path) + pathlen + 1);
	if (alllen + len > OBJ_BUF || len > PP_MAX_MSG) {
		bufover = 1;
		return;
	}
	o = (struct pp_rec_object *)(all + alllen);
	memset(o, 0, len);
	o->h.type = PP_REC_OBJECT;
	o->h.len = (uint32_t)len;
	o->start = start;
	o->limit = limit;
	o->offset = offset;
	o->build_id_len = bidlen;
	o->path_len = (uint32_t)pathlen;
	memcpy(o->build_id, bid, bidlen);
	memcpy(o->path, path, pathlen);
	alllen += len;
	if (new) {
		memcpy(buf + buflen, o, len);
		buflen += len;
	}
}

static int
scan_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *sc = arg;
	const ElfW(Phdr) *ph;
	struct obj_key k;
	uint8_t bid[40];
	uint32_t bidlen;
	uint64_t page = (uint64_t)getpagesize(), start, limit, off;
	uintptr_t self = (uintptr_t)&scan_cb;
	const char *path;
	int i, first = sc->first, vdso = 0, new;

	sc->first = 0;
	if (first && size >= offsetof(struct dl_phdr_info, dlpi_subs) +
	    sizeof(info->dlpi_subs))
		sc->gen = info->dlpi_adds + info->dlpi_subs;
	k.base = info->dlpi_addr;
	k.name = hash_str(info->dlpi_name != NULL ? info->dlpi_name : "");
	if (nseen < MAX_OBJECTS)
		seen[nseen++] = k;

	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		start = info->dlpi_addr + ph->p_vaddr;
		limit = start + ph->p_memsz;
		if (sc->vdso >= start && sc->vdso < limit)
			vdso = 1;
		if (!(ph->p_flags & PF_X))
			continue;
		if (self >= start && self < limit) {
			pp_agent.self_lo = start;
			pp_agent.self_hi = limit;
		}
		if (info->dlpi_addr == sc->ldso && sc->ldso != 0) {
			pp_agent.ldso_lo = start;
			pp_agent.ldso_hi = limit;
		}
	}

	new = sc->force || !is_known(&k);
	if (vdso)
		path = "[vdso]";
	else if (first && (info->dlpi_name == NULL ||
	    info->dlpi_name[0] == '\0'))
		path = pp_agent.exe;
	else if (info->dlpi_name != NULL && info->dlpi_name[0] == '/')
		path = info->dlpi_name;
	else if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0') {
		/* dlopen("./x.so") keeps the name as given: make it
		 * absolute now, as the directory may change later. */
		path = info->dlpi_name;
		if (getcwd(cwdpath, sizeof(cwdpath)) != NULL &&
		    strlen(cwdpath) + strlen(path) + 2 <= sizeof(cwdpath)) {
			strcat(cwdpath, "/");
			strcat(cwdpath, path);
			path = cwdpath;
		}
	} else
		return 0;
	bidlen = build_id(info, bid);
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		limit = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz +
		    page - 1) & ~(page - 1);
		off = ph->p_offset & ~(page - 1);
		add_record(new, start, limit, off, bid, bidlen, path,
		    strlen(path));
	}
	return 0;
}

/* Sends b[0..len) as messages of whole records. */
static int
send_records(const char *b, size_t len, int wait_ms)
{
	const struct pp_rec *h;
	size_t off = 0, msg, n;

	while (off < len) {
		for (msg = off; msg < len; msg += h->len) {
			h = (const struct pp_rec *)(b + msg);
			if (msg - off + h->len > PP_MAX_MSG)
				break;
		}
		n = msg - off;
		if (pp_send(b + off, n, wait_ms) == -1)
			return -1;
		off += n;
	}
	return 0;
}

int
pp_objects_scan(int force, int nowait)
{
	struct scan sc;
	int rc = 0;

	if (pp_objects_lock(!nowait) == -1)
		return -1;
	if (pp_phdr_begin() == -1) {
		/* A fork in progress, or a child where dl_iterate_phdr may
		 * hang: the next poll looks again. */
		atomic_store(&last_gen, 0);
		pp_objects_unlock();
		return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.force = force;
	sc.first = 1;
	sc.vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	sc.ldso = (uintptr_t)getauxval(AT_BASE);
	buflen = 0;
	alllen = 0;
	bufover = 0;
	nseen = 0;
	dl_iterate_phdr(scan_cb, &sc);
	pp_phdr_end();
	all_ok = !bufover;
	/* What is loaded now is what was sent; an object unloaded since is
	 * forgotten, so a new one at its address is sent again. */
	memcpy(known, seen, (size_t)nseen * sizeof(known[0]));
	nknown = nseen;
	atomic_store(&last_gen, sc.gen);
	if (send_records(buf, buflen, nowait ? 0 : 100) == -1 || bufover) {
		/* Try again, everything, at the next poll; pp-record takes
		 * repeated records as they come. */
		nknown = 0;
		atomic_store(&last_gen, 0);
		rc = -1;
	}
	pp_objects_unlock();
	return rc;
}

static int
gen_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t *gen = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
	    sizeof(info->dlpi_subs))
		*gen = info->dlpi_adds + info->dlpi_subs;
	return 1;
}

void
pp_objects_poll(int nowait)
{
	uint64_t now, when, gen = 0;

	now = pp_now_coarse();
	/* Soon after a dlopen by bare name, look every time: the dlopen may
	 * not have mapped the object yet at the first look. */
	if (now >= atomic_load_explicit(&soon_until, memory_order_relaxed)) {
		when = atomic_load_explicit(&next_poll, memory_order_relaxed);
		if (now < when || !atomic_compare_exchange_strong(&next_poll,
		    &when, now + POLL_NS))
			return;
	}
	if (pp_phdr_begin() == -1)
		return;
	dl_iterate_phdr(gen_cb, &gen);
	pp_phdr_end();
	if (gen != 0 && gen == atomic_load(&last_gen))
		return;
	pp_objects_scan(0, nowait);
}

int
pp_objects_send_all(void)
{
	if (!all_ok)
		return pp_objects_scan(1, 0);
	if (send_records(all, alllen, 100) == -1) {
		nknown = 0;
		atomic_store(&last_gen, 0);
		return -1;
	}
	return 0;
}

void
pp_objects_poll_soon(void)
{
	atomic_store(&soon_until, pp_now_coarse() + SOON_NS);
}
