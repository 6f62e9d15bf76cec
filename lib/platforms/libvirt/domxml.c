/* A libvirt domain as a standard VM: its state from libvirt, the rest from
 * its XML (libxml2, never string scanning): disks (device, bus, source
 * file or pool volume, format, boot order, controller and slot), NICs
 * (MAC, model, network or bridge, VLAN tag), firmware, vCPUs, memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "../../core/error.h"
#include "lv.h"


enum ferry_power_state lv_power_state(virDomainPtr dom)
{
  int state, reason;
  if (virDomainGetState(dom, &state, &reason, 0) < 0)
    return FERRY_POWER_STATE_UNKNOWN;
  switch (state) {
  case VIR_DOMAIN_RUNNING: case VIR_DOMAIN_BLOCKED:
    return FERRY_POWER_STATE_RUNNING;
  case VIR_DOMAIN_PAUSED:
    return FERRY_POWER_STATE_PAUSED;
  case VIR_DOMAIN_PMSUSPENDED:
    return FERRY_POWER_STATE_SUSPENDED;
  case VIR_DOMAIN_SHUTOFF: case VIR_DOMAIN_SHUTDOWN: case VIR_DOMAIN_CRASHED:
    return FERRY_POWER_STATE_STOPPED;
  default:
    return FERRY_POWER_STATE_UNKNOWN;
  }
}


static bool bus_of(const char *bus, enum ferry_disk_bus *out)
{
  if (ferry_disk_bus_parse(bus, out) == 0)
    return true;
  ferry_error_clear(); /* a bus standard objects lack (usb, xen): guessed */
  return false;
}

/* The disk's source: a file or block device path, or POOL/VOLUME. */
static const char *source_of(const xmlNode *disk, char *buf, size_t len)
{
  const xmlNode *src = lv_child(disk, "source");
  char type[32], a[512], b[512];
  lv_attr(disk, "type", type, sizeof type);
  buf[0] = '\0';
  if (!strcmp(type, "volume"))
    snprintf(buf, len, "%s/%s", lv_attr(src, "pool", a, sizeof a),
             lv_attr(src, "volume", b, sizeof b));
  else if (!strcmp(type, "block"))
    lv_attr(src, "dev", buf, len);
  else
    lv_attr(src, "file", buf, len);
  return buf;
}

/* A SCSI disk's controller model, from the domain's controller of its
 * address. */
static const char *controller_of(const xmlNode *devices, const char *index,
                                 char *buf, size_t len)
{
  char type[16], idx[16];
  buf[0] = '\0';
  for (xmlNode *c = lv_child(devices, "controller"); c;
       c = lv_next(c, "controller"))
    if (!strcmp(lv_attr(c, "type", type, sizeof type), "scsi") &&
        !strcmp(lv_attr(c, "index", idx, sizeof idx), *index ? index : "0"))
      return lv_attr(c, "model", buf, len);
  return buf;
}

/* A disk's virtual size: what libvirt says of the domain's disk, else (a
 * pool volume of a domain that is shut off) of the volume. */
static unsigned long long capacity_of(virDomainPtr dom, const char *dev,
                                      const char *source, bool in_pool)
{
  virDomainBlockInfo bi;
  if (virDomainGetBlockInfo(dom, dev, &bi, 0) == 0)
    return bi.capacity;
  virConnectPtr c = virDomainGetConnect(dom);
  virStorageVolPtr vol = NULL;
  if (in_pool) {
    char pool[512];
    const char *slash = strchr(source, '/');
    snprintf(pool, sizeof pool, "%.*s", slash ? (int)(slash - source) : 0,
             source);
    virStoragePoolPtr p = slash ? virStoragePoolLookupByName(c, pool) : NULL;
    vol = p ? virStorageVolLookupByName(p, slash + 1) : NULL;
    if (p)
      virStoragePoolFree(p);
  } else {
    vol = virStorageVolLookupByPath(c, source);
  }
  virStorageVolInfo vi;
  unsigned long long cap = vol && virStorageVolGetInfo(vol, &vi) == 0
                               ? vi.capacity : 0;
  if (vol)
    virStorageVolFree(vol);
  return cap;
}

