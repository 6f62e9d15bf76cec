/* ELF's VM volumes (VmVolume, an iSCSI LUN underneath): listed, planned,
 * made (create-vm-volume in the client's cluster with its storage policy)
 * and deleted, each mutation waited on. A volume id is its CloudTower id
 * or its name: ferry names the volumes it makes, and the plan checks the
 * names are free, so that a migration knows its volumes' ids before
 * CloudTower gives them theirs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../../types/object.h"
#include "elf.h"

int elf_volume_of(struct ferry_client *fc, const char *key,
                  json_object **out)
{
  *out = NULL;
  json_object *any = json_object_new_array(), *where = json_object_new_object();
  json_object_array_add(any, elf_where_kv("id", json_object_new_string(key)));
  json_object_array_add(any, elf_where_kv("name",
                                          json_object_new_string(key)));
  json_object_object_add(where, "OR", any);
  json_object *list;
  int r = elf_list(fc, "/get-vm-volumes", where, NULL, &list);
  if (r < 0)
    return r;
  size_t named = 0;
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *v = json_object_array_get_idx(list, i);
    if (!strcmp(elf_str(v, "id"), key)) { /* an id beats a name */
      json_object_put(*out);
      *out = json_object_get(v);
      named = 1;
      break;
    }
    if (named++ == 0)
      *out = json_object_get(v);
  }
  json_object_put(list);
  if (named > 1) {
    json_object_put(*out);
    *out = NULL;
    return ferry_error(EINVAL, "%zu ELF volumes are named '%s': give its "
                       "id", named, key);
  }
  return *out ? 0 : ferry_error(ENOENT, "the elf platform has no volume "
                                "'%s'", key);
}

const char *elf_volume_key(json_object *volume, json_object *all)
{
  const char *name = elf_str(volume, "name");
  size_t same = 0;
  for (size_t i = 0; i < json_object_array_length(all); i++)
    same += !strcmp(elf_str(json_object_array_get_idx(all, i), "name"),
                    name);
  return *name && same == 1 ? name : elf_str(volume, "id");
}

/* 0 when no volume is named name (checked as a name first); EEXIST when
 * one is. */
static int name_free(struct ferry_client *fc, const char *name)
{
  json_object *v = NULL;
  int r = name_check(name, "volume name");
  if (r == 0 && (r = elf_volume_of(fc, name, &v)) == 0)
    r = ferry_error(EEXIST, "the elf platform has a volume '%s' already",
                    name);
  else if (r == -ENOENT) {
    ferry_error_clear();
    r = 0;
  }
  json_object_put(v);
  return r;
}

static int to_info(json_object *v, json_object *all,
                   struct ferry_volume_info *out)
{
  ferry_volume_info_init(out);
  out->capacity = (uint64_t)elf_int(v, "size");
  out->allocated = (uint64_t)elf_int(v, "used_size");
  if (ferry_obj_string_set(&out->id, elf_volume_key(v, all)) &&
      ferry_obj_string_set(&out->name, elf_str(v, "name")) &&
      ferry_obj_string_set(&out->path, elf_str(v, "path")) &&
      ferry_obj_string_set(&out->format, "raw"))
    return 0;
  ferry_volume_info_dispose(out);
  return ferry_error(ENOMEM, "out of memory");
}

int elf_volume_id(struct ferry_client *fc, const char *key, char *buf,
                  size_t len)
{
  json_object *v;
  int r = elf_volume_of(fc, key, &v);
  if (r == 0)
    snprintf(buf, len, "%s", elf_str(v, "id"));
  json_object_put(v);
  return r;
}

int elf_volumes(struct ferry_client *fc, struct ferry_volume_info **out,
                size_t *n)
{
  json_object *list;
  int r = elf_list(fc, "/get-vm-volumes", NULL, "name_ASC", &list);
  if (r < 0)
    return r;
  size_t count = json_object_array_length(list), k = 0;
  struct ferry_volume_info *v = count ? calloc(count, sizeof *v) : NULL;
  if (count && !v)
    r = ferry_error(ENOMEM, "out of memory");
  for (; r == 0 && k < count; k++)
    r = to_info(json_object_array_get_idx(list, k), list, &v[k]);
  json_object_put(list);
  if (r < 0) {
    ferry_volume_info_list_free(v, k ? k - 1 : 0);
    return r;
  }
  *out = v;
  *n = count;
  return 0;
}

