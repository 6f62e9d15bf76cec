/* The local platform's networks (networks.json; one untagged "default"
 * until the first is made): made and removed under a lock, so that two
 * at once lose neither, and written whole (statefile_write). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/statefile.h"
#include "qemu.h"

/* The list changed by change(), under the lock, then stored. */
static int edit(const struct qemu_state *st,
                int (*change)(const struct qemu_state *st,
                              struct ferry_vlan **v, size_t *n,
                              const void *arg),
                const void *arg)
{
  char lock[PATH_MAX], path[PATH_MAX];
  int fd, r = statefile_mkdirs(st->dir); /* the first write makes it */
  if (r == 0)
    r = lock_acquire(qemu_path(st, lock, "networks.lock"), 10000, &fd);
  if (r < 0)
    return ferry_error_prefix("networks: ");
  struct ferry_vlan *v;
  size_t n;
  if ((r = qemu_networks(st, &v, &n)) == 0) {
    if ((r = change(st, &v, &n, arg)) == 0) {
      char *text = ferry_vlan_list_to_json(v, n);
      r = text ? statefile_write(qemu_path(st, path, "networks.json"), text,
                                 strlen(text))
               : -ferry_last_errno();
      free(text);
    }
    ferry_vlan_list_free(v, n);
  }
  lock_release(fd);
  return r;
}

static int add(const struct qemu_state *st, struct ferry_vlan **v, size_t *n,
               const void *arg)
{
  (void)st;
  const struct ferry_vlan *spec = arg;
  for (size_t i = 0; i < *n; i++)
    if (!strcmp((*v)[i].id, spec->id))
      return ferry_error(EEXIST, "network '%s' exists already", spec->id);
  struct ferry_vlan *nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv)
    return ferry_error(ENOMEM, "out of memory");
  *v = nv;
  ferry_vlan_init(&nv[*n]);
  int r = ferry_vlan_copy(&nv[*n], spec);
  if (r == 0 && (!nv[*n].name || !*nv[*n].name)) {
    free(nv[*n].name);
    if (!(nv[*n].name = strdup(spec->id)))
      r = ferry_error(ENOMEM, "out of memory");
  }
  (*n)++; /* freed with the list, whole or not */
  return r;
}

int qemu_create_vlan(struct ferry_client *fc, const struct ferry_vlan *spec)
{
  int r = name_check(spec->id, "network id");
  if (r == 0 && spec->vlan_id != -1 &&
      (spec->vlan_id < 1 || spec->vlan_id > 4094))
    r = ferry_error(EINVAL, "VLAN tag %lld is not in 1..4094 (or -1: "
                    "untagged)", (long long)spec->vlan_id);
  return r < 0 ? r : edit(QEMU_STATE(fc), add, spec);
}

static int drop(const struct qemu_state *st, struct ferry_vlan **v, size_t *n,
                const void *arg)
{
  const char *id = arg;
  size_t at = *n;
  for (size_t i = 0; i < *n; i++)
    if (!strcmp((*v)[i].id, id))
      at = i;
  if (at == *n)
    return ferry_error(ENOENT, "no network '%s'", id);
  struct ferry_vm *vms;
  size_t nv;
  int r = qemu_defs_load(st, &vms, &nv);
  for (size_t i = 0; r == 0 && i < nv; i++)
    for (size_t k = 0; r == 0 && k < vms[i].n_nics; k++)
      if (vms[i].nics[k].network && !strcmp(vms[i].nics[k].network, id))
        r = ferry_error(EBUSY, "network '%s' has VM '%s' on it (NIC %s): "
                        "move or delete the VM first", id, vms[i].name,
                        vms[i].nics[k].mac);
  ferry_vm_list_free(vms, nv);
  if (r == 0) {
    ferry_vlan_dispose(&(*v)[at]);
    memmove(&(*v)[at], &(*v)[at + 1], (*n - at - 1) * sizeof **v);
    (*n)--;
  }
  return r;
}

int qemu_delete_vlan(struct ferry_client *fc, const char *id)
{
  return edit(QEMU_STATE(fc), drop, id);
}
