/* Warm migration: the journal, the plan and the steps (see migrate.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/child.h"
#include "../core/error.h"
#include "../core/lease.h"
#include "../core/statefile.h"
#include "../core/clock.h"
#include "../core/opts.h"
#include "../platforms/driver.h"
#include "migrate.h"

#define JOURNAL_MAX (1 << 20)

/* Wall time: the journal's timestamps, and the downtime, which spans
 * processes (a cutover killed and resumed). */
static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void journal_dir_of(const char *dir, char *buf)
{
  const char *st = getenv("FERRY_STATE_DIR");
  if (dir)
    snprintf(buf, PATH_MAX, "%s", dir);
  else
    snprintf(buf, PATH_MAX, "%s/migrations", st && *st ? st : "/var/lib/ferry");
}

/* One migration's journal, locked while a step runs. */
struct journal {
  char path[PATH_MAX], helpers[PATH_MAX];
  int lock;
  bool owns_log; /* the process's helper log is this step's */
  struct ferry_migration m;
  /* This step's credentials, never saved. */
  const struct ferry_auth *src_auth, *dst_auth;
};

/* A journal means what its file says: its id is its name, and every name
 * in it that becomes part of a path or a command is one ferry could have
 * written (a hand-edited journal must not make abort delete elsewhere). */
static int journal_check(const struct ferry_migration *m, const char *id)
{
  if (!m->id || strcmp(m->id, id))
    return ferry_error(EINVAL, "it is migration '%s', not '%s'",
                       m->id ? m->id : "", id);
  int r = name_check(m->vm_uuid, "VM uuid");
  if (r == 0 && (!m->source || !*m->source || !m->destination ||
                 !*m->destination))
    r = ferry_error(EINVAL, "it names no source or destination");
  for (size_t i = 0; r == 0 && i < m->n_disks; i++)
    if ((r = name_check(m->disks[i].device, "disk device")) == 0)
      r = name_check(m->disks[i].dst_volume, "destination volume");
  for (size_t k = 0; r == 0 && k < m->n_rounds; k++) {
    char want[300];
    snprintf(want, sizeof want, "mig-%s-%zu", m->id, k + 1);
    if (!m->rounds[k].snapshot || strcmp(m->rounds[k].snapshot, want))
      r = ferry_error(EINVAL, "round %zu names snapshot '%s', not '%s'",
                      k + 1, m->rounds[k].snapshot ? m->rounds[k].snapshot
                                                   : "", want);
  }
  return r;
}

static int journal_open(const char *dir, const char *id, bool create,
                        struct journal *j)
{
  char d[PATH_MAX], lock[PATH_MAX + 16];
  j->lock = -1;
  j->owns_log = false;
  j->src_auth = j->dst_auth = NULL;
  ferry_migration_init(&j->m);
  int r = name_check(id, "migration id");
  if (r < 0)
    return r;
  journal_dir_of(dir, d);
  if ((r = statefile_mkdirs(d)) < 0)
    return r;
  char abs[PATH_MAX]; /* leases name the journal: from anywhere */
  if (realpath(d, abs))
    snprintf(d, sizeof d, "%s", abs);
  snprintf(j->path, sizeof j->path, "%s/%s.json", d, id);
  snprintf(lock, sizeof lock, "%s/%s.lock", d, id);
  /* A moment's wait: a killed step's children may hold it while dying. */
  if ((r = lock_acquire(lock, 10000, &j->lock)) < 0)
    return ferry_error(EBUSY, "migration %s: another ferry process is "
                       "working on it", id);
  /* Helpers a killed step left (child.h) go before anything else: they
   * would hold the images' locks. Then this step's are logged. */
  snprintf(j->helpers, sizeof j->helpers, "%s/%s.helpers", d, id);
  child_reap_logged(j->helpers);
  ferry_error_clear();
  j->owns_log = child_log_open(j->helpers) == 1;
  ferry_error_clear();
  char *text;
  r = statefile_read(j->path, JOURNAL_MAX, &text);
  if (create)
    return r == 0 ? ferry_error(EEXIST, "migration %s exists already", id)
                  : 0;
  if (r < 0)
    return r == -ENOENT ? ferry_error(ENOENT, "no migration %s", id) : r;
  r = ferry_migration_from_json(&j->m, text);
  free(text);
  if (r == 0)
    r = journal_check(&j->m, id);
  return r < 0 ? ferry_error_prefix("journal %s: ", j->path) : 0;
}

