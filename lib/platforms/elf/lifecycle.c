/* ELF VMs made, started, stopped and deleted through CloudTower's tasks.
 * A VM is made on existing volumes (create-vm's mount_disks; the disks
 * of the spec without one get a new volume NAME-DEVICE first, taken back
 * if the VM is not made), on the buses the spec says (ELF has VIRTIO,
 * SCSI and IDE), its NICs on VLANs with the spec's MACs, its firmware as
 * the spec's (ELF cannot change it later). Stop is ACPI shutdown, then
 * power-off when the guest did not go within the timeout. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/statefile.h"
#include "../driver.h"
#include "elf.h"

static int vm_op(struct ferry_client *fc, const struct ferry_vm *vm,
                 const char *op, const char *what, int timeout_ms)
{
  json_object *body = json_object_new_object();
  json_object_object_add(body, "where", elf_where_id(vm->id));
  char w[600];
  snprintf(w, sizeof w, "%s VM '%s'", what, vm->name);
  return elf_mutate(fc, op, body, timeout_ms, w, NULL);
}

int elf_start_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  if (vm->power_state == FERRY_POWER_STATE_RUNNING)
    return ferry_error(EBUSY, "VM '%s' is running already", vm->name);
  return vm_op(fc, vm, "/start-vm", "start", 0);
}

int elf_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
                int timeout_s, unsigned flags)
{
  if (vm->power_state == FERRY_POWER_STATE_STOPPED)
    return 0;
  if (!(flags & FERRY_STOP_FORCE) && timeout_s > 0) {
    int r = vm_op(fc, vm, "/shutdown-vm", "shut down", timeout_s * 1000);
    if (r != -ETIMEDOUT)
      return r;
    ferry_log("elf", "VM %s did not shut down within %d s: power off",
              vm->name, timeout_s);
    ferry_error_clear();
  }
  return vm_op(fc, vm, "/poweroff-vm", "power off", 0);
}

int elf_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  if (vm->power_state == FERRY_POWER_STATE_RUNNING)
    return ferry_error(EBUSY, "VM '%s' is running: stop it first", vm->name);
  json_object *body = json_object_new_object(),
              *effect = json_object_new_object();
  json_object_object_add(body, "where", elf_where_id(vm->id));
  json_object_object_add(effect, "include_snapshots",
                         json_object_new_boolean(1));
  json_object_object_add(body, "effect", effect);
  char w[600];
  snprintf(w, sizeof w, "delete VM '%s'", vm->name);
  return elf_mutate(fc, "/delete-vm", body, 0, w, NULL);
}

static const char *bus_name(enum ferry_disk_bus b)
{
  switch (b) {
  case FERRY_DISK_BUS_SCSI: return "SCSI";
  case FERRY_DISK_BUS_IDE:
  case FERRY_DISK_BUS_SATA: return "IDE"; /* ELF has no SATA */
  default: return "VIRTIO";
  }
}

/* The spec's disks with a volume each: new ones made (*made[i] true),
 * their CloudTower ids in ids[i]. */
static int settle_disks(struct ferry_client *fc, const struct ferry_vm *spec,
                        char (*ids)[64], bool *made)
{
  int r = 0;
  struct device_namer names = { 0 };
  for (size_t i = 0; r == 0 && i < spec->n_disks; i++) {
    const struct ferry_disk *d = &spec->disks[i];
    char dev[16], name[600];
    if (d->device && *d->device)
      snprintf(dev, sizeof dev, "%s", d->device);
    else /* by the bus ELF puts it on: SATA goes on IDE */
      device_name_next(&names, d->bus == FERRY_DISK_BUS_SATA
                                   ? FERRY_DISK_BUS_IDE : d->bus,
                       dev, sizeof dev);
    const char *key = d->volume_id;
    if (!key || !*key) {
      snprintf(name, sizeof name, "%s-%s", spec->name, dev);
      struct ferry_disk nd = *d;
      nd.volume_id = name;
      nd.format = "raw";
      if (nd.capacity == 0)
        r = ferry_error(EINVAL, "VM '%s': disk %s has neither a volume nor "
                        "a size", spec->name, dev);
      else if ((r = elf_create_volume(fc, &nd, NULL)) == 0) {
        made[i] = true;
        snprintf(ids[i], sizeof ids[i], "%s", name); /* until its id */
      }
      key = name;
    }
    if (r == 0)
      r = elf_volume_id(fc, key, ids[i], sizeof ids[i]);
  }
  return r;
}

/* The VLAN a NIC's network names (its id or its name). */
static int vlan_of(struct ferry_client *fc, const char *net, char *id,
                   size_t len)
{
  json_object *list;
  json_object *where = json_object_new_object(), *or = json_object_new_array();
  json_object_array_add(or, elf_where_kv("id", json_object_new_string(net)));
  json_object_array_add(or, elf_where_kv("name",
                                         json_object_new_string(net)));
  json_object_object_add(where, "OR", or);
  json_object_object_add(where, "type", json_object_new_string("VM"));
  int r = elf_list(fc, "/get-vlans", where, NULL, &list);
  if (r < 0)
    return r;
  size_t n = json_object_array_length(list);
  if (n == 1)
    snprintf(id, len, "%s", elf_str(json_object_array_get_idx(list, 0),
                                    "id"));
  else
    r = ferry_error(n ? EINVAL : ENOENT, "the elf platform has %s VM "
                    "network '%s'", n ? "more than one" : "no", net);
  json_object_put(list);
  return r;
}

