/* NBD volumes through libnbd: a server given by URI, or an image file served
 * by a private qemu-nbd under systemd socket activation (as nbdcopy does). */
#include <errno.h>
#include <inttypes.h>
#include <libnbd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/client.h"
#include "../core/child.h"
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/log.h"
#include "../core/uri.h"
#include "../platforms/driver.h"
#include "nbd_lib.h"
#include "volume.h"

/* Largest zero or block-status request sent at once (the protocol's counts
 * are 32-bit; qemu caps requests at 32 MiB of payload). */
#define NBD_ZERO_MAX (1ull << 30)
#define NBD_IO_SIZE (256u << 10)
#define NBD_IO_SIZE_MAX (4u << 20) /* what the default memory budget holds */
#define EARLY_FLUSH (64u << 20)
/* Extents this close are read with the gap between them: in
 * bench/bench.py's sweep, a 16 KiB gap read through took 0.98x the time of
 * separate requests from qemu-nbd, 0.99x behind 1 ms of latency and 0.59x
 * behind 10 ms; 64 KiB cost up to 1.36x on the fast servers. */
#define NBD_READ_GAP (16u << 10)
/* Connections to a server that allows several (multi-conn): as nbdcopy,
 * four, with many requests in flight on each. */
#define NBD_CONNECTIONS 4

struct nbd_priv {
  struct nbd_handle *h;
  int mode;
  /* How to connect again, for clone() and reconnect(). */
  struct nbd_uri uri; /* when served by a URI */
  char **argv;        /* when served by socket activation */
  char *context;      /* meta context for extents; NULL: base:allocation */
  bool have_alloc, can_zero, can_flush;
  uint64_t unflushed; /* bytes written since the last early flush */
};

static struct nbd_priv *P(struct ferry_volume *v) { return v->priv; }

static bool nbd_vol_is_dead(struct ferry_volume *v);

/* A command refused on a handle whose connection died (libnbd says
 * EINVAL: "invalid state: DEAD") is ENOTCONN: transient, so that the
 * engine connects again, as for one that failed in flight. */
static int nbd_err(struct ferry_volume *v, const char *what, uint64_t len,
                   uint64_t off)
{
  int e = nbd_get_errno();
  const char *msg = nbd_get_error();
  if (nbd_vol_is_dead(v))
    e = ENOTCONN;
  return ferry_error(e ? e : EIO, "%s: %s of %" PRIu64 " bytes at offset %"
                     PRIu64 ": %s", v->name, what, len, off,
                     msg ? msg : strerror(e ? e : EIO));
}

/* Requests of 256 KiB kept many in flight copy fastest from servers that
 * answer fast (nbdcopy's choice; bench/bench.py's matrix compares), unless
 * the server prefers larger ones; never more than its maximum. */
static uint64_t io_size(struct nbd_handle *h)
{
  int64_t pref = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
  int64_t max = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
  uint64_t s = NBD_IO_SIZE;
  if (pref > 0 && (uint64_t)pref > s)
    s = (uint64_t)pref < NBD_IO_SIZE_MAX ? (uint64_t)pref : NBD_IO_SIZE_MAX;
  if (max >= 4096 && (uint64_t)max < s)
    s = (uint64_t)max / 512 * 512;
  return s;
}

/* Makes a new handle and connects it with the volume's parameters. */
static int nbd_connect_priv(struct ferry_volume *v, struct nbd_priv *p)
{
  int r = nbd_lib_load();
  if (r < 0)
    return r;
  struct nbd_handle *h = nbd_create();
  if (!h)
    return ferry_error(ENOMEM, "nbd_create: %s", nbd_get_error());
  const char *ctx = p->context ? p->context : LIBNBD_CONTEXT_BASE_ALLOCATION;
  if (p->argv) {
    /* The qemu-nbd it forks dies with us (child.h). */
    log_argv("child", "start (socket activation)", p->argv);
    child_guard_begin();
    r = nbd_add_meta_context(h, ctx) ||
        nbd_connect_systemd_socket_activation(h, p->argv);
    child_guard_end();
  } else {
    uint64_t t0 = monotonic_ms();
    r = nbd_set_export_name(h, p->uri.export) ||
        nbd_add_meta_context(h, ctx) ||
        (p->uri.is_unix ? nbd_connect_unix(h, p->uri.socket)
                        : nbd_connect_tcp(h, p->uri.host, p->uri.port));
    if (!r)
      ferry_log("nbd", "connected to %s in %" PRIu64 " ms", v->name,
                monotonic_ms() - t0);
  }
  if (r) {
    int e = nbd_get_errno();
    ferry_error(e ? e : EIO, "%s: connect: %s", v->name, nbd_get_error());
    nbd_close(h);
    return -ferry_last_errno();
  }
  if (p->mode == FERRY_OPEN_WRITE && nbd_is_read_only(h) == 1) {
    nbd_close(h);
    return ferry_error(EROFS, "%s: the server offers this export read-only",
                       v->name);
  }
  int64_t size = nbd_get_size(h);
  if (size < 0) {
    r = ferry_error(EIO, "%s: size: %s", v->name, nbd_get_error());
    nbd_close(h);
    return r;
  }
  v->size = size;
  p->have_alloc = nbd_can_meta_context(h, ctx) == 1;
  if (p->context && !p->have_alloc) {
    nbd_close(h);
    return ferry_error(ENOENT, "%s: the server offers no %s", v->name, ctx);
  }
  p->can_zero = nbd_can_zero(h) == 1;
  p->can_flush = nbd_can_flush(h) == 1;
  v->can_multi_conn = nbd_can_multi_conn(h) == 1;
  v->io_size = io_size(h);
  p->h = h;
  return 0;
}

