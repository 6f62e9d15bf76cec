/* Disk-level helpers for snapshots: nodes, backing files, overlays. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/error.h"
#include "../../core/qemu_img.h"
#include "../../core/statefile.h"
#include "../../qmp/qmp.h"
#include "../snapshot_store.h"
#include "snapdisk.h"

int active_node(struct qmp *q, const char *device, char *buf, size_t len)
{
  return active_node_file(q, device, buf, len, NULL, 0);
}

int active_node_file(struct qmp *q, const char *device, char *buf,
                     size_t len, char *file, size_t flen)
{
  json_object *ret = NULL;
  int r = qmp_execute(q, "query-block", NULL, &ret, QMP_TIMEOUT);
  if (r < 0)
    return r;
  char virtio[256], plain[256];
  snprintf(virtio, sizeof virtio, "/machine/peripheral/%s/virtio-backend",
           device);
  snprintf(plain, sizeof plain, "/machine/peripheral/%s", device);
  r = ferry_error(ENODEV, "no block device for disk %s in the running VM",
                  device);
  for (size_t i = 0; i < json_object_array_length(ret); i++) {
    json_object *b = json_object_array_get_idx(ret, i), *qdev, *ins, *node;
    if (!json_object_object_get_ex(b, "qdev", &qdev))
      continue;
    const char *qd = json_object_get_string(qdev);
    if (strcmp(qd, virtio) && strcmp(qd, plain) && strcmp(qd, device))
      continue;
    if (json_object_object_get_ex(b, "inserted", &ins) &&
        json_object_object_get_ex(ins, "node-name", &node)) {
      snprintf(buf, len, "%s", json_object_get_string(node));
      json_object *f;
      if (file && json_object_object_get_ex(ins, "file", &f))
        snprintf(file, flen, "%s", json_object_get_string(f));
      ferry_error_clear();
      r = 0;
    }
    break;
  }
  json_object_put(ret);
  return r;
}

int volume_backing(const struct qemu_state *st, const char *id, char *buf,
                   size_t len, bool *holds_snapshots)
{
  json_object *j, *b, *snaps;
  int r = qemu_img_info(st, id, &j);
  if (r < 0)
    return r;
  buf[0] = '\0';
  if (holds_snapshots)
    *holds_snapshots = j && json_object_object_get_ex(j, "snapshots", &snaps)
                       && json_object_array_length(snaps) > 0;
  if (j && json_object_object_get_ex(j, "backing-filename", &b)) {
    /* qemu writes "json:{...}" options instead of a path when a commit
     * left the backing node opened with options (seen after a kill -9
     * during a cutover's commit): the file name is inside */
    char path[PATH_MAX];
    image_of_name(json_object_get_string(b), path, sizeof path);
    const char *slash = strrchr(path, '/');
    snprintf(buf, len, "%s", slash ? slash + 1 : path);
  }
  json_object_put(j);
  return 0;
}

int volume_backers(const struct qemu_state *st, const char *id,
                   unsigned *count)
{
  char dir[PATH_MAX];
  *count = 0;
  DIR *d = opendir(qemu_path(st, dir, "volumes"));
  struct dirent *e;
  int r = 0;
  while (d && r == 0 && (e = readdir(d))) {
    char b[PATH_MAX];
    const char *fmt = qemu_volume_format(e->d_name);
    if (e->d_name[0] == '.' || !strcmp(e->d_name, id) || !fmt ||
        strcmp(fmt, "qcow2"))
      continue;
    if ((r = volume_backing(st, e->d_name, b, sizeof b, NULL)) == 0 &&
        !strcmp(b, id))
      (*count)++;
  }
  if (d)
    closedir(d);
  return r;
}

int volume_is_backing(const struct qemu_state *st, const char *id, bool *is)
{
  unsigned n;
  int r = volume_backers(st, id, &n);
  *is = n > 0;
  return r;
}

/* The image file a node reads: its "file" as a plain path, or, for nodes
 * added with blockdev-add, the filename inside its json:{...} options
 * (which also describe its backing file: only the node's own counts). */
void image_of_name(const char *file, char *buf, size_t len)
{
  buf[0] = '\0';
  if (strncmp(file, "json:", 5)) {
    snprintf(buf, len, "%s", file);
    return;
  }
  json_object *j = json_tokener_parse(file + 5), *f, *fn;
  if (j && json_object_object_get_ex(j, "file", &f)) {
    if (json_object_is_type(f, json_type_string))
      snprintf(buf, len, "%s", json_object_get_string(f));
    else if (json_object_object_get_ex(f, "filename", &fn))
      snprintf(buf, len, "%s", json_object_get_string(fn));
  }
  json_object_put(j);
}

