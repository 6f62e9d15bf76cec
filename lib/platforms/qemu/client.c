/* The qemu driver: ferry's own local platform, a state directory
 * (qemu:///PATH, or /PATH) holding VM definitions, volumes, snapshot
 * records and the run state of the qemus it started. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../../volume/volume.h"
#include "../driver.h"
#include "qemu.h"

static int qemu_open(struct ferry_client *fc, const char *uri,
                     const struct ferry_auth *auth, unsigned flags)
{
  (void)auth;
  (void)flags;
  char base[PATH_MAX];
  int r = client_uri_base(uri, base, sizeof base);
  if (r < 0)
    return r;
  const char *dir = base, *accel = client_option(fc, "accel");
  if (accel && strcmp(accel, "tcg") && strcmp(accel, "kvm") &&
      strcmp(accel, "kvm:tcg"))
    return ferry_error(EINVAL, "accel '%s': want tcg, kvm or kvm:tcg", accel);
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
  snprintf(st->accel, sizeof st->accel, "%s", accel ? accel : "tcg");
  const char *vw = client_option(fc, "virtio_win");
  snprintf(st->virtio_win, sizeof st->virtio_win, "%s", vw ? vw : "");
  r = statefile_mkdirs(st->dir);
  if (r < 0) {
    free(st);
    return r;
  }
  fc->priv = st;
  return 0;
}

static void qemu_close(struct ferry_client *fc)
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

static const struct platform_ops qemu_ops = {
  .vms = qemu_vms,
  .lookup_vm = qemu_lookup_vm,
  .datacenters = qemu_datacenters,
  .clusters = qemu_clusters,
  .hosts = qemu_hosts,
  .vlans = qemu_vlans,
  .create_vlan = qemu_create_vlan,
  .delete_vlan = qemu_delete_vlan,
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
  .prepare_tracking = qemu_open_cbt,
  .plan_volumes = qemu_plan_volumes,
  .inject_driver = qemu_inject_driver,
  .redefine_vm = qemu_redefine_vm,
  /* wait_task: qemu operations finish before they return.
   * check_boot_disk: the common one, through its volumes. */
};

static const char *const qemu_schemes[] = { "qemu", "", NULL };

static const struct ferry_driver_option qemu_options[] = {
  { "accel", "QEMU accelerator for the VMs it starts: tcg (default), kvm "
             "or kvm:tcg" },
  { "virtio_win", "a directory of virtio-win's drivers (its ISO mounted), "
                  "for converting Windows guests" },
  { NULL, NULL },
};

const struct ferry_driver qemu_driver = {
  .info = {
    .name = "qemu",
    .description = "a local QEMU/KVM host that ferry manages",
    .uri_help = "qemu:///PATH",
    .schemes = qemu_schemes,
    .options = qemu_options,
    .features = FERRY_FEATURE_VMS | FERRY_FEATURE_SNAPSHOTS |
                FERRY_FEATURE_RAM_SNAPSHOTS | FERRY_FEATURE_CHANGED_BLOCKS |
                FERRY_FEATURE_READ_VOLUMES | FERRY_FEATURE_WRITE_VOLUMES |
                FERRY_FEATURE_CREATE_VMS | FERRY_FEATURE_BOOT_CHECK |
                FERRY_FEATURE_INJECT_DRIVERS |
                FERRY_FEATURE_LIST_VOLUMES | FERRY_FEATURE_LIFECYCLE |
                FERRY_FEATURE_CREATE_VOLUMES,
    .platform = true,
  },
  .type = CLIENT_QEMU,
  .open = qemu_open,
  .close = qemu_close,
  .open_volume = qemu_open_volume,
  .ops = &qemu_ops,
};
