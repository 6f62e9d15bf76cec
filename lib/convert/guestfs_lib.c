/* libguestfs.so.0's table; see guestfs_lib.h. */
#define GUESTFS_LIB_NO_REDIRECT
#include "guestfs_lib.h"

DYNLIB_DEFINE(guestfs, "libguestfs.so.0", "libguestfs0", GUESTFS_LIB_FUNCS)
