/* Stack walks with libunwind, loaded privately.
 *
 * libunwind.so.8 also defines _Unwind_RaiseException, _Unwind_Backtrace and
 * backtrace; linked normally it could take those from libgcc_s and glibc
 * for the whole program. dlopen(RTLD_LOCAL) keeps every one of its symbols
 * out of the program's scope; the agent reaches it through dlsym alone,
 * and so needs only its soname at run time, not its headers.
 *
 * unw_backtrace is libunwind's fast walk (a per-thread cache of frame
 * shapes, about 160 ns for 25 frames when warm). Its first use in the
 * process initialises with a mutex, pthread_once and mmap, and its first
 * use in a thread touches its thread-local variables, which for a
 * dlopen'd library glibc allocates with malloc: both happen outside any
 * signal handler (pp_unwind_init, pp_unwind_warm).
 *
 * libunwind checks that an address is readable before it reads it (in
 * frames past a signal frame) by writing a byte from it into a pipe of its
 * own, opened at its first walk on the lowest free numbers (3 and 4, say).
 * A program that closes every descriptor it did not open, and opens files
 * on those numbers, would then have libunwind read from its file, write
 * a byte into its other file, or close both and put its pipe there: on the
 * next walk after a signal, at any moment. So libunwind gets no pipe: its
 * calls to pipe2, read, write, close and syscall are redirected (in its
 * own GOT, nobody else's) to the functions below, which hand it two
 * negative numbers that no descriptor can have, and answer its one-byte
 * write with process_vm_readv on the process itself: a system call that
 * reads memory and fails with EFAULT where it is unmapped or unreadable,
 * as the write did, with no descriptor to lose and nothing to inherit
 * across fork or exec; it is async-signal-safe. Calls on any other number
 * go to glibc unchanged.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define UNW_SONAME		"libunwind.so.8"
/* From libunwind-common.h, so that no headers are needed. */
#define UNW_CACHE_GLOBAL	1

/* The x86-64 ABI's argument of __tls_get_addr. */
struct tls_index {
	unsigned long module;
	unsigned long offset;
};
extern void *__tls_get_addr(struct tls_index *);

static void barrier_register(void);

static int (*unw_backtrace_fn)(void **, int);
static size_t unw_modid;

/* <link.h>'s struct r_debug_extended (glibc 2.35), without its header:
 * r_next is there when r_version is 2 or more. */
struct rdebug {
	struct r_debug base;
	const volatile struct rdebug *r_next;
};

/* glibc's _r_debug, the first namespace's; NULL: not found. */
static const volatile struct rdebug *rdebug;
/* The word of the loader's lock that dl_iterate_phdr takes (glibc's
 * private dl_load_write_lock, a recursive mutex: 0 when free); NULL: not
 * found. */
static const volatile int *write_lock;

/* The numbers libunwind gets for its pipe: never descriptors. */
#define VFD_READ	(-2)
#define VFD_WRITE	(-3)

/* process_vm_readv refused (seccomp, an old kernel): use futex instead. */
static int vm_read_broken;

/* Is the byte at addr readable? 1, or -1 with errno EFAULT. */
static int
readable(const void *addr)
{
	static const struct timespec zero = { 0, 0 };
	struct iovec local, remote;
	char c;

	if (!vm_read_broken) {
		local.iov_base = &c;
		local.iov_len = 1;
		remote.iov_base = (void *)addr;
		remote.iov_len = 1;
		if (syscall(SYS_process_vm_readv, getpid(), &local, 1UL,
		    &remote, 1UL, 0UL) == 1)
			return 1;
		if (errno == EFAULT)
			return -1;
		vm_read_broken = 1;
	}
	/* FUTEX_WAIT reads the word (EFAULT if it cannot) and, with a zero
	 * timeout, never sleeps: EAGAIN when it differs from the value
	 * given, ETIMEDOUT when it equals it. */
	if (syscall(SYS_futex, (void *)((uintptr_t)addr & ~(uintptr_t)3),
	    FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0) == -1 && errno == EFAULT)
		return -1;
	return 1;
}

