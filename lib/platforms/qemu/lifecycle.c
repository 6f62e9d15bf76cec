/* Starting and stopping a VM's qemu. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../core/error.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "../../qmp/qmp.h"
#include "qemu.h"

#define OVMF "/usr/share/ovmf/OVMF.fd"
#define MAX_ARGS 256

struct argv {
  char *v[MAX_ARGS];
  int n;
  bool full;
};

static void arg(struct argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void arg(struct argv *a, const char *fmt, ...)
{
  if (a->n >= MAX_ARGS - 1) {
    a->full = true;
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&a->v[a->n], fmt, ap) >= 0)
    a->n++;
  else
    a->full = true;
  va_end(ap);
}

static void argv_free(struct argv *a)
{
  for (int i = 0; i < a->n; i++)
    free(a->v[i]);
}

/* -blockdev in JSON form: paths may hold commas, which the key=value
 * syntax would need escaped. */
static void blockdev_args(struct argv *a, const struct qemu_state *st,
                          const struct ferry_disk *d, int index)
{
  char path[PATH_MAX];
  if (qemu_volume_path(st, d->volume_id, path) < 0) { /* checked before */
    a->full = true;
    return;
  }
  json_object *file = json_object_new_object();
  json_object_object_add(file, "driver", json_object_new_string("file"));
  json_object_object_add(file, "filename", json_object_new_string(path));
  char node[160];
  snprintf(node, sizeof node, "file-%s", d->device);
  json_object_object_add(file, "node-name", json_object_new_string(node));
  json_object *fmt = json_object_new_object();
  /* The id's format, whatever a hand-edited definition says. */
  json_object_object_add(fmt, "driver", json_object_new_string(
      qemu_volume_format(d->volume_id)));
  json_object_object_add(fmt, "file", json_object_new_string(node));
  json_object_object_add(fmt, "node-name", json_object_new_string(d->device));
  arg(a, "-blockdev");
  arg(a, "%s", json_object_to_json_string_ext(file, JSON_C_TO_STRING_PLAIN));
  arg(a, "-blockdev");
  arg(a, "%s", json_object_to_json_string_ext(fmt, JSON_C_TO_STRING_PLAIN));
  json_object_put(file);
  json_object_put(fmt);
  char boot[32] = "";
  if (d->boot_order > 0)
    snprintf(boot, sizeof boot, ",bootindex=%" PRId64, d->boot_order);
  arg(a, "-device");
  switch (d->bus) {
  case FERRY_DISK_BUS_SATA:
    arg(a, "ide-hd,drive=%s,id=%s,bus=ide.%d%s", d->device, d->device, index,
        boot);
    break;
  case FERRY_DISK_BUS_SCSI:
    arg(a, "scsi-hd,drive=%s,id=%s,bus=%s.0%s", d->device, d->device,
        qemu_scsi_controller(d->controller), boot);
    break;
  case FERRY_DISK_BUS_IDE: /* q35's IDE buses are its AHCI's */
    arg(a, "ide-hd,drive=%s,id=%s,bus=ide.%d%s", d->device, d->device, index,
        boot);
    break;
  default:
    arg(a, "virtio-blk-pci,drive=%s,id=%s%s", d->device, d->device, boot);
    break;
  }
}

/* A value inside a qemu option: commas are doubled. */
static const char *esc(const char *in, char *out, size_t len)
{
  size_t w = 0;
  for (; *in && w + 2 < len; in++) {
    if (*in == ',')
      out[w++] = ',';
    out[w++] = *in;
  }
  out[w] = '\0';
  return out;
}

/* Nothing from the definition reaches qemu (or a path) unchecked, down
 * to every layer of every image. */
static int launch_check(const struct qemu_state *st, const struct ferry_vm *vm)
{
  int r = qemu_vm_check(st, vm);
  if (r == 0)
    r = qemu_machine_check(vm->machine);
  for (size_t i = 0; r == 0 && i < vm->n_disks; i++)
    if ((r = qemu_chain_check(st, vm->disks[i].volume_id)) < 0)
      ferry_error_prefix("disk %s: ", vm->disks[i].device);
  return r < 0 ? ferry_error_prefix("start VM %s: ", vm->name) : 0;
}

