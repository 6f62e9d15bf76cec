/* External snapshots: every disk gets a new qcow2 overlay and the old
 * image, now read-only underneath, holds the snapshot. Kept safe with
 * branches: a revert puts a fresh overlay on the frozen image (which is
 * never written again), and a delete streams the frozen image into the
 * overlay above it (never commits into an image others may stand on). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../core/error.h"
#include "../../core/run.h"
#include "../../core/statefile.h"
#include "../../qmp/qmp.h"
#include "external.h"
#include "snapdisk.h"

/* Points the VM's disks at new volumes in its stored definition. */
static int def_set_volumes(const struct qemu_state *st, const char *uuid,
                           char (*ids)[256], size_t n)
{
  struct ferry_vm *v;
  size_t count;
  int r = qemu_defs_load(st, &v, &count);
  if (r < 0)
    return r;
  r = ferry_error(ENOENT, "VM %s has no definition", uuid);
  for (size_t i = 0; i < count; i++) {
    if (strcmp(v[i].uuid, uuid))
      continue;
    r = 0;
    for (size_t k = 0; k < n && k < v[i].n_disks && r == 0; k++) {
      char *id = strdup(ids[k]), *fmt = strdup("qcow2");
      if (!id || !fmt) {
        free(id);
        free(fmt);
        r = ferry_error(ENOMEM, "out of memory");
        break;
      }
      free(v[i].disks[k].volume_id);
      free(v[i].disks[k].format);
      v[i].disks[k].volume_id = id;
      v[i].disks[k].format = fmt;
    }
    if (r == 0) {
      ferry_error_clear();
      r = qemu_def_store(st, &v[i]);
    }
  }
  ferry_vm_list_free(v, count);
  return r;
}

static void remove_volumes(const struct qemu_state *st, char (*ids)[256],
                           size_t n)
{
  char path[PATH_MAX];
  for (size_t i = 0; i < n; i++)
    if (ids[i][0] && qemu_volume_path(st, ids[i], path) == 0)
      unlink(path);
}

static void add_action(json_object *actions, const char *type,
                       json_object *data)
{
  json_object *act = json_object_new_object();
  json_object_object_add(act, "type", json_object_new_string(type));
  json_object_object_add(act, "data", data);
  json_object_array_add(actions, act);
}

static int set_files(const struct qemu_state *st,
                     struct ferry_domain_snapshot *rec, char (*ids)[256])
{
  for (size_t i = 0; i < rec->n_disks; i++) {
    char path[PATH_MAX];
    int r = qemu_volume_path(st, ids[i], path);
    if (r < 0)
      return r;
    char *f = strdup(path);
    if (!f)
      return ferry_error(ENOMEM, "out of memory");
    free(rec->disks[i].file);
    rec->disks[i].file = f;
  }
  return 0;
}

