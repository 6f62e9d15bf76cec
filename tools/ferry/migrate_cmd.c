/* ferry migrate plan|start|sync|cutover|status|resume|abort */
#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/migrate.h>

#include "platform_cli.h"

/* Progress: a bar on a terminal, JSON lines (one a second) on stderr with
 * --json; SIGINT cancels the step, which `resume` runs again. */
struct watch_state {
  bool json, tty;
  bool open; /* a bar is on the terminal's last line */
  unsigned ended; /* the round whose final line is printed */
  double last;
};

static int on_progress(void *opaque, const struct ferry_migrate_progress *p)
{
  struct watch_state *w = opaque;
  if (cli_interrupted)
    return 1;
  double rate = p->seconds > 0 ? p->all_done / p->seconds : 0;
  bool end = p->all_total && p->all_done >= p->all_total;
  if (w->json) {
    if (p->seconds - w->last < 1 && !end)
      return 0;
    w->last = p->seconds;
    json_object *j = json_object_new_object(), *d = json_object_new_object();
    json_object_object_add(j, "step", json_object_new_string(p->step));
    json_object_object_add(j, "round", json_object_new_int(p->round));
    for (size_t i = 0; i < p->n_disks; i++) {
      json_object *x = json_object_new_object();
      json_object_object_add(x, "done", json_object_new_uint64(p->done[i]));
      json_object_object_add(x, "total", json_object_new_uint64(p->total[i]));
      json_object_object_add(d, p->disks[i], x);
    }
    json_object_object_add(j, "disks", d);
    json_object_object_add(j, "done", json_object_new_uint64(p->all_done));
    json_object_object_add(j, "total", json_object_new_uint64(p->all_total));
    json_object_object_add(j, "bytes_per_second",
                           json_object_new_uint64((uint64_t)rate));
    fprintf(stderr, "%s\n", json_object_to_json_string_ext(
                                 j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
  } else if (w->tty && !(end && w->ended == p->round)) {
    char d[32], t[32], r[32];
    human_size(p->all_done, d, sizeof d);
    human_size(p->all_total, t, sizeof t);
    human_size((uint64_t)rate, r, sizeof r);
    fprintf(stderr, "\r%s %u:", p->step, p->round);
    for (size_t i = 0; i < p->n_disks; i++)
      fprintf(stderr, " %s %3.0f%%", p->disks[i],
              p->total[i] ? 100.0 * p->done[i] / p->total[i] : 0.0);
    fprintf(stderr, "  %s/%s  %s/s  ETA %.0fs\033[K%s", d, t, r,
            rate > 0 && !end ? (p->all_total - p->all_done) / rate : 0.0,
            end ? "\n" : "");
    w->open = !end;
    if (end)
      w->ended = p->round;
  }
  return 0;
}

struct mopts {
  struct common_opts c;
  struct watch_state ws;
  struct ferry_migrate_watch watch;
  struct ferry_migrate_spec spec;
  const char *maps[64];
  const char *journal_dir, *id;
  struct ferry_cutover_opts cut;
  /* the URIs with their options, and each side's credentials */
  char *src_uri, *dst_uri;
  struct ferry_auth src_auth, dst_auth;
  struct ferry_migrate_auth auth;
  uint64_t until;
  unsigned max_rounds;
  bool converge;
};

static int parse(int argc, char **argv, struct mopts *o, bool want_vm)
{
  static const struct option lo[] = {
    { "from", required_argument, NULL, 'f' },
    { "to", required_argument, NULL, 't' },
    { "network-map", required_argument, NULL, 'n' },
    { "format", required_argument, NULL, 'F' },
    { "id", required_argument, NULL, 'i' },
    { "journal-dir", required_argument, NULL, 'j' },
    { "start", no_argument, NULL, 's' },
    { "no-verify", no_argument, NULL, 'V' },
    { "stop-timeout", required_argument, NULL, 'T' },
    { "until", required_argument, NULL, 'u' },
    { "max-rounds", required_argument, NULL, 'm' },
    { NULL, 0, NULL, 0 },
  };
  memset(o, 0, sizeof *o);
  if (common_opts_take(&argc, argv, &o->c) < 0)
    return -1;
  o->spec.struct_size = sizeof o->spec;
  o->spec.network_map = o->maps;
  o->cut.struct_size = sizeof o->cut;
  o->cut.stop_timeout_s = 60;
  int c;
  unsigned u;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'f': o->spec.source = optarg; break;
    case 't': o->spec.destination = optarg; break;
    case 'n': /* repeatable, and comma lists */
      for (char *s = strtok(optarg, ","); s && o->spec.n_network_map < 64;
           s = strtok(NULL, ","))
        o->maps[o->spec.n_network_map++] = s;
      break;
    case 'F': o->spec.format = optarg; break;
    case 'i': o->spec.id = optarg; break;
    case 'j': o->journal_dir = optarg; break;
    case 's': o->cut.start = true; break;
    case 'V': o->cut.no_verify = true; break;
    case 'u':
      if (!parse_size(optarg, &o->until)) {
        cli_error("--until wants a size like 16M");
        return -1;
      }
      o->converge = true;
      break;
    case 'm':
      if (!parse_uint(optarg, &o->max_rounds) || !o->max_rounds) {
        cli_error("--max-rounds wants a number >= 1");
        return -1;
      }
      o->converge = true;
      break;
    case 'T':
      if (!parse_uint(optarg, &u)) {
        cli_error("--stop-timeout wants seconds");
        return -1;
      }
      o->cut.stop_timeout_s = u;
      break;
    default:
      cli_error("bad option (see 'ferry migrate --help')");
      return -1;
    }
  }
  if (argc - optind != 1) {
    cli_error(want_vm ? "want the source VM (see 'ferry migrate --help')"
                      : "want a migration id (see 'ferry migrate --help')");
    return -1;
  }
  o->ws = (struct watch_state){ o->c.json, isatty(STDERR_FILENO), false, 0,
                                -1 };
  o->watch = (struct ferry_migrate_watch){ on_progress, &o->ws };
  cli_catch_signals();
  if (want_vm) {
    o->spec.vm = argv[optind];
    if (!o->spec.source || !o->spec.destination) {
      cli_error("--from and --to name the two platforms (see 'ferry "
                "migrate --help' for their URIs)");
      return -1;
    }
    if (!(o->src_uri = cli_uri(o->spec.source, &o->c)) ||
        !(o->dst_uri = cli_uri(o->spec.destination, &o->c)) ||
        cli_options_used(&o->c) < 0)
      return -1;
    o->spec.source = o->src_uri;
    o->spec.destination = o->dst_uri;
    cli_auth(o->spec.source, &o->c, &o->src_auth);
    cli_auth(o->spec.destination, &o->c, &o->dst_auth);
    o->spec.source_auth = &o->src_auth;
    o->spec.destination_auth = &o->dst_auth;
  } else {
    o->id = argv[optind];
  }
  return 0;
}

