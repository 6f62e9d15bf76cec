/* CloudTower's inventory as standard objects: datacenters, clusters,
 * hosts, VM networks (VLANs: the tag is vlan_id, the id the object's),
 * and VMs with their disks (by boot order: VmDisk, its VmVolume) and NICs
 * (VmNic: MAC, model, VLAN). VmDisk and VmNic ids change with every
 * change of their VM, so a disk is known by its volume and a NIC by its
 * MAC. A VM list asks for each kind once and joins them here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../types/object.h"
#include "../driver.h"
#include "elf.h"

/* A JSON object of list whose "id" is id, NULL when none. */
static json_object *by_id(json_object *list, const char *id)
{
  for (size_t i = 0; id && *id && i < json_object_array_length(list); i++) {
    json_object *o = json_object_array_get_idx(list, i);
    if (!strcmp(elf_str(o, "id"), id))
      return o;
  }
  return NULL;
}

static enum ferry_power_state power_of(const char *status)
{
  return !strcmp(status, "RUNNING")     ? FERRY_POWER_STATE_RUNNING
         : !strcmp(status, "STOPPED")   ? FERRY_POWER_STATE_STOPPED
         : !strcmp(status, "SUSPENDED") ? FERRY_POWER_STATE_SUSPENDED
                                        : FERRY_POWER_STATE_UNKNOWN;
}

static enum ferry_disk_bus bus_of(const char *bus)
{
  return !strcmp(bus, "SCSI") ? FERRY_DISK_BUS_SCSI
         : !strcmp(bus, "IDE") ? FERRY_DISK_BUS_IDE
                               : FERRY_DISK_BUS_VIRTIO;
}

static const char *nic_model(const char *m)
{
  return !strcmp(m, "E1000") ? "e1000" : !strcmp(m, "SRIOV") ? "sriov"
                                                             : "virtio-net-pci";
}

/* The 802.1Q tag of a VLAN object: 0 is none. */
static int64_t tag_of(json_object *vlan)
{
  int64_t t = vlan ? elf_int(vlan, "vlan_id") : 0;
  return t > 0 ? t : -1;
}

static const char *first_dc(json_object *cluster)
{
  json_object *dcs;
  return cluster &&
                 json_object_object_get_ex(cluster, "datacenters", &dcs) &&
                 dcs &&
                 json_object_array_length(dcs)
             ? elf_str(json_object_array_get_idx(dcs, 0), "id")
             : "";
}

/* What a VM list needs besides the VMs: their disks, NICs, volumes, the
 * VLANs and the clusters (for the datacenter). */
struct parts {
  json_object *disks, *nics, *volumes, *vlans, *clusters;
  json_object *all_volumes; /* for the names that are unique */
};

static void parts_free(struct parts *p)
{
  json_object_put(p->disks);
  json_object_put(p->nics);
  json_object_put(p->volumes);
  json_object_put(p->vlans);
  json_object_put(p->clusters);
  json_object_put(p->all_volumes);
}

/* filter: the VMs' (a VmWhereInput, taken), or NULL for every VM. */
static int parts_get(struct ferry_client *fc, json_object *filter,
                     struct parts *p)
{
  *p = (struct parts){ 0 };
  json_object *vm_of = filter ? elf_where_kv("vm", filter) : NULL;
  json_object *vol_of = filter ? elf_where_kv(
      "vm_disks_some", elf_where_kv("vm", json_object_get(filter))) : NULL;
  int r = elf_list(fc, "/get-vm-disks", vm_of ? json_object_get(vm_of)
                                              : NULL, "boot_ASC", &p->disks);
  if (r == 0)
    r = elf_list(fc, "/get-vm-nics", vm_of ? json_object_get(vm_of) : NULL,
                 "order_ASC", &p->nics);
  if (r == 0)
    r = elf_list(fc, "/get-vm-volumes", vol_of ? json_object_get(vol_of)
                                               : NULL, NULL, &p->volumes);
  if (r == 0 && vol_of)
    r = elf_list(fc, "/get-vm-volumes", NULL, NULL, &p->all_volumes);
  else if (r == 0)
    p->all_volumes = json_object_get(p->volumes);
  if (r == 0)
    r = elf_list(fc, "/get-vlans", NULL, NULL, &p->vlans);
  if (r == 0)
    r = elf_list(fc, "/get-clusters", NULL, NULL, &p->clusters);
  json_object_put(vm_of);
  json_object_put(vol_of);
  if (r < 0)
    parts_free(p);
  return r;
}

