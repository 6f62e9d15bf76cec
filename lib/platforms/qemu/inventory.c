/* Inventory of the local host: one datacenter, one cluster, this host. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../driver.h"
#include "qemu.h"

#define LOCAL "local"

/* The standard vm of a definition: its stored fields plus what qemu says
 * now (the seed's construct_vm). */
/* A defined VM with its power state now: not left paused by a dead
 * ferry (a failure to resume is said by the VM's own operations, vm
 * resume). */
static void settle(const struct qemu_state *st, struct ferry_vm *vm)
{
  if (qemu_settle(st, vm) < 0)
    ferry_error_clear();
  vm->power_state = qemu_power_state(st, vm->uuid);
}

int qemu_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  int r = qemu_defs_load(st, out, n);
  for (size_t i = 0; r == 0 && i < *n; i++)
    settle(st, &(*out)[i]);
  return r;
}

/* From the definitions: only the VM found has its state asked. */
int qemu_lookup_vm(struct ferry_client *fc, const char *key,
                   struct ferry_vm *out)
{
  const struct qemu_state *st = QEMU_STATE(fc);
  struct ferry_vm *v;
  size_t n, hit;
  int r = qemu_defs_load(st, &v, &n);
  if (r < 0)
    return r;
  if ((r = vm_pick(v, n, key, "qemu", &hit)) == 0) {
    settle(st, &v[hit]);
    r = ferry_vm_copy(out, &v[hit]);
  }
  ferry_vm_list_free(v, n);
  return r;
}

/* A one-element list of a type with id and name (and more, zeroed). */
#define ONE(T, out, n, ...)                                                  \
  do {                                                                       \
    struct ferry_##T *v_ = calloc(1, sizeof *v_);                            \
    if (!v_)                                                                 \
      return ferry_error(ENOMEM, "out of memory");                           \
    ferry_##T##_init(v_);                                                    \
    __VA_ARGS__;                                                             \
    if (!v_->id || !v_->name) {                                              \
      ferry_##T##_list_free(v_, 1);                                          \
      return ferry_error(ENOMEM, "out of memory");                           \
    }                                                                        \
    *(out) = v_;                                                             \
    *(n) = 1;                                                                \
    return 0;                                                                \
  } while (0)

int qemu_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                     size_t *n)
{
  (void)fc;
  return platform_one_datacenter(LOCAL, out, n);
}

int qemu_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                  size_t *n)
{
  (void)fc;
  return platform_one_cluster(LOCAL, out, n);
}

int qemu_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n)
{
  (void)fc;
  char name[256] = "localhost";
  gethostname(name, sizeof name - 1);
  struct sysinfo si;
  uint64_t mem = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
  ONE(host, out, n, v_->id = strdup(LOCAL); v_->name = strdup(name);
      v_->cluster_id = strdup(LOCAL); v_->datacenter_id = strdup(LOCAL);
      v_->cpus = sysconf(_SC_NPROCESSORS_ONLN);
      v_->memory_mib = mem >> 20; v_->connected = true);
}

int qemu_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n)
{
  return qemu_networks(QEMU_STATE(fc), out, n);
}
