/* Internal: the parallel copy loop and the compare pass. */
#ifndef FERRY_SYNC_ENGINE_H
#define FERRY_SYNC_ENGINE_H

#include <ferry/sync.h>

#include "plan.h"

/* The most requests one worker keeps in flight (ferry_sync_opts.requests
 * is refused beyond it). */
#define ENGINE_MAX_DEPTH 1024

/* Copies the plan from src to dst (and, with opts->verify, reads both back
 * and compares them over `ranges`). In FERRY_SYNC_COMPARE mode it only
 * compares: the plan is ignored and nothing is written. src and dst are the
 * caller's handles; the engine clones more for its workers where the
 * volumes allow. opts comes with its defaults filled in (sync.c: memory,
 * retries); request size, requests and workers may be 0. */
int engine_run(struct ferry_volume *src, struct ferry_volume *dst,
               const struct plan *plan, const struct extent_list *ranges,
               const struct ferry_sync_opts *opts,
               struct ferry_sync_stats *stats);

#endif
