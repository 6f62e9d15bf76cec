/* The plan: everything a migration needs is checked before anything is
 * touched (the VM and its id, the network map, names free at the
 * destination, room for the disks there, the source disks' changes
 * trackable), and the roles each platform must be able to play. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/opts.h"
#include "../core/statefile.h"
#include "../platforms/driver.h"
#include "journal.h"
#include "migrate.h"

const char *mapped_network(const struct ferry_migration *m, const char *net)
{
  for (size_t i = 0; i < m->n_network_map; i++)
    if (!strcmp(m->network_map[i].source, net))
      return m->network_map[i].destination;
  return NULL;
}

static bool has_network(const struct ferry_vlan *v, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if ((v[i].id && !strcmp(v[i].id, id)) ||
        (v[i].name && !strcmp(v[i].name, id)))
      return true;
  return false;
}

/* 1. The source VM, and the migration's id and identity. */
static int check_vm(const struct ferry_migrate_spec *spec, client_t *src,
                    struct ferry_vm *vm, struct ferry_migration *m)
{
  int r = ferry_get_vm(src, spec->vm, vm);
  if (r < 0)
    return ferry_error_prefix("source: ");
  char *id = NULL;
  if (spec->id)
    id = strdup(spec->id);
  else if (asprintf(&id, "%s-%" PRIu64, vm->name, now_ms() / 1000) < 0)
    id = NULL;
  if (!id)
    return ferry_error(ENOMEM, "out of memory");
  if ((r = name_check(id, "migration id")) == 0 && !(r = set_str(&m->id, id)) &&
      !(r = set_str(&m->source, spec->source)) &&
      !(r = set_str(&m->destination, spec->destination)) &&
      !(r = set_str(&m->vm, vm->name)))
    r = set_str(&m->vm_uuid, vm->uuid);
  free(id);
  m->phase = FERRY_MIGRATION_PHASE_PLANNED;
  m->created = now_ms() / 1000;
  return r;
}

/* 2. Every NIC's network mapped, to a network the destination has. */
static int check_networks(const struct ferry_migrate_spec *spec,
                          client_t *dst, const struct ferry_vm *vm,
                          struct ferry_migration *m)
{
  int r = 0;
  for (size_t i = 0; i < spec->n_network_map; i++) {
    const char *e = spec->network_map[i], *eq = strchr(e, '=');
    if (!eq || eq == e || !eq[1])
      return ferry_error(EINVAL, "network map entry '%s' is not "
                         "SOURCE=DESTINATION", e);
    struct ferry_network_mapping *nm = ferry_migration_network_map_append(m);
    if (!nm || !(nm->source = strndup(e, (size_t)(eq - e))) ||
        !(nm->destination = strdup(eq + 1)))
      return ferry_error(ENOMEM, "out of memory");
  }
  struct ferry_vlan *nets;
  size_t nn;
  if ((r = ferry_vlans(dst, &nets, &nn)) < 0)
    return ferry_error_prefix("destination: ");
  for (size_t i = 0; i < vm->n_nics && r == 0; i++) {
    const char *to = mapped_network(m, vm->nics[i].network);
    if (!to)
      r = ferry_error(EINVAL, "NIC %s is on network '%s', which the network "
                      "map does not map (give %s=DESTINATION_NETWORK)",
                      vm->nics[i].mac, vm->nics[i].network,
                      vm->nics[i].network);
    else if (!has_network(nets, nn, to)) {
      char have[1024] = "";
      size_t w = 0;
      for (size_t k = 0; k < nn; k++)
        w += snprintf(have + w, w < sizeof have ? sizeof have - w : 0,
                      "%s%s", k ? ", " : "", nets[k].id);
      r = ferry_error(ENOENT, "NIC %s maps to network '%s', which the "
                      "destination does not have (it has: %s)",
                      vm->nics[i].mac, to, nn ? have : "none");
    }
  }
  ferry_vlan_list_free(nets, nn);
  return r;
}

/* 3. The VM's name free at the destination. */
static int check_name(client_t *dst, const struct ferry_vm *vm)
{
  struct ferry_vm other;
  ferry_vm_init(&other);
  if (ferry_get_vm(dst, vm->name, &other) == 0) {
    ferry_vm_dispose(&other);
    return ferry_error(EEXIST, "the destination has a VM named '%s' already",
                       vm->name);
  }
  ferry_error_clear();
  return 0;
}

/* 4. The destination's volumes for the disks: free names and room, as the
 * destination platform plans them. */
static int check_volumes(const char *fmt, client_t *dst,
                         const struct ferry_vm *vm, struct ferry_migration *m)
{
  char **ids = calloc(vm->n_disks + 1, sizeof *ids);
  if (!ids)
    return ferry_error(ENOMEM, "out of memory");
  int r = ferry_plan_volumes(dst, vm->name, vm->disks, vm->n_disks, fmt, ids);
  for (size_t i = 0; i < vm->n_disks && r == 0; i++) {
    struct ferry_migration_disk *d = ferry_migration_disks_append(m);
    if (!d)
      r = ferry_error(ENOMEM, "out of memory");
    else if (!(r = set_str(&d->device, vm->disks[i].device)) &&
             !(r = set_str(&d->dst_volume, ids[i])))
      r = set_str(&d->dst_format, fmt);
    if (d)
      d->capacity = vm->disks[i].capacity;
  }
  for (size_t i = 0; i < vm->n_disks; i++)
    free(ids[i]);
  free(ids);
  return r < 0 ? ferry_error_prefix("destination: ") : 0;
}

