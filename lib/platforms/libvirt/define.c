/* A domain defined (virDomainDefineXML) from a standard VM: its disks on
 * the pool volumes they name, with the bus each says (virtio after a
 * conversion), the mapped networks (a port group as NETWORK/PORTGROUP),
 * the source's MACs, firmware, vCPUs and memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/sbuf.h"
#include "../../core/statefile.h"
#include "../driver.h"
#include "lv.h"

static void add_disk(struct sbuf *x, const struct ferry_disk *d,
                     const char *device)
{
  const char *slash = d->volume_id ? strchr(d->volume_id, '/') : NULL;
  const char *bus = ferry_disk_bus_name(d->bus);
  const char *fmt = d->format && *d->format
                        ? d->format
                        : lv_format_of_name(d->volume_id ? d->volume_id : "");
  if (slash) {
    sb_printf(x, "<disk type='volume' device='disk'><driver name='qemu' "
                 "type='%s'/><source pool='", fmt);
    sb_append(x, d->volume_id, (size_t)(slash - d->volume_id));
    sb_printf(x, "' volume='");
    sb_esc(x, slash + 1);
    sb_printf(x, "'/>");
  } else {
    sb_printf(x, "<disk type='file' device='disk'><driver name='qemu' "
                 "type='%s'/><source file='", fmt);
    sb_esc(x, d->volume_id);
    sb_printf(x, "'/>");
  }
  sb_printf(x, "<target dev='");
  sb_esc(x, device);
  sb_printf(x, "' bus='%s'/>", bus ? bus : "virtio");
  if (d->boot_order > 0)
    sb_printf(x, "<boot order='%" PRId64 "'/>", d->boot_order);
  sb_printf(x, "</disk>");
}

static void add_nic(struct sbuf *x, const struct ferry_nic *n)
{
  const char *net = n->network ? n->network : "default";
  const char *slash = strchr(net, '/');
  sb_printf(x, "<interface type='network'>");
  if (n->mac && *n->mac) {
    sb_printf(x, "<mac address='");
    sb_esc(x, n->mac);
    sb_printf(x, "'/>");
  }
  sb_printf(x, "<source network='");
  sb_append(x, net, slash ? (size_t)(slash - net) : strlen(net));
  if (slash) {
    sb_printf(x, "' portgroup='");
    sb_esc(x, slash + 1);
  }
  /* QEMU's virtio-net-pci is libvirt's virtio */
  const char *model = !n->model || !*n->model ||
                      !strcmp(n->model, "virtio-net-pci") ? "virtio"
                                                          : n->model;
  sb_printf(x, "'/><model type='");
  sb_esc(x, model);
  sb_printf(x, "'/></interface>");
}

/* The domain XML of spec. */
static int domain_xml(const struct lv_state *st, const struct ferry_vm *spec,
                      struct sbuf *x)
{
  sb_printf(x, "<domain type='%s'><name>", st->virt_type);
  sb_esc(x, spec->name);
  sb_printf(x, "</name><memory unit='MiB'>%" PRIu64 "</memory>"
               "<vcpu>%" PRId64 "</vcpu><os%s><type arch='x86_64'",
            spec->memory_mib, spec->vcpus > 0 ? spec->vcpus : 1,
            spec->firmware == FERRY_FIRMWARE_UEFI ? " firmware='efi'" : "");
  if (spec->machine && *spec->machine) {
    sb_printf(x, " machine='");
    sb_esc(x, spec->machine);
    sb_printf(x, "'");
  }
  sb_printf(x, ">hvm</type></os><features><acpi/></features><devices>");
  bool scsi = false;
  for (size_t i = 0; i < spec->n_disks; i++) {
    scsi |= spec->disks[i].bus == FERRY_DISK_BUS_SCSI;
    add_disk(x, &spec->disks[i], spec->disks[i].device);
  }
  if (scsi)
    sb_printf(x, "<controller type='scsi' model='virtio-scsi'/>");
  for (size_t i = 0; i < spec->n_nics; i++)
    add_nic(x, &spec->nics[i]);
  /* the serial console also in libvirt's log directory, where an admin
   * reads what a migrated guest said while it booted */
  sb_printf(x, "<serial type='pty'><log file='%s/", LV_SERIAL_LOG_DIR);
  sb_esc(x, spec->name);
  sb_printf(x, "-serial0.log' append='on'/></serial><console type='pty'/>"
               "<video><model type='none'/></video>"
               "<memballoon model='none'/></devices></domain>");
  return x->failed ? ferry_error(ENOMEM, "out of memory") : 0;
}

