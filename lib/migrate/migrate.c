/* Warm migration's steps (see migrate.h): start, rounds, resume; the
 * cutover and abort are in cutover.c, the plan in plan.c, the journal in
 * journal.c. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/dirscan.h"
#include "../core/error.h"
#include "../core/opts.h"
#include "../core/sbuf.h"
#include "../core/statefile.h"
#include "../platforms/driver.h"
#include "journal.h"
#include "migrate.h"

static void snapshot_name(const struct ferry_migration *m, size_t k,
                          char *buf, size_t len)
{
  snprintf(buf, len, "mig-%s-%zu", m->id, k + 1);
}

/* Finishes an interrupted round, else takes a new one (final: after the
 * source stopped): its snapshot if not taken already, then its copy. */
int do_round(struct journal *j, client_t *src, client_t *dst,
                    const struct ferry_vm *vm, bool final,
                    const struct ferry_migrate_watch *watch)
{
  struct ferry_migration *m = &j->m;
  size_t k = m->n_rounds;
  if (k > 0 && !m->rounds[k - 1].done)
    k--; /* an interrupted round: do it again */
  else {
    struct ferry_migration_round *rd = ferry_migration_rounds_append(m);
    char name[300];
    snapshot_name(m, k, name, sizeof name);
    int r = !rd ? ferry_error(ENOMEM, "out of memory")
                : set_str(&rd->snapshot, name);
    if (rd)
      rd->final = final;
    if (r < 0 || (r = journal_save(j)) < 0)
      return r;
  }
  struct ferry_migration_round *rd = &m->rounds[k];
  const char *since = k ? m->rounds[k - 1].snapshot : NULL;
  int r = platform_round_begin(src, vm, rd->snapshot, since);
  if (r < 0)
    return r;
  uint64_t t0 = monotonic_ms();
  r = round_copy(src, dst, vm, m, since, rd->snapshot,
                 k == 0 ? "full copy" : rd->final ? "final round" : "round",
                 (unsigned)k + 1, watch, &rd->changed_bytes);
  rd->millis = monotonic_ms() - t0;
  rd->done = r == 0;
  /* What the point held open for the copy (libvirt's backup job) ends,
   * also after a failure: a resume begins it again. */
  struct saved_error e;
  error_save(&e);
  int re = platform_round_end(src, vm, rd->snapshot);
  if (r < 0)
    error_restore(&e);
  else if (re < 0)
    r = re;
  int rs = journal_save(j);
  if (r == 0 && rs == 0 && k > 0 && !rd->final) {
    /* S(k-1) served its round: drop it now (a live commit of what one
     * round changed) so that the chain stays short. Best effort: whatever
     * stays is removed at cutover or abort. */
    platform_round_drop(src, vm, since);
    ferry_error_clear();
  }
  return r < 0 ? r : rs;
}

/* Removes every round's point (snapshot) from the source, newest first;
 * removed (may be NULL) gets the names of those there were, ", "
 * between. */
int remove_snapshots(client_t *src, const struct ferry_migration *m,
                     char **removed)
{
  struct saved_error first = { 0, "" };
  struct sbuf names = { 0 };
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  /* a source VM gone holds no point any more */
  int rv = m->n_rounds ? ferry_get_vm(src, m->vm_uuid, &vm) : -ENOENT;
  if (rv < 0 && rv != -ENOENT)
    error_save(&first);
  for (size_t k = m->n_rounds; rv == 0 && k-- > 0;) {
    int r = platform_round_drop(src, &vm, m->rounds[k].snapshot);
    if (r == 0)
      sb_printf(&names, "%s%s", names.len ? ", " : "",
                m->rounds[k].snapshot);
    else if (r != -ENOENT && first.err == 0)
      error_save(&first); /* the next call clears it */
  }
  ferry_vm_dispose(&vm);
  if (removed && names.failed && first.err == 0)
    first = (struct saved_error){ ENOMEM, "out of memory" };
  if (removed && first.err == 0)
    *removed = names.len ? names.s : NULL;
  else
    sb_free(&names);
  if (first.err == 0) {
    ferry_error_clear();
    return 0;
  }
  return error_restore(&first);
}

