/* One copy round: each disk's changed areas (or all its data) from the
 * snapshot's point-in-time volume to the destination volume. Disks are
 * copied in parallel by a small pool; the calling thread reports progress
 * and carries the caller's cancel. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"
#include "../core/log.h"
#include "../platforms/driver.h"
#include "migrate.h"

#define PARALLEL_DISKS 2

struct round;

struct disk_job {
  struct round *rd;
  const struct ferry_migration_disk *disk;
  _Atomic uint64_t done, total;
  uint64_t bytes;
  int r;
  struct saved_error err; /* its thread's, for the caller's */
};

struct round {
  client_t *src, *dst;
  const struct ferry_vm *vm;
  const char *from, *to;
  bool full; /* all the data, the changes unknown (full_rounds) */
  struct disk_job *jobs;
  size_t n;
  atomic_size_t next;     /* the next disk to take */
  atomic_size_t finished; /* threads done */
  atomic_int cancel;
};

static int on_progress(void *opaque, uint64_t done, uint64_t total)
{
  struct disk_job *j = opaque;
  atomic_store(&j->done, done);
  atomic_store(&j->total, total);
  return atomic_load(&j->rd->cancel);
}

int snapshot_disk_copy(client_t *src, client_t *dst,
                       const struct ferry_vm *vm,
                       const char *snapshot,
                       const struct ferry_migration_disk *disk,
                       const struct ferry_extent *ext, size_t n,
                       const struct ferry_sync_opts *o,
                       struct ferry_sync_stats *st)
{
  struct ferry_volume *from = NULL, *to = NULL;
  int mode = o->mode == FERRY_SYNC_COMPARE ? FERRY_OPEN_READ
                                           : FERRY_OPEN_WRITE;
  int r = platform_round_open(src, vm, snapshot, disk->device, &from);
  if (r == 0 &&
      (r = ferry_volume_open(dst, disk->dst_volume, mode, &to)) < 0)
    ferry_error_prefix("destination: ");
  if (r == 0)
    r = ferry_copy(from, to, ext, n, o, st);
  ferry_volume_close(to);
  ferry_volume_close(from);
  return r;
}

static int copy_disk(struct disk_job *j)
{
  struct round *rd = j->rd;
  int r = 0;
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.progress = on_progress;
  o.progress_opaque = j;
  /* Disks copied at once share one budget. */
  if (rd->n > 1)
    o.memory = FERRY_SYNC_DEFAULT_MEMORY / PARALLEL_DISKS;
  struct ferry_sync_stats st;
  struct ferry_extent *ext = NULL;
  size_t n = 0;
  if (!rd->from || rd->full) {
    o.mode = FERRY_SYNC_ALLOCATED;
  } else {
    struct ferry_changed_areas ch;
    ferry_changed_areas_init(&ch);
    r = platform_round_changes(rd->src, rd->vm, j->disk->device,
                               rd->from, rd->to, &ch);
    if (r == -ENOENT) { /* the changes are not known: copy all the data */
      ferry_error_clear();
      o.mode = FERRY_SYNC_ALLOCATED;
      r = 0;
    }
    if (r == 0 && ch.n_areas && !(ext = calloc(ch.n_areas, sizeof *ext)))
      r = ferry_error(ENOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i < ch.n_areas; i++)
      ext[n++] = (struct ferry_extent){ ch.areas[i].start,
                                        ch.areas[i].length };
    ferry_changed_areas_dispose(&ch);
  }
  if (r == 0 && o.mode == FERRY_SYNC_ALLOCATED) {
    if (rd->from)
      ferry_log("round", "disk %s: snapshot %s: all its data (the changes "
                "since %s are not known%s)", j->disk->device, rd->to,
                rd->from, rd->full ? ": the source tells none" : "");
    else
      ferry_log("round", "disk %s: snapshot %s: all its data",
                j->disk->device, rd->to);
  } else if (r == 0) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += ext[i].length;
    ferry_log("round", "disk %s: snapshot %s since %s: %zu changed "
              "extents, %" PRIu64 " bytes", j->disk->device, rd->to, rd->from,
              n, sum);
  }
  if (r == 0)
    r = snapshot_disk_copy(rd->src, rd->dst, rd->vm, rd->to, j->disk,
                           ext, n, &o, &st);
  if (r == 0) {
    j->bytes = st.copied_bytes + st.zeroed_bytes;
    ferry_log("round", "disk %s: %" PRIu64 " bytes copied, %" PRIu64
              " zeroed", j->disk->device, st.copied_bytes, st.zeroed_bytes);
    atomic_store(&j->done, atomic_load(&j->total));
  }
  free(ext);
  return r;
}

