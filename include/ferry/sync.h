/* The copy engine with its options: what ferry_sync() runs with defaults. */
#ifndef FERRY_SYNC_H
#define FERRY_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct client;

/* A byte range. */
struct ferry_extent {
  uint64_t offset;
  uint64_t length;
};

enum ferry_sync_mode {
  FERRY_SYNC_EXTENTS = 0,   /* only the given extents */
  FERRY_SYNC_ALLOCATED = 1, /* allocated areas of the source; zero the rest */
  FERRY_SYNC_ALL = 2,       /* read every byte of the source */
  /* Write nothing: read both sides over the given extents (none: the whole
   * source) and compare the bytes. A difference is -EILSEQ naming the first
   * differing byte of the first differing request found (with several
   * workers not always the lowest); a destination smaller than the source
   * is -EILSEQ too. A mode, not an option: it excludes copying, and the
   * structs keep their layout. */
  FERRY_SYNC_COMPARE = 3,
};

/* Called about ten times a second from the calling thread with the bytes
 * handled so far and the total. Return non-zero to cancel the copy, which
 * then fails with -ECANCELED. */
typedef int (*ferry_progress_fn)(void *opaque, uint64_t done, uint64_t total);
/* The same, with the pass it reports on: "copy", then "verify" for the
 * read-back of verify (FERRY_SYNC_COMPARE's one pass is "verify" too).
 * Each pass ends with one call where done == total. */
typedef int (*ferry_phase_progress_fn)(void *opaque, const char *phase,
                                       uint64_t done, uint64_t total);

struct ferry_sync_opts {
  size_t struct_size;     /* sizeof (struct ferry_sync_opts): what the
                           * library reads of it (ferry_sync_opts_init) */
  enum ferry_sync_mode mode;
  uint64_t request_size;  /* bytes per request; 0: what the volumes copy
                           * best with (256 KiB or the NBD server's
                           * preferred size; 2 MiB between files) */
  unsigned requests;      /* requests in flight per worker; 0: adapted to
                           * the throughput measured, as deep as memory
                           * allows */
  unsigned workers;       /* threads/connections; 0: 8 threads between
                           * files, 4 connections to an NBD server that
                           * allows several, else 1 */
  unsigned retries;       /* tries after a transient error; 0: default (5) */
  unsigned retry_delay_ms; /* first back-off; doubles each try up to 5 s;
                           * 0: 100 */
  bool verify;            /* read both sides back and compare the bytes */
  bool no_zero_detect;    /* write zero-filled blocks as data */
  ferry_progress_fn progress;
  void *progress_opaque;
  /* Called instead of progress when set (with progress_opaque). */
  ferry_phase_progress_fn phase_progress;
  /* The most the copy's buffers take, every worker and request together;
   * 0: 64 MiB. Requests that do not fit are not started. */
  uint64_t memory;
  /* A gap of up to this many bytes between two extents is read with them,
   * as one request, rather than asked for in two (only the extents are
   * written); 0: what the source's backend was measured to gain from
   * (bench/bench.py's gap sweep); FERRY_READ_GAP_NEVER: never. */
  uint64_t read_gap;
};

#define FERRY_READ_GAP_NEVER UINT64_MAX
#define FERRY_SYNC_DEFAULT_MEMORY (64ull << 20) /* memory 0 means this */

struct ferry_sync_stats {
  uint64_t total_bytes;   /* bytes in the copy plan */
  uint64_t copied_bytes;  /* read from the source and written */
  uint64_t zeroed_bytes;  /* written as zeroes/holes at the destination */
  uint64_t skipped_bytes; /* zero at the source and already zero at dest */
  uint64_t verified_bytes;
  uint64_t retries;       /* transient errors recovered */
  unsigned workers;
  unsigned requests;      /* the most in flight on one worker */
  uint64_t request_size;
  double seconds;
  bool wrote;             /* a write or zero reached the destination */
  bool started;           /* the copy began (I/O was sent): a failure
                           * after this is no bad input */
  uint64_t memory;        /* the buffers' budget */
  uint64_t buffer_bytes;  /* the most of it in use: workers x requests
                           * (the deepest a worker went) x request size */
};

/* The defaults, with struct_size the caller's own: an inline, so that a
 * caller built against an older, shorter struct says so. */
static inline void ferry_sync_opts_init(struct ferry_sync_opts *opts)
{
  memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof *opts;
  opts->mode = FERRY_SYNC_EXTENTS;
}

/* Reads an extents file ("-": standard input): one "START_SECTOR
 * SECTOR_COUNT" pair per line, blank lines and '#' comments skipped, into
 * byte extents (malloc'd; free() them). A directory, a NUL byte, an overlong
 * line, more than 32 Mi extents or a read error is an error (-errno, with
 * a message naming FILE:LINE), never a shorter list. */
int ferry_extents_read(const char *path, struct ferry_extent **out,
                       size_t *n);

/* The engine behind ferry_sync(). extents/n are byte ranges (ignored unless
 * mode is FERRY_SYNC_EXTENTS or FERRY_SYNC_COMPARE). stats may be NULL. */
int ferry_sync_ex(struct client *src_client, struct client *dest_client,
                  const char *src_volume, const char *dest_volume,
                  const struct ferry_extent *extents, size_t n,
                  const struct ferry_sync_opts *opts,
                  struct ferry_sync_stats *stats);

/* The same engine between volumes the caller opened (ferry_volume_open,
 * ferry_snapshot_open: src for reading, dst for writing, or for reading in
 * FERRY_SYNC_COMPARE), which stay open. */
struct ferry_volume;
int ferry_copy(struct ferry_volume *src, struct ferry_volume *dst,
               const struct ferry_extent *extents, size_t n,
               const struct ferry_sync_opts *opts,
               struct ferry_sync_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
