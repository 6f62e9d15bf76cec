/* Raw files and block devices under a root directory. Image formats
 * (qcow2, vmdk, ...) found by their magic are served through qemu-nbd. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../client/client.h"
#include "../core/error.h"
#include "../core/run.h"
#include "../core/uri.h"
#include "../platforms/driver.h"
#include "volume.h"

/* The descriptor, shared by clones: pread/pwrite are thread-safe. */
struct file_fd {
  int fd;
  bool is_blk;
  atomic_int refs;
};

/* Reads and writes are synchronous: each worker thread keeps one in
 * flight, and scattered incremental extents are latency-bound (measured:
 * 8 threads copy 1100 cold extents 25% faster than 2). */
#define FILE_WORKERS 8

/* Extents this close are read with the gap between them: bench/bench.py's
 * sweep of 256 extents of 4 KiB found 4 and 16 KiB gaps read through in
 * 0.83x the time of separate reads from a cold file, 64 KiB even, 1 MiB
 * 1.6x. */
#define FILE_READ_GAP (16u << 10)

/* Writeback is waited for once a clone has this much under way, or this
 * many ranges: dirty pages stay bounded (8 MiB a clone) without waiting on
 * each write's neighbour, which made each of an incremental copy's small
 * scattered writes wait for the disk (551 extents, 102 MiB: 0.54 s, then
 * 0.1 s). */
#define WB_WINDOW (8u << 20)
#define WB_RANGES 16

/* Per clone: the ranges written whose writeback is under way, oldest
 * first. */
struct file_priv {
  struct file_fd *f;
  struct { uint64_t off, len; } wb[WB_RANGES];
  unsigned wb_first, wb_n;
  uint64_t wb_bytes;
};

static struct file_priv *P(struct ferry_volume *v) { return v->priv; }
static struct file_fd *F(struct ferry_volume *v) { return P(v)->f; }

static int io_error(struct ferry_volume *v, const char *what, uint64_t len,
                    uint64_t off, int err)
{
  return ferry_error(err, "%s: %s of %" PRIu64 " bytes at offset %" PRIu64
                     ": %s", v->name, what, len, off, strerror(err));
}

static int file_pread(struct ferry_volume *v, void *buf, size_t len,
                      uint64_t off)
{
  char *p = buf;
  for (size_t done = 0; done < len;) {
    ssize_t r = pread(F(v)->fd, p + done, len - done, off + done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return io_error(v, "read", len, off, errno);
    if (r == 0)
      return ferry_error(EIO, "%s: read of %zu bytes at offset %" PRIu64
                         ": unexpected end of file at %" PRIu64, v->name,
                         len, off, off + done);
    done += r;
  }
  /* A copy reads each block once: keep the page cache from filling up
   * (as nbdcopy does), which costs more than the read on a busy host. */
  posix_fadvise(F(v)->fd, off, len, POSIX_FADV_DONTNEED);
  return 0;
}

/* Starts writeback of what was just written and retires the oldest ranges
 * beyond the window: waits for their writeback, then drops their pages.
 * Dirty pages then stay bounded and the final flush has little left. */
static void writeback(struct ferry_volume *v, uint64_t off, uint64_t len)
{
  struct file_priv *p = P(v);
  int fd = p->f->fd;
  sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
  while (p->wb_n && (p->wb_n == WB_RANGES || p->wb_bytes + len > WB_WINDOW)) {
    uint64_t o = p->wb[p->wb_first].off, l = p->wb[p->wb_first].len;
    sync_file_range(fd, o, l, SYNC_FILE_RANGE_WAIT_BEFORE |
                                  SYNC_FILE_RANGE_WRITE |
                                  SYNC_FILE_RANGE_WAIT_AFTER);
    posix_fadvise(fd, o, l, POSIX_FADV_DONTNEED);
    p->wb_first = (p->wb_first + 1) % WB_RANGES;
    p->wb_n--;
    p->wb_bytes -= l;
  }
  unsigned k = (p->wb_first + p->wb_n++) % WB_RANGES;
  p->wb[k].off = off;
  p->wb[k].len = len;
  p->wb_bytes += len;
}

static int file_pwrite(struct ferry_volume *v, const void *buf, size_t len,
                       uint64_t off)
{
  const char *p = buf;
  for (size_t done = 0; done < len;) {
    ssize_t r = pwrite(F(v)->fd, p + done, len - done, off + done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return io_error(v, "write", len, off, errno);
    done += r;
  }
  writeback(v, off, len);
  return 0;
}

/* Zeroes as a hole where the file system can, else as written zeroes. */
static int file_zero(struct ferry_volume *v, uint64_t len, uint64_t off)
{
  int fd = F(v)->fd;
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
    return 0;
  if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
    return io_error(v, "punch hole", len, off, errno);
  if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
    return 0;
  return volume_zero_by_writes(v, len, off);
}

static int file_flush(struct ferry_volume *v)
{
  if (fdatasync(F(v)->fd) < 0)
    return ferry_error(errno, "%s: flush: %s", v->name, strerror(errno));
  return 0;
}

static int file_extents(struct ferry_volume *v, uint64_t off, uint64_t len,
                        struct extent_map *m)
{
  if (F(v)->is_blk)
    return extent_map_add(m, off, len, 0);
  int fd = F(v)->fd;
  uint64_t end = off + len, pos = off;
  while (pos < end) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) /* only a hole remains */
      data = end;
    else if (data < 0)
      return extent_map_add(m, pos, end - pos, 0); /* no SEEK_DATA here */
    if ((uint64_t)data > end)
      data = end;
    int r = extent_map_add(m, pos, data - pos,
                           FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
    if (r < 0 || (uint64_t)data >= end)
      return r;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole > end)
      hole = end;
    if ((r = extent_map_add(m, data, hole - data, 0)) < 0)
      return r;
    pos = hole;
  }
  return 0;
}

