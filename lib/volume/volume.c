/* Generic volume functions: the public ferry_volume_* API over the ops. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "../client/client.h"
#include "../core/error.h"
#include "../platforms/driver.h"
#include "volume.h"

int extent_map_add(struct extent_map *m, uint64_t offset, uint64_t length,
                   unsigned flags)
{
  if (length == 0)
    return 0;
  if (m->n > 0) {
    struct ferry_extent_info *last = &m->v[m->n - 1];
    if (last->flags == flags && last->offset + last->length == offset) {
      last->length += length;
      return 0;
    }
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct ferry_extent_info *v = realloc(m->v, cap * sizeof *v);
    if (!v)
      return ferry_error(ENOMEM, "out of memory for an allocation map");
    m->v = v;
    m->cap = cap;
  }
  m->v[m->n++] = (struct ferry_extent_info){ offset, length, flags };
  return 0;
}

int extent_map_add_data(struct extent_map *m, uint64_t off, uint64_t end,
                        const struct ferry_extent *data, size_t n)
{
  uint64_t pos = off;
  int r = 0;
  for (size_t i = 0; i < n && r == 0 && pos < end; i++) {
    uint64_t a = data[i].offset, b = a + data[i].length;
    if (b <= pos)
      continue;
    if (a >= end)
      break;
    if (a > pos)
      r = extent_map_add(m, pos, a - pos,
                         FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
    if (a < pos)
      a = pos;
    if (b > end)
      b = end;
    if (r == 0)
      r = extent_map_add(m, a, b - a, 0);
    pos = b;
  }
  if (r == 0 && pos < end)
    r = extent_map_add(m, pos, end - pos,
                       FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
  return r;
}

void extent_map_free(struct extent_map *m)
{
  free(m->v);
  memset(m, 0, sizeof *m);
}

struct ferry_volume *volume_new(const struct volume_ops *ops,
                                const char *name)
{
  struct ferry_volume *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  v->ops = ops;
  v->size = -1;
  v->name = strdup(name);
  if (!v->name) {
    volume_free(v);
    return NULL;
  }
  return v;
}

void volume_free(struct ferry_volume *v)
{
  if (!v)
    return;
  free(v->name);
  free(v);
}

const char volume_zero_buf[1 << 20];

int volume_zero_by_writes(struct ferry_volume *v, uint64_t len, uint64_t off)
{
  while (len > 0) {
    uint64_t n = len < sizeof volume_zero_buf ? len : sizeof volume_zero_buf;
    int r = v->ops->pwrite(v, volume_zero_buf, n, off);
    if (r < 0)
      return r;
    off += n;
    len -= n;
  }
  return 0;
}

uint64_t retry_backoff_ms(unsigned first_ms, unsigned tries)
{
  uint64_t d = first_ms;
  for (unsigned i = 1; i < tries && d < 5000; i++)
    d *= 2;
  return d < 5000 ? d : 5000;
}

bool volume_err_transient(int err)
{
  switch (err) {
  case EIO: case EAGAIN: case EINTR: case ETIMEDOUT: case ECONNRESET:
  case ECONNABORTED: case ECONNREFUSED: case EPIPE: case ENOTCONN: case ESHUTDOWN:
    return true;
  default:
    return false;
  }
}

int volume_io_blocking(struct ferry_volume *v, struct vio *io)
{
  int r;
  if (io->op != VIO_READ && !v->writable) {
    r = ferry_error(EROFS, "%s: opened read-only", v->name);
    io->err = -r;
    return r;
  }
  switch (io->op) {
  case VIO_READ: r = v->ops->pread(v, io->buf, io->len, io->offset); break;
  case VIO_WRITE: r = v->ops->pwrite(v, io->buf, io->len, io->offset); break;
  default: r = v->ops->zero(v, io->len, io->offset); break;
  }
  io->err = r < 0 ? -r : 0;
  return r;
}

static void sync_done(struct vio *io) { io->opaque = NULL; }

int volume_io_sync(struct ferry_volume *v, struct vio *io)
{
  int r;
  if (!v->ops->aio_start)
    return volume_io_blocking(v, io);
  io->done = sync_done;
  io->opaque = io;
  if ((r = v->ops->aio_start(v, io)) < 0)
    return r;
  while (io->opaque) {
    short ev;
    int fd = v->ops->aio_fd(v, &ev);
    if (fd < 0)
      return fd;
    struct pollfd p = { .fd = fd, .events = ev };
    if (poll(&p, 1, -1) < 0 && errno != EINTR)
      return ferry_error(errno, "%s: poll: %s", v->name, strerror(errno));
    if ((r = v->ops->aio_notify(v, p.revents)) < 0)
      return r;
  }
  if (io->err)
    return ferry_error(io->err, "%s: %s of %" PRIu64 " bytes at offset %"
                       PRIu64 ": %s", v->name,
                       io->op == VIO_READ ? "read" :
                       io->op == VIO_WRITE ? "write" : "zero",
                       io->len, io->offset, strerror(io->err));
  return 0;
}

int ferry_volume_open(struct client *c, const char *volume_id, int mode,
                      struct ferry_volume **out)
{
  ferry_error_clear();
  *out = NULL;
  if (!c)
    return ferry_error(EINVAL, "client is NULL");
  if (!volume_id)
    return ferry_error(EINVAL, "volume id is NULL");
  struct ferry_client *fc = ferry_client_of(c);
  if (!fc)
    return callback_volume_open(c, volume_id, mode, out);
  if (!fc->driver->open_volume)
    return ferry_error(ENOTSUP, "the %s driver has no data path",
                       fc->driver->info.name);
  return fc->driver->open_volume(fc, volume_id, mode, out);
}

void volume_identify(struct client *c, const char *volume_id, char *buf,
                     size_t len)
{
  struct ferry_client *fc = ferry_client_of(c);
  buf[0] = '\0';
  if (!fc)
    callback_identity(c, volume_id, buf, len);
  else if (fc->driver->identify && fc->driver->identify(fc, volume_id, buf, len) < 0)
    buf[0] = '\0'; /* opening will report the problem */
}

