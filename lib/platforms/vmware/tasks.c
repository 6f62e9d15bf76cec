/* wait_task: vSphere tasks polled through their info property until they
 * end; a task's error becomes the message. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/clock.h"
#include "vmware.h"
#include "xml.h"

/* Polls the task; result gets info.result's text when it succeeded. */
static int wait_for(struct vmw *w, const char *task, int timeout_ms,
                    char *result, size_t len)
{
  static const char *const paths[] = { "info", NULL };
  uint64_t deadline =
      timeout_ms < 0 ? UINT64_MAX : monotonic_ms() + (uint64_t)timeout_ms;
  unsigned delay_ms = 20;
  for (;;) {
    struct vobjs o;
    int r = vprops_one(w->s, "Task", task, paths, &o);
    if (r < 0)
      return r;
    char state[32], name[128], msg[600], fault[96];
    xmlNode *info = vobj_prop(&o.v[0], "info");
    xml_get(info, "state", state, sizeof state);
    xml_get(info, "descriptionId", name, sizeof name);
    if (!strcmp(state, "success")) {
      if (result)
        xml_get(info, "result", result, len);
      vobjs_free(&o);
      return 0;
    }
    if (!strcmp(state, "error")) {
      xmlNode *err = xml_child(info, "error");
      xml_get(err, "localizedMessage", msg, sizeof msg);
      xml_type(xml_child(err, "fault"), fault, sizeof fault);
      vobjs_free(&o);
      return ferry_error(!strcmp(fault, "NotSupported") ? ENOTSUP
                         : !strcmp(fault, "InvalidPowerState") ? EBUSY
                         : !strcmp(fault, "InvalidArgument") ? EINVAL
                         : !strcmp(fault, "FileAlreadyExists") ? EEXIST
                         : !strcmp(fault, "AlreadyExists") ? EEXIST
                                                               : EIO,
                         "vSphere task %s (%s) failed: %s (%s)", task, name,
                         *msg ? msg : "no message", *fault ? fault : "fault");
    }
    vobjs_free(&o);
    if (monotonic_ms() >= deadline)
      return ferry_error(ETIMEDOUT, "vSphere task %s (%s) is still %s after "
                         "%d ms", task, name, state, timeout_ms);
    struct timespec ts = { 0, (long)delay_ms * 1000000L };
    nanosleep(&ts, NULL);
    if (delay_ms < 500)
      delay_ms *= 2;
  }
}

int vmw_wait_task(struct ferry_client *fc, const char *task, int timeout_ms)
{
  return wait_for(VMW(fc), task, timeout_ms, NULL, 0);
}

int vmw_run_task(struct vmw *w, const char *method, const char *type,
                 const char *moref, const char *args, char *result,
                 size_t len)
{
  struct vreply r;
  int rc = vsession_call(w->s, method, type, moref, args, &r);
  if (rc < 0)
    return rc;
  char task[MOREF_LEN];
  xml_get(r.ret, "returnval", task, sizeof task);
  vreply_free(&r);
  if (!*task)
    return ferry_error(EPROTO, "vSphere %s returned no task", method);
  return wait_for(w, task, 30 * 60 * 1000, result, len);
}
