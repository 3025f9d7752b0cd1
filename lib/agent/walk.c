/* A fast stack walk for the heap sampler: .eh_frame rules, cached by
 * address.
 *
 * libunwind's unw_backtrace costs a fixed ~38 ns a call here whatever the
 * depth (it builds a whole cursor before its cached walk): at -m 1 that
 * was a third of the program's time. This walk does what libunwind's
 * cached walk does inside, without the cursor: for each return address it
 * looks up, in a table shared by all threads, how to find the caller's
 * frame (the CFA as rsp or rbp plus an offset, the return address at
 * CFA-8, the caller's rbp saved at CFA+n or left alone), and follows it.
 * A miss finds the address's FDE through its object's .eh_frame_hdr and
 * runs the CIE's and FDE's call frame instructions up to the address.
 *
 * Anything else gives up and lets libunwind walk the whole stack: a frame
 * whose rules need a DWARF expression or another register, a signal
 * frame (augmentation "S"), an address with no FDE, a stack pointer
 * outside the stack the caller named (an alternate signal stack, a
 * coroutine's). Every read of the stack is checked against that stack's
 * bounds first, so a wrong rule gives a wrong frame, never a fault.
 *
 * The table entries are two 64-bit words written without a lock: the
 * first is the address xor a bijective mix of the second (the rule), so a
 * reader that sees words of two different writes finds a match only when
 * the rule is the right one anyway.
 *
 * Not async-signal-safe on a miss (dl_iterate_phdr takes the loader's
 * lock): the CPU handler keeps libunwind.
 */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "walk.h"

/* x86-64 DWARF register numbers. */
#define REG_RBP		6
#define REG_RSP		7
#define REG_RA		16

#define CACHE_BITS	14
#define CACHE_SIZE	(1U << CACHE_BITS)
#define STATES		8	/* DW_CFA_remember_state depth */

enum kind { K_NONE, K_OK, K_END, K_BAD };

/* How a register of the caller is found. */
enum how { H_SAME, H_UNDEF, H_OFFSET, H_BAD };

struct row {
	int cfa_reg;
	int64_t cfa_off;
	enum how rbp_how, ra_how;
	int64_t rbp_off, ra_off;
	int bad;		/* an expression or a register we do not
				 * follow defines the CFA */
};

struct entry {
	uint64_t key;		/* pc ^ mix(rule) */
	uint64_t rule;
};

static struct entry cache[CACHE_SIZE];
static uint64_t generation;	/* of the rules: pp_walk_forget */
static int cached_only;		/* pp_walk_cached_only */

static uint64_t
mix(uint64_t r)
{
	r ^= 0x5851f42d4c957f2dULL;
	r *= 0x9e3779b97f4a7c15ULL;
	return r ^ (r >> 29);
}

/* A rule in 64 bits: the CFA's offset (32), the saved rbp's offset from
 * the CFA (16; 0: rbp unchanged), the CFA's register (8), the kind (8). */
static uint64_t
pack(enum kind k, int reg, int32_t cfa_off, int16_t rbp_off)
{
	return (uint64_t)(uint32_t)cfa_off | (uint64_t)(uint16_t)rbp_off << 32 |
	    (uint64_t)(uint8_t)reg << 48 | (uint64_t)k << 56;
}

static struct entry *
slot(uint64_t pc)
{
	return &cache[(pc * 0x9e3779b97f4a7c15ULL) >> (64 - CACHE_BITS)];
}

/* --- Reading DWARF --- */

struct reader {
	const uint8_t *p, *end;
	int bad;
};

/* An LEB128 number's bits; *shift says how many, *last is its last byte. */
static uint64_t
leb(struct reader *r, unsigned *shift, uint8_t *last)
{
	uint64_t v = 0;
	uint8_t b;

	*shift = 0;
	do {
		if (r->p >= r->end) {
			r->bad = 1;
			*last = 0;
			return 0;
		}
		b = *r->p++;
		if (*shift < 64)
			v |= (uint64_t)(b & 0x7f) << *shift;
		*shift += 7;
	} while (b & 0x80);
	*last = b;
	return v;
}

static uint64_t
uleb(struct reader *r)
{
	unsigned shift;
	uint8_t last;

	return leb(r, &shift, &last);
}

