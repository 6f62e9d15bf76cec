/* The trace: a callback the caller set, else stderr when FERRY_DEBUG=1. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ferry_log_callback *callback;
static void *callback_opaque;

/* Read once: a process does not change its mind about FERRY_DEBUG. */
static bool debug_env(void)
{
  static int on = -1;
  if (on < 0) {
    const char *e = getenv("FERRY_DEBUG");
    on = e && *e && strcmp(e, "0") != 0;
  }
  return on;
}

void ferry_set_log_callback(ferry_log_callback *cb, void *opaque)
{
  pthread_mutex_lock(&lock);
  callback = cb;
  callback_opaque = opaque;
  pthread_mutex_unlock(&lock);
}

bool ferry_log_enabled(void)
{
  pthread_mutex_lock(&lock);
  bool on = callback != NULL;
  pthread_mutex_unlock(&lock);
  return on || debug_env();
}

void ferry_log_write(void *opaque, const char *topic, const char *message)
{
  FILE *f = opaque;
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(f, "ferry: %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s\n",
          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
          tm.tm_sec, ts.tv_nsec / 1000000, topic, message);
  fflush(f);
}

void ferry_log(const char *topic, const char *fmt, ...)
{
  if (!ferry_log_enabled())
    return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof msg) /* say it was cut */
    memcpy(msg + sizeof msg - 4, "...", 4);
  pthread_mutex_lock(&lock);
  if (callback)
    callback(callback_opaque, topic, msg);
  else
    ferry_log_write(stderr, topic, msg);
  pthread_mutex_unlock(&lock);
}

void log_argv(const char *topic, const char *what, char *const argv[])
{
  if (!ferry_log_enabled())
    return;
  char line[1800];
  size_t n = 0;
  for (size_t i = 0; argv[i] && n < sizeof line - 4; i++) {
    const char *a = argv[i];
    bool quote = !*a || strpbrk(a, " \t\n'\"\\$*?") != NULL;
    n += (size_t)snprintf(line + n, sizeof line - n, "%s%s%s%s", i ? " " : "",
                          quote ? "'" : "", a, quote ? "'" : "");
  }
  if (n >= sizeof line)
    n = sizeof line - 1;
  line[n] = '\0';
  ferry_log(topic, "%s %s", what, line);
}