static int add_disk(virDomainPtr dom, const xmlNode *devices,
                    const xmlNode *d, int boot_first, struct ferry_vm *vm)
{
  char dev[64], bus[32], fmt[32], src[1024], order[16], ctl[16], unit[16];
  char model[64], slot[48];
  const xmlNode *target = lv_child(d, "target");
  lv_attr(target, "dev", dev, sizeof dev);
  struct ferry_disk *disk = ferry_vm_disks_append(vm);
  if (!disk)
    return ferry_error(ENOMEM, "out of memory");
  if (!bus_of(lv_attr(target, "bus", bus, sizeof bus), &disk->bus))
    disk->bus = !strncmp(dev, "sd", 2) ? FERRY_DISK_BUS_SCSI
              : !strncmp(dev, "hd", 2) ? FERRY_DISK_BUS_IDE
                                       : FERRY_DISK_BUS_VIRTIO;
  lv_attr(lv_child(d, "driver"), "type", fmt, sizeof fmt);
  lv_attr(lv_child(d, "boot"), "order", order, sizeof order);
  const xmlNode *addr = lv_child(d, "address");
  lv_attr(addr, "controller", ctl, sizeof ctl);
  lv_attr(addr, "unit", unit, sizeof unit);
  snprintf(slot, sizeof slot, "%s%s%s", ctl, *unit ? ":" : "", unit);
  if (disk->bus == FERRY_DISK_BUS_SCSI)
    controller_of(devices, ctl, model, sizeof model);
  else
    model[0] = '\0';
  disk->boot_order = *order ? atoi(order) : boot_first;
  char type[16];
  source_of(d, src, sizeof src);
  disk->capacity = capacity_of(dom, dev, src,
                               !strcmp(lv_attr(d, "type", type, sizeof type),
                                       "volume"));
  if (!OBJ_SET(disk->id, dev) || !OBJ_SET(disk->device, dev) ||
      !OBJ_SET(disk->volume_id, src) ||
      !OBJ_SET(disk->format, *fmt ? fmt : "raw") ||
      !OBJ_SET(disk->controller, model) || !OBJ_SET(disk->slot, slot))
    return ferry_error(ENOMEM, "out of memory");
  return 0;
}

/* The 802.1Q tag of a <vlan> element (its first tag), or -1. */
static int64_t vlan_tag(const xmlNode *vlan)
{
  char id[16];
  lv_attr(lv_child(vlan, "tag"), "id", id, sizeof id);
  return *id ? atoll(id) : -1;
}

/* A port group's tag, from its network's XML. */
static int64_t portgroup_tag(virConnectPtr conn, const char *net,
                             const char *group)
{
  virNetworkPtr n = virNetworkLookupByName(conn, net);
  char *text = n ? virNetworkGetXMLDesc(n, 0) : NULL;
  xmlDoc *doc = NULL;
  int64_t tag = -1;
  char name[256];
  if (text && lv_xml_parse(text, net, &doc) == 0)
    for (xmlNode *g = lv_child(xmlDocGetRootElement(doc), "portgroup"); g;
         g = lv_next(g, "portgroup"))
      if (!strcmp(lv_attr(g, "name", name, sizeof name), group))
        tag = vlan_tag(lv_child(g, "vlan"));
  ferry_error_clear();
  xmlFreeDoc(doc);
  free(text);
  if (n)
    virNetworkFree(n);
  return tag;
}

