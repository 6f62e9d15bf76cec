/* A minimal assertion harness: each test program exits non-zero on the
 * first failed check, naming the file, line and expression. */
#ifndef FERRY_TEST_CHECK_H
#define FERRY_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,      \
              #cond);                                                        \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

/* A string contains a substring. */
#define CHECK_HAS(s, sub)                                                    \
  do {                                                                       \
    const char *s_ = (s);                                                    \
    if (!s_ || !strstr(s_, (sub))) {                                         \
      fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__,       \
              __LINE__, s_ ? s_ : "(null)", (sub));                          \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

#endif
