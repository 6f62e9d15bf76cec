/* ferry: the command line. One file per command group. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "platform_cli.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} commands[] = {
  { "sync", cmd_sync, "copy extents (or all allocated data) between volumes" },
  { "info", cmd_info, "show a volume's size and allocation" },
  { "inventory", cmd_inventory, "list a platform's datacenters, hosts, VMs, VLANs" },
  { "vm", cmd_vm, "list, show, create, start, stop, delete VMs" },
  { "volume", cmd_volume, "list, create, delete volumes" },
  { "network", cmd_network, "list, create, delete networks for VMs' NICs" },
  { "snapshot", cmd_snapshot, "create, list, show, delete, revert VM snapshots" },
  { "migrate", cmd_migrate, "warm migration: start, sync rounds, cut over" },
  { "convert", cmd_convert, "convert a stopped VM's guest to boot on virtio" },
  { "vmware", cmd_vmware, "VMware helpers: a server's certificate thumbprint" },
  { "elf", cmd_elf, "SmartX ELF helpers: CloudTower's certificate fingerprint" },
};

static void usage(FILE *f)
{
  fprintf(f,
"Usage: ferry COMMAND [OPTIONS] ...\n"
"\n"
"VM snapshots and V2V migration with incremental block sync.\n"
"\n"
"Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
"\n"
"Volumes (SRC, DST, URI) are written as:\n"
"  PATH, file:///PATH        a raw file or block device; qcow2, vmdk, vhdx,\n"
"                            vdi and qed images are detected by their magic\n"
"                            and served through a private qemu-nbd\n"
"  nbd://HOST[:PORT]/EXPORT  an NBD server over TCP\n"
"  nbd+unix:///EXPORT?socket=PATH\n"
"                            an NBD server on a unix socket\n"
"\n"
"Exit codes:\n"
"  0  success\n"
"  1  the operation failed (the message names the volume and offset)\n"
"  2  bad command line or bad input file; nothing was written\n"
"  3  --verify found a difference\n"
"  4  interrupted by SIGINT or SIGTERM\n"
"\n"
"Every command takes -v (--verbose) to trace what it does on stderr, or\n"
"--log FILE to append the trace to FILE; FERRY_DEBUG=1 does what -v does.\n"
"\n"
"Run 'ferry COMMAND --help' for a command's options.\n");
}

/* The rules every command's --json keeps; the objects' keys follow
 * (STANDARD OBJECTS, generated from types.idl). */
static const char pod_json[] =
"=head1 JSON OUTPUT\n\n"
"With B<--json> a command prints one JSON document on stdout: what its\n"
"page says after \"With B<--json>\", a standard object (below), a list of\n"
"them, or an object with the keys it names. The keys and their meaning\n"
"are stable; new keys may be added. None is null everywhere (never \"\"),\n"
"and an empty list is [].\n\n"
"A failure prints B<{ok, error, errno, errno_name, exit_code}>: I<ok>\n"
"false, I<error> the message, I<errno> and I<errno_name> (\"ENOENT\") what\n"
"went wrong, I<exit_code> the exit status (see B<EXIT STATUS>).\n\n"
"Progress for programs is B<--progress=fd:>I<N> (B<sync>, B<migrate>):\n"
"JSON lines on descriptor I<N>, each B<{time, phase, done, total,\n"
"bytes_per_second, eta_seconds, final}> (a migration's add I<step>,\n"
"I<round> and I<disks>); I<phase> is C<copy>, C<verify> or C<convert>, and\n"
"each pass ends with one line whose I<final> is true.\n\n";

static const char pod_tail[] =
"=head1 EXIT STATUS\n\n"
"0 success; 1 the operation failed (the message names the volume, VM or\n"
"offset); 2 bad command line or bad input, nothing was written; 3\n"
"B<--verify> found a difference; 4 interrupted by SIGINT or SIGTERM.\n\n"
"=head1 ENVIRONMENT\n\n"
"B<FERRY_STATE_DIR>: the state directory DIR: the default local platform\n"
"(local://DIR) and journal directory (DIR/migrations), whatever platforms a\n"
"migration involves. Without it DIR is /var/lib/ferry for root, else\n"
"$XDG_STATE_HOME/ferry or ~/.local/state/ferry.\n\n"
"B<FERRY_>I<DRIVER>B<_>I<OPTION>: a driver's option, as B<--option>.\n\n"
"B<FERRY_VMWARE_PASSWORD>, B<FERRY_ELF_PASSWORD>: read once at start and\n"
"unset; never passed on.\n\n"
"B<FERRY_DEBUG>=1: the trace B<-v> prints (see L<libferry(3)>), on stderr.\n\n";

static int pod(const char *name)
{
  if (!name) {
    printf("=head1 NAME\n\nferry - VM snapshots and V2V migration with "
           "incremental block sync\n\n=head1 SYNOPSIS\n\nB<ferry> "
           "I<COMMAND> [I<OPTIONS>] ...\n\n=head1 COMMANDS\n\n=over 4\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
      printf("=item B<%s>\n\n%s; see L<ferry-%s(1)>.\n\n",
             commands[i].name, commands[i].summary, commands[i].name);
    printf("=back\n\n%s%sThe C library: L<libferry(3)>.\n\n", pod_json,
           pod_tail);
    return EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(name, commands[i].name)) {
      printf("=head1 NAME\n\nferry-%s - %s\n\n=head1 DESCRIPTION\n\n",
             name, commands[i].summary);
      cli_pod = true;
      char *args[] = { (char *)name, NULL };
      commands[i].fn(1, args);
      printf("%s=head1 SEE ALSO\n\nL<ferry(1)>, L<libferry(3)>\n",
             pod_tail);
      return EXIT_OK;
    }
  fprintf(stderr, "ferry __pod: unknown command '%s'\n", name);
  return EXIT_USAGE;
}

int main(int argc, char **argv)
{
  cli_take_env_passwords(); /* before anything could start a child */
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  /* ferry help COMMAND [SUB]: that command's own help, as git does */
  if (!strcmp(argv[1], "help") && argc > 2) {
    char *args[5] = { argv[2], argc > 3 ? argv[3] : "--help",
                      argc > 3 ? "--help" : NULL, NULL, NULL };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
      if (!strcmp(argv[2], commands[i].name))
        return commands[i].fn(argc > 3 ? 3 : 2, args);
    fprintf(stderr, "ferry help: unknown command '%s' (see 'ferry --help')\n",
            argv[2]);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
      !strcmp(argv[1], "help")) {
    usage(stdout);
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("ferry 0.1.0\n");
    return EXIT_OK;
  }
  /* ferry __pod [COMMAND]: ferry(1) or ferry-COMMAND(1) as POD, from the
   * tables --help comes from (the build runs pod2man on it) */
  if (!strcmp(argv[1], "__pod"))
    return pod(argc > 2 ? argv[2] : NULL);
  /* ferry __complete WORD...: the words that may follow (the bash
   * completion's helper); the last WORD is the one being typed */
  if (!strcmp(argv[1], "__complete")) {
    cli_completing = true;
    argc--, argv++;
    if (argc < 2) {
      printf("help\n");
      return EXIT_OK;
    }
    if (argc == 2) {
      for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        cli_complete_word(commands[i].name, argv[1]);
      cli_complete_word("help", argv[1]);
      return EXIT_OK;
    }
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].fn(argc - 1, argv + 1);
  if (cli_completing)
    return EXIT_OK; /* nothing follows an unknown command */
  fprintf(stderr, "ferry: unknown command '%s' (see 'ferry --help')\n",
          argv[1]);
  return EXIT_USAGE;
}
