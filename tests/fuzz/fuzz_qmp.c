/* libFuzzer: what QEMU sends on a QMP socket (the greeting, replies,
 * errors, events, junk), read by the real handle over a socketpair. */
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../lib/qmp/qmp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int sv[2];
  if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
    return 0;
  /* The "server" says everything at once and hangs up; ferry's commands
   * go unread into the socket buffer. */
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  for (size_t off = 0; off < size;) {
    ssize_t n = write(sv[1], data + off, size - off);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  shutdown(sv[1], SHUT_WR);
  struct qmp *q;
  if (qmp_attach(sv[0], "fuzz", 200, &q) == 0) {
    json_object *ret = NULL, *ev = NULL;
    qmp_execute(q, "query-status", NULL, &ret, 200);
    json_object_put(ret);
    while (qmp_wait_event(q, NULL, 0, &ev) == 0)
      json_object_put(ev);
    qmp_close(q);
  }
  close(sv[1]);
  return 0;
}