static int add_nic(virConnectPtr conn, const xmlNode *i, struct ferry_vm *vm)
{
  char type[32], mac[32], model[64], net[256], group[256], network[520];
  const xmlNode *src = lv_child(i, "source");
  lv_attr(i, "type", type, sizeof type);
  lv_attr(lv_child(i, "mac"), "address", mac, sizeof mac);
  lv_attr(lv_child(i, "model"), "type", model, sizeof model);
  struct ferry_nic *nic = ferry_vm_nics_append(vm);
  if (!nic)
    return ferry_error(ENOMEM, "out of memory");
  /* a network's port group is a VLAN of its own: NETWORK/PORTGROUP */
  /* a running domain's NIC on a bridged network says both: the network
   * is what a network map names */
  if (!*lv_attr(src, "network", net, sizeof net))
    lv_attr(src, "bridge", net, sizeof net);
  lv_attr(src, "portgroup", group, sizeof group);
  snprintf(network, sizeof network, "%s%s%s", net, *group ? "/" : "", group);
  nic->vlan_id = vlan_tag(lv_child(i, "vlan"));
  if (nic->vlan_id < 0 && *group)
    nic->vlan_id = portgroup_tag(conn, net, group);
  /* libvirt's "virtio" is QEMU's virtio-net-pci, as the qemu platform
   * names models */
  if (!OBJ_SET(nic->mac, mac) || !OBJ_SET(nic->network, network) ||
      !OBJ_SET(nic->model, !strcmp(model, "virtio") ? "virtio-net-pci"
                                                    : model))
    return ferry_error(ENOMEM, "out of memory");
  return 0;
}

static int fill(virDomainPtr dom, const xmlNode *root, struct ferry_vm *vm)
{
  char uuid[VIR_UUID_STRING_BUFLEN], buf[256], host[256] = "";
  const xmlNode *os = lv_child(root, "os"), *devices = lv_child(root,
                                                               "devices");
  if (virDomainGetUUIDString(dom, uuid) < 0)
    return lv_error("domain '%s'", virDomainGetName(dom));
  char *hn = virConnectGetHostname(virDomainGetConnect(dom));
  snprintf(host, sizeof host, "%s", hn ? hn : "localhost");
  free(hn);
  vm->power_state = lv_power_state(dom);
  vm->vcpus = atoll(lv_text(root, "vcpu", buf, sizeof buf));
  vm->memory_mib = lv_size(root, "memory") >> 20;
  lv_attr(os, "firmware", buf, sizeof buf);
  vm->firmware = !strcmp(buf, "efi") || lv_child(os, "loader")
                     ? FERRY_FIRMWARE_UEFI : FERRY_FIRMWARE_BIOS;
  if (!OBJ_SET(vm->id, uuid) || !OBJ_SET(vm->uuid, uuid) ||
      !OBJ_SET(vm->name, virDomainGetName(dom)) ||
      !OBJ_SET(vm->machine, lv_attr(lv_child(os, "type"), "machine", buf,
                                    sizeof buf)) ||
      !OBJ_SET(vm->guest_os, lv_text(os, "type", buf, sizeof buf)) ||
      !OBJ_SET(vm->host_id, host) || !OBJ_SET(vm->cluster_id, LV_DC) ||
      !OBJ_SET(vm->datacenter_id, LV_DC))
    return ferry_error(ENOMEM, "out of memory");
  /* <os><boot dev='hd'/>: the first disk boots, unless disks say */
  char dev[16];
  int boot_first = !strcmp(lv_attr(lv_child(os, "boot"), "dev", dev,
                                   sizeof dev), "hd") ||
                   !lv_child(os, "boot");
  int r = 0;
  for (xmlNode *d = lv_child(devices, "disk"); d && r == 0;
       d = lv_next(d, "disk"))
    if (!strcmp(lv_attr(d, "device", buf, sizeof buf), "disk") ||
        !*buf) {
      r = add_disk(dom, devices, d, boot_first, vm);
      boot_first = 0;
    }
  for (xmlNode *i = lv_child(devices, "interface"); i && r == 0;
       i = lv_next(i, "interface"))
    r = add_nic(virDomainGetConnect(dom), i, vm);
  return r;
}

int lv_domain_to_vm(virDomainPtr dom, struct ferry_vm *vm)
{
  ferry_vm_init(vm);
  xmlDoc *doc;
  int r = lv_xml_take(virDomainGetXMLDesc(dom, 0), virDomainGetName(dom),
                      &doc);
  if (r == 0)
    r = fill(dom, xmlDocGetRootElement(doc), vm);
  xmlFreeDoc(doc);
  if (r < 0)
    ferry_vm_dispose(vm);
  return r;
}
