/* Bundles: how pp-push carries many profiles in one request.
 *
 * A bundle is a POSIX tar archive (pax or ustar), sent as is or compressed
 * with gzip, xz or zstd (the reader also takes bzip2 and lzma, and layers
 * of them: .gz.gz). Its first member is MANIFEST, a JSON document:
 *
 *   {"version": 1,
 *    "profiles": [
 *      {"name": "1764100000.123.host.4242.cpu.pb.gz",
 *       "sha256": "<64 hex digits of the member's bytes>",
 *       "size": 12345,
 *       "program": "myserver", "host": "host", "pid": 4242,
 *       "type": "cpu", "start_ns": 1764100000123000000,
 *       "duration_ns": 60000000000,
 *       "labels": ["env=prod"]}, ...]}
 *
 * and every other member is one pprof profile (gzipped or not) named as in
 * the manifest, at the top level (no directories). Metadata fields other
 * than name and sha256 are optional; a receiver prefers the "#pp"
 * comments inside the profile (pp_meta_read) and falls back to these.
 * Members not in the manifest, manifest entries without a member, and a
 * member whose SHA-256 differs from its manifest entry are errors of that
 * member; so are a member whose size differs from the manifest's "size",
 * a second member of the same name, and a member whose name is not a
 * plain file name (empty, over 255 bytes, containing '/', ".." or a
 * control character). Entries that are not regular files (directories,
 * symbolic or hard links, devices, fifos) make the whole bundle
 * PP_EARCHIVE: pp-push never writes them. Keys of the manifest not named
 * above are ignored; a key given twice in one object, or a name listed
 * twice, makes the manifest bad.
 *
 * The reader also accepts, in place of a tar, a single profile (gzipped or
 * not): it is returned as one member named "profile" with no manifest.
 * libarchive removes every layer of compression, so its data (and
 * sha256) is that of the uncompressed profile; members of a tar are
 * returned as stored.
 */
#ifndef PP_BUNDLE_H
#define PP_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

/* Limits on what a reader accepts; 0 means the default in brackets. */
struct pp_bundle_limits {
	size_t max_members;	/* members, the manifest included [10000] */
	size_t max_member;	/* bytes of one member once unpacked [64 MiB] */
	size_t max_total;	/* bytes of all members once unpacked,
				 * counted while decompressing [256 MiB] */
	size_t max_manifest;	/* bytes of MANIFEST [4 MiB] */
};

/* One member. Strings and data are owned by the bundle. The MANIFEST is
 * not a member. */
struct pp_bundle_member {
	const char *name;
	const unsigned char *data;	/* NUL-terminated for convenience */
	size_t len;
	char sha256[PP_HEX256_LEN + 1];	/* of data, computed by the reader */
	/* From the manifest (NULL/0 when absent or no manifest): */
	const char *program, *host, *type;
	int64_t pid, start_ns, duration_ns;
	const char *const *labels;	/* "key=value" */
	size_t nlabels;
	/* NULL, or why this member is unusable (sha256 mismatch, missing from
	 * the manifest, listed but absent: then data is NULL). */
	const char *error;
};

struct pp_bundle {
	struct pp_bundle_member *members;
	size_t nmembers;
	int has_manifest;
	/* private */
	void *priv;
};

/* Reads a bundle from buf (len bytes). On success *out is a new bundle
 * the caller frees with pp_bundle_free; its members are in the order of
 * the tar, then the manifest entries without a member, sorted by name.
 * Errors: PP_EARCHIVE (empty input; a tar that is truncated or corrupt,
 * or holds an entry that is not a regular file; anything else of one byte
 * or more reads as a single profile, for the profile decoder to judge),
 * PP_ETOOBIG (a limit passed: e names which; a manifest that lists
 * max_members profiles or more; tar headers bigger than 1 MiB plus 4 KiB
 * a member; the limits are checked before each member is read, and for a
 * single profile while it is decompressed), PP_EPROTO (a tar whose first
 * member is not MANIFEST, or a MANIFEST that is not the JSON above),
 * PP_ENOMEM. A bad member is not an error of the bundle: it has its error
 * field set. */
int pp_bundle_read(const void *buf, size_t len,
    const struct pp_bundle_limits *lim, struct pp_bundle **out,
    struct pp_err *e);

void pp_bundle_free(struct pp_bundle *b);

/* Builds a bundle in memory. */
struct pp_bundle_writer;

struct pp_bundle_writer *pp_bundle_writer_new(void);
void pp_bundle_writer_free(struct pp_bundle_writer *w);

/* Adds a member: name (a plain file name as the reader wants it, not
 * "MANIFEST"), its bytes (copied), and the metadata of m (strings copied;
 * m may be NULL; its sha256 and error are ignored, zero or NULL fields
 * are left out of the manifest). Returns 0, PP_EINVAL (bad or repeated
 * name, or a name or string that is not UTF-8) or PP_ENOMEM. */
int pp_bundle_writer_add(struct pp_bundle_writer *w, const char *name,
    const void *data, size_t len, const struct pp_bundle_member *m);

/* Writes the tar (MANIFEST first, then the members in the order added,
 * uncompressed: the profiles are gzipped already) into a malloc'd buffer
 * *buf of *len bytes the caller frees. The format is pax restricted
 * (plain ustar unless a name needs more); each member's time is its
 * start_ns, the MANIFEST's the latest of them, so the same members make
 * the same bytes. Returns 0 or PP_ENOMEM/PP_EARCHIVE. */
int pp_bundle_writer_finish(struct pp_bundle_writer *w, void **buf,
    size_t *len, struct pp_err *e);

#endif
