/* ferry network list|create|delete: the networks VMs' NICs are on (and a
 * migration's network map names), without editing files by hand. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "platform_cli.h"

static int network_list(const struct cli_command *self, int argc,
                        char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, NULL, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, self->name, EXIT_USAGE);
  struct ferry_vlan *v;
  size_t n;
  rc = EXIT_OK;
  if (ferry_vlans(c, &v, &n) < 0) {
    rc = lib_fail(o.json, self->name);
  } else {
    if (o.json)
      json_print(LIST_TO_JSON(vlan, v, n));
    for (size_t i = 0; !o.json && i < n; i++) {
      char tag[32] = "untagged";
      if (v[i].vlan_id >= 0)
        snprintf(tag, sizeof tag, "VLAN %" PRId64, v[i].vlan_id);
      printf("%-24s %-24s %s\n", v[i].id, v[i].name ? v[i].name : "", tag);
    }
    ferry_vlan_list_free(v, n);
  }
  destroy_client(c);
  return rc;
}

struct create_opts {
  const char *name;
  int64_t vlan; /* -1: untagged */
};

static bool set_vlan(const struct cli_opt *opt, void *opts, const char *value)
{
  (void)opt;
  char *end;
  long long t = strtoll(value, &end, 10);
  if (!*value || *end || t < 1 || t > 4094)
    return false;
  ((struct create_opts *)opts)->vlan = t;
  return true;
}

/* create and delete: one network, one call. */
static int network_change(const struct cli_command *self, int argc,
                          char **argv)
{
  struct create_opts co = { NULL, -1 };
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &co, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, self->name, EXIT_USAGE);
  bool create = !strcmp(self->name, "network create");
  struct ferry_vlan spec;
  ferry_vlan_init(&spec);
  spec.id = argv[1];
  spec.name = (char *)(co.name ? co.name : argv[1]);
  spec.vlan_id = co.vlan;
  int r = create ? ferry_create_vlan(c, &spec) : ferry_delete_vlan(c, argv[1]);
  rc = EXIT_OK;
  if (r < 0)
    rc = lib_fail(o.json, self->name);
  else if (o.json)
    json_ok("network", argv[1], NULL);
  else
    printf("network '%s' %s\n", argv[1], create ? "created" : "deleted");
  destroy_client(c);
  return rc;
}

static const struct cli_operand id_operand[] = {
  { "ID", "the network's id, as NICs and network maps name it" },
  { NULL, NULL },
};

static const struct cli_command network_list_cmd = {
  .name = "network list",
  .json = "a list of vlan objects",
  .summary = "Lists the networks: id, name and VLAN tag.",
  .common = CLI_PLATFORM_COMMAND | CLI_READS, .run = network_list,
};

static const struct cli_command network_create_cmd = {
  .name = "network create",
  .json = "{ok, network}",
  .summary = "Creates a network for VMs' NICs.",
  .operands = id_operand,
  .options = { (const struct cli_opt[]){
    { "name", "NAME", "its display name (default: the id)", cli_set_string,
      offsetof(struct create_opts, name), NULL },
    { "vlan", "TAG", "its 802.1Q tag, 1..4094 (default: untagged)", set_vlan,
      0, "a tag in 1..4094" },
    CLI_OPT_END,
  } },
  .common = CLI_PLATFORM_COMMAND, .run = network_change,
};

static const struct cli_command network_delete_cmd = {
  .name = "network delete",
  .json = "{ok, network}",
  .summary = "Deletes a network; refused while a VM's NIC is on it.",
  .operands = id_operand,
  .common = CLI_PLATFORM_COMMAND, .run = network_change,
};

int cmd_network(int argc, char **argv)
{
  static const struct cli_command *const subs[] = {
    &network_list_cmd, &network_create_cmd, &network_delete_cmd,
  };
  return run_subcommand("network", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
