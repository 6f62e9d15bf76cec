/* The copy loop. Each worker thread owns a handle on each volume (a clone,
 * where the volume allows one) and keeps several requests in flight on it:
 * read from the source, then write (or zero, for blocks that are all zero)
 * to the destination. A compare pass runs the same loop but reads the
 * destination back instead of writing, and compares in memory. Synchronous
 * backends complete at once; NBD completes from poll(). No locks on the hot
 * path except the plan cursor. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/clock.h"
#include "cursor.h"
#include "depth.h"
#include "engine.h"

/* Zero detection granularity: runs of all-zero blocks of 4 KiB (a page, a
 * file system block; nbdcopy's --sparse default) become zero requests, so
 * the destination stays as sparse as a file system can make it. */
#define ZERO_BLOCK 4096
#define MAX_SUB 64 /* sub-I/Os of one request after zero detection */
#define DEFAULT_REQUEST_SIZE (2u << 20) /* volumes with no preference */
#define START_DEPTH 8 /* before the depth adapts */
#define HUGE_PAGE (2u << 20)

struct engine;

struct req {
  struct worker *w;
  struct req *next;
  struct seg seg;
  char *buf;
  char *cmp;           /* the destination's bytes, in a compare pass */
  enum { PH_READ, PH_WRITE, PH_CHECK } phase; /* CHECK: reading dst back */
  unsigned tries;
  bool reconnecting;   /* the last try failed to reconnect */
  uint64_t retry_at;   /* ms, monotonic */
  unsigned pending;    /* sub-I/Os not yet done */
  int err;             /* first error of this phase */
  struct vio *failed;  /* the sub-I/O that failed */
  unsigned nsub;
  struct vio sub[MAX_SUB];
};

struct worker {
  struct engine *e;
  pthread_t tid;
  struct ferry_volume *src, *dst;
  bool own_handles;
  struct req *reqs;
  struct req *free_list, *done_head, **done_tail, *retry_list;
  unsigned active; /* started and not finished (retries included) */
  struct slice slice;
  bool in_slice;
  struct depth depth; /* how many of reqs may be in flight */
  unsigned deepest;   /* the most it had in flight */
};

struct engine {
  const struct ferry_sync_opts *o;
  uint64_t request_size, gap_max;
  unsigned nreq, per, retries, retry_delay_ms; /* per: buffers a request */
  char *pool; /* every buffer: nreq * per * request_size for each worker */
  size_t pool_size;
  bool compare; /* this pass compares instead of copying */
  struct cursor cur;
  atomic_uint_fast64_t done, copied, zeroed, retried, verified;
  atomic_int stop;
  atomic_int wrote;
  pthread_mutex_t lock; /* guards err, msg, finished; with cond */
  pthread_cond_t cond;
  unsigned finished;
  struct saved_error first; /* the run's first failure */
};

/* Records the first failure of the run and stops every worker. */
static void engine_fail(struct engine *e, int err, const char *msg)
{
  pthread_mutex_lock(&e->lock);
  if (!e->first.err) {
    e->first.err = err;
    snprintf(e->first.msg, sizeof e->first.msg, "%s", msg);
  }
  pthread_mutex_unlock(&e->lock);
  atomic_store(&e->stop, 1);
}

static void engine_fail_last(struct engine *e)
{
  engine_fail(e, ferry_last_errno() ? ferry_last_errno() : EIO,
              ferry_last_error() ? ferry_last_error() : "unknown error");
}

static bool is_zero(const char *p, size_t len)
{
  /* Compare the first 16 bytes by hand, the rest against itself. */
  for (size_t i = 0; i < len && i < 16; i++)
    if (p[i])
      return false;
  return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}

static void sub_done(struct vio *io)
{
  struct req *r = io->opaque;
  if (io->err && !r->err) {
    r->err = io->err;
    r->failed = io;
  }
  if (--r->pending == 0) {
    struct worker *w = r->w;
    r->next = NULL;
    *w->done_tail = r;
    w->done_tail = &r->next;
  }
}

static void submit(struct ferry_volume *v, struct vio *io)
{
  io->done = sub_done;
  io->err = 0;
  if (v->ops->aio_start) {
    if (v->ops->aio_start(v, io) < 0) {
      io->err = ferry_last_errno() ? ferry_last_errno() : EIO;
      io->done(io);
    }
    return;
  }
  volume_io_blocking(v, io);
  io->done(io);
}

