/* Heap sampling: the malloc family, interposed.
 *
 * Allocations are sampled as a Poisson process over bytes: a thread-local
 * countdown drops by each allocation's size, and the allocation that takes
 * it to zero is sampled; the next gap is exponential with mean heap_rate
 * (golang/go#26618: a fixed interval is biased). The unsampled path is that
 * subtraction and a jump to glibc.
 *
 * free() must tell a sampled block from any other at the cost of a few ns.
 * A table of sampled addresses costs a cache miss a free (measured: 10 ns,
 * +14% on a malloc/free loop). Instead a sampled block is allocated 16
 * bytes (or its alignment) larger and handed out after a header holding a
 * signature, its address xor a random secret, and its key. free(p) compares
 * the 8 bytes before p, which for a block of glibc's own are its chunk's
 * prev_size field, on the cache line glibc's free reads next anyway; a
 * chance match needs the 8 bytes before a chunk to equal that chunk's
 * address xor a 64-bit secret. The signature is cleared when the block is
 * freed. Everything that reads a block's size from glibc (realloc,
 * malloc_usable_size) is interposed too, as glibc's rules for replacing
 * malloc ask.
 *
 * The key, not the address, names the block on the wire: records wait in
 * per-thread buffers, so a block sampled in one thread and freed in
 * another can have its FREE sent before its ALLOC, and its address may
 * meanwhile have been reused; a key is never reused within a connection.
 *
 * Records go to a buffer per thread, sent as one message when it is full,
 * 50 ms after its first record, at once for a thread that samples seldom,
 * and at thread exit, exec, _exit, fork and process exit. The CPU handler
 * never touches it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define SAMPLE_HDR	offsetof(struct pp_rec_sample, pc)
#define SAMPLE_MAX	(SAMPLE_HDR + 8 * (PP_MAX_FRAMES + PP_SKIP_MAX))
#define HEAP_BUF	PP_MAX_MSG
#define IN_BUF_MAX	(HEAP_BUF / sizeof(struct pp_rec_alloc))
#define HEAP_MAP	(HEAP_BUF + PP_STACK_IDS * sizeof(uint64_t) + \
			    sizeof(struct pp_walk_memo) + \
			    IN_BUF_MAX * sizeof(uint16_t))
#define FLUSH_NS	50000000ULL
#define KEY_BATCH	4096		/* keys a thread takes at a time */
#define MIN_ALIGN	16		/* glibc's MALLOC_ALIGNMENT on x86-64 */

/* Just before a sampled block. */
struct sampled {
	uint64_t sig;		/* the block's address ^ secret */
	uint64_t meta;		/* key << 8 | log2 of the bytes before the
				 * block (16, or its alignment) */
};

enum how { HOW_MALLOC, HOW_CALLOC, HOW_ALIGNED };

/* 0 until heap sampling starts, then never changes: no block carries a
 * header before, and every one must still be recognised after the agent
 * went inert. */
static uint64_t secret;
static uint64_t child_keys;	/* keys below were sampled by a parent */
static uint32_t clock_every;
static size_t (*real_usable)(void *);

static inline struct sampled *
sampled_of(const void *p)
{
	return (struct sampled *)((char *)p - sizeof(struct sampled));
}

static inline __attribute__((always_inline)) int
is_sampled(const void *p)
{
	uint64_t s = secret;

	return p != NULL && s != 0 &&
	    PP_UNLIKELY(sampled_of(p)->sig == ((uint64_t)(uintptr_t)p ^ s));
}

static inline char *
sampled_base(const void *p)
{
	return (char *)p - ((size_t)1 << (sampled_of(p)->meta & 0xff));
}

int
pp_heap_init(void)
{
	uint64_t s = 0;

	if ((real_usable = (size_t (*)(void *))dlsym(RTLD_NEXT,
	    "malloc_usable_size")) == NULL)
		return -1;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)pp_now_coarse() ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)&s;
	/* Rare samples can afford a clock read each (a few ns, vDSO);
	 * at small rates read it every 16 records. */
	clock_every = pp_agent.heap_rate >= 65536 ? 1 : 16;
	secret = s | 1;
	return 0;
}

