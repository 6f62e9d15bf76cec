/* inject_driver on the qemu platform: the guest on a volume converted for
 * virtio, all of it or nothing. The conversion writes an overlay on the
 * volume; only when it has finished is the overlay committed into the
 * volume, and a crash between the two is finished by the next call:
 *   .convert-<id>.qcow2        the overlay being written (an interrupted
 *                              conversion: thrown away, done again)
 *   .convert-<id>.done         the conversion finished: commit pending
 *                              (holds the report)
 * A commit that a crash cut short is run again: the overlay stays whole
 * until the commit has finished. A VM does not start from a volume being
 * converted, nor from one whose commit is pending: both take the
 * volume's lock, run/convert-<id>.lock. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../convert/convert.h"
#include "../../core/error.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "../driver.h"
#include "qemu.h"

/* A running VM of the platform that has volume id as a disk. */
static int in_use(const struct qemu_state *st, const char *id)
{
  struct ferry_vm *v;
  size_t n;
  int r = qemu_defs_load(st, &v, &n);
  for (size_t i = 0; r == 0 && i < n; i++)
    for (size_t k = 0; r == 0 && k < v[i].n_disks; k++)
      if (!strcmp(v[i].disks[k].volume_id, id) &&
          qemu_running_pid(st, v[i].uuid))
        r = ferry_error(EBUSY, "volume '%s' is a disk of VM '%s', which "
                        "runs: stop it to convert its guest", id, v[i].name);
  ferry_vm_list_free(v, n);
  return r;
}

static char *lock_path(const struct qemu_state *st, const char *id,
                       char *buf)
{
  return qemu_path(st, buf, "run/convert-%s.lock", id);
}

/* id is a checked volume id (qemu_volume_path): a name in volumes/. */
static int conversion_lock(const struct qemu_state *st, const char *id,
                           int *fd)
{
  char path[PATH_MAX];
  int r = name_check(id, "volume id");
  if (r == 0)
    r = statefile_mkdirs(qemu_path(st, path, "run"));
  if (r == 0 && (r = lock_acquire(lock_path(st, id, path), 0, fd)) < 0 &&
      r == -EBUSY) { /* held: the only refusal that means busy */
    ferry_error_clear();
    r = ferry_error(EBUSY, "volume '%s': another ferry process is "
                    "converting its guest", id);
  }
  return r;
}

static char *done_path(const struct qemu_state *st, const char *id,
                       char *buf)
{
  return qemu_path(st, buf, "volumes/.convert-%s.done", id);
}

int qemu_conversions_hold(const struct qemu_state *st,
                          const struct ferry_vm *vm, int *fds)
{
  int r = 0;
  size_t i = 0;
  for (; r == 0 && i < vm->n_disks; i++) {
    const char *id = vm->disks[i].volume_id;
    char done[PATH_MAX];
    fds[i] = -1;
    if ((r = conversion_lock(st, id, &fds[i])) == 0 &&
        access(done_path(st, id, done), F_OK) == 0)
      r = ferry_error(EBUSY, "disk %s: the conversion of its guest was cut "
                      "short while committing (`ferry convert %s` finishes "
                      "it)", vm->disks[i].device, vm->name);
  }
  if (r < 0)
    qemu_conversions_release(fds, i);
  return r;
}

void qemu_conversions_release(int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0) {
      lock_release(fds[i]);
      fds[i] = -1;
    }
}

int qemu_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                       unsigned flags, char **report)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  char *mine = NULL;
  char **out = report ? report : &mine;
  *out = NULL;
  char vol[PATH_MAX], overlay[PATH_MAX], done[PATH_MAX];
  int lock = -1, r = qemu_volume_path(st, disk->volume_id, vol);
  if (r == 0)
    r = conversion_lock(st, disk->volume_id, &lock);
  if (r == 0) /* under the lock: no VM starts from it now */
    r = in_use(st, disk->volume_id);
  if (r == 0) {
    qemu_path(st, overlay, "volumes/.convert-%s.qcow2", disk->volume_id);
    done_path(st, disk->volume_id, done);
    struct image_conversion c = { vol, qemu_volume_format(disk->volume_id),
                                  overlay, done, disk->device };
    struct guest_convert_opts o = {
      .kvm = !strcmp(st->accel, "kvm"),
      .virtio_win = st->virtio_win,
      .remove_vmware_tools = flags & CONVERT_REMOVE_VMWARE_TOOLS,
    };
    r = image_convert(&c, &o, out);
  }
  if (lock >= 0)
    lock_release(lock);
  free(mine);
  return r;
}