static void add_sub(struct req *r, enum vio_op op, char *buf, uint64_t off,
                    uint64_t len)
{
  r->sub[r->nsub++] = (struct vio){ .op = op, .buf = buf, .offset = off,
                                    .len = len, .opaque = r };
}

/* The writes of [off, off+len), whose bytes are at buf: data, or zero
 * requests for the all-zero runs. `reserve` sub-I/Os are kept for the
 * parts after this one. */
static void plan_part(struct req *r, char *buf, uint64_t off, uint64_t len,
                      unsigned reserve)
{
  struct engine *e = r->w->e;
  struct ferry_volume *dst = r->w->dst;
  if (e->o->no_zero_detect) {
    add_sub(r, VIO_WRITE, buf, off, len);
    return;
  }
  uint64_t pos = 0;
  bool first = true;
  while (pos < len) {
    uint64_t blk = ZERO_BLOCK - (off + pos) % ZERO_BLOCK;
    if (blk > len - pos)
      blk = len - pos;
    bool z = is_zero(buf + pos, blk);
    /* Extend the run while blocks keep the same kind. */
    uint64_t run = blk;
    while (pos + run < len) {
      uint64_t b = len - pos - run < ZERO_BLOCK ? len - pos - run : ZERO_BLOCK;
      if (is_zero(buf + pos + run, b) != z)
        break;
      run += b;
    }
    /* A zero run longer than the destination zeroes at once is written. */
    enum vio_op op = z && run <= dst->zero_max ? VIO_ZERO : VIO_WRITE;
    if (!first && r->sub[r->nsub - 1].op == op && op == VIO_WRITE)
      r->sub[r->nsub - 1].len += run;
    else if (r->nsub + reserve >= MAX_SUB - 1) { /* too fragmented */
      add_sub(r, VIO_WRITE, buf + pos, off + pos, len - pos);
      return;
    } else
      add_sub(r, op, buf + pos, off + pos, run);
    first = false;
    pos += run;
  }
}

/* After the read: the writes of each part that is written. */
static void plan_writes(struct req *r)
{
  const struct seg *g = &r->seg;
  r->nsub = 0;
  if (!g->nparts) {
    plan_part(r, r->buf, g->offset, g->length, 0);
    return;
  }
  for (unsigned i = 0; i < g->nparts; i++)
    plan_part(r, r->buf + (g->part[i].offset - g->offset), g->part[i].offset,
              g->part[i].length, g->nparts - 1 - i);
}

static struct ferry_volume *phase_volume(const struct req *r)
{
  return r->phase == PH_READ ? r->w->src : r->w->dst;
}

static void start_phase(struct req *r)
{
  struct worker *w = r->w;
  if (r->phase == PH_WRITE)
    atomic_store(&w->e->wrote, 1);
  r->err = 0;
  r->failed = NULL;
  r->pending = r->nsub;
  struct ferry_volume *v = phase_volume(r);
  unsigned n = r->nsub;
  for (unsigned i = 0; i < n; i++)
    submit(v, &r->sub[i]);
}

static void start_req(struct worker *w, struct req *r)
{
  r->tries = 0;
  r->reconnecting = false;
  r->nsub = 0;
  if (r->seg.kind == SEG_ZERO) {
    r->phase = PH_WRITE;
    add_sub(r, VIO_ZERO, NULL, r->seg.offset, r->seg.length);
  } else {
    r->phase = PH_READ;
    add_sub(r, VIO_READ, r->buf, r->seg.offset, r->seg.length);
  }
  w->active++;
  start_phase(r);
}

static void release(struct worker *w, struct req *r)
{
  r->next = w->free_list;
  w->free_list = r;
  w->active--;
}

static const char *op_name(enum vio_op op)
{
  return op == VIO_READ ? "read" : op == VIO_WRITE ? "write" : "zero";
}

/* Both buffers are in this process: memcmp, no digest. False (and the run
 * fails) at the first differing byte. */
static bool same_bytes(struct worker *w, struct req *r)
{
  if (memcmp(r->buf, r->cmp, r->seg.length) == 0)
    return true;
  uint64_t at = 0;
  while (r->buf[at] == r->cmp[at])
    at++;
  at += r->seg.offset;
  char msg[1024];
  snprintf(msg, sizeof msg, "source and destination differ at offset %"
           PRIu64 " (sector %" PRIu64 "; source %s, destination %s)", at,
           at / 512, w->src->name, w->dst->name);
  engine_fail(w->e, EILSEQ, msg);
  return false;
}

