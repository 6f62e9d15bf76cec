/* Internal: a string member of a JSON object. */
#ifndef FERRY_CORE_JSON_STR_H
#define FERRY_CORE_JSON_STR_H

#include <json-c/json.h>

/* o[key] when it is a string, else NULL (also for o NULL). */
static inline const char *json_str(json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex(o, key, &v) &&
                 json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

#endif