static void *pool_thread(void *arg)
{
  struct round *rd = arg;
  for (size_t i; (i = atomic_fetch_add(&rd->next, 1)) < rd->n;) {
    struct disk_job *j = &rd->jobs[i];
    if ((j->r = copy_disk(j)) < 0) { /* the error is this thread's */
      ferry_error_prefix("disk %s: ", j->disk->device);
      error_save(&j->err);
    }
  }
  atomic_fetch_add(&rd->finished, 1);
  return NULL;
}

static double since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Tells the watcher where the round is; true when it asks to cancel. */
static bool report(const struct ferry_migrate_watch *w, struct round *rd,
                   const char *step, unsigned round_no,
                   const struct timespec *t0, bool finished)
{
  if (!w || !w->progress)
    return false;
  const char *names[64];
  uint64_t done[64], total[64];
  size_t n = rd->n < 64 ? rd->n : 64;
  struct ferry_migrate_progress p = { step, round_no, n, names, done, total,
                                      0, 0, since(t0), finished };
  for (size_t i = 0; i < n; i++) {
    names[i] = rd->jobs[i].disk->device;
    done[i] = atomic_load(&rd->jobs[i].done);
    total[i] = atomic_load(&rd->jobs[i].total);
    p.all_done += done[i];
    p.all_total += total[i];
  }
  return w->progress(w->opaque, &p) != 0;
}

int round_copy(client_t *src, client_t *dst, const struct ferry_vm *vm,
               const struct ferry_migration *m, const char *from,
               const char *to, const char *step, unsigned round_no,
               const struct ferry_migrate_watch *watch,
               uint64_t *changed_bytes)
{
  struct round rd = { .src = src, .dst = dst, .vm = vm, .from = from,
                      .to = to, .full = m->full_rounds,
                      .n = m->n_disks };
  rd.jobs = calloc(m->n_disks ? m->n_disks : 1, sizeof *rd.jobs);
  if (!rd.jobs)
    return ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; i < m->n_disks; i++) {
    rd.jobs[i].rd = &rd;
    rd.jobs[i].disk = &m->disks[i];
  }
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t tid[PARALLEL_DISKS];
  size_t started = 0;
  for (; started < PARALLEL_DISKS && started < m->n_disks; started++)
    if (pthread_create(&tid[started], NULL, pool_thread, &rd) != 0)
      break;
  if (started == 0 && m->n_disks)
    pool_thread(&rd); /* no thread to be had: do it here */
  /* Short naps, so that a round's time is the copy's and not the nap's;
   * reports ten times a second. */
  for (unsigned naps = 1; atomic_load(&rd.finished) < started; naps++) {
    nanosleep(&(struct timespec){ 0, 2 * 1000000 }, NULL);
    if (naps % 50 == 0 && report(watch, &rd, step, round_no, &t0, false))
      atomic_store(&rd.cancel, 1);
  }
  for (size_t i = 0; i < started; i++)
    pthread_join(tid[i], NULL);
  report(watch, &rd, step, round_no, &t0, true);
  int r = 0;
  *changed_bytes = 0;
  for (size_t i = 0; i < m->n_disks; i++) {
    *changed_bytes += rd.jobs[i].bytes;
    if (rd.jobs[i].r < 0 && r == 0)
      r = error_restore(&rd.jobs[i].err);
  }
  free(rd.jobs);
  return r;
}
