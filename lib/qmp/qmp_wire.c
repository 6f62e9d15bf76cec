/* QMP framing: connecting the unix socket, sending a command (optionally
 * with an fd), and cutting the byte stream into JSON objects with an
 * incremental json_tokener (a reply may span reads; one read may hold
 * several objects). The socket is non-blocking so every wait has a
 * deadline; sends use MSG_NOSIGNAL so a closed peer is an error, not a
 * SIGPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/clock.h"
#include "qmp_int.h"

int64_t qmp_deadline(int timeout_ms)
{
  return timeout_ms < 0 ? -1 : (int64_t)monotonic_ms() + timeout_ms;
}

int qmp_ms_left(int64_t deadline)
{
  if (deadline < 0)
    return -1;
  int64_t left = deadline - (int64_t)monotonic_ms();
  return left <= 0 ? 0 : left > 1 << 30 ? 1 << 30 : (int)left;
}

/* 1 when ready, 0 on timeout, -errno on error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
  for (;;) {
    struct pollfd p = { .fd = fd, .events = events };
    int r = poll(&p, 1, qmp_ms_left(deadline));
    if (r > 0)
      return 1;
    if (r == 0)
      return 0;
    if (errno != EINTR)
      return -errno;
  }
}

static int dead_error(struct qmp *q)
{
  if (q->dead == ECONNRESET)
    return ferry_error(ECONNRESET, "QEMU closed the QMP connection");
  if (q->dead == EPROTO)
    return ferry_error(EPROTO, "the QMP stream is unusable after invalid "
                       "JSON from QEMU");
  return ferry_error(q->dead, "the QMP connection is unusable: %s",
                     strerror(q->dead));
}

/* One attempt; -ENOENT, -ECONNREFUSED and -EAGAIN (backlog full) mean
 * "QEMU is not listening yet", worth another try. */
static int try_connect(const struct sockaddr_un *sa, int64_t deadline,
                       int *fdp)
{
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0) {
    *fdp = fd;
    return 0;
  }
  int e = errno;
  if (e == EINPROGRESS) {
    socklen_t len = sizeof e;
    int r = wait_fd(fd, POLLOUT, deadline);
    if (r <= 0)
      e = r == 0 ? ETIMEDOUT : -r;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
      e = errno;
    if (e == 0) {
      *fdp = fd;
      return 0;
    }
  }
  close(fd);
  return -e;
}

int qmp_wire_connect(const char *path, int64_t deadline, int *fdp)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path)
    return ferry_error(ENAMETOOLONG, "socket path longer than %zu bytes",
                       sizeof sa.sun_path - 1);
  strcpy(sa.sun_path, path);
  int delay = 5;
  for (;;) {
    int r = try_connect(&sa, deadline, fdp);
    if (r == 0)
      return 0;
    struct stat st;
    if (r == -ECONNREFUSED && stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
      return ferry_error(ENOTSOCK, "connect: not a socket");
    if (r != -ENOENT && r != -ECONNREFUSED && r != -EAGAIN)
      return ferry_error(-r, "connect: %s", strerror(-r));
    int left = qmp_ms_left(deadline);
    if (left == 0)
      return ferry_error(ETIMEDOUT, "connect: no QMP server in time (last "
                         "error: %s)", strerror(-r));
    /* QEMU creates the socket early in its start-up: poll it briskly. */
    poll(NULL, 0, left >= 0 && left < delay ? left : delay);
    if (delay < 100)
      delay *= 2;
  }
}

int qmp_wire_send(struct qmp *q, const char *buf, size_t len, int fd,
                  int64_t deadline)
{
  if (q->dead)
    return dead_error(q);
  size_t off = 0;
  while (off < len) {
    struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    union {
      char b[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } c;
    if (fd >= 0 && off == 0) {
      /* QEMU takes the fd that arrives with the command's bytes. */
      memset(&c, 0, sizeof c);
      m.msg_control = c.b;
      m.msg_controllen = sizeof c.b;
      struct cmsghdr *h = CMSG_FIRSTHDR(&m);
      h->cmsg_level = SOL_SOCKET;
      h->cmsg_type = SCM_RIGHTS;
      h->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(h), &fd, sizeof fd);
    }
    ssize_t n = sendmsg(q->fd, &m, MSG_NOSIGNAL);
    if (n > 0) {
      off += n;
      continue;
    }
    int e = n < 0 ? errno : EIO;
    if (e == EINTR)
      continue;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      int r = wait_fd(q->fd, POLLOUT, deadline);
      if (r > 0)
        continue;
      e = r == 0 ? ETIMEDOUT : -r;
    }
    if (e == EPIPE || e == ECONNRESET)
      /* Not marked dead yet: the caller first reads what QEMU sent before
       * it closed (events such as SHUTDOWN). */
      return ferry_error(ECONNRESET, "QEMU closed the QMP connection");
    if (off > 0)
      q->dead = EIO; /* half a command in QEMU's parser: no way back */
    if (e == ETIMEDOUT)
      return ferry_error(ETIMEDOUT, "timed out sending the command");
    return ferry_error(e, "sendmsg: %s", strerror(e));
  }
  return 0;
}

int qmp_wire_recv(struct qmp *q, int64_t deadline, json_object **out)
{
  *out = NULL;
  for (;;) {
    while (q->rpos < q->rlen) {
      int n = q->rlen - q->rpos;
      json_object *o = json_tokener_parse_ex(q->tok, q->rbuf + q->rpos, n);
      enum json_tokener_error err = json_tokener_get_error(q->tok);
      if (err == json_tokener_continue) {
        q->rpos = q->rlen; /* all consumed, object incomplete */
        continue;
      }
      if (err != json_tokener_success) {
        q->dead = EPROTO;
        json_tokener_reset(q->tok);
        return ferry_error(EPROTO, "QEMU sent invalid JSON: %s",
                           json_tokener_error_desc(err));
      }
      q->rpos += json_tokener_get_parse_end(q->tok);
      json_tokener_reset(q->tok);
      if (json_object_is_type(o, json_type_object)) {
        *out = o;
        return 0;
      }
      json_object_put(o); /* QMP only sends objects: skip anything else */
    }
    q->rpos = q->rlen = 0;
    if (q->dead)
      return dead_error(q);
    int r = wait_fd(q->fd, POLLIN, deadline);
    if (r == 0)
      return ferry_error(ETIMEDOUT, "timed out");
    if (r < 0)
      return ferry_error(-r, "poll: %s", strerror(-r));
    ssize_t got = recv(q->fd, q->rbuf, QMP_RBUF_SIZE, 0);
    if (got > 0) {
      q->rlen = got;
    } else if (got == 0 || errno == ECONNRESET) {
      q->dead = ECONNRESET;
    } else if (errno != EINTR && errno != EAGAIN) {
      q->dead = errno;
    }
  }
}
