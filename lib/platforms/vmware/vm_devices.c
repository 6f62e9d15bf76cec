/* construct disk / nic: a VM's VirtualDevice list (config.hardware.device)
 * as standard disks and NICs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"
#include "vmware.h"
#include "xml.h"

static const struct {
  const char *type, *model;
  enum ferry_disk_bus bus;
} controllers[] = {
  { "ParaVirtualSCSIController", "pvscsi", FERRY_DISK_BUS_SCSI },
  { "VirtualLsiLogicController", "lsilogic", FERRY_DISK_BUS_SCSI },
  { "VirtualLsiLogicSASController", "lsisas1068", FERRY_DISK_BUS_SCSI },
  { "VirtualBusLogicController", "buslogic", FERRY_DISK_BUS_SCSI },
  { "VirtualIDEController", "ide", FERRY_DISK_BUS_IDE },
  { "VirtualAHCIController", "ahci", FERRY_DISK_BUS_SATA },
  { "VirtualNVMEController", "nvme", FERRY_DISK_BUS_NVME },
};

static const struct {
  const char *type, *model;
} nic_models[] = {
  { "VirtualVmxnet3", "vmxnet3" }, { "VirtualVmxnet2", "vmxnet2" },
  { "VirtualVmxnet", "vmxnet" },   { "VirtualE1000e", "e1000e" },
  { "VirtualE1000", "e1000" },     { "VirtualPCNet32", "pcnet32" },
  { "VirtualSriovEthernetCard", "sriov" },
};

static xmlNode *device_by_key(const xmlNode *hw, int64_t key)
{
  for (xmlNode *d = xml_child(hw, "device"); d; d = xml_next(d, "device"))
    if (xml_int(d, "key", -1) == key)
      return d;
  return NULL;
}

/* A disk's place, for naming and ordering: bus kind, bus number, unit. */
struct place {
  int kind;
  int64_t bus, unit;
};

static int add_disk(const xmlNode *hw, const xmlNode *d, struct ferry_vm *vm,
                    struct place *where)
{
  char type[80], buf[1024];
  xmlNode *ctl = device_by_key(hw, xml_int(d, "controllerKey", -1));
  xml_type(ctl, type, sizeof type);
  const char *model = type;
  enum ferry_disk_bus bus = FERRY_DISK_BUS_SCSI;
  for (size_t i = 0; i < sizeof controllers / sizeof controllers[0]; i++)
    if (!strcmp(controllers[i].type, type)) {
      model = controllers[i].model;
      bus = controllers[i].bus;
    }
  struct ferry_disk *k = ferry_vm_disks_append(vm);
  if (!k)
    return ferry_error(ENOMEM, "out of memory");
  xmlNode *b = xml_child(d, "backing");
  int64_t cap = xml_int(d, "capacityInBytes", -1);
  if (cap < 0)
    cap = xml_int(d, "capacityInKB", 0) * 1024;
  where->kind = (int)bus;
  where->bus = xml_int(ctl, "busNumber", 0);
  where->unit = xml_int(d, "unitNumber", 0);
  char slot[48];
  snprintf(slot, sizeof slot, "%lld:%lld", (long long)where->bus,
           (long long)where->unit);
  snprintf(type, sizeof type, "%lld", (long long)xml_int(d, "key", -1));
  k->capacity = (uint64_t)cap;
  k->bus = bus;
  if (vmw_set(&k->id, type) ||
      vmw_set(&k->volume_id, xml_get(b, "fileName", buf, sizeof buf)) ||
      vmw_set(&k->format, "vmdk") || vmw_set(&k->controller, model) ||
      vmw_set(&k->slot, slot) ||
      vmw_set(&k->change_id, xml_get(b, "changeId", buf, sizeof buf)))
    return -ENOMEM;
  return 0;
}

static int add_nic(const xmlNode *d, const char *model, struct ferry_vm *vm,
                   const struct ferry_vlan *vlans, size_t n_vlans)
{
  char buf[256];
  struct ferry_nic *nic = ferry_vm_nics_append(vm);
  if (!nic)
    return ferry_error(ENOMEM, "out of memory");
  xmlNode *b = xml_child(d, "backing");
  /* a standard port group names its network; a distributed one its key */
  const char *net = xml_get(b, "network", buf, sizeof buf);
  if (!*net)
    net = xml_get(b, "port/portgroupKey", buf, sizeof buf);
  if (vmw_set(&nic->network, net) || vmw_set(&nic->model, model))
    return -ENOMEM;
  for (size_t i = 0; i < n_vlans; i++)
    if (!strcmp(vlans[i].id, net))
      nic->vlan_id = vlans[i].vlan_id;
  return vmw_set(&nic->mac, xml_get(d, "macAddress", buf, sizeof buf));
}

/* Guest-style names in controller order: sda, sdb, ... (hda for IDE). */
static int name_disks(struct ferry_vm *vm, struct place *p)
{
  size_t n = vm->n_disks;
  for (size_t i = 1; i < n; i++) /* insertion sort by place: few disks */
    for (size_t k = i; k > 0; k--) {
      struct place *a = &p[k - 1], *b = &p[k];
      bool after = a->kind != b->kind ? a->kind > b->kind
                   : a->bus != b->bus ? a->bus > b->bus
                                      : a->unit > b->unit;
      if (!after)
        break;
      struct place tp = *a;
      *a = *b;
      *b = tp;
      struct ferry_disk td = vm->disks[k - 1];
      vm->disks[k - 1] = vm->disks[k];
      vm->disks[k] = td;
    }
  int sd = 0, hd = 0;
  for (size_t i = 0; i < n; i++) {
    char name[16];
    bool ide = vm->disks[i].bus == FERRY_DISK_BUS_IDE;
    snprintf(name, sizeof name, "%s%c", ide ? "hd" : "sd",
             'a' + (ide ? hd++ : sd++) % 26);
    if (vmw_set(&vm->disks[i].device, name) < 0)
      return -ENOMEM;
    /* the first disk in controller order is the boot disk unless the
     * VM's boot options say otherwise (not read here) */
    vm->disks[i].boot_order = i == 0 ? 1 : 0;
  }
  return 0;
}

int vmw_construct_devices(const xmlNode *hw, struct ferry_vm *vm,
                          const struct ferry_vlan *vlans, size_t n_vlans)
{
  char type[80];
  size_t n = 0;
  for (xmlNode *d = xml_child(hw, "device"); d; d = xml_next(d, "device"))
    n++;
  struct place *places = calloc(n + 1, sizeof *places);
  if (!places)
    return ferry_error(ENOMEM, "out of memory");
  int r = 0;
  for (xmlNode *d = xml_child(hw, "device"); d && r == 0;
       d = xml_next(d, "device")) {
    xml_type(d, type, sizeof type);
    if (!strcmp(type, "VirtualDisk")) {
      r = add_disk(hw, d, vm, &places[vm->n_disks]);
      continue;
    }
    for (size_t i = 0; i < sizeof nic_models / sizeof nic_models[0]; i++)
      if (!strcmp(nic_models[i].type, type)) {
        r = add_nic(d, nic_models[i].model, vm, vlans, n_vlans);
        break;
      }
  }
  if (r == 0)
    r = name_disks(vm, places);
  free(places);
  return r < 0 ? ferry_error(-r, "out of memory") : 0;
}
