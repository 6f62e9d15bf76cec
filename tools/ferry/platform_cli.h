/* Shared pieces of the platform commands (inventory, vm, volume,
 * snapshot, migrate): platforms and their options, credentials, JSON
 * output, subcommand dispatch. */
#ifndef FERRY_PLATFORM_CLI_H
#define FERRY_PLATFORM_CLI_H

#include <stdio.h>

#include <json-c/json.h>

#include <ferry/platform.h>

#include "options.h"

/* Takes FERRY_<DRIVER>_PASSWORD out of the environment (into memory), for
 * cli_auth; called first thing, before any child can be started. */
void cli_take_env_passwords(void);
/* The credentials for uri's platform: its environment password, else
 * --password-file, else a prompt on the terminal when one is asked. */
void cli_auth(const char *uri, const struct common_opts *o,
              struct ferry_auth *a);
/* uri with the platform options its driver declares, from the command line
 * (--NAME VALUE) or FERRY_<DRIVER>_<NAME>, where the URI has none: the
 * URI to use and to journal (malloc'd). NULL after cli_error(). */
char *cli_uri(const char *uri, struct common_opts *o);
/* -1 after cli_error() when an option no platform used was given. */
int cli_options_used(const struct common_opts *o);
/* The local platform of the user's state directory (ferry_state_dir),
 * what no --platform means; -1 after cli_error(). */
int cli_default_platform(char *buf, size_t len);
/* Opens the platform of a --platform URI, with its options and
 * credentials as above; NULL means cli_default_platform's. Returns NULL
 * after cli_error(). */
client_t *platform_open(const char *uri, struct common_opts *o);
/* The platforms, their URIs and options, for --help. */
void platforms_help(FILE *f);

/* Prints j (consumed) on stdout. */
void json_print(json_object *j);

/* Prints {"ok": true, KEY: VALUE, ...}: string pairs, NULL-terminated. */
void json_ok(const char *key, ...) __attribute__((sentinel));

/* Exit code for a failed library call: its message via cli_fail(). */
int lib_fail(bool json, const char *cmd);

/* ferry GROUP SUB ARGS...: runs the subcommand, or writes the group's
 * help, generated from the subcommands' tables. */
int run_subcommand(const char *group, const struct cli_command *const *subs,
                   size_t n, int argc, char **argv);

/* A JSON array of a list of standard objects of type T. */
#define LIST_TO_JSON(T, v, n)                                                 \
  ({                                                                          \
    json_object *a_ = json_object_new_array();                                \
    for (size_t i_ = 0; i_ < (n); i_++)                                       \
      json_object_array_add(a_, ferry_##T##_to_jsonc(&(v)[i_]));              \
    a_;                                                                       \
  })
#endif