static void finish(struct worker *w, struct req *r)
{
  struct engine *e = w->e;
  if (atomic_load(&e->stop)) {
    release(w, r);
    return;
  }
  if (r->err) {
    struct ferry_volume *v = phase_volume(r);
    /* A server that refuses a reconnect may be restarting: try again. */
    bool transient = volume_err_transient(r->err) || r->reconnecting;
    if (transient && r->tries < e->retries) {
      r->tries++;
      r->retry_at =
          monotonic_ms() + retry_backoff_ms(e->retry_delay_ms, r->tries);
      r->next = w->retry_list;
      w->retry_list = r;
      return;
    }
    atomic_fetch_add(&e->retried, r->tries);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s of %" PRIu64 " bytes at offset %"
             PRIu64 " (sector %" PRIu64 ") failed%s: %s", v->name,
             op_name(r->failed->op), r->failed->len, r->failed->offset,
             r->failed->offset / 512, r->tries ? " after retries" : "",
             strerror(r->err));
    engine_fail(e, r->err, msg);
    release(w, r);
    return;
  }
  atomic_fetch_add(&e->retried, r->tries);
  if (r->phase == PH_READ) {
    r->tries = 0;
    if (e->compare) {
      r->phase = PH_CHECK;
      r->nsub = 0;
      add_sub(r, VIO_READ, r->cmp, r->seg.offset, r->seg.length);
    } else {
      r->phase = PH_WRITE;
      plan_writes(r);
    }
    start_phase(r);
    return;
  }
  if (r->phase == PH_CHECK) {
    if (!same_bytes(w, r)) {
      release(w, r);
      return;
    }
    atomic_fetch_add(&e->verified, r->seg.length);
  } else {
    atomic_fetch_add(r->seg.kind == SEG_COPY ? &e->copied : &e->zeroed,
                     seg_bytes(&r->seg));
    if (r->seg.kind == SEG_COPY)
      depth_account(&w->depth, r->seg.length, monotonic_ns());
  }
  atomic_fetch_add(&e->done, seg_bytes(&r->seg));
  release(w, r);
}

/* A dead connection is reconnected once nothing is in flight on it. */
static int revive(struct ferry_volume *v)
{
  if (!v->ops->is_dead || !v->ops->is_dead(v))
    return 0;
  if (v->ops->aio_in_flight && v->ops->aio_in_flight(v) > 0)
    return 1; /* not yet */
  if (!v->ops->reconnect)
    return ferry_error(ENOTCONN, "%s: connection lost", v->name);
  return v->ops->reconnect(v) < 0 ? -1 : 0;
}

static void run_retries(struct worker *w, uint64_t *next_due)
{
  uint64_t now = monotonic_ms();
  struct req **pp = &w->retry_list;
  while (*pp) {
    struct req *r = *pp;
    if (r->retry_at > now) {
      if (r->retry_at < *next_due)
        *next_due = r->retry_at;
      pp = &r->next;
      continue;
    }
    int rv = revive(phase_volume(r));
    if (rv == 1) { /* wait for the dead handle to drain */
      *next_due = now + 10 < *next_due ? now + 10 : *next_due;
      pp = &r->next;
      continue;
    }
    *pp = r->next;
    r->reconnecting = rv < 0;
    if (rv < 0) { /* reconnect failed: counts as a try */
      r->err = ferry_last_errno() ? ferry_last_errno() : ENOTCONN;
      r->pending = 0;
      if (!r->failed)
        r->failed = &r->sub[0];
      finish(w, r);
      continue;
    }
    start_phase(r);
  }
}

static void wait_events(struct worker *w, int timeout)
{
  struct pollfd p[2];
  struct ferry_volume *v[2] = { w->src, w->dst };
  int n = 0;
  struct ferry_volume *who[2];
  for (int i = 0; i < 2; i++) {
    if (!v[i]->ops->aio_fd || v[i]->ops->aio_in_flight(v[i]) == 0)
      continue;
    if (v[i]->ops->is_dead && v[i]->ops->is_dead(v[i]))
      continue;
    short ev;
    int fd = v[i]->ops->aio_fd(v[i], &ev);
    if (fd < 0)
      continue;
    p[n] = (struct pollfd){ .fd = fd, .events = ev };
    who[n++] = v[i];
  }
  if (n == 0) {
    if (timeout > 0)
      usleep(timeout * 1000);
    return;
  }
  if (poll(p, n, timeout) <= 0)
    return;
  for (int i = 0; i < n; i++)
    if (p[i].revents)
      who[i]->ops->aio_notify(who[i], p[i].revents);
}

