/* ferry vmware thumbprint: the seed's GetthumbPrint_esxi/_vcenter. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ferry/vmware.h>

#include "platform_cli.h"

static const char usage[] =
    "Usage: ferry vmware thumbprint HOST[:PORT] [--vcenter|--esxi] [--json]\n";

static int thumbprint(int argc, char **argv)
{
  struct common_opts o = { 0 };
  if (common_opts_take(&argc, argv, &o) < 0)
    return cli_fail(o.json, "vmware thumbprint", EXIT_USAGE);
  if (o.help) {
    printf("%s\n"
           "Prints the SHA-1 thumbprint of the certificate a vCenter or ESXi\n"
           "host presents, for vmware://...?thumbprint=. --vcenter or --esxi\n"
           "also checks the kind of server. Trusting what this prints is\n"
           "trust on first use: compare it with the thumbprint the server's\n"
           "console shows before you rely on it.\n", usage);
    return EXIT_OK;
  }
  const char *host = NULL, *kind = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--vcenter") || !strcmp(argv[i], "--esxi"))
      kind = argv[i] + 2;
    else if (!host && argv[i][0] != '-')
      host = argv[i];
    else {
      cli_error("%s", usage);
      return cli_fail(o.json, "vmware thumbprint", EXIT_USAGE);
    }
  }
  if (!host) {
    cli_error("%s", usage);
    return cli_fail(o.json, "vmware thumbprint", EXIT_USAGE);
  }
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

int cmd_vmware(int argc, char **argv)
{
  static const struct subcommand subs[] = {
    { "thumbprint", thumbprint, "thumbprint HOST[:PORT] [--vcenter|--esxi]" },
  };
  return run_subcommand("vmware", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
