/* Internal: the SmartX ELF platform, through CloudTower's REST API (4.6):
 *
 *   elf://USER@HOST[:PORT]?fingerprint=SHA256[&cluster=NAME]
 *        [&storage_policy=POLICY][&iscsi_port=N][&ca_file=PATH]
 *
 * HTTPS with libcurl, its certificate pinned by SHA-256 fingerprint (or
 * a CA file), JSON with json-c. Everything is POST /v2/api/OPERATION; a
 * mutation answers with tasks, waited on through /get-tasks. The
 * cluster's VMs are VMs, its hosts hosts, its VM networks VLANs, its VM
 * volumes volumes (iSCSI LUNs underneath). See docs/elf.md. */
#ifndef FERRY_ELF_ELF_H
#define FERRY_ELF_ELF_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include <ferry/platform.h>

#include "../../core/tls_pin.h"

struct ferry_client;
struct ferry_volume;

struct elf_state {
  char uri[1024];           /* as given, for messages */
  char base[600];           /* https://HOST:PORT/v2/api */
  char host[512], user[256];
  const char *password;     /* the client's (secret memory) */
  char *token;              /* the session's (secret memory); NULL: none */
  struct tls_pin pin;
  char ca_file[PATH_MAX];   /* instead of the pin */
  char cluster_name[256];   /* ?cluster=; "": the one ELF cluster */
  char cluster_id[64];      /* resolved at open */
  char storage_policy[64];  /* new volumes' (?storage_policy=) */
  int iscsi_port;           /* the iSCSI portal's port (?iscsi_port=) */
  char accel[8];            /* the conversion appliance's: tcg or kvm */
  char virtio_win[PATH_MAX]; /* virtio-win's files, for Windows guests */
  CURL *curl;
  char errbuf[CURL_ERROR_SIZE];
  pthread_mutex_t lock;     /* one request at a time on curl */
};

#define ELF_STATE(fc) ((struct elf_state *)(fc)->priv)

/* rest.c: one operation, logged in (again once when the token no longer
 * works), retried while CloudTower says ResourceLocked. body is taken
 * (put); *out (may be NULL) gets the answer. Errors carry the server's
 * message: 400 EINVAL (EBUSY when locked), 404 ENOENT, 401/403 EACCES,
 * 500 EIO. */
int elf_call(struct ferry_client *fc, const char *op, json_object *body,
             json_object **out);
/* Every object a get-* operation lists for where (taken; NULL: all),
 * paged; *out a JSON array. */
int elf_list(struct ferry_client *fc, const char *op, json_object *where,
             const char *order_by, json_object **out);
/* The one object of a get-* operation for {"id": id}: ENOENT naming what
 * when there is none. */
int elf_get(struct ferry_client *fc, const char *op, const char *id,
            const char *what, json_object **out);
/* The login, for open: the token, or EACCES with the server's reason. */
int elf_login(struct ferry_client *fc);
void elf_logout(struct elf_state *st);

/* tasks.c: waits for the tasks of a mutation's answer (a WithTask or an
 * array of them) to end, within timeout_ms (<= 0: a default); a FAILED
 * task's error_message is the error (EAllocSpace: ENOSPC,
 * VM_DUPLICATED_NAME: EEXIST, JOB_VM_SHUTDOWN_TIMEOUT: ETIMEDOUT). */
int elf_wait(struct ferry_client *fc, json_object *answer, int timeout_ms,
             const char *what);
int elf_wait_task(struct ferry_client *fc, const char *task, int timeout_ms);
/* A mutation: op called with body (taken), its tasks waited on as
 * elf_wait does; *answer (may be NULL) gets the answer once they have
 * ended well. */
int elf_mutate(struct ferry_client *fc, const char *op, json_object *body,
               int timeout_ms, const char *what, json_object **answer);
/* The id of what a mutation's answer made (its first WithTask's data):
 * EIO naming what when there is none. */
int elf_answer_id(json_object *answer, const char *what, char *buf,
                  size_t len);

/* JSON helpers (json.c): a member's string ("" when absent or null), its
 * integer, a nested object's member; a new {"id": id} filter. */
const char *elf_str(json_object *o, const char *key);
int64_t elf_int(json_object *o, const char *key);
bool elf_bool(json_object *o, const char *key);
const char *elf_nested_id(json_object *o, const char *key);
json_object *elf_where_id(const char *id);
json_object *elf_where_kv(const char *key, json_object *value);

/* STATE_DIR/elf/ followed by fmt's path, into buf: where the driver
 * keeps what it must find again (conversions, grants, snapshot
 * records). The caller checks the names it puts in. */
int elf_state_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* inventory.c */
int elf_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n);
int elf_lookup_vm(struct ferry_client *fc, const char *key,
                  struct ferry_vm *out);
int elf_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                    size_t *n);
int elf_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                 size_t *n);
int elf_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n);
int elf_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n);
/* The cluster ELF's VMs are made in: ?cluster= or the only one. */
int elf_pick_cluster(struct ferry_client *fc);