int node_of_file(struct qmp *q, const char *path, char *buf, size_t len)
{
  json_object *args = json_object_new_object(), *ret = NULL;
  json_object_object_add(args, "flat", json_object_new_boolean(1));
  int r = qmp_execute(q, "query-named-block-nodes", args, &ret, QMP_TIMEOUT);
  json_object_put(args);
  bool found = false;
  for (size_t i = 0; r == 0 && !found && i < json_object_array_length(ret);
       i++) {
    json_object *n = json_object_array_get_idx(ret, i), *f, *nn, *drv;
    char image[PATH_MAX];
    /* the format node (qcow2/raw) whose image is that file */
    if (!json_object_object_get_ex(n, "file", &f) ||
        !json_object_object_get_ex(n, "node-name", &nn) ||
        !json_object_object_get_ex(n, "drv", &drv) ||
        !strcmp(json_object_get_string(drv), "file"))
      continue;
    image_of_name(json_object_get_string(f), image, sizeof image);
    if (!strcmp(image, path)) {
      snprintf(buf, len, "%s", json_object_get_string(nn));
      found = true;
    }
  }
  json_object_put(ret);
  if (r == 0 && !found)
    r = ferry_error(ENODEV, "no node of the running VM reads %s", path);
  return r;
}

int volume_in_chain(const struct qemu_state *st, const struct ferry_vm *vm,
                    const char *id, bool *in)
{
  *in = false;
  int r = 0;
  for (size_t k = 0; k < vm->n_disks && !*in && r == 0; k++) {
    char cur[256], below[256];
    snprintf(cur, sizeof cur, "%s", vm->disks[k].volume_id);
    for (int depth = 0; *cur && !*in && r == 0 && depth < 256; depth++) {
      *in = !strcmp(cur, id);
      if (!*in && (r = volume_backing(st, cur, below, sizeof below, NULL)) == 0)
        snprintf(cur, sizeof cur, "%s", below);
    }
  }
  return r;
}

int volume_in_records(const struct qemu_state *st, const char *id,
                      bool *named)
{
  char dir[PATH_MAX];
  int r = 0;
  *named = false;
  struct dirent *e;
  /* Snapshot records name their overlays in disks[].file. */
  DIR *sd = opendir(qemu_path(st, dir, "snapshots"));
  while (sd && !*named && r == 0 && (e = readdir(sd))) {
    if (e->d_name[0] == '.')
      continue;
    struct snap_store s;
    struct ferry_domain_snapshot *recs;
    size_t nr;
    if (snap_store_view(&s, dir, e->d_name) < 0) {
      ferry_error_clear(); /* not a VM's directory */
      continue;
    }
    if ((r = snap_store_list(&s, &recs, &nr)) < 0)
      break;
    for (size_t i = 0; i < nr; i++)
      for (size_t k = 0; k < recs[i].n_disks; k++) {
        const char *f = recs[i].disks[k].file;
        const char *base = f ? strrchr(f, '/') : NULL;
        *named = *named || (base && !strcmp(base + 1, id));
      }
    ferry_domain_snapshot_list_free(recs, nr);
  }
  if (sd)
    closedir(sd);
  return r;
}

int volume_unused(const struct qemu_state *st, const char *id, bool *unused)
{
  *unused = false;
  struct ferry_vm *v;
  size_t n;
  int r = qemu_defs_load(st, &v, &n);
  if (r < 0)
    return r;
  bool used = false;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < v[i].n_disks; k++)
      used = used || !strcmp(v[i].disks[k].volume_id, id);
  ferry_vm_list_free(v, n);
  char own[PATH_MAX];
  bool inner = false; /* internal snapshots live inside it */
  if (!used && (r = volume_backing(st, id, own, sizeof own, &inner)) == 0)
    used = inner;
  bool backs = false;
  if (!used && r == 0 && (r = volume_is_backing(st, id, &backs)) == 0)
    used = backs;
  bool named = false;
  if (!used && r == 0 && (r = volume_in_records(st, id, &named)) == 0)
    used = named;
  *unused = r == 0 && !used;
  return r;
}

void bitmap_name(const char *snap, char *buf, size_t len)
{
  snprintf(buf, len, "ferry-%s", snap);
}

