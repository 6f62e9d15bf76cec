/* Directory scans; see dirscan.h. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dirscan.h"
#include "error.h"

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void dir_scan_free(char **names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

int dir_scan(const char *dir, bool (*want)(const char *name, void *opaque),
             void *opaque, char ***names, size_t *n)
{
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : ferry_error(errno, "%s: %s", dir,
                                             strerror(errno));
  char **v = NULL;
  size_t count = 0, cap = 0;
  int r = 0;
  struct dirent *e;
  /* readdir tells its end from an error by errno alone */
  while (r == 0 && (errno = 0, e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
        !want(e->d_name, opaque))
      continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 16;
      char **nv = realloc(v, cap * sizeof *nv);
      if (!nv) {
        r = ferry_error(ENOMEM, "out of memory");
        break;
      }
      v = nv;
    }
    if (!(v[count] = strdup(e->d_name)))
      r = ferry_error(ENOMEM, "out of memory");
    else
      count++;
  }
  if (r == 0 && !e && errno)
    r = ferry_error(errno, "%s: %s", dir, strerror(errno));
  closedir(d);
  if (r < 0) {
    dir_scan_free(v, count);
    return r;
  }
  if (count)
    qsort(v, count, sizeof *v, by_name);
  *names = v;
  *n = count;
  return 0;
}
