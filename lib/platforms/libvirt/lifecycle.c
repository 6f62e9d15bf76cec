/* Starting, stopping (ACPI shutdown, then destroy after the timeout),
 * resuming and undefining libvirt domains. */
#include <errno.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "lv.h"

/* The domain of a resolved VM (its id is its UUID). */
static int domain_of(struct ferry_client *fc, const struct ferry_vm *vm,
                     virDomainPtr *dom)
{
  return lv_lookup(fc, vm->uuid, dom);
}

int lv_start_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  virDomainPtr dom;
  int r = domain_of(fc, vm, &dom);
  if (r < 0)
    return r;
  if (virDomainIsActive(dom) == 1)
    r = ferry_error(EBUSY, "VM '%s' is running already", vm->name);
  else
    r = lv_conversions_settled(fc, vm);
  if (r == 0 && virDomainCreate(dom) < 0)
    r = lv_error("start VM '%s'", vm->name);
  virDomainFree(dom);
  return r;
}

static bool is_off(virDomainPtr dom)
{
  return virDomainIsActive(dom) == 0;
}

int lv_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
               int timeout_s, unsigned flags)
{
  virDomainPtr dom;
  int r = domain_of(fc, vm, &dom);
  if (r < 0 || is_off(dom)) {
    if (r == 0)
      virDomainFree(dom);
    return r; /* stopped already: nothing to do */
  }
  if (!(flags & FERRY_STOP_FORCE) && timeout_s > 0) {
    /* ACPI first; a guest that cannot hear it is destroyed after the
     * timeout, as ferry's other platforms do */
    if (virDomainShutdown(dom) < 0)
      ferry_error_clear();
    for (int i = 0; i < timeout_s * 10 && !is_off(dom); i++)
      nanosleep(&(struct timespec){ 0, 100 * 1000000 }, NULL);
  }
  if (!is_off(dom) && virDomainDestroy(dom) < 0 && !is_off(dom))
    r = lv_error("power off VM '%s'", vm->name);
  virDomainFree(dom);
  return r;
}

int lv_resume_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  virDomainPtr dom;
  int r = domain_of(fc, vm, &dom);
  if (r < 0)
    return r;
  if (lv_power_state(dom) == FERRY_POWER_STATE_PAUSED &&
      virDomainResume(dom) < 0)
    r = lv_error("resume VM '%s'", vm->name);
  virDomainFree(dom);
  return r;
}

int lv_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm)
{
  virDomainPtr dom;
  int r = domain_of(fc, vm, &dom);
  if (r < 0)
    return r;
  /* as on the qemu platform: the definition and its snapshot and
   * checkpoint records go, its volumes stay */
  if (!is_off(dom))
    r = ferry_error(EBUSY, "VM '%s' is running: stop it first", vm->name);
  else if (virDomainUndefineFlags(
               dom, VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                        VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                        VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
    r = lv_error("undefine VM '%s'", vm->name);
  virDomainFree(dom);
  return r;
}