static int
unw_pipe2(int fd[2], int flags)
{
	(void)flags;
	fd[0] = VFD_READ;
	fd[1] = VFD_WRITE;
	return 0;
}

static ssize_t
unw_read(int fd, void *buf, size_t n)
{
	if (fd == VFD_READ) {
		/* An empty pipe: libunwind keeps it. */
		errno = EAGAIN;
		return -1;
	}
	return read(fd, buf, n);
}

static ssize_t
unw_write(int fd, const void *buf, size_t n)
{
	if (fd == VFD_WRITE)
		return n == 0 ? 0 : readable(buf);
	return write(fd, buf, n);
}

static int
unw_close(int fd)
{
	if (fd == VFD_READ || fd == VFD_WRITE)
		return 0;
	return close(fd);
}

/* libunwind writes through syscall(SYS_write, ...), so that sanitizers do
 * not see the read of the address. Six arguments pass through whatever
 * the caller gave (the extra ones are whatever is in those registers, as
 * with glibc's syscall). */
static long
unw_syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_write && (int)a[0] == VFD_WRITE)
		return a[2] == 0 ? 0 : readable((const void *)a[1]);
	return syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static const struct {
	const char *name;
	void *fn;
} unw_hooks[] = {
	{ "close", (void *)unw_close },
	{ "pipe2", (void *)unw_pipe2 },
	{ "read", (void *)unw_read },
	{ "syscall", (void *)unw_syscall },
	{ "write", (void *)unw_write },
};

struct lock_search {
	const char *base;	/* _rtld_global */
	size_t size;
	pid_t tid;
	const volatile int *found;
	int n;
};

static int
lock_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lock_search *ls = arg;
	const pthread_mutex_t *m;
	size_t off;

	(void)info;
	(void)size;
	for (off = 0; off + sizeof(*m) <= ls->size;
	    off += _Alignof(pthread_mutex_t)) {
		m = (const pthread_mutex_t *)(const void *)(ls->base + off);
		if (m->__data.__lock != 0 && m->__data.__count == 1 &&
		    m->__data.__owner == ls->tid &&
		    (m->__data.__kind & 0x7f) == PTHREAD_MUTEX_RECURSIVE_NP) {
			ls->found = &m->__data.__lock;
			ls->n++;
		}
	}
	return 1;
}

/* Finds write_lock: in dl_iterate_phdr's callback, the one recursive
 * mutex of the loader's private _rtld_global that the calling thread
 * holds, once. Not found (another layout, or a second lock held), fork
 * goes by what it counts and the loader's state alone. */
static void
find_write_lock(void)
{
	struct lock_search ls;
	const ElfW(Sym) *sym = NULL;
	Dl_info di;

	memset(&ls, 0, sizeof(ls));
	if ((ls.base = dlsym(RTLD_DEFAULT, "_rtld_global")) == NULL ||
	    dladdr1(ls.base, &di, (void **)&sym, RTLD_DL_SYMENT) == 0 ||
	    sym == NULL || (uintptr_t)ls.base % _Alignof(pthread_mutex_t))
		return;
	ls.size = sym->st_size;
	ls.tid = gettid();
	(void)dl_iterate_phdr(lock_cb, &ls);
	if (ls.n == 1)
		write_lock = ls.found;
}

struct relro {
	uintptr_t base, lo, hi;
};

static int
find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct relro *r = arg;
	int i;

	(void)size;
	if (info->dlpi_addr != r->base)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
			r->lo = r->base + info->dlpi_phdr[i].p_vaddr;
			r->hi = r->lo + info->dlpi_phdr[i].p_memsz;
		}
	return 1;
}

/* Points the GOT slots of n relocations at our hooks; returns the hooks
 * set. */
