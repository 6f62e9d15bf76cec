/* -v and --log FILE: the library's trace (<ferry/log.h>) as timestamped
 * lines on stderr or appended to a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ferry/log.h>

#include "options.h"

static FILE *trace_file;

static void write_line(void *opaque, const char *topic, const char *message)
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

bool cli_trace_start(const struct common_opts *c)
{
  if (c->log) {
    /* 0600: a trace names hosts, paths and users */
    int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || !(trace_file = fdopen(fd, "a"))) {
      cli_error("--log %s: %s", c->log, strerror(errno));
      if (fd >= 0)
        close(fd);
      return false;
    }
    ferry_set_log_callback(write_line, trace_file);
  } else if (c->verbose) {
    ferry_set_log_callback(write_line, stderr);
  }
  return true;
}
