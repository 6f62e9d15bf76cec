/* Defining, deleting, starting and stopping VMs; the boot disk check. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ferry/volume.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "../driver.h"
#include "qemu.h"

static int new_uuid(char *buf, size_t len)
{
  FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");
  if (!f || !fgets(buf, len, f)) {
    if (f)
      fclose(f);
    return ferry_error(EIO, "cannot make a UUID: %s", strerror(errno));
  }
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

static char *random_mac(void)
{
  unsigned char b[3] = { 0 };
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, b, sizeof b) != sizeof b)
      b[0] = b[1] = b[2] = 0;
    close(fd);
  }
  char *m = malloc(18);
  if (m) /* QEMU's locally administered prefix */
    snprintf(m, 18, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
  return m;
}

static int set_str(char **field, const char *value)
{
  char *d = strdup(value);
  if (!d)
    return ferry_error(ENOMEM, "out of memory");
  free(*field);
  *field = d;
  return 0;
}


/* Fills defaults and checks a VM spec against the platform; creates
 * nothing. want_new[i] says disk i needs a new volume. */
static int check_spec(const struct qemu_state *st, struct ferry_vm *vm,
                      bool *want_new)
{
  int r = name_check(vm->name, "VM name");
  struct ferry_vm *defs;
  size_t n;
  if (r == 0 && (r = qemu_defs_load(st, &defs, &n)) == 0) {
    for (size_t i = 0; i < n && r == 0; i++)
      if (!strcmp(defs[i].name, vm->name))
        r = ferry_error(EEXIST, "a VM named '%s' exists already", vm->name);
    ferry_vm_list_free(defs, n);
  }
  if (r < 0)
    return r;
  if (vm->vcpus <= 0)
    vm->vcpus = 1;
  if (!vm->memory_mib)
    vm->memory_mib = 256;
  if ((!vm->machine || !*vm->machine) && (r = set_str(&vm->machine, "q35")))
    return r;
  bool any_boot = false;
  struct device_namer names = { 0 };
  for (size_t i = 0; i < vm->n_disks; i++) {
    struct ferry_disk *d = &vm->disks[i];
    /* Named as the guest will see it: vda, sda (SCSI, SATA), hda, in
     * order among the disks of that kind. */
    char dev[16];
    device_name_next(&names, d->bus, dev, sizeof dev);
    if ((!d->device || !*d->device) && (r = set_str(&d->device, dev)))
      return r;
    if ((r = name_check(d->device, "disk device name")) < 0)
      return r;
    for (size_t k = 0; k < i; k++)
      if (!strcmp(vm->disks[k].device, d->device))
        return ferry_error(EINVAL, "two disks are named '%s'", d->device);
    any_boot = any_boot || d->boot_order > 0;
    want_new[i] = !d->volume_id || !*d->volume_id;
    if (want_new[i]) {
      const char *fmt = d->format && *d->format ? d->format : "qcow2";
      char *id, path[PATH_MAX];
      if (asprintf(&id, "%s-%s.%s", vm->name, d->device, fmt) < 0)
        return ferry_error(ENOMEM, "out of memory");
      free(d->volume_id);
      d->volume_id = id;
      if ((r = set_str(&d->format, fmt)))
        return r;
      /* checked in full: a name too long is refused, never cut short */
      if ((r = qemu_volume_path(st, id, path)) < 0)
        return ferry_error_prefix("disk %s: its new volume is named after "
                                  "the VM and the disk: ", d->device);
      if (access(path, F_OK) == 0)
        return ferry_error(EEXIST, "disk %s: volume '%s' exists already; "
                           "name it as the disk's volume to use it", d->device,
                           id);
      if (!d->capacity)
        return ferry_error(EINVAL, "disk %s: give a capacity or a volume",
                           d->device);
      continue;
    }
    struct ferry_volume_info info;
    if ((r = qemu_volume_info(st, d->volume_id, &info)) < 0)
      return ferry_error_prefix("disk %s: ", d->device);
    d->capacity = info.capacity;
    r = set_str(&d->format, info.format);
    ferry_volume_info_dispose(&info);
    if (r < 0)
      return r;
  }
  if (!any_boot && vm->n_disks)
    vm->disks[0].boot_order = 1;
  struct ferry_vlan *nets;
  size_t nn;
  if ((r = qemu_networks(st, &nets, &nn)) < 0)
    return r;
  for (size_t i = 0; i < vm->n_nics && r == 0; i++) {
    struct ferry_nic *c = &vm->nics[i];
    if (!c->mac || !*c->mac) {
      free(c->mac);
      if (!(c->mac = random_mac()))
        r = ferry_error(ENOMEM, "out of memory");
    } else if (!qemu_mac_ok(c->mac)) {
      r = ferry_error(EINVAL, "nic %zu: '%s' is not a unicast MAC address "
                      "like 52:54:00:12:34:56", i, c->mac);
    }
    if (r == 0 && (!c->network || !*c->network))
      r = set_str(&c->network, "default");
    if (r == 0 && (!c->model || !*c->model))
      r = set_str(&c->model, "virtio-net-pci");
    bool found = false;
    for (size_t k = 0; r == 0 && k < nn; k++)
      found = found || !strcmp(nets[k].id, c->network) ||
              (nets[k].name && !strcmp(nets[k].name, c->network));
    if (r == 0 && !found)
      r = ferry_error(ENOENT, "nic %zu: no network '%s' on this platform", i,
                      c->network);
  }
  ferry_vlan_list_free(nets, nn);
  return r;
}

