/* libvirt.so.0's table; see virt_lib.h. */
#define VIRT_LIB_NO_REDIRECT
#include "virt_lib.h"

DYNLIB_DEFINE(virt, "libvirt.so.0", "libvirt0", VIRT_LIB_FUNCS)
