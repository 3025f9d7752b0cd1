/* The in-memory profile: pprof's profile.proto with its indices resolved.
 *
 * A struct pp_profile owns everything it points to. Strings are interned in
 * the profile (pp_profile_intern), so two equal strings of one profile are
 * the same pointer and "" is never NULL. Mappings, locations, functions and
 * samples are arrays of pointers to objects that never move, so a pointer
 * to one stays valid while the profile lives, even as the arrays grow.
 *
 * Only pp_profile_decode builds a profile from untrusted bytes, and it
 * validates everything before it returns one: the rest of libpp may rely on
 * a profile being valid (ids non-zero and unique, every reference resolved,
 * one value per sample type).
 */
#ifndef PP_PROFILE_H
#define PP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

struct pp_value_type {
	const char *type;
	const char *unit;
};

struct pp_mapping {
	uint64_t id;
	uint64_t start, limit, offset;
	const char *file;
	const char *build_id;
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

struct pp_function {
	uint64_t id;
	const char *name;
	const char *system_name;
	const char *filename;
	int64_t start_line;
};

struct pp_line {
	struct pp_function *function;
	int64_t line;
	int64_t column;
};

/* line[0] is the innermost frame: the callee into which the later lines
 * were inlined, as in profile.proto. */
struct pp_location {
	uint64_t id;
	struct pp_mapping *mapping;	/* NULL: none */
	uint64_t address;
	struct pp_line *line;
	size_t nline;
	bool is_folded;
	uint32_t index;			/* position in pp_profile.location */
};

/* A string label has str != ""; a numeric one has str == "" and num/unit. */
struct pp_label {
	const char *key;
	const char *str;
	int64_t num;
	const char *unit;
};

/* location[0] is the leaf. */
struct pp_sample {
	struct pp_location **location;
	size_t nlocation;
	int64_t *value;			/* pp_profile.nsample_type values */
	struct pp_label *label;
	size_t nlabel;
};

struct pp_profile {
	struct pp_arena arena;
	struct pp_strset strings;

	struct pp_value_type *sample_type;
	size_t nsample_type;
	struct pp_sample **sample;
	size_t nsample, capsample;
	struct pp_mapping **mapping;
	size_t nmapping, capmapping;
	struct pp_location **location;
	size_t nlocation, caplocation;
	struct pp_function **function;
	size_t nfunction, capfunction;

