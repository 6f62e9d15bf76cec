/* Reading CloudTower's answers and making its filters (elf.h). */
#include <string.h>

#include "elf.h"

const char *elf_str(json_object *o, const char *key)
{
  json_object *v;
  if (!o || !json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return "";
  return json_object_get_string(v);
}

int64_t elf_int(json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex(o, key, &v) && v
             ? json_object_get_int64(v) : 0;
}

bool elf_bool(json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex(o, key, &v) && v &&
         json_object_get_boolean(v);
}

const char *elf_nested_id(json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex(o, key, &v) && v ? elf_str(v, "id")
                                                         : "";
}

json_object *elf_where_kv(const char *key, json_object *value)
{
  json_object *w = json_object_new_object();
  json_object_object_add(w, key, value);
  return w;
}

json_object *elf_where_id(const char *id)
{
  return elf_where_kv("id", json_object_new_string(id));
}
