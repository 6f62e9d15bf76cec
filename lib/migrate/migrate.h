/* Internal: the pieces of a warm migration. */
#ifndef FERRY_MIGRATE_INTERNAL_H
#define FERRY_MIGRATE_INTERNAL_H

#include <ferry/ferry.h>
#include <ferry/migrate.h>
#include <ferry/platform.h>
#include <ferry/sync.h>

#include "journal.h"

/* A step on a journaled migration: the journal, both platforms, the
 * source VM. */
struct session {
  struct journal j;
  client_t *src, *dst;
  struct ferry_vm vm;
};

/* plan.c: takes the caller's spec (by its struct_size) into spec and
 * opens both platforms, checking they can play their parts. */
int migrate_open_spec(const struct ferry_migrate_spec *user,
                      struct ferry_migrate_spec *spec, client_t **src,
                      client_t **dst);
/* Everything checked before anything is touched; fills vm and m. */
int migrate_plan(const struct ferry_migrate_spec *spec, client_t *src,
                 client_t *dst, struct ferry_vm *vm, struct ferry_migration *m);
/* The destination network of a source network, NULL when unmapped. */
const char *mapped_network(const struct ferry_migration *m, const char *net);

/* leases.c: takes (or drops) every lease of a migration; a refusal gives
 * back what it took and names the migration holding the lease. */
int migrate_leases(const struct journal *j, client_t *src, client_t *dst,
                   bool take);

/* migrate.c: the steps' pieces. */
/* Finishes an interrupted round, else takes a new one (final: after the
 * source stopped). */
int do_round(struct journal *j, client_t *src, client_t *dst,
             const struct ferry_vm *vm, bool final,
             const struct ferry_migrate_watch *watch);
/* Removes every round's point (snapshot) from the source, newest first;
 * removed (may be NULL) gets the names of those there were (malloc'd,
 * NULL for none). */
int remove_snapshots(client_t *src, const struct ferry_migration *m,
                     char **removed);
/* Records a failed step in the journal; returns its error. */
int fail(struct journal *j, client_t *src);
/* Opens a session for a step allowed in phases a and b; rule says when
 * the step runs, for the error. */
int session_open(const char *journal_dir, const char *id,
                 const struct ferry_migrate_auth *auth,
                 enum ferry_migration_phase a, enum ferry_migration_phase b,
                 const char *rule, struct session *s);
/* Ends a session with the step's result r. */
int session_close(struct session *s, int r, struct ferry_migration *out);
void close_both(client_t *src, client_t *dst);

/* Copies one round to every disk, the disks in parallel (at most 2 at
 * once): from == NULL copies all allocated data of snapshot `to`, else the
 * areas changed since snapshot `from`. Sets the round's byte count. */
int round_copy(client_t *src, client_t *dst, const struct ferry_vm *vm,
               const struct ferry_migration *m, const char *from,
               const char *to, const char *step, unsigned round_no,
               const struct ferry_migrate_watch *watch,
               uint64_t *changed_bytes);

/* Copies (or, in FERRY_SYNC_COMPARE, compares) disk's data in snapshot
 * of vm to its destination volume: the engine between the two opened
 * volumes. */
int snapshot_disk_copy(client_t *src, client_t *dst,
                       const struct ferry_vm *vm,
                       const char *snapshot,
                       const struct ferry_migration_disk *disk,
                       const struct ferry_extent *ext, size_t n,
                       const struct ferry_sync_opts *o,
                       struct ferry_sync_stats *st);

/* Compares every disk's data in snapshot `snap` with its destination
 * volume, byte for byte (the engine's compare mode, in parallel and
 * retried); a difference is EILSEQ naming the disk
 * and the offset. */
int verify_disks(client_t *src, client_t *dst, const struct ferry_vm *vm,
                 const struct ferry_migration *m, const char *snap,
                 const struct ferry_migrate_watch *watch);

#endif
