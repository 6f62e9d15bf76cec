/* The registry: every driver built in (drivers.h, generated from the list
 * in meson.build), what callers learn of them, and the entry points that
 * open a platform or an endpoint by URI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/client.h"
#include "../core/error.h"
#include "drivers.h"

static const struct ferry_driver *const drivers[] = { DRIVERS_LIST };
#define N_DRIVERS (sizeof drivers / sizeof drivers[0])

const struct ferry_driver *const *driver_list(size_t *n)
{
  *n = N_DRIVERS;
  return drivers;
}

size_t ferry_drivers(const struct ferry_driver_info *const **out)
{
  /* info is each driver's first member: the one array serves both */
  static const struct ferry_driver_info *infos[N_DRIVERS];
  for (size_t i = 0; i < N_DRIVERS; i++)
    infos[i] = &drivers[i]->info;
  *out = infos;
  return N_DRIVERS;
}

bool driver_claims(const struct ferry_driver *d, const char *uri)
{
  const char *end = strstr(uri, "://");
  size_t n = end && strcspn(uri, "/?") >= (size_t)(end - uri)
                 ? (size_t)(end - uri) : 0;
  for (const char *const *s = d->info.schemes; s && *s; s++)
    if (strlen(*s) == n && !strncmp(*s, uri, n))
      return !d->claims || d->claims(uri);
  return false;
}

const struct ferry_driver_info *ferry_driver_of(const char *uri)
{
  ferry_error_clear();
  for (size_t i = 0; uri && i < N_DRIVERS; i++)
    if (driver_claims(drivers[i], uri))
      return &drivers[i]->info;
  ferry_error(ENOTSUP, "'%s': no driver of this ferry takes it",
              uri ? uri : "");
  return NULL;
}

const struct ferry_driver_info *ferry_client_driver(client_t *c)
{
  struct ferry_client *fc = ferry_client_of(c);
  return fc ? &fc->driver->info : NULL;
}

client_t *ferry_platform_open_auth(const char *uri,
                                   const struct ferry_auth *auth,
                                   unsigned flags)
{
  if (flags & ~(unsigned)FERRY_OPEN_EXISTING) {
    ferry_error(EINVAL, "ferry_platform_open_auth: unknown flags %#x",
                flags & ~(unsigned)FERRY_OPEN_EXISTING);
    return NULL;
  }
  return client_open(NULL, true, uri, auth, NULL, NULL, NULL, flags);
}

client_t *ferry_platform_open(const char *uri)
{
  return ferry_platform_open_auth(uri, NULL, 0);
}

client_t *ferry_endpoint_open(const char *arg, const struct ferry_auth *auth,
                              char **volume_id)
{
  ferry_error_clear();
  *volume_id = NULL;
  if (!arg || !*arg) {
    ferry_error(EINVAL, "no endpoint given");
    return NULL;
  }
  char *uri = NULL;
  int r = DRIVER_DECLINED;
  const struct ferry_driver *d = NULL;
  for (size_t i = 0; i < N_DRIVERS && r == DRIVER_DECLINED; i++)
    if (drivers[i]->endpoint && driver_claims(drivers[i], arg))
      r = (d = drivers[i])->endpoint(arg, &uri, volume_id);
  if (r == DRIVER_DECLINED) {
    char known[512];
    size_t w = 0;
    known[0] = '\0';
    for (size_t i = 0; i < N_DRIVERS; i++)
      if (drivers[i]->endpoint)
        w += snprintf(known + w, w < sizeof known ? sizeof known - w : 0,
                      "%s%s", w ? ", " : "", drivers[i]->info.uri_help);
    ferry_error(EINVAL, "'%s': unknown scheme (use a path, %s)", arg, known);
    return NULL;
  }
  client_t *c = r < 0 ? NULL
                      : client_open(d, false, uri, auth, NULL, NULL, NULL,
                                    DRIVER_OPEN_BY_TYPE);
  free(uri);
  if (!c) {
    free(*volume_id);
    *volume_id = NULL;
  }
  return c;
}
