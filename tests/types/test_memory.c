/* Ownership: copies share nothing with their source, dispose is idempotent,
 * lists and appends manage their arrays. Run under ASan for the leaks. */
#include "check_types.h"

static void deep_copy(void)
{
  struct ferry_vm src, dst;
  CHECK(ferry_vm_from_json(&src, VM_JSON) == 0);
  CHECK(ferry_vm_copy(&dst, &src) == 0);
  CHECK(ferry_vm_equal(&src, &dst));
  CHECK(dst.name != src.name && dst.disks != src.disks);
  CHECK(dst.disks[1].format != src.disks[1].format);
  CHECK(dst.nics != src.nics && dst.nics[0].mac != src.nics[0].mac);

  /* Changing the source does not change the copy... */
  src.disks[0].capacity = 1;
  src.name[0] = 'W';
  CHECK(!ferry_vm_equal(&src, &dst));
  CHECK_STR(dst.name, "web");
  /* ...nor does freeing it. */
  ferry_vm_dispose(&src);
  char *s = ferry_vm_to_json(&dst);
  CHECK_STR(s, VM_JSON);
  free(s);

  /* A copy of an initialized object is an initialized object. */
  struct ferry_vm empty, copy;
  ferry_vm_init(&empty);
  CHECK(ferry_vm_copy(&copy, &empty) == 0);
  CHECK(ferry_vm_equal(&copy, &empty));
  CHECK(copy.power_state == FERRY_POWER_STATE_UNKNOWN);
  ferry_vm_dispose(&copy);
  ferry_vm_dispose(&dst);
}

static void dispose_is_idempotent(void)
{
  struct ferry_domain_snapshot s;
  CHECK(ferry_domain_snapshot_from_json(
            &s, "{\"name\":\"s1\",\"disks\":[{\"device\":\"vda\"}],"
                "\"kind\":\"external\",\"running\":true}") == 0);
  ferry_domain_snapshot_dispose(&s);
  CHECK(s.name == NULL && s.disks == NULL && s.n_disks == 0);
  CHECK(s.kind == FERRY_SNAPSHOT_KIND_INTERNAL && !s.running);
  ferry_domain_snapshot_dispose(&s);
  ferry_domain_snapshot_dispose(NULL);

  /* calloc'd memory is safe to dispose, as after a failed fill. */
  struct ferry_vm *v = calloc(3, sizeof *v);
  CHECK(v);
  ferry_vm_list_free(v, 3);
  ferry_vm_list_free(NULL, 0);
  ferry_vm_list_free(NULL, 5);

  struct ferry_vlan vl;
  ferry_vlan_init(&vl);
  CHECK(vl.vlan_id == -1);
  vl.vlan_id = 5;
  ferry_vlan_dispose(&vl);
  CHECK(vl.vlan_id == -1); /* back to the initial value */
}

static void list_round_trip(void)
{
  struct ferry_vm *v;
  size_t n;
  CHECK(ferry_vm_list_from_json(&v, &n, "[" VM_JSON ",{\"name\":\"b\"}]")
        == 0);
  CHECK(n == 2 && v[0].n_disks == 2 && !strcmp(v[1].name, "b"));
  CHECK(v[1].power_state == FERRY_POWER_STATE_UNKNOWN);
  char *s = ferry_vm_list_to_json(v, n);
  CHECK(!strncmp(s, "[" VM_JSON ",{\"id\":null", strlen(VM_JSON) + 12));
  struct ferry_vm *w;
  size_t m;
  CHECK(ferry_vm_list_from_json(&w, &m, s) == 0);
  CHECK(m == 2 && ferry_vm_equal(&v[0], &w[0]) &&
        ferry_vm_equal(&v[1], &w[1]));
  free(s);
  ferry_vm_list_free(w, m);
  ferry_vm_list_free(v, n);

  CHECK(ferry_vm_list_from_json(&v, &n, " [ ] ") == 0);
  CHECK(v == NULL && n == 0);
  s = ferry_vm_list_to_json(v, n);
  CHECK_STR(s, "[]");
  free(s);
  CHECK(ferry_vm_list_to_json(NULL, 2) == NULL);
  CHECK_HAS(ferry_last_error(), "list: NULL array with 2 elements");
}

static void append_and_equal(void)
{
  struct ferry_changed_areas c;
  ferry_changed_areas_init(&c);
  for (uint64_t i = 0; i < 100; i++) {
    struct ferry_changed_area *a = ferry_changed_areas_areas_append(&c);
    CHECK(a && a->start == 0 && a->length == 0);
    a->start = i << 16;
    a->length = 1 << 16;
  }
  CHECK(c.n_areas == 100 && c.areas[99].start == UINT64_C(99) << 16);

  struct ferry_changed_areas d;
  CHECK(ferry_changed_areas_copy(&d, &c) == 0);
  CHECK(ferry_changed_areas_equal(&c, &d));
  d.n_areas--; /* a shorter array is different (and still owned) */
  CHECK(!ferry_changed_areas_equal(&c, &d));
  d.n_areas++;
  d.disk_id = strdup("");
  CHECK(ferry_changed_areas_equal(&c, &d)); /* NULL and "" are both none */
  c.disk_id = strdup("x");
  CHECK(!ferry_changed_areas_equal(&c, &d));
  free(d.disk_id);
  d.disk_id = strdup("x");
  CHECK(ferry_changed_areas_equal(&c, &d));
  CHECK(ferry_changed_areas_equal(NULL, NULL));
  CHECK(!ferry_changed_areas_equal(&c, NULL));
  ferry_changed_areas_dispose(&c);
  ferry_changed_areas_dispose(&d);
}

int main(void)
{
  deep_copy();
  dispose_is_idempotent();
  list_round_trip();
  append_and_equal();
  return 0;
}