int external_create(const struct qemu_state *st, struct qmp *q,
                    const struct ferry_vm *vm, const char *snap,
                    struct ferry_domain_snapshot *rec)
{
  size_t n = vm->n_disks;
  char (*ids)[256] = calloc(n, sizeof *ids), (*old)[256] = calloc(n, 256);
  char (*nodes)[64] = calloc(n, sizeof *nodes);
  /* kept[i]: an interrupted create made disk i's overlay and pointed the
   * definition at it; qemu may write to it already: it is never removed
   * here, and the definition keeps naming it. */
  bool *kept = calloc(n, sizeof *kept), switched_now = false;
  if (!ids || !old || !nodes || !kept) {
    free(ids);
    free(old);
    free(nodes);
    free(kept);
    return ferry_error(ENOMEM, "out of memory");
  }
  int r = 0;
  size_t made = 0, added = 0;
  char bitmap[300], prev_bitmap[300] = "";
  bitmap_name(snap, bitmap, sizeof bitmap);
  if (rec->parent && *rec->parent)
    bitmap_name(rec->parent, prev_bitmap, sizeof prev_bitmap);
  for (; r == 0 && made < n; made++) {
    const char *cur = vm->disks[made].volume_id;
    char mine[256];
    snprintf(mine, sizeof mine, "%s-%s-%s.", vm->name, vm->disks[made].device,
             snap);
    if (!strncmp(cur, mine, strlen(mine))) {
      /* An interrupted create switched this disk's definition already (and
       * made its bitmaps first): keep that overlay, whatever was under it
       * stays the frozen image. */
      snprintf(ids[made], 256, "%s", cur);
      kept[made] = true;
      if ((r = volume_backing(st, cur, old[made], 256, NULL)) < 0)
        break;
      continue;
    }
    snprintf(old[made], 256, "%s", cur);
    /* A file an interrupted create left, in nothing's use, goes first. */
    char left[300], path[PATH_MAX];
    bool unused;
    snprintf(left, sizeof left, "%sqcow2", mine);
    if (qemu_volume_path(st, left, path) == 0 && access(path, F_OK) == 0 &&
        volume_unused(st, left, &unused) == 0 && unused)
      unlink(path);
    if ((r = overlay_id(st, vm, &vm->disks[made], snap, ids[made], 256)) ||
        (r = overlay_create(st, ids[made], old[made])) < 0) {
      ids[made][0] = '\0'; /* not made: nothing to remove */
      break;
    }
    if (q) /* live: the bitmaps go in the QMP transaction below */
      continue;
    bool had = false;
    if ((r = volume_bitmap(st, ids[made], "--add", bitmap)) == 0 &&
        *prev_bitmap &&
        (r = volume_has_bitmap(st, old[made], prev_bitmap, &had)) == 0 &&
        had && volume_bitmap(st, old[made], "--disable", prev_bitmap) < 0) {
      /* A process killed while writing it left it inconsistent: such a
       * record of changes cannot be trusted, so it goes (and the changes
       * since that snapshot read as unknown, not as none). */
      r = volume_bitmap(st, old[made], "--remove", prev_bitmap);
    }
    if (r < 0) {
      made++; /* its overlay exists: remove it too */
      break;
    }
  }
  /* The definition first: if we die after the switch below, a restart
   * must open the overlays, which hold every write made since. */
  if (r == 0)
    r = def_set_volumes(st, vm->uuid, ids, n);
  if (r == 0 && q) { /* blockdev-add the overlays, then switch atomically */
    json_object *actions = json_object_new_array();
    size_t switched = 0;
    for (; r == 0 && added < n; added++) {
      char path[PATH_MAX], active[64], afile[PATH_MAX];
      qemu_volume_path(st, ids[added], path);
      /* After an interruption qemu may use the overlay already. */
      if ((r = active_node_file(q, vm->disks[added].device, active,
                                sizeof active, afile, sizeof afile)) < 0)
        break;
      char aimage[PATH_MAX]; /* qemu may name it json:{...} */
      image_of_name(afile, aimage, sizeof aimage);
      if (!strcmp(aimage, path)) {
        nodes[added][0] = '\0'; /* nothing added: nothing to take back */
        switched++;
        continue;
      }
      /* An interrupted attempt may have added a node on this overlay and
       * died before the switch: that node holds the file's write lock. */
      char stale[64];
      if (node_of_file(q, path, stale, sizeof stale) == 0 &&
          !strncmp(stale, "ov-", 3) && strcmp(stale, active)) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "node-name", json_object_new_string(stale));
        r = qmp_execute(q, "blockdev-del", d, NULL, QMP_TIMEOUT);
        json_object_put(d);
        if (r < 0)
          break;
      }
      ferry_error_clear();
      /* Unique: an interrupted attempt may have left its node behind. */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      snprintf(nodes[added], sizeof nodes[added], "ov-%s-%zu-%x",
               vm->disks[added].device, (size_t)rec->sequence,
               (unsigned)(ts.tv_nsec ^ (ts.tv_sec << 20) ^ getpid()));
      json_object *file = json_object_new_object();
      json_object_object_add(file, "driver", json_object_new_string("file"));
      json_object_object_add(file, "filename", json_object_new_string(path));
      json_object *a = json_object_new_object();
      json_object_object_add(a, "driver", json_object_new_string("qcow2"));
      json_object_object_add(a, "node-name",
                             json_object_new_string(nodes[added]));
      json_object_object_add(a, "file", file);
      json_object_object_add(a, "backing", NULL); /* set by the snapshot */
      r = qmp_execute(q, "blockdev-add", a, NULL, QMP_TIMEOUT);
      json_object_put(a);
      bool had = false;
      if (r == 0 && *prev_bitmap)
        r = node_has_bitmap(q, active, prev_bitmap, &had);
      if (r < 0)
        break;
      /* Switch to the overlay, start this snapshot's bitmap in it, and
       * close the previous one in the layer that freezes: one instant. */
      json_object *data = json_object_new_object();
      json_object_object_add(data, "node", json_object_new_string(active));
      json_object_object_add(data, "overlay",
                             json_object_new_string(nodes[added]));
      add_action(actions, "blockdev-snapshot", data);
      data = json_object_new_object();
      json_object_object_add(data, "node",
                             json_object_new_string(nodes[added]));
      json_object_object_add(data, "name", json_object_new_string(bitmap));
      json_object_object_add(data, "persistent", json_object_new_boolean(1));
      json_object_object_add(data, "granularity",
                             json_object_new_int(BITMAP_GRANULARITY));
      add_action(actions, "block-dirty-bitmap-add", data);
      if (had) {
        data = json_object_new_object();
        json_object_object_add(data, "node", json_object_new_string(active));
        json_object_object_add(data, "name",
                               json_object_new_string(prev_bitmap));
        add_action(actions, "block-dirty-bitmap-disable", data);
      }
    }
    if (r == 0 && switched < n) {
      json_object *args = json_object_new_object();
      json_object_object_add(args, "actions", actions);
      r = qmp_execute(q, "transaction", args, NULL, QMP_TIMEOUT);
      switched_now = r == 0;
      json_object_put(args);
    } else {
      json_object_put(actions);
    }
  }
  if (r == 0)
    r = set_files(st, rec, ids);
  if (r < 0 && !switched_now) { /* put back what this call changed */
    char msg[1024];
    int e = ferry_last_errno();
    snprintf(msg, sizeof msg, "%s", ferry_last_error() ? ferry_last_error()
                                                      : "");
    for (size_t i = 0; q && i < added; i++) {
      if (!nodes[i][0])
        continue;
      json_object *a = json_object_new_object();
      json_object_object_add(a, "node-name", json_object_new_string(nodes[i]));
      qmp_execute(q, "blockdev-del", a, NULL, QMP_TIMEOUT);
      json_object_put(a);
    }
    /* Never away from an overlay qemu may write to (a restart would lose
     * those writes), and never to a volume id this call did not look at:
     * only the overlays made by this call go. */
    for (size_t i = 0; i < n; i++) {
      char path[PATH_MAX];
      if (kept[i])
        continue;
      if (i < made && ids[i][0] && qemu_volume_path(st, ids[i], path) == 0)
        unlink(path);
      snprintf(ids[i], 256, "%s", vm->disks[i].volume_id);
    }
    def_set_volumes(st, vm->uuid, ids, n);
    r = ferry_error(e ? e : EIO, "%s", msg);
  }
  free(ids);
  free(old);
  free(nodes);
  free(kept);
  return r;
}

