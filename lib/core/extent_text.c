/* Extent lists as text: one "START_SECTOR SECTOR_COUNT" pair per line,
 * blank lines and '#' comments skipped; see extent.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "extent.h"

/* Bounds that turn an endless or binary input into an error, not a hang:
 * a line of an extents file is short, and a list beyond this many extents
 * (512 MiB of memory) is no list a platform gives. */
#define LINE_MAX_BYTES 4096
#define EXTENTS_MAX (32u << 20)

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

/* Reads one line (without its newline) into buf: 1 a line, 0 the end,
 * -errno an error. */
static int read_line(FILE *f, const char *name, size_t lineno, char *buf)
{
  size_t n = 0;
  int c;
  while ((c = getc(f)) != EOF && c != '\n') {
    if (c == '\0')
      return ferry_error(EINVAL, "%s:%zu: a NUL byte: not a text file of "
                         "extents", name, lineno);
    if (n == LINE_MAX_BYTES)
      return ferry_error(EINVAL, "%s:%zu: line longer than %d bytes: not a "
                         "file of extents", name, lineno, LINE_MAX_BYTES);
    buf[n++] = (char)c;
  }
  buf[n] = '\0';
  if (c == EOF && ferror(f))
    return ferry_error(errno ? errno : EIO, "%s: read error: %s", name,
                       strerror(errno ? errno : EIO));
  return c == EOF && n == 0 ? 0 : 1;
}

int extents_parse_text(FILE *f, const char *name, struct extent_list *out)
{
  size_t lineno = 0;
  char line[LINE_MAX_BYTES + 1];
  int got;
  while ((got = read_line(f, name, ++lineno, line)) != 0) {
    if (got < 0)
      return got;
    const char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p || *p == '#')
      continue;
    uint64_t start, count;
    if (!parse_u64(&p, &start) || !parse_u64(&p, &count))
      return ferry_error(EINVAL, "%s:%zu: expected 'START_SECTOR "
                         "SECTOR_COUNT' (two whole numbers): %s", name,
                         lineno, line);
    while (isspace((unsigned char)*p))
      p++;
    if (*p)
      return ferry_error(EINVAL, "%s:%zu: trailing text: %s", name, lineno,
                         line);
    if (count == 0 || start > UINT64_MAX / 512 || count > UINT64_MAX / 512 ||
        start * 512 > UINT64_MAX - count * 512)
      return ferry_error(EINVAL, "%s:%zu: %s: %s", name, lineno,
                         count == 0 ? "sector count is zero"
                                    : "range overflows", line);
    if (out->n == EXTENTS_MAX)
      return ferry_error(E2BIG, "%s:%zu: more than %u extents: not a list "
                         "of changed areas (merge them, or copy with "
                         "--allocated)", name, lineno, EXTENTS_MAX);
    int r = extent_list_push(out, start * 512, count * 512);
    if (r < 0)
      return r;
  }
  return 0;
}

int ferry_extents_read(const char *path, struct ferry_extent **out, size_t *n)
{
  ferry_error_clear();
  *out = NULL;
  *n = 0;
  bool std = !strcmp(path, "-");
  FILE *f = std ? stdin : fopen(path, "re");
  if (!f)
    return ferry_error(errno, "extents file '%s': %s", path, strerror(errno));
  struct stat sb;
  int r = 0;
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode))
    r = ferry_error(EISDIR, "extents file '%s' is a directory", path);
  struct extent_list l = { 0 };
  if (r == 0)
    r = extents_parse_text(f, path, &l);
  if (!std)
    fclose(f);
  if (r < 0) {
    extent_list_free(&l);
    return r;
  }
  *out = l.v;
  *n = l.n;
  return 0;
}
