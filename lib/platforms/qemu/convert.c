/* inject_driver on the qemu platform: the guest on a volume converted for
 * virtio, all of it or nothing. The conversion writes an overlay on the
 * volume; only when it has finished is the overlay committed into the
 * volume, and a crash between the two is finished by the next call:
 *   .convert-<id>.qcow2        the overlay being written (an interrupted
 *                              conversion: thrown away, done again)
 *   .convert-<id>.done         the conversion finished: commit pending
 *                              (holds the report)
 * A commit that a crash cut short is run again: the overlay stays whole
 * until the commit has finished. */
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

static int commit(const char *overlay, const char *done, char **report)
{
  char *argv[] = { "qemu-img", "commit", "-q", "-f", "qcow2", "-d",
                   (char *)overlay, NULL };
  int r = run_command(argv, NULL);
  if (r < 0)
    return ferry_error_prefix("committing the converted guest: ");
  if (report && !*report && statefile_read(done, 1 << 20, report) < 0)
    ferry_error_clear(); /* the report only */
  unlink(overlay);
  return statefile_remove(done, 1);
}

int qemu_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                       char **report)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  char *mine = NULL;
  char **out = report ? report : &mine;
  *out = NULL;
  char vol[PATH_MAX], dir[PATH_MAX], overlay[PATH_MAX + 300],
      done[PATH_MAX + 300];
  int r = qemu_volume_path(st, disk->volume_id, vol);
  if (r == 0)
    r = in_use(st, disk->volume_id);
  if (r < 0)
    return r;
  qemu_path(st, dir, "volumes");
  snprintf(overlay, sizeof overlay, "%s/.convert-%s.qcow2", dir,
           disk->volume_id);
  snprintf(done, sizeof done, "%s/.convert-%s.done", dir, disk->volume_id);
  if (access(done, F_OK) == 0) { /* converted, commit cut short */
    r = commit(overlay, done, out);
    free(mine);
    return r;
  }
  unlink(overlay); /* an interrupted conversion: from the start */
  char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", vol,
                     "-F", (char *)qemu_volume_format(disk->volume_id),
                     overlay, NULL };
  if ((r = run_command(create, NULL)) < 0)
    return ferry_error_prefix("disk %s: ", disk->device);
  r = guest_convert(overlay, "qcow2", !strcmp(st->accel, "kvm"), out);
  if (r < 0) { /* nothing reached the volume */
    unlink(overlay);
    return ferry_error_prefix("disk %s: the guest was left as it was: ",
                              disk->device);
  }
  if ((r = statefile_write(done, *out, strlen(*out))) == 0)
    r = commit(overlay, done, NULL);
  free(mine);
  return r < 0 ? ferry_error_prefix("disk %s: ", disk->device) : 0;
}
