/* The generic engine, JSON side: any type described by a field table (see
 * object.h) to and from json-c objects and text.
 *
 * Errors name the path of the bad value ("disks[1].capacity: expected an
 * unsigned integer, got a string"): the innermost code names the field and
 * each enclosing array or struct prefixes its own part on the way out. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "object.h"

/* "got ..." in messages. */
static const char *what(json_object *j)
{
  switch (json_object_get_type(j)) {
  case json_type_null: return "null";
  case json_type_boolean: return "a boolean";
  case json_type_double: return "a number with a fraction or exponent";
  case json_type_int: return "an integer";
  case json_type_object: return "an object";
  case json_type_array: return "an array";
  case json_type_string: return "a string";
  }
  return "something else";
}

/* ---------------------------------------------------------------- to JSON */

static int object_to(const struct ferry_type_desc *t, const void *p,
                     json_object **out);

/* NULL is JSON null, which json-c represents as a NULL object. */
static int string_to(const char *s, json_object **out)
{
  *out = NULL;
  if (s && !(*out = json_object_new_string(s)))
    return ferry_obj_oom();
  return 0;
}

/* name is the field's name, or "" for a top-level list. */
static int array_to(const struct ferry_field_desc *f,
                    const struct ferry_type_desc *t, const char *name,
                    const void *v, size_t n, json_object **out)
{
  if (n && !v)
    return ferry_error(EINVAL, "%s: NULL array with %zu elements",
                       *name ? name : "list", n);
  bool strings = f && f->kind == FERRY_KIND_STRING_ARRAY;
  json_object *a = json_object_new_array();
  if (!a)
    return ferry_obj_oom();
  for (size_t i = 0; i < n; i++) {
    json_object *e;
    int r = strings ? string_to(((char *const *)v)[i], &e)
                    : object_to(t, (const char *)v + i * t->size, &e);
    if (r == 0 && json_object_array_add(a, e) < 0) {
      json_object_put(e);
      r = ferry_obj_oom();
    }
    if (r < 0) {
      json_object_put(a);
      return FERRY_OBJ_PATH(r, strings ? "%s[%zu]: " : "%s[%zu].", name,
                            i);
    }
  }
  *out = a;
  return 0;
}

static int field_to(const struct ferry_field_desc *f, const void *p,
                    json_object **out)
{
  const void *m = ferry_cmember(p, f->offset);
  int r;
  *out = NULL;
  switch (f->kind) {
  case FERRY_KIND_STRING: {
    /* A string field that is NULL or "" is none, written as null, so that
     * a reader never has to tell "" from null. (An element of a string
     * array is a value, and "" stays "".) */
    const char *s = *(char *const *)m;
    return string_to(s && *s ? s : NULL, out);
  }
  case FERRY_KIND_BOOL:
    *out = json_object_new_boolean(*(const bool *)m);
    break;
  case FERRY_KIND_INT64:
    *out = json_object_new_int64(*(const int64_t *)m);
    break;
  case FERRY_KIND_UINT64:
    *out = json_object_new_uint64(*(const uint64_t *)m);
    break;
  case FERRY_KIND_ENUM: {
    const char *name = ferry_enum_name(f->enm, *(const int *)m);
    if (!name)
      return ferry_error(EINVAL, "%s: %d is not a %s value", f->name,
                         *(const int *)m, f->enm->name);
    return string_to(name, out);
  }
  case FERRY_KIND_STRUCT:
    if ((r = object_to(f->type, m, out)) < 0)
      return FERRY_OBJ_PATH(r, "%s.", f->name);
    return 0;
  case FERRY_KIND_STRUCT_ARRAY:
  case FERRY_KIND_STRING_ARRAY:
    return array_to(f, f->type, f->name, ferry_get_ptr(p, f->offset),
                    ferry_get_count(p, f), out);
  }
  return *out ? 0 : ferry_obj_oom();
}

static int object_to(const struct ferry_type_desc *t, const void *p,
                     json_object **out)
{
  json_object *o = json_object_new_object();
  if (!o)
    return ferry_obj_oom();
  for (size_t i = 0; i < t->n_fields; i++) {
    json_object *v;
    int r = field_to(&t->fields[i], p, &v);
    if (r == 0 && json_object_object_add(o, t->fields[i].name, v) < 0) {
      json_object_put(v);
      r = ferry_obj_oom();
    }
    if (r < 0) {
      json_object_put(o);
      return r;
    }
  }
  *out = o;
  return 0;
}

struct json_object *ferry_obj_to_jsonc(const struct ferry_type_desc *t,
                                       const void *p)
{
  json_object *o;
  return object_to(t, p, &o) < 0 ? NULL : o;
}

