/* Internal: the pieces of a warm migration. */
#ifndef FERRY_MIGRATE_INTERNAL_H
#define FERRY_MIGRATE_INTERNAL_H

#include <ferry/ferry.h>
#include <ferry/migrate.h>
#include <ferry/platform.h>

/* Copies one round to every disk, the disks in parallel (at most 2 at
 * once): from == NULL copies all allocated data of snapshot `to`, else the
 * areas changed since snapshot `from`. Sets the round's byte count. */
int round_copy(client_t *src, client_t *dst, const struct ferry_vm *vm,
               const struct ferry_migration *m, const char *from,
               const char *to, const char *step, unsigned round_no,
               const struct ferry_migrate_watch *watch,
               uint64_t *changed_bytes);

/* Compares every disk's data in snapshot `snap` with its destination
 * volume, byte for byte (the engine's compare mode, in parallel and
 * retried); a difference is EILSEQ naming the disk
 * and the offset. */
int verify_disks(client_t *src, client_t *dst, const struct ferry_vm *vm,
                 const struct ferry_migration *m, const char *snap);

#endif