static int nbd_vol_pread(struct ferry_volume *v, void *buf, size_t len,
                         uint64_t off)
{
  return nbd_pread(P(v)->h, buf, len, off, 0) ? nbd_err(v, "read", len, off)
                                                : 0;
}

static int nbd_vol_pwrite(struct ferry_volume *v, const void *buf, size_t len,
                          uint64_t off)
{
  return nbd_pwrite(P(v)->h, buf, len, off, 0) ? nbd_err(v, "write", len, off)
                                                 : 0;
}

static int nbd_vol_zero(struct ferry_volume *v, uint64_t len, uint64_t off)
{
  if (!P(v)->can_zero)
    return volume_zero_by_writes(v, len, off);
  while (len > 0) {
    uint64_t n = len < NBD_ZERO_MAX ? len : NBD_ZERO_MAX;
    if (nbd_zero(P(v)->h, n, off, 0))
      return nbd_err(v, "zero", n, off);
    off += n;
    len -= n;
  }
  return 0;
}

static int nbd_vol_flush(struct ferry_volume *v)
{
  if (P(v)->can_flush && nbd_flush(P(v)->h, 0))
    return ferry_error(nbd_get_errno() ? nbd_get_errno() : EIO,
                       "%s: flush: %s", v->name, nbd_get_error());
  return 0;
}

struct bs_ctx {
  struct extent_map *m;
  const char *context; /* NULL: base:allocation */
  uint64_t pos, end;
  int err;
};

static int bs_cb(void *opaque, const char *ctx, uint64_t offset,
                 uint32_t *entries, size_t n, int *error)
{
  struct bs_ctx *c = opaque;
  (void)error;
  if (strcmp(ctx, c->context ? c->context : LIBNBD_CONTEXT_BASE_ALLOCATION))
    return 0;
  c->pos = offset;
  for (size_t i = 0; i + 1 < n && c->pos < c->end && !c->err; i += 2) {
    uint64_t len = entries[i];
    if (len > c->end - c->pos)
      len = c->end - c->pos;
    /* A dirty bitmap says 1 for changed: changed areas read as data,
     * clean ones as holes, so callers take the data extents. */
    unsigned flags = c->context ? (entries[i + 1] & 1 ? 0 : FERRY_EXTENT_HOLE)
                                : entries[i + 1] & (FERRY_EXTENT_HOLE |
                                                    FERRY_EXTENT_ZERO);
    c->err = extent_map_add(c->m, c->pos, len, flags);
    c->pos += len;
  }
  return 0;
}

static int nbd_vol_extents(struct ferry_volume *v, uint64_t off, uint64_t len,
                           struct extent_map *m)
{
  if (!P(v)->have_alloc)
    return extent_map_add(m, off, len, 0);
  struct bs_ctx c = { .m = m, .context = P(v)->context, .end = off + len };
  for (uint64_t pos = off; pos < c.end;) {
    uint64_t n = c.end - pos < NBD_ZERO_MAX ? c.end - pos : NBD_ZERO_MAX;
    c.pos = pos;
    if (nbd_block_status(P(v)->h, n, pos,
                         (nbd_extent_callback){ .callback = bs_cb,
                                                .user_data = &c }, 0))
      return nbd_err(v, "block status", n, pos);
    if (c.err)
      return c.err;
    if (c.pos <= pos)
      return ferry_error(EPROTO, "%s: block status at %" PRIu64 " made no "
                         "progress", v->name, pos);
    pos = c.pos;
  }
  return 0;
}

