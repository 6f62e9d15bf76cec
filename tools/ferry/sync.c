/* ferry sync SRC DST: the seed's sync from the command line. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

/* Creates a missing raw destination of the source's size. */
static int create_dest(const char *path, client_t *src, const char *vol)
{
  struct ferry_volume *v;
  if (ferry_volume_open(src, vol, FERRY_OPEN_READ, &v) < 0) {
    cli_error("%s", ferry_last_error());
    return -1;
  }
  int64_t size = ferry_volume_size(v);
  ferry_volume_close(v);
  if (size < 0) {
    cli_error("cannot create '%s': source size unknown", path);
    return -1;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 || ftruncate(fd, size) < 0) {
    cli_error("cannot create '%s': %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(path);
    }
    return -1;
  }
  close(fd);
  return 0;
}

/* Room kept for what the copy itself loads and opens (libnbd, its TLS
 * libraries, a connection's state) beside its buffers. */
#define COPY_ROOM (4u << 20)

/* --memory is what this process may take in all: the buffers get what it
 * does not hold already (measured, about 12 MiB of libraries), less room
 * for what the copy opens. */
static int buffer_budget(uint64_t total, uint64_t *out)
{
  long page = sysconf(_SC_PAGESIZE);
  unsigned long size, resident = 0;
  FILE *f = fopen("/proc/self/statm", "re");
  if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
    resident = 0; /* no /proc: the buffers get it all */
  if (f)
    fclose(f);
  uint64_t held = (uint64_t)resident * (uint64_t)page + COPY_ROOM;
  if (total <= held) {
    cli_error("--memory %" PRIu64 " MiB is not more than ferry holds "
              "without buffers (%" PRIu64 " MiB)", total >> 20, held >> 20);
    return -1;
  }
  *out = total - held;
  return 0;
}

static const char *mode_name(enum ferry_sync_mode m)
{
  return m == FERRY_SYNC_EXTENTS ? "extents" : m == FERRY_SYNC_ALL ? "all"
                                                                   : "allocated";
}

