/* VMware VDDK as a read-only volume; see vddk.h.
 *
 * libvixDiskLib.so is loaded with dlopen() (as lib/volume/nbd_lib.c loads
 * libnbd) and used the way VMware's programming guide and nbdkit's vddk
 * plugin use it: InitEx once per process, then per disk ConnectEx, Open,
 * GetInfo, Read and QueryAllocatedBlocks, Close and Disconnect. VDDK's
 * connect, open, close and disconnect calls are not safe to run in
 * parallel, so they run under one process-wide lock; a disk handle is used
 * by one thread at a time (the volume is not thread_safe).
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/error.h"
#include "../../core/secret.h"
#include "vddk.h"
#include "vddk_abi.h"
#include "../../volume/volume.h"

#define SECTOR VIXDISKLIB_SECTOR_SIZE
/* Allocation is asked for in 64 KiB chunks, over at most 1 GiB a call. */
#define CHUNK_SECTORS ((uint64_t)VIXDISKLIB_MIN_CHUNK_SIZE)
#define CHUNK_BYTES (CHUNK_SECTORS * SECTOR)
#define QUERY_CHUNKS ((1ull << 30) / CHUNK_BYTES)
/* At most 16 MiB a VixDiskLib_Read. */
#define READ_MAX_SECTORS ((16u << 20) / SECTOR)

_Static_assert(QUERY_CHUNKS <= VIXDISKLIB_MAX_CHUNK_NUMBER, "query size");

/* The functions: required ones first, then those VDDK 6.7 added. */
#define VDDK_REQUIRED(X)                                                      \
  X(InitEx) X(Exit) X(ConnectEx) X(Disconnect) X(Open) X(Close) X(GetInfo)    \
  X(FreeInfo) X(Read) X(Write) X(GetErrorText) X(FreeErrorText)               \
  X(GetTransportMode)
#define VDDK_OPTIONAL(X)                                                      \
  X(QueryAllocatedBlocks) X(FreeBlockList) X(AllocateConnectParams)           \
  X(FreeConnectParams)

struct vddk_lib {
#define VDDK_MEMBER(f) VixDiskLib_##f##_fn *f;
  VDDK_REQUIRED(VDDK_MEMBER)
  VDDK_OPTIONAL(VDDK_MEMBER)
#undef VDDK_MEMBER
};

/* The process's VDDK, under lock: loaded once and kept loaded. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *lib_handle;
static char lib_path[PATH_MAX];
static struct vddk_lib lib;
static bool initialized, shut_down;
static unsigned open_volumes;
static bool debug;

struct vddk_priv {
  VixDiskLibConnectParams *params;
  bool params_from_lib;
  char *vmx_spec;
  char *password; /* kept for the life of the connection, wiped at close */
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char *transport;
  bool no_query; /* QueryAllocatedBlocks said it is not supported */
};

static struct vddk_priv *P(const struct ferry_volume *v) { return v->priv; }

/* VDDK's log, warning and panic callbacks: quiet unless FERRY_VDDK_DEBUG
 * is set, except panics, which VDDK follows by aborting. */
static void log_to_stderr(const char *what, const char *fmt, va_list ap)
{
  char msg[2048];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  fprintf(stderr, "ferry: VDDK %s: %s%s", what, msg,
          n && msg[n - 1] == '\n' ? "" : "\n");
}

static void vddk_log(const char *fmt, va_list ap)
{
  if (debug)
    log_to_stderr("log", fmt, ap);
}

static void vddk_warn(const char *fmt, va_list ap)
{
  if (debug)
    log_to_stderr("warning", fmt, ap);
}

static void vddk_panic(const char *fmt, va_list ap)
{
  log_to_stderr("panic", fmt, ap);
}

