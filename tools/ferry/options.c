/* The table-driven parser of ferry's commands and the --help it writes. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <ferry/drivers.h>

#include "options.h"
#include "platform_cli.h"

/* --help lines: this wide, option help from this column. */
enum { WIDTH = 79, HELP_COLUMN = 24 };

#define FIELD(type, opts, opt) ((type *)((char *)(opts) + (opt)->field))

bool cli_set_flag(const struct cli_opt *opt, void *opts, const char *value)
{
  (void)value;
  *FIELD(bool, opts, opt) = true;
  return true;
}

bool cli_set_string(const struct cli_opt *opt, void *opts, const char *value)
{
  *FIELD(const char *, opts, opt) = value;
  return true;
}

bool cli_set_count(const struct cli_opt *opt, void *opts, const char *value)
{
  unsigned *field = FIELD(unsigned, opts, opt);
  return parse_uint(value, field) && *field;
}

bool cli_set_seconds(const struct cli_opt *opt, void *opts, const char *value)
{
  unsigned u;
  if (!parse_uint(value, &u)) /* at most 2^30: an int */
    return false;
  *FIELD(int, opts, opt) = (int)u;
  return true;
}

bool cli_set_size(const struct cli_opt *opt, void *opts, const char *value)
{
  uint64_t *field = FIELD(uint64_t, opts, opt);
  return parse_size(value, field) && *field;
}

/* The common options, stored in struct common_opts. */
static const struct cli_opt output_options[] = {
  { "json", NULL, "print the result, or the error, as JSON on stdout",
    cli_set_flag, offsetof(struct common_opts, json), NULL },
  { "help", NULL, "this text", cli_set_flag,
    offsetof(struct common_opts, help), NULL },
  { "verbose", NULL, "trace what ferry does (each QMP command, SOAP call, "
    "helper process and round, never a secret) on stderr, with timestamps; "
    "FERRY_DEBUG=1 does the same", cli_set_flag,
    offsetof(struct common_opts, verbose), NULL },
  { "log", "FILE", "append the trace to FILE instead of stderr",
    cli_set_string, offsetof(struct common_opts, log), NULL },
  CLI_OPT_END,
};
/* The short options: common ones that take no value, as -X. */
static const struct { char x; const char *name; } short_options[] = {
  { 'h', "help" }, { 'v', "verbose" },
};

/* The -X of o (a common option), or 0. */
static char short_name(const struct cli_opt *o)
{
  for (size_t i = 0; i < sizeof short_options / sizeof *short_options; i++)
    if (o >= output_options && o < output_options + sizeof output_options /
                                     sizeof *output_options &&
        !strcmp(short_options[i].name, o->name))
      return short_options[i].x;
  return 0;
}
static const struct cli_opt platform_options[] = {
  { "platform", "URI", "the platform (default local://STATE, STATE being "
    "$FERRY_STATE_DIR, else /var/lib/ferry for root, else "
    "~/.local/state/ferry)", cli_set_string,
    offsetof(struct common_opts, platform), NULL },
  CLI_OPT_END,
};
static const struct cli_opt auth_options[] = {
  { "user", "NAME", "the platform's user name, e.g. "
    "administrator@vsphere.local (instead of the URI's USER@, where an @ "
    "is %40)", cli_set_string, offsetof(struct common_opts, user), NULL },
  { "password-file", "FILE", "the platform's password is this file's first "
    "line (unless FERRY_<PLATFORM>_PASSWORD is set; with neither, ferry asks "
    "on the terminal)",
    cli_set_string, offsetof(struct common_opts, password_file), NULL },
  CLI_OPT_END,
};

/* A driver's option: its value goes to the slot of struct common_opts
 * that the parser took for it. */
static bool set_driver_value(const struct cli_opt *opt, void *slot,
                             const char *value)
{
  (void)opt;
  ((struct driver_option_arg *)slot)->value = value;
  return true;
}
static const struct cli_opt driver_option = {
  "", "VALUE", NULL, set_driver_value, 0, NULL,
};

/* "Usage: ferry CMD OPERANDS [OPTIONS]: WHAT (see 'ferry CMD --help')". */
static void __attribute__((format(printf, 2, 3)))
usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
  char operands[256] = "", what[512];
  for (const struct cli_operand *p = cmd->operands; p && p->name; p++)
    snprintf(operands + strlen(operands), sizeof operands - strlen(operands),
             " %s", p->name);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  cli_error("Usage: ferry %s%s [OPTIONS]: %s (see 'ferry %s --help')",
            cmd->name, operands, what, cmd->name);
}

