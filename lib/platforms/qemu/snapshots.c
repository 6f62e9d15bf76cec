/* VM snapshots on the qemu platform, after the seed's libxl design:
 * internal qcow2 snapshots of every disk taken together (a QMP transaction
 * while the VM runs, qemu-img while it is stopped), RAM saved through a
 * migration to an fd, one record per snapshot, a tree through parents. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/qemu_img.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "../../qmp/qmp.h"
#include "../../types/object.h"
#include "../snapshot_store.h"
#include "external.h"
#include "qemu.h"
#include "snapdisk.h"
#define MIGRATE_TIMEOUT_MS (30 * 60 * 1000)

static int open_store(const struct qemu_state *st, const struct ferry_vm *vm,
                      struct snap_store *s)
{
  char base[PATH_MAX];
  return snap_store_open(s, qemu_path(st, base, "snapshots"), vm->uuid);
}

static int disk_path(const struct qemu_state *st, const struct ferry_disk *d,
                     char *buf)
{
  return qemu_volume_path(st, d->volume_id, buf);
}

/* Internal snapshots live inside qcow2 images only. */
static int check_qcow2(const struct ferry_vm *vm)
{
  if (vm->n_disks == 0)
    return ferry_error(EINVAL, "VM '%s' has no disks to snapshot", vm->name);
  for (size_t i = 0; i < vm->n_disks; i++)
    if (!vm->disks[i].format || strcmp(vm->disks[i].format, "qcow2"))
      return ferry_error(ENOTSUP, "disk %s of VM '%s' is %s: internal "
                         "snapshots need qcow2 disks", vm->disks[i].device,
                         vm->name, vm->disks[i].format ? vm->disks[i].format
                                                       : "of no format");
  return 0;
}

/* qemu-img snapshot -c/-d/-a NAME on one stopped disk. It has no -f, so
 * the format is fixed through --image-opts (commas doubled in the path). */
static int img_snapshot(const struct qemu_state *st,
                        const struct ferry_disk *d, const char *op,
                        const char *name)
{
  char path[PATH_MAX], opts[2 * PATH_MAX + 64];
  int r = disk_path(st, d, path);
  if (r < 0)
    return r;
  char *w = opts + sprintf(opts, "driver=qcow2,file.filename=");
  for (const char *p = path; *p; p++) {
    if (*p == ',')
      *w++ = ',';
    *w++ = *p;
  }
  *w = '\0';
  char *argv[] = { "qemu-img", "snapshot", "--image-opts", (char *)op,
                   (char *)name, opts, NULL };
  return run_command(argv, NULL);
}

/* Whether a disk image holds an internal snapshot of that name already.
 * qemu-img would happily make a second one of the same name. */
static int disk_has_snapshot(const struct qemu_state *st,
                             const struct ferry_disk *d, const char *name,
                             bool *has)
{
  json_object *j, *snaps;
  int r = qemu_img_info(st, d->volume_id, &j);
  if (r < 0)
    return r;
  *has = false;
  if (j && json_object_object_get_ex(j, "snapshots", &snaps))
    for (size_t i = 0; i < json_object_array_length(snaps) && !*has; i++) {
      json_object *nm;
      if (json_object_object_get_ex(json_object_array_get_idx(snaps, i),
                                    "name", &nm))
        *has = !strcmp(json_object_get_string(nm), name);
    }
  json_object_put(j);
  return 0;
}

static bool not_found(void)
{
  const char *m = ferry_last_error();
  return m && (strstr(m, "not found") || strstr(m, "does not exist") ||
               strstr(m, "Can't find"));
}

/* Deletes the internal snapshot `name` from disks [0, n): through QMP when
 * q is given (the VM runs), else with qemu-img. Missing ones count as done,
 * so a delete that was interrupted can be run again. */
