/* Internal: the generic engine behind every generated type.
 *
 * gentypes.py describes each struct of types.idl as a table of fields; the
 * functions here walk such a table, so init, dispose, copy, equal and the
 * JSON conversions are written once for all types. The generated
 * ferry_<type>_*() functions are one-line wrappers over these.
 */
#ifndef FERRY_TYPES_OBJECT_H
#define FERRY_TYPES_OBJECT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../core/error.h"

struct json_object;

enum ferry_kind {
  FERRY_KIND_STRING,       /* char *; NULL is JSON null */
  FERRY_KIND_BOOL,         /* bool */
  FERRY_KIND_INT64,        /* int64_t */
  FERRY_KIND_UINT64,       /* uint64_t */
  FERRY_KIND_ENUM,         /* a C enum (int-sized); JSON: the value's name */
  FERRY_KIND_STRUCT,       /* a struct by value */
  FERRY_KIND_STRUCT_ARRAY, /* T *f; size_t n_f */
  FERRY_KIND_STRING_ARRAY, /* char **f; size_t n_f */
};

struct ferry_enum_desc {
  const char *name;
  const char *const *values; /* values[i] is the name of C value i */
  int n;
};

struct ferry_type_desc;

struct ferry_field_desc {
  const char *name;                    /* C member and JSON key */
  enum ferry_kind kind;
  size_t offset;
  size_t count_offset;                 /* arrays: offset of the size_t count */
  const struct ferry_type_desc *type;  /* structs: the (element) type */
  const struct ferry_enum_desc *enm;   /* enums */
  int64_t init;                        /* bool, int64, enum: initial value */
  uint64_t init_u;                     /* uint64: initial value */
};

struct ferry_type_desc {
  const char *name;
  size_t size;
  const struct ferry_field_desc *fields;
  size_t n_fields;
};

/* Members are reached by offset. Array pointers are read and written with
 * memcpy: their C type differs per element type, so no single lvalue type
 * may alias them all. */
static inline void *ferry_member(void *p, size_t offset)
{
  return (char *)p + offset;
}

static inline const void *ferry_cmember(const void *p, size_t offset)
{
  return (const char *)p + offset;
}

static inline void *ferry_get_ptr(const void *p, size_t offset)
{
  void *v;
  memcpy(&v, ferry_cmember(p, offset), sizeof v);
  return v;
}

static inline void ferry_set_ptr(void *p, size_t offset, void *v)
{
  memcpy(ferry_member(p, offset), &v, sizeof v);
}

static inline size_t ferry_get_count(const void *p,
                                     const struct ferry_field_desc *f)
{
  return *(const size_t *)ferry_cmember(p, f->count_offset);
}

static inline int ferry_obj_oom(void)
{
  return ferry_error(ENOMEM, "out of memory");
}

/* Puts the path of an enclosing struct or array in front of the current
 * message ("disks[1]." + "capacity: ..."); "out of memory" needs none. */
#define FERRY_OBJ_PATH(r, ...)                                               \
  ((r) == -ENOMEM ? (r) : ferry_error_prefix(__VA_ARGS__))

/* The engine is internal to libferry whatever the version script says:
 * only the generated ferry_<type>_*() wrappers are the API. */
#pragma GCC visibility push(hidden)

/* Memory (object.c). Outputs (p of init, dst of copy) are treated as raw
 * storage: their old contents are overwritten, not freed. */
void ferry_obj_init(const struct ferry_type_desc *t, void *p);
void ferry_obj_dispose(const struct ferry_type_desc *t, void *p);
int ferry_obj_copy(const struct ferry_type_desc *t, void *dst,
                   const void *src);
bool ferry_obj_equal(const struct ferry_type_desc *t, const void *a,
                     const void *b);
void ferry_obj_list_free(const struct ferry_type_desc *t, void *v, size_t n);
/* Appends an initialized element to the list (*v, *n); NULL on ENOMEM. */
void *ferry_obj_list_append(const struct ferry_type_desc *t, void **v,
                            size_t *n);
void *ferry_obj_array_append(const struct ferry_field_desc *f, void *p);
int ferry_obj_strings_append(const struct ferry_field_desc *f, void *p,
                             const char *s);
/* A string member set as the records say it: *field (freed) becomes a copy
 * of s, or none (NULL) when s is NULL or "". False on ENOMEM. */
bool ferry_obj_string_set(char **field, const char *s);
/* The same, for a member named as an lvalue: OBJ_SET(vm->name, name). */
#define OBJ_SET(field, s) ferry_obj_string_set(&(field), (s))

/* JSON (object_json.c). */
struct json_object *ferry_obj_to_jsonc(const struct ferry_type_desc *t,
                                       const void *p);
int ferry_obj_from_jsonc(const struct ferry_type_desc *t, void *p,
                         struct json_object *j);
char *ferry_obj_to_json(const struct ferry_type_desc *t, const void *p);
int ferry_obj_from_json(const struct ferry_type_desc *t, void *p,
                        const char *s);
char *ferry_obj_list_to_json(const struct ferry_type_desc *t, const void *v,
                             size_t n);
int ferry_obj_list_from_json(const struct ferry_type_desc *t, void **v,
                             size_t *n, const char *s);

/* Enums (enum.c). */
const char *ferry_enum_name(const struct ferry_enum_desc *e, int v);
int ferry_enum_parse(const struct ferry_enum_desc *e, const char *s, int *v);

#pragma GCC visibility pop

#endif
