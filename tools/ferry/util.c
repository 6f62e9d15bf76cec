/* Small helpers of the command line: sizes, numbers, time, signals. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

volatile int cli_interrupted;

static char cli_msg[1024];

void cli_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cli_msg, sizeof cli_msg, fmt, ap);
  va_end(ap);
}

void json_add_error(json_object *j, const char *msg, int err, int code)
{
  const char *name = strerrorname_np(err);
  json_object_object_add(j, "error", json_object_new_string(msg));
  json_object_object_add(j, "errno", json_object_new_int(err));
  json_object_object_add(j, "errno_name",
                         name ? json_object_new_string(name) : NULL);
  json_object_object_add(j, "exit_code", json_object_new_int(code));
}

int cli_fail(bool json, const char *cmd, int code)
{
  if (json) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "ok", json_object_new_boolean(0));
    /* the library's errno, else what the exit code means */
    int e = ferry_last_errno();
    if (e <= 0)
      e = code == EXIT_USAGE ? EINVAL : EIO;
    json_add_error(j, cli_msg, e, code);
    puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(j);
  } else {
    fprintf(stderr, "ferry %s: %s\n", cmd, cli_msg);
  }
  return code;
}

static void on_signal(int sig)
{
  cli_interrupted = sig;
}

void cli_catch_signals(void)
{
  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void human_size(uint64_t b, char *buf, size_t len)
{
  const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = b;
  int i = 0;
  while (v >= 1024 && i < 5) {
    v /= 1024;
    i++;
  }
  snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

bool parse_uint(const char *s, unsigned *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (!*s || *end || errno || v > 1u << 30 || *s == '-')
    return false;
  *out = v;
  return true;
}

bool parse_size(const char *s, uint64_t *out)
{
  char *end;
  errno = 0;
  if (!*s || *s == '-')
    return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s)
    return false;
  /* K M G T P (any case) or KiB ... PiB: powers of 1024, as qemu-img */
  static const char units[] = "KMGTP";
  uint64_t mul = 1;
  if (*end && strcmp(end, "B")) {
    const char *u = strchr(units, toupper((unsigned char)*end));
    if (!u || (end[1] && strcmp(end + 1, "iB")))
      return false;
    mul = 1ull << (10 * (u - units + 1));
  }
  if (v > UINT64_MAX / mul)
    return false;
  *out = v * mul;
  return true;
}
