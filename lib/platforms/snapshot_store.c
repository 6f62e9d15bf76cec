/* Domain snapshot records on disk; see snapshot_store.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/dirscan.h"
#include "../core/error.h"
#include "../core/statefile.h"
#include "snapshot_store.h"

#define RECORD_MAX (1 << 20)
#define PREFIX "snapshotdata-"
#define SUFFIX ".json"

/* dir and the real paths, without creating or locking anything. */
static int store_paths(struct snap_store *s, const char *base,
                       const char *vm_uuid)
{
  s->lock_fd = -1;
  int r = name_check(vm_uuid, "VM uuid");
  if (r < 0)
    return r;
  snprintf(s->dir, sizeof s->dir, "%s/%s", base, vm_uuid);
  char vols[PATH_MAX + 16];
  snprintf(vols, sizeof vols, "%s/../volumes", base);
  if (!realpath(s->dir, s->real_dir))
    s->real_dir[0] = '\0';
  if (!realpath(vols, s->real_volumes))
    s->real_volumes[0] = '\0';
  return 0;
}

int snap_store_view(struct snap_store *s, const char *base,
                    const char *vm_uuid)
{
  return store_paths(s, base, vm_uuid);
}

int snap_store_open(struct snap_store *s, const char *base,
                    const char *vm_uuid)
{
  int r = store_paths(s, base, vm_uuid);
  if (r < 0 || (r = statefile_mkdirs(s->dir)) < 0)
    return r;
  if (!realpath(s->dir, s->real_dir))
    return ferry_error(errno, "%s: %s", s->dir, strerror(errno));
  char lock[PATH_MAX];
  snprintf(lock, sizeof lock, "%s/lock", s->dir);
  return lock_acquire(lock, 30000, &s->lock_fd);
}

void snap_store_close(struct snap_store *s)
{
  lock_release(s->lock_fd);
  s->lock_fd = -1;
}

int snap_name_check(const char *name)
{
  int r = name_check(name, "snapshot name");
  if (r == 0 && strspn(name, "0123456789") == strlen(name))
    r = ferry_error(EINVAL, "snapshot name '%s' is all digits: qcow2 would "
                    "take it for a snapshot ID", name);
  return r;
}

int snap_store_path(const struct snap_store *s, const char *name, char *buf)
{
  int r = snap_name_check(name);
  if (r == 0)
    snprintf(buf, PATH_MAX, "%s/" PREFIX "%s" SUFFIX, s->dir, name);
  return r;
}

bool snap_store_exists(const struct snap_store *s, const char *name)
{
  char path[PATH_MAX];
  return snap_store_path(s, name, path) == 0 && access(path, F_OK) == 0;
}

int snap_store_save(const struct snap_store *s,
                    const struct ferry_domain_snapshot *snap)
{
  char path[PATH_MAX];
  int r = snap_store_path(s, snap->name, path);
  if (r < 0)
    return r;
  struct ferry_domain_snapshot rec;
  ferry_domain_snapshot_init(&rec);
  if ((r = ferry_domain_snapshot_copy(&rec, snap)) < 0)
    return r;
  for (size_t i = 0; i < rec.n_disks; i++) {
    free(rec.disks[i].path);
    rec.disks[i].path = NULL;
  }
  char *text = ferry_domain_snapshot_to_json(&rec);
  ferry_domain_snapshot_dispose(&rec);
  if (!text)
    return -ferry_last_errno();
  r = statefile_write(path, text, strlen(text));
  free(text);
  return r;
}

/* Whether path is `name` in the directory whose real path is real_dir. */
static bool path_is(const char *path, const char *real_dir, const char *name)
{
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX], real[PATH_MAX];
  if (!slash || !*real_dir || strcmp(slash + 1, name))
    return false;
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  return realpath(*dir ? dir : "/", real) && !strcmp(real, real_dir);
}

/* A record is checked for meaning as well as syntax: its name is its
 * file's, it belongs to this VM, and every path in it stays where ferry
 * puts such files (overlays in the platform's volumes/, RAM in this
 * directory), so a hand-edited record cannot point ferry elsewhere. */
static int check_record(const struct snap_store *s, const char *file,
                        const struct ferry_domain_snapshot *rec)
{
  const char *base = strrchr(file, '/') + 1, *uuid = strrchr(s->dir, '/') + 1;
  size_t pl = strlen(PREFIX), n = rec->name ? strlen(rec->name) : 0;
  int r = snap_name_check(rec->name);
  if (r == 0 && (strncmp(base + pl, rec->name, n) ||
                 strcmp(base + pl + n, SUFFIX)))
    r = ferry_error(EINVAL, "it names snapshot '%s', not the one of its "
                    "file name", rec->name);
  if (r == 0 && rec->parent && *rec->parent)
    r = snap_name_check(rec->parent);
  if (r == 0 && rec->vm_uuid && *rec->vm_uuid && strcmp(rec->vm_uuid, uuid))
    r = ferry_error(EINVAL, "it belongs to VM %s, not %s", rec->vm_uuid,
                    uuid);
  /* Paths ferry wrote, compared by real paths: a state dir may be reached
   * by several spellings. */
  char mem[PATH_MAX];
  snprintf(mem, sizeof mem, "%s.mem", rec->name ? rec->name : "");
  if (r == 0 && rec->memory && *rec->memory &&
      !path_is(rec->memory, s->real_dir, mem))
    r = ferry_error(EINVAL, "its RAM file %s is not %s/%s", rec->memory,
                    s->dir, mem);
  for (size_t i = 0; r == 0 && i < rec->n_disks; i++) {
    const struct ferry_disk_snapshot *d = &rec->disks[i];
    const char *f = d->file, *slash = f ? strrchr(f, '/') : NULL;
    if ((r = name_check(d->device, "disk device name")) < 0 || !f || !*f)
      continue;
    if (!slash || name_check(slash + 1, "volume id") < 0 ||
        !path_is(f, s->real_volumes, slash + 1)) {
      ferry_error_clear();
      r = ferry_error(EINVAL, "disk %s: its file %s is not a volume in %s",
                      d->device, f, s->real_volumes);
    }
  }
  return r;
}

