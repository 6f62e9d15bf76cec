/* ferry vm list|show|create|start|stop|delete */
#include <getopt.h>
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

static int vm_list(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, "vm list", EXIT_USAGE);
  struct ferry_vm_filter f = { .struct_size = sizeof f, .power_state = -1 };
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--name") && i + 1 < argc) {
      f.name_glob = argv[++i];
    } else if (!strcmp(argv[i], "--state") && i + 1 < argc) {
      enum ferry_power_state ps;
      if (ferry_power_state_parse(argv[++i], &ps) < 0) {
        cli_error("--state %s: want stopped, running, paused, suspended or "
                  "unknown", argv[i]);
        return cli_fail(o.json, "vm list", EXIT_USAGE);
      }
      f.power_state = ps;
    } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
      f.host_id = argv[++i];
    } else if (!strcmp(argv[i], "--cluster") && i + 1 < argc) {
      f.cluster_id = argv[++i];
    } else {
      cli_error("Usage: ferry vm list [--name GLOB] [--state STATE] "
                "[--host ID] [--cluster ID] [--json]");
      return cli_fail(o.json, "vm list", EXIT_USAGE);
    }
  }
  OPEN_OR_FAIL(c, o, "vm list");
  struct ferry_vm *v;
  size_t n;
  int rc = EXIT_OK;
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

static int vm_show(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0 || argc != 2) {
    cli_error("Usage: ferry vm show VM [--json]");
    return cli_fail(o.json, "vm show", EXIT_USAGE);
  }
  OPEN_OR_FAIL(c, o, "vm show");
  struct ferry_vm v;
  ferry_vm_init(&v);
  int rc = EXIT_OK;
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

/* --disk SIZE (a new volume) or --disk VOLUME (an existing one). */
static int add_disk(struct ferry_vm *vm, const char *spec)
{
  struct ferry_disk *d = ferry_vm_disks_append(vm);
  if (!d)
    return -1;
  uint64_t size;
  if (parse_size(spec, &size)) {
    d->capacity = size;
    return 0;
  }
  d->volume_id = strdup(spec);
  return d->volume_id ? 0 : -1;
}

/* --nic NETWORK[,mac=MAC][,model=MODEL] */
static int add_nic(struct ferry_vm *vm, const char *spec)
{
  struct ferry_nic *c = ferry_vm_nics_append(vm);
  if (!c)
    return -1;
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
  return 0;
}

