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

#endif
