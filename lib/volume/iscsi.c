/* iSCSI volumes through libiscsi (a userspace initiator): an ELF volume's
 * LUN. Each handle is its own session, so that the engine's workers
 * (clones) run in parallel; READ16/WRITE16 in whole blocks (an unaligned
 * request goes through a bounce buffer, a write read-modify-write), zeroes
 * as WRITE SAME (with UNMAP where the LUN provisions thinly), flush as
 * SYNCHRONIZE CACHE, and a dropped session is logged in again
 * (reconnect). This first version waits for each command (one in flight
 * per session); the engine's parallelism comes from its sessions. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "../core/error.h"
#include "../core/log.h"
#include "volume.h"

/* At most this many bytes in one command (tgt and most targets take
 * 1 MiB at least). */
#define ISCSI_MAX_IO (1u << 20)

struct iscsi_priv {
  struct iscsi_context *ctx;
  char portal[300], target[256], initiator[256];
  int lun;
  uint32_t block;
  bool thin;         /* logical block provisioning: UNMAP frees */
  bool dead;
};

static struct iscsi_priv *P(struct ferry_volume *v) { return v->priv; }

static int sense_err(struct ferry_volume *v, struct scsi_task *t,
                     const char *what, uint64_t len, uint64_t off)
{
  struct iscsi_priv *p = P(v);
  int e = EIO;
  const char *why = iscsi_get_error(p->ctx);
  if (!t) { /* no answer: the session is gone */
    p->dead = true;
    e = ENOTCONN;
  } else if (t->status == SCSI_STATUS_CHECK_CONDITION) {
    why = scsi_sense_key_str(t->sense.key);
    e = t->sense.key == SCSI_SENSE_ILLEGAL_REQUEST ? EINVAL
        : t->sense.key == SCSI_SENSE_DATA_PROTECTION ? EROFS
        : t->sense.key == SCSI_SENSE_UNIT_ATTENTION ? EAGAIN : EIO;
  }
  if (t)
    scsi_free_scsi_task(t);
  return ferry_error(e, "%s: %s of %" PRIu64 " bytes at offset %" PRIu64
                     ": %s", v->name, what, len, off, why ? why : "failed");
}

static int login(struct iscsi_priv *p, const char *name, int64_t *size)
{
  struct iscsi_context *c = iscsi_create_context(p->initiator);
  if (!c)
    return ferry_error(ENOMEM, "iscsi_create_context failed");
  iscsi_set_targetname(c, p->target);
  iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE_CRC32C);
  if (iscsi_full_connect_sync(c, p->portal, p->lun) != 0) {
    int r = ferry_error(ECONNREFUSED, "%s: iSCSI login to %s at %s: %s",
                        name, p->target, p->portal, iscsi_get_error(c));
    iscsi_destroy_context(c);
    return r;
  }
  struct scsi_task *t = iscsi_readcapacity16_sync(c, p->lun);
  struct scsi_readcapacity16 *rc = t && t->status == SCSI_STATUS_GOOD
                                       ? scsi_datain_unmarshall(t) : NULL;
  if (!rc) {
    int r = ferry_error(EIO, "%s: READ CAPACITY of LUN %d: %s", name, p->lun,
                        iscsi_get_error(c));
    if (t)
      scsi_free_scsi_task(t);
    iscsi_logout_sync(c);
    iscsi_destroy_context(c);
    return r;
  }
  p->block = rc->block_length;
  p->thin = rc->lbpme;
  *size = (int64_t)((rc->returned_lba + 1) * (uint64_t)rc->block_length);
  scsi_free_scsi_task(t);
  p->ctx = c;
  p->dead = false;
  return 0;
}

