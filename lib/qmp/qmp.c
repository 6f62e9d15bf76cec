/* The QMP connection: handshake, commands matched to replies by id, events
 * queued on the way, and the error-class mapping documented in qmp.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/log.h"
#include "qmp_int.h"

static int class_errno(const char *cls)
{
  if (!strcmp(cls, "CommandNotFound") || !strcmp(cls, "KVMMissingCap"))
    return ENOTSUP;
  if (!strcmp(cls, "DeviceNotFound") || !strcmp(cls, "DeviceNotActive"))
    return ENODEV;
  return EIO;
}

static const char *str_member(json_object *o, const char *key)
{
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static int reply_error(const char *cmd, json_object *err)
{
  const char *cls = str_member(err, "class");
  const char *desc = str_member(err, "desc");
  return ferry_error(class_errno(cls ? cls : ""), "qmp %s: %s: %s", cmd,
                     cls ? cls : "(no class)", desc ? desc : "(no desc)");
}

/* Sorts one incoming object: events go to the queue; returns 1 if it is the
 * reply to command `id`, 0 if it was queued or discarded (a late reply to a
 * command that timed out). QEMU omits the id only on an error reply to a
 * request it could not parse; with one command in flight, that is ours. */
static int dispatch(struct qmp *q, json_object *o, int64_t id)
{
  if (str_member(o, "event")) {
    qmp_events_push(&q->ev, o);
    return 0;
  }
  json_object *jid;
  if (json_object_object_get_ex(o, "id", &jid)) {
    if (json_object_is_type(jid, json_type_int) &&
        json_object_get_int64(jid) == id)
      return 1;
  } else if (json_object_object_get_ex(o, "error", NULL)) {
    return 1;
  }
  json_object_put(o);
  return 0;
}

/* Queues an event, drops anything else: for reads outside a command. */
static void absorb(struct qmp *q, json_object *o)
{
  if (dispatch(q, o, -1))
    json_object_put(o);
}

/* After a failed send, keeps what QEMU wrote before it went away. */
static void drain(struct qmp *q)
{
  json_object *o;
  while (qmp_wire_recv(q, qmp_deadline(0), &o) == 0)
    absorb(q, o);
  if (!q->dead)
    q->dead = ECONNRESET;
}

