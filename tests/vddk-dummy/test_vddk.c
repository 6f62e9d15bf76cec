/* ferry's VDDK backend (lib/platforms/vmware/vddk.c) against the dummy
 * libvixDiskLib.so built beside this test, which serves a sparse local file
 * as "[LocalDS_0] vm1/disk1.vmdk" and logs every call it gets.
 *
 * Usage: test_vddk /path/to/build/tests/vddk-dummy/libvixDiskLib.so */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ferry/error.h>
#include <ferry/volume.h>

#include "../../lib/core/extent.h"
#include "../../lib/sync/engine.h"
#include "../../lib/platforms/vmware/vddk.h"
#include "../../lib/volume/volume.h"
#include "../unit/check.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
/* Over 1 GiB, so extents take two queries; three sectors past a whole
 * 64 KiB chunk, so the tail is a partial chunk. */
#define DISK_SIZE (GiB + 64 * MiB + 1536)
#define H (FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO)

static const char PASSWORD[] = "s3cret-Pa55";
static const char USER[] = "administrator@vsphere.local";
static const char THUMB[] =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD";

static char tmp[PATH_MAX], ds[PATH_MAX], disk[PATH_MAX], logpath[PATH_MAX];
static char dummy_dir[PATH_MAX], root_dir[PATH_MAX];
static int disk_fd;

/* Where the disk holds data; everything else is a hole. */
static const struct { uint64_t off, len; } written[] = {
  { 0, 4096 },
  { MiB + 100, 5000 },
  { 3 * MiB, 128 * KiB },
  { GiB - 4096, 8192 }, /* across the boundary of the two queries */
  { DISK_SIZE - 512, 512 },
};

static unsigned char pattern(uint64_t o)
{
  return (unsigned char)((o * 2654435761u >> 7) % 251 + 1); /* never 0 */
}

static void make_disk(void)
{
  char dir[PATH_MAX + 8];
  snprintf(dir, sizeof dir, "%s/vm1", ds);
  CHECK(mkdir(ds, 0700) == 0 && mkdir(dir, 0700) == 0);
  snprintf(disk, sizeof disk, "%s/disk1-flat.vmdk", dir);
  int fd = open(disk, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, DISK_SIZE) == 0);
  for (size_t i = 0; i < sizeof written / sizeof *written; i++) {
    unsigned char *b = malloc(written[i].len);
    CHECK(b);
    for (uint64_t k = 0; k < written[i].len; k++)
      b[k] = pattern(written[i].off + k);
    CHECK(pwrite(fd, b, written[i].len, written[i].off) ==
          (ssize_t)written[i].len);
    free(b);
  }
  CHECK(fsync(fd) == 0);
  disk_fd = fd;
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return strdup("");
  char *s = NULL;
  size_t n = 0;
  CHECK(getdelim(&s, &n, '\0', f) >= 0 || feof(f));
  fclose(f);
  return s ? s : strdup("");
}

/* Lines of the dummy's log that start with prefix. */
static int log_count(const char *prefix)
{
  char *s = slurp(logpath);
  int n = 0;
  size_t pl = strlen(prefix);
  for (char *line = s; *line;) {
    if (strncmp(line, prefix, pl) == 0)
      n++;
    char *nl = strchr(line, '\n');
    if (!nl)
      break;
    line = nl + 1;
  }
  free(s);
  return n;
}

static void check_log_has(const char *sub)
{
  char *s = slurp(logpath);
  CHECK_HAS(s, sub);
  free(s);
}

static struct vddk_params good_params(void)
{
  return (struct vddk_params){
    .libdir = root_dir,
    .major = "7",
    .minor = "0",
    .server = "127.0.0.1",
    .username = USER,
    .password = PASSWORD,
    .thumbprint = THUMB,
    .vm_moref = "vm-42",
    .snapshot_moref = "snapshot-7",
    .disk_path = "[LocalDS_0] vm1/disk1.vmdk",
    .transports = "nbd:nbdssl",
  };
}

/* The message of a failed open names no password. */
static const char *open_fails(const struct vddk_params *p, int err)
{
  struct ferry_volume *v = (struct ferry_volume *)1;
  int r = vddk_volume_open(p, &v);
  if (r != -err)
    fprintf(stderr, "open: %d (%s), wanted %d\n", r,
            ferry_last_error() ? ferry_last_error() : "", -err);
  CHECK(r == -err);
  CHECK(v == NULL);
  const char *msg = ferry_last_error();
  CHECK(msg && !strstr(msg, PASSWORD));
  if (p->password)
    CHECK(!strstr(msg, p->password));
  return msg;
}

