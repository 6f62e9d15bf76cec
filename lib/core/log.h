/* Internal: writing trace lines (see <ferry/log.h>). */
#ifndef FERRY_CORE_LOG_H
#define FERRY_CORE_LOG_H

#include <ferry/log.h>

/* One line under topic, when tracing is on (cheap when it is off). */
void ferry_log(const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "argv[0] arg1 ...", each word quoted when it needs it, for a trace. */
void log_argv(const char *topic, const char *what, char *const argv[]);

#endif