/* An early flush's answer: nothing to do. A failure to persist shows in
 * the copy's own flush at the end, which covers the same writes. */
static int early_flush_done(void *opaque, int *error)
{
  (void)opaque;
  (void)error;
  return 1; /* retire the command */
}

/* A server writes what it was sent into its page cache, and the kernel
 * does not start writing it to disk before a tenth of RAM is dirty: the
 * final flush then wrote all of a copy at once, after the transfer (1 GiB:
 * 1.4 s of a 2 s copy). A flush every EARLY_FLUSH bytes, not waited for,
 * starts the disk while the copy goes on. */
static void early_flush(struct ferry_volume *v, uint64_t len)
{
  struct nbd_priv *p = P(v);
  if (!p->can_flush || (p->unflushed += len) < EARLY_FLUSH)
    return;
  p->unflushed = 0;
  nbd_aio_flush(p->h, (nbd_completion_callback){
                  .callback = early_flush_done }, 0);
}

static int on_complete(void *opaque, int *error)
{
  struct vio *io = opaque;
  io->err = *error;
  io->done(io);
  return 1; /* retire the command */
}

static int nbd_vol_aio_start(struct ferry_volume *v, struct vio *io)
{
  struct nbd_handle *h = P(v)->h;
  nbd_completion_callback cb = { .callback = on_complete, .user_data = io };
  int64_t r;
  io->err = 0;
  switch (io->op) {
  case VIO_READ:
    r = nbd_aio_pread(h, io->buf, io->len, io->offset, cb, 0);
    break;
  case VIO_WRITE:
    r = nbd_aio_pwrite(h, io->buf, io->len, io->offset, cb, 0);
    if (r >= 0)
      early_flush(v, io->len);
    break;
  default:
    if (P(v)->can_zero)
      r = nbd_aio_zero(h, io->len, io->offset, cb, 0);
    else if (io->len <= sizeof volume_zero_buf)
      r = nbd_aio_pwrite(h, volume_zero_buf, io->len, io->offset, cb, 0);
    else
      return ferry_error(EINVAL, "%s: zero request of %" PRIu64 " bytes is "
                         "too large for a server without write-zeroes",
                         v->name, io->len);
    break;
  }
  if (r < 0)
    return nbd_err(v, io->op == VIO_READ ? "read" : "write", io->len,
                   io->offset);
  return 0;
}

static int nbd_vol_aio_fd(struct ferry_volume *v, short *events)
{
  int fd = nbd_aio_get_fd(P(v)->h);
  if (fd < 0)
    return ferry_error(ENOTCONN, "%s: %s", v->name, nbd_get_error());
  unsigned dir = nbd_aio_get_direction(P(v)->h);
  *events = (dir & LIBNBD_AIO_DIRECTION_READ ? POLLIN : 0) |
            (dir & LIBNBD_AIO_DIRECTION_WRITE ? POLLOUT : 0);
  return fd;
}

static int nbd_vol_aio_notify(struct ferry_volume *v, short revents)
{
  struct nbd_handle *h = P(v)->h;
  /* Failures show up as commands completing with an error and is_dead. */
  if (revents & (POLLIN | POLLHUP | POLLERR))
    nbd_aio_notify_read(h);
  else if (revents & POLLOUT)
    nbd_aio_notify_write(h);
  return 0;
}

static unsigned nbd_vol_in_flight(struct ferry_volume *v)
{
  int n = nbd_aio_in_flight(P(v)->h);
  return n > 0 ? (unsigned)n : 0;
}

static bool nbd_vol_is_dead(struct ferry_volume *v)
{
  return nbd_aio_is_dead(P(v)->h) == 1 || nbd_aio_is_closed(P(v)->h) == 1;
}

static int nbd_vol_reconnect(struct ferry_volume *v)
{
  struct nbd_priv *p = P(v);
  struct nbd_handle *old = p->h;
  int r = nbd_connect_priv(v, p);
  if (r == 0)
    nbd_close(old);
  return r;
}

static void priv_free(struct nbd_priv *p)
{
  if (!p)
    return;
  if (p->h)
    nbd_close(p->h);
  nbd_uri_free(&p->uri);
  free(p->context);
  if (p->argv)
    for (char **a = p->argv; *a; a++)
      free(*a);
  free(p->argv);
  free(p);
}

