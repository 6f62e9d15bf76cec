/* Extent validation, sorting, merging and splitting. */
#include <errno.h>
#include <stdint.h>

#include "../../lib/core/error.h"
#include "../../lib/core/extent.h"
#include "check.h"

static void from_sectors(void)
{
  uint64_t s[] = { 8, 0 }, c[] = { 2, 0 };
  struct extent_list l = { 0 };
  CHECK(extents_from_sectors(s, c, 2, &l) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "extent 1");
  CHECK_HAS(ferry_last_error(), "zero");
  extent_list_free(&l);

  uint64_t s2[] = { UINT64_MAX / 512 - 1 }, c2[] = { 4 };
  CHECK(extents_from_sectors(s2, c2, 1, &l) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "overflows");
  extent_list_free(&l);

  uint64_t s3[] = { 1, 100 }, c3[] = { 2, 8 };
  CHECK(extents_from_sectors(s3, c3, 2, &l) == 0);
  CHECK(l.n == 2 && l.v[0].offset == 512 && l.v[0].length == 1024);
  CHECK(l.v[1].offset == 51200 && l.v[1].length == 4096);
  extent_list_free(&l);

  CHECK(extents_from_sectors(NULL, NULL, 3, &l) == -EINVAL);
  CHECK(extents_from_sectors(s3, c3, -1, &l) == -EINVAL);
}

static void check_limits(void)
{
  struct ferry_extent v[] = { { 0, 512 }, { 4096, 8192 } };
  CHECK(extents_check(v, 2, 1 << 20, "src") == 0);
  CHECK(extents_check(v, 2, 8192, "source volume x.img") == -EINVAL);
  CHECK_HAS(ferry_last_error(), "extent 1");
  CHECK_HAS(ferry_last_error(), "source volume x.img");
  CHECK_HAS(ferry_last_error(), "past the end");
  CHECK(extents_check(v, 2, -1, "unknown size") == 0);
  struct ferry_extent z[] = { { 10, 0 } };
  CHECK(extents_check(z, 1, -1, "x") == -EINVAL);
  struct ferry_extent o[] = { { UINT64_MAX - 10, 20 } };
  CHECK(extents_check(o, 1, -1, "x") == -EINVAL);
  CHECK_HAS(ferry_last_error(), "overflows");
}

static void normalize(void)
{
  struct extent_list l = { 0 };
  /* unsorted, overlapping, adjacent, contained, duplicate */
  extent_list_push(&l, 100, 10);
  extent_list_push(&l, 0, 10);
  extent_list_push(&l, 105, 20);
  extent_list_push(&l, 10, 5);
  extent_list_push(&l, 200, 10);
  extent_list_push(&l, 201, 2);
  extent_list_push(&l, 200, 10);
  extents_normalize(&l);
  CHECK(l.n == 3);
  CHECK(l.v[0].offset == 0 && l.v[0].length == 15);
  CHECK(l.v[1].offset == 100 && l.v[1].length == 25);
  CHECK(l.v[2].offset == 200 && l.v[2].length == 10);
  CHECK(extents_total(&l) == 50);
  extent_list_free(&l);
  extents_normalize(&l); /* empty list is fine */
  CHECK(l.n == 0);
}

static void split(void)
{
  /* Requests are cut at multiples of the request size. */
  CHECK(extent_split_first(0, 10, 4) == 4);
  CHECK(extent_split_first(3, 10, 4) == 1);
  CHECK(extent_split_first(4, 2, 4) == 2);
  CHECK(extent_split_first(1, (1ull << 21) * 3, 1ull << 21) ==
        (1ull << 21) - 1);
}

int main(void)
{
  from_sectors();
  check_limits();
  normalize();
  split();
  return 0;
}
