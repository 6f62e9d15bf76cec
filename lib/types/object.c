/* The generic engine, memory side: init, dispose, copy, equal and arrays of
 * any type described by a field table (see object.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"

static size_t scalar_size(enum ferry_kind k)
{
  switch (k) {
  case FERRY_KIND_BOOL: return sizeof(bool);
  case FERRY_KIND_INT64: return sizeof(int64_t);
  case FERRY_KIND_UINT64: return sizeof(uint64_t);
  case FERRY_KIND_ENUM: return sizeof(int);
  default: return 0;
  }
}

void ferry_obj_init(const struct ferry_type_desc *t, void *p)
{
  memset(p, 0, t->size); /* strings NULL, arrays empty */
  for (size_t i = 0; i < t->n_fields; i++) {
    const struct ferry_field_desc *f = &t->fields[i];
    void *m = ferry_member(p, f->offset);
    switch (f->kind) {
    case FERRY_KIND_BOOL: *(bool *)m = f->init != 0; break;
    case FERRY_KIND_INT64: *(int64_t *)m = f->init; break;
    case FERRY_KIND_UINT64: *(uint64_t *)m = f->init_u; break;
    case FERRY_KIND_ENUM: *(int *)m = (int)f->init; break;
    case FERRY_KIND_STRUCT: ferry_obj_init(f->type, m); break;
    default: break;
    }
  }
}

