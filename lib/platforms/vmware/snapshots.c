/* Snapshots of vSphere VMs: the VM's snapshot tree as standard snapshot
 * records (construct_snapshot), create, delete and revert as tasks.
 * Names must be unique per VM here (vSphere allows duplicates; ferry
 * names snapshots by name, so it refuses to make an ambiguous one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/iso_time.h"
#include "vmware.h"
#include "xml.h"

struct walk {
  const char *vm_uuid;
  const xmlNode *layout; /* the VM's layoutEx: which snapshots hold RAM */
  struct ferry_domain_snapshot *v;
  size_t n;
  int r;
};

/* The file holding snapshot moref's RAM, from the VM's layoutEx (its
 * snapshot entry's memoryKey names one of its files; -1 or none: the
 * snapshot holds no RAM), into buf ("" when none). */
static void memory_file(const xmlNode *layout, const char *moref, char *buf,
                        size_t len)
{
  char ref[MOREF_LEN], key[32] = "", k[32];
  buf[0] = '\0';
  for (const xmlNode *sn = xml_child(layout, "snapshot"); sn && !*key;
       sn = xml_next(sn, "snapshot"))
    if (!strcmp(xml_get(sn, "key", ref, sizeof ref), moref))
      xml_get(sn, "memoryKey", key, sizeof key);
  if (!*key || !strcmp(key, "-1"))
    return;
  for (const xmlNode *f = xml_child(layout, "file"); f;
       f = xml_next(f, "file"))
    if (!strcmp(xml_get(f, "key", k, sizeof k), key))
      xml_get(f, "name", buf, len);
}

/* construct_snapshot: one VirtualMachineSnapshotTree node. */
static void visit(struct walk *w, const xmlNode *node, const char *parent)
{
  char name[256], buf[1024];
  xml_get(node, "name", name, sizeof name);
  struct ferry_domain_snapshot *s =
      ferry_domain_snapshot_list_append(&w->v, &w->n);
  if (!s || vmw_set(&s->name, name) ||
      vmw_set(&s->description, xml_get(node, "description", buf, sizeof buf)) ||
      vmw_set(&s->parent, parent) || vmw_set(&s->vm_uuid, w->vm_uuid)) {
    w->r = ferry_error(ENOMEM, "out of memory");
    return;
  }
  s->creation_time =
      iso_time_seconds(xml_get(node, "createTime", buf, sizeof buf));
  xml_get(node, "state", buf, sizeof buf);
  s->running = !strcmp(buf, "poweredOn");
  char moref[MOREF_LEN], mem[1024];
  memory_file(w->layout, xml_get(node, "snapshot", moref, sizeof moref), mem,
              sizeof mem);
  if (vmw_set(&s->memory, mem)) {
    w->r = ferry_error(ENOMEM, "out of memory");
    return;
  }
  s->paused = !strcmp(buf, "suspended");
  s->shutdown = !strcmp(buf, "poweredOff");
  s->kind = FERRY_SNAPSHOT_KIND_EXTERNAL; /* delta disks over the base */
  s->sequence = (uint64_t)xml_int(node, "id", 0);
  for (xmlNode *c = xml_child(node, "childSnapshotList"); c && w->r == 0;
       c = xml_next(c, "childSnapshotList"))
    visit(w, c, name);
}

/* The VM's snapshot info property; NULL node when it has none. */
static int snapshot_info(struct vmw *w, const char *vm, struct vobjs *o,
                         xmlNode **info)
{
  static const char *const paths[] = { "snapshot", "layoutEx", NULL };
  int r = vprops_one(w->s, "VirtualMachine", vm, paths, o);
  *info = r == 0 ? vobj_prop(&o->v[0], "snapshot") : NULL;
  return r;
}

int vmw_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                      struct ferry_domain_snapshot **out, size_t *n)
{
  struct vobjs o;
  xmlNode *info;
  int r = snapshot_info(VMW(fc), vm->id, &o, &info);
  if (r < 0)
    return r;
  struct walk w = { vm->uuid, vobj_prop(&o.v[0], "layoutEx"), NULL, 0, 0 };
  for (xmlNode *c = xml_child(info, "rootSnapshotList"); c && w.r == 0;
       c = xml_next(c, "rootSnapshotList"))
    visit(&w, c, "");
  vobjs_free(&o);
  if (w.r < 0) {
    ferry_domain_snapshot_list_free(w.v, w.n);
    return w.r;
  }
  *out = w.v;
  *n = w.n;
  return 0;
}