/* One aligned read or write of whole blocks. */
static int rw_blocks(struct ferry_volume *v, bool write, void *buf,
                     uint64_t len, uint64_t off)
{
  struct iscsi_priv *p = P(v);
  for (uint64_t done = 0; done < len;) {
    uint32_t n = (uint32_t)(len - done < ISCSI_MAX_IO ? len - done
                                                      : ISCSI_MAX_IO);
    uint64_t lba = (off + done) / p->block;
    struct scsi_task *t =
        write ? iscsi_write16_sync(p->ctx, p->lun, lba,
                                   (unsigned char *)buf + done, n,
                                   (int)p->block, 0, 0, 0, 0, 0)
              : iscsi_read16_sync(p->ctx, p->lun, lba, n, (int)p->block, 0, 0,
                                  0, 0, 0);
    if (!t || t->status != SCSI_STATUS_GOOD)
      return sense_err(v, t, write ? "write" : "read", n, off + done);
    if (!write) {
      if ((uint64_t)t->datain.size < n) {
        scsi_free_scsi_task(t);
        return ferry_error(EIO, "%s: short read at offset %" PRIu64,
                           v->name, off + done);
      }
      memcpy((unsigned char *)buf + done, t->datain.data, n);
    }
    scsi_free_scsi_task(t);
    done += n;
  }
  return 0;
}

/* [off, off+len) grown to whole blocks: its start and length. */
static void widen(const struct iscsi_priv *p, uint64_t off, uint64_t len,
                  uint64_t *start, uint64_t *wlen)
{
  *start = off / p->block * p->block;
  uint64_t end = (off + len + p->block - 1) / p->block * p->block;
  *wlen = end - *start;
}

static int iscsi_vol_pread(struct ferry_volume *v, void *buf, size_t len,
                           uint64_t off)
{
  uint64_t s, n;
  widen(P(v), off, len, &s, &n);
  if (s == off && n == len)
    return rw_blocks(v, false, buf, len, off);
  unsigned char *b = malloc(n);
  if (!b)
    return ferry_error(ENOMEM, "out of memory");
  int r = rw_blocks(v, false, b, n, s);
  if (r == 0)
    memcpy(buf, b + (off - s), len);
  free(b);
  return r;
}

static int iscsi_vol_pwrite(struct ferry_volume *v, const void *buf,
                            size_t len, uint64_t off)
{
  uint64_t s, n;
  widen(P(v), off, len, &s, &n);
  if (s == off && n == len)
    return rw_blocks(v, true, (void *)buf, len, off);
  unsigned char *b = malloc(n); /* the partial blocks read, then written */
  if (!b)
    return ferry_error(ENOMEM, "out of memory");
  int r = rw_blocks(v, false, b, n, s);
  if (r == 0) {
    memcpy(b + (off - s), buf, len);
    r = rw_blocks(v, true, b, n, s);
  }
  free(b);
  return r;
}

static int iscsi_vol_zero(struct ferry_volume *v, uint64_t len, uint64_t off)
{
  struct iscsi_priv *p = P(v);
  uint64_t s, n;
  widen(p, off, len, &s, &n);
  if (s != off || n != len || len < p->block)
    return volume_zero_by_writes(v, len, off);
  unsigned char *zero = calloc(1, p->block);
  if (!zero)
    return ferry_error(ENOMEM, "out of memory");
  int r = 0;
  /* WRITE SAME of one zero block over at most 32 MiB at a time, with
   * UNMAP set on thin LUNs: the blocks read as zeroes either way */
  for (uint64_t done = 0; r == 0 && done < len;) {
    uint64_t chunk = len - done < (32u << 20) ? len - done : (32u << 20);
    struct scsi_task *t = iscsi_writesame16_sync(
        p->ctx, p->lun, (off + done) / p->block, zero, p->block,
        (uint32_t)(chunk / p->block), 0, p->thin, 0, 0);
    if (!t || t->status != SCSI_STATUS_GOOD) {
      if (t && t->status == SCSI_STATUS_CHECK_CONDITION &&
          t->sense.key == SCSI_SENSE_ILLEGAL_REQUEST) {
        scsi_free_scsi_task(t); /* no WRITE SAME here: write the zeroes */
        r = volume_zero_by_writes(v, len - done, off + done);
        break;
      }
      r = sense_err(v, t, "write same", chunk, off + done);
      break;
    }
    scsi_free_scsi_task(t);
    done += chunk;
  }
  free(zero);
  return r;
}

