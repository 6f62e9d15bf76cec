/* Internal: the VMware vSphere client (CLIENT_VMWARE). */
#ifndef FERRY_VMWARE_H
#define FERRY_VMWARE_H

#include <limits.h>
#include <stdbool.h>

#include <ferry/platform.h>

#include "props.h"
#include "session.h"

struct ferry_client;

struct vmw {
  struct vsession *s;
  char host[256];        /* HOST[:PORT] as given */
  char server[256];      /* HOST alone, for VDDK */
  int port;
  char thumbprint[TLS_THUMB_LEN];
  char transport[8];     /* "vddk" or "https" */
  char vddk_libdir[PATH_MAX];
  bool vddk_debug;
  int page_size;
  const char *major, *minor, *user, *password; /* the client's copies */
};

#define VMW(fc) ((struct vmw *)(fc)->priv)

/* inventory.c: the construct_* conversions and list operations */
int vmw_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n);
int vmw_lookup_vm(struct ferry_client *fc, const char *key,
                  struct ferry_vm *out);
int vmw_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                    size_t *n);
int vmw_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                 size_t *n);
int vmw_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n);
int vmw_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n);
/* The datacenter (name) a managed entity is in, walking parents. */
int vmw_datacenter_of(struct vmw *w, const char *moref, char *dc_name,
                      size_t len);
/* The datacenter (name) of the datastore named datastore. */
int vmw_datastore_datacenter(struct vmw *w, const char *datastore,
                             char *dc_name, size_t len);

/* vm_devices.c: a VM's devices as standard disks and NICs */
int vmw_construct_devices(const xmlNode *devices, struct ferry_vm *vm,
                          const struct ferry_vlan *vlans, size_t n_vlans);

/* tasks.c */
int vmw_wait_task(struct ferry_client *fc, const char *task, int timeout_ms);
/* Runs a *_Task method and waits for it; result (may be NULL) gets the
 * task's result text (a moref for CreateSnapshot_Task). */
int vmw_run_task(struct vmw *w, const char *method, const char *type,
                 const char *moref, const char *args, char *result,
                 size_t len);

/* snapshots.c */
int vmw_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                        const struct ferry_snapshot_spec *spec,
                        struct ferry_domain_snapshot *out);
int vmw_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name);
int vmw_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                      struct ferry_domain_snapshot **out, size_t *n);
int vmw_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                         char **name);
int vmw_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name, unsigned flags);
/* The moref of the VM's snapshot called name; -ENOENT when none. */
int vmw_snapshot_moref(struct vmw *w, const char *vm, const char *name,
                       char *moref, size_t len);

/* cbt.c */
int vmw_open_cbt(struct ferry_client *fc, const struct ferry_vm *vm);
int vmw_query_snapshot_changes(struct ferry_client *fc,
                               const struct ferry_vm *vm, const char *disk,
                               const char *from, const char *to,
                               struct ferry_changed_areas *out);
/* QueryChangedDiskAreas paged from offset 0 to capacity, appended to
 * out->areas; change_id "*" gives the allocated areas. */
int vmw_changed_areas(struct vmw *w, const char *vm, const char *snapshot,
                      const char *key, uint64_t capacity,
                      const char *change_id, struct ferry_changed_areas *out);
/* A snapshot's disks: the standard disks of snapshot.config. */
int vmw_snapshot_disks(struct vmw *w, const char *snapshot_moref,
                       struct ferry_vm *out);

/* lifecycle.c */
int vmw_start_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int vmw_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
                int timeout_s, unsigned flags);
int vmw_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                  struct ferry_vm *out);
int vmw_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int vmw_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                      struct ferry_volume_info *out);
int vmw_delete_volume(struct ferry_client *fc, const char *volume_id);

/* data.c: volume ids and the data paths */
int vmw_snapshot_volume(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *snapshot, const char *disk,
                        char **volume_id);
int vmw_snapshot_open(struct ferry_client *fc, const struct ferry_vm *vm,
                      const char *snapshot, const char *disk,
                      struct ferry_volume **out);
int vmw_open_volume(struct ferry_client *fc, const char *id, int mode,
                    struct ferry_volume **out);

#endif
