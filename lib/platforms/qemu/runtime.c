/* What a VM's qemu is doing now: its pid, run state and monitors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../core/error.h"
#include "../../qmp/qmp.h"
#include "qemu.h"

/* Checks that pid is a qemu started for this VM: its command line carries
 * -uuid UUID. A reused pid of another program does not count. */
static bool is_our_qemu(pid_t pid, const char *uuid)
{
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  for (size_t i = 0; i + 1 < n; i += strlen(buf + i) + 1) {
    buf[n] = '\0';
    if (strcmp(buf + i, "-uuid") == 0 && i + 6 < n &&
        strcmp(buf + i + 6, uuid) == 0)
      return true;
  }
  return false;
}

pid_t qemu_running_pid(const struct qemu_state *st, const char *uuid)
{
  char path[PATH_MAX];
  FILE *f = fopen(qemu_path(st, path, "run/%s/qemu.pid", uuid), "re");
  if (!f)
    return 0;
  int pid = 0;
  if (fscanf(f, "%d", &pid) != 1)
    pid = 0;
  fclose(f);
  if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
    return 0;
  return is_our_qemu(pid, uuid) ? pid : 0;
}

static enum ferry_power_state state_of(const char *status)
{
  if (!strcmp(status, "running"))
    return FERRY_POWER_STATE_RUNNING;
  if (!strcmp(status, "suspended"))
    return FERRY_POWER_STATE_SUSPENDED;
  if (!strcmp(status, "shutdown"))
    return FERRY_POWER_STATE_STOPPED;
  return FERRY_POWER_STATE_PAUSED; /* paused, prelaunch, postmigrate, ... */
}

enum ferry_power_state qemu_power_state(const struct qemu_state *st,
                                        const char *uuid)
{
  if (!qemu_running_pid(st, uuid))
    return FERRY_POWER_STATE_STOPPED;
  /* The status monitor, so that a long operation holding the control
   * monitor does not block a listing. */
  char sock[PATH_MAX];
  struct qmp *q;
  if (qmp_connect(qemu_path(st, sock, "run/%s/qmp-status.sock", uuid), 2000,
                  &q) < 0)
    return FERRY_POWER_STATE_UNKNOWN;
  json_object *ret = NULL;
  enum ferry_power_state ps = FERRY_POWER_STATE_UNKNOWN;
  if (qmp_execute(q, "query-status", NULL, &ret, 5000) == 0) {
    json_object *s;
    if (json_object_object_get_ex(ret, "status", &s))
      ps = state_of(json_object_get_string(s));
  }
  json_object_put(ret);
  qmp_close(q);
  return ps;
}

int qemu_qmp(const struct qemu_state *st, const char *uuid, int timeout_ms,
             struct qmp **out)
{
  if (!qemu_running_pid(st, uuid))
    return ferry_error(ESRCH, "VM %s is not running", uuid);
  char sock[PATH_MAX];
  return qmp_connect(qemu_path(st, sock, "run/%s/qmp.sock", uuid), timeout_ms,
                     out);
}