int volume_has_bitmap(const struct qemu_state *st, const char *id,
                      const char *bitmap, bool *has)
{
  char path[PATH_MAX];
  int r = qemu_volume_path(st, id, path);
  return r < 0 ? r : qemu_img_has_bitmap(path, qemu_volume_format(id),
                                         bitmap, has);
}

int node_has_bitmap(struct qmp *q, const char *node, const char *bitmap,
                    bool *has)
{
  json_object *args = json_object_new_object(), *ret = NULL;
  json_object_object_add(args, "flat", json_object_new_boolean(1));
  int r = qmp_execute(q, "query-named-block-nodes", args, &ret, QMP_TIMEOUT);
  json_object_put(args);
  *has = false;
  for (size_t i = 0; r == 0 && i < json_object_array_length(ret); i++) {
    json_object *n = json_object_array_get_idx(ret, i), *nn, *bm;
    if (json_object_object_get_ex(n, "node-name", &nn) &&
        !strcmp(json_object_get_string(nn), node) &&
        json_object_object_get_ex(n, "dirty-bitmaps", &bm))
      *has = *has || qemu_img_list_has(bm, bitmap);
  }
  json_object_put(ret);
  return r;
}

int volume_bitmap(const struct qemu_state *st, const char *id,
                  const char *op, const char *bitmap)
{
  char path[PATH_MAX];
  int r = qemu_volume_path(st, id, path);
  if (r < 0)
    return r;
  /* One granularity everywhere, live or not: 64 KiB, a qcow2 cluster. */
  return qemu_img_bitmap(path, op, bitmap, BITMAP_GRANULARITY);
}

/* "<vm>-<dev>-<snap><tail>" into buf, checked as a volume id in full
 * before it is written: too long a one is refused, never cut short. */
static int overlay_name(const struct ferry_vm *vm, const struct ferry_disk *d,
                        const char *snap, const char *tail, char *buf,
                        size_t len)
{
  char *id;
  if (asprintf(&id, "%s-%s-%s%s", vm->name, d->device, snap, tail) < 0)
    return ferry_error(ENOMEM, "out of memory");
  int r = name_check(id, "volume id");
  if (r < 0) {
    struct saved_error why;
    error_save(&why);
    r = ferry_error(EINVAL, "snapshot '%s' of VM '%s': disk %s's overlay "
                    "would be named '%s' (%s): pick a shorter snapshot name",
                    snap, vm->name, d->device, id, why.msg);
  } else if ((size_t)snprintf(buf, len, "%s", id) >= len) {
    r = ferry_error(EINVAL, "volume id '%s' is longer than %zu bytes", id,
                    len - 1);
  }
  free(id);
  return r;
}

int overlay_base(const struct ferry_vm *vm, const struct ferry_disk *d,
                 const char *snap, char *buf, size_t len)
{
  return overlay_name(vm, d, snap, ".qcow2", buf, len);
}

int overlay_id(const struct qemu_state *st, const struct ferry_vm *vm,
               const struct ferry_disk *d, const char *snap, char *buf,
               size_t len)
{
  char path[PATH_MAX], tail[32];
  for (int k = 0; k < 1000; k++) {
    if (k == 0)
      snprintf(tail, sizeof tail, ".qcow2");
    else
      snprintf(tail, sizeof tail, ".%d.qcow2", k);
    int r = overlay_name(vm, d, snap, tail, buf, len);
    if (r < 0 || (r = qemu_volume_path(st, buf, path)) < 0)
      return r;
    if (access(path, F_OK) < 0)
      return 0;
  }
  return ferry_error(EEXIST, "no free volume name for an overlay of disk %s",
                     d->device);
}

int overlay_create(const struct qemu_state *st, const char *overlay,
                   const char *backing)
{
  char bpath[PATH_MAX];
  int r = qemu_volume_path(st, backing, bpath);
  return r < 0 ? r : qemu_img_create(st, overlay, backing, 0);
}

int wait_leftover_jobs(struct qmp *q)
{
  json_object *jobs;
  int r = qmp_execute(q, "query-jobs", NULL, &jobs, QMP_TIMEOUT);
  if (r < 0)
    return r;
  size_t n = json_object_is_type(jobs, json_type_array)
                 ? json_object_array_length(jobs) : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *id;
    if (!json_object_object_get_ex(json_object_array_get_idx(jobs, i), "id",
                                   &id) ||
        strncmp(json_object_get_string(id), "ferry-", 6))
      continue;
    qmp_job_wait(q, json_object_get_string(id), 30 * 60 * 1000);
    ferry_error_clear();
  }
  json_object_put(jobs);
  return 0;
}