/* volumes.c. A volume's id in ferry: its name where that is unique among
 * all (the name a migration plans and makes it under), else its
 * CloudTower id; either finds it. */
const char *elf_volume_key(json_object *volume, json_object *all);
int elf_volumes(struct ferry_client *fc, struct ferry_volume_info **out,
                size_t *n);
int elf_create_volume(struct ferry_client *fc, const struct ferry_disk *disk,
                      struct ferry_volume_info *out);
int elf_delete_volume(struct ferry_client *fc, const char *id);
/* The CloudTower id of the volume key (an id or a unique name). */
int elf_volume_id(struct ferry_client *fc, const char *key, char *buf,
                  size_t len);
/* The volume whose id or (unique) name is key: ENOENT when none. */
int elf_volume_of(struct ferry_client *fc, const char *key,
                  json_object **out);

/* lun.c: an iSCSI LUN as ferry reaches it. */
struct elf_lun {
  char what[300];           /* for messages: "ELF volume 'x'" */
  char portal[300];         /* the cluster's iscsi_vip:?iscsi_port= */
  char iqn[256], initiator[256];
  int lun;
  char lun_cuid[64], target_id[64], volume_cuid[64]; /* "" for no volume */
  int64_t size;             /* the volume's (or LUN's) bytes */
};
/* This host's name as IQNs and CloudTower's names take it; ferry's
 * initiator name, one per host as an iSCSI initiator has. */
void elf_host_name(char *buf, size_t len);
void elf_initiator_name(char *buf, size_t len);
/* The LUN of volume key (an id or a unique name). */
int elf_volume_lun(struct ferry_client *fc, const char *key,
                   struct elf_lun *out);
/* The LUN of CloudTower id lun_id; what names it in messages. */
int elf_lun_of(struct ferry_client *fc, const char *lun_id, const char *what,
               struct elf_lun *out);
/* The LUN through libiscsi: EIO when it is smaller than it should be. */
int elf_lun_open(const struct elf_lun *l, int mode, struct ferry_volume **out);
int elf_open_volume(struct ferry_client *fc, const char *id, int mode,
                    struct ferry_volume **out);

/* convert.c: inject_driver, and whether vm's volumes have a conversion
 * whose commit a crash cut short (EBUSY: no VM is made on them). */
int elf_inject_driver(struct ferry_client *fc, const struct ferry_disk *disk,
                      unsigned flags, char **report);
int elf_conversions_settled(struct ferry_client *fc,
                            const struct ferry_vm *vm);

/* snapshots.c: the seed's snapshot API on CloudTower's VM snapshots. */
int elf_snapshot_create(struct ferry_client *fc, const struct ferry_vm *vm,
                        const struct ferry_snapshot_spec *spec,
                        struct ferry_domain_snapshot *out);
int elf_snapshot_delete(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name);
int elf_snapshot_list(struct ferry_client *fc, const struct ferry_vm *vm,
                      struct ferry_domain_snapshot **out, size_t *n);
int elf_snapshot_current(struct ferry_client *fc, const struct ferry_vm *vm,
                         char **name);
int elf_snapshot_revert(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *name, unsigned flags);
/* The VM's snapshots (a JSON array, oldest first); the one named name
 * (ENOENT when none, EINVAL when several). */
int elf_vm_snapshots(struct ferry_client *fc, const struct ferry_vm *vm,
                     json_object **out);
int elf_snapshot_named(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name, json_object **out);
/* The volumes of vm's disks (a JSON array, one query); the device of vm
 * that a snapshot's frozen disk is (by its volume among vols), or "diskN"
 * (its index) when the VM no longer has that volume. */
int elf_vm_volumes(struct ferry_client *fc, const struct ferry_vm *vm,
                   json_object **out);
void elf_frozen_device(const struct ferry_vm *vm, json_object *vols,
                       json_object *frozen, char *buf, size_t len);
/* clones.c: a snapshot's disk, read through a LUN clone deleted at close. */
int elf_snapshot_open(struct ferry_client *fc, const struct ferry_vm *vm,
                      const char *snapshot, const char *disk,
                      struct ferry_volume **out);

/* grants.c: ferry's initiator let in to l's target where its whitelist
 * keeps ferry out (*out NULL when nothing had to change), until
 * elf_grant_drop (a volume's release hook) of the last user. */
struct elf_grant;
int elf_grant_take(struct ferry_client *fc, const struct elf_lun *l,
                   struct elf_grant **out);
void elf_grant_drop(void *grant);

/* lifecycle.c */
int elf_create_vm(struct ferry_client *fc, const struct ferry_vm *spec,
                  struct ferry_vm *out);
int elf_start_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int elf_stop_vm(struct ferry_client *fc, const struct ferry_vm *vm,
                int timeout_s, unsigned flags);
int elf_delete_vm(struct ferry_client *fc, const struct ferry_vm *vm);
int elf_plan_volumes(struct ferry_client *fc, const char *vm_name,
                     const struct ferry_disk *disks, size_t n,
                     const char *format, char **ids);

#endif
