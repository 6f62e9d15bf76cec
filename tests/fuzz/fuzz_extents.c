/* libFuzzer: the extents text parser (ferry sync --extents). */
#include <stdint.h>
#include <stdio.h>

#include "../../lib/core/extent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FILE *f = fmemopen((void *)data, size, "r");
  if (!f)
    return 0;
  struct extent_list l = { 0 };
  if (extents_parse_text(f, "fuzz", &l) == 0) {
    extents_check(l.v, l.n, 1ll << 40, "fuzz");
    extents_normalize(&l);
    extents_total(&l);
  }
  extent_list_free(&l);
  fclose(f);
  return 0;
}