static int delete_on_disks(const struct qemu_state *st, struct qmp *q,
                           const struct ferry_vm *vm, size_t n,
                           const char *name)
{
  int first = 0;
  for (size_t i = 0; i < n; i++) {
    int r;
    char node[64];
    if (q && (r = active_node(q, vm->disks[i].device, node, sizeof node)) < 0) {
      if (first == 0)
        first = r;
      continue;
    }
    if (q) {
      json_object *a = json_object_new_object();
      json_object_object_add(a, "device", json_object_new_string(node));
      json_object_object_add(a, "name", json_object_new_string(name));
      r = qmp_execute(q, "blockdev-snapshot-delete-internal-sync", a, NULL,
                      QMP_TIMEOUT);
      json_object_put(a);
    } else {
      r = img_snapshot(st, &vm->disks[i], "-d", name);
    }
    if (r < 0 && !not_found() && first == 0)
      first = ferry_error_prefix("disk %s: ", vm->disks[i].device);
  }
  return first;
}

/* The transaction snapshotting every disk's current node, or NULL. */
static json_object *snapshot_transaction(struct qmp *q,
                                         const struct ferry_vm *vm,
                                         const char *name)
{
  json_object *actions = json_object_new_array();
  for (size_t i = 0; i < vm->n_disks; i++) {
    char node[64];
    if (active_node(q, vm->disks[i].device, node, sizeof node) < 0) {
      json_object_put(actions);
      return NULL;
    }
    json_object *data = json_object_new_object();
    json_object_object_add(data, "device", json_object_new_string(node));
    json_object_object_add(data, "name", json_object_new_string(name));
    json_object *act = json_object_new_object();
    json_object_object_add(act, "type",
                           json_object_new_string("blockdev-snapshot-internal-sync"));
    json_object_object_add(act, "data", data);
    json_object_array_add(actions, act);
  }
  json_object *args = json_object_new_object();
  json_object_object_add(args, "actions", actions);
  return args;
}

/* Saves RAM (and device state) into path through migrate to an fd. */
static int save_memory(struct qmp *q, const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return ferry_error(errno, "%s: %s", path, strerror(errno));
  int r = qmp_getfd(q, "ferry-mem", fd, QMP_TIMEOUT);
  if (r == 0) {
    json_object *a = json_object_new_object();
    json_object_object_add(a, "uri", json_object_new_string("fd:ferry-mem"));
    r = qmp_execute(q, "migrate", a, NULL, QMP_TIMEOUT);
    json_object_put(a);
  }
  char st[64];
  for (int waited = 0; r == 0; waited += 50) {
    qemu_qmp_status(q, "query-migrate", st, sizeof st);
    if (!strcmp(st, "completed"))
      break;
    if (!strcmp(st, "failed") || !strcmp(st, "cancelled") || !*st) {
      r = ferry_error(EIO, "saving RAM to %s: migration %s", path,
                      *st ? st : "status unknown");
      break;
    }
    if (waited > MIGRATE_TIMEOUT_MS) {
      qmp_execute(q, "migrate_cancel", NULL, NULL, QMP_TIMEOUT);
      r = ferry_error(ETIMEDOUT, "saving RAM to %s took too long", path);
      break;
    }
    nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
  }
  if (r == 0 && fsync(fd) < 0)
    r = ferry_error(errno, "%s: fsync: %s", path, strerror(errno));
  close(fd);
  return r;
}

