/* The queue depth of one worker, adapted to what it measures. */
#include "depth.h"

/* A window must last this long to be worth comparing: shorter ones are
 * dominated by the scheduler's noise. */
#define MIN_WINDOW_NS (20 * 1000 * 1000)
/* A deeper queue must bring this much more throughput to be kept growing:
 * less is noise. */
#define GAIN 1.10

void depth_init(struct depth *d, unsigned start, unsigned max, bool fixed)
{
  if (max < 1)
    max = 1;
  *d = (struct depth){ .cur = start < 1 ? 1 : start > max ? max : start,
                       .max = max };
  d->settled = fixed || d->cur == max;
}

void depth_account(struct depth *d, uint64_t len, uint64_t now_ns)
{
  if (d->settled)
    return;
  if (!d->t0_ns) { /* the first completion opens the first window */
    d->t0_ns = now_ns;
    return;
  }
  d->bytes += len;
  d->done++;
  uint64_t ns = now_ns - d->t0_ns;
  /* Every request slot used a few times over, and long enough to time. */
  if (d->done < 4 * d->cur || ns < MIN_WINDOW_NS)
    return;
  double rate = (double)d->bytes / (double)ns;
  if (rate < d->best * GAIN) {
    /* Deeper no longer pays: the server or the disk is the bound. A
     * window slower than the last one goes back to its depth. */
    if (rate < d->best)
      d->cur = d->cur / 2 > 0 ? d->cur / 2 : 1;
    d->settled = true;
    return;
  }
  d->best = rate;
  d->cur = d->cur * 2 > d->max ? d->max : d->cur * 2;
  d->settled = d->cur == d->max;
  d->t0_ns = now_ns;
  d->bytes = 0;
  d->done = 0;
}
