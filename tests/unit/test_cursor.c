/* The plan handed out in slices and requests (lib/sync/cursor.c) and the
 * queue depth that adapts to throughput (lib/sync/depth.c). */
#include <stdlib.h>

#include "../../lib/sync/cursor.h"
#include "../../lib/sync/depth.h"
#include "check.h"

#define K 1024ull
#define M (1024ull * 1024)

/* A plan of n segments: offsets and lengths in KiB, z[i] for ZERO. */
static void make_plan(struct plan *p, const uint64_t *off, const uint64_t *len,
                      const int *z, size_t n)
{
  *p = (struct plan){ 0 };
  for (size_t i = 0; i < n; i++)
    CHECK(plan_add(p, off[i] * K, len[i] * K, z[i] ? SEG_ZERO : SEG_COPY) ==
          0);
}

/* Every byte of the plan comes out once, in order, as requests within
 * their limits, whatever the slice size; workers taking slices in turn
 * (w of them) see the same requests between them. */
static void check_cover(const struct plan *p, uint64_t slice_work,
                        uint64_t copy_max, uint64_t zero_max, unsigned w)
{
  struct cursor c;
  cursor_init(&c, p, slice_work, copy_max, zero_max, 0);
  struct slice s[4];
  bool live[4] = { false };
  uint64_t total = 0;
  unsigned turn = 0, idle = 0;
  CHECK(w <= 4);
  /* Each worker takes one request at a time in turn; requests are checked
   * per worker (in order within its slice), coverage overall. */
  uint64_t *seen = calloc(p->m.n + 1, sizeof *seen);
  while (idle < w) {
    unsigned k = turn++ % w;
    struct seg g;
    if (!live[k] || !slice_next(&s[k], &g)) {
      if (!(live[k] = cursor_slice(&c, &s[k]))) {
        idle++;
        continue;
      }
      CHECK(slice_next(&s[k], &g)); /* a slice is never empty */
    }
    idle = 0;
    uint64_t max = g.kind == SEG_COPY ? copy_max : zero_max;
    CHECK(g.length > 0 && g.length <= max);
    CHECK(g.nparts == 0);
    /* cut at multiples of max: a request never crosses one */
    CHECK(g.offset / max == (g.offset + g.length - 1) / max);
    /* inside one plan segment of the same kind */
    size_t j = 0;
    while (j < p->m.n &&
           p->m.v[j].offset + p->m.v[j].length <= g.offset)
      j++;
    CHECK(j < p->m.n && p->m.v[j].offset <= g.offset);
    CHECK(g.offset + g.length <= p->m.v[j].offset + p->m.v[j].length);
    CHECK(plan_kind(&p->m.v[j]) == g.kind);
    seen[j] += g.length;
    total += seg_bytes(&g);
  }
  for (size_t j = 0; j < p->m.n; j++)
    CHECK(seen[j] == p->m.v[j].length);
  CHECK(total == p->copy_bytes + p->zero_bytes);
  free(seen);
  cursor_destroy(&c);
}

static void test_cover(void)
{
  const uint64_t off[] = { 0, 4096, 4608, 10240, 65536, 70000 };
  const uint64_t len[] = { 4096, 512, 5000, 40000, 4000, 9000 };
  const int z[] = { 0, 1, 0, 0, 1, 0 };
  struct plan p;
  make_plan(&p, off, len, z, 6);
  const uint64_t works[] = { 1, 100 * K, 2 * M, 3 * M + 5 * K, 64 * M,
                             1ull << 40 };
  for (size_t a = 0; a < sizeof works / sizeof works[0]; a++)
    for (unsigned w = 1; w <= 4; w++) {
      check_cover(&p, works[a], 2 * M, 64 * M, w);
      check_cover(&p, works[a], 256 * K, 1 * M, w);
    }
  plan_free(&p);
  struct plan empty = { 0 };
  check_cover(&empty, 2 * M, 2 * M, 2 * M, 2);
}

/* Small extents close together are read as one request that writes only
 * them; a ZERO segment, a far gap, the request size and SEG_PARTS end a
 * run; the compare pass's cursor (gap_max 0) never merges. */