static void file_close(struct ferry_volume *v)
{
  struct file_fd *f = F(v);
  if (atomic_fetch_sub(&f->refs, 1) == 1) {
    close(f->fd);
    free(f);
  }
  free(P(v));
  volume_free(v);
}

static const struct volume_ops file_ops;

static int file_clone(struct ferry_volume *v, struct ferry_volume **out)
{
  struct file_priv *p = calloc(1, sizeof *p);
  struct ferry_volume *c = p ? volume_new(&file_ops, v->name) : NULL;
  if (!c) {
    free(p);
    return ferry_error(ENOMEM, "out of memory");
  }
  p->f = F(v);
  memcpy(c->format, v->format, sizeof v->format);
  c->size = v->size;
  c->writable = v->writable;
  c->can_multi_conn = c->thread_safe = true;
  c->zero_max = v->zero_max;
  c->workers = v->workers;
  c->priv = p;
  atomic_fetch_add(&p->f->refs, 1);
  *out = c;
  return 0;
}

static const struct volume_ops file_ops = {
  .kind = "file",
  .pread = file_pread,
  .pwrite = file_pwrite,
  .zero = file_zero,
  .flush = file_flush,
  .extents = file_extents,
  .clone = file_clone,
  .close = file_close,
};

/* Image formats qemu-nbd serves, by magic. A raw disk whose first sector
 * happens to hold such a magic is taken for that format, as qemu-img does
 * when probing; name such a disk as a block device or rename it. */
static const char *probe_format(const unsigned char *b, size_t n)
{
  if (n >= 4 && memcmp(b, "QFI\xfb", 4) == 0) return "qcow2";
  if (n >= 4 && memcmp(b, "KDMV", 4) == 0) return "vmdk";
  if (n >= 8 && memcmp(b, "vhdxfile", 8) == 0) return "vhdx";
  if (n >= 4 && memcmp(b, "QED\0", 4) == 0) return "qed";
  if (n >= 68 && memcmp(b + 64, "\x7f\x10\xda\xbe", 4) == 0) return "vdi";
  return NULL;
}

