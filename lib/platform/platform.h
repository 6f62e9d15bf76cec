/* Internal: the operations table a platform fills in, once. NULL members
 * answer ENOTSUP. get_* by id, filters and summaries are derived from the
 * list operations in platform.c unless a platform has faster ways. */
#ifndef FERRY_PLATFORM_INTERNAL_H
#define FERRY_PLATFORM_INTERNAL_H

#include <ferry/platform.h>

struct ferry_client;

struct platform_ops {
  const char *name;
  /* inventory (the construct_* conversions happen inside these) */
  int (*vms)(struct ferry_client *fc, struct ferry_vm **out, size_t *n);
  int (*datacenters)(struct ferry_client *fc, struct ferry_datacenter **out,
                     size_t *n);
  int (*clusters)(struct ferry_client *fc, struct ferry_cluster **out,
                  size_t *n);
  int (*hosts)(struct ferry_client *fc, struct ferry_host **out, size_t *n);
  int (*vlans)(struct ferry_client *fc, struct ferry_vlan **out, size_t *n);
  /* snapshots; vm is the resolved VM */
  int (*snapshot_create)(struct ferry_client *fc, const struct ferry_vm *vm,
                         const struct ferry_snapshot_spec *spec,
                         struct ferry_domain_snapshot *out);
  int (*snapshot_delete)(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *name);
  int (*snapshot_list)(struct ferry_client *fc, const struct ferry_vm *vm,
                       struct ferry_domain_snapshot **out, size_t *n);
  int (*snapshot_current)(struct ferry_client *fc, const struct ferry_vm *vm,
                          char **name);
  int (*snapshot_revert)(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *name, unsigned flags);
  int (*wait_task)(struct ferry_client *fc, const char *task, int timeout_ms);
  int (*snapshot_volume)(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *snapshot, const char *disk,
                         char **volume_id);
  int (*query_snapshot_changes)(struct ferry_client *fc,
                                const struct ferry_vm *vm, const char *disk,
                                const char *from, const char *to,
                                struct ferry_changed_areas *out);
  /* volumes and VMs */
  int (*create_volume)(struct ferry_client *fc, const struct ferry_disk *disk,
                       struct ferry_volume_info *out);
  int (*delete_volume)(struct ferry_client *fc, const char *volume_id);
  int (*volumes)(struct ferry_client *fc, struct ferry_volume_info **out,
                 size_t *n);
  int (*create_vm)(struct ferry_client *fc, const struct ferry_vm *spec,
                   struct ferry_vm *out);
  int (*delete_vm)(struct ferry_client *fc, const struct ferry_vm *vm);
  int (*start_vm)(struct ferry_client *fc, const struct ferry_vm *vm);
  int (*stop_vm)(struct ferry_client *fc, const struct ferry_vm *vm,
                 int timeout_s, unsigned flags);
  int (*resume_vm)(struct ferry_client *fc, const struct ferry_vm *vm);
  int (*check_boot_disk)(struct ferry_client *fc,
                         const struct ferry_disk *disks, size_t n,
                         struct ferry_disk *boot);
  int (*inject_driver)(struct ferry_client *fc, const struct ferry_disk *disk);
  int (*open_cbt)(struct ferry_client *fc, const struct ferry_vm *vm);
  /* Where this platform keeps its leases (lease.h), so that its own
   * operations honour them; NULL: the migration keeps them beside its
   * journal, seen by migrations only. */
  int (*lease_dir)(struct ferry_client *fc, char *buf, size_t len);
};

/* The platform's lease directory, or -ENOTSUP. */
int platform_lease_dir(client_t *c, char *buf, size_t len);
/* Makes c act for holder (a migration id): its leases let it through. */
int platform_set_lease_holder(client_t *c, const char *holder);

extern const struct platform_ops qemu_platform_ops;
extern const struct platform_ops vmware_platform_ops;

#endif