static int exec_dl(struct qmp *q, const char *cmd, json_object *args, int fd,
                   json_object **ret, int64_t deadline, int timeout_ms)
{
  if (ret)
    *ret = NULL;
  if (args && !json_object_is_type(args, json_type_object))
    return ferry_error(EINVAL, "qmp %s: arguments must be a JSON object",
                       cmd);
  int64_t id = ++q->next_id;
  json_object *req = json_object_new_object();
  if (!req)
    return ferry_error(ENOMEM, "qmp %s: out of memory", cmd);
  json_object_object_add(req, "execute", json_object_new_string(cmd));
  if (args)
    json_object_object_add(req, "arguments", json_object_get(args));
  json_object_object_add(req, "id", json_object_new_int64(id));
  const char *s = json_object_to_json_string_ext(
      req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *line = s ? malloc(strlen(s) + 2) : NULL;
  if (!line) {
    json_object_put(req);
    return ferry_error(ENOMEM, "qmp %s: out of memory", cmd);
  }
  size_t len = strlen(s);
  memcpy(line, s, len);
  line[len++] = '\n'; /* not needed by QEMU; readable in a trace */
  json_object_put(req);
  ferry_log("qmp", "%s -> %.*s", q->path, (int)len - 1, line);
  int r = qmp_wire_send(q, line, len, fd, deadline);
  free(line);
  if (r == -ECONNRESET) {
    drain(q);
    return ferry_error(ECONNRESET, "qmp %s: QEMU closed the QMP connection "
                       "(quit or crashed)", cmd);
  }
  if (r < 0)
    return ferry_error_prefix("qmp %s: ", cmd);

  json_object *o;
  for (;;) {
    r = qmp_wire_recv(q, deadline, &o);
    if (r == -ETIMEDOUT)
      return ferry_error(ETIMEDOUT, "qmp %s: no reply within %d ms", cmd,
                         timeout_ms);
    if (r == -ECONNRESET)
      return ferry_error(ECONNRESET, "qmp %s: QEMU closed the QMP connection "
                         "(quit or crashed)", cmd);
    if (r < 0)
      return ferry_error_prefix("qmp %s: ", cmd);
    if (dispatch(q, o, id))
      break;
  }
  json_object *v;
  if (json_object_object_get_ex(o, "return", &v)) {
    if (ret)
      *ret = json_object_get(v);
    r = 0;
  } else if (json_object_object_get_ex(o, "error", &v)) {
    r = reply_error(cmd, v);
  } else {
    r = ferry_error(EPROTO, "qmp %s: reply has neither return nor error: %s",
                    cmd, json_object_to_json_string(o));
  }
  json_object_put(o);
  if (r < 0)
    ferry_log("qmp", "%s <- %s failed: %s", q->path, cmd, ferry_last_error());
  else
    ferry_log("qmp", "%s <- %s ok", q->path, cmd);
  return r;
}

int qmp_execute_fd(struct qmp *q, const char *cmd, json_object *args, int fd,
                   json_object **ret, int timeout_ms)
{
  if (ret)
    *ret = NULL;
  if (!q || !cmd)
    return ferry_error(EINVAL, "qmp: no handle or no command");
  return exec_dl(q, cmd, args, fd, ret, qmp_deadline(timeout_ms), timeout_ms);
}

int qmp_execute(struct qmp *q, const char *cmd, json_object *args,
                json_object **ret, int timeout_ms)
{
  return qmp_execute_fd(q, cmd, args, -1, ret, timeout_ms);
}

static int read_greeting(struct qmp *q, int64_t deadline, int timeout_ms)
{
  json_object *o, *qmp, *ver, *qemu;
  int r;
  while ((r = qmp_wire_recv(q, deadline, &o)) == 0 && str_member(o, "event"))
    qmp_events_push(&q->ev, o);
  if (r == -ETIMEDOUT)
    return ferry_error(ETIMEDOUT, "no greeting within %d ms (another client "
                       "connected?)", timeout_ms);
  if (r < 0)
    return r;
  if (!json_object_object_get_ex(o, "QMP", &qmp)) {
    r = ferry_error(EPROTO, "expected the QMP greeting, got %s",
                    json_object_to_json_string(o));
    json_object_put(o);
    return r;
  }
  if (json_object_object_get_ex(qmp, "version", &ver) &&
      json_object_object_get_ex(ver, "qemu", &qemu)) {
    json_object *v;
    if (json_object_object_get_ex(qemu, "major", &v))
      q->major = json_object_get_int(v);
    if (json_object_object_get_ex(qemu, "minor", &v))
      q->minor = json_object_get_int(v);
    if (json_object_object_get_ex(qemu, "micro", &v))
      q->micro = json_object_get_int(v);
  }
  json_object_put(o);
  return 0;
}

int qmp_attach(int fd, const char *name, int timeout_ms, struct qmp **out)
{
  *out = NULL;
  int64_t deadline = qmp_deadline(timeout_ms);
  struct qmp *q = calloc(1, sizeof *q);
  if (!q) {
    close(fd);
    return ferry_error(ENOMEM, "qmp %s: out of memory", name);
  }
  q->fd = fd;
  q->path = strdup(name);
  q->tok = json_tokener_new_ex(QMP_JSON_DEPTH);
  q->rbuf = malloc(QMP_RBUF_SIZE);
  int r;
  if (!q->path || !q->tok || !q->rbuf || qmp_events_init(&q->ev) < 0) {
    r = ferry_error(ENOMEM, "qmp %s: out of memory", name);
    goto fail;
  }
  if ((r = read_greeting(q, deadline, timeout_ms)) < 0) {
    ferry_error_prefix("qmp %s: ", name);
    goto fail;
  }
  r = exec_dl(q, "qmp_capabilities", NULL, -1, NULL, deadline, timeout_ms);
  if (r < 0) {
    ferry_error_prefix("%s: ", name);
    goto fail;
  }
  *out = q;
  return 0;
fail:
  qmp_close(q);
  return r;
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **out)
{
  *out = NULL;
  if (!path)
    return ferry_error(EINVAL, "qmp: no socket path");
  int fd, r = qmp_wire_connect(path, qmp_deadline(timeout_ms), &fd);
  if (r < 0)
    return ferry_error_prefix("qmp %s: ", path);
  return qmp_attach(fd, path, timeout_ms, out);
}

void qmp_close(struct qmp *q)
{
  if (!q)
    return;
  if (q->fd >= 0)
    close(q->fd);
  if (q->tok)
    json_tokener_free(q->tok);
  if (q->ev.v)
    qmp_events_free(&q->ev);
  free(q->rbuf);
  free(q->path);
  free(q);
}

void qmp_version(const struct qmp *q, int *major, int *minor, int *micro)
{
  if (major)
    *major = q->major;
  if (minor)
    *minor = q->minor;
  if (micro)
    *micro = q->micro;
}

int qmp_getfd(struct qmp *q, const char *fdname, int fd, int timeout_ms)
{
  if (fd < 0)
    return ferry_error(EBADF, "qmp getfd %s: invalid fd %d",
                       fdname ? fdname : "", fd);
  json_object *args = json_object_new_object();
  json_object_object_add(args, "fdname", json_object_new_string(fdname));
  int r = qmp_execute_fd(q, "getfd", args, fd, NULL, timeout_ms);
  json_object_put(args);
  return r;
}

int qmp_hmp(struct qmp *q, const char *command_line, char **output,
            int timeout_ms)
{
  if (output)
    *output = NULL;
  json_object *args = json_object_new_object(), *ret;
  json_object_object_add(args, "command-line",
                         json_object_new_string(command_line));
  int r = qmp_execute(q, "human-monitor-command", args, &ret, timeout_ms);
  json_object_put(args);
  if (r < 0)
    return r;
  if (!json_object_is_type(ret, json_type_string)) {
    json_object_put(ret);
    return ferry_error(EPROTO, "qmp human-monitor-command: the reply is not "
                       "a string");
  }
  if (output && !(*output = strdup(json_object_get_string(ret))))
    r = ferry_error(ENOMEM, "qmp human-monitor-command: out of memory");
  json_object_put(ret);
  return r;
}

int qmp_quit(struct qmp *q, int timeout_ms)
{
  int64_t deadline = qmp_deadline(timeout_ms);
  int r = exec_dl(q, "quit", NULL, -1, NULL, deadline, timeout_ms);
  if (r < 0 && r != -ECONNRESET)
    return r;
  json_object *o;
  while ((r = qmp_wire_recv(q, deadline, &o)) == 0)
    absorb(q, o);
  if (r == -ECONNRESET) {
    ferry_error_clear();
    return 0;
  }
  if (r == -ETIMEDOUT)
    return ferry_error(ETIMEDOUT, "qmp quit: QEMU did not close the "
                       "connection within %d ms", timeout_ms);
  return ferry_error_prefix("qmp quit: ");
}

int qmp_wait_event_match(struct qmp *q, const char *event, const char *key,
                         const char *value, int timeout_ms, json_object **ev)
{
  if (ev)
    *ev = NULL;
  json_object *o = qmp_events_take(&q->ev, event, key, value);
  int64_t deadline = qmp_deadline(timeout_ms);
  while (!o) {
    int r = qmp_wire_recv(q, deadline, &o);
    if (r == -ETIMEDOUT)
      return ferry_error(ETIMEDOUT, "qmp: no %s event%s%s%s%s within %d ms",
                         event ? event : "", key ? " with " : "",
                         key ? key : "", key ? "=" : "",
                         key && value ? value : "", timeout_ms);
    if (r < 0)
      return ferry_error_prefix("qmp: waiting for %s event: ",
                                event ? event : "an");
    if (!str_member(o, "event")) {
      json_object_put(o); /* a late reply to a timed-out command */
      o = NULL;
    } else if (!qmp_event_matches(o, event, key, value)) {
      qmp_events_push(&q->ev, o);
      o = NULL;
    }
  }
  if (ev)
    *ev = o;
  else
    json_object_put(o);
  return 0;
}

int qmp_wait_event(struct qmp *q, const char *event, int timeout_ms,
                   json_object **data)
{
  json_object *ev;
  int r = qmp_wait_event_match(q, event, NULL, NULL, timeout_ms, &ev);
  if (r < 0) {
    if (data)
      *data = NULL;
    return r;
  }
  if (data)
    *data = json_object_get(qmp_event_data(ev));
  json_object_put(ev);
  return 0;
}
