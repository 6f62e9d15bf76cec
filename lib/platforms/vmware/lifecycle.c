/* VM power operations and datastore disks (VirtualDiskManager). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "data.h"
#include "vmware.h"
#include "xml.h"

static int power_state(struct vmw *w, const char *vm, char *buf, size_t len)
{
  static const char *const paths[] = { "runtime.powerState", NULL };
  struct vobjs o;
  int r = vprops_one(w->s, "VirtualMachine", vm, paths, &o);
  if (r == 0) {
    vobj_str(&o.v[0], "runtime.powerState", buf, len);
    vobjs_free(&o);
  }
  return r;
}

int vmw_start_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  char state[32];
  int r = power_state(VMW(fc), vm->id, state, sizeof state);
  if (r < 0 || !strcmp(state, "poweredOn"))
    return r;
  return vmw_run_task(VMW(fc), "PowerOnVM_Task", "VirtualMachine", vm->id,
                      NULL, NULL, 0);
}

int vmw_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
                int timeout_s, unsigned flags)
{
  struct vmw *w = VMW(fc);
  char state[32];
  int r = power_state(w, vm->id, state, sizeof state);
  if (r < 0 || !strcmp(state, "poweredOff"))
    return r;
  if (!(flags & FERRY_STOP_FORCE) && timeout_s > 0) {
    /* ShutdownGuest needs VMware Tools; without them it faults and the
     * VM is powered off below. */
    struct vreply rep;
    if (vsession_call(w->s, "ShutdownGuest", "VirtualMachine", vm->id, NULL,
                      &rep) == 0) {
      vreply_free(&rep);
      for (int i = 0; i < timeout_s * 4; i++) {
        struct timespec ts = { 0, 250000000L };
        nanosleep(&ts, NULL);
        if ((r = power_state(w, vm->id, state, sizeof state)) < 0)
          return r;
        if (!strcmp(state, "poweredOff"))
          return 0;
      }
    }
    ferry_error_clear();
  }
  return vmw_run_task(w, "PowerOffVM_Task", "VirtualMachine", vm->id, NULL,
                      NULL, 0);
}

int vmw_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  char state[32];
  int r = power_state(VMW(fc), vm->id, state, sizeof state);
  if (r == 0 && strcmp(state, "poweredOff"))
    return ferry_error(EBUSY, "VM %s is %s: stop it before deleting it",
                       vm->name, state);
  return r < 0 ? r
               : vmw_run_task(VMW(fc), "Destroy_Task", "VirtualMachine",
                              vm->id, NULL, NULL, 0);
}

/* "[ds] dir/name.vmdk" with an optional "?dc=NAME": the datastore path
 * and the datacenter's moref (the first datacenter when none is named). */
static int disk_target(struct vmw *w, const char *id, char *path, size_t len,
                       char *dc_moref, size_t mlen)
{
  struct vmw_volume_id v;
  int r = vmw_volume_id_parse(id, &v);
  if (r < 0)
    return r;
  size_t plen = strlen(v.path);
  if (plen < 6 || strcmp(v.path + plen - 5, ".vmdk"))
    return ferry_error(EINVAL, "VMware volume '%s' must name a .vmdk file",
                       id);
  snprintf(path, len, "%s", v.path);
  const char *want = *v.dc ? v.dc : NULL;
  static const char *const paths[] = { "name", NULL };
  struct vobjs o;
  if ((r = vprops_all(w->s, "Datacenter", paths, &o)) < 0)
    return r;
  r = ferry_error(ENOENT, "vSphere has no datacenter%s%s", want ? " " : "",
                  want ? want : "");
  char name[256];
  for (size_t i = 0; i < o.n; i++)
    if (!want || !strcmp(vobj_str(&o.v[i], "name", name, sizeof name), want)) {
      snprintf(dc_moref, mlen, "%s", o.v[i].moref);
      ferry_error_clear();
      r = 0;
      break;
    }
  vobjs_free(&o);
  return r;
}

int vmw_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                      struct ferry_volume_info *out)
{
  struct vmw *w = VMW(fc);
  char path[1024], dc[MOREF_LEN];
  int r = disk_target(w, disk->volume_id ? disk->volume_id : "", path,
                      sizeof path, dc, sizeof dc);
  if (r < 0)
    return r;
  if (!disk->capacity || disk->capacity % 1024)
    return ferry_error(EINVAL, "VMware disks are sized in KiB: capacity "
                       "%llu is not", (unsigned long long)disk->capacity);
  /* the disk's folder first: CreateVirtualDisk does not make it */
  const char *slash = strrchr(path, '/');
  struct sbuf a = { 0 };
  if (slash) {
    char folder[1024];
    snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);
    sb_elem(&a, "name", folder);
    sb_moref(&a, "datacenter", "Datacenter", dc);
    sb_printf(&a, "<createParentDirectories>true</createParentDirectories>");
    struct vreply rep;
    r = a.failed ? ferry_error(ENOMEM, "out of memory")
                 : vsession_call(w->s, "MakeDirectory", "FileManager",
                                 w->s->file_manager, a.s, &rep);
    sb_free(&a);
    if (r == 0)
      vreply_free(&rep);
    else if (r == -EEXIST)
      ferry_error_clear();
    else
      return r;
  }
  sb_elem(&a, "name", path);
  sb_moref(&a, "datacenter", "Datacenter", dc);
  sb_printf(&a, "<spec xsi:type=\"FileBackedVirtualDiskSpec\">"
                "<diskType>thin</diskType><adapterType>lsiLogic</adapterType>"
                "<capacityKb>%llu</capacityKb></spec>",
            (unsigned long long)(disk->capacity / 1024));
  r = a.failed ? ferry_error(ENOMEM, "out of memory")
               : vmw_run_task(w, "CreateVirtualDisk_Task",
                              "VirtualDiskManager", w->s->vdisk_manager, a.s,
                              NULL, 0);
  sb_free(&a);
  if (r == 0 && out) {
    ferry_volume_info_dispose(out);
    out->capacity = disk->capacity;
    if (!(out->id = strdup(disk->volume_id)) || !(out->path = strdup(path)) ||
        !(out->format = strdup("vmdk")))
      r = ferry_error(ENOMEM, "out of memory");
  }
  return r;
}

int vmw_delete_volume(struct ferry_client *fc, const char *volume_id)
{
  struct vmw *w = VMW(fc);
  char path[1024], dc[MOREF_LEN];
  int r = disk_target(w, volume_id, path, sizeof path, dc, sizeof dc);
  if (r < 0)
    return r;
  struct sbuf a = { 0 };
  sb_elem(&a, "name", path);
  sb_moref(&a, "datacenter", "Datacenter", dc);
  r = a.failed ? ferry_error(ENOMEM, "out of memory")
               : vmw_run_task(w, "DeleteVirtualDisk_Task",
                              "VirtualDiskManager", w->s->vdisk_manager, a.s,
                              NULL, 0);
  sb_free(&a);
  return r;
}