static bool bad_name_char(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

/* Opens root/id without leaving root: no "..", no symlink out, no absolute
 * path outside it. */
static int open_beneath(const char *root, const char *id, int flags)
{
  if (strcmp(root, "/") == 0) { /* nothing escapes "/" */
    int fd = open(id, flags | O_CLOEXEC);
    if (fd < 0)
      return ferry_error(errno, "volume '%s': %s", id, strerror(errno));
    return fd;
  }
  size_t rl = strlen(root);
  while (rl > 1 && root[rl - 1] == '/')
    rl--;
  const char *rel = id;
  if (id[0] == '/') {
    if (strncmp(id, root, rl) != 0 || id[rl] != '/')
      return ferry_error(EXDEV, "volume '%s' is outside the client's root "
                         "'%s'", id, root);
    rel = id + rl + 1;
  }
  int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return ferry_error(errno, "root '%s': %s", root, strerror(errno));
  struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
  int fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
  int err = errno;
  if (fd < 0 && err == ENOSYS) { /* old kernel: resolve and compare */
    char *rroot = realpath(root, NULL), path[PATH_MAX], *rpath = NULL;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    rpath = realpath(path, NULL);
    err = rpath ? 0 : errno;
    if (rroot && rpath && strncmp(rpath, rroot, strlen(rroot)) == 0 &&
        (rpath[strlen(rroot)] == '/' || strcmp(rroot, "/") == 0))
      fd = open(rpath, flags | O_CLOEXEC), err = errno;
    else if (rpath)
      err = EXDEV;
    free(rroot);
    free(rpath);
  }
  close(dirfd);
  if (fd < 0 && err == EXDEV)
    return ferry_error(EXDEV, "volume '%s' escapes the client's root '%s' "
                       "(through '..' or a symlink)", id, root);
  if (fd < 0)
    return ferry_error(err, "volume '%s' under '%s': %s", id, root,
                       strerror(err));
  return fd;
}

/* One writer per raw file, by QEMU's own image locking (file-posix.c):
 * shared OFD locks on byte 100 + i for each permission i held and 200 + i
 * for each one not shared with others. A writer holds read (0) and write
 * (1) and shares neither write nor resize (3). So a second ferry, qemu-nbd
 * or a VM on the same file is refused, and ferry is refused while one of
 * those writes. */
#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200

static int ofd_lock(int fd, short type, off_t byte, bool test)
{
  struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte,
                      .l_len = 1 };
  if (fcntl(fd, test ? F_OFD_GETLK : F_OFD_SETLK, &fl) < 0)
    return -errno;
  return test && fl.l_type != F_UNLCK ? -EBUSY : 0;
}

static int try_lock_for_writing(int fd)
{
  static const int held[] = { 0, 1 }, unshared[] = { 1, 3 };
  int r = 0;
  for (size_t i = 0; r == 0 && i < 2; i++)
    r = ofd_lock(fd, F_RDLCK, LOCK_PERM_BASE + held[i], false);
  for (size_t i = 0; r == 0 && i < 2; i++)
    r = ofd_lock(fd, F_RDLCK, LOCK_SHARED_BASE + unshared[i], false);
  /* others that refuse what we hold, or hold what we refuse */
  for (size_t i = 0; r == 0 && i < 2; i++)
    r = ofd_lock(fd, F_WRLCK, LOCK_SHARED_BASE + held[i], true);
  for (size_t i = 0; r == 0 && i < 2; i++)
    r = ofd_lock(fd, F_WRLCK, LOCK_PERM_BASE + unshared[i], true);
  if (r == -EBUSY) { /* let go: two that met here must not both give up */
    for (int b = 0; b < 4; b++) {
      ofd_lock(fd, F_UNLCK, LOCK_PERM_BASE + b, false);
      ofd_lock(fd, F_UNLCK, LOCK_SHARED_BASE + b, false);
    }
  }
  return r;
}

static int lock_for_writing(int fd, const char *path)
{
  int r = try_lock_for_writing(fd);
  /* Two writers that set their locks at once see each other: each backs
   * off for a random moment, so that one of them gets through. */
  unsigned seed = (unsigned)getpid() ^ (unsigned)(uintptr_t)&r;
  for (int tries = 0; r == -EBUSY && tries < 8; tries++) {
    nanosleep(&(struct timespec){ 0, (10 + rand_r(&seed) % 90) * 1000000L },
              NULL);
    r = try_lock_for_writing(fd);
  }
  if (r == -EBUSY)
    return ferry_error(EBUSY, "%s is in use: another process (a ferry sync, "
                       "qemu-nbd or a VM) writes to it or does not let it be "
                       "written", path);
  if (r < 0 && r != -EINVAL && r != -ENOLCK) /* no OFD locks there: go on */
    return ferry_error(-r, "%s: lock: %s", path, strerror(-r));
  return 0;
}

