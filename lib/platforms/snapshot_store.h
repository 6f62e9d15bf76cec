/* Internal: domain snapshot records, one file per snapshot per VM, after
 * the seed's libxl_{store,load,delete}_dom_snapshot_conf and
 * libxl_list_dom_snapshot:
 *   <base>/<vm-uuid>/snapshotdata-<name>.json   a ferry_domain_snapshot
 *   <base>/<vm-uuid>/current                    the current snapshot's name
 *   <base>/<vm-uuid>/lock                       held while a store is open
 */
#ifndef FERRY_SNAPSHOT_STORE_H
#define FERRY_SNAPSHOT_STORE_H

#include <limits.h>
#include <stdbool.h>

#include <ferry/objects.h>

struct snap_store {
  char dir[PATH_MAX];
  /* Real paths, to check the paths records hold: this directory and the
   * platform's volumes/ beside <base> ("" if it does not exist yet). */
  char real_dir[PATH_MAX], real_volumes[PATH_MAX];
  int lock_fd;
};

/* Opens (creating) the VM's directory and takes its lock, waiting up to
 * 30 s for another ferry process to finish. */
int snap_store_open(struct snap_store *s, const char *base,
                    const char *vm_uuid);
void snap_store_close(struct snap_store *s);
/* The same store for reading its records only: no lock, nothing made. */
int snap_store_view(struct snap_store *s, const char *base,
                    const char *vm_uuid);

/* Checks a snapshot name: a name_check() name, and not all digits, which
 * qemu-img would take for a snapshot ID. */
int snap_name_check(const char *name);

/* The record of a snapshot name (checked by snap_name_check). */
int snap_store_path(const struct snap_store *s, const char *name, char *buf);
bool snap_store_exists(const struct snap_store *s, const char *name);

/* Writes atomically; the disks' backend paths are not stored (the seed
 * hides them from users). */
int snap_store_save(const struct snap_store *s,
                    const struct ferry_domain_snapshot *snap);
int snap_store_load(const struct snap_store *s, const char *name,
                    struct ferry_domain_snapshot *out);
int snap_store_remove(const struct snap_store *s, const char *name);

/* Every record, oldest first (by sequence; then time, for records made
 * before sequences). A record that does not parse fails the call
 * with EBADMSG naming its file; nothing is skipped silently. */
int snap_store_list(const struct snap_store *s,
                    struct ferry_domain_snapshot **out, size_t *n);

/* The sequence number for the next snapshot: 1 + the highest stored. */
int snap_store_next_sequence(const struct snap_store *s, uint64_t *seq);

/* The current snapshot (NULL: none) and changing it. */
int snap_store_current(const struct snap_store *s, char **name);
int snap_store_set_current(const struct snap_store *s, const char *name);

#endif
