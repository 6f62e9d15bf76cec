/* inject_driver on the libvirt platform: a local pool volume's guest
 * converted for virtio, all of it or nothing (image_convert), with the
 * files of the protocol beside the volume:
 *   .convert-NAME.qcow2  the overlay being written
 *   .convert-NAME.done   the conversion finished, its commit pending
 *   .convert-NAME.lock   held while one ferry converts it */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../convert/convert.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../driver.h"
#include "lv.h"

/* dir/.convert-NAME.what of the volume's file path. */
static void beside(const char *path, const char *what, char *buf,
                   size_t len)
{
  char d[PATH_MAX], b[PATH_MAX];
  snprintf(d, sizeof d, "%s", path);
  snprintf(b, sizeof b, "%s", path);
  snprintf(buf, len, "%s/.convert-%s.%s", dirname(d), basename(b), what);
}

/* A running domain with id among its disks. */
static int in_use(struct ferry_client *fc, const char *id)
{
  struct ferry_vm *v;
  size_t n;
  int r = lv_vms(fc, &v, &n);
  if (r < 0)
    return r;
  for (size_t i = 0; r == 0 && i < n; i++)
    for (size_t k = 0; r == 0 && k < v[i].n_disks; k++)
      if (v[i].power_state != FERRY_POWER_STATE_STOPPED &&
          v[i].disks[k].volume_id && !strcmp(v[i].disks[k].volume_id, id))
        r = ferry_error(EBUSY, "volume '%s' is a disk of VM '%s', which "
                        "runs: stop it to convert its guest", id, v[i].name);
  ferry_vm_list_free(v, n);
  return r;
}

int lv_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                     unsigned flags, char **report)
{
  char *mine = NULL;
  char **out = report ? report : &mine;
  *out = NULL;
  char path[PATH_MAX], fmt[32], overlay[PATH_MAX + 32], done[PATH_MAX + 32],
      lock[PATH_MAX + 32];
  int fd = -1, r = lv_volume_file(fc, disk->volume_id, path, sizeof path,
                                  fmt, sizeof fmt);
  if (r == 0) {
    beside(path, "lock", lock, sizeof lock);
    if ((r = lock_acquire(lock, 0, &fd)) == -EBUSY) {
      ferry_error_clear();
      r = ferry_error(EBUSY, "volume '%s': another ferry process is "
                      "converting its guest", disk->volume_id);
    }
  }
  if (r == 0) /* under the lock: no conversion starts it now */
    r = in_use(fc, disk->volume_id);
  if (r == 0) {
    beside(path, "qcow2", overlay, sizeof overlay);
    beside(path, "done", done, sizeof done);
    struct image_conversion c = { path, fmt, overlay, done, disk->device };
    struct guest_convert_opts o = {
      .kvm = !strcmp(LV_STATE(fc)->virt_type, "kvm"),
      .remove_vmware_tools = flags & CONVERT_REMOVE_VMWARE_TOOLS,
    };
    r = image_convert(&c, &o, out);
  }
  if (fd >= 0) {
    unlink(lock);
    lock_release(fd);
  }
  free(mine);
  return r;
}

int lv_conversions_settled(struct ferry_client *fc,
                           const struct ferry_vm *vm)
{
  for (size_t i = 0; i < vm->n_disks; i++) {
    char path[PATH_MAX], fmt[32], done[PATH_MAX + 32];
    if (lv_volume_file(fc, vm->disks[i].volume_id, path, sizeof path, fmt,
                       sizeof fmt) < 0) {
      ferry_error_clear(); /* not a local pool volume: no conversion */
      continue;
    }
    beside(path, "done", done, sizeof done);
    if (access(done, F_OK) == 0)
      return ferry_error(EBUSY, "disk %s: the conversion of its guest was "
                         "cut short while committing (`ferry convert %s` "
                         "finishes it)", vm->disks[i].device, vm->name);
  }
  return 0;
}