/* The worker's next request: from its slice, or from a new slice. */
static bool next_seg(struct worker *w, struct seg *out)
{
  for (;;) {
    if (w->in_slice && slice_next(&w->slice, out))
      return true;
    if (!(w->in_slice = cursor_slice(&w->e->cur, &w->slice)))
      return false;
  }
}

static void *worker_main(void *arg)
{
  struct worker *w = arg;
  struct engine *e = w->e;
  bool exhausted = false;
  for (;;) {
    uint64_t next_due = UINT64_MAX;
    if (!atomic_load(&e->stop)) {
      run_retries(w, &next_due);
      while (w->free_list && w->active < w->depth.cur && !exhausted &&
             !atomic_load(&e->stop)) {
        struct req *r = w->free_list;
        if (!next_seg(w, &r->seg)) {
          exhausted = true;
          break;
        }
        w->free_list = r->next;
        start_req(w, r);
        if (w->active > w->deepest)
          w->deepest = w->active;
      }
    } else {
      while (w->retry_list) { /* stopping: drop what waits for a retry */
        struct req *r = w->retry_list;
        w->retry_list = r->next;
        release(w, r);
      }
    }
    if (w->done_head) {
      struct req *r = w->done_head;
      w->done_head = r->next;
      if (!w->done_head)
        w->done_tail = &w->done_head;
      finish(w, r);
      continue;
    }
    if (w->active == 0 && (exhausted || atomic_load(&e->stop)))
      break;
    uint64_t now = monotonic_ms();
    int timeout = 1000;
    if (next_due != UINT64_MAX)
      timeout = next_due > now ? (int)(next_due - now) : 0;
    wait_events(w, timeout);
  }
  if (!atomic_load(&e->stop) && !e->compare &&
      w->dst->ops->flush(w->dst) < 0)
    engine_fail_last(e);
  pthread_mutex_lock(&e->lock);
  e->finished++;
  pthread_cond_signal(&e->cond);
  pthread_mutex_unlock(&e->lock);
  return NULL;
}

/* Sets up n workers; clones handles for workers after the first, and uses
 * fewer workers when a volume cannot be cloned. Worker i's requests take
 * their buffers from its share of the pool. */
static unsigned workers_init(struct engine *e, struct worker *ws, unsigned n,
                             struct ferry_volume *src,
                             struct ferry_volume *dst)
{
  unsigned made = 0;
  size_t rs = e->request_size, share = (size_t)e->nreq * e->per * rs;
  for (unsigned i = 0; i < n; i++) {
    struct worker *w = &ws[i];
    memset(w, 0, sizeof *w);
    w->e = e;
    w->done_tail = &w->done_head;
    if (i == 0) {
      w->src = src;
      w->dst = dst;
    } else {
      if (!src->ops->clone || !dst->ops->clone ||
          src->ops->clone(src, &w->src) < 0)
        break;
      if (dst->ops->clone(dst, &w->dst) < 0) {
        w->src->ops->close(w->src);
        break;
      }
      w->own_handles = true;
    }
    if (!(w->reqs = calloc(e->nreq, sizeof *w->reqs))) {
      if (w->own_handles) {
        w->src->ops->close(w->src);
        w->dst->ops->close(w->dst);
      }
      break;
    }
    /* Pushed in order, taken from the top: a worker that keeps few in
     * flight reuses the same few buffers, and the rest are never touched
     * (so never resident). */
    for (unsigned k = 0; k < e->nreq; k++) {
      struct req *r = &w->reqs[k];
      r->w = w;
      r->buf = e->pool + i * share + (size_t)(e->nreq - 1 - k) * e->per * rs;
      r->cmp = e->per > 1 ? r->buf + rs : NULL;
      r->next = w->free_list;
      w->free_list = r;
    }
    made++;
  }
  return made;
}

static void workers_free(struct worker *ws, unsigned n)
{
  for (unsigned i = 0; i < n; i++) {
    if (ws[i].own_handles) {
      ws[i].src->ops->close(ws[i].src);
      ws[i].dst->ops->close(ws[i].dst);
    }
    free(ws[i].reqs);
  }
}

/* The caller's progress callback, told which pass this is; non-zero to
 * cancel. */