int elf_plan_volumes(struct ferry_client *fc, const char *vm_name,
                     const struct ferry_disk *disks, size_t n,
                     const char *format, char **ids)
{
  if (strcmp(format, "raw"))
    return ferry_error(EINVAL, "ELF volumes are raw iSCSI LUNs, not %s: "
                       "give --format raw", format);
  int r = 0;
  uint64_t need = 0;
  size_t k = 0;
  for (; r == 0 && k < n; k++) {
    char name[512];
    snprintf(name, sizeof name, "%s-%s", vm_name, disks[k].device);
    r = name_free(fc, name);
    if (r == 0 && !(ids[k] = strdup(name)))
      r = ferry_error(ENOMEM, "out of memory");
    need += disks[k].capacity;
  }
  json_object *cl = NULL;
  if (r == 0 &&
      (r = elf_get(fc, "/get-clusters", ELF_STATE(fc)->cluster_id, "cluster",
                   &cl)) == 0) {
    int64_t total = elf_int(cl, "total_data_capacity");
    int64_t used = elf_int(cl, "used_data_space");
    if (total > 0 && (uint64_t)(total - used) < need)
      r = ferry_error(ENOSPC, "ELF cluster '%s' has %" PRId64 " MiB free, "
                      "the disks need up to %" PRIu64 " MiB",
                      elf_str(cl, "name"), (total - used) >> 20, need >> 20);
  }
  json_object_put(cl);
  for (size_t i = 0; r < 0 && i < k; i++) {
    free(ids[i]);
    ids[i] = NULL;
  }
  return r;
}

int elf_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                      struct ferry_volume_info *out)
{
  struct elf_state *st = ELF_STATE(fc);
  const char *name = disk->volume_id;
  int r = name && *name ? 0 : ferry_error(EINVAL, "a new ELF volume needs a "
                                          "name (its volume_id)");
  if (r == 0 && disk->format && *disk->format && strcmp(disk->format, "raw"))
    r = ferry_error(EINVAL, "ELF volumes are raw iSCSI LUNs, not %s",
                    disk->format);
  if (r == 0 && disk->capacity == 0)
    r = ferry_error(EINVAL, "volume '%s': no size", name);
  if (r == 0)
    r = name_free(fc, name);
  if (r < 0)
    return r;
  json_object *v = NULL;
  json_object *p = json_object_new_object(), *body = json_object_new_array();
  json_object_object_add(p, "cluster_id",
                         json_object_new_string(st->cluster_id));
  json_object_object_add(p, "name", json_object_new_string(name));
  json_object_object_add(p, "size",
                         json_object_new_int64((int64_t)disk->capacity));
  json_object_object_add(p, "elf_storage_policy",
                         json_object_new_string(st->storage_policy));
  json_object_object_add(p, "sharing", json_object_new_boolean(0));
  json_object_array_add(body, p);
  char what[600];
  snprintf(what, sizeof what, "create ELF volume '%s'", name);
  r = elf_mutate(fc, "/create-vm-volume", body, 0, what, NULL);
  if (r == 0 && out && (r = elf_volume_of(fc, name, &v)) == 0) {
    json_object *same = json_object_new_array(); /* its name is unique */
    json_object_array_add(same, json_object_get(v));
    r = to_info(v, same, out);
    json_object_put(same);
    json_object_put(v);
  }
  return r;
}

int elf_delete_volume(struct ferry_client *fc, const char *id)
{
  json_object *v;
  int r = elf_volume_of(fc, id, &v);
  if (r < 0)
    return r;
  if (elf_bool(v, "mounting"))
    r = ferry_error(EBUSY, "ELF volume '%s' is a VM's disk: delete the VM "
                    "or take the disk off it first", id);
  json_object *body = json_object_new_object(),
              *effect = json_object_new_object();
  json_object_object_add(body, "where", elf_where_id(elf_str(v, "id")));
  json_object_object_add(effect, "include_snapshots",
                         json_object_new_boolean(1));
  json_object_object_add(body, "effect", effect);
  char what[600];
  snprintf(what, sizeof what, "delete ELF volume '%s'", id);
  if (r == 0)
    r = elf_mutate(fc, "/delete-vm-volume", body, 0, what, NULL);
  else
    json_object_put(body);
  json_object_put(v);
  return r;
}
