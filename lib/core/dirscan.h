/* Internal: the names in a directory, for loading one object per file. */
#ifndef FERRY_CORE_DIRSCAN_H
#define FERRY_CORE_DIRSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The names of dir's entries that want(name, opaque) takes ("." and ".."
 * never reach it), sorted by strcmp so that every scan sees one order. A
 * missing dir has none (0, *names NULL); any other failure to read it is
 * an error naming it. Free the list with dir_scan_free. */
int dir_scan(const char *dir, bool (*want)(const char *name, void *opaque),
             void *opaque, char ***names, size_t *n);
void dir_scan_free(char **names, size_t n);

#endif
