/* Volumes in libvirt's storage pools, named POOL/NAME: planned, made (a
 * qcow2 is v3, compat 1.1, which can hold the bitmaps of checkpoints),
 * deleted, and read or written through their path when the pool is on
 * this host (qemu-nbd serves an image, lib/volume/file.c). */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/sbuf.h"
#include "../../core/statefile.h"
#include "../../volume/volume.h"
#include "lv.h"

/* id's pool and volume name: POOL/NAME, or NAME in the URI's pool. */
static int split_id(struct ferry_client *fc, const char *id, char *pool,
                    size_t plen, char *name, size_t nlen)
{
  const char *slash = id ? strchr(id, '/') : NULL;
  if (!id || !*id || (slash && (slash == id || !slash[1])))
    return ferry_error(EINVAL, "volume id '%s' is not POOL/NAME",
                       id ? id : "");
  if (slash)
    snprintf(pool, plen, "%.*s", (int)(slash - id), id);
  else
    snprintf(pool, plen, "%s", LV_STATE(fc)->pool);
  snprintf(name, nlen, "%s", slash ? slash + 1 : id);
  return name_check(name, "volume name");
}

static int pool_of(struct ferry_client *fc, const char *pool,
                   virStoragePoolPtr *out)
{
  if ((*out = virStoragePoolLookupByName(LV_CONN(fc), pool)))
    return 0;
  /* say which pools there are */
  virStoragePoolPtr *v = NULL;
  int n = virConnectListAllStoragePools(LV_CONN(fc), &v, 0);
  struct sbuf names = { 0 };
  for (int i = 0; i < n; i++) {
    sb_printf(&names, "%s%s", i ? ", " : "", virStoragePoolGetName(v[i]));
    virStoragePoolFree(v[i]);
  }
  free(v);
  int r = ferry_error(ENOENT, "no storage pool '%s' (it has: %s; --pool "
                      "names one)", pool, names.len ? names.s : "none");
  sb_free(&names);
  return r;
}

const char *lv_format_of_name(const char *name)
{
  const char *dot = strrchr(name, '.');
  return dot && !strcmp(dot, ".raw") ? "raw" : "qcow2";
}

int lv_plan_volumes(struct ferry_client *fc, const char *vm_name,
                    const struct ferry_disk *disks, size_t n,
                    const char *format, char **ids)
{
  if (strcmp(format, "qcow2") && strcmp(format, "raw"))
    return ferry_error(EINVAL, "volume format '%s' is not qcow2 or raw",
                       format);
  virStoragePoolPtr pool;
  int r = pool_of(fc, LV_STATE(fc)->pool, &pool);
  if (r < 0)
    return r;
  uint64_t need = 0;
  size_t k = 0;
  for (; r == 0 && k < n; k++) {
    char name[512];
    snprintf(name, sizeof name, "%s-%s.%s", vm_name, disks[k].device,
             format);
    virStorageVolPtr v = virStorageVolLookupByName(pool, name);
    if (v) {
      virStorageVolFree(v);
      r = ferry_error(EEXIST, "pool '%s' has a volume '%s' already",
                      LV_STATE(fc)->pool, name);
    } else if (asprintf(&ids[k], "%s/%s", LV_STATE(fc)->pool, name) < 0) {
      ids[k] = NULL;
      r = ferry_error(ENOMEM, "out of memory");
    }
    need += disks[k].capacity;
  }
  virStoragePoolInfo info;
  if (r == 0 && virStoragePoolGetInfo(pool, &info) == 0 &&
      info.available < need)
    r = ferry_error(ENOSPC, "pool '%s' has %llu MiB free, the disks need up "
                    "to %" PRIu64 " MiB", LV_STATE(fc)->pool,
                    info.available >> 20, need >> 20);
  virStoragePoolFree(pool);
  for (size_t i = 0; r < 0 && i < k; i++) {
    free(ids[i]);
    ids[i] = NULL;
  }
  return r;
}

static int vol_of(struct ferry_client *fc, const char *id,
                  virStorageVolPtr *out)
{
  char pool[256], name[512];
  virStoragePoolPtr p;
  int r = split_id(fc, id, pool, sizeof pool, name, sizeof name);
  if (r == 0 && (r = pool_of(fc, pool, &p)) == 0) {
    if (!(*out = virStorageVolLookupByName(p, name)))
      r = ferry_error(ENOENT, "pool '%s' has no volume '%s'", pool, name);
    virStoragePoolFree(p);
  }
  return r;
}

