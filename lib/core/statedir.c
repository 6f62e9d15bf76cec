/* Where ferry keeps its state when nobody says: the system's for root, the
 * user's XDG state dir for everyone else (as libvirt's session URIs keep a
 * user's VMs under HOME), so that a user's journals are always found in
 * the same place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ferry/platform.h>

#include "error.h"

int ferry_state_dir(char *buf, size_t len)
{
  const char *st = getenv("FERRY_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  int n;
  if (st && *st)
    n = snprintf(buf, len, "%s", st);
  else if (geteuid() == 0)
    n = snprintf(buf, len, "/var/lib/ferry");
  else if (xdg && *xdg == '/')
    n = snprintf(buf, len, "%s/ferry", xdg);
  else if (home && *home == '/')
    n = snprintf(buf, len, "%s/.local/state/ferry", home);
  else
    return ferry_error(ENOENT, "no state directory: set FERRY_STATE_DIR "
                       "(HOME is not set)");
  if (n < 0 || (size_t)n >= len)
    return ferry_error(ENAMETOOLONG, "the state directory's path is too "
                       "long");
  return 0;
}
