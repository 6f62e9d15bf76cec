/* ferry_sync / ferry_sync_ex: validate everything, plan, then copy. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ferry/ferry.h>

#include "../core/error.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "engine.h"

#define MAX_MEMORY (16ull << 30)
#define DEFAULT_RETRIES 5
#define DEFAULT_RETRY_DELAY_MS 100
#define MAX_REQUEST_SIZE (32u << 20) /* qemu's NBD payload limit */

static int fill_defaults(struct ferry_sync_opts *o)
{
  /* request_size and requests 0: the engine picks them by volume. */
  if (o->request_size && (o->request_size < 4096 ||
                          o->request_size > MAX_REQUEST_SIZE ||
                          o->request_size % 512))
    return ferry_error(EINVAL, "request size %" PRIu64 " must be a multiple "
                       "of 512 from 4096 to %u bytes", o->request_size,
                       MAX_REQUEST_SIZE);
  if (o->requests > ENGINE_MAX_DEPTH)
    return ferry_error(EINVAL, "%u requests in flight is more than %u",
                       o->requests, ENGINE_MAX_DEPTH);
  if (o->workers > 64) /* 0: the engine picks by backend */
    return ferry_error(EINVAL, "%u workers is more than 64", o->workers);
  if (!o->memory)
    o->memory = FERRY_SYNC_DEFAULT_MEMORY;
  if (o->memory > MAX_MEMORY)
    return ferry_error(EINVAL, "a memory budget of %" PRIu64 " bytes is more "
                       "than %llu GiB", o->memory, MAX_MEMORY >> 30);
  if (!o->retries)
    o->retries = DEFAULT_RETRIES;
  if (!o->retry_delay_ms)
    o->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
  return 0;
}

/* Compare mode takes extents too; without any it compares the whole
 * source. */
static bool takes_extents(enum ferry_sync_mode mode, size_t n)
{
  return mode == FERRY_SYNC_EXTENTS || (mode == FERRY_SYNC_COMPARE && n > 0);
}

/* Works out the byte ranges to copy and checks them against both sizes. */
static int make_ranges(struct ferry_volume *src, struct ferry_volume *dst,
                       const struct ferry_extent *ext, size_t n,
                       enum ferry_sync_mode mode, struct extent_list *out)
{
  char what[600];
  int64_t ss = ferry_volume_size(src), ds = ferry_volume_size(dst);
  int r;
  /* For a compare, a short destination is a difference, not bad input. */
  if (mode == FERRY_SYNC_COMPARE && ss >= 0 && ds >= 0 && ds < ss)
    return ferry_error(EILSEQ, "the destination is smaller than the source "
                       "(%s: %" PRId64 " bytes, %s: %" PRId64 " bytes)",
                       dst->name, ds, src->name, ss);
  if (takes_extents(mode, n)) {
    /* Extents are in whole sectors: the last one may cover a partial last
     * sector of a volume, and is cut at the volume's end. */
    snprintf(what, sizeof what, "source %s", src->name);
    if ((r = extents_check(ext, n, ss, what)) < 0)
      return r;
    snprintf(what, sizeof what, "destination %s", dst->name);
    if ((r = extents_check(ext, n, ds, what)) < 0)
      return r;
    uint64_t end = ss < 0 ? UINT64_MAX : (uint64_t)ss;
    if (ds >= 0 && (uint64_t)ds < end)
      end = ds;
    for (size_t i = 0; i < n; i++) {
      uint64_t len = ext[i].offset + ext[i].length <= end ? ext[i].length
                   : ext[i].offset < end ? end - ext[i].offset : 0;
      if (len && (r = extent_list_push(out, ext[i].offset, len)) < 0)
        return r;
    }
    extents_normalize(out);
    return 0;
  }
  if (ss < 0)
    return ferry_error(EINVAL, "%s has no known size: give an extent list "
                       "to copy", src->name);
  if (ds >= 0 && ds < ss)
    return ferry_error(ENOSPC, "destination %s (%" PRId64 " bytes) is smaller "
                       "than source %s (%" PRId64 " bytes)", dst->name, ds,
                       src->name, ss);
  return ss > 0 ? extent_list_push(out, 0, ss) : 0;
}

/* The options as the engine runs with them: the caller's, by their size,
 * with every default filled in. */
static int take_opts(const struct ferry_sync_opts *in,
                     struct ferry_sync_opts *o)
{
  ferry_sync_opts_init(o);
  int r = OPTS_TAKE(o, in, struct ferry_sync_opts, progress_opaque);
  return r < 0 ? r : fill_defaults(o);
}

