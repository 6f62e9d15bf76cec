/* The qemu platform's state directory: VM definitions and networks. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../client/client.h"
#include "../../core/dirscan.h"
#include "../../core/error.h"
#include "../../core/lease.h"
#include "../../core/statefile.h"
#include "qemu.h"

#define DEF_MAX (1 << 20) /* a VM definition is small */

char *qemu_path(const struct qemu_state *st, char *buf, const char *fmt, ...)
{
  int n = snprintf(buf, PATH_MAX, "%s/", st->dir);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
  va_end(ap);
  return buf;
}

static int cmp_name(const void *a, const void *b)
{
  const struct ferry_vm *x = a, *y = b;
  return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* vms/<uuid>.json; also skips temp files of interrupted writes. */
static bool is_def(const char *name, void *opaque)
{
  (void)opaque;
  size_t len = strlen(name);
  return len >= 6 && !strcmp(name + len - 5, ".json");
}

/* One definition file, which must be named after the VM's uuid. */
static int def_load(const char *path, const char *file, struct ferry_vm *vm)
{
  char *text;
  int r = statefile_read(path, DEF_MAX, &text);
  if (r < 0)
    return r;
  ferry_vm_init(vm);
  r = ferry_vm_from_json(vm, text);
  free(text);
  size_t len = strlen(file) - 5;
  if (r == 0 && (!vm->uuid || strncmp(file, vm->uuid, len) ||
                 strlen(vm->uuid) != len)) {
    /* it would pass for another VM: as bad as a file that does not
     * parse */
    r = ferry_error(EINVAL, "its uuid '%s' is not its file's name",
                    vm->uuid ? vm->uuid : "");
    ferry_vm_dispose(vm);
  }
  if (r < 0)
    return ferry_error_prefix("VM definition %s: ", path);
  vm->power_state = FERRY_POWER_STATE_STOPPED;
  return 0;
}

int qemu_defs_load(const struct qemu_state *st, struct ferry_vm **out,
                   size_t *n)
{
  char dir[PATH_MAX], path[PATH_MAX], **files;
  size_t nfiles, count = 0;
  *out = NULL;
  *n = 0;
  int r = dir_scan(qemu_path(st, dir, "vms"), is_def, NULL, &files, &nfiles);
  if (r < 0 || nfiles == 0)
    return r;
  struct ferry_vm *v = calloc(nfiles, sizeof *v);
  if (!v)
    r = ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; r == 0 && i < nfiles; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    if ((r = def_load(path, files[i], &v[count])) == 0)
      count++;
  }
  dir_scan_free(files, nfiles);
  if (r < 0) {
    ferry_vm_list_free(v, count);
    return r;
  }
  qsort(v, count, sizeof *v, cmp_name);
  *out = v;
  *n = count;
  return 0;
}

int qemu_def_store(const struct qemu_state *st, const struct ferry_vm *vm)
{
  char dir[PATH_MAX], path[PATH_MAX];
  int r = statefile_mkdirs(qemu_path(st, dir, "vms"));
  if (r < 0)
    return r;
  /* The runtime state is not part of the definition. */
  struct ferry_vm def;
  ferry_vm_init(&def);
  if ((r = ferry_vm_copy(&def, vm)) < 0)
    return r;
  def.power_state = FERRY_POWER_STATE_STOPPED;
  char *text = ferry_vm_to_json(&def);
  ferry_vm_dispose(&def);
  if (!text)
    return -ferry_last_errno();
  r = statefile_write(qemu_path(st, path, "vms/%s.json", vm->uuid), text,
                      strlen(text));
  free(text);
  return r;
}

int qemu_def_get(const struct qemu_state *st, const char *uuid,
                 struct ferry_vm *out)
{
  char path[PATH_MAX], *text;
  int r = statefile_read(qemu_path(st, path, "vms/%s.json", uuid), DEF_MAX,
                         &text);
  if (r < 0)
    return r;
  r = ferry_vm_from_json(out, text);
  free(text);
  return r < 0 ? ferry_error_prefix("VM definition %s: ", path) : 0;
}

int qemu_def_remove(const struct qemu_state *st, const char *uuid)
{
  char path[PATH_MAX];
  return statefile_remove(qemu_path(st, path, "vms/%s.json", uuid), 0);
}

int qemu_networks(const struct qemu_state *st, struct ferry_vlan **out,
                  size_t *n)
{
  char path[PATH_MAX], *text;
  *out = NULL;
  *n = 0;
  int r = statefile_read(qemu_path(st, path, "networks.json"), DEF_MAX, &text);
  if (r == -ENOENT) { /* one untagged network until the user writes more */
    struct ferry_vlan *v = calloc(1, sizeof *v);
    if (!v)
      return ferry_error(ENOMEM, "out of memory");
    ferry_vlan_init(v);
    v->id = strdup("default");
    v->name = strdup("default");
    v->vlan_id = -1;
    if (!v->id || !v->name) {
      ferry_vlan_list_free(v, 1);
      return ferry_error(ENOMEM, "out of memory");
    }
    *out = v;
    *n = 1;
    return 0;
  }
  if (r < 0)
    return r;
  json_object *arr = json_tokener_parse(text);
  free(text);
  if (!arr || !json_object_is_type(arr, json_type_array)) {
    json_object_put(arr);
    return ferry_error(EBADMSG, "%s: not a JSON array of networks", path);
  }
  size_t count = json_object_array_length(arr);
  struct ferry_vlan *v = calloc(count ? count : 1, sizeof *v);
  if (!v) {
    json_object_put(arr);
    return ferry_error(ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < count && r == 0; i++) {
    ferry_vlan_init(&v[i]);
    r = ferry_vlan_from_jsonc(&v[i], json_object_array_get_idx(arr, i));
    if (r < 0)
      ferry_error_prefix("%s: network %zu: ", path, i);
  }
  json_object_put(arr);
  if (r < 0) {
    ferry_vlan_list_free(v, count);
    return r;
  }
  *out = v;
  *n = count;
  return 0;
}

int qemu_lease_dir(struct ferry_client *fc, char *buf, size_t len)
{
  snprintf(buf, len, "%s/leases", QEMU_STATE(fc)->dir);
  return 0;
}

int qemu_vm_lease_check(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *doing)
{
  char dir[PATH_MAX], key[300], what[300];
  qemu_lease_dir(fc, dir, sizeof dir);
  snprintf(key, sizeof key, "vm-%s", vm->uuid);
  snprintf(what, sizeof what, "VM '%s'", vm->name);
  return lease_check(dir, key, fc->lease_holder, what, doing);
}

int qemu_name_lease_check(struct ferry_client *fc, const char *kind,
                          const char *name, const char *doing)
{
  char dir[PATH_MAX], key[300], what[300];
  qemu_lease_dir(fc, dir, sizeof dir);
  snprintf(key, sizeof key, "%s-%s", kind, name);
  snprintf(what, sizeof what, "the %s name '%s'",
           strcmp(kind, "volume") ? "VM" : "volume", name);
  return lease_check(dir, key, fc->lease_holder, what, doing);
}

int qemu_vm_check(const struct qemu_state *st, const struct ferry_vm *vm)
{
  char path[PATH_MAX];
  return qemu_def_check(st, vm, qemu_path(st, path, "vms/%s.json",
                                          vm->uuid));
}
