/* Internal: converting a guest on a disk image for KVM (virtio). */
#ifndef FERRY_CONVERT_H
#define FERRY_CONVERT_H

#include <stdbool.h>

/* Converts the Linux guest on image (a local file of format) in place:
 * virtio drivers in its initramfs, root by UUID, NIC config by type.
 * *report: what was changed, a line each (malloc'd). kvm: the appliance
 * may use KVM (else TCG). ENOTSUP with a sentence for a guest it cannot
 * convert. */
int guest_convert(const char *image, const char *format, bool kvm,
                  char **report);

#endif