static unsigned
patch_relocs(const ElfW(Rela) *rel, size_t n, const ElfW(Sym) *sym,
    const char *str, uintptr_t base, const struct relro *rr)
{
	uintptr_t slot, page, psz = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned done = 0;
	const char *name;
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (ELF64_R_TYPE(rel[i].r_info) != R_X86_64_JUMP_SLOT &&
		    ELF64_R_TYPE(rel[i].r_info) != R_X86_64_GLOB_DAT)
			continue;
		name = str + sym[ELF64_R_SYM(rel[i].r_info)].st_name;
		for (k = 0; k < sizeof(unw_hooks) / sizeof(unw_hooks[0]); k++)
			if (strcmp(name, unw_hooks[k].name) == 0)
				break;
		if (k == sizeof(unw_hooks) / sizeof(unw_hooks[0]))
			continue;
		slot = base + rel[i].r_offset;
		page = slot & ~(psz - 1);
		if (slot >= rr->lo && slot < rr->hi) {
			if (mprotect((void *)page, psz, PROT_READ |
			    PROT_WRITE) == -1)
				continue;
			*(void **)slot = unw_hooks[k].fn;
			(void)mprotect((void *)page, psz, PROT_READ);
		} else
			*(void **)slot = unw_hooks[k].fn;
		done |= 1U << k;
	}
	return done;
}

/* Redirects libunwind's descriptor calls (see the top of this file), before
 * its first walk opens the pipe. Returns 0, or -1 if pipe2 or the write
 * (syscall or write) could not be redirected. */
static int
hook_libunwind(void *h)
{
	struct link_map *lm;
	struct relro rr = { 0, 0, 0 };
	const ElfW(Dyn) *d;
	const ElfW(Rela) *rela = NULL, *jmprel = NULL;
	const ElfW(Sym) *sym = NULL;
	const char *str = NULL;
	size_t relasz = 0, jmpsz = 0;
	uintptr_t base, v;
	unsigned done;

	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == -1 || lm == NULL)
		return -1;
	base = lm->l_addr;
	for (d = lm->l_ld; d->d_tag != DT_NULL; d++) {
		/* glibc relocates these in place; file values are below the
		 * base. */
		v = d->d_un.d_ptr;
		switch (d->d_tag) {
		case DT_RELA:
			rela = (const void *)(v < base ? v + base : v);
			break;
		case DT_RELASZ:
			relasz = d->d_un.d_val;
			break;
		case DT_JMPREL:
			jmprel = (const void *)(v < base ? v + base : v);
			break;
		case DT_PLTRELSZ:
			jmpsz = d->d_un.d_val;
			break;
		case DT_SYMTAB:
			sym = (const void *)(v < base ? v + base : v);
			break;
		case DT_STRTAB:
			str = (const void *)(v < base ? v + base : v);
			break;
		}
	}
	if (sym == NULL || str == NULL)
		return -1;
	rr.base = base;
	(void)dl_iterate_phdr(find_relro, &rr);
	done = 0;
	if (rela != NULL)
		done |= patch_relocs(rela, relasz / sizeof(*rela), sym, str,
		    base, &rr);
	if (jmprel != NULL)
		done |= patch_relocs(jmprel, jmpsz / sizeof(*jmprel), sym, str,
		    base, &rr);
	/* pipe2 (index 1), and syscall or write (3, 4). */
	return (done & 2) && (done & 24) ? 0 : -1;
}

