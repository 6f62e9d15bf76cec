/* The seed's construct_* for vSphere: datacenters, clusters, hosts, port
 * groups and VMs read with the PropertyCollector and turned into standard
 * objects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../driver.h"
#include "vmware.h"
#include "xml.h"

/* The ancestry of every entity: type, name and parent, for walking up to
 * a cluster or datacenter. */
static int entities(struct vmw *w, struct vobjs *out)
{
  static const char *const paths[] = { "name", "parent", NULL };
  return vprops_all(w->s, "ManagedEntity", paths, out);
}

/* The first ancestor of moref (itself included) of type want. */
static const struct vobj *ancestor(const struct vobjs *all, const char *moref,
                                   const char *want)
{
  char parent[MOREF_LEN];
  for (int depth = 0; depth < 64 && moref && *moref; depth++) {
    const struct vobj *o = vobjs_find(all, moref);
    if (!o)
      return NULL;
    if (!strcmp(o->type, want))
      return o;
    moref = vobj_str(o, "parent", parent, sizeof parent);
  }
  return NULL;
}

static const char *ancestor_id(const struct vobjs *all, const char *moref,
                               const char *want)
{
  const struct vobj *o = ancestor(all, moref, want);
  return o ? o->moref : "";
}

int vmw_datacenter_of(struct vmw *w, const char *moref, char *dc_name,
                      size_t len)
{
  struct vobjs all;
  int r = entities(w, &all);
  if (r < 0)
    return r;
  const struct vobj *dc = ancestor(&all, moref, "Datacenter");
  if (!dc)
    r = ferry_error(ENOENT, "vSphere: %s is in no datacenter", moref);
  else
    vobj_str(dc, "name", dc_name, len);
  vobjs_free(&all);
  return r;
}

int vmw_datastore_datacenter(struct vmw *w, const char *datastore,
                             char *dc_name, size_t len)
{
  struct vobjs all;
  int r = entities(w, &all);
  if (r < 0)
    return r;
  const struct vobj *dc = NULL;
  char name[256];
  for (size_t i = 0; i < all.n && !dc; i++)
    if (!strcmp(all.v[i].type, "Datastore") &&
        !strcmp(vobj_str(&all.v[i], "name", name, sizeof name), datastore))
      dc = ancestor(&all, all.v[i].moref, "Datacenter");
  if (!dc)
    r = ferry_error(ENOENT, "vSphere has no datastore '%s' in a datacenter",
                    datastore);
  else
    vobj_str(dc, "name", dc_name, len);
  vobjs_free(&all);
  return r;
}

int vmw_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                    size_t *n)
{
  static const char *const paths[] = { "name", NULL };
  struct vobjs o;
  *out = NULL;
  *n = 0;
  int r = vprops_all(VMW(fc)->s, "Datacenter", paths, &o);
  char buf[256];
  for (size_t i = 0; r == 0 && i < o.n; i++) {
    struct ferry_datacenter *d = ferry_datacenter_list_append(out, n);
    if (!d || vmw_set(&d->id, o.v[i].moref) ||
        vmw_set(&d->name, vobj_str(&o.v[i], "name", buf, sizeof buf)))
      r = ferry_error(ENOMEM, "out of memory");
  }
  vobjs_free(&o);
  return r;
}

int vmw_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                 size_t *n)
{
  struct vobjs all;
  *out = NULL;
  *n = 0;
  int r = entities(VMW(fc), &all);
  char buf[256];
  for (size_t i = 0; r == 0 && i < all.n; i++) {
    const struct vobj *o = &all.v[i];
    if (strcmp(o->type, "ClusterComputeResource"))
      continue;
    struct ferry_cluster *c = ferry_cluster_list_append(out, n);
    if (!c || vmw_set(&c->id, o->moref) ||
        vmw_set(&c->name, vobj_str(o, "name", buf, sizeof buf)) ||
        vmw_set(&c->datacenter_id, ancestor_id(&all, o->moref, "Datacenter")))
      r = ferry_error(ENOMEM, "out of memory");
  }
  vobjs_free(&all);
  return r;
}

int vmw_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n)
{
  static const char *const paths[] = {
    "name", "summary.hardware.numCpuThreads", "summary.hardware.memorySize",
    "runtime.connectionState", NULL
  };
  struct vobjs all, hs;
  *out = NULL;
  *n = 0;
  int r = entities(VMW(fc), &all);
  if (r < 0)
    return r;
  if ((r = vprops_all(VMW(fc)->s, "HostSystem", paths, &hs)) < 0) {
    vobjs_free(&all);
    return r;
  }
  char buf[256];
  for (size_t i = 0; r == 0 && i < hs.n; i++) {
    const struct vobj *o = &hs.v[i];
    struct ferry_host *h = ferry_host_list_append(out, n);
    if (!h || vmw_set(&h->id, o->moref) ||
        vmw_set(&h->name, vobj_str(o, "name", buf, sizeof buf)) ||
        vmw_set(&h->cluster_id,
            ancestor_id(&all, o->moref, "ClusterComputeResource")) ||
        vmw_set(&h->datacenter_id, ancestor_id(&all, o->moref, "Datacenter"))) {
      r = ferry_error(ENOMEM, "out of memory");
      break;
    }
    h->cpus = xml_int(vobj_prop(o, "summary.hardware.numCpuThreads"), NULL,
                      0);
    h->memory_mib = (uint64_t)xml_int(vobj_prop(o, "summary.hardware."
                                                   "memorySize"), NULL, 0) >>
                    20;
    h->connected = !strcmp(vobj_str(o, "runtime.connectionState", buf,
                                    sizeof buf), "connected");
  }
  vobjs_free(&hs);
  vobjs_free(&all);
  return r;
}

