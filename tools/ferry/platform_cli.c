/* Platforms and their options, credentials, JSON output and subcommand
 * dispatch for platform commands. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <ferry/migrate.h>

#include "platform_cli.h"
#include "secret.h"

/* Passwords given in the environment, FERRY_<DRIVER>_PASSWORD: taken
 * into this process's memory at start and removed from its environment,
 * so that no child inherits them. */
static struct {
  const struct ferry_driver_info *driver;
  char *password;
} env_passwords[32];
static size_t n_env_passwords;

/* FERRY_<NAME>_<WHAT>, upper case. */
static void env_name(const char *driver, const char *what, char *buf,
                     size_t len)
{
  snprintf(buf, len, "FERRY_%s_%s", driver, what);
  for (char *p = buf; *p; p++)
    *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
}

void cli_take_env_passwords(void)
{
  const struct ferry_driver_info *const *d;
  size_t n = ferry_drivers(&d);
  for (size_t i = 0; i < n && n_env_passwords < 32; i++) {
    char name[128];
    env_name(d[i]->name, "password", name, sizeof name);
    const char *v = getenv(name);
    if (!v || !d[i]->takes_password)
      continue;
    prctl(PR_SET_DUMPABLE, 0); /* no core file holds it */
    env_passwords[n_env_passwords].driver = d[i];
    env_passwords[n_env_passwords++].password = strdup(v);
    explicit_bzero((char *)v, strlen(v));
    unsetenv(name);
  }
}

static int ask_terminal(void *opaque, const char *prompt, char *buf,
                        size_t len)
{
  (void)opaque;
  return read_secret(prompt, buf, len) ? 0 : -ENOTTY;
}

void cli_auth(const char *uri, const struct common_opts *o,
              struct ferry_auth *a)
{
  *a = (struct ferry_auth){ .struct_size = sizeof *a, .ask = ask_terminal };
  const struct ferry_driver_info *d = uri ? ferry_driver_of(uri) : NULL;
  for (size_t i = 0; d && i < n_env_passwords; i++)
    if (env_passwords[i].driver == d)
      a->password = env_passwords[i].password;
  if (!a->password)
    a->password_file = o->password_file;
  a->username = o->user;
}

static bool has_key(const char *uri, const char *key)
{
  const char *q = strchr(uri, '?');
  size_t k = strlen(key);
  for (const char *p = q; p; p = strchr(p + 1, '&'))
    if (!strncmp(p + 1, key, k) && (p[1 + k] == '=' || p[1 + k] == '&' ||
                                    !p[1 + k]))
      return true;
  return false;
}

/* Appends &KEY=VALUE (percent-encoded) to *uri. */
static bool append(char **uri, const char *key, const char *value)
{
  size_t n = strlen(*uri);
  char *u = realloc(*uri, n + strlen(key) + 3 * strlen(value) + 3);
  if (!u)
    return false;
  char *w = u + n;
  w += sprintf(w, "%c%s=", strchr(u, '?') ? '&' : '?', key);
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    w += isalnum(*p) || strchr("-._~/:,", *p) ? sprintf(w, "%c", *p)
                                              : sprintf(w, "%%%02X", *p);
  *uri = u;
  return true;
}

char *cli_uri(const char *uri, struct common_opts *o)
{
  char *out = strdup(uri);
  const struct ferry_driver_info *d = ferry_driver_of(uri);
  for (const struct ferry_driver_option *op = d ? d->options : NULL;
       out && op && op->name; op++) {
    const char *v = NULL;
    for (size_t i = 0; i < o->n_options; i++)
      if (!strcmp(o->options[i].name, op->name)) {
        v = o->options[i].value;
        o->options[i].used = true;
      }
    char name[128];
    env_name(d->name, op->name, name, sizeof name);
    if (!v)
      v = getenv(name);
    if (v && !has_key(out, op->name) && !append(&out, op->name, v)) {
      free(out);
      out = NULL;
    }
  }
  if (!out)
    cli_error("out of memory");
  return out;
}

int cli_options_used(const struct common_opts *o)
{
  for (size_t i = 0; i < o->n_options; i++)
    if (!o->options[i].used) {
      cli_error("--%.*s: the platform given has no such option",
                (int)strcspn(o->options[i].flag, "="), o->options[i].flag);
      return -1;
    }
  return 0;
}

int cli_default_platform(char *buf, size_t len)
{
  char dir[PATH_MAX];
  if (ferry_state_dir(dir, sizeof dir) < 0) {
    cli_error("%s", ferry_last_error());
    return -1;
  }
  if ((size_t)snprintf(buf, len, "local://%s", dir) >= len) {
    cli_error("the state directory's path is too long");
    return -1;
  }
  return 0;
}

client_t *platform_open(const char *uri, struct common_opts *o)
{
  char buf[4200];
  if (!uri) {
    if (cli_default_platform(buf, sizeof buf) < 0)
      return NULL;
    uri = buf;
  }
  char *full = cli_uri(uri, o);
  if (!full || cli_options_used(o) < 0) {
    free(full);
    return NULL;
  }
  struct ferry_auth auth;
  cli_auth(full, o, &auth);
  const struct ferry_driver_info *d = ferry_driver_of(full);
  client_t *c = ferry_platform_open_auth(full, &auth,
                                         o->reads_only ? FERRY_OPEN_EXISTING
                                                       : 0);
  char hint[256] = "";
  if (d && d->takes_password && !auth.password && !auth.password_file) {
    char name[128];
    env_name(d->name, "password", name, sizeof name);
    snprintf(hint, sizeof hint, " (give --password-file FILE, set %s, or "
             "run on a terminal to be asked)", name);
  }
  if (!c)
    cli_error("--platform: %s%s", ferry_last_error(), hint); /* it names
                                                                * the URI */
  free(full);
  return c;
}

