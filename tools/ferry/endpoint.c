/* SRC/DST arguments: a path, file:///path, or an NBD URI, opened as the
 * seed's client plus a volume id. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static bool is_nbd(const char *s)
{
  return !strncmp(s, "nbd://", 6) || !strncmp(s, "nbd+unix://", 11) ||
         !strncmp(s, "nbds://", 7) || !strncmp(s, "nbds+unix://", 12);
}

/* file:///a%20b -> /a b */
static char *file_uri_path(const char *s)
{
  const char *p = s + 7;
  if (strncmp(p, "localhost/", 10) == 0)
    p += 9;
  if (*p != '/')
    return NULL;
  char *out = malloc(strlen(p) + 1), *w = out;
  for (; out && *p; p++) {
    unsigned hi, lo;
    if (*p == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2 && (hi | lo)) {
      *w++ = (char)(hi * 16 + lo);
      p += 2;
    } else {
      *w++ = *p;
    }
  }
  if (out)
    *w = '\0';
  return out;
}

int endpoint_open(const char *arg, bool may_create, struct endpoint *ep)
{
  memset(ep, 0, sizeof *ep);
  ep->display = strdup(arg);
  if (is_nbd(arg)) {
    ep->client = create_client(CLIENT_NBD, NULL, NULL, arg, NULL, NULL, NULL);
    ep->volume = strdup("");
    if (!ep->client) { /* the URI did not parse: a usage error */
      cli_error("%s", ferry_last_error());
      return -2;
    }
    return 0;
  }
  char *path;
  if (!strncmp(arg, "file://", 7)) {
    if (!(path = file_uri_path(arg))) {
      cli_error("'%s': a file URI needs an absolute path (file:///PATH)",
                arg);
      return -2;
    }
  } else if (strstr(arg, "://")) {
    cli_error("'%s': unknown scheme (use a path, file://, nbd:// or "
              "nbd+unix://)", arg);
    return -2;
  } else if (arg[0] == '/') {
    path = strdup(arg);
  } else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
      cli_error("getcwd: %s", strerror(errno));
      return -1;
    }
    path = malloc(strlen(cwd) + strlen(arg) + 2);
    if (path)
      sprintf(path, "%s/%s", cwd, arg);
  }
  struct stat st;
  if (may_create && stat(path, &st) < 0 && errno == ENOENT)
    ep->create_path = strdup(path);
  /* A path names itself: the client's root is / and nothing escapes it. */
  ep->client = create_client(CLIENT_FILE, NULL, NULL, "/", NULL, NULL, NULL);
  ep->volume = path;
  if (!ep->client) {
    cli_error("%s", ferry_last_error());
    return -1;
  }
  return 0;
}

void endpoint_close(struct endpoint *ep)
{
  if (ep->client)
    destroy_client(ep->client);
  free(ep->volume);
  free(ep->display);
  free(ep->create_path);
  memset(ep, 0, sizeof *ep);
}
