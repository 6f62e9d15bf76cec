/* ferry's initiator let in to an iSCSI target whose whitelist keeps it
 * out (update-iscsi-target's iqn_whitelist, comma-separated; empty lets
 * every initiator in), for as long as a ferry process of this host reads
 * or writes one of its LUNs, and taken out again after the last.
 *
 * Several ferry processes may share a grant, so each one using it leaves
 * a file under STATE_DIR/elf/grants/TARGET/ (its PID and start time), and
 * `granted` there says ferry added itself (a whitelist that named it
 * before is left alone). Changes hold TARGET.lock. A holder killed before
 * it could go is pruned by the next ferry that takes or drops the grant. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/child.h"
#include "../../core/dirscan.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/statefile.h"
#include "elf.h"

struct elf_grant {
  struct ferry_client *fc;
  char target[64], dir[PATH_MAX], lock[PATH_MAX + 8], holder[PATH_MAX + 64];
};

/* The next entry of a comma-separated list at *p (spaces trimmed), its
 * length in *n; NULL at the end. */
static const char *next_entry(const char **p, size_t *n)
{
  *p += strspn(*p, " ,");
  if (!**p)
    return NULL;
  const char *e = *p;
  size_t k = strcspn(e, ",");
  *p += k;
  while (k > 0 && e[k - 1] == ' ')
    k--;
  *n = k;
  return e;
}

/* Whether the list names iqn. */
static bool listed(const char *list, const char *iqn)
{
  size_t n;
  for (const char *e; (e = next_entry(&list, &n));)
    if (n == strlen(iqn) && !strncmp(e, iqn, n))
      return true;
  return false;
}

/* The list without iqn, into buf. */
static void unlisted(const char *list, const char *iqn, char *buf,
                     size_t len)
{
  size_t w = 0, n;
  buf[0] = '\0';
  for (const char *e; (e = next_entry(&list, &n));)
    if (!(n == strlen(iqn) && !strncmp(e, iqn, n)))
      w += (size_t)snprintf(buf + w, w < len ? len - w : 0, "%s%.*s",
                            w ? "," : "", (int)n, e);
}

static int set_whitelist(struct ferry_client *fc, const char *target,
                         const char *list, const char *what)
{
  json_object *body = json_object_new_object(), *data = json_object_new_object();
  json_object_object_add(body, "where", elf_where_id(target));
  json_object_object_add(data, "iqn_whitelist", json_object_new_string(list));
  json_object_object_add(body, "data", data);
  return elf_mutate(fc, "/update-iscsi-target", body, 0, what, NULL);
}

static bool holder_file(const char *name, void *opaque)
{
  (void)opaque;
  return strspn(name, "0123456789-") == strlen(name) && *name != '-';
}

/* The holders still running; the others' files removed. */
static int live_holders(const char *dir, size_t *n)
{
  char **names;
  size_t count;
  *n = 0;
  int r = dir_scan(dir, holder_file, NULL, &names, &count);
  for (size_t i = 0; r == 0 && i < count; i++) {
    long pid;
    unsigned long long start;
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (sscanf(names[i], "%ld-%llu", &pid, &start) == 2 &&
        process_start_time(pid) == start)
      (*n)++;
    else
      r = statefile_remove(path, 1);
  }
  if (r == 0)
    dir_scan_free(names, count);
  return r;
}

/* Takes ferry out of the target's whitelist when it put itself there and
 * no holder is left. Under the lock. */
static int revoke_if_last(struct ferry_client *fc, const char *dir,
                          const char *target)
{
  size_t n;
  char granted[PATH_MAX + 16];
  snprintf(granted, sizeof granted, "%s/granted", dir);
  int r = live_holders(dir, &n);
  if (r < 0 || n > 0 || access(granted, F_OK) != 0)
    return r;
  json_object *t = NULL;
  char iqn[256], list[4096], what[300];
  elf_initiator_name(iqn, sizeof iqn);
  snprintf(what, sizeof what, "take ferry's initiator %s off iSCSI target "
           "%s's whitelist", iqn, target);
  if ((r = elf_get(fc, "/get-iscsi-targets", target, "iSCSI target",
                   &t)) == 0) {
    unlisted(elf_str(t, "iqn_whitelist"), iqn, list, sizeof list);
    if (listed(elf_str(t, "iqn_whitelist"), iqn) &&
        (r = set_whitelist(fc, target, list, what)) == 0)
      ferry_log("elf", "iSCSI target %s: whitelist %s again", target,
                *list ? list : "(everyone)");
  }
  if (r == -ENOENT) { /* the target is gone: nothing to take back */
    ferry_error_clear();
    r = 0;
  }
  json_object_put(t);
  return r == 0 ? statefile_remove(granted, 1) : r;
}

