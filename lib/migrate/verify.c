/* End-to-end verification: the last snapshot's data against the
 * destination volumes, one disk after another, each by the sync engine's
 * compare mode (parallel within the disk, transient errors retried). */
#include <ferry/sync.h>

#include "../core/error.h"
#include "migrate.h"

int verify_disks(client_t *src, client_t *dst, const struct ferry_vm *vm,
                 const struct ferry_migration *m, const char *snap)
{
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_COMPARE;
  int r = 0;
  for (size_t i = 0; r == 0 && i < m->n_disks; i++)
    if ((r = snapshot_disk_copy(src, dst, vm->uuid, snap, &m->disks[i], NULL,
                                0, &o, NULL)) < 0)
      ferry_error_prefix("disk %s: ", m->disks[i].device);
  return r;
}
