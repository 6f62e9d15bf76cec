/* The HTTPS datastore data path: a flat VMDK's extent read with HTTP Range
 * requests from /folder/<path>?dcPath=..&dsName=.., one connection per
 * clone so that the engine's workers read in parallel. It serves what
 * vSphere keeps as flat files: powered-off VMs' disks and the base disk
 * under a VM's first snapshot; delta disks need VDDK. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"
#include "../../volume/volume.h"
#include "data.h"
#include "xml.h"

#define MAX_DESCRIPTOR (64u << 10)

struct ds_shared {
  atomic_int refs;
  struct vmw *w;
  struct vmw_volume_id id;
  char url[3072];      /* the flat extent */
  pthread_mutex_t lock;
  bool asked;          /* CBT was asked for the allocated areas */
  struct ferry_extent *data; /* its answer; NULL: all data */
  size_t n_data;
};

struct ds_conn {
  struct ds_shared *sh;
  CURL *c;
  struct tls_pin pin;
  char err[CURL_ERROR_SIZE];
};

/* Where a range read puts its body: at most cap bytes. */
struct sink {
  char *buf;
  size_t len, cap;
};

static size_t on_range(char *data, size_t size, size_t n, void *opaque)
{
  struct sink *s = opaque;
  size_t k = size * n;
  if (s->len + k > s->cap)
    return 0;
  memcpy(s->buf + s->len, data, k);
  s->len += k;
  return k;
}

/* The URL of a file in the same datastore directory tree. */
static int file_url(struct vmw *w, const struct vmw_volume_id *id,
                    const char *rel, char *url, size_t len)
{
  int n = snprintf(url, len, "%s/folder", w->s->base);
  for (const char *p = rel; *p && n > 0 && (size_t)n < len;) {
    size_t seg = strcspn(p, "/");
    char *e = curl_easy_escape(NULL, p, (int)seg);
    n += snprintf(url + n, len - (size_t)n, "/%s", e ? e : "");
    curl_free(e);
    p += seg;
    if (*p == '/')
      p++;
  }
  char *dc = curl_easy_escape(NULL, id->dc, 0);
  char *ds = curl_easy_escape(NULL, id->datastore, 0);
  if (n > 0 && (size_t)n < len)
    n += snprintf(url + n, len - (size_t)n, "?dcPath=%s&dsName=%s",
                  dc ? dc : "", ds ? ds : "");
  curl_free(dc);
  curl_free(ds);
  if (n < 0 || (size_t)n >= len)
    return ferry_error(ENAMETOOLONG, "datastore path '%s' is too long",
                       id->path);
  return 0;
}

static int conn_new(struct ds_shared *sh, struct ds_conn **out)
{
  struct ds_conn *k = calloc(1, sizeof *k);
  if (!k)
    return ferry_error(ENOMEM, "out of memory");
  int r = vsession_handle(sh->w->s, &k->pin, k->err, &k->c);
  if (r < 0) {
    free(k);
    return r;
  }
  k->sh = sh;
  atomic_fetch_add(&sh->refs, 1);
  *out = k;
  return 0;
}

static void shared_unref(struct ds_shared *sh)
{
  if (atomic_fetch_sub(&sh->refs, 1) != 1)
    return;
  free(sh->data);
  pthread_mutex_destroy(&sh->lock);
  free(sh);
}

static void conn_free(struct ds_conn *k)
{
  curl_easy_cleanup(k->c);
  shared_unref(k->sh);
  free(k);
}

/* GET url (a byte range when len > 0) with the write callback fn and its
 * data; status gets the HTTP code. */
