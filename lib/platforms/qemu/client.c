/* The qemu driver: ferry's own local platform, a state directory
 * (local:///PATH, or /PATH) holding VM definitions, volumes, snapshot
 * records and the run state of the qemus it started. qemu:///PATH, its
 * old spelling, is libvirt's scheme: it is taken (with a warning) only for
 * a ferry state directory that exists, and left to libvirt otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../../volume/volume.h"
#include "../driver.h"
#include "qemu.h"

/* A directory ferry's local platform made: one of its own entries is in
 * it. */
static bool is_state_dir(const char *dir)
{
  static const char *const own[] = { "vms", "volumes", "networks.json",
                                     "snapshots", "run", "migrations" };
  char p[PATH_MAX];
  struct stat st;
  for (size_t i = 0; i < sizeof own / sizeof *own; i++)
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, own[i]) < sizeof p &&
        stat(p, &st) == 0)
      return true;
  return false;
}

/* qemu:///system, qemu:///session and qemu:///embed are libvirt's; every
 * other qemu:///PATH is the old spelling of local:///PATH. */
static bool qemu_claims(const char *uri)
{
  if (strncmp(uri, "qemu://", 7))
    return true; /* local:, a path */
  const char *p = uri + 7;
  size_t n = strcspn(p, "?");
  return *p == '/' && !(n == 7 && !strncmp(p, "/system", 7)) &&
         !(n == 8 && !strncmp(p, "/session", 8)) && strncmp(p, "/embed", 6);
}

/* The state directory of uri (without its query): local:///PATH, /PATH,
 * or qemu:///PATH where PATH is a ferry state directory already. */
static int state_dir_of(const char *base, const char **dir)
{
  *dir = base;
  if (!strncmp(base, "local://", 8)) {
    *dir = base + 8;
    if (**dir != '/')
      return ferry_error(EINVAL, "a local URI names a state directory: "
                         "local:///PATH");
  } else if (!strncmp(base, "qemu://", 7)) {
    *dir = base + 7;
    if (!is_state_dir(*dir))
      return ferry_error(EINVAL, "%s is no ferry state directory: ferry's "
                         "local platform is local://%s (qemu:// URIs are "
                         "libvirt's, as qemu:///system)", base, *dir);
    fprintf(stderr, "ferry: warning: %s is ferry's local platform: write "
            "local://%s (qemu:// URIs are libvirt's)\n", base, *dir);
  }
  if (**dir != '/')
    return ferry_error(EINVAL, "the state directory must be an absolute "
                       "path");
  return 0;
}

static int qemu_open(struct ferry_client *fc, const char *uri,
                     const struct ferry_auth *auth, unsigned flags)
{
  (void)auth;
  char base[PATH_MAX];
  int r = client_uri_base(uri, base, sizeof base);
  if (r < 0)
    return r;
  const char *dir, *accel = client_option(fc, "accel");
  if ((r = state_dir_of(base, &dir)) != 0)
    return r;
  if (accel && strcmp(accel, "tcg") && strcmp(accel, "kvm") &&
      strcmp(accel, "kvm:tcg"))
    return ferry_error(EINVAL, "accel '%s': want tcg, kvm or kvm:tcg", accel);
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
  /* Made by the first write, not here: a command that only reads never
   * makes one; with FERRY_OPEN_EXISTING a missing one is an error. */
  struct stat sb;
  int err = stat(st->dir, &sb) < 0 ? errno : S_ISDIR(sb.st_mode) ? 0
                                                                : ENOTDIR;
  if (err == ENOENT)
    r = flags & FERRY_OPEN_EXISTING
            ? ferry_error(ENOENT, "no state directory %s (the first vm, "
                          "volume or network create makes it)", st->dir)
            : 0;
  else if (err)
    r = ferry_error(err, "state directory %s: %s", st->dir, strerror(err));
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

static const char *const qemu_schemes[] = { "local", "qemu", "", NULL };

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
    .uri_help = "local:///PATH",
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
  .claims = qemu_claims,
  .open = qemu_open,
  .close = qemu_close,
  .open_volume = qemu_open_volume,
  .ops = &qemu_ops,
};