static int add_disks(json_object *vmj, const struct parts *p,
                     struct ferry_vm *vm)
{
  struct device_namer names = { 0 };
  for (size_t i = 0; i < json_object_array_length(p->disks); i++) {
    json_object *d = json_object_array_get_idx(p->disks, i);
    if (strcmp(elf_nested_id(d, "vm"), elf_str(vmj, "id")) ||
        strcmp(elf_str(d, "type"), "DISK"))
      continue;
    json_object *vol = by_id(p->volumes, elf_nested_id(d, "vm_volume"));
    struct ferry_disk *fd = ferry_vm_disks_append(vm);
    if (!fd)
      return ferry_error(ENOMEM, "out of memory");
    fd->bus = bus_of(elf_str(d, "bus"));
    char dev[16];
    /* the guest's name where CloudTower knows it, else by bus and order */
    if (*elf_str(d, "device"))
      snprintf(dev, sizeof dev, "%s", elf_str(d, "device"));
    else
      device_name_next(&names, fd->bus, dev, sizeof dev);
    fd->capacity = (uint64_t)elf_int(vol, "size");
    fd->boot_order = elf_int(d, "boot") + 1; /* ELF's 0 boots first */
    const char *volume = vol ? elf_volume_key(vol, p->all_volumes)
                             : elf_nested_id(d, "vm_volume");
    if (!OBJ_SET(fd->id, volume) || !OBJ_SET(fd->device, dev) ||
        !OBJ_SET(fd->volume_id, volume) || !OBJ_SET(fd->format, "raw"))
      return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

static int add_nics(json_object *vmj, const struct parts *p,
                    struct ferry_vm *vm)
{
  for (size_t i = 0; i < json_object_array_length(p->nics); i++) {
    json_object *n = json_object_array_get_idx(p->nics, i);
    if (strcmp(elf_nested_id(n, "vm"), elf_str(vmj, "id")))
      continue;
    struct ferry_nic *fn = ferry_vm_nics_append(vm);
    if (!fn)
      return ferry_error(ENOMEM, "out of memory");
    const char *vlan = elf_nested_id(n, "vlan");
    fn->vlan_id = tag_of(by_id(p->vlans, vlan));
    if (!OBJ_SET(fn->mac, elf_str(n, "mac_address")) ||
        !OBJ_SET(fn->model, nic_model(elf_str(n, "model"))) ||
        !OBJ_SET(fn->network, vlan))
      return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

static int to_vm(json_object *vmj, const struct parts *p, struct ferry_vm *vm)
{
  ferry_vm_init(vm);
  const char *dc = first_dc(by_id(p->clusters,
                                  elf_nested_id(vmj, "cluster")));
  vm->power_state = power_of(elf_str(vmj, "status"));
  vm->vcpus = elf_int(vmj, "vcpu");
  vm->memory_mib = (uint64_t)elf_int(vmj, "memory") >> 20;
  vm->firmware = !strcmp(elf_str(vmj, "firmware"), "UEFI")
                     ? FERRY_FIRMWARE_UEFI : FERRY_FIRMWARE_BIOS;
  int r = OBJ_SET(vm->id, elf_str(vmj, "id")) &&
                  OBJ_SET(vm->uuid, elf_str(vmj, "local_id")) &&
                  OBJ_SET(vm->name, elf_str(vmj, "name")) &&
                  OBJ_SET(vm->guest_os, elf_str(vmj, "guest_os_type")) &&
                  OBJ_SET(vm->host_id, elf_nested_id(vmj, "host")) &&
                  OBJ_SET(vm->cluster_id, elf_nested_id(vmj, "cluster")) &&
                  OBJ_SET(vm->datacenter_id, dc)
              ? 0 : ferry_error(ENOMEM, "out of memory");
  if (r == 0)
    r = add_disks(vmj, p, vm);
  if (r == 0)
    r = add_nics(vmj, p, vm);
  if (r < 0)
    ferry_vm_dispose(vm);
  return r;
}

/* The VMs that where (taken; NULL: all but the recycle bin's) lists. */
static int vms_where(struct ferry_client *fc, json_object *where,
                     struct ferry_vm **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  json_object *list = NULL;
  if (!where)
    where = elf_where_kv("in_recycle_bin", json_object_new_boolean(0));
  int r = elf_list(fc, "/get-vms", json_object_get(where), "name_ASC",
                   &list);
  size_t count = r == 0 ? json_object_array_length(list) : 0;
  struct parts p = { 0 };
  if (r == 0 && count)
    r = parts_get(fc, count == 1 ? json_object_get(where) : NULL, &p);
  json_object_put(where);
  struct ferry_vm *v = count ? calloc(count, sizeof *v) : NULL;
  if (r == 0 && count && !v)
    r = ferry_error(ENOMEM, "out of memory");
  size_t k = 0;
  for (; r == 0 && k < count; k++)
    r = to_vm(json_object_array_get_idx(list, k), &p, &v[k]);
  if (r < 0) {
    ferry_vm_list_free(v, k ? k - 1 : 0); /* to_vm disposed of its own */
  } else {
    *out = v;
    *n = count;
  }
  if (count)
    parts_free(&p);
  json_object_put(list);
  return r;
}

int elf_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n)
{
  return vms_where(fc, NULL, out, n);
}

int elf_lookup_vm(struct ferry_client *fc, const char *key,
                  struct ferry_vm *out)
{
  /* by id, by local_id (the uuid), else by a unique name: one query */
  json_object *any = json_object_new_array(), *where = json_object_new_object();
  const char *fields[] = { "id", "local_id", "name" };
  for (size_t f = 0; f < 3; f++)
    json_object_array_add(any, elf_where_kv(fields[f],
                                            json_object_new_string(key)));
  json_object_object_add(where, "OR", any);
  struct ferry_vm *v;
  size_t n, hit;
  int r = vms_where(fc, where, &v, &n);
  if (r < 0)
    return r;
  if ((r = vm_pick(v, n, key, "elf", &hit)) == 0) {
    *out = v[hit];
    ferry_vm_init(&v[hit]); /* moved out */
  }
  ferry_vm_list_free(v, n);
  return r;
}

/* The objects of a get-* operation, each made by fill (which may look at
 * ctx, another list). */
#define LIST_OF(type, op, where, fill, ctx)                                 \
  do {                                                                      \
    json_object *list;                                                      \
    int r_ = elf_list(fc, op, where, NULL, &list);                          \
    if (r_ < 0)                                                             \
      return r_;                                                            \
    size_t cnt_ = json_object_array_length(list), k_ = 0;                   \
    struct type *v_ = cnt_ ? calloc(cnt_, sizeof *v_) : NULL;               \
    if (cnt_ && !v_)                                                        \
      r_ = ferry_error(ENOMEM, "out of memory");                            \
    for (; r_ == 0 && k_ < cnt_; k_++) {                                    \
      type##_init(&v_[k_]);                                                 \
      json_object *o_ = json_object_array_get_idx(list, k_);               \
      r_ = fill(ctx, o_, &v_[k_]);                                          \
    }                                                                       \
    json_object_put(list);                                                  \
    json_object_put(ctx);                                                   \
    if (r_ < 0) {                                                           \
      type##_list_free(v_, k_);                                             \
      return r_;                                                            \
    }                                                                       \
    *out = v_;                                                              \
    *n = cnt_;                                                              \
    return 0;                                                               \
  } while (0)

/* An object's id and name, as CloudTower's. */
static bool id_name(char **id, char **name, json_object *o)
{
  return ferry_obj_string_set(id, elf_str(o, "id")) &&
         ferry_obj_string_set(name, elf_str(o, "name"));
}

static int fill_dc(json_object *ctx, json_object *o,
                   struct ferry_datacenter *d)
{
  (void)ctx;
  return id_name(&d->id, &d->name, o)
             ? 0 : ferry_error(ENOMEM, "out of memory");
}

static int fill_cluster(json_object *ctx, json_object *o,
                        struct ferry_cluster *c)
{
  (void)ctx;
  return id_name(&c->id, &c->name, o) &&
                 OBJ_SET(c->datacenter_id, first_dc(o))
             ? 0 : ferry_error(ENOMEM, "out of memory");
}

static int fill_host(json_object *ctx, json_object *o,
                     struct ferry_host *h)
{
  h->cpus = elf_int(o, "total_cpu_cores");
  h->memory_mib = (uint64_t)elf_int(o, "total_memory_bytes") >> 20;
  h->connected = !strncmp(elf_str(o, "status"), "CONNECTED_", 10);
  return id_name(&h->id, &h->name, o) &&
                 OBJ_SET(h->cluster_id, elf_nested_id(o, "cluster")) &&
                 OBJ_SET(h->datacenter_id,
                   first_dc(by_id(ctx, elf_nested_id(o, "cluster"))))
             ? 0 : ferry_error(ENOMEM, "out of memory");
}

static int fill_vlan(json_object *ctx, json_object *o,
                     struct ferry_vlan *v)
{
  (void)ctx;
  v->vlan_id = tag_of(o);
  return id_name(&v->id, &v->name, o)
             ? 0 : ferry_error(ENOMEM, "out of memory");
}

int elf_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                    size_t *n)
{
  LIST_OF(ferry_datacenter, "/get-datacenters", NULL, fill_dc, NULL);
}

int elf_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                 size_t *n)
{
  LIST_OF(ferry_cluster, "/get-clusters", NULL, fill_cluster, NULL);
}

int elf_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n)
{
  json_object *clusters;
  int r = elf_list(fc, "/get-clusters", NULL, NULL, &clusters);
  if (r < 0)
    return r;
  LIST_OF(ferry_host, "/get-hosts", NULL, fill_host, clusters);
}

