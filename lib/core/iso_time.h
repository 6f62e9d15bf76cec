/* Internal: "2026-11-21T13:12:37.123Z" (fractions and zone ignored: the
 * APIs that write it mean UTC) as seconds since the epoch; 0 when it does
 * not parse. */
#ifndef FERRY_CORE_ISO_TIME_H
#define FERRY_CORE_ISO_TIME_H

#include <stdint.h>

uint64_t iso_time_seconds(const char *s);

#endif
