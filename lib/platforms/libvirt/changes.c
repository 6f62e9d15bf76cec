/* A libvirt round's data and changed areas (see backup.c): while the
 * domain runs, its pull backup's NBD exports (the data as it was at the
 * round's checkpoint; an incremental backup's bitmap, the areas changed
 * since the checkpoint before); shut off, its images through qemu-nbd
 * (the data as it is; the bitmap of the checkpoint `from` in the top
 * image, which libvirt keeps recording until the checkpoint goes). */
#include <errno.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../volume/volume.h"
#include "../changed_areas.h"
#include "../driver.h"
#include "lv.h"

static const struct ferry_disk *disk_of(const struct ferry_vm *vm,
                                        const char *disk)
{
  size_t i;
  return vm_disk_index(vm, disk, &i) == 0 ? &vm->disks[i] : NULL;
}

static const struct lv_job_disk *job_disk(const struct lv_job *job,
                                          const struct ferry_vm *vm,
                                          const char *dev)
{
  for (size_t i = 0; i < job->n_disks; i++)
    if (!strcmp(job->disks[i].name, dev))
      return &job->disks[i];
  ferry_error(ENOENT, "the backup job of VM '%s' does not export disk %s",
              vm->name, dev);
  return NULL;
}

/* Where round name's data of disk d is: the job's export (live), else
 * the disk's image (shut off). */
struct where {
  bool live;
  struct lv_job job;
  const struct lv_job_disk *jd;
  char path[4096], format[32];
};

static int locate(struct ferry_client *fc, const struct ferry_vm *vm,
                  const char *name, const struct ferry_disk *d,
                  struct where *w)
{
  virDomainPtr dom;
  int r = lv_lookup(fc, vm->uuid, &dom);
  if (r < 0)
    return r;
  w->live = virDomainIsActive(dom) == 1;
  if (w->live && (r = lv_round_job(fc, dom, vm, name, &w->job)) == 0 &&
      !(w->jd = job_disk(&w->job, vm, d->device)))
    r = -ferry_last_errno();
  virDomainFree(dom);
  if (r == 0 && !w->live)
    r = lv_disk_image(fc, d, w->path, sizeof w->path, w->format,
                      sizeof w->format);
  return r;
}

/* The data at the point, read-only. */
static int open_data(const struct where *w, struct ferry_volume **out)
{
  return w->live ? nbd_volume_open_export(w->job.socket, w->jd->export, NULL,
                                          out)
                 : nbd_volume_open_image(w->path, w->format, FERRY_OPEN_READ,
                                         out);
}

int lv_round_open(struct ferry_client *fc, const struct ferry_vm *vm,
                  const char *name, const char *disk,
                  struct ferry_volume **out)
{
  const struct ferry_disk *d = disk_of(vm, disk);
  struct where w;
  int r = d ? locate(fc, vm, name, d, &w) : -ferry_last_errno();
  return r < 0 ? r : open_data(&w, out);
}

int lv_round_changes(struct ferry_client *fc, const struct ferry_vm *vm,
                     const char *disk, const char *from, const char *to,
                     struct ferry_changed_areas *out)
{
  if (!to || !*to)
    return ferry_error(EINVAL, "no round to compare to");
  bool all = !from || !*from || !strcmp(from, "*");
  const struct ferry_disk *d = disk_of(vm, disk);
  struct where w;
  int r = d ? locate(fc, vm, to, d, &w) : -ferry_last_errno();
  if (r < 0)
    return r;
  struct ferry_volume *v = NULL;
  unsigned skip = FERRY_EXTENT_HOLE;
  if (all) { /* everything allocated at the point */
    skip |= FERRY_EXTENT_ZERO;
    r = open_data(&w, &v);
  } else if (w.live) {
    if (strcmp(w.job.incremental, from))
      r = ferry_error(ENOENT, "the backup of round '%s' of VM '%s' is %s%s: "
                      "the changes since '%s' are not known", to, vm->name,
                      *w.job.incremental ? "incremental since "
                                         : "a full backup",
                      w.job.incremental, from);
    else if (!*w.jd->bitmap)
      r = ferry_error(ENOENT, "the backup of round '%s' of VM '%s' exports "
                      "no bitmap for disk %s", to, vm->name, d->device);
    else {
      char ctx[128];
      snprintf(ctx, sizeof ctx, "qemu:dirty-bitmap:%s", w.jd->bitmap);
      r = nbd_volume_open_export(w.job.socket, w.jd->export, ctx, &v);
    }
  } else {
    virDomainPtr dom;
    virDomainCheckpointPtr cp = NULL;
    if ((r = lv_lookup(fc, vm->uuid, &dom)) == 0) {
      if (!(cp = virDomainCheckpointLookupByName(dom, from, 0)))
        r = ferry_error(ENOENT, "VM '%s' has no checkpoint '%s': the "
                        "changes since it are not known", vm->name, from);
      virDomainFree(dom);
    }
    if (cp)
      virDomainCheckpointFree(cp);
    if (r == 0)
      r = nbd_volume_open_bitmap(w.path, w.format, from, &v);
  }
  struct extent_list l = { 0 };
  if (r == 0)
    r = changed_extents_add(v, skip, &l);
  if (v)
    v->ops->close(v);
  if (r == 0)
    r = changed_areas_fill(out, d->device, all ? "*" : from, to, &l);
  extent_list_free(&l);
  return r;
}
