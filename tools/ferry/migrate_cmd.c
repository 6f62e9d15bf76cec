/* ferry migrate plan|start|sync|cutover|status|resume|abort */
#include <inttypes.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/migrate.h>

#include "platform_cli.h"

/* Progress: a bar on a terminal; human lines (one a second) with
 * --progress; JSON lines with --progress=fd:N on N, or with --json on
 * stderr; the last line of each step says "final". SIGINT cancels the
 * step, which `resume` runs again. */
struct watch_state {
  struct progress_opt opt;
  bool json, tty;
  bool open; /* a bar is on the terminal's last line */
  char ended[64]; /* "STEP ROUND" of the last final line */
  double last;
};

/* The phase a step belongs to, as sync --progress names them. */
static const char *phase_of(const char *step)
{
  return !strcmp(step, "verify") || !strcmp(step, "convert") ? step : "copy";
}

static int on_progress(void *opaque, const struct ferry_migrate_progress *p)
{
  struct watch_state *w = opaque;
  if (cli_interrupted)
    return 1;
  double rate = p->seconds > 0 ? p->all_done / p->seconds : 0;
  bool end = p->finished;
  char key[64];
  snprintf(key, sizeof key, "%s %u", p->step, p->round);
  if (end && !strcmp(w->ended, key))
    return 0; /* its final line is out */
  int fd = w->opt.fd >= 0 ? w->opt.fd : w->json ? STDERR_FILENO : -1;
  bool lines = fd >= 0 || (w->opt.lines && !w->tty);
  if (lines && p->seconds - w->last < 1 && !end)
    return 0;
  w->last = p->seconds;
  if (end)
    snprintf(w->ended, sizeof w->ended, "%s", key);
  if (fd >= 0) {
    json_object *x = json_object_new_object(), *d = json_object_new_object();
    json_object_object_add(x, "step", json_object_new_string(p->step));
    json_object_object_add(x, "round", json_object_new_int(p->round));
    for (size_t i = 0; i < p->n_disks; i++) {
      json_object *e = json_object_new_object();
      json_object_object_add(e, "done", json_object_new_uint64(p->done[i]));
      json_object_object_add(e, "total", json_object_new_uint64(p->total[i]));
      json_object_object_add(d, p->disks[i], e);
    }
    json_object_object_add(x, "disks", d);
    progress_json_line(fd, phase_of(p->step), p->all_done, p->all_total,
                       p->seconds, end, x);
    return 0;
  }
  if (!w->tty && !lines)
    return 0;
  char d[32], t[32], r[32];
  human_size(p->all_done, d, sizeof d);
  human_size(p->all_total, t, sizeof t);
  human_size((uint64_t)rate, r, sizeof r);
  fprintf(stderr, "%s%s %u:", w->tty ? "\r" : "", p->step, p->round);
  for (size_t i = 0; i < p->n_disks; i++)
    fprintf(stderr, " %s %3.0f%%", p->disks[i],
            p->total[i] ? 100.0 * p->done[i] / p->total[i] : 0.0);
  if (p->n_disks)
    fprintf(stderr, "  %s/%s  %s/s  ETA %.0fs", d, t, r,
            rate > 0 && !end ? (p->all_total - p->all_done) / rate : 0.0);
  else
    fprintf(stderr, " %s", end ? "done" : "running");
  fprintf(stderr, "%s%s", w->tty ? "\033[K" : "", end || !w->tty ? "\n" : "");
  w->open = w->tty && !end;
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

/* --network-map SRC=DST: repeatable, and comma lists */
static bool add_network_map(const struct cli_opt *opt, void *opts,
                            const char *value)
{
  (void)opt;
  struct mopts *o = opts;
  char *list = (char *)value, *save = NULL; /* argv's, split in place */
  for (char *s = strtok_r(list, ",", &save); s && o->spec.n_network_map < 64;
       s = strtok_r(NULL, ",", &save))
    o->maps[o->spec.n_network_map++] = s;
  return true;
}

/* --until and --max-rounds: rounds until one copies less (sync). */
static bool set_until(const struct cli_opt *opt, void *opts,
                      const char *value)
{
  (void)opt;
  struct mopts *o = opts;
  return (o->converge = parse_size(value, &o->until));
}

static bool set_max_rounds(const struct cli_opt *opt, void *opts,
                           const char *value)
{
  struct mopts *o = opts;
  return (o->converge = cli_set_count(opt, opts, value));
}

#define MIGRATE_FIELD(f) offsetof(struct mopts, f)

/* plan and start: what to migrate, and where. */
static const struct cli_opt spec_options[] = {
  { "from", "URI", "the source platform (required)", cli_set_string,
    MIGRATE_FIELD(spec.source), NULL },
  { "to", "URI", "the destination platform: local or libvirt (required)",
    cli_set_string, MIGRATE_FIELD(spec.destination), NULL },
  { "network-map", "SRC=DST", "a source network and the destination's "
    "network for its NICs; repeatable, or a comma list", add_network_map, 0,
    NULL },
  { "format", "qcow2|raw", "the format of the destination's disks "
    "(default: the destination's, qcow2 but on ELF)", cli_set_string,
    MIGRATE_FIELD(spec.format), NULL },
  { "id", "ID", "the migration's id (default VM-SECONDS)", cli_set_string,
    MIGRATE_FIELD(spec.id), NULL },
  CLI_OPT_END,
};

static const struct cli_opt converge_options[] = {
  { "until", "SIZE", "rounds until one copies less than SIZE, e.g. 16M",
    set_until, 0, "a size like 16M" },
  { "max-rounds", "N", "at most N rounds in this call (default 10)",
    set_max_rounds, MIGRATE_FIELD(max_rounds), "a number >= 1" },
  CLI_OPT_END,
};

static const struct cli_opt cutover_options[] = {
  { "start", NULL, "start the VM at the destination", cli_set_flag,
    MIGRATE_FIELD(cut.start), NULL },
  { "no-verify", NULL, "skip comparing every disk of both sides",
    cli_set_flag, MIGRATE_FIELD(cut.no_verify), NULL },
  { "no-convert", NULL, "put the VM on virtio without converting its guest "
    "(for a guest that has virtio drivers already)", cli_set_flag,
    MIGRATE_FIELD(cut.no_convert), NULL },
  { "remove-vmware-tools", NULL, "the conversion uninstalls open-vm-tools "
    "from the guest", cli_set_flag, MIGRATE_FIELD(cut.remove_vmware_tools),
    NULL },
  { "stop-timeout", "SECONDS", "how long the source's guest may take to "
    "shut down before it is powered off (default 60)", cli_set_seconds,
    MIGRATE_FIELD(cut.stop_timeout_s), "seconds" },
  CLI_OPT_END,
};

/* start, sync, cutover and resume: how they show their progress. */
static const struct cli_opt progress_options[] = {
  { "progress", "=fd:N", "print progress lines even when stderr is no "
    "terminal; =fd:N: JSON lines on descriptor N instead (time, phase copy, "
    "verify or convert, step, round, done, total, bytes_per_second, "
    "eta_seconds, final, disks), as --json writes them on stderr",
    cli_set_progress, MIGRATE_FIELD(ws.opt), NULL },
  CLI_OPT_END,
};

static const struct cli_opt journal_options[] = {
  { "journal-dir", "DIR", "where the journals are (default STATE/migrations, "
    "STATE being $FERRY_STATE_DIR, else /var/lib/ferry for root, else "
    "~/.local/state/ferry), whatever the platforms",
    cli_set_string, MIGRATE_FIELD(journal_dir), NULL },
  CLI_OPT_END,
};

/* Parses self's options into o; plan and start want the VM, the others
 * the migration's id. False when the command is done, with its exit code
 * in *rc. */
static bool parse(const struct cli_command *self, int argc, char **argv,
                  struct mopts *o, bool want_vm, int *rc)
{
  memset(o, 0, sizeof *o);
  o->ws.opt.fd = -1;
  o->spec.struct_size = sizeof o->spec;
  o->spec.network_map = o->maps;
  o->cut.struct_size = sizeof o->cut;
  o->cut.stop_timeout_s = 60;
  if (!cli_parse(self, argc, argv, o, &o->c, rc))
    return false;
  o->ws.json = o->c.json;
  o->ws.tty = isatty(STDERR_FILENO);
  o->ws.last = -1;
  o->watch = (struct ferry_migrate_watch){ on_progress, &o->ws };
  cli_catch_signals();
  if (!want_vm) {
    o->id = argv[1];
    return true;
  }
  o->spec.vm = argv[1];
  if (!o->spec.source || !o->spec.destination) {
    cli_error("--from and --to name the two platforms (see 'ferry "
              "migrate --help' for their URIs)");
  } else if ((o->src_uri = cli_uri(o->spec.source, &o->c)) &&
             (o->dst_uri = cli_uri(o->spec.destination, &o->c)) &&
             cli_options_used(&o->c) == 0) {
    o->spec.source = o->src_uri;
    o->spec.destination = o->dst_uri;
    cli_auth(o->spec.source, &o->c, &o->src_auth);
    cli_auth(o->spec.destination, &o->c, &o->dst_auth);
    o->spec.source_auth = &o->src_auth;
    o->spec.destination_auth = &o->dst_auth;
    return true;
  }
  free(o->src_uri); /* cli_error() said why */
  free(o->dst_uri);
  *rc = cli_fail(o->c.json, self->name, EXIT_USAGE);
  return false;
}

static void print(const struct ferry_migration *m, bool json)
{
  if (json) {
    json_print(ferry_migration_to_jsonc(m));
    return;
  }
  if (!m->id) /* a plan: no journal, so no id */
    printf("plan: %s (%s) from %s to %s: nothing in the way\n", m->vm,
           m->vm_uuid, m->source, m->destination);
  else
    printf("migration %s: %s (%s) from %s to %s: %s\n", m->id, m->vm,
           m->vm_uuid, m->source, m->destination,
           ferry_migration_phase_name(m->phase));
  if (m->full_rounds)
    printf("  each round copies all the data: the source tells no changed "
           "blocks\n");
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
  for (size_t i = 0; i < m->n_conversion; i++)
    printf("  %s %s\n", i ? "          " : "conversion:", m->conversion[i]);
  if (m->phase == FERRY_MIGRATION_PHASE_ABORTED)
    for (size_t i = 0; i < m->n_undone; i++)
      printf("  %s %s\n", i ? "      " : "undone:", m->undone[i]);
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

static int m_plan(const struct cli_command *self, int argc, char **argv)
{
  struct mopts o;
  int rc;
  if (!parse(self, argc, argv, &o, true, &rc))
    return rc;
  struct ferry_migration m;
  ferry_migration_init(&m);
  int r = ferry_migrate_plan(&o.spec, &m);
  if (r == 0) { /* nothing is saved: an id would name no journal */
    free(m.id);
    m.id = NULL;
  }
  return finish(r, &o, &m, self->name);
}

static int m_list(const struct cli_command *self, int argc, char **argv)
{
  struct mopts o;
  int rc;
  memset(&o, 0, sizeof o);
  if (!cli_parse(self, argc, argv, &o, &o.c, &rc))
    return rc;
  struct ferry_migration *v;
  size_t n;
  if (ferry_migrate_list(o.journal_dir, &v, &n) < 0)
    return lib_fail(o.c.json, self->name);
  if (o.c.json) {
    json_print(LIST_TO_JSON(migration, v, n));
  } else {
    if (n)
      printf("%-24s %-9s %-16s %6s  %s\n", "ID", "PHASE", "VM", "ROUNDS",
             "FROM -> TO");
    for (size_t i = 0; i < n; i++)
      printf("%-24s %-9s %-16s %6zu  %s -> %s\n", v[i].id,
             ferry_migration_phase_name(v[i].phase), v[i].vm,
             v[i].n_rounds, v[i].source, v[i].destination);
  }
  ferry_migration_list_free(v, n);
  return EXIT_OK;
}

static int m_start(const struct cli_command *self, int argc, char **argv)
{
  struct mopts o;
  int rc;
  if (!parse(self, argc, argv, &o, true, &rc))
    return rc;
  struct ferry_migration m;
  ferry_migration_init(&m);
  return finish(ferry_migrate_start(&o.spec, o.journal_dir, &o.watch, &m), &o,
                &m, self->name);
}

/* sync, cutover, status, abort and resume take a migration id. */
static int m_id(const struct cli_command *self, int argc, char **argv)
{
  const char *cmd = self->name;
  struct mopts o;
  int rc;
  if (!parse(self, argc, argv, &o, false, &rc))
    return rc;
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

static const struct cli_operand vm_operand[] = {
  { "VM", "the source VM: its name or UUID" },
  { NULL, NULL },
};
static const struct cli_operand id_operand[] = {
  { "ID", "the migration's id" },
  { NULL, NULL },
};

static const struct cli_command m_plan_cmd = {
  .name = "migrate plan",
  .json = "a migration object",
  .summary = "Checks a migration and changes nothing: the VM, the network "
             "map, room and names at the destination.",
  .operands = vm_operand, .options = { spec_options, journal_options },
  .common = CLI_AUTH, .run = m_plan,
};

static const struct cli_command m_start_cmd = {
  .name = "migrate start",
  .json = "a migration object",
  .summary = "Starts a migration: a snapshot and a full copy, while the VM "
             "keeps running.",
  .operands = vm_operand,
  .options = { spec_options, journal_options, progress_options },
  .common = CLI_AUTH, .run = m_start,
};

static const struct cli_command m_sync_cmd = {
  .name = "migrate sync",
  .json = "a migration object",
  .summary = "Copies what changed since the last round: one round, or "
             "rounds until one copies less than --until.",
  .operands = id_operand,
  .options = { converge_options, journal_options, progress_options },
  .common = CLI_AUTH, .run = m_id,
};

static const struct cli_command m_cutover_cmd = {
  .name = "migrate cutover",
  .json = "a migration object",
  .summary = "Stops the source, copies the last changes, creates the VM at "
             "the destination, verifies and cleans up.",
  .operands = id_operand,
  .options = { cutover_options, journal_options, progress_options },
  .common = CLI_AUTH, .run = m_id,
};

static const struct cli_command m_list_cmd = {
  .name = "migrate list",
  .json = "a list of migration objects",
  .summary = "Lists every migration whose journal is in the journal "
             "directory: its id, phase, VM, rounds, source and destination.",
  .options = { journal_options },
  .common = CLI_AUTH, .run = m_list,
};

static const struct cli_command m_status_cmd = {
  .name = "migrate status",
  .json = "a migration object",
  .summary = "Shows a migration's journal: its phase and rounds.",
  .operands = id_operand, .options = { journal_options },
  .common = CLI_AUTH, .run = m_id,
};

static const struct cli_command m_resume_cmd = {
  .name = "migrate resume",
  .json = "a migration object",
  .summary = "Runs the step that was interrupted again (a cutover with the "
             "options given).",
  .operands = id_operand,
  .options = { cutover_options, journal_options, progress_options },
  .common = CLI_AUTH, .run = m_id,
};

static const struct cli_command m_abort_cmd = {
  .name = "migrate abort",
  .json = "a migration object",
  .summary = "Ends a migration: removes its snapshots and what it made at "
             "the destination.",
  .operands = id_operand, .options = { journal_options },
  .common = CLI_AUTH, .run = m_id,
};

int cmd_migrate(int argc, char **argv)
{
  static const struct cli_command *const subs[] = {
    &m_plan_cmd, &m_start_cmd, &m_sync_cmd, &m_cutover_cmd, &m_list_cmd,
    &m_status_cmd, &m_resume_cmd, &m_abort_cmd,
  };
  return run_subcommand("migrate", subs, sizeof subs / sizeof subs[0], argc,
                        argv);
}