/* Compact, and "/" left alone: paths are common in these objects. */
static char *to_text(json_object *j)
{
  const char *s = json_object_to_json_string_ext(
      j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *copy = s ? strdup(s) : NULL;
  if (!copy)
    ferry_obj_oom();
  json_object_put(j);
  return copy;
}

char *ferry_obj_to_json(const struct ferry_type_desc *t, const void *p)
{
  json_object *j = ferry_obj_to_jsonc(t, p);
  return j ? to_text(j) : NULL;
}

char *ferry_obj_list_to_json(const struct ferry_type_desc *t, const void *v,
                             size_t n)
{
  json_object *j;
  return array_to(NULL, t, "", v, n, &j) < 0 ? NULL : to_text(j);
}

/* -------------------------------------------------------------- from JSON */

static int object_from(const struct ferry_type_desc *t, void *p,
                       json_object *j);

/* A string or null; "name" is the path for messages. */
static int string_from(json_object *j, char **out, const char *name)
{
  *out = NULL;
  if (!j)
    return 0;
  if (!json_object_is_type(j, json_type_string))
    return ferry_error(EINVAL, "%s: expected a string or null, got %s", name,
                       what(j));
  const char *s = json_object_get_string(j);
  if (strlen(s) != (size_t)json_object_get_string_len(j))
    return ferry_error(EINVAL, "%s: the string contains a NUL character",
                       name);
  if (!(*out = strdup(s)))
    return ferry_obj_oom();
  return 0;
}

static int int_from(const struct ferry_field_desc *f, json_object *j,
                    void *m)
{
  if (!json_object_is_type(j, json_type_int))
    return ferry_error(EINVAL, "%s: expected %s integer, got %s", f->name,
                       f->kind == FERRY_KIND_UINT64 ? "an unsigned" : "an",
                       what(j));
  /* json-c keeps integers above INT64_MAX as uint64; get_int64 clamps. */
  int64_t i = json_object_get_int64(j);
  uint64_t u = json_object_get_uint64(j);
  if (f->kind == FERRY_KIND_UINT64) {
    if (i < 0)
      return ferry_error(EINVAL, "%s: expected an unsigned integer, got %"
                         PRId64, f->name, i);
    *(uint64_t *)m = u;
  } else {
    if (i >= 0 && (uint64_t)i != u)
      return ferry_error(EINVAL, "%s: %" PRIu64 " is out of range for a "
                         "signed 64-bit integer", f->name, u);
    *(int64_t *)m = i;
  }
  return 0;
}

/* Arrays of structs and of strings; null is an empty array. */
static int array_from(const struct ferry_field_desc *f, void *p,
                      json_object *j)
{
  if (!j)
    return 0;
  if (!json_object_is_type(j, json_type_array))
    return ferry_error(EINVAL, "%s: expected an array, got %s", f->name,
                       what(j));
  size_t n = json_object_array_length(j);
  if (n == 0)
    return 0;
  bool strings = f->kind == FERRY_KIND_STRING_ARRAY;
  size_t size = strings ? sizeof(char *) : f->type->size;
  char *v = calloc(n, size); /* all-zero elements are safe to dispose */
  if (!v)
    return ferry_obj_oom();
  /* Owned by p from here on: on failure, disposing p frees it. */
  ferry_set_ptr(p, f->offset, v);
  *(size_t *)ferry_member(p, f->count_offset) = n;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(j, i);
    char path[256];
    snprintf(path, sizeof path, "%s[%zu]", f->name, i);
    int r;
    if (strings) {
      r = string_from(e, (char **)v + i, path);
    } else {
      void *elem = v + i * size;
      ferry_obj_init(f->type, elem);
      if (!json_object_is_type(e, json_type_object))
        return ferry_error(EINVAL, "%s: expected an object, got %s", path,
                           what(e));
      if ((r = object_from(f->type, elem, e)) < 0)
        FERRY_OBJ_PATH(r, "%s.", path);
    }
    if (r < 0)
      return r;
  }
  return 0;
}