/* The volume id under an overlay file path of a record. */
static int frozen_of(const struct qemu_state *st, const char *overlay_path,
                     char *buf, size_t len)
{
  const char *slash = overlay_path ? strrchr(overlay_path, '/') : NULL;
  if (!slash)
    return ferry_error(EBADMSG, "snapshot record names no overlay file");
  int r = volume_backing(st, slash + 1, buf, len, NULL);
  if (r == 0 && !*buf)
    r = ferry_error(EBADMSG, "overlay %s has no backing file", slash + 1);
  return r;
}

int external_revert(const struct qemu_state *st, const struct ferry_vm *vm,
                    struct ferry_domain_snapshot *rec, bool *changed)
{
  size_t n = vm->n_disks;
  *changed = false;
  if (rec->n_disks != n)
    return ferry_error(EINVAL, "snapshot '%s' has %zu disks, the VM %zu",
                       rec->name, rec->n_disks, n);
  char (*ids)[256] = calloc(n, sizeof *ids), frozen[256];
  if (!ids)
    return ferry_error(ENOMEM, "out of memory");
  int r = 0;
  size_t made = 0;
  char bitmap[300];
  bitmap_name(rec->name, bitmap, sizeof bitmap);
  for (; r == 0 && made < n; made++) {
    if ((r = frozen_of(st, rec->disks[made].file, frozen, sizeof frozen)) ||
        (r = overlay_id(st, vm, &vm->disks[made], rec->name, ids[made], 256)) ||
        (r = overlay_create(st, ids[made], frozen)) < 0) {
      ids[made][0] = '\0';
      break;
    }
    /* Changes since the snapshot start again from here. */
    if ((r = volume_bitmap(st, ids[made], "--add", bitmap)) < 0) {
      made++;
      break;
    }
  }
  if (r == 0)
    r = def_set_volumes(st, vm->uuid, ids, n);
  if (r < 0) {
    remove_volumes(st, ids, made);
  } else { /* the record now names this branch's overlays */
    r = set_files(st, rec, ids);
    *changed = r == 0;
  }
  free(ids);
  return r;
}

