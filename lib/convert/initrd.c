/* Which module files a set of kernel modules needs, from the kernel's
 * modules.dep: what the archive appended to an initramfs holds (the
 * kernel unpacks every archive of an initramfs in turn, compressed or
 * not, later files replacing earlier ones, so one more archive adds
 * modules without rebuilding it in the guest, which under the
 * appliance's TCG costs a minute). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "initrd.h"

/* A module's name from its file: kernel/drivers/block/virtio_blk.ko ->
 * virtio_blk ('-' and '_' are one to modprobe). */
static void module_name(const char *path, size_t len, char *out, size_t max)
{
  const char *b = path;
  for (size_t i = 0; i < len; i++)
    if (path[i] == '/')
      b = path + i + 1;
  size_t n = (size_t)(path + len - b);
  const char *dot = memchr(b, '.', n);
  if (dot)
    n = (size_t)(dot - b);
  if (n >= max)
    n = max - 1;
  for (size_t i = 0; i < n; i++)
    out[i] = b[i] == '-' ? '_' : b[i];
  out[n] = '\0';
}

static bool builtin(const char *modules_builtin, const char *name)
{
  char m[256];
  for (const char *l = modules_builtin; l && *l;) {
    size_t len = strcspn(l, "\n");
    module_name(l, len, m, sizeof m);
    if (!strcmp(m, name))
      return true;
    l += len + (l[len] == '\n');
  }
  return false;
}

static int add(char ***paths, size_t *n, const char *p, size_t len)
{
  for (size_t i = 0; i < *n; i++)
    if (strlen((*paths)[i]) == len && !memcmp((*paths)[i], p, len))
      return 0;
  char **v = realloc(*paths, (*n + 1) * sizeof *v);
  if (!v || !(v[*n] = strndup(p, len))) {
    if (v)
      *paths = v;
    return ferry_error(ENOMEM, "out of memory");
  }
  *paths = v;
  (*n)++;
  return 0;
}

int initrd_modules(const char *modules_dep, const char *modules_builtin,
                   const char *const *want, char ***paths, size_t *n)
{
  *paths = NULL;
  *n = 0;
  int r = 0;
  for (size_t w = 0; r == 0 && want[w]; w++) {
    if (builtin(modules_builtin, want[w]))
      continue;
    const char *line = NULL;
    size_t llen = 0;
    char m[256];
    for (const char *l = modules_dep; l && *l && !line;) {
      size_t len = strcspn(l, "\n"), colon = strcspn(l, ":");
      if (colon < len) {
        module_name(l, colon, m, sizeof m);
        if (!strcmp(m, want[w]))
          line = l, llen = len;
      }
      l += len + (l[len] == '\n');
    }
    if (!line) {
      r = ferry_error(ENOENT, "the guest's kernel has no module %s",
                      want[w]);
      break;
    }
    /* "path: dep dep ...": modules.dep lists every dependency, the
     * nearest first; the deepest go into the list first */
    size_t colon = strcspn(line, ":");
    const char *deps = line + colon + 1, *end = line + llen;
    const char *starts[64];
    size_t lens[64], k = 0;
    for (const char *p = deps; p < end && k < 64;) {
      while (p < end && *p == ' ')
        p++;
      const char *q = p;
      while (q < end && *q != ' ')
        q++;
      if (q > p) {
        starts[k] = p;
        lens[k++] = (size_t)(q - p);
      }
      p = q;
    }
    while (r == 0 && k > 0) {
      k--;
      r = add(paths, n, starts[k], lens[k]);
    }
    if (r == 0)
      r = add(paths, n, line, colon);
  }
  if (r < 0) {
    initrd_modules_free(*paths, *n);
    *paths = NULL;
    *n = 0;
  }
  return r;
}

void initrd_modules_free(char **paths, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}
