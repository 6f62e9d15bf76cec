/* ferry's standard objects: datacenters, clusters, hosts, VLANs, VMs and
 * their disks and NICs, volumes, changed areas and snapshot records.
 *
 * Each type is described once, in lib/types/types.idl; <ferry/types.h> is
 * generated from it (structs, enums and the functions below), in the way
 * libxl generates its types from libxl_types.idl. For every struct ferry_T:
 *
 *   void  ferry_T_init(struct ferry_T *p);
 *       Sets every member to its initial value: strings NULL, arrays empty
 *       (NULL, 0), numbers 0 or the default the IDL gives. Never allocates.
 *   void  ferry_T_dispose(struct ferry_T *p);
 *       Frees everything p owns and leaves it initialized, so disposing
 *       twice is harmless; so is disposing all-zero (calloc'd) memory.
 *   int   ferry_T_copy(struct ferry_T *dst, const struct ferry_T *src);
 *       Deep copy: dst shares nothing with src.
 *   bool  ferry_T_equal(const struct ferry_T *a, const struct ferry_T *b);
 *       Member by member. A string member that is NULL or "" is none:
 *       the two are equal (elements of string arrays are compared as
 *       they are).
 *   char *ferry_T_to_json(const struct ferry_T *p);
 *       Compact JSON, keys in declaration order, malloc'd (caller frees).
 *       A string member that is none is written as null.
 *   int   ferry_T_from_json(struct ferry_T *p, const char *s);
 *   struct json_object *ferry_T_to_jsonc(const struct ferry_T *p);
 *   int   ferry_T_from_jsonc(struct ferry_T *p, struct json_object *j);
 *       The same through json-c objects, to embed in larger documents;
 *       to_jsonc's result is the caller's (json_object_put); from_jsonc
 *       does not take j's reference.
 *   void  ferry_T_list_free(struct ferry_T *v, size_t n);
 *       Disposes n elements and frees the array (v may be NULL).
 *   char *ferry_T_list_to_json(const struct ferry_T *v, size_t n);
 *   int   ferry_T_list_from_json(struct ferry_T **v, size_t *n,
 *                                const char *s);
 *       A JSON array of T; *v is NULL when *n is 0.
 *   struct ferry_E *ferry_T_F_append(struct ferry_T *p);
 *   int   ferry_T_F_append(struct ferry_T *p, const char *s);
 *       For each array field F: adds one initialized element (or a copy
 *       of s) at the end and returns it (or 0). It may move the array:
 *       earlier element pointers become invalid.
 *
 * and for every enum ferry_E, constants FERRY_E_<VALUE> numbered from 0,
 * FERRY_E_COUNT, and
 *
 *   const char *ferry_E_name(enum ferry_E v);     "running"; NULL if bad
 *   int ferry_E_parse(const char *s, enum ferry_E *v);   case-insensitive
 *
 * Ownership: a struct owns every string and array it points to (malloc'd);
 * the caller of init/from_json/copy disposes the result.
 *
 * Outputs are raw storage: from_json, from_jsonc, copy and list_from_json
 * initialize their output first and do not free what it held before
 * (dispose it first if it held anything). On failure they return a
 * negative errno, leave the output initialized (owning nothing) and set
 * ferry_last_error(), e.g. "disks[1].capacity: expected an unsigned
 * integer, got a string". Functions returning a pointer return NULL on
 * failure, with the same message.
 *
 * JSON: keys are the member names; an array F is a JSON array under key F
 * (its count n_F is not written). Strings may be null; enums are their
 * names; uint64 values above INT64_MAX are written and read exactly.
 * from_json ignores keys it does not know (a newer writer), keeps the
 * initial value for keys that are missing (an older writer), and reads
 * null as "missing" for arrays and nested structs. A value of the wrong
 * type, an integer out of range, an unknown enum name, invalid JSON or
 * text after the value is -EINVAL. (json-c itself clamps integers beyond
 * the 64-bit range while parsing; those cannot be told apart.)
 *
 * The seed's libxl JSON helpers map onto the generic names:
 *   libxl_domain_snapshot_to_json   -> ferry_domain_snapshot_to_json
 *   libxl_domain_snapshot_from_json -> ferry_domain_snapshot_from_json
 *   libxl_disk_snapshot_to_json     -> ferry_disk_snapshot_to_json
 *   libxl_disk_snapshot_from_json   -> ferry_disk_snapshot_from_json
 * with no libxl_ctx argument: errors go to ferry_last_error().
 *
 * The type the seed's design calls "volume" is struct ferry_volume_info,
 * since struct ferry_volume is the open volume of <ferry/volume.h>.
 *
 * Thread safety: the functions keep no state; objects are not locked.
 */
#ifndef FERRY_OBJECTS_H
#define FERRY_OBJECTS_H

#include <ferry/error.h>
#include <ferry/types.h>

#endif