static uint64_t
splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Bytes to the next sample: exponential with mean heap_rate, rounded up
 * so that an allocation of n bytes is sampled with probability
 * 1 - exp(-n/rate), which is what the recorder unsamples with. */
static uint64_t
heap_gap(struct pp_thread *t)
{
	struct timespec ts;
	uint64_t x;
	double u, g;

	if (pp_agent.heap_rate <= 1)
		return 0;
	if (t->rng == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->rng = splitmix((uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)t ^
		    (uint64_t)pp_tid(t) << 48) | 1;
	}
	x = t->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	x *= 0x2545f4914f6cdd1dULL;
	u = (double)((x >> 11) + 1) * 0x1.0p-53;	/* (0, 1] */
	g = -log(u) * (double)pp_agent.heap_rate;
	if (g >= 0x1.0p62)
		return (uint64_t)1 << 62;
	return (uint64_t)g + 1;
}

/* The countdown ran out: is this allocation of n bytes sampled? */
static int
heap_due(struct pp_thread *t, size_t n)
{
	if (t->guard)
		return 0;
	if (!pp_on() || pp_agent.heap_rate == 0) {
		/* Before the constructor ran, ask again next time; after, never
		 * again. */
		if (pp_agent.inited)
			t->countdown = UINT64_MAX;
		return 0;
	}
	if (t->rng == 0 && pp_agent.heap_rate > 1) {
		/* The thread's first look: start its countdown. */
		t->countdown = heap_gap(t);
		if (n < t->countdown) {
			t->countdown -= n;
			return 0;
		}
	}
	t->countdown = heap_gap(t);
	return 1;
}

static struct pp_walk_memo *
memo_of(struct pp_thread *t)
{
	return (struct pp_walk_memo *)(void *)(t->stacks + PP_STACK_IDS);
}

/* Where in buf the ALLOC of key in_key0 + i is, for i < in_n. */
static uint16_t *
in_buf_of(struct pp_thread *t)
{
	return (uint16_t *)(void *)(memo_of(t) + 1);
}

/* The buffer is empty again: no ALLOC in it to find. */
static void
in_buf_reset(struct pp_thread *t)
{
	t->in_n = 0;
	t->in_closed = 0;
}

/* Notes that the ALLOC of key is at offset off in buf. Keys of a buffer
 * are consecutive but where the thread takes a new batch of them: from
 * there on its ALLOCs are not noted. */
static void
in_buf_note(struct pp_thread *t, uint64_t key, uint32_t off)
{
	if (t->in_closed)
		return;
	if (t->in_n == 0)
		t->in_key0 = key;
	else if (key != t->in_key0 + t->in_n || t->in_n == IN_BUF_MAX) {
		t->in_closed = 1;
		return;
	}
	in_buf_of(t)[t->in_n++] = (uint16_t)(off / 8);
}

/* A block of this thread freed while its ALLOC waits in the buffer: the
 * ALLOC loses its key (an allocation freed already, proto.h) and no FREE
 * is sent: for the program 8 bytes less to send, for the recorder no
 * live block to add and remove. Returns 1 if so. */
static int
in_buf_cancel(struct pp_thread *t, uint64_t key)
{
	struct pp_rec_alloc *a;
	uint64_t i = key - t->in_key0;

	if (t->buf == NULL || i >= t->in_n)
		return 0;
	a = (struct pp_rec_alloc *)(void *)(t->buf +
	    (size_t)in_buf_of(t)[i] * 8);
	if (a->h.type != PP_REC_ALLOC || a->addr != key)
		return 0;
	a->addr = 0;
	return 1;
}

static void
count_drops(const char *buf, uint32_t len)
{
	const struct pp_rec *h;
	uint64_t s = 0, f = 0;
	uint32_t off;

	for (off = 0; off + sizeof(*h) <= len; off += h->len) {
		h = (const struct pp_rec *)(buf + off);
		if (h->len < sizeof(*h))
			break;
		if (h->type == PP_REC_SAMPLE || h->type == PP_REC_ALLOC)
			s++;
		else if (h->type == PP_REC_FREE)
			f += ((const struct pp_rec_free *)h)->n;
	}
	atomic_fetch_add(&pp_agent.drop_samples, s);
	atomic_fetch_add(&pp_agent.drop_frees, f);
}