/* A step failed: record why and where, and keep the first error. A start
 * that has no full copy yet takes its snapshot off the source (it would
 * pin the source's disks, and a resume takes a new one); later phases keep
 * theirs: they are the warm copy that `resume` continues from, and
 * `abort` removes them. */
int fail(struct journal *j, client_t *src)
{
  struct saved_error e;
  error_save(&e);
  enum ferry_migration_phase ph = j->m.phase;
  if (ph == FERRY_MIGRATION_PHASE_FAILED)
    ph = j->m.failed_phase;
  if (src && (ph == FERRY_MIGRATION_PHASE_PLANNED ||
              ph == FERRY_MIGRATION_PHASE_COPYING))
    remove_snapshots(src, &j->m, NULL);
  set_str(&j->m.error, e.msg);
  j->m.failed_phase = ph;
  j->m.phase = FERRY_MIGRATION_PHASE_FAILED;
  journal_save(j);
  return ferry_error(e.err, "%s (`ferry migrate resume %s` tries again "
                     "from here; `ferry migrate abort %s` puts the source "
                     "back as it was)", e.msg, j->m.id, j->m.id);
}

/* Opens both platforms and the source VM of a journal; both clients act
 * for the migration, so that its leases let them through. */
/* Makes clients opened already act for the migration; vm gets the
 * source VM. */
static int attach_both(const struct journal *j, client_t *src, client_t *dst,
                       struct ferry_vm *vm)
{
  int r = platform_set_lease_holder(src, j->m.id);
  if (r == 0)
    r = platform_set_lease_holder(dst, j->m.id);
  return r < 0 ? r : ferry_get_vm(src, j->m.vm_uuid, vm);
}

static int open_both(const struct journal *j, client_t **src,
                     client_t **dst, struct ferry_vm *vm)
{
  const struct ferry_migration *m = &j->m;
  *src = ferry_platform_open_auth(m->source, j->src_auth, 0);
  *dst = *src ? ferry_platform_open_auth(m->destination, j->dst_auth, 0)
              : NULL;
  if (!*src || !*dst)
    return ferry_error_prefix("%s: ", *src ? "destination" : "source");
  return attach_both(j, *src, *dst, vm);
}

/* Closes both platforms (which leaves the thread's error as it is). */
void close_both(client_t *src, client_t *dst)
{
  if (dst)
    destroy_client(dst);
  if (src)
    destroy_client(src);
}

/* Opens a session for a step allowed in phases a and b; rule says when
 * the step runs, for the error. */
int session_open(const char *journal_dir, const char *id,
                        const struct ferry_migrate_auth *auth,
                        enum ferry_migration_phase a,
                        enum ferry_migration_phase b, const char *rule,
                        struct session *s)
{
  ferry_error_clear();
  s->src = s->dst = NULL;
  ferry_vm_init(&s->vm);
  int r = journal_open(journal_dir, id, false, &s->j);
  if (r == 0)
    r = journal_take_auth(&s->j, auth);
  if (r == 0 && s->j.m.phase != a && s->j.m.phase != b)
    r = ferry_error(EINVAL, "migration %s is %s: %s", id,
                    ferry_migration_phase_name(s->j.m.phase), rule);
  if (r == 0)
    r = open_both(&s->j, &s->src, &s->dst, &s->vm);
  return r;
}

/* Ends a session with the step's result r: a failed step (not a refused
 * or busy one) marks the migration failed. */
int session_close(struct session *s, int r, struct ferry_migration *out)
{
  if (r < 0 && s->j.m.id && s->j.m.phase != FERRY_MIGRATION_PHASE_DONE &&
      r != -EBUSY && r != -EINVAL)
    r = fail(&s->j, s->src);
  ferry_vm_dispose(&s->vm);
  close_both(s->src, s->dst);
  journal_close(&s->j, out);
  return r;
}

/* The start's steps after the plan: the leases (a refused one leaves
 * nothing behind, not even the journal), the destination volumes, round
 * 1, warm. */
