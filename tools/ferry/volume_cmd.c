/* ferry volume list|create|delete */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "platform_cli.h"

static int volume_list(const struct cli_command *self, int argc, char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, NULL, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "volume list", EXIT_USAGE);
  struct ferry_volume_info *v;
  size_t n;
  rc = EXIT_OK;
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

static int volume_create(const struct cli_command *self, int argc,
                         char **argv)
{
  const char *fmt = NULL; /* the platform's */
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &fmt, &o, &rc))
    return rc;
  struct ferry_disk d;
  ferry_disk_init(&d);
  d.volume_id = argv[1];
  if (!parse_size(argv[2], &d.capacity)) {
    cli_error("SIZE wants a size like 16M, not '%s'", argv[2]);
    return cli_fail(o.json, "volume create", EXIT_USAGE);
  }
  d.format = (char *)fmt;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "volume create", EXIT_USAGE);
  struct ferry_volume_info v;
  ferry_volume_info_init(&v);
  rc = EXIT_OK;
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

static int volume_delete(const struct cli_command *self, int argc,
                         char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, NULL, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "volume delete", EXIT_USAGE);
  rc = EXIT_OK;
  if (ferry_delete_volume(c, argv[1]) < 0) {
    rc = lib_fail(o.json, "volume delete");
  } else if (o.json) {
    json_ok("volume", argv[1], NULL);
  }
  destroy_client(c);
  return rc;
}

static const struct cli_command volume_list_cmd = {
  .name = "volume list",
  .json = "a list of volume_info objects",
  .summary = "Lists the volumes: id, format, capacity and what is allocated.",
  .common = CLI_PLATFORM_COMMAND | CLI_READS, .run = volume_list,
};

static const struct cli_command volume_create_cmd = {
  .name = "volume create",
  .json = "a volume_info object",
  .summary = "Creates an empty volume.",
  .operands = (const struct cli_operand[]){
    { "NAME", "the new volume's id" },
    { "SIZE", "its capacity, e.g. 16M or 2G" },
    { NULL, NULL },
  },
  .options = { (const struct cli_opt[]){
    { "format", "qcow2|raw", "the volume's format (default: the "
      "platform's, qcow2 but on ELF)",
      cli_set_string, 0 /* opts: the string itself */, NULL },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND, .run = volume_create,
};

static const struct cli_command volume_delete_cmd = {
  .name = "volume delete",
  .json = "{ok, volume}",
  .summary = "Deletes a volume; refused while a VM uses it.",
  .operands = (const struct cli_operand[]){
    { "NAME", "the volume's id" },
    { NULL, NULL },
  },
  .common = CLI_PLATFORM_COMMAND, .run = volume_delete,
};

int cmd_volume(int argc, char **argv)
{
  static const struct cli_command *const subs[] = {
    &volume_list_cmd, &volume_create_cmd, &volume_delete_cmd,
  };
  return run_subcommand("volume", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