static int fill_record(const struct qemu_state *st, const struct ferry_vm *vm,
                       const struct ferry_snapshot_spec *spec,
                       enum ferry_power_state ps, const char *parent,
                       struct ferry_domain_snapshot *rec)
{
  ferry_domain_snapshot_init(rec);
  rec->name = strdup(spec->name);
  bool ok = ferry_obj_string_set(&rec->description, spec->description) &&
            ferry_obj_string_set(&rec->parent, parent);
  rec->creation_time = (uint64_t)time(NULL);
  rec->running = ps == FERRY_POWER_STATE_RUNNING;
  rec->paused = ps == FERRY_POWER_STATE_PAUSED;
  rec->shutdown = ps == FERRY_POWER_STATE_STOPPED;
  rec->vm_uuid = strdup(vm->uuid);
  rec->kind = spec->flags & FERRY_SNAPSHOT_EXTERNAL
                  ? FERRY_SNAPSHOT_KIND_EXTERNAL
                  : FERRY_SNAPSHOT_KIND_INTERNAL;
  rec->disks = calloc(vm->n_disks, sizeof *rec->disks);
  if (!rec->name || !ok || !rec->vm_uuid || !rec->disks)
    return ferry_error(ENOMEM, "out of memory");
  rec->n_disks = vm->n_disks;
  for (size_t i = 0; i < vm->n_disks; i++) {
    struct ferry_disk_snapshot *d = &rec->disks[i];
    char path[PATH_MAX];
    ferry_disk_snapshot_init(d);
    disk_path(st, &vm->disks[i], path);
    d->device = strdup(vm->disks[i].device);
    d->name = strdup(spec->name);
    d->format = strdup("qcow2");
    d->path = strdup(path);
    if (!d->device || !d->name || !d->format || !d->path)
      return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

/* A create writes creating-<name> before it touches a disk and removes
 * it after the record: one that is left without a record is a create that
 * died halfway, whose internal snapshots (and RAM file) are ferry's own
 * leftovers, cleared here under the VM's lock. An internal snapshot that
 * no intent names is not ferry's: it is never deleted behind the user. */
static void intent_path(const struct snap_store *s, const char *name,
                        char *buf)
{
  snprintf(buf, PATH_MAX, "%s/creating-%s", s->dir, name);
}

static int clear_interrupted(const struct qemu_state *st,
                             const struct snap_store *s,
                             const struct ferry_vm *vm)
{
  DIR *d = opendir(s->dir);
  if (!d)
    return 0;
  struct qmp *q = NULL;
  int r = 0;
  struct dirent *e;
  while (r == 0 && (e = readdir(d))) {
    const char *name = e->d_name + strlen("creating-");
    char path[PATH_MAX];
    if (strncmp(e->d_name, "creating-", 9) || snap_name_check(name) < 0 ||
        strstr(name, ".tmp.")) {
      ferry_error_clear();
      continue;
    }
    if (!snap_store_exists(s, name)) {
      if (!q && qemu_running_pid(st, vm->uuid) &&
          (r = qemu_qmp(st, vm->uuid, QMP_TIMEOUT, &q)) < 0)
        break;
      if ((r = delete_on_disks(st, q, vm, vm->n_disks, name)) < 0)
        break;
      snprintf(path, sizeof path, "%s/%s.mem", s->dir, name);
      unlink(path);
    }
    intent_path(s, name, path);
    r = statefile_remove(path, 1);
  }
  closedir(d);
  qmp_close(q);
  return r < 0 ? ferry_error_prefix("clearing what an interrupted snapshot "
                                    "create left: ") : 0;
}

/* A snapshot create under way, in the steps libvirt's qemu driver takes:
 * prepare, one strategy that undoes its own partial work, the record
 * last. */
struct create {
  const struct qemu_state *st;
  const struct ferry_vm *vm;
  const struct ferry_snapshot_spec *spec;
  bool external;
  enum ferry_power_state ps;
  struct snap_store s;
  char intent[PATH_MAX];
  struct ferry_domain_snapshot rec;
  char *parent;
  struct qmp *q;      /* live: the VM's monitor */
  bool paused_by_us;  /* live: unpaused once the record is written */
  bool internal_made; /* every disk holds the internal snapshot */
  char mem[PATH_MAX]; /* the RAM file ("" for none) */
};

/* Checks, the store and its lock, what an interrupted create left
 * cleared, the record filled and the intent written: nothing has touched
 * a disk yet. */
static int create_prepare(struct ferry_client *fc, struct create *c)
{
  const struct qemu_state *st = c->st;
  const struct ferry_vm *vm = c->vm;
  const char *name = c->spec->name;
  int r = qemu_vm_check(st, vm);
  if (r == 0)
    r = snap_name_check(name);
  if (r == 0 && vm->n_disks == 0)
    r = ferry_error(EINVAL, "VM '%s' has no disks to snapshot", vm->name);
  if (r == 0 && !c->external) /* overlays may stand on raw images too */
    r = check_qcow2(vm);
  if (r == 0 && c->external)
    r = external_names_check(vm, name);
  if (r < 0 || (r = open_store(st, vm, &c->s)) < 0 ||
      (r = qemu_vm_lease_check(fc, vm, "snapshot create")) < 0 ||
      (r = clear_interrupted(st, &c->s, vm)) < 0)
    return r;
  intent_path(&c->s, name, c->intent);
  c->ps = qemu_power_state(st, vm->uuid);
  if (snap_store_exists(&c->s, name))
    return ferry_error(EEXIST, "VM '%s' has a snapshot '%s' already",
                       vm->name, name);
  for (size_t i = 0; !c->external && i < vm->n_disks; i++) {
    bool has;
    if ((r = disk_has_snapshot(st, &vm->disks[i], name, &has)) < 0)
      return r;
    if (has)
      return ferry_error(EEXIST, "disk %s of VM '%s' already holds an "
                         "internal snapshot named '%s' (not in ferry's "
                         "records): pick another name", vm->disks[i].device,
                         vm->name, name);
  }
  if ((c->spec->flags & FERRY_SNAPSHOT_MEMORY) &&
      c->ps == FERRY_POWER_STATE_STOPPED)
    return ferry_error(EINVAL, "VM '%s' is stopped: it has no RAM to save",
                       vm->name);
  if ((r = snap_store_current(&c->s, &c->parent)) < 0 ||
      (r = fill_record(st, vm, c->spec, c->ps, c->parent, &c->rec)) < 0 ||
      (r = snap_store_next_sequence(&c->s, &c->rec.sequence)) < 0)
    return r;
  return statefile_write(c->intent, "", 0);
}

/* Takes back the internal snapshots and the RAM file this create made,
 * keeping the thread's error. */
static void drop_made(struct create *c)
{
  struct saved_error e;
  error_save(&e);
  if (c->internal_made)
    delete_on_disks(c->st, c->q, c->vm, c->vm->n_disks, c->spec->name);
  c->internal_made = false;
  if (*c->mem)
    unlink(c->mem);
  c->mem[0] = '\0';
  error_restore(&e);
}

/* Stopped, internal: qemu-img, undoing the disks done on failure. */
static int create_offline_internal(struct create *c)
{
  const struct ferry_vm *vm = c->vm;
  for (size_t i = 0; i < vm->n_disks; i++) {
    int r = img_snapshot(c->st, &vm->disks[i], "-c", c->spec->name);
    if (r < 0) {
      ferry_error_prefix("disk %s: ", vm->disks[i].device);
      struct saved_error e;
      error_save(&e);
      delete_on_disks(c->st, NULL, vm, i, c->spec->name);
      return error_restore(&e) ? -e.err : r;
    }
  }
  c->internal_made = true;
  return 0;
}

/* Live: RAM (and device state) into <name>.mem, named by the record. */
static int save_ram(struct create *c)
{
  snprintf(c->mem, sizeof c->mem, "%s/%s.mem", c->s.dir, c->spec->name);
  int r = save_memory(c->q, c->mem);
  if (r < 0)
    return r;
  free(c->rec.memory);
  if (!(c->rec.memory = strdup(c->mem)))
    return ferry_error(ENOMEM, "out of memory");
  /* After the migration qemu has let go of its images; cont takes them
   * back (and runs a VM that was paused for an instant). */
  if (!c->paused_by_us &&
      (r = qmp_execute(c->q, "cont", NULL, NULL, QMP_TIMEOUT)) == 0)
    r = qmp_execute(c->q, "stop", NULL, NULL, QMP_TIMEOUT);
  return r;
}

/* Running or paused: paused for one instant, every disk in one QMP
 * transaction (external overlays or internal snapshots), then the RAM
 * if asked. What it made goes again on failure; the pause is the
 * caller's to end, once the record is written. */
static int create_live(struct create *c)
{
  const struct qemu_state *st = c->st;
  const struct ferry_vm *vm = c->vm;
  int r;
  if ((r = qemu_qmp(st, vm->uuid, QMP_TIMEOUT, &c->q)) < 0 ||
      (r = wait_leftover_jobs(c->q)) < 0)
    return r;
  /* A RAM snapshot that was killed leaves qemu after its migration, with
   * its images let go: cont takes them back (stop keeps it paused). */
  char rs[64];
  qemu_qmp_status(c->q, "query-status", rs, sizeof rs);
  if (!strcmp(rs, "postmigrate") &&
      ((r = qmp_execute(c->q, "cont", NULL, NULL, QMP_TIMEOUT)) < 0 ||
       (r = qmp_execute(c->q, "stop", NULL, NULL, QMP_TIMEOUT)) < 0))
    return r;
  /* Pause so that the disks (and RAM) are taken at one instant. */
  if (c->ps == FERRY_POWER_STATE_RUNNING) {
    if ((r = qemu_pause(st, c->q, vm->uuid, "snapshot create")) < 0)
      return r;
    c->paused_by_us = true;
  }
  if (c->external) {
    r = external_create(st, c->q, vm, c->spec->name, &c->rec);
  } else {
    json_object *args = snapshot_transaction(c->q, vm, c->spec->name);
    r = args ? qmp_execute(c->q, "transaction", args, NULL, QMP_TIMEOUT)
             : -ferry_last_errno();
    json_object_put(args);
  }
  if (r < 0) { /* a transaction makes all of its snapshots or none */
    ferry_error_prefix("snapshot of VM '%s': ", vm->name);
    return r;
  }
  c->internal_made = !c->external; /* external_create undoes its own */
  if ((c->spec->flags & FERRY_SNAPSHOT_MEMORY) && (r = save_ram(c)) < 0)
    drop_made(c);
  return r;
}

static int create_disks(struct create *c)
{
  if (c->ps != FERRY_POWER_STATE_STOPPED)
    return create_live(c);
  return c->external
             ? external_create(c->st, NULL, c->vm, c->spec->name, &c->rec)
             : create_offline_internal(c);
}

/* The record last, then the intent: a crash before the record leaves an
 * intent that the next create clears up after. */
static int create_commit(struct create *c)
{
  int r = snap_store_save(&c->s, &c->rec);
  if (r == 0 && (r = snap_store_set_current(&c->s, c->spec->name)) == 0)
    statefile_remove(c->intent, 1);
  return r;
}

/* No partial snapshot, no orphan record, keeping the error r came with.
 * An EEXIST says a name was taken by something not this create's own:
 * the record and the intent stay (the next create clears the intent). */
static int create_abandon(struct create *c, int r)
{
  struct saved_error e;
  error_save(&e);
  drop_made(c);
  if (e.err != EEXIST && snap_store_exists(&c->s, c->spec->name))
    snap_store_remove(&c->s, c->spec->name);
  if (e.err != EEXIST)
    statefile_remove(c->intent, 1);
  return error_restore(&e) ? -e.err : r;
}

/* Lets the guest run again if the create paused it, and closes the
 * monitor; a failure of the create keeps its own error. */
static int create_release(struct create *c, int r)
{
  if (c->paused_by_us && c->q) {
    struct saved_error e;
    error_save(&e);
    int rc = qemu_unpause(c->st, c->q, c->vm->uuid);
    if (r == 0 && rc < 0)
      r = rc;
    else if (r < 0)
      error_restore(&e);
  }
  qmp_close(c->q);
  c->q = NULL;
  return r;
}

int qemu_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                         const struct ferry_snapshot_spec *spec,
                         struct ferry_domain_snapshot *out)
{
  struct create c = { .st = QEMU_STATE(fc), .vm = vm, .spec = spec,
                      .external = spec->flags & FERRY_SNAPSHOT_EXTERNAL,
                      .s = { .lock_fd = -1 } };
  ferry_domain_snapshot_init(&c.rec);
  int r = create_prepare(fc, &c);
  if (r == 0) {
    if ((r = create_disks(&c)) == 0)
      r = create_commit(&c);
    if (r < 0)
      r = create_abandon(&c, r);
  }
  r = create_release(&c, r);
  if (r == 0 && out) { /* as stored: backend paths are hidden (the seed) */
    for (size_t i = 0; i < c.rec.n_disks; i++) {
      free(c.rec.disks[i].path);
      c.rec.disks[i].path = NULL;
    }
    r = ferry_domain_snapshot_copy(out, &c.rec);
  }
  ferry_domain_snapshot_dispose(&c.rec);
  free(c.parent);
  snap_store_close(&c.s);
  return r;
}

int qemu_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                       struct ferry_domain_snapshot **out, size_t *n)
{
  struct snap_store s;
  int r = open_store(QEMU_STATE(fc), vm, &s);
  if (r == 0)
    r = snap_store_list(&s, out, n);
  snap_store_close(&s);
  return r;
}

