/* Reading a disk of an ELF snapshot, the documented way: its iSCSI LUN
 * snapshot cloned (clone-iscsi-lun-from-snapshot) into an iSCSI target of
 * ferry's own, which lets ferry's initiator in, read with libiscsi, and
 * the clone deleted when the volume is closed.
 *
 * No clone is left behind: each is named
 *   ferry-clone-HOST-PID-START-N
 * after the ferry process that made it (its PID and start time, so a
 * later process with the same PID is not taken for it), and a clone whose
 * process is gone (killed before it could delete it) is deleted by the
 * next ferry of this host that makes one. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/child.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../volume/volume.h"
#include "../driver.h"
#include "elf.h"

#define CLONE_PREFIX "ferry-clone-"

/* ferry's target in the cluster of `like` (a target), as *id: ENOENT
 * when there is none. */
static int find_target(struct ferry_client *fc, json_object *like,
                       const char *name, char *id, size_t len)
{
  json_object *where = json_object_new_object(), *list;
  json_object_object_add(where, "name", json_object_new_string(name));
  json_object_object_add(where, "cluster",
                         elf_where_id(elf_nested_id(like, "cluster")));
  int r = elf_list(fc, "/get-iscsi-targets", where, NULL, &list);
  if (r == 0 && json_object_array_length(list) == 0)
    r = ferry_error(ENOENT, "no iSCSI target '%s'", name);
  else if (r == 0)
    snprintf(id, len, "%s",
             elf_str(json_object_array_get_idx(list, 0), "id"));
  json_object_put(list);
  return r;
}

/* ferry's target made beside `like`, its whitelist ferry's initiator. */
static int make_target(struct ferry_client *fc, json_object *like,
                       const char *name, char *id, size_t len)
{
  char iqn[256], what[300];
  elf_initiator_name(iqn, sizeof iqn);
  json_object *p = json_object_new_object(), *body = json_object_new_array(),
              *ans = NULL;
  json_object_object_add(p, "cluster_id", json_object_new_string(
                                              elf_nested_id(like, "cluster")));
  json_object_object_add(p, "name", json_object_new_string(name));
  json_object_object_add(p, "replica_num", json_object_new_int(2));
  json_object_object_add(p, "thin_provision", json_object_new_boolean(1));
  json_object_object_add(p, "stripe_num", json_object_new_int(4));
  json_object_object_add(p, "stripe_size", json_object_new_int(262144));
  json_object_object_add(p, "iqn_whitelist", json_object_new_string(iqn));
  json_object_array_add(body, p);
  snprintf(what, sizeof what, "create iSCSI target '%s' for ferry's "
           "snapshot reads", name);
  int r = elf_mutate(fc, "/create-iscsi-target", body, 0, what, &ans);
  if (r == 0)
    r = elf_answer_id(ans, what, id, len);
  json_object_put(ans);
  return r;
}

/* One thread of this process makes the target (the disks of a round are
 * read in parallel); another ferry that made it first is found after. */
static int ferry_target(struct ferry_client *fc, json_object *like,
                        char *id, size_t len)
{
  static pthread_mutex_t one_maker = PTHREAD_MUTEX_INITIALIZER;
  char host[128], name[160];
  elf_host_name(host, sizeof host);
  snprintf(name, sizeof name, "ferry-%s", host);
  pthread_mutex_lock(&one_maker);
  int r = find_target(fc, like, name, id, len);
  if (r == -ENOENT) {
    ferry_error_clear();
    r = make_target(fc, like, name, id, len);
  }
  if (r == -EINVAL) { /* made meanwhile by another ferry: "exists" */
    struct saved_error e;
    error_save(&e);
    if (find_target(fc, like, name, id, len) == 0)
      r = 0;
    else
      error_restore(&e);
  }
  pthread_mutex_unlock(&one_maker);
  return r;
}

static int delete_lun(struct ferry_client *fc, const char *id,
                      const char *name)
{
  json_object *body = json_object_new_object(), *data = json_object_new_object();
  json_object_object_add(body, "where", elf_where_id(id));
  json_object_object_add(data, "remove_snapshot", json_object_new_boolean(1));
  json_object_object_add(body, "data", data);
  char what[300];
  snprintf(what, sizeof what, "delete ferry's LUN clone '%s'", name);
  return elf_mutate(fc, "/delete-iscsi-lun", body, 0, what, NULL);
}

/* The process a clone's name says made it is gone. */
static bool orphaned(const char *name, const char *host)
{
  size_t pl = strlen(CLONE_PREFIX), hl = strlen(host);
  long pid;
  unsigned long long start;
  if (strncmp(name, CLONE_PREFIX, pl) || strncmp(name + pl, host, hl) ||
      name[pl + hl] != '-' ||
      sscanf(name + pl + hl + 1, "%ld-%llu-", &pid, &start) != 2)
    return false; /* another host's, or not ferry's */
  return process_start_time(pid) != start;
}

/* Deletes the clones in target that dead ferry processes of this host
 * left. */
static void sweep(struct ferry_client *fc, const char *target)
{
  char host[128];
  elf_host_name(host, sizeof host);
  json_object *list;
  if (elf_list(fc, "/get-iscsi-luns",
               elf_where_kv("iscsi_target", elf_where_id(target)), NULL,
               &list) < 0) {
    ferry_log("elf", "the clones a killed ferry left were not looked for: "
              "%s", ferry_last_error());
    ferry_error_clear();
    return;
  }
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *l = json_object_array_get_idx(list, i);
    const char *name = elf_str(l, "name");
    if (!orphaned(name, host))
      continue;
    ferry_log("elf", "deleting LUN clone %s: the ferry that made it is "
              "gone", name);
    if (delete_lun(fc, elf_str(l, "id"), name) < 0) {
      ferry_log("elf", "%s", ferry_last_error());
      ferry_error_clear();
    }
  }
  json_object_put(list);
}