static void print(const struct ferry_migration *m, bool json)
{
  if (json) {
    json_print(ferry_migration_to_jsonc(m));
    return;
  }
  printf("migration %s: %s (%s) from %s to %s: %s\n", m->id, m->vm,
         m->vm_uuid, m->source, m->destination,
         ferry_migration_phase_name(m->phase));
  for (size_t i = 0; i < m->n_rounds; i++) {
    char b[32];
    human_size(m->rounds[i].changed_bytes, b, sizeof b);
    printf("  round %zu%s (%s): %s in %.2fs%s\n", i + 1,
           i == 0 ? " full" : m->rounds[i].final ? " final" : "",
           m->rounds[i].snapshot, b, m->rounds[i].millis / 1000.0,
           m->rounds[i].done ? "" : ", not finished");
  }
  if (m->phase == FERRY_MIGRATION_PHASE_DONE)
    printf("  downtime %.2fs (source stopped to destination ready); "
           "verified: %s; boot disk: %s\n", m->downtime_millis / 1000.0,
           m->verified ? "identical" : "skipped",
           m->boot_check ? m->boot_check : "-");
  if (m->error && *m->error)
    printf("  error: %s\n", m->error);
}

/* Runs one step and prints the journal it leaves. */
static int finish(int r, const struct mopts *o, struct ferry_migration *m,
                  const char *cmd)
{
  if (o->ws.open)
    fputc('\n', stderr);
  int rc = r < 0 ? lib_fail(o->c.json, cmd) : EXIT_OK;
  if (r == 0 || (m->id && !o->c.json))
    print(m, o->c.json && r == 0);
  ferry_migration_dispose(m);
  free(o->src_uri);
  free(o->dst_uri);
  return rc;
}