#define FOR_EACH_OPTION(cmd, o)                                               \
  for (size_t t_ = 0; t_ < sizeof (cmd)->options / sizeof *(cmd)->options && \
                      (cmd)->options[t_]; t_++)                               \
    for (const struct cli_opt *o = (cmd)->options[t_]; o->name; o++)

static bool same_name(const char *name, const char *arg, size_t len)
{
  return strlen(name) == len && !strncmp(name, arg, len);
}

/* The drivers' option NAME, spelt with dashes for its underscores. */
static const struct ferry_driver_option *find_driver_option(const char *arg,
                                                            size_t len)
{
  const struct ferry_driver_info *const *d;
  size_t n = ferry_drivers(&d);
  for (size_t i = 0; i < n; i++)
    for (const struct ferry_driver_option *op = d[i]->options;
         op && op->name; op++) {
      bool same = strlen(op->name) == len;
      for (size_t k = 0; k < len && same; k++)
        same = op->name[k] == (arg[k] == '-' ? '_' : arg[k]);
      if (same)
        return op;
    }
  return NULL;
}

/* The entry of --NAME (len bytes of name) that cmd takes: its own
 * (*own true), a common one, or driver_option for a driver's; NULL when
 * none. No messages: completion looks up words still being typed. */
static const struct cli_opt *lookup_option(const struct cli_command *cmd,
                                           const char *name, size_t len,
                                           bool *own)
{
  *own = true;
  FOR_EACH_OPTION(cmd, o)
    if (same_name(o->name, name, len))
      return o;
  *own = false;
  const struct cli_opt *common[] = {
    output_options, cmd->common & CLI_PLATFORM ? platform_options : NULL,
    cmd->common & CLI_AUTH ? auth_options : NULL,
  };
  for (size_t t = 0; t < sizeof common / sizeof *common; t++)
    for (const struct cli_opt *o = common[t]; o && o->name; o++)
      if (same_name(o->name, name, len))
        return o;
  return cmd->common & CLI_AUTH && find_driver_option(name, len)
             ? &driver_option : NULL;
}

/* The common option -X stands for, or NULL. */
static const struct cli_opt *lookup_short(char x)
{
  for (size_t i = 0; i < sizeof short_options / sizeof *short_options; i++)
    for (const struct cli_opt *o = output_options;
         short_options[i].x == x && o->name; o++)
      if (!strcmp(o->name, short_options[i].name))
        return o;
  return NULL;
}

/* The entry of --NAME (len bytes of arg) that cmd takes, and the struct
 * it stores into; NULL after cli_error() when it takes none. */
static const struct cli_opt *find_option(const struct cli_command *cmd,
                                         const char *arg, size_t len,
                                         void *opts, struct common_opts *c,
                                         void **base)
{
  bool own;
  const struct cli_opt *o = lookup_option(cmd, arg, len, &own);
  *base = own ? opts : c;
  if (o && o != &driver_option)
    return o;
  const struct ferry_driver_option *op = o ? find_driver_option(arg, len)
                                           : NULL;
  if (!op) {
    usage_error(cmd, "unknown option --%.*s", (int)len, arg);
    return NULL;
  }
  if (c->n_options == sizeof c->options / sizeof *c->options) {
    cli_error("too many platform options");
    return NULL;
  }
  *base = &c->options[c->n_options];
  c->options[c->n_options++] = (struct driver_option_arg){ op->name, NULL,
                                                           arg, false };
  return &driver_option;
}

/* Takes the option argv[*i] (and its value, moving *i past it). False
 * after cli_error(). */
