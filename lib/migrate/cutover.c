/* The cutover (stop the source, the final round, the destination VM,
 * verification, clean-up) and abort, which takes back what a migration
 * made. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "../platforms/driver.h"
#include "journal.h"
#include "migrate.h"

/* The destination VM: the source's standard object on mapped networks
 * and the migrated volumes. The intent goes first: after a crash between
 * the create and the journal, the VM by the source's name is ours (its
 * name was free at the plan, and the lease keeps it so). */
/* 1 when a crash between the create and the journal left the destination
 * VM: it is ours, and its uuid goes into the journal; 0 when there is
 * none (or no create began). */
static int adopt_destination(struct journal *j, client_t *dst)
{
  struct ferry_vm made;
  ferry_vm_init(&made);
  if (!j->m.creating_vm || ferry_get_vm(dst, j->m.vm, &made) < 0) {
    ferry_error_clear();
    return 0;
  }
  int r = set_str(&j->m.dst_vm_uuid, made.uuid);
  ferry_vm_dispose(&made);
  return r < 0 ? r : 1;
}

static bool virtio_nic(const char *model)
{
  return !model || !*model || !strncmp(model, "virtio", 6);
}

/* Whether the destination VM goes on virtio: its platform converts
 * guests for it (KVM's), and some disk or NIC of the source is on
 * another bus (VMware's pvscsi, LSI Logic, SATA, IDE, vmxnet3, e1000). */
static bool to_virtio(client_t *dst, const struct ferry_vm *vm)
{
  const struct ferry_driver_info *d = ferry_client_driver(dst);
  if (!d || !(d->features & FERRY_FEATURE_INJECT_DRIVERS))
    return false;
  for (size_t i = 0; i < vm->n_disks; i++)
    if (vm->disks[i].bus != FERRY_DISK_BUS_VIRTIO)
      return true;
  for (size_t i = 0; i < vm->n_nics; i++)
    if (!virtio_nic(vm->nics[i].model))
      return true;
  return false;
}

/* The destination VM's standard object: the source's, on the migrated
 * volumes and mapped networks, and on virtio when to_virtio says so
 * (its devices then named by the destination: vda, ...). */
static int destination_spec(const struct journal *j, client_t *dst,
                            const struct ferry_vm *vm, struct ferry_vm *spec)
{
  int r = ferry_vm_copy(spec, vm);
  if (r < 0)
    return r;
  bool virtio = to_virtio(dst, vm);
  set_str(&spec->id, "");
  set_str(&spec->uuid, "");
  /* A machine type means something to its own kind of platform only
   * (VMware's is its hardware version, "vmx-13"): another kind of
   * destination takes its default. */
  size_t sk = strcspn(j->m.source, ":"), dk = strcspn(j->m.destination, ":");
  if (sk != dk || strncmp(j->m.source, j->m.destination, sk))
    set_str(&spec->machine, "");
  for (size_t i = 0; r == 0 && i < spec->n_disks; i++) {
    struct ferry_disk *d = &spec->disks[i];
    for (size_t k = 0; r == 0 && k < j->m.n_disks; k++)
      if (!strcmp(j->m.disks[k].device, d->device) &&
          !(r = set_str(&d->volume_id, j->m.disks[k].dst_volume)))
        r = set_str(&d->format, j->m.disks[k].dst_format);
    if (r == 0 && virtio) {
      d->bus = FERRY_DISK_BUS_VIRTIO;
      set_str(&d->controller, "");
      set_str(&d->slot, "");
      r = set_str(&d->device, "");
    }
  }
  for (size_t i = 0; r == 0 && i < spec->n_nics; i++) {
    const char *to = mapped_network(&j->m, spec->nics[i].network);
    if ((r = set_str(&spec->nics[i].network, to)) == 0 && virtio)
      r = set_str(&spec->nics[i].model, "");
  }
  if (r < 0)
    ferry_vm_dispose(spec);
  return r;
}

