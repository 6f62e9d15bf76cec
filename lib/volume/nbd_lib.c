/* Loading libnbd at run time; see nbd_lib.h. */
#define NBD_LIB_NO_REDIRECT
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "../core/error.h"
#include "nbd_lib.h"

/* Written once under pthread_once, read-only afterwards. */
static struct nbd_lib table;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void load(void)
{
  void *h = dlopen("libnbd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(load_error, sizeof load_error, "cannot load libnbd (install "
             "Debian's libnbd0): %s", dlerror());
    return;
  }
  struct nbd_lib t;
#define NBD_LIB_RESOLVE(f)                                                    \
  if (!(t.f = (__typeof__(f) *)dlsym(h, #f))) {                               \
    snprintf(load_error, sizeof load_error, "libnbd.so.0 lacks %s: ferry "    \
             "needs libnbd 1.14 or later", #f);                               \
    return;                                                                   \
  }
  NBD_LIB_FUNCS(NBD_LIB_RESOLVE)
#undef NBD_LIB_RESOLVE
  table = t; /* h stays open for the life of the process */
}

int nbd_lib_load(void)
{
  pthread_once(&once, load);
  return load_error[0] ? ferry_error(ENOTSUP, "%s", load_error) : 0;
}

const struct nbd_lib *nbd_lib(void)
{
  return &table;
}
