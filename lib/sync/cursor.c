/* Slices of the plan for the workers, and requests within a slice. */
#include "cursor.h"

uint64_t seg_bytes(const struct seg *s)
{
  if (!s->nparts)
    return s->length;
  uint64_t n = 0;
  for (unsigned i = 0; i < s->nparts; i++)
    n += s->part[i].length;
  return n;
}

void cursor_init(struct cursor *c, const struct plan *p, uint64_t slice_work,
                 uint64_t copy_max, uint64_t zero_max, uint64_t gap_max)
{
  pthread_mutex_init(&c->lock, NULL);
  c->p = p;
  c->i = 0;
  c->pos = p->m.n ? p->m.v[0].offset : 0;
  c->slice_work = slice_work;
  c->copy_max = copy_max;
  c->zero_max = zero_max;
  c->gap_max = gap_max;
}

void cursor_destroy(struct cursor *c)
{
  pthread_mutex_destroy(&c->lock);
}

bool cursor_slice(struct cursor *c, struct slice *s)
{
  pthread_mutex_lock(&c->lock);
  const struct extent_map *m = &c->p->m;
  bool ok = c->i < m->n;
  if (ok) {
    *s = (struct slice){ .c = c, .i = c->i, .pos = c->pos };
    uint64_t work = 0;
    while (c->i < m->n && work < c->slice_work) {
      const struct ferry_extent_info *e = &m->v[c->i];
      uint64_t end = e->offset + e->length;
      if (plan_kind(e) == SEG_ZERO) {
        work += (end - c->pos + c->zero_max - 1) / c->zero_max * c->copy_max;
      } else if (end - c->pos > c->slice_work - work) {
        /* Cut inside the segment, where a request would be cut anyway. */
        uint64_t cut = c->pos + (c->slice_work - work);
        cut = (cut + c->copy_max - 1) / c->copy_max * c->copy_max;
        if (cut < end) {
          c->pos = cut;
          break;
        }
        work += end - c->pos;
      } else
        work += end - c->pos;
      if (++c->i < m->n)
        c->pos = m->v[c->i].offset;
    }
    s->end_i = c->i;
    s->end_pos = c->pos;
  }
  pthread_mutex_unlock(&c->lock);
  return ok;
}

static bool at_end(const struct slice *s)
{
  return s->i >= s->c->p->m.n || s->i > s->end_i ||
         (s->i == s->end_i && s->pos >= s->end_pos);
}

/* Where segment i ends within the slice. */
static uint64_t seg_end(const struct slice *s, size_t i)
{
  const struct ferry_extent_info *e = &s->c->p->m.v[i];
  uint64_t end = e->offset + e->length;
  return i == s->end_i && s->end_pos < end ? s->end_pos : end;
}

static void advance(struct slice *s, uint64_t len)
{
  uint64_t end = seg_end(s, s->i);
  s->pos += len;
  if (s->pos < end || (s->i == s->end_i && s->pos >= s->end_pos))
    return;
  if (++s->i < s->c->p->m.n)
    s->pos = s->c->p->m.v[s->i].offset;
}

/* Reads the next COPY segments with this one while the gap to each is at
 * most gap_max and the whole read fits in one request. */
static void coalesce(struct slice *s, struct seg *out)
{
  const struct cursor *c = s->c;
  while (!at_end(s)) {
    const struct ferry_extent_info *e = &c->p->m.v[s->i];
    uint64_t out_end = out->offset + out->length, end = seg_end(s, s->i);
    if (s->pos != e->offset || plan_kind(e) != SEG_COPY ||
        s->pos - out_end > c->gap_max || end - out->offset > c->copy_max ||
        out->nparts + (out->nparts ? 1 : 2) > SEG_PARTS)
      return;
    if (!out->nparts) {
      out->part[0].offset = out->offset;
      out->part[0].length = out->length;
      out->nparts = 1;
    }
    out->part[out->nparts].offset = s->pos;
    out->part[out->nparts].length = end - s->pos;
    out->nparts++;
    out->length = end - out->offset;
    advance(s, end - s->pos);
  }
}

bool slice_next(struct slice *s, struct seg *out)
{
  if (at_end(s))
    return false;
  const struct cursor *c = s->c;
  const struct ferry_extent_info *e = &c->p->m.v[s->i];
  out->kind = plan_kind(e);
  out->nparts = 0;
  uint64_t max = out->kind == SEG_COPY ? c->copy_max : c->zero_max;
  out->offset = s->pos;
  out->length = extent_split_first(s->pos, seg_end(s, s->i) - s->pos, max);
  advance(s, out->length);
  if (out->kind == SEG_COPY && c->gap_max)
    coalesce(s, out);
  return true;
}