/* A standard port group's VLAN: the hosts' portgroup specs by name. */
static int64_t standard_vlan(const struct vobjs *hosts, const char *name)
{
  char buf[256];
  for (size_t i = 0; i < hosts->n; i++)
    for (xmlNode *pg = xml_child(vobj_prop(&hosts->v[i],
                                           "config.network.portgroup"),
                                 "HostPortGroup");
         pg; pg = xml_next(pg, "HostPortGroup"))
      if (!strcmp(xml_get(pg, "spec/name", buf, sizeof buf), name))
        return xml_int(pg, "spec/vlanId", -1);
  return -1;
}

/* A distributed port group's VLAN: defaultPortConfig.vlan when it is a
 * single id (VmwareDistributedVirtualSwitchVlanIdSpec); trunks and private
 * VLANs count as untagged here. */
static int64_t dvpg_vlan(const struct vobj *o)
{
  char type[80];
  xmlNode *v = xml_child(vobj_prop(o, "config.defaultPortConfig"), "vlan");
  if (!v || strcmp(xml_type(v, type, sizeof type),
                   "VmwareDistributedVirtualSwitchVlanIdSpec"))
    return -1;
  return xml_int(v, "vlanId", -1);
}

int vmw_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n)
{
  static const char *const net_paths[] = { "name", NULL };
  static const char *const pg_paths[] = { "name", "config.defaultPortConfig",
                                          NULL };
  static const char *const host_paths[] = { "config.network.portgroup",
                                            NULL };
  struct vmw *w = VMW(fc);
  struct vobjs nets, pgs, hosts;
  *out = NULL;
  *n = 0;
  int r = vprops_all(w->s, "Network", net_paths, &nets);
  if (r < 0)
    return r;
  if ((r = vprops_all(w->s, "DistributedVirtualPortgroup", pg_paths,
                      &pgs)) < 0) {
    vobjs_free(&nets);
    return r;
  }
  if ((r = vprops_all(w->s, "HostSystem", host_paths, &hosts)) < 0) {
    vobjs_free(&nets);
    vobjs_free(&pgs);
    return r;
  }
  char buf[256];
  for (size_t i = 0; r == 0 && i < nets.n; i++) {
    const struct vobj *o = &nets.v[i];
    const struct vobj *pg = vobjs_find(&pgs, o->moref);
    struct ferry_vlan *v = ferry_vlan_list_append(out, n);
    if (!v || vmw_set(&v->id, o->moref) ||
        vmw_set(&v->name, vobj_str(o, "name", buf, sizeof buf))) {
      r = ferry_error(ENOMEM, "out of memory");
      break;
    }
    v->vlan_id = pg ? dvpg_vlan(pg) : standard_vlan(&hosts, v->name);
  }
  vobjs_free(&nets);
  vobjs_free(&pgs);
  vobjs_free(&hosts);
  return r;
}

static enum ferry_power_state power_state(const char *s)
{
  return !strcmp(s, "poweredOn")    ? FERRY_POWER_STATE_RUNNING
         : !strcmp(s, "poweredOff") ? FERRY_POWER_STATE_STOPPED
         : !strcmp(s, "suspended")  ? FERRY_POWER_STATE_SUSPENDED
                                    : FERRY_POWER_STATE_UNKNOWN;
}

/* construct_vm: a VirtualMachine's properties as a standard VM. */
static int construct_vm(const struct vobj *o, const struct vobjs *all,
                        const struct ferry_vlan *vlans, size_t n_vlans,
                        struct ferry_vm *vm)
{
  char buf[256], host[MOREF_LEN];
  vobj_str(o, "runtime.host", host, sizeof host);
  if (vmw_set(&vm->id, o->moref) ||
      vmw_set(&vm->uuid, vobj_str(o, "config.uuid", buf, sizeof buf)) ||
      vmw_set(&vm->name, vobj_str(o, "name", buf, sizeof buf)) ||
      vmw_set(&vm->guest_os, vobj_str(o, "config.guestId", buf, sizeof buf)) ||
      vmw_set(&vm->machine, vobj_str(o, "config.version", buf, sizeof buf)) ||
      vmw_set(&vm->host_id, host) ||
      vmw_set(&vm->cluster_id, ancestor_id(all, host, "ClusterComputeResource")) ||
      vmw_set(&vm->datacenter_id, ancestor_id(all, o->moref, "Datacenter")))
    return ferry_error(ENOMEM, "out of memory");
  vm->power_state = power_state(vobj_str(o, "runtime.powerState", buf,
                                         sizeof buf));
  vm->firmware = !strcmp(vobj_str(o, "config.firmware", buf, sizeof buf),
                         "efi") ? FERRY_FIRMWARE_UEFI : FERRY_FIRMWARE_BIOS;
  xmlNode *hw = vobj_prop(o, "config.hardware");
  vm->vcpus = xml_int(hw, "numCPU", 0);
  vm->memory_mib = (uint64_t)xml_int(hw, "memoryMB", 0);
  return vmw_construct_devices(hw, vm, vlans, n_vlans);
}