/* A deleted snapshot's bitmap records for nobody: it goes, from the running
 * node through QMP or from the stopped image with qemu-img. */
static int drop_bitmap(const struct qemu_state *st, struct qmp *q,
                       const struct ferry_vm *vm, size_t disk,
                       const char *layer, const char *snap, bool active)
{
  char bitmap[300], node[64];
  bitmap_name(snap, bitmap, sizeof bitmap);
  bool has = false;
  int r;
  if (q && active) {
    if ((r = active_node(q, vm->disks[disk].device, node, sizeof node)) < 0 ||
        (r = node_has_bitmap(q, node, bitmap, &has)) < 0 || !has)
      return r;
    json_object *a = json_object_new_object();
    json_object_object_add(a, "node", json_object_new_string(node));
    json_object_object_add(a, "name", json_object_new_string(bitmap));
    r = qmp_execute(q, "block-dirty-bitmap-remove", a, NULL, QMP_TIMEOUT);
    json_object_put(a);
    return r;
  }
  if ((r = volume_has_bitmap(st, layer, bitmap, &has)) < 0 || !has)
    return r;
  return volume_bitmap(st, layer, "--remove", bitmap);
}

/* Disk i's frozen image holds internal snapshots: streaming it into the
 * overlay would leave them in an image outside the VM's chain (and their
 * revert pointing nowhere). Instead the overlay goes down into the frozen
 * image (qemu-img commit), which the disk then uses again, its changes'
 * bitmap merged into the one the frozen image keeps. Only for a stopped
 * VM whose disk writes to the overlay and with nothing else on the frozen
 * image; can be run again after a crash (the overlay stays whole until
 * the definition no longer names it). */