/* The tree node whose snapshot (moref) or name matches. */
static const xmlNode *find(const xmlNode *list_first, const char *moref,
                           const char *name)
{
  char buf[256];
  for (const xmlNode *c = list_first; c; c = xml_next(c, NULL)) {
    if (strcmp((const char *)c->name, "rootSnapshotList") &&
        strcmp((const char *)c->name, "childSnapshotList"))
      continue;
    if ((moref && !strcmp(xml_get(c, "snapshot", buf, sizeof buf), moref)) ||
        (name && !strcmp(xml_get(c, "name", buf, sizeof buf), name)))
      return c;
    const xmlNode *hit = find(xml_child(c, "childSnapshotList"), moref, name);
    if (hit)
      return hit;
  }
  return NULL;
}

int vmw_snapshot_moref(struct vmw *w, const char *vm, const char *name,
                       char *moref, size_t len)
{
  struct vobjs o;
  xmlNode *info;
  int r = snapshot_info(w, vm, &o, &info);
  if (r < 0)
    return r;
  const xmlNode *hit = find(xml_child(info, "rootSnapshotList"), NULL, name);
  if (hit)
    xml_get(hit, "snapshot", moref, len);
  else
    r = ferry_error(ENOENT, "VM %s has no snapshot '%s'", vm, name);
  vobjs_free(&o);
  return r;
}

int vmw_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                         char **name)
{
  struct vobjs o;
  xmlNode *info;
  *name = NULL;
  int r = snapshot_info(VMW(fc), vm->id, &o, &info);
  if (r < 0)
    return r;
  char cur[MOREF_LEN], buf[256];
  xml_get(info, "currentSnapshot", cur, sizeof cur);
  const xmlNode *hit = *cur ? find(xml_child(info, "rootSnapshotList"), cur,
                                   NULL)
                            : NULL;
  if (hit && !(*name = strdup(xml_get(hit, "name", buf, sizeof buf))))
    r = ferry_error(ENOMEM, "out of memory");
  vobjs_free(&o);
  return r;
}

int vmw_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                        const struct ferry_snapshot_spec *spec,
                        struct ferry_domain_snapshot *out)
{
  struct vmw *w = VMW(fc);
  char moref[MOREF_LEN];
  if (vmw_snapshot_moref(w, vm->id, spec->name, moref, sizeof moref) == 0)
    return ferry_error(EEXIST, "VM %s has a snapshot named '%s' already",
                       vm->name, spec->name);
  if (ferry_last_errno() != ENOENT)
    return -ferry_last_errno();
  ferry_error_clear();
  if ((spec->flags & FERRY_SNAPSHOT_MEMORY) &&
      vm->power_state != FERRY_POWER_STATE_RUNNING)
    return ferry_error(EINVAL, "VM '%s' is not running: it has no RAM to "
                       "save", vm->name);
  struct sbuf a = { 0 };
  sb_elem(&a, "name", spec->name);
  sb_elem(&a, "description", spec->description ? spec->description : "");
  sb_printf(&a, "<memory>%s</memory><quiesce>false</quiesce>",
            spec->flags & FERRY_SNAPSHOT_MEMORY ? "true" : "false");
  int r = a.failed ? ferry_error(ENOMEM, "out of memory")
                   : vmw_run_task(w, "CreateSnapshot_Task", "VirtualMachine",
                                  vm->id, a.s, moref, sizeof moref);
  sb_free(&a);
  if (r < 0 || !out)
    return r;
  struct ferry_domain_snapshot *list;
  size_t n;
  if ((r = vmw_snapshot_list(fc, vm, &list, &n)) < 0)
    return r;
  r = ferry_error(ENOENT, "snapshot '%s' vanished after it was made",
                  spec->name);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(list[i].name, spec->name)) {
      ferry_error_clear();
      r = ferry_domain_snapshot_copy(out, &list[i]);
    }
  ferry_domain_snapshot_list_free(list, n);
  return r;
}

int vmw_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name)
{
  struct vmw *w = VMW(fc);
  char moref[MOREF_LEN];
  int r = vmw_snapshot_moref(w, vm->id, name, moref, sizeof moref);
  if (r < 0)
    return r;
  return vmw_run_task(w, "RemoveSnapshot_Task", "VirtualMachineSnapshot",
                      moref, "<removeChildren>false</removeChildren>"
                             "<consolidate>true</consolidate>", NULL, 0);
}

int vmw_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name, unsigned flags)
{
  struct vmw *w = VMW(fc);
  char moref[MOREF_LEN];
  int r = vmw_snapshot_moref(w, vm->id, name, moref, sizeof moref);
  if (r < 0)
    return r;
  if (vm->power_state == FERRY_POWER_STATE_RUNNING &&
      !(flags & FERRY_REVERT_FORCE))
    return ferry_error(EBUSY, "VM %s is running: reverting would throw away "
                       "what it wrote since the snapshot; stop it first or "
                       "force the revert", vm->name);
  return vmw_run_task(w, "RevertToSnapshot_Task", "VirtualMachineSnapshot",
                      moref, NULL, NULL, 0);
}