static int paths(struct elf_grant *g, const char *target)
{
  int r = name_check(target, "iSCSI target id");
  if (r == 0)
    r = elf_state_path(g->dir, sizeof g->dir, "grants/%s", target);
  if (r < 0)
    return r;
  snprintf(g->target, sizeof g->target, "%s", target);
  snprintf(g->lock, sizeof g->lock, "%s.lock", g->dir);
  snprintf(g->holder, sizeof g->holder, "%s/%ld-%llu", g->dir,
           (long)getpid(), process_start_time((long)getpid()));
  return statefile_mkdirs(g->dir);
}

/* Under the lock: the holder's file, and ferry in the whitelist where
 * it is not yet (`granted` first: a crash after the change still takes
 * it back). A whitelist that named ferry without `granted` is someone
 * else's doing: no grant. */
static int take_locked(struct ferry_client *fc, const struct elf_lun *l,
                       struct elf_grant *g, bool *held)
{
  json_object *t = NULL;
  char granted[PATH_MAX + 16], what[600], *wider = NULL;
  snprintf(granted, sizeof granted, "%s/granted", g->dir);
  int r = elf_get(fc, "/get-iscsi-targets", l->target_id, "iSCSI target",
                  &t);
  const char *list = t ? elf_str(t, "iqn_whitelist") : "";
  bool in = !*list || listed(list, l->initiator), ours =
      access(granted, F_OK) == 0;
  *held = r == 0 && (!in || ours);
  if (*held)
    r = statefile_write(g->holder, "", 0);
  if (r == 0 && !in) {
    snprintf(what, sizeof what, "let ferry's initiator %s in to iSCSI "
             "target %s (for %s)", l->initiator, l->iqn, l->what);
    if ((r = statefile_write(granted, "", 0)) == 0 &&
        asprintf(&wider, "%s,%s", list, l->initiator) < 0)
      r = ferry_error(ENOMEM, "out of memory");
    if (r == 0 && (r = set_whitelist(fc, l->target_id, wider, what)) == 0)
      ferry_log("elf", "iSCSI target %s: %s let in", l->iqn, l->initiator);
  }
  if (r < 0 && *held) { /* not let in: nothing of ours stays */
    struct saved_error e;
    error_save(&e);
    statefile_remove(g->holder, 1);
    revoke_if_last(fc, g->dir, g->target);
    error_restore(&e);
    *held = false;
  }
  free(wider);
  json_object_put(t);
  return r;
}

int elf_grant_take(struct ferry_client *fc, const struct elf_lun *l,
                   struct elf_grant **out)
{
  *out = NULL;
  struct elf_grant *g = calloc(1, sizeof *g);
  int fd = -1, r = g ? paths(g, l->target_id)
                     : ferry_error(ENOMEM, "out of memory");
  bool held = false;
  if (r == 0 && (r = lock_acquire(g->lock, 30000, &fd)) == 0)
    r = take_locked(fc, l, g, &held);
  if (fd >= 0)
    lock_release(fd);
  if (r < 0 || !held) {
    free(g);
    return r;
  }
  g->fc = fc;
  *out = g;
  return 0;
}

void elf_grant_drop(void *opaque)
{
  struct elf_grant *g = opaque;
  if (!g)
    return;
  struct saved_error e;
  error_save(&e);
  int fd = -1;
  if (lock_acquire(g->lock, 30000, &fd) == 0 &&
      statefile_remove(g->holder, 1) == 0 &&
      revoke_if_last(g->fc, g->dir, g->target) == 0) {
  } else {
    ferry_log("elf", "iSCSI target %s keeps ferry in its whitelist until "
              "the next ferry goes: %s", g->target, ferry_last_error());
  }
  if (fd >= 0)
    lock_release(fd);
  error_restore(&e);
  free(g);
}
