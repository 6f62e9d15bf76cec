/* Volumes: disk images in <state>/volumes, made and read with qemu-img. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../client/client.h"
#include "../../core/dirscan.h"
#include "../../core/error.h"
#include "../../core/qemu_img.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "qemu.h"

const char *qemu_volume_format(const char *id)
{
  size_t n = id ? strlen(id) : 0;
  if (n > 6 && !strcmp(id + n - 6, ".qcow2"))
    return "qcow2";
  if (n > 4 && !strcmp(id + n - 4, ".raw"))
    return "raw";
  return NULL;
}

int qemu_volume_path(const struct qemu_state *st, const char *id, char *buf)
{
  int r = name_check(id, "volume id");
  if (r < 0)
    return r;
  if (!qemu_volume_format(id))
    return ferry_error(EINVAL, "volume id '%s' must end in .qcow2 or .raw "
                       "(its format)", id);
  qemu_path(st, buf, "volumes/%s", id);
  return 0;
}

int qemu_img_create(const struct qemu_state *st, const char *id,
                    const char *backing, uint64_t size)
{
  char path[PATH_MAX], tmp[PATH_MAX + 16], sz[32];
  int r = qemu_volume_path(st, id, path);
  if (r < 0)
    return r;
  /* Made under a name no scan takes for a volume, then renamed: a kill
   * in the middle of qemu-img leaves no half-made image under the id. */
  snprintf(tmp, sizeof tmp, "%s.creating", path);
  unlink(tmp); /* a killed attempt's */
  snprintf(sz, sizeof sz, "%" PRIu64, size);
  char *argv[12];
  int a = 0;
  argv[a++] = "qemu-img";
  argv[a++] = "create";
  argv[a++] = "-q";
  argv[a++] = "-f";
  argv[a++] = (char *)qemu_volume_format(id);
  if (backing) { /* a relative name: the state directory can move */
    argv[a++] = "-F";
    argv[a++] = (char *)qemu_volume_format(backing);
    argv[a++] = "-b";
    argv[a++] = (char *)backing;
  }
  argv[a++] = tmp;
  if (!backing)
    argv[a++] = sz;
  argv[a] = NULL;
  if ((r = run_command(argv, NULL)) == 0 &&
      renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0)
    r = errno == EEXIST ? ferry_error(EEXIST, "volume '%s' exists already",
                                      id)
                        : ferry_error(errno, "rename %s: %s", tmp,
                                      strerror(errno));
  if (r < 0)
    unlink(tmp);
  else
    r = statefile_sync_dir(path);
  return r;
}

static char *dup_str(const char *s)
{
  return s ? strdup(s) : NULL;
}

int qemu_img_info(const struct qemu_state *st, const char *id,
                  json_object **out)
{
  char path[PATH_MAX], what[300];
  int r = qemu_volume_path(st, id, path);
  snprintf(what, sizeof what, "volume '%s'", id);
  return r < 0 ? r : qemu_img_info_json(path, qemu_volume_format(id), what,
                                        out);
}

int qemu_volume_info(const struct qemu_state *st, const char *id,
                     struct ferry_volume_info *out)
{
  char path[PATH_MAX];
  int r = qemu_volume_path(st, id, path);
  if (r < 0)
    return r;
  struct stat sb;
  if (stat(path, &sb) < 0)
    return ferry_error(errno, "volume '%s': %s", id, strerror(errno));
  json_object *j, *f, *vs;
  if ((r = qemu_img_info(st, id, &j)) < 0)
    return r;
  if (!json_object_object_get_ex(j, "format", &f) ||
      !json_object_object_get_ex(j, "virtual-size", &vs)) {
    json_object_put(j);
    return ferry_error(EBADMSG, "volume '%s': qemu-img info gave no format "
                       "and size", id);
  }
  ferry_volume_info_init(out);
  out->id = dup_str(id);
  out->name = dup_str(id);
  out->path = dup_str(path);
  out->format = dup_str(json_object_get_string(f));
  out->capacity = json_object_get_uint64(vs);
  out->allocated = (uint64_t)sb.st_blocks * 512;
  json_object_put(j);
  if (!out->id || !out->path || !out->format) {
    ferry_volume_info_dispose(out);
    return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

/* Not a volume: temp files, foreign files. */
static bool is_volume(const char *name, void *opaque)
{
  (void)opaque;
  bool is = name[0] != '.' && name_check(name, "volume id") == 0 &&
            qemu_volume_format(name);
  ferry_error_clear();
  return is;
}

int qemu_volumes(struct ferry_client *fc,
                        struct ferry_volume_info **out, size_t *n)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  char dir[PATH_MAX], **ids;
  size_t nids, count = 0;
  *out = NULL;
  *n = 0;
  int r = dir_scan(qemu_path(st, dir, "volumes"), is_volume, NULL, &ids,
                   &nids);
  if (r < 0 || nids == 0)
    return r;
  struct ferry_volume_info *v = calloc(nids, sizeof *v);
  if (!v)
    r = ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; r == 0 && i < nids; i++)
    if ((r = qemu_volume_info(st, ids[i], &v[count])) == 0)
      count++;
  dir_scan_free(ids, nids);
  if (r < 0) {
    ferry_volume_info_list_free(v, count);
    return r;
  }
  *out = v;
  *n = count;
  return 0;
}