static void free_strings(char **v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

/* Frees what p owns without re-initializing it: all-zero memory (calloc)
 * is fine too, which is what makes list_free safe on partial arrays. */
static void release(const struct ferry_type_desc *t, void *p)
{
  for (size_t i = 0; i < t->n_fields; i++) {
    const struct ferry_field_desc *f = &t->fields[i];
    void *m = ferry_member(p, f->offset);
    switch (f->kind) {
    case FERRY_KIND_STRING: free(*(char **)m); break;
    case FERRY_KIND_STRUCT: release(f->type, m); break;
    case FERRY_KIND_STRUCT_ARRAY:
      ferry_obj_list_free(f->type, ferry_get_ptr(p, f->offset),
                          ferry_get_count(p, f));
      break;
    case FERRY_KIND_STRING_ARRAY:
      free_strings(*(char ***)m, ferry_get_count(p, f));
      break;
    default: break;
    }
  }
}

void ferry_obj_dispose(const struct ferry_type_desc *t, void *p)
{
  if (!p)
    return;
  release(t, p);
  ferry_obj_init(t, p); /* so that disposing twice is harmless */
}

void ferry_obj_list_free(const struct ferry_type_desc *t, void *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    release(t, (char *)v + i * t->size);
  free(v);
}

void *ferry_obj_list_append(const struct ferry_type_desc *t, void **v,
                            size_t *n)
{
  if (*n >= SIZE_MAX / t->size - 1) {
    ferry_obj_oom();
    return NULL;
  }
  char *grown = realloc(*v, (*n + 1) * t->size);
  if (!grown) {
    ferry_obj_oom();
    return NULL;
  }
  *v = grown;
  void *e = grown + (*n)++ * t->size;
  ferry_obj_init(t, e);
  return e;
}

/* n initialized elements, or NULL for n == 0 (and on ENOMEM, r < 0). */
static void *new_array(const struct ferry_type_desc *t, size_t n, int *r)
{
  *r = 0;
  if (n == 0)
    return NULL;
  char *v = calloc(n, t->size);
  if (!v) {
    *r = ferry_obj_oom();
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    ferry_obj_init(t, v + i * t->size);
  return v;
}

static int copy_string(char **dst, const char *src)
{
  *dst = NULL;
  if (src && !(*dst = strdup(src)))
    return ferry_obj_oom();
  return 0;
}

static int copy_fields(const struct ferry_type_desc *t, void *dst,
                       const void *src);

static int copy_array(const struct ferry_field_desc *f, void *dst,
                      const void *src)
{
  size_t n = ferry_get_count(src, f);
  const char *from = ferry_get_ptr(src, f->offset);
  if (n && !from)
    return ferry_error(EINVAL, "%s: NULL array with %zu elements", f->name,
                       n);
  int r;
  if (f->kind == FERRY_KIND_STRING_ARRAY) {
    char **to = n ? calloc(n, sizeof *to) : NULL;
    if (n && !to)
      return ferry_obj_oom();
    ferry_set_ptr(dst, f->offset, to);
    *(size_t *)ferry_member(dst, f->count_offset) = n;
    for (size_t i = 0; i < n; i++)
      if ((r = copy_string(&to[i], ((char *const *)from)[i])) < 0)
        return r;
    return 0;
  }
  size_t size = f->type->size;
  char *to = new_array(f->type, n, &r);
  if (r < 0)
    return r;
  ferry_set_ptr(dst, f->offset, to);
  *(size_t *)ferry_member(dst, f->count_offset) = n;
  for (size_t i = 0; i < n; i++)
    if ((r = copy_fields(f->type, to + i * size, from + i * size)) < 0)
      return FERRY_OBJ_PATH(r, "%s[%zu].", f->name, i);
  return 0;
}

/* dst is initialized; on failure it holds what was copied so far, which the
 * caller disposes. */
static int copy_fields(const struct ferry_type_desc *t, void *dst,
                       const void *src)
{
  for (size_t i = 0; i < t->n_fields; i++) {
    const struct ferry_field_desc *f = &t->fields[i];
    void *d = ferry_member(dst, f->offset);
    const void *s = ferry_cmember(src, f->offset);
    int r = 0;
    switch (f->kind) {
    case FERRY_KIND_STRING:
      r = copy_string((char **)d, *(char *const *)s);
      break;
    case FERRY_KIND_STRUCT:
      if ((r = copy_fields(f->type, d, s)) < 0)
        FERRY_OBJ_PATH(r, "%s.", f->name);
      break;
    case FERRY_KIND_STRUCT_ARRAY:
    case FERRY_KIND_STRING_ARRAY:
      r = copy_array(f, dst, src);
      break;
    default:
      memcpy(d, s, scalar_size(f->kind));
      break;
    }
    if (r < 0)
      return r;
  }
  return 0;
}

int ferry_obj_copy(const struct ferry_type_desc *t, void *dst,
                   const void *src)
{
  ferry_obj_init(t, dst);
  int r = copy_fields(t, dst, src);
  if (r < 0)
    ferry_obj_dispose(t, dst);
  return r;
}

static bool str_equal(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

bool ferry_obj_string_set(char **field, const char *s)
{
  free(*field);
  *field = s && *s ? strdup(s) : NULL;
  return !(s && *s) || *field;
}

/* A string field's NULL and "" are both none (see field_to in
 * object_json.c), so records equal before a JSON round trip stay equal. */
static bool field_str_equal(const char *a, const char *b)
{
  return str_equal(a && *a ? a : NULL, b && *b ? b : NULL);
}

static bool array_equal(const struct ferry_field_desc *f, const void *a,
                        const void *b)
{
  size_t n = ferry_get_count(a, f);
  if (n != ferry_get_count(b, f))
    return false;
  const char *va = ferry_get_ptr(a, f->offset);
  const char *vb = ferry_get_ptr(b, f->offset);
  for (size_t i = 0; i < n; i++) {
    if (f->kind == FERRY_KIND_STRING_ARRAY) {
      if (!str_equal(((char *const *)va)[i], ((char *const *)vb)[i]))
        return false;
    } else if (!ferry_obj_equal(f->type, va + i * f->type->size,
                                vb + i * f->type->size)) {
      return false;
    }
  }
  return true;
}

bool ferry_obj_equal(const struct ferry_type_desc *t, const void *a,
                     const void *b)
{
  if (!a || !b)
    return a == b;
  for (size_t i = 0; i < t->n_fields; i++) {
    const struct ferry_field_desc *f = &t->fields[i];
    const void *ma = ferry_cmember(a, f->offset);
    const void *mb = ferry_cmember(b, f->offset);
    bool same;
    switch (f->kind) {
    case FERRY_KIND_STRING:
      same = field_str_equal(*(char *const *)ma, *(char *const *)mb);
      break;
    case FERRY_KIND_BOOL: same = *(const bool *)ma == *(const bool *)mb; break;
    case FERRY_KIND_STRUCT: same = ferry_obj_equal(f->type, ma, mb); break;
    case FERRY_KIND_STRUCT_ARRAY:
    case FERRY_KIND_STRING_ARRAY: same = array_equal(f, a, b); break;
    default: same = memcmp(ma, mb, scalar_size(f->kind)) == 0; break;
    }
    if (!same)
      return false;
  }
  return true;
}

/* Grows an array by one; the caller's count stays right on failure. */
static void *grow(const struct ferry_field_desc *f, void *p, size_t size)
{
  size_t n = ferry_get_count(p, f);
  if (n >= SIZE_MAX / size - 1) {
    ferry_obj_oom();
    return NULL;
  }
  char *v = realloc(ferry_get_ptr(p, f->offset), (n + 1) * size);
  if (!v) {
    ferry_obj_oom();
    return NULL;
  }
  ferry_set_ptr(p, f->offset, v);
  *(size_t *)ferry_member(p, f->count_offset) = n + 1;
  return v + n * size;
}

void *ferry_obj_array_append(const struct ferry_field_desc *f, void *p)
{
  void *e = grow(f, p, f->type->size);
  if (e)
    ferry_obj_init(f->type, e);
  return e;
}

int ferry_obj_strings_append(const struct ferry_field_desc *f, void *p,
                             const char *s)
{
  char *copy;
  int r = copy_string(&copy, s);
  if (r < 0)
    return r;
  char **e = grow(f, p, sizeof *e);
  if (!e) {
    free(copy);
    return -ENOMEM;
  }
  *e = copy;
  return 0;
}
