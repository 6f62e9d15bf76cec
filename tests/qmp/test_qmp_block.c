/* QMP block work against a real QEMU: blockdev-add of qcow2 files, internal
 * snapshots alone and in an atomic transaction, HMP qemu-io, and jobs
 * (snapshot-save/-load, block-stream) through qmp_job_wait. The images are
 * checked with qemu-img after QEMU exits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../lib/core/error.h"
#include "../../lib/qmp/qmp.h"
#include "../unit/check.h"
#include "harness.h"

#define T 10000

static char img_a[128], img_b[128], img_base[128], img_top[128];

/* Arguments written as JSON text, for readability. */
static json_object *J(const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  json_object *o = json_tokener_parse(buf);
  CHECK(o != NULL);
  return o;
}

static int run(struct qmp *q, const char *cmd, json_object *args)
{
  int r = qmp_execute(q, cmd, args, NULL, T);
  json_object_put(args);
  return r;
}

static void sh(const char *const *argv)
{
  char *out;
  int st = h_run(argv, &out);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fprintf(stderr, "%s failed: %s\n", argv[0], out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  free(out);
}

static void make_images(void)
{
  snprintf(img_a, sizeof img_a, "%s", h_path(2, "a.qcow2"));
  snprintf(img_b, sizeof img_b, "%s", h_path(3, "b.qcow2"));
  snprintf(img_base, sizeof img_base, "%s", h_path(4, "base.qcow2"));
  snprintf(img_top, sizeof img_top, "%s", h_path(5, "top.qcow2"));
  sh((const char *[]){ "qemu-img", "create", "-q", "-f", "qcow2", img_a, "1M",
                       NULL });
  sh((const char *[]){ "qemu-img", "create", "-q", "-f", "qcow2", img_b, "1M",
                       NULL });
  sh((const char *[]){ "qemu-img", "create", "-q", "-f", "qcow2", img_base,
                       "4M", NULL });
  /* Data in the backing file, for block-stream to copy. */
  sh((const char *[]){ "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 4M",
                       img_base, NULL });
  sh((const char *[]){ "qemu-img", "create", "-q", "-f", "qcow2", "-b",
                       img_base, "-F", "qcow2", img_top, NULL });
}

static void add_nodes(struct qmp *q)
{
  const char *fmt = "{\"driver\": \"qcow2\", \"node-name\": \"%s\", \"file\": "
                    "{\"driver\": \"file\", \"filename\": \"%s\"}}";
  CHECK(run(q, "blockdev-add", J(fmt, "d0", img_a)) == 0);
  CHECK(run(q, "blockdev-add", J(fmt, "d1", img_b)) == 0);
  CHECK(run(q, "blockdev-add", J(fmt, "t0", img_top)) == 0);

  /* Nodes without a device are not in query-block, only in
   * query-named-block-nodes. */
  json_object *ret;
  CHECK(qmp_execute(q, "query-block", NULL, &ret, T) == 0);
  CHECK(json_object_array_length(ret) == 0);
  json_object_put(ret);
  json_object *args = J("{\"flat\": true}");
  CHECK(qmp_execute(q, "query-named-block-nodes", args, &ret, T) == 0);
  json_object_put(args);
  const char *s = json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN);
  CHECK_HAS(s, "\"node-name\":\"d0\"");
  CHECK_HAS(s, "\"node-name\":\"d1\"");
  json_object_put(ret);
}

static void qemu_io(struct qmp *q, const char *line)
{
  char cmd[256], *out;
  snprintf(cmd, sizeof cmd, "qemu-io d0 \"%s\"", line);
  CHECK(qmp_hmp(q, cmd, &out, T) == 0);
  /* qemu-io prints to QEMU's stdout, not to the monitor. */
  CHECK(!strcmp(out, ""));
  free(out);
}

static void internal_snapshots(struct qmp *q)
{
  const char *snap = "{\"device\": \"%s\", \"name\": \"%s\"}";
  qemu_io(q, "write -P 0xab 0 64k");
  CHECK(run(q, "blockdev-snapshot-internal-sync", J(snap, "d0", "s1")) == 0);
  CHECK(run(q, "blockdev-snapshot-internal-sync", J(snap, "d0", "s1")) ==
        -EIO);
  CHECK_HAS(ferry_last_error(), "qmp blockdev-snapshot-internal-sync: "
                                "GenericError: Snapshot with name 's1' "
                                "already exists");
  CHECK(run(q, "blockdev-snapshot-internal-sync", J(snap, "zz", "s1")) ==
        -EIO);
  CHECK_HAS(ferry_last_error(), "zz");
  qemu_io(q, "write -P 0xcd 0 64k");

  const char *tx = "{\"actions\": ["
      "{\"type\": \"blockdev-snapshot-internal-sync\", \"data\": "
      "{\"device\": \"d0\", \"name\": \"%s\"}},"
      "{\"type\": \"blockdev-snapshot-internal-sync\", \"data\": "
      "{\"device\": \"d1\", \"name\": \"t1\"}}]}";
  CHECK(run(q, "transaction", J(tx, "s2")) == 0);
  /* All or nothing: t1 exists on d1, so s3 must not appear on d0. */
  CHECK(run(q, "transaction", J(tx, "s3")) == -EIO);
  CHECK_HAS(ferry_last_error(), "qmp transaction: GenericError: ");
  CHECK_HAS(ferry_last_error(), "'t1' already exists");
}

