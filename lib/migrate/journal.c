/* A migration's journal: one JSON file per migration, written atomically
 * after every step, locked while a step runs, checked for meaning when
 * read. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <ferry/platform.h>

#include "../core/child.h"
#include "../core/error.h"
#include "../core/lease.h"
#include "../core/opts.h"
#include "../core/statefile.h"
#include "journal.h"

#define JOURNAL_MAX (1 << 20)

/* Wall time: the journal's timestamps, and the downtime, which spans
 * processes (a cutover killed and resumed). */
uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int journal_dir_of(const char *dir, char *buf)
{
  char st[PATH_MAX - 16];
  int r = dir ? 0 : ferry_state_dir(st, sizeof st);
  if (r == 0)
    snprintf(buf, PATH_MAX, dir ? "%s" : "%s/migrations", dir ? dir : st);
  return r;
}

/* A destination volume id: NAME, or POOL/NAME (libvirt's), each part a
 * name ferry could have written. */
static int volume_id_check(const char *id)
{
  const char *slash = id ? strchr(id, '/') : NULL;
  if (!slash)
    return name_check(id, "destination volume");
  char pool[256];
  snprintf(pool, sizeof pool, "%.*s", (int)(slash - id), id);
  int r = name_check(pool, "destination volume's pool");
  return r < 0 ? r : name_check(slash + 1, "destination volume");
}

/* A journal means what its file says: its id is its name, and every name
 * in it that becomes part of a path or a command is one ferry could have
 * written (a hand-edited journal must not make abort delete elsewhere). */
static int journal_check(const struct ferry_migration *m, const char *id)
{
  if (!m->id || strcmp(m->id, id))
    return ferry_error(EINVAL, "it is migration '%s', not '%s'",
                       m->id ? m->id : "", id);
  int r = name_check(m->vm_uuid, "VM uuid");
  if (r == 0 && (!m->source || !*m->source || !m->destination ||
                 !*m->destination))
    r = ferry_error(EINVAL, "it names no source or destination");
  for (size_t i = 0; r == 0 && i < m->n_disks; i++)
    if ((r = name_check(m->disks[i].device, "disk device")) == 0)
      r = volume_id_check(m->disks[i].dst_volume);
  for (size_t k = 0; r == 0 && k < m->n_rounds; k++) {
    char want[300];
    snprintf(want, sizeof want, "mig-%s-%zu", m->id, k + 1);
    if (!m->rounds[k].snapshot || strcmp(m->rounds[k].snapshot, want))
      r = ferry_error(EINVAL, "round %zu names snapshot '%s', not '%s'",
                      k + 1, m->rounds[k].snapshot ? m->rounds[k].snapshot
                                                   : "", want);
  }
  return r;
}

/* Format 1 wrote the network map as "SOURCE=DESTINATION" strings; format 2
 * as {"source": ..., "destination": ...} objects. Rewrites j's in place. */
static int upgrade_network_map(json_object *j)
{
  json_object *a;
  if (!json_object_object_get_ex(j, "network_map", &a) ||
      !json_object_is_type(a, json_type_array))
    return 0;
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    json_object *e = json_object_array_get_idx(a, i), *o;
    const char *s = json_object_get_string(e), *eq;
    if (!json_object_is_type(e, json_type_string) || !(eq = strchr(s, '=')))
      return ferry_error(EINVAL, "network_map[%zu]: not SOURCE=DESTINATION",
                         i);
    if (!(o = json_object_new_object()) ||
        json_object_object_add(o, "source", json_object_new_string_len(
                                                s, (int)(eq - s))) < 0 ||
        json_object_object_add(o, "destination",
                               json_object_new_string(eq + 1)) < 0 ||
        json_object_array_put_idx(a, i, o) < 0) {
      json_object_put(o);
      return ferry_error(ENOMEM, "out of memory");
    }
  }
  return 0;
}

/* The journal's format, checked before its fields are read: an older
 * ferry's journal (no version: 0) is read as it is, with format 1's
 * network map upgraded; a newer one's is refused with why, before anything
 * acts on it. */
