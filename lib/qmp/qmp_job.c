/* Waiting for a job of QEMU's generic job API (QEMU 7.2: JOB_STATUS_CHANGE
 * {id, status}; query-jobs [{id, type, status, ..., error?}]; job-dismiss
 * {id}). Block jobs also send BLOCK_JOB_COMPLETED {device: the job id,
 * error?} before "concluded", which is all that remains of a job that
 * dismissed itself (auto-dismiss). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/json_str.h"
#include "qmp_int.h"

/* query-jobs for one job: 1 found (status and error, or NULL, malloc'd),
 * 0 not found, or -errno. */
static int find_job(struct qmp *q, const char *id, int64_t deadline,
                    char **status, char **error)
{
  json_object *jobs;
  *status = *error = NULL;
  int r = qmp_execute(q, "query-jobs", NULL, &jobs, qmp_ms_left(deadline));
  if (r < 0)
    return r;
  r = 0;
  size_t n = json_object_is_type(jobs, json_type_array)
                 ? json_object_array_length(jobs) : 0;
  for (size_t i = 0; i < n && !r; i++) {
    json_object *j = json_object_array_get_idx(jobs, i);
    const char *jid = json_str(j, "id");
    if (!jid || strcmp(jid, id) != 0)
      continue;
    const char *s = json_str(j, "status"), *e = json_str(j, "error");
    *status = strdup(s ? s : "");
    *error = e ? strdup(e) : NULL;
    r = 1;
  }
  json_object_put(jobs);
  return r;
}

static bool is_end(const char *status)
{
  return status && (!strcmp(status, "concluded") || !strcmp(status, "null"));
}

/* Drops this job's events that are still queued: they are stale now. */
static void purge(struct qmp *q, const char *id)
{
  json_object *o;
  while ((o = qmp_events_take(&q->ev, "JOB_STATUS_CHANGE", "id", id)) ||
         (o = qmp_events_take(&q->ev, "BLOCK_JOB_COMPLETED", "device", id)) ||
         (o = qmp_events_take(&q->ev, "BLOCK_JOB_CANCELLED", "device", id)))
    json_object_put(o);
}

/* The job is gone (auto-dismissed or never there): its queued events tell. */
static int result_from_events(struct qmp *q, const char *id)
{
  json_object *o;
  int r;
  if ((o = qmp_events_take(&q->ev, "BLOCK_JOB_CANCELLED", "device", id))) {
    r = ferry_error(ECANCELED, "qmp job %s: cancelled", id);
  } else if ((o = qmp_events_take(&q->ev, "BLOCK_JOB_COMPLETED", "device",
                                  id))) {
    const char *e = json_str(qmp_event_data(o), "error");
    r = e ? ferry_error(EIO, "qmp job %s: %s", id, e) : 0;
  } else if ((o = qmp_events_take(&q->ev, "JOB_STATUS_CHANGE", "id", id))) {
    r = 0; /* a generic job that dismissed itself: no error to read */
  } else {
    return ferry_error(ENOENT, "qmp job %s: no such job", id);
  }
  json_object_put(o);
  purge(q, id);
  return r;
}

/* Consumes the job's status changes until "concluded" (or "null"). */
static int wait_end(struct qmp *q, const char *id, int64_t deadline,
                    int timeout_ms)
{
  for (;;) {
    json_object *ev;
    int r = qmp_wait_event_match(q, "JOB_STATUS_CHANGE", "id", id,
                                 qmp_ms_left(deadline), &ev);
    if (r == -ETIMEDOUT)
      return ferry_error(ETIMEDOUT, "qmp job %s: not concluded within %d ms",
                         id, timeout_ms);
    if (r < 0)
      return r;
    bool end = is_end(json_str(qmp_event_data(ev), "status"));
    json_object_put(ev);
    if (end)
      return 0;
  }
}

int qmp_job_wait(struct qmp *q, const char *job_id, int timeout_ms)
{
  int64_t deadline = qmp_deadline(timeout_ms);
  char *status, *error;
  /* Ask first: the job may have concluded before this call. */
  int r = find_job(q, job_id, deadline, &status, &error);
  if (r == 1 && !is_end(status)) {
    free(status);
    free(error);
    r = wait_end(q, job_id, deadline, timeout_ms);
    if (r == -ETIMEDOUT)
      return r;
    if (r == 0)
      r = find_job(q, job_id, deadline, &status, &error);
  }
  if (r < 0)
    return ferry_error_prefix("qmp job %s: ", job_id);
  if (r == 0)
    return result_from_events(q, job_id);

  /* Concluded and still listed: read its error, then dismiss it. QEMU's
   * job API reports a cancelled job only by this error text (its
   * strerror(ECANCELED), not localised). */
  if (!error)
    r = 0;
  else if (!strcmp(error, "Operation canceled"))
    r = ferry_error(ECANCELED, "qmp job %s: cancelled", job_id);
  else
    r = ferry_error(EIO, "qmp job %s: %s", job_id, error);
  free(status);
  free(error);
  json_object *args = json_object_new_object();
  json_object_object_add(args, "id", json_object_new_string(job_id));
  int d = qmp_execute(q, "job-dismiss", args, NULL, qmp_ms_left(deadline));
  json_object_put(args);
  purge(q, job_id);
  if (d < 0 && r == 0)
    return ferry_error_prefix("qmp job %s: ", job_id);
  return r;
}