static int get(struct ds_conn *k, const char *url, uint64_t off, size_t len,
               curl_write_callback fn, void *data, long *status)
{
  char range[64];
  snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, off,
           off + (len ? len : 1) - 1);
  k->err[0] = 0;
  curl_easy_setopt(k->c, CURLOPT_URL, url);
  curl_easy_setopt(k->c, CURLOPT_RANGE, len ? range : NULL);
  curl_easy_setopt(k->c, CURLOPT_WRITEFUNCTION, fn);
  curl_easy_setopt(k->c, CURLOPT_WRITEDATA, data);
  CURLcode rc = curl_easy_perform(k->c);
  if (rc != CURLE_OK)
    return tls_pin_fail(&k->pin, rc, "datastore GET", k->err);
  curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, status);
  return 0;
}

static int ds_pread(struct ferry_volume *v, void *buf, size_t len,
                    uint64_t off)
{
  struct ds_conn *k = v->priv;
  if (len == 0)
    return 0;
  struct sink s = { buf, 0, len };
  long status = 0;
  int r = get(k, k->sh->url, off, len, on_range, &s, &status);
  if (r < 0)
    return ferry_error_prefix("%s: read %zu bytes at %" PRIu64 ": ", v->name,
                              len, off);
  if (status != 206 || s.len != len)
    return ferry_error(EIO, "%s: read %zu bytes at %" PRIu64 ": HTTP %ld, "
                       "%zu bytes", v->name, len, off, status, s.len);
  return 0;
}

/* CBT's allocated areas ("*") of the snapshot's disk, fetched once; an
 * error (tracking off, an old host) leaves the whole disk as data. */
static int ds_extents(struct ferry_volume *v, uint64_t off, uint64_t len,
                      struct extent_map *m)
{
  struct ds_conn *k = v->priv;
  struct ds_shared *sh = k->sh;
  pthread_mutex_lock(&sh->lock);
  if (!sh->asked && *sh->id.vm && *sh->id.snapshot && *sh->id.key) {
    struct ferry_changed_areas ch;
    ferry_changed_areas_init(&ch);
    if (vmw_changed_areas(sh->w, sh->id.vm, sh->id.snapshot, sh->id.key,
                          (uint64_t)v->size, "*", &ch) == 0 &&
        (sh->data = calloc(ch.n_areas + 1, sizeof *sh->data))) {
      for (size_t i = 0; i < ch.n_areas; i++)
        sh->data[i] = (struct ferry_extent){ ch.areas[i].start,
                                             ch.areas[i].length };
      sh->n_data = ch.n_areas;
    }
    ferry_changed_areas_dispose(&ch);
    ferry_error_clear();
    sh->asked = true;
  }
  pthread_mutex_unlock(&sh->lock);
  if (!sh->data)
    return extent_map_add(m, off, len, 0);
  return extent_map_add_data(m, off, off + len, sh->data, sh->n_data);
}

static const struct volume_ops ds_ops;

static int wrap(struct ds_conn *k, int64_t size, struct ferry_volume **out)
{
  struct ferry_volume *v = volume_new(&ds_ops, k->sh->id.path);
  if (!v) {
    conn_free(k);
    return ferry_error(ENOMEM, "out of memory");
  }
  v->size = size;
  v->priv = k;
  snprintf(v->format, sizeof v->format, "vmdk");
  v->thread_safe = true; /* each clone has its own connection */
  v->can_multi_conn = true;
  *out = v;
  return 0;
}

static int ds_clone(struct ferry_volume *v, struct ferry_volume **out)
{
  struct ds_conn *k;
  int r = conn_new(((struct ds_conn *)v->priv)->sh, &k);
  return r < 0 ? r : wrap(k, v->size, out);
}

static void ds_close(struct ferry_volume *v)
{
  conn_free(v->priv);
  volume_free(v);
}

static const struct volume_ops ds_ops = {
  .kind = "vmware-datastore",
  .pread = ds_pread, /* read-only: no pwrite, zero or flush */
  .extents = ds_extents,
  .clone = ds_clone,
  .close = ds_close,
};

/* Reads the descriptor and finds its one flat extent: its file (relative
 * to the descriptor) and size. Sparse and delta disks are refused. */