/* Every disk named (vda, sdb, ... by bus where the spec says none) and,
 * for one without a volume, the pool volume it gets: NAME-DEV.FMT in the
 * URI's pool, which must not exist yet. want_new[i]: made here. */
static int settle_disks(struct ferry_client *fc, struct ferry_vm *vm,
                        bool *want_new)
{
  struct device_namer names = { 0 };
  for (size_t i = 0; i < vm->n_disks; i++) {
    struct ferry_disk *d = &vm->disks[i];
    char dev[16];
    if (!d->device || !*d->device) {
      device_name_next(&names, d->bus, dev, sizeof dev);
      free(d->device);
      if (!(d->device = strdup(dev)))
        return ferry_error(ENOMEM, "out of memory");
    }
    int r = name_check(d->device, "disk device name");
    for (size_t k = 0; r == 0 && k < i; k++)
      if (!strcmp(vm->disks[k].device, d->device))
        r = ferry_error(EINVAL, "two disks are named '%s'", d->device);
    if (r < 0)
      return r;
    if ((want_new[i] = !d->volume_id || !*d->volume_id)) {
      const char *fmt = d->format && *d->format ? d->format : "qcow2";
      char *ids[1] = { NULL };
      if (!d->capacity)
        return ferry_error(EINVAL, "disk %s: give a capacity or a volume",
                           d->device);
      if ((r = lv_plan_volumes(fc, vm->name, d, 1, fmt, ids)) < 0)
        return r;
      free(d->volume_id);
      d->volume_id = ids[0];
    }
  }
  return 0;
}

int lv_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                 struct ferry_vm *out)
{
  int r = name_check(spec->name, "VM name");
  if (r < 0)
    return r;
  virDomainPtr old = virDomainLookupByName(LV_CONN(fc), spec->name);
  if (old) {
    virDomainFree(old);
    return ferry_error(EEXIST, "the libvirt platform has a VM '%s' already",
                       spec->name);
  }
  if (spec->memory_mib == 0)
    return ferry_error(EINVAL, "VM '%s': no memory size", spec->name);
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  bool *want_new = calloc(spec->n_disks + 1, sizeof *want_new);
  if (!want_new || (r = ferry_vm_copy(&vm, spec)) < 0)
    r = ferry_error(ENOMEM, "out of memory");
  if (r == 0)
    r = settle_disks(fc, &vm, want_new);
  /* checked in full above; now made, and taken back if the define fails */
  size_t made = 0; /* disks [0, made) have their new volumes */
  for (; r == 0 && made < vm.n_disks; made++)
    if (want_new[made] &&
        (r = lv_create_volume(fc, &vm.disks[made], NULL)) < 0)
      break;
  struct sbuf x = { 0 };
  if (r == 0)
    r = domain_xml(LV_STATE(fc), &vm, &x);
  virDomainPtr dom = r == 0 ? virDomainDefineXML(LV_CONN(fc), x.s) : NULL;
  if (r == 0 && !dom)
    r = lv_error("define VM '%s'", spec->name);
  sb_free(&x);
  if (r < 0) {
    struct saved_error e;
    error_save(&e);
    for (size_t i = 0; i < made; i++)
      if (want_new[i])
        lv_delete_volume(fc, vm.disks[i].volume_id);
    error_restore(&e);
  }
  if (dom && out)
    r = lv_domain_to_vm(dom, out);
  if (dom)
    virDomainFree(dom);
  ferry_vm_dispose(&vm);
  free(want_new);
  return r;
}
