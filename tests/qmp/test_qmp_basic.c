/* QMP against a real QEMU: handshake, status, events around commands,
 * error classes, fd passing, HMP, quit, and connect timeouts. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/core/error.h"
#include "../../lib/qmp/qmp.h"
#include "../unit/check.h"
#include "harness.h"

#define T 10000 /* ms: generous per-command timeout under TCG + ASan */

static const char *status_of(struct qmp *q, char *buf, size_t len)
{
  json_object *ret, *v;
  CHECK(qmp_execute(q, "query-status", NULL, &ret, T) == 0);
  CHECK(json_object_object_get_ex(ret, "status", &v));
  snprintf(buf, len, "%s", json_object_get_string(v));
  json_object_put(ret);
  return buf;
}

static void connect_and_status(struct qmp *q)
{
  int major = 0, minor = -1;
  qmp_version(q, &major, &minor, NULL);
  CHECK(major >= 7);
  CHECK(minor >= 0);
  char s[32];
  CHECK(!strcmp(status_of(q, s, sizeof s), "prelaunch"));
  /* A reply's value belongs to the caller; args are not consumed. */
  json_object *args = json_object_new_object();
  CHECK(qmp_execute(q, "query-status", args, NULL, T) == 0);
  CHECK(json_object_object_length(args) == 0);
  json_object_put(args);
}

static void events(struct qmp *q)
{
  CHECK(qmp_execute(q, "cont", NULL, NULL, T) == 0);
  char s[32];
  /* A command in between: RESUME must not be lost meanwhile. */
  CHECK(!strcmp(status_of(q, s, sizeof s), "running"));
  CHECK(qmp_execute(q, "stop", NULL, NULL, T) == 0);
  CHECK(!strcmp(status_of(q, s, sizeof s), "paused"));

  /* Ask for STOP first: the older RESUME stays queued for the next wait. */
  json_object *stop, *resume, *data = (json_object *)1;
  CHECK(qmp_wait_event_match(q, "STOP", NULL, NULL, 0, &stop) == 0);
  CHECK(!strcmp(qmp_event_name(stop), "STOP"));
  CHECK(qmp_wait_event_match(q, NULL, NULL, NULL, 0, &resume) == 0);
  CHECK(!strcmp(qmp_event_name(resume), "RESUME"));
  CHECK(qmp_event_ts(resume) > 1600000000LL * 1000000);
  CHECK(qmp_event_ts(resume) <= qmp_event_ts(stop));
  json_object_put(stop);
  json_object_put(resume);

  /* Nothing left: a bounded wait times out, and not early (no upper
   * bound: a loaded machine may be late). */
  int64_t t0 = h_now_ms();
  CHECK(qmp_wait_event(q, "STOP", 200, &data) == -ETIMEDOUT);
  int64_t dt = h_now_ms() - t0;
  CHECK(dt >= 190);
  CHECK(data == NULL);
  CHECK_HAS(ferry_last_error(), "no STOP event within 200 ms");

  /* qmp_wait_event hands over "data"; STOP has none in 7.2, RESUME none. */
  CHECK(qmp_execute(q, "cont", NULL, NULL, T) == 0);
  CHECK(qmp_wait_event(q, "RESUME", T, &data) == 0);
  json_object_put(data);
  CHECK(qmp_execute(q, "stop", NULL, NULL, T) == 0);
  CHECK(qmp_wait_event(q, "STOP", T, NULL) == 0);
  CHECK(qmp_events_dropped(q) == 0);
}

static void errors(struct qmp *q)
{
  json_object *ret = (json_object *)1;
  CHECK(qmp_execute(q, "no-such-command", NULL, &ret, T) == -ENOTSUP);
  CHECK(ret == NULL);
  CHECK(ferry_last_errno() == ENOTSUP);
  CHECK_HAS(ferry_last_error(), "qmp no-such-command: CommandNotFound: ");
  CHECK_HAS(ferry_last_error(), "has not been found");

  json_object *args = json_object_new_object();
  json_object_object_add(args, "bogus", json_object_new_int(1));
  CHECK(qmp_execute(q, "query-status", args, NULL, T) == -EIO);
  CHECK_HAS(ferry_last_error(), "qmp query-status: GenericError: ");
  CHECK_HAS(ferry_last_error(), "bogus");
  json_object_put(args);

  args = json_object_new_object();
  json_object_object_add(args, "id", json_object_new_string("nodev0"));
  CHECK(qmp_execute(q, "device_del", args, NULL, T) == -ENODEV);
  CHECK_HAS(ferry_last_error(), "qmp device_del: DeviceNotFound: ");
  CHECK_HAS(ferry_last_error(), "nodev0");
  json_object_put(args);

  args = json_object_new_array();
  CHECK(qmp_execute(q, "query-status", args, NULL, T) == -EINVAL);
  json_object_put(args);

  /* The connection is still fine after errors. */
  char s[32];
  CHECK(!strcmp(status_of(q, s, sizeof s), "paused"));
}

