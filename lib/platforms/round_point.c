/* A migration round's point in time (driver.h, round_begin): the
 * platform's own where it tracks changes other than by snapshots, else an
 * external snapshot named after the round. */
#include <errno.h>

#include "../client/client.h"
#include "../core/error.h"
#include "driver.h"

#define OPS(fc) ((fc)->driver->ops)

/* The platform behind c with its round ops, or NULL for the snapshot
 * way; vm resolved into *v when it has them. */
static struct ferry_client *own_rounds(client_t *c, const char *vm,
                                       struct ferry_vm *v, int *r)
{
  struct ferry_client *fc = ferry_client_of(c);
  *r = 0;
  if (!fc || !OPS(fc) || !OPS(fc)->round_begin)
    return NULL;
  ferry_vm_init(v);
  *r = ferry_get_vm(c, vm, v);
  return fc;
}

int platform_round_begin(client_t *c, const char *vm, const char *name,
                         const char *since)
{
  struct ferry_vm v;
  int r;
  struct ferry_client *fc = own_rounds(c, vm, &v, &r);
  if (fc) {
    if (r == 0)
      r = OPS(fc)->round_begin(fc, &v, name, since);
    ferry_vm_dispose(&v);
    return r;
  }
  if ((r = platform_round_get(c, vm, name)) != -ENOENT)
    return r; /* taken already, or an error */
  struct ferry_snapshot_spec spec = { sizeof spec, name, "ferry migration",
                                      FERRY_SNAPSHOT_EXTERNAL };
  return ferry_snapshot_create(c, vm, &spec, NULL);
}

int platform_round_get(client_t *c, const char *vm, const char *name)
{
  struct ferry_vm v;
  int r;
  struct ferry_client *fc = own_rounds(c, vm, &v, &r);
  if (fc) {
    if (r == 0)
      r = OPS(fc)->round_get(fc, &v, name);
    ferry_vm_dispose(&v);
    return r;
  }
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  r = ferry_snapshot_get(c, vm, name, &s);
  ferry_domain_snapshot_dispose(&s);
  return r;
}

int platform_round_end(client_t *c, const char *vm, const char *name)
{
  struct ferry_vm v;
  int r;
  struct ferry_client *fc = own_rounds(c, vm, &v, &r);
  if (fc) {
    if (r == 0)
      r = OPS(fc)->round_end(fc, &v, name);
    ferry_vm_dispose(&v);
  }
  return r; /* a snapshot holds nothing open */
}

int platform_round_drop(client_t *c, const char *vm, const char *name)
{
  struct ferry_vm v;
  int r;
  struct ferry_client *fc = own_rounds(c, vm, &v, &r);
  if (!fc)
    return ferry_snapshot_delete(c, vm, name);
  if (r == 0)
    r = OPS(fc)->round_drop(fc, &v, name);
  ferry_vm_dispose(&v);
  return r;
}

int platform_round_open(client_t *c, const char *vm, const char *name,
                        const char *disk, struct ferry_volume **out)
{
  struct ferry_vm v;
  int r;
  struct ferry_client *fc = own_rounds(c, vm, &v, &r);
  if (!fc)
    return ferry_snapshot_open(c, vm, name, disk, out);
  *out = NULL;
  if (r == 0)
    r = OPS(fc)->round_open(fc, &v, name, disk, out);
  ferry_vm_dispose(&v);
  return r;
}

int platform_round_changes(client_t *c, const char *vm, const char *disk,
                           const char *from, const char *name,
                           struct ferry_changed_areas *out)
{
  struct ferry_vm v;
  int r;
  struct ferry_client *fc = own_rounds(c, vm, &v, &r);
  if (!fc)
    return ferry_query_snapshot_changes(c, vm, disk, from, name, out);
  if (r == 0)
    r = OPS(fc)->round_changes(fc, &v, disk, from, name, out);
  ferry_vm_dispose(&v);
  return r;
}

int platform_check_tracking(client_t *c, const struct ferry_vm *vm)
{
  struct ferry_client *fc = ferry_client_of(c);
  if (!fc || !OPS(fc) || !OPS(fc)->check_tracking)
    return 0;
  return OPS(fc)->check_tracking(fc, vm);
}
