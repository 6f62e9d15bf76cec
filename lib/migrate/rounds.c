/* One copy round: each disk's changed areas (or all its data) from the
 * snapshot's point-in-time volume to the destination volume. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "migrate.h"

#define PARALLEL_DISKS 2

struct disk_job {
  client_t *src, *dst;
  const struct ferry_vm *vm;
  const struct ferry_migration_disk *disk;
  const char *from, *to;
  uint64_t bytes;
  int r;
  char msg[1024];
};

static int copy_disk(struct disk_job *j)
{
  char *vol = NULL;
  int r = ferry_snapshot_volume(j->src, j->vm->uuid, j->to, j->disk->device,
                                &vol);
  if (r < 0)
    return r;
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  struct ferry_sync_stats st;
  struct ferry_extent *ext = NULL;
  size_t n = 0;
  if (!j->from) {
    o.mode = FERRY_SYNC_ALLOCATED;
  } else {
    struct ferry_changed_areas ch;
    ferry_changed_areas_init(&ch);
    r = ferry_query_snapshot_changes(j->src, j->vm->uuid, j->disk->device,
                                     j->from, j->to, &ch);
    if (r == 0 && ch.n_areas &&
        !(ext = calloc(ch.n_areas, sizeof *ext)))
      r = ferry_error(ENOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i < ch.n_areas; i++)
      ext[n++] = (struct ferry_extent){ ch.areas[i].start,
                                        ch.areas[i].length };
    ferry_changed_areas_dispose(&ch);
  }
  if (r == 0)
    r = ferry_sync_ex(j->src, j->dst, vol, j->disk->dst_volume, ext, n, &o,
                      &st);
  if (r == 0)
    j->bytes = st.copied_bytes + st.zeroed_bytes;
  free(ext);
  free(vol);
  return r;
}

static void *disk_thread(void *arg)
{
  struct disk_job *j = arg;
  j->r = copy_disk(j);
  if (j->r < 0) /* the error is this thread's: keep its message */
    snprintf(j->msg, sizeof j->msg, "disk %s: %s", j->disk->device,
             ferry_last_error() ? ferry_last_error() : strerror(-j->r));
  return NULL;
}

int round_copy(client_t *src, client_t *dst, const struct ferry_vm *vm,
               const struct ferry_migration *m, const char *from,
               const char *to, uint64_t *changed_bytes)
{
  struct disk_job *jobs = calloc(m->n_disks ? m->n_disks : 1, sizeof *jobs);
  if (!jobs)
    return ferry_error(ENOMEM, "out of memory");
  *changed_bytes = 0;
  int r = 0;
  for (size_t at = 0; at < m->n_disks; at += PARALLEL_DISKS) {
    pthread_t tid[PARALLEL_DISKS];
    size_t k = 0;
    for (; k < PARALLEL_DISKS && at + k < m->n_disks; k++) {
      struct disk_job *j = &jobs[at + k];
      *j = (struct disk_job){ src, dst, vm, &m->disks[at + k], from, to,
                              0, 0, "" };
      if (pthread_create(&tid[k], NULL, disk_thread, j) != 0) {
        j->r = -EAGAIN;
        snprintf(j->msg, sizeof j->msg, "cannot start a copy thread");
        break;
      }
    }
    for (size_t i = 0; i < k; i++)
      pthread_join(tid[i], NULL);
  }
  for (size_t i = 0; i < m->n_disks; i++) {
    *changed_bytes += jobs[i].bytes;
    if (jobs[i].r < 0 && r == 0)
      r = ferry_error(-jobs[i].r, "%s", jobs[i].msg);
  }
  free(jobs);
  return r;
}