static int start_steps(struct journal *j,
                       const struct ferry_migrate_watch *watch,
                       client_t *src, client_t *dst)
{
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  int r = src ? attach_both(j, src, dst, &vm) : open_both(j, &src, &dst, &vm);
  if (r == 0 && (r = migrate_leases(j, src, dst, true)) < 0 &&
      j->m.phase == FERRY_MIGRATION_PHASE_PLANNED) {
    statefile_remove(j->path, 1);
    ferry_vm_dispose(&vm);
    close_both(src, dst);
    return r;
  }
  if (r == 0) {
    j->m.phase = FERRY_MIGRATION_PHASE_COPYING;
    r = journal_save(j);
  }
  if (r == 0 && !j->m.full_rounds) /* the seed's open_cbt */
    r = ferry_open_cbt(src, vm.uuid);
  /* The destination volumes, until the full copy is done: made anew,
   * since an interrupted start may have left them half made (the intent
   * says they are ours; nobody else may take these names meanwhile). */
  bool copied = j->m.n_rounds > 0 && j->m.rounds[0].done;
  if (r == 0 && !copied && j->m.volumes_made)
    for (size_t i = 0; i < j->m.n_disks && r == 0; i++)
      if ((r = ferry_delete_volume(dst, j->m.disks[i].dst_volume)) == -ENOENT)
        r = 0;
  if (r == 0 && !copied && !j->m.volumes_made) {
    j->m.volumes_made = true;
    r = journal_save(j);
  }
  for (size_t i = 0; r == 0 && !copied && i < j->m.n_disks; i++) {
    struct ferry_disk d;
    ferry_disk_init(&d);
    d.volume_id = j->m.disks[i].dst_volume;
    d.format = j->m.disks[i].dst_format;
    d.capacity = j->m.disks[i].capacity;
    r = ferry_create_volume(dst, &d, NULL);
  }
  if (r == 0)
    r = do_round(j, src, dst, &vm, false, watch); /* S1: the full copy */
  if (r == 0) {
    j->m.phase = FERRY_MIGRATION_PHASE_WARM;
    r = journal_save(j);
  }
  if (r < 0)
    r = fail(j, src);
  ferry_vm_dispose(&vm);
  close_both(src, dst);
  return r;
}

int ferry_migrate_start(const struct ferry_migrate_spec *user,
                        const char *journal_dir,
                        const struct ferry_migrate_watch *watch,
                        struct ferry_migration *out)
{
  ferry_error_clear();
  /* The plan's clients do the steps: credentials are asked for once. */
  struct ferry_migrate_spec spec;
  client_t *src, *dst;
  struct ferry_vm vm;
  struct ferry_migration planned;
  ferry_vm_init(&vm);
  ferry_migration_init(&planned);
  int r = migrate_open_spec(user, &spec, &src, &dst);
  if (r == 0)
    r = migrate_plan(&spec, src, dst, &vm, &planned);
  ferry_vm_dispose(&vm);
  struct journal j;
  if (r == 0) {
    if ((r = journal_open(journal_dir, planned.id, true, &j)) == 0) {
      ferry_migration_dispose(&j.m);
      r = ferry_migration_copy(&j.m, &planned);
    }
    if (r == 0 && (r = journal_save(&j)) == 0) { /* planned: nothing done */
      r = start_steps(&j, watch, src, dst);
      src = dst = NULL; /* closed by the steps */
    }
    journal_close(&j, out);
  }
  ferry_migration_dispose(&planned);
  close_both(src, dst);
  return r;
}

