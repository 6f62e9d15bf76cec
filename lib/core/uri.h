/* Internal: NBD URI parsing (nbd://, nbd+unix://). */
#ifndef FERRY_CORE_URI_H
#define FERRY_CORE_URI_H

#include <stdbool.h>
#include <stddef.h>

struct nbd_uri {
  bool is_unix;
  char *host;   /* tcp only */
  char *port;   /* tcp only; "10809" by default */
  char *socket; /* unix only */
  char *export; /* "" when absent */
};

/* Parses nbd://HOST[:PORT][/EXPORT] and nbd+unix:///[EXPORT]?socket=PATH,
 * percent-decoding the export and socket. nbds:// (TLS) is refused with
 * ENOTSUP. Returns 0 or -errno with a message. */
int nbd_uri_parse(const char *uri, struct nbd_uri *out);
void nbd_uri_free(struct nbd_uri *u);

/* The URI for messages, with any USER[:PASSWORD]@ shown as ***@: a
 * password typed into a URI must not be echoed into logs. */
void uri_redact(const char *uri, char *buf, size_t len);

/* True when s starts with an NBD URI scheme. */
bool nbd_uri_is(const char *s);

/* Decodes %XX escapes into a new string; NULL (with EINVAL set) on a bad
 * escape or an escaped NUL. */
char *uri_decode(const char *s, size_t len);

/* The parts of a platform URI SCHEME://[USER@]HOST[:PORT][/] (no query:
 * cut it off first; SCHEME:// may be missing): a->user decoded ("" for
 * none; the last @ ends it, so that administrator@vsphere.local@vc works
 * as well as administrator%40vsphere.local@vc), a->host as written
 * (HOST[:PORT]), a->server the host name or address alone, a->port
 * (default_port when none). -EINVAL naming the URI when it is not one. */
struct uri_authority {
  char user[256], host[512], server[512];
  int port;
};
int uri_authority_parse(const char *uri, const char *scheme, int default_port,
                        struct uri_authority *a);

/* Calls fn for each KEY=VALUE pair of a query string ("a=1&b=x%20y"):
 * the key as written (klen bytes), the value percent-decoded (NULL for a
 * pair without '='). Stops at fn's first error; a bad escape is -EINVAL
 * with a message naming the key. */
int uri_query_each(const char *query,
                   int (*fn)(void *opaque, const char *key, size_t klen,
                             const char *value),
                   void *opaque);

#endif