static const char *const vm_paths[] = {
  "name", "config.uuid", "config.guestId", "config.version",
  "config.firmware", "config.hardware", "runtime.powerState",
  "runtime.host", NULL
};

int vmw_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n)
{
  const char *const *paths = vm_paths;
  struct vmw *w = VMW(fc);
  struct vobjs all, vms;
  struct ferry_vlan *vlans = NULL;
  size_t n_vlans = 0;
  *out = NULL;
  *n = 0;
  int r = vmw_vlans(fc, &vlans, &n_vlans);
  if (r == 0 && (r = entities(w, &all)) == 0) {
    if ((r = vprops_all(w->s, "VirtualMachine", paths, &vms)) == 0) {
      for (size_t i = 0; r == 0 && i < vms.n; i++) {
        /* templates and VMs being created have no config yet */
        if (!vobj_prop(&vms.v[i], "config.uuid"))
          continue;
        struct ferry_vm *vm = ferry_vm_list_append(out, n);
        r = vm ? construct_vm(&vms.v[i], &all, vlans, n_vlans, vm)
               : ferry_error(ENOMEM, "out of memory");
      }
      vobjs_free(&vms);
    }
    vobjs_free(&all);
  }
  ferry_vlan_list_free(vlans, n_vlans);
  if (r < 0) {
    ferry_vm_list_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return r;
}

/* The VM with BIOS uuid `uuid` (SearchIndex.FindByUuid): its moref in
 * buf, "" when there is none. */
static int find_by_uuid(struct vmw *w, const char *uuid, char *buf,
                        size_t len)
{
  struct sbuf a = { 0 };
  sb_elem(&a, "uuid", uuid);
  sb_printf(&a, "<vmSearch>true</vmSearch>");
  struct vreply rep;
  int r = a.failed ? ferry_error(ENOMEM, "out of memory")
                   : vsession_call(w->s, "FindByUuid", "SearchIndex",
                                   w->s->search_index, a.s, &rep);
  sb_free(&a);
  if (r < 0)
    return r;
  xml_get(rep.ret, "returnval", buf, len);
  vreply_free(&rep);
  return 0;
}

/* By moref or BIOS uuid, one VM's properties only (a listing reads every
 * VM's hardware: one PropertyCollector pass per call); a name is looked
 * for in the list. */
int vmw_lookup_vm(struct ferry_client *fc, const char *key,
                  struct ferry_vm *out)
{
  struct vmw *w = VMW(fc);
  char moref[MOREF_LEN] = "";
  int r = 0;
  if (!strncmp(key, "vm-", 3) && strlen(key) < sizeof moref)
    snprintf(moref, sizeof moref, "%s", key);
  else if (strlen(key) == 36 && key[8] == '-' && *w->s->search_index)
    r = find_by_uuid(w, key, moref, sizeof moref);
  if (r < 0) { /* no search index to ask: the list answers */
    ferry_error_clear();
    moref[0] = '\0';
    r = 0;
  }
  struct vobjs one;
  if (!*moref || vprops_one(w->s, "VirtualMachine", moref, vm_paths,
                            &one) < 0) {
    ferry_error_clear(); /* not a VM's moref after all: by name */
    struct ferry_vm *v;
    size_t n, hit;
    if ((r = vmw_vms(fc, &v, &n)) < 0)
      return r;
    if ((r = vm_pick(v, n, key, "vmware", &hit)) == 0)
      r = ferry_vm_copy(out, &v[hit]);
    ferry_vm_list_free(v, n);
    return r;
  }
  struct vobjs all;
  struct ferry_vlan *vlans = NULL;
  size_t n_vlans = 0;
  if (!vobj_prop(&one.v[0], "config.uuid"))
    r = ferry_error(ENOENT, "no VM '%s' on the vmware platform", key);
  else if ((r = vmw_vlans(fc, &vlans, &n_vlans)) == 0 &&
           (r = entities(w, &all)) == 0) {
    r = construct_vm(&one.v[0], &all, vlans, n_vlans, out);
    vobjs_free(&all);
  }
  ferry_vlan_list_free(vlans, n_vlans);
  vobjs_free(&one);
  return r;
}
