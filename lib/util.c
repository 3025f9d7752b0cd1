#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/auxv.h>

#include "util.h"

uint64_t pp_hash_seed;

/* The kernel hands every process 16 random bytes (AT_RANDOM). */
__attribute__((constructor)) static void
seed_hashes(void)
{
	const unsigned char *r = (const void *)getauxval(AT_RANDOM);

	if (r != NULL)
		memcpy(&pp_hash_seed, r + 8, sizeof(pp_hash_seed));
}

#define CHUNK_SIZE	(64 * 1024)
#define ALIGN		16

struct pp_arena_chunk {
	struct pp_arena_chunk *next;
	/* data follows, aligned */
};

void
pp_arena_init(struct pp_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void
pp_arena_release(struct pp_arena *a)
{
	struct pp_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

void *
pp_arena_alloc_uninit(struct pp_arena *a, size_t size)
{
	struct pp_arena_chunk *c;
	size_t hdr = (sizeof(*c) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	size_t want, csize;
	char *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	want = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (want == 0)
		want = ALIGN;
	if (want > a->left) {
		/* Big requests get a chunk of their own, so the current
		 * chunk's remainder is not wasted. */
		csize = want > CHUNK_SIZE / 4 ? want : CHUNK_SIZE;
		c = malloc(hdr + csize);
		if (c == NULL)
			return NULL;
		if (csize != CHUNK_SIZE && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
			return (char *)c + hdr;
		}
		c->next = a->head;
		a->head = c;
		a->next = (char *)c + hdr;
		a->left = csize;
	}
	p = a->next;
	a->next += want;
	a->left -= want;
	return p;
}

void *
pp_arena_alloc(struct pp_arena *a, size_t size)
{
	void *p = pp_arena_alloc_uninit(a, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

/* The hash is kept, so that growing rehashes no string and a probe
 * compares strings only when their hashes are equal. */
struct pp_strset_slot {
	const char *s;		/* NULL: empty */
	size_t len;
	uint64_t hash;
};

void
pp_strset_init(struct pp_strset *s)
{
	memset(s, 0, sizeof(*s));
}

void
pp_strset_release(struct pp_strset *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

uint64_t
pp_hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed ^ pp_hash_seed;
	size_t i;

	/* FNV-1a over 8-byte words, then a final mix. */
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return pp_hash_u64(h ^ len);
}

static int
strset_resize(struct pp_strset *s, size_t cap)
{
	struct pp_strset_slot *slot;
	size_t i, j;

	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (s->slot[i].s == NULL)
			continue;
		j = s->slot[i].hash & (cap - 1);
		while (slot[j].s != NULL)
			j = (j + 1) & (cap - 1);
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

const char *
pp_strset_intern(struct pp_strset *s, struct pp_arena *a, const char *str,
    size_t len)
{
	struct pp_strset_slot *sl;
	uint64_t h;
	size_t j;
	char *copy;

	if ((s->n + 1) * 2 > s->cap &&
	    strset_resize(s, s->cap ? s->cap * 2 : 64) < 0)
		return NULL;
	h = pp_hash_bytes(str, len, 0);
	j = h & (s->cap - 1);
	while ((sl = &s->slot[j])->s != NULL) {
		if (sl->hash == h && sl->len == len &&
		    memcmp(sl->s, str, len) == 0)
			return sl->s;
		j = (j + 1) & (s->cap - 1);
	}
	copy = pp_arena_alloc(a, len + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, str, len);
	copy[len] = '\0';
	sl->s = copy;
	sl->len = len;
	sl->hash = h;
	s->n++;
	return copy;
}

void
pp_u64map_init(struct pp_u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void
pp_u64map_release(struct pp_u64map *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

void
pp_u64map_clear(struct pp_u64map *m)
{
	if (m->n > 0)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

uint64_t *
pp_u64map_get(const struct pp_u64map *m, uint64_t key)
{
	size_t j;

	if (m->cap == 0 || key == 0)
		return NULL;
	j = pp_hash_u64(key) & (m->cap - 1);
	while (m->slot[j].key != 0) {
		if (m->slot[j].key == key)
			return &m->slot[j].val;
		j = (j + 1) & (m->cap - 1);
	}
	return NULL;
}

static int
u64map_resize(struct pp_u64map *m, size_t cap)
{
	struct pp_u64map_slot *slot;
	size_t i, j;

	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return -1;
	for (i = 0; i < m->cap; i++) {
		if (m->slot[i].key == 0)
			continue;
		j = pp_hash_u64(m->slot[i].key) & (cap - 1);
		while (slot[j].key != 0)
			j = (j + 1) & (cap - 1);
		slot[j] = m->slot[i];
	}
	free(m->slot);
	m->slot = slot;
	m->cap = cap;
	return 0;
}

int
pp_u64map_reserve(struct pp_u64map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;

	while (n * 2 > cap) {
		if (cap > SIZE_MAX / 2 / sizeof(*m->slot))
			return -1;
		cap *= 2;
	}
	return cap == m->cap ? 0 : u64map_resize(m, cap);
}

int
pp_u64map_put(struct pp_u64map *m, uint64_t key, uint64_t val, bool *fresh)
{
	size_t j;

	if (key == 0)
		return -1;
	if ((m->n + 1) * 2 > m->cap &&
	    u64map_resize(m, m->cap ? m->cap * 2 : 64) < 0)
		return -1;
	j = pp_hash_u64(key) & (m->cap - 1);
	while (m->slot[j].key != 0) {
		if (m->slot[j].key == key) {
			m->slot[j].val = val;
			if (fresh != NULL)
				*fresh = false;
			return 0;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->slot[j].key = key;
	m->slot[j].val = val;
	m->n++;
	if (fresh != NULL)
		*fresh = true;
	return 0;
}

int
pp_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -1;
		ncap *= 2;
	}
	np = realloc(*p, ncap * elem);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

void
pp_buf_init(struct pp_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
pp_buf_release(struct pp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
pp_buf_add(struct pp_buf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (pp_grow(&b->data, &b->cap, b->len + len + 1, 1) < 0) {
		b->oom = true;
		return;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
pp_buf_adds(struct pp_buf *b, const char *s)
{
	pp_buf_add(b, s, strlen(s));
}

void
pp_buf_addc(struct pp_buf *b, char c)
{
	pp_buf_add(b, &c, 1);
}

void
pp_buf_vaddf(struct pp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (b->oom)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || pp_grow(&b->data, &b->cap, b->len + (size_t)n + 1, 1) < 0) {
		b->oom = true;
		return;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
pp_buf_addf(struct pp_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pp_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

const char *
pp_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

int64_t
pp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t
pp_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len, i;

	if (n == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, c &= 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	/* In order: a NUL ends a C string before any byte after it is read. */
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t
pp_utf8_char(const unsigned char *p, size_t n)
{
	uint32_t c;
	size_t len = pp_utf8_decode(p, n, &c);

	if (len == 0 || c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return 0;
	return len;
}