static int flat_extent(const char *text, const char *path, char *file,
                       size_t len, uint64_t *size)
{
  if (!strncmp(text, "KDMV", 4) || !strncmp(text, "COWD", 4))
    return ferry_error(ENOTSUP, "%s is a sparse VMDK: the datastore path "
                       "reads flat disks only; use --transport=vddk", path);
  int extents = 0;
  char kind[32] = "";
  for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') +
                                                          1 : NULL) {
    unsigned long long sectors;
    char access[16], name[512];
    if (!strncmp(l, "parentFileNameHint", 18))
      return ferry_error(ENOTSUP, "%s is a delta disk (a snapshot's child): "
                         "the datastore path reads flat disks only; use "
                         "--transport=vddk, or read the VM's first "
                         "snapshot", path);
    if (sscanf(l, "%15s %llu %31s \"%511[^\"]\"", access, &sectors, kind,
               name) == 4 &&
        (!strcmp(access, "RW") || !strcmp(access, "RDONLY"))) {
      extents++;
      snprintf(file, len, "%s", name);
      *size = (uint64_t)sectors * 512;
    }
  }
  if (extents != 1 || (strcmp(kind, "FLAT") && strcmp(kind, "VMFS")))
    return ferry_error(ENOTSUP, "%s: %d extent(s) of kind '%s': the "
                       "datastore path reads disks of one FLAT or VMFS "
                       "extent; use --transport=vddk", path, extents, kind);
  return 0;
}

int datastore_volume_open(struct vmw *w, const struct vmw_volume_id *id,
                          int mode, struct ferry_volume **out)
{
  if (mode != FERRY_OPEN_READ)
    return ferry_error(ENOTSUP, "%s: writing VMware disks is not supported "
                       "in this version (the datastore's HTTP interface "
                       "takes whole files only)", id->path);
  if (!*id->dc)
    return ferry_error(EINVAL, "%s: the volume id names no datacenter "
                       "(?dc=NAME)", id->path);
  struct ds_shared *sh = calloc(1, sizeof *sh);
  if (!sh)
    return ferry_error(ENOMEM, "out of memory");
  sh->w = w;
  sh->id = *id;
  pthread_mutex_init(&sh->lock, NULL);
  struct ds_conn *k;
  int r = conn_new(sh, &k); /* holds the only reference */
  if (r < 0) {
    pthread_mutex_destroy(&sh->lock);
    free(sh);
    return r;
  }
  char url[3072], file[512], rel[1600];
  struct sbuf desc = { 0 };
  long status = 0;
  uint64_t size = 0;
  if ((r = file_url(w, id, id->rel, url, sizeof url)) == 0 &&
      (r = get(k, url, 0, 0, sb_curl_write, &desc, &status)) == 0) {
    if (status == 404)
      r = ferry_error(ENOENT, "%s: no such file on datastore %s", id->path,
                      id->datastore);
    else if (status == 401)
      r = ferry_error(EACCES, "%s: the datastore refused the session "
                      "(HTTP 401)", id->path);
    else if (status != 200)
      r = ferry_error(EIO, "%s: HTTP %ld", id->path, status);
  }
  if (r == 0 && (desc.failed || !desc.s || desc.len > MAX_DESCRIPTOR))
    r = ferry_error(EPROTO, "%s: the descriptor is empty or larger than "
                    "%u KiB", id->path, MAX_DESCRIPTOR >> 10);
  if (r == 0)
    r = flat_extent(desc.s, id->path, file, sizeof file, &size);
  sb_free(&desc);
  if (r == 0) {
    const char *slash = strrchr(id->rel, '/');
    int dir = slash ? (int)(slash - id->rel) + 1 : 0;
    snprintf(rel, sizeof rel, "%.*s%s", dir, id->rel, file);
    r = file_url(w, id, rel, sh->url, sizeof sh->url);
  }
  if (r < 0) {
    conn_free(k);
    return r;
  }
  return wrap(k, (int64_t)size, out);
}