static int report(struct engine *e, uint64_t done, uint64_t total)
{
  const struct ferry_sync_opts *o = e->o;
  if (o->phase_progress)
    return o->phase_progress(o->progress_opaque,
                             e->compare ? "verify" : "copy", done, total);
  return o->progress ? o->progress(o->progress_opaque, done, total) : 0;
}

/* Runs the workers over the cursor; reports progress from this thread and
 * cancels when the callback asks. */
static void run_pass(struct engine *e, struct worker *ws, unsigned n,
                     uint64_t total)
{
  e->finished = 0;
  for (unsigned i = 0; i < n; i++) {
    ws[i].in_slice = false;
    depth_init(&ws[i].depth, e->o->requests ? e->o->requests : START_DEPTH,
               e->nreq, e->o->requests != 0);
  }
  unsigned started = 0;
  for (; started < n; started++)
    if (pthread_create(&ws[started].tid, NULL, worker_main,
                       &ws[started]) != 0) {
      engine_fail(e, EAGAIN, "cannot start a worker thread");
      break;
    }
  /* a report every 100 ms (the callback is also how a caller cancels, so
   * a stalled copy keeps asking), but the end once, below: a worker's end
   * wakes this loop too */
  pthread_mutex_lock(&e->lock);
  while (e->finished < started) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&e->cond, &e->lock, &ts);
    uint64_t done = atomic_load(&e->done);
    if (e->finished < started && done < total) {
      pthread_mutex_unlock(&e->lock);
      if (report(e, done, total))
        engine_fail(e, ECANCELED, "cancelled by the progress callback");
      pthread_mutex_lock(&e->lock);
    }
  }
  pthread_mutex_unlock(&e->lock);
  for (unsigned i = 0; i < started; i++)
    pthread_join(ws[i].tid, NULL);
  if (!e->first.err)
    report(e, total, total);
}

/* A slice: an eighth of each worker's share of the work, so that the
 * last slices finish close together, but between 8 requests (for slices
 * worth reading ahead in) and nbdcopy's 128 MiB. */
static uint64_t slice_work(const struct engine *e, unsigned n, uint64_t work)
{
  uint64_t s = work / (8 * (uint64_t)n), lo = 8 * e->request_size;
  return s < lo ? lo : s > (128u << 20) ? 128u << 20 : s;
}

static void copy_pass(struct engine *e, struct worker *ws, unsigned n,
                      const struct plan *plan)
{
  uint64_t zmax = ws->dst->zero_max < (64ull << 20) ? ws->dst->zero_max
                                                    : 64ull << 20;
  cursor_init(&e->cur, plan, slice_work(e, n, plan->copy_bytes),
              e->request_size, zmax, e->gap_max);
  run_pass(e, ws, n, plan->copy_bytes + plan->zero_bytes);
  cursor_destroy(&e->cur);
}

/* Every byte of `ranges` is read on both sides (holes too: a proof must not
 * trust either side's allocation map), and no more: gaps are not read. */
static void compare_pass(struct engine *e, struct worker *ws, unsigned n,
                         const struct extent_list *ranges)
{
  struct plan p = { 0 };
  int r = 0;
  for (size_t i = 0; i < ranges->n && r == 0; i++)
    r = plan_add(&p, ranges->v[i].offset, ranges->v[i].length, SEG_COPY);
  if (r < 0) {
    engine_fail_last(e);
  } else {
    e->compare = true;
    atomic_store(&e->done, 0);
    cursor_init(&e->cur, &p, slice_work(e, n, p.copy_bytes), e->request_size,
                e->request_size, 0);
    run_pass(e, ws, n, extents_total(ranges));
    cursor_destroy(&e->cur);
  }
  plan_free(&p);
}

/* The request size: the caller's, or the larger of what the volumes copy
 * best with (NBD servers say; files have no preference). */
static uint64_t pick_request_size(const struct ferry_sync_opts *o,
                                  const struct ferry_volume *src,
                                  const struct ferry_volume *dst)
{
  if (o->request_size)
    return o->request_size;
  uint64_t s = src->io_size > dst->io_size ? src->io_size : dst->io_size;
  return s ? s : DEFAULT_REQUEST_SIZE;
}

/* Sizes the pool: n workers (fewer if the budget holds fewer requests), each
 * with an equal share of requests. */