static int journal_save(struct journal *j)
{
  j->m.updated = now_ms() / 1000;
  char *text = ferry_migration_to_json(&j->m);
  if (!text)
    return -ferry_last_errno();
  int r = statefile_write(j->path, text, strlen(text));
  free(text);
  return r;
}

static void journal_close(struct journal *j, struct ferry_migration *out)
{
  if (out)
    ferry_migration_copy(out, &j->m);
  ferry_migration_dispose(&j->m);
  if (j->owns_log)
    child_log_close();
  j->owns_log = false;
  lock_release(j->lock);
}

static void close_both(client_t *src, client_t *dst);

static const char *mapped_network(const struct ferry_migration *m,
                                  const char *net)
{
  size_t n = strlen(net);
  for (size_t i = 0; i < m->n_network_map; i++) {
    const char *e = m->network_map[i];
    if (!strncmp(e, net, n) && e[n] == '=')
      return e + n + 1;
  }
  return NULL;
}

static bool has_network(const struct ferry_vlan *v, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if ((v[i].id && !strcmp(v[i].id, id)) ||
        (v[i].name && !strcmp(v[i].name, id)))
      return true;
  return false;
}

static int set_str(char **f, const char *v)
{
  char *d = strdup(v ? v : "");
  if (!d)
    return ferry_error(ENOMEM, "out of memory");
  free(*f);
  *f = d;
  return 0;
}