/* A few codes have an errno that says more than EIO. */
static int vix_errno(VixError err)
{
  switch (VIX_ERROR_CODE(err)) {
  case VIX_E_OUT_OF_MEMORY: return ENOMEM;
  case VIX_E_INVALID_ARG: case VIX_E_DISK_INVAL: return EINVAL;
  case VIX_E_FILE_NOT_FOUND: case VIX_E_OBJECT_NOT_FOUND: return ENOENT;
  case VIX_E_NOT_SUPPORTED: case VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT:
    return ENOTSUP;
  case VIX_E_FILE_READ_ONLY: return EROFS;
  case VIX_E_FILE_ACCESS_ERROR: case VIX_E_AUTHENTICATION_FAIL: return EACCES;
  case VIX_E_CANNOT_CONNECT_TO_HOST: return EHOSTUNREACH;
  case VIX_E_HOST_CONNECTION_LOST: return ECONNRESET;
  case VIX_E_DISK_OUTOFRANGE: return EINVAL;
  default: return EIO;
  }
}

/* Replaces every occurrence of secret in s with "***". Short secrets are
 * left alone: they would match ordinary words. */
static void redact(char *s, const char *secret)
{
  size_t sl = secret ? strlen(secret) : 0;
  if (sl < 3)
    return;
  char *at, *from = s;
  while ((at = strstr(from, secret))) { /* "***" is never longer */
    memmove(at + 3, at + sl, strlen(at + sl) + 1);
    memcpy(at, "***", 3);
    from = at + 3;
  }
}

/* "<name>: VDDK VixDiskLib_<fn>[ <what>]: <VDDK's text> (error N)". */
static int vix_error(const char *name, const char *password, const char *fn,
                     const char *what, VixError err)
{
  char *text = lib.GetErrorText ? lib.GetErrorText(err, NULL) : NULL;
  char msg[1024], code[64];
  if (VIX_ERROR_CODE(err) == err)
    snprintf(code, sizeof code, "%" PRIu64, err);
  else
    snprintf(code, sizeof code, "%" PRIu64 ", 0x%" PRIx64,
             (uint64_t)VIX_ERROR_CODE(err), err);
  snprintf(msg, sizeof msg, "%s%sVDDK VixDiskLib_%s%s%s: %s (error %s)",
           name ? name : "", name ? ": " : "", fn, what ? " " : "",
           what ? what : "", text && *text ? text : "unknown error", code);
  if (text)
    lib.FreeErrorText(text);
  redact(msg, password);
  return ferry_error(vix_errno(err), "%s", msg);
}

/* The places libvixDiskLib.so may be under dir, in the order tried: the
 * plain name, then the versioned names VDDK 6 to 9 ship. */
static const char *const lib_names[] = {
  "libvixDiskLib.so",       "lib64/libvixDiskLib.so",
  "libvixDiskLib.so.9",     "lib64/libvixDiskLib.so.9",
  "libvixDiskLib.so.8",     "lib64/libvixDiskLib.so.8",
  "libvixDiskLib.so.7",     "lib64/libvixDiskLib.so.7",
  "libvixDiskLib.so.6",     "lib64/libvixDiskLib.so.6",
};

/* The first candidate that exists, in buf; false when none does. */
static bool find_lib(const char *dir, char *buf, size_t len)
{
  for (size_t i = 0; i < sizeof lib_names / sizeof *lib_names; i++) {
    snprintf(buf, len, "%s/%s", dir, lib_names[i]);
    if (access(buf, F_OK) == 0)
      return true;
  }
  return false;
}

bool vddk_available(const char *libdir)
{
  char path[PATH_MAX];
  return libdir && *libdir && find_lib(libdir, path, sizeof path);
}

/* Loads the library from libdir, or checks that it is the one loaded
 * already. Under lock. */
static int load(const char *libdir)
{
  char path[PATH_MAX];
  bool found = find_lib(libdir, path, sizeof path);
  if (!found) /* dlopen says why below */
    snprintf(path, sizeof path, "%s/libvixDiskLib.so", libdir);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    if (!found)
      return ferry_error(ENOENT, "cannot load VDDK from '%s': %s (nor is "
                         "there lib64/libvixDiskLib.so or a "
                         "libvixDiskLib.so.N; libdir names the unpacked "
                         "VDDK directory)", libdir, e ? e : "unknown error");
    return ferry_error(ENOTSUP, "cannot load VDDK %s: %s (VDDK's own "
                       "libraries may need LD_LIBRARY_PATH=%s/lib64)", path,
                       e ? e : "unknown error", libdir);
  }
  if (lib_handle) {
    dlclose(h); /* drops the reference this dlopen took */
    if (h == lib_handle)
      return 0;
    return ferry_error(EBUSY, "VDDK is loaded from %s in this process; it "
                       "cannot load another one from %s", lib_path, path);
  }
  struct vddk_lib t;
  memset(&t, 0, sizeof t);
