/* Internal: the plan handed out to the workers. First in slices, so that
 * the shared lock is taken once per slice (as nbdcopy does) and each worker
 * reads a run of neighbouring data; then, within its slice, in requests,
 * where small extents close to each other are read as one. */
#ifndef FERRY_SYNC_CURSOR_H
#define FERRY_SYNC_CURSOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

#define SEG_PARTS 8 /* pieces of one read that are written */

/* One request: [offset, offset+length) is read (or zeroed); when nparts is
 * not 0, only the parts are written and the gaps between them, read only
 * because one read was cheaper than several, are dropped. */
struct seg {
  uint64_t offset, length;
  enum seg_kind kind;
  unsigned nparts;
  struct { uint64_t offset, length; } part[SEG_PARTS];
};

/* The bytes a request copies or zeroes: its parts, or all of it. */
uint64_t seg_bytes(const struct seg *s);

/* COPY requests are at most copy_max bytes and cut at multiples of it,
 * ZERO ones zero_max. A gap of up to gap_max bytes between two COPY
 * segments is read rather than split into two requests (0: never). */
struct cursor {
  pthread_mutex_t lock;
  const struct plan *p;
  size_t i;
  uint64_t pos;
  uint64_t slice_work, copy_max, zero_max, gap_max;
};

struct slice {
  const struct cursor *c;
  size_t i, end_i;      /* the next segment, and the one it ends in */
  uint64_t pos, end_pos; /* the next byte, and the byte it ends before */
};

/* slice_work: about how much a slice holds, counting a ZERO request as
 * one COPY request of copy_max bytes (zeroing costs a request, not a
 * transfer). */
void cursor_init(struct cursor *c, const struct plan *p, uint64_t slice_work,
                 uint64_t copy_max, uint64_t zero_max, uint64_t gap_max);
void cursor_destroy(struct cursor *c);
/* The next slice; false when the plan is used up. */
bool cursor_slice(struct cursor *c, struct slice *s);
/* The slice's next request; false when the slice is used up. */
bool slice_next(struct slice *s, struct seg *out);

#endif
