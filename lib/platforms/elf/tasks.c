/* Waiting for CloudTower's tasks: a mutation answers with WithTask
 * objects whose task_id is polled through /get-tasks until SUCCESSED or
 * FAILED (the seed's wait_task). A task id not listed yet is asked for
 * again, as CloudTower's own clients do. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/clock.h"
#include "../../core/error.h"
#include "elf.h"

#define DEFAULT_TIMEOUT_MS (30 * 60 * 1000)

/* ELF's task errors, as errno values. */
static int errno_of(const char *msg)
{
  if (strstr(msg, "EAllocSpace"))
    return ENOSPC;
  if (strstr(msg, "VM_DUPLICATED_NAME"))
    return EEXIST;
  if (strstr(msg, "JOB_VM_SHUTDOWN_TIMEOUT"))
    return ETIMEDOUT;
  if (strstr(msg, "HostAvailableMemoryFilter"))
    return ENOMEM;
  return EIO;
}

/* The task ids of an answer (a WithTask or an array of them). */
static json_object *task_ids(json_object *answer)
{
  json_object *ids = json_object_new_array();
  size_t n = json_object_is_type(answer, json_type_array)
                 ? json_object_array_length(answer) : 1;
  for (size_t i = 0; i < n; i++) {
    json_object *w = json_object_is_type(answer, json_type_array)
                         ? json_object_array_get_idx(answer, i) : answer;
    const char *t = elf_str(w, "task_id");
    if (*t)
      json_object_array_add(ids, json_object_new_string(t));
  }
  return ids;
}

int elf_wait(struct ferry_client *fc, json_object *answer, int timeout_ms,
             const char *what)
{
  json_object *ids = task_ids(answer);
  size_t want = json_object_array_length(ids);
  uint64_t deadline = monotonic_ms() + (uint64_t)(timeout_ms > 0
                                                      ? timeout_ms
                                                      : DEFAULT_TIMEOUT_MS);
  int r = 0;
  for (unsigned naps = 0; want && r == 0; naps++) {
    json_object *tasks = NULL;
    r = elf_list(fc, "/get-tasks",
                 elf_where_kv("id_in", json_object_get(ids)), NULL, &tasks);
    size_t done = 0;
    for (size_t i = 0; r == 0 && i < json_object_array_length(tasks); i++) {
      json_object *t = json_object_array_get_idx(tasks, i);
      const char *st = elf_str(t, "status");
      if (!strcmp(st, "FAILED")) {
        const char *msg = elf_str(t, "error_message");
        r = ferry_error(errno_of(msg), "%s: CloudTower's task failed: %s",
                        what, *msg ? msg : elf_str(t, "error_code"));
      } else if (!strcmp(st, "SUCCESSED")) {
        done++;
      }
    }
    json_object_put(tasks);
    if (r < 0 || done == want)
      break;
    if (monotonic_ms() > deadline) {
      r = ferry_error(ETIMEDOUT, "%s: CloudTower's task did not end within "
                      "%d s", what, (timeout_ms > 0 ? timeout_ms
                                                    : DEFAULT_TIMEOUT_MS) /
                                        1000);
      break;
    }
    /* 50 ms at first, then up to 1 s between looks */
    long ms = naps < 10 ? 50 : naps < 30 ? 200 : 1000;
    nanosleep(&(struct timespec){ 0, ms * 1000000 }, NULL);
  }
  json_object_put(ids);
  return r;
}

int elf_wait_task(struct ferry_client *fc, const char *task, int timeout_ms)
{
  json_object *w = json_object_new_object();
  json_object_object_add(w, "task_id", json_object_new_string(task));
  int r = elf_wait(fc, w, timeout_ms, task);
  json_object_put(w);
  return r;
}

int elf_mutate(struct ferry_client *fc, const char *op, json_object *body,
               int timeout_ms, const char *what, json_object **answer)
{
  json_object *ans = NULL;
  int r = elf_call(fc, op, body, &ans);
  if (r == 0)
    r = elf_wait(fc, ans, timeout_ms, what);
  if (r == 0 && answer)
    *answer = ans;
  else
    json_object_put(ans);
  return r;
}

int elf_answer_id(json_object *answer, const char *what, char *buf,
                  size_t len)
{
  json_object *first = json_object_is_type(answer, json_type_array)
                           ? json_object_array_get_idx(answer, 0) : answer;
  json_object *data;
  buf[0] = '\0';
  if (first && json_object_object_get_ex(first, "data", &data))
    snprintf(buf, len, "%s", elf_str(data, "id"));
  return *buf ? 0 : ferry_error(EIO, "%s: CloudTower gave no id", what);
}
