/* ferry convert VM: the guest on a stopped VM's boot disk converted to
 * boot on virtio, in place (as virt-v2v-in-place). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "platform_cli.h"

#define CONVERT_FIELD(f) offsetof(struct ferry_convert_opts, f)

static const struct cli_opt convert_options[] = {
  { "bus", "virtio", "also move the VM's disks and NICs to virtio-blk and "
    "virtio-net once its guest is converted", cli_set_string,
    CONVERT_FIELD(bus), NULL },
  { "remove-vmware-tools", NULL, "uninstall open-vm-tools from the guest",
    cli_set_flag, CONVERT_FIELD(remove_vmware_tools), NULL },
  CLI_OPT_END,
};

static const struct cli_command convert_cmd = {
  .name = "convert",
  .json = "{ok, vm, changes}: changes is a list of lines, one per change, as the text output says them",
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
  .options = { convert_options },
  .common = CLI_PLATFORM_COMMAND,
};

int cmd_convert(int argc, char **argv)
{
  struct common_opts o;
  struct ferry_convert_opts co = { sizeof co, NULL, false };
  int rc;
  if (!cli_parse(&convert_cmd, argc, argv, &co, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "convert", EXIT_USAGE);
  char *report = NULL;
  rc = EXIT_OK;
  if (ferry_convert_vm(c, argv[1], &co, &report) < 0) {
    rc = lib_fail(o.json, "convert");
  } else if (o.json) {
    json_object *j = json_object_new_object(), *a = json_object_new_array();
    for (char *l = report; l && *l;) {
      size_t len = strcspn(l, "\n");
      json_object_array_add(a, json_object_new_string_len(l, (int)len));
      l += len + (l[len] == '\n');
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
