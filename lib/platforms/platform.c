/* The client-wrapper API: dispatch to the platform's table, and the
 * operations derived from its lists (get by id, filters, summaries). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/client.h"
#include "../core/error.h"
#include "../core/opts.h"
#include "boot_disk.h"
#include "driver.h"

/* The platform behind c, or an error saying why there is none. */
static int platform_of(client_t *c, const char *op, struct ferry_client **fc)
{
  ferry_error_clear();
  *fc = ferry_client_of(c);
  if (!*fc)
    return ferry_error(EINVAL, "%s: the client was not made by "
                       "create_client", op);
  if (!(*fc)->driver->ops)
    return ferry_error(ENOTSUP, "%s: a %s client is a data path, not a "
                       "platform", op, (*fc)->driver->info.name);
  return 0;
}

#define OPS(fc) ((fc)->driver->ops)
#define NAME(fc) ((fc)->driver->info.name)

/* Declares fc_, the platform behind c, or returns the error saying why
 * it cannot do `member`. */
#define PLATFORM_OP(c, member, opname, fc_)                                   \
  struct ferry_client *fc_;                                                   \
  do {                                                                        \
    int r0_ = platform_of(c, opname, &fc_);                                   \
    if (r0_ < 0)                                                              \
      return r0_;                                                             \
    if (!OPS(fc_)->member)                                                    \
      return ferry_error(ENOTSUP, "the %s platform cannot %s",                \
                         NAME(fc_), opname);                                  \
  } while (0)

/* An ENOTSUP names the platform that cannot (the contract every driver
 * keeps): a driver's message that does not gets it in front. */
static int named(struct ferry_client *fc, int r)
{
  char who[64];
  snprintf(who, sizeof who, "the %s platform", NAME(fc));
  const char *m = ferry_last_error();
  if (r == -ENOTSUP && (!m || !strstr(m, who)))
    ferry_error_prefix("%s: ", who);
  return r;
}

/* Calls the platform's op, or says the platform cannot do it. */
#define DISPATCH(c, member, opname, ...)                                      \
  do {                                                                        \
    PLATFORM_OP(c, member, opname, fc_);                                      \
    return named(fc_, OPS(fc_)->member(fc_, __VA_ARGS__));                    \
  } while (0)

/* Finds a VM by id, uuid or name: the platform's own lookup, else in its
 * list. */
static int resolve_vm(struct ferry_client *fc, const char *vm,
                      struct ferry_vm *out)
{
  if (!vm || !*vm)
    return ferry_error(EINVAL, "no VM given");
  if (OPS(fc)->lookup_vm)
    return OPS(fc)->lookup_vm(fc, vm, out);
  if (!OPS(fc)->vms)
    return ferry_error(ENOTSUP, "the %s platform cannot list VMs",
                       NAME(fc));
  struct ferry_vm *v = NULL;
  size_t n = 0, hit;
  int r = OPS(fc)->vms(fc, &v, &n);
  if (r < 0)
    return r;
  if ((r = vm_pick(v, n, vm, NAME(fc), &hit)) == 0)
    r = ferry_vm_copy(out, &v[hit]);
  ferry_vm_list_free(v, n);
  return r;
}

int vm_pick(const struct ferry_vm *v, size_t n, const char *key,
            const char *platform, size_t *hit)
{
  size_t by_name = 0;
  *hit = n;
  for (size_t i = 0; i < n && *hit == n; i++)
    if ((v[i].id && !strcmp(v[i].id, key)) ||
        (v[i].uuid && !strcmp(v[i].uuid, key)))
      *hit = i;
  for (size_t i = 0; i < n && *hit == n; i++)
    if (v[i].name && !strcmp(v[i].name, key) && by_name++ == 0)
      *hit = i;
  for (size_t i = *hit + 1; i < n && by_name == 1; i++)
    if (v[i].name && !strcmp(v[i].name, key))
      by_name++;
  if (*hit == n)
    return ferry_error(ENOENT, "no VM '%s' on the %s platform", key,
                       platform);
  if (by_name > 1)
    return ferry_error(EINVAL, "%zu VMs are named '%s': give an id", by_name,
                       key);
  return 0;
}