int qemu_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                          char **name)
{
  struct snap_store s;
  int r = open_store(QEMU_STATE(fc), vm, &s);
  if (r == 0)
    r = snap_store_current(&s, name);
  snap_store_close(&s);
  return r;
}

/* Children of a deleted snapshot take its parent; so does `current`.
 * v/n: every record, read before anything was changed. */
static int reparent(const struct snap_store *s,
                    const struct ferry_domain_snapshot *gone,
                    struct ferry_domain_snapshot *v, size_t n)
{
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    if (!v[i].parent || strcmp(v[i].parent, gone->name))
      continue;
    if (!ferry_obj_string_set(&v[i].parent, gone->parent)) {
      r = ferry_error(ENOMEM, "out of memory");
      break;
    }
    r = snap_store_save(s, &v[i]);
  }
  char *cur = NULL;
  if (r == 0 && (r = snap_store_current(s, &cur)) == 0 && cur &&
      !strcmp(cur, gone->name))
    r = snap_store_set_current(s, gone->parent);
  free(cur);
  return r;
}

int qemu_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *name)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  struct snap_store s;
  int r = open_store(st, vm, &s);
  if (r < 0)
    return r;
  struct ferry_domain_snapshot rec, *all = NULL;
  ferry_domain_snapshot_init(&rec);
  size_t nall = 0;
  char (*unhooked)[256] = NULL;
  struct delete_disk *plan = NULL;
  struct qmp *q = NULL;
  if ((r = qemu_vm_check(st, vm)) < 0 ||
      (r = qemu_vm_lease_check(fc, vm, "snapshot delete")) < 0)
    goto out;
  if (qemu_running_pid(st, vm->uuid) &&
      ((r = qemu_qmp(st, vm->uuid, QMP_TIMEOUT, &q)) < 0 ||
       (r = wait_leftover_jobs(q)) < 0))
    goto out;
  if ((r = snap_name_check(name)) < 0)
    goto out;
  if (!snap_store_exists(&s, name)) { /* an orphan a crash left in images? */
    bool any = false;
    for (size_t i = 0; i < vm->n_disks && r == 0 && !any; i++)
      r = disk_has_snapshot(st, &vm->disks[i], name, &any);
    if (r == 0 && !any)
      r = ferry_error(ENOENT, "VM '%s' has no snapshot '%s'", vm->name, name);
    if (r == 0) /* no record: remove what the interrupted create left */
      r = delete_on_disks(st, q, vm, vm->n_disks, name);
    goto out;
  }
  /* Every record must read before anything changes: a failure halfway
   * would destroy the snapshot and keep its record. */
  if ((r = snap_store_list(&s, &all, &nall)) < 0 ||
      (r = snap_store_load(&s, name, &rec)) < 0)
    goto out;
  /* Planned, then marked: from here the snapshot's data may go (a commit
   * writes into its frozen image), so nothing may revert to it or read
   * it; a crash leaves a record that says so and whose delete can be run
   * again. Disks before the record: the other order would leak snapshots
   * inside the images. */
  unhooked = calloc(rec.n_disks + 1, sizeof *unhooked);
  plan = calloc(rec.n_disks + 1, sizeof *plan);
  if (!unhooked || !plan) {
    r = ferry_error(ENOMEM, "out of memory");
    goto out;
  }
  if (rec.kind == FERRY_SNAPSHOT_KIND_EXTERNAL &&
      (r = external_delete_plan(st, q, vm, &rec, plan)) < 0)
    goto out;
  if (!rec.deleting) {
    rec.deleting = true;
    if ((r = snap_store_save(&s, &rec)) < 0)
      goto out;
  }
  r = rec.kind == FERRY_SNAPSHOT_KIND_EXTERNAL
          ? external_delete(st, q, vm, &rec, plan, unhooked)
          : delete_on_disks(st, q, vm, vm->n_disks, name);
  if (r < 0 || (r = reparent(&s, &rec, all, nall)) < 0)
    goto out;
  if (rec.memory && *rec.memory)
    unlink(rec.memory);
  if ((r = snap_store_remove(&s, name)) == 0 &&
      rec.kind == FERRY_SNAPSHOT_KIND_EXTERNAL)
    external_drop_unused(st, &rec, unhooked);
