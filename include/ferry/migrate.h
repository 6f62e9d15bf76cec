/* Warm migration (the seed's V2V): a full copy from a snapshot while the
 * VM runs, incremental rounds of only the changed areas, then a short
 * cutover, verified end to end. Every step is recorded in a journal (a
 * struct ferry_migration, written atomically) so that an interrupted step
 * can be run again to the same end.
 *
 * The steps are separate calls, so that a caller decides when to cut over:
 *   ferry_migrate_start    check the plan, snapshot S1, full copy
 *   ferry_migrate_sync     snapshot Sn, copy the changes since Sn-1
 *   ferry_migrate_cutover  stop the source, copy the last changes, create
 *                          and (optionally) start the destination VM,
 *                          verify, remove every migration snapshot
 *   ferry_migrate_abort    remove what the migration made, on both sides
 */
#ifndef FERRY_MIGRATE_H
#define FERRY_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ferry/drivers.h>
#include <ferry/objects.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every public options struct starts with its size, as nbdkit's
 * _struct_size: a caller built against an older, shorter struct gets the
 * defaults for what it does not know. */
struct ferry_migrate_spec {
  size_t struct_size;      /* sizeof (struct ferry_migrate_spec) */
  const char *source;      /* platform URIs, e.g. qemu:///var/lib/ferry */
  const char *destination;
  const char *vm;          /* the source VM: name, id or uuid */
  const char *const *network_map; /* "SOURCE_NET=DEST_NET", one per NIC net */
  size_t n_network_map;
  const char *format;      /* destination disks: "qcow2" (default) or "raw" */
  const char *id;          /* NULL: <vm>-<epoch seconds> */
  /* Credentials for each side (NULL: none); never written anywhere. */
  const struct ferry_auth *source_auth, *destination_auth;
};

/* The credentials of both sides again, for the steps after the start:
 * journals never hold them. NULL: none. */
struct ferry_migrate_auth {
  size_t struct_size;      /* sizeof (struct ferry_migrate_auth) */
  const struct ferry_auth *source, *destination;
};

struct ferry_cutover_opts {
  size_t struct_size;      /* sizeof (struct ferry_cutover_opts) */
  int stop_timeout_s;      /* graceful shutdown before power-off; 0: power
                            * off at once (NULL opts: 60) */
  bool start;              /* start the destination VM */
  bool no_verify;          /* skip comparing digests of every disk */
  /* The destination VM goes on virtio when its platform converts guests
   * and the source's buses are others (pvscsi, LSI, SATA, IDE, vmxnet3,
   * e1000): its guest is converted first (ferry_convert_vm). no_convert
   * leaves the guest as it is, for one that has virtio drivers already. */
  bool no_convert;
  bool remove_vmware_tools; /* the conversion uninstalls open-vm-tools */
};

/* Progress of a copy: called about ten times a second from the calling
 * thread while a round (or the verification) runs. Per disk and in all:
 * bytes done and to do, and the seconds since the round began. A non-zero
 * return cancels the step (ECANCELED; resume runs it again). */
struct ferry_migrate_progress {
  const char *step;        /* "full copy", "round", "final round" (copies),
                            * "verify" (the cutover's comparison), "convert"
                            * (the guest's conversion: 0 of 1 at its start,
                            * 1 of 1 at its end, no disks) */
  unsigned round;          /* 1, 2, ... */
  size_t n_disks;
  const char *const *disks;
  const uint64_t *done, *total;
  uint64_t all_done, all_total;
  double seconds;
  bool finished;           /* the step's last report: it is over */
};
typedef int (*ferry_migrate_progress_fn)(
    void *opaque, const struct ferry_migrate_progress *p);

struct ferry_migrate_watch {
  ferry_migrate_progress_fn progress;
  void *opaque;
};

/* journal_dir: where journals live, <dir>/<id>.json; NULL means
 * DIR/migrations, DIR the user's state directory (ferry_state_dir:
 * $FERRY_STATE_DIR, /var/lib/ferry for root, ~/.local/state/ferry for
 * others), whatever platforms are involved. Each call
 * fills *out (may be NULL) with the journal as it leaves it. */

/* Checks a migration without touching anything: the VM exists, the
 * network map covers every NIC, the destination has room and no clashing
 * VM or volume names. */
int ferry_migrate_plan(const struct ferry_migrate_spec *spec,
                       struct ferry_migration *out);
int ferry_migrate_start(const struct ferry_migrate_spec *spec,
                        const char *journal_dir,
                        const struct ferry_migrate_watch *watch,
                        struct ferry_migration *out);
int ferry_migrate_sync(const char *journal_dir, const char *id,
                       const struct ferry_migrate_auth *auth,
                       const struct ferry_migrate_watch *watch,
                       struct ferry_migration *out);
/* Rounds until one copies fewer than `threshold` bytes or `max_rounds`
 * rounds ran in this call (0: 10). */
int ferry_migrate_converge(const char *journal_dir, const char *id,
                           uint64_t threshold, unsigned max_rounds,
                           const struct ferry_migrate_auth *auth,
                           const struct ferry_migrate_watch *watch,
                           struct ferry_migration *out);
int ferry_migrate_cutover(const char *journal_dir, const char *id,
                          const struct ferry_cutover_opts *opts,
                          const struct ferry_migrate_auth *auth,
                          const struct ferry_migrate_watch *watch,
                          struct ferry_migration *out);
int ferry_migrate_abort(const char *journal_dir, const char *id,
                        const struct ferry_migrate_auth *auth,
                        struct ferry_migration *out);
/* Runs the step an interruption (a crash, kill -9) stopped, to the same
 * end: a start, a round, or a cutover (with opts, which may be NULL). */
int ferry_migrate_resume(const char *journal_dir, const char *id,
                         const struct ferry_cutover_opts *opts,
                         const struct ferry_migrate_auth *auth,
                         const struct ferry_migrate_watch *watch,
                         struct ferry_migration *out);
int ferry_migrate_status(const char *journal_dir, const char *id,
                         struct ferry_migration *out);
/* Every migration whose journal is in journal_dir, by id (*out malloc'd:
 * ferry_migration_list_free). A journal that cannot be read is an error
 * naming it. */
int ferry_migrate_list(const char *journal_dir, struct ferry_migration **out,
                       size_t *n);

#ifdef __cplusplus
}
#endif

#endif