static int query_jobs_len(struct qmp *q)
{
  json_object *ret;
  CHECK(qmp_execute(q, "query-jobs", NULL, &ret, T) == 0);
  int n = json_object_array_length(ret);
  json_object_put(ret);
  return n;
}

static void jobs(struct qmp *q)
{
  /* snapshot-save is a job that needs dismissing. */
  CHECK(run(q, "snapshot-save", J("{\"job-id\": \"save1\", \"tag\": \"vm1\", "
            "\"vmstate\": \"d0\", \"devices\": [\"d0\", \"d1\"]}")) == 0);
  CHECK(qmp_job_wait(q, "save1", T) == 0);
  CHECK(query_jobs_len(q) == 0);

  CHECK(run(q, "snapshot-load", J("{\"job-id\": \"load1\", \"tag\": "
            "\"nosuch\", \"vmstate\": \"d0\", \"devices\": [\"d0\"]}")) == 0);
  CHECK(qmp_job_wait(q, "load1", T) == -EIO);
  CHECK_HAS(ferry_last_error(), "qmp job load1: Snapshot 'nosuch' does not "
                                "exist");
  CHECK(query_jobs_len(q) == 0);

  CHECK(qmp_job_wait(q, "nojob", T) == -ENOENT);
  CHECK_HAS(ferry_last_error(), "qmp job nojob: no such job");

  /* A block job slowed to a crawl: the wait times out, then it is
   * cancelled and the wait says so. */
  CHECK(run(q, "block-stream", J("{\"job-id\": \"slow\", \"device\": \"t0\", "
            "\"speed\": 1, \"auto-dismiss\": false}")) == 0);
  int64_t t0 = h_now_ms();
  CHECK(qmp_job_wait(q, "slow", 300) == -ETIMEDOUT);
  CHECK(h_now_ms() - t0 >= 290);
  CHECK_HAS(ferry_last_error(), "qmp job slow: not concluded within 300 ms");
  CHECK(run(q, "block-job-cancel", J("{\"device\": \"slow\"}")) == 0);
  CHECK(qmp_job_wait(q, "slow", T) == -ECANCELED);
  CHECK(query_jobs_len(q) == 0);

  /* Block jobs dismiss themselves by default: the result comes from
   * BLOCK_JOB_COMPLETED. */
  CHECK(run(q, "block-stream", J("{\"job-id\": \"fast\", \"device\": "
            "\"t0\"}")) == 0);
  CHECK(qmp_job_wait(q, "fast", T) == 0);
  /* Its events were consumed, no other job's. */
  CHECK(qmp_wait_event_match(q, "JOB_STATUS_CHANGE", "id", "fast", 0, NULL) ==
        -ETIMEDOUT);
  CHECK(qmp_wait_event_match(q, "BLOCK_JOB_COMPLETED", NULL, NULL, 0, NULL) ==
        -ETIMEDOUT);
  CHECK(qmp_wait_event_match(q, "JOB_STATUS_CHANGE", NULL, NULL, 0, NULL) ==
        -ETIMEDOUT);
  CHECK(query_jobs_len(q) == 0);
}

static char *snapshot_list(const char *img)
{
  char *out;
  int st = h_run((const char *[]){ "qemu-img", "snapshot", "-l", img, NULL },
                 &out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return out;
}

/* The first 64 KiB of the image (or of one of its snapshots) hold `byte`. */
static void check_data(const char *snapshot, int byte)
{
  const char *raw = h_path(6, "out.raw");
  char opt[64];
  snprintf(opt, sizeof opt, "snapshot.name=%s", snapshot ? snapshot : "");
  if (snapshot)
    sh((const char *[]){ "qemu-img", "convert", "-O", "raw", "-l", opt, img_a,
                         raw, NULL });
  else
    sh((const char *[]){ "qemu-img", "convert", "-O", "raw", img_a, raw,
                         NULL });
  FILE *f = fopen(raw, "rb");
  CHECK(f);
  static unsigned char buf[128 * 1024];
  CHECK(fread(buf, 1, sizeof buf, f) == sizeof buf);
  fclose(f);
  for (size_t i = 0; i < sizeof buf; i++)
    CHECK(buf[i] == (i < 65536 ? byte : 0));
}

static void check_images(void)
{
  char *a = snapshot_list(img_a), *b = snapshot_list(img_b);
  CHECK_HAS(a, " s1 ");
  CHECK_HAS(a, " s2 ");
  CHECK_HAS(a, " vm1 ");
  CHECK(!strstr(a, " s3 "));
  CHECK_HAS(b, " t1 ");
  CHECK_HAS(b, " vm1 ");
  free(a);
  free(b);
  check_data("s1", 0xab);
  check_data("s2", 0xcd);
  check_data(NULL, 0xcd);
  /* block-stream copied the backing data into top.qcow2 and dropped it. */
  char *info;
  CHECK(WEXITSTATUS(h_run((const char *[]){ "qemu-img", "info", img_top,
                                            NULL }, &info)) == 0);
  CHECK(!strstr(info, "backing file"));
  free(info);
}

int main(void)
{
  h_init("block");
  make_images();
  struct qmp *q;
  CHECK(qmp_connect(h_start_qemu(NULL), 20000, &q) == 0);
  add_nodes(q);
  internal_snapshots(q);
  jobs(q);
  CHECK(qmp_quit(q, T) == 0);
  qmp_close(q);
  int st = h_wait_qemu(T);
  CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  check_images();
  return 0;
}