out:
  qmp_close(q);
  free(unhooked);
  free(plan);
  ferry_domain_snapshot_list_free(all, nall);
  ferry_domain_snapshot_dispose(&rec);
  snap_store_close(&s);
  return r;
}

/* QEMU refuses to revert an image that has persistent dirty bitmaps: they
 * go first (changed-block tracking then starts again from a full copy). */
static int drop_bitmaps(const struct qemu_state *st, const struct ferry_disk *d)
{
  char path[PATH_MAX];
  int r = disk_path(st, d, path);
  if (r < 0)
    return r;
  json_object *j, *fs, *data, *bitmaps;
  if ((r = qemu_img_info(st, d->volume_id, &j)) < 0)
    return r;
  if (json_object_object_get_ex(j, "format-specific", &fs) &&
      json_object_object_get_ex(fs, "data", &data) &&
      json_object_object_get_ex(data, "bitmaps", &bitmaps))
    for (size_t i = 0; r == 0 && i < json_object_array_length(bitmaps); i++) {
      json_object *b = json_object_array_get_idx(bitmaps, i), *nm;
      if (!json_object_object_get_ex(b, "name", &nm))
        continue;
      r = qemu_img_bitmap(path, "--remove", json_object_get_string(nm), 0);
    }
  json_object_put(j);
  return r;
}