int ferry_migrate_resume(const char *journal_dir, const char *id,
                         const struct ferry_cutover_opts *opts,
                         const struct ferry_migrate_auth *auth,
                         const struct ferry_migrate_watch *watch,
                         struct ferry_migration *out)
{
  ferry_error_clear();
  struct journal j;
  int r = journal_open(journal_dir, id, false, &j);
  if (r == 0)
    r = journal_take_auth(&j, auth);
  enum ferry_migration_phase ph = j.m.phase;
  if (r == 0 && ph == FERRY_MIGRATION_PHASE_FAILED) {
    /* Where it failed, once more: its journal says what is done. */
    ph = j.m.phase = j.m.failed_phase;
    r = journal_save(&j);
  }
  if (r == 0 && (ph == FERRY_MIGRATION_PHASE_PLANNED ||
                 ph == FERRY_MIGRATION_PHASE_COPYING))
    r = start_steps(&j, watch, NULL, NULL);
  journal_close(&j, r == 0 && ph != FERRY_MIGRATION_PHASE_PLANNED &&
                            ph != FERRY_MIGRATION_PHASE_COPYING ? NULL : out);
  if (r < 0 || ph == FERRY_MIGRATION_PHASE_PLANNED ||
      ph == FERRY_MIGRATION_PHASE_COPYING)
    return r;
  if (ph == FERRY_MIGRATION_PHASE_WARM)
    return ferry_migrate_sync(journal_dir, id, auth, watch, out);
  if (ph == FERRY_MIGRATION_PHASE_CUTOVER)
    return ferry_migrate_cutover(journal_dir, id, opts, auth, watch, out);
  return ferry_migrate_status(journal_dir, id, out); /* nothing to resume */
}

int ferry_migrate_sync(const char *journal_dir, const char *id,
                       const struct ferry_migrate_auth *auth,
                       const struct ferry_migrate_watch *watch,
                       struct ferry_migration *out)
{
  struct session s;
  int r = session_open(journal_dir, id, auth, FERRY_MIGRATION_PHASE_WARM,
                       FERRY_MIGRATION_PHASE_COPYING,
                       "rounds run while it is warm", &s);
  if (r == 0)
    r = do_round(&s.j, s.src, s.dst, &s.vm, false, watch);
  if (r == 0 && s.j.m.phase == FERRY_MIGRATION_PHASE_COPYING) {
    s.j.m.phase = FERRY_MIGRATION_PHASE_WARM;
    r = journal_save(&s.j);
  }
  return session_close(&s, r, out);
}

int ferry_migrate_converge(const char *journal_dir, const char *id,
                           uint64_t threshold, unsigned max_rounds,
                           const struct ferry_migrate_auth *auth,
                           const struct ferry_migrate_watch *watch,
                           struct ferry_migration *out)
{
  struct ferry_migration m;
  ferry_migration_init(&m);
  int r = 0;
  for (unsigned k = 0; r == 0 && k < (max_rounds ? max_rounds : 10); k++) {
    ferry_migration_dispose(&m);
    if ((r = ferry_migrate_sync(journal_dir, id, auth, watch, &m)) < 0)
      break;
    if (m.n_rounds && m.rounds[m.n_rounds - 1].changed_bytes < threshold)
      break; /* few enough changes: time to cut over */
  }
  if (out)
    ferry_migration_copy(out, &m);
  ferry_migration_dispose(&m);
  return r;
}

int ferry_migrate_status(const char *journal_dir, const char *id,
                         struct ferry_migration *out)
{
  ferry_error_clear();
  return journal_read(journal_dir, id, out);
}

static bool is_journal(const char *name, void *opaque)
{
  (void)opaque;
  size_t n = strlen(name);
  return n > 5 && name[0] != '.' && !strcmp(name + n - 5, ".json");
}

int ferry_migrate_list(const char *journal_dir, struct ferry_migration **out,
                       size_t *n)
{
  ferry_error_clear();
  *out = NULL;
  *n = 0;
  char dir[PATH_MAX], **names = NULL;
  size_t count = 0;
  int r = journal_dir_of(journal_dir, dir);
  if (r == 0)
    r = dir_scan(dir, is_journal, NULL, &names, &count);
  struct ferry_migration *v = r == 0 && count ? calloc(count, sizeof *v)
                                              : NULL;
  if (r == 0 && count && !v)
    r = ferry_error(ENOMEM, "out of memory");
  size_t k = 0;
  for (; r == 0 && k < count; k++) {
    names[k][strlen(names[k]) - 5] = '\0'; /* the id */
    ferry_migration_init(&v[k]);
    r = journal_read(journal_dir, names[k], &v[k]);
  }
  if (r < 0) {
    ferry_migration_list_free(v, k);
  } else {
    *out = v;
    *n = count;
  }
  dir_scan_free(names, count);
  return r;
}
