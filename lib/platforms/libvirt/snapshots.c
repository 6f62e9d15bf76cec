/* Snapshots through libvirt's own API, mapped onto ferry's records (the
 * tree, current, revert and delete are libvirt's). A disk-only snapshot
 * of a running domain is external (libvirt makes internal ones of running
 * domains with their RAM only); one of a shut-off domain is internal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/sbuf.h"
#include "../snapshot_store.h"
#include "lv.h"


/* A snapshot's XML as ferry's record. */
static int to_record(virDomainSnapshotPtr snap, const char *vm_uuid,
                     struct ferry_domain_snapshot *rec)
{
  const char *name = virDomainSnapshotGetName(snap);
  xmlDoc *doc;
  int r = lv_xml_take(virDomainSnapshotGetXMLDesc(snap, 0), name, &doc);
  if (r < 0)
    return r;
  ferry_domain_snapshot_init(rec);
  const xmlNode *root = xmlDocGetRootElement(doc);
  char buf[1024], state[32], mem[32];
  lv_text(root, "state", state, sizeof state);
  /* "disk-snapshot": a disk-only snapshot of a running domain */
  rec->running = !strcmp(state, "running") || !strcmp(state,
                                                      "disk-snapshot");
  rec->paused = !strcmp(state, "paused");
  rec->creation_time = strtoull(lv_text(root, "creationTime", buf,
                                        sizeof buf), NULL, 10);
  lv_attr(lv_child(root, "memory"), "snapshot", mem, sizeof mem);
  bool ok = OBJ_SET(rec->name, name) &&
            OBJ_SET(rec->description, lv_text(root, "description", buf,
                                              sizeof buf)) &&
            OBJ_SET(rec->parent, lv_text(lv_child(root, "parent"), "name",
                                         buf, sizeof buf)) &&
            OBJ_SET(rec->vm_uuid, vm_uuid) &&
            /* RAM inside the images, or in a file libvirt names */
            OBJ_SET(rec->memory, !strcmp(mem, "internal") ? "internal"
                                 : !strcmp(mem, "external")
                                     ? lv_attr(lv_child(root, "memory"),
                                               "file", buf, sizeof buf)
                                     : "");
  rec->kind = FERRY_SNAPSHOT_KIND_INTERNAL;
  for (xmlNode *d = lv_child(lv_child(root, "disks"), "disk"); d && ok;
       d = lv_next(d, "disk")) {
    char how[32], file[1024], fmt[32];
    if (!strcmp(lv_attr(d, "snapshot", how, sizeof how), "no"))
      continue;
    struct ferry_disk_snapshot *ds = ferry_domain_snapshot_disks_append(rec);
    lv_attr(lv_child(d, "source"), "file", file, sizeof file);
    lv_attr(lv_child(d, "driver"), "type", fmt, sizeof fmt);
    if (!strcmp(how, "external"))
      rec->kind = FERRY_SNAPSHOT_KIND_EXTERNAL;
    ok = ds && OBJ_SET(ds->device, lv_attr(d, "name", buf, sizeof buf)) &&
         OBJ_SET(ds->name, name) && OBJ_SET(ds->file, file) &&
         OBJ_SET(ds->format, fmt);
  }
  if (!rec->running && !rec->paused)
    rec->shutdown = true;
  xmlFreeDoc(doc);
  if (!ok) {
    ferry_domain_snapshot_dispose(rec);
    return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

static int snap_of(struct ferry_client *fc, const struct ferry_vm *vm,
                   const char *name, virDomainPtr *dom,
                   virDomainSnapshotPtr *snap)
{
  *snap = NULL;
  int r = lv_lookup(fc, vm->uuid, dom);
  if (r == 0 && !(*snap = virDomainSnapshotLookupByName(*dom, name, 0))) {
    r = ferry_error(ENOENT, "VM '%s' has no snapshot '%s'", vm->name, name);
    virDomainFree(*dom);
  }
  return r;
}

/* Where a disk's data is on the host: its file, or its pool volume's. */
static int disk_path(virConnectPtr c, const char *volume_id, char *buf,
                     size_t len)
{
  if (volume_id && volume_id[0] == '/') {
    snprintf(buf, len, "%s", volume_id);
    return 0;
  }
  const char *slash = volume_id ? strchr(volume_id, '/') : NULL;
  char pool[512];
  snprintf(pool, sizeof pool, "%.*s", slash ? (int)(slash - volume_id) : 0,
           volume_id ? volume_id : "");
  virStoragePoolPtr p = slash ? virStoragePoolLookupByName(c, pool) : NULL;
  virStorageVolPtr v = p ? virStorageVolLookupByName(p, slash + 1) : NULL;
  char *path = v ? virStorageVolGetPath(v) : NULL;
  int r = path ? 0 : lv_error("volume %s", volume_id ? volume_id : "");
  if (path)
    snprintf(buf, len, "%s", path);
  free(path);
  if (v)
    virStorageVolFree(v);
  if (p)
    virStoragePoolFree(p);
  return r;
}

/* <disks> of an external snapshot: each disk's overlay beside its image,
 * STEM.SNAPSHOT.qcow2 (libvirt names none for a pool volume's disk). */
static int external_disks(virConnectPtr c, const struct ferry_vm *vm,
                          const char *snap, struct sbuf *x)
{
  sb_printf(x, "<disks>");
  for (size_t i = 0; i < vm->n_disks; i++) {
    char path[4096], over[4200];
    int r = disk_path(c, vm->disks[i].volume_id, path, sizeof path);
    if (r < 0)
      return r;
    char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
      *dot = '\0';
    snprintf(over, sizeof over, "%s.%s.qcow2", path, snap);
    sb_printf(x, "<disk name='");
    sb_esc(x, vm->disks[i].device);
    sb_printf(x, "' snapshot='external'><driver type='qcow2'/>"
                 "<source file='");
    sb_esc(x, over);
    sb_printf(x, "'/></disk>");
  }
  sb_printf(x, "</disks>");
  return 0;
}

/* libvirt keeps a snapshot's creation time to the second, and lists
 * siblings in no particular order: a new snapshot waits until the clock
 * passes the newest one's second, so that creation times alone give the
 * creation order (at most a second, for snapshots taken back to back). */
static void after_newest(struct ferry_client *fc, const struct ferry_vm *vm)
{
  struct ferry_domain_snapshot *v;
  size_t n;
  if (lv_snapshot_list(fc, vm, &v, &n) < 0) {
    ferry_error_clear(); /* the create says what is wrong */
    return;
  }
  uint64_t newest = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i].creation_time > newest)
      newest = v[i].creation_time;
  ferry_domain_snapshot_list_free(v, n);
  struct timespec now;
  while (clock_gettime(CLOCK_REALTIME, &now) == 0 &&
         (uint64_t)now.tv_sec <= newest)
    nanosleep(&(struct timespec){ 0, 1000000000L - now.tv_nsec }, NULL);
}