/* Why disk i's image lacks internal snapshot `name`: it lies in a layer
 * further down, under the overlay of an external snapshot that the
 * message names (revert to that one first), or in no layer at all. */
static int not_in_top_layer(const struct qemu_state *st,
                            const struct snap_store *s,
                            const struct ferry_vm *vm, size_t i,
                            const char *name)
{
  char layer[256], below[256];
  snprintf(layer, sizeof layer, "%s", vm->disks[i].volume_id);
  for (int depth = 0; depth < 256; depth++) {
    if (volume_backing(st, layer, below, sizeof below, NULL) < 0 || !*below)
      break;
    struct ferry_disk d = { .volume_id = below };
    bool has = false;
    if (disk_has_snapshot(st, &d, name, &has) == 0 && has) {
      /* the external snapshot frozen into `below` */
      struct ferry_domain_snapshot *all;
      size_t n;
      char ext[256] = "";
      if (snap_store_list(s, &all, &n) == 0) {
        for (size_t k = 0; k < n && !*ext; k++) {
          const char *f = all[k].kind == FERRY_SNAPSHOT_KIND_EXTERNAL &&
                                  i < all[k].n_disks
                              ? all[k].disks[i].file : NULL;
          const char *sl = f ? strrchr(f, '/') : NULL;
          char fb[256];
          if (sl && volume_backing(st, sl + 1, fb, sizeof fb, NULL) == 0 &&
              !strcmp(fb, below))
            snprintf(ext, sizeof ext, "%s", all[k].name);
        }
        ferry_domain_snapshot_list_free(all, n);
      }
      ferry_error_clear();
      if (*ext)
        return ferry_error(ENOENT, "disk %s's image %s does not hold "
                           "snapshot '%s': it lies in %s, under external "
                           "snapshot '%s'; revert to '%s' first",
                           vm->disks[i].device, vm->disks[i].volume_id, name,
                           below, ext, ext);
      return ferry_error(ENOENT, "disk %s: snapshot '%s' lies in %s, a "
                         "lower layer of its chain, which no snapshot of "
                         "ferry's leads back to", vm->disks[i].device, name,
                         below);
    }
    snprintf(layer, sizeof layer, "%s", below);
  }
  ferry_error_clear();
  return ferry_error(ENOENT, "disk %s: no image of its chain holds "
                     "snapshot '%s' (its record is stale)",
                     vm->disks[i].device, name);
}

