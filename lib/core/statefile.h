/* Internal: crash-safe state files, safe names and per-object locks. */
#ifndef FERRY_CORE_STATEFILE_H
#define FERRY_CORE_STATEFILE_H

#include <stddef.h>

/* Replaces path with data atomically: a temp file in the same directory,
 * written and fsynced, renamed over path, then the directory fsynced. A
 * crash leaves the old content or the new, never a torn file. */
int statefile_write(const char *path, const char *data, size_t len);

/* Reads a whole file (NUL-terminated, at most max bytes). */
int statefile_read(const char *path, size_t max, char **out);

/* Removes path and fsyncs its directory; a missing file is not an error
 * when missing_ok. */
int statefile_remove(const char *path, int missing_ok);

/* fsyncs the directory holding path (after a rename or unlink in it). */
int statefile_sync_dir(const char *path);

/* Creates dir (and parents) with mode 0700 where missing. */
int statefile_mkdirs(const char *dir);

/* Checks a name that becomes part of a path: 1..128 bytes, no '/', no
 * control characters, not "." or "..", not starting with '.' or '-'.
 * `what` names it in the message ("snapshot name"). */
int name_check(const char *name, const char *what);

/* An exclusive advisory lock on path (created if missing), held until
 * lock_release. Waits at most timeout_ms (-1: forever). */
int lock_acquire(const char *path, int timeout_ms, int *fd_out);
void lock_release(int fd);

#endif
