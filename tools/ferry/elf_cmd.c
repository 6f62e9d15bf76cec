/* ferry elf fingerprint: the CloudTower certificate's SHA-256 digest, for
 * elf://...?fingerprint=. */
#include <stdio.h>

#include <ferry/elf.h>

#include "platform_cli.h"

static int fingerprint(const struct cli_command *self, int argc, char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(self, argc, argv, NULL, &o, &rc))
    return rc;
  const char *host = argv[1];
  char fp[128];
  if (ferry_elf_fingerprint(host, fp, sizeof fp) < 0)
    return lib_fail(o.json, "elf fingerprint");
  fprintf(stderr, "ferry: warning: trusting this fingerprint is trust on "
                  "first use: check it against CloudTower's certificate\n");
  if (o.json)
    json_ok("host", host, "fingerprint", fp, NULL);
  else
    printf("%s\n", fp);
  return EXIT_OK;
}

static const struct cli_command fingerprint_cmd = {
  .name = "elf fingerprint",
  .json = "{ok, host, fingerprint}",
  .summary = "Prints the SHA-256 fingerprint of the certificate a "
             "CloudTower presents, for elf://...?fingerprint=.",
  .about = "Trusting what this prints is trust on first use: compare it with\n"
           "the certificate CloudTower's administrator installed before you\n"
           "rely on it.\n",
  .operands = (const struct cli_operand[]){
    { "HOST[:PORT]", "the CloudTower (port 443 unless given)" },
    { NULL, NULL },
  },
  .options = { (const struct cli_opt[]){ CLI_OPT_END } },
  .run = fingerprint,
};

int cmd_elf(int argc, char **argv)
{
  static const struct cli_command *const subs[] = { &fingerprint_cmd };
  return run_subcommand("elf", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