int qemu_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *name, unsigned flags)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  struct snap_store s;
  int r = open_store(st, vm, &s);
  if (r < 0)
    return r;
  struct ferry_domain_snapshot rec;
  ferry_domain_snapshot_init(&rec);
  int memfd = -1;
  if ((r = qemu_vm_check(st, vm)) < 0 ||
      (r = qemu_vm_lease_check(fc, vm, "snapshot revert")) < 0 ||
      (r = snap_store_load(&s, name, &rec)) < 0)
    goto out;
  if (rec.deleting) {
    r = ferry_error(ESTALE, "snapshot '%s' was being deleted when a ferry "
                    "process stopped; its data may be gone: finish with "
                    "`ferry snapshot delete %s %s`", name, vm->name, name);
    goto out;
  }
  if (rec.memory && *rec.memory &&
      (memfd = open(rec.memory, O_RDONLY | O_CLOEXEC)) < 0) {
    r = ferry_error(errno, "snapshot '%s': its RAM file %s: %s", name,
                    rec.memory, strerror(errno));
    goto out;
  }
  if (qemu_running_pid(st, vm->uuid)) {
    if (!(flags & FERRY_REVERT_FORCE)) {
      r = ferry_error(EBUSY, "VM '%s' is running or paused: stop it first, "
                      "or force the revert (its current state is lost)",
                      vm->name);
      goto out;
    }
    if ((r = qemu_shutdown(st, vm, 0, true)) < 0)
      goto out;
  }
  struct ferry_vm now; /* the definition as the revert leaves it */
  ferry_vm_init(&now);
  if (rec.kind == FERRY_SNAPSHOT_KIND_EXTERNAL) {
    struct ferry_domain_snapshot before;
    bool changed;
    if ((r = ferry_domain_snapshot_copy(&before, &rec)) < 0)
      goto out;
    if ((r = external_revert(st, vm, &rec, &changed)) == 0 && changed &&
        (r = snap_store_save(&s, &rec)) == 0)
      external_drop_unused(st, &before, NULL); /* the discarded state */
    ferry_domain_snapshot_dispose(&before);
  } else {
    for (size_t i = 0; i < vm->n_disks && r == 0; i++) {
      bool has;
      if ((r = disk_has_snapshot(st, &vm->disks[i], name, &has)) == 0 && !has)
        r = not_in_top_layer(st, &s, vm, i, name);
      if (r == 0 && (r = drop_bitmaps(st, &vm->disks[i])) == 0)
        r = img_snapshot(st, &vm->disks[i], "-a", name);
      if (r < 0)
        ferry_error_prefix("revert disk %s: ", vm->disks[i].device);
    }
  }
  if (r == 0)
    r = qemu_def_get(st, vm->uuid, &now);
  if (r == 0 && memfd >= 0) /* back in the run state it was taken in */
    r = qemu_launch(st, &now, !rec.running, memfd);
  ferry_vm_dispose(&now);
  if (r == 0)
    r = snap_store_set_current(&s, name);
out:
  if (memfd >= 0)
    close(memfd);
  ferry_domain_snapshot_dispose(&rec);
  snap_store_close(&s);
  return r;
}
