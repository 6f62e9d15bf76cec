/* --platform, JSON output and subcommand dispatch for platform commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "platform_cli.h"
#include "secret.h"

/* The vmware:// password, put where the library reads it (the process's
 * own environment): from FERRY_VMWARE_PASSWORD already there, a
 * --password-file, or a prompt on the terminal. Never from argv. */
int platform_password(const char *uri, const char *file)
{
  if (strncmp(uri, "vmware://", 9) || (!file && getenv("FERRY_VMWARE_PASSWORD")))
    return 0;
  prctl(PR_SET_DUMPABLE, 0); /* no core file holds it */
  char pw[1024];
  if (file) {
    FILE *f = fopen(file, "r");
    if (!f) {
      cli_error("--password-file %s: %s", file, strerror(errno));
      return -1;
    }
    size_t n = fread(pw, 1, sizeof pw - 1, f);
    fclose(f);
    pw[n] = 0;
    pw[strcspn(pw, "\r\n")] = 0; /* the first line */
  } else if (!read_secret("vSphere password: ", pw, sizeof pw)) {
    cli_error("--platform %s: no password: give --password-file FILE, set "
              "FERRY_VMWARE_PASSWORD, or run on a terminal to be asked",
              uri);
    return -1;
  }
  int r = setenv("FERRY_VMWARE_PASSWORD", pw, 1);
  explicit_bzero(pw, sizeof pw);
  return r;
}

client_t *platform_open(const char *uri, const char *password_file)
{
  char buf[4200];
  if (!uri) {
    const char *dir = getenv("FERRY_STATE_DIR");
    snprintf(buf, sizeof buf, "qemu://%s", dir && *dir ? dir : "/var/lib/ferry");
    uri = buf;
  }
  if (platform_password(uri, password_file) < 0)
    return NULL;
  client_t *c = ferry_platform_open(uri);
  if (!c)
    cli_error("--platform %s: %s", uri, ferry_last_error());
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

int run_subcommand(const char *group, const struct subcommand *subs,
                   size_t n, int argc, char **argv)
{
  bool help = argc < 2 || !strcmp(argv[1], "--help") ||
              !strcmp(argv[1], "-h");
  for (size_t i = 0; !help && i < n; i++)
    if (!strcmp(argv[1], subs[i].name))
      return subs[i].fn(argc - 1, argv + 1);
  FILE *f = help && argc >= 2 ? stdout : stderr;
  if (!help)
    fprintf(f, "ferry %s: unknown subcommand '%s'\n\n", group, argv[1]);
  fprintf(f, "Usage:\n");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "  ferry %s %s\n", group, subs[i].usage);
  fprintf(f, "\nCommon options: --platform URI (default qemu://$FERRY_STATE_DIR "
             "or qemu:///var/lib/ferry), --json, --help\n"
             "  vCenter/ESXi: --platform vmware://USER@HOST[:PORT]?thumbprint=SHA1\n"
             "  [&transport=vddk|https&vddk_libdir=DIR] (or --transport vddk|https,\n"
             "  --vddk-libdir DIR); the password comes from --password-file FILE,\n"
             "  FERRY_VMWARE_PASSWORD or a prompt\n");
  return help && argc >= 2 ? EXIT_OK : EXIT_USAGE;
}

int common_opts_take(int *argc, char **argv, struct common_opts *o)
{
  int w = 1;
  for (int i = 1; i < *argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      o->json = true;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      o->help = true;
    } else if (!strcmp(argv[i], "--platform")) {
      if (i + 1 >= *argc) {
        cli_error("--platform wants a URI");
        return -1;
      }
      o->platform = argv[++i];
    } else if (!strncmp(argv[i], "--platform=", 11)) {
      o->platform = argv[i] + 11;
    } else if (!strncmp(argv[i], "--transport=", 12)) {
      setenv("FERRY_VMWARE_TRANSPORT", argv[i] + 12, 1);
    } else if (!strcmp(argv[i], "--transport") && i + 1 < *argc) {
      setenv("FERRY_VMWARE_TRANSPORT", argv[++i], 1);
    } else if (!strncmp(argv[i], "--vddk-libdir=", 14)) {
      setenv("FERRY_VDDK_LIBDIR", argv[i] + 14, 1);
    } else if (!strcmp(argv[i], "--vddk-libdir") && i + 1 < *argc) {
      setenv("FERRY_VDDK_LIBDIR", argv[++i], 1);
    } else if (!strcmp(argv[i], "--password-file")) {
      if (i + 1 >= *argc) {
        cli_error("--password-file wants a file");
        return -1;
      }
      o->password_file = argv[++i];
    } else if (!strncmp(argv[i], "--password-file=", 16)) {
      o->password_file = argv[i] + 16;
    } else {
      argv[w++] = argv[i];
    }
  }
  argv[w] = NULL;
  *argc = w;
  return 0;
}
