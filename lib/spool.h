/* The spool: a Maildir-style directory of profiles waiting to be pushed.
 *
 *   DIR/tmp/NAME   being written
 *   DIR/new/NAME   complete: written, fsync'd and renamed from tmp/
 *
 * Nothing half-written is ever in new/. Names sort by time: see
 * pp_spool_name. A size cap drops the oldest profiles in new/ first.
 */
#ifndef PP_SPOOL_H
#define PP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PP_SPOOL_CAP_DEFAULT	((uint64_t)256 << 20)

/* The default spool directory: $PP_SPOOL, else /var/spool/pp for root,
 * else $XDG_STATE_HOME/pp/spool, else ~/.local/state/pp/spool. Returns 0
 * or PP_ENOTFOUND when there is no home to put it in. */
int pp_spool_default(char *buf, size_t size);

/* Creates dir, dir/tmp and dir/new as needed (mode 0700 for those it
 * creates, parents included). Returns 0 or PP_EIO (e says which). */
int pp_spool_init(const char *dir, struct pp_err *e);

/* Writes data as dir/new/name: to dir/tmp/name, fsync, rename. Returns 0
 * or PP_EIO; on failure nothing is left in tmp/ or new/. */
int pp_spool_put(const char *dir, const char *name, const void *data,
    size_t len, struct pp_err *e);

/* Writes data as path atomically (path.tmp, fsync, rename): for -o. */
int pp_write_file_atomic(const char *path, const void *data, size_t len,
    struct pp_err *e);

/* Keeps the files in dir/new/ under cap bytes by deleting the oldest
 * (by name). *dropped (if not NULL) gets how many were deleted. Returns 0
 * or PP_EIO. */
int pp_spool_trim(const char *dir, uint64_t cap, size_t *dropped,
    struct pp_err *e);

#endif
