/* Where a domain's disks are on this host (their top images, which hold
 * the checkpoints' bitmaps), and whether their changes can be tracked
 * while the domain runs: libvirt keeps a checkpoint as a dirty bitmap in
 * each disk's qcow2 image, which a v2 qcow2 (compat 0.10) or a raw image
 * cannot hold. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "lv.h"

int lv_disk_image(struct ferry_client *fc, const struct ferry_disk *disk,
                  char *path, size_t len, char *format, size_t flen)
{
  const char *src = disk->volume_id ? disk->volume_id : "";
  if (*src != '/') /* a pool's volume: POOL/NAME */
    return lv_volume_file(fc, src, path, len, format, flen);
  if (!LV_STATE(fc)->local)
    return ferry_error(ENOTSUP, "the libvirt platform reads the disks of "
                       "this host's domains only; %s is another host",
                       LV_STATE(fc)->uri);
  const char *fmt = disk->format && *disk->format ? disk->format : "raw";
  if (strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
    return ferry_error(ENOTSUP, "disk %s is %s: the libvirt platform reads "
                       "qcow2 and raw disks", disk->device, fmt);
  if ((size_t)snprintf(path, len, "%s", src) >= len ||
      (size_t)snprintf(format, flen, "%s", fmt) >= flen)
    return ferry_error(ENAMETOOLONG, "disk %s: its path is too long",
                       disk->device);
  return 0;
}

/* The qcow2 version in path's header (2 or 3), 0 when not a qcow2. */
static int qcow2_version(const char *path, unsigned *version)
{
  unsigned char h[8];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ferry_error(errno, "%s: %s", path, strerror(errno));
  ssize_t n = pread(fd, h, sizeof h, 0);
  close(fd);
  if (n < 0)
    return ferry_error(errno, "%s: %s", path, strerror(errno));
  *version = n == 8 && !memcmp(h, "QFI\xfb", 4)
                 ? (unsigned)h[4] << 24 | (unsigned)h[5] << 16 |
                       (unsigned)h[6] << 8 | h[7]
                 : 0;
  return 0;
}

static int disk_trackable(struct ferry_client *fc, const struct ferry_vm *vm,
                          const struct ferry_disk *d)
{
  char path[4096], fmt[32];
  unsigned version = 0;
  int r = lv_disk_image(fc, d, path, sizeof path, fmt, sizeof fmt);
  if (r == 0 && !strcmp(fmt, "qcow2"))
    r = qcow2_version(path, &version);
  if (r < 0 || version >= 3)
    return r;
  const char *what = version == 2 ? "a qcow2 v2 image (compat 0.10)"
                                  : "a raw image";
  const char *fix = version == 2
                        ? "upgrade the image with the domain off "
                          "(qemu-img amend -f qcow2 -o compat=1.1 PATH)"
                        : "convert it to a qcow2 v3 image";
  return ferry_error(ENOTSUP, "VM '%s': disk %s (%s) is %s, which cannot "
                     "hold the dirty bitmaps of libvirt's checkpoints, so "
                     "its changes cannot be tracked while the domain runs: "
                     "shut the domain off for a cold migration (each round "
                     "then copies all its data), or %s", vm->name,
                     d->device, path, what, fix);
}

int lv_disks_trackable(struct ferry_client *fc, const struct ferry_vm *vm)
{
  int r = 0;
  for (size_t i = 0; r == 0 && i < vm->n_disks; i++)
    r = disk_trackable(fc, vm, &vm->disks[i]);
  return r;
}

/* The seed's open_cbt on libvirt, and the plan's check: a checkpoint
 * needs no switching on, but every disk of a running domain must be able
 * to hold its bitmap, its backup's NBD socket must be on this host, and
 * no one else's backup job may hold the domain. */
int lv_check_tracking(struct ferry_client *fc, const struct ferry_vm *vm)
{
  if (vm->n_disks == 0)
    return ferry_error(EINVAL, "VM '%s' has no disks to track", vm->name);
  if (!strncmp(LV_STATE(fc)->uri, "test:", 5))
    return ferry_error(ENOTSUP, "libvirt's test driver has no checkpoints "
                       "with backups, so the changes of its domains cannot "
                       "be tracked");
  if (!LV_STATE(fc)->local)
    return ferry_error(ENOTSUP, "the libvirt platform reads the disks of "
                       "this host's domains only (a pull backup's NBD "
                       "export is a unix socket on the domain's host); %s "
                       "is another host", LV_STATE(fc)->uri);
  if (vm->power_state == FERRY_POWER_STATE_STOPPED)
    return 0; /* read as they are: no bitmap needed */
  int r = lv_disks_trackable(fc, vm);
  virDomainPtr dom;
  if (r == 0 && (r = lv_lookup(fc, vm->uuid, &dom)) == 0) {
    r = lv_no_foreign_job(fc, dom, vm); /* one backup job at a time */
    virDomainFree(dom);
  }
  return r;
}
