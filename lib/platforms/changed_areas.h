/* Internal: a disk's changed areas from the extents of a volume whose
 * map says them (a dirty bitmap's export: changed as data, clean as
 * holes; or a point in time's allocation, for "everything since none"). */
#ifndef FERRY_PLATFORMS_CHANGED_AREAS_H
#define FERRY_PLATFORMS_CHANGED_AREAS_H

#include <ferry/platform.h>

#include "../core/extent.h"

struct ferry_volume;

/* Appends to l the extents of v over its whole size, but those flagged
 * any of skip (FERRY_EXTENT_HOLE, FERRY_EXTENT_ZERO). */
int changed_extents_add(struct ferry_volume *v, unsigned skip,
                        struct extent_list *l);

/* out (initialized here) as the areas l of disk between from and to; l is
 * normalized (sorted and merged) first. */
int changed_areas_fill(struct ferry_changed_areas *out, const char *disk,
                       const char *from, const char *to,
                       struct extent_list *l);

#endif
