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

static int snap_create(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, "snapshot create", EXIT_USAGE);
  struct ferry_snapshot_spec spec = { .struct_size = sizeof spec };
  const char *vm = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--memory"))
      spec.flags |= FERRY_SNAPSHOT_MEMORY;
    else if (!strcmp(argv[i], "--external"))
      spec.flags |= FERRY_SNAPSHOT_EXTERNAL;
    else if (!strcmp(argv[i], "--description") && i + 1 < argc)
      spec.description = argv[++i];
    else if (!vm && argv[i][0] != '-')
      vm = argv[i];
    else if (!spec.name && argv[i][0] != '-')
      spec.name = argv[i];
    else
      vm = NULL, i = argc;
  }
  if (!vm || !spec.name) {
    cli_error("Usage: ferry snapshot create VM NAME [--memory] "
              "[--description TEXT]");
    return cli_fail(o.json, "snapshot create", EXIT_USAGE);
  }
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "snapshot create", EXIT_USAGE);
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  int rc = EXIT_OK;
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

static int snap_list(int argc, char **argv)
{
  struct common_opts o = { 0 };
  bool tree = false;
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, "snapshot list", EXIT_USAGE);
  const char *vm = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tree"))
      tree = true;
    else if (!vm && argv[i][0] != '-')
      vm = argv[i];
    else
      vm = NULL, i = argc;
  }
  if (!vm) {
    cli_error("Usage: ferry snapshot list VM [--tree] [--json]");
    return cli_fail(o.json, "snapshot list", EXIT_USAGE);
  }
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "snapshot list", EXIT_USAGE);
  struct ferry_domain_snapshot *v = NULL;
  size_t n = 0;
  char *cur = NULL;
  int rc = EXIT_OK;
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

static int snap_show(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0 || argc != 3) {
    cli_error("Usage: ferry snapshot show VM NAME [--json]");
    return cli_fail(o.json, "snapshot show", EXIT_USAGE);
  }
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "snapshot show", EXIT_USAGE);
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  int rc = EXIT_OK;
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

/* delete and revert: VM NAME [--force]. */
static int snap_change(int argc, char **argv, const char *cmd)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, cmd, EXIT_USAGE);
  unsigned flags = 0;
  const char *vm = NULL, *name = NULL;
  bool bad = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(cmd, "snapshot revert") && !strcmp(argv[i], "--force"))
      flags |= FERRY_REVERT_FORCE;
    else if (!vm && argv[i][0] != '-')
      vm = argv[i];
    else if (!name && argv[i][0] != '-')
      name = argv[i];
    else
      bad = true;
  }
  if (bad || !vm || !name) {
    cli_error("Usage: ferry %s VM NAME%s", cmd,
              !strcmp(cmd, "snapshot revert") ? " [--force]" : "");
    return cli_fail(o.json, cmd, EXIT_USAGE);
  }
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, cmd, EXIT_USAGE);
  int r = !strcmp(cmd, "snapshot revert")
              ? ferry_snapshot_revert(c, vm, name, flags)
              : ferry_snapshot_delete(c, vm, name);
  int rc = EXIT_OK;
  if (r < 0) {
    rc = lib_fail(o.json, cmd);
  } else if (o.json) {
    json_ok("vm", vm, "snapshot", name, NULL);
  }
  destroy_client(c);
  return rc;
}

static int snap_delete(int argc, char **argv)
{
  return snap_change(argc, argv, "snapshot delete");
}

static int snap_revert(int argc, char **argv)
{
  return snap_change(argc, argv, "snapshot revert");
}

int cmd_snapshot(int argc, char **argv)
{
  static const struct subcommand subs[] = {
    { "create", snap_create, "create VM NAME [--memory] [--description TEXT]" },
    { "list", snap_list, "list VM [--tree]" },
    { "show", snap_show, "show VM NAME" },
    { "delete", snap_delete, "delete VM NAME" },
    { "revert", snap_revert, "revert VM NAME [--force]   (--force stops a "
      "running VM first)" },
  };
  return run_subcommand("snapshot", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