static int64_t
sleb(struct reader *r)
{
	unsigned shift;
	uint8_t last;
	uint64_t v = leb(r, &shift, &last);

	if (shift < 64 && (last & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

static uint64_t
fixed(struct reader *r, size_t n)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, n);	/* little-endian */
	r->p += n;
	return v;
}

/* A pointer in DW_EH_PE encoding enc; datarel is the base of
 * DW_EH_PE_datarel (the .eh_frame_hdr). */
static uint64_t
encoded(struct reader *r, uint8_t enc, uint64_t datarel)
{
	uint64_t at = (uint64_t)(uintptr_t)r->p, v;

	switch (enc & 0x0f) {
	case 0x00: v = fixed(r, 8); break;
	case 0x01: v = uleb(r); break;
	case 0x02: v = fixed(r, 2); break;
	case 0x03: v = fixed(r, 4); break;
	case 0x04: v = fixed(r, 8); break;
	case 0x09: v = (uint64_t)sleb(r); break;
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)fixed(r, 2); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)fixed(r, 4); break;
	case 0x0c: v = fixed(r, 8); break;
	default:
		r->bad = 1;
		return 0;
	}
	switch (enc & 0x70) {
	case 0x00: break;
	case 0x10: v += at; break;
	case 0x30: v += datarel; break;
	default:
		r->bad = 1;
		return 0;
	}
	if (enc & 0x80) {
		/* Indirect: only personality pointers use it, and those are
		 * skipped, never read. */
		r->bad = 1;
		return 0;
	}
	return v;
}

/* --- Finding the FDE --- */

struct find {
	uint64_t pc;
	const uint8_t *hdr;
	int in;
};

static int
find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find *f = arg;
	const ElfW(Phdr) *ph;
	const uint8_t *hdr = NULL;
	uint64_t lo;
	int i, in = 0;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && f->pc >= lo &&
		    f->pc - lo < ph->p_memsz)
			in = 1;
		else if (ph->p_type == PT_GNU_EH_FRAME)
			hdr = (const uint8_t *)(uintptr_t)lo;
	}
	if (!in)
		return 0;
	f->in = 1;
	f->hdr = hdr;
	return 1;
}

/* The FDE covering pc in the object whose .eh_frame_hdr is hdr, by the
 * header's sorted table; NULL if none or the table is not the usual kind
 * (datarel sdata4 pairs). */