static int launch(const struct qemu_state *st, const struct ferry_vm *vm,
                  bool paused, int incoming_fd)
{
  char e1[2 * PATH_MAX];
  char run[PATH_MAX], tmp[PATH_MAX];
  int r;
  if ((r = statefile_mkdirs(qemu_path(st, run, "run/%s", vm->uuid))) < 0)
    return r;
  struct argv a = { 0 };
  arg(&a, "qemu-system-x86_64");
  arg(&a, "-name");
  arg(&a, "guest=%s", esc(vm->name, e1, sizeof e1));
  arg(&a, "-uuid");
  arg(&a, "%s", vm->uuid);
  arg(&a, "-machine");
  /* TCG by default: KVM is an opt-in speed-up (?accel=kvm). */
  arg(&a, "%s,accel=%s", vm->machine && *vm->machine ? vm->machine : "q35",
      st->accel);
  arg(&a, "-m");
  arg(&a, "%" PRIu64 "M", vm->memory_mib ? vm->memory_mib : 256);
  arg(&a, "-smp");
  arg(&a, "%" PRId64, vm->vcpus > 0 ? vm->vcpus : 1);
  arg(&a, "-nodefaults");
  arg(&a, "-no-user-config");
  arg(&a, "-display");
  arg(&a, "none");
  arg(&a, "-serial");
  snprintf(tmp, sizeof tmp, "%s/serial.log", run);
  arg(&a, "file:%s", esc(tmp, e1, sizeof e1));
  if (vm->firmware == FERRY_FIRMWARE_UEFI) {
    if (access(OVMF, R_OK) < 0) {
      argv_free(&a);
      return ferry_error(ENOTSUP, "VM %s wants UEFI, but %s is missing "
                         "(install Debian's ovmf)", vm->name, OVMF);
    }
    arg(&a, "-bios");
    arg(&a, OVMF);
  }
  /* One controller of each SCSI model the disks name (its id is the
   * model's: the disks' bus=ID.0). */
  for (size_t i = 0; i < vm->n_disks; i++) {
    const struct ferry_disk *d = &vm->disks[i];
    bool first = d->bus == FERRY_DISK_BUS_SCSI;
    for (size_t k = 0; first && k < i; k++)
      first = vm->disks[k].bus != FERRY_DISK_BUS_SCSI ||
              strcmp(qemu_scsi_controller(vm->disks[k].controller),
                     qemu_scsi_controller(d->controller));
    if (first) {
      const char *id = qemu_scsi_controller(d->controller);
      arg(&a, "-device");
      arg(&a, "%s,id=%s", qemu_scsi_device(id), id);
    }
  }
  for (size_t i = 0; i < vm->n_disks; i++)
    blockdev_args(&a, st, &vm->disks[i], (int)i);
  for (size_t i = 0; i < vm->n_nics; i++) {
    /* User networking restricted to the guest: no traffic leaves it. */
    arg(&a, "-netdev");
    arg(&a, "user,id=net%zu,restrict=on", i);
    arg(&a, "-device");
    arg(&a, "%s,netdev=net%zu,mac=%s",
        vm->nics[i].model && *vm->nics[i].model ? vm->nics[i].model
                                                : "virtio-net-pci",
        i, vm->nics[i].mac);
  }
  snprintf(tmp, sizeof tmp, "%s/qmp.sock", run);
  arg(&a, "-qmp");
  arg(&a, "unix:%s,server=on,wait=off", esc(tmp, e1, sizeof e1));
  snprintf(tmp, sizeof tmp, "%s/qmp-status.sock", run);
  arg(&a, "-qmp");
  arg(&a, "unix:%s,server=on,wait=off", esc(tmp, e1, sizeof e1));
  arg(&a, "-pidfile");
  arg(&a, "%s/qemu.pid", run);
  arg(&a, "-daemonize");
  if (paused || incoming_fd >= 0)
    arg(&a, "-S");
  if (incoming_fd >= 0) {
    arg(&a, "-incoming");
    arg(&a, "defer");
  }
  if (a.full) {
    argv_free(&a);
    return ferry_error(E2BIG, "VM %s: too many devices for one command line",
                       vm->name);
  }
  /* Stale sockets of a qemu that died would make its monitors fail. */
  unlink(qemu_path(st, tmp, "run/%s/qmp.sock", vm->uuid));
  unlink(qemu_path(st, tmp, "run/%s/qmp-status.sock", vm->uuid));
  r = run_command(a.v, NULL); /* returns once qemu has daemonized */
  argv_free(&a);
  if (r < 0)
    return ferry_error_prefix("start VM %s: ", vm->name);
  if (incoming_fd < 0)
    return 0;

  /* Load the saved RAM: getfd, migrate-incoming, wait for it to finish. */
  struct qmp *q;
  if ((r = qemu_qmp(st, vm->uuid, 10000, &q)) < 0)
    return r;
  json_object *args = json_object_new_object();
  json_object_object_add(args, "uri", json_object_new_string("fd:ferry-ram"));
  r = qmp_getfd(q, "ferry-ram", incoming_fd, 10000);
  if (r == 0)
    r = qmp_execute(q, "migrate-incoming", args, NULL, 10000);
  json_object_put(args);
  for (int waited = 0; r == 0; waited += 50) {
    json_object *ret = NULL, *s;
    if ((r = qmp_execute(q, "query-status", NULL, &ret, 10000)) < 0)
      break;
    bool in = json_object_object_get_ex(ret, "status", &s) &&
              !strcmp(json_object_get_string(s), "inmigrate");
    json_object_put(ret);
    if (!in)
      break;
    if (waited > 600000) {
      r = ferry_error(ETIMEDOUT, "VM %s: loading its RAM took over 10 "
                      "minutes", vm->name);
      break;
    }
    nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
  }
  if (r == 0 && !paused)
    r = qmp_execute(q, "cont", NULL, NULL, 10000);
  qmp_close(q);
  if (r < 0) {
    ferry_error_prefix("VM %s: restore RAM: ", vm->name);
    qemu_shutdown(st, vm, 0, true);
    return r;
  }
  return 0;
}

