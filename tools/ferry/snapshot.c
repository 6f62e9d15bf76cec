/* ferry snapshot create|list|show|delete|revert */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform_cli.h"

static void when(uint64_t t, char *buf, size_t len)
{
  time_t tt = (time_t)t;
  struct tm tm;
  strftime(buf, len, "%Y-%m-%d %H:%M:%S", gmtime_r(&tt, &tm));
}

static const char *state_of(const struct ferry_domain_snapshot *s)
{
  return s->running ? "running" : s->paused ? "paused" : "shut off";
}

/* What snapshot create's options set. */
struct create_opts {
  bool memory, external;
  const char *description;
};

static int snap_create(const struct cli_command *self, int argc, char **argv)
{
  struct create_opts co = { 0 };
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &co, &o, &rc))
    return rc;
  const char *vm = argv[1];
  struct ferry_snapshot_spec spec = {
    .struct_size = sizeof spec, .name = argv[2],
    .description = co.description,
    .flags = (co.memory ? FERRY_SNAPSHOT_MEMORY : 0) |
             (co.external ? FERRY_SNAPSHOT_EXTERNAL : 0),
  };
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "snapshot create", EXIT_USAGE);
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  rc = EXIT_OK;
  if (ferry_snapshot_create(c, vm, &spec, &s) < 0)
    rc = lib_fail(o.json, "snapshot create");
  else if (o.json)
    json_print(ferry_domain_snapshot_to_jsonc(&s));
  else
    printf("snapshot %s of %s: %zu disk%s%s, VM was %s\n", s.name, vm,
           s.n_disks, s.n_disks == 1 ? "" : "s",
           s.memory && *s.memory ? " and RAM" : "", state_of(&s));
  ferry_domain_snapshot_dispose(&s);
  destroy_client(c);
  return rc;
}

/* Prints the children of `parent` ("" for roots), depth first. */
static void print_tree(const struct ferry_domain_snapshot *v, size_t n,
                       const char *parent, const char *current, int depth)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i].parent ? v[i].parent : "", parent))
      continue;
    char t[32];
    when(v[i].creation_time, t, sizeof t);
    printf("%*s%s%s  (%s, %s, %s)\n", depth * 2, "", v[i].name,
           current && !strcmp(current, v[i].name) ? " *" : "", t,
           state_of(&v[i]), v[i].memory && *v[i].memory ? "with RAM" : "disks");
    if (depth < 64) /* records cannot loop, but a hand-edited one might */
      print_tree(v, n, v[i].name, current, depth + 1);
  }
}

static int snap_list(const struct cli_command *self, int argc, char **argv)
{
  bool tree = false;
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &tree, &o, &rc))
    return rc;
  const char *vm = argv[1];
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "snapshot list", EXIT_USAGE);
  struct ferry_domain_snapshot *v = NULL;
  size_t n = 0;
  char *cur = NULL;
  rc = EXIT_OK;
  if (ferry_snapshot_list(c, vm, &v, &n) < 0 ||
      ferry_snapshot_current(c, vm, &cur) < 0) {
    rc = lib_fail(o.json, "snapshot list");
  } else if (o.json) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "current",
                           cur ? json_object_new_string(cur) : NULL);
    json_object_object_add(j, "snapshots",
                           LIST_TO_JSON(domain_snapshot, v, n));
    json_print(j);
  } else if (tree) {
    print_tree(v, n, "", cur, 0);
  } else {
    for (size_t i = 0; i < n; i++) {
      char t[32];
      when(v[i].creation_time, t, sizeof t);
      printf("%-24s %s  %-8s %-9s parent %s%s\n", v[i].name, t,
             state_of(&v[i]), v[i].memory && *v[i].memory ? "RAM+disks"
                                                          : "disks",
             v[i].parent && *v[i].parent ? v[i].parent : "-",
             cur && !strcmp(cur, v[i].name) ? "  (current)" : "");
    }
  }
  ferry_domain_snapshot_list_free(v, n);
  free(cur);
  destroy_client(c);
  return rc;
}

