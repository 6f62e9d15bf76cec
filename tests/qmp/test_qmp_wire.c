/* QMP framing against a server thread that misbehaves on purpose, in ways
 * a real QEMU cannot be asked to: replies split mid-character, several
 * objects per read, stale and id-less replies, event floods, invalid JSON,
 * a peer that vanishes mid-reply. Semantics are tested against real QEMU in
 * test_qmp_basic and test_qmp_block. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../lib/core/error.h"
#include "../../lib/qmp/qmp.h"
#include "../unit/check.h"
#include "harness.h"

#define T 5000

static int listener;

/* ---- the server side ---- */

static void put(int fd, const char *s)
{
  size_t len = strlen(s);
  while (len > 0) {
    ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
    if (n <= 0)
      return; /* the client may be gone on purpose */
    s += n;
    len -= n;
  }
}

/* Writes s in pieces of `step` bytes with a pause between, so the client
 * sees them in separate reads. */
static void put_slowly(int fd, const char *s, size_t step)
{
  char buf[256];
  for (size_t off = 0, len = strlen(s); off < len; off += step) {
    size_t n = len - off < step ? len - off : step;
    memcpy(buf, s + off, n);
    buf[n] = '\0';
    put(fd, buf);
    usleep(2000);
  }
}

/* Reads one request line; returns its id, stores its command name, and any
 * fd that came with it in *passed (else -1). */
static int get_req(int fd, char *name, size_t len, int *passed)
{
  char line[4096];
  size_t n = 0;
  if (passed)
    *passed = -1;
  while (n == 0 || line[n - 1] != '\n') {
    union {
      char b[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } c;
    struct iovec iov = { line + n, 1 }; /* bytewise: never read past '\n' */
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = c.b, .msg_controllen = sizeof c.b };
    ssize_t r = recvmsg(fd, &m, 0);
    CHECK(r == 1 && n < sizeof line - 1);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (h && h->cmsg_type == SCM_RIGHTS) {
      CHECK(passed);
      memcpy(passed, CMSG_DATA(h), sizeof(int));
    }
    n++;
  }
  line[n] = '\0';
  json_object *o = json_tokener_parse(line), *v;
  CHECK(o);
  CHECK(json_object_object_get_ex(o, "execute", &v));
  snprintf(name, len, "%s", json_object_get_string(v));
  CHECK(json_object_object_get_ex(o, "id", &v));
  int id = json_object_get_int(v);
  json_object_put(o);
  return id;
}

static int accept_and_greet(void)
{
  int fd = accept(listener, NULL, NULL);
  CHECK(fd >= 0);
  put_slowly(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": "
                 "1, \"major\": 9}, \"package\": \"\"}, \"capabilities\": "
                 "[]}}\r\n", 7);
  char name[64], buf[256];
  int id = get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "qmp_capabilities"));
  /* Three objects in one write, the reply between two events. */
  snprintf(buf, sizeof buf, "{\"event\": \"E0\", \"timestamp\": {\"seconds\": "
           "1, \"microseconds\": 5}}\r\n{\"return\": {}, \"id\": %d}\r\n"
           "{\"event\": \"E1\", \"data\": {\"n\": 1}}\r\n", id);
  put(fd, buf);
  return fd;
}

static char *big_reply(int id)
{
  /* 200 KB of string (several reads) and nesting deeper than json-c's
   * default limit of 32, as a long backing chain in query-block has. */
  size_t len = 300000;
  char *s = malloc(len), *p = s;
  p += sprintf(p, "{\"id\": %d, \"return\": {\"big\": \"", id);
  memset(p, 'x', 200000);
  p += 200000;
  p += sprintf(p, "\", \"deep\": ");
  for (int i = 0; i < 100; i++)
    *p++ = '[';
  for (int i = 0; i < 100; i++)
    *p++ = ']';
  strcpy(p, "}}\r\n");
  return s;
}

