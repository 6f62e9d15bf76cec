/* Internal: byte extent lists (validate, sort, merge, split). */
#ifndef FERRY_CORE_EXTENT_H
#define FERRY_CORE_EXTENT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <ferry/sync.h>
#include <ferry/volume.h>

struct extent_list {
  struct ferry_extent *v;
  size_t n, cap;
};

void extent_list_free(struct extent_list *l);
int extent_list_push(struct extent_list *l, uint64_t offset, uint64_t length);

/* Parses an extents text (one "START_SECTOR SECTOR_COUNT" pair per line,
 * blank lines and '#' comments skipped) from f into out; name is for the
 * messages (FILE:LINE). A NUL byte, an overlong line, more than 32 Mi
 * extents or a read error is an error, never a short list. */
int extents_parse_text(FILE *f, const char *name, struct extent_list *out);

/* Converts the seed's (start sector, sector count) arrays to byte extents,
 * checking each for zero length and overflow. */
int extents_from_sectors(const uint64_t *start, const uint64_t *sector,
                         int length, struct extent_list *out);

/* Checks every extent for zero length, overflow and (when size >= 0) its
 * end beyond the volume's last sector, counting a partial last sector in;
 * the message names the extent's index and range and `what` (e.g. "source
 * volume disk.img"). */
int extents_check(const struct ferry_extent *v, size_t n, int64_t size,
                  const char *what);

/* Sorts by offset and merges overlapping and adjacent extents in place. */
void extents_normalize(struct extent_list *l);

/* Total bytes of a list. */
uint64_t extents_total(const struct extent_list *l);

/* The length of the first request of [offset, offset+length) when cut at
 * multiples of max. */
uint64_t extent_split_first(uint64_t offset, uint64_t length, uint64_t max);

#endif
