/* SRC/DST arguments: whatever ferry_endpoint_open takes (a path,
 * file:///PATH, an NBD URI), as the seed's client plus a volume id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ferry/drivers.h>

#include "cli.h"

int endpoint_open(const char *arg, bool may_create, struct endpoint *ep)
{
  memset(ep, 0, sizeof *ep);
  ep->display = strdup(arg);
  ep->client = ferry_endpoint_open(arg, NULL, &ep->volume);
  if (!ep->client) {
    cli_error("%s", ferry_last_error());
    /* a URI or path that is no endpoint is a usage error */
    return ferry_last_errno() == ENOMEM ? -1 : -2;
  }
  /* A volume that is a path not there yet (a file endpoint): made by the
   * caller, with the source's size. */
  struct stat st;
  if (may_create && ep->volume[0] == '/' && stat(ep->volume, &st) < 0 &&
      errno == ENOENT)
    ep->create_path = strdup(ep->volume);
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