static int vm_create(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, "vm create", EXIT_USAGE);
  static const struct option lo[] = {
    { "vcpus", required_argument, NULL, 'c' },
    { "memory", required_argument, NULL, 'm' },
    { "disk", required_argument, NULL, 'd' },
    { "nic", required_argument, NULL, 'n' },
    { "firmware", required_argument, NULL, 'f' },
    { "machine", required_argument, NULL, 'M' },
    { NULL, 0, NULL, 0 },
  };
  struct ferry_vm spec;
  ferry_vm_init(&spec);
  bool bad = false;
  int ch;
  unsigned u;
  uint64_t mem;
  optind = 1;
  while (!bad && (ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (ch) {
    case 'c':
      if (!parse_uint(optarg, &u) || !u || u > 1024)
        bad = true, cli_error("--vcpus wants 1 to 1024");
      spec.vcpus = u;
      break;
    case 'm': /* MiB, or a size with a unit */
      if (parse_uint(optarg, &u) && u)
        spec.memory_mib = u;
      else if (parse_size(optarg, &mem) && mem >= (1 << 20))
        spec.memory_mib = mem >> 20;
      else
        bad = true, cli_error("--memory wants MiB or a size like 1G");
      break;
    case 'd':
      if (add_disk(&spec, optarg) < 0)
        bad = true, cli_error("out of memory");
      break;
    case 'n':
      if (add_nic(&spec, optarg) < 0)
        bad = true, cli_error("out of memory");
      break;
    case 'f':
      if (ferry_firmware_parse(optarg, &spec.firmware) < 0)
        bad = true, cli_error("--firmware wants bios or uefi");
      break;
    case 'M':
      free(spec.machine);
      spec.machine = strdup(optarg);
      break;
    default:
      bad = true;
      cli_error("Usage: ferry vm create NAME [--vcpus N] [--memory MIB] "
                "[--disk SIZE|VOLUME]... [--nic NETWORK[,mac=MAC]]... "
                "[--firmware bios|uefi] [--machine TYPE]");
    }
  }
  if (!bad && argc - optind != 1)
    bad = true, cli_error("Usage: ferry vm create NAME [OPTIONS] (see "
                          "'ferry vm --help')");
  if (bad) {
    ferry_vm_dispose(&spec);
    return cli_fail(o.json, "vm create", EXIT_USAGE);
  }
  spec.name = strdup(argv[optind]);
  client_t *c = platform_open(o.platform, &o);
  if (!c) {
    ferry_vm_dispose(&spec);
    return cli_fail(o.json, "vm create", EXIT_USAGE);
  }
  struct ferry_vm v;
  ferry_vm_init(&v);
  int rc = EXIT_OK;
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

/* start, resume, stop and delete: one VM, one call, a JSON {"ok": true} or text. */
static int vm_simple(int argc, char **argv, const char *cmd)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, cmd, EXIT_USAGE);
  int timeout = 60;
  unsigned flags = 0, t;
  const char *vm = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(cmd, "vm stop") && !strcmp(argv[i], "--force"))
      flags |= FERRY_STOP_FORCE;
    else if (!strcmp(cmd, "vm stop") && !strcmp(argv[i], "--timeout") &&
             i + 1 < argc && parse_uint(argv[i + 1], &t))
      timeout = t, i++;
    else if (!vm && argv[i][0] != '-')
      vm = argv[i];
    else
      vm = NULL, i = argc;
  }
  if (!vm) {
    cli_error("Usage: ferry %s VM%s", cmd,
              !strcmp(cmd, "vm stop") ? " [--timeout SECONDS] [--force]" : "");
    return cli_fail(o.json, cmd, EXIT_USAGE);
  }
  OPEN_OR_FAIL(c, o, cmd);
  int r = !strcmp(cmd, "vm start") ? ferry_start_vm(c, vm)
        : !strcmp(cmd, "vm resume") ? ferry_resume_vm(c, vm)
        : !strcmp(cmd, "vm stop") ? ferry_stop_vm(c, vm, timeout, flags)
        : ferry_delete_vm(c, vm);
  int rc = EXIT_OK;
  if (r < 0) {
    rc = lib_fail(o.json, cmd);
  } else if (o.json) {
    json_ok("vm", vm, NULL);
  }
  destroy_client(c);
  return rc;
}

static int vm_start(int argc, char **argv) { return vm_simple(argc, argv, "vm start"); }
static int vm_resume(int argc, char **argv) { return vm_simple(argc, argv, "vm resume"); }
static int vm_stop(int argc, char **argv) { return vm_simple(argc, argv, "vm stop"); }
static int vm_delete(int argc, char **argv) { return vm_simple(argc, argv, "vm delete"); }

int cmd_vm(int argc, char **argv)
{
  static const struct subcommand subs[] = {
    { "list", vm_list, "list [--name GLOB] [--state STATE] [--host ID] "
                       "[--cluster ID]" },
    { "show", vm_show, "show VM" },
    { "create", vm_create, "create NAME [--vcpus N] [--memory MIB] "
      "[--disk SIZE|VOLUME]... [--nic NETWORK[,mac=MAC]]... "
      "[--firmware bios|uefi] [--machine TYPE]" },
    { "start", vm_start, "start VM" },
    { "resume", vm_resume, "resume VM   (a paused VM runs again)" },
    { "stop", vm_stop, "stop VM [--timeout SECONDS] [--force]" },
    { "delete", vm_delete, "delete VM   (its volumes stay; see 'ferry volume')" },
  };
  return run_subcommand("vm", subs, sizeof subs / sizeof subs[0], argc, argv);
}