/* The volume id names, described (lv_vol_describe). */
static int info_of(struct ferry_client *fc, const char *id,
                   struct ferry_volume_info *out)
{
  char pool[256], name[512];
  virStorageVolPtr v;
  int r = split_id(fc, id, pool, sizeof pool, name, sizeof name);
  if (r == 0 && (r = vol_of(fc, id, &v)) == 0) {
    r = lv_vol_describe(pool, v, out);
    virStorageVolFree(v);
  }
  return r;
}

int lv_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                     struct ferry_volume_info *out)
{
  char pool[256], name[512], id[800];
  int r = split_id(fc, disk->volume_id, pool, sizeof pool, name,
                   sizeof name);
  if (r < 0)
    return r;
  const char *fmt = lv_format_of_name(name);
  if (disk->format && *disk->format && strcmp(disk->format, fmt))
    return ferry_error(EINVAL, "volume '%s': the name says %s but the format "
                       "asked is %s", name, fmt, disk->format);
  if (disk->capacity == 0 || disk->capacity % 512)
    return ferry_error(EINVAL, "volume '%s': capacity %" PRIu64 " is not a "
                       "positive multiple of 512", name, disk->capacity);
  virStoragePoolPtr p;
  if ((r = pool_of(fc, pool, &p)) < 0)
    return r;
  struct sbuf x = { 0 };
  sb_printf(&x, "<volume><name>");
  sb_esc(&x, name);
  sb_printf(&x, "</name><capacity unit='bytes'>%" PRIu64 "</capacity>"
                "<target><format type='%s'/>%s</target></volume>",
            disk->capacity, fmt,
            !strcmp(fmt, "qcow2") ? "<compat>1.1</compat>" : "");
  virStorageVolPtr v = NULL;
  if (x.failed)
    r = ferry_error(ENOMEM, "out of memory");
  else if (!(v = virStorageVolCreateXML(p, x.s, 0)))
    r = lv_error("create volume '%s' in pool '%s'", name, pool);
  sb_free(&x);
  if (v)
    virStorageVolFree(v);
  virStoragePoolFree(p);
  snprintf(id, sizeof id, "%s/%s", pool, name);
  return r == 0 && out ? info_of(fc, id, out) : r;
}

int lv_delete_volume(struct ferry_client *fc, const char *id)
{
  virStorageVolPtr v;
  int r = vol_of(fc, id, &v);
  if (r < 0)
    return r;
  if (virStorageVolDelete(v, 0) < 0)
    r = lv_error("delete volume '%s'", id);
  virStorageVolFree(v);
  return r;
}

int lv_volume_file(struct ferry_client *fc, const char *id, char *path,
                   size_t len, char *format, size_t flen)
{
  if (!LV_STATE(fc)->local)
    return ferry_error(ENOTSUP, "the libvirt platform reads and writes "
                       "volumes of this host only; %s is another host's, and "
                       "no NBD export of its volumes is made in this "
                       "version", LV_STATE(fc)->uri);
  struct ferry_volume_info info;
  int r = info_of(fc, id, &info);
  if (r < 0)
    return r;
  const char *fmt = info.format ? info.format : "";
  if (strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
    r = ferry_error(ENOTSUP, "volume '%s' is %s: the libvirt platform reads "
                    "and writes qcow2 and raw volumes", id,
                    *fmt ? fmt : "of no known format");
  else if ((size_t)snprintf(path, len, "%s", info.path) >= len ||
           (size_t)snprintf(format, flen, "%s", fmt) >= flen)
    r = ferry_error(ENAMETOOLONG, "volume '%s': its path is too long", id);
  ferry_volume_info_dispose(&info);
  return r;
}

int lv_open_volume(struct ferry_client *fc, const char *id, int mode,
                   struct ferry_volume **out)
{
  char path[PATH_MAX], fmt[32], dir[PATH_MAX], base[PATH_MAX];
  int r = lv_volume_file(fc, id, path, sizeof path, fmt, sizeof fmt);
  if (r < 0)
    return r;
  snprintf(dir, sizeof dir, "%s", path);
  snprintf(base, sizeof base, "%s", path);
  return file_volume_open(dirname(dir), basename(base), fmt, mode, out);
}