static int create_destination(struct journal *j, client_t *dst,
                              const struct ferry_vm *vm)
{
  struct ferry_vm spec, made;
  ferry_vm_init(&made);
  int r = adopt_destination(j, dst);
  if (r != 0)
    return r < 0 ? r : journal_save(j);
  j->m.creating_vm = true;
  if ((r = journal_save(j)) < 0 ||
      (r = destination_spec(j, dst, vm, &spec)) < 0)
    return r;
  if ((r = ferry_create_vm(dst, &spec, &made)) == 0 &&
      (r = set_str(&j->m.dst_vm_uuid, made.uuid)) == 0)
    r = journal_save(j);
  ferry_vm_dispose(&spec);
  ferry_vm_dispose(&made);
  return r;
}

/* The conversion's start (done 0) and end (done 1) for the watcher: it
 * has no byte counts. A cancel is not taken here: the conversion is all or
 * nothing, and a resume runs it again. */
static void report_convert(const struct ferry_migrate_watch *w,
                           const struct journal *j, uint64_t done,
                           uint64_t t0)
{
  if (!w || !w->progress)
    return;
  struct ferry_migrate_progress p = { "convert", (unsigned)j->m.n_rounds, 0,
                                      NULL, NULL, NULL, done, 1,
                                      (now_ms() - t0) / 1000.0, done == 1 };
  w->progress(w->opaque, &p);
}

/* The guest on the destination volumes converted for virtio, before the
 * VM is made (and after the verification: it changes the disks). Run
 * again after a crash it is harmless: the platform's conversion is all
 * or nothing, and a guest converted already converts to the same. A
 * failure leaves the source stopped and whole; the session's failure
 * message adds how to resume or abort (which starts the source again). */
static int convert_destination(struct journal *j, client_t *dst,
                               const struct ferry_vm *vm,
                               const struct ferry_cutover_opts *o,
                               const struct ferry_migrate_watch *watch)
{
  if (o->no_convert || !to_virtio(dst, vm)) {
    j->m.converted = true; /* nothing to do */
    return journal_save(j);
  }
  struct ferry_vm spec;
  char *report = NULL;
  uint64_t t0 = now_ms();
  int r = destination_spec(j, dst, vm, &spec);
  if (r == 0) {
    report_convert(watch, j, 0, t0);
    r = platform_convert_disks(dst, spec.disks, spec.n_disks, vm->firmware,
                               o->remove_vmware_tools
                                   ? CONVERT_REMOVE_VMWARE_TOOLS : 0,
                               &report);
    ferry_vm_dispose(&spec);
    if (r == 0 || r == -ENOEXEC)
      report_convert(watch, j, 1, t0);
  }
  if (r == -ENOEXEC) { /* no disk boots: no guest to convert */
    char *why = NULL;
    if (asprintf(&why, "nothing converted: %s", ferry_last_error()) < 0)
      why = NULL;
    ferry_error_clear();
    report = why;
    r = 0;
  }
  if (r < 0)
    return ferry_error_prefix(
        "the guest could not be converted for virtio, so no destination VM "
        "was made; the source VM is stopped and as it was (resume with "
        "--no-convert makes the VM without converting): ");
  for (char *line = report, *nl; r == 0 && line && *line; line = nl) {
    nl = strchr(line, '\n');
    if (nl)
      *nl++ = '\0';
    else
      nl = line + strlen(line);
    r = ferry_migration_conversion_append(&j->m, line);
  }
  free(report);
  if (r == 0) {
    j->m.converted = true;
    r = journal_save(j);
  }
  return r;
}

/* The last round's snapshot went missing before it was verified (a crash
 * in the middle of the cleanup of an older ferry, or a user's delete):
 * the source is stopped, so a new final round gives the same data. */
static int check_last_snapshot(struct journal *j, client_t *src,
                               const struct ferry_vm *vm)
{
  struct ferry_migration_round *last = &j->m.rounds[j->m.n_rounds - 1];
  int r = platform_round_get(src, vm, last->snapshot);
  if (r != -ENOENT)
    return r;
  ferry_error_clear();
  last->done = false;
  return journal_save(j);
}