static int commit_down(const struct qemu_state *st, const struct ferry_vm *vm,
                       size_t disk, const char *snap, const char *overlay,
                       const char *frozen)
{
  char opath[PATH_MAX], fpath[PATH_MAX], mine[300];
  qemu_volume_path(st, overlay, opath);
  qemu_volume_path(st, frozen, fpath);
  bitmap_name(snap, mine, sizeof mine);
  bool have_mine = false;
  json_object *j, *fs, *data, *bitmaps = NULL;
  int r = volume_has_bitmap(st, overlay, mine, &have_mine);
  if (r == 0 && (r = qemu_img_info(st, frozen, &j)) == 0) {
    if (json_object_object_get_ex(j, "format-specific", &fs) &&
        json_object_object_get_ex(fs, "data", &data))
      json_object_object_get_ex(data, "bitmaps", &bitmaps);
    for (size_t k = 0; r == 0 && bitmaps &&
                       k < json_object_array_length(bitmaps); k++) {
      json_object *nm;
      if (!json_object_object_get_ex(json_object_array_get_idx(bitmaps, k),
                                     "name", &nm) ||
          strncmp(json_object_get_string(nm), "ferry-", 6))
        continue;
      /* the changes since the older snapshot: its own and this one's; if
       * this one's record of changes is gone, so is the older one's */
      char *b = (char *)json_object_get_string(nm);
      if (have_mine) {
        char *merge[] = { "qemu-img", "bitmap", "-f", "qcow2", "--merge",
                          mine, "-b", opath, "-F", "qcow2", fpath, b, NULL };
        if ((r = run_command(merge, NULL)) == 0)
          r = volume_bitmap(st, frozen, "--enable", b);
      } else {
        r = volume_bitmap(st, frozen, "--remove", b);
      }
    }
    json_object_put(j);
  }
  char *commit[] = { "qemu-img", "commit", "-q", "-f", "qcow2", "-d", opath,
                     NULL };
  if (r == 0)
    r = run_command(commit, NULL);
  /* the definition as it is now: an earlier disk may have moved too */
  struct ferry_vm now;
  ferry_vm_init(&now);
  char (*ids)[256] = NULL;
  if (r == 0 && (r = qemu_def_get(st, vm->uuid, &now)) == 0 &&
      !(ids = calloc(now.n_disks + 1, sizeof *ids)))
    r = ferry_error(ENOMEM, "out of memory");
  for (size_t k = 0; r == 0 && k < now.n_disks; k++)
    snprintf(ids[k], 256, "%s", k == disk ? frozen : now.disks[k].volume_id);
  if (r == 0)
    r = def_set_volumes(st, vm->uuid, ids, now.n_disks);
  free(ids);
  ferry_vm_dispose(&now);
  return r < 0 ? ferry_error_prefix("disk %s: committing %s into %s: ",
                                    vm->disks[disk].device, overlay, frozen)
               : 0;
}

int external_delete_plan(const struct qemu_state *st, struct qmp *q,
                         const struct ferry_vm *vm,
                         const struct ferry_domain_snapshot *rec,
                         struct delete_disk *plan)
{
  int r = 0;
  for (size_t i = 0; i < rec->n_disks && r == 0; i++) {
    struct delete_disk *p = &plan[i];
    const char *f = rec->disks[i].file, *slash = f ? strrchr(f, '/') : NULL;
    bool holds = false, in_chain = false, backs = false;
    unsigned backers = 0;
    *p = (struct delete_disk){ .how = DELETE_NOTHING };
    if (!slash)
      return ferry_error(EBADMSG, "snapshot '%s' names no overlay", rec->name);
    snprintf(p->overlay, sizeof p->overlay, "%s", slash + 1);
    if (access(f, F_OK) < 0) /* an earlier delete got this far */
      continue;
    if ((r = volume_backing(st, p->overlay, p->frozen, sizeof p->frozen,
                            NULL)) < 0)
      break;
    if (!*p->frozen) /* streamed already */
      continue;
    if ((r = volume_backing(st, p->frozen, p->below, sizeof p->below,
                            &holds)) < 0 ||
        (r = volume_in_chain(st, vm, p->overlay, &in_chain)) < 0 ||
        (r = volume_is_backing(st, p->overlay, &backs)) < 0)
      break;
    for (size_t k = 0; k < vm->n_disks; k++)
      p->active = p->active || !strcmp(vm->disks[k].volume_id, p->overlay);
    if (!in_chain && !backs) { /* nothing stands on it: only dropped */
      p->how = DELETE_DROP;
      continue;
    }
    /* Who else stands on the frozen image matters for a commit into it. */
    if ((holds || (q && !p->active)) &&
        (r = volume_backers(st, p->frozen, &backers)) < 0)
      break;
    if (holds) { /* streaming would leave them off the chain */
      if (!q && p->active && backers <= 1)
        p->how = DELETE_COMMIT_DOWN;
      else
        r = ferry_error(EBUSY, "snapshot '%s': disk %s's image %s holds "
                        "internal snapshots, which deleting it %s would "
                        "leave outside the VM's chain: %s", rec->name,
                        vm->disks[i].device, p->frozen,
                        q ? "while the VM runs" : "now",
                        q ? "stop the VM to delete it"
                          : "delete the snapshots taken after it first");
    } else if (q && !p->active && backers > 1) {
      /* a live commit into an image others stand on would break them */
      r = ferry_error(EBUSY, "snapshot '%s': other layers stand on disk "
                      "%s's image %s; stop the VM to delete it", rec->name,
                      vm->disks[i].device, p->frozen);
    } else {
      p->how = !q ? DELETE_REBASE : p->active ? DELETE_STREAM : DELETE_COMMIT;
    }
  }
  return r;
}