/* Launched with its disks' conversion locks held: no conversion of them
 * begins until the VM runs (then the conversion sees it running). */
int qemu_launch(const struct qemu_state *st, const struct ferry_vm *vm,
                bool paused, int incoming_fd)
{
  int r = launch_check(st, vm); /* the lock paths hold its volume ids */
  if (r < 0)
    return r;
  int *fds = calloc(vm->n_disks ? vm->n_disks : 1, sizeof *fds);
  if (!fds)
    return ferry_error(ENOMEM, "out of memory");
  r = qemu_conversions_hold(st, vm, fds);
  if (r == 0) {
    r = launch(st, vm, paused, incoming_fd);
    qemu_conversions_release(fds, vm->n_disks);
  } else {
    ferry_error_prefix("start VM %s: ", vm->name);
  }
  free(fds);
  return r;
}

static bool wait_exit(const struct qemu_state *st, const char *uuid,
                      int timeout_ms)
{
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    if (!qemu_running_pid(st, uuid))
      return true;
    nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
  }
  return false;
}

int qemu_shutdown(const struct qemu_state *st, const struct ferry_vm *vm,
                  int timeout_s, bool force)
{
  pid_t pid = qemu_running_pid(st, vm->uuid);
  if (!pid)
    return 0;
  struct qmp *q = NULL;
  qemu_qmp(st, vm->uuid, 5000, &q);
  if (!force && q && timeout_s > 0) {
    qmp_execute(q, "system_powerdown", NULL, NULL, 5000);
    if (wait_exit(st, vm->uuid, timeout_s * 1000)) {
      qmp_close(q);
      return 0;
    }
  }
  if (q) /* the guest did not stop in time: power off */
    qmp_execute(q, "quit", NULL, NULL, 5000);
  qmp_close(q);
  if (!wait_exit(st, vm->uuid, 5000)) {
    kill(pid, SIGKILL);
    if (!wait_exit(st, vm->uuid, 5000))
      return ferry_error(EBUSY, "VM %s: qemu (pid %d) does not exit",
                         vm->name, (int)pid);
  }
  return 0;
}
