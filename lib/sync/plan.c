/* Building the copy plan from extents and allocation maps. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../core/error.h"
#include "plan.h"

int plan_add(struct plan *p, uint64_t off, uint64_t len, enum seg_kind kind)
{
  if (kind == SEG_COPY)
    p->copy_bytes += len;
  else
    p->zero_bytes += len;
  return extent_map_add(&p->m, off, len,
                        kind == SEG_ZERO ? FERRY_EXTENT_ZERO : 0);
}

void plan_free(struct plan *p)
{
  extent_map_free(&p->m);
  *p = (struct plan){ 0 };
}

struct retry {
  unsigned tries, delay_ms;
};

/* An allocation query, retried like the copy's I/O: transient errors back
 * off and try again, a dead connection is reconnected first. */
static int query(struct ferry_volume *v, uint64_t off, uint64_t len,
                 struct extent_map *out, const struct retry *rt)
{
  for (unsigned t = 0;; t++) {
    struct extent_map m = { 0 };
    int r = volume_extents(v, off, len, &m);
    if (r == 0) {
      for (size_t i = 0; i < m.n && r == 0; i++)
        r = extent_map_add(out, m.v[i].offset, m.v[i].length, m.v[i].flags);
      extent_map_free(&m);
      return r;
    }
    extent_map_free(&m);
    bool dead = v->ops->is_dead && v->ops->is_dead(v);
    if (t >= rt->tries || !(dead || volume_err_transient(-r)))
      return r;
    usleep(retry_backoff_ms(rt->delay_ms, t + 1) * 1000);
    if (dead && v->ops->reconnect)
      v->ops->reconnect(v); /* a failure shows in the next query */
  }
}

/* Drops ZERO segments, or parts of them, where dst already reads as zero. */
static int skip_known_zero(struct plan *p, struct ferry_volume *dst,
                           const struct retry *rt)
{
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t i = 0; i < p->m.n; i++)
    if (plan_kind(&p->m.v[i]) == SEG_ZERO) {
      if (p->m.v[i].offset < lo)
        lo = p->m.v[i].offset;
      hi = p->m.v[i].offset + p->m.v[i].length;
    }
  if (hi == 0 || !dst->ops->extents)
    return 0;
  struct extent_map m = { 0 };
  int r = query(dst, lo, hi - lo, &m, rt);
  if (r < 0) {
    extent_map_free(&m);
    return r;
  }
  struct plan out = { 0 };
  size_t j = 0;
  for (size_t i = 0; i < p->m.n && r == 0; i++) {
    struct ferry_extent_info s = p->m.v[i];
    if (plan_kind(&s) == SEG_COPY) {
      r = plan_add(&out, s.offset, s.length, SEG_COPY);
      continue;
    }
    uint64_t pos = s.offset, end = s.offset + s.length;
    while (pos < end && r == 0) {
      while (j < m.n && m.v[j].offset + m.v[j].length <= pos)
        j++;
      if (j == m.n || m.v[j].offset > pos) { /* not covered: zero it */
        uint64_t stop = j < m.n && m.v[j].offset < end ? m.v[j].offset : end;
        r = plan_add(&out, pos, stop - pos, SEG_ZERO);
        pos = stop;
        continue;
      }
      uint64_t stop = m.v[j].offset + m.v[j].length;
      if (stop > end)
        stop = end;
      if (m.v[j].flags & FERRY_EXTENT_ZERO)
        out.skipped_bytes += stop - pos;
      else
        r = plan_add(&out, pos, stop - pos, SEG_ZERO);
      pos = stop;
    }
  }
  extent_map_free(&m);
  if (r < 0) {
    plan_free(&out);
    return r;
  }
  plan_free(p);
  *p = out;
  return 0;
}

/* Ranges this close are asked about in one allocation query: one round
 * trip to a distant server instead of one per range (an incremental list
 * of 551 ranges behind 10 ms of latency spent 5.5 s in queries alone). */
#define QUERY_GAP (64ull << 20)
#define QUERY_MAX (1ull << 30)

/* Adds [off, end) to the plan as the map m (which covers it) says. */
static int add_mapped(struct plan *p, const struct extent_map *m, size_t *k,
                      uint64_t off, uint64_t end)
{
  int r = 0;
  while (*k < m->n && m->v[*k].offset + m->v[*k].length <= off)
    (*k)++;
  for (size_t j = *k; j < m->n && m->v[j].offset < end && r == 0; j++) {
    uint64_t a = m->v[j].offset > off ? m->v[j].offset : off;
    uint64_t b = m->v[j].offset + m->v[j].length;
    if (b > end)
      b = end;
    r = plan_add(p, a, b - a, plan_kind(&m->v[j]));
  }
  return r;
}

int plan_build(struct plan *p, struct ferry_volume *src,
               struct ferry_volume *dst, const struct extent_list *ranges,
               bool read_all, unsigned retries, unsigned retry_delay_ms)
{
  *p = (struct plan){ 0 };
  struct retry rt = { retries, retry_delay_ms };
  int r = 0;
  for (size_t i = 0; i < ranges->n && r == 0;) {
    const struct ferry_extent *e = &ranges->v[i];
    if (read_all || !src->ops->extents) {
      r = plan_add(p, e->offset, e->length, SEG_COPY);
      i++;
      continue;
    }
    /* ranges i..j-1 in one query (ranges are sorted and apart) */
    size_t j = i + 1;
    uint64_t end = e->offset + e->length;
    while (j < ranges->n && ranges->v[j].offset - end <= QUERY_GAP &&
           ranges->v[j].offset + ranges->v[j].length - e->offset <= QUERY_MAX) {
      end = ranges->v[j].offset + ranges->v[j].length;
      j++;
    }
    struct extent_map m = { 0 };
    r = query(src, e->offset, end - e->offset, &m, &rt);
    size_t k = 0;
    for (; i < j && r == 0; i++)
      r = add_mapped(p, &m, &k, ranges->v[i].offset,
                     ranges->v[i].offset + ranges->v[i].length);
    extent_map_free(&m);
  }
  if (r == 0)
    r = skip_known_zero(p, dst, &rt);
  if (r < 0)
    plan_free(p);
  return r;
}
