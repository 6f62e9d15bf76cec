/* The seed's "client wrapper": standard objects and operations over a
 * platform's client (create_client, ferry_platform_open; <ferry/drivers.h>
 * says which platforms there are and what each can do).
 *
 * Every function returns 0 or a negative errno with ferry_last_error(). An
 * operation a platform cannot do returns -ENOTSUP with a sentence saying so;
 * none succeeds silently. Lists are malloc'd arrays the caller frees with
 * the matching ferry_*_list_free(); single objects are filled in and freed
 * with ferry_*_dispose(). A VM is named by its id, uuid or name.
 */
#ifndef FERRY_PLATFORM_H
#define FERRY_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include <ferry/drivers.h>
#include <ferry/ferry.h>
#include <ferry/objects.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Connects to the platform a URI names (ferry_drivers lists the URIs),
 * with no credentials: ferry_platform_open_auth gives them. NULL with
 * ferry_last_error(). */
client_t *ferry_platform_open(const char *uri);

/* The user's ferry state directory, the default local platform's and the
 * parent of the default journal directory (DIR/migrations), whatever
 * platforms a migration involves: $FERRY_STATE_DIR; else /var/lib/ferry
 * for root; else $XDG_STATE_HOME/ferry, or ~/.local/state/ferry. 0, or
 * -ENAMETOOLONG / -ENOENT (no HOME) with ferry_last_error(). */
int ferry_state_dir(char *buf, size_t len);

/* ---- inventory (vms, get_vm, get_vms, datacenters, ...) ---- */

/* get_vms' condition: NULL/-1 members match everything. name_glob is an
 * fnmatch(3) pattern. */
struct ferry_vm_filter {
  size_t struct_size; /* sizeof (struct ferry_vm_filter) */
  const char *name_glob;
  int power_state; /* enum ferry_power_state, or -1 */
  const char *host_id;
  const char *cluster_id;
};

int ferry_vms(client_t *c, struct ferry_vm **out, size_t *n);
int ferry_get_vm(client_t *c, const char *vm, struct ferry_vm *out);
int ferry_get_vms(client_t *c, const struct ferry_vm_filter *cond,
                  struct ferry_vm **out, size_t *n);
int ferry_datacenters(client_t *c, struct ferry_datacenter **out, size_t *n);
int ferry_get_datacenter(client_t *c, const char *id,
                         struct ferry_datacenter *out);
int ferry_clusters(client_t *c, struct ferry_cluster **out, size_t *n);
int ferry_get_cluster(client_t *c, const char *id, struct ferry_cluster *out);
int ferry_hosts(client_t *c, struct ferry_host **out, size_t *n);
int ferry_get_host(client_t *c, const char *id, struct ferry_host *out);
int ferry_vlans(client_t *c, struct ferry_vlan **out, size_t *n);
/* A network for VMs' NICs (id: its name in NIC definitions; vlan_id -1:
 * untagged, else 1..4094); -EEXIST when the id is taken. */
int ferry_create_vlan(client_t *c, const struct ferry_vlan *spec);
/* -EBUSY naming a VM whose NIC is on it. */
int ferry_delete_vlan(client_t *c, const char *id);
/* cluster_id NULL: every VM of the platform. */
int ferry_query_cluster_vm_summary(client_t *c, const char *cluster_id,
                                   struct ferry_vm_summary *out);

/* ---- snapshots ---- */

enum {
  FERRY_SNAPSHOT_MEMORY = 1,   /* save RAM too (the VM must run) */
  FERRY_SNAPSHOT_EXTERNAL = 2, /* overlay files instead of internal qcow2 */
};

struct ferry_snapshot_spec {
  size_t struct_size;      /* sizeof (struct ferry_snapshot_spec) */
  const char *name;
  const char *description; /* may be NULL */
  unsigned flags;
};

int ferry_snapshot_create(client_t *c, const char *vm,
                          const struct ferry_snapshot_spec *spec,
                          struct ferry_domain_snapshot *out);
int ferry_snapshot_delete(client_t *c, const char *vm, const char *name);
/* Records in creation order. A record that cannot be read makes the call
 * fail with -EBADMSG naming the file, rather than being skipped. */
int ferry_snapshot_list(client_t *c, const char *vm,
                        struct ferry_domain_snapshot **out, size_t *n);
int ferry_snapshot_get(client_t *c, const char *vm, const char *name,
                       struct ferry_domain_snapshot *out);
/* The current snapshot's name (malloc'd), or NULL when there is none. */
int ferry_snapshot_current(client_t *c, const char *vm, char **name);

