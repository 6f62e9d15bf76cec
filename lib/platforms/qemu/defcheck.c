/* VM definitions and images checked for meaning, not only syntax: what a
 * hand-edited or hostile vms/<uuid>.json says never reaches qemu's command
 * line unchecked, and no image leads qemu to a file outside the state
 * dir's volumes/. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../core/error.h"
#include "../../core/json_str.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "qemu.h"
#include "snapdisk.h"

#define MAX_VCPUS 255
#define MIN_MEMORY_MIB 16
#define MAX_MEMORY_MIB (4u << 20) /* 4 TiB */
#define MAX_CHAIN 256

/* A word qemu takes as one option value: letters, digits, '.', '_', '-'
 * (no ',' or '=' that would add options of its own). */
static bool plain_word(const char *s)
{
  if (!s || !*s)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
      return false;
  return true;
}

bool qemu_mac_ok(const char *m)
{
  if (!m || strlen(m) != 17)
    return false;
  for (int i = 0; i < 17; i++)
    if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
      return false;
  return !(strtol(m, NULL, 16) & 1); /* not multicast */
}

/* The SCSI controller models qemu has, by ferry's (VMware's) names; ""
 * is virtio-scsi. */
static const struct {
  const char *model, *device;
} scsi_models[] = {
  { "virtio-scsi", "virtio-scsi-pci" },
  { "pvscsi", "pvscsi" },         /* VMware paravirtual SCSI */
  { "lsisas1068", "mptsas1068" }, /* LSI Logic SAS (guest: mptsas) */
};

const char *qemu_scsi_controller(const char *model)
{
  for (size_t i = 0; model && *model && i < sizeof scsi_models /
                                             sizeof scsi_models[0]; i++)
    if (!strcmp(model, scsi_models[i].model))
      return scsi_models[i].model;
  return "virtio-scsi";
}

const char *qemu_scsi_device(const char *model)
{
  for (size_t i = 0; i < sizeof scsi_models / sizeof scsi_models[0]; i++)
    if (!strcmp(model, scsi_models[i].model))
      return scsi_models[i].device;
  return "virtio-scsi-pci";
}

static int disk_controller_check(const struct ferry_disk *d)
{
  const char *c = d->controller ? d->controller : "";
  if (!*c)
    return 0;
  if (d->bus == FERRY_DISK_BUS_SCSI) {
    if (strcmp(qemu_scsi_controller(c), c) == 0)
      return 0;
    if (!strcmp(c, "lsilogic"))
      return ferry_error(ENOTSUP, "disk %s: qemu has no LSI Logic 53c1030 "
                         "(the guest's mptspi): give the disk lsisas1068 "
                         "(mptsas) or pvscsi", d->device);
    return ferry_error(EINVAL, "disk %s: SCSI controller '%s' is not one "
                       "of virtio-scsi, pvscsi, lsisas1068", d->device, c);
  }
  if ((d->bus == FERRY_DISK_BUS_SATA && !strcmp(c, "ahci")) ||
      (d->bus == FERRY_DISK_BUS_IDE && !strcmp(c, "ide")))
    return 0;
  return ferry_error(EINVAL, "disk %s: controller '%s' does not go with "
                     "bus %s", d->device, c, ferry_disk_bus_name(d->bus));
}

int qemu_def_check(const struct qemu_state *st, const struct ferry_vm *vm,
                   const char *file)
{
  char where[PATH_MAX + 32] = "";
  if (file)
    snprintf(where, sizeof where, "VM definition %s: ", file);
  int r = name_check(vm->uuid, "VM uuid");
  if (r == 0 && file) { /* vms/<uuid>.json */
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(vm->uuid);
    if (strncmp(base, vm->uuid, n) || strcmp(base + n, ".json"))
      r = ferry_error(EINVAL, "its uuid '%s' is not its file's name",
                      vm->uuid);
  }
  if (r == 0)
    r = name_check(vm->name, "VM name");
  if (r == 0 && (vm->vcpus < 1 || vm->vcpus > MAX_VCPUS))
    r = ferry_error(EINVAL, "vcpus %" PRId64 " is not in 1..%d", vm->vcpus,
                    MAX_VCPUS);
  if (r == 0 && (vm->memory_mib < MIN_MEMORY_MIB ||
                 vm->memory_mib > MAX_MEMORY_MIB))
    r = ferry_error(EINVAL, "memory %" PRIu64 " MiB is not in %d..%u MiB",
                    vm->memory_mib, MIN_MEMORY_MIB, MAX_MEMORY_MIB);
  if (r == 0 && vm->machine && *vm->machine && !plain_word(vm->machine))
    r = ferry_error(EINVAL, "machine '%s' is not a machine type name",
                    vm->machine ? vm->machine : "");
  for (size_t i = 0; r == 0 && i < vm->n_disks; i++) {
    const struct ferry_disk *d = &vm->disks[i];
    char path[PATH_MAX];
    if ((r = name_check(d->device, "disk device name")) < 0 ||
        (r = qemu_volume_path(st, d->volume_id, path)) < 0) {
      ferry_error_prefix("disk %zu: ", i);
      break;
    }
    for (size_t k = 0; k < i && r == 0; k++)
      if (!strcmp(vm->disks[k].device, d->device))
        r = ferry_error(EINVAL, "two disks are named '%s'", d->device);
    if (r == 0)
      r = disk_controller_check(d);
    if (r == 0 && d->format && *d->format &&
        strcmp(d->format, qemu_volume_format(d->volume_id)))
      r = ferry_error(EINVAL, "disk %s: format %s, but volume '%s' is %s",
                      d->device, d->format, d->volume_id,
                      qemu_volume_format(d->volume_id));
  }
  for (size_t i = 0; r == 0 && i < vm->n_nics; i++) {
    const struct ferry_nic *c = &vm->nics[i];
    if (!qemu_mac_ok(c->mac))
      r = ferry_error(EINVAL, "nic %zu: '%s' is not a MAC address (a "
                      "unicast one, like 52:54:00:12:34:56)", i,
                      c->mac ? c->mac : "");
    else if (!plain_word(c->model))
      r = ferry_error(EINVAL, "nic %zu: model '%s' is not a device name", i,
                      c->model ? c->model : "");
  }
  if (r < 0 && *where)
    ferry_error_prefix("%s", where);
  return r;
}

