/* Reading JSON: unknown keys ignored, missing keys keep their initial
 * values, everything else wrong is -EINVAL with the path of the bad value,
 * and a failed read leaves the output initialized (ASan checks the rest). */
#include <json-c/json.h>

#include "check_types.h"

/* from_json fails with sub in the message and leaves vm initialized. */
static void vm_rejects(const char *text, const char *sub)
{
  struct ferry_vm vm, fresh;
  CHECK_EINVAL(ferry_vm_from_json(&vm, text), sub);
  ferry_vm_init(&fresh);
  CHECK(ferry_vm_equal(&vm, &fresh));
  ferry_vm_dispose(&vm); /* harmless */
}

static void forward_and_backward(void)
{
  struct ferry_vm vm;
  CHECK(ferry_vm_from_json(&vm, "{\"id\":\"a\",\"future\":{\"x\":[1,{}]},"
                                "\"disks\":[{\"device\":\"vda\","
                                "\"encryption\":\"luks\"}],\"name\":\"n\"}")
        == 0);
  CHECK_STR(vm.id, "a");
  CHECK_STR(vm.name, "n");
  CHECK(vm.n_disks == 1);
  CHECK_STR(vm.disks[0].device, "vda");
  CHECK(vm.power_state == FERRY_POWER_STATE_UNKNOWN); /* missing: default */
  CHECK(vm.uuid == NULL && vm.vcpus == 0 && vm.n_nics == 0);
  ferry_vm_dispose(&vm);

  struct ferry_vlan v;
  CHECK(ferry_vlan_from_json(&v, "{}") == 0);
  CHECK(v.vlan_id == -1 && v.id == NULL);
  ferry_vlan_dispose(&v);
  CHECK(ferry_vlan_from_json(&v, " \n{\"vlan_id\": 7}\t\n") == 0);
  CHECK(v.vlan_id == 7);
  ferry_vlan_dispose(&v);
}

static void wrong_types(void)
{
  /* disks[0] is complete and owns strings when disks[1] fails: no leak. */
  vm_rejects("{\"name\":\"web\",\"disks\":[" DISK1_JSON ","
             "{\"id\":\"d\",\"capacity\":\"big\"}]}",
             "disks[1].capacity: expected an unsigned integer, got a string");
  vm_rejects("{\"disks\":[{\"capacity\":-1}]}",
             "disks[0].capacity: expected an unsigned integer, got -1");
  vm_rejects("{\"vcpus\":9223372036854775808}",
             "vcpus: 9223372036854775808 is out of range");
  vm_rejects("{\"vcpus\":2.5}", "vcpus: expected an integer, got a number");
  vm_rejects("{\"vcpus\":\"4\"}", "vcpus: expected an integer, got a string");
  vm_rejects("{\"memory_mib\":null}",
             "memory_mib: expected an unsigned integer, got null");
  vm_rejects("{\"name\":5}", "name: expected a string or null, got an "
                             "integer");
  vm_rejects("{\"nics\":[{},{\"mac\":[]}]}",
             "nics[1].mac: expected a string or null, got an array");
  vm_rejects("{\"disks\":{}}", "disks: expected an array, got an object");
  vm_rejects("{\"disks\":[1]}", "disks[0]: expected an object, got an "
                                "integer");
  vm_rejects("{\"name\":\"a\\u0000b\"}", "name: the string contains a NUL");

  struct ferry_host h;
  CHECK_EINVAL(ferry_host_from_json(&h, "{\"connected\":\"yes\"}"),
               "connected: expected true or false, got a string");
  CHECK_EINVAL(ferry_host_from_json(&h, "{\"connected\":1}"),
               "connected: expected true or false, got an integer");
  CHECK(h.connected == false && h.name == NULL);
}

static void bad_enums(void)
{
  vm_rejects("{\"power_state\":\"sleeping\"}",
             "power_state: unknown power_state 'sleeping' (expected "
             "stopped, running, paused, suspended or unknown)");
  vm_rejects("{\"disks\":[{},{\"bus\":\"usb\"}]}",
             "disks[1].bus: unknown disk_bus 'usb'");
  vm_rejects("{\"firmware\":1}",
             "firmware: expected a firmware name, got an integer");
  vm_rejects("{\"firmware\":null}",
             "firmware: expected a firmware name, got null");
  struct ferry_domain_snapshot s;
  CHECK_EINVAL(ferry_domain_snapshot_from_json(&s, "{\"kind\":\"\"}"),
               "kind: unknown snapshot_kind ''");
}

