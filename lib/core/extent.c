/* Byte extent lists: the seed's sector arrays in, sorted merged ranges out. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "error.h"
#include "extent.h"

void extent_list_free(struct extent_list *l)
{
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

int extent_list_push(struct extent_list *l, uint64_t offset, uint64_t length)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    struct ferry_extent *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return ferry_error(ENOMEM, "out of memory for %zu extents", cap);
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n].offset = offset;
  l->v[l->n].length = length;
  l->n++;
  return 0;
}

int extents_from_sectors(const uint64_t *start, const uint64_t *sector,
                         int length, struct extent_list *out)
{
  if (length < 0)
    return ferry_error(EINVAL, "extent count %d is negative", length);
  if (length > 0 && (!start || !sector))
    return ferry_error(EINVAL, "extent arrays are NULL but length is %d",
                       length);
  for (int i = 0; i < length; i++) {
    if (sector[i] == 0)
      return ferry_error(EINVAL, "extent %d (start sector %" PRIu64
                         "): sector count is zero", i, start[i]);
    if (start[i] > UINT64_MAX / 512 || sector[i] > UINT64_MAX / 512 ||
        start[i] * 512 > UINT64_MAX - sector[i] * 512)
      return ferry_error(EINVAL, "extent %d (start sector %" PRIu64
                         ", %" PRIu64 " sectors): byte range overflows 64 bits",
                         i, start[i], sector[i]);
    int r = extent_list_push(out, start[i] * 512, sector[i] * 512);
    if (r < 0)
      return r;
  }
  return 0;
}

int extents_check(const struct ferry_extent *v, size_t n, int64_t size,
                  const char *what)
{
  /* Whole sectors: a partial last sector still counts as inside. */
  int64_t limit = size < 0 ? size : (size + 511) / 512 * 512;
  for (size_t i = 0; i < n; i++) {
    if (v[i].length == 0)
      return ferry_error(EINVAL, "extent %zu (offset %" PRIu64 "): length is "
                         "zero", i, v[i].offset);
    if (v[i].offset > UINT64_MAX - v[i].length)
      return ferry_error(EINVAL, "extent %zu (offset %" PRIu64 ", length %"
                         PRIu64 "): range overflows 64 bits", i, v[i].offset,
                         v[i].length);
    if (limit >= 0 && v[i].offset + v[i].length > (uint64_t)limit)
      return ferry_error(EINVAL, "extent %zu (bytes %" PRIu64 "-%" PRIu64
                         ", sectors %" PRIu64 "+%" PRIu64 ") ends past the "
                         "end of %s (%" PRId64 " bytes, %" PRId64 " sectors)",
                         i, v[i].offset, v[i].offset + v[i].length,
                         v[i].offset / 512, (v[i].length + 511) / 512, what,
                         size, (size + 511) / 512);
  }
  return 0;
}

static int cmp_offset(const void *a, const void *b)
{
  const struct ferry_extent *x = a, *y = b;
  return (x->offset > y->offset) - (x->offset < y->offset);
}

void extents_normalize(struct extent_list *l)
{
  if (l->n == 0)
    return;
  qsort(l->v, l->n, sizeof *l->v, cmp_offset);
  size_t w = 0;
  for (size_t i = 1; i < l->n; i++) {
    struct ferry_extent *last = &l->v[w];
    uint64_t end = last->offset + last->length;
    if (l->v[i].offset <= end) {
      uint64_t e2 = l->v[i].offset + l->v[i].length;
      if (e2 > end)
        last->length = e2 - last->offset;
    } else {
      l->v[++w] = l->v[i];
    }
  }
  l->n = w + 1;
}

uint64_t extents_total(const struct extent_list *l)
{
  uint64_t t = 0;
  for (size_t i = 0; i < l->n; i++)
    t += l->v[i].length;
  return t;
}

uint64_t extent_split_first(uint64_t offset, uint64_t length, uint64_t max)
{
  uint64_t to_boundary = max - offset % max;
  return length < to_boundary ? length : to_boundary;
}