int qemu_machine_check(const char *machine)
{
  if (!machine || !*machine)
    machine = "q35"; /* what qemu_launch gives an unset one */
  if (!plain_word(machine))
    return ferry_error(EINVAL, "machine '%s' is not a machine type name",
                       machine ? machine : "");
  char *argv[] = { "qemu-system-x86_64", "-machine", "help", NULL }, *out;
  int r = run_command(argv, &out);
  if (r < 0)
    return r;
  size_t n = strlen(machine);
  bool found = false;
  for (char *line = out; line && *line && !found;) {
    found = !strncmp(line, machine, n) && (line[n] == ' ' || !line[n] ||
                                           line[n] == '\n');
    line = strchr(line, '\n');
    line = line ? line + 1 : NULL;
  }
  free(out);
  return found ? 0 : ferry_error(EINVAL, "machine '%s' is not one of "
                                 "qemu-system-x86_64's machine types (see "
                                 "`qemu-system-x86_64 -machine help`)",
                                 machine);
}

int qemu_chain_check(const struct qemu_state *st, const char *volume_id)
{
  char vols[PATH_MAX], real_vols[PATH_MAX], id[256];
  if (!realpath(qemu_path(st, vols, "volumes"), real_vols))
    return ferry_error(errno, "%s: %s", vols, strerror(errno));
  snprintf(id, sizeof id, "%s", volume_id);
  for (int depth = 0; depth < MAX_CHAIN; depth++) {
    json_object *j, *fs, *data, *df;
    int r = qemu_img_info(st, id, &j);
    if (r < 0)
      return r;
    if (json_object_object_get_ex(j, "format-specific", &fs) &&
        json_object_object_get_ex(fs, "data", &data) &&
        json_object_object_get_ex(data, "data-file", &df)) {
      json_object_put(j);
      return ferry_error(EPERM, "volume '%s' keeps its data in another file "
                         "(%s): ferry refuses images that name other files",
                         id, json_object_get_string(df));
    }
    const char *full = json_str(j, "full-backing-filename");
    const char *bfmt = json_str(j, "backing-filename-format");
    if (!full) {
      json_object_put(j);
      return 0;
    }
    char file[PATH_MAX], real[PATH_MAX], want[PATH_MAX + 256], driver[32];
    image_of_name(full, file, sizeof file);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *fmt = qemu_volume_format(base);
    snprintf(want, sizeof want, "%s/%s", real_vols, base);
    if (!strncmp(full, "json:", 5) && !bfmt) { /* the format is in there */
      json_object *o = json_tokener_parse(full + 5);
      const char *drv = json_str(o, "driver");
      snprintf(driver, sizeof driver, "%s", drv ? drv : "");
      json_object_put(o);
      bfmt = *driver ? driver : NULL;
    }
    if (!*file || !realpath(file, real) ||
        strcmp(real, want) || name_check(base, "volume id") < 0 || !fmt) {
      r = ferry_error(EPERM, "volume '%s' has the backing file '%s', which "
                      "is not a volume of this platform (%s/...): ferry "
                      "refuses to let qemu open it", id, full, real_vols);
      json_object_put(j);
      return r;
    }
    if (!bfmt || strcmp(bfmt, fmt)) {
      r = ferry_error(EPERM, "volume '%s': its backing file '%s' is %s, the "
                      "header says %s: a format qemu would have to guess is "
                      "refused", id, base, fmt, bfmt ? bfmt : "nothing");
      json_object_put(j);
      return r;
    }
    snprintf(id, sizeof id, "%s", base);
    json_object_put(j);
  }
  return ferry_error(ELOOP, "volume '%s': its backing chain is longer than "
                     "%d", volume_id, MAX_CHAIN);
}