static void file_identity(const struct stat *st, char *buf, size_t len)
{
  snprintf(buf, len, "file:%ju:%ju", (uintmax_t)st->st_dev,
           (uintmax_t)st->st_ino);
}

/* Whether the image at path names other files, read by qemu-img with
 * the format fixed (so the check itself follows nothing). */
static int names_other_files(const char *path, const char *fmt, char *what,
                             size_t len)
{
  char f[32];
  snprintf(f, sizeof f, "%s", fmt);
  char *argv[] = { "qemu-img", "info", "-U", "-f", f, "--output=json",
                   (char *)path, NULL };
  char *text;
  int r = run_command(argv, &text);
  if (r < 0)
    return r;
  json_object *j = json_tokener_parse(text), *b, *fs, *data, *df;
  free(text);
  what[0] = '\0';
  if (j && json_object_object_get_ex(j, "backing-filename", &b))
    snprintf(what, len, "backing file %s", json_object_get_string(b));
  else if (j && json_object_object_get_ex(j, "format-specific", &fs) &&
           json_object_object_get_ex(fs, "data", &data) &&
           json_object_object_get_ex(data, "data-file", &df))
    snprintf(what, len, "data file %s", json_object_get_string(df));
  json_object_put(j);
  return 0;
}

int file_volume_open(const char *root, const char *id, const char *format,
                     int mode, struct ferry_volume **out)
{
  if (!*id)
    return ferry_error(EINVAL, "volume id is empty");
  if (bad_name_char(id))
    return ferry_error(EINVAL, "volume id has a control character");
  int fd = open_beneath(root, id, mode == FERRY_OPEN_WRITE ? O_RDWR : O_RDONLY);
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
    close(fd);
    return ferry_error(EINVAL, "volume '%s' is not a regular file or block "
                       "device", id);
  }
  char path[PATH_MAX], link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t pl = readlink(link, path, sizeof path - 1);
  if (pl < 0)
    snprintf(path, sizeof path, "%s", id);
  else
    path[pl] = '\0';

  const char *fmt = format && strcmp(format, "raw") ? format : NULL;
  if (!format) {
    unsigned char head[512];
    ssize_t hn = pread(fd, head, sizeof head, 0);
    fmt = hn > 0 ? probe_format(head, hn) : NULL;
    char other[PATH_MAX + 32];
    int r = fmt ? names_other_files(path, fmt, other, sizeof other) : 0;
    if (r == 0 && fmt && *other)
      r = ferry_error(EPERM, "%s looks like a %s image with a %s: ferry "
                      "does not follow the files named by an image whose "
                      "format it guessed (a guest can write such a header "
                      "into a raw disk); serve it with qemu-nbd -f %s and "
                      "sync from its nbd+unix URI", path, fmt, other, fmt);
    if (r < 0) {
      close(fd);
      return r;
    }
  }
  if (fmt) {
    close(fd);
    return nbd_volume_open_image(path, fmt, mode, out);
  }

  int lr = mode == FERRY_OPEN_WRITE ? lock_for_writing(fd, path) : 0;
  if (lr < 0) {
    close(fd);
    return lr;
  }
  struct file_priv *p = calloc(1, sizeof *p);
  struct file_fd *f = calloc(1, sizeof *f);
  struct ferry_volume *v = p && f ? volume_new(&file_ops, path) : NULL;
  if (!v) {
    free(p);
    free(f);
    close(fd);
    return ferry_error(ENOMEM, "out of memory");
  }
  f->fd = fd;
  snprintf(v->format, sizeof v->format, "raw");
  if (mode == FERRY_OPEN_READ) /* a copy reads front to back */
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  f->is_blk = S_ISBLK(st.st_mode);
  atomic_init(&f->refs, 1);
  p->f = f;
  v->priv = p;
  v->writable = mode == FERRY_OPEN_WRITE;
  v->can_multi_conn = v->thread_safe = true;
  v->zero_max = 1ull << 30;
  v->workers = FILE_WORKERS;
  v->gap_max = FILE_READ_GAP;
  if (f->is_blk) {
    uint64_t sz;
    if (ioctl(fd, BLKGETSIZE64, &sz) < 0) {
      int e = errno;
      file_close(v);
      return ferry_error(e, "%s: size: %s", path, strerror(e));
    }
    v->size = sz;
  } else {
    v->size = st.st_size;
  }
  *out = v;
  return 0;
}

