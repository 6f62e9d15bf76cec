/* Internal: a QMP client over a unix socket, for driving QEMU (snapshots,
 * migration, block jobs).
 *
 * Threads: a struct qmp is not locked. Use each one from one thread at a
 * time (one per thread is the intended use); distinct handles share nothing.
 *
 * Errors: every function returns 0 (or a documented non-negative value) or
 * a negative errno, and sets the thread-local message (ferry_last_error()).
 * A QMP error reply maps its class to an errno, with the message
 * "qmp CMD: CLASS: DESC":
 *   CommandNotFound  -> ENOTSUP   (the command does not exist in this QEMU)
 *   KVMMissingCap    -> ENOTSUP   (the host lacks a KVM capability)
 *   DeviceNotFound   -> ENODEV
 *   DeviceNotActive  -> ENODEV
 *   GenericError     -> EIO       (QEMU uses it for nearly everything, bad
 *                                  arguments included: read the message)
 *   any other class  -> EIO
 * Transport errors:
 *   -ECONNRESET  QEMU closed the connection (quit, crash); also when the
 *                kernel says EPIPE on send. SIGPIPE is never raised. The
 *                handle stays "dead": later commands fail the same way, but
 *                events received before the close can still be waited for.
 *   -ETIMEDOUT   no reply or event in time. A command that timed out may
 *                still run in QEMU; its late reply is recognised by its id
 *                and discarded.
 *   -EPROTO      QEMU sent something that is not JSON (the handle is dead).
 *
 * Events arriving while a command waits for its reply are queued, at most
 * QMP_EVENT_QUEUE_MAX; beyond that the oldest is dropped and counted
 * (qmp_events_dropped()).
 *
 * Timeouts are in milliseconds; a negative timeout waits forever. */
#ifndef FERRY_QMP_H
#define FERRY_QMP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_EVENT_QUEUE_MAX 1024

struct qmp;

/* Connects to a QMP unix socket, retrying while the socket does not exist
 * yet or refuses (QEMU still starting), reads the greeting and negotiates
 * qmp_capabilities. timeout_ms bounds all of it, the handshake included (a
 * QMP socket serves one client at a time: the greeting of a second one
 * waits until the first leaves). -ETIMEDOUT if the socket never appeared
 * or kept refusing; -ENOTSOCK at once if the path is not a socket. */
int qmp_connect(const char *socket_path, int timeout_ms, struct qmp **out);

/* Closes the connection and frees queued events. NULL is a no-op. */
void qmp_close(struct qmp *q);

/* QEMU's version from the greeting. */
void qmp_version(const struct qmp *q, int *major, int *minor, int *micro);

/* Runs one command and waits for its reply, matched by "id" (an integer
 * counting up per handle; other replies are discarded). args may be
 * NULL; it is not consumed (the caller keeps ownership). On success *ret (if
 * ret != NULL) gets the "return" value; the caller json_object_put's it. On
 * a QMP error reply, returns the errno mapped from its class (see above). */
int qmp_execute(struct qmp *q, const char *cmd, json_object *args,
                json_object **ret, int timeout_ms);

/* The same, passing fd with SCM_RIGHTS in the same sendmsg as the command
 * (for "getfd" and "add-fd"). QEMU gets a duplicate: the caller still owns
 * and closes fd. */
int qmp_execute_fd(struct qmp *q, const char *cmd, json_object *args, int fd,
                   json_object **ret, int timeout_ms);

/* getfd: QEMU keeps a copy of fd under fdname (then "fd:FDNAME" works for
 * migrate; "closefd" releases it). An existing name is replaced. */
int qmp_getfd(struct qmp *q, const char *fdname, int fd, int timeout_ms);

/* human-monitor-command; *output gets the text (malloc'd, possibly "").
 * HMP reports most failures as text with a successful reply (e.g.
 * "unknown command", qemu-io errors): the caller must read the output. */
int qmp_hmp(struct qmp *q, const char *command_line, char **output,
            int timeout_ms);

/* "quit", tolerating QEMU closing the socket before or after its reply, then
 * waits (within timeout_ms) for the close. QEMU may still be exiting after
 * this returns: wait for its PID before touching its images. */
int qmp_quit(struct qmp *q, int timeout_ms);

/* Waits for the next event named `event` (NULL = any), consuming queued
 * ones first (oldest first). *data (if data != NULL) gets its "data" member
 * or NULL if it has none; the caller json_object_put's it. Events of other
 * names stay queued for later waits. -ETIMEDOUT on timeout; timeout_ms 0
 * only looks at the queue and what is already readable. */
int qmp_wait_event(struct qmp *q, const char *event, int timeout_ms,
                   json_object **data);

/* The general form: the next event named `event` (NULL = any) whose data
 * member `key` is the string `value` (key NULL = no filter), e.g.
 * ("JOB_STATUS_CHANGE", "id", "job0") or ("MIGRATION", "status",
 * "completed"). *ev (if ev != NULL) gets the whole event object
 * {"event", "data", "timestamp"}: read it with the accessors below, then
 * json_object_put it. */
int qmp_wait_event_match(struct qmp *q, const char *event, const char *key,
                         const char *value, int timeout_ms, json_object **ev);

/* Accessors for an event object: its name, its "data" (borrowed; NULL if
 * none) and its timestamp in microseconds since the epoch (-1 if absent). */
const char *qmp_event_name(json_object *ev);
json_object *qmp_event_data(json_object *ev);
int64_t qmp_event_ts(json_object *ev);

/* Events dropped because the queue was full, since connect. */
uint64_t qmp_events_dropped(const struct qmp *q);

/* Waits until job `job_id` (a job of the generic job API: snapshot-save,
 * snapshot-load, snapshot-delete, blockdev-create, backup, ...) concludes,
 * then reads its error with query-jobs and dismisses it with job-dismiss.
 * Returns 0 if it succeeded; -ECANCELED if it was cancelled; -EIO with
 * "qmp job JOB: ERROR" if it failed; -ENOENT if QEMU knows no such job and
 * none of its events are queued. Jobs started with "auto-dismiss": true
 * (block jobs' default) vanish at once; their result is then taken from
 * their BLOCK_JOB_COMPLETED/BLOCK_JOB_CANCELLED event. Jobs started with
 * "auto-finalize": false stop in "pending" until job-finalize: this waits
 * for "concluded" and would time out. Consumes the job's JOB_STATUS_CHANGE,
 * BLOCK_JOB_COMPLETED and BLOCK_JOB_CANCELLED events; leaves the others. */
int qmp_job_wait(struct qmp *q, const char *job_id, int timeout_ms);

#endif