int
pp_unwind_init(void)
{
	int (*policy)(void *, int);
	void **as;
	void *h, *pc[8];

	rdebug = dlsym(RTLD_DEFAULT, "_r_debug");
	find_write_lock();
	if (pp_real_dlopen == NULL ||
	    (h = pp_real_dlopen(UNW_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -1;
	/* Without the hooks libunwind would keep a pipe the program can
	 * take from under it: it never walks then, and samples keep their
	 * leaf alone. */
	if (hook_libunwind(h) == -1)
		return 0;
	if ((unw_backtrace_fn = (int (*)(void **, int))dlsym(h,
	    "unw_backtrace")) == NULL)
		return -1;
	/* unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_GLOBAL)
	 * by their x86-64 names: this libunwind treats per-thread caching
	 * as global anyway. */
	policy = (int (*)(void *, int))dlsym(h,
	    "_ULx86_64_set_caching_policy");
	as = dlsym(h, "_ULx86_64_local_addr_space");
	if (policy != NULL && as != NULL)
		(void)policy(*as, UNW_CACHE_GLOBAL);
	if (dlinfo(h, RTLD_DI_TLS_MODID, &unw_modid) == -1)
		unw_modid = 0;
	if (unw_backtrace_fn(pc, 8) <= 0)
		return -1;
	pp_thr.warm = 1;
	barrier_register();
	return 0;
}

void
pp_unwind_warm(struct pp_thread *t)
{
	struct tls_index ti;

	if (unw_backtrace_fn == NULL)
		return;
	/* Allocate libunwind's thread-local block for this thread now,
	 * without walking: a walk would also build the thread's frame
	 * cache (256 KiB), which a thread that is never sampled does not
	 * need; libunwind builds it with mmap on the first walk, which is
	 * safe in the handler. */
	if (unw_modid != 0) {
		ti.module = unw_modid;
		ti.offset = 0;
		(void)__tls_get_addr(&ti);
	}
	t->warm = 1;
}

/*
 * fork: glibc (2.36) resets the loader's main lock and its TLS lock in the
 * child, but not the lock dl_iterate_phdr takes (dl_load_write_lock), and
 * libunwind has locks of its own. A thread inside libunwind when another
 * forks would leave the child hung at its first walk. So fork waits,
 * briefly and boundedly, until no thread is inside libunwind, and refuses
 * new walks meanwhile (those samples keep their leaf only).
 *
 * The loader holds that lock too while dlopen adds an object to its list
 * and dlclose takes one off, and dl_iterate_phdr holds it throughout. In a
 * child forked meanwhile it stays held, by a thread the child does not
 * have: the program may never call dl_iterate_phdr there, but the agent
 * does, at the child's first sample (a rule not cached, libunwind) and
 * when it describes the objects. So fork first waits until no other
 * thread is inside the agent's dlopen, dlclose or own dl_iterate_phdr
 * (pp_dl_enter and pp_phdr_begin count them; new dlopens wait, new
 * dl_iterate_phdr are refused) and the loader's state for debuggers
 * (r_debug) says no list is changing, with walks still allowed; then for
 * the walks, and for the lock itself to be free.
 *
 * The child then looks at the memory it inherited (pp_unwind_child): if
 * the lock is held, or the parent gave up waiting, it never calls
 * dl_iterate_phdr (pp_agent.no_loader; for good, and in its own children,
 * which inherit the lock as it is; exec starts afresh). Heap walks use the
 * rules cached already and no libunwind: a sample they do not walk, and
 * every CPU sample, keeps its leaf only; objects the child loads are not
 * described. The lock is glibc's, private: find_write_lock looks for it
 * once, at start-up. That sees every way into the loader: the agent's
 * dlopen, a dlopen by bare name (the stub jumps to glibc, and the agent
 * does not see it return), glibc's own (__libc_dlopen_mode: NSS modules,
 * iconv's gconv modules, libgcc_s for pthread_cancel), the program's own
 * dl_iterate_phdr.
 *
 * What remains: where the lock is not found (another glibc), the child
 * goes by what the agent counted and by the loader's state, which misses
 * the program's dl_iterate_phdr and the first object of a dlopen that
 * does not come back through the agent (2.36 adds it to the list before
 * it says RT_ADD). Waiting and holding back, fork sees only the agent's
 * dlopens and dlcloses and, for the others, the lock and the loader's
 * state: new ones, but for dlopens by bare name, are not held back, and a
 * child forked during one does without dl_iterate_phdr.
 *
 * A shared counter of walkers costs two locked instructions a walk on a
 * cache line every sampling thread writes: at rate 1 with two threads it
 * doubled the agent's cost. Instead each thread owns a slot and marks it
 * with plain stores; fork_prepare makes those visible with membarrier(2),
 * which runs a memory barrier on every thread of the process. Threads
 * without a slot (more than NSLOTS at once) and kernels without membarrier
 * use the counter.
 */
#define NSLOTS		1024
#define PROBES		8

/* pp_agent.forking: fork waits for the loader, new dlopens wait; then
 * for the walks, new ones refused too. */
#define FORK_DL		1
#define FORK_WALKS	2

struct slot {
	atomic_int owner;	/* tid, 0: free */
	atomic_int busy;	/* inside libunwind */
	char pad[56];		/* a cache line each: no false sharing */
};

static struct slot slots[NSLOTS];
static int use_membarrier;

/* Are no objects being added or removed, in any namespace? Not found:
 * as if none were. */
static int
loader_settled(void)
{
	const volatile struct rdebug *r = rdebug;
	int i;

	for (i = 0; r != NULL && i < 64; i++) {
		if (r->base.r_state != RT_CONSISTENT)
			return 0;
		r = r->base.r_version >= 2 ? r->r_next : NULL;
	}
	return 1;
}

/* Is a thread other than t inside the agent's dlopen, dlclose or
 * dl_iterate_phdr, or the loader changing its list? */
static int
loader_busy(struct pp_thread *t)
{
	return atomic_load(&pp_agent.in_loader) != t->in_dl ||
	    !loader_settled();
}

/* May the lock dl_iterate_phdr takes be held by a thread other than t?
 * Exactly, where it was found. */
static int
loader_locked(struct pp_thread *t)
{
	return write_lock != NULL ? *write_lock != 0 : loader_busy(t);
}

static void
barrier_register(void)
{
	use_membarrier = syscall(SYS_membarrier,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

static struct slot *
slot_of(struct pp_thread *t)
{
	int i, zero, tid;

	if (t->slot == 0 && use_membarrier) {
		t->slot = -1;
		tid = pp_tid(t);
		for (i = 0; i < PROBES; i++) {
			zero = 0;
			if (atomic_compare_exchange_strong(
			    &slots[(tid + i) % NSLOTS].owner, &zero, tid)) {
				t->slot = (tid + i) % NSLOTS + 1;
				break;
			}
		}
	}
	return t->slot > 0 ? &slots[t->slot - 1] : NULL;
}

void
pp_unwind_thread_exit(struct pp_thread *t)
{
	if (t->slot > 0) {
		atomic_store(&slots[t->slot - 1].busy, 0);
		atomic_store(&slots[t->slot - 1].owner, 0);
	}
	t->slot = 0;
}

/* Marks the calling thread as walking, unless a fork is in progress:
 * returns its slot (or NULL: counted in pp_agent.unwinders), and sets
 * *refused when it may not walk now. */
static struct slot *
walk_enter(struct pp_thread *t, int *refused)
{
	struct slot *sl;

	*refused = 0;
	if ((sl = slot_of(t)) != NULL) {
		atomic_store_explicit(&sl->busy, 1, memory_order_relaxed);
		/* Only the compiler must keep the order; membarrier in
		 * fork_prepare orders it for the processor. */
		atomic_signal_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&pp_agent.forking,
		    memory_order_relaxed) == FORK_WALKS) {
			atomic_store_explicit(&sl->busy, 0,
			    memory_order_relaxed);
			*refused = 1;
		}
		return sl;
	}
	if (atomic_load(&pp_agent.forking) == FORK_WALKS) {
		*refused = 1;
		return NULL;
	}
	atomic_fetch_add(&pp_agent.unwinders, 1);
	if (atomic_load(&pp_agent.forking) == FORK_WALKS) {
		atomic_fetch_sub(&pp_agent.unwinders, 1);
		*refused = 1;
	}
	return NULL;
}

static void
walk_leave(struct slot *sl)
{
	if (sl != NULL)
		atomic_store_explicit(&sl->busy, 0, memory_order_release);
	else
		atomic_fetch_sub(&pp_agent.unwinders, 1);
}

int
pp_unwind(uint64_t *pc, int max)
{
	struct slot *sl;
	int n, refused;

	if (unw_backtrace_fn == NULL || pp_agent.no_loader)
		return 0;
	sl = walk_enter(&pp_thr, &refused);
	if (refused)
		return 0;
	n = unw_backtrace_fn((void **)pc, max);
	walk_leave(sl);
	return n < 0 ? 0 : n;
}

/* pthread_getattr_np allocates (and reads /proc/self/maps for the main
 * thread) while it holds the thread's lock: asked from the allocator, it
 * would wait for ever for a program that asks for its own stack (Rust's
 * std, the Boehm GC, cgo do at a thread's start). So it is asked only
 * here, where the program holds nothing: in the constructor and before a
 * thread's start routine. */
void
pp_unwind_stack(struct pp_thread *t)
{
	pthread_attr_t a;
	void *addr;
	size_t size;

	if (t->stack_hi != 0 || unw_backtrace_fn == NULL ||
	    !pp_agent.fast_walk || pp_agent.heap_rate == 0)
		return;
	t->stack_hi = 1;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	if (pthread_attr_getstack(&a, &addr, &size) == 0) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&a);
}

int
pp_unwind_heap(uint64_t *pc, int max, struct pp_walk_memo *m)
{
	struct pp_thread *t = &pp_thr;
	struct slot *sl = NULL;
	int n, refused = 1;

	if (unw_backtrace_fn != NULL)
		sl = walk_enter(t, &refused);
	if (refused) {
		/* No walk (a fork in progress): no memo, or heap_sample
		 * would take the last walk's stack for this sample, or
		 * this sample's leaf for the next walk from the memo. */
		m->hit = 0;
		m->sp = 0;
		return 0;
	}
	/* A thread whose stack is not known (hi 0: not started by the
	 * agent's pthread_create) gives [0, 0), which pp_walk refuses. */
	n = pp_agent.fast_walk ? pp_walk(pc, max, t->stack_lo, t->stack_hi,
	    m) : -1;
	if (n < 0) {
		m->hit = 0;
		m->sp = 0;
		/* 2, for tests: what the rules do not walk keeps its leaf;
		 * so does it where libunwind's dl_iterate_phdr may hang. */
		n = pp_agent.fast_walk == 2 || pp_agent.no_loader ? 0 :
		    unw_backtrace_fn((void **)pc, max);
	}
	walk_leave(sl);
	return n < 0 ? 0 : n;
}

static int
walkers(void)
{
	int i;

	if (atomic_load(&pp_agent.unwinders) != 0)
		return 1;
	for (i = 0; i < NSLOTS && use_membarrier; i++)
		if (atomic_load_explicit(&slots[i].busy,
		    memory_order_acquire))
			return 1;
	return 0;
}

/* The i-th pause of a bounded wait: a yield, later a millisecond. */
static void
pause_at(int i)
{
	static const struct timespec ms = { 0, 1000000 };

	if (i < 100)
		sched_yield();
	else
		nanosleep(&ms, NULL);
}

int
pp_unwind_fork_prepare(struct pp_thread *t)
{
	int i, j;

	/* The loader first, walks still allowed: samples lose their
	 * stacks only while fork waits for the walks. */
	t->forker = 1;
	atomic_store(&pp_agent.forking, FORK_DL);
	for (i = 0; i < 200 && loader_busy(t); i++)
		pause_at(i);
	atomic_store(&pp_agent.forking, FORK_WALKS);
	if (use_membarrier && syscall(SYS_membarrier,
	    MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == -1) {
		/* Cannot see the slots: wait as long as allowed. */
		pause_at(100);
	}
	/* Walks take the lock too; with them done, any holder is the
	 * program's (its dl_iterate_phdr, glibc's own dlopen). */
	for (j = 0; j < 200 && (walkers() || loader_locked(t)); j++)
		pause_at(j);
	return i == 200 || j == 200 ? -1 : 0;
}

void
pp_unwind_fork_done(void)
{
	atomic_store(&pp_agent.forking, 0);
	pp_thr.forker = 0;
}

void
pp_unwind_child(struct pp_thread *t, int risky)
{
	/* The memory as the fork left it, each thread's writes up to where
	 * it was: is the lock held by a thread the child does not have? */
	if (risky || loader_locked(t))
		pp_agent.no_loader = 1;
	if (pp_agent.no_loader)
		pp_walk_cached_only();
	/* One thread now: every other slot's owner is gone, and so is
	 * every other thread in the loader. */
	atomic_store(&pp_agent.in_loader, t->in_dl);
	memset(slots, 0, sizeof(slots));
	t->slot = 0;
	atomic_store(&pp_agent.unwinders, 0);
	atomic_store(&pp_agent.forking, 0);
	t->forker = 0;
	barrier_register();
}

int
pp_dl_wait(struct pp_thread *t)
{
	int i, saved;

	/* The forking thread (another fork handler that dlopens, in the
	 * parent or in the child before the agent's) would wait for its own
	 * fork. */
	if (t->in_dl > 0 || t->forker || !atomic_load(&pp_agent.forking))
		return 0;
	saved = errno;
	/* Longer than fork_prepare waits: the fork itself comes after. */
	for (i = 0; i < 1100 && atomic_load(&pp_agent.forking); i++)
		pause_at(i);
	errno = saved;
	return i == 1100 ? -1 : 0;
}

void
pp_dl_enter(struct pp_thread *t)
{
	/* Nested (a constructor's dlopen: the fork waits for the outer
	 * one anyway) or the forking thread's own: no waiting. */
	while (t->in_dl == 0 && !t->forker && pp_dl_wait(t) == 0) {
		atomic_fetch_add(&pp_agent.in_loader, 1);
		if (!atomic_load(&pp_agent.forking))
			goto in;
		/* A fork began meanwhile, and may have missed the count:
		 * it goes first. */
		atomic_fetch_sub(&pp_agent.in_loader, 1);
	}
	/* Waited too long, if waiting: a child forked now does without
	 * dl_iterate_phdr. */
	atomic_fetch_add(&pp_agent.in_loader, 1);
in:
	t->in_dl++;
}

void
pp_dl_leave(struct pp_thread *t)
{
	t->in_dl--;
	atomic_fetch_sub(&pp_agent.in_loader, 1);
}

int
pp_phdr_begin(void)
{
	if (pp_agent.no_loader || atomic_load(&pp_agent.forking))
		return -1;
	atomic_fetch_add(&pp_agent.in_loader, 1);
	if (atomic_load(&pp_agent.forking)) {
		atomic_fetch_sub(&pp_agent.in_loader, 1);
		return -1;
	}
	return 0;
}

void
pp_phdr_end(void)
{
	atomic_fetch_sub(&pp_agent.in_loader, 1);
}

int
pp_stack_from(uint64_t *out, const uint64_t *raw, int n, uint64_t leaf,
    int *truncated)
{
	int i, j, k;

	for (i = 0; i < n && i < PP_SKIP_MAX; i++)
		if (raw[i] == leaf)
			break;
	if (i == n || i == PP_SKIP_MAX)
		return 0;
	/* In place is fine: k never passes j. The agent's frames further
	 * down (its thread start routine, a wrapper) are not the program's
	 * and are left out. */
	out[0] = raw[i];
	k = 1;
	for (j = i + 1; j < n; j++) {
		if (raw[j] >= pp_agent.self_lo && raw[j] < pp_agent.self_hi)
			continue;
		if (k == PP_MAX_FRAMES) {
			*truncated = 1;
			break;
		}
		out[k++] = raw[j];
	}
	return k;
}