/* Streams the frozen image into the running top layer. */
static int stream_into_top(const struct qemu_state *st, struct qmp *q,
                           const struct ferry_disk *disk,
                           const struct delete_disk *p)
{
  char node[64], job[300];
  int r = active_node(q, disk->device, node, sizeof node);
  if (r < 0)
    return r;
  snprintf(job, sizeof job, "ferry-stream-%s", disk->device);
  json_object *a = json_object_new_object();
  json_object_object_add(a, "job-id", json_object_new_string(job));
  json_object_object_add(a, "device", json_object_new_string(node));
  if (*p->below) {
    char bpath[PATH_MAX];
    qemu_volume_path(st, p->below, bpath);
    json_object_object_add(a, "base", json_object_new_string(bpath));
    /* The plain name, relative as qemu-img writes it: left to itself
     * qemu may write a json: pseudo-filename into the header. */
    json_object_object_add(a, "backing-file",
                           json_object_new_string(p->below));
  }
  r = qmp_execute(q, "block-stream", a, NULL, QMP_TIMEOUT);
  json_object_put(a);
  return r < 0 ? r : qmp_job_wait(q, job, 30 * 60 * 1000);
}

/* An overlay between others, while the VM runs: commit it into the image
 * under it, which costs what the overlay holds. The plan made sure that
 * nothing else stands on that image: every other snapshot keeps its data. */
static int commit_between(const struct qemu_state *st, struct qmp *q,
                          const struct ferry_disk *disk,
                          const struct delete_disk *p)
{
  char opath[PATH_MAX], fpath[PATH_MAX], top[64], base[64], active[64],
      job[300];
  qemu_volume_path(st, p->overlay, opath);
  qemu_volume_path(st, p->frozen, fpath);
  int r;
  if ((r = node_of_file(q, opath, top, sizeof top)) < 0 ||
      (r = node_of_file(q, fpath, base, sizeof base)) < 0 ||
      (r = active_node(q, disk->device, active, sizeof active)) < 0)
    return r;
  snprintf(job, sizeof job, "ferry-commit-%s-%x", disk->device,
           (unsigned)getpid());
  json_object *a = json_object_new_object();
  json_object_object_add(a, "job-id", json_object_new_string(job));
  json_object_object_add(a, "device", json_object_new_string(active));
  json_object_object_add(a, "top-node", json_object_new_string(top));
  json_object_object_add(a, "base-node", json_object_new_string(base));
  json_object_object_add(a, "backing-file", json_object_new_string(p->frozen));
  r = qmp_execute(q, "block-commit", a, NULL, QMP_TIMEOUT);
  json_object_put(a);
  return r < 0 ? r : qmp_job_wait(q, job, 30 * 60 * 1000);
}