int ferry_migrate_cutover(const char *journal_dir, const char *id,
                          const struct ferry_cutover_opts *opts,
                          const struct ferry_migrate_auth *auth,
                          const struct ferry_migrate_watch *watch,
                          struct ferry_migration *out)
{
  struct ferry_cutover_opts o = { sizeof o, 60, false, false, false, false };
  ferry_error_clear();
  int r = OPTS_TAKE(&o, opts, struct ferry_cutover_opts, no_verify);
  if (r < 0)
    return r;
  struct session s;
  r = session_open(journal_dir, id, auth, FERRY_MIGRATION_PHASE_WARM,
                       FERRY_MIGRATION_PHASE_CUTOVER, "it cuts over once warm",
                       &s);
  struct journal *j = &s.j;
  client_t *src = s.src, *dst = s.dst;
  struct ferry_vm *vm = &s.vm;
  if (r == 0 && j->m.phase == FERRY_MIGRATION_PHASE_WARM) {
    j->m.phase = FERRY_MIGRATION_PHASE_CUTOVER;
    j->m.cutover_started = now_ms();
    j->m.source_was_running = vm->power_state != FERRY_POWER_STATE_STOPPED;
    r = journal_save(j);
  }
  /* Stop the source (asking first), finish a round an interruption left,
   * then the final round of what changed until the stop; verify; make
   * the destination VM, check its boot disk, start it if asked; then the
   * snapshots go. */
  if (r == 0)
    r = ferry_stop_vm(src, vm->uuid, o.stop_timeout_s,
                      o.stop_timeout_s > 0 ? 0 : FERRY_STOP_FORCE);
  if (r == 0 && !j->m.cleaning)
    r = check_last_snapshot(j, src, vm);
  if (r == 0 && !j->m.rounds[j->m.n_rounds - 1].done)
    r = do_round(j, src, dst, vm, j->m.rounds[j->m.n_rounds - 1].final,
                 watch);
  if (r == 0 && !j->m.rounds[j->m.n_rounds - 1].final)
    r = do_round(j, src, dst, vm, true, watch);
  /* Verified before the destination VM exists: a started VM would hold
   * its disks (qemu's image locks), and nothing but the copy writes them
   * until then. Journaled, so that a resume after the start does not
   * verify again. */
  if (r == 0 && !j->m.cleaning && !j->m.verified && !o.no_verify &&
      (r = verify_disks(src, dst, vm, &j->m,
                        j->m.rounds[j->m.n_rounds - 1].snapshot, watch)) ==
          0) {
    j->m.verified = true;
    r = journal_save(j);
  }
  if (r == 0 && !j->m.cleaning && !j->m.converted &&
      (!j->m.dst_vm_uuid || !*j->m.dst_vm_uuid) && !j->m.creating_vm)
    r = convert_destination(j, dst, vm, &o, watch);
  if (r == 0 && (!j->m.dst_vm_uuid || !*j->m.dst_vm_uuid))
    r = create_destination(j, dst, vm);
  if (r == 0) {
    struct ferry_vm made;
    struct ferry_disk boot;
    ferry_vm_init(&made);
    ferry_disk_init(&boot);
    if ((r = ferry_get_vm(dst, j->m.dst_vm_uuid, &made)) == 0) {
      int b = ferry_check_vm_boot(dst, j->m.dst_vm_uuid, &boot);
      set_str(&j->m.boot_check, b == 0 ? "ok" : ferry_last_error());
      ferry_error_clear();
      if (o.start && made.power_state != FERRY_POWER_STATE_RUNNING)
        r = ferry_start_vm(dst, j->m.dst_vm_uuid);
    }
    ferry_disk_dispose(&boot);
    ferry_vm_dispose(&made);
  }
  if (r == 0 && !j->m.downtime_millis) {
    j->m.downtime_millis = now_ms() - j->m.cutover_started;
    r = journal_save(j);
  }
  if (r == 0 && !j->m.cleaning) { /* from here on no snapshot is needed */
    j->m.cleaning = true;
    r = journal_save(j);
  }
  if (r == 0 && (r = remove_snapshots(src, &j->m, NULL)) == 0) {
    j->m.phase = FERRY_MIGRATION_PHASE_DONE;
    if ((r = journal_save(j)) == 0)
      migrate_leases(j, src, dst, false); /* stale now anyway: tidy */
  }
  return session_close(&s, r, out);
}

