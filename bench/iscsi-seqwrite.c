/* The limit for bench/elf.py: a target's raw sequential write throughput
 * through libiscsi, with nothing else in the way (no source to read, no
 * zero detection). Writes BYTES of one random buffer from offset 0 in
 * SIZE-byte WRITE16s, DEPTH in flight on one session, then SYNCHRONIZE
 * CACHE, and prints the seconds it took.
 *
 *   iscsi-seqwrite iscsi://HOST:PORT/IQN/LUN BYTES [SIZE [DEPTH]] */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct run {
  struct iscsi_context *ctx;
  int lun, block;
  uint64_t bytes, size, next;
  unsigned char *buf;
  unsigned in_flight;
  int failed;
};

static void start_next(struct run *r);

static void written(struct iscsi_context *ctx, int status, void *data,
                    void *opaque)
{
  struct run *r = opaque;
  if (status != SCSI_STATUS_GOOD) {
    fprintf(stderr, "write failed: %s\n", iscsi_get_error(ctx));
    r->failed = 1;
  }
  scsi_free_scsi_task(data);
  r->in_flight--;
  if (!r->failed)
    start_next(r);
}

static void start_next(struct run *r)
{
  if (r->next >= r->bytes)
    return;
  uint64_t n = r->bytes - r->next < r->size ? r->bytes - r->next : r->size;
  if (!iscsi_write16_task(r->ctx, r->lun, r->next / r->block, r->buf,
                          (uint32_t)n, r->block, 0, 0, 0, 0, 0, written, r)) {
    fprintf(stderr, "write16: %s\n", iscsi_get_error(r->ctx));
    r->failed = 1;
    return;
  }
  r->next += n;
  r->in_flight++;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s ISCSI-URL BYTES [SIZE [DEPTH]]\n", argv[0]);
    return 2;
  }
  struct run r = { .bytes = strtoull(argv[2], NULL, 0),
                   .size = argc > 3 ? strtoull(argv[3], NULL, 0) : 1 << 20 };
  unsigned depth = argc > 4 ? (unsigned)atoi(argv[4]) : 16;
  r.ctx = iscsi_create_context("iqn.2024-01.io.ferry:bench");
  struct iscsi_url *u = r.ctx ? iscsi_parse_full_url(r.ctx, argv[1]) : NULL;
  if (!u) {
    fprintf(stderr, "bad URL %s\n", argv[1]);
    return 2;
  }
  iscsi_set_targetname(r.ctx, u->target);
  iscsi_set_session_type(r.ctx, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(r.ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
  if (iscsi_full_connect_sync(r.ctx, u->portal, u->lun) != 0) {
    fprintf(stderr, "login: %s\n", iscsi_get_error(r.ctx));
    return 1;
  }
  r.lun = u->lun;
  r.block = 512;
  r.buf = malloc(r.size);
  if (!r.buf)
    return 1;
  srand(1);
  for (uint64_t i = 0; i < r.size; i++)
    r.buf[i] = (unsigned char)rand();

  double t0 = now();
  for (unsigned i = 0; i < depth; i++)
    start_next(&r);
  while (r.in_flight && !r.failed) {
    struct pollfd p = { .fd = iscsi_get_fd(r.ctx),
                        .events = (short)iscsi_which_events(r.ctx) };
    if (poll(&p, 1, -1) < 0 || iscsi_service(r.ctx, p.revents) < 0) {
      fprintf(stderr, "service: %s\n", iscsi_get_error(r.ctx));
      return 1;
    }
  }
  struct scsi_task *t = r.failed ? NULL
      : iscsi_synchronizecache16_sync(r.ctx, r.lun, 0, 0, 0, 0);
  if (!t || t->status != SCSI_STATUS_GOOD) {
    fprintf(stderr, "failed: %s\n", iscsi_get_error(r.ctx));
    return 1;
  }
  scsi_free_scsi_task(t);
  printf("%.3f\n", now() - t0);
  iscsi_logout_sync(r.ctx);
  iscsi_destroy_url(u);
  iscsi_destroy_context(r.ctx);
  free(r.buf);
  return 0;
}