static void nbd_vol_close(struct ferry_volume *v)
{
  priv_free(P(v));
  volume_free(v);
}

static char **argv_dup(char *const *argv)
{
  size_t n = 0;
  while (argv[n])
    n++;
  char **d = calloc(n + 1, sizeof *d);
  for (size_t i = 0; d && i < n; i++)
    if (!(d[i] = strdup(argv[i]))) {
      for (size_t j = 0; j < i; j++)
        free(d[j]);
      free(d);
      return NULL;
    }
  return d;
}

static const struct volume_ops nbd_ops;

/* format: how the served data is stored, for ferry_volume_format ("raw"
 * for an export's bytes, or the image format qemu-nbd reads). */
static int open_with(const char *name, const char *format, int mode,
                     const struct nbd_uri *uri, char *const *argv,
                     const char *context, struct ferry_volume **out)
{
  struct nbd_priv *p = calloc(1, sizeof *p);
  struct ferry_volume *v = p ? volume_new(&nbd_ops, name) : NULL;
  if (!v) {
    free(p);
    return ferry_error(ENOMEM, "out of memory");
  }
  v->priv = p;
  p->mode = mode;
  snprintf(v->format, sizeof v->format, "%s", format);
  bool oom = false;
  if (argv) {
    oom = !(p->argv = argv_dup(argv));
  } else {
    p->uri.is_unix = uri->is_unix;
    p->uri.export = strdup(uri->export ? uri->export : "");
    if (uri->is_unix)
      oom = !(p->uri.socket = strdup(uri->socket));
    else
      oom = !(p->uri.host = strdup(uri->host)) ||
            !(p->uri.port = strdup(uri->port));
    oom = oom || !p->uri.export;
  }
  oom = oom || (context && !(p->context = strdup(context)));
  if (oom) {
    nbd_vol_close(v);
    return ferry_error(ENOMEM, "out of memory");
  }
  int r = nbd_connect_priv(v, p);
  if (r < 0) {
    nbd_vol_close(v);
    return r;
  }
  v->writable = mode == FERRY_OPEN_WRITE;
  /* Each socket-activated clone is its own qemu-nbd: only safe to read,
   * and a process to start, so two at most. */
  if (argv)
    v->can_multi_conn = mode == FERRY_OPEN_READ;
  v->thread_safe = true; /* each clone is a separate handle */
  v->workers = v->can_multi_conn ? NBD_CONNECTIONS : 1;
  v->max_workers = argv ? 2 : 0;
  v->gap_max = NBD_READ_GAP;
  v->zero_max = p->can_zero ? NBD_ZERO_MAX : sizeof volume_zero_buf;
  *out = v;
  return 0;
}

static int nbd_vol_clone(struct ferry_volume *v, struct ferry_volume **out)
{
  if (!v->can_multi_conn)
    return ferry_error(ENOTSUP, "%s: the server does not allow multi-conn",
                       v->name);
  struct nbd_priv *p = P(v);
  return open_with(v->name, v->format, p->mode, &p->uri, p->argv,
                   p->context, out);
}

static const struct volume_ops nbd_ops = {
  .kind = "nbd",
  .pread = nbd_vol_pread,
  .pwrite = nbd_vol_pwrite,
  .zero = nbd_vol_zero,
  .flush = nbd_vol_flush,
  .extents = nbd_vol_extents,
  .aio_start = nbd_vol_aio_start,
  .aio_fd = nbd_vol_aio_fd,
  .aio_notify = nbd_vol_aio_notify,
  .aio_in_flight = nbd_vol_in_flight,
  .is_dead = nbd_vol_is_dead,
  .clone = nbd_vol_clone,
  .reconnect = nbd_vol_reconnect,
  .close = nbd_vol_close,
};

/* A URI's canonical spelling: its name in messages and its identity. */
static void uri_name(const struct nbd_uri *uri, char *buf, size_t len)
{
  if (uri->is_unix)
    snprintf(buf, len, "nbd+unix:///%s?socket=%s", uri->export, uri->socket);
  else
    snprintf(buf, len, "nbd://%s:%s/%s", uri->host, uri->port, uri->export);
}

int nbd_volume_open_uri(const struct nbd_uri *uri, int mode,
                        struct ferry_volume **out)
{
  char name[1024];
  uri_name(uri, name, sizeof name);
  return open_with(name, "raw", mode, uri, NULL, NULL, out);
}