#define VDDK_RESOLVE(f)                                                       \
  if (!(t.f = (VixDiskLib_##f##_fn *)dlsym(h, "VixDiskLib_" #f))) {          \
    dlclose(h);                                                               \
    return ferry_error(ENOTSUP, "%s lacks VixDiskLib_%s: is it VMware's "    \
                       "VDDK?", path, #f);                                    \
  }
  VDDK_REQUIRED(VDDK_RESOLVE)
#undef VDDK_RESOLVE
#define VDDK_RESOLVE_OPT(f)                                                   \
  t.f = (VixDiskLib_##f##_fn *)dlsym(h, "VixDiskLib_" #f);
  VDDK_OPTIONAL(VDDK_RESOLVE_OPT)
#undef VDDK_RESOLVE_OPT
  /* Both halves of a pair, or neither. */
  if (!t.QueryAllocatedBlocks || !t.FreeBlockList)
    t.QueryAllocatedBlocks = NULL, t.FreeBlockList = NULL;
  if (!t.AllocateConnectParams || !t.FreeConnectParams)
    t.AllocateConnectParams = NULL, t.FreeConnectParams = NULL;
  lib = t;
  lib_handle = h; /* stays loaded for the life of the process */
  snprintf(lib_path, sizeof lib_path, "%s", path);
  return 0;
}

static int parse_version(const char *s, uint32_t dflt, const char *what,
                         uint32_t *out)
{
  if (!s) {
    *out = dflt;
    return 0;
  }
  char *end;
  errno = 0;
  unsigned long n = strtoul(s, &end, 10);
  if (!*s || *s == '-' || *s == '+' || *end || errno || n > 1000)
    return ferry_error(EINVAL, "VDDK %s version '%s' is not a number", what,
                       s);
  *out = n;
  return 0;
}

/* VixDiskLib_InitEx, once per process. Under lock. */
static int init(const struct vddk_params *p)
{
  if (initialized)
    return 0;
  uint32_t major, minor;
  int r;
  if ((r = parse_version(p->major, 6, "major", &major)) < 0 ||
      (r = parse_version(p->minor, 7, "minor", &minor)) < 0)
    return r;
  /* VDDK finds its plugins under the directory it was unpacked in. */
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", p->libdir);
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    dir[--n] = '\0';
  if (n > 6 && strcmp(dir + n - 6, "/lib64") == 0)
    dir[n - 6] = '\0';
  debug = p->debug;
  VixError err = lib.InitEx(major, minor, vddk_log, vddk_warn, vddk_panic,
                            dir, NULL);
  if (err != VIX_OK)
    return vix_error(NULL, NULL, "InitEx", NULL, err);
  initialized = true;
  return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
  char *d = s ? strdup(s) : NULL;
  if (s && !d)
    *oom = true;
  return d;
}

/* Frees the parameters and the strings ferry put in them. */
static void free_params(struct vddk_priv *pr)
{
  VixDiskLibConnectParams *cp = pr->params;
  if (!cp)
    return;
  free(cp->serverName);
  free(cp->thumbPrint);
  free(cp->creds.uid.userName);
  cp->vmxSpec = cp->serverName = cp->thumbPrint = NULL;
  cp->creds.uid.userName = cp->creds.uid.password = NULL;
  if (pr->params_from_lib)
    lib.FreeConnectParams(cp);
  else
    free(cp);
  pr->params = NULL;
}

static void priv_free(struct vddk_priv *pr)
{
  if (!pr)
    return;
  free_params(pr);
  free(pr->vmx_spec);
  secret_free(pr->password);
  free(pr->transport);
  free(pr);
}

/* Closes the disk and the connection. Under lock. */
static void disconnect(struct vddk_priv *pr)
{
  if (pr->h)
    lib.Close(pr->h);
  if (pr->conn)
    lib.Disconnect(pr->conn);
  pr->h = pr->conn = NULL;
}

/* ns sectors from sector into buf. */
static int read_sectors(struct ferry_volume *v, uint64_t sector, uint64_t ns,
                        void *buf)
{
  VixError err = lib.Read(P(v)->h, sector, ns, buf);
  if (err == VIX_OK)
    return 0;
  char what[128];
  snprintf(what, sizeof what, "of %" PRIu64 " sector%s at sector %" PRIu64,
           ns, ns == 1 ? "" : "s", sector);
  return vix_error(v->name, P(v)->password, "Read", what, err);
}

static int vddk_pread(struct ferry_volume *v, void *buf, size_t len,
                      uint64_t off)
{
  uint64_t size = v->size;
  if (off > size || len > size - off)
    return ferry_error(EIO, "%s: read of %zu bytes at offset %" PRIu64
                       " goes past the end of the disk (%" PRIu64 " bytes)",
                       v->name, len, off, size);
  unsigned char *p = buf, bounce[SECTOR];
  int r;
  /* A partial first sector through a bounce buffer. */
  if (off % SECTOR && len) {
    uint64_t skip = off % SECTOR, n = SECTOR - skip < len ? SECTOR - skip
                                                          : len;
    if ((r = read_sectors(v, off / SECTOR, 1, bounce)) < 0)
      return r;
    memcpy(p, bounce + skip, n);
    p += n, off += n, len -= n;
  }
  /* Whole sectors straight into the caller's buffer. */
  while (len >= SECTOR) {
    uint64_t ns = len / SECTOR < READ_MAX_SECTORS ? len / SECTOR
                                                  : READ_MAX_SECTORS;
    if ((r = read_sectors(v, off / SECTOR, ns, p)) < 0)
      return r;
    p += ns * SECTOR, off += ns * SECTOR, len -= ns * SECTOR;
  }
  /* A partial last sector. */
  if (len) {
    if ((r = read_sectors(v, off / SECTOR, 1, bounce)) < 0)
      return r;
    memcpy(p, bounce, len);
  }
  return 0;
}

static int cmp_extent(const void *a, const void *b)
{
  const struct ferry_extent *x = a, *y = b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Appends the map of [pos, piece_end) from one QueryAllocatedBlocks
 * answer: its blocks as data, the gaps as holes that read as zeroes. */
static int add_blocks(struct extent_map *m, const VixDiskLibBlockList *bl,
                      uint64_t pos, uint64_t piece_end)
{
  size_t n = 0;
  struct ferry_extent *d = NULL;
  if (bl->numBlocks && !(d = malloc(bl->numBlocks * sizeof *d)))
    return ferry_error(ENOMEM, "out of memory for an allocation map");
  for (size_t i = 0; i < bl->numBlocks; i++) /* sectors to bytes */
    if (bl->blocks[i].offset <= UINT64_MAX / SECTOR - bl->blocks[i].length)
      d[n++] = (struct ferry_extent){ bl->blocks[i].offset * SECTOR,
                                      bl->blocks[i].length * SECTOR };
  if (n) /* the library's order is not documented */
    qsort(d, n, sizeof *d, cmp_extent);
  int r = extent_map_add_data(m, pos, piece_end, d, n);
  free(d);
  return r;
}

/* VDDK answers in whole chunks of whole sectors inside the disk: ask for
 * the chunks covering the range, 1 GiB at a time, and cut the answer to
 * the range. A partial chunk at the disk's end is reported as data. */
static int vddk_extents(struct ferry_volume *v, uint64_t off, uint64_t len,
                        struct extent_map *m)
{
  struct vddk_priv *pr = P(v);
  if (!lib.QueryAllocatedBlocks || pr->no_query)
    return extent_map_add(m, off, len, 0);
  uint64_t end = off + len, pos = off;
  uint64_t capacity = (uint64_t)v->size / SECTOR;
  uint64_t s = off / CHUNK_BYTES * CHUNK_SECTORS; /* next sector to ask */
  while (pos < end) {
    uint64_t full = s < capacity ? (capacity - s) / CHUNK_SECTORS : 0;
    if (full == 0) /* the tail of the disk, or past it */
      return extent_map_add(m, pos, end - pos, 0);
    uint64_t want = (end - s * SECTOR + CHUNK_BYTES - 1) / CHUNK_BYTES;
    uint64_t nc = want < full ? want : full;
    if (nc > QUERY_CHUNKS)
      nc = QUERY_CHUNKS;
    VixDiskLibBlockList *bl = NULL;
    VixError err = lib.QueryAllocatedBlocks(pr->h, s, nc * CHUNK_SECTORS,
                                            CHUNK_SECTORS, &bl);
    if (err != VIX_OK) {
      if (bl)
        lib.FreeBlockList(bl);
      unsigned code = VIX_ERROR_CODE(err);
      if (code == VIX_E_NOT_SUPPORTED ||
          code == VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT) {
        pr->no_query = true; /* all data, from here on */
        return extent_map_add(m, pos, end - pos, 0);
      }
      char what[128];
      snprintf(what, sizeof what, "of %" PRIu64 " sectors at sector %" PRIu64,
               nc * CHUNK_SECTORS, s);
      return vix_error(v->name, pr->password, "QueryAllocatedBlocks", what,
                       err);
    }
    uint64_t piece_end = (s + nc * CHUNK_SECTORS) * SECTOR;
    if (piece_end > end)
      piece_end = end;
    int r = bl ? add_blocks(m, bl, pos, piece_end)
               : extent_map_add(m, pos, piece_end - pos,
                                FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
    if (bl)
      lib.FreeBlockList(bl);
    if (r < 0)
      return r;
    pos = piece_end;
    s += nc * CHUNK_SECTORS;
  }
  return 0;
}

static void vddk_close(struct ferry_volume *v)
{
  struct vddk_priv *pr = P(v);
  pthread_mutex_lock(&lock);
  disconnect(pr);
  open_volumes--;
  pthread_mutex_unlock(&lock);
  priv_free(pr);
  volume_free(v);
}

static const struct volume_ops vddk_ops = {
  .kind = "vddk",
  .pread = vddk_pread,
  /* read-only: no pwrite, zero or flush */
  .extents = vddk_extents,
  .close = vddk_close,
};

static int check_params(const struct vddk_params *p)
{
  if (!p)
    return ferry_error(EINVAL, "VDDK: no parameters");
  const char *missing = !p->libdir || !*p->libdir ? "libdir"
                      : !p->server || !*p->server ? "server"
                      : !p->username || !*p->username ? "username"
                      : !p->password ? "password"
                      : !p->vm_moref || !*p->vm_moref ? "vm_moref"
                      : !p->disk_path || !*p->disk_path ? "disk_path" : NULL;
  if (missing)
    return ferry_error(EINVAL, "VDDK: %s is not given", missing);
  if (p->port < 0 || p->port > 65535)
    return ferry_error(EINVAL, "VDDK: port %d is out of range", p->port);
  return 0;
}

/* Fills in the connection parameters. */
static int make_params(const struct vddk_params *p, struct vddk_priv *pr)
{
  bool oom = false;
  if (lib.AllocateConnectParams) {
    pr->params = lib.AllocateConnectParams();
    pr->params_from_lib = pr->params != NULL;
  } else {
    pr->params = calloc(1, sizeof *pr->params);
  }
  if (!pr->params)
    return ferry_error(ENOMEM, "out of memory for VDDK's connection "
                       "parameters");
  VixDiskLibConnectParams *cp = pr->params;
  size_t vl = strlen(p->vm_moref) + sizeof "moref=";
  if ((pr->vmx_spec = malloc(vl)))
    snprintf(pr->vmx_spec, vl, "moref=%s", p->vm_moref);
  else
    oom = true;
  cp->vmxSpec = pr->vmx_spec;
  cp->serverName = dup_or_null(p->server, &oom);
  cp->thumbPrint = dup_or_null(p->thumbprint, &oom);
  cp->credType = VIXDISKLIB_CRED_UID;
  cp->creds.uid.userName = dup_or_null(p->username, &oom);
  pr->password = secret_dup(p->password);
  oom = oom || (p->password && !pr->password);
  cp->creds.uid.password = pr->password;
  cp->port = p->port ? (uint32_t)p->port : 443;
  cp->specType = VIXDISKLIB_SPEC_VMX;
  return oom ? ferry_error(ENOMEM, "out of memory") : 0;
}

/* Connects and opens the disk. Under lock. */
static int connect_open(const struct vddk_params *p, struct ferry_volume *v)
{
  struct vddk_priv *pr = P(v);
  int r = make_params(p, pr);
  if (r < 0)
    return r;
  VixError err = lib.ConnectEx(pr->params, 1, p->snapshot_moref,
                               p->transports, &pr->conn);
  if (err != VIX_OK) {
    pr->conn = NULL;
    return vix_error(v->name, p->password, "ConnectEx", NULL, err);
  }
  err = lib.Open(pr->conn, p->disk_path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                 &pr->h);
  if (err != VIX_OK) {
    pr->h = NULL;
    return vix_error(v->name, p->password, "Open", NULL, err);
  }
  VixDiskLibInfo *info = NULL;
  if ((err = lib.GetInfo(pr->h, &info)) != VIX_OK)
    return vix_error(v->name, p->password, "GetInfo", NULL, err);
  uint64_t capacity = info ? info->capacity : 0;
  if (info)
    lib.FreeInfo(info);
  if (capacity > INT64_MAX / SECTOR)
    return ferry_error(EOVERFLOW, "%s: VDDK reports %" PRIu64 " sectors, "
                       "more than ferry can address", v->name, capacity);
  v->size = (int64_t)(capacity * SECTOR);
  const char *mode = lib.GetTransportMode(pr->h);
  if (mode && !(pr->transport = strdup(mode)))
    return ferry_error(ENOMEM, "out of memory");
  return 0;
}

int vddk_volume_open(const struct vddk_params *p, struct ferry_volume **out)
{
  *out = NULL;
  int r = check_params(p);
  if (r < 0)
    return r;
  char name[1024];
  snprintf(name, sizeof name, "vddk://%s/%s%s%s/%s", p->server, p->vm_moref,
           p->snapshot_moref ? "@" : "", p->snapshot_moref ?
           p->snapshot_moref : "", p->disk_path);
  struct vddk_priv *pr = calloc(1, sizeof *pr);
  struct ferry_volume *v = pr ? volume_new(&vddk_ops, name) : NULL;
  if (!v) {
    free(pr);
    return ferry_error(ENOMEM, "out of memory");
  }
  v->priv = pr;
  snprintf(v->format, sizeof v->format, "vmdk");
  v->writable = false;
  v->can_multi_conn = false;
  v->thread_safe = false;

  pthread_mutex_lock(&lock);
  if (shut_down)
    r = ferry_error(ESHUTDOWN, "VDDK was shut down in this process and "
                    "cannot be started again");
  else if ((r = load(p->libdir)) == 0 && (r = init(p)) == 0 &&
           (r = connect_open(p, v)) == 0)
    open_volumes++;
  if (r < 0)
    disconnect(pr);
  pthread_mutex_unlock(&lock);
  if (r < 0) {
    priv_free(pr);
    volume_free(v);
    return r;
  }
  *out = v;
  return 0;
}

const char *vddk_volume_transport(const struct ferry_volume *v)
{
  return v && v->ops == &vddk_ops ? P(v)->transport : NULL;
}

int vddk_shutdown(void)
{
  int r = 0;
  pthread_mutex_lock(&lock);
  if (open_volumes)
    r = ferry_error(EBUSY, "VDDK: %u volumes are still open", open_volumes);
  else if (initialized) {
    lib.Exit();
    initialized = false;
    shut_down = true;
  }
  pthread_mutex_unlock(&lock);
  return r;
}
