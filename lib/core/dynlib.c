/* Loading a library at run time; see dynlib.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"
#include "error.h"

static void load(struct dynlib *d)
{
  void *h = dlopen(d->soname, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(d->error, sizeof d->error, "cannot load %s (install Debian's "
             "%s): %s", d->soname, d->package, dlerror());
    return;
  }
  for (size_t i = 0; i < d->n; i++) {
    void *f = dlsym(h, d->names[i]);
    if (!f) {
      snprintf(d->error, sizeof d->error, "%s lacks %s: ferry needs a newer "
               "%s", d->soname, d->names[i], d->package);
      return; /* h stays open: what it loaded may be in use elsewhere */
    }
    /* the table is an array of function pointers, each as wide as this */
    memcpy((char *)d->table + i * sizeof f, &f, sizeof f);
  }
  /* h stays open for the life of the process */
}

int dynlib_load(struct dynlib *d)
{
  pthread_mutex_lock(&d->lock);
  if (!d->tried) {
    load(d);
    d->tried = true;
  }
  pthread_mutex_unlock(&d->lock);
  return d->error[0] ? ferry_error(ENOTSUP, "%s", d->error) : 0;
}
