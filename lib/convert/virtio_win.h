/* Internal: finding a driver in virtio-win's files (virtio_win.c). */
#ifndef FERRY_VIRTIO_WIN_H
#define FERRY_VIRTIO_WIN_H

#include <stddef.h>

/* The directory under root that holds driver (viostor, vioscsi, netkvm)
 * for this Windows, in virtio-win's layout DRIVER/OS/ARCH/ (for example
 * viostor/w10/amd64/viostor.sys): OS chosen from the guest's product
 * name and NT version (w11, w10, 2k22, 2k19, 2k16, w8.1, 2k12R2, w8,
 * 2k12, w7, 2k8R2), ARCH from its architecture ("x86_64": amd64, "i386":
 * x86). -ENOENT saying where it looked when there is none. */
int virtio_win_find(const char *root, const char *driver,
                    const char *product, int major, int minor,
                    const char *arch, char *out, size_t len);

#endif