/* Stopped: qemu-img rebase copies what the frozen image had; with no
 * image below, the overlay becomes standalone. Write-through: in its
 * default write-back mode qemu-img writes the new backing into the header
 * before the L2 tables that map the copied clusters, so a kill between the
 * two (ferry killed: its helpers die with it) leaves an overlay whose
 * copied data reads from the new backing instead, lost. Write-through maps
 * every cluster before the write returns: the header goes last. */
static int rebase_off(const struct qemu_state *st,
                      const struct delete_disk *p)
{
  char opath[PATH_MAX];
  qemu_volume_path(st, p->overlay, opath);
  char *argv[14];
  int a = 0;
  argv[a++] = "qemu-img";
  argv[a++] = "rebase";
  argv[a++] = "-q";
  argv[a++] = "-t";
  argv[a++] = "writethrough";
  argv[a++] = "-f";
  argv[a++] = "qcow2";
  if (*p->below) {
    argv[a++] = "-F";
    argv[a++] = (char *)qemu_volume_format(p->below);
  }
  argv[a++] = "-b";
  argv[a++] = (char *)p->below; /* relative to the overlay's directory */
  argv[a++] = opath;
  argv[a] = NULL;
  return run_command(argv, NULL);
}

int external_delete(const struct qemu_state *st, struct qmp *q,
                    const struct ferry_vm *vm,
                    const struct ferry_domain_snapshot *rec,
                    const struct delete_disk *plan, char (*unhooked)[256])
{
  int r = 0;
  for (size_t i = 0; i < rec->n_disks; i++)
    unhooked[i][0] = '\0';
  for (size_t i = 0; i < rec->n_disks && r == 0; i++) {
    const struct delete_disk *p = &plan[i];
    if (p->how == DELETE_NOTHING)
      continue;
    /* what goes off the chain: the frozen image, or (commits) the
     * overlay, or nothing (the image under it stays in the chain) */
    snprintf(unhooked[i], 256, "%s", p->how == DELETE_COMMIT_DOWN
                                         ? p->overlay
                                         : p->how == DELETE_COMMIT ? ""
                                                                   : p->frozen);
    if (p->how == DELETE_DROP)
      continue;
    if (p->how == DELETE_COMMIT_DOWN) {
      r = commit_down(st, vm, i, rec->name, p->overlay, p->frozen);
      continue;
    }
    if (p->how != DELETE_COMMIT &&
        (r = drop_bitmap(st, q, vm, i, p->overlay, rec->name, p->active)) < 0)
      break;
    r = p->how == DELETE_STREAM   ? stream_into_top(st, q, &vm->disks[i], p)
        : p->how == DELETE_COMMIT ? commit_between(st, q, &vm->disks[i], p)
                                  : rebase_off(st, p);
  }
  return r;
}

void external_drop_unused(const struct qemu_state *st,
                          const struct ferry_domain_snapshot *rec,
                          char (*also)[256])
{
  for (size_t i = 0; i < 2 * rec->n_disks; i++) {
    const char *f = i < rec->n_disks ? rec->disks[i].file : NULL;
    const char *slash = f ? strrchr(f, '/') : NULL;
    char id[256], below[256], path[PATH_MAX];
    if (i < rec->n_disks)
      snprintf(id, sizeof id, "%s", slash ? slash + 1 : "");
    else
      snprintf(id, sizeof id, "%s", also ? also[i - rec->n_disks] : "");
    /* Down the chain while each layer is needed by nothing. */
    for (int depth = 0; *id && depth < 256; depth++) {
      bool unused;
      if (qemu_volume_path(st, id, path) < 0 || access(path, F_OK) < 0 ||
          volume_unused(st, id, &unused) < 0 || !unused ||
          volume_backing(st, id, below, sizeof below, NULL) < 0)
        break;
      unlink(path);
      snprintf(id, sizeof id, "%s", below);
    }
  }
  ferry_error_clear(); /* best effort: a leftover layer loses no data */
}