static const uint8_t *
fde_of(const uint8_t *hdr, uint64_t pc)
{
	struct reader r = { hdr + 4, hdr + 4 + 16, 0 };
	uint64_t base = (uint64_t)(uintptr_t)hdr, count, lo, hi, mid;
	const int32_t *table;

	if (hdr[0] != 1 || hdr[3] != 0x3b || hdr[2] == 0xff)
		return NULL;
	(void)encoded(&r, hdr[1], base);	/* .eh_frame itself */
	count = encoded(&r, hdr[2], base);
	if (r.bad || count == 0)
		return NULL;
	table = (const int32_t *)(const void *)r.p;
	if (pc < base + (uint64_t)(int64_t)table[0])
		return NULL;
	lo = 0;
	hi = count;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (base + (uint64_t)(int64_t)table[2 * mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return hdr + table[2 * lo + 1];
}

/* --- Running call frame instructions --- */

struct cie {
	uint64_t caf;		/* code alignment factor */
	int64_t daf;		/* data alignment factor */
	uint8_t fde_enc;	/* DW_EH_PE of the FDE's addresses */
	int aug_z;		/* FDEs have augmentation data */
	int signal;		/* "S": a signal frame */
	const uint8_t *insns, *end;
};

static void
set_reg(struct row *row, uint64_t reg, enum how how, int64_t off)
{
	if (reg == REG_RBP) {
		row->rbp_how = how;
		row->rbp_off = off;
	} else if (reg == REG_RA) {
		row->ra_how = how;
		row->ra_off = off;
	}
}

static void
restore_reg(struct row *row, const struct row *init, uint64_t reg)
{
	if (reg == REG_RBP) {
		row->rbp_how = init->rbp_how;
		row->rbp_off = init->rbp_off;
	} else if (reg == REG_RA) {
		row->ra_how = init->ra_how;
		row->ra_off = init->ra_off;
	}
}

/* Runs instructions [p, end) from location loc while loc <= pc (pc < 0:
 * all of them, the CIE's initial ones). init is the row after the CIE's
 * (for DW_CFA_restore); returns 0, or -1 on what is not followed. */
static int
run(const struct cie *c, const uint8_t *p, const uint8_t *end,
    uint64_t loc, uint64_t pc, int all, struct row *row,
    const struct row *init)
{
	struct reader r = { p, end, 0 };
	struct row saved[STATES];
	int nsaved = 0;
	uint64_t reg, n;
	uint8_t op;

	while (r.p < r.end && !r.bad) {
		op = *r.p++;
		switch (op >> 6) {
		case 1:
			loc += (uint64_t)(op & 0x3f) * c->caf;
			if (!all && loc > pc)
				return 0;
			continue;
		case 2:
			set_reg(row, op & 0x3f, H_OFFSET,
			    (int64_t)uleb(&r) * c->daf);
			continue;
		case 3:
			restore_reg(row, init, op & 0x3f);
			continue;
		}
		switch (op) {
		case 0x00:	/* nop */
			break;
		case 0x01:	/* set_loc */
			loc = encoded(&r, c->fde_enc, 0);
			if (!all && loc > pc)
				return 0;
			break;
		case 0x02:	/* advance_loc1 */
		case 0x03:	/* advance_loc2 */
		case 0x04:	/* advance_loc4 */
			n = fixed(&r, op == 0x02 ? 1 : op == 0x03 ? 2 : 4);
			loc += n * c->caf;
			if (!all && loc > pc)
				return 0;
			break;
		case 0x05:	/* offset_extended */
			reg = uleb(&r);
			set_reg(row, reg, H_OFFSET, (int64_t)uleb(&r) * c->daf);
			break;
		case 0x06:	/* restore_extended */
			restore_reg(row, init, uleb(&r));
			break;
		case 0x07:	/* undefined */
			set_reg(row, uleb(&r), H_UNDEF, 0);
			break;
		case 0x08:	/* same_value */
			set_reg(row, uleb(&r), H_SAME, 0);
			break;
		case 0x09:	/* register */
			reg = uleb(&r);
			(void)uleb(&r);
			set_reg(row, reg, H_BAD, 0);
			break;
		case 0x0a:	/* remember_state */
			if (nsaved == STATES)
				return -1;
			saved[nsaved++] = *row;
			break;
		case 0x0b:	/* restore_state */
			if (nsaved == 0)
				return -1;
			*row = saved[--nsaved];
			break;
		case 0x0c:	/* def_cfa */
			row->cfa_reg = (int)uleb(&r);
			row->cfa_off = (int64_t)uleb(&r);
			break;
		case 0x0d:	/* def_cfa_register */
			row->cfa_reg = (int)uleb(&r);
			break;
		case 0x0e:	/* def_cfa_offset */
			row->cfa_off = (int64_t)uleb(&r);
			break;
		case 0x0f:	/* def_cfa_expression */
			n = uleb(&r);
			if (n > (uint64_t)(r.end - r.p))
				return -1;
			r.p += n;
			row->bad = 1;
			break;
		case 0x10:	/* expression */
		case 0x16:	/* val_expression */
			reg = uleb(&r);
			n = uleb(&r);
			if (n > (uint64_t)(r.end - r.p))
				return -1;
			r.p += n;
			set_reg(row, reg, H_BAD, 0);
			break;
		case 0x11:	/* offset_extended_sf */
			reg = uleb(&r);
			set_reg(row, reg, H_OFFSET, sleb(&r) * c->daf);
			break;
		case 0x12:	/* def_cfa_sf */
			row->cfa_reg = (int)uleb(&r);
			row->cfa_off = sleb(&r) * c->daf;
			break;
		case 0x13:	/* def_cfa_offset_sf */
			row->cfa_off = sleb(&r) * c->daf;
			break;
		case 0x14:	/* val_offset */
			reg = uleb(&r);
			(void)uleb(&r);
			set_reg(row, reg, H_BAD, 0);
			break;
		case 0x15:	/* val_offset_sf */
			reg = uleb(&r);
			(void)sleb(&r);
			set_reg(row, reg, H_BAD, 0);
			break;
		case 0x2e:	/* GNU_args_size */
			(void)uleb(&r);
			break;
		case 0x2f:	/* GNU_negative_offset_extended */
			reg = uleb(&r);
			set_reg(row, reg, H_OFFSET, -(int64_t)uleb(&r) * c->daf);
			break;
		default:
			return -1;
		}
	}
	return r.bad ? -1 : 0;
}

/* Parses the CIE at p (its length field). */
static int
parse_cie(const uint8_t *p, struct cie *c)
{
	struct reader r;
	const char *aug;
	uint64_t len, auglen;
	const uint8_t *augend;
	uint8_t version;

	memcpy(&len, p, 4);
	len &= 0xffffffffu;
	if (len == 0 || len == 0xffffffffu)
		return -1;
	r.p = p + 8;		/* past the length and the CIE id */
	r.end = p + 4 + len;
	r.bad = 0;
	version = (uint8_t)fixed(&r, 1);
	if (version != 1 && version != 3)
		return -1;
	aug = (const char *)r.p;
	while (r.p < r.end && *r.p != 0)
		r.p++;
	if (r.p == r.end)
		return -1;
	r.p++;
	memset(c, 0, sizeof(*c));
	c->caf = uleb(&r);
	c->daf = sleb(&r);
	if (version == 1)
		(void)fixed(&r, 1);
	else
		(void)uleb(&r);
	c->fde_enc = 0;
	if (aug[0] == 'z') {
		c->aug_z = 1;
		auglen = uleb(&r);
		if (auglen > (uint64_t)(r.end - r.p))
			return -1;
		augend = r.p + auglen;
		for (aug++; *aug != 0 && !r.bad; aug++) {
			switch (*aug) {
			case 'R':
				c->fde_enc = (uint8_t)fixed(&r, 1);
				break;
			case 'L':
				(void)fixed(&r, 1);
				break;
			case 'P':
				/* The personality routine: skipped by its
				 * size, never read. */
				(void)encoded(&r, (uint8_t)(fixed(&r, 1) &
				    0x7f), 0);
				break;
			case 'S':
				c->signal = 1;
				break;
			default:
				/* Unknown: the length lets us skip the
				 * data, but not know what it means. */
				return -1;
			}
		}
		r.p = augend;
	} else if (aug[0] != 0)
		return -1;
	if (r.bad)
		return -1;
	c->insns = r.p;
	c->end = r.end;
	return 0;
}

/* The rule for pc: the kind, and how to find the caller. */
static uint64_t
rule_for(uint64_t pc)
{
	struct find f = { pc, NULL, 0 };
	struct reader r;
	struct row row, init;
	struct cie c;
	const uint8_t *fde, *cie;
	uint64_t len, begin, range, auglen;
	uint32_t id;

	if (dl_iterate_phdr(find_object, &f) == 0 || f.hdr == NULL ||
	    (fde = fde_of(f.hdr, pc)) == NULL)
		return pack(K_BAD, 0, 0, 0);
	memcpy(&len, fde, 4);
	len &= 0xffffffffu;
	memcpy(&id, fde + 4, 4);
	if (len == 0 || len == 0xffffffffu || id == 0)
		return pack(K_BAD, 0, 0, 0);
	cie = fde + 4 - id;
	if (parse_cie(cie, &c) == -1 || c.signal)
		return pack(K_BAD, 0, 0, 0);
	r.p = fde + 8;
	r.end = fde + 4 + len;
	r.bad = 0;
	begin = encoded(&r, c.fde_enc, 0);
	range = encoded(&r, c.fde_enc & 0x0f, 0);
	if (r.bad || pc < begin || pc - begin >= range)
		return pack(K_BAD, 0, 0, 0);
	if (c.aug_z) {
		auglen = uleb(&r);
		if (r.bad || auglen > (uint64_t)(r.end - r.p))
			return pack(K_BAD, 0, 0, 0);
		r.p += auglen;
	}
	memset(&row, 0, sizeof(row));
	row.rbp_how = H_SAME;
	row.ra_how = H_SAME;
	if (run(&c, c.insns, c.end, 0, 0, 1, &row, &row) == -1)
		return pack(K_BAD, 0, 0, 0);
	init = row;
	if (run(&c, r.p, r.end, begin, pc, 0, &row, &init) == -1)
		return pack(K_BAD, 0, 0, 0);
	if (row.ra_how == H_UNDEF)
		return pack(K_END, 0, 0, 0);
	if (row.bad || (row.cfa_reg != REG_RSP && row.cfa_reg != REG_RBP) ||
	    row.ra_how != H_OFFSET || row.ra_off != -8 ||
	    row.cfa_off < 8 || row.cfa_off > INT32_MAX ||
	    (row.rbp_how != H_SAME && row.rbp_how != H_OFFSET) ||
	    (row.rbp_how == H_OFFSET && (row.rbp_off == 0 ||
	    row.rbp_off < INT16_MIN || row.rbp_off > INT16_MAX)))
		return pack(K_BAD, 0, 0, 0);
	return pack(K_OK, row.cfa_reg, (int32_t)row.cfa_off,
	    row.rbp_how == H_OFFSET ? (int16_t)row.rbp_off : 0);
}

static uint64_t
lookup(uint64_t pc)
{
	struct entry *e = slot(pc);
	uint64_t k, rule;

	k = __atomic_load_n(&e->key, __ATOMIC_RELAXED);
	rule = __atomic_load_n(&e->rule, __ATOMIC_RELAXED);
	if ((rule >> 56) != K_NONE && (k ^ mix(rule)) == pc)
		return rule;
	/* A miss gives up, and is not cached: the rule is not known to be
	 * bad. */
	if (__atomic_load_n(&cached_only, __ATOMIC_RELAXED))
		return pack(K_BAD, 0, 0, 0);
	rule = rule_for(pc);
	__atomic_store_n(&e->rule, rule, __ATOMIC_RELAXED);
	__atomic_store_n(&e->key, pc ^ mix(rule), __ATOMIC_RELAXED);
	return rule;
}

void
pp_walk_forget(void)
{
	size_t i;

	__atomic_fetch_add(&generation, 1, __ATOMIC_RELAXED);
	for (i = 0; i < CACHE_SIZE; i++) {
		__atomic_store_n(&cache[i].key, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&cache[i].rule, 0, __ATOMIC_RELAXED);
	}
}

void
pp_walk_cached_only(void)
{
	__atomic_store_n(&cached_only, 1, __ATOMIC_RELAXED);
}

/* Is the memo's walk the one that would be made from sp, bp now? */
static int
memo_good(const struct pp_walk_memo *m, uint64_t sp, uint64_t bp, int max)
{
	int i;

	if (m->sp != sp || m->bp != bp || m->max != max ||
	    m->gen != __atomic_load_n(&generation, __ATOMIC_RELAXED))
		return 0;
	for (i = 0; i < m->nread; i++)
		if (*(const uint64_t *)(uintptr_t)m->at[i] != m->val[i])
			return 0;
	return 1;
}

static inline void
remember(struct pp_walk_memo *m, uint64_t at, uint64_t v)
{
	if (m != NULL) {
		m->at[m->nread] = at;
		m->val[m->nread++] = v;
	}
}

int __attribute__((noinline))
pp_walk(uint64_t *pc, int max, uintptr_t lo, uintptr_t hi,
    struct pp_walk_memo *m)
{
	uint64_t ip, sp, bp, sp0, bp0, cfa, rule, at, bp_at = 0;
	int n = 0;
	int32_t cfa_off;
	int16_t rbp_off;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
	    : "=r"(ip), "=r"(sp), "=r"(bp));
	if (sp < lo || sp >= hi || max <= 0 || max > PP_WALK_MAX)
		return -1;
	if (m != NULL) {
		if ((m->hit = memo_good(m, sp, bp, max))) {
			memcpy(pc, m->pc, (size_t)m->n * sizeof(pc[0]));
			return m->n;
		}
		m->sp = 0;
		m->nread = 0;
		m->gen = __atomic_load_n(&generation, __ATOMIC_RELAXED);
	}
	sp0 = sp;
	bp0 = bp;
	pc[n++] = ip;
	at = ip;
	while (n < max) {
		rule = lookup(at);
		if ((rule >> 56) == K_END)
			break;
		if ((rule >> 56) != K_OK)
			return -1;
		cfa_off = (int32_t)(uint32_t)rule;
		rbp_off = (int16_t)(uint16_t)(rule >> 32);
		if (((rule >> 48) & 0xff) == REG_RSP)
			cfa = sp + (uint64_t)(int64_t)cfa_off;
		else {
			/* rbp as read from the stack matters to the memo
			 * only where a frame is found by it: in code
			 * without frame pointers it holds the program's
			 * data, which changes from call to call. */
			if (bp_at != 0) {
				remember(m, bp_at, bp);
				bp_at = 0;
			}
			cfa = bp + (uint64_t)(int64_t)cfa_off;
		}
		if (cfa < sp + 8 || cfa > hi)
			return -1;
		if (rbp_off != 0) {
			bp_at = cfa + (uint64_t)(int64_t)rbp_off;
			if (bp_at < lo || bp_at + 8 > hi)
				return -1;
			bp = *(const uint64_t *)(uintptr_t)bp_at;
		}
		ip = *(const uint64_t *)(uintptr_t)(cfa - 8);
		remember(m, cfa - 8, ip);
		sp = cfa;
		if (ip == 0)
			break;
		pc[n++] = ip;
		/* The call, not the instruction after it: a call to a
		 * function that does not return can be a function's last
		 * instruction. */
		at = ip - 1;
	}
	if (m != NULL) {
		m->sp = sp0;
		m->bp = bp0;
		m->max = max;
		m->n = n;
		memcpy(m->pc, pc, (size_t)n * sizeof(pc[0]));
	}
	return n;
}