void
pp_heap_flush(struct pp_thread *t)
{
	if (t->buf == NULL || t->len == 0)
		return;
	if (pp_send(t->buf, t->len, 0) == 0)
		pp_report_drops();
	else {
		count_drops(t->buf, t->len);
		/* The STACKs it held never arrived. */
		memset(t->stacks, 0, PP_STACK_IDS * sizeof(uint64_t));
	}
	t->len = 0;
	t->free_at = 0;
	t->nrec = 0;
	in_buf_reset(t);
	pp_objects_poll(1);
	pp_cpu_check_handler();
}

static void *
heap_reserve(struct pp_thread *t, size_t len)
{
	void *b;

	if (t->buf == NULL) {
		b = mmap(NULL, HEAP_MAP, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		t->buf = b;
		t->stacks = (uint64_t *)(void *)((char *)b + HEAP_BUF);
		t->len = 0;
		t->free_at = 0;
		t->nrec = 0;
		in_buf_reset(t);
		pp_thread_register(t);
	}
	if (t->len + len > HEAP_BUF)
		pp_heap_flush(t);
	return t->buf + t->len;
}

/* len bytes were written at the end of the buffer. */
static void
heap_added(struct pp_thread *t, uint32_t len)
{
	int first = t->len == 0, sparse;
	uint64_t now;

	t->len += len;
	if (atomic_load_explicit(&pp_agent.final, memory_order_relaxed)) {
		pp_heap_flush(t);
		return;
	}
	if (!first && ++t->nrec < clock_every)
		return;
	t->nrec = 0;
	now = pp_now_coarse();
	if (first) {
		/* A thread that samples seldom sends at once: its record would
		 * otherwise wait for its next sample, maybe for ever. */
		sparse = now - t->last_ns >= FLUSH_NS;
		t->first_ns = now;
		t->last_ns = now;
		if (sparse)
			pp_heap_flush(t);
		return;
	}
	t->last_ns = now;
	if (now - t->first_ns >= FLUSH_NS)
		pp_heap_flush(t);
}

static uint64_t
heap_key(struct pp_thread *t)
{
	if (t->key_next == t->key_end) {
		t->key_next = atomic_fetch_add(&pp_agent.keys, KEY_BATCH);
		t->key_end = t->key_next + KEY_BATCH;
	}
	return t->key_next++;
}

static uint64_t
stack_hash(const uint64_t *pc, int n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL * (uint64_t)(n + 1);
	int i;

	for (i = 0; i < n; i++) {
		h ^= pc[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h | 1;
}

/* Records the ALLOC of n bytes under key; ra is the return address into
 * the caller of the interposed function. A stack the thread has defined
 * goes as its number (32 bytes, where the frames take 40 and more): at
 * rate 1 most allocations come from a few stacks, and what the program
 * pays for a sample is mostly the bytes it sends. */
static void
heap_sample(struct pp_thread *t, size_t n, uint64_t key, void *ra)
{
	struct pp_walk_memo *memo;
	struct pp_rec_stack *s;
	struct pp_rec_alloc *a;
	uint64_t h;
	uint32_t id, pre;
	int raw, k, trunc = 0;

	if ((s = heap_reserve(t, SAMPLE_MAX + sizeof(*a))) == NULL) {
		atomic_fetch_add(&pp_agent.drop_samples, 1);
		return;
	}
	memo = memo_of(t);
	/* The walk starts in the agent; the program's stack begins at the
	 * return address into the caller of malloc (or operator new). */
	raw = pp_unwind_heap(s->pc, PP_MAX_FRAMES + PP_SKIP_MAX, memo);
	if (memo->hit && t->memo_h != 0) {
		/* The walk of the last sample again: its stack, hash and
		 * all. */
		h = t->memo_h;
		k = t->memo_k;
		trunc = t->memo_trunc;
		if (t->stacks[h % PP_STACK_IDS] == h)
			goto defined;
	}
	k = pp_stack_from(s->pc, s->pc, raw, (uint64_t)(uintptr_t)ra, &trunc);
	if (raw == PP_MAX_FRAMES + PP_SKIP_MAX)
		trunc = 1;
	if (k == 0) {
		s->pc[0] = (uint64_t)(uintptr_t)ra;
		k = 1;
		trunc = 0;
	}
	/* The leaf is the allocating call instruction, as proto.h has it,
	 * not the instruction after it, which may be on another line or in
	 * another function. */
	s->pc[0]--;
	h = stack_hash(s->pc, k) ^ (uint64_t)trunc;
	/* Good for the next sample while the memo is (sp 0: libunwind
	 * walked, no memo). */
	t->memo_h = memo->sp != 0 ? h : 0;
	t->memo_k = (uint16_t)k;
	t->memo_trunc = (uint8_t)trunc;
defined:
	id = (uint32_t)(h % PP_STACK_IDS);
	pre = 0;
	if (t->stacks[id] != h) {
		memset(s, 0, offsetof(struct pp_rec_stack, pc));
		s->h.type = PP_REC_STACK;
		s->h.len = (uint32_t)(offsetof(struct pp_rec_stack, pc) +
		    8 * (size_t)k);
		s->id = id;
		s->tid = (uint32_t)pp_tid(t);
		s->kind = PP_SAMPLE_ALLOC;
		s->truncated = (uint8_t)trunc;
		s->nframes = (uint16_t)k;
		t->stacks[id] = h;
		pre = s->h.len;
	}
	a = (struct pp_rec_alloc *)(void *)(t->buf + t->len + pre);
	a->h.type = PP_REC_ALLOC;
	a->h.reserved = 0;
	a->h.len = sizeof(*a);
	a->id = id;
	a->tid = (uint32_t)pp_tid(t);
	a->value = n;
	a->addr = key;
	t->free_at = 0;
	in_buf_note(t, key, t->len + pre);
	heap_added(t, pre + a->h.len);
}

static void
heap_add_free(struct pp_thread *t, uint64_t key)
{
	struct pp_rec_free *f;

	/* Consecutive frees share one record. */
	if (t->free_at != 0 && t->len + 8 <= HEAP_BUF) {
		f = (struct pp_rec_free *)(t->buf + t->free_at - 1);
		f->addr[f->n++] = key;
		f->h.len += 8;
		heap_added(t, 8);
		return;
	}
	if ((f = heap_reserve(t, sizeof(*f) + 8)) == NULL) {
		atomic_fetch_add(&pp_agent.drop_frees, 1);
		return;
	}
	memset(f, 0, sizeof(*f));
	f->h.type = PP_REC_FREE;
	f->h.len = sizeof(*f) + 8;
	f->n = 1;
	f->addr[0] = key;
	t->free_at = t->len + 1;
	heap_added(t, f->h.len);
}

/* Frees a sampled block and records it. */
static void __attribute__((noinline))
sampled_free(void *p)
{
	struct pp_thread *t = &pp_thr;
	struct sampled *h = sampled_of(p);
	uint64_t key = h->meta >> 8;
	char *base = sampled_base(p);
	int saved;

	/* No signature may outlive the block: glibc's next chunk here
	 * could otherwise pass for sampled. */
	h->sig = 0;
	__libc_free(base);
	/* A parent's block (its FREE is no business of this process), or
	 * the agent went inert. */
	if (key < child_keys || !pp_on())
		return;
	saved = errno;
	/* Inside the agent (a program's signal handler that frees while
	 * the agent was interrupted): the buffer is in use. */
	if (t->guard)
		atomic_fetch_add(&pp_agent.drop_frees, 1);
	else {
		t->guard = 1;
		if (!in_buf_cancel(t, key))
			heap_add_free(t, key);
		t->guard = 0;
	}
	errno = saved;
}

static size_t
usable(void *p)
{
	struct pp_thread *t = &pp_thr;
	size_t (*f)(void *) = real_usable;
	int saved, g;

	if (f == NULL) {
		/* Asked before the constructor ran; dlsym may allocate. */
		saved = errno;
		g = t->guard;
		t->guard = 1;
		f = (size_t (*)(void *))dlsym(RTLD_NEXT,
		    "malloc_usable_size");
		t->guard = g;
		errno = saved;
		if (f == NULL)
			return 0;
		real_usable = f;
	}
	if (is_sampled(p))
		return f(sampled_base(p)) -
		    (size_t)((char *)p - sampled_base(p));
	return f(p);
}

/* glibc's allocation, unsampled. */
static void *
plain_alloc(enum how how, size_t align, size_t n)
{
	switch (how) {
	case HOW_MALLOC:
		return __libc_malloc(n);
	case HOW_CALLOC:
		return __libc_calloc(1, n);
	default:
		return __libc_memalign(align, n);
	}
}

/* A block with the sampled header before it, recorded. Returns NULL with
 * errno set as glibc would. */
static inline __attribute__((always_inline)) void *
sampled_alloc(struct pp_thread *t, enum how how, size_t align, size_t n,
    void *ra)
{
	struct sampled *h;
	size_t pre, total;
	uint64_t key;
	char *base, *p;
	int saved = errno;

	/* As glibc's memalign: at least its minimum, a power of two. */
	pre = align < MIN_ALIGN ? MIN_ALIGN : align;
	if (pre > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if ((pre & (pre - 1)) != 0)
		pre = (size_t)1 << (64 - __builtin_clzl(pre));
	if (__builtin_add_overflow(n, pre, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((base = plain_alloc(how, pre, total)) == NULL)
		return NULL;
	p = base + pre;
	key = heap_key(t);
	h = sampled_of(p);
	h->meta = key << 8 | (uint64_t)__builtin_ctzl(pre);
	h->sig = (uint64_t)(uintptr_t)p ^ secret;
	t->guard = 1;
	heap_sample(t, n, key, ra);
	t->guard = 0;
	errno = saved;
	return p;
}

/* The countdown ran out. */
static void * __attribute__((noinline))
heap_slow(enum how how, size_t align, size_t n, void *ra)
{
	struct pp_thread *t = &pp_thr;

	if (!heap_due(t, n))
		return plain_alloc(how, align, n);
	return sampled_alloc(t, how, align, n, ra);
}

#define HEAP_FAST(t, n)	PP_LIKELY((n) < (t)->countdown)

PP_EXPORT void *
malloc(size_t n)
{
	struct pp_thread *t = &pp_thr;

	if (HEAP_FAST(t, n)) {
		t->countdown -= n;
		return __libc_malloc(n);
	}
	return heap_slow(HOW_MALLOC, MIN_ALIGN, n, __builtin_return_address(0));
}

PP_EXPORT void
free(void *p)
{
	if (is_sampled(p)) {
		sampled_free(p);
		return;
	}
	__libc_free(p);
}

PP_EXPORT void *
calloc(size_t m, size_t n)
{
	struct pp_thread *t = &pp_thr;
	size_t sz;

	if (__builtin_mul_overflow(m, n, &sz))
		return __libc_calloc(m, n);
	if (HEAP_FAST(t, sz)) {
		t->countdown -= sz;
		return __libc_calloc(m, n);
	}
	return heap_slow(HOW_CALLOC, MIN_ALIGN, sz,
	    __builtin_return_address(0));
}

/* As far as sampling goes, realloc is a free of the old block and an
 * allocation of the new size. A block that changes layout (sampled to
 * plain or back) is copied to a fresh one. */
static void * __attribute__((noinline))
heap_realloc_slow(void *old, size_t n, void *ra)
{
	struct pp_thread *t = &pp_thr;
	int sampled = is_sampled(old), due;
	size_t have;
	void *p;

	if (old == NULL)
		return heap_slow(HOW_MALLOC, MIN_ALIGN, n, ra);
	if (n == 0) {
		/* glibc's realloc(p, 0) frees p and returns NULL. */
		if (!sampled)
			return __libc_realloc(old, 0);
		sampled_free(old);
		return NULL;
	}
	if (HEAP_FAST(t, n)) {
		t->countdown -= n;
		due = 0;
	} else
		due = heap_due(t, n);
	if (!due && !sampled)
		return __libc_realloc(old, n);
	if (due)
		p = sampled_alloc(t, HOW_MALLOC, MIN_ALIGN, n, ra);
	else
		p = __libc_malloc(n);
	if (p == NULL)
		return NULL;
	have = usable(old);
	memcpy(p, old, have < n ? have : n);
	if (sampled)
		sampled_free(old);
	else
		__libc_free(old);
	return p;
}

static inline __attribute__((always_inline)) void *
heap_realloc(void *old, size_t n, void *ra)
{
	struct pp_thread *t = &pp_thr;

	if (PP_LIKELY(!is_sampled(old)) && HEAP_FAST(t, n)) {
		t->countdown -= n;
		return __libc_realloc(old, n);
	}
	return heap_realloc_slow(old, n, ra);
}

PP_EXPORT void *
realloc(void *old, size_t n)
{
	return heap_realloc(old, n, __builtin_return_address(0));
}

PP_EXPORT void *
reallocarray(void *old, size_t m, size_t n)
{
	size_t sz;

	if (__builtin_mul_overflow(m, n, &sz)) {
		errno = ENOMEM;
		return NULL;
	}
	return heap_realloc(old, sz, __builtin_return_address(0));
}

PP_EXPORT size_t
malloc_usable_size(void *p)
{
	if (p == NULL)
		return 0;
	return usable(p);
}

static inline __attribute__((always_inline)) void *
heap_memalign(size_t align, size_t n, void *ra)
{
	struct pp_thread *t = &pp_thr;

	if (HEAP_FAST(t, n)) {
		t->countdown -= n;
		return __libc_memalign(align, n);
	}
	return heap_slow(HOW_ALIGNED, align, n, ra);
}

PP_EXPORT void *
memalign(size_t align, size_t n)
{
	return heap_memalign(align, n, __builtin_return_address(0));
}

/* glibc 2.36's aligned_alloc is memalign under another name. */
PP_EXPORT void *
aligned_alloc(size_t align, size_t n)
{
	return heap_memalign(align, n, __builtin_return_address(0));
}

PP_EXPORT int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align == 0 || align % sizeof(void *) != 0 ||
	    (align & (align - 1)) != 0)
		return EINVAL;
	/* errno as glibc leaves it: ENOMEM on failure. */
	p = heap_memalign(align, n, __builtin_return_address(0));
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

PP_EXPORT void *
valloc(size_t n)
{
	struct pp_thread *t = &pp_thr;

	if (HEAP_FAST(t, n)) {
		t->countdown -= n;
		return __libc_valloc(n);
	}
	return heap_slow(HOW_ALIGNED, (size_t)getpagesize(), n,
	    __builtin_return_address(0));
}

PP_EXPORT void *
pvalloc(size_t n)
{
	struct pp_thread *t = &pp_thr;
	size_t page = (size_t)getpagesize();

	if (HEAP_FAST(t, n)) {
		t->countdown -= n;
		return __libc_pvalloc(n);
	}
	/* pvalloc rounds the size up to whole pages, 0 to one page. */
	if (n > SIZE_MAX - page) {
		errno = ENOMEM;
		return NULL;
	}
	n = n == 0 ? page : (n + page - 1) & ~(page - 1);
	return heap_slow(HOW_ALIGNED, page, n, __builtin_return_address(0));
}

void
pp_heap_thread_exit(struct pp_thread *t)
{
	if (t->buf == NULL)
		return;
	pp_heap_flush(t);
	munmap(t->buf, HEAP_MAP);
	t->buf = NULL;
	t->stacks = NULL;
	t->len = 0;
	t->free_at = 0;
	in_buf_reset(t);
}

void
pp_heap_child(struct pp_thread *t)
{
	/* The child's blocks are copies of the parent's, still with their
	 * headers (free must still find them), but its profile starts
	 * empty: their frees are not reported. */
	child_keys = atomic_load(&pp_agent.keys);
	t->key_next = t->key_end = 0;
	/* A new connection: nothing is defined on it yet. */
	if (t->stacks != NULL)
		memset(t->stacks, 0, PP_STACK_IDS * sizeof(uint64_t));
	t->len = 0;
	t->free_at = 0;
	t->nrec = 0;
	in_buf_reset(t);
}
