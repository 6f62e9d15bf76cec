/* The exact text of a few objects: the JSON form is a file format (the
 * snapshot records, the state files), so any change must show up here. */
#include "check_types.h"

static void vlan(void)
{
  struct ferry_vlan v;
  ferry_vlan_init(&v);
  char *s = ferry_vlan_to_json(&v);
  CHECK_STR(s, "{\"id\":null,\"name\":null,\"vlan_id\":-1}");
  free(s);
  v.id = strdup("vlan-10");
  v.name = strdup("prod/\"db\"");
  v.vlan_id = 10;
  s = ferry_vlan_to_json(&v);
  CHECK_STR(s, "{\"id\":\"vlan-10\",\"name\":\"prod/\\\"db\\\"\","
               "\"vlan_id\":10}");
  free(s);
  ferry_vlan_dispose(&v);
}

static void snapshot(void)
{
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  s.name = strdup("s1");
  s.creation_time = 1700000000;
  s.memory = strdup("");
  s.running = true;
  struct ferry_disk_snapshot *d = ferry_domain_snapshot_disks_append(&s);
  d->device = strdup("vda");
  d->name = strdup("s1");
  d->file = strdup("/var/lib/ferry/vda.s1.qcow2");
  d->format = strdup("qcow2");
  s.kind = FERRY_SNAPSHOT_KIND_EXTERNAL;
  char *t = ferry_domain_snapshot_to_json(&s);
  CHECK_STR(t, "{\"name\":\"s1\",\"description\":null,"
               "\"creation_time\":1700000000,\"memory\":null,"
               "\"running\":true,\"blocked\":false,\"paused\":false,"
               "\"shutdown\":false,\"dying\":false,\"disks\":[{"
               "\"device\":\"vda\",\"name\":\"s1\","
               "\"file\":\"/var/lib/ferry/vda.s1.qcow2\","
               "\"format\":\"qcow2\",\"path\":null}],\"parent\":null,"
               "\"vm_uuid\":null,\"kind\":\"external\",\"sequence\":0,\"deleting\":false}");
  free(t);
  t = ferry_disk_snapshot_to_json(d);
  CHECK_STR(t, "{\"device\":\"vda\",\"name\":\"s1\","
               "\"file\":\"/var/lib/ferry/vda.s1.qcow2\","
               "\"format\":\"qcow2\",\"path\":null}");
  free(t);
  ferry_domain_snapshot_dispose(&s);
}

static void summary_and_areas(void)
{
  struct ferry_vm_summary v;
  ferry_vm_summary_init(&v);
  v.total = 3;
  v.memory_mib = UINT64_MAX;
  char *s = ferry_vm_summary_to_json(&v);
  CHECK_STR(s, "{\"total\":3,\"running\":0,\"stopped\":0,\"paused\":0,"
               "\"vcpus\":0,\"memory_mib\":18446744073709551615}");
  free(s);

  struct ferry_changed_areas c;
  ferry_changed_areas_init(&c);
  s = ferry_changed_areas_to_json(&c);
  CHECK_STR(s, "{\"disk_id\":null,\"from_snapshot\":null,"
               "\"to_snapshot\":null,\"areas\":[]}");
  free(s);
}

int main(void)
{
  vlan();
  snapshot();
  summary_and_areas();
  return 0;
}
