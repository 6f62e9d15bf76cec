/* Progress: a bar when stderr is a terminal; a line a second with
 * --progress otherwise; JSON lines on a descriptor with --progress=fd:N
 * (as nbdcopy's --progress=FD), a line a second and a final one per pass. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "options.h"

bool cli_set_progress(const struct cli_opt *opt, void *opts,
                      const char *value)
{
  struct progress_opt *p = (struct progress_opt *)((char *)opts + opt->field);
  if (!value) {
    p->lines = true;
    return true;
  }
  char *end;
  long fd = strncmp(value, "fd:", 3) ? -1 : strtol(value + 3, &end, 10);
  if (fd < 0 || fd > 1 << 20 || end == value + 3 || *end) {
    cli_error("--%s=%s: want --%s or --%s=fd:N", opt->name, value, opt->name,
              opt->name);
    return false;
  }
  if (fcntl((int)fd, F_GETFD) < 0) {
    cli_error("--%s=%s: descriptor %ld is not open", opt->name, value, fd);
    return false;
  }
  p->fd = (int)fd;
  return true;
}

void progress_init(struct progress *p, const struct progress_opt *opt)
{
  p->fd = opt->fd;
  p->bar = p->fd < 0 && isatty(STDERR_FILENO);
  p->lines = opt->lines && !p->bar && p->fd < 0;
  p->t0 = p->last = now_seconds();
  p->phase = NULL;
}

void progress_json_line(int fd, const char *phase, uint64_t done,
                        uint64_t total, double seconds, bool final,
                        json_object *extra)
{
  struct timespec ts;
  struct tm tm;
  char when[40];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
  double rate = seconds > 0 ? done / seconds : 0;
  json_object *j = json_object_new_object();
  json_object_object_add(j, "time", json_object_new_string(when));
  json_object_object_add(j, "phase", json_object_new_string(phase));
  json_object_object_add(j, "done", json_object_new_uint64(done));
  json_object_object_add(j, "total", json_object_new_uint64(total));
  json_object_object_add(j, "bytes_per_second",
                         json_object_new_uint64((uint64_t)rate));
  /* to a tenth of a second; null while the rate says nothing yet */
  char eta[32];
  snprintf(eta, sizeof eta, "%.1f", rate > 0 ? (total - done) / rate : 0);
  json_object_object_add(j, "eta_seconds", final ? json_object_new_int(0)
                         : rate > 0 ? json_object_new_double_s(
                               (total - done) / rate, eta) : NULL);
  json_object_object_add(j, "final", json_object_new_boolean(final));
  if (extra) {
    json_object_object_foreach(extra, k, v)
      json_object_object_add(j, k, json_object_get(v));
    json_object_put(extra);
  }
  dprintf(fd, "%s\n", json_object_to_json_string_ext(
                          j, JSON_C_TO_STRING_PLAIN |
                                 JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(j);
}

int progress_phase_cb(void *opaque, const char *phase, uint64_t done,
                      uint64_t total)
{
  struct progress *p = opaque;
  if (cli_interrupted)
    return 1;
  double now = now_seconds();
  if (!p->phase || strcmp(p->phase, phase)) { /* a new pass: its own rate */
    if (p->bar && p->phase)
      fputc('\n', stderr);
    if (p->phase) /* it began when the last pass's final call came */
      p->t0 = p->prev;
    p->phase = phase;
    p->last = 0;
  }
  p->prev = now;
  bool final = done == total;
  if (!p->bar && !((p->lines || p->fd >= 0) &&
                   (now - p->last >= 1 || final)))
    return 0;
  p->last = now;
  double el = now - p->t0, rate = el > 0 ? done / el : 0;
  if (p->fd >= 0) {
    progress_json_line(p->fd, phase, done, total, el, final, NULL);
    return 0;
  }
  double pct = total ? 100.0 * done / total : 100;
  char d[32], t[32], r[32];
  human_size(done, d, sizeof d);
  human_size(total, t, sizeof t);
  human_size((uint64_t)rate, r, sizeof r);
  int eta = rate > 0 && total > done ? (int)((total - done) / rate) : 0;
  if (p->bar) {
    int width = 30, fill = (int)(pct / 100 * width);
    fprintf(stderr, "\r%-6s [%.*s%*s] %5.1f%% %s/%s %s/s ETA %ds \033[K",
            phase, fill, "==============================", width - fill, "",
            pct, d, t, r, eta);
  } else {
    fprintf(stderr, "%s: %.1f%% %s/%s %s/s ETA %ds\n", phase, pct, d, t, r,
            eta);
  }
  fflush(stderr);
  return 0;
}

void progress_end(struct progress *p)
{
  if (p->bar && p->phase)
    fputc('\n', stderr);
}
