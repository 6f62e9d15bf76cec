/* Internal: a growing string (sbuf.c). */
#ifndef FERRY_CORE_SBUF_H
#define FERRY_CORE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A growing string; on ENOMEM it is marked failed and later appends are
 * ignored, so callers check once at the end. */
struct sbuf {
  char *s;
  size_t len, cap;
  bool failed;
};

/* Appends n bytes. */
void sb_append(struct sbuf *b, const char *data, size_t n);
/* A CURLOPT_WRITEFUNCTION appending to the sbuf of CURLOPT_WRITEDATA; a
 * body past 256 MiB stops the transfer. */
size_t sb_curl_write(char *data, size_t size, size_t n, void *sbuf);
void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped. */
void sb_esc(struct sbuf *b, const char *s);
/* Appends s as a JSON string, quotes included (for a body that must not
 * pass through a JSON library's memory: a password's). */
void sb_json_str(struct sbuf *b, const char *s);
/* <name>escaped value</name> */
void sb_elem(struct sbuf *b, const char *name, const char *value);
void sb_free(struct sbuf *b);

#endif
