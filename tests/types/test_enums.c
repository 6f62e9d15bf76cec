/* Enum names and parsing. */
#include "check_types.h"

int main(void)
{
  static const char *const states[] = { "stopped", "running", "paused",
                                        "suspended", "unknown" };
  CHECK(FERRY_POWER_STATE_COUNT == 5);
  for (int i = 0; i < FERRY_POWER_STATE_COUNT; i++) {
    enum ferry_power_state p = (enum ferry_power_state)-1;
    CHECK_STR(ferry_power_state_name((enum ferry_power_state)i), states[i]);
    CHECK(ferry_power_state_parse(states[i], &p) == 0 && (int)p == i);
  }
  CHECK(FERRY_POWER_STATE_STOPPED == 0 && FERRY_POWER_STATE_UNKNOWN == 4);
  CHECK(ferry_power_state_name(FERRY_POWER_STATE_COUNT) == NULL);
  CHECK(ferry_power_state_name((enum ferry_power_state)-1) == NULL);

  CHECK_STR(ferry_firmware_name(FERRY_FIRMWARE_BIOS), "bios");
  CHECK_STR(ferry_firmware_name(FERRY_FIRMWARE_UEFI), "uefi");
  CHECK_STR(ferry_disk_bus_name(FERRY_DISK_BUS_VIRTIO), "virtio");
  CHECK_STR(ferry_disk_bus_name(FERRY_DISK_BUS_SCSI), "scsi");
  CHECK_STR(ferry_disk_bus_name(FERRY_DISK_BUS_SATA), "sata");
  CHECK_STR(ferry_disk_bus_name(FERRY_DISK_BUS_IDE), "ide");
  CHECK_STR(ferry_disk_bus_name(FERRY_DISK_BUS_NVME), "nvme");
  CHECK(FERRY_DISK_BUS_COUNT == 5);
  CHECK_STR(ferry_snapshot_kind_name(FERRY_SNAPSHOT_KIND_INTERNAL),
            "internal");
  CHECK_STR(ferry_snapshot_kind_name(FERRY_SNAPSHOT_KIND_EXTERNAL),
            "external");

  /* Input is case-insensitive; output never is. */
  enum ferry_disk_bus b = FERRY_DISK_BUS_VIRTIO;
  CHECK(ferry_disk_bus_parse("SATA", &b) == 0 && b == FERRY_DISK_BUS_SATA);
  enum ferry_firmware f = FERRY_FIRMWARE_BIOS;
  CHECK(ferry_firmware_parse("Uefi", &f) == 0 && f == FERRY_FIRMWARE_UEFI);

  /* A failed parse names the accepted values and leaves *v alone. */
  CHECK_EINVAL(ferry_disk_bus_parse("usb", &b),
               "unknown disk_bus 'usb' (expected virtio, scsi, sata, ide or nvme)");
  CHECK(b == FERRY_DISK_BUS_SATA);
  CHECK_EINVAL(ferry_disk_bus_parse("sata ", &b), "'sata '");
  CHECK_EINVAL(ferry_disk_bus_parse("", &b), "unknown disk_bus ''");
  CHECK_EINVAL(ferry_firmware_parse(NULL, &f), "no firmware given");
  enum ferry_snapshot_kind k = FERRY_SNAPSHOT_KIND_EXTERNAL;
  CHECK_EINVAL(ferry_snapshot_kind_parse("both", &k),
               "(expected internal or external)");
  CHECK(k == FERRY_SNAPSHOT_KIND_EXTERNAL);
  return 0;
}