int qemu_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                   struct ferry_vm *out)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  int r = ferry_vm_copy(&vm, spec);
  bool *want_new = calloc(vm.n_disks + 1, sizeof *want_new);
  char uuid[64];
  if (r == 0 && !want_new)
    r = ferry_error(ENOMEM, "out of memory");
  if (r == 0 && vm.name)
    r = qemu_name_lease_check(fc, "vmname", vm.name, "vm create");
  if (r == 0)
    r = check_spec(st, &vm, want_new);
  if (r == 0 && (r = new_uuid(uuid, sizeof uuid)) == 0)
    r = set_str(&vm.uuid, uuid) || set_str(&vm.id, uuid) ||
        set_str(&vm.host_id, "local") || set_str(&vm.cluster_id, "local") ||
        set_str(&vm.datacenter_id, "local") ? -ENOMEM : 0;
  if (r == 0)
    r = qemu_def_check(st, &vm, NULL);
  if (r == 0)
    r = qemu_machine_check(vm.machine);
  for (size_t i = 0; r == 0 && i < vm.n_disks; i++)
    if (!want_new[i] && (r = qemu_chain_check(st, vm.disks[i].volume_id)) < 0)
      ferry_error_prefix("disk %s: ", vm.disks[i].device);
  /* Everything is checked: now create the volumes, then the definition. */
  size_t made = 0; /* disks [0, made) have their volume */
  for (; r == 0 && made < vm.n_disks; made++)
    if (want_new[made] &&
        (r = qemu_create_volume(fc, &vm.disks[made], NULL)) < 0)
      break;
  if (r == 0)
    r = qemu_def_store(st, &vm);
  if (r < 0) { /* leave nothing behind */
    struct saved_error e;
    error_save(&e);
    for (size_t i = 0; i < made; i++)
      if (want_new[i])
        qemu_delete_volume(fc, vm.disks[i].volume_id);
    r = error_restore(&e) ? -e.err : r;
  } else {
    vm.power_state = FERRY_POWER_STATE_STOPPED;
    r = out ? ferry_vm_copy(out, &vm) : 0;
  }
  free(want_new);
  ferry_vm_dispose(&vm);
  return r;
}

int qemu_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  if (qemu_running_pid(st, vm->uuid))
    return ferry_error(EBUSY, "VM '%s' is running: stop it first", vm->name);
  int r = qemu_vm_lease_check(fc, vm, "vm delete");
  if (r == 0 && vm->name)
    r = qemu_name_lease_check(fc, "vmname", vm->name, "vm delete");
  if (r == 0)
    r = qemu_def_remove(st, vm->uuid);
  if (r < 0)
    return r;
  /* Snapshot records and runtime files go with it; volumes stay. */
  char cmd_dir[PATH_MAX];
  char *rm[] = { "rm", "-rf", "--", qemu_path(st, cmd_dir, "snapshots/%s",
                                              vm->uuid), NULL };
  run_command(rm, NULL);
  qemu_path(st, cmd_dir, "run/%s", vm->uuid);
  run_command(rm, NULL);
  return 0;
}

int qemu_redefine_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  if (qemu_running_pid(st, vm->uuid))
    return ferry_error(EBUSY, "VM '%s' is running: stop it first", vm->name);
  int r = qemu_vm_lease_check(fc, vm, "vm redefine");
  if (r == 0)
    r = qemu_def_check(st, vm, NULL);
  return r < 0 ? ferry_error_prefix("VM '%s': ", vm->name)
               : qemu_def_store(st, vm);
}

int qemu_start_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  /* A paused one runs on (left paused by a crash, or by hand): the
   * resume says why not if it cannot. */
  if (qemu_running_pid(st, vm->uuid))
    return qemu_power_state(st, vm->uuid) == FERRY_POWER_STATE_PAUSED
               ? qemu_resume_vm(fc, vm)
               : ferry_error(EBUSY, "VM '%s' is running already", vm->name);
  return qemu_launch(st, vm, false, -1);
}

int qemu_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
                 int timeout_s, unsigned flags)
{
  return qemu_shutdown(QEMU_STATE(fc), vm, timeout_s,
                       flags & FERRY_STOP_FORCE);
}
