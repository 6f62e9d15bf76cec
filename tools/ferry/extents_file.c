/* Extent files: one "START_SECTOR SECTOR_COUNT" pair per line. Blank lines
 * and lines starting with '#' are skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Bounds that turn an endless or binary input into an error, not a hang:
 * a line of an extents file is short, and a list beyond this many extents
 * (512 MiB of memory) is no list a platform gives. */
#define LINE_MAX_BYTES 4096
#define EXTENTS_MAX (32u << 20)

/* Reads one line (without its newline) into buf: 1 a line, 0 the end,
 * -1 an error (reported). */
static int read_line(FILE *f, const char *path, size_t lineno, char *buf)
{
  size_t n = 0;
  int c;
  while ((c = getc(f)) != EOF && c != '\n') {
    if (c == '\0') {
      cli_error("%s:%zu: a NUL byte: not a text file of extents", path,
                lineno);
      return -1;
    }
    if (n == LINE_MAX_BYTES) {
      cli_error("%s:%zu: line longer than %d bytes: not a file of extents",
                path, lineno, LINE_MAX_BYTES);
      return -1;
    }
    buf[n++] = (char)c;
  }
  buf[n] = '\0';
  if (c == EOF && ferror(f)) {
    cli_error("extents file '%s': read error: %s", path, strerror(errno));
    return -1;
  }
  return c == EOF && n == 0 ? 0 : 1;
}

int extents_file_read(const char *path, struct ferry_extent **out, size_t *n)
{
  FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
  if (!f) {
    cli_error("extents file '%s': %s", path, strerror(errno));
    return -1;
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    cli_error("extents file '%s' is a directory", path);
    if (f != stdin)
      fclose(f);
    return -1;
  }
  size_t cap = 0, count = 0, lineno = 0;
  struct ferry_extent *v = NULL;
  char line[LINE_MAX_BYTES + 1];
  int r = 0, got;
  while (r == 0 && (got = read_line(f, path, ++lineno, line)) != 0) {
    if (got < 0) {
      r = -1;
      break;
    }
    const char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p || *p == '#')
      continue;
    uint64_t start, count_s;
    if (!parse_u64(&p, &start) || !parse_u64(&p, &count_s)) {
      cli_error("%s:%zu: expected 'START_SECTOR SECTOR_COUNT' (two whole "
                "numbers): %s", path, lineno, line);
      r = -1;
      break;
    }
    while (isspace((unsigned char)*p))
      p++;
    if (*p) {
      cli_error("%s:%zu: trailing text: %s", path, lineno, line);
      r = -1;
      break;
    }
    if (count_s == 0 || start > UINT64_MAX / 512 ||
        count_s > UINT64_MAX / 512 || start * 512 > UINT64_MAX - count_s * 512) {
      cli_error("%s:%zu: %s: %s", path, lineno,
                count_s == 0 ? "sector count is zero" : "range overflows",
                line);
      r = -1;
      break;
    }
    if (count == EXTENTS_MAX) {
      cli_error("%s:%zu: more than %u extents: not a list of changed areas "
                "(merge them, or copy with --allocated)", path, lineno,
                EXTENTS_MAX);
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
