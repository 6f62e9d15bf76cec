/* The qemu client: create_client(CLIENT_QEMU, ..., host = a state
 * directory or qemu:///path) and its one operations table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../../volume/volume.h"
#include "../platform.h"
#include "qemu.h"

static int qemu_connect(struct ferry_client *fc)
{
  const char *dir = fc->host;
  if (!strncmp(dir, "qemu://", 7)) {
    dir += 7;
    if (*dir != '/')
      return ferry_error(EINVAL, "a qemu URI names a local state directory: "
                         "qemu:///PATH");
  }
  if (*dir != '/')
    return ferry_error(EINVAL, "the state directory must be an absolute "
                       "path");
  struct qemu_state *st = calloc(1, sizeof *st);
  if (!st)
    return ferry_error(ENOMEM, "out of memory");
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  /* run/<uuid>/qmp-status.sock must fit a unix socket path (108 bytes). */
  size_t max = 107 - strlen("/run/") - 36 - strlen("/qmp-status.sock");
  if (len > max) {
    free(st);
    return ferry_error(ENAMETOOLONG, "the state directory path is %zu bytes; "
                       "QEMU's monitor sockets under it need it to be at most "
                       "%zu (unix socket paths are limited to 108 bytes)", len,
                       max);
  }
  memcpy(st->dir, dir, len);
  int r = statefile_mkdirs(st->dir);
  if (r < 0) {
    free(st);
    return r;
  }
  fc->priv = st;
  return 0;
}

static void qemu_disconnect(struct ferry_client *fc)
{
  free(fc->priv);
  fc->priv = NULL;
}

/* The data path: a volume id is an image under <state>/volumes. */
static int qemu_open_volume(struct ferry_client *fc, const char *id, int mode,
                            struct ferry_volume **out)
{
  char dir[PATH_MAX];
  const char *fmt = qemu_volume_format(id);
  if (!fmt)
    return ferry_error(EINVAL, "volume id '%s' must end in .qcow2 or .raw",
                       id);
  return file_volume_open(qemu_path(QEMU_STATE(fc), dir, "volumes"), id, fmt,
                          mode, out);
}

const struct platform_ops qemu_platform_ops = {
  .name = "qemu",
  .vms = qemu_vms,
  .datacenters = qemu_datacenters,
  .clusters = qemu_clusters,
  .hosts = qemu_hosts,
  .vlans = qemu_vlans,
  .snapshot_create = qemu_snapshot_create,
  .snapshot_delete = qemu_snapshot_delete,
  .snapshot_list = qemu_snapshot_list,
  .snapshot_current = qemu_snapshot_current,
  .snapshot_revert = qemu_snapshot_revert,
  .snapshot_volume = qemu_snapshot_volume,
  .query_snapshot_changes = qemu_query_snapshot_changes,
  .create_volume = qemu_create_volume,
  .delete_volume = qemu_delete_volume,
  .volumes = qemu_volumes,
  .create_vm = qemu_create_vm,
  .delete_vm = qemu_delete_vm,
  .start_vm = qemu_start_vm,
  .stop_vm = qemu_stop_vm,
  .resume_vm = qemu_resume_vm,
  .lease_dir = qemu_lease_dir,
  .check_boot_disk = qemu_check_boot_disk,
  .open_cbt = qemu_open_cbt,
  /* wait_task: qemu operations finish before they return.
   * inject_driver: not for this platform. */
};

const struct client_ops qemu_client_ops = {
  .name = "qemu",
  .platform = &qemu_platform_ops,
  .connect = qemu_connect,
  .open_volume = qemu_open_volume,
  .disconnect = qemu_disconnect,
};