static int size_pool(struct engine *e, unsigned *n, bool async)
{
  const struct ferry_sync_opts *o = e->o;
  uint64_t one = e->request_size * e->per;
  uint64_t slots = o->memory / one;
  if (slots == 0)
    return ferry_error(EINVAL, "a memory budget of %" PRIu64 " bytes holds "
                       "no request of %" PRIu64 " bytes%s: give more memory "
                       "or a smaller request size", o->memory,
                       e->request_size, e->per > 1 ? " (twice that, to "
                       "compare)" : "");
  if (*n > slots)
    *n = (unsigned)slots;
  /* Requests in flight only help where some side completes asynchronously;
   * synchronous pairs copy one request at a time per worker. */
  uint64_t q = async ? slots / *n : 1;
  if (q > ENGINE_MAX_DEPTH)
    q = ENGINE_MAX_DEPTH;
  if (o->requests && o->requests < q)
    q = o->requests;
  e->nreq = (unsigned)q;
  size_t bytes = (size_t)*n * e->nreq * one;
  e->pool_size = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  e->pool = mmap(NULL, e->pool_size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (e->pool == MAP_FAILED) {
    e->pool = NULL;
    return ferry_error(ENOMEM, "out of memory for %zu bytes of copy buffers",
                       bytes);
  }
  /* Buffers are touched for the first time during the copy: in 4 KiB pages
   * that was 12,000 page faults for 48 MiB of buffers, as costly as the
   * copy of an incremental list of 102 MiB. Huge pages take 24. */
  madvise(e->pool, e->pool_size, MADV_HUGEPAGE);
  return 0;
}

int engine_run(struct ferry_volume *src, struct ferry_volume *dst,
               const struct plan *plan, const struct extent_list *ranges,
               const struct ferry_sync_opts *o, struct ferry_sync_stats *st)
{
  struct engine e = { .o = o };
  bool compare_only = o->mode == FERRY_SYNC_COMPARE;
  bool async = src->ops->aio_start || dst->ops->aio_start;
  e.request_size = pick_request_size(o, src, dst);
  e.per = compare_only || o->verify ? 2 : 1;
  e.gap_max = o->read_gap == FERRY_READ_GAP_NEVER ? 0
             : o->read_gap ? o->read_gap : src->gap_max;
  e.retries = o->retries;
  e.retry_delay_ms = o->retry_delay_ms;

  /* What the volumes copy best with, the more of the two: a file's
   * synchronous I/O wants threads, each with a read or write in flight;
   * NBD keeps requests in flight on each connection, on as many
   * connections as the server allows (iSCSI: sessions). */
  unsigned pref = src->workers > dst->workers ? src->workers : dst->workers;
  unsigned n = o->workers ? o->workers : pref ? pref : async ? 2 : 8;
  if (!o->workers && src->max_workers && n > src->max_workers)
    n = src->max_workers;
  if (!o->workers && dst->max_workers && n > dst->max_workers)
    n = dst->max_workers;
  if (!src->thread_safe || !dst->thread_safe)
    n = 1;
  int r = size_pool(&e, &n, async);
  if (r < 0)
    return r;
  struct worker *ws = calloc(n, sizeof *ws);
  if (!ws) {
    munmap(e.pool, e.pool_size);
    return ferry_error(ENOMEM, "out of memory");
  }
  pthread_mutex_init(&e.lock, NULL);
  pthread_cond_init(&e.cond, NULL);
  n = workers_init(&e, ws, n, src, dst);
  if (n == 0) {
    free(ws);
    munmap(e.pool, e.pool_size);
    return ferry_error(ENOMEM, "out of memory for copy requests");
  }
  st->workers = n;
  st->request_size = e.request_size;
  st->memory = o->memory;
  st->started = true;
  if (!compare_only)
    copy_pass(&e, ws, n, plan);
  if (!e.first.err && (compare_only || o->verify))
    compare_pass(&e, ws, n, ranges);
  st->copied_bytes = atomic_load(&e.copied);
  st->zeroed_bytes = atomic_load(&e.zeroed);
  st->verified_bytes = atomic_load(&e.verified);
  st->retries = atomic_load(&e.retried);
  st->wrote = atomic_load(&e.wrote);
  st->requests = 0;
  for (unsigned i = 0; i < n; i++)
    if (ws[i].deepest > st->requests)
      st->requests = ws[i].deepest;
  st->buffer_bytes = (uint64_t)n * st->requests * e.per * e.request_size;
  workers_free(ws, n);
  free(ws);
  munmap(e.pool, e.pool_size);
  pthread_cond_destroy(&e.cond);
  pthread_mutex_destroy(&e.lock);
  if (e.first.err)
    return error_restore(&e.first);
  return 0;
}
