/* ferry vm list|show|create|start|stop|delete */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform_cli.h"

static const char *s(const char *x) { return x ? x : "-"; }

/* Opens the platform or returns the usage/failed exit code. */
#define OPEN_OR_FAIL(c, o, cmd)                                               \
  client_t *c = platform_open((o).platform, &(o));                                  \
  if (!c)                                                                     \
    return cli_fail((o).json, cmd, EXIT_USAGE)

static void print_vm(const struct ferry_vm *v)
{
  printf("name:      %s\nuuid:      %s\nstate:     %s\nvcpus:     %" PRId64
         "\nmemory:    %" PRIu64 " MiB\nfirmware:  %s\nmachine:   %s\n",
         s(v->name), s(v->uuid), ferry_power_state_name(v->power_state),
         v->vcpus, v->memory_mib, ferry_firmware_name(v->firmware),
         s(v->machine));
  for (size_t i = 0; i < v->n_disks; i++) {
    const struct ferry_disk *d = &v->disks[i];
    printf("disk:      %s %s %s %" PRIu64 " bytes %s%s\n", s(d->device),
           ferry_disk_bus_name(d->bus), s(d->volume_id), d->capacity,
           s(d->format), d->boot_order > 0 ? " (boot)" : "");
  }
  for (size_t i = 0; i < v->n_nics; i++)
    printf("nic:       %s %s network %s\n", s(v->nics[i].mac),
           s(v->nics[i].model), s(v->nics[i].network));
}

static bool set_state(const struct cli_opt *opt, void *opts,
                      const char *value)
{
  (void)opt;
  enum ferry_power_state ps;
  if (ferry_power_state_parse(value, &ps) < 0)
    return false;
  ((struct ferry_vm_filter *)opts)->power_state = ps;
  return true;
}

static int vm_list(const struct cli_command *self, int argc, char **argv)
{
  struct ferry_vm_filter f = { .struct_size = sizeof f, .power_state = -1 };
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &f, &o, &rc))
    return rc;
  OPEN_OR_FAIL(c, o, "vm list");
  struct ferry_vm *v;
  size_t n;
  rc = EXIT_OK;
  if (ferry_get_vms(c, &f, &v, &n) < 0) {
    rc = lib_fail(o.json, "vm list");
  } else {
    if (o.json)
      json_print(LIST_TO_JSON(vm, v, n));
    else
      for (size_t i = 0; i < n; i++)
        printf("%-20s %-8s %" PRId64 " vCPU %6" PRIu64 " MiB  %s\n",
               s(v[i].name), ferry_power_state_name(v[i].power_state),
               v[i].vcpus, v[i].memory_mib, s(v[i].uuid));
    ferry_vm_list_free(v, n);
  }
  destroy_client(c);
  return rc;
}

static int vm_show(const struct cli_command *self, int argc, char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, NULL, &o, &rc))
    return rc;
  OPEN_OR_FAIL(c, o, "vm show");
  struct ferry_vm v;
  ferry_vm_init(&v);
  rc = EXIT_OK;
  if (ferry_get_vm(c, argv[1], &v) < 0)
    rc = lib_fail(o.json, "vm show");
  else if (o.json)
    json_print(ferry_vm_to_jsonc(&v));
  else
    print_vm(&v);
  ferry_vm_dispose(&v);
  destroy_client(c);
  return rc;
}

/* vm create's options set the fields of the VM to create. */
static bool set_vcpus(const struct cli_opt *opt, void *vm, const char *value)
{
  (void)opt;
  unsigned u;
  if (!parse_uint(value, &u) || !u || u > 1024)
    return false;
  ((struct ferry_vm *)vm)->vcpus = u;
  return true;
}

/* MiB, or a size with a unit */
static bool set_memory(const struct cli_opt *opt, void *vm, const char *value)
{
  (void)opt;
  unsigned u;
  uint64_t mem;
  if (parse_uint(value, &u) && u)
    ((struct ferry_vm *)vm)->memory_mib = u;
  else if (parse_size(value, &mem) && mem >= (1 << 20))
    ((struct ferry_vm *)vm)->memory_mib = mem >> 20;
  else
    return false;
  return true;
}

/* --disk SIZE|VOLUME[,bus=BUS][,controller=MODEL][,boot=N]: a new volume
 * of SIZE, or the existing VOLUME, on a bus of the guest's kind. */