	const char *drop_frames;
	const char *keep_frames;
	int64_t time_nanos;
	int64_t duration_nanos;
	struct pp_value_type period_type;
	int64_t period;
	const char **comment;
	size_t ncomment;
	const char *default_sample_type;
};

/* Limits for decoding untrusted input. Zero fields take the defaults. */
struct pp_decode_limits {
	size_t max_input;	/* bytes as given; default 128 MiB */
	size_t max_raw;		/* protobuf bytes after gunzip; default 128 MiB */
	size_t max_memory;	/* bytes of protobuf-c's objects while
				 * decoding, at most: it lowers the default
				 * budget of 16 times the protobuf bytes plus
				 * 64 MiB (real profiles take 4 to 9 times, a
				 * crafted one of empty samples 30) */
};

/* Returns a new empty profile, or NULL when out of memory. */
struct pp_profile *pp_profile_new(void);

/* Frees p and everything it owns; NULL is allowed. */
void pp_profile_free(struct pp_profile *p);

/* Returns the interned copy of s (len bytes; may hold NUL bytes), or NULL
 * when out of memory. */
const char *pp_profile_intern(struct pp_profile *p, const char *s, size_t len);
const char *pp_profile_intern_str(struct pp_profile *p, const char *s);

/* Allocation from the profile's arena; freed with the profile. */
void *pp_profile_alloc(struct pp_profile *p, size_t size);

/* Append a new zeroed object with the given id (mapping, function,
 * location) or a new sample with room for nloc locations, the profile's
 * sample type count of values and nlabel labels. NULL when out of memory. */
struct pp_mapping *pp_profile_add_mapping(struct pp_profile *p, uint64_t id);
struct pp_function *pp_profile_add_function(struct pp_profile *p, uint64_t id);
struct pp_location *pp_profile_add_location(struct pp_profile *p, uint64_t id,
    size_t nline);
struct pp_sample *pp_profile_add_sample(struct pp_profile *p, size_t nloc,
    size_t nlabel);

/* Decodes a profile from buf: gzip-compressed or raw profile.proto. The
 * result is fully validated; on failure *out is untouched and e (if not
 * NULL) says what was wrong. Returns 0, PP_EEMPTY, PP_EFORMAT, PP_EINVAL,
 * PP_ETOOBIG or PP_ENOMEM. */
int pp_profile_decode(const void *buf, size_t len,
    const struct pp_decode_limits *lim, struct pp_profile **out,
    struct pp_err *e);

/* Reads all of fd and decodes it as above. Returns PP_EIO on a read error
 * (errno set). */
int pp_profile_read_fd(int fd, const struct pp_decode_limits *lim,
    struct pp_profile **out, struct pp_err *e);

/* Encodes p as gzip-compressed profile.proto into a malloc'd buffer that
 * the caller frees. Returns 0 or PP_ENOMEM. */
int pp_profile_encode(const struct pp_profile *p, void **buf, size_t *len);

/* Compresses len bytes of in as one gzip member (zlib's default level, so
 * the same input always gives the same output) into a malloc'd *out.
 * Returns 0 or PP_ENOMEM. */
int pp_gzip(const void *in, size_t len, void **out, size_t *outlen);

/* Index of the sample type called name ("" or NULL: the default sample type
 * if set, else the last), or a decimal index. "inuse_X" also finds a type
 * called "X", as pprof allows. Returns the index or PP_ENOTFOUND, with the
 * valid names in e. */
int pp_profile_sample_index(const struct pp_profile *p, const char *name,
    struct pp_err *e);

/* pprof's report total of sample type si: the sum of absolute values, or
 * of the diff base's samples (label pprof::base=true) when there are any. */
int64_t pp_profile_total(const struct pp_profile *p, int si);

/* Multiplies every sample value by ratio (rounded), and drops samples whose
 * values all become zero, as pprof's Profile.Scale does. ratio -1 negates:
 * the base of a difference. */
void pp_profile_scale(struct pp_profile *p, double ratio);

/* Keeps only the samples with a frame matching focus (if not NULL) and no
 * frame matching ignore (if not NULL): pprof's -focus and -ignore. A frame
 * matches when its function name, its file name or its mapping's file
 * matches. The expressions are POSIX extended regular expressions. Returns
 * 0 or PP_EREGEX. */
int pp_profile_filter(struct pp_profile *p, const char *focus,
    const char *ignore, struct pp_err *e);

/* Applies the profile's own drop_frames/keep_frames expressions as pprof
 * does before it reports (Profile.RemoveUninteresting). */
int pp_profile_prune(struct pp_profile *p, struct pp_err *e);

/* Merges the profiles in ps into a new profile *out with pprof's rules:
 * the same sample types and period type (else PP_EMISMATCH, explained in
 * e); mappings, functions and locations deduplicated; samples with equal
 * stacks and labels summed. Sample values add up; time is the earliest,
 * duration covers all. The inputs are not changed. */
int pp_profile_merge(struct pp_profile *const *ps, size_t n,
    struct pp_profile **out, struct pp_err *e);

/* The same merge one profile at a time, so that each input may be freed
 * as soon as it is added: pp_merger_new, then pp_merger_add for every
 * input in order, then pp_merger_finish, then pp_merger_free. The result
 * is that of pp_profile_merge over the same inputs. A merger that failed
 * takes no more profiles: later calls return the same error, except that
 * after PP_EINVAL (values that would overflow) an incompatible profile is
 * still reported as PP_EMISMATCH, since pp_profile_merge checks all types
 * before any value. */
struct pp_merger;

/* Returns a new merger, or NULL when out of memory. */
struct pp_merger *pp_merger_new(void);

/* Frees x and whatever it holds; NULL is allowed. */
void pp_merger_free(struct pp_merger *x);

/* Folds src into the merge; src is not changed, not kept, and may be freed
 * on return. Returns 0, PP_EMISMATCH (types unlike the first profile's),
 * PP_EINVAL (values would overflow) or PP_ENOMEM, explained in e. */
int pp_merger_add(struct pp_merger *x, const struct pp_profile *src,
    struct pp_err *e);

/* Hands the merged profile to *out (the caller frees it); x then takes no
 * more. Returns 0, PP_EINVAL when nothing was added, an earlier failure of
 * pp_merger_add, or PP_ENOMEM. */
int pp_merger_finish(struct pp_merger *x, struct pp_profile **out,
    struct pp_err *e);

#endif