static int load_file(const struct snap_store *s, const char *path,
                     struct ferry_domain_snapshot *out)
{
  char *text;
  int r = statefile_read(path, RECORD_MAX, &text);
  if (r < 0)
    return r;
  ferry_domain_snapshot_init(out);
  r = ferry_domain_snapshot_from_json(out, text);
  free(text);
  if (r == 0 && (r = check_record(s, path, out)) < 0)
    ferry_domain_snapshot_dispose(out);
  if (r < 0) { /* the reason is in the error buffer we are about to fill */
    char why[512];
    snprintf(why, sizeof why, "%s", ferry_last_error() ? ferry_last_error()
                                                       : "");
    return ferry_error(EBADMSG, "snapshot record %s is corrupt: %s", path,
                       why);
  }
  return 0;
}

int snap_store_load(const struct snap_store *s, const char *name,
                    struct ferry_domain_snapshot *out)
{
  char path[PATH_MAX];
  int r = snap_store_path(s, name, path);
  if (r < 0)
    return r;
  if (access(path, F_OK) < 0)
    return ferry_error(ENOENT, "no snapshot '%s'", name);
  return load_file(s, path, out);
}

int snap_store_remove(const struct snap_store *s, const char *name)
{
  char path[PATH_MAX];
  int r = snap_store_path(s, name, path);
  return r < 0 ? r : statefile_remove(path, 0);
}

/* Creation order: clocks count whole seconds, sequences do not tie. */
static int by_time(const void *a, const void *b)
{
  const struct ferry_domain_snapshot *x = a, *y = b;
  if (x->sequence != y->sequence)
    return x->sequence < y->sequence ? -1 : 1;
  if (x->creation_time != y->creation_time)
    return x->creation_time < y->creation_time ? -1 : 1;
  return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* snapshotdata-<name>.json; also skips temp files of interrupted
 * writes. */
static bool is_record(const char *name, void *opaque)
{
  (void)opaque;
  size_t len = strlen(name), pl = strlen(PREFIX), sl = strlen(SUFFIX);
  return len > pl + sl && !strncmp(name, PREFIX, pl) &&
         !strcmp(name + len - sl, SUFFIX);
}

int snap_store_list(const struct snap_store *s,
                    struct ferry_domain_snapshot **out, size_t *n)
{
  char **files;
  size_t nfiles, count = 0;
  *out = NULL;
  *n = 0;
  int r = dir_scan(s->dir, is_record, NULL, &files, &nfiles);
  if (r < 0 || nfiles == 0)
    return r;
  struct ferry_domain_snapshot *v = calloc(nfiles, sizeof *v);
  if (!v)
    r = ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; r == 0 && i < nfiles; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", s->dir, files[i]);
    if ((r = load_file(s, path, &v[count])) == 0)
      count++;
  }
  dir_scan_free(files, nfiles);
  if (r < 0) {
    ferry_domain_snapshot_list_free(v, count);
    return r;
  }
  qsort(v, count, sizeof *v, by_time);
  *out = v;
  *n = count;
  return 0;
}

int snap_store_next_sequence(const struct snap_store *s, uint64_t *seq)
{
  struct ferry_domain_snapshot *v;
  size_t n;
  int r = snap_store_list(s, &v, &n);
  if (r < 0)
    return r;
  *seq = 1;
  for (size_t i = 0; i < n; i++)
    if (v[i].sequence >= *seq)
      *seq = v[i].sequence + 1;
  ferry_domain_snapshot_list_free(v, n);
  return 0;
}

int snap_store_current(const struct snap_store *s, char **name)
{
  char path[PATH_MAX], *text;
  snprintf(path, sizeof path, "%s/current", s->dir);
  *name = NULL;
  int r = statefile_read(path, 4096, &text);
  if (r == -ENOENT) {
    ferry_error_clear();
    return 0;
  }
  if (r < 0)
    return r;
  text[strcspn(text, "\n")] = '\0';
  if (*text && snap_name_check(text) < 0) {
    free(text);
    return ferry_error_prefix("%s names no valid snapshot: ", path);
  }
  if (*text)
    *name = text;
  else
    free(text);
  return 0;
}

int snap_store_set_current(const struct snap_store *s, const char *name)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/current", s->dir);
  if (!name || !*name)
    return statefile_remove(path, 1);
  return statefile_write(path, name, strlen(name));
}
