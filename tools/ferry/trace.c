/* -v and --log FILE: the library's trace (<ferry/log.h>) as timestamped
 * lines on stderr or appended to a file (ferry_log_write). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ferry/log.h>

#include "options.h"

bool cli_trace_start(const struct common_opts *c)
{
  FILE *f = c->verbose && !c->log ? stderr : NULL;
  if (c->log) {
    /* 0600: a trace names hosts, paths and users */
    int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "a"))) {
      cli_error("--log %s: %s", c->log, strerror(errno));
      if (fd >= 0)
        close(fd);
      return false;
    }
  }
  if (f)
    ferry_set_log_callback(ferry_log_write, f);
  return true;
}
