/* Internal: public options structs that start with their size (nbdkit's
 * _struct_size), read by what the caller's size covers. */
#ifndef FERRY_CORE_OPTS_H
#define FERRY_CORE_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "error.h"

/* The size of T's first version: up to and including member last. */
#define OPTS_V1_SIZE(T, last) (offsetof(T, last) + sizeof(((T *)0)->last))

/* Copies *src over *dst (which holds the defaults) as far as
 * src->struct_size reaches: a caller built against an older, shorter
 * struct keeps the defaults of the newer members. NULL src: the defaults.
 * A size below the first version's is EINVAL naming the struct. */
#define OPTS_TAKE(dst, src, T, last)                                          \
  opts_take((dst), sizeof *(dst), (src),                                      \
            (src) ? (src)->struct_size : 0, OPTS_V1_SIZE(T, last), #T)

static inline int opts_take(void *dst, size_t dst_size, const void *src,
                            size_t src_size, size_t v1_size, const char *what)
{
  if (!src)
    return 0;
  if (src_size < v1_size)
    return ferry_error(EINVAL, "%s: struct_size is %zu, at least %zu "
                       "expected (set it to sizeof the struct)", what,
                       src_size, v1_size);
  size_t n = src_size < dst_size ? src_size : dst_size;
  memcpy(dst, src, n);
  *(size_t *)dst = dst_size; /* the copy is of this version */
  return 0;
}

#endif
