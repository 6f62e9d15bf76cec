/* Internal: what a driver fills in, once: struct ferry_driver (how it is
 * found, opened and what it offers) and, for a platform, its operations
 * table. NULL operations answer ENOTSUP. get_* by id, filters and
 * summaries are derived from the list operations in platform.c unless a
 * platform has faster ways. */
#ifndef FERRY_DRIVER_INTERNAL_H
#define FERRY_DRIVER_INTERNAL_H

#include <ferry/drivers.h>
#include <ferry/platform.h>

struct ferry_client;
struct ferry_volume;
struct platform_ops;

/* open's answer when the URI is another driver's. */
#define DRIVER_DECLINED 1

/* Flags to open. */
enum {
  DRIVER_OPEN_BY_TYPE = 1, /* create_client named the driver: no probing */
};

struct ferry_driver {
  struct ferry_driver_info info;
  enum client_type type; /* what create_client calls it */
  bool own_query;        /* its URIs' queries are its own (NBD URIs):
                          * not read as options */
  /* Whether a URI of one of its schemes is its own (a scheme two drivers
   * share: qemu:///PATH is the local platform's, qemu:///system
   * libvirt's); NULL: every one is. */
  bool (*claims)(const char *uri);
  /* Claims uri (0, filling fc->priv), declines it (DRIVER_DECLINED) or
   * fails (-errno). The query's options are in fc already (client_option);
   * auth may be NULL. */
  int (*open)(struct ferry_client *fc, const char *uri,
              const struct ferry_auth *auth, unsigned flags);
  void (*close)(struct ferry_client *fc);
  /* A data path's endpoint: the client URI (malloc'd) and volume id of
   * arg, or DRIVER_DECLINED. */
  int (*endpoint)(const char *arg, char **client_uri, char **volume_id);
  int (*open_volume)(struct ferry_client *fc, const char *volume_id, int mode,
                     struct ferry_volume **out);
  /* What a volume is, without opening it (for the same-volume check);
   * equal strings are the same volume. */
  int (*identify)(struct ferry_client *fc, const char *volume_id, char *buf,
                  size_t len);
  const struct platform_ops *ops; /* NULL: a data path */
};

/* The value of a URI option of fc's driver, NULL when not given. */
const char *client_option(const struct ferry_client *fc, const char *name);
/* The password for who ("USER@HOST"): the auth's, its file's first line,
 * or what its callback answers; kept in fc (secret memory). */
int client_password(struct ferry_client *fc, const struct ferry_auth *auth,
                    const char *who, const char **out);
/* The URI without its query, for drivers that parse their own part. */
int client_uri_base(const char *uri, char *buf, size_t len);

struct platform_ops {
  /* inventory (the construct_* conversions happen inside these) */
  int (*vms)(struct ferry_client *fc, struct ferry_vm **out, size_t *n);
  /* One VM by id, uuid or (unique) name, without listing them all: ENOENT
   * when there is none, EINVAL when the name is not unique. NULL: found in
   * the list. */
  int (*lookup_vm)(struct ferry_client *fc, const char *key,
                   struct ferry_vm *out);
  int (*datacenters)(struct ferry_client *fc, struct ferry_datacenter **out,
                     size_t *n);
  int (*clusters)(struct ferry_client *fc, struct ferry_cluster **out,
                  size_t *n);
  int (*hosts)(struct ferry_client *fc, struct ferry_host **out, size_t *n);
  int (*vlans)(struct ferry_client *fc, struct ferry_vlan **out, size_t *n);
  int (*create_vlan)(struct ferry_client *fc, const struct ferry_vlan *spec);
  int (*delete_vlan)(struct ferry_client *fc, const char *id);
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
  /* The snapshot's disk opened for reading, without a volume id between
   * (NULL: snapshot_volume, then the driver's open_volume). */
  int (*snapshot_open)(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *snapshot, const char *disk,
                       struct ferry_volume **out);
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
  /* Converts the guest on disk for the platform's virtio (the seed's
   * inject_driver): all of it or nothing; flags: CONVERT_*; *report (may
   * be NULL) gets what changed, a line each. */
  int (*inject_driver)(struct ferry_client *fc, const struct ferry_disk *disk,
                       unsigned flags, char **report);
  /* A stopped VM's definition, its devices changed (the same disks and
   * volumes): checked whole, then stored whole. */
  int (*redefine_vm)(struct ferry_client *fc, const struct ferry_vm *vm);
  /* Makes the VM record what changes from its next snapshot on (the
   * seed's open_cbt). */
  int (*prepare_tracking)(struct ferry_client *fc, const struct ferry_vm *vm);
  /* Whether vm's changes can be tracked for a warm migration (its plan):
   * checked, nothing changed; NULL: they can. */
  int (*check_tracking)(struct ferry_client *fc, const struct ferry_vm *vm);
  /* A migration round's point in time on a platform that tracks changes
   * other than by snapshots (libvirt: a checkpoint, and the pull backup
   * that exports its data). round_begin begins the point `name`, whose
   * changes are known since the point `since` (NULL: the first round),
   * or finds it begun (after a crash); round_open reads a disk of it, and
   * round_changes tells the areas changed since an earlier point (from
   * NULL: all allocated). round_get: 0 while the
   * point's data can be read, -ENOENT when not. round_end: ends what
   * begin holds open for the copy (the point stays: the next round's
   * since). round_drop: removes the point (-ENOENT: there is none).
   * NULL: a round is an external snapshot of its name. */
  int (*round_begin)(struct ferry_client *fc, const struct ferry_vm *vm,
                     const char *name, const char *since);
  int (*round_get)(struct ferry_client *fc, const struct ferry_vm *vm,
                   const char *name);
  int (*round_end)(struct ferry_client *fc, const struct ferry_vm *vm,
                   const char *name);
  int (*round_drop)(struct ferry_client *fc, const struct ferry_vm *vm,
                    const char *name);
  int (*round_open)(struct ferry_client *fc, const struct ferry_vm *vm,
                    const char *name, const char *disk,
                    struct ferry_volume **out);
  int (*round_changes)(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *disk, const char *from, const char *name,
                       struct ferry_changed_areas *out);
  /* The volume ids disks of a VM named vm_name get here, in format
   * ("qcow2", "raw"): EEXIST when one is taken, ENOSPC when they would
   * not fit. ids[i] are malloc'd. */
  int (*plan_volumes)(struct ferry_client *fc, const char *vm_name,
                      const struct ferry_disk *disks, size_t n,
                      const char *format, char **ids);
  /* Where this platform keeps its leases (lease.h), so that its own
   * operations honour them; NULL: the migration keeps them beside its
   * journal, seen by migrations only. */
  int (*lease_dir)(struct ferry_client *fc, char *buf, size_t len);
};

