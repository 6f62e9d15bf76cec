/* libFuzzer: NBD URIs, query strings, %-decoding and redaction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/uri.h"

static int on_pair(void *opaque, const char *key, size_t klen,
                   const char *value)
{
  (void)opaque;
  (void)value;
  return klen > 100 && key[0] == 'x' ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  struct nbd_uri u;
  if (nbd_uri_parse(s, &u) == 0) {
    if (u.is_unix ? !u.socket || !*u.socket : !u.host || !u.port)
      abort(); /* parsed, yet unusable */
    nbd_uri_free(&u);
  }
  char red[256];
  uri_redact(s, red, sizeof red);
  uri_query_each(s, on_pair, NULL);
  free(uri_decode(s, size));
  nbd_uri_is(s);
  free(s);
  return 0;
}
