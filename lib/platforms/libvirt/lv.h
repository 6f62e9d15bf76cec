/* Internal: the libvirt platform, a libvirt connection (qemu:///system,
 * qemu+ssh://host/system, test:///default, ...) through libvirt's C API.
 * Domains are VMs, the node is the one host, networks and their port
 * groups are VLANs, storage pools hold the volumes. */
#ifndef FERRY_LIBVIRT_LV_H
#define FERRY_LIBVIRT_LV_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "virt_lib.h" /* libvirt's API, loaded on first use */

#include <ferry/platform.h>

#include "../../types/object.h" /* ferry_obj_string_set */

struct ferry_client;
struct ferry_volume;
struct sbuf;

struct lv_state {
  virConnectPtr conn;
  char uri[1024];     /* as given, for messages */
  char pool[256];     /* where new volumes go (?pool=, default "default") */
  char virt_type[16]; /* new domains' type: "kvm", else "qemu" (TCG) */
  char backup_dir[512]; /* pull backups' sockets and scratch (?backup_dir=) */
  bool local;         /* the host is this one: volumes have paths here */
};

/* Where the standard objects say a domain is: the one host of the
 * connection, in one datacenter and cluster named after the driver. */
#define LV_DC "libvirt"

#define LV_STATE(fc) ((struct lv_state *)(fc)->priv)
#define LV_CONN(fc) (LV_STATE(fc)->conn)

/* libvirt's last error as ferry's: the errno its code means, and its
 * message after what ("define domain 'web': ..."); returns -errno. */
int lv_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Once per process: libvirt's default handler prints errors on stderr. */
void lv_silence_errors(void);

/* Reading libvirt's XML (lvxml.c): the document of text, its first child
 * element named name (NULL: any), the next such sibling, and an
 * attribute or a child's text copied into buf ("" when absent). */
int lv_xml_parse(const char *text, const char *what, xmlDoc **out);
xmlNode *lv_child(const xmlNode *n, const char *name);
xmlNode *lv_next(const xmlNode *n, const char *name);
const char *lv_attr(const xmlNode *n, const char *name, char *buf,
                    size_t len);
const char *lv_text(const xmlNode *n, const char *child, char *buf,
                    size_t len);
/* lv_xml_parse of text that libvirt returned (NULL: its error, after
 * what), which it frees. */
int lv_xml_take(char *text, const char *what, xmlDoc **out);
/* A size element (<memory unit='KiB'>2048</memory>) in bytes; 0 when
 * absent or bad. */
unsigned long long lv_size(const xmlNode *n, const char *child);

/* A domain as a standard VM, from its XML (domxml.c). */
int lv_domain_to_vm(virDomainPtr dom, struct ferry_vm *vm);
/* The power state libvirt says. */
enum ferry_power_state lv_power_state(virDomainPtr dom);

/* Domains by id (the UUID), UUID or name. */
int lv_lookup(struct ferry_client *fc, const char *key, virDomainPtr *out);

/* inventory.c */
int lv_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n);
int lv_lookup_vm(struct ferry_client *fc, const char *key,
                 struct ferry_vm *out);
int lv_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                   size_t *n);
int lv_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                size_t *n);
int lv_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n);
int lv_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n);
int lv_volumes(struct ferry_client *fc, struct ferry_volume_info **out,
               size_t *n);
/* One volume of pool as POOL/NAME: its path, format and sizes. */
int lv_vol_describe(const char *pool, virStorageVolPtr vol,
                    struct ferry_volume_info *out);

/* lifecycle.c */
int lv_start_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int lv_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
               int timeout_s, unsigned flags);
int lv_resume_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int lv_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm);

/* volumes.c */
int lv_plan_volumes(struct ferry_client *fc, const char *vm_name,
                    const struct ferry_disk *disks, size_t n,
                    const char *format, char **ids);
int lv_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                     struct ferry_volume_info *out);
int lv_delete_volume(struct ferry_client *fc, const char *id);
int lv_open_volume(struct ferry_client *fc, const char *id, int mode,
                   struct ferry_volume **out);
/* The format a new volume's name says: raw for NAME.raw, else qcow2. */
const char *lv_format_of_name(const char *name);
/* A local volume's file and format (qcow2 or raw). */
int lv_volume_file(struct ferry_client *fc, const char *id, char *path,
                   size_t len, char *format, size_t flen);

/* convert.c */
int lv_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                     unsigned flags, char **report);
/* EBUSY when a conversion of one of vm's disks was cut short while
 * committing: the VM must not start from it. */
int lv_conversions_settled(struct ferry_client *fc,
                           const struct ferry_vm *vm);

/* define.c: where the domains it defines log their serial console
 * (NAME-serial0.log) */
#define LV_SERIAL_LOG_DIR "/var/log/libvirt/qemu"
int lv_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                 struct ferry_vm *out);

/* snapshots.c */
int lv_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                       const struct ferry_snapshot_spec *spec,
                       struct ferry_domain_snapshot *out);
int lv_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name);
int lv_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                     struct ferry_domain_snapshot **out, size_t *n);
int lv_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                        char **name);
int lv_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name, unsigned flags);

/* tracking.c: a disk's top image on this host, and whether a running
 * domain's disks can hold checkpoints' bitmaps (qcow2 v3). */
int lv_disk_image(struct ferry_client *fc, const struct ferry_disk *disk,
                  char *path, size_t len, char *format, size_t flen);
int lv_check_tracking(struct ferry_client *fc, const struct ferry_vm *vm);
/* Whether every disk of vm can hold a checkpoint's bitmap (qcow2 v3). */
int lv_disks_trackable(struct ferry_client *fc, const struct ferry_vm *vm);

/* backup.c: a migration round's point, a checkpoint with the pull backup
 * that exports its data while the domain runs (driver.h, round_begin);
 * on a shut-off domain, its disks as they are. */
struct lv_job_disk {
  char name[64], export[64], bitmap[96]; /* bitmap "": a full backup */
};
struct lv_job {
  char socket[600];
  char incremental[256]; /* "": a full backup */
  struct lv_job_disk disks[32];
  size_t n_disks;
};
/* The backup job of ferry's that exports round `name` of vm's domain:
 * 0 with *job, -ENOENT when none does. */
int lv_round_job(struct ferry_client *fc, virDomainPtr dom,
                 const struct ferry_vm *vm, const char *name,
                 struct lv_job *job);
/* EBUSY when the domain runs a backup job that is not ferry's. */
int lv_no_foreign_job(struct ferry_client *fc, virDomainPtr dom,
                      const struct ferry_vm *vm);
int lv_round_begin(struct ferry_client *fc, const struct ferry_vm *vm,
                   const char *name, const char *since);
int lv_round_get(struct ferry_client *fc, const struct ferry_vm *vm,
                 const char *name);
int lv_round_end(struct ferry_client *fc, const struct ferry_vm *vm,
                 const char *name);
int lv_round_drop(struct ferry_client *fc, const struct ferry_vm *vm,
                  const char *name);

/* changes.c: a round's data and changed areas, from its backup's NBD
 * export, or from a shut-off domain's images (qemu-nbd). */
int lv_round_open(struct ferry_client *fc, const struct ferry_vm *vm,
                  const char *name, const char *disk,
                  struct ferry_volume **out);
int lv_round_changes(struct ferry_client *fc, const struct ferry_vm *vm,
                     const char *disk, const char *from, const char *to,
                     struct ferry_changed_areas *out);

#endif
