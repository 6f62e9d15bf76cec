/* check_boot_disk for every platform: each disk's first sectors read
 * through the platform's own volumes, and told apart: MBR boot code with
 * an active partition, GPT with an EFI System Partition or a BIOS boot
 * partition, a filesystem or a partition table with nothing to boot, a
 * blank disk. The boot disk is the first bootable one in boot order, for
 * the VM's firmware when it is known. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "boot_disk.h"

#define SECTOR 512
#define GPT_ENTRIES_MAX (128 * 1024) /* bytes of partition entries read */

/* Type GUIDs as they are stored (the first three fields little-endian). */
static const unsigned char esp_guid[16] = {
  0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const unsigned char bios_boot_guid[16] = {
  0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
  0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49 };

static uint32_t le32(const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
  return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool zero(const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

/* A filesystem (or volume) that starts at sector 0, with no partition
 * table around it: its name, else NULL. s holds the first 4 KiB. */
static const char *bare_filesystem(const unsigned char *s)
{
  if (s[1080] == 0x53 && s[1081] == 0xef)
    return "an ext2/3/4 filesystem";
  if (!memcmp(s, "XFSB", 4))
    return "an XFS filesystem";
  if (!memcmp(s + 3, "NTFS    ", 8))
    return "an NTFS filesystem";
  if (!memcmp(s + 54, "FAT", 3) || !memcmp(s + 82, "FAT32", 5))
    return "a FAT filesystem";
  if (!memcmp(s + 512 + 24, "LVM2", 4))
    return "an LVM physical volume";
  if (!memcmp(s + 4096 - 10, "SWAPSPACE2", 10))
    return "swap";
  return NULL;
}

static void say(struct boot_probe *p, const char *fmt, const char *what)
{
  snprintf(p->what, sizeof p->what, fmt, what);
}

/* GPT: the header at LBA 1, then its entries. */
static int probe_gpt(struct ferry_volume *v, const unsigned char *hdr,
                     struct boot_probe *p)
{
  uint64_t lba = le64(hdr + 72);
  uint32_t count = le32(hdr + 80), size = le32(hdr + 84);
  if (size < 128 || size > 4096 || count == 0 ||
      (uint64_t)count * size > GPT_ENTRIES_MAX || lba < 2) {
    say(p, "%s", "a GPT header with impossible entries");
    return 0;
  }
  size_t len = (size_t)count * size;
  int64_t vsize = ferry_volume_size(v);
  if (vsize >= 0 && lba * SECTOR + len > (uint64_t)vsize) {
    say(p, "%s", "a GPT whose entries lie past the disk's end");
    return 0;
  }
  unsigned char *e = malloc(len);
  if (!e)
    return ferry_error(ENOMEM, "out of memory");
  int r = ferry_volume_pread(v, e, len, lba * SECTOR);
  for (uint32_t i = 0; r == 0 && i < count; i++) {
    const unsigned char *t = e + (size_t)i * size;
    p->gpt_esp = p->gpt_esp || !memcmp(t, esp_guid, 16);
    p->gpt_bios_boot = p->gpt_bios_boot || !memcmp(t, bios_boot_guid, 16);
  }
  free(e);
  if (r == 0)
    say(p, "%s", p->gpt_esp && p->gpt_bios_boot
                     ? "GPT with an EFI System Partition and a BIOS boot "
                       "partition"
                 : p->gpt_esp       ? "GPT with an EFI System Partition"
                 : p->gpt_bios_boot ? "GPT with a BIOS boot partition"
                                    : "GPT with no EFI System Partition and "
                                      "no BIOS boot partition");
  return r;
}

int boot_probe(struct ferry_volume *v, struct boot_probe *p)
{
  memset(p, 0, sizeof *p);
  unsigned char s[4096];
  int64_t vsize = ferry_volume_size(v);
  size_t n = vsize >= 0 && vsize < (int64_t)sizeof s ? (size_t)vsize
                                                     : sizeof s;
  if (n < 2 * SECTOR) {
    say(p, "%s", "smaller than two sectors");
    return 0;
  }
  memset(s, 0, sizeof s);
  int r = ferry_volume_pread(v, s, n, 0);
  if (r < 0)
    return r;
  const char *fs = bare_filesystem(s);
  if (fs) {
    say(p, "%s on the whole disk, with no partition table or boot loader",
        fs);
    return 0;
  }
  bool sig = s[510] == 0x55 && s[511] == 0xaa;
  if (!memcmp(s + SECTOR, "EFI PART", 8))
    return probe_gpt(v, s + SECTOR, p);
  if (!sig) {
    say(p, "%s", zero(s, n) ? "blank" : "no partition table (no 0x55AA "
                                         "signature)");
    return 0;
  }
  bool active = false, esp = false, any = false;
  for (int i = 0; i < 4; i++) {
    const unsigned char *e = s + 446 + 16 * i;
    any = any || e[4];
    active = active || e[0] == 0x80;
    esp = esp || e[4] == 0xef;
  }
  bool code = !zero(s, 440);
  p->mbr_boot = code && active;
  p->mbr_esp = esp;
  say(p, "%s", p->mbr_boot ? "MBR boot code with an active partition"
               : !any      ? "an MBR with no partitions"
               : !code     ? "an MBR partition table with no boot code"
                           : "MBR boot code but no active partition (set "
                             "one: sfdisk --activate)");
  return 0;
}

bool boot_probe_boots(const struct boot_probe *p, enum ferry_firmware fw,
                      bool firmware_known)
{
  bool bios = p->mbr_boot || p->gpt_bios_boot;
  bool uefi = p->gpt_esp || p->mbr_esp;
  if (!firmware_known)
    return bios || uefi;
  return fw == FERRY_FIRMWARE_UEFI ? uefi : bios;
}

/* Why a disk that holds a boot loader does not boot this firmware. */
static const char *mismatch(const struct boot_probe *p,
                            enum ferry_firmware fw)
{
  if (fw == FERRY_FIRMWARE_UEFI && (p->mbr_boot || p->gpt_bios_boot))
    return ": it boots BIOS, not UEFI (make the VM's firmware bios, or "
           "give the disk an EFI System Partition)";
  if (fw != FERRY_FIRMWARE_UEFI && (p->gpt_esp || p->mbr_esp))
    return ": it boots UEFI, not BIOS (make the VM's firmware uefi)";
  return "";
}

int boot_disk_choose(client_t *c, const struct ferry_disk *disks, size_t n,
                     enum ferry_firmware fw, bool firmware_known,
                     struct ferry_disk *boot)
{
  if (n == 0)
    return ferry_error(EINVAL, "no disks to boot from");
  /* boot order first (1, 2, ...), then the disks without one, in order */
  size_t *order = malloc(n * sizeof *order), k = 0;
  if (!order)
    return ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    if (disks[i].boot_order > 0) {
      size_t at = k++;
      for (; at > 0 && disks[order[at - 1]].boot_order > disks[i].boot_order;
           at--)
        order[at] = order[at - 1];
      order[at] = i;
    }
  for (size_t i = 0; i < n; i++)
    if (disks[i].boot_order <= 0)
      order[k++] = i;
  char why[2048] = "";
  size_t w = 0;
  int r = 0;
  bool found = false;
  for (size_t j = 0; j < k && r == 0 && !found; j++) {
    const struct ferry_disk *d = &disks[order[j]];
    struct ferry_volume *v;
    struct boot_probe p;
    if ((r = ferry_volume_open(c, d->volume_id, FERRY_OPEN_READ, &v)) < 0)
      break;
    r = boot_probe(v, &p);
    ferry_volume_close(v);
    if (r == 0 && boot_probe_boots(&p, fw, firmware_known))
      found = (r = ferry_disk_copy(boot, d)) == 0;
    else if (r == 0)
      w += snprintf(why + w, w < sizeof why ? sizeof why - w : 0,
                    "%sdisk %s: %s%s", w ? "; " : "", d->device, p.what,
                    firmware_known ? mismatch(&p, fw) : "");
  }
  free(order);
  if (r < 0 || found)
    return r < 0 ? ferry_error_prefix("boot check: ") : 0;
  return ferry_error(ENOEXEC, "no disk the VM could boot from (%s): %s",
                     !firmware_known ? "any firmware"
                     : fw == FERRY_FIRMWARE_UEFI ? "UEFI" : "BIOS", why);
}
