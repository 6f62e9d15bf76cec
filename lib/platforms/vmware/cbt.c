/* Changed Block Tracking: the seed's open_cbt and query_snapshot_changes
 * through QueryChangedDiskAreas. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "vmware.h"
#include "xml.h"

#define STUN_SNAPSHOT "ferry-cbt-enable"

int vmw_snapshot_disks(struct vmw *w, const char *snapshot_moref,
                       struct ferry_vm *out)
{
  static const char *const paths[] = { "config.hardware", NULL };
  struct vobjs o;
  int r = vprops_one(w->s, "VirtualMachineSnapshot", snapshot_moref, paths,
                     &o);
  if (r < 0)
    return r;
  r = vmw_construct_devices(vobj_prop(&o.v[0], "config.hardware"), out, NULL,
                            0);
  vobjs_free(&o);
  return r;
}

/* Snapshot names of a VM, comma separated, for messages. */
static void snapshot_names(struct ferry_client *fc, const struct ferry_vm *vm,
                           char *buf, size_t len, size_t *count)
{
  struct ferry_domain_snapshot *s = NULL;
  size_t n = 0;
  buf[0] = 0;
  *count = 0;
  if (vmw_snapshot_list(fc, vm, &s, &n) < 0)
    return;
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s'%s'", i ? ", " : "", s[i].name);
  }
  *count = n;
  ferry_domain_snapshot_list_free(s, n);
}

int vmw_open_cbt(struct ferry_client *fc, const struct ferry_vm *vm)
{
  static const char *const paths[] = { "config.changeTrackingEnabled",
                                       "capability.changeTrackingSupported",
                                       NULL };
  struct vmw *w = VMW(fc);
  struct vobjs o;
  int r = vprops_one(w->s, "VirtualMachine", vm->id, paths, &o);
  if (r < 0)
    return r;
  char supported[16];
  vobj_str(&o.v[0], "capability.changeTrackingSupported", supported,
           sizeof supported);
  bool enabled = xml_bool(vobj_prop(&o.v[0], "config.changeTrackingEnabled"),
                          NULL);
  vobjs_free(&o);
  if (!strcmp(supported, "false"))
    return ferry_error(ENOTSUP, "VM %s cannot track changed blocks "
                       "(vSphere says capability.changeTrackingSupported is "
                       "false: virtual hardware older than version 7, or "
                       "disks CBT cannot track, such as physical RDMs); "
                       "nothing was changed", vm->name);
  if (enabled)
    return 0;
  char names[512];
  size_t count;
  snapshot_names(fc, vm, names, sizeof names, &count);
  if (count)
    return ferry_error(EBUSY, "VM %s has %zu snapshot(s) (%s): vSphere "
                       "starts changed block tracking only on a VM without "
                       "snapshots; delete or consolidate them first. Nothing "
                       "was changed", vm->name, count, names);
  r = vmw_run_task(w, "ReconfigVM_Task", "VirtualMachine", vm->id,
                   "<spec><changeTrackingEnabled>true</changeTrackingEnabled>"
                   "</spec>", NULL, 0);
  if (r < 0)
    return ferry_error_prefix("enabling changed block tracking on VM %s: ",
                              vm->name);
  if ((r = vprops_one(w->s, "VirtualMachine", vm->id, paths, &o)) < 0)
    return r;
  enabled = xml_bool(vobj_prop(&o.v[0], "config.changeTrackingEnabled"),
                     NULL);
  vobjs_free(&o);
  if (!enabled)
    return ferry_error(ENOTSUP, "VM %s: vSphere accepted the change but "
                       "config.changeTrackingEnabled is still false",
                       vm->name);
  if (vm->power_state != FERRY_POWER_STATE_RUNNING)
    return 0;
  /* A running VM starts tracking after a stun/unstun cycle: a snapshot
   * made and deleted at once. */
  struct ferry_snapshot_spec spec = { sizeof spec, STUN_SNAPSHOT,
                                      "ferry: starts changed block "
                                      "tracking", 0 };
  if ((r = vmw_snapshot_create(fc, vm, &spec, NULL)) < 0)
    return ferry_error_prefix("CBT stun cycle: ");
  if ((r = vmw_snapshot_delete(fc, vm, STUN_SNAPSHOT)) < 0)
    return ferry_error_prefix("CBT stun cycle: ");
  return 0;
}

static const struct ferry_disk *disk_named(const struct ferry_vm *v,
                                           const char *device)
{
  for (size_t i = 0; i < v->n_disks; i++)
    if (!strcmp(v->disks[i].device, device) ||
        !strcmp(v->disks[i].id, device))
      return &v->disks[i];
  return NULL;
}