/* As DISPATCH, for operations on one VM. */
#define DISPATCH_VM(c, vmname, member, opname, ...)                           \
  do {                                                                        \
    PLATFORM_OP(c, member, opname, fc_);                                      \
    struct ferry_vm vm_;                                                      \
    ferry_vm_init(&vm_);                                                      \
    int r_;                                                                   \
    if ((r_ = resolve_vm(fc_, vmname, &vm_)) == 0)                            \
      r_ = named(fc_, OPS(fc_)->member(fc_, &vm_, ##__VA_ARGS__));            \
    ferry_vm_dispose(&vm_);                                                   \
    return r_;                                                                \
  } while (0)

int ferry_vms(client_t *c, struct ferry_vm **out, size_t *n)
{
  DISPATCH(c, vms, "list VMs", out, n);
}

int ferry_get_vm(client_t *c, const char *vm, struct ferry_vm *out)
{
  struct ferry_client *fc;
  int r = platform_of(c, "get a VM", &fc);
  return r < 0 ? r : resolve_vm(fc, vm, out);
}

static bool vm_matches(const struct ferry_vm *v,
                       const struct ferry_vm_filter *f)
{
  if (!f)
    return true;
  if (f->name_glob && fnmatch(f->name_glob, v->name ? v->name : "", 0) != 0)
    return false;
  if (f->power_state >= 0 && (int)v->power_state != f->power_state)
    return false;
  if (f->host_id && (!v->host_id || strcmp(f->host_id, v->host_id)))
    return false;
  if (f->cluster_id && (!v->cluster_id || strcmp(f->cluster_id, v->cluster_id)))
    return false;
  return true;
}

int ferry_get_vms(client_t *c, const struct ferry_vm_filter *user,
                  struct ferry_vm **out, size_t *n)
{
  ferry_error_clear();
  struct ferry_vm_filter f = { sizeof f, NULL, -1, NULL, NULL };
  const struct ferry_vm_filter *cond = user ? &f : NULL;
  int r = OPTS_TAKE(&f, user, struct ferry_vm_filter, cluster_id);
  struct ferry_vm *v;
  size_t all;
  if (r < 0 || (r = ferry_vms(c, &v, &all)) < 0)
    return r;
  size_t w = 0;
  for (size_t i = 0; i < all; i++) {
    if (vm_matches(&v[i], cond))
      v[w++] = v[i];
    else
      ferry_vm_dispose(&v[i]);
  }
  *out = v;
  *n = w;
  return 0;
}

int ferry_query_cluster_vm_summary(client_t *c, const char *cluster_id,
                                   struct ferry_vm_summary *out)
{
  struct ferry_vm_filter f = { .struct_size = sizeof f, .power_state = -1,
                               .cluster_id = cluster_id };
  struct ferry_vm *v;
  size_t n;
  int r = ferry_get_vms(c, &f, &v, &n);
  if (r < 0)
    return r;
  ferry_vm_summary_init(out);
  for (size_t i = 0; i < n; i++) {
    out->total++;
    out->running += v[i].power_state == FERRY_POWER_STATE_RUNNING;
    out->paused += v[i].power_state == FERRY_POWER_STATE_PAUSED;
    out->stopped += v[i].power_state == FERRY_POWER_STATE_STOPPED;
    out->vcpus += v[i].vcpus;
    out->memory_mib += v[i].memory_mib;
  }
  ferry_vm_list_free(v, n);
  return 0;
}

int ferry_datacenters(client_t *c, struct ferry_datacenter **out, size_t *n)
{
  DISPATCH(c, datacenters, "list datacenters", out, n);
}

int ferry_clusters(client_t *c, struct ferry_cluster **out, size_t *n)
{
  DISPATCH(c, clusters, "list clusters", out, n);
}

int ferry_hosts(client_t *c, struct ferry_host **out, size_t *n)
{
  DISPATCH(c, hosts, "list hosts", out, n);
}

int ferry_vlans(client_t *c, struct ferry_vlan **out, size_t *n)
{
  DISPATCH(c, vlans, "list VLANs", out, n);
}

int ferry_create_vlan(client_t *c, const struct ferry_vlan *spec)
{
  DISPATCH(c, create_vlan, "create networks", spec);
}

int ferry_delete_vlan(client_t *c, const char *id)
{
  DISPATCH(c, delete_vlan, "delete networks", id);
}

/* get_datacenter, get_cluster, get_host: a list, then the one whose id (or
 * else name) matches. Each type has id and name, so one macro serves. */
#define GET_BY_ID(T, list_fn, what)                                           \
  int ferry_get_##T(client_t *c, const char *id, struct ferry_##T *out)       \
  {                                                                           \
    struct ferry_##T *v;                                                      \
    size_t n;                                                                 \
    int r = list_fn(c, &v, &n);                                               \
    if (r < 0)                                                                \
      return r;                                                               \
    size_t hit = n;                                                           \
    for (size_t i = 0; i < n && hit == n; i++)                                \
      if (v[i].id && id && !strcmp(v[i].id, id))                              \
        hit = i;                                                              \
    for (size_t i = 0; i < n && hit == n; i++)                                \
      if (v[i].name && id && !strcmp(v[i].name, id))                          \
        hit = i;                                                              \
    r = hit == n ? ferry_error(ENOENT, "no %s '%s'", what, id ? id : "")      \
                 : ferry_##T##_copy(out, &v[hit]);                            \
    ferry_##T##_list_free(v, n);                                              \
    return r;                                                                 \
  }

GET_BY_ID(datacenter, ferry_datacenters, "datacenter")
GET_BY_ID(cluster, ferry_clusters, "cluster")
GET_BY_ID(host, ferry_hosts, "host")

int ferry_snapshot_create(client_t *c, const char *vm,
                          const struct ferry_snapshot_spec *spec,
                          struct ferry_domain_snapshot *out)
{
  ferry_error_clear();
  struct ferry_snapshot_spec sp = { sizeof sp, NULL, NULL, 0 };
  int r = spec ? OPTS_TAKE(&sp, spec, struct ferry_snapshot_spec, flags)
               : ferry_error(EINVAL, "no snapshot spec given");
  if (r < 0)
    return r;
  DISPATCH_VM(c, vm, snapshot_create, "create snapshots", &sp, out);
}

int ferry_snapshot_delete(client_t *c, const char *vm, const char *name)
{
  DISPATCH_VM(c, vm, snapshot_delete, "delete snapshots", name);
}

int ferry_snapshot_list(client_t *c, const char *vm,
                        struct ferry_domain_snapshot **out, size_t *n)
{
  DISPATCH_VM(c, vm, snapshot_list, "list snapshots", out, n);
}

int ferry_snapshot_current(client_t *c, const char *vm, char **name)
{
  DISPATCH_VM(c, vm, snapshot_current, "tell the current snapshot", name);
}

int ferry_snapshot_get(client_t *c, const char *vm, const char *name,
                       struct ferry_domain_snapshot *out)
{
  struct ferry_domain_snapshot *v;
  size_t n;
  int r = ferry_snapshot_list(c, vm, &v, &n);
  if (r < 0)
    return r;
  size_t hit = n;
  for (size_t i = 0; i < n && hit == n; i++)
    if (v[i].name && name && !strcmp(v[i].name, name))
      hit = i;
  r = hit == n ? ferry_error(ENOENT, "VM '%s' has no snapshot '%s'", vm,
                             name ? name : "")
               : ferry_domain_snapshot_copy(out, &v[hit]);
  ferry_domain_snapshot_list_free(v, n);
  return r;
}

int ferry_snapshot_revert(client_t *c, const char *vm, const char *name,
                          unsigned flags)
{
  DISPATCH_VM(c, vm, snapshot_revert, "revert snapshots", name, flags);
}

int ferry_wait_task(client_t *c, const char *task, int timeout_ms)
{
  DISPATCH(c, wait_task, "wait for tasks (it has none)", task, timeout_ms);
}

int ferry_snapshot_volume(client_t *c, const char *vm, const char *snapshot,
                          const char *disk, char **volume_id)
{
  DISPATCH_VM(c, vm, snapshot_volume, "read a snapshot's data", snapshot, disk,
              volume_id);
}

int ferry_query_snapshot_changes(client_t *c, const char *vm,
                                 const char *disk, const char *from,
                                 const char *to,
                                 struct ferry_changed_areas *out)
{
  DISPATCH_VM(c, vm, query_snapshot_changes, "tell changed areas", disk, from,
              to, out);
}

void device_name_next(struct device_namer *n, enum ferry_disk_bus bus,
                      char *buf, size_t len)
{
  unsigned *used = bus == FERRY_DISK_BUS_VIRTIO ? &n->vd
                   : bus == FERRY_DISK_BUS_IDE  ? &n->hd : &n->sd;
  const char *prefix = bus == FERRY_DISK_BUS_VIRTIO ? "vd"
                       : bus == FERRY_DISK_BUS_IDE  ? "hd" : "sd";
  snprintf(buf, len, "%s%c", prefix, 'a' + (int)((*used)++ % 26));
}

int vm_disk_index(const struct ferry_vm *vm, const char *key, size_t *i)
{
  for (*i = 0; key && *i < vm->n_disks; (*i)++)
    if ((vm->disks[*i].device && !strcmp(vm->disks[*i].device, key)) ||
        (vm->disks[*i].id && !strcmp(vm->disks[*i].id, key)))
      return 0;
  return ferry_error(ENOENT, "VM '%s' has no disk '%s'", vm->name,
                     key ? key : "");
}

const char *platform_volume_format(client_t *c)
{
  const struct ferry_driver_info *d = ferry_client_driver(c);
  return d && d->volume_format ? d->volume_format : "qcow2";
}

int ferry_create_volume(client_t *c, const struct ferry_disk *disk,
                        struct ferry_volume_info *out)
{
  struct ferry_disk with = *disk; /* the platform's format when none */
  if (!with.format || !*with.format)
    with.format = (char *)platform_volume_format(c);
  DISPATCH(c, create_volume, "create volumes", &with, out);
}

int ferry_delete_volume(client_t *c, const char *volume_id)
{
  DISPATCH(c, delete_volume, "delete volumes", volume_id);
}

int ferry_volumes(client_t *c, struct ferry_volume_info **out, size_t *n)
{
  DISPATCH(c, volumes, "list volumes", out, n);
}

int ferry_create_vm(client_t *c, const struct ferry_vm *spec,
                    struct ferry_vm *out)
{
  DISPATCH(c, create_vm, "create VMs", spec, out);
}

int ferry_delete_vm(client_t *c, const char *vm)
{
  DISPATCH_VM(c, vm, delete_vm, "delete VMs");
}

int ferry_start_vm(client_t *c, const char *vm)
{
  DISPATCH_VM(c, vm, start_vm, "start VMs");
}

int ferry_stop_vm(client_t *c, const char *vm, int timeout_s, unsigned flags)
{
  DISPATCH_VM(c, vm, stop_vm, "stop VMs", timeout_s, flags);
}

int platform_lease_dir(client_t *c, char *buf, size_t len)
{
  PLATFORM_OP(c, lease_dir, "keep leases", fc_);
  return OPS(fc_)->lease_dir(fc_, buf, len);
}

int platform_set_lease_holder(client_t *c, const char *holder)
{
  struct ferry_client *fc = ferry_client_of(c);
  char *h = holder ? strdup(holder) : NULL;
  if (!fc || (holder && !h)) {
    free(h);
    return ferry_error(fc ? ENOMEM : EINVAL, "cannot set the lease holder");
  }
  free(fc->lease_holder);
  fc->lease_holder = h;
  return 0;
}

int ferry_resume_vm(client_t *c, const char *vm)
{
  DISPATCH_VM(c, vm, resume_vm, "resume VMs");
}

/* A driver's own check, else the common one through its volumes. */
static int boot_check(struct ferry_client *fc, const struct ferry_disk *disks,
                      size_t n, const enum ferry_firmware *fw,
                      struct ferry_disk *boot)
{
  if (OPS(fc)->check_boot_disk)
    return named(fc, OPS(fc)->check_boot_disk(fc, disks, n, boot));
  if (!(fc->driver->info.features & FERRY_FEATURE_READ_VOLUMES))
    return ferry_error(ENOTSUP, "the %s platform cannot check boot disks: "
                       "it has no data path to read them", NAME(fc));
  return boot_disk_choose(&fc->pub, disks, n, fw ? *fw : 0, fw != NULL, boot);
}

int ferry_check_boot_disk(client_t *c, const struct ferry_disk *disks,
                          size_t n, struct ferry_disk *boot)
{
  struct ferry_client *fc;
  int r = platform_of(c, "check boot disks", &fc);
  return r < 0 ? r : boot_check(fc, disks, n, NULL, boot);
}

int ferry_check_vm_boot(client_t *c, const char *vm, struct ferry_disk *boot)
{
  struct ferry_client *fc;
  int r = platform_of(c, "check a VM's boot disk", &fc);
  if (r < 0)
    return r;
  struct ferry_vm v;
  ferry_vm_init(&v);
  if ((r = resolve_vm(fc, vm, &v)) == 0)
    r = boot_check(fc, v.disks, v.n_disks, &v.firmware, boot);
  ferry_vm_dispose(&v);
  return r;
}

int ferry_inject_driver(client_t *c, const struct ferry_disk *disk)
{
  DISPATCH(c, inject_driver, "inject drivers", disk, 0, NULL);
}

static int convert_disks(struct ferry_client *fc,
                         const struct ferry_disk *disks, size_t n,
                         enum ferry_firmware fw, unsigned flags,
                         char **report)
{
  struct ferry_disk boot;
  ferry_disk_init(&boot);
  int r = boot_check(fc, disks, n, &fw, &boot);
  if (r == 0)
    r = named(fc, OPS(fc)->inject_driver(fc, &boot, flags, report));
  ferry_disk_dispose(&boot);
  return r;
}

int platform_convert_disks(client_t *c, const struct ferry_disk *disks,
                           size_t n, enum ferry_firmware fw, unsigned flags,
                           char **report)
{
  *report = NULL;
  PLATFORM_OP(c, inject_driver, "convert guests", fc);
  return convert_disks(fc, disks, n, fw, flags, report);
}

/* The VM on virtio: its disks on virtio-blk (no controller, no slot),
 * its NICs virtio-net; a line for the report. */
static int to_virtio(struct ferry_client *fc, struct ferry_vm *v,
                     char **report)
{
  for (size_t i = 0; i < v->n_disks; i++) {
    struct ferry_disk *d = &v->disks[i];
    d->bus = FERRY_DISK_BUS_VIRTIO;
    free(d->controller);
    free(d->slot);
    d->controller = strdup("");
    d->slot = strdup("");
    if (!d->controller || !d->slot)
      return ferry_error(ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < v->n_nics; i++) {
    free(v->nics[i].model);
    if (!(v->nics[i].model = strdup("virtio-net-pci")))
      return ferry_error(ENOMEM, "out of memory");
  }
  int r = named(fc, OPS(fc)->redefine_vm(fc, v));
  char *line = NULL;
  if (r == 0 &&
      asprintf(&line, "%sVM %s: %zu disk%s on virtio-blk, %zu NIC%s "
               "virtio-net\n", *report ? *report : "", v->name, v->n_disks,
               v->n_disks == 1 ? "" : "s", v->n_nics,
               v->n_nics == 1 ? "" : "s") >= 0) {
    free(*report);
    *report = line;
  }
  return r;
}

int ferry_convert_vm(client_t *c, const char *vm,
                     const struct ferry_convert_opts *opts, char **report)
{
  *report = NULL;
  PLATFORM_OP(c, inject_driver, "convert guests", fc);
  struct ferry_convert_opts o = { sizeof o, NULL, false };
  int r = OPTS_TAKE(&o, opts, struct ferry_convert_opts,
                    remove_vmware_tools);
  if (r < 0)
    return r;
  if (o.bus && strcmp(o.bus, "virtio"))
    return ferry_error(EINVAL, "bus '%s': ferry converts guests for virtio",
                       o.bus);
  if (o.bus && !OPS(fc)->redefine_vm)
    return ferry_error(ENOTSUP, "the %s platform cannot change a VM's "
                       "buses: convert without a bus", NAME(fc));
  struct ferry_vm v;
  ferry_vm_init(&v);
  r = resolve_vm(fc, vm, &v);
  if (r == 0 && v.power_state != FERRY_POWER_STATE_STOPPED)
    r = ferry_error(EBUSY, "VM '%s' is %s: stop it to convert its guest",
                    v.name, ferry_power_state_name(v.power_state));
  if (r == 0)
    r = convert_disks(fc, v.disks, v.n_disks, v.firmware,
                      o.remove_vmware_tools ? CONVERT_REMOVE_VMWARE_TOOLS : 0,
                      report);
  if (r == 0 && o.bus)
    r = to_virtio(fc, &v, report);
  ferry_vm_dispose(&v);
  return r;
}

int ferry_open_cbt(client_t *c, const char *vm)
{
  DISPATCH_VM(c, vm, prepare_tracking, "track changed blocks");
}

/* A driver's own, else through the snapshot's volume id. */
static int snapshot_open(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *snapshot, const char *disk,
                         struct ferry_volume **out)
{
  if (OPS(fc)->snapshot_open)
    return OPS(fc)->snapshot_open(fc, vm, snapshot, disk, out);
  if (!OPS(fc)->snapshot_volume)
    return ferry_error(ENOTSUP, "the %s platform cannot read snapshots' "
                       "disks", NAME(fc));
  char *id = NULL;
  int r = OPS(fc)->snapshot_volume(fc, vm, snapshot, disk, &id);
  if (r == 0)
    r = ferry_volume_open(&fc->pub, id, FERRY_OPEN_READ, out);
  free(id);
  return r;
}

int ferry_snapshot_open(client_t *c, const char *vm, const char *snapshot,
                        const char *disk, struct ferry_volume **out)
{
  *out = NULL;
  struct ferry_client *fc;
  int r = platform_of(c, "open a snapshot's disk", &fc);
  if (r < 0)
    return r;
  struct ferry_vm v;
  ferry_vm_init(&v);
  if ((r = resolve_vm(fc, vm, &v)) == 0)
    r = named(fc, snapshot_open(fc, &v, snapshot, disk, out));
  ferry_vm_dispose(&v);
  return r;
}

int ferry_plan_volumes(client_t *c, const char *vm_name,
                       const struct ferry_disk *disks, size_t n,
                       const char *format, char **ids)
{
  for (size_t i = 0; i < n; i++)
    ids[i] = NULL;
  if (!vm_name || !*vm_name || (n && !disks))
    return ferry_error(EINVAL, "plan volumes: no VM name or no disks");
  DISPATCH(c, plan_volumes, "plan volumes", vm_name, disks, n,
           format && *format ? format : platform_volume_format(c), ids);
}

int platform_one_datacenter(const char *name, struct ferry_datacenter **out,
                            size_t *n)
{
  *out = NULL;
  *n = 0;
  struct ferry_datacenter *d = ferry_datacenter_list_append(out, n);
  if (!d || !(d->id = strdup(name)) || !(d->name = strdup(name))) {
    ferry_datacenter_list_free(*out, *n);
    *out = NULL;
    *n = 0;
    return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}

int platform_one_cluster(const char *name, struct ferry_cluster **out,
                         size_t *n)
{
  *out = NULL;
  *n = 0;
  struct ferry_cluster *c = ferry_cluster_list_append(out, n);
  if (!c || !(c->id = strdup(name)) || !(c->name = strdup(name)) ||
      !(c->datacenter_id = strdup(name))) {
    ferry_cluster_list_free(*out, *n);
    *out = NULL;
    *n = 0;
    return ferry_error(ENOMEM, "out of memory");
  }
  return 0;
}