static void garbage(void)
{
  static const char *const texts[] = {
    "", " ", "{", "}", "not json", "{\"id\":}", "{\"id\":\"x\"", "{} x",
    "{}{}", "\xff\xfe", "{\"id\":\"\xc3\x28\"}", "[{\"id\":\"x\"}]", "null",
    "123", "\"vm\"", "true", "{\"id\" \"x\"}", "{\"disks\":[{\"id\":\"d\","
    "\"capacity\":1,", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]"
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
  };
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    struct ferry_vm vm, fresh;
    vm.name = (char *)"garbage"; /* an output: overwritten, never freed */
    if (ferry_vm_from_json(&vm, texts[i]) != -EINVAL) {
      fprintf(stderr, "accepted: '%s'\n", texts[i]);
      exit(1);
    }
    CHECK_HAS(ferry_last_error(), "vm: ");
    ferry_vm_init(&fresh);
    CHECK(ferry_vm_equal(&vm, &fresh));
  }
  struct ferry_vm vm;
  CHECK_EINVAL(ferry_vm_from_json(&vm, "[1]"),
               "vm: expected a JSON object, got an array");
  CHECK_EINVAL(ferry_vm_from_json(&vm, "{} x"), "vm: invalid JSON at offset");
  CHECK_EINVAL(ferry_vm_from_json(&vm, NULL), "vm: no JSON text");
  CHECK_EINVAL(ferry_vm_from_jsonc(&vm, NULL),
               "vm: expected a JSON object, got null");
}

static void lists(void)
{
  static struct ferry_vm dummy;
  struct ferry_vm *v = &dummy; /* outputs: overwritten, not freed */
  size_t n = 99;
  CHECK_EINVAL(ferry_vm_list_from_json(&v, &n, "[{\"id\":\"a\"},"
                                       "{\"vcpus\":\"x\"}]"),
               "[1].vcpus: expected an integer");
  CHECK(v == NULL && n == 0);
  CHECK_EINVAL(ferry_vm_list_from_json(&v, &n, "[{},7]"),
               "[1]: expected an object, got an integer");
  CHECK_EINVAL(ferry_vm_list_from_json(&v, &n, "{}"),
               "vm list: expected a JSON array, got an object");
  CHECK_EINVAL(ferry_vm_list_from_json(&v, &n, "[{}"), "invalid JSON");
  CHECK(v == NULL && n == 0);
}

/* Writing fails only on values the JSON cannot say. */
static void bad_structs(void)
{
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  vm.power_state = (enum ferry_power_state)99;
  CHECK(ferry_vm_to_json(&vm) == NULL);
  CHECK(ferry_last_errno() == EINVAL);
  CHECK_HAS(ferry_last_error(), "power_state: 99 is not a power_state value");
  CHECK(ferry_vm_to_jsonc(&vm) == NULL);
  vm.power_state = FERRY_POWER_STATE_PAUSED;

  struct ferry_disk *d = ferry_vm_disks_append(&vm);
  d->bus = (enum ferry_disk_bus)-1;
  CHECK(ferry_vm_to_json(&vm) == NULL);
  CHECK_HAS(ferry_last_error(), "disks[0].bus: -1 is not a disk_bus value");
  d->bus = FERRY_DISK_BUS_IDE;

  struct ferry_disk *keep = vm.disks;
  vm.disks = NULL; /* a count without an array */
  CHECK(ferry_vm_to_json(&vm) == NULL);
  CHECK_HAS(ferry_last_error(), "disks: NULL array with 1 elements");
  struct ferry_vm copy;
  CHECK_EINVAL(ferry_vm_copy(&copy, &vm), "disks: NULL array");
  CHECK(copy.n_disks == 0 && copy.power_state == FERRY_POWER_STATE_UNKNOWN);
  vm.disks = keep;

  char *s = ferry_vm_to_json(&vm);
  CHECK_HAS(s, "\"power_state\":\"paused\"");
  CHECK_HAS(s, "\"bus\":\"ide\"");
  free(s);
  ferry_vm_dispose(&vm);
}

int main(void)
{
  forward_and_backward();
  wrong_types();
  bad_enums();
  garbage();
  lists();
  bad_structs();
  return 0;
}