/* Leaves the thread's error as it is (libnbd's rule for close). */
void ferry_volume_close(struct ferry_volume *v)
{
  struct saved_error e;
  error_save(&e);
  if (v) {
    void (*release)(void *) = v->release;
    void *opaque = v->release_opaque;
    v->ops->close(v);
    if (release)
      release(opaque);
  }
  error_restore(&e);
}

int64_t ferry_volume_size(const struct ferry_volume *v) { return v->size; }
const char *ferry_volume_name(const struct ferry_volume *v) { return v->name; }
const char *ferry_volume_format(const struct ferry_volume *v)
{
  return v->format[0] ? v->format : NULL;
}
bool ferry_volume_can_multi_conn(const struct ferry_volume *v)
{
  return v->can_multi_conn;
}

/* Every backend answers the same past the end: a read (or an extents
 * query) there is EINVAL, a write ENOSPC, and none reaches the backend
 * (which would report EIO, retried as transient, or grow a file). */
static int within(const struct ferry_volume *v, bool write, uint64_t len,
                  uint64_t off)
{
  if (v->size < 0 || (off <= (uint64_t)v->size &&
                      len <= (uint64_t)v->size - off))
    return 0;
  return ferry_error(write ? ENOSPC : EINVAL, "%s: %s of %" PRIu64 " bytes "
                     "at offset %" PRIu64 " goes past its end (%" PRId64
                     " bytes)", v->name, write ? "a write" : "a read", len,
                     off, v->size);
}

static int sync_op(struct ferry_volume *v, enum vio_op op, void *buf,
                   uint64_t len, uint64_t off)
{
  ferry_error_clear();
  if (op != VIO_READ && !v->writable)
    return ferry_error(EROFS, "%s: opened read-only", v->name);
  int r = within(v, op != VIO_READ, len, off);
  if (r < 0)
    return r;
  struct vio io = { .op = op, .buf = buf, .len = len, .offset = off };
  return volume_io_sync(v, &io);
}

int ferry_volume_pread(struct ferry_volume *v, void *buf, size_t len,
                       uint64_t offset)
{
  return sync_op(v, VIO_READ, buf, len, offset);
}

int ferry_volume_pwrite(struct ferry_volume *v, const void *buf, size_t len,
                        uint64_t offset)
{
  return sync_op(v, VIO_WRITE, (void *)buf, len, offset);
}

int ferry_volume_zero(struct ferry_volume *v, uint64_t len, uint64_t offset)
{
  return sync_op(v, VIO_ZERO, NULL, len, offset);
}

int ferry_volume_flush(struct ferry_volume *v)
{
  ferry_error_clear();
  return v->ops->flush ? v->ops->flush(v) : 0;
}

int volume_extents(struct ferry_volume *v, uint64_t offset, uint64_t len,
                   struct extent_map *m)
{
  if (!v->ops->extents)
    return extent_map_add(m, offset, len, 0);
  return v->ops->extents(v, offset, len, m);
}

int ferry_volume_extents(struct ferry_volume *v, uint64_t offset, uint64_t len,
                         struct ferry_extent_info **out, size_t *n_out)
{
  ferry_error_clear();
  struct extent_map m = { 0 };
  int r = within(v, false, len, offset);
  if (r == 0)
    r = volume_extents(v, offset, len, &m);
  if (r < 0) {
    extent_map_free(&m);
    return r;
  }
  *out = m.v;
  *n_out = m.n;
  return 0;
}