/* 1 if the pipe's read end sees EOF (every write end closed). */
static int pipe_eof(int rfd, int timeout_ms)
{
  struct pollfd p = { .fd = rfd, .events = POLLIN };
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLHUP);
}

static void fd_passing(struct qmp *q)
{
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  CHECK(qmp_getfd(q, "mig0", p[1], T) == 0);
  close(p[1]);
  /* QEMU now holds the only write end: no EOF yet. */
  CHECK(!pipe_eof(p[0], 100));

  json_object *args = json_object_new_object();
  json_object_object_add(args, "fdname", json_object_new_string("nope"));
  CHECK(qmp_execute(q, "closefd", args, NULL, T) == -EIO);
  CHECK_HAS(ferry_last_error(), "qmp closefd: GenericError: ");
  CHECK_HAS(ferry_last_error(), "nope");
  json_object_put(args);

  args = json_object_new_object();
  json_object_object_add(args, "fdname", json_object_new_string("mig0"));
  CHECK(qmp_execute(q, "closefd", args, NULL, T) == 0);
  CHECK(pipe_eof(p[0], 5000));
  CHECK(qmp_execute(q, "closefd", args, NULL, T) == -EIO);
  json_object_put(args);
  close(p[0]);

  /* getfd without a descriptor is QEMU's error; a bad one is ours. */
  args = json_object_new_object();
  json_object_object_add(args, "fdname", json_object_new_string("x"));
  CHECK(qmp_execute(q, "getfd", args, NULL, T) == -EIO);
  CHECK_HAS(ferry_last_error(), "SCM_RIGHTS");
  json_object_put(args);
  CHECK(qmp_getfd(q, "x", -1, T) == -EBADF);
  CHECK(qmp_execute_fd(q, "getfd", NULL, 12345, NULL, T) == -EBADF);
  CHECK_HAS(ferry_last_error(), "qmp getfd: sendmsg");
  char s[32];
  CHECK(!strcmp(status_of(q, s, sizeof s), "paused"));
}

static const char *event_status(json_object *data)
{
  json_object *v;
  CHECK(json_object_object_get_ex(data, "status", &v));
  return json_object_get_string(v);
}

/* migrate to "fd:NAME" after getfd: the VM state lands in a file. MIGRATION
 * events arrive while we wait for "completed": the others must stay
 * queued, in order. */
static void migrate_to_fd(struct qmp *q)
{
  const char *path = h_path(4, "state.bin");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  json_object *args = json_tokener_parse(
      "{\"capabilities\": [{\"capability\": \"events\", \"state\": true}]}");
  CHECK(qmp_execute(q, "migrate-set-capabilities", args, NULL, T) == 0);
  json_object_put(args);
  CHECK(qmp_getfd(q, "mig", fd, T) == 0);
  close(fd);
  args = json_tokener_parse("{\"uri\": \"fd:mig\"}");
  CHECK(qmp_execute(q, "migrate", args, NULL, T) == 0);
  json_object_put(args);

  json_object *ev, *data;
  CHECK(qmp_wait_event_match(q, "MIGRATION", "status", "completed", 20000,
                             &ev) == 0);
  CHECK(!strcmp(event_status(qmp_event_data(ev)), "completed"));
  json_object_put(ev);
  CHECK(qmp_wait_event(q, "MIGRATION", 0, &data) == 0);
  CHECK(!strcmp(event_status(data), "setup"));
  json_object_put(data);
  CHECK(qmp_wait_event(q, "MIGRATION", 0, &data) == 0);
  CHECK(!strcmp(event_status(data), "active"));
  json_object_put(data);
  CHECK(qmp_wait_event(q, "MIGRATION", 0, NULL) == -ETIMEDOUT);
  /* One MIGRATION_PASS per RAM pass, also queued. */
  CHECK(qmp_wait_event(q, "MIGRATION_PASS", 0, &data) == 0);
  CHECK(json_object_object_get_ex(data, "pass", &ev));
  CHECK(json_object_get_int(ev) == 1);
  json_object_put(data);
  while (qmp_wait_event(q, "MIGRATION_PASS", 0, NULL) == 0)
    ;

  json_object *ret, *v;
  CHECK(qmp_execute(q, "query-migrate", NULL, &ret, T) == 0);
  CHECK(json_object_object_get_ex(ret, "status", &v));
  CHECK(!strcmp(json_object_get_string(v), "completed"));
  json_object_put(ret);
  /* migrate took the fd: its name is gone. */
  args = json_tokener_parse("{\"fdname\": \"mig\"}");
  CHECK(qmp_execute(q, "closefd", args, NULL, T) == -EIO);
  json_object_put(args);

  char magic[4] = { 0 };
  FILE *f = fopen(path, "rb");
  CHECK(f && fread(magic, 1, 4, f) == 4);
  fclose(f);
  CHECK(!memcmp(magic, "QEVM", 4));
  /* QEMU sets the run state from its main loop after the migration says
   * "completed": the two can be seen apart for a moment (a flaky check
   * before this waited). */
  char s[32];
  for (int i = 0; i < 500 && strcmp(status_of(q, s, sizeof s), "postmigrate");
       i++)
    usleep(10000);
  CHECK(!strcmp(s, "postmigrate"));
}

