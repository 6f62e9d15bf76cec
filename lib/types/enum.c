/* Enums: C value <-> name, for any enum described by gentypes.py. */
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "object.h"

const char *ferry_enum_name(const struct ferry_enum_desc *e, int v)
{
  return v >= 0 && v < e->n ? e->values[v] : NULL;
}

/* Case-insensitive on input ("Running" from a user or a platform), while
 * output is always the lower-case name. */
int ferry_enum_parse(const struct ferry_enum_desc *e, const char *s, int *v)
{
  if (!s)
    return ferry_error(EINVAL, "no %s given", e->name);
  for (int i = 0; i < e->n; i++) {
    if (strcasecmp(s, e->values[i]) == 0) {
      *v = i;
      return 0;
    }
  }
  char list[512] = "";
  size_t len = 0;
  for (int i = 0; i < e->n && len < sizeof list; i++)
    len += snprintf(list + len, sizeof list - len, "%s%s",
                    i == 0 ? "" : i == e->n - 1 ? " or " : ", ",
                    e->values[i]);
  return ferry_error(EINVAL, "unknown %s '%s' (expected %s)", e->name, s,
                     list);
}
