/* End-to-end verification: the last snapshot's data against the
 * destination volumes, one disk after another, each by the sync engine's
 * compare mode (parallel within the disk, transient errors retried). */
#include <stdlib.h>

#include <ferry/sync.h>

#include "../core/error.h"
#include "migrate.h"

static int verify_disk(client_t *src, client_t *dst, const char *src_vol,
                       const char *dst_vol, const char *device)
{
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_COMPARE;
  int r = ferry_sync_ex(src, dst, src_vol, dst_vol, NULL, 0, &o, NULL);
  return r < 0 ? ferry_error_prefix("disk %s: ", device) : 0;
}

int verify_disks(client_t *src, client_t *dst, const struct ferry_vm *vm,
                 const struct ferry_migration *m, const char *snap)
{
  int r = 0;
  for (size_t i = 0; r == 0 && i < m->n_disks; i++) {
    char *vol = NULL;
    r = ferry_snapshot_volume(src, vm->uuid, snap, m->disks[i].device, &vol);
    if (r == 0)
      r = verify_disk(src, dst, vol, m->disks[i].dst_volume,
                      m->disks[i].device);
    free(vol);
  }
  return r;
}
