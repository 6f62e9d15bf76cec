/* Internal: setting the thread-local error. */
#ifndef FERRY_CORE_ERROR_H
#define FERRY_CORE_ERROR_H

#include <ferry/error.h>

/* Records errnum (positive) and a formatted message for this thread and
 * returns -errnum, so callers can write: return ferry_error(EINVAL, "..."). */
int ferry_error(int errnum, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with context, keeping its errno:
 * "volume disk.img: " + "pread at 4096: Input/output error". Returns -errno. */
int ferry_error_prefix(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

void ferry_error_clear(void);

/* The thread's error, kept while clean-up code runs (whose calls may
 * clear or replace it) and put back after: the first error wins. */
struct saved_error {
  int err; /* 0: there was none */
  char msg[1024];
};
void error_save(struct saved_error *e);
/* Puts e back (when it holds one); returns -e->err (0 when none). */
int error_restore(const struct saved_error *e);

#endif