int nbd_volume_open_image(const char *path, const char *format, int mode,
                          struct ferry_volume **out)
{
  char fmt[32];
  snprintf(fmt, sizeof fmt, "--format=%s", format);
  char *argv[] = { "qemu-nbd", fmt, "--cache=writeback",
                   mode == FERRY_OPEN_WRITE ? "--discard=unmap" : "--read-only",
                   "--", (char *)path, NULL };
  char name[4200];
  snprintf(name, sizeof name, "%s (%s via qemu-nbd)", path, format);
  return open_with(name, format, mode, NULL, argv, NULL, out);
}

int nbd_volume_open_bitmap(const char *path, const char *format,
                           const char *bitmap, struct ferry_volume **out)
{
  char fmt[32], bm[300], ctx[320], name[4400];
  snprintf(fmt, sizeof fmt, "--format=%s", format);
  snprintf(bm, sizeof bm, "--bitmap=%s", bitmap);
  snprintf(ctx, sizeof ctx, "qemu:dirty-bitmap:%s", bitmap);
  char *argv[] = { "qemu-nbd", fmt, "--read-only", bm, "--", (char *)path,
                   NULL };
  snprintf(name, sizeof name, "bitmap %s of %s", bitmap, path);
  return open_with(name, format, FERRY_OPEN_READ, NULL, argv, ctx, out);
}

int nbd_volume_open_export(const char *socket, const char *export,
                           const char *context, struct ferry_volume **out)
{
  struct nbd_uri u = { .is_unix = true, .export = (char *)export,
                       .socket = (char *)socket };
  char name[1024];
  uri_name(&u, name, sizeof name);
  if (context)
    snprintf(name + strlen(name), sizeof name - strlen(name), " (%s)",
             context);
  return open_with(name, "raw", FERRY_OPEN_READ, &u, NULL, context, out);
}

/* The nbd client: host is an NBD URI; a volume id names the export. */
/* The NBD driver: a client's host is an NBD URI, its volume id an export
 * name ("" for the URI's own). */
static int nbd_client_open(struct ferry_client *fc, const char *uri,
                           const struct ferry_auth *auth, unsigned flags)
{
  (void)fc;
  (void)auth;
  (void)flags;
  struct nbd_uri u;
  int r = nbd_uri_parse(uri, &u);
  nbd_uri_free(&u);
  return r;
}

static int nbd_endpoint(const char *arg, char **client_uri, char **volume)
{
  *client_uri = strdup(arg);
  *volume = strdup("");
  if (*client_uri && *volume)
    return 0;
  free(*client_uri);
  free(*volume);
  *volume = NULL;
  return ferry_error(ENOMEM, "out of memory");
}

/* The client's URI with the volume id, when given, as its export. */
static int client_uri(struct ferry_client *fc, const char *id,
                      struct nbd_uri *u)
{
  int r = nbd_uri_parse(fc->host, u);
  if (r < 0 || !*id)
    return r;
  free(u->export);
  if (!(u->export = strdup(id))) {
    nbd_uri_free(u);
    return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

static int nbd_client_open_volume(struct ferry_client *fc, const char *id,
                                  int mode, struct ferry_volume **out)
{
  struct nbd_uri u;
  int r = client_uri(fc, id, &u);
  if (r < 0)
    return r;
  r = nbd_volume_open_uri(&u, mode, out);
  nbd_uri_free(&u);
  return r;
}

static int nbd_client_identify(struct ferry_client *fc, const char *id,
                               char *buf, size_t len)
{
  struct nbd_uri u;
  int r = client_uri(fc, id, &u);
  if (r == 0)
    uri_name(&u, buf, len);
  nbd_uri_free(&u);
  return r;
}

static const char *const nbd_schemes[] = { "nbd", "nbd+unix", "nbds",
                                           "nbds+unix", NULL };
/* The NBD URI's own query keys (socket=) are the URI's, not options. */
static const struct ferry_driver_option nbd_options[] = { { NULL, NULL } };

const struct ferry_driver nbd_driver = {
  .info = {
    .name = "nbd",
    .description = "an NBD server's export",
    .uri_help = "nbd://HOST[:PORT]/EXPORT or nbd+unix:///EXPORT?socket=PATH",
    .schemes = nbd_schemes,
    .options = nbd_options,
    .features = FERRY_FEATURE_READ_VOLUMES | FERRY_FEATURE_WRITE_VOLUMES,
  },
  .type = CLIENT_NBD,
  .own_query = true,
  .open = nbd_client_open,
  .endpoint = nbd_endpoint,
  .open_volume = nbd_client_open_volume,
  .identify = nbd_client_identify,
};
