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

#endif
