/* Shared pieces of the platform commands (inventory, vm, volume,
 * snapshot): --platform, JSON output, subcommand dispatch. */
#ifndef FERRY_PLATFORM_CLI_H
#define FERRY_PLATFORM_CLI_H

#include <json-c/json.h>

#include <ferry/platform.h>

#include "cli.h"

/* For a vmware:// URI: puts the password in FERRY_VMWARE_PASSWORD (this
 * process only) from password_file, the variable already set, or a prompt
 * on the terminal. 0, or -1 after cli_error(). */
int platform_password(const char *uri, const char *password_file);
/* Opens the platform of a --platform URI (see ferry_platform_open), with a
 * vmware:// password as platform_password() finds it. NULL means
 * qemu://$FERRY_STATE_DIR, else qemu:///var/lib/ferry. Returns NULL after
 * cli_error(). */
client_t *platform_open(const char *uri, const char *password_file);

/* Prints j (consumed) on stdout. */
void json_print(json_object *j);

/* Prints {"ok": true, KEY: VALUE, ...}: string pairs, NULL-terminated. */
void json_ok(const char *key, ...) __attribute__((sentinel));

/* Exit code for a failed library call: its message via cli_fail(). */
int lib_fail(bool json, const char *cmd);

/* A subcommand table: ferry GROUP SUB ARGS... */
struct subcommand {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *usage;
};
int run_subcommand(const char *group, const struct subcommand *subs,
                   size_t n, int argc, char **argv);

/* The common options of platform commands, parsed out of argv: --platform
 * URI, --json and --help. Leaves the rest (options and operands) in
 * argv[1..] for getopt. Returns -1 on a usage error (after cli_error). */
struct common_opts {
  const char *platform;
  const char *password_file; /* --password-file, for vmware:// */
  bool json, help;
};
int common_opts_take(int *argc, char **argv, struct common_opts *o);



/* A JSON array of a list of standard objects of type T. */
#define LIST_TO_JSON(T, v, n)                                                 \
  ({                                                                          \
    json_object *a_ = json_object_new_array();                                \
    for (size_t i_ = 0; i_ < (n); i_++)                                       \
      json_object_array_add(a_, ferry_##T##_to_jsonc(&(v)[i_]));              \
    a_;                                                                       \
  })
#endif
