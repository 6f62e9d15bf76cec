/* Internal: the parallel copy loop and the verify pass. */
#ifndef FERRY_SYNC_ENGINE_H
#define FERRY_SYNC_ENGINE_H

#include <ferry/sync.h>

#include "plan.h"

/* Copies the plan from src to dst (and, with opts->verify, reads both back
 * and compares digests over `ranges`). src and dst are the caller's handles;
 * the engine clones more for its workers where the volumes allow. */
int engine_run(struct ferry_volume *src, struct ferry_volume *dst,
               const struct plan *plan, const struct extent_list *ranges,
               const struct ferry_sync_opts *opts,
               struct ferry_sync_stats *stats);

/* Digest of a buffer for the verify pass (SHA-256). */
void chunk_digest(const void *buf, size_t len, unsigned char out[32]);

#endif
