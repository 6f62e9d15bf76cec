/* libnbd's table; see nbd_lib.h. */
#define NBD_LIB_NO_REDIRECT
#include "nbd_lib.h"

DYNLIB_DEFINE(nbd, "libnbd.so.0", "libnbd0 (1.14 or later)", NBD_LIB_FUNCS)
