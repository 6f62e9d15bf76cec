/* ferry convert VM: the guest on a stopped VM's boot disk converted to
 * boot on virtio, in place (as virt-v2v-in-place). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform_cli.h"

static const struct cli_command convert_cmd = {
  .name = "convert",
  .summary = "Converts a stopped VM's guest to boot on virtio, in place.",
  .about = "Linux: adds the virtio drivers to the guest's initramfs, names\n"
           "its root by UUID in fstab and the boot loader, and makes a NIC\n"
           "config for a VMware name match any Ethernet NIC. Windows:\n"
           "copies in virtio-win's viostor, vioscsi and netkvm (from\n"
           "--virtio-win DIR) and edits the SYSTEM hive to start them at\n"
           "boot. Prints each change. All of it or nothing: the guest is\n"
           "changed in an overlay that is committed only when the\n"
           "conversion has finished.\n",
  .operands = (const struct cli_operand[]){
    { "VM", "the VM: its name, id or uuid" },
    { NULL, NULL },
  },
  .common = CLI_PLATFORM_COMMAND,
};

int cmd_convert(int argc, char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(&convert_cmd, argc, argv, NULL, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "convert", EXIT_USAGE);
  char *report = NULL;
  rc = EXIT_OK;
  if (ferry_convert_vm(c, argv[1], &report) < 0) {
    rc = lib_fail(o.json, "convert");
  } else if (o.json) {
    json_object *j = json_object_new_object(), *a = json_object_new_array();
    for (char *l = report, *nl; l && *l; l = nl + 1) {
      nl = strchr(l, '\n');
      if (!nl)
        nl = l + strlen(l) - 1;
      json_object_array_add(a, json_object_new_string_len(l, (int)(nl - l)));
    }
    json_object_object_add(j, "ok", json_object_new_boolean(1));
    json_object_object_add(j, "vm", json_object_new_string(argv[1]));
    json_object_object_add(j, "changes", a);
    json_print(j);
  } else {
    fputs(report ? report : "", stdout);
  }
  free(report);
  destroy_client(c);
  return rc;
}
