/* ferry volume list|create|delete */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "platform_cli.h"

static int volume_list(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0 || argc != 1) {
    cli_error("Usage: ferry volume list [--json]");
    return cli_fail(o.json, "volume list", EXIT_USAGE);
  }
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "volume list", EXIT_USAGE);
  struct ferry_volume_info *v;
  size_t n;
  int rc = EXIT_OK;
  if (ferry_volumes(c, &v, &n) < 0) {
    rc = lib_fail(o.json, "volume list");
  } else {
    if (o.json)
      json_print(LIST_TO_JSON(volume_info, v, n));
    for (size_t i = 0; !o.json && i < n; i++) {
      char cap[32], al[32];
      human_size(v[i].capacity, cap, sizeof cap);
      human_size(v[i].allocated, al, sizeof al);
      printf("%-32s %-6s %10s  (%s allocated)\n", v[i].id, v[i].format, cap,
             al);
    }
    ferry_volume_info_list_free(v, n);
  }
  destroy_client(c);
  return rc;
}

static int volume_create(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, "volume create", EXIT_USAGE);
  struct ferry_disk d;
  ferry_disk_init(&d);
  const char *fmt = "qcow2";
  int ops = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--format") && i + 1 < argc)
      fmt = argv[++i];
    else if (ops == 0 && argv[i][0] != '-' && ++ops)
      d.volume_id = argv[i];
    else if (ops == 1 && parse_size(argv[i], &d.capacity) && ++ops)
      ;
    else
      ops = -1, i = argc;
  }
  if (ops != 2) {
    cli_error("Usage: ferry volume create NAME SIZE [--format qcow2|raw]");
    return cli_fail(o.json, "volume create", EXIT_USAGE);
  }
  d.format = (char *)fmt;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "volume create", EXIT_USAGE);
  struct ferry_volume_info v;
  ferry_volume_info_init(&v);
  int rc = EXIT_OK;
  if (ferry_create_volume(c, &d, &v) < 0)
    rc = lib_fail(o.json, "volume create");
  else if (o.json)
    json_print(ferry_volume_info_to_jsonc(&v));
  else
    printf("created %s (%s, %" PRIu64 " bytes)\n", v.id, v.format, v.capacity);
  ferry_volume_info_dispose(&v);
  destroy_client(c);
  return rc;
}

static int volume_delete(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0 || argc != 2) {
    cli_error("Usage: ferry volume delete NAME");
    return cli_fail(o.json, "volume delete", EXIT_USAGE);
  }
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "volume delete", EXIT_USAGE);
  int rc = EXIT_OK;
  if (ferry_delete_volume(c, argv[1]) < 0) {
    rc = lib_fail(o.json, "volume delete");
  } else if (o.json) {
    json_ok("volume", argv[1], NULL);
  }
  destroy_client(c);
  return rc;
}

int cmd_volume(int argc, char **argv)
{
  static const struct subcommand subs[] = {
    { "list", volume_list, "list" },
    { "create", volume_create, "create NAME SIZE [--format qcow2|raw]" },
    { "delete", volume_delete, "delete NAME   (refused while a VM uses it)" },
  };
  return run_subcommand("volume", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
