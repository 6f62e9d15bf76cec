/* Internal to lib/qmp: the handle, the framing and the event queue. */
#ifndef FERRY_QMP_INT_H
#define FERRY_QMP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "qmp.h"

/* Queued events, oldest first. A plain array: removal from the middle (a
 * wait for one name skips the others) shifts at most 1024 pointers. */
struct qmp_events {
  json_object **v; /* capacity QMP_EVENT_QUEUE_MAX */
  size_t n;
  uint64_t dropped;
};

#define QMP_RBUF_SIZE 65536
/* Nesting allowed in a message: query-block nests one level per backing
 * image, so json-c's default of 32 is too low for long chains. */
#define QMP_JSON_DEPTH 1024

struct qmp {
  int fd;
  char *path;
  json_tokener *tok;
  char *rbuf; /* QMP_RBUF_SIZE; bytes read not yet given to the tokener */
  size_t rpos, rlen;
  int64_t next_id;
  int dead; /* positive errno once the stream is unusable */
  struct qmp_events ev;
  int major, minor, micro;
};

/* qmp_wire.c: sockets, deadlines and JSON framing. Errors set a message
 * without the "qmp CMD: " prefix, which the callers add. */
int64_t qmp_deadline(int timeout_ms); /* -1: none */
int qmp_ms_left(int64_t deadline);    /* for poll(): -1 forever, 0 past */
int qmp_wire_connect(const char *path, int64_t deadline, int *fd);
/* Sends buf (all of it), with fd attached to the first byte if fd >= 0. */
int qmp_wire_send(struct qmp *q, const char *buf, size_t len, int fd,
                  int64_t deadline);
/* The next complete JSON object from the stream. */
int qmp_wire_recv(struct qmp *q, int64_t deadline, json_object **out);

/* qmp.c: the handshake (greeting, qmp_capabilities) on a connected
 * stream fd, which the handle owns from here on (closed on failure too);
 * name is for messages. qmp_connect is qmp_wire_connect + this. */
int qmp_attach(int fd, const char *name, int timeout_ms, struct qmp **out);

/* qmp_events.c */
int qmp_events_init(struct qmp_events *e);
void qmp_events_free(struct qmp_events *e);
/* Takes ownership; drops the oldest when full. */
void qmp_events_push(struct qmp_events *e, json_object *ev);
/* Removes and returns the oldest matching event, or NULL. */
json_object *qmp_events_take(struct qmp_events *e, const char *name,
                             const char *key, const char *value);
bool qmp_event_matches(json_object *ev, const char *name, const char *key,
                       const char *value);

#endif
