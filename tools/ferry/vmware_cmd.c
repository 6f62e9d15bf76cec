/* ferry vmware thumbprint: the seed's GetthumbPrint_esxi/_vcenter. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ferry/vmware.h>

#include "platform_cli.h"

/* --vcenter and --esxi: the kind of server it must be. */
static bool set_kind(const struct cli_opt *opt, void *kind, const char *value)
{
  (void)value;
  *(const char **)kind = opt->name;
  return true;
}

static int thumbprint(const struct cli_command *self, int argc, char **argv)
{
  const char *kind = NULL;
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, &kind, &o, &rc))
    return rc;
  const char *host = argv[1];
  char thumb[80];
  int r = kind && !strcmp(kind, "esxi")
              ? ferry_get_thumbprint_esxi(host, thumb, sizeof thumb)
              : ferry_get_thumbprint_vcenter(host, thumb, sizeof thumb);
  if (r < 0 && !kind && ferry_last_errno() == EPROTO)
    r = ferry_get_thumbprint_esxi(host, thumb, sizeof thumb);
  if (r < 0)
    return lib_fail(o.json, "vmware thumbprint");
  fprintf(stderr, "ferry: warning: trusting this thumbprint is trust on "
                  "first use: check it against the server's console\n");
  if (o.json)
    json_ok("host", host, "thumbprint", thumb, NULL);
  else
    printf("%s\n", thumb);
  return EXIT_OK;
}

static const struct cli_command thumbprint_cmd = {
  .name = "vmware thumbprint",
  .json = "{ok, host, thumbprint}",
  .summary = "Prints the SHA-1 thumbprint of the certificate a vCenter or "
             "ESXi host presents, for vmware://...?thumbprint=.",
  .about = "Trusting what this prints is trust on first use: compare it with\n"
           "the thumbprint the server's console shows before you rely on it.\n",
  .operands = (const struct cli_operand[]){
    { "HOST[:PORT]", "the server (port 443 unless given)" },
    { NULL, NULL },
  },
  .options = { (const struct cli_opt[]){
    { "vcenter", NULL, "check that the server is a vCenter", set_kind, 0,
      NULL },
    { "esxi", NULL, "check that the server is an ESXi host", set_kind, 0,
      NULL },
    CLI_OPT_END,
  } },
  .run = thumbprint,
};

int cmd_vmware(int argc, char **argv)
{
  static const struct cli_command *const subs[] = { &thumbprint_cmd };
  return run_subcommand("vmware", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
