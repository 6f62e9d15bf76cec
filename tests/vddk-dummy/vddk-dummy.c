/* A test-only libvixDiskLib.so: VMware VDDK's ABI (lib/platforms/vmware/vddk_abi.h)
 * over local files, so ferry's VDDK backend runs in its tests without
 * VMware's library or a server (nbdkit tests its vddk plugin the same way).
 *
 * It checks what a real library and server would and records the calls:
 *
 *   FERRY_VDDK_DUMMY_DATASTORES  "DS=/abs/dir[,DS2=/dir2]": the disk path
 *       "[DS] rel/name.vmdk" is served from /abs/dir/rel/name-flat.vmdk
 *   FERRY_VDDK_DUMMY_USER, FERRY_VDDK_DUMMY_PASSWORD  when set, ConnectEx
 *       wants these credentials (else "Cannot connect to host")
 *   FERRY_VDDK_DUMMY_THUMBPRINT  when set, the server's certificate
 *       thumbprint: ConnectEx wants it (else an SSL verification error)
 *   FERRY_VDDK_DUMMY_NO_QUERY  when set, QueryAllocatedBlocks says it is
 *       not supported, as for a disk or transport that cannot tell
 *   FERRY_VDDK_DUMMY_LOG  a file that gets one line per call, e.g.
 *       "InitEx 7 0 libdir=/opt/vddk", "ConnectEx server=h port=443
 *       vmx=moref=vm-42 snapshot=snapshot-7 thumbprint=AA:.. user=u
 *       readonly=1 transports=-", "Open [DS] x/disk1.vmdk flags=4",
 *       "Read 0 8", "QueryAllocatedBlocks 0 2048 128 blocks=2"; a failed
 *       call ends with " -> error N". The password is never written.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/platforms/vmware/vddk_abi.h"

/* The definitions below are checked against the ABI's function types. */
VixDiskLib_InitEx_fn VixDiskLib_InitEx;
VixDiskLib_Exit_fn VixDiskLib_Exit;
VixDiskLib_AllocateConnectParams_fn VixDiskLib_AllocateConnectParams;
VixDiskLib_FreeConnectParams_fn VixDiskLib_FreeConnectParams;
VixDiskLib_ConnectEx_fn VixDiskLib_ConnectEx;
VixDiskLib_Disconnect_fn VixDiskLib_Disconnect;
VixDiskLib_Open_fn VixDiskLib_Open;
VixDiskLib_Close_fn VixDiskLib_Close;
VixDiskLib_GetInfo_fn VixDiskLib_GetInfo;
VixDiskLib_FreeInfo_fn VixDiskLib_FreeInfo;
VixDiskLib_Read_fn VixDiskLib_Read;
VixDiskLib_Write_fn VixDiskLib_Write;
VixDiskLib_QueryAllocatedBlocks_fn VixDiskLib_QueryAllocatedBlocks;
VixDiskLib_FreeBlockList_fn VixDiskLib_FreeBlockList;
VixDiskLib_GetErrorText_fn VixDiskLib_GetErrorText;
VixDiskLib_FreeErrorText_fn VixDiskLib_FreeErrorText;
VixDiskLib_GetTransportMode_fn VixDiskLib_GetTransportMode;

/* The dummy's own code for a failed certificate check: real VDDK reports
 * the SSL detail in its log and fails the connection. */
#define DUMMY_E_SSL_VERIFY 18500

static const struct {
  unsigned code;
  const char *text;
} texts[] = {
  { VIX_OK, "The operation was successful" },
  { VIX_E_FAIL, "Unknown error" },
  { VIX_E_OUT_OF_MEMORY, "Memory allocation failed: out of memory" },
  { VIX_E_INVALID_ARG, "One of the parameters was invalid" },
  { VIX_E_FILE_NOT_FOUND, "The file was not found" },
  { VIX_E_NOT_SUPPORTED, "The operation is not supported" },
  { VIX_E_FILE_READ_ONLY, "The file is write-protected" },
  { VIX_E_FILE_ACCESS_ERROR, "You do not have access rights to this file" },
  { VIX_E_DISK_NOINIT, "The VixDiskLib library has not been initialized" },
  { VIX_E_DISK_OUTOFRANGE, "The requested sectors are out of range" },
  { VIX_E_CANNOT_CONNECT_TO_HOST, "Cannot connect to host" },
  { DUMMY_E_SSL_VERIFY, "SSL verification failed: the host thumbprint does "
                        "not match" },
};

