/* The boot-disk check on crafted images: MBR with boot code and an active
 * partition, the same without either, GPT with an EFI System Partition,
 * with a BIOS boot partition, with neither, a blank disk, a bare ext4
 * filesystem, two disks where the second boots, and the firmware check. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ferry/ferry.h>
#include <ferry/objects.h>

#include "../../lib/platforms/boot_disk.h"
#include "check.h"

#define MIB (1 << 20)

static char dir[] = "/tmp/ferry-boot-XXXXXX";

/* A 1 MiB image named name, with bytes at offsets. */
static void image(const char *name, const void *const *bytes,
                  const size_t *offs, const size_t *lens, size_t n)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0 && ftruncate(fd, MIB) == 0);
  for (size_t i = 0; i < n; i++)
    CHECK(pwrite(fd, bytes[i], lens[i], offs[i]) == (ssize_t)lens[i]);
  close(fd);
}

static const unsigned char code[] = { 0xeb, 0x63, 0x90 }; /* a jump */
static const unsigned char sig[] = { 0x55, 0xaa };

/* An MBR: boot code or not, one partition of type, active or not. */
static void mbr(const char *name, bool with_code, unsigned char type,
                bool active)
{
  unsigned char e[16] = { active ? 0x80 : 0, 0, 0, 0, type };
  e[8] = 0x00, e[9] = 0x08; /* LBA 2048 */
  const void *b[] = { code, e, sig };
  size_t o[] = { 0, 446, 510 }, l[] = { sizeof code, 16, 2 };
  image(name, with_code ? b : b + 1, with_code ? o : o + 1,
        with_code ? l : l + 1, with_code ? 3 : 2);
}

/* A GPT whose one partition has type GUID guid (16 stored bytes). */
static void gpt(const char *name, const unsigned char *guid)
{
  unsigned char pmbr[16] = { 0, 0, 0, 0, 0xee };
  unsigned char hdr[92] = "EFI PART";
  hdr[72] = 2;                  /* entries at LBA 2 */
  hdr[80] = 128;                /* 128 entries */
  hdr[84] = 128;                /* of 128 bytes */
  const void *b[] = { pmbr, sig, hdr, guid };
  size_t o[] = { 446, 510, 512, 1024 }, l[] = { 16, 2, sizeof hdr, 16 };
  image(name, b, o, l, 4);
}