int migrate_plan(const struct ferry_migrate_spec *spec, client_t *src,
                 client_t *dst, struct ferry_vm *vm, struct ferry_migration *m)
{
  const char *fmt = spec->format && *spec->format
                        ? spec->format : platform_volume_format(dst);
  if (strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
    return ferry_error(EINVAL, "destination format '%s' is not qcow2 or raw",
                       fmt);
  int r = check_vm(spec, src, vm, m);
  const struct ferry_driver_info *s = ferry_client_driver(src);
  m->full_rounds = !(s->features & (FERRY_FEATURE_CHANGED_BLOCKS |
                                    FERRY_FEATURE_CHECKPOINT_ROUNDS));
  if (r == 0 && (r = platform_check_tracking(src, vm)) < 0)
    ferry_error_prefix("source: ");
  if (r == 0)
    r = check_networks(spec, dst, vm, m);
  if (r == 0)
    r = check_name(dst, vm);
  if (r == 0)
    r = check_volumes(fmt, dst, vm, m);
  return r;
}

/* The platforms can play their parts: the destination writes volumes and
 * defines VMs; the source has a data path to read its disks. */
static int check_roles(client_t *src, client_t *dst, const char *dst_uri)
{
  const struct ferry_driver_info *s = ferry_client_driver(src),
                                 *d = ferry_client_driver(dst);
  unsigned need = FERRY_FEATURE_CREATE_VOLUMES | FERRY_FEATURE_WRITE_VOLUMES |
                  FERRY_FEATURE_CREATE_VMS;
  if ((d->features & need) != need) {
    const struct ferry_driver_info *const *all;
    size_t n = ferry_drivers(&all), w = 0, k = 0, total = 0;
    char can[512] = "";
    for (size_t i = 0; i < n; i++)
      total += all[i]->platform && (all[i]->features & need) == need;
    for (size_t i = 0; i < n; i++) { /* "a, b and c" */
      if (!all[i]->platform || (all[i]->features & need) != need)
        continue;
      const char *sep = k == 0 ? "" : k + 1 == total ? " and " : ", ";
      w += snprintf(can + w, w < sizeof can ? sizeof can - w : 0, "%s%s",
                    sep, all[i]->name);
      k++;
    }
    return ferry_error(ENOTSUP, "destination '%s': ferry migrates to %s "
                       "platforms; the %s platform %s", dst_uri, can, d->name,
                       !(d->features & FERRY_FEATURE_WRITE_VOLUMES)
                           ? "does not write volumes"
                           : "does not define VMs");
  }
  if (!(s->features & FERRY_FEATURE_READ_VOLUMES))
    return ferry_error(ENOTSUP, "source: the %s platform has no data path "
                       "to read disks from", s->name);
  /* the rounds read snapshots' changed areas, or all their data where
   * the source has snapshots but tells no changes: checked here, before
   * the first snapshot is taken */
  if (!(s->features & (FERRY_FEATURE_CHANGED_BLOCKS |
                       FERRY_FEATURE_CHECKPOINT_ROUNDS |
                       FERRY_FEATURE_SNAPSHOTS)))
    return ferry_error(ENOTSUP, "source: the %s platform has neither "
                       "snapshots nor changed-block tracking in this "
                       "version, so ferry cannot migrate from it warm",
                       s->name);
  return 0;
}

int migrate_open_spec(const struct ferry_migrate_spec *user,
                      struct ferry_migrate_spec *spec, client_t **src,
                      client_t **dst)
{
  *src = *dst = NULL;
  *spec = (struct ferry_migrate_spec){ 0 };
  int r = user ? OPTS_TAKE(spec, user, struct ferry_migrate_spec, id)
               : ferry_error(EINVAL, "no migration spec");
  if (r == 0 && (!spec->source || !spec->destination))
    r = ferry_error(EINVAL, "a migration needs a source and a destination");
  if (r < 0)
    return r;
  /* the source must be there; a new local destination is an empty one
   * that the first volume makes */
  if (!(*src = ferry_platform_open_auth(spec->source, spec->source_auth,
                                        FERRY_OPEN_EXISTING)))
    return ferry_error_prefix("source: ");
  if (!(*dst = ferry_platform_open_auth(spec->destination,
                                        spec->destination_auth, 0)))
    return ferry_error_prefix("destination: ");
  return check_roles(*src, *dst, spec->destination);
}

int ferry_migrate_plan(const struct ferry_migrate_spec *user,
                       struct ferry_migration *out)
{
  ferry_error_clear();
  struct ferry_migrate_spec spec;
  client_t *src, *dst;
  struct ferry_vm vm;
  struct ferry_migration m;
  ferry_vm_init(&vm);
  ferry_migration_init(&m);
  int r = migrate_open_spec(user, &spec, &src, &dst);
  if (r == 0)
    r = migrate_plan(&spec, src, dst, &vm, &m);
  if (r == 0 && out)
    r = ferry_migration_copy(out, &m);
  ferry_migration_dispose(&m);
  ferry_vm_dispose(&vm);
  close_both(src, dst);
  return r;
}