/* The copy (or compare) between two open volumes. */
static int copy_open(struct ferry_volume *src, struct ferry_volume *dst,
                     const struct ferry_extent *extents, size_t n,
                     const struct ferry_sync_opts *o,
                     struct ferry_sync_stats *st)
{
  struct extent_list ranges = { 0 };
  struct plan plan = { 0 };
  bool compare = o->mode == FERRY_SYNC_COMPARE;
  int r = make_ranges(src, dst, extents, n, o->mode, &ranges);
  if (r == 0 && !compare)
    r = plan_build(&plan, src, dst, &ranges, o->mode == FERRY_SYNC_ALL,
                   o->retries, o->retry_delay_ms);
  if (r == 0) {
    st->total_bytes = compare ? extents_total(&ranges)
                    : plan.copy_bytes + plan.zero_bytes + plan.skipped_bytes;
    st->skipped_bytes = plan.skipped_bytes;
    ferry_log("sync", "%s %s -> %s: %zu ranges, %" PRIu64 " bytes to copy, "
              "%" PRIu64 " to zero, %" PRIu64 " skipped",
              compare ? "compare" : "copy", ferry_volume_name(src),
              ferry_volume_name(dst), ranges.n, plan.copy_bytes,
              plan.zero_bytes, plan.skipped_bytes);
    r = engine_run(src, dst, &plan, &ranges, o, st);
    ferry_log("sync", "%u workers, at most %u requests each in flight, of %"
              PRIu64 " bytes: %" PRIu64 " bytes of buffers of a budget of %"
              PRIu64, st->workers, st->requests, st->request_size,
              st->buffer_bytes, st->memory);
    ferry_log("sync", "%s %s: %s", compare ? "compare" : "copy",
              ferry_volume_name(dst), r < 0 ? ferry_last_error() : "done");
  }
  plan_free(&plan);
  extent_list_free(&ranges);
  return r;
}

static double since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* What both entry points check first: the options (defaults filled in),
 * the stats zeroed (st: the caller's, or local), the extents given. */
static int begin(const struct ferry_sync_opts *opts_in,
                 struct ferry_sync_opts *o, struct ferry_sync_stats *stats,
                 struct ferry_sync_stats *local, struct ferry_sync_stats **st,
                 const struct ferry_extent *extents, size_t n)
{
  ferry_error_clear();
  *st = stats ? stats : local;
  memset(*st, 0, sizeof **st);
  int r = take_opts(opts_in, o);
  if (r == 0 && takes_extents(o->mode, n) && n > 0 && !extents)
    r = ferry_error(EINVAL, "extent array is NULL but its length is %zu", n);
  return r;
}

int ferry_copy(struct ferry_volume *src, struct ferry_volume *dst,
               const struct ferry_extent *extents, size_t n,
               const struct ferry_sync_opts *opts_in,
               struct ferry_sync_stats *stats)
{
  struct ferry_sync_stats local, *st;
  struct ferry_sync_opts o;
  int r = begin(opts_in, &o, stats, &local, &st, extents, n);
  if (r == 0 && (!src || !dst))
    r = ferry_error(EINVAL, "%s volume is NULL", src ? "destination"
                                                     : "source");
  if (r == 0 && src == dst)
    r = ferry_error(EINVAL, "source and destination are the same volume");
  if (r < 0)
    return r;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = copy_open(src, dst, extents, n, &o, st);
  st->seconds = since(&t0);
  return r;
}

int ferry_sync_ex(client_t *src_client, client_t *dest_client,
                  const char *src_volume, const char *dest_volume,
                  const struct ferry_extent *extents, size_t n,
                  const struct ferry_sync_opts *opts_in,
                  struct ferry_sync_stats *stats)
{
  struct ferry_sync_stats local, *st;
  struct ferry_sync_opts o;
  int r = begin(opts_in, &o, stats, &local, &st, extents, n);
  if (r < 0)
    return r;
  if (!src_client || !dest_client)
    return ferry_error(EINVAL, "%s client is NULL",
                       src_client ? "destination" : "source");
  if (!src_volume || !dest_volume)
    return ferry_error(EINVAL, "%s volume is NULL",
                       src_volume ? "destination" : "source");

  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct ferry_volume *src = NULL, *dst = NULL;
  /* Before opening: an image opened twice would trip qemu's lock first. */
  char ida[1024], idb[1024];
  volume_identify(src_client, src_volume, ida, sizeof ida);
  volume_identify(dest_client, dest_volume, idb, sizeof idb);
  bool compare = o.mode == FERRY_SYNC_COMPARE;
  if (*ida && strcmp(ida, idb) == 0)
    r = ferry_error(EINVAL, "source and destination are the same volume "
                    "('%s' and '%s')", src_volume, dest_volume);
  else if ((r = ferry_volume_open(src_client, src_volume, FERRY_OPEN_READ,
                                  &src)) < 0)
    ferry_error_prefix("source: ");
  else if ((r = ferry_volume_open(dest_client, dest_volume,
                                  compare ? FERRY_OPEN_READ
                                          : FERRY_OPEN_WRITE, &dst)) < 0)
    ferry_error_prefix("destination: ");
  else
    r = copy_open(src, dst, extents, n, &o, st);
  st->seconds = since(&t0);
  ferry_volume_close(dst); /* closes leave the error as it is */
  ferry_volume_close(src);
  if (r < 0)
    return ferry_last_errno() ? -ferry_last_errno() : r;
  ferry_error_clear();
  return 0;
}

int ferry_sync(client_t *src_client, client_t *dest_client,
               const char *src_volume, const char *dest_volume,
               uint64_t start[], uint64_t sector[], int length)
{
  ferry_error_clear();
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  if (length == 0 && !start && !sector) { /* the whole allocated volume */
    o.mode = FERRY_SYNC_ALLOCATED;
    return ferry_sync_ex(src_client, dest_client, src_volume, dest_volume,
                         NULL, 0, &o, NULL);
  }
  struct extent_list l = { 0 };
  int r = extents_from_sectors(start, sector, length, &l);
  if (r == 0)
    r = ferry_sync_ex(src_client, dest_client, src_volume, dest_volume, l.v,
                      l.n, &o, NULL);
  extent_list_free(&l);
  return r;
}