static void *server(void *arg)
{
  (void)arg;
  char name[64], buf[512];
  int pfd;

  /* Connection 1: most framing cases, in the order the client runs them. */
  int fd = accept_and_greet();
  int id = get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "echo"));
  snprintf(buf, sizeof buf, "{\"id\": %d, \"return\": {}}\r\n{\"id\": \"x\", "
           "\"return\": {}}\r\n{\"id\": %d, \"return\": {\"s\": "
           "\"h\\u00e9llo w\xc3\xb6rld\"}}\r\n", id + 100, id);
  /* Splits fall inside the \u escape and inside the two-byte "ö". */
  put_slowly(fd, buf, 5);

  id = get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "burst"));
  for (int i = 0; i < 1100; i++) {
    snprintf(buf, sizeof buf, "{\"event\": \"B\", \"data\": {\"n\": %d}}", i);
    put(fd, buf);
  }
  snprintf(buf, sizeof buf, "{\"id\": %d, \"return\": 7}", id);
  put(fd, buf);

  get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "iderr"));
  put(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
          "error, invalid keyword\"}}\r\n");

  int late = get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "late"));
  id = get_req(fd, name, sizeof name, NULL); /* sent after "late" timed out */
  CHECK(!strcmp(name, "after"));
  snprintf(buf, sizeof buf, "{\"id\": %d, \"return\": {\"ok\": 1}}"
           "{\"id\": %d, \"return\": {\"ok\": 2}}", late, id);
  put(fd, buf);

  id = get_req(fd, name, sizeof name, &pfd);
  CHECK(!strcmp(name, "fdcheck") && pfd >= 0);
  CHECK(write(pfd, "hi", 2) == 2);
  close(pfd);
  snprintf(buf, sizeof buf, "{\"id\": %d, \"return\": {}}", id);
  put(fd, buf);

  id = get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "big"));
  char *big = big_reply(id);
  put(fd, big);
  free(big);

  get_req(fd, name, sizeof name, NULL);
  CHECK(!strcmp(name, "garbage"));
  put(fd, "{\"id\": 1, ]]]\r\n");
  close(fd);

  /* Connection 2: the peer vanishes in the middle of a reply. */
  fd = accept_and_greet();
  id = get_req(fd, name, sizeof name, NULL);
  snprintf(buf, sizeof buf, "{\"id\": %d, \"ret", id);
  put(fd, buf);
  close(fd);

  /* Connection 3: an event, then the peer closes before any command. */
  fd = accept_and_greet();
  put(fd, "{\"event\": \"BYE\"}");
  close(fd);

  /* Connection 4: never greets. */
  fd = accept(listener, NULL, NULL);
  CHECK(fd >= 0);
  usleep(500000);
  close(fd);
  return NULL;
}

/* ---- the client side ---- */

static int64_t member_int(json_object *o, const char *key)
{
  json_object *v;
  CHECK(json_object_object_get_ex(o, key, &v));
  return json_object_get_int64(v);
}

