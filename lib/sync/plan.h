/* Internal: what a sync does, worked out before the first write. */
#ifndef FERRY_SYNC_PLAN_H
#define FERRY_SYNC_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/extent.h"
#include "../volume/volume.h"

enum seg_kind { SEG_COPY, SEG_ZERO };

/* Segments are kept as an allocation map: flags 0 is COPY,
 * FERRY_EXTENT_ZERO is ZERO. */
struct plan {
  struct extent_map m;
  uint64_t copy_bytes, zero_bytes, skipped_bytes;
};

static inline enum seg_kind plan_kind(const struct ferry_extent_info *e)
{
  return e->flags & FERRY_EXTENT_ZERO ? SEG_ZERO : SEG_COPY;
}

int plan_add(struct plan *p, uint64_t off, uint64_t len, enum seg_kind kind);

/* Splits each range by the source's allocation map (unless read_all): data
 * becomes COPY, what reads as zero becomes ZERO, and ZERO parts where the
 * destination already reads as zero are dropped (counted as skipped). */
int plan_build(struct plan *p, struct ferry_volume *src,
               struct ferry_volume *dst, const struct extent_list *ranges,
               bool read_all, unsigned retries, unsigned retry_delay_ms);
void plan_free(struct plan *p);

#endif