int vmw_changed_areas(struct vmw *w, const char *vm, const char *snapshot,
                       const char *key, uint64_t capacity,
                       const char *change_id, struct ferry_changed_areas *out)
{
  uint64_t off = 0;
  while (off < capacity) {
    struct sbuf a = { 0 };
    sb_moref(&a, "snapshot", "VirtualMachineSnapshot", snapshot);
    sb_elem(&a, "deviceKey", key);
    sb_printf(&a, "<startOffset>%" PRIu64 "</startOffset>", off);
    sb_elem(&a, "changeId", change_id);
    struct vreply r;
    int rc = a.failed ? ferry_error(ENOMEM, "out of memory")
                      : vsession_call(w->s, "QueryChangedDiskAreas",
                                      "VirtualMachine", vm, a.s, &r);
    sb_free(&a);
    if (rc < 0)
      return rc;
    xmlNode *info = xml_child(r.ret, "returnval");
    int64_t start = xml_int(info, "startOffset", -1);
    int64_t length = xml_int(info, "length", -1);
    for (xmlNode *c = xml_child(info, "changedArea"); c && rc == 0;
         c = xml_next(c, "changedArea")) {
      struct ferry_changed_area *ar = ferry_changed_areas_areas_append(out);
      if (!ar)
        rc = ferry_error(ENOMEM, "out of memory");
      else {
        ar->start = (uint64_t)xml_int(c, "start", 0);
        ar->length = (uint64_t)xml_int(c, "length", 0);
      }
    }
    vreply_free(&r);
    if (rc < 0)
      return rc;
    /* the next page starts where this reply's coverage ends */
    if (start != (int64_t)off || length <= 0)
      return ferry_error(EPROTO, "QueryChangedDiskAreas at offset %" PRIu64
                         " answered startOffset %" PRId64 " length %" PRId64
                         ": cannot page further", off, start, length);
    off += (uint64_t)length;
  }
  return 0;
}

int vmw_query_snapshot_changes(struct ferry_client *fc,
                               const struct ferry_vm *vm, const char *disk,
                               const char *from, const char *to,
                               struct ferry_changed_areas *out)
{
  struct vmw *w = VMW(fc);
  char to_ref[MOREF_LEN], from_ref[MOREF_LEN];
  struct ferry_vm at_to, at_from;
  ferry_vm_init(&at_to);
  ferry_vm_init(&at_from);
  if (!to || !*to)
    return ferry_error(EINVAL, "vSphere answers changed areas up to a "
                       "snapshot: name one");
  int r = vmw_snapshot_moref(w, vm->id, to, to_ref, sizeof to_ref);
  if (r == 0)
    r = vmw_snapshot_disks(w, to_ref, &at_to);
  const struct ferry_disk *d = r == 0 ? disk_named(&at_to, disk) : NULL;
  if (r == 0 && !d)
    r = ferry_error(ENOENT, "snapshot '%s' of VM %s has no disk '%s'", to,
                    vm->name, disk);
  const char *change_id = "*";
  if (r == 0 && from && *from && strcmp(from, "*")) {
    const struct ferry_disk *fd = NULL;
    if ((r = vmw_snapshot_moref(w, vm->id, from, from_ref,
                                sizeof from_ref)) == 0 &&
        (r = vmw_snapshot_disks(w, from_ref, &at_from)) == 0 &&
        !(fd = disk_named(&at_from, disk)))
      r = ferry_error(ENOENT, "snapshot '%s' has no disk '%s'", from, disk);
    if (r == 0 && (!fd->change_id || !*fd->change_id))
      r = ferry_error(ENOENT, "snapshot '%s' of VM %s has no CBT changeId "
                      "for disk %s (tracking was off when it was taken)",
                      from, vm->name, disk);
    if (r == 0)
      change_id = fd->change_id;
  }
  if (r == 0) {
    ferry_changed_areas_dispose(out); /* and initialized again */
    if (!(out->disk_id = strdup(disk)) ||
        !(out->from_snapshot = strdup(from ? from : "")) ||
        !(out->to_snapshot = strdup(to)))
      r = ferry_error(ENOMEM, "out of memory");
    else
      r = vmw_changed_areas(w, vm->id, to_ref, d->id, d->capacity, change_id, out);
  }
  ferry_vm_dispose(&at_to);
  ferry_vm_dispose(&at_from);
  return r;
}