static int journal_parse(const char *text, const char *id,
                         struct ferry_migration *m)
{
  json_object *j = json_tokener_parse(text), *v;
  uint64_t version = j && json_object_object_get_ex(j, "version", &v)
                         ? (uint64_t)json_object_get_int64(v) : 0;
  int r = 0;
  if (version > JOURNAL_VERSION)
    r = ferry_error(EPROTO, "written by a newer ferry (journal format "
                    "%" PRIu64 "; this one reads formats up to %d): "
                    "resume it with that version", version, JOURNAL_VERSION);
  else if (!j)
    r = ferry_migration_from_json(m, text); /* says what is wrong */
  else {
    if (version < 2)
      r = upgrade_network_map(j);
    if (r == 0)
      r = ferry_migration_from_jsonc(m, j);
  }
  json_object_put(j);
  return r < 0 ? r : journal_check(m, id);
}

int journal_read(const char *dir, const char *id, struct ferry_migration *m)
{
  char d[PATH_MAX], path[PATH_MAX + 300], *text;
  int r = name_check(id, "migration id");
  if (r < 0)
    return r;
  if ((r = journal_dir_of(dir, d)) < 0)
    return r;
  snprintf(path, sizeof path, "%s/%s.json", d, id);
  if ((r = statefile_read(path, JOURNAL_MAX, &text)) < 0)
    return r == -ENOENT ? ferry_error(ENOENT, "no migration %s", id) : r;
  r = journal_parse(text, id, m);
  free(text);
  return r < 0 ? ferry_error_prefix("journal %s: ", path) : 0;
}

int journal_take_auth(struct journal *j,
                      const struct ferry_migrate_auth *auth)
{
  struct ferry_migrate_auth a = { sizeof a, NULL, NULL };
  int r = OPTS_TAKE(&a, auth, struct ferry_migrate_auth, destination);
  j->src_auth = a.source;
  j->dst_auth = a.destination;
  return r;
}

int set_str(char **f, const char *v)
{
  char *d = strdup(v ? v : "");
  if (!d)
    return ferry_error(ENOMEM, "out of memory");
  free(*f);
  *f = d;
  return 0;
}

int journal_open(const char *dir, const char *id, bool create,
                        struct journal *j)
{
  char d[PATH_MAX], lock[PATH_MAX + 16];
  j->lock = -1;
  j->owns_log = false;
  j->src_auth = j->dst_auth = NULL;
  ferry_migration_init(&j->m);
  int r = name_check(id, "migration id");
  if (r < 0)
    return r;
  if ((r = journal_dir_of(dir, d)) < 0 || (r = statefile_mkdirs(d)) < 0)
    return r;
  char abs[PATH_MAX]; /* leases name the journal: from anywhere */
  if (realpath(d, abs))
    snprintf(d, sizeof d, "%s", abs);
  snprintf(j->path, sizeof j->path, "%s/%s.json", d, id);
  snprintf(lock, sizeof lock, "%s/%s.lock", d, id);
  /* A moment's wait: a killed step's children may hold it while dying. */
  if ((r = lock_acquire(lock, 10000, &j->lock)) < 0)
    return ferry_error(EBUSY, "migration %s: another ferry process is "
                       "working on it", id);
  /* Helpers a killed step left (child.h) go before anything else: they
   * would hold the images' locks. Then this step's are logged. */
  snprintf(j->helpers, sizeof j->helpers, "%s/%s.helpers", d, id);
  child_reap_logged(j->helpers);
  ferry_error_clear();
  j->owns_log = child_log_open(j->helpers) == 1;
  ferry_error_clear();
  char *text;
  r = statefile_read(j->path, JOURNAL_MAX, &text);
  if (create)
    return r == 0 ? ferry_error(EEXIST, "migration %s exists already", id)
                  : 0;
  if (r < 0)
    return r == -ENOENT ? ferry_error(ENOENT, "no migration %s", id) : r;
  r = journal_parse(text, id, &j->m);
  free(text);
  return r < 0 ? ferry_error_prefix("journal %s: ", j->path) : 0;
}

int journal_save(struct journal *j)
{
  j->m.version = JOURNAL_VERSION;
  j->m.updated = now_ms() / 1000;
  char *text = ferry_migration_to_json(&j->m);
  if (!text)
    return -ferry_last_errno();
  int r = statefile_write(j->path, text, strlen(text));
  free(text);
  return r;
}

void journal_close(struct journal *j, struct ferry_migration *out)
{
  if (out)
    ferry_migration_copy(out, &j->m);
  ferry_migration_dispose(&j->m);
  if (j->owns_log)
    child_log_close();
  j->owns_log = false;
  lock_release(j->lock);
}