int lv_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                       const struct ferry_snapshot_spec *spec,
                       struct ferry_domain_snapshot *out)
{
  /* the name becomes part of the overlays' file names */
  int r = snap_name_check(spec->name);
  virDomainPtr dom;
  if (r < 0 || (r = lv_lookup(fc, vm->uuid, &dom)) < 0)
    return r;
  bool running = virDomainIsActive(dom) == 1;
  unsigned flags = 0;
  if ((spec->flags & FERRY_SNAPSHOT_MEMORY) && !running)
    r = ferry_error(EINVAL, "VM '%s' is not running: a snapshot with RAM "
                    "needs it to run", vm->name);
  else if ((spec->flags & FERRY_SNAPSHOT_MEMORY) &&
           (spec->flags & FERRY_SNAPSHOT_EXTERNAL))
    r = ferry_error(ENOTSUP, "the libvirt platform makes snapshots with RAM "
                    "internal only in this version");
  else if ((spec->flags & FERRY_SNAPSHOT_EXTERNAL) ||
           (running && !(spec->flags & FERRY_SNAPSHOT_MEMORY)))
    flags = VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY |
            VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
  virDomainSnapshotPtr old = r == 0 ? virDomainSnapshotLookupByName(
                                          dom, spec->name, 0) : NULL;
  if (old) {
    virDomainSnapshotFree(old);
    r = ferry_error(EEXIST, "VM '%s' has a snapshot '%s' already", vm->name,
                    spec->name);
  }
  struct sbuf x = { 0 };
  sb_printf(&x, "<domainsnapshot><name>");
  sb_esc(&x, spec->name);
  sb_printf(&x, "</name>");
  if (spec->description) {
    sb_printf(&x, "<description>");
    sb_esc(&x, spec->description);
    sb_printf(&x, "</description>");
  }
  if (r == 0 && (flags & VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY))
    r = external_disks(LV_CONN(fc), vm, spec->name, &x);
  sb_printf(&x, "</domainsnapshot>");
  if (r == 0 && x.failed)
    r = ferry_error(ENOMEM, "out of memory");
  virDomainSnapshotPtr snap = NULL;
  if (r == 0)
    after_newest(fc, vm);
  if (r == 0 && !(snap = virDomainSnapshotCreateXML(dom, x.s, flags)))
    r = lv_error("snapshot '%s' of VM '%s'", spec->name, vm->name);
  sb_free(&x);
  if (snap && out)
    r = to_record(snap, vm->uuid, out);
  if (snap)
    virDomainSnapshotFree(snap);
  virDomainFree(dom);
  return r;
}