static bool add_disk(const struct cli_opt *opt, void *vm, const char *spec)
{
  (void)opt;
  struct ferry_disk *d = ferry_vm_disks_append(vm);
  char *copy = d ? strdup(spec) : NULL, *save = NULL;
  if (!copy) {
    cli_error("out of memory");
    return false;
  }
  bool ok = true;
  char *t = strtok_r(copy, ",", &save);
  uint64_t size;
  if (t && parse_size(t, &size))
    d->capacity = size;
  else if (t)
    d->volume_id = strdup(t);
  while (ok && (t = strtok_r(NULL, ",", &save))) {
    const char *v = strchr(t, '=') ? strchr(t, '=') + 1 : "";
    unsigned boot;
    if (!strncmp(t, "bus=", 4)) {
      ok = ferry_disk_bus_parse(v, &d->bus) == 0;
      if (!ok)
        cli_error("--disk %s: bus '%s' is not virtio, scsi, sata, ide or "
                  "nvme", spec, v);
    } else if (!strncmp(t, "controller=", 11)) {
      free(d->controller);
      d->controller = strdup(v);
    } else if (!strncmp(t, "boot=", 5) && parse_uint(v, &boot)) {
      d->boot_order = boot;
    } else {
      cli_error("--disk %s: '%s' is not bus=, controller= or boot=N", spec,
                t);
      ok = false;
    }
  }
  free(copy);
  return ok;
}

/* --nic NETWORK[,mac=MAC][,model=MODEL] */
static bool add_nic(const struct cli_opt *opt, void *vm, const char *spec)
{
  (void)opt;
  struct ferry_nic *c = ferry_vm_nics_append(vm);
  if (!c) {
    cli_error("out of memory");
    return false;
  }
  char *copy = strdup(spec), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    char **field = !strncmp(t, "mac=", 4) ? &c->mac
                 : !strncmp(t, "model=", 6) ? &c->model : &c->network;
    const char *val = strchr(t, '=') && field != &c->network ? strchr(t, '=') + 1
                                                             : t;
    free(*field);
    *field = strdup(val);
  }
  free(copy);
  return true;
}

static bool set_firmware(const struct cli_opt *opt, void *vm,
                         const char *value)
{
  (void)opt;
  return ferry_firmware_parse(value, &((struct ferry_vm *)vm)->firmware) == 0;
}

static bool set_machine(const struct cli_opt *opt, void *vm,
                        const char *value)
{
  (void)opt;
  struct ferry_vm *v = vm;
  free(v->machine);
  v->machine = strdup(value);
  return true;
}

static int vm_create(const struct cli_command *self, int argc, char **argv)
{
  struct ferry_vm spec;
  ferry_vm_init(&spec);
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &spec, &o, &rc)) {
    ferry_vm_dispose(&spec);
    return rc;
  }
  spec.name = strdup(argv[1]);
  client_t *c = platform_open(o.platform, &o);
  if (!c) {
    ferry_vm_dispose(&spec);
    return cli_fail(o.json, "vm create", EXIT_USAGE);
  }
  struct ferry_vm v;
  ferry_vm_init(&v);
  rc = EXIT_OK;
  if (ferry_create_vm(c, &spec, &v) < 0)
    rc = lib_fail(o.json, "vm create");
  else if (o.json)
    json_print(ferry_vm_to_jsonc(&v));
  else
    print_vm(&v);
  ferry_vm_dispose(&v);
  ferry_vm_dispose(&spec);
  destroy_client(c);
  return rc;
}

/* What vm stop's options set (the other simple commands take none). */
struct stop_opts {
  int timeout;
  bool force;
};

/* start, resume, stop and delete: one VM, one call, a JSON {"ok": true} or
 * text. */
static int vm_simple(const struct cli_command *self, int argc, char **argv)
{
  const char *cmd = self->name;
  struct stop_opts so = { .timeout = 60 };
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &so, &o, &rc))
    return rc;
  const char *vm = argv[1];
  OPEN_OR_FAIL(c, o, cmd);
  int r = !strcmp(cmd, "vm start") ? ferry_start_vm(c, vm)
        : !strcmp(cmd, "vm resume") ? ferry_resume_vm(c, vm)
        : !strcmp(cmd, "vm stop")
            ? ferry_stop_vm(c, vm, so.timeout, so.force ? FERRY_STOP_FORCE : 0)
        : ferry_delete_vm(c, vm);
  rc = EXIT_OK;
  if (r < 0) {
    rc = lib_fail(o.json, cmd);
  } else if (o.json) {
    json_ok("vm", vm, NULL);
  } else { /* one line of what happened, as virsh says it */
    const char *done = !strcmp(cmd, "vm start")    ? "started"
                       : !strcmp(cmd, "vm resume") ? "runs"
                       : !strcmp(cmd, "vm delete") ? "deleted"
                       : so.force || so.timeout == 0 ? "powered off"
                                                     : "stopped";
    printf("VM '%s' %s\n", vm, done);
  }
  destroy_client(c);
  return rc;
}

