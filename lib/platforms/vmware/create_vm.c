/* create_vm on vSphere: a standard VM as a VirtualMachineConfigSpec for
 * CreateVM_Task in its datacenter's VM folder. Disks hang off one
 * ParaVirtual SCSI controller (a disk naming a volume uses that file, one
 * without is made thin), NICs are vmxnet3 on standard or distributed port
 * groups. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "vmware.h"
#include "xml.h"

#define CONTROLLER_KEY (-100)

/* Where the VM goes: the datacenter's VM folder and a resource pool. */
struct placement {
  char folder[MOREF_LEN], pool[MOREF_LEN], host[MOREF_LEN];
  char datastore[256];
};

static int place(struct vmw *w, const struct ferry_vm *spec,
                 struct placement *p)
{
  static const char *const cr_paths[] = { "resourcePool", "host", NULL };
  static const char *const dc_paths[] = { "vmFolder", NULL };
  static const char *const ds_paths[] = { "name", NULL };
  struct vobjs crs, dcs, dss;
  memset(p, 0, sizeof *p);
  int r = vprops_all(w->s, "ComputeResource", cr_paths, &crs);
  if (r < 0)
    return r;
  for (size_t i = 0; i < crs.n && !*p->pool; i++) {
    const struct vobj *o = &crs.v[i];
    xmlNode *hosts = vobj_prop(o, "host");
    bool want = spec->cluster_id && *spec->cluster_id
                    ? !strcmp(o->moref, spec->cluster_id)
                    : true;
    xmlNode *h = xml_child(hosts, NULL);
    if (spec->host_id && *spec->host_id) {
      for (want = false; h && !want; h = xml_next(h, NULL)) {
        char id[MOREF_LEN];
        if (!strcmp(xml_get(h, NULL, id, sizeof id), spec->host_id))
          want = true;
      }
      if (want)
        snprintf(p->host, sizeof p->host, "%s", spec->host_id);
    }
    if (want)
      vobj_str(o, "resourcePool", p->pool, sizeof p->pool);
  }
  vobjs_free(&crs);
  if (!*p->pool)
    return ferry_error(ENOENT, "vSphere has no compute resource for VM %s "
                       "(host '%s', cluster '%s')", spec->name,
                       spec->host_id ? spec->host_id : "",
                       spec->cluster_id ? spec->cluster_id : "");
  if ((r = vprops_all(w->s, "Datacenter", dc_paths, &dcs)) < 0)
    return r;
  for (size_t i = 0; i < dcs.n && !*p->folder; i++)
    if (!spec->datacenter_id || !*spec->datacenter_id ||
        !strcmp(dcs.v[i].moref, spec->datacenter_id))
      vobj_str(&dcs.v[i], "vmFolder", p->folder, sizeof p->folder);
  vobjs_free(&dcs);
  if (!*p->folder)
    return ferry_error(ENOENT, "vSphere has no datacenter '%s'",
                       spec->datacenter_id);
  /* the datastore: the first disk's, else the first one there is */
  for (size_t i = 0; i < spec->n_disks && !*p->datastore; i++) {
    const char *v = spec->disks[i].volume_id;
    const char *end = v && v[0] == '[' ? strchr(v, ']') : NULL;
    if (end && (size_t)(end - v - 1) < sizeof p->datastore)
      snprintf(p->datastore, sizeof p->datastore, "%.*s", (int)(end - v - 1),
               v + 1);
  }
  if (!*p->datastore) {
    if ((r = vprops_all(w->s, "Datastore", ds_paths, &dss)) < 0)
      return r;
    if (dss.n)
      vobj_str(&dss.v[0], "name", p->datastore, sizeof p->datastore);
    vobjs_free(&dss);
    if (!*p->datastore)
      return ferry_error(ENOENT, "vSphere has no datastore for VM %s",
                         spec->name);
  }
  return 0;
}

/* A NIC's backing: a distributed port group needs its switch's uuid. */
static int nic_backing(struct vmw *w, const char *net, struct sbuf *b)
{
  static const char *const pg_paths[] = { "config.distributedVirtualSwitch",
                                          NULL };
  static const char *const sw_paths[] = { "uuid", NULL };
  static const char *const net_paths[] = { "name", NULL };
  struct vobjs o;
  char sw[MOREF_LEN], uuid[128], name[256];
  if (!strncmp(net, "dvportgroup-", 12)) {
    int r = vprops_one(w->s, "DistributedVirtualPortgroup", net, pg_paths,
                       &o);
    if (r < 0)
      return r;
    vobj_str(&o.v[0], "config.distributedVirtualSwitch", sw, sizeof sw);
    vobjs_free(&o);
    if ((r = vprops_one(w->s, "DistributedVirtualSwitch", sw, sw_paths,
                        &o)) < 0)
      return r;
    vobj_str(&o.v[0], "uuid", uuid, sizeof uuid);
    vobjs_free(&o);
    sb_printf(b, "<backing xsi:type=\"VirtualEthernetCardDistributedVirtual"
                 "PortBackingInfo\"><port>");
    sb_elem(b, "switchUuid", uuid);
    sb_elem(b, "portgroupKey", net);
    sb_printf(b, "</port></backing>");
    return 0;
  }
  int r = vprops_one(w->s, "Network", net, net_paths, &o);
  if (r < 0)
    return ferry_error_prefix("NIC network: ");
  vobj_str(&o.v[0], "name", name, sizeof name);
  vobjs_free(&o);
  sb_printf(b, "<backing xsi:type=\"VirtualEthernetCardNetworkBacking"
               "Info\">");
  sb_elem(b, "deviceName", name);
  sb_moref(b, "network", "Network", net);
  sb_printf(b, "</backing>");
  return 0;
}