struct conn {
  bool readonly;
  char mode[16];
};

struct disk {
  struct conn *c;
  int fd;
  bool readonly;
  uint64_t capacity; /* sectors */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialized;

/* Appends "NAME ARGS[ -> error N]" to the log. */
static void trace(VixError err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void trace(VixError err, const char *fmt, ...)
{
  const char *path = getenv("FERRY_VDDK_DUMMY_LOG");
  if (!path || !*path)
    return;
  char line[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 32, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n > sizeof line - 32)
    n = sizeof line - 32;
  if (err != VIX_OK)
    n += snprintf(line + n, 32, " -> error %llu", (unsigned long long)err);
  line[n++] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  pthread_mutex_lock(&lock);
  ssize_t w = write(fd, line, n);
  (void)w;
  pthread_mutex_unlock(&lock);
  close(fd);
}

static const char *str(const char *s) { return s ? s : "-"; }

static void call_log(VixDiskLibGenericLogFunc *f, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  f(fmt, ap);
  va_end(ap);
}

VixError VixDiskLib_InitEx(uint32_t major, uint32_t minor,
                           VixDiskLibGenericLogFunc *log,
                           VixDiskLibGenericLogFunc *warn,
                           VixDiskLibGenericLogFunc *panic,
                           const char *libDir, const char *configFile)
{
  VixError err = VIX_OK;
  pthread_mutex_lock(&lock);
  if (initialized)
    err = VIX_E_FAIL; /* once per process */
  else if (!log || !warn || !panic)
    err = VIX_E_INVALID_ARG;
  else
    initialized = true;
  pthread_mutex_unlock(&lock);
  trace(err, "InitEx %u %u libdir=%s config=%s", major, minor, str(libDir),
        str(configFile));
  if (err == VIX_OK) /* says hello through the callback, as VDDK does */
    call_log(log, "VixDiskLib: dummy initialised for API %u.%u\n", major,
             minor);
  return err;
}

void VixDiskLib_Exit(void)
{
  pthread_mutex_lock(&lock);
  initialized = false;
  pthread_mutex_unlock(&lock);
  trace(VIX_OK, "Exit");
}

static bool is_initialized(void)
{
  pthread_mutex_lock(&lock);
  bool r = initialized;
  pthread_mutex_unlock(&lock);
  return r;
}

VixDiskLibConnectParams *VixDiskLib_AllocateConnectParams(void)
{
  trace(VIX_OK, "AllocateConnectParams");
  return calloc(1, sizeof(VixDiskLibConnectParams));
}

/* Frees the structure only: the strings are the caller's. */
void VixDiskLib_FreeConnectParams(VixDiskLibConnectParams *p)
{
  trace(VIX_OK, "FreeConnectParams");
  free(p);
}

static bool env_differs(const char *name, const char *value)
{
  const char *want = getenv(name);
  return want && (!value || strcmp(want, value) != 0);
}

static VixError connect_check(const VixDiskLibConnectParams *p)
{
  if (!is_initialized())
    return VIX_E_DISK_NOINIT;
  if (!p || !p->vmxSpec || strncmp(p->vmxSpec, "moref=", 6) != 0 ||
      !p->vmxSpec[6] || !p->serverName || !*p->serverName ||
      p->specType != VIXDISKLIB_SPEC_VMX || p->privateUse != 0)
    return VIX_E_INVALID_ARG;
  /* TLS comes first: the certificate, then the login. */
  const char *tp = getenv("FERRY_VDDK_DUMMY_THUMBPRINT");
  if (tp && (!p->thumbPrint || strcasecmp(tp, p->thumbPrint) != 0))
    return DUMMY_E_SSL_VERIFY;
  if (p->credType != VIXDISKLIB_CRED_UID || !p->creds.uid.userName ||
      !*p->creds.uid.userName || !p->creds.uid.password ||
      env_differs("FERRY_VDDK_DUMMY_USER", p->creds.uid.userName) ||
      env_differs("FERRY_VDDK_DUMMY_PASSWORD", p->creds.uid.password))
    return VIX_E_CANNOT_CONNECT_TO_HOST;
  return VIX_OK;
}

VixError VixDiskLib_ConnectEx(const VixDiskLibConnectParams *p, char readOnly,
                              const char *snapshotRef,
                              const char *transportModes,
                              VixDiskLibConnection *connection)
{
  VixError err = connect_check(p);
  struct conn *c = NULL;
  if (err == VIX_OK && !connection)
    err = VIX_E_INVALID_ARG;
  if (err == VIX_OK && !(c = calloc(1, sizeof *c)))
    err = VIX_E_OUT_OF_MEMORY;
  if (err == VIX_OK) {
    c->readonly = readOnly != 0;
    /* The first transport asked for, as if the host offered every one. */
    const char *m = transportModes && *transportModes ? transportModes
                                                      : "nbdssl";
    snprintf(c->mode, sizeof c->mode, "%.*s", (int)strcspn(m, ":"), m);
    *connection = c;
  }
  if (p)
    trace(err, "ConnectEx server=%s port=%u vmx=%s snapshot=%s "
          "thumbprint=%s user=%s readonly=%d transports=%s",
          str(p->serverName), p->port, str(p->vmxSpec), str(snapshotRef),
          str(p->thumbPrint),
          p->credType == VIXDISKLIB_CRED_UID ? str(p->creds.uid.userName)
                                             : "-",
          readOnly != 0, str(transportModes));
  else
    trace(err, "ConnectEx (no params)");
  return err;
}

VixError VixDiskLib_Disconnect(VixDiskLibConnection connection)
{
  VixError err = connection ? VIX_OK : VIX_E_INVALID_ARG;
  free(connection);
  trace(err, "Disconnect");
  return err;
}

/* "[DS] rel/name.vmdk" -> "<DS's dir>/rel/name-flat.vmdk". */
static VixError map_path(const char *path, char *out, size_t len)
{
  if (!path || path[0] != '[')
    return VIX_E_INVALID_ARG;
  const char *close = strchr(path, ']');
  if (!close || close == path + 1)
    return VIX_E_INVALID_ARG;
  size_t dsl = close - path - 1;
  const char *rel = close + 1;
  while (*rel == ' ')
    rel++;
  size_t rl = strlen(rel);
  if (rl <= 5 || strcmp(rel + rl - 5, ".vmdk") != 0 || rel[0] == '/' ||
      strstr(rel, ".."))
    return VIX_E_INVALID_ARG;
  const char *ds = getenv("FERRY_VDDK_DUMMY_DATASTORES");
  while (ds && *ds) {
    const char *end = strchr(ds, ','), *eq = strchr(ds, '=');
    if (!end)
      end = ds + strlen(ds);
    if (eq && eq < end && (size_t)(eq - ds) == dsl &&
        strncmp(ds, path + 1, dsl) == 0) {
      snprintf(out, len, "%.*s/%.*s-flat.vmdk", (int)(end - eq - 1), eq + 1,
               (int)(rl - 5), rel);
      return VIX_OK;
    }
    ds = *end ? end + 1 : end;
  }
  return VIX_E_FILE_NOT_FOUND; /* no such datastore */
}

VixError VixDiskLib_Open(const VixDiskLibConnection connection,
                         const char *path, uint32_t flags,
                         VixDiskLibHandle *handle)
{
  struct conn *c = connection;
  char file[4096];
  VixError err = VIX_OK;
  struct disk *d = NULL;
  bool ro = flags & VIXDISKLIB_FLAG_OPEN_READ_ONLY;
  if (!is_initialized())
    err = VIX_E_DISK_NOINIT;
  else if (!c || !handle)
    err = VIX_E_INVALID_ARG;
  else if (c->readonly && !ro) /* a read-only connection opens read-only */
    err = VIX_E_FILE_READ_ONLY;
  else
    err = map_path(path, file, sizeof file);
  if (err == VIX_OK) {
    int fd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
      err = errno == ENOENT ? VIX_E_FILE_NOT_FOUND : VIX_E_FILE_ACCESS_ERROR;
    else if (fstat(fd, &st) < 0 || !(d = calloc(1, sizeof *d))) {
      close(fd);
      err = VIX_E_FAIL;
    } else {
      d->c = c;
      d->fd = fd;
      d->readonly = ro;
      d->capacity = st.st_size / VIXDISKLIB_SECTOR_SIZE;
      *handle = d;
    }
  }
  trace(err, "Open %s flags=%u", str(path), flags);
  return err;
}

VixError VixDiskLib_Close(VixDiskLibHandle handle)
{
  struct disk *d = handle;
  if (d) {
    close(d->fd);
    free(d);
  }
  trace(d ? VIX_OK : VIX_E_INVALID_ARG, "Close");
  return d ? VIX_OK : VIX_E_INVALID_ARG;
}

VixError VixDiskLib_GetInfo(VixDiskLibHandle handle, VixDiskLibInfo **info)
{
  struct disk *d = handle;
  VixError err = d && info ? VIX_OK : VIX_E_INVALID_ARG;
  VixDiskLibInfo *i = NULL;
  if (err == VIX_OK && !(i = calloc(1, sizeof *i)))
    err = VIX_E_OUT_OF_MEMORY;
  if (err == VIX_OK) {
    i->capacity = d->capacity;
    i->biosGeo = i->physGeo = (VixDiskLibGeometry){
      (uint32_t)(d->capacity / (255 * 63)), 255, 63 };
    i->adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
    i->numLinks = 1;
    i->uuid = strdup("60 00 C2 90 00 00 00 00-00 00 00 00 00 00 00 00");
    *info = i;
  }
  trace(err, "GetInfo capacity=%llu",
        d ? (unsigned long long)d->capacity : 0ull);
  return err;
}

void VixDiskLib_FreeInfo(VixDiskLibInfo *info)
{
  if (info) {
    free(info->parentFileNameHint);
    free(info->uuid);
    free(info);
  }
}

static VixError range_check(const struct disk *d, uint64_t start, uint64_t n)
{
  if (!d)
    return VIX_E_INVALID_ARG;
  if (start > d->capacity || n > d->capacity - start)
    return VIX_E_DISK_OUTOFRANGE;
  return VIX_OK;
}

VixError VixDiskLib_Read(VixDiskLibHandle handle, VixDiskLibSectorType start,
                         VixDiskLibSectorType n, uint8_t *buf)
{
  struct disk *d = handle;
  VixError err = is_initialized() ? range_check(d, start, n)
                                  : VIX_E_DISK_NOINIT;
  if (err == VIX_OK && !buf)
    err = VIX_E_INVALID_ARG;
  uint64_t len = n * VIXDISKLIB_SECTOR_SIZE;
  for (uint64_t done = 0; err == VIX_OK && done < len;) {
    ssize_t r = pread(d->fd, buf + done, len - done,
                      start * VIXDISKLIB_SECTOR_SIZE + done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      err = VIX_E_FAIL;
    else
      done += r;
  }
  trace(err, "Read %llu %llu", (unsigned long long)start,
        (unsigned long long)n);
  return err;
}

VixError VixDiskLib_Write(VixDiskLibHandle handle, VixDiskLibSectorType start,
                          VixDiskLibSectorType n, const uint8_t *buf)
{
  /* ferry never writes through VDDK: this library serves reads only */
  struct disk *d = handle;
  VixError err = is_initialized() ? range_check(d, start, n)
                                  : VIX_E_DISK_NOINIT;
  if (err == VIX_OK)
    err = !buf ? VIX_E_INVALID_ARG
          : d->readonly ? VIX_E_FILE_READ_ONLY : VIX_E_NOT_SUPPORTED;
  trace(err, "Write %llu %llu", (unsigned long long)start,
        (unsigned long long)n);
  return err;
}

/* Appends [s, e) (sectors) to the list, merged with the last block. */
static int push_block(VixDiskLibBlockList **l, size_t *cap, uint64_t s,
                      uint64_t e)
{
  VixDiskLibBlockList *bl = *l;
  if (bl->numBlocks) {
    VixDiskLibBlock *last = &bl->blocks[bl->numBlocks - 1];
    if (s <= last->offset + last->length) {
      if (e > last->offset + last->length)
        last->length = e - last->offset;
      return 0;
    }
  }
  if (bl->numBlocks == *cap) {
    size_t nc = *cap * 2;
    bl = realloc(bl, sizeof *bl + nc * sizeof bl->blocks[0]);
    if (!bl)
      return -1;
    *l = bl;
    *cap = nc;
  }
  bl->blocks[bl->numBlocks++] = (VixDiskLibBlock){ s, e - s };
  return 0;
}

VixError VixDiskLib_QueryAllocatedBlocks(VixDiskLibHandle handle,
                                         VixDiskLibSectorType start,
                                         VixDiskLibSectorType n,
                                         VixDiskLibSectorType chunk,
                                         VixDiskLibBlockList **list)
{
  struct disk *d = handle;
  VixDiskLibBlockList *bl = NULL;
  VixError err = is_initialized() ? range_check(d, start, n)
                                  : VIX_E_DISK_NOINIT;
  /* What VDDK asks of the arguments: a power-of-two chunk size of at
   * least 128 sectors, a range of whole chunks, a bounded chunk count. */
  if (err == VIX_OK &&
      (!list || chunk < VIXDISKLIB_MIN_CHUNK_SIZE || (chunk & (chunk - 1)) ||
       n == 0 || start % chunk || n % chunk ||
       n / chunk > VIXDISKLIB_MAX_CHUNK_NUMBER))
    err = VIX_E_INVALID_ARG;
  if (err == VIX_OK && getenv("FERRY_VDDK_DUMMY_NO_QUERY"))
    err = VIX_E_NOT_SUPPORTED;
  size_t cap = 16;
  if (err == VIX_OK &&
      !(bl = calloc(1, sizeof *bl + cap * sizeof bl->blocks[0])))
    err = VIX_E_OUT_OF_MEMORY;
  const uint64_t S = VIXDISKLIB_SECTOR_SIZE;
  uint64_t pos = start * S, end = (start + n) * S;
  while (err == VIX_OK && pos < end) {
    off_t data = lseek(d->fd, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break;
    if (data < 0) { /* no SEEK_DATA: all allocated */
      data = pos;
    }
    if ((uint64_t)data >= end)
      break;
    off_t hole = lseek(d->fd, data, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole > end)
      hole = end;
    /* Whole chunks around the data. */
    uint64_t cs = (uint64_t)data / S / chunk * chunk;
    uint64_t ce = ((uint64_t)hole / S + (hole % S != 0) + chunk - 1) / chunk *
                  chunk;
    if (ce > start + n)
      ce = start + n;
    if (push_block(&bl, &cap, cs, ce) < 0)
      err = VIX_E_OUT_OF_MEMORY;
    pos = ce * S;
  }
  if (err == VIX_OK)
    *list = bl;
  else
    free(bl);
  trace(err, "QueryAllocatedBlocks %llu %llu %llu blocks=%u",
        (unsigned long long)start, (unsigned long long)n,
        (unsigned long long)chunk, err == VIX_OK ? bl->numBlocks : 0);
  return err;
}

VixError VixDiskLib_FreeBlockList(VixDiskLibBlockList *list)
{
  free(list);
  return VIX_OK;
}

char *VixDiskLib_GetErrorText(VixError err, const char *locale)
{
  (void)locale;
  unsigned code = VIX_ERROR_CODE(err);
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    if (texts[i].code == code)
      return strdup(texts[i].text);
  return strdup("Unknown error");
}

void VixDiskLib_FreeErrorText(char *text)
{
  free(text);
}

const char *VixDiskLib_GetTransportMode(VixDiskLibHandle handle)
{
  struct disk *d = handle;
  return d ? d->c->mode : NULL;
}
