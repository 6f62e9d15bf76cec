/* ferry sync SRC DST: the seed's sync from the command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void sync_usage(FILE *f)
{
  fprintf(f,
"Usage: ferry sync SRC DST [--extents FILE | --allocated | --all]\n"
"                  [--verify] [--progress] [--json]\n"
"                  [--requests N] [--request-size BYTES] [--workers N]\n"
"\n"
"Copies SRC to the same offsets of DST. Extents are checked against both\n"
"volumes before the first byte is written. Blocks that are zero at the\n"
"source become holes (write-zeroes) at the destination. A DST path that does\n"
"not exist is created as a sparse raw file of SRC's size.\n"
"\n"
"  --extents FILE      copy only these extents: one 'START_SECTOR COUNT'\n"
"                      pair (512-byte sectors) per line; '-' reads stdin\n"
"  --allocated         copy the allocated areas, zero the rest (default)\n"
"  --all               read every byte of SRC\n"
"  --verify            read both sides back and compare them byte for byte\n"
"  --progress          print progress lines even when stderr is no terminal\n"
"  --json              print one JSON object with the result on stdout\n"
"  --requests N        requests in flight per worker (default 4)\n"
"  --request-size B    bytes per request, e.g. 2M (default 2 MiB)\n"
"  --workers N         threads or connections (default: 8 threads between\n"
"                      files, 2 connections with NBD)\n"
"  --no-zero-detect    write zero-filled blocks as data\n"
"  --retries N         tries after a transient error (default 5)\n"
"  --retry-delay MS    first back-off, doubled each try up to 5 s\n"
"                      (default 100)\n"
"  -h, --help          this text\n"
"\n"
"Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 verify mismatch,\n"
"4 interrupted.\n");
}

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

static const char *mode_name(enum ferry_sync_mode m)
{
  return m == FERRY_SYNC_EXTENTS ? "extents" : m == FERRY_SYNC_ALL ? "all"
                                                                   : "allocated";
}

static void print_json(const struct endpoint *src, const struct endpoint *dst,
                       const struct ferry_sync_opts *o,
                       const struct ferry_sync_stats *st, bool created,
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
  if (code != EXIT_OK) {
    json_object_object_add(j, "error", json_object_new_string(msg));
    json_object_object_add(j, "errno", json_object_new_int(err));
    json_object_object_add(j, "exit_code", json_object_new_int(code));
  }
  const struct { const char *k; uint64_t v; } nums[] = {
    { "total_bytes", st->total_bytes }, { "copied_bytes", st->copied_bytes },
    { "zeroed_bytes", st->zeroed_bytes },
    { "skipped_bytes", st->skipped_bytes },
    { "verified_bytes", st->verified_bytes }, { "retries", st->retries },
    { "workers", st->workers }, { "requests", st->requests },
    { "request_size", st->request_size },
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

int cmd_sync(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "extents", required_argument, NULL, 'e' },
    { "allocated", no_argument, NULL, 'a' },
    { "all", no_argument, NULL, 'A' },
    { "verify", no_argument, NULL, 'v' },
    { "progress", no_argument, NULL, 'p' },
    { "json", no_argument, NULL, 'j' },
    { "requests", required_argument, NULL, 'r' },
    { "request-size", required_argument, NULL, 's' },
    { "workers", required_argument, NULL, 'w' },
    { "no-zero-detect", no_argument, NULL, 'z' },
    { "retries", required_argument, NULL, 'R' },
    { "retry-delay", required_argument, NULL, 'D' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_ALLOCATED;
  const char *extents_path = NULL;
  bool json = false, force_progress = false, bad = false;
  int modes = 0, c;
  optind = 1;
  /* Errors are kept until the end, when --json is known. */
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'e': extents_path = optarg; o.mode = FERRY_SYNC_EXTENTS; modes++;
      break;
    case 'a': o.mode = FERRY_SYNC_ALLOCATED; modes++; break;
    case 'A': o.mode = FERRY_SYNC_ALL; modes++; break;
    case 'v': o.verify = true; break;
    case 'p': force_progress = true; break;
    case 'j': json = true; break;
    case 'z': o.no_zero_detect = true; break;
    case 'r':
      if (!parse_uint(optarg, &o.requests) || !o.requests)
        bad = true, cli_error("--requests wants a number >= 1");
      break;
    case 'w':
      if (!parse_uint(optarg, &o.workers) || !o.workers)
        bad = true, cli_error("--workers wants a number >= 1");
      break;
    case 'R':
      if (!parse_uint(optarg, &o.retries) || !o.retries)
        bad = true, cli_error("--retries wants a number >= 1");
      break;
    case 'D':
      if (!parse_uint(optarg, &o.retry_delay_ms) || !o.retry_delay_ms)
        bad = true, cli_error("--retry-delay wants milliseconds >= 1");
      break;
    case 's':
      if (!parse_size(optarg, &o.request_size) || !o.request_size)
        bad = true, cli_error("--request-size wants a size like 2M");
      break;
    case 'h': sync_usage(stdout); return EXIT_OK;
    default:
      bad = true;
      cli_error("Usage: ferry sync SRC DST [OPTIONS] (see 'ferry sync "
                "--help')");
      break;
    }
  }
  if (!bad && modes > 1)
    bad = true, cli_error("give one of --extents, --allocated, --all");
  if (!bad && argc - optind != 2)
    bad = true, cli_error("Usage: ferry sync SRC DST [OPTIONS]: want two "
                          "volumes (see 'ferry sync --help')");
  if (bad)
    return cli_fail(json, "sync", EXIT_USAGE);

  struct ferry_extent *ext = NULL;
  size_t n = 0;
  if (extents_path && ferry_extents_read(extents_path, &ext, &n) < 0) {
    cli_error("%s", ferry_last_error());
    return cli_fail(json, "sync", EXIT_USAGE);
  }

  struct endpoint src, dst;
  int rc;
  bool created = false;
  memset(&dst, 0, sizeof dst);
  int r = endpoint_open(argv[optind], false, &src);
  if (r == 0)
    r = endpoint_open(argv[optind + 1], true, &dst);
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
  progress_init(&pr, "sync", force_progress);
  o.progress = progress_cb;
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
    print_json(&src, &dst, &o, &st, created, msg, err, rc);
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