/* The file driver: a client's host is its root directory (a path or
 * file:///PATH); a volume id is a path under it that cannot escape it. */
static char *file_uri_path(const char *uri)
{
  const char *p = uri;
  if (!strncmp(p, "file://", 7)) {
    p += 7;
    if (!strncmp(p, "localhost/", 10))
      p += 9;
    if (*p != '/') {
      ferry_error(EINVAL, "'%s': a file URI needs an absolute path "
                  "(file:///PATH)", uri);
      return NULL;
    }
    if (strpbrk(p, "?#")) { /* a name's own '?' is written %3F */
      ferry_error(EINVAL, "'%s': a file URI takes no query or fragment",
                  uri);
      return NULL;
    }
    char *d = uri_decode(p, strlen(p));
    if (!d)
      ferry_error(EINVAL, "'%s': bad %%-escape", uri);
    return d;
  }
  char *d = strdup(p);
  if (!d)
    ferry_error(ENOMEM, "out of memory");
  return d;
}

static int file_open(struct ferry_client *fc, const char *uri,
                     const struct ferry_auth *auth, unsigned flags)
{
  (void)auth;
  (void)flags;
  char *root = file_uri_path(uri);
  if (!root)
    return -ferry_last_errno();
  struct stat st;
  int r = 0;
  if (stat(root, &st) < 0)
    r = ferry_error(errno, "%s", strerror(errno));
  else if (!S_ISDIR(st.st_mode))
    r = ferry_error(ENOTDIR, "not a directory");
  if (r < 0) {
    free(root);
    return r;
  }
  fc->priv = root;
  return 0;
}

static void file_client_close(struct ferry_client *fc)
{
  free(fc->priv);
  fc->priv = NULL;
}

/* A path (relative ones from the current directory) or file:///PATH: the
 * client's root is / and the volume is the absolute path. */
static int file_endpoint(const char *arg, char **client_uri, char **volume)
{
  char *path = file_uri_path(arg);
  if (path && path[0] != '/') {
    char cwd[PATH_MAX], *abs = NULL;
    if (!getcwd(cwd, sizeof cwd)) {
      ferry_error(errno, "getcwd: %s", strerror(errno));
    } else if (asprintf(&abs, "%s/%s", cwd, path) < 0) {
      abs = NULL;
      ferry_error(ENOMEM, "out of memory");
    }
    free(path);
    path = abs;
  }
  if (!path)
    return -ferry_last_errno();
  if (!(*client_uri = strdup("/"))) {
    free(path);
    return ferry_error(ENOMEM, "out of memory");
  }
  *volume = path;
  return 0;
}

static int file_open_volume(struct ferry_client *fc, const char *id, int mode,
                            struct ferry_volume **out)
{
  return file_volume_open(fc->priv, id, NULL, mode, out);
}

static int file_identify(struct ferry_client *fc, const char *id, char *buf,
                         size_t len)
{
  int fd = *id ? open_beneath(fc->priv, id, O_PATH) : -EINVAL;
  if (fd < 0)
    return fd;
  struct stat st;
  int r = fstat(fd, &st);
  close(fd);
  if (r < 0)
    return -errno;
  file_identity(&st, buf, len);
  return 0;
}

static const char *const file_schemes[] = { "file", "", NULL };
static const struct ferry_driver_option file_options[] = { { NULL, NULL } };

const struct ferry_driver file_driver = {
  .info = {
    .name = "file",
    .description = "local files and block devices",
    .uri_help = "PATH or file:///PATH",
    .schemes = file_schemes,
    .options = file_options,
    .features = FERRY_FEATURE_READ_VOLUMES | FERRY_FEATURE_WRITE_VOLUMES,
  },
  .type = CLIENT_FILE,
  .own_query = true, /* a path's '?' is part of its name */
  .open = file_open,
  .close = file_client_close,
  .endpoint = file_endpoint,
  .open_volume = file_open_volume,
  .identify = file_identify,
};