struct clone_release {
  struct ferry_client *fc;
  char id[64], name[256];
};

/* The volume's close: its clone deleted (a failure said in the log; the
 * next ferry's sweep deletes it once this process is gone). */
static void release_clone(void *opaque)
{
  struct clone_release *c = opaque;
  struct saved_error e; /* the caller's error, if any, stays its */
  error_save(&e);
  if (delete_lun(c->fc, c->id, c->name) < 0)
    ferry_log("elf", "LUN clone %s stays until the next snapshot read: %s",
              c->name, ferry_last_error());
  error_restore(&e);
  free(c);
}

/* The LUN snapshot of disk in snapshot s (a VmSnapshot). */
static int lun_snapshot(struct ferry_client *fc, const struct ferry_vm *vm,
                        json_object *s, const char *disk, json_object **out)
{
  json_object *disks, *frozen = NULL, *vols = NULL;
  *out = NULL;
  int r = elf_vm_volumes(fc, vm, &vols);
  if (r == 0 && json_object_object_get_ex(s, "vm_disks", &disks))
    for (size_t i = 0; !frozen && i < json_object_array_length(disks); i++) {
      json_object *d = json_object_array_get_idx(disks, i);
      char dev[64];
      elf_frozen_device(vm, vols, d, dev, sizeof dev);
      if (!strcmp(elf_str(d, "type"), "DISK") && !strcmp(dev, disk))
        frozen = d;
    }
  if (r == 0 && !frozen)
    r = ferry_error(ENOENT, "snapshot '%s' of VM '%s' holds no disk %s",
                    elf_str(s, "name"), vm->name, disk);
  json_object *list = NULL;
  if (r == 0)
    r = elf_list(fc, "/get-iscsi-lun-snapshots",
                 elf_where_kv("name", json_object_new_string(
                                          elf_str(frozen,
                                                  "snapshot_local_id"))),
                 NULL, &list);
  if (r == 0 && json_object_array_length(list) != 1)
    r = ferry_error(ENOENT, "snapshot '%s' of VM '%s': disk %s's LUN "
                    "snapshot '%s' is %s", elf_str(s, "name"), vm->name,
                    disk, elf_str(frozen, "snapshot_local_id"),
                    json_object_array_length(list) ? "not unique"
                                                   : "not there");
  if (r == 0)
    *out = json_object_get(json_object_array_get_idx(list, 0));
  json_object_put(list);
  json_object_put(vols);
  return r;
}

int elf_snapshot_open(struct ferry_client *fc, const struct ferry_vm *vm,
                      const char *snapshot, const char *disk,
                      struct ferry_volume **out)
{
  static atomic_uint serial;
  *out = NULL;
  json_object *s = NULL, *ls = NULL, *target = NULL, *ans = NULL;
  char tid[64] = "";
  int r = elf_snapshot_named(fc, vm, snapshot, &s);
  if (r == 0)
    r = lun_snapshot(fc, vm, s, disk, &ls);
  if (r == 0)
    r = elf_get(fc, "/get-iscsi-targets", elf_nested_id(ls, "iscsi_target"),
                "iSCSI target", &target);
  if (r == 0 && (r = ferry_target(fc, target, tid, sizeof tid)) == 0)
    sweep(fc, tid);
  struct clone_release *c = r == 0 ? calloc(1, sizeof *c) : NULL;
  if (r == 0 && !c)
    r = ferry_error(ENOMEM, "out of memory");
  char what[600];
  if (r == 0) {
    char host[128];
    elf_host_name(host, sizeof host);
    c->fc = fc;
    snprintf(c->name, sizeof c->name, CLONE_PREFIX "%s-%ld-%llu-%u", host,
             (long)getpid(), process_start_time((long)getpid()),
             atomic_fetch_add(&serial, 1));
    snprintf(what, sizeof what, "clone disk %s of snapshot '%s' of VM '%s'",
             disk, snapshot, vm->name);
    json_object *p = json_object_new_object(), *body = json_object_new_array();
    json_object_object_add(p, "snapshot_id",
                           json_object_new_string(elf_str(ls, "id")));
    json_object_object_add(p, "iscsi_target_id", json_object_new_string(tid));
    json_object_object_add(p, "name", json_object_new_string(c->name));
    json_object_array_add(body, p);
    if ((r = elf_mutate(fc, "/clone-iscsi-lun-from-snapshot", body, 0, what,
                        &ans)) == 0)
      r = elf_answer_id(ans, what, c->id, sizeof c->id);
  }
  struct elf_lun l;
  if (r == 0 && (r = elf_lun_of(fc, c->id, what, &l)) == 0 &&
      (r = elf_lun_open(&l, FERRY_OPEN_READ, out)) == 0) {
    (*out)->release = release_clone;
    (*out)->release_opaque = c;
    c = NULL;
  }
  if (c && c->id[0])
    release_clone(c); /* made, but not read: taken back now */
  else
    free(c);
  json_object_put(ans);
  json_object_put(target);
  json_object_put(ls);
  json_object_put(s);
  return r;
}
