/* Extent files: one "START_SECTOR SECTOR_COUNT" pair per line. Blank lines
 * and lines starting with '#' are skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool parse_u64(const char **p, uint64_t *out)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
  if (!isdigit((unsigned char)**p))
    return false;
  uint64_t v = 0;
  for (; isdigit((unsigned char)**p); (*p)++) {
    unsigned d = **p - '0';
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

int extents_file_read(const char *path, struct ferry_extent **out, size_t *n)
{
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    cli_error("extents file '%s': %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 0, count = 0, lineno = 0;
  struct ferry_extent *v = NULL;
  char *line = NULL;
  size_t len = 0;
  int r = 0;
  while (getline(&line, &len, f) >= 0) {
    lineno++;
    const char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p || *p == '#')
      continue;
    uint64_t start, count_s;
    if (!parse_u64(&p, &start) || !parse_u64(&p, &count_s)) {
      cli_error("%s:%zu: expected 'START_SECTOR SECTOR_COUNT' (two whole "
                "numbers): %.*s", path, lineno, (int)strcspn(line, "\n"), line);
      r = -1;
      break;
    }
    while (isspace((unsigned char)*p))
      p++;
    if (*p) {
      cli_error("%s:%zu: trailing text: %.*s", path, lineno,
                (int)strcspn(line, "\n"), line);
      r = -1;
      break;
    }
    if (count_s == 0 || start > UINT64_MAX / 512 ||
        count_s > UINT64_MAX / 512 || start * 512 > UINT64_MAX - count_s * 512) {
      cli_error("%s:%zu: %s: %.*s", path, lineno,
                count_s == 0 ? "sector count is zero" : "range overflows",
                (int)strcspn(line, "\n"), line);
      r = -1;
      break;
    }
    if (count == cap) {
      cap = cap ? cap * 2 : 256;
      struct ferry_extent *nv = realloc(v, cap * sizeof *nv);
      if (!nv) {
        cli_error("out of memory");
        r = -1;
        break;
      }
      v = nv;
    }
    v[count].offset = start * 512;
    v[count].length = count_s * 512;
    count++;
  }
  free(line);
  if (f != stdin)
    fclose(f);
  if (r < 0) {
    free(v);
    return r;
  }
  *out = v;
  *n = count;
  return 0;
}
