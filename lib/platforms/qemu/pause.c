/* A guest ferry pauses is never left paused: the pause is written down
 * (run/<uuid>/paused-by-ferry) before QMP `stop`, and taken away after
 * `cont`. A marker whose writer is gone (the VM's operation lock is free)
 * means that writer died in between: the next ferry command on the VM
 * lets the guest run again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "../../qmp/qmp.h"
#include "qemu.h"
#include "snapdisk.h"

static char *marker(const struct qemu_state *st, const char *uuid, char *buf)
{
  return qemu_path(st, buf, "run/%s/paused-by-ferry", uuid);
}

const char *qemu_qmp_status(struct qmp *q, const char *query, char *buf,
                            size_t len)
{
  json_object *ret = NULL, *s;
  buf[0] = '\0';
  if (qmp_execute(q, query, NULL, &ret, QMP_TIMEOUT) == 0 &&
      json_object_object_get_ex(ret, "status", &s))
    snprintf(buf, len, "%s", json_object_get_string(s));
  json_object_put(ret);
  return buf;
}

int qemu_pause(const struct qemu_state *st, struct qmp *q, const char *uuid,
               const char *why)
{
  char path[PATH_MAX];
  int r = statefile_write(marker(st, uuid, path), why, strlen(why));
  if (r == 0 && (r = qmp_execute(q, "stop", NULL, NULL, QMP_TIMEOUT)) < 0)
    statefile_remove(path, 1);
  return r;
}

int qemu_unpause(const struct qemu_state *st, struct qmp *q,
                 const char *uuid)
{
  char path[PATH_MAX];
  int r = qmp_execute(q, "cont", NULL, NULL, QMP_TIMEOUT);
  if (r == 0)
    r = statefile_remove(marker(st, uuid, path), 1);
  return r;
}

/* The guest runs again after a dead ferry's pause: a RAM save it left
 * running is cancelled first (qemu keeps migrating into the file). */
static int let_run(const struct qemu_state *st, const struct ferry_vm *vm)
{
  struct qmp *q;
  int r = qemu_qmp(st, vm->uuid, QMP_TIMEOUT, &q);
  if (r < 0)
    return r;
  char s[64];
  qemu_qmp_status(q, "query-migrate", s, sizeof s);
  if (!strcmp(s, "active") || !strcmp(s, "setup") ||
      !strcmp(s, "device")) {
    qmp_execute(q, "migrate_cancel", NULL, NULL, QMP_TIMEOUT);
    for (int waited = 0; waited < 10000; waited += 50) {
      qemu_qmp_status(q, "query-migrate", s, sizeof s);
      if (strcmp(s, "active") && strcmp(s, "setup") && strcmp(s, "device") &&
          strcmp(s, "cancelling"))
        break;
      nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
    }
  }
  qemu_qmp_status(q, "query-status", s, sizeof s);
  if (!strcmp(s, "paused") || !strcmp(s, "postmigrate"))
    r = qemu_unpause(st, q, vm->uuid);
  else { /* it runs already (killed after cont), or the user stopped it */
    char path[PATH_MAX];
    r = statefile_remove(marker(st, vm->uuid, path), 1);
  }
  qmp_close(q);
  return r;
}

/* The VM's operation lock (the one its snapshot store takes), within
 * timeout_ms. */
static int vm_lock(const struct qemu_state *st, const char *uuid,
                   int timeout_ms, int *fd)
{
  char lock[PATH_MAX];
  int r = statefile_mkdirs(qemu_path(st, lock, "snapshots/%s", uuid));
  return r < 0 ? r : lock_acquire(qemu_path(st, lock, "snapshots/%s/lock",
                                            uuid), timeout_ms, fd);
}

int qemu_resume_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  if (!qemu_running_pid(st, vm->uuid))
    return ferry_error(ESRCH, "VM '%s' is not running: start it", vm->name);
  int fd, r = 0;
  if (vm_lock(st, vm->uuid, 30000, &fd) < 0)
    r = ferry_error(EBUSY, "VM '%s': another ferry process is taking a "
                    "snapshot of it (it resumes the VM when done)", vm->name);
  if (r == 0) {
    r = let_run(st, vm);
    lock_release(fd);
  }
  return r;
}

int qemu_settle(const struct qemu_state *st, const struct ferry_vm *vm)
{
  char path[PATH_MAX], why[256] = "";
  char *text;
  if (statefile_read(marker(st, vm->uuid, path), sizeof why, &text) < 0) {
    ferry_error_clear();
    return 0; /* no marker: nothing to do */
  }
  snprintf(why, sizeof why, "%s", text);
  free(text);
  if (!qemu_running_pid(st, vm->uuid))
    return statefile_remove(path, 1); /* its qemu is gone */
  /* The pausing operation holds the VM's lock while it runs. */
  int fd;
  if (vm_lock(st, vm->uuid, 0, &fd) < 0) {
    ferry_error_clear();
    return 0; /* still at work: its own cont follows */
  }
  int r = let_run(st, vm);
  lock_release(fd);
  if (r < 0)
    return ferry_error_prefix("VM '%s' was left paused by an interrupted %s, "
                              "and could not be resumed (try `ferry vm "
                              "resume %s`): ", vm->name, why, vm->name);
  return 0;
}
