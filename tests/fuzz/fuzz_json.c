/* libFuzzer: the JSON parsers generated from types.idl. The first byte
 * picks the type; a parsed object must print, parse back equal, copy
 * equal, and dispose cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/types.h>

#define TYPES(X)                                                              \
  X(datacenter) X(cluster) X(host) X(vlan) X(disk) X(nic) X(vm)               \
  X(volume_info) X(vm_summary) X(changed_area) X(changed_areas)               \
  X(disk_snapshot) X(domain_snapshot) X(migration_disk) X(migration_round)    \
  X(migration)

#define ROUNDTRIP(T)                                                          \
  static void roundtrip_##T(const char *s)                                    \
  {                                                                           \
    struct ferry_##T a, b, c;                                                 \
    ferry_##T##_init(&a);                                                     \
    if (ferry_##T##_from_json(&a, s) == 0) {                                  \
      char *out = ferry_##T##_to_json(&a);                                    \
      ferry_##T##_init(&b);                                                   \
      if (out && ferry_##T##_from_json(&b, out) == 0 &&                       \
          !ferry_##T##_equal(&a, &b))                                         \
        abort(); /* what it printed reads back as something else */           \
      ferry_##T##_dispose(&b);                                                \
      free(out);                                                              \
      if (ferry_##T##_copy(&c, &a) == 0) {                                    \
        if (!ferry_##T##_equal(&a, &c))                                       \
          abort();                                                            \
        ferry_##T##_dispose(&c);                                              \
      }                                                                       \
    }                                                                         \
    ferry_##T##_dispose(&a);                                                  \
    struct ferry_##T *v = NULL;                                               \
    size_t n = 0;                                                             \
    if (ferry_##T##_list_from_json(&v, &n, s) == 0)                           \
      ferry_##T##_list_free(v, n);                                            \
  }
TYPES(ROUNDTRIP)

#define ENTRY(T) roundtrip_##T,
static void (*const fns[])(const char *) = { TYPES(ENTRY) };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  char *s = malloc(size);
  if (!s)
    return 0;
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  fns[data[0] % (sizeof fns / sizeof fns[0])](s);
  free(s);
  return 0;
}
