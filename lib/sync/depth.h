/* Internal: how many requests a worker keeps in flight. Found as TCP finds
 * its window in slow start: doubled while the throughput it measures keeps
 * growing, kept once it stops, so that a fast local server is not sent a
 * deep queue it gains nothing from and a slow or distant one gets as deep a
 * queue as the memory budget allows. */
#ifndef FERRY_SYNC_DEPTH_H
#define FERRY_SYNC_DEPTH_H

#include <stdbool.h>
#include <stdint.h>

struct depth {
  unsigned cur, max;
  bool settled;      /* no more changes */
  uint64_t t0_ns;    /* start of the measuring window */
  uint64_t bytes;    /* copied in the window */
  unsigned done;     /* requests completed in the window */
  double best;       /* bytes per ns of the best window so far */
};

/* start requests at first, never more than max; fixed: always start. */
void depth_init(struct depth *d, unsigned start, unsigned max, bool fixed);
/* A request copied len bytes of data (zeroes do not count: they cost the
 * server little and would flatter the window). */
void depth_account(struct depth *d, uint64_t len, uint64_t now_ns);

#endif
