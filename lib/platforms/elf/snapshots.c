/* ELF VM snapshots as ferry's records. CloudTower's are of the VM's disks
 * (crash consistent), kept as a flat list: no parent, no current one.
 * ferry keeps those in records of its own (snapshot_store.h, under
 * STATE_DIR/elf/HOST/snapshots/VM-UUID/), written when it makes, reverts
 * to or deletes a snapshot. CloudTower stays the truth of what exists: a
 * snapshot made elsewhere is listed as a root, and a record whose
 * snapshot CloudTower no longer has is not listed. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/iso_time.h"
#include "../../core/statefile.h"
#include "../../types/object.h"
#include "../driver.h"
#include "../snapshot_store.h"
#include "elf.h"

static int store_of(struct ferry_client *fc, const struct ferry_vm *vm,
                    bool lock, struct snap_store *s)
{
  char base[PATH_MAX];
  const char *host = ELF_STATE(fc)->host;
  int r = name_check(host, "CloudTower host");
  if (r == 0)
    r = elf_state_path(base, sizeof base, "%s/snapshots", host);
  if (r < 0)
    return r;
  return lock ? snap_store_open(s, base, vm->uuid)
              : snap_store_view(s, base, vm->uuid);
}

int elf_vm_snapshots(struct ferry_client *fc, const struct ferry_vm *vm,
                     json_object **out)
{
  return elf_list(fc, "/get-vm-snapshots",
                  elf_where_kv("vm", elf_where_id(vm->id)),
                  "local_created_at_ASC", out);
}

int elf_snapshot_named(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name, json_object **out)
{
  json_object *list;
  *out = NULL;
  int r = elf_vm_snapshots(fc, vm, &list);
  if (r < 0)
    return r;
  size_t hits = 0;
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *s = json_object_array_get_idx(list, i);
    if (!strcmp(elf_str(s, "name"), name) && hits++ == 0)
      *out = json_object_get(s);
  }
  json_object_put(list);
  if (hits > 1) {
    json_object_put(*out);
    *out = NULL;
    return ferry_error(EINVAL, "VM '%s' has %zu snapshots named '%s' on "
                       "ELF: ferry names snapshots by name", vm->name, hits,
                       name);
  }
  return hits ? 0 : ferry_error(ENOENT, "VM '%s' has no snapshot '%s'",
                                vm->name, name);
}

int elf_vm_volumes(struct ferry_client *fc, const struct ferry_vm *vm,
                   json_object **out)
{
  return elf_list(fc, "/get-vm-volumes",
                  elf_where_kv("vm_disks_some",
                               elf_where_kv("vm", elf_where_id(vm->id))),
                  NULL, out);
}

void elf_frozen_device(const struct ferry_vm *vm, json_object *vols,
                       json_object *frozen, char *buf, size_t len)
{
  const char *local = elf_str(frozen, "vm_volume_local_id");
  snprintf(buf, len, "disk%" PRId64, elf_int(frozen, "index"));
  for (size_t k = 0; k < json_object_array_length(vols); k++) {
    json_object *v = json_object_array_get_idx(vols, k);
    if (strcmp(elf_str(v, "local_id"), local))
      continue;
    for (size_t i = 0; i < vm->n_disks; i++) {
      const char *id = vm->disks[i].volume_id;
      if (id && (!strcmp(id, elf_str(v, "id")) ||
                 !strcmp(id, elf_str(v, "name"))))
        snprintf(buf, len, "%s", vm->disks[i].device);
    }
  }
}

/* CloudTower's snapshot s of vm as a record: ferry's own where it has
 * one (its parent, state and sequence), CloudTower's facts over it. */
static int to_record(const struct ferry_vm *vm, json_object *vols,
                     const struct snap_store *store, json_object *s,
                     struct ferry_domain_snapshot *out)
{
  const char *name = elf_str(s, "name");
  ferry_domain_snapshot_init(out);
  if (snap_store_exists(store, name) &&
      snap_store_load(store, name, out) < 0)
    return -ferry_last_errno();
  for (size_t i = 0; i < out->n_disks; i++)
    ferry_disk_snapshot_dispose(&out->disks[i]);
  free(out->disks);
  out->disks = NULL;
  out->n_disks = 0;
  out->creation_time = iso_time_seconds(elf_str(s, "local_created_at"));
  out->kind = FERRY_SNAPSHOT_KIND_INTERNAL; /* ZBS's, under the volumes */
  int r = OBJ_SET(out->name, name) && OBJ_SET(out->vm_uuid, vm->uuid)
              ? 0 : ferry_error(ENOMEM, "out of memory");
  json_object *disks;
  if (json_object_object_get_ex(s, "vm_disks", &disks))
    for (size_t i = 0; r == 0 && i < json_object_array_length(disks); i++) {
      json_object *d = json_object_array_get_idx(disks, i);
      char dev[64];
      if (strcmp(elf_str(d, "type"), "DISK"))
        continue; /* a CD-ROM holds no snapshot */
      elf_frozen_device(vm, vols, d, dev, sizeof dev);
      struct ferry_disk_snapshot *ds = ferry_domain_snapshot_disks_append(out);
      if (!ds || !OBJ_SET(ds->device, dev) ||
          !OBJ_SET(ds->name, elf_str(d, "snapshot_local_id")))
        r = ferry_error(ENOMEM, "out of memory");
    }
  if (r < 0)
    ferry_domain_snapshot_dispose(out);
  return r;
}