int qemu_create_volume(struct ferry_client *fc,
                              const struct ferry_disk *disk,
                              struct ferry_volume_info *out)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  char path[PATH_MAX], dir[PATH_MAX];
  int r = qemu_volume_path(st, disk->volume_id, path);
  if (r == 0)
    r = qemu_name_lease_check(fc, "volume", disk->volume_id, "volume create");
  if (r < 0)
    return r;
  const char *fmt = qemu_volume_format(disk->volume_id);
  if (disk->format && *disk->format && strcmp(disk->format, fmt))
    return ferry_error(EINVAL, "volume '%s': the name says %s but the format "
                       "asked is %s", disk->volume_id, fmt, disk->format);
  if (disk->capacity == 0 || disk->capacity % 512)
    return ferry_error(EINVAL, "volume '%s': capacity %" PRIu64 " is not a "
                       "positive multiple of 512", disk->volume_id,
                       disk->capacity);
  if (access(path, F_OK) == 0)
    return ferry_error(EEXIST, "volume '%s' exists already",
                       disk->volume_id);
  if ((r = statefile_mkdirs(qemu_path(st, dir, "volumes"))) < 0)
    return r;
  if ((r = qemu_img_create(st, disk->volume_id, NULL, disk->capacity)) < 0)
    return r;
  return out ? qemu_volume_info(st, disk->volume_id, out) : 0;
}

int qemu_delete_volume(struct ferry_client *fc, const char *id)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  char path[PATH_MAX];
  int r = qemu_volume_path(st, id, path);
  if (r == 0)
    r = qemu_name_lease_check(fc, "volume", id, "volume delete");
  if (r < 0)
    return r;
  struct ferry_vm *v;
  size_t n;
  if ((r = qemu_defs_load(st, &v, &n)) < 0)
    return r;
  for (size_t i = 0; i < n && r == 0; i++)
    for (size_t k = 0; k < v[i].n_disks && r == 0; k++)
      if (v[i].disks[k].volume_id && !strcmp(v[i].disks[k].volume_id, id))
        r = ferry_error(EBUSY, "volume '%s' is disk %s of VM '%s'", id,
                        v[i].disks[k].device, v[i].name);
  ferry_vm_list_free(v, n);
  return r < 0 ? r : statefile_remove(path, 0);
}

/* <vm>-<device>.<format>, each free under volumes/, and room in its file
 * system for every disk at full size (qcow2 may need up to that). */
int qemu_plan_volumes(struct ferry_client *fc, const char *vm_name,
                      const struct ferry_disk *disks, size_t n,
                      const char *format, char **ids)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  if (strcmp(format, "qcow2") && strcmp(format, "raw"))
    return ferry_error(EINVAL, "volume format '%s' is not qcow2 or raw",
                       format);
  uint64_t need = 0;
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++) {
    char path[PATH_MAX];
    if (asprintf(&ids[i], "%s-%s.%s", vm_name, disks[i].device, format) < 0) {
      ids[i] = NULL;
      r = ferry_error(ENOMEM, "out of memory");
    } else if ((r = qemu_volume_path(st, ids[i], path)) == 0 &&
               access(path, F_OK) == 0) {
      r = ferry_error(EEXIST, "the destination has a volume '%s' already",
                      ids[i]);
    }
    need += disks[i].capacity;
  }
  /* volumes/, or the state directory, may not be made yet: the nearest
   * directory that is there says where they will be */
  char dir[PATH_MAX];
  struct statvfs fs;
  int got = statvfs(qemu_path(st, dir, "volumes"), &fs);
  for (char *slash; got < 0 && (slash = strrchr(dir, '/')) && slash > dir;) {
    *slash = '\0';
    got = statvfs(dir, &fs);
  }
  if (r == 0 && got == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < need)
    r = ferry_error(ENOSPC, "the destination has %" PRIu64 " MiB free, the "
                    "disks need up to %" PRIu64 " MiB",
                    (uint64_t)fs.f_bavail * fs.f_frsize >> 20, need >> 20);
  for (size_t i = 0; r < 0 && i < n; i++) {
    free(ids[i]);
    ids[i] = NULL;
  }
  return r;
}