static bool take_option(const struct cli_command *cmd, int argc, char **argv,
                        int *i, void *opts, struct common_opts *c)
{
  const char *arg = argv[*i], *name = arg + 2, *eq = strchr(arg, '=');
  const struct cli_opt *opt = NULL;
  void *base;
  int len;
  if (arg[1] != '-') { /* -X: a short option without a value */
    opt = arg[2] ? NULL : lookup_short(arg[1]);
    if (!opt) {
      usage_error(cmd, "unknown option %s", arg);
      return false;
    }
    base = c;
    name = opt->name;
    len = (int)strlen(name);
    eq = NULL;
  } else {
    len = (int)(eq ? (size_t)(eq - name) : strlen(name));
    if (!(opt = find_option(cmd, name, len, opts, c, &base)))
      return false;
  }
  const char *value = NULL;
  if (!opt->metavar && eq) {
    cli_error("--%.*s takes no value", len, name);
    return false;
  }
  if (opt->metavar && eq) {
    value = eq + 1;
  } else if (opt->metavar && opt->metavar[0] != '=') {
    if (*i + 1 >= argc) {
      cli_error("--%.*s wants a value (%s)", len, name, opt->metavar);
      return false;
    }
    value = argv[++*i];
  }
  if (opt->set(opt, base, value))
    return true;
  if (opt->wants)
    cli_error("--%.*s wants %s", len, name, opt->wants);
  return false;
}

/* Text broken at spaces into lines WIDTH wide, indented. */
struct wrap {
  FILE *f;
  int col, indent;
};

/* Writes len bytes of s, unbroken, after a space, or at the indent of a
 * new line when they would pass WIDTH. */
static void wrap_put(struct wrap *w, const char *s, int len)
{
  if (w->col > w->indent && w->col + 1 + len > WIDTH) {
    fputc('\n', w->f);
    w->col = 0;
  }
  if (w->col < w->indent)
    w->col += fprintf(w->f, "%*s", w->indent - w->col, "");
  else if (w->col > w->indent)
    w->col += fprintf(w->f, " ");
  w->col += fprintf(w->f, "%.*s", len, s);
}

static void wrap_words(struct wrap *w, const char *text)
{
  for (const char *p = text; *p; p += strspn(p, " ")) {
    int len = (int)strcspn(p, " ");
    if (len)
      wrap_put(w, p, len);
    p += len;
  }
}

void cli_help_line(FILE *f, const char *left, const char *help)
{
  struct wrap w = { f, fprintf(f, "  %s", left), HELP_COLUMN };
  if (w.col > HELP_COLUMN - 2) {
    fputc('\n', f);
    w.col = 0;
  }
  wrap_words(&w, help);
  fputc('\n', f);
}

/* "--NAME METAVAR", as the option is written; its length. */
static int option_text(char *buf, size_t len, const struct cli_opt *o)
{
  if (o->metavar && o->metavar[0] == '=') /* --progress[=fd:N] */
    return snprintf(buf, len, "--%s[%s]", o->name, o->metavar);
  return snprintf(buf, len, "--%s%s%s", o->name, o->metavar ? " " : "",
                  o->metavar ? o->metavar : "");
}

static void option_line(FILE *f, const struct cli_opt *o)
{
  char left[128] = "";
  size_t at = 0;
  if (short_name(o))
    at = (size_t)snprintf(left, sizeof left, "-%c, ", short_name(o));
  option_text(left + at, sizeof left - at, o);
  cli_help_line(f, left, o->help);
}

/* cmd's usage line: "ferry NAME OPERANDS [--OPT META]...", wrapped with
 * its continuation lines under the operands. */
static void synopsis(FILE *f, const char *prefix, const struct cli_command *cmd)
{
  struct wrap w = { f, fprintf(f, "%sferry %s", prefix, cmd->name), 0 };
  w.indent = w.col + 1;
  for (const struct cli_operand *p = cmd->operands; p && p->name; p++)
    wrap_put(&w, p->name, (int)strlen(p->name));
  FOR_EACH_OPTION(cmd, o) {
    char s[128] = "[";
    int len = 1 + option_text(s + 1, sizeof s - 2, o);
    wrap_put(&w, strcat(s, "]"), len + 1);
  }
  fputc('\n', f);
}

static void common_help(FILE *f, unsigned common)
{
  fprintf(f, "\nCommon options:\n");
  const struct cli_opt *tables[] = {
    common & CLI_PLATFORM ? platform_options : NULL,
    common & CLI_AUTH ? auth_options : NULL, output_options,
  };
  for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
    for (const struct cli_opt *o = tables[t]; o && o->name; o++)
      option_line(f, o);
  if (common & CLI_AUTH)
    platforms_help(f);
}