enum {
  FERRY_REVERT_FORCE = 1, /* stop a running VM first */
};
int ferry_snapshot_revert(client_t *c, const char *vm, const char *name,
                          unsigned flags);

/* Waits for a platform task to finish (FERRY_FEATURE_TASKS). */
int ferry_wait_task(client_t *c, const char *task, int timeout_ms);

/* A volume id, for the client's data path (ferry_volume_open, ferry_sync),
 * holding the point-in-time data of a disk in a snapshot: readable while
 * the VM runs. *volume_id is malloc'd. */
int ferry_snapshot_volume(client_t *c, const char *vm, const char *snapshot,
                          const char *disk, char **volume_id);

/* The same point-in-time data opened for reading (ferry_volume_close it):
 * what a copy reads, with no volume id written and parsed between. */
int ferry_snapshot_open(client_t *c, const char *vm, const char *snapshot,
                        const char *disk, struct ferry_volume **out);

/* The areas of a disk that changed between two snapshots; from NULL or "*"
 * means every allocated area. */
int ferry_query_snapshot_changes(client_t *c, const char *vm,
                                 const char *disk, const char *from,
                                 const char *to,
                                 struct ferry_changed_areas *out);

/* ---- volumes and VMs ---- */

/* Creates a volume from a standard disk: volume_id names it, capacity and
 * format say what to make. */
int ferry_create_volume(client_t *c, const struct ferry_disk *disk,
                        struct ferry_volume_info *out);
int ferry_delete_volume(client_t *c, const char *volume_id);
int ferry_volumes(client_t *c, struct ferry_volume_info **out, size_t *n);

/* Defines a VM from a standard object; out gets it with its ids. */
int ferry_create_vm(client_t *c, const struct ferry_vm *spec,
                    struct ferry_vm *out);
int ferry_delete_vm(client_t *c, const char *vm);
int ferry_start_vm(client_t *c, const char *vm);

enum {
  FERRY_STOP_FORCE = 1, /* no graceful shutdown: power off at once */
};
/* Asks the guest to shut down, waits up to timeout_s, then powers off. */
int ferry_stop_vm(client_t *c, const char *vm, int timeout_s, unsigned flags);
/* Lets a paused VM run again (one a crashed ferry left paused, or one
 * paused by hand); a running VM is left as it is. */
int ferry_resume_vm(client_t *c, const char *vm);

/* ---- conversions at the destination ---- */

/* The disk the VM boots from, among disks: the first in boot order whose
 * first sectors hold MBR boot code with an active partition, or a GPT
 * with an EFI System Partition or a BIOS boot partition (read through the
 * platform's own volumes). -ENOEXEC says what each disk holds. */
int ferry_check_boot_disk(client_t *c, const struct ferry_disk *disks,
                          size_t n, struct ferry_disk *boot);
/* The same for a VM's disks and its firmware: a disk that boots only the
 * other firmware (GPT+ESP on BIOS, MBR only on UEFI) is an error saying
 * what to change. */
int ferry_check_vm_boot(client_t *c, const char *vm, struct ferry_disk *boot);
int ferry_inject_driver(client_t *c, const struct ferry_disk *disk);

struct ferry_convert_opts {
  size_t struct_size;        /* sizeof (struct ferry_convert_opts) */
  /* "virtio": the VM's disks and NICs move to virtio-blk and virtio-net
   * too, once its guest is converted; NULL: the VM stays as defined */
  const char *bus;
  bool remove_vmware_tools;  /* open-vm-tools uninstalled from the guest */
};
/* Converts a stopped VM's guest (on its boot disk) to boot on virtio, in
 * place, as virt-v2v-in-place does: all of it or nothing. opts may be
 * NULL. *report (malloc'd) says what changed, a line each. */
int ferry_convert_vm(client_t *c, const char *vm,
                     const struct ferry_convert_opts *opts, char **report);

/* Makes the VM record which areas change from its next snapshot on, so
 * that ferry_query_snapshot_changes can answer (the seed's open_cbt:
 * VMware's changed-block tracking, qemu's dirty bitmaps). */
int ferry_open_cbt(client_t *c, const char *vm);

/* The volume ids disks of a VM named vm_name would get on this platform
 * in format ("qcow2", "raw"), ids[i] malloc'd: -EEXIST when one is taken,
 * -ENOSPC when the disks would not fit. */
int ferry_plan_volumes(client_t *c, const char *vm_name,
                       const struct ferry_disk *disks, size_t n,
                       const char *format, char **ids);

#ifdef __cplusplus
}
#endif

#endif