static void conn1(const char *sock)
{
  struct qmp *q;
  CHECK(qmp_connect(sock, T, &q) == 0);
  int major, minor, micro;
  qmp_version(q, &major, &minor, &micro);
  CHECK(major == 9 && minor == 1 && micro == 3);

  /* Split reply, stale replies before it; the events around the
   * capabilities reply were queued, the first with its timestamp. */
  json_object *args = json_tokener_parse("{\"s\": 1}"), *ret;
  CHECK(qmp_execute(q, "echo", args, &ret, T) == 0);
  json_object_put(args);
  json_object *v;
  CHECK(json_object_object_get_ex(ret, "s", &v));
  CHECK(!strcmp(json_object_get_string(v), "h\xc3\xa9llo w\xc3\xb6rld"));
  json_object_put(ret);
  json_object *ev;
  CHECK(qmp_wait_event_match(q, NULL, NULL, NULL, 0, &ev) == 0);
  CHECK(!strcmp(qmp_event_name(ev), "E0"));
  CHECK(qmp_event_ts(ev) == 1000005);
  CHECK(qmp_event_data(ev) == NULL);
  json_object_put(ev);
  CHECK(qmp_wait_event(q, "E1", 0, &v) == 0);
  CHECK(member_int(v, "n") == 1);
  json_object_put(v);

  /* 1100 events during one command: the oldest 76 dropped and counted. */
  CHECK(qmp_execute(q, "burst", NULL, &ret, T) == 0);
  CHECK(json_object_get_int(ret) == 7);
  json_object_put(ret);
  CHECK(qmp_events_dropped(q) == 1100 - QMP_EVENT_QUEUE_MAX);
  CHECK(qmp_wait_event(q, "B", 0, &v) == 0);
  CHECK(member_int(v, "n") == 76);
  json_object_put(v);
  int n = 1;
  while (qmp_wait_event(q, "B", 0, &v) == 0) {
    CHECK(member_int(v, "n") == 76 + n);
    json_object_put(v);
    n++;
  }
  CHECK(n == QMP_EVENT_QUEUE_MAX);

  CHECK(qmp_execute(q, "iderr", NULL, NULL, T) == -EIO);
  CHECK_HAS(ferry_last_error(), "qmp iderr: GenericError: JSON parse error");

  /* A timed-out command's late reply is not taken for the next one's. */
  CHECK(qmp_execute(q, "late", NULL, NULL, 100) == -ETIMEDOUT);
  CHECK_HAS(ferry_last_error(), "qmp late: no reply within 100 ms");
  CHECK(qmp_execute(q, "after", NULL, &ret, T) == 0);
  CHECK(member_int(ret, "ok") == 2);
  json_object_put(ret);

  int p[2];
  char two[3] = { 0 };
  CHECK(pipe(p) == 0);
  CHECK(qmp_execute_fd(q, "fdcheck", NULL, p[1], NULL, T) == 0);
  close(p[1]);
  CHECK(read(p[0], two, 2) == 2 && !strcmp(two, "hi"));
  close(p[0]);

  CHECK(qmp_execute(q, "big", NULL, &ret, T) == 0);
  CHECK(json_object_object_get_ex(ret, "big", &v));
  CHECK(json_object_get_string_len(v) == 200000);
  json_object_put(ret);

  CHECK(qmp_execute(q, "garbage", NULL, NULL, T) == -EPROTO);
  CHECK_HAS(ferry_last_error(), "qmp garbage: QEMU sent invalid JSON");
  CHECK(qmp_execute(q, "again", NULL, NULL, T) == -EPROTO);
  qmp_close(q);
}

static void conn2(const char *sock)
{
  struct qmp *q;
  CHECK(qmp_connect(sock, T, &q) == 0);
  CHECK(qmp_execute(q, "cut", NULL, NULL, T) == -ECONNRESET);
  CHECK_HAS(ferry_last_error(), "qmp cut: QEMU closed the QMP connection");
  /* Sending to a closed peer: an error, not SIGPIPE. */
  CHECK(qmp_execute(q, "next", NULL, NULL, T) == -ECONNRESET);
  CHECK(qmp_execute_fd(q, "getfd", NULL, 0, NULL, T) == -ECONNRESET);
  qmp_close(q);
}

static void conn3(const char *sock)
{
  struct qmp *q;
  CHECK(qmp_connect(sock, T, &q) == 0);
  usleep(100000); /* let the server close first: the send hits EPIPE */
  CHECK(qmp_execute(q, "x", NULL, NULL, T) == -ECONNRESET);
  CHECK(qmp_wait_event(q, "BYE", 0, NULL) == 0);
  /* Then E0 and E1 from the handshake, then the end. */
  CHECK(qmp_wait_event(q, NULL, T, NULL) == 0);
  CHECK(qmp_wait_event(q, NULL, T, NULL) == 0);
  CHECK(qmp_wait_event(q, NULL, T, NULL) == -ECONNRESET);
  CHECK_HAS(ferry_last_error(), "closed the QMP connection");
  qmp_close(q);
}

static void conn4(const char *sock)
{
  struct qmp *q;
  CHECK(qmp_connect(sock, 200, &q) == -ETIMEDOUT);
  CHECK_HAS(ferry_last_error(), "no greeting within 200 ms");
}

int main(void)
{
  signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: it must not */
  h_init("wire");
  const char *sock = h_path(0, "fake.sock");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
  listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(listener >= 0);
  CHECK(bind(listener, (struct sockaddr *)&sa, sizeof sa) == 0);
  CHECK(listen(listener, 4) == 0);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, server, NULL) == 0);
  conn1(sock);
  conn2(sock);
  conn3(sock);
  conn4(sock);
  CHECK(pthread_join(th, NULL) == 0);
  close(listener);
  return 0;
}