/* A line of what abort took back. */
static int undone(struct journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int undone(struct journal *j, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  return ferry_migration_undone_append(&j->m, line);
}

int ferry_migrate_abort(const char *journal_dir, const char *id,
                        const struct ferry_migrate_auth *auth,
                        struct ferry_migration *out)
{
  ferry_error_clear();
  struct journal j;
  int r = journal_open(journal_dir, id, false, &j);
  if (r == 0)
    r = journal_take_auth(&j, auth);
  if (r == 0 && j.m.phase == FERRY_MIGRATION_PHASE_DONE)
    r = ferry_error(EINVAL, "migration %s is done: nothing to abort", id);
  client_t *src = NULL, *dst = NULL;
  if (r == 0) {
    src = ferry_platform_open_auth(j.m.source, j.src_auth, 0);
    dst = src ? ferry_platform_open_auth(j.m.destination, j.dst_auth, 0)
              : NULL;
    r = dst ? 0 : ferry_error_prefix("%s: ", src ? "destination" : "source");
    if (r == 0 && (r = platform_set_lease_holder(src, j.m.id)) == 0)
      r = platform_set_lease_holder(dst, j.m.id);
  }
  /* what it takes back is said, a line each (undone) */
  for (size_t i = 0; r == 0 && i < j.m.n_undone; i++)
    free(j.m.undone[i]);
  if (r == 0)
    j.m.n_undone = 0;
  char *snaps = NULL;
  if (r == 0 && (r = remove_snapshots(src, &j.m, &snaps)) == 0 && snaps)
    r = undone(&j, "the source's migration snapshots removed: %s", snaps);
  free(snaps);
  if (r == 0 && (!j.m.dst_vm_uuid || !*j.m.dst_vm_uuid) &&
      (r = adopt_destination(&j, dst)) > 0) /* made, not yet journaled */
    r = 0;
  if (r == 0 && j.m.dst_vm_uuid && *j.m.dst_vm_uuid) {
    ferry_stop_vm(dst, j.m.dst_vm_uuid, 0, FERRY_STOP_FORCE);
    if ((r = ferry_delete_vm(dst, j.m.dst_vm_uuid)) == 0)
      r = undone(&j, "the destination VM %s (%s) deleted", j.m.vm,
                 j.m.dst_vm_uuid);
    else if (r == -ENOENT)
      r = 0;
  }
  /* Volumes only if this migration may have made them: the names of
   * another's are not ours to delete. */
  for (size_t i = 0; r == 0 && j.m.volumes_made && i < j.m.n_disks; i++)
    if ((r = ferry_delete_volume(dst, j.m.disks[i].dst_volume)) == 0)
      r = undone(&j, "the destination volume %s deleted",
                 j.m.disks[i].dst_volume);
    else if (r == -ENOENT)
      r = 0;
  /* A cutover stopped the source: it runs again. */
  if (r == 0 && j.m.source_was_running) {
    struct ferry_vm v;
    ferry_vm_init(&v);
    if ((r = ferry_get_vm(src, j.m.vm_uuid, &v)) == 0 &&
        v.power_state == FERRY_POWER_STATE_STOPPED &&
        (r = ferry_start_vm(src, j.m.vm_uuid)) == 0)
      r = undone(&j, "the source VM %s started again (the cutover had "
                 "stopped it)", j.m.vm);
    ferry_vm_dispose(&v);
  }
  if (r == 0 && j.m.n_undone == 0)
    r = undone(&j, "nothing was left to take back");
  if (r == 0) {
    ferry_error_clear();
    j.m.phase = FERRY_MIGRATION_PHASE_ABORTED;
    if ((r = journal_save(&j)) == 0)
      migrate_leases(&j, src, dst, false);
  }
  close_both(src, dst);
  journal_close(&j, out);
  return r;
}