/* Everything checked before anything is touched; fills m. */
static int plan(const struct ferry_migrate_spec *spec, client_t *src,
                client_t *dst, struct ferry_vm *vm, struct ferry_migration *m)
{
  const char *fmt = spec->format && *spec->format ? spec->format : "qcow2";
  if (strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
    return ferry_error(EINVAL, "destination format '%s' is not qcow2 or raw",
                       fmt);
  int r = ferry_get_vm(src, spec->vm, vm);
  if (r < 0)
    return ferry_error_prefix("source: ");
  char id[256];
  if (spec->id)
    snprintf(id, sizeof id, "%s", spec->id);
  else
    snprintf(id, sizeof id, "%s-%" PRIu64, vm->name, now_ms() / 1000);
  if ((r = name_check(id, "migration id")) < 0)
    return r;
  if ((r = set_str(&m->id, id)) || (r = set_str(&m->source, spec->source)) ||
      (r = set_str(&m->destination, spec->destination)) ||
      (r = set_str(&m->vm, vm->name)) || (r = set_str(&m->vm_uuid, vm->uuid)))
    return r;
  m->phase = FERRY_MIGRATION_PHASE_PLANNED;
  m->created = now_ms() / 1000;
  for (size_t i = 0; i < spec->n_network_map; i++) {
    const char *e = spec->network_map[i], *eq = strchr(e, '=');
    if (!eq || eq == e || !eq[1])
      return ferry_error(EINVAL, "network map entry '%s' is not "
                         "SOURCE=DESTINATION", e);
    if ((r = ferry_migration_network_map_append(m, e)) < 0)
      return r;
  }
  /* Networks: every NIC's network mapped, to a network that exists. */
  struct ferry_vlan *nets;
  size_t nn;
  if ((r = ferry_vlans(dst, &nets, &nn)) < 0)
    return ferry_error_prefix("destination: ");
  for (size_t i = 0; i < vm->n_nics && r == 0; i++) {
    const char *to = mapped_network(m, vm->nics[i].network);
    if (!to)
      r = ferry_error(EINVAL, "NIC %s is on network '%s', which the network "
                      "map does not map (give %s=DESTINATION_NETWORK)",
                      vm->nics[i].mac, vm->nics[i].network,
                      vm->nics[i].network);
    else if (!has_network(nets, nn, to))
      r = ferry_error(ENOENT, "NIC %s maps to network '%s', which the "
                      "destination does not have", vm->nics[i].mac, to);
  }
  ferry_vlan_list_free(nets, nn);
  if (r < 0)
    return r;
  /* Names free at the destination, and room for the disks. */
  struct ferry_vm other;
  ferry_vm_init(&other);
  if (ferry_get_vm(dst, vm->name, &other) == 0) {
    ferry_vm_dispose(&other);
    return ferry_error(EEXIST, "the destination has a VM named '%s' already",
                       vm->name);
  }
  ferry_error_clear();
  char **ids = calloc(vm->n_disks + 1, sizeof *ids);
  if (!ids)
    return ferry_error(ENOMEM, "out of memory");
  r = ferry_plan_volumes(dst, vm->name, vm->disks, vm->n_disks, fmt, ids);
  for (size_t i = 0; i < vm->n_disks && r == 0; i++) {
    struct ferry_migration_disk *d = ferry_migration_disks_append(m);
    if (!d)
      r = ferry_error(ENOMEM, "out of memory");
    else if (!(r = set_str(&d->device, vm->disks[i].device)) &&
             !(r = set_str(&d->dst_volume, ids[i])))
      r = set_str(&d->dst_format, fmt);
    if (d)
      d->capacity = vm->disks[i].capacity;
  }
  for (size_t i = 0; i < vm->n_disks; i++)
    free(ids[i]);
  free(ids);
  return r < 0 ? ferry_error_prefix("destination: ") : 0;
}

/* The platforms can play their parts: the destination writes volumes and
 * defines VMs; the source has a data path to read its disks. */
static int check_roles(client_t *src, client_t *dst, const char *dst_uri)
{
  const struct ferry_driver_info *s = ferry_client_driver(src),
                                 *d = ferry_client_driver(dst);
  unsigned need = FERRY_FEATURE_WRITE_VOLUMES | FERRY_FEATURE_CREATE_VMS;
  if ((d->features & need) != need) {
    const struct ferry_driver_info *const *all;
    size_t n = ferry_drivers(&all), w = 0;
    char can[512] = "";
    for (size_t i = 0; i < n; i++)
      if (all[i]->platform && (all[i]->features & need) == need)
        w += snprintf(can + w, w < sizeof can ? sizeof can - w : 0, "%s%s",
                      w ? " and " : "", all[i]->name);
    return ferry_error(ENOTSUP, "destination '%s': ferry migrates to %s "
                       "platforms; the %s platform %s", dst_uri, can, d->name,
                       !(d->features & FERRY_FEATURE_WRITE_VOLUMES)
                           ? "does not write volumes"
                           : "does not define VMs");
  }
  if (!(s->features & FERRY_FEATURE_READ_VOLUMES))
    return ferry_error(ENOTSUP, "source: the %s platform has no data path "
                       "to read disks from", s->name);
  return 0;
}

/* Both platforms of a spec, with its credentials. */
static int open_spec(const struct ferry_migrate_spec *spec, client_t **src,
                     client_t **dst)
{
  *src = *dst = NULL;
  if (!(*src = ferry_platform_open_auth(spec->source, spec->source_auth, 0)))
    return ferry_error_prefix("source: ");
  if (!(*dst = ferry_platform_open_auth(spec->destination,
                                        spec->destination_auth, 0)))
    return ferry_error_prefix("destination: ");
  return check_roles(*src, *dst, spec->destination);
}

int ferry_migrate_plan(const struct ferry_migrate_spec *user,
                       struct ferry_migration *out)
{
  ferry_error_clear();
  client_t *src = NULL, *dst = NULL;
  struct ferry_migrate_spec spec = { 0 };
  int r = user ? OPTS_TAKE(&spec, user, struct ferry_migrate_spec, id)
               : ferry_error(EINVAL, "no migration spec");
  if (r == 0 && (!spec.source || !spec.destination))
    r = ferry_error(EINVAL, "a migration needs a source and a destination");
  if (r == 0)
    r = open_spec(&spec, &src, &dst);
  struct ferry_vm vm;
  struct ferry_migration m;
  ferry_vm_init(&vm);
  ferry_migration_init(&m);
  if (r == 0)
    r = plan(&spec, src, dst, &vm, &m);
  if (r == 0 && out)
    r = ferry_migration_copy(out, &m);
  ferry_migration_dispose(&m);
  ferry_vm_dispose(&vm);
  close_both(src, dst);
  return r;
}

static void snapshot_name(const struct ferry_migration *m, size_t k,
                          char *buf, size_t len)
{
  snprintf(buf, len, "mig-%s-%zu", m->id, k + 1);
}

/* Finishes an interrupted round, else takes a new one (final: after the
 * source stopped): its snapshot if not taken already, then its copy. */
static int do_round(struct journal *j, client_t *src, client_t *dst,
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
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  int r = ferry_snapshot_get(src, vm->uuid, rd->snapshot, &s);
  ferry_domain_snapshot_dispose(&s);
  if (r == -ENOENT) {
    struct ferry_snapshot_spec spec = { sizeof spec, rd->snapshot,
                                        "ferry migration",
                                        FERRY_SNAPSHOT_EXTERNAL };
    r = ferry_snapshot_create(src, vm->uuid, &spec, NULL);
  }
  if (r < 0)
    return r;
  uint64_t t0 = monotonic_ms();
  r = round_copy(src, dst, vm, m, k ? m->rounds[k - 1].snapshot : NULL,
                 rd->snapshot,
                 k == 0 ? "full copy" : rd->final ? "final round" : "round",
                 (unsigned)k + 1, watch, &rd->changed_bytes);
  rd->millis = monotonic_ms() - t0;
  rd->done = r == 0;
  int rs = journal_save(j);
  if (r == 0 && rs == 0 && k > 0 && !rd->final) {
    /* S(k-1) served its round: drop it now (a live commit of what one
     * round changed) so that the chain stays short. Best effort: whatever
     * stays is removed at cutover or abort. */
    ferry_snapshot_delete(src, vm->uuid, m->rounds[k - 1].snapshot);
    ferry_error_clear();
  }
  return r < 0 ? r : rs;
}

/* Removes every migration snapshot from the source, newest first. */
static int remove_snapshots(client_t *src, const struct ferry_migration *m)
{
  struct saved_error first = { 0, "" };
  for (size_t k = m->n_rounds; k-- > 0;) {
    int r = ferry_snapshot_delete(src, m->vm_uuid, m->rounds[k].snapshot);
    if (r < 0 && r != -ENOENT && first.err == 0)
      error_save(&first); /* the next call clears it */
  }
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
static int fail(struct journal *j, client_t *src)
{
  struct saved_error e;
  error_save(&e);
  enum ferry_migration_phase ph = j->m.phase;
  if (ph == FERRY_MIGRATION_PHASE_FAILED)
    ph = j->m.failed_phase;
  if (src && (ph == FERRY_MIGRATION_PHASE_PLANNED ||
              ph == FERRY_MIGRATION_PHASE_COPYING))
    remove_snapshots(src, &j->m);
  set_str(&j->m.error, e.msg);
  j->m.failed_phase = ph;
  j->m.phase = FERRY_MIGRATION_PHASE_FAILED;
  journal_save(j);
  return ferry_error(e.err, "%s (`ferry migrate resume %s` tries again "
                     "from here; `ferry migrate abort %s` puts the source "
                     "back as it was)", e.msg, j->m.id, j->m.id);
}

/* Where a platform's leases live: its own directory, so that its own
 * operations honour them, or else one beside the journals, per platform
 * (its URI without the query), seen by migrations. */
static int lease_dir(const struct journal *j, client_t *c, const char *uri,
                     char *buf, size_t len)
{
  if (platform_lease_dir(c, buf, len) == 0)
    return 0;
  ferry_error_clear();
  unsigned long long h = 1469598103934665603ull; /* FNV-1a */
  for (const char *p = uri; *p && *p != '?'; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  const char *slash = strrchr(j->path, '/');
  snprintf(buf, len, "%.*s/leases/%016llx", (int)(slash - j->path), j->path,
           h);
  return 0;
}

/* Lease k of a migration: 0 its source VM, 1 the VM name it creates at
 * the destination, 2... its destination volumes' names. */
static void lease_key(const struct ferry_migration *m, size_t k, char *key,
                      char *what, size_t len)
{
  if (k == 0) {
    snprintf(key, len, "vm-%s", m->vm_uuid);
    snprintf(what, len, "VM '%s'", m->vm);
  } else if (k == 1) {
    snprintf(key, len, "vmname-%s", m->vm);
    snprintf(what, len, "the destination VM name '%s'", m->vm);
  } else {
    snprintf(key, len, "volume-%s", m->disks[k - 2].dst_volume);
    snprintf(what, len, "the destination volume name '%s'",
             m->disks[k - 2].dst_volume);
  }
}

/* Takes (or drops) every lease of a migration. A refusal gives back what
 * it took and names the migration holding the lease. */
static int leases(const struct journal *j, client_t *src, client_t *dst,
                  bool take)
{
  const struct ferry_migration *m = &j->m;
  char sdir[PATH_MAX], ddir[PATH_MAX], key[400], what[400];
  lease_dir(j, src, m->source, sdir, sizeof sdir);
  lease_dir(j, dst, m->destination, ddir, sizeof ddir);
  int r = 0;
  size_t k = 0, n = m->n_disks + 2;
  for (; k < n && (r == 0 || !take); k++) {
    lease_key(m, k, key, what, sizeof key);
    int rk = take ? lease_take(k ? ddir : sdir, key, m->id, j->path, what)
                  : lease_drop(k ? ddir : sdir, key, m->id);
    if (rk < 0 && r == 0)
      r = rk;
  }
  if (r < 0 && take) {
    struct saved_error e;
    error_save(&e);
    for (size_t i = 0; i + 1 < k; i++) { /* k - 1 is the refused one */
      lease_key(m, i, key, what, sizeof key);
      lease_drop(i ? ddir : sdir, key, m->id);
    }
    return error_restore(&e);
  }
  return r;
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
static void close_both(client_t *src, client_t *dst)
{
  if (dst)
    destroy_client(dst);
  if (src)
    destroy_client(src);
}

/* A step on a journaled migration: the journal, both platforms, the
 * source VM. */
struct session {
  struct journal j;
  client_t *src, *dst;
  struct ferry_vm vm;
};

/* Opens a session for a step allowed in phases a and b; rule says when
 * the step runs, for the error. */
static int session_open(const char *journal_dir, const char *id,
                        const struct ferry_migrate_auth *auth,
                        enum ferry_migration_phase a,
                        enum ferry_migration_phase b, const char *rule,
                        struct session *s)
{
  ferry_error_clear();
  s->src = s->dst = NULL;
  ferry_vm_init(&s->vm);
  struct ferry_migrate_auth au = { 0 };
  int r = journal_open(journal_dir, id, false, &s->j);
  if (r == 0)
    r = OPTS_TAKE(&au, auth, struct ferry_migrate_auth, destination);
  s->j.src_auth = au.source;
  s->j.dst_auth = au.destination;
  if (r == 0 && s->j.m.phase != a && s->j.m.phase != b)
    r = ferry_error(EINVAL, "migration %s is %s: %s", id,
                    ferry_migration_phase_name(s->j.m.phase), rule);
  if (r == 0)
    r = open_both(&s->j, &s->src, &s->dst, &s->vm);
  return r;
}

/* Ends a session with the step's result r: a failed step (not a refused
 * or busy one) marks the migration failed. */
static int session_close(struct session *s, int r, struct ferry_migration *out)
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
  if (r == 0 && (r = leases(j, src, dst, true)) < 0 &&
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
  if (r == 0)
    r = ferry_open_cbt(src, vm.uuid); /* the seed's open_cbt */
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
  struct ferry_migrate_spec spec = { 0 };
  int r = user ? OPTS_TAKE(&spec, user, struct ferry_migrate_spec, id)
               : ferry_error(EINVAL, "no migration spec");
  /* The plan's clients do the steps: credentials are asked for once. */
  client_t *src = NULL, *dst = NULL;
  struct ferry_vm vm;
  struct ferry_migration planned;
  ferry_vm_init(&vm);
  ferry_migration_init(&planned);
  if (r == 0 && (r = open_spec(&spec, &src, &dst)) == 0)
    r = plan(&spec, src, dst, &vm, &planned);
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
  struct ferry_migrate_auth au = { 0 };
  int r = journal_open(journal_dir, id, false, &j);
  if (r == 0)
    r = OPTS_TAKE(&au, auth, struct ferry_migrate_auth, destination);
  j.src_auth = au.source;
  j.dst_auth = au.destination;
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

static int create_destination(struct journal *j, client_t *dst,
                              const struct ferry_vm *vm)
{
  struct ferry_vm spec, made;
  ferry_vm_init(&made);
  int r = adopt_destination(j, dst);
  if (r != 0)
    return r < 0 ? r : journal_save(j);
  j->m.creating_vm = true;
  if ((r = journal_save(j)) < 0 || (r = ferry_vm_copy(&spec, vm)) < 0)
    return r;
  set_str(&spec.id, "");
  set_str(&spec.uuid, "");
  /* A machine type means something to its own kind of platform only
   * (VMware's is its hardware version, "vmx-13"): another kind of
   * destination takes its default. */
  size_t sk = strcspn(j->m.source, ":"), dk = strcspn(j->m.destination, ":");
  if (sk != dk || strncmp(j->m.source, j->m.destination, sk))
    set_str(&spec.machine, "");
  for (size_t i = 0; r == 0 && i < spec.n_disks; i++)
    for (size_t k = 0; k < j->m.n_disks; k++)
      if (!strcmp(j->m.disks[k].device, spec.disks[i].device) &&
          !(r = set_str(&spec.disks[i].volume_id, j->m.disks[k].dst_volume)))
        r = set_str(&spec.disks[i].format, j->m.disks[k].dst_format);
  for (size_t i = 0; r == 0 && i < spec.n_nics; i++) {
    const char *to = mapped_network(&j->m, spec.nics[i].network);
    r = set_str(&spec.nics[i].network, to);
  }
  if (r == 0 && (r = ferry_create_vm(dst, &spec, &made)) == 0 &&
      (r = set_str(&j->m.dst_vm_uuid, made.uuid)) == 0)
    r = journal_save(j);
  ferry_vm_dispose(&spec);
  ferry_vm_dispose(&made);
  return r;
}

/* The last round's snapshot went missing before it was verified (a crash
 * in the middle of the cleanup of an older ferry, or a user's delete):
 * the source is stopped, so a new final round gives the same data. */
static int check_last_snapshot(struct journal *j, client_t *src,
                               const struct ferry_vm *vm)
{
  struct ferry_migration_round *last = &j->m.rounds[j->m.n_rounds - 1];
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  int r = ferry_snapshot_get(src, vm->uuid, last->snapshot, &s);
  ferry_domain_snapshot_dispose(&s);
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
  struct ferry_cutover_opts o = { sizeof o, 60, false, false };
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
   * then the final round of what changed until the stop. */
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
  if (r == 0 && (!j->m.dst_vm_uuid || !*j->m.dst_vm_uuid))
    r = create_destination(j, dst, vm);
  if (r == 0) {
    struct ferry_vm made;
    struct ferry_disk boot;
    ferry_vm_init(&made);
    ferry_disk_init(&boot);
    if ((r = ferry_get_vm(dst, j->m.dst_vm_uuid, &made)) == 0) {
      int b = ferry_check_boot_disk(dst, made.disks, made.n_disks, &boot);
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
  if (r == 0 && !j->m.cleaning && !o.no_verify) {
    r = verify_disks(src, dst, vm, &j->m,
                     j->m.rounds[j->m.n_rounds - 1].snapshot);
    j->m.verified = r == 0;
  }
  if (r == 0 && !j->m.cleaning) { /* from here on no snapshot is needed */
    j->m.cleaning = true;
    r = journal_save(j);
  }
  if (r == 0 && (r = remove_snapshots(src, &j->m)) == 0) {
    j->m.phase = FERRY_MIGRATION_PHASE_DONE;
    if ((r = journal_save(j)) == 0)
      leases(j, src, dst, false); /* stale now anyway: tidy */
  }
  return session_close(&s, r, out);
}

int ferry_migrate_abort(const char *journal_dir, const char *id,
                        const struct ferry_migrate_auth *auth,
                        struct ferry_migration *out)
{
  ferry_error_clear();
  struct journal j;
  struct ferry_migrate_auth au = { 0 };
  int r = journal_open(journal_dir, id, false, &j);
  if (r == 0)
    r = OPTS_TAKE(&au, auth, struct ferry_migrate_auth, destination);
  j.src_auth = au.source;
  j.dst_auth = au.destination;
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
  if (r == 0)
    r = remove_snapshots(src, &j.m);
  if (r == 0 && (!j.m.dst_vm_uuid || !*j.m.dst_vm_uuid) &&
      (r = adopt_destination(&j, dst)) > 0) /* made, not yet journaled */
    r = 0;
  if (r == 0 && j.m.dst_vm_uuid && *j.m.dst_vm_uuid) {
    ferry_stop_vm(dst, j.m.dst_vm_uuid, 0, FERRY_STOP_FORCE);
    if ((r = ferry_delete_vm(dst, j.m.dst_vm_uuid)) == -ENOENT)
      r = 0;
  }
  /* Volumes only if this migration may have made them: the names of
   * another's are not ours to delete. */
  for (size_t i = 0; r == 0 && j.m.volumes_made && i < j.m.n_disks; i++)
    if ((r = ferry_delete_volume(dst, j.m.disks[i].dst_volume)) == -ENOENT)
      r = 0;
  /* A cutover stopped the source: it runs again. */
  if (r == 0 && j.m.source_was_running) {
    struct ferry_vm v;
    ferry_vm_init(&v);
    if ((r = ferry_get_vm(src, j.m.vm_uuid, &v)) == 0 &&
        v.power_state == FERRY_POWER_STATE_STOPPED)
      r = ferry_start_vm(src, j.m.vm_uuid);
    ferry_vm_dispose(&v);
  }
  if (r == 0) {
    ferry_error_clear();
    j.m.phase = FERRY_MIGRATION_PHASE_ABORTED;
    if ((r = journal_save(&j)) == 0)
      leases(&j, src, dst, false);
  }
  close_both(src, dst);
  journal_close(&j, out);
  return r;
}

int ferry_migrate_status(const char *journal_dir, const char *id,
                         struct ferry_migration *out)
{
  ferry_error_clear();
  char d[PATH_MAX], path[PATH_MAX + 300], *text;
  int r = name_check(id, "migration id");
  if (r < 0)
    return r;
  journal_dir_of(journal_dir, d);
  snprintf(path, sizeof path, "%s/%s.json", d, id);
  if ((r = statefile_read(path, JOURNAL_MAX, &text)) < 0)
    return r == -ENOENT ? ferry_error(ENOENT, "no migration %s", id) : r;
  r = ferry_migration_from_json(out, text);
  free(text);
  return r;
}