static const unsigned char esp[16] = {
  0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const unsigned char bios_boot[16] = {
  0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
  0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49 };
static const unsigned char linux_data[16] = {
  0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
  0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

static client_t *c;

static struct boot_probe probe(const char *name)
{
  struct ferry_volume *v;
  struct boot_probe p;
  CHECK(ferry_volume_open(c, name, FERRY_OPEN_READ, &v) == 0);
  CHECK(boot_probe(v, &p) == 0);
  ferry_volume_close(v);
  return p;
}

static struct ferry_disk disk(const char *dev, const char *vol, int64_t boot)
{
  struct ferry_disk d;
  ferry_disk_init(&d);
  d.device = (char *)dev;
  d.volume_id = (char *)vol;
  d.boot_order = boot;
  return d;
}

/* boot_disk_choose over disks; returns the chosen device or NULL (with
 * the error in ferry_last_error). */
static const char *choose(struct ferry_disk *d, size_t n, int fw, bool known,
                          char *buf)
{
  struct ferry_disk out;
  ferry_disk_init(&out);
  int r = boot_disk_choose(c, d, n, (enum ferry_firmware)fw, known, &out);
  if (r < 0) {
    CHECK(r == -ENOEXEC);
    return NULL;
  }
  snprintf(buf, 32, "%s", out.device);
  ferry_disk_dispose(&out);
  return buf;
}

int main(void)
{
  CHECK(mkdtemp(dir));
  c = create_client(CLIENT_FILE, NULL, NULL, dir, NULL, NULL, NULL);
  CHECK(c);
  mbr("mbr", true, 0x83, true);
  mbr("mbr-inactive", true, 0x83, false);
  mbr("mbr-nocode", false, 0x83, true);
  mbr("mbr-esp", false, 0xef, false);
  gpt("gpt-esp", esp);
  gpt("gpt-bios", bios_boot);
  gpt("gpt-data", linux_data);
  image("blank", NULL, NULL, NULL, 0);
  const unsigned char ext[] = { 0x53, 0xef };
  const void *b[] = { ext };
  size_t o[] = { 1080 }, l[] = { 2 };
  image("ext4", b, o, l, 1);

  struct boot_probe p = probe("mbr");
  CHECK(p.mbr_boot && !p.gpt_esp && !p.gpt_bios_boot);
  CHECK(!probe("mbr-inactive").mbr_boot);
  CHECK_HAS(probe("mbr-inactive").what, "no active partition");
  CHECK(!probe("mbr-nocode").mbr_boot);
  CHECK_HAS(probe("mbr-nocode").what, "no boot code");
  CHECK(probe("mbr-esp").mbr_esp);
  p = probe("gpt-esp");
  CHECK(p.gpt_esp && !p.gpt_bios_boot && !p.mbr_boot);
  p = probe("gpt-bios");
  CHECK(p.gpt_bios_boot && !p.gpt_esp);
  p = probe("gpt-data");
  CHECK(!p.gpt_esp && !p.gpt_bios_boot);
  CHECK_HAS(p.what, "no EFI System Partition");
  CHECK_HAS(probe("blank").what, "blank");
  CHECK_HAS(probe("ext4").what, "ext2/3/4 filesystem on the whole disk");

  char buf[32];
  /* the second disk boots: chosen though the first comes first */
  struct ferry_disk two[] = { disk("vda", "blank", 1), disk("vdb", "mbr", 2) };
  CHECK(!strcmp(choose(two, 2, FERRY_FIRMWARE_BIOS, true, buf), "vdb"));
  /* boot order, not list order */
  struct ferry_disk both[] = { disk("vda", "gpt-bios", 2),
                               disk("vdb", "mbr", 1) };
  CHECK(!strcmp(choose(both, 2, FERRY_FIRMWARE_BIOS, true, buf), "vdb"));
  /* none: each disk says what it holds */
  struct ferry_disk none[] = { disk("vda", "blank", 0),
                               disk("vdb", "ext4", 0) };
  CHECK(!choose(none, 2, FERRY_FIRMWARE_BIOS, true, buf));
  CHECK_HAS(ferry_last_error(), "disk vda: blank");
  CHECK_HAS(ferry_last_error(), "disk vdb: an ext2/3/4 filesystem");
  /* the firmware: GPT+ESP only on BIOS, MBR only on UEFI */
  struct ferry_disk e[] = { disk("sda", "gpt-esp", 1) };
  CHECK(!choose(e, 1, FERRY_FIRMWARE_BIOS, true, buf));
  CHECK_HAS(ferry_last_error(), "make the VM's firmware uefi");
  CHECK(!strcmp(choose(e, 1, FERRY_FIRMWARE_UEFI, true, buf), "sda"));
  struct ferry_disk m[] = { disk("sda", "mbr", 1) };
  CHECK(!choose(m, 1, FERRY_FIRMWARE_UEFI, true, buf));
  CHECK_HAS(ferry_last_error(), "make the VM's firmware bios");
  /* firmware unknown: either boots */
  CHECK(!strcmp(choose(e, 1, 0, false, buf), "sda"));
  CHECK(!strcmp(choose(m, 1, 0, false, buf), "sda"));
  struct ferry_disk g[] = { disk("sda", "gpt-bios", 1) };
  CHECK(!strcmp(choose(g, 1, FERRY_FIRMWARE_BIOS, true, buf), "sda"));

  destroy_client(c);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  return 0;
}