static void print_help(const struct cli_command *cmd)
{
  synopsis(stdout, "Usage: ", cmd);
  if (cmd->summary) {
    struct wrap w = { stdout, 0, 0 };
    printf("\n");
    wrap_words(&w, cmd->summary);
    printf("\n");
  }
  if (cmd->about)
    printf("\n%s", cmd->about);
  if (cmd->operands && cmd->operands[0].name)
    printf("\nOperands:\n");
  for (const struct cli_operand *p = cmd->operands; p && p->name; p++)
    cli_help_line(stdout, p->name, p->help);
  if (cmd->options[0] && cmd->options[0]->name)
    printf("\nOptions:\n");
  FOR_EACH_OPTION(cmd, o)
    option_line(stdout, o);
  common_help(stdout, cmd->common);
  if (cmd->json) {
    struct wrap w = { stdout, 0, 0 };
    printf("\n");
    wrap_words(&w, "With --json:");
    wrap_words(&w, cmd->json);
    printf("\n");
  }
}

void cli_group_help(FILE *f, const char *group,
                    const struct cli_command *const *subs, size_t n)
{
  fprintf(f, "Usage:\n");
  unsigned common = 0;
  for (size_t i = 0; i < n; i++) {
    synopsis(f, "  ", subs[i]);
    struct wrap w = { f, 0, 6 };
    wrap_words(&w, subs[i]->summary);
    fputc('\n', f);
    common |= subs[i]->common;
  }
  fprintf(f, "\nRun 'ferry %s SUBCOMMAND --help' for a subcommand's "
             "options.\n", group);
  common_help(f, common);
}

bool cli_completing, cli_pod;

/* Text for POD: its markup characters escaped. */
static void pod_text(const char *s)
{
  for (; s && *s; s++)
    if (*s == '<')
      fputs("E<lt>", stdout);
    else if (*s == '>')
      fputs("E<gt>", stdout);
    else
      putchar(*s);
}

static void pod_option(const struct cli_opt *o)
{
  char flag[128];
  snprintf(flag, sizeof flag, "%s", o->name);
  for (char *p = flag; *p; p++)
    *p = *p == '_' ? '-' : *p;
  printf("=item ");
  if (short_name(o))
    printf("B<-%c>, ", short_name(o));
  printf("B<--%s>", flag);
  if (o->metavar && o->metavar[0] == '=') {
    printf("[=I<");
    pod_text(o->metavar + 1);
    printf(">]");
  } else if (o->metavar) {
    printf(" I<");
    pod_text(o->metavar);
    printf(">");
  }
  printf("\n\n");
  pod_text(o->help);
  printf("\n\n");
}

/* A command's section of its man page (ferry __pod), from the tables its
 * --help comes from. */
static void print_pod(const struct cli_command *cmd)
{
  printf("=head2 ferry %s", cmd->name);
  for (const struct cli_operand *p = cmd->operands; p && p->name; p++)
    printf(" I<%s>", p->name);
  printf(" [I<OPTIONS>]\n\n");
  pod_text(cmd->summary);
  printf("\n\n");
  if (cmd->about) {
    pod_text(cmd->about);
    printf("\n");
  }
  if (cmd->operands && cmd->operands[0].name) {
    printf("=over 4\n\n");
    for (const struct cli_operand *p = cmd->operands; p && p->name; p++) {
      printf("=item I<%s>\n\n", p->name);
      pod_text(p->help);
      printf("\n\n");
    }
    printf("=back\n\n");
  }
  printf("Options:\n\n=over 4\n\n");
  FOR_EACH_OPTION(cmd, o)
    pod_option(o);
  const struct cli_opt *tables[] = {
    cmd->common & CLI_PLATFORM ? platform_options : NULL,
    cmd->common & CLI_AUTH ? auth_options : NULL, output_options,
  };
  for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
    for (const struct cli_opt *o = tables[t]; o && o->name; o++)
      pod_option(o);
  const struct ferry_driver_info *const *d;
  size_t nd = cmd->common & CLI_AUTH ? ferry_drivers(&d) : 0;
  for (size_t i = 0; i < nd; i++)
    for (const struct ferry_driver_option *op = d[i]->options;
         op && op->name; op++) {
      struct cli_opt o = { op->name, "VALUE", op->help, NULL, 0, NULL };
      pod_option(&o);
    }
  printf("=back\n\n");
  if (cmd->json) {
    printf("With B<--json>: ");
    pod_text(cmd->json);
    printf(" (see B<JSON OUTPUT> in L<ferry(1)>)\n\n");
  }
}

