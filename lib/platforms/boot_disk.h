/* Internal: telling a boot disk from its first sectors (boot_disk.c),
 * the same for every platform. */
#ifndef FERRY_BOOT_DISK_H
#define FERRY_BOOT_DISK_H

#include <stdbool.h>

#include <ferry/ferry.h>
#include <ferry/objects.h>

struct boot_probe {
  bool mbr_boot;      /* MBR boot code, 0x55AA and an active partition */
  bool mbr_esp;       /* an MBR partition of type 0xEF (EFI System) */
  bool gpt_esp;       /* GPT with an EFI System Partition */
  bool gpt_bios_boot; /* GPT with a BIOS boot partition (GRUB's) */
  char what[256];     /* what the disk holds, for messages */
};

/* What v's first sectors (and GPT entries) hold. */
int boot_probe(struct ferry_volume *v, struct boot_probe *p);
/* Whether such a disk boots firmware fw (either, when it is not known). */
bool boot_probe_boots(const struct boot_probe *p, enum ferry_firmware fw,
                      bool firmware_known);
/* The first disk in boot order (then the rest, in order) that boots, read
 * through c's volumes; ENOEXEC saying what each disk holds and what to
 * change when none does. */
int boot_disk_choose(client_t *c, const struct ferry_disk *disks, size_t n,
                     enum ferry_firmware fw, bool firmware_known,
                     struct ferry_disk *boot);

#endif