static int m_plan(int argc, char **argv)
{
  struct mopts o;
  if (parse(argc, argv, &o, true) < 0)
    return cli_fail(o.c.json, "migrate plan", EXIT_USAGE);
  struct ferry_migration m;
  ferry_migration_init(&m);
  return finish(ferry_migrate_plan(&o.spec, &m), &o, &m, "migrate plan");
}

static int m_start(int argc, char **argv)
{
  struct mopts o;
  if (parse(argc, argv, &o, true) < 0)
    return cli_fail(o.c.json, "migrate start", EXIT_USAGE);
  struct ferry_migration m;
  ferry_migration_init(&m);
  return finish(ferry_migrate_start(&o.spec, o.journal_dir, &o.watch, &m), &o,
                &m,
                "migrate start");
}

/* sync, cutover, status, abort and resume take a migration id. */
static int m_id(int argc, char **argv, const char *cmd)
{
  struct mopts o;
  if (parse(argc, argv, &o, false) < 0)
    return cli_fail(o.c.json, cmd, EXIT_USAGE);
  struct ferry_migration m;
  ferry_migration_init(&m);
  int r = 0;
  /* The journal's URIs (with their options) say whose credentials these
   * are; platform options are the journal's, not the command line's. */
  if (o.c.n_options) {
    cli_error("--%.*s: platform options are given at the start; the "
              "journal keeps them", (int)strcspn(o.c.options[0].flag, "="),
              o.c.options[0].flag);
    return cli_fail(o.c.json, cmd, EXIT_USAGE);
  }
  if (strcmp(cmd, "migrate status") &&
      ferry_migrate_status(o.journal_dir, o.id, &m) == 0) {
    o.src_uri = strdup(m.source);
    o.dst_uri = strdup(m.destination);
    cli_auth(o.src_uri, &o.c, &o.src_auth);
    cli_auth(o.dst_uri, &o.c, &o.dst_auth);
  }
  o.auth = (struct ferry_migrate_auth){ sizeof o.auth, &o.src_auth,
                                        &o.dst_auth };
  ferry_migration_dispose(&m);
  ferry_migration_init(&m);
  if (!strcmp(cmd, "migrate sync") && o.converge)
    r = ferry_migrate_converge(o.journal_dir, o.id, o.until, o.max_rounds,
                               &o.auth, &o.watch, &m);
  else if (!strcmp(cmd, "migrate sync"))
    r = ferry_migrate_sync(o.journal_dir, o.id, &o.auth, &o.watch, &m);
  else if (!strcmp(cmd, "migrate cutover"))
    r = ferry_migrate_cutover(o.journal_dir, o.id, &o.cut, &o.auth, &o.watch,
                              &m);
  else if (!strcmp(cmd, "migrate abort"))
    r = ferry_migrate_abort(o.journal_dir, o.id, &o.auth, &m);
  else if (!strcmp(cmd, "migrate status"))
    r = ferry_migrate_status(o.journal_dir, o.id, &m);
  else
    r = ferry_migrate_resume(o.journal_dir, o.id, &o.cut, &o.auth, &o.watch,
                             &m);
  return finish(r, &o, &m, cmd);
}

static int m_sync(int c, char **v) { return m_id(c, v, "migrate sync"); }
static int m_cutover(int c, char **v) { return m_id(c, v, "migrate cutover"); }
static int m_status(int c, char **v) { return m_id(c, v, "migrate status"); }
static int m_abort(int c, char **v) { return m_id(c, v, "migrate abort"); }
static int m_resume(int c, char **v) { return m_id(c, v, "migrate resume"); }

int cmd_migrate(int argc, char **argv)
{
  static const struct subcommand subs[] = {
    { "plan", m_plan, "plan --from URI --to URI VM [--network-map SRC=DST]... "
      "[--format qcow2|raw] [--id ID]   (checks only)" },
    { "start", m_start, "start --from URI --to URI VM [same options]   "
      "(snapshot, full copy; the VM keeps running)" },
    { "sync", m_sync, "sync ID [--until BYTES] [--max-rounds N]   (one "
      "incremental round, or rounds until one copies less than BYTES)" },
    { "cutover", m_cutover, "cutover ID [--start] [--no-verify] "
      "[--stop-timeout S]   (stop, last changes, create, verify, clean up)" },
    { "status", m_status, "status ID" },
    { "resume", m_resume, "resume ID [cutover options]   (runs the "
      "interrupted step again)" },
    { "abort", m_abort, "abort ID   (removes the snapshots and what was made)" },
  };
  return run_subcommand("migrate", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
