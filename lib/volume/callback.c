/* A hand-made client_t: its read/write callbacks are the whole backend.
 * Nothing is known of its size, allocation or thread safety, so the engine
 * drives it from one thread with whole-range reads and writes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/ferry.h>

#include "../core/error.h"
#include "volume.h"

struct cb_priv {
  client_t *c;
  char *id;
};

static struct cb_priv *P(struct ferry_volume *v) { return v->priv; }

static int cb_result(struct ferry_volume *v, const char *what, int r,
                     uint64_t len, uint64_t off)
{
  if (r >= 0)
    return 0;
  const char *msg = ferry_last_error(); /* a callback may have set one */
  int e = r < -4095 ? EIO : -r;
  return ferry_error(e, "%s: %s of %" PRIu64 " bytes at offset %" PRIu64
                     " failed: %s", v->name, what, len, off,
                     msg ? msg : strerror(e));
}

static int cb_pread(struct ferry_volume *v, void *buf, size_t len,
                    uint64_t off)
{
  if (!P(v)->c->read)
    return ferry_error(ENOTSUP, "%s: the client has no read callback",
                       v->name);
  ferry_error_clear();
  return cb_result(v, "read", P(v)->c->read(P(v)->c->client, P(v)->id, buf,
                                            len, off), len, off);
}

static int cb_pwrite(struct ferry_volume *v, const void *buf, size_t len,
                     uint64_t off)
{
  if (!P(v)->c->write)
    return ferry_error(ENOTSUP, "%s: the client has no write callback",
                       v->name);
  ferry_error_clear();
  return cb_result(v, "write", P(v)->c->write(P(v)->c->client, P(v)->id,
                                              (char *)buf, len, off),
                   len, off);
}

static int cb_zero(struct ferry_volume *v, uint64_t len, uint64_t off)
{
  return volume_zero_by_writes(v, len, off);
}

static int cb_flush(struct ferry_volume *v)
{
  (void)v; /* the seed's client has no flush: writes are its own business */
  return 0;
}

static void cb_close(struct ferry_volume *v)
{
  free(P(v)->id);
  free(P(v));
  volume_free(v);
}

static const struct volume_ops callback_ops = {
  .kind = "callback",
  .pread = cb_pread,
  .pwrite = cb_pwrite,
  .zero = cb_zero,
  .flush = cb_flush,
  .close = cb_close,
};

void callback_identity(struct client *c, const char *volume_id, char *buf,
                       size_t len)
{
  /* Both pointers: callbacks may be closures with a NULL c->client. */
  snprintf(buf, len, "callback:%p:%p:%s", (void *)c, c->client, volume_id);
}

int callback_volume_open(struct client *c, const char *volume_id, int mode,
                         struct ferry_volume **out)
{
  if (mode == FERRY_OPEN_WRITE ? !c->write : !c->read)
    return ferry_error(EINVAL, "hand-made client has no %s callback",
                       mode == FERRY_OPEN_WRITE ? "write" : "read");
  char name[512];
  snprintf(name, sizeof name, "volume '%s' of a hand-made client",
           volume_id);
  struct cb_priv *p = calloc(1, sizeof *p);
  struct ferry_volume *v = p ? volume_new(&callback_ops, name) : NULL;
  if (!v || !(p->id = strdup(volume_id))) {
    free(p);
    volume_free(v);
    return ferry_error(ENOMEM, "out of memory");
  }
  p->c = c;
  v->priv = p;
  v->writable = mode == FERRY_OPEN_WRITE;
  v->zero_max = sizeof volume_zero_buf;
  *out = v;
  return 0;
}