/* A platform of one datacenter and one cluster, both named name (the
 * local and libvirt platforms): their one-element lists. */
int platform_one_datacenter(const char *name, struct ferry_datacenter **out,
                            size_t *n);
int platform_one_cluster(const char *name, struct ferry_cluster **out,
                         size_t *n);

/* Which of v[0..n) key names (an id or uuid, else a unique name): *hit,
 * or ENOENT / EINVAL with a message naming platform. */
int vm_pick(const struct ferry_vm *v, size_t n, const char *key,
            const char *platform, size_t *hit);

/* The platform's lease directory, or -ENOTSUP. */
int platform_lease_dir(client_t *c, char *buf, size_t len);
/* Makes c act for holder (a migration id): its leases let it through. */
int platform_set_lease_holder(client_t *c, const char *holder);
/* A migration round's point on c (see round_begin above), for vm (as
 * the platform gave it): the platform's own, else an external snapshot
 * named name. */
int platform_round_begin(client_t *c, const struct ferry_vm *vm,
                         const char *name, const char *since);
int platform_round_get(client_t *c, const struct ferry_vm *vm,
                       const char *name);
int platform_round_end(client_t *c, const struct ferry_vm *vm,
                       const char *name);
int platform_round_drop(client_t *c, const struct ferry_vm *vm,
                        const char *name);
/* A round's disk for reading, and its changes since the round from (NULL:
 * every allocated area): the snapshot's (ferry_snapshot_open,
 * ferry_query_snapshot_changes) where rounds are snapshots. */
int platform_round_open(client_t *c, const struct ferry_vm *vm,
                        const char *name, const char *disk,
                        struct ferry_volume **out);
int platform_round_changes(client_t *c, const struct ferry_vm *vm,
                           const char *disk, const char *from,
                           const char *name, struct ferry_changed_areas *out);
/* Guest device names as a guest sees its disks, by bus in order: vda,
 * vdb; sda (SCSI and SATA); hda (IDE). Each call names the next disk of
 * its bus. */
struct device_namer {
  unsigned vd, sd, hd;
};
void device_name_next(struct device_namer *n, enum ferry_disk_bus bus,
                      char *buf, size_t len);
/* Which disk of vm key names (its device, or its id): ENOENT naming
 * both when none. */
int vm_disk_index(const struct ferry_vm *vm, const char *key, size_t *i);
/* The format of c's new volumes when none is asked for (its driver's
 * volume_format: qcow2 when it says none). */
const char *platform_volume_format(client_t *c);
/* check_tracking of vm on c (0 where the platform has none). */
int platform_check_tracking(client_t *c, const struct ferry_vm *vm);
/* inject_driver's flags. */
enum { CONVERT_REMOVE_VMWARE_TOOLS = 1u << 0 };
/* Converts the guest on the boot disk among disks (of no VM yet: a
 * migration's destination volumes) for virtio, as ferry_convert_vm does;
 * -ENOEXEC when no disk boots fw, so there is no guest to convert. */
int platform_convert_disks(client_t *c, const struct ferry_disk *disks,
                           size_t n, enum ferry_firmware fw, unsigned flags,
                           char **report);


#endif
