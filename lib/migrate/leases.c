/* A migration's leases: its source VM, the VM name and volume names it
 * takes at the destination, held from the start until it ends, so that
 * no other migration or operation takes them meanwhile (lease.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "../core/lease.h"
#include "../platforms/driver.h"
#include "journal.h"
#include "migrate.h"

/* Where a platform's leases live: its own directory, so that its own
 * operations honour them, or else one beside the journals, per platform
 * (its URI without the query), seen by migrations. */
static int lease_dir(const struct journal *j, client_t *c, const char *uri,
                     char *buf, size_t len)
{
  if (platform_lease_dir(c, buf, len) == 0)
    return 0;
  ferry_error_clear();
  unsigned long long h = 1469598103934665603ull; /* FNV-1a */
  for (const char *p = uri; *p && *p != '?'; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  const char *slash = strrchr(j->path, '/');
  snprintf(buf, len, "%.*s/leases/%016llx", (int)(slash - j->path), j->path,
           h);
  return 0;
}

/* prefix + name with '%' and '/' percent-encoded: a lease key is one file
 * name, and a volume id may be POOL/NAME (libvirt); names without either
 * (the qemu platform's, which it checks as they are) stay as they are. */
static void key_of(char *key, size_t len, const char *prefix,
                   const char *name)
{
  size_t w = (size_t)snprintf(key, len, "%s", prefix);
  for (const char *s = name; *s && w + 4 < len; s++)
    w += *s == '/' ? (size_t)snprintf(key + w, len - w, "%%2F")
       : *s == '%' ? (size_t)snprintf(key + w, len - w, "%%25")
                   : (key[w] = *s, key[w + 1] = '\0', 1);
}

/* Lease k of a migration: 0 its source VM, 1 the VM name it creates at
 * the destination, 2... its destination volumes' names. */
static void lease_key(const struct ferry_migration *m, size_t k, char *key,
                      char *what, size_t len)
{
  if (k == 0) {
    snprintf(key, len, "vm-%s", m->vm_uuid);
    snprintf(what, len, "VM '%s'", m->vm);
  } else if (k == 1) {
    snprintf(key, len, "vmname-%s", m->vm);
    snprintf(what, len, "the destination VM name '%s'", m->vm);
  } else {
    key_of(key, len, "volume-", m->disks[k - 2].dst_volume);
    snprintf(what, len, "the destination volume name '%s'",
             m->disks[k - 2].dst_volume);
  }
}

/* Takes (or drops) every lease of a migration. A refusal gives back what
 * it took and names the migration holding the lease. */
int migrate_leases(const struct journal *j, client_t *src, client_t *dst,
                  bool take)
{
  const struct ferry_migration *m = &j->m;
  char sdir[PATH_MAX], ddir[PATH_MAX], key[400], what[400];
  lease_dir(j, src, m->source, sdir, sizeof sdir);
  lease_dir(j, dst, m->destination, ddir, sizeof ddir);
  int r = 0;
  size_t k = 0, n = m->n_disks + 2;
  for (; k < n && (r == 0 || !take); k++) {
    lease_key(m, k, key, what, sizeof key);
    int rk = take ? lease_take(k ? ddir : sdir, key, m->id, j->path, what)
                  : lease_drop(k ? ddir : sdir, key, m->id);
    if (rk < 0 && r == 0)
      r = rk;
  }
  if (r < 0 && take) {
    struct saved_error e;
    error_save(&e);
    for (size_t i = 0; i + 1 < k; i++) { /* k - 1 is the refused one */
      lease_key(m, i, key, what, sizeof key);
      lease_drop(i ? ddir : sdir, key, m->id);
    }
    return error_restore(&e);
  }
  return r;
}

