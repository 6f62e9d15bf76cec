/* Internal: converting a guest on a disk image for KVM (virtio). */
#ifndef FERRY_CONVERT_H
#define FERRY_CONVERT_H

#include <stdbool.h>

/* Converts the guest on image (a local file of format) in place for
 * virtio. Linux: virtio drivers in its initramfs, root by UUID, NIC
 * config by type. Windows: virtio-win's viostor, vioscsi and netkvm from
 * the directory virtio_win, and its SYSTEM hive edited to start them at
 * boot. *report: what was changed, a line each (malloc'd). ENOTSUP with
 * a sentence for a guest it cannot convert. */
struct guest_convert_opts {
  bool kvm;                 /* the appliance may use KVM (else TCG) */
  const char *virtio_win;   /* virtio-win's files (Windows), or NULL */
  bool remove_vmware_tools; /* open-vm-tools uninstalled */
};
int guest_convert(const char *image, const char *format,
                  const struct guest_convert_opts *opts, char **report);

/* guest_convert of an image, all of it or nothing (image.c): written into
 * an overlay on it, which is committed into the image only once the
 * conversion has finished; done, written before the commit, holds the
 * report. A call that finds done finishes the commit a crash cut short;
 * an overlay without done is an interrupted conversion, done again. The
 * caller holds the image's lock and knows no VM runs from it. */
struct image_conversion {
  const char *image, *format; /* the volume's file and format */
  const char *overlay, *done; /* paths beside it, the caller's to name */
  const char *device;         /* for messages */
};
int image_convert(const struct image_conversion *c,
                  const struct guest_convert_opts *opts, char **report);

#endif
