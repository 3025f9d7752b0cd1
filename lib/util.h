/* Small containers used throughout libpp. */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An arena: many small allocations freed at once. */
struct pp_arena_chunk;
struct pp_arena {
	struct pp_arena_chunk *head;
	char *next;
	size_t left;
};

void pp_arena_init(struct pp_arena *a);
void pp_arena_release(struct pp_arena *a);
/* Returns size zeroed bytes aligned for any type, or NULL. */
void *pp_arena_alloc(struct pp_arena *a, size_t size);
/* The same, not zeroed: for memory the caller fills. */
void *pp_arena_alloc_uninit(struct pp_arena *a, size_t size);

/* A set of interned strings: equal contents, one pointer. The strings live
 * in an arena the caller provides and always end with a NUL byte. */
struct pp_strset_slot;
struct pp_strset {
	struct pp_strset_slot *slot;
	size_t cap, n;
};

void pp_strset_init(struct pp_strset *s);
void pp_strset_release(struct pp_strset *s);
/* Returns the interned copy of str[0..len), allocating it in a, or NULL. */
const char *pp_strset_intern(struct pp_strset *s, struct pp_arena *a,
    const char *str, size_t len);

/* A hash map from non-zero 64-bit keys to 64-bit values. */
struct pp_u64map_slot {
	uint64_t key, val;	/* key 0: empty */
};
struct pp_u64map {
	struct pp_u64map_slot *slot;
	size_t cap, n;
};

void pp_u64map_init(struct pp_u64map *m);
void pp_u64map_release(struct pp_u64map *m);
/* Empties m, keeping its memory for the next keys. */
void pp_u64map_clear(struct pp_u64map *m);
/* Makes room for n keys in all, so that no put grows m until it holds
 * them; returns 0 or -1 when out of memory (m is unchanged). */
int pp_u64map_reserve(struct pp_u64map *m, size_t n);
/* Returns a pointer to the value for key, or NULL if absent. */
uint64_t *pp_u64map_get(const struct pp_u64map *m, uint64_t key);
/* Sets key to val; returns 0 or -1 when out of memory. *fresh (if not
 * NULL) tells whether key was new; the old value is replaced otherwise. */
int pp_u64map_put(struct pp_u64map *m, uint64_t key, uint64_t val, bool *fresh);

/* Hashes are keyed with a random per-process seed, so that crafted input
 * cannot make every key collide. */
extern uint64_t pp_hash_seed;
uint64_t pp_hash_bytes(const void *p, size_t len, uint64_t seed);
static inline uint64_t
pp_hash_u64(uint64_t x)
{
	x ^= pp_hash_seed;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* The last element of a path ("libc.so.6"); the path itself if it ends
 * in '/' or has none. */
const char *pp_base_name(const char *path);

/* |v|: values are bounded at decode (pprof.c), so never INT64_MIN. */
static inline int64_t
pp_abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* Grows the array *p of *cap elements of size elem to hold need; returns 0
 * or -1 when out of memory (the array is unchanged). */
int pp_grow(void *p, size_t *cap, size_t need, size_t elem);

/* The wall clock in nanoseconds since the epoch. */
int64_t pp_now_ns(void);

/* A growable byte buffer, NUL-terminated for convenience. */
struct pp_buf {
	char *data;
	size_t len, cap;
	bool oom;	/* an append failed: the content is incomplete */
};

void pp_buf_init(struct pp_buf *b);
void pp_buf_release(struct pp_buf *b);
void pp_buf_add(struct pp_buf *b, const void *data, size_t len);
void pp_buf_adds(struct pp_buf *b, const char *s);
void pp_buf_addc(struct pp_buf *b, char c);
void pp_buf_addf(struct pp_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pp_buf_vaddf(struct pp_buf *b, const char *fmt, va_list ap);

/* The length of the UTF-8 sequence at p (n bytes left) if it is valid:
 * shortest form, a scalar value (no surrogate, at most U+10FFFF), which
 * goes in *cp; else 0. Reads p in order and stops at the first byte that
 * does not fit, so a NUL-terminated string may pass n = 4. */
size_t pp_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* The length of the printable UTF-8 character at p (n bytes left): a
 * valid, shortest-form sequence of a scalar value that is not a C0 or C1
 * control character; 0 for anything else. */
size_t pp_utf8_char(const unsigned char *p, size_t n);

#endif
