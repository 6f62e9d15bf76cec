/* The options of ferry's commands, one table per command: cli_parse()
 * fills the command's own struct from argv by the table, and writes the
 * command's --help from it. */
#ifndef FERRY_OPTIONS_H
#define FERRY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

struct cli_opt;

/* Stores value (NULL for an option that takes none) in opts, the
 * command's struct. False refuses the value: the parser says "--NAME
 * wants WANTS" when opt->wants is set, else the setter called cli_error. */
typedef bool cli_setter(const struct cli_opt *opt, void *opts,
                        const char *value);

struct cli_opt {
  const char *name;    /* --NAME */
  const char *metavar; /* the value's name ("SIZE"); NULL: takes no value;
                        * "=NAME": an optional value, only as --OPT=VALUE */
  const char *help;    /* for --help: one sentence, wrapped as needed */
  cli_setter *set;
  size_t field;        /* offsetof the field the cli_set_* setters store */
  const char *wants;   /* what a refused value should have been */
};

/* Ends a table of options. */
#define CLI_OPT_END { NULL, NULL, NULL, NULL, 0, NULL }

/* Setters of one field each; a table entry names the field. */
cli_setter cli_set_flag;    /* bool: true */
cli_setter cli_set_string;  /* const char *: the value itself */
cli_setter cli_set_count;   /* unsigned: a number >= 1 */
cli_setter cli_set_seconds; /* int: a number >= 0 */
cli_setter cli_set_size;    /* uint64_t: a size >= 1, as parse_size */
cli_setter cli_set_progress; /* struct progress_opt: --progress[=fd:N] */

struct cli_operand {
  const char *name, *help;
};

/* Which common options a command takes besides --json and --help. */
enum {
  CLI_PLATFORM = 1u << 0, /* --platform URI */
  CLI_AUTH = 1u << 1,     /* --password-file FILE and the drivers' options */
  CLI_PLATFORM_COMMAND = CLI_PLATFORM | CLI_AUTH, /* works on one platform */
  CLI_READS = 1u << 2, /* only reads: a missing local state dir is an error,
                        * never made (FERRY_OPEN_EXISTING) */
};

struct cli_command {
  const char *name;    /* "sync", "vm create" (the last word is the
                        * subcommand, for run_subcommand) */
  const char *summary; /* a line for the list of a group's subcommands */
  const char *about;   /* paragraphs for --help, lines ending in \n; may
                        * be NULL */
  const char *json;    /* what --json prints, after "With --json: ": "a
                        * vm object", "a list of vlan objects" (the
                        * standard objects of ferry(1)), or its keys in
                        * braces, "{ok, vm}"; the man page says it, and a
                        * test holds the output to it */
  const struct cli_operand *operands; /* all wanted; a NULL name ends */
  const struct cli_opt *options[3];   /* tables; a NULL name ends each */
  unsigned common;                    /* CLI_PLATFORM, CLI_AUTH */
  /* a subcommand's body, called by run_subcommand */
  int (*run)(const struct cli_command *self, int argc, char **argv);
};

/* The common options of every command: --json, --help and, as cmd's
 * `common` says, --platform URI, --password-file FILE and --NAME VALUE of
 * the drivers' options (ferry_drivers). */
struct driver_option_arg {
  const char *name;  /* the driver's option */
  const char *value;
  const char *flag;  /* as given, for messages */
  bool used;         /* a platform took it */
};
struct common_opts {
  const char *platform;
  const char *password_file; /* --password-file */
  const char *user;          /* --user */
  struct driver_option_arg options[16]; /* --NAME VALUE of drivers' options */
  size_t n_options;
  bool json, help;
  bool verbose;              /* -v, --verbose: the trace on stderr */
  bool reads_only;           /* the command's CLI_READS */
  const char *log;           /* --log FILE: the trace appended to FILE */
};

/* Parses argv[1..] by cmd's tables: its options into opts (already set to
 * their defaults), the common ones into c (zeroed by cli_parse), and moves
 * the operands, exactly as many as cmd wants, to argv[1..]. Accepts
 * --NAME VALUE and --NAME=VALUE anywhere, and "--" before operands that
 * start with a dash. False when the command is done: *rc is EXIT_OK after
 * --help was printed, EXIT_USAGE after an error was (by cli_fail, as
 * --json asks). */
/* `ferry __complete`: commands print the words that may come next
 * instead of running (cli_parse, run_subcommand). */
extern bool cli_completing;
/* `ferry __pod CMD`: commands print their man page section (POD). */
extern bool cli_pod;
/* Prints cand when it starts with prefix. */
void cli_complete_word(const char *cand, const char *prefix);
/* The candidates for an operand named kind ("VM", "ID") of cmd, from the
 * platform or journals argv's options name (platform_cli.c). */
void cli_complete_operand(const struct cli_command *cmd, const char *kind,
                          int argc, char **argv, const char *prefix);

bool cli_parse(const struct cli_command *cmd, int argc, char **argv,
               void *opts, struct common_opts *c, int *rc);

/* Routes the library's trace as -v and --log FILE ask (trace.c); false
 * after cli_error when FILE cannot be opened. cli_parse calls it. */
bool cli_trace_start(const struct common_opts *c);

/* A subcommand group's help: each one's usage line and summary, then the
 * common options they take. */
void cli_group_help(FILE *f, const char *group,
                    const struct cli_command *const *subs, size_t n);
/* "  LEFT  HELP", the help wrapped in a column of its own. */
void cli_help_line(FILE *f, const char *left, const char *help);

#endif