static void print_json(const struct endpoint *src, const struct endpoint *dst,
                       const struct ferry_sync_opts *o,
                       const struct ferry_sync_stats *st,
                       uint64_t memory, bool created,
                       const char *msg, int err, int code)
{
  json_object *j = json_object_new_object();
  json_object_object_add(j, "ok", json_object_new_boolean(code == EXIT_OK));
  json_object_object_add(j, "source", json_object_new_string(src->display));
  json_object_object_add(j, "destination",
                         json_object_new_string(dst->display));
  json_object_object_add(j, "mode", json_object_new_string(mode_name(o->mode)));
  json_object_object_add(j, "created_destination",
                         json_object_new_boolean(created && code == EXIT_OK));
  if (code != EXIT_OK)
    json_add_error(j, msg, err, code);
  const struct { const char *k; uint64_t v; } nums[] = {
    { "total_bytes", st->total_bytes }, { "copied_bytes", st->copied_bytes },
    { "zeroed_bytes", st->zeroed_bytes },
    { "skipped_bytes", st->skipped_bytes },
    { "verified_bytes", st->verified_bytes }, { "retries", st->retries },
    { "workers", st->workers }, { "requests", st->requests },
    { "request_size", st->request_size }, { "memory", memory },
    { "buffer_budget", st->memory }, { "buffer_bytes", st->buffer_bytes },
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    json_object_object_add(j, nums[i].k, json_object_new_uint64(nums[i].v));
  char secs[32];
  snprintf(secs, sizeof secs, "%.3f", st->seconds);
  json_object_object_add(j, "seconds",
                         json_object_new_double_s(st->seconds, secs));
  json_object_object_add(j, "destination_written",
                         json_object_new_boolean(st->wrote));
  puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                             JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(j);
}

static void print_summary(const struct ferry_sync_stats *st)
{
  char a[32], b[32], z[32], s[32];
  human_size(st->copied_bytes, a, sizeof a);
  human_size(st->total_bytes, b, sizeof b);
  human_size(st->zeroed_bytes, z, sizeof z);
  human_size(st->skipped_bytes, s, sizeof s);
  fprintf(stderr, "synced %s: %s copied, %s zeroed, %s already zero, in "
          "%.2fs%s%s\n", b, a, z, s, st->seconds,
          st->verified_bytes ? ", verified" : "",
          st->retries ? " (with retries)" : "");
}

/* What ferry sync's options set. */
struct sync_args {
  struct ferry_sync_opts sync;
  const char *extents_path;
  struct progress_opt progress;
  int modes; /* of --extents, --allocated and --all, one at most */
};

static bool set_mode(const struct cli_opt *opt, void *opts, const char *value)
{
  struct sync_args *a = opts;
  a->modes++;
  a->extents_path = value;
  a->sync.mode = value ? FERRY_SYNC_EXTENTS
               : !strcmp(opt->name, "all") ? FERRY_SYNC_ALL
               : FERRY_SYNC_ALLOCATED;
  return true;
}

/* --read-gap 0 is "never", which the library spells otherwise. */
static bool set_read_gap(const struct cli_opt *opt, void *opts,
                         const char *value)
{
  (void)opt;
  struct sync_args *a = opts;
  uint64_t v;
  if (!parse_size(value, &v))
    return false;
  a->sync.read_gap = v ? v : FERRY_READ_GAP_NEVER;
  return true;
}

#define SYNC_FIELD(f) offsetof(struct sync_args, f)

static const struct cli_command sync_cmd = {
  .name = "sync",
  .json = "{ok, source, destination, mode, created_destination, total_bytes, copied_bytes, zeroed_bytes, skipped_bytes, verified_bytes, retries, workers, requests, request_size, memory, buffer_budget, buffer_bytes, seconds, destination_written}, and on failure error, errno, errno_name and exit_code too",
  .about =
"Copies SRC to the same offsets of DST. Extents are checked against both\n"
"volumes before the first byte is written. Blocks that are zero at the\n"
"source become holes (write-zeroes) at the destination. A DST path that does\n"
"not exist is created as a sparse raw file of SRC's size.\n"
"\n"
"Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 verify mismatch,\n"
"4 interrupted.\n",
  .operands = (const struct cli_operand[]){
    { "SRC", "the volume to read: a path or URI (see 'ferry --help')" },
    { "DST", "the volume to write, at least SRC's size; a path not there "
      "yet is created" },
    { NULL, NULL },
  },
  .options = { (const struct cli_opt[]){
    { "extents", "FILE", "copy only these extents: one 'START_SECTOR COUNT' "
      "pair (512-byte sectors) per line; '-' reads stdin", set_mode, 0, NULL },
    { "allocated", NULL, "copy the allocated areas, zero the rest (default)",
      set_mode, 0, NULL },
    { "all", NULL, "read every byte of SRC", set_mode, 0, NULL },
    { "verify", NULL, "read both sides back and compare them byte for byte",
      cli_set_flag, SYNC_FIELD(sync.verify), NULL },
    { "progress", "=fd:N", "print progress lines even when stderr is no "
      "terminal; =fd:N: JSON lines on descriptor N instead, for programs "
      "(time, phase copy or verify, done, total, bytes_per_second, "
      "eta_seconds, final)", cli_set_progress, SYNC_FIELD(progress),
      NULL },
    { "memory", "SIZE", "the most this process takes (default 64M): its "
      "buffers, all workers and requests together, get what ferry does not "
      "hold already", cli_set_size,
      SYNC_FIELD(sync.memory), "a size like 64M" },
    { "requests", "N", "requests in flight per worker (default: deepened "
      "while the throughput grows, as far as --memory allows)",
      cli_set_count, SYNC_FIELD(sync.requests), "a number >= 1" },
    { "request-size", "SIZE", "bytes per request, e.g. 2M (default: 256K, "
      "or an NBD server's preferred size; 2M between files)",
      cli_set_size, SYNC_FIELD(sync.request_size), "a size like 2M" },
    { "workers", "N", "threads or connections (default: 8 threads between "
      "files, 4 connections to an NBD server that allows several)",
      cli_set_count, SYNC_FIELD(sync.workers), "a number >= 1" },
    { "read-gap", "SIZE", "read a gap of up to SIZE between two extents "
      "with them, as one request (default: what the source's kind was "
      "measured to gain from; 0: never)", set_read_gap, 0, "a size like 64K" },
    { "no-zero-detect", NULL, "write zero-filled blocks as data",
      cli_set_flag, SYNC_FIELD(sync.no_zero_detect), NULL },
    { "retries", "N", "tries after a transient error (default 5)",
      cli_set_count, SYNC_FIELD(sync.retries), "a number >= 1" },
    { "retry-delay", "MS", "first back-off, doubled each try up to 5 s "
      "(default 100)", cli_set_count, SYNC_FIELD(sync.retry_delay_ms),
      "milliseconds >= 1" },
    CLI_OPT_END,
  } },
};

int cmd_sync(int argc, char **argv)
{
  struct sync_args a = { .modes = 0, .progress = { false, -1 } };
  ferry_sync_opts_init(&a.sync);
  a.sync.mode = FERRY_SYNC_ALLOCATED;
  struct common_opts c;
  int rc;
  if (!cli_parse(&sync_cmd, argc, argv, &a, &c, &rc))
    return rc;
  if (a.modes > 1) {
    cli_error("give one of --extents, --allocated, --all");
    return cli_fail(c.json, "sync", EXIT_USAGE);
  }
  struct ferry_sync_opts o = a.sync;
  bool json = c.json;
  uint64_t memory = a.sync.memory ? a.sync.memory : FERRY_SYNC_DEFAULT_MEMORY;
  if (buffer_budget(memory, &o.memory) < 0)
    return cli_fail(json, "sync", EXIT_USAGE);
  /* The default budget never refuses the request size asked for. */
  uint64_t one = o.request_size * (o.verify ? 2 : 1);
  if (!a.sync.memory && o.memory < one)
    o.memory = one;

  struct ferry_extent *ext = NULL;
  size_t n = 0;
  if (a.extents_path && ferry_extents_read(a.extents_path, &ext, &n) < 0) {
    cli_error("%s", ferry_last_error());
    return cli_fail(json, "sync", EXIT_USAGE);
  }

  struct endpoint src, dst;
  bool created = false;
  memset(&dst, 0, sizeof dst);
  int r = endpoint_open(argv[1], false, &src);
  if (r == 0)
    r = endpoint_open(argv[2], true, &dst);
  if (r == 0 && dst.create_path) {
    r = create_dest(dst.create_path, src.client, src.volume);
    created = r == 0;
  }
  if (r < 0) {
    rc = cli_fail(json, "sync", r == -2 ? EXIT_USAGE : EXIT_FAILED);
    goto out;
  }

  cli_catch_signals();
  struct progress pr;
  progress_init(&pr, &a.progress);
  o.phase_progress = progress_phase_cb;
  o.progress_opaque = &pr;
  struct ferry_sync_stats st;
  r = ferry_sync_ex(src.client, dst.client, src.volume, dst.volume, ext, n,
                    &o, &st);
  progress_end(&pr);
  int err = ferry_last_errno();
  const char *msg = ferry_last_error() ? ferry_last_error() : strerror(err);
  if (r < 0 && created)
    unlink(dst.create_path); /* ours, and never completed */
  /* EINVAL is bad input only before the copy began: a server's EINVAL
   * to a read is a failure, written or not. */
  rc = r == 0 ? EXIT_OK : err == EILSEQ ? EXIT_VERIFY
     : err == ECANCELED ? EXIT_CANCELLED
     : err == EINVAL && !st.started ? EXIT_USAGE : EXIT_FAILED;
  if (r < 0 && err == ECANCELED && cli_interrupted)
    msg = cli_interrupted == SIGINT ? "interrupted (SIGINT)"
                                    : "interrupted (SIGTERM)";
  if (json)
    print_json(&src, &dst, &o, &st, memory, created, msg, err, rc);
  else if (r == 0)
    print_summary(&st);
  else
    fprintf(stderr, "ferry sync: %s\n", msg);
out:
  free(ext);
  endpoint_close(&dst);
  endpoint_close(&src);
  return rc;
}