static int config_spec(struct vmw *w, const struct ferry_vm *spec,
                       const struct placement *p, struct sbuf *b)
{
  char ds[300];
  snprintf(ds, sizeof ds, "[%s]", p->datastore);
  sb_printf(b, "<config>");
  sb_elem(b, "name", spec->name);
  sb_elem(b, "guestId", spec->guest_os && *spec->guest_os ? spec->guest_os
                                                          : "otherGuest");
  sb_printf(b, "<files>");
  sb_elem(b, "vmPathName", ds);
  sb_printf(b, "</files><numCPUs>%" PRId64 "</numCPUs><memoryMB>%" PRIu64
               "</memoryMB>",
            spec->vcpus > 0 ? spec->vcpus : 1,
            spec->memory_mib ? spec->memory_mib : 256);
  sb_printf(b, "<firmware>%s</firmware>",
            spec->firmware == FERRY_FIRMWARE_UEFI ? "efi" : "bios");
  sb_printf(b, "<deviceChange><operation>add</operation><device xsi:type="
               "\"ParaVirtualSCSIController\"><key>%d</key><busNumber>0"
               "</busNumber><sharedBus>noSharing</sharedBus></device>"
               "</deviceChange>", CONTROLLER_KEY);
  int unit = 0;
  for (size_t i = 0; i < spec->n_disks; i++, unit++) {
    const struct ferry_disk *d = &spec->disks[i];
    bool make = !d->volume_id || !*d->volume_id;
    if (unit == 7) /* the controller's own unit */
      unit++;
    if (make && (!d->capacity || d->capacity % 1024))
      return ferry_error(EINVAL, "disk %zu: a new VMware disk needs a "
                         "capacity in whole KiB", i);
    sb_printf(b, "<deviceChange><operation>add</operation>%s<device "
                 "xsi:type=\"VirtualDisk\"><key>%d</key><backing xsi:type="
                 "\"VirtualDiskFlatVer2BackingInfo\">",
              make ? "<fileOperation>create</fileOperation>" : "",
              -200 - (int)i);
    sb_elem(b, "fileName", make ? ds : d->volume_id);
    sb_printf(b, "<diskMode>persistent</diskMode><thinProvisioned>true"
                 "</thinProvisioned></backing><controllerKey>%d"
                 "</controllerKey><unitNumber>%d</unitNumber>",
              CONTROLLER_KEY, unit);
    if (d->capacity)
      sb_printf(b, "<capacityInKB>%" PRIu64 "</capacityInKB>",
                d->capacity / 1024);
    sb_printf(b, "</device></deviceChange>");
  }
  for (size_t i = 0; i < spec->n_nics; i++) {
    const struct ferry_nic *n = &spec->nics[i];
    if (!n->network || !*n->network)
      return ferry_error(EINVAL, "NIC %zu names no network", i);
    sb_printf(b, "<deviceChange><operation>add</operation><device xsi:type="
                 "\"VirtualVmxnet3\"><key>%d</key>", -300 - (int)i);
    int r = nic_backing(w, n->network, b);
    if (r < 0)
      return r;
    if (n->mac && *n->mac) {
      sb_printf(b, "<addressType>manual</addressType>");
      sb_elem(b, "macAddress", n->mac);
    } else
      sb_printf(b, "<addressType>generated</addressType>");
    sb_printf(b, "</device></deviceChange>");
  }
  sb_printf(b, "</config>");
  return b->failed ? ferry_error(ENOMEM, "out of memory") : 0;
}

int vmw_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                  struct ferry_vm *out)
{
  struct vmw *w = VMW(fc);
  if (!spec->name || !*spec->name)
    return ferry_error(EINVAL, "a VM needs a name");
  struct ferry_vm other;
  ferry_vm_init(&other);
  if (ferry_get_vm(&fc->pub, spec->name, &other) == 0) {
    ferry_vm_dispose(&other);
    return ferry_error(EEXIST, "vSphere has a VM named '%s' already",
                       spec->name);
  }
  ferry_error_clear();
  struct placement p;
  int r = place(w, spec, &p);
  struct sbuf a = { 0 };
  if (r == 0 && (r = config_spec(w, spec, &p, &a)) == 0) {
    sb_moref(&a, "pool", "ResourcePool", p.pool);
    if (*p.host)
      sb_moref(&a, "host", "HostSystem", p.host);
  }
  char vm[MOREF_LEN];
  if (r == 0)
    r = a.failed ? ferry_error(ENOMEM, "out of memory")
                 : vmw_run_task(w, "CreateVM_Task", "Folder", p.folder, a.s,
                                vm, sizeof vm);
  sb_free(&a);
  if (r == 0 && out)
    r = ferry_get_vm(&fc->pub, vm, out);
  return r;
}