static void check_read(struct ferry_volume *v, uint64_t off, size_t len)
{
  unsigned char *got = malloc(len + 1), *want = malloc(len + 1);
  CHECK(got && want);
  memset(got, 0xEE, len);
  if (ferry_volume_pread(v, got, len, off) != 0) {
    fprintf(stderr, "pread %zu at %" PRIu64 ": %s\n", len, off,
            ferry_last_error());
    CHECK(!"pread failed");
  }
  CHECK(pread(disk_fd, want, len, off) == (ssize_t)len);
  if (memcmp(got, want, len) != 0) {
    fprintf(stderr, "read of %zu at %" PRIu64 " differs from the file\n", len,
            off);
    CHECK(!"read mismatch");
  }
  free(got);
  free(want);
}

struct ext {
  uint64_t off, len;
  unsigned flags;
};

static void check_extents(struct ferry_volume *v, uint64_t off, uint64_t len,
                          const struct ext *want, size_t n)
{
  struct ferry_extent_info *e = NULL;
  size_t ne = 0;
  if (ferry_volume_extents(v, off, len, &e, &ne) != 0) {
    fprintf(stderr, "extents: %s\n", ferry_last_error());
    CHECK(!"extents failed");
  }
  bool same = ne == n;
  for (size_t i = 0; same && i < n; i++)
    same = e[i].offset == want[i].off && e[i].length == want[i].len &&
           e[i].flags == want[i].flags;
  if (!same) {
    fprintf(stderr, "extents of [%" PRIu64 ", +%" PRIu64 "):\n", off, len);
    for (size_t i = 0; i < ne; i++)
      fprintf(stderr, "  got  %" PRIu64 " +%" PRIu64 " flags %u\n",
              e[i].offset, e[i].length, e[i].flags);
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, "  want %" PRIu64 " +%" PRIu64 " flags %u\n",
              want[i].off, want[i].len, want[i].flags);
  }
  CHECK(same);
  free(e);
}

static const struct ext whole_map[] = {
  { 0, 64 * KiB, 0 },
  { 64 * KiB, MiB - 64 * KiB, H },
  { MiB, 64 * KiB, 0 },
  { MiB + 64 * KiB, 2 * MiB - 64 * KiB, H },
  { 3 * MiB, 128 * KiB, 0 },
  { 3 * MiB + 128 * KiB, GiB - 64 * KiB - 3 * MiB - 128 * KiB, H },
  { GiB - 64 * KiB, 128 * KiB, 0 },
  { GiB + 64 * KiB, 64 * MiB - 64 * KiB, H },
  { GiB + 64 * MiB, 1536, 0 }, /* the partial chunk at the end */
};