static void test_coalesce(void)
{
  const uint64_t off[] = { 0, 8, 16, 100, 200, 204, 2048, 2056 };
  const uint64_t len[] = { 4, 4, 4, 4, 4, 4, 4, 1000 };
  const int z[] = { 0, 0, 0, 0, 1, 0, 0, 0 };
  struct plan p;
  make_plan(&p, off, len, z, 8);
  struct cursor c;
  cursor_init(&c, &p, 64 * M, 256 * K, 64 * M, 64 * K);
  struct slice s;
  struct seg g;
  CHECK(cursor_slice(&c, &s));
  /* 0, 8, 16 and 100 (gaps of 4, 4, 80 KiB: 80 > 64) */
  CHECK(slice_next(&s, &g));
  CHECK(g.kind == SEG_COPY && g.offset == 0 && g.length == 20 * K);
  CHECK(g.nparts == 3 && seg_bytes(&g) == 12 * K);
  CHECK(g.part[1].offset == 8 * K && g.part[2].offset == 16 * K);
  CHECK(slice_next(&s, &g));
  CHECK(g.offset == 100 * K && g.length == 4 * K && g.nparts == 0);
  CHECK(slice_next(&s, &g)); /* the ZERO segment stands alone */
  CHECK(g.kind == SEG_ZERO && g.offset == 200 * K && g.length == 4 * K);
  CHECK(slice_next(&s, &g)); /* 204: the gap to 2048 is too far */
  CHECK(g.offset == 204 * K && g.nparts == 0);
  /* 2048 + 2056..3056: 1008 KiB > 256 KiB, so not merged; 2056 is cut */
  CHECK(slice_next(&s, &g));
  CHECK(g.offset == 2048 * K && g.length == 4 * K && g.nparts == 0);
  CHECK(slice_next(&s, &g));
  CHECK(g.offset == 2056 * K && g.length == 248 * K && g.nparts == 0);
  uint64_t left = 0;
  while (slice_next(&s, &g))
    left += g.length;
  CHECK(g.kind == SEG_COPY && left + 248 * K == 1000 * K);
  CHECK(!cursor_slice(&c, &s));
  cursor_destroy(&c);
  plan_free(&p);

  /* 20 extents of 1 KiB, 1 KiB apart: SEG_PARTS per request */
  struct plan q = { 0 };
  for (int i = 0; i < 20; i++)
    CHECK(plan_add(&q, i * 2 * K, K, SEG_COPY) == 0);
  cursor_init(&c, &q, 64 * M, 256 * K, 64 * M, 64 * K);
  CHECK(cursor_slice(&c, &s));
  unsigned reqs = 0;
  uint64_t bytes = 0;
  while (slice_next(&s, &g)) {
    CHECK(g.nparts <= SEG_PARTS);
    reqs++;
    bytes += seg_bytes(&g);
  }
  CHECK(reqs == (20 + SEG_PARTS - 1) / SEG_PARTS && bytes == 20 * K);
  cursor_destroy(&c);
  /* gap_max 0 */
  cursor_init(&c, &q, 64 * M, 256 * K, 64 * M, 0);
  CHECK(cursor_slice(&c, &s));
  reqs = 0;
  while (slice_next(&s, &g))
    reqs++;
  CHECK(reqs == 20);
  cursor_destroy(&c);
  plan_free(&q);
}

/* Throughput that grows with depth up to 16 and is flat beyond: the depth
 * doubles to 16 or 32 and stays; fixed never moves; the cap holds. */
static unsigned settle(unsigned cap_rate_at, unsigned max, bool fixed)
{
  struct depth d;
  depth_init(&d, 4, max, fixed);
  uint64_t now = 1;
  for (int i = 0; i < 100000 && !d.settled; i++) {
    unsigned eff = d.cur < cap_rate_at ? d.cur : cap_rate_at;
    /* each completion of 256 KiB takes 1 ms / eff */
    now += 1000000 / eff;
    depth_account(&d, 256 * K, now);
  }
  CHECK(d.settled);
  return d.cur;
}

static void test_depth(void)
{
  unsigned d = settle(16, 1024, false);
  CHECK(d == 16 || d == 32);
  CHECK(settle(1000, 64, false) == 64); /* stops at the budget's cap */
  CHECK(settle(16, 1024, true) == 4);
  CHECK(settle(1, 1024, false) <= 8);   /* nothing gained: little depth */
  struct depth x;
  depth_init(&x, 4, 2, false);
  CHECK(x.cur == 2 && x.settled);
}

int main(void)
{
  test_cover();
  test_coalesce();
  test_depth();
  return 0;
}
