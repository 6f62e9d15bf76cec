/* inject_driver on ELF: the guest on a volume converted for virtio, all
 * of it or nothing (image_convert), on ferry's host. The overlay's
 * backing file is the volume's LUN, reached by qemu's iSCSI driver as
 * ferry's own initiator; only the finished conversion is committed into
 * the LUN. The protocol's files are in STATE_DIR/elf, by volume CUID:
 *   convert-CUID.qcow2  the overlay being written
 *   convert-CUID.done   the conversion finished, its commit pending
 *   convert-CUID.lock   held while one ferry converts it */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../convert/convert.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../driver.h"
#include "elf.h"

static int protocol_path(const char *cuid, const char *what, char *buf,
                         size_t len)
{
  int r = name_check(cuid, "ELF volume id");
  return r < 0 ? r : elf_state_path(buf, len, "convert-%s.%s", cuid, what);
}

/* A running VM with the volume as a disk. */
static int in_use(struct ferry_client *fc, const struct elf_lun *l)
{
  json_object *disks, *vm = NULL;
  json_object *where = elf_where_kv("vm_volume", elf_where_id(l->volume_cuid));
  int r = elf_list(fc, "/get-vm-disks", where, NULL, &disks);
  for (size_t i = 0; r == 0 && i < json_object_array_length(disks); i++) {
    const char *id = elf_nested_id(json_object_array_get_idx(disks, i), "vm");
    if ((r = elf_get(fc, "/get-vms", id, "VM", &vm)) == 0 &&
        strcmp(elf_str(vm, "status"), "STOPPED"))
      r = ferry_error(EBUSY, "%s is a disk of VM '%s', which is %s: stop it "
                      "to convert its guest", l->what, elf_str(vm, "name"),
                      elf_str(vm, "status"));
    json_object_put(vm);
    vm = NULL;
  }
  if (r == 0)
    json_object_put(disks);
  return r;
}

/* The LUN as qemu opens it: its iSCSI driver's options, as a json:
 * pseudo-filename, so that qemu logs in as ferry's initiator. */
static int lun_filename(const struct elf_lun *l, char *buf, size_t len)
{
  json_object *o = json_object_new_object(), *top = json_object_new_object();
  json_object_object_add(top, "file", o); /* the protocol under raw */
  json_object_object_add(o, "driver", json_object_new_string("iscsi"));
  json_object_object_add(o, "transport", json_object_new_string("tcp"));
  json_object_object_add(o, "portal", json_object_new_string(l->portal));
  json_object_object_add(o, "target", json_object_new_string(l->iqn));
  json_object_object_add(o, "lun", json_object_new_int(l->lun));
  json_object_object_add(o, "initiator-name",
                         json_object_new_string(l->initiator));
  size_t n = (size_t)snprintf(buf, len, "json:%s",
                              json_object_to_json_string_ext(
                                  top, JSON_C_TO_STRING_PLAIN));
  json_object_put(top);
  return n < len ? 0 : ferry_error(ENAMETOOLONG, "%s: its LUN's name is too "
                                   "long", l->what);
}

int elf_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                      unsigned flags, char **report)
{
  char *mine = NULL;
  char **out = report ? report : &mine;
  *out = NULL;
  struct elf_lun l;
  char image[2048], overlay[PATH_MAX], done[PATH_MAX], lock[PATH_MAX],
      dir[PATH_MAX];
  int fd = -1, r = elf_volume_lun(fc, disk->volume_id, &l);
  if (r == 0 && (r = protocol_path(l.volume_cuid, "lock", lock,
                                   sizeof lock)) == 0 &&
      (r = elf_state_path(dir, sizeof dir, ".")) == 0)
    r = statefile_mkdirs(dir);
  if (r == 0 && (r = lock_acquire(lock, 0, &fd)) == -EBUSY) {
    ferry_error_clear();
    r = ferry_error(EBUSY, "%s: another ferry process is converting its "
                    "guest", l.what);
  }
  if (r == 0) /* under the lock: no other ferry converts it now */
    r = in_use(fc, &l);
  if (r == 0 && (r = lun_filename(&l, image, sizeof image)) == 0 &&
      (r = protocol_path(l.volume_cuid, "qcow2", overlay,
                         sizeof overlay)) == 0 &&
      (r = protocol_path(l.volume_cuid, "done", done, sizeof done)) == 0) {
    const char *name = disk->device && *disk->device ? disk->device
                                                     : disk->volume_id;
    struct image_conversion c = { image, "raw", overlay, done, name };
    struct guest_convert_opts o = {
      .kvm = !strcmp(ELF_STATE(fc)->accel, "kvm"),
      .virtio_win = ELF_STATE(fc)->virtio_win,
      .remove_vmware_tools = flags & CONVERT_REMOVE_VMWARE_TOOLS,
    };
    struct elf_grant *g = NULL;
    if ((r = elf_grant_take(fc, &l, &g)) == 0)
      r = image_convert(&c, &o, out);
    elf_grant_drop(g);
  }
  if (fd >= 0) {
    unlink(lock);
    lock_release(fd);
  }
  free(mine);
  return r;
}

int elf_conversions_settled(struct ferry_client *fc, const struct ferry_vm *vm)
{
  for (size_t i = 0; i < vm->n_disks; i++) {
    const char *key = vm->disks[i].volume_id;
    char id[64], done[PATH_MAX];
    if (!key || !*key) /* a new volume: nothing converted on it */
      continue;
    int r = elf_volume_id(fc, key, id, sizeof id);
    if (r == 0)
      r = protocol_path(id, "done", done, sizeof done);
    if (r < 0)
      return r;
    if (access(done, F_OK) == 0)
      return ferry_error(EBUSY, "disk %s: the conversion of its guest was "
                         "cut short while committing: converting it again "
                         "finishes it (`ferry migrate resume` does)", vm->disks[i].device);
  }
  return 0;
}