static const struct cli_operand vm_operand[] = {
  { "VM", "the VM: its name or UUID" },
  { NULL, NULL },
};

static const struct cli_command vm_list_cmd = {
  .name = "vm list",
  .json = "a list of vm objects",
  .summary = "Lists the VMs, all or those that match every option given.",
  .options = { (const struct cli_opt[]){
    { "name", "GLOB", "VMs whose name matches this shell pattern",
      cli_set_string, offsetof(struct ferry_vm_filter, name_glob), NULL },
    { "state", "STATE", "VMs in this power state: stopped, running, paused, "
      "suspended or unknown", set_state, 0,
      "stopped, running, paused, suspended or unknown" },
    { "host", "ID", "VMs on this host", cli_set_string,
      offsetof(struct ferry_vm_filter, host_id), NULL },
    { "cluster", "ID", "VMs in this cluster", cli_set_string,
      offsetof(struct ferry_vm_filter, cluster_id), NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND | CLI_READS, .run = vm_list,
};

static const struct cli_command vm_show_cmd = {
  .name = "vm show",
  .json = "a vm object",
  .summary = "Shows a VM: its state, CPUs, memory, firmware, disks and NICs.",
  .operands = vm_operand, .common = CLI_PLATFORM_COMMAND | CLI_READS,
  .run = vm_show,
};

static const struct cli_command vm_create_cmd = {
  .name = "vm create",
  .json = "a vm object",
  .summary = "Defines a VM, stopped; the disks given by size get new "
             "volumes.",
  .operands = (const struct cli_operand[]){
    { "NAME", "the new VM's name" },
    { NULL, NULL },
  },
  .options = { (const struct cli_opt[]){
    { "vcpus", "N", "virtual CPUs, 1 to 1024", set_vcpus, 0, "1 to 1024" },
    { "memory", "MIB", "memory in MiB, or a size like 1G", set_memory, 0,
      "MiB or a size like 1G" },
    { "disk", "SIZE|VOLUME[,bus=BUS][,controller=MODEL][,boot=N]",
      "a disk: a new volume of SIZE, or the existing VOLUME, on bus virtio "
      "(default), scsi (controller virtio-scsi, pvscsi or lsisas1068), "
      "sata or ide; once per disk", add_disk, 0, NULL },
    { "nic", "NETWORK[,mac=MAC][,model=MODEL]", "a NIC on NETWORK; once per "
      "NIC", add_nic, 0, NULL },
    { "firmware", "bios|uefi", "the firmware", set_firmware, 0,
      "bios or uefi" },
    { "machine", "TYPE", "the machine type, e.g. q35 or pc", set_machine, 0,
      NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND, .run = vm_create,
};

static const struct cli_command vm_start_cmd = {
  .name = "vm start", .summary = "Starts a stopped VM.", .json = "{ok, vm}",
  .operands = vm_operand, .common = CLI_PLATFORM_COMMAND, .run = vm_simple,
};

static const struct cli_command vm_resume_cmd = {
  .name = "vm resume", .summary = "Runs a paused VM again.",
  .json = "{ok, vm}",
  .operands = vm_operand, .common = CLI_PLATFORM_COMMAND, .run = vm_simple,
};

static const struct cli_command vm_stop_cmd = {
  .name = "vm stop",
  .json = "{ok, vm}",
  .summary = "Shuts a VM down: asks its guest, then powers it off when "
             "the timeout passes.",
  .operands = vm_operand,
  .options = { (const struct cli_opt[]){
    { "timeout", "SECONDS", "how long the guest may take to shut down "
      "(default 60)", cli_set_seconds, offsetof(struct stop_opts, timeout),
      "seconds" },
    { "force", NULL, "power off at once", cli_set_flag,
      offsetof(struct stop_opts, force), NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND, .run = vm_simple,
};

static const struct cli_command vm_delete_cmd = {
  .name = "vm delete",
  .json = "{ok, vm}",
  .summary = "Deletes a stopped VM; its volumes stay (see 'ferry volume').",
  .operands = vm_operand, .common = CLI_PLATFORM_COMMAND, .run = vm_simple,
};

int cmd_vm(int argc, char **argv)
{
  static const struct cli_command *const subs[] = {
    &vm_list_cmd, &vm_show_cmd, &vm_create_cmd, &vm_start_cmd,
    &vm_resume_cmd, &vm_stop_cmd, &vm_delete_cmd,
  };
  return run_subcommand("vm", subs, sizeof subs / sizeof subs[0], argc, argv);
}