static void hmp(struct qmp *q)
{
  char *out = NULL;
  CHECK(qmp_hmp(q, "info status", &out, T) == 0);
  CHECK_HAS(out, "VM status: paused");
  free(out);
  /* HMP's own errors come back as text in a successful reply. */
  CHECK(qmp_hmp(q, "no-such-hmp-command", &out, T) == 0);
  CHECK_HAS(out, "unknown command");
  free(out);
}

static void quit(struct qmp *q)
{
  CHECK(qmp_execute(q, "quit", NULL, NULL, T) == 0);
  int st = h_wait_qemu(T);
  CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* Not a SIGPIPE: a clean error, and again on the next call. */
  CHECK(qmp_execute(q, "query-status", NULL, NULL, T) == -ECONNRESET);
  CHECK_HAS(ferry_last_error(), "qmp query-status: QEMU closed the QMP "
                                "connection");
  CHECK(qmp_execute(q, "query-status", NULL, NULL, T) == -ECONNRESET);
  /* Events sent before the close are still there. */
  json_object *data;
  CHECK(qmp_wait_event(q, "SHUTDOWN", 0, &data) == 0);
  json_object *reason;
  CHECK(json_object_object_get_ex(data, "reason", &reason));
  CHECK(!strcmp(json_object_get_string(reason), "host-qmp-quit"));
  json_object_put(data);
  CHECK(qmp_wait_event(q, NULL, 1000, NULL) == -ECONNRESET);
  CHECK_HAS(ferry_last_error(), "closed");
}

static void connect_timeouts(void)
{
  struct qmp *q = (struct qmp *)1;
  int64_t t0 = h_now_ms();
  CHECK(qmp_connect(h_path(2, "missing.sock"), 300, &q) == -ETIMEDOUT);
  int64_t dt = h_now_ms() - t0;
  CHECK(q == NULL);
  CHECK(dt >= 290); /* retried until the timeout, not given up early */
  CHECK_HAS(ferry_last_error(), "missing.sock");
  CHECK_HAS(ferry_last_error(), "No such file");
  /* A socket path that is not a socket is not worth retrying: with a
   * 10-minute timeout, a retry would run into the test's watchdog. */
  const char *plain = h_path(3, "plain-file");
  int fd = open(plain, O_WRONLY | O_CREAT, 0600);
  CHECK(fd >= 0);
  close(fd);
  CHECK(qmp_connect(plain, 600000, &q) == -ENOTSOCK);
  CHECK_HAS(ferry_last_error(), "plain-file: connect: not a socket");
}

int main(void)
{
  signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: it must not */
  h_init("basic");
  connect_timeouts();
  const char *sock = h_start_qemu((const char *[]){ "-m", "32", NULL });
  struct qmp *q;
  /* The socket appears a moment after exec: connect retries meanwhile. */
  CHECK(qmp_connect(sock, 20000, &q) == 0);
  connect_and_status(q);
  events(q);
  errors(q);
  fd_passing(q);
  hmp(q);
  migrate_to_fd(q);
  quit(q);
  qmp_close(q);
  qmp_close(NULL);
  return 0;
}