static int field_from(const struct ferry_field_desc *f, void *p,
                      json_object *j)
{
  void *m = ferry_member(p, f->offset);
  int r, v;
  switch (f->kind) {
  case FERRY_KIND_STRING:
    return string_from(j, (char **)m, f->name);
  case FERRY_KIND_BOOL:
    if (!json_object_is_type(j, json_type_boolean))
      return ferry_error(EINVAL, "%s: expected true or false, got %s",
                         f->name, what(j));
    *(bool *)m = json_object_get_boolean(j);
    return 0;
  case FERRY_KIND_INT64:
  case FERRY_KIND_UINT64:
    return int_from(f, j, m);
  case FERRY_KIND_ENUM:
    if (!json_object_is_type(j, json_type_string))
      return ferry_error(EINVAL, "%s: expected a %s name, got %s", f->name,
                         f->enm->name, what(j));
    if ((r = ferry_enum_parse(f->enm, json_object_get_string(j), &v)) < 0)
      return ferry_error_prefix("%s: ", f->name);
    *(int *)m = v;
    return 0;
  case FERRY_KIND_STRUCT:
    if (!j)
      return 0; /* null: as if missing */
    if (!json_object_is_type(j, json_type_object))
      return ferry_error(EINVAL, "%s: expected an object, got %s", f->name,
                         what(j));
    if ((r = object_from(f->type, m, j)) < 0)
      return FERRY_OBJ_PATH(r, "%s.", f->name);
    return 0;
  case FERRY_KIND_STRUCT_ARRAY:
  case FERRY_KIND_STRING_ARRAY:
    return array_from(f, p, j);
  }
  return 0;
}

/* p is initialized and j is an object. Unknown keys are ignored (newer
 * writers), missing ones keep their initial value (older writers). */
static int object_from(const struct ferry_type_desc *t, void *p,
                       json_object *j)
{
  for (size_t i = 0; i < t->n_fields; i++) {
    json_object *v;
    if (!json_object_object_get_ex(j, t->fields[i].name, &v))
      continue;
    int r = field_from(&t->fields[i], p, v);
    if (r < 0)
      return r;
  }
  return 0;
}

int ferry_obj_from_jsonc(const struct ferry_type_desc *t, void *p,
                         struct json_object *j)
{
  ferry_obj_init(t, p);
  if (!json_object_is_type(j, json_type_object))
    return ferry_error(EINVAL, "%s: expected a JSON object, got %s", t->name,
                       what(j));
  int r = object_from(t, p, j);
  if (r < 0)
    ferry_obj_dispose(t, p);
  return r;
}

/* Parses a whole text: one JSON value and nothing after it. */
static int parse(const char *s, const char *type, json_object **out)
{
  *out = NULL;
  if (!s)
    return ferry_error(EINVAL, "%s: no JSON text (NULL)", type);
  size_t len = strlen(s);
  if (len >= INT_MAX)
    return ferry_error(EFBIG, "%s: JSON text of %zu bytes is too long", type,
                       len);
  struct json_tokener *tok = json_tokener_new();
  if (!tok)
    return ferry_obj_oom();
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                  JSON_TOKENER_VALIDATE_UTF8);
  /* The final NUL is passed too: it ends a number or literal at the end. */
  *out = json_tokener_parse_ex(tok, s, (int)len + 1);
  enum json_tokener_error e = json_tokener_get_error(tok);
  int r = 0;
  if (e != json_tokener_success)
    r = ferry_error(EINVAL, "%s: invalid JSON at offset %zu: %s", type,
                    json_tokener_get_parse_end(tok),
                    json_tokener_error_desc(e));
  json_tokener_free(tok);
  return r;
}

int ferry_obj_from_json(const struct ferry_type_desc *t, void *p,
                        const char *s)
{
  json_object *j;
  int r = parse(s, t->name, &j);
  if (r < 0) {
    ferry_obj_init(t, p);
    return r;
  }
  r = ferry_obj_from_jsonc(t, p, j);
  json_object_put(j);
  return r;
}

int ferry_obj_list_from_json(const struct ferry_type_desc *t, void **v,
                             size_t *n, const char *s)
{
  void *none = NULL;
  memcpy(v, &none, sizeof none); /* *v is some struct T *, not a void * */
  *n = 0;
  json_object *j;
  int r = parse(s, t->name, &j);
  if (r < 0)
    return r;
  if (!json_object_is_type(j, json_type_array)) {
    r = ferry_error(EINVAL, "%s list: expected a JSON array, got %s",
                    t->name, what(j));
    json_object_put(j);
    return r;
  }
  size_t len = json_object_array_length(j);
  char *a = len ? calloc(len, t->size) : NULL;
  if (len && !a)
    r = ferry_obj_oom();
  for (size_t i = 0; r == 0 && i < len; i++) {
    json_object *e = json_object_array_get_idx(j, i);
    ferry_obj_init(t, a + i * t->size);
    if (!json_object_is_type(e, json_type_object))
      r = ferry_error(EINVAL, "[%zu]: expected an object, got %s", i,
                      what(e));
    else if ((r = object_from(t, a + i * t->size, e)) < 0)
      FERRY_OBJ_PATH(r, "[%zu].", i);
  }
  json_object_put(j);
  if (r < 0) {
    ferry_obj_list_free(t, a, len);
    return r;
  }
  memcpy(v, &a, sizeof a);
  *n = len;
  return 0;
}