int elf_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                      struct ferry_domain_snapshot **out, size_t *n)
{
  struct snap_store store;
  json_object *list = NULL, *vols = NULL;
  *out = NULL;
  *n = 0;
  int r = store_of(fc, vm, false, &store);
  if (r == 0)
    r = elf_vm_snapshots(fc, vm, &list);
  if (r == 0)
    r = elf_vm_volumes(fc, vm, &vols);
  if (r < 0) {
    json_object_put(list);
    return r;
  }
  size_t count = json_object_array_length(list), k = 0;
  struct ferry_domain_snapshot *v = count ? calloc(count, sizeof *v) : NULL;
  if (count && !v)
    r = ferry_error(ENOMEM, "out of memory");
  for (; r == 0 && k < count; k++)
    r = to_record(vm, vols, &store, json_object_array_get_idx(list, k),
                  &v[k]);
  /* a parent CloudTower no longer has: a root now */
  for (size_t i = 0; r == 0 && i < count; i++) {
    bool there = false;
    for (size_t j = 0; v[i].parent && j < count; j++)
      there |= !strcmp(v[j].name, v[i].parent);
    if (v[i].parent && !there) {
      free(v[i].parent);
      v[i].parent = NULL;
    }
  }
  json_object_put(list);
  json_object_put(vols);
  if (r < 0) {
    ferry_domain_snapshot_list_free(v, k ? k - 1 : 0);
    return r;
  }
  *out = v;
  *n = count;
  return 0;
}

int elf_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                         char **name)
{
  struct snap_store store;
  json_object *s = NULL;
  *name = NULL;
  int r = store_of(fc, vm, false, &store);
  if (r == 0)
    r = snap_store_current(&store, name);
  if (r == 0 && *name && (r = elf_snapshot_named(fc, vm, *name, &s)) ==
                             -ENOENT) {
    ferry_error_clear(); /* deleted outside ferry: none is current */
    r = 0;
    free(*name);
    *name = NULL;
  }
  json_object_put(s);
  return r;
}

int elf_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                        const struct ferry_snapshot_spec *spec,
                        struct ferry_domain_snapshot *out)
{
  if (spec->flags & FERRY_SNAPSHOT_MEMORY)
    return ferry_error(ENOTSUP, "the elf platform cannot save a VM's RAM "
                       "in a snapshot: CloudTower's snapshots hold its disks "
                       "only");
  struct snap_store store;
  json_object *old = NULL, *made = NULL, *vols = NULL;
  int r = snap_name_check(spec->name);
  if (r == 0)
    r = store_of(fc, vm, true, &store);
  if (r < 0)
    return r;
  if ((r = elf_snapshot_named(fc, vm, spec->name, &old)) == 0)
    r = ferry_error(EEXIST, "VM '%s' has a snapshot '%s' already", vm->name,
                    spec->name);
  else if (r == -ENOENT) {
    ferry_error_clear();
    r = 0;
  }
  char what[600];
  snprintf(what, sizeof what, "snapshot '%s' of VM '%s'", spec->name,
           vm->name);
  if (r == 0) {
    json_object *body = json_object_new_object(), *data = json_object_new_array(),
                *p = json_object_new_object();
    json_object_object_add(p, "vm_id", json_object_new_string(vm->id));
    json_object_object_add(p, "name", json_object_new_string(spec->name));
    json_object_object_add(p, "consistent_type",
                           json_object_new_string("CRASH_CONSISTENT"));
    json_object_array_add(data, p);
    json_object_object_add(body, "data", data);
    r = elf_mutate(fc, "/create-vm-snapshot", body, 0, what, NULL);
  }
  /* ferry's record: its parent the current one, the VM's state */
  struct ferry_domain_snapshot rec;
  ferry_domain_snapshot_init(&rec);
  char *parent = NULL;
  uint64_t seq = 0;
  if (r == 0 && (r = elf_snapshot_named(fc, vm, spec->name, &made)) == 0 &&
      (r = elf_snapshot_current(fc, vm, &parent)) == 0 &&
      (r = snap_store_next_sequence(&store, &seq)) == 0 &&
      (r = elf_vm_volumes(fc, vm, &vols)) == 0 &&
      (r = to_record(vm, vols, &store, made, &rec)) == 0) {
    rec.sequence = seq;
    rec.running = vm->power_state == FERRY_POWER_STATE_RUNNING;
    rec.paused = vm->power_state == FERRY_POWER_STATE_PAUSED;
    rec.shutdown = vm->power_state == FERRY_POWER_STATE_STOPPED;
    if (!OBJ_SET(rec.parent, parent) ||
        !OBJ_SET(rec.description, spec->description))
      r = ferry_error(ENOMEM, "out of memory");
    if (r == 0 && (r = snap_store_save(&store, &rec)) == 0)
      r = snap_store_set_current(&store, spec->name);
    if (r == 0 && out)
      r = ferry_domain_snapshot_copy(out, &rec);
  }
  if (r < 0 && made)
    ferry_error_prefix("snapshot '%s' was made on ELF, but ferry's record "
                       "of it was not: ", spec->name);
  free(parent);
  ferry_domain_snapshot_dispose(&rec);
  json_object_put(vols);
  json_object_put(made);
  json_object_put(old);
  snap_store_close(&store);
  return r;
}