static int snap_show(const struct cli_command *self, int argc, char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, NULL, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "snapshot show", EXIT_USAGE);
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  rc = EXIT_OK;
  if (ferry_snapshot_get(c, argv[1], argv[2], &s) < 0) {
    rc = lib_fail(o.json, "snapshot show");
  } else if (o.json) {
    json_print(ferry_domain_snapshot_to_jsonc(&s));
  } else {
    char t[32];
    when(s.creation_time, t, sizeof t);
    printf("name:        %s\ndescription: %s\ncreated:     %s UTC\n"
           "VM state:    %s\nmemory:      %s\nparent:      %s\n", s.name,
           s.description ? s.description : "", t, state_of(&s),
           s.memory && *s.memory ? s.memory : "(disk-only)",
           s.parent && *s.parent ? s.parent : "-");
    for (size_t i = 0; i < s.n_disks; i++)
      printf("disk:        %s (%s snapshot '%s')\n", s.disks[i].device,
             s.disks[i].format ? s.disks[i].format : "?", s.disks[i].name);
  }
  ferry_domain_snapshot_dispose(&s);
  destroy_client(c);
  return rc;
}

/* delete and revert: VM NAME; revert takes --force. */
static int snap_change(const struct cli_command *self, int argc, char **argv)
{
  const char *cmd = self->name;
  bool force = false;
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &force, &o, &rc))
    return rc;
  const char *vm = argv[1], *name = argv[2];
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, cmd, EXIT_USAGE);
  int r = !strcmp(cmd, "snapshot revert")
              ? ferry_snapshot_revert(c, vm, name,
                                      force ? FERRY_REVERT_FORCE : 0)
              : ferry_snapshot_delete(c, vm, name);
  rc = EXIT_OK;
  if (r < 0) {
    rc = lib_fail(o.json, cmd);
  } else if (o.json) {
    json_ok("vm", vm, "snapshot", name, NULL);
  }
  destroy_client(c);
  return rc;
}

#define VM_OPERAND { "VM", "the VM: its name or UUID" }
static const struct cli_operand vm_operands[] = {
  VM_OPERAND, { NULL, NULL },
};
static const struct cli_operand vm_snapshot_operands[] = {
  VM_OPERAND, { "NAME", "the snapshot's name" }, { NULL, NULL },
};

static const struct cli_command snap_create_cmd = {
  .name = "snapshot create",
  .json = "a domain_snapshot object",
  .summary = "Snapshots all of a VM's disks at once, running or not.",
  .operands = vm_snapshot_operands,
  .options = { (const struct cli_opt[]){
    { "memory", NULL, "save the RAM too (the VM must run)", cli_set_flag,
      offsetof(struct create_opts, memory), NULL },
    { "external", NULL, "overlay files instead of snapshots inside the "
      "qcow2 images", cli_set_flag,
      offsetof(struct create_opts, external), NULL },
    { "description", "TEXT", "what the snapshot is for", cli_set_string,
      offsetof(struct create_opts, description), NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND, .run = snap_create,
};

static const struct cli_command snap_list_cmd = {
  .name = "snapshot list",
  .json = "{current, snapshots}: the current snapshot's name (or null) and a list of domain_snapshot objects",
  .summary = "Lists a VM's snapshots and which one is current.",
  .operands = vm_operands,
  .options = { (const struct cli_opt[]){
    { "tree", NULL, "show each snapshot under its parent", cli_set_flag,
      0 /* opts: the bool itself */, NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND | CLI_READS, .run = snap_list,
};

static const struct cli_command snap_show_cmd = {
  .name = "snapshot show",
  .json = "a domain_snapshot object",
  .summary = "Shows a snapshot: when, the VM's state, RAM, parent and disks.",
  .operands = vm_snapshot_operands,
  .common = CLI_PLATFORM_COMMAND | CLI_READS, .run = snap_show,
};

static const struct cli_command snap_delete_cmd = {
  .name = "snapshot delete",
  .json = "{ok, vm, snapshot}",
  .summary = "Deletes a snapshot of a VM.",
  .operands = vm_snapshot_operands,
  .common = CLI_PLATFORM_COMMAND, .run = snap_change,
};

static const struct cli_command snap_revert_cmd = {
  .name = "snapshot revert",
  .json = "{ok, vm, snapshot}",
  .summary = "Brings a VM back to a snapshot; refused while it runs, "
             "unless --force.",
  .operands = vm_snapshot_operands,
  .options = { (const struct cli_opt[]){
    { "force", NULL, "stop a running VM first", cli_set_flag,
      0 /* opts: the bool itself */, NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND, .run = snap_change,
};

int cmd_snapshot(int argc, char **argv)
{
  static const struct cli_command *const subs[] = {
    &snap_create_cmd, &snap_list_cmd, &snap_show_cmd, &snap_delete_cmd,
    &snap_revert_cmd,
  };
  return run_subcommand("snapshot", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