/* Guest networks only: a VM's NIC cannot join a management or storage
 * network. */
int elf_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n)
{
  LIST_OF(ferry_vlan, "/get-vlans",
          elf_where_kv("type", json_object_new_string("VM")), fill_vlan,
          NULL);
}

int elf_pick_cluster(struct ferry_client *fc)
{
  struct elf_state *st = ELF_STATE(fc);
  json_object *where = elf_where_kv("hypervisor",
                                    json_object_new_string("ELF"));
  if (*st->cluster_name)
    json_object_object_add(where, "name",
                           json_object_new_string(st->cluster_name));
  json_object *list;
  int r = elf_list(fc, "/get-clusters", where, NULL, &list);
  if (r < 0)
    return r;
  size_t n = json_object_array_length(list);
  if (n == 1) {
    snprintf(st->cluster_id, sizeof st->cluster_id, "%s",
             elf_str(json_object_array_get_idx(list, 0), "id"));
  } else if (n == 0 && *st->cluster_name) {
    r = ferry_error(ENOENT, "CloudTower at %s has no ELF cluster '%s'",
                    st->host, st->cluster_name);
  } else if (n == 0) {
    r = ferry_error(ENOENT, "CloudTower at %s manages no ELF cluster",
                    st->host);
  } else {
    char names[512] = "";
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
      w += snprintf(names + w, w < sizeof names ? sizeof names - w : 0,
                    "%s%s", i ? ", " : "",
                    elf_str(json_object_array_get_idx(list, i), "name"));
    r = ferry_error(EINVAL, "CloudTower at %s manages %zu ELF clusters (%s): "
                    "name one with ?cluster=NAME", st->host, n, names);
  }
  json_object_put(list);
  return r;
}
