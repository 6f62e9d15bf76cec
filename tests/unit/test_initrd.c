/* Which module files the virtio modules need, from a kernel's modules.dep
 * (a slice of Debian 12's): each module with every dependency, each file
 * once, dependencies before what needs them; built-in modules need no
 * file; '-' and '_' are one; a module the kernel lacks is named. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ferry/ferry.h>

#include "../../lib/convert/initrd.h"
#include "check.h"

static const char dep[] =
    "kernel/drivers/virtio/virtio_ring.ko:\n"
    "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/virtio/virtio_pci.ko: "
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko "
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko "
    "kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko "
    "kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko "
    "kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko "
    "kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/scsi/vmw_pvscsi.ko: kernel/drivers/scsi/scsi_mod.ko\n"
    "kernel/drivers/hid/hid-generic.ko: kernel/drivers/hid/hid.ko\n";

static size_t index_of(char **p, size_t n, const char *want)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(p[i], want))
      return i;
  fprintf(stderr, "no %s in the list\n", want);
  exit(1);
}

int main(void)
{
  char **p;
  size_t n;
  const char *const want[] = { "virtio_pci", "virtio_blk", "virtio_net",
                               NULL };
  CHECK(initrd_modules(dep, "", want, &p, &n) == 0);
  CHECK(n == 9); /* 3 modules, 6 files they need, none twice */
  size_t ring = index_of(p, n, "kernel/drivers/virtio/virtio_ring.ko");
  size_t core = index_of(p, n, "kernel/drivers/virtio/virtio.ko");
  size_t pci = index_of(p, n, "kernel/drivers/virtio/virtio_pci.ko");
  size_t blk = index_of(p, n, "kernel/drivers/block/virtio_blk.ko");
  size_t net = index_of(p, n, "kernel/drivers/net/virtio_net.ko");
  size_t fo = index_of(p, n, "kernel/net/core/failover.ko");
  index_of(p, n, "kernel/drivers/virtio/virtio_pci_legacy_dev.ko");
  index_of(p, n, "kernel/drivers/virtio/virtio_pci_modern_dev.ko");
  index_of(p, n, "kernel/drivers/net/net_failover.ko");
  CHECK(ring < core && core < pci && core < blk && fo < net);
  initrd_modules_free(p, n);

  /* built in: no file; a '-' in a file name is a '_' to modprobe */
  const char *const w2[] = { "virtio_pci", "hid_generic", NULL };
  CHECK(initrd_modules(dep, "kernel/drivers/virtio/virtio_pci.ko\n", w2, &p,
                       &n) == 0);
  CHECK(n == 2);
  index_of(p, n, "kernel/drivers/hid/hid-generic.ko");
  index_of(p, n, "kernel/drivers/hid/hid.ko");
  initrd_modules_free(p, n);

  const char *const w3[] = { "virtio_blk", "virtio_scsi", NULL };
  CHECK(initrd_modules(dep, "", w3, &p, &n) == -ENOENT);
  CHECK(p == NULL && n == 0);
  CHECK_HAS(ferry_last_error(), "no module virtio_scsi");
  printf("initrd: ok\n");
  return 0;
}
