/* Every public type, all fields set, through text and through json-c:
 * JSON -> struct -> JSON gives the same text, and the structs are equal.
 * A VM with two disks and two NICs built by hand; uint64 and int64 at
 * their limits; NULL strings. */
#include <inttypes.h>

#include <json-c/json.h>

#include "check_types.h"

/* The sample sets every field to a value other than its initial one:
 * dropping any one key must give a different struct. */
#define DEFINE_ROUND_TRIP(T)                                                 \
  static void round_trip_##T(const char *text)                               \
  {                                                                          \
    struct ferry_##T a, b, c;                                                \
    CHECK(ferry_##T##_from_json(&a, text) == 0);                             \
    char *s = ferry_##T##_to_json(&a);                                       \
    CHECK_STR(s, text);                                                      \
    CHECK(ferry_##T##_from_json(&b, s) == 0);                                \
    CHECK(ferry_##T##_equal(&a, &b));                                        \
    char *s2 = ferry_##T##_to_json(&b);                                      \
    CHECK_STR(s2, text);                                                     \
    json_object *j = ferry_##T##_to_jsonc(&a);                               \
    CHECK(j);                                                                \
    CHECK(ferry_##T##_from_jsonc(&c, j) == 0);                               \
    CHECK(ferry_##T##_equal(&a, &c));                                        \
    ferry_##T##_dispose(&c);                                                 \
    json_object_object_foreach(j, key, val) {                                \
      (void)val;                                                             \
      json_object *less = NULL;                                              \
      CHECK(json_object_deep_copy(j, &less, NULL) == 0);                     \
      json_object_object_del(less, key);                                     \
      CHECK(ferry_##T##_from_json(                                           \
                &c, json_object_to_json_string(less)) == 0);                 \
      if (ferry_##T##_equal(&a, &c)) {                                       \
        fprintf(stderr, "%s: the sample leaves '%s' at its initial value\n", \
                #T, key);                                                    \
        exit(1);                                                             \
      }                                                                      \
      ferry_##T##_dispose(&c);                                               \
      json_object_put(less);                                                 \
    }                                                                        \
    json_object_put(j);                                                      \
    free(s);                                                                 \
    free(s2);                                                                \
    ferry_##T##_dispose(&a);                                                 \
    ferry_##T##_dispose(&b);                                                 \
  }

DEFINE_ROUND_TRIP(datacenter)
DEFINE_ROUND_TRIP(cluster)
DEFINE_ROUND_TRIP(host)
DEFINE_ROUND_TRIP(vlan)
DEFINE_ROUND_TRIP(disk)
DEFINE_ROUND_TRIP(nic)
DEFINE_ROUND_TRIP(vm)
DEFINE_ROUND_TRIP(volume_info)
DEFINE_ROUND_TRIP(vm_summary)
DEFINE_ROUND_TRIP(changed_area)
DEFINE_ROUND_TRIP(changed_areas)
DEFINE_ROUND_TRIP(disk_snapshot)
DEFINE_ROUND_TRIP(domain_snapshot)

static void every_type(void)
{
  round_trip_datacenter("{\"id\":\"datacenter-2\",\"name\":\"Main DC\"}");
  round_trip_cluster("{\"id\":\"domain-c7\",\"name\":\"Prod\","
                     "\"datacenter_id\":\"datacenter-2\"}");
  round_trip_host("{\"id\":\"host-12\",\"name\":\"esx01.example.com\","
                  "\"cluster_id\":\"domain-c7\",\"datacenter_id\":\"dc-2\","
                  "\"cpus\":64,\"memory_mib\":524288,\"connected\":true}");
  round_trip_vlan("{\"id\":\"dvportgroup-5\",\"name\":\"prod\","
                  "\"vlan_id\":0}");
  round_trip_disk("{\"id\":\"2000\",\"device\":\"sda\",\"volume_id\":\"v\","
                  "\"capacity\":1,\"format\":\"vmdk\",\"bus\":\"scsi\","
                  "\"boot_order\":2,\"controller\":\"lsilogic\",\"slot\":\"0:1\","
                  "\"change_id\":\"*\"}");
  round_trip_nic("{\"mac\":\"00:50:56:aa:bb:cc\",\"model\":\"vmxnet3\","
                 "\"network\":\"dvportgroup-5\",\"vlan_id\":5}");
  round_trip_vm(VM_JSON);
  round_trip_volume_info(
      "{\"id\":\"vol-1\",\"name\":\"web-disk0\","
      "\"path\":\"/var/lib/ferry/volumes/web-disk0.qcow2\","
      "\"format\":\"qcow2\",\"capacity\":18446744073709551615,"
      "\"allocated\":9223372036854775808}");
  round_trip_vm_summary("{\"total\":10,\"running\":6,\"stopped\":3,"
                        "\"paused\":1,\"vcpus\":40,\"memory_mib\":81920}");
  round_trip_changed_area("{\"start\":1048576,\"length\":65536}");
  round_trip_changed_areas(
      "{\"disk_id\":\"disk-0\",\"from_snapshot\":\"s1\","
      "\"to_snapshot\":\"s2\",\"areas\":[{\"start\":0,\"length\":65536},"
      "{\"start\":18446744073709486080,\"length\":65535}]}");
  round_trip_disk_snapshot(
      "{\"device\":\"vda\",\"name\":\"s1\","
      "\"file\":\"/var/lib/ferry/web.s1.qcow2\",\"format\":\"qcow2\","
      "\"path\":\"/var/lib/ferry/web.qcow2\"}");
  round_trip_domain_snapshot(
      "{\"name\":\"s2\",\"description\":\"before the upgrade\","
      "\"creation_time\":1700000000,\"memory\":\"/var/lib/ferry/s2.mem\","
      "\"running\":true,\"blocked\":true,\"paused\":true,\"shutdown\":true,"
      "\"dying\":true,\"disks\":[{\"device\":\"vda\",\"name\":\"s2\","
      "\"file\":\"/d/web.s2.qcow2\",\"format\":\"qcow2\",\"path\":\"/d/web.qcow2\"},{\"device\":\"vdb\","
      "\"name\":\"s2\",\"file\":null,\"format\":null,\"path\":null}],"
      "\"parent\":\"s1\",\"vm_uuid\":\"6f1c9c1e\",\"kind\":\"external\",\"sequence\":7,"
      "\"deleting\":true}");
}

static char *dup(const char *s)
{
  char *d = strdup(s);
  CHECK(d);
  return d;
}

/* The VM of VM_JSON, built in C the way a platform client does. */
static void vm_by_hand(void)
{
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  vm.id = dup("vm-42");
  vm.uuid = dup("6f1c9c1e-8d3b-4a57-9d38-2f4c1e0b7a11");
  vm.name = dup("web");
  vm.power_state = FERRY_POWER_STATE_RUNNING;
  vm.vcpus = 4;
  vm.memory_mib = 8192;
  vm.firmware = FERRY_FIRMWARE_UEFI;
  vm.guest_os = dup("rhel9_64Guest");
  vm.machine = dup("q35");
  struct ferry_disk *d = ferry_vm_disks_append(&vm);
  CHECK(d && vm.n_disks == 1 && d->bus == FERRY_DISK_BUS_VIRTIO);
  d->id = dup("disk-0");
  d->device = dup("vda");
  d->volume_id = dup("vol-0");
  d->capacity = UINT64_C(10) << 30;
  d->format = dup("qcow2");
  d->boot_order = 1;
  d->controller = dup("pvscsi");
  d->slot = dup("0:0");
  d->change_id = dup("52 de c0 1f 4b 2a 6c 7d-8e 9f a0 b1 c2 d3 e4 f5/12");
  d = ferry_vm_disks_append(&vm);
  CHECK(d && vm.n_disks == 2 && d == &vm.disks[1]);
  d->id = dup("disk-1");
  d->device = dup("sdb");
  d->volume_id = dup("vol-1");
  d->capacity = UINT64_MAX;
  d->format = dup("raw");
  d->bus = FERRY_DISK_BUS_SATA;
  d->controller = dup("ahci");
  d->slot = dup("1:3");
  d->change_id = dup("");
  struct ferry_nic *n = ferry_vm_nics_append(&vm);
  CHECK(n->vlan_id == -1); /* the default */
  n->mac = dup("52:54:00:12:34:56");
  n->model = dup("virtio-net-pci");
  n->network = dup("vlan-10");
  n->vlan_id = 10;
  n = ferry_vm_nics_append(&vm);
  n->mac = dup("52:54:00:ab:cd:ef");
  n->model = dup("e1000");
  n->network = dup("default");
  vm.host_id = dup("host-1");
  vm.cluster_id = dup("cluster-1");
  vm.datacenter_id = dup("dc-1");

  char *s = ferry_vm_to_json(&vm);
  CHECK_STR(s, VM_JSON);

  struct ferry_vm back;
  CHECK(ferry_vm_from_json(&back, s) == 0);
  CHECK(ferry_vm_equal(&vm, &back));
  CHECK_STR(back.id, "vm-42");
  CHECK_STR(back.uuid, "6f1c9c1e-8d3b-4a57-9d38-2f4c1e0b7a11");
  CHECK(back.power_state == FERRY_POWER_STATE_RUNNING);
  CHECK(back.vcpus == 4 && back.memory_mib == 8192);
  CHECK(back.firmware == FERRY_FIRMWARE_UEFI);
  CHECK_STR(back.machine, "q35");
  CHECK(back.n_disks == 2 && back.n_nics == 2);
  CHECK_STR(back.disks[0].device, "vda");
  CHECK(back.disks[0].capacity == UINT64_C(10737418240));
  CHECK(back.disks[0].bus == FERRY_DISK_BUS_VIRTIO);
  CHECK(back.disks[0].boot_order == 1);
  CHECK_STR(back.disks[1].volume_id, "vol-1");
  CHECK(back.disks[1].capacity == UINT64_MAX);
  CHECK(back.disks[1].bus == FERRY_DISK_BUS_SATA);
  CHECK(back.disks[1].boot_order == 0);
  CHECK_STR(back.nics[0].model, "virtio-net-pci");
  CHECK_STR(back.nics[1].mac, "52:54:00:ab:cd:ef");
  CHECK_STR(back.nics[1].network, "default");
  CHECK_STR(back.datacenter_id, "dc-1");
  free(s);
  ferry_vm_dispose(&back);
  ferry_vm_dispose(&vm);
}

static void limits(void)
{
  struct ferry_volume_info v, w;
  ferry_volume_info_init(&v);
  v.capacity = UINT64_MAX;
  v.allocated = (uint64_t)INT64_MAX + 1;
  char *s = ferry_volume_info_to_json(&v);
  CHECK_HAS(s, "\"capacity\":18446744073709551615");
  CHECK_HAS(s, "\"allocated\":9223372036854775808");
  CHECK(ferry_volume_info_from_json(&w, s) == 0);
  CHECK(w.capacity == UINT64_MAX);
  CHECK(w.allocated == (uint64_t)INT64_MAX + 1);
  free(s);

  struct ferry_vlan a, b;
  ferry_vlan_init(&a);
  a.vlan_id = INT64_MIN;
  s = ferry_vlan_to_json(&a);
  CHECK_HAS(s, "\"vlan_id\":-9223372036854775808");
  CHECK(ferry_vlan_from_json(&b, s) == 0 && b.vlan_id == INT64_MIN);
  free(s);
  a.vlan_id = INT64_MAX;
  s = ferry_vlan_to_json(&a);
  CHECK(ferry_vlan_from_json(&b, s) == 0 && b.vlan_id == INT64_MAX);
  free(s);
}

static void null_strings(void)
{
  struct ferry_vm vm, back;
  ferry_vm_init(&vm);
  vm.name = strdup(""); /* "" and NULL are both none: null */
  char *s = ferry_vm_to_json(&vm);
  CHECK_HAS(s, "\"id\":null,\"uuid\":null,\"name\":null");
  CHECK_HAS(s, "\"disks\":[],\"nics\":[]");
  CHECK(ferry_vm_from_json(&back, s) == 0);
  CHECK(back.id == NULL && back.uuid == NULL && back.host_id == NULL);
  CHECK(back.name == NULL);
  CHECK(back.disks == NULL && back.n_disks == 0);
  CHECK(ferry_vm_equal(&vm, &back));
  free(s);
  ferry_vm_dispose(&back);
  ferry_vm_dispose(&vm);

  /* null for an array or a nested struct reads as missing. */
  CHECK(ferry_vm_from_json(&back, "{\"name\":null,\"disks\":null}") == 0);
  CHECK(back.name == NULL && back.n_disks == 0);
  ferry_vm_dispose(&back);
}

int main(void)
{
  every_type();
  vm_by_hand();
  limits();
  null_strings();
  return 0;
}
