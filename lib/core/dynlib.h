/* Internal: a library loaded with dlopen on first use, its functions in a
 * table. What a copy between files does not use, it does not load: libnbd
 * (gnutls, ICU), libvirt (glib, 14 MiB resident) and libguestfs cost a
 * sync 50 ms of every cold start and most of its memory. The prototypes
 * still come from each library's own header, so calls are type-checked as
 * before: a header per library lists the functions ferry calls (an X macro)
 * and routes each call through the table (lib/volume/nbd_lib.h,
 * lib/platforms/libvirt/virt_lib.h, lib/convert/guestfs_lib.h). */
#ifndef FERRY_CORE_DYNLIB_H
#define FERRY_CORE_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct dynlib {
  const char *soname;  /* "libvirt.so.0" */
  const char *package; /* the Debian package that has it, for messages */
  const char *const *names; /* the functions, in the table's order */
  void *table;              /* as many function pointers */
  size_t n;
  pthread_mutex_t lock;
  bool tried;
  char error[512];
};

/* Loads the library once (later calls say how that went). Returns 0, or
 * -ENOTSUP with a message naming the package to install. */
int dynlib_load(struct dynlib *d);

#define DYNLIB_MEMBER(f) __typeof__(f) *f;
#define DYNLIB_NAME(f) #f,

/* In a library's header: its table, NAME_lib_load() and NAME_lib() (the
 * table, valid once NAME_lib_load() returned 0). */
#define DYNLIB_DECLARE(name, FUNCS)                                           \
  struct name##_lib { FUNCS(DYNLIB_MEMBER) };                                 \
  int name##_lib_load(void);                                                  \
  const struct name##_lib *name##_lib(void);

/* In its .c file, with the header's redirects turned off. */
#define DYNLIB_DEFINE(name, soname_, package_, FUNCS)                         \
  static struct name##_lib name##_table;                                      \
  static const char *const name##_names[] = { FUNCS(DYNLIB_NAME) };           \
  static struct dynlib name##_dl = {                                          \
    .soname = soname_, .package = package_, .names = name##_names,            \
    .table = &name##_table,                                                   \
    .n = sizeof name##_names / sizeof name##_names[0],                        \
    .lock = PTHREAD_MUTEX_INITIALIZER,                                        \
  };                                                                          \
  int name##_lib_load(void) { return dynlib_load(&name##_dl); }               \
  const struct name##_lib *name##_lib(void) { return &name##_table; }

#endif
