/* Internal: the qemu platform, a local QEMU/KVM host managed by ferry.
 *
 * Its state directory holds
 *   vms/<uuid>.json           VM definitions (standard vm objects)
 *   volumes/<name>            disk images made with qemu-img
 *   networks.json             the networks/VLANs (standard vlan objects)
 *   run/<uuid>/               a running VM: qmp.sock, qmp-status.sock,
 *                             qemu.pid, serial.log
 *   snapshots/<uuid>/         snapshotdata-<name>.json, current, lock, RAM
 */
#ifndef FERRY_QEMU_H
#define FERRY_QEMU_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <ferry/platform.h>

struct ferry_client;
struct qmp;

struct qemu_state {
  char dir[PATH_MAX];
  char accel[64]; /* -machine accel=: "tcg" unless the URI says */
  char virtio_win[PATH_MAX]; /* virtio-win's files, for Windows guests */
};

/* The qemu client's state (ferry_client.priv). */
#define QEMU_STATE(fc) ((struct qemu_state *)(fc)->priv)

/* Paths under the state dir; each returns buf. */
char *qemu_path(const struct qemu_state *st, char *buf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* VM definitions. */
int qemu_defs_load(const struct qemu_state *st, struct ferry_vm **out,
                   size_t *n);
int qemu_def_store(const struct qemu_state *st, const struct ferry_vm *vm);
int qemu_def_remove(const struct qemu_state *st, const char *uuid);
int qemu_def_get(const struct qemu_state *st, const char *uuid,
                 struct ferry_vm *out);

/* Checks for meaning (defcheck.c): a definition's names, ranges, volume
 * ids, MACs and models (file: the definition's path, for the message);
 * a machine type qemu has; an image's backing chain inside volumes/,
 * every format fixed, no external data file. */
int qemu_def_check(const struct qemu_state *st, const struct ferry_vm *vm,
                   const char *file);
int qemu_machine_check(const char *machine);
/* A disk's SCSI controller model ("" or unknown: virtio-scsi), and the
 * qemu device of a model. */
const char *qemu_scsi_controller(const char *model);
const char *qemu_scsi_device(const char *model);
/* A unicast MAC address written as 52:54:00:12:34:56. */
bool qemu_mac_ok(const char *mac);
/* qemu_def_check of a stored VM, naming its file: every operation that
 * uses a VM's disks or hands it to qemu calls it first (a listing does
 * not, so that one bad file does not hide or block the other VMs). */
int qemu_vm_check(const struct qemu_state *st, const struct ferry_vm *vm);
int qemu_chain_check(const struct qemu_state *st, const char *volume_id);

/* Networks: networks.json, or the one "default" network when missing. */
int qemu_networks(const struct qemu_state *st, struct ferry_vlan **out,
                  size_t *n);

/* Runtime: the pid of a VM's qemu when it runs (0 when it does not). A
 * pidfile whose process is gone or is another program counts as stopped. */
pid_t qemu_running_pid(const struct qemu_state *st, const char *uuid);
/* stopped, running or paused, asked over the status monitor. */
enum ferry_power_state qemu_power_state(const struct qemu_state *st,
                                        const char *uuid);
/* The control monitor of a running VM. */
int qemu_qmp(const struct qemu_state *st, const char *uuid, int timeout_ms,
             struct qmp **out);

/* Pauses that never outlive ferry (pause.c): qemu_pause writes down why
 * before QMP stop, qemu_unpause takes it back after cont. qemu_settle
 * lets a guest run that a dead ferry left paused (its operation lock is
 * free), or says why it cannot. */
int qemu_pause(const struct qemu_state *st, struct qmp *q, const char *uuid,
               const char *why);
int qemu_unpause(const struct qemu_state *st, struct qmp *q,
                 const char *uuid);
int qemu_settle(const struct qemu_state *st, const struct ferry_vm *vm);
/* The "status" a query command answers ("" when it does not):
 * query-status gives the run state, query-migrate the migration's. */
const char *qemu_qmp_status(struct qmp *q, const char *query, char *buf,
                            size_t len);

/* Lifecycle (lifecycle.c). paused: start with -S and stay paused;
 * incoming_fd >= 0: load RAM from it (a saved migration stream). */
int qemu_launch(const struct qemu_state *st, const struct ferry_vm *vm,
                bool paused, int incoming_fd);
int qemu_shutdown(const struct qemu_state *st, const struct ferry_vm *vm,
                  int timeout_s, bool force);

/* Volumes (volumes.c). A volume id ends in .qcow2 or .raw, which is its
 * format: ferry never guesses a volume's format from its content, which a
 * guest controls for a raw disk. */
const char *qemu_volume_format(const char *id);
/* `qemu-img info` of a volume as JSON, the format fixed by its id and -U
 * (a running VM holds the image's lock; reading its header is safe). */
struct json_object;
int qemu_img_info(const struct qemu_state *st, const char *id,
                  struct json_object **out);
int qemu_volume_path(const struct qemu_state *st, const char *id, char *buf);
/* qemu-img create of volume id (its format from the id), of size bytes or
 * as an overlay on backing (an id); atomic: the image appears whole under
 * its id or not at all, and an existing one is never replaced (EEXIST). */
int qemu_img_create(const struct qemu_state *st, const char *id,
                    const char *backing, uint64_t size);
int qemu_volume_info(const struct qemu_state *st, const char *id,
                     struct ferry_volume_info *out);
/* A VM's disks kept from conversions while it starts (fds[n_disks], each
 * -1 or a held lock; release with qemu_conversions_release): EBUSY when
 * one is converting, or when a conversion's commit was cut short (the
 * disk is half committed until `ferry convert` finishes it). */
int qemu_conversions_hold(const struct qemu_state *st,
                          const struct ferry_vm *vm, int *fds);
void qemu_conversions_release(int *fds, size_t n);

/* The platform's operations, gathered in one table in client.c. */
int qemu_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n);
int qemu_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                       unsigned flags, char **report);
int qemu_redefine_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int qemu_create_vlan(struct ferry_client *fc, const struct ferry_vlan *spec);
int qemu_delete_vlan(struct ferry_client *fc, const char *id);
int qemu_lookup_vm(struct ferry_client *fc, const char *key,
                   struct ferry_vm *out);
