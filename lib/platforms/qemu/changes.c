/* query_snapshot_changes on the qemu platform: the areas of a disk that
 * changed between two external snapshots, read from the dirty bitmaps
 * ferry starts at each one (see docs/warm-migration.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/extent.h"
#include "../../volume/volume.h"
#include "../changed_areas.h"
#include "../driver.h"
#include "../snapshot_store.h"
#include "qemu.h"
#include "snapdisk.h"

/* The layer under a snapshot's overlay of disk i: its point-in-time data. */
static int frozen_layer(const struct qemu_state *st,
                        const struct ferry_domain_snapshot *rec, size_t i,
                        char *id, size_t len)
{
  if (rec->kind != FERRY_SNAPSHOT_KIND_EXTERNAL)
    return ferry_error(ENOTSUP, "snapshot '%s' is internal: changed areas "
                       "are kept for external snapshots (--external)",
                       rec->name);
  const char *f = rec->disks[i].file, *slash = f ? strrchr(f, '/') : NULL;
  if (!slash)
    return ferry_error(EBADMSG, "snapshot '%s' names no overlay", rec->name);
  int r = volume_backing(st, slash + 1, id, len, NULL);
  if (r == 0 && !*id)
    r = ferry_error(ENOENT, "snapshot '%s': its overlay has no layer under "
                    "it any more", rec->name);
  return r;
}

/* Every changed extent from `from` to `to`: walking up from `to`, the
 * changes between a snapshot and its child are the parent's bitmap, kept
 * in the child's frozen layer (right across reverts and branches). */
static int changes_between(const struct qemu_state *st,
                           const struct snap_store *s, size_t d,
                           const struct ferry_domain_snapshot *to,
                           const char *from, struct extent_list *l)
{
  struct ferry_domain_snapshot cur, parent;
  ferry_domain_snapshot_init(&parent);
  int r = ferry_domain_snapshot_copy(&cur, to);
  for (int steps = 0; r == 0; steps++) {
    if (!cur.parent || !*cur.parent) {
      r = ferry_error(EINVAL, "snapshot '%s' is not an ancestor of '%s'",
                      from, to->name);
      break;
    }
    char layer[256], bitmap[300], path[PATH_MAX];
    struct ferry_volume *v = NULL;
    bitmap_name(cur.parent, bitmap, sizeof bitmap);
    if ((r = frozen_layer(st, &cur, d, layer, sizeof layer)) < 0 ||
        (r = qemu_volume_path(st, layer, path)) < 0)
      break;
    bool has;
    if ((r = volume_has_bitmap(st, layer, bitmap, &has)) == 0 && !has)
      r = ferry_error(ENOENT, "the changes between '%s' and '%s' are no "
                      "longer known (no bitmap %s in %s: a snapshot between "
                      "them was deleted or reverted over)", cur.parent,
                      cur.name, bitmap, layer);
    if (r == 0 && (r = nbd_volume_open_bitmap(path, "qcow2", bitmap, &v)) == 0)
      r = changed_extents_add(v, FERRY_EXTENT_HOLE, l);
    if (v)
      v->ops->close(v);
    if (r < 0 || !strcmp(cur.parent, from))
      break;
    ferry_domain_snapshot_dispose(&parent);
    if ((r = snap_store_load(s, cur.parent, &parent)) < 0)
      break;
    ferry_domain_snapshot_dispose(&cur);
    r = ferry_domain_snapshot_copy(&cur, &parent);
  }
  ferry_domain_snapshot_dispose(&cur);
  ferry_domain_snapshot_dispose(&parent);
  return r;
}

/* The seed's open_cbt: on this platform every external snapshot starts a
 * dirty bitmap in its qcow2 overlay (also over a raw disk), so tracking
 * needs no switching on; this only checks the VM has disks to track. */
/* A snapshot whose delete began may have lost its data already. */
static int not_deleting(const struct ferry_domain_snapshot *rec)
{
  return rec->deleting
             ? ferry_error(ESTALE, "snapshot '%s' was being deleted when a "
                           "ferry process stopped; its data may be gone: "
                           "finish the delete", rec->name)
             : 0;
}

int qemu_open_cbt(struct ferry_client *fc, const struct ferry_vm *vm)
{
  if (vm->n_disks == 0)
    return ferry_error(EINVAL, "VM '%s' has no disks to track", vm->name);
  return qemu_vm_check(QEMU_STATE(fc), vm);
}

int qemu_snapshot_volume(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *snapshot, const char *disk,
                         char **volume_id)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  size_t d;
  int r = qemu_vm_check(st, vm);
  if (r == 0)
    r = vm_disk_index(vm, disk, &d);
  if (r < 0)
    return r;
  char base[PATH_MAX], layer[256];
  struct snap_store s;
  if ((r = snap_store_open(&s, qemu_path(st, base, "snapshots"),
                           vm->uuid)) < 0)
    return r;
  struct ferry_domain_snapshot rec;
  ferry_domain_snapshot_init(&rec);
  if ((r = snap_store_load(&s, snapshot, &rec)) == 0 &&
      (r = not_deleting(&rec)) == 0 &&
      (r = frozen_layer(st, &rec, d, layer, sizeof layer)) == 0 &&
      !(*volume_id = strdup(layer)))
    r = ferry_error(ENOMEM, "out of memory");
  ferry_domain_snapshot_dispose(&rec);
  snap_store_close(&s);
  return r;
}

int qemu_query_snapshot_changes(struct ferry_client *fc,
                                const struct ferry_vm *vm, const char *disk,
                                const char *from, const char *to,
                                struct ferry_changed_areas *out)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  size_t d;
  int r = qemu_vm_check(st, vm);
  if (r == 0)
    r = vm_disk_index(vm, disk, &d);
  if (r < 0)
    return r;
  if (!to || !*to)
    return ferry_error(EINVAL, "no snapshot to compare to");
  bool all = !from || !*from || !strcmp(from, "*");
  char base[PATH_MAX];
  struct snap_store s;
  if ((r = snap_store_open(&s, qemu_path(st, base, "snapshots"),
                           vm->uuid)) < 0)
    return r;
  struct ferry_domain_snapshot rec;
  ferry_domain_snapshot_init(&rec);
  struct extent_list l = { 0 };
  char layer[256], path[PATH_MAX];
  if ((r = snap_store_load(&s, to, &rec)) < 0 || (r = not_deleting(&rec)) < 0)
    goto out;
  if (all) { /* everything allocated in the snapshot's data */
    struct ferry_volume *v = NULL;
    if ((r = frozen_layer(st, &rec, d, layer, sizeof layer)) == 0 &&
        (r = qemu_volume_path(st, layer, path)) == 0 &&
        (r = nbd_volume_open_image(path, qemu_volume_format(layer),
                                   FERRY_OPEN_READ, &v)) == 0)
      r = changed_extents_add(v, FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO,
                              &l);
    if (v)
      v->ops->close(v);
  } else {
    r = changes_between(st, &s, d, &rec, from, &l);
  }
  if (r < 0)
    goto out;
  r = changed_areas_fill(out, vm->disks[d].device, all ? "*" : from, to,
                         &l);
out:
  extent_list_free(&l);
  ferry_domain_snapshot_dispose(&rec);
  snap_store_close(&s);
  return r;
}
