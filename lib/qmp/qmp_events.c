/* The event queue: events that arrived while nobody waited for them, kept
 * in arrival order. Bounded so a chatty QEMU (MIGRATION_PASS, BLOCK_IO_ERROR
 * storms) cannot grow it without limit: beyond QMP_EVENT_QUEUE_MAX the
 * oldest is dropped and counted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qmp_int.h"

int qmp_events_init(struct qmp_events *e)
{
  e->v = calloc(QMP_EVENT_QUEUE_MAX, sizeof *e->v);
  e->n = 0;
  e->dropped = 0;
  return e->v ? 0 : -ENOMEM;
}

void qmp_events_free(struct qmp_events *e)
{
  for (size_t i = 0; i < e->n; i++)
    json_object_put(e->v[i]);
  free(e->v);
  e->v = NULL;
  e->n = 0;
}

static void remove_at(struct qmp_events *e, size_t i)
{
  memmove(&e->v[i], &e->v[i + 1], (e->n - i - 1) * sizeof *e->v);
  e->n--;
}

void qmp_events_push(struct qmp_events *e, json_object *ev)
{
  if (e->n == QMP_EVENT_QUEUE_MAX) {
    json_object_put(e->v[0]);
    remove_at(e, 0);
    e->dropped++;
  }
  e->v[e->n++] = ev;
}

bool qmp_event_matches(json_object *ev, const char *name, const char *key,
                       const char *value)
{
  const char *n = qmp_event_name(ev);
  if (!n || (name && strcmp(n, name) != 0))
    return false;
  if (!key)
    return true;
  json_object *v;
  if (!json_object_object_get_ex(qmp_event_data(ev), key, &v) ||
      !json_object_is_type(v, json_type_string))
    return false;
  return strcmp(json_object_get_string(v), value ? value : "") == 0;
}

json_object *qmp_events_take(struct qmp_events *e, const char *name,
                             const char *key, const char *value)
{
  for (size_t i = 0; i < e->n; i++)
    if (qmp_event_matches(e->v[i], name, key, value)) {
      json_object *ev = e->v[i];
      remove_at(e, i);
      return ev;
    }
  return NULL;
}

const char *qmp_event_name(json_object *ev)
{
  json_object *v;
  if (!json_object_object_get_ex(ev, "event", &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

json_object *qmp_event_data(json_object *ev)
{
  json_object *v;
  return json_object_object_get_ex(ev, "data", &v) ? v : NULL;
}

int64_t qmp_event_ts(json_object *ev)
{
  json_object *t, *s, *us;
  if (!json_object_object_get_ex(ev, "timestamp", &t) ||
      !json_object_object_get_ex(t, "seconds", &s) ||
      !json_object_object_get_ex(t, "microseconds", &us))
    return -1;
  return json_object_get_int64(s) * 1000000 + json_object_get_int64(us);
}

uint64_t qmp_events_dropped(const struct qmp *q)
{
  return q->ev.dropped;
}
