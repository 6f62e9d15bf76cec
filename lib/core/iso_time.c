/* Wall-clock times as platforms' APIs write them (ISO 8601, UTC). */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <time.h>

#include "iso_time.h"

uint64_t iso_time_seconds(const char *s)
{
  struct tm tm = { 0 };
  if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
    return 0;
  time_t t = timegm(&tm);
  return t < 0 ? 0 : (uint64_t)t;
}
