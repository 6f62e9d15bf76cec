/* A disk's changed areas from a volume's extents (changed_areas.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../volume/volume.h"
#include "changed_areas.h"

int changed_extents_add(struct ferry_volume *v, unsigned skip,
                        struct extent_list *l)
{
  struct extent_map m = { 0 };
  int r = volume_extents(v, 0, (uint64_t)v->size, &m);
  for (size_t i = 0; r == 0 && i < m.n; i++)
    if (!(m.v[i].flags & skip))
      r = extent_list_push(l, m.v[i].offset, m.v[i].length);
  extent_map_free(&m);
  return r;
}

int changed_areas_fill(struct ferry_changed_areas *out, const char *disk,
                       const char *from, const char *to,
                       struct extent_list *l)
{
  extents_normalize(l);
  ferry_changed_areas_init(out);
  int r = 0;
  if (!(out->disk_id = strdup(disk)) ||
      !(out->from_snapshot = strdup(from)) ||
      !(out->to_snapshot = strdup(to)))
    r = ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; i < l->n && r == 0; i++) {
    struct ferry_changed_area *a = ferry_changed_areas_areas_append(out);
    if (!a)
      r = ferry_error(ENOMEM, "out of memory");
    else
      a->start = l->v[i].offset, a->length = l->v[i].length;
  }
  if (r < 0)
    ferry_changed_areas_dispose(out);
  return r;
}