static int iscsi_vol_flush(struct ferry_volume *v)
{
  struct iscsi_priv *p = P(v);
  struct scsi_task *t = iscsi_synchronizecache16_sync(p->ctx, p->lun, 0, 0,
                                                      0, 0);
  if (!t || t->status != SCSI_STATUS_GOOD)
    return sense_err(v, t, "synchronize cache", 0, 0);
  scsi_free_scsi_task(t);
  return 0;
}

static bool iscsi_vol_is_dead(struct ferry_volume *v)
{
  return P(v)->dead;
}

static int iscsi_vol_reconnect(struct ferry_volume *v)
{
  struct iscsi_priv *p = P(v);
  if (p->ctx)
    iscsi_destroy_context(p->ctx);
  p->ctx = NULL;
  int64_t size;
  ferry_log("iscsi", "%s: log in again", v->name);
  int r = login(p, v->name, &size);
  if (r == 0 && size != v->size)
    r = ferry_error(EIO, "%s: its size changed (%" PRId64 " bytes, was %"
                    PRId64 ")", v->name, size, v->size);
  if (r < 0)
    p->dead = true;
  return r;
}

static void iscsi_vol_close(struct ferry_volume *v)
{
  struct iscsi_priv *p = P(v);
  if (p && p->ctx) {
    if (!p->dead)
      iscsi_logout_sync(p->ctx);
    iscsi_destroy_context(p->ctx);
  }
  free(p);
  volume_free(v);
}

static int open_priv(const char *name, struct iscsi_priv *tmpl, int mode,
                     struct ferry_volume **out);

static int iscsi_vol_clone(struct ferry_volume *v, struct ferry_volume **out)
{
  return open_priv(v->name, P(v), v->writable ? FERRY_OPEN_WRITE
                                              : FERRY_OPEN_READ, out);
}

static const struct volume_ops iscsi_ops = {
  .kind = "iscsi",
  .pread = iscsi_vol_pread,
  .pwrite = iscsi_vol_pwrite,
  .zero = iscsi_vol_zero,
  .flush = iscsi_vol_flush,
  .is_dead = iscsi_vol_is_dead,
  .reconnect = iscsi_vol_reconnect,
  .clone = iscsi_vol_clone,
  .close = iscsi_vol_close,
};

static int open_priv(const char *name, struct iscsi_priv *tmpl, int mode,
                     struct ferry_volume **out)
{
  struct iscsi_priv *p = calloc(1, sizeof *p);
  struct ferry_volume *v = p ? volume_new(&iscsi_ops, name) : NULL;
  if (!v) {
    free(p);
    return ferry_error(ENOMEM, "out of memory");
  }
  memcpy(p->portal, tmpl->portal, sizeof p->portal);
  memcpy(p->target, tmpl->target, sizeof p->target);
  memcpy(p->initiator, tmpl->initiator, sizeof p->initiator);
  p->lun = tmpl->lun;
  v->priv = p;
  int r = login(p, name, &v->size);
  if (r < 0) {
    iscsi_vol_close(v);
    return r;
  }
  snprintf(v->format, sizeof v->format, "raw");
  v->writable = mode == FERRY_OPEN_WRITE;
  v->can_multi_conn = v->thread_safe = true; /* a session per clone */
  v->zero_max = 1ull << 30;
  *out = v;
  return 0;
}

int iscsi_volume_open(const char *portal, const char *target, int lun,
                      const char *initiator, int mode,
                      struct ferry_volume **out)
{
  struct iscsi_priv t = { .lun = lun };
  if ((size_t)snprintf(t.portal, sizeof t.portal, "%s", portal) >=
          sizeof t.portal ||
      (size_t)snprintf(t.target, sizeof t.target, "%s", target) >=
          sizeof t.target ||
      (size_t)snprintf(t.initiator, sizeof t.initiator, "%s", initiator) >=
          sizeof t.initiator)
    return ferry_error(ENAMETOOLONG, "iSCSI portal, target or initiator "
                       "name too long");
  char name[700];
  snprintf(name, sizeof name, "iscsi://%s/%s/%d", portal, target, lun);
  ferry_log("iscsi", "log in to %s as %s", name, initiator);
  return open_priv(name, &t, mode, out);
}
