/* A growing string, for building requests and documents (SOAP, libvirt's
 * XML). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

static bool sb_grow(struct sbuf *b, size_t more)
{
  if (b->failed)
    return false;
  if (b->len + more + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) {
    b->failed = true;
    return false;
  }
  b->s = s;
  b->cap = cap;
  return true;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !sb_grow(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void sb_append(struct sbuf *b, const char *data, size_t n)
{
  if (!sb_grow(b, n))
    return;
  memcpy(b->s + b->len, data, n);
  b->len += n;
  b->s[b->len] = 0;
}

size_t sb_curl_write(char *data, size_t size, size_t n, void *sbuf)
{
  struct sbuf *b = sbuf;
  if (b->len + size * n > (256u << 20))
    return 0;
  sb_append(b, data, size * n);
  return b->failed ? 0 : size * n;
}

void sb_esc(struct sbuf *b, const char *s)
{
  for (; s && *s; s++) {
    const char *e = NULL;
    switch (*s) {
    case '&': e = "&amp;"; break;
    case '<': e = "&lt;"; break;
    case '>': e = "&gt;"; break;
    case '"': e = "&quot;"; break;
    case '\'': e = "&apos;"; break;
    }
    sb_append(b, e ? e : s, e ? strlen(e) : 1);
  }
}

void sb_json_str(struct sbuf *b, const char *s)
{
  sb_append(b, "\"", 1);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      sb_printf(b, "\\%c", c);
    else if (c < 0x20)
      sb_printf(b, "\\u%04x", c);
    else
      sb_append(b, s, 1);
  }
  sb_append(b, "\"", 1);
}

void sb_elem(struct sbuf *b, const char *name, const char *value)
{
  sb_printf(b, "<%s>", name);
  sb_esc(b, value);
  sb_printf(b, "</%s>", name);
}

void sb_free(struct sbuf *b)
{
  free(b->s);
  *b = (struct sbuf){ 0 };
}