void json_print(json_object *j)
{
  puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                             JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(j);
}

void json_ok(const char *key, ...)
{
  json_object *j = json_object_new_object();
  json_object_object_add(j, "ok", json_object_new_boolean(1));
  va_list ap;
  va_start(ap, key);
  for (const char *k = key; k; k = va_arg(ap, const char *))
    json_object_object_add(j, k, json_object_new_string(va_arg(ap,
                                                               const char *)));
  va_end(ap);
  json_print(j);
}

int lib_fail(bool json, const char *cmd)
{
  int e = ferry_last_errno();
  cli_error("%s", ferry_last_error() ? ferry_last_error() : strerror(e));
  return cli_fail(json, cmd, e == EINVAL ? EXIT_USAGE : EXIT_FAILED);
}

void platforms_help(FILE *f)
{
  const struct ferry_driver_info *const *d;
  size_t n = ferry_drivers(&d);
  fprintf(f, "\nPlatforms, their URIs and options:\n");
  for (size_t i = 0; i < n; i++) {
    if (!d[i]->platform)
      continue;
    cli_help_line(f, d[i]->uri_help, d[i]->description);
    for (const struct ferry_driver_option *op = d[i]->options;
         op && op->name; op++) {
      char flag[64], env[128], help[1024];
      snprintf(flag, sizeof flag, "  --%s VALUE", op->name);
      for (char *p = flag; *p; p++)
        *p = *p == '_' ? '-' : *p;
      env_name(d[i]->name, op->name, env, sizeof env);
      snprintf(help, sizeof help, "%s; also ?%s= in the URI, or %s", op->help,
               op->name, env);
      cli_help_line(f, flag, help);
    }
  }
}

/* The value of option --name in argv, or NULL. */
static const char *option_value(int argc, char **argv, const char *name)
{
  size_t len = strlen(name);
  for (int i = 1; i < argc - 1; i++)
    if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, len)) {
      const char *rest = argv[i] + 2 + len;
      if (*rest == '=')
        return rest + 1;
      if (!*rest && i + 1 < argc - 1)
        return argv[i + 1];
    }
  return NULL;
}

void cli_complete_operand(const struct cli_command *cmd, const char *kind,
                          int argc, char **argv, const char *prefix)
{
  if (!strcmp(kind, "ID") && !strncmp(cmd->name, "migrate ", 8)) {
    struct ferry_migration *v;
    size_t n;
    if (ferry_migrate_list(option_value(argc, argv, "journal-dir"), &v,
                           &n) == 0) {
      for (size_t i = 0; i < n; i++)
        cli_complete_word(v[i].id, prefix);
      ferry_migration_list_free(v, n);
    }
    return;
  }
  if (strcmp(kind, "VM") || !(cmd->common & CLI_PLATFORM))
    return;
  /* the VMs of the platform named, if it opens without asking anything */
  const char *uri = option_value(argc, argv, "platform");
  char buf[PATH_MAX + 16];
  if (!uri) {
    if (cli_default_platform(buf, sizeof buf) < 0)
      return;
    uri = buf;
  }
  const struct ferry_driver_info *d = ferry_driver_of(uri);
  if (!d || d->takes_password)
    return; /* no prompt in the middle of a command line */
  client_t *c = ferry_platform_open_auth(uri, NULL, 0);
  struct ferry_vm *v;
  size_t n;
  if (c && ferry_get_vms(c, NULL, &v, &n) == 0) {
    for (size_t i = 0; i < n; i++)
      cli_complete_word(v[i].name, prefix);
    ferry_vm_list_free(v, n);
  }
  if (c)
    destroy_client(c);
}

int run_subcommand(const char *group, const struct cli_command *const *subs,
                   size_t n, int argc, char **argv)
{
  if (cli_pod) { /* every subcommand's section of the group's page */
    for (size_t i = 0; i < n; i++)
      subs[i]->run(subs[i], 1, argv);
    return EXIT_OK;
  }
  if (cli_completing && argc <= 2) { /* the subcommand being typed */
    for (size_t i = 0; i < n; i++)
      cli_complete_word(strrchr(subs[i]->name, ' ') + 1,
                        argc == 2 ? argv[1] : "");
    return EXIT_OK;
  }
  bool help = argc < 2 || !strcmp(argv[1], "--help") ||
              !strcmp(argv[1], "-h");
  for (size_t i = 0; !help && i < n; i++)
    if (!strcmp(argv[1], strrchr(subs[i]->name, ' ') + 1))
      return subs[i]->run(subs[i], argc - 1, argv + 1);
  FILE *f = help && argc >= 2 ? stdout : stderr;
  if (!help)
    fprintf(f, "ferry %s: unknown subcommand '%s'\n\n", group, argv[1]);
  cli_group_help(f, group, subs, n);
  return help && argc >= 2 ? EXIT_OK : EXIT_USAGE;
}