static void test_volume(struct ferry_volume *v)
{
  CHECK(ferry_volume_size(v) == (int64_t)DISK_SIZE);
  CHECK_HAS(ferry_volume_name(v),
            "vddk://127.0.0.1/vm-42@snapshot-7/[LocalDS_0] vm1/disk1.vmdk");
  CHECK(!v->thread_safe && !v->writable && !v->ops->clone);

  /* Aligned, unaligned, across holes and at the end. */
  static const struct { uint64_t off; size_t len; } reads[] = {
    { 0, 4096 }, { 0, 1 }, { 100, 1000 }, { 511, 2 }, { 512, 512 },
    { MiB + 99, 5003 }, { MiB - 700, 66000 }, { 3 * MiB + 512, 127 * KiB },
    { GiB - 5000, 10000 }, { 12345, 4 * MiB + 17 }, { 0, 20 * MiB },
    { DISK_SIZE - 700, 700 }, { DISK_SIZE - 1, 1 }, { DISK_SIZE - 1536, 1536 },
    { DISK_SIZE - 3 * MiB - 3, 3 * MiB + 3 },
  };
  for (size_t i = 0; i < sizeof reads / sizeof *reads; i++)
    check_read(v, reads[i].off, reads[i].len);
  unsigned char b[4];
  /* refused before the backend (as on every backend), and by it */
  CHECK(ferry_volume_pread(v, b, 2, DISK_SIZE - 1) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "goes past its end");
  CHECK(v->ops->pread(v, b, 1, DISK_SIZE) == -EIO);
  CHECK_HAS(ferry_last_error(), "past the end");

  /* Read-only, whichever way it is asked. */
  CHECK(ferry_volume_pwrite(v, b, 1, 0) == -EROFS);
  CHECK_HAS(ferry_last_error(), "read-only");
  CHECK(ferry_volume_zero(v, 512, 0) == -EROFS);
  /* the volume layer refuses writes: the backend has no write path */
  CHECK(v->ops->pwrite == NULL && v->ops->zero == NULL);
  struct vio io = { .op = VIO_WRITE, .buf = b, .len = 512 };
  CHECK(volume_io_blocking(v, &io) == -EROFS && io.err == EROFS);
  CHECK(ferry_volume_flush(v) == 0);

  /* The allocation map: 64 KiB chunks, holes read as zeroes. */
  check_extents(v, 0, DISK_SIZE, whole_map,
                sizeof whole_map / sizeof *whole_map);
  const struct ext part[] = {
    { MiB - 1000, 1000, H },
    { MiB, 64 * KiB, 0 },
    { MiB + 64 * KiB, 70000 - 1000 - 64 * KiB, H },
  };
  check_extents(v, MiB - 1000, 70000, part, 3);
  const struct ext tail[] = { { DISK_SIZE - 1000, 1000, 0 } };
  check_extents(v, DISK_SIZE - 1000, 1000, tail, 1);
  const struct ext hole[] = { { 2 * MiB + 7, 3, H } };
  check_extents(v, 2 * MiB + 7, 3, hole, 1);
}

/* Copies the disk to a file with the engine (what ferry_sync_ex runs once
 * both volumes are open; it takes client_t handles, and no client opens
 * VDDK volumes yet). */
