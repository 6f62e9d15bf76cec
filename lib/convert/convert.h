/* Internal: converting a guest on a disk image for KVM (virtio). */
#ifndef FERRY_CONVERT_H
#define FERRY_CONVERT_H

#include <stdbool.h>

/* Converts the guest on image (a local file of format) in place for
 * virtio. Linux: virtio drivers in its initramfs, root by UUID, NIC
 * config by type. Windows: virtio-win's viostor, vioscsi and netkvm from
 * the directory virtio_win, and its SYSTEM hive edited to start them at
 * boot. *report: what was changed, a line each (malloc'd). kvm: the
 * appliance may use KVM (else TCG). ENOTSUP with a sentence for a guest
 * it cannot convert. */
int guest_convert(const char *image, const char *format, bool kvm,
                  const char *virtio_win, char **report);

#endif
