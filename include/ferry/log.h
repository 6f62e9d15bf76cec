/* Tracing: what ferry does, a line at a time, for -v and FERRY_DEBUG=1
 * (as LIBNBD_DEBUG does for libnbd). Each line has a topic:
 *
 *   "qmp"    a QMP command sent to QEMU, and its outcome
 *   "soap"   a vSphere SOAP call (the method and object; never a body,
 *            which may hold a password)
 *   "child"  a helper process started (qemu-img, qemu-nbd, qemu-system;
 *            argv never holds a secret)
 *   "round"  a migration round: its snapshot and changed extents
 *   "sync"   a copy: its extents, bytes and workers
 *
 * Lines never hold a password or a token.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called with each line (no newline), from whichever thread is working:
 * it must be thread-safe. Calls are serialized by ferry. */
typedef void ferry_log_callback(void *opaque, const char *topic,
                                const char *message);

/* Routes the trace to cb (NULL: stops it). Without a callback, the
 * environment variable FERRY_DEBUG=1 writes it to stderr, a line each as
 * "ferry: TIME TOPIC: MESSAGE" (TIME in UTC, to the millisecond). */
void ferry_set_log_callback(ferry_log_callback *cb, void *opaque);

/* A callback that writes each line to the FILE * opaque as FERRY_DEBUG
 * does, "ferry: TIME TOPIC: MESSAGE", and flushes it:
 * ferry_set_log_callback(ferry_log_write, stderr). */
void ferry_log_write(void *opaque, const char *topic, const char *message);

/* True when a trace line would go somewhere (a callback, or FERRY_DEBUG). */
bool ferry_log_enabled(void);

#ifdef __cplusplus
}
#endif

#endif