int lv_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name)
{
  virDomainPtr dom;
  virDomainSnapshotPtr snap;
  int r = snap_of(fc, vm, name, &dom, &snap);
  if (r < 0)
    return r;
  /* its children go to its parent, as libvirt does by default */
  if (virDomainSnapshotDelete(snap, 0) < 0)
    r = lv_error("delete snapshot '%s' of VM '%s'", name, vm->name);
  virDomainSnapshotFree(snap);
  virDomainFree(dom);
  return r;
}

static int by_time(const void *a, const void *b)
{
  const struct ferry_domain_snapshot *x = a, *y = b;
  return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

int lv_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                     struct ferry_domain_snapshot **out, size_t *n)
{
  virDomainPtr dom;
  int r = lv_lookup(fc, vm->uuid, &dom);
  if (r < 0)
    return r;
  virDomainSnapshotPtr *snaps = NULL;
  /* topological: a parent before its children, which creation order
   * keeps too when times are equal (one second apart at most) */
  int count = virDomainListAllSnapshots(dom, &snaps,
                                        VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL);
  if (count < 0)
    r = lv_error("snapshots of VM '%s'", vm->name);
  struct ferry_domain_snapshot *v = count > 0 ? calloc((size_t)count,
                                                       sizeof *v) : NULL;
  if (count > 0 && !v)
    r = ferry_error(ENOMEM, "out of memory");
  size_t k = 0;
  for (int i = 0; i < count; i++) {
    if (r == 0 && (r = to_record(snaps[i], vm->uuid, &v[k])) == 0) {
      v[k].sequence = v[k].creation_time << 16 | (uint64_t)i;
      k++;
    }
    virDomainSnapshotFree(snaps[i]);
  }
  free(snaps);
  virDomainFree(dom);
  if (r < 0) {
    ferry_domain_snapshot_list_free(v, k);
    return r;
  }
  qsort(v, k, sizeof *v, by_time);
  for (size_t i = 0; i < k; i++)
    v[i].sequence = i + 1; /* creation order, as records say it */
  *out = v;
  *n = k;
  return 0;
}

int lv_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                        char **name)
{
  *name = NULL;
  virDomainPtr dom;
  int r = lv_lookup(fc, vm->uuid, &dom);
  if (r < 0)
    return r;
  if (virDomainHasCurrentSnapshot(dom, 0) == 1) {
    virDomainSnapshotPtr s = virDomainSnapshotCurrent(dom, 0);
    if (!s)
      r = lv_error("current snapshot of VM '%s'", vm->name);
    else if (!(*name = strdup(virDomainSnapshotGetName(s))))
      r = ferry_error(ENOMEM, "out of memory");
    if (s)
      virDomainSnapshotFree(s);
  }
  virDomainFree(dom);
  return r;
}

int lv_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name, unsigned flags)
{
  virDomainPtr dom;
  virDomainSnapshotPtr snap;
  int r = snap_of(fc, vm, name, &dom, &snap);
  if (r < 0)
    return r;
  struct ferry_domain_snapshot rec;
  if ((r = to_record(snap, vm->uuid, &rec)) == 0) {
    if (rec.kind == FERRY_SNAPSHOT_KIND_EXTERNAL)
      r = ferry_error(ENOTSUP, "libvirt 9.0 cannot revert to an external "
                      "snapshot ('%s' of VM '%s')", name, vm->name);
    else if (virDomainIsActive(dom) == 1 && !(flags & FERRY_REVERT_FORCE) &&
             !rec.running && !rec.paused)
      r = ferry_error(EBUSY, "VM '%s' is running: reverting to '%s' (taken "
                      "shut off) stops it; give force", vm->name, name);
    else if (virDomainRevertToSnapshot(
                 snap, flags & FERRY_REVERT_FORCE
                           ? VIR_DOMAIN_SNAPSHOT_REVERT_FORCE : 0) < 0)
      r = lv_error("revert VM '%s' to '%s'", vm->name, name);
    ferry_domain_snapshot_dispose(&rec);
  }
  virDomainSnapshotFree(snap);
  virDomainFree(dom);
  return r;
}
