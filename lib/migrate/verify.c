/* End-to-end verification: the last snapshot's data against the
 * destination volumes, one disk after another, each by the sync engine's
 * compare mode (parallel within the disk, transient errors retried),
 * reported to the watcher as the step "verify". */
#include <ferry/sync.h>

#include "../core/error.h"
#include "migrate.h"

#define MAX_REPORTED 64 /* disks a report lists */

struct verify_watch {
  const struct ferry_migrate_watch *watch;
  unsigned round;
  size_t n, at; /* disks, and the one being compared */
  const char *names[MAX_REPORTED];
  uint64_t done[MAX_REPORTED], total[MAX_REPORTED];
  double t0;
};

static int on_progress(void *opaque, uint64_t done, uint64_t total)
{
  struct verify_watch *v = opaque;
  if (v->at < MAX_REPORTED) {
    v->done[v->at] = done;
    v->total[v->at] = total;
  }
  size_t n = v->n < MAX_REPORTED ? v->n : MAX_REPORTED;
  struct ferry_migrate_progress p = { "verify", v->round, n, v->names,
                                      v->done, v->total, 0, 0,
                                      now_ms() / 1000.0 - v->t0, false };
  for (size_t i = 0; i < n; i++) {
    p.all_done += v->done[i];
    p.all_total += v->total[i];
  }
  p.finished = done == total && v->at + 1 == v->n;
  return v->watch->progress(v->watch->opaque, &p);
}

int verify_disks(client_t *src, client_t *dst, const struct ferry_vm *vm,
                 const struct ferry_migration *m, const char *snap,
                 const struct ferry_migrate_watch *watch)
{
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_COMPARE;
  struct verify_watch v = { .watch = watch, .round = (unsigned)m->n_rounds,
                            .n = m->n_disks, .t0 = now_ms() / 1000.0 };
  for (size_t i = 0; i < m->n_disks && i < MAX_REPORTED; i++)
    v.names[i] = m->disks[i].device;
  if (watch && watch->progress) {
    o.progress = on_progress;
    o.progress_opaque = &v;
  }
  int r = 0;
  for (size_t i = 0; r == 0 && i < m->n_disks; i++) {
    v.at = i;
    if ((r = snapshot_disk_copy(src, dst, vm, snap, &m->disks[i], NULL,
                                0, &o, NULL)) < 0)
      ferry_error_prefix("disk %s: ", m->disks[i].device);
  }
  return r;
}