static void test_sync(struct ferry_volume *src)
{
  char dest[PATH_MAX + 16];
  snprintf(dest, sizeof dest, "%s/dest.img", tmp);
  int fd = open(dest, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, DISK_SIZE) == 0);
  struct ferry_volume *dst;
  CHECK(file_volume_open(tmp, "dest.img", "raw", FERRY_OPEN_WRITE, &dst) == 0);

  struct extent_list ranges = { 0 };
  struct plan plan = { 0 };
  CHECK(extent_list_push(&ranges, 0, DISK_SIZE) == 0);
  CHECK(plan_build(&plan, src, dst, &ranges, false, 5, 100) == 0);
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_ALLOCATED;
  o.request_size = 2 * MiB;
  o.requests = 4;
  o.retries = 5;
  o.retry_delay_ms = 100;
  o.memory = FERRY_SYNC_DEFAULT_MEMORY;
  o.verify = true;
  struct ferry_sync_stats st = { 0 };
  int r = engine_run(src, dst, &plan, &ranges, &o, &st);
  if (r != 0)
    fprintf(stderr, "engine_run: %s\n", ferry_last_error());
  CHECK(r == 0);
  CHECK(st.workers == 1); /* VDDK handles stay in one thread */
  /* Only the allocated chunks were read and written. */
  uint64_t data = 0;
  for (size_t i = 0; i < sizeof whole_map / sizeof *whole_map; i++)
    if (!whole_map[i].flags)
      data += whole_map[i].len;
  CHECK(st.copied_bytes == data);
  CHECK(st.verified_bytes == DISK_SIZE);
  plan_free(&plan);
  extent_list_free(&ranges);
  ferry_volume_close(dst);

  /* Byte for byte the same. */
  size_t bl = 8 * MiB;
  unsigned char *a = malloc(bl), *b = malloc(bl);
  CHECK(a && b);
  for (uint64_t off = 0; off < DISK_SIZE; off += bl) {
    size_t n = DISK_SIZE - off < bl ? DISK_SIZE - off : bl;
    CHECK(pread(disk_fd, a, n, off) == (ssize_t)n);
    CHECK(pread(fd, b, n, off) == (ssize_t)n);
    CHECK(memcmp(a, b, n) == 0);
  }
  free(a);
  free(b);
  close(fd);
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* Removes the work dir, also when a check fails. */
static void cleanup(void)
{
  if (tmp[0])
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
  CHECK(argc == 2);
  char dummy[PATH_MAX];
  CHECK(realpath(argv[1], dummy)); /* meson passes it relative */
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", dummy);
  snprintf(dummy_dir, sizeof dummy_dir, "%s", dirname(copy));
  const char *td = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/ferry-vddk-XXXXXX", td && *td ? td : "/tmp");
  if (!mkdtemp(tmp)) {
    tmp[0] = '\0';
    CHECK(!"mkdtemp");
  }
  atexit(cleanup);
  snprintf(ds, sizeof ds, "%s/ds", tmp);
  snprintf(logpath, sizeof logpath, "%s/calls.log", tmp);
  make_disk();
  char dsv[PATH_MAX + 32];
  snprintf(dsv, sizeof dsv, "Other=/nonexistent,LocalDS_0=%s", ds);
  setenv("FERRY_VDDK_DUMMY_DATASTORES", dsv, 1);
  setenv("FERRY_VDDK_DUMMY_USER", USER, 1);
  setenv("FERRY_VDDK_DUMMY_PASSWORD", PASSWORD, 1);
  setenv("FERRY_VDDK_DUMMY_THUMBPRINT", THUMB, 1);
  setenv("FERRY_VDDK_DUMMY_LOG", logpath, 1);
  unsetenv("FERRY_VDDK_DUMMY_NO_QUERY");

  /* VDDK's tarball layout: <root>/lib64/libvixDiskLib.so. */
  snprintf(root_dir, sizeof root_dir, "%s/vmware-vix-disklib-distrib", tmp);
  char lib64[PATH_MAX + 64];
  snprintf(lib64, sizeof lib64, "%s/lib64", root_dir);
  CHECK(mkdir(root_dir, 0700) == 0 && mkdir(lib64, 0700) == 0);
  strcat(lib64, "/libvixDiskLib.so");
  CHECK(symlink(dummy, lib64) == 0);
  CHECK(vddk_available(root_dir));
  CHECK(vddk_available(dummy_dir));
  CHECK(!vddk_available(tmp));
  CHECK(!vddk_available(NULL));

  /* Nothing to load: the message names the place and what dlopen said. */
  struct vddk_params p = good_params();
  char missing[PATH_MAX + 16];
  snprintf(missing, sizeof missing, "%s/no-such-vddk", tmp);
  p.libdir = missing;
  const char *msg = open_fails(&p, ENOENT);
  CHECK_HAS(msg, "cannot load VDDK from");
  CHECK_HAS(msg, missing);
  CHECK_HAS(msg, "libvixDiskLib.so: cannot open shared object file");
  p = good_params();
  p.server = NULL;
  CHECK_HAS(open_fails(&p, EINVAL), "server is not given");
  /* A bad version stops InitEx, which a later open then runs. */
  p = good_params();
  p.major = "seven";
  CHECK_HAS(open_fails(&p, EINVAL), "'seven' is not a number");
  CHECK(log_count("InitEx") == 0);

  /* The first open initialises VDDK with its version and directory. */
  p = good_params();
  struct ferry_volume *v1, *v2;
  int r = vddk_volume_open(&p, &v1);
  if (r)
    fprintf(stderr, "open: %s\n", ferry_last_error());
  CHECK(r == 0);
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "InitEx 7 0 libdir=%s config=-\n", root_dir);
  check_log_has(want);
  CHECK_HAS(vddk_volume_transport(v1), "nbd");
  CHECK(strcmp(vddk_volume_transport(v1), "nbd") == 0);
  test_volume(v1);

  /* A second volume at once, through the library's own directory (the
   * same library) and another version: no second InitEx. */
  p.libdir = dummy_dir;
  p.major = "8";
  p.transports = NULL;
  CHECK(vddk_volume_open(&p, &v2) == 0);
  CHECK(strcmp(vddk_volume_transport(v2), "nbdssl") == 0);
  check_read(v2, MiB, 8192);
  check_read(v1, 3 * MiB, 8192);
  ferry_volume_close(v1);
  check_read(v2, 0, 4096);
  ferry_volume_close(v2);
  CHECK(log_count("InitEx") == 1);
  CHECK(log_count("Exit") == 0);

  /* What the server saw: the snapshot, thumbprint and user, read-only
   * everywhere, whole chunks asked for, never the password. */
  snprintf(want, sizeof want, "ConnectEx server=127.0.0.1 port=443 "
           "vmx=moref=vm-42 snapshot=snapshot-7 thumbprint=%s user=%s "
           "readonly=1 transports=nbd:nbdssl\n", THUMB, USER);
  check_log_has(want);
  check_log_has("\nOpen [LocalDS_0] vm1/disk1.vmdk flags=4\n");
  check_log_has("\nQueryAllocatedBlocks 0 2097152 128 blocks=4\n");
  check_log_has("\nQueryAllocatedBlocks 2097152 131072 128 blocks=1\n");
  CHECK(log_count("ConnectEx") == 2 && log_count("Disconnect") == 2);
  CHECK(log_count("Open") == 2 && log_count("Close") == 2);
  CHECK(log_count("AllocateConnectParams") == 2);
  CHECK(log_count("FreeConnectParams") == 2);
  char *all = slurp(logpath);
  CHECK(!strstr(all, PASSWORD));
  free(all);

  /* A server with another certificate: VDDK's text and code, no password. */
  p = good_params();
  p.thumbprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33";
  msg = open_fails(&p, EIO);
  CHECK_HAS(msg, "VDDK VixDiskLib_ConnectEx: SSL verification failed: the "
            "host thumbprint does not match (error 18500)");
  CHECK_HAS(msg, "vddk://127.0.0.1/vm-42@snapshot-7/");
  /* A wrong password. */
  p = good_params();
  p.password = "wrong-Pa55word";
  CHECK_HAS(open_fails(&p, EHOSTUNREACH), "VDDK VixDiskLib_ConnectEx: "
            "Cannot connect to host (error 18000)");
  p = good_params();
  p.username = "root";
  open_fails(&p, EHOSTUNREACH);
  /* A disk or datastore that is not there. */
  p = good_params();
  p.disk_path = "[LocalDS_0] vm1/nope.vmdk";
  CHECK_HAS(open_fails(&p, ENOENT), "VDDK VixDiskLib_Open: The file was not "
            "found (error 4)");
  p.disk_path = "[NoSuchDS] vm1/disk1.vmdk";
  open_fails(&p, ENOENT);
  CHECK(log_count("ConnectEx") == 7);
  CHECK(log_count("Disconnect") == 4); /* the connections that were made */

  /* A library that cannot tell allocation: all data. */
  setenv("FERRY_VDDK_DUMMY_NO_QUERY", "1", 1);
  p = good_params();
  CHECK(vddk_volume_open(&p, &v1) == 0);
  const struct ext all_data[] = { { 0, DISK_SIZE, 0 } };
  check_extents(v1, 0, DISK_SIZE, all_data, 1);
  const struct ext some_data[] = { { MiB + 3, 4096, 0 } };
  check_extents(v1, MiB + 3, 4096, some_data, 1);
  ferry_volume_close(v1);
  unsetenv("FERRY_VDDK_DUMMY_NO_QUERY");

  /* Another copy of VDDK cannot join the one loaded. */
  char other[PATH_MAX + 16], cmd[3 * PATH_MAX];
  snprintf(other, sizeof other, "%s/other-vddk", tmp);
  snprintf(cmd, sizeof cmd, "mkdir '%s' && cp '%s' '%s/'", other, dummy,
           other);
  CHECK(system(cmd) == 0);
  p = good_params();
  p.libdir = other;
  CHECK_HAS(open_fails(&p, EBUSY), "VDDK is loaded from");

  /* A copy to a file with the engine. */
  p = good_params();
  CHECK(vddk_volume_open(&p, &v1) == 0);
  test_sync(v1);

  /* VixDiskLib_Exit only once nothing is open, and for good. */
  CHECK(vddk_shutdown() == -EBUSY);
  ferry_volume_close(v1);
  CHECK(log_count("Exit") == 0);
  CHECK(vddk_shutdown() == 0);
  CHECK(log_count("Exit") == 1);
  CHECK(vddk_shutdown() == 0);
  CHECK(log_count("Exit") == 1);
  CHECK_HAS(open_fails(&p, ESHUTDOWN), "shut down");
  CHECK(log_count("InitEx") == 1);

  close(disk_fd);
  printf("vddk: ok\n");
  return 0;
}
