/* A migration round's point in time (driver.h, round_begin): the
 * platform's own where it tracks changes other than by snapshots, else an
 * external snapshot named after the round. The VM is the caller's,
 * resolved once: a round asks for its point per disk. */
#include <errno.h>

#include "../client/client.h"
#include "../core/error.h"
#include "driver.h"

/* The platform behind c when it has round ops, else NULL (snapshots). */
static struct ferry_client *own_rounds(client_t *c)
{
  struct ferry_client *fc = ferry_client_of(c);
  return fc && fc->driver->ops && fc->driver->ops->round_begin ? fc : NULL;
}

#define OPS(fc) ((fc)->driver->ops)

int platform_round_begin(client_t *c, const struct ferry_vm *vm,
                         const char *name, const char *since)
{
  struct ferry_client *fc = own_rounds(c);
  if (fc)
    return OPS(fc)->round_begin(fc, vm, name, since);
  int r = platform_round_get(c, vm, name);
  if (r != -ENOENT)
    return r; /* taken already, or an error */
  struct ferry_snapshot_spec spec = { sizeof spec, name, "ferry migration",
                                      FERRY_SNAPSHOT_EXTERNAL };
  return ferry_snapshot_create(c, vm->uuid, &spec, NULL);
}

int platform_round_get(client_t *c, const struct ferry_vm *vm,
                       const char *name)
{
  struct ferry_client *fc = own_rounds(c);
  if (fc)
    return OPS(fc)->round_get(fc, vm, name);
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  int r = ferry_snapshot_get(c, vm->uuid, name, &s);
  ferry_domain_snapshot_dispose(&s);
  return r;
}

int platform_round_end(client_t *c, const struct ferry_vm *vm,
                       const char *name)
{
  struct ferry_client *fc = own_rounds(c);
  return fc ? OPS(fc)->round_end(fc, vm, name)
            : 0; /* a snapshot holds nothing open */
}

int platform_round_drop(client_t *c, const struct ferry_vm *vm,
                        const char *name)
{
  struct ferry_client *fc = own_rounds(c);
  return fc ? OPS(fc)->round_drop(fc, vm, name)
            : ferry_snapshot_delete(c, vm->uuid, name);
}

int platform_round_open(client_t *c, const struct ferry_vm *vm,
                        const char *name, const char *disk,
                        struct ferry_volume **out)
{
  struct ferry_client *fc = own_rounds(c);
  *out = NULL;
  return fc ? OPS(fc)->round_open(fc, vm, name, disk, out)
            : ferry_snapshot_open(c, vm->uuid, name, disk, out);
}

int platform_round_changes(client_t *c, const struct ferry_vm *vm,
                           const char *disk, const char *from,
                           const char *name, struct ferry_changed_areas *out)
{
  struct ferry_client *fc = own_rounds(c);
  return fc ? OPS(fc)->round_changes(fc, vm, disk, from, name, out)
            : ferry_query_snapshot_changes(c, vm->uuid, disk, from, name,
                                           out);
}

int platform_check_tracking(client_t *c, const struct ferry_vm *vm)
{
  struct ferry_client *fc = ferry_client_of(c);
  if (!fc || !OPS(fc) || !OPS(fc)->check_tracking)
    return 0;
  return OPS(fc)->check_tracking(fc, vm);
}
