/* The unit tests' CHECK harness, plus string comparisons that show both
 * sides, and a few samples shared by the tests of lib/types. */
#ifndef FERRY_TEST_CHECK_TYPES_H
#define FERRY_TEST_CHECK_TYPES_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/objects.h>

#include "../unit/check.h"

/* Two strings are equal (NULL only equals NULL). */
#define CHECK_STR(a, b)                                                      \
  do {                                                                       \
    const char *a_ = (a), *b_ = (b);                                         \
    if (a_ != b_ && (!a_ || !b_ || strcmp(a_, b_) != 0)) {                   \
      fprintf(stderr, "%s:%d: strings differ:\n  got:  %s\n  want: %s\n",    \
              __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");   \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

/* A call fails with -EINVAL and a message containing sub. */
#define CHECK_EINVAL(call, sub)                                              \
  do {                                                                       \
    CHECK((call) == -EINVAL);                                                \
    CHECK(ferry_last_errno() == EINVAL);                                     \
    CHECK_HAS(ferry_last_error(), (sub));                                    \
  } while (0)

/* Every field of a vm set, two disks and two NICs: the canonical JSON. */
#define DISK1_JSON                                                           \
  "{\"id\":\"disk-0\",\"device\":\"vda\",\"volume_id\":\"vol-0\","           \
  "\"capacity\":10737418240,\"format\":\"qcow2\",\"bus\":\"virtio\","        \
  "\"boot_order\":1,\"controller\":\"pvscsi\",\"slot\":\"0:0\","           \
  "\"change_id\":\"52 de c0 1f 4b 2a 6c 7d-8e 9f a0 b1 c2 d3 e4 f5/12\"}"
#define DISK2_JSON                                                           \
  "{\"id\":\"disk-1\",\"device\":\"sdb\",\"volume_id\":\"vol-1\","           \
  "\"capacity\":18446744073709551615,\"format\":\"raw\",\"bus\":\"sata\","   \
  "\"boot_order\":0,\"controller\":\"ahci\",\"slot\":\"1:3\",\"change_id\":null}"
#define VM_JSON                                                              \
  "{\"id\":\"vm-42\",\"uuid\":\"6f1c9c1e-8d3b-4a57-9d38-2f4c1e0b7a11\","      \
  "\"name\":\"web\",\"power_state\":\"running\",\"vcpus\":4,"                \
  "\"memory_mib\":8192,\"firmware\":\"uefi\",\"guest_os\":\"rhel9_64Guest\","     \
  "\"machine\":\"q35\","                                                    \
  "\"disks\":[" DISK1_JSON "," DISK2_JSON "],"                               \
  "\"nics\":[{\"mac\":\"52:54:00:12:34:56\",\"model\":\"virtio-net-pci\","   \
  "\"network\":\"vlan-10\",\"vlan_id\":10},"                                \
  "{\"mac\":\"52:54:00:ab:cd:ef\",\"model\":\"e1000\",\"network\":\"default\"," \
  "\"vlan_id\":-1}],"                                                        \
  "\"host_id\":\"host-1\",\"cluster_id\":\"cluster-1\","                     \
  "\"datacenter_id\":\"dc-1\"}"

#endif