/* The records that named name as their parent name its parent now. */
static int reparent(const struct snap_store *store, const char *name,
                    const char *parent)
{
  struct ferry_domain_snapshot *v;
  size_t n;
  int r = snap_store_list(store, &v, &n);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (v[i].parent && !strcmp(v[i].parent, name)) {
      if (!OBJ_SET(v[i].parent, parent))
        r = ferry_error(ENOMEM, "out of memory");
      else
        r = snap_store_save(store, &v[i]);
    }
  if (r == 0)
    ferry_domain_snapshot_list_free(v, n);
  return r;
}

int elf_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name)
{
  struct snap_store store;
  json_object *s = NULL;
  int r = store_of(fc, vm, true, &store);
  if (r < 0)
    return r;
  char what[600], *cur = NULL;
  snprintf(what, sizeof what, "delete snapshot '%s' of VM '%s'", name,
           vm->name);
  if ((r = elf_snapshot_named(fc, vm, name, &s)) == 0) {
    json_object *body = json_object_new_object();
    json_object_object_add(body, "where", elf_where_id(elf_str(s, "id")));
    r = elf_mutate(fc, "/delete-vm-snapshot", body, 0, what, NULL);
  }
  /* ferry's records: its children are its parent's, and where it was
   * current its parent is */
  struct ferry_domain_snapshot rec;
  ferry_domain_snapshot_init(&rec);
  if (r == 0 && snap_store_exists(&store, name) &&
      (r = snap_store_load(&store, name, &rec)) == 0 &&
      (r = reparent(&store, name, rec.parent)) == 0 &&
      (r = snap_store_current(&store, &cur)) == 0 && cur &&
      !strcmp(cur, name))
    r = snap_store_set_current(&store, rec.parent);
  if (r == 0 && snap_store_exists(&store, name))
    r = snap_store_remove(&store, name);
  free(cur);
  ferry_domain_snapshot_dispose(&rec);
  json_object_put(s);
  snap_store_close(&store);
  return r;
}

int elf_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name, unsigned flags)
{
  struct snap_store store;
  json_object *s = NULL;
  int r = elf_snapshot_named(fc, vm, name, &s);
  if (r == 0 && vm->power_state != FERRY_POWER_STATE_STOPPED &&
      !(flags & FERRY_REVERT_FORCE))
    r = ferry_error(EBUSY, "VM '%s' is running: stop it to revert it to "
                    "snapshot '%s' (or force the revert)", vm->name, name);
  else if (r == 0 && vm->power_state != FERRY_POWER_STATE_STOPPED)
    r = elf_stop_vm(fc, vm, 0, FERRY_STOP_FORCE);
  if (r == 0 && (r = store_of(fc, vm, true, &store)) == 0) {
    char what[600];
    snprintf(what, sizeof what, "revert VM '%s' to snapshot '%s'", vm->name,
             name);
    json_object *body = json_object_new_object(),
                *data = json_object_new_object();
    json_object_object_add(body, "where", elf_where_id(vm->id));
    json_object_object_add(data, "snapshot_id",
                           json_object_new_string(elf_str(s, "id")));
    json_object_object_add(body, "data", data);
    if ((r = elf_mutate(fc, "/rollback-vm", body, 0, what, NULL)) == 0)
      r = snap_store_set_current(&store, name);
    snap_store_close(&store);
  }
  json_object_put(s);
  return r;
}