int qemu_plan_volumes(struct ferry_client *fc, const char *vm_name,
                      const struct ferry_disk *disks, size_t n,
                      const char *format, char **ids);
int qemu_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                     size_t *n);
int qemu_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                  size_t *n);
int qemu_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n);
int qemu_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n);
int qemu_volumes(struct ferry_client *fc, struct ferry_volume_info **out,
                 size_t *n);
int qemu_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                       struct ferry_volume_info *out);
int qemu_delete_volume(struct ferry_client *fc, const char *id);
int qemu_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                   struct ferry_vm *out);
int qemu_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int qemu_start_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int qemu_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
                 int timeout_s, unsigned flags);
int qemu_lease_dir(struct ferry_client *fc, char *buf, size_t len);
/* Refuses `doing` on vm while a migration other than fc's holds it. */
int qemu_vm_lease_check(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *doing);
/* The same for a name a VM or volume is about to be created under
 * (kind "vmname" or "volume"). */
int qemu_name_lease_check(struct ferry_client *fc, const char *kind,
                          const char *name, const char *doing);
int qemu_resume_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int qemu_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                         const struct ferry_snapshot_spec *spec,
                         struct ferry_domain_snapshot *out);
int qemu_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *name);
int qemu_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                       struct ferry_domain_snapshot **out, size_t *n);
int qemu_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                          char **name);
int qemu_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *name, unsigned flags);
int qemu_open_cbt(struct ferry_client *fc, const struct ferry_vm *vm);
int qemu_snapshot_volume(struct ferry_client *fc, const struct ferry_vm *vm,
                         const char *snapshot, const char *disk,
                         char **volume_id);
int qemu_query_snapshot_changes(struct ferry_client *fc,
                                const struct ferry_vm *vm, const char *disk,
                                const char *from, const char *to,
                                struct ferry_changed_areas *out);

#endif
