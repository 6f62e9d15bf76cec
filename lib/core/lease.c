/* Leases on VMs and names; see lease.h. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "error.h"
#include "json_str.h"
#include "lease.h"
#include "statefile.h"

#define LEASE_MAX 8192
#define JOURNAL_MAX (1 << 20)

struct lease {
  char holder[256], journal[PATH_MAX];
};

/* 1 and l filled when the lease file exists and parses, 0 when it is
 * missing, -errno when it cannot be read. A lease that does not parse is
 * an error: ferry wrote it atomically, so someone else changed it. */
static int lease_read(const char *path, struct lease *l)
{
  char *text;
  int r = statefile_read(path, LEASE_MAX, &text);
  if (r == -ENOENT) {
    ferry_error_clear();
    return 0;
  }
  if (r < 0)
    return r;
  json_object *o = json_tokener_parse(text);
  free(text);
  const char *h = json_str(o, "holder"), *j = json_str(o, "journal");
  if (h && j) {
    snprintf(l->holder, sizeof l->holder, "%s", h);
    snprintf(l->journal, sizeof l->journal, "%s", j);
  }
  json_object_put(o);
  return h && j ? 1 : ferry_error(EBADMSG, "lease %s is corrupt (not a "
                                  "ferry lease): remove it by hand if no "
                                  "migration holds it", path);
}

/* A lease is live while its migration's journal exists and the migration
 * has not ended. */
static bool lease_live(const struct lease *l)
{
  char *text;
  if (statefile_read(l->journal, JOURNAL_MAX, &text) < 0) {
    ferry_error_clear();
    return false;
  }
  json_object *o = json_tokener_parse(text);
  free(text);
  const char *ph = json_str(o, "phase");
  bool live = !ph || (strcmp(ph, "done") && strcmp(ph, "aborted"));
  json_object_put(o);
  return live;
}

static int open_dir(const char *dir, int *lock)
{
  char p[PATH_MAX];
  int r = statefile_mkdirs(dir);
  if (r < 0)
    return r;
  snprintf(p, sizeof p, "%s/lock", dir);
  return lock_acquire(p, 30000, lock);
}

static int busy(const struct lease *l, const char *what, const char *doing)
{
  return ferry_error(EBUSY, "%s is held by migration %s (%s): no %s until "
                     "it is cut over or aborted (`ferry migrate abort %s`)",
                     what, l->holder, l->journal, doing, l->holder);
}

/* The lease file of key: the key itself, or, for a key longer than a
 * file name ferry writes ("vmname-" and a 128-byte VM name), its start and
 * a hash of all of it. */
static int lease_path(const char *dir, const char *key, char *path)
{
  char name[160];
  if (strlen(key) > 128) {
    unsigned long long h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = key; *p; p++)
      h = (h ^ (unsigned char)*p) * 1099511628211ull;
    snprintf(name, sizeof name, "%.100s-%016llx", key, h);
  } else {
    snprintf(name, sizeof name, "%s", key);
  }
  int r = name_check(name, "lease key");
  if (r == 0)
    snprintf(path, PATH_MAX, "%s/%s.lease", dir, name);
  return r;
}

int lease_take(const char *dir, const char *key, const char *holder,
               const char *journal, const char *what)
{
  char path[PATH_MAX];
  int lock = -1, r = lease_path(dir, key, path);
  if (r < 0 || (r = open_dir(dir, &lock)) < 0)
    return r;
  struct lease l;
  r = lease_read(path, &l);
  if (r == 1 && strcmp(l.holder, holder) && lease_live(&l))
    r = busy(&l, what, "a migration of it");
  else if (r == 1 && !strcmp(l.holder, holder))
    r = 0; /* ours already */
  else if (r >= 0) { /* free, or stale */
    json_object *o = json_object_new_object();
    json_object_object_add(o, "holder", json_object_new_string(holder));
    json_object_object_add(o, "journal", json_object_new_string(journal));
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    r = statefile_write(path, t, strlen(t));
    json_object_put(o);
  }
  lock_release(lock);
  return r;
}

int lease_drop(const char *dir, const char *key, const char *holder)
{
  char path[PATH_MAX];
  int lock = -1, r = lease_path(dir, key, path);
  if (r < 0 || (r = open_dir(dir, &lock)) < 0)
    return r;
  struct lease l;
  r = lease_read(path, &l);
  if (r == 1)
    r = strcmp(l.holder, holder) ? 0 : statefile_remove(path, 1);
  lock_release(lock);
  return r;
}

int lease_check(const char *dir, const char *key, const char *holder,
                const char *what, const char *doing)
{
  char path[PATH_MAX];
  int r = lease_path(dir, key, path);
  if (r < 0)
    return r;
  struct lease l;
  if ((r = lease_read(path, &l)) <= 0)
    return r; /* free (or unreadable: say so) */
  if ((holder && !strcmp(l.holder, holder)) || !lease_live(&l))
    return 0;
  return busy(&l, what, doing);
}