void cli_complete_word(const char *cand, const char *prefix)
{
  if (!strncmp(cand, prefix, strlen(prefix)))
    printf("%s\n", cand);
}

static void complete_flag(const char *name, const char *prefix)
{
  char flag[128];
  snprintf(flag, sizeof flag, "--%s", name);
  for (char *p = flag + 2; *p; p++)
    *p = *p == '_' ? '-' : *p; /* drivers' options: --vddk-libdir */
  cli_complete_word(flag, prefix);
}

/* The entry of an option word ("--name", "--name=value"), or NULL. */
static const struct cli_opt *find_flag(const struct cli_command *cmd,
                                       const char *arg)
{
  if (strncmp(arg, "--", 2))
    return NULL;
  const char *name = arg + 2, *eq = strchr(name, '=');
  bool own;
  return lookup_option(cmd, name, eq ? (size_t)(eq - name) : strlen(name),
                       &own);
}

/* What may come at argv[argc-1]: an option of cmd's, or its operand. */
static void complete(const struct cli_command *cmd, int argc, char **argv)
{
  const char *cur = argc > 1 ? argv[argc - 1] : "";
  if (cur[0] == '-') {
    FOR_EACH_OPTION(cmd, o)
      complete_flag(o->name, cur);
    const struct cli_opt *tables[] = {
      cmd->common & CLI_PLATFORM ? platform_options : NULL,
      cmd->common & CLI_AUTH ? auth_options : NULL, output_options,
    };
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
      for (const struct cli_opt *o = tables[t]; o && o->name; o++)
        complete_flag(o->name, cur);
    const struct ferry_driver_info *const *d;
    size_t nd = cmd->common & CLI_AUTH ? ferry_drivers(&d) : 0;
    for (size_t i = 0; i < nd; i++)
      for (const struct ferry_driver_option *op = d[i]->options;
           op && op->name; op++)
        complete_flag(op->name, cur);
    return;
  }
  /* which operand: the words before that are neither options nor their
   * values */
  int k = 0, n = 0;
  for (int i = 1; i < argc - 1; i++) {
    if (argv[i][0] != '-') {
      k++;
      continue;
    }
    const struct cli_opt *o = find_flag(cmd, argv[i]);
    if (o && o->metavar && o->metavar[0] != '=' && !strchr(argv[i], '='))
      i++; /* its value */
  }
  while (cmd->operands && cmd->operands[n].name)
    n++;
  if (k < n)
    cli_complete_operand(cmd, cmd->operands[k].name, argc, argv, cur);
}

bool cli_parse(const struct cli_command *cmd, int argc, char **argv,
               void *opts, struct common_opts *c, int *rc)
{
  memset(c, 0, sizeof *c);
  if (cli_pod) {
    print_pod(cmd);
    *rc = EXIT_OK;
    return false;
  }
  if (cli_completing) {
    complete(cmd, argc, argv);
    *rc = EXIT_OK;
    return false;
  }
  int n = 0, i; /* operands, moved to argv[1..] as they come */
  bool ok = true, operands_only = false;
  for (i = 1; i < argc && ok; i++) {
    if (operands_only || argv[i][0] != '-' || !argv[i][1])
      argv[1 + n++] = argv[i];
    else if (!strcmp(argv[i], "--"))
      operands_only = true;
    else
      ok = take_option(cmd, argc, argv, &i, opts, c);
  }
  /* After an error only --json and --help count: the error is printed as
   * asked, or help is what was asked for. */
  for (; i < argc; i++) {
    c->json |= !strcmp(argv[i], "--json");
    c->help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
  }
  if (c->help) {
    print_help(cmd);
    *rc = EXIT_OK;
    return false;
  }
  int want = 0;
  while (cmd->operands && cmd->operands[want].name)
    want++;
  if (ok && n < want)
    usage_error(cmd, "%s is missing", cmd->operands[n].name);
  else if (ok && n > want)
    usage_error(cmd, "'%s' is one operand too many", argv[1 + want]);
  if (!ok || n != want) {
    *rc = cli_fail(c->json, cmd->name, EXIT_USAGE);
    return false;
  }
  c->reads_only = cmd->common & CLI_READS;
  if (!cli_trace_start(c)) {
    *rc = cli_fail(c->json, cmd->name, EXIT_FAILED);
    return false;
  }
  argv[1 + n] = NULL;
  return true;
}