/* Where a disk goes in the boot order: its own, or after all. */
static int64_t boot_key(const struct ferry_disk *d)
{
  return d->boot_order > 0 ? d->boot_order : INT64_MAX;
}

static json_object *creation_params(struct ferry_client *fc,
                                    const struct ferry_vm *spec,
                                    char (*ids)[64], int *r)
{
  json_object *p = json_object_new_object(), *disks = json_object_new_object(),
              *mount = json_object_new_array(), *nics = json_object_new_array();
  int64_t vcpus = spec->vcpus > 0 ? spec->vcpus : 1;
  json_object_object_add(p, "cluster_id",
                         json_object_new_string(ELF_STATE(fc)->cluster_id));
  json_object_object_add(p, "name", json_object_new_string(spec->name));
  json_object_object_add(p, "vcpu", json_object_new_int64(vcpus));
  json_object_object_add(p, "cpu_sockets", json_object_new_int(1));
  json_object_object_add(p, "cpu_cores", json_object_new_int64(vcpus));
  json_object_object_add(p, "memory", json_object_new_int64(
                                          (int64_t)spec->memory_mib << 20));
  json_object_object_add(p, "firmware", json_object_new_string(
      spec->firmware == FERRY_FIRMWARE_UEFI ? "UEFI" : "BIOS"));
  json_object_object_add(p, "ha", json_object_new_boolean(0));
  json_object_object_add(p, "status", json_object_new_string("STOPPED"));
  /* boot order: the spec's (1 first), disks without one after, each
   * group in the spec's order (a stable insertion sort) */
  size_t *order = calloc(spec->n_disks + 1, sizeof *order);
  for (size_t i = 0; order && i < spec->n_disks; i++) {
    size_t k = i;
    for (; k > 0 && boot_key(&spec->disks[order[k - 1]]) >
                        boot_key(&spec->disks[i]); k--)
      order[k] = order[k - 1];
    order[k] = i;
  }
  for (size_t rank = 0; order && rank < spec->n_disks; rank++) {
    const struct ferry_disk *d = &spec->disks[order[rank]];
    json_object *m = json_object_new_object();
    json_object_object_add(m, "vm_volume_id",
                           json_object_new_string(ids[order[rank]]));
    json_object_object_add(m, "bus", json_object_new_string(
                                         bus_name(d->bus)));
    json_object_object_add(m, "boot", json_object_new_int((int)rank));
    json_object_array_add(mount, m);
  }
  if (!order)
    *r = ferry_error(ENOMEM, "out of memory");
  free(order);
  json_object_object_add(disks, "mount_disks", mount);
  json_object_object_add(p, "vm_disks", disks);
  for (size_t i = 0; *r == 0 && i < spec->n_nics; i++) {
    const struct ferry_nic *n = &spec->nics[i];
    char vlan[64];
    if ((*r = vlan_of(fc, n->network ? n->network : "", vlan,
                      sizeof vlan)) < 0)
      break;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "connect_vlan_id", json_object_new_string(vlan));
    if (n->mac && *n->mac)
      json_object_object_add(o, "mac_address", json_object_new_string(n->mac));
    json_object_object_add(o, "model", json_object_new_string(
        n->model && !strcmp(n->model, "e1000") ? "E1000" : "VIRTIO"));
    json_object_object_add(o, "enabled", json_object_new_boolean(1));
    json_object_array_add(nics, o);
  }
  json_object_object_add(p, "vm_nics", nics);
  return p;
}

int elf_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                  struct ferry_vm *out)
{
  int r = name_check(spec->name, "VM name");
  struct ferry_vm old;
  if (r == 0 && elf_lookup_vm(fc, spec->name, &old) == 0) {
    ferry_vm_dispose(&old);
    return ferry_error(EEXIST, "the elf platform has a VM '%s' already",
                       spec->name);
  }
  ferry_error_clear();
  if (r == 0 && spec->memory_mib == 0)
    r = ferry_error(EINVAL, "VM '%s': no memory size", spec->name);
  if (r == 0)
    r = elf_conversions_settled(fc, spec);
  if (r < 0)
    return r;
  char (*ids)[64] = calloc(spec->n_disks + 1, sizeof *ids);
  bool *made = calloc(spec->n_disks + 1, sizeof *made);
  if (!ids || !made)
    r = ferry_error(ENOMEM, "out of memory");
  if (r == 0)
    r = settle_disks(fc, spec, ids, made);
  json_object *params = r == 0 ? creation_params(fc, spec, ids, &r) : NULL;
  char what[600];
  snprintf(what, sizeof what, "create VM '%s'", spec->name);
  if (r == 0) {
    json_object *body = json_object_new_array();
    json_object_array_add(body, params);
    params = NULL;
    r = elf_mutate(fc, "/create-vm", body, 0, what, NULL);
  }
  json_object_put(params);
  if (r < 0) { /* the volumes made for it go again */
    struct saved_error e;
    error_save(&e);
    for (size_t i = 0; made && i < spec->n_disks; i++)
      if (made[i])
        elf_delete_volume(fc, ids[i]);
    error_restore(&e);
  } else if (out) {
    r = elf_lookup_vm(fc, spec->name, out);
  }
  free(ids);
  free(made);
  return r;
}
