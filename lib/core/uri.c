/* NBD URIs, as in the NBD URI spec: the subset ferry needs, strictly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "uri.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *uri_decode(const char *s, size_t len)
{
  char *out = malloc(len + 1), *w = out;
  if (!out)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '%') {
      if (i + 2 >= len) { /* fewer than two hex digits follow */
        free(out);
        errno = EINVAL;
        return NULL;
      }
      int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
      if (a < 0 || b < 0 || (a == 0 && b == 0)) {
        free(out);
        errno = EINVAL;
        return NULL;
      }
      *w++ = (char)(a * 16 + b);
      i += 2;
    } else {
      *w++ = s[i];
    }
  }
  *w = '\0';
  return out;
}

int uri_query_each(const char *query,
                   int (*fn)(void *opaque, const char *key, size_t klen,
                             const char *value),
                   void *opaque)
{
  for (const char *p = query; p && *p;) {
    size_t n = strcspn(p, "&");
    const char *eq = memchr(p, '=', n);
    size_t klen = eq ? (size_t)(eq - p) : n;
    char *v = NULL;
    if (eq && !(v = uri_decode(eq + 1, n - klen - 1)))
      return ferry_error(EINVAL, "bad %%-escape in the value of '%.*s'",
                         (int)klen, p);
    int r = fn(opaque, p, klen, v);
    free(v);
    if (r < 0)
      return r;
    p = p[n] ? p + n + 1 : p + n;
  }
  return 0;
}

bool nbd_uri_is(const char *s)
{
  return strncmp(s, "nbd://", 6) == 0 || strncmp(s, "nbd+unix://", 11) == 0 ||
         strncmp(s, "nbds://", 7) == 0 || strncmp(s, "nbds+unix://", 12) == 0;
}

void nbd_uri_free(struct nbd_uri *u)
{
  free(u->host);
  free(u->port);
  free(u->socket);
  free(u->export);
  memset(u, 0, sizeof *u);
}

void uri_redact(const char *uri, char *buf, size_t len)
{
  const char *auth = strstr(uri, "://");
  auth = auth ? auth + 3 : uri;
  const char *end = auth + strcspn(auth, "/?#");
  const char *at = memchr(auth, '@', end - auth);
  if (at)
    snprintf(buf, len, "%.*s***@%s", (int)(auth - uri), uri, at + 1);
  else
    snprintf(buf, len, "%s", uri);
}

static int bad(const char *uri, const char *why)
{
  char r[1024];
  uri_redact(uri, r, sizeof r);
  return ferry_error(EINVAL, "bad NBD URI '%s': %s", r, why);
}

/* The query of an NBD URI: socket= (nbd+unix only); anything else is an
 * error, so that a mistyped key is never ignored, and TLS parameters are
 * refused (ENOTSUP), so that asking for TLS never means plaintext. */
struct query_ctx {
  const char *uri;
  struct nbd_uri *out;
};

static int on_query(void *opaque, const char *key, size_t klen,
                    const char *value)
{
  struct query_ctx *c = opaque;
  if (klen == 6 && !strncmp(key, "socket", 6) && c->out->is_unix) {
    if (!value || !*value)
      return bad(c->uri, "socket= needs a path");
    free(c->out->socket);
    return (c->out->socket = strdup(value)) ? 0
                                            : ferry_error(ENOMEM, "out of "
                                                          "memory");
  }
  char r[1024]; /* the rest is an error: the URI for its message */
  uri_redact(c->uri, r, sizeof r);
  if (klen >= 3 && !strncmp(key, "tls", 3))
    return ferry_error(ENOTSUP, "NBD URI '%s' asks for TLS (%.*s), which "
                       "ferry does not support yet: it refuses rather than "
                       "connect in plaintext", r, (int)klen, key);
  return ferry_error(EINVAL, "bad NBD URI '%s': unknown query parameter "
                     "'%.*s'%s", r, (int)klen, key,
                     c->out->is_unix ? " (nbd+unix takes socket=PATH)"
                                     : " (nbd:// takes none)");
}

/* Export names are the path without its leading '/'. */
static int take_export(const char *uri, const char *p, size_t len,
                       struct nbd_uri *out)
{
  if (len > 0 && p[0] == '/') {
    p++;
    len--;
  }
  out->export = uri_decode(p, len);
  return out->export ? 0 : bad(uri, "bad %-escape in the export name");
}

int nbd_uri_parse(const char *uri, struct nbd_uri *out)
{
  memset(out, 0, sizeof *out);
  if (strncmp(uri, "nbds", 4) == 0) {
    char red[1024];
    uri_redact(uri, red, sizeof red);
    return ferry_error(ENOTSUP, "NBD URI '%s': TLS (nbds) is not supported "
                       "yet; use nbd:// over a trusted network or a unix "
                       "socket", red);
  }
  int r;
  if (strncmp(uri, "nbd+unix://", 11) == 0) {
    const char *p = uri + 11;
    if (*p != '/' && *p != '?' && *p != '\0')
      return bad(uri, "nbd+unix takes no host (write nbd+unix:///EXPORT?"
                 "socket=PATH)");
    const char *q = strchr(p, '?');
    size_t plen = q ? (size_t)(q - p) : strlen(p);
    if ((r = take_export(uri, p, plen, out)) < 0)
      goto fail;
    out->is_unix = true;
    struct query_ctx c = { uri, out };
    if (q && (r = uri_query_each(q + 1, on_query, &c)) < 0)
      goto fail;
    if (!out->socket || !*out->socket) {
      r = bad(uri, "nbd+unix needs ?socket=PATH");
      goto fail;
    }
    return 0;
  }
  if (strncmp(uri, "nbd://", 6) != 0)
    return bad(uri, "expected nbd:// or nbd+unix://");
  const char *h = uri + 6;
  const char *end = h + strcspn(h, "/?");
  if (end == h) {
    r = bad(uri, "missing host");
    goto fail;
  }
  if (memchr(h, '@', end - h)) {
    r = bad(uri, "NBD has no user or password to give: remove the "
            "'USER[:PASSWORD]@' part");
    goto fail;
  }
  const char *colon = NULL;
  if (*h == '[') { /* [ipv6]:port */
    const char *rb = memchr(h, ']', end - h);
    if (!rb) {
      r = bad(uri, "unclosed '[' in host");
      goto fail;
    }
    out->host = strndup(h + 1, rb - h - 1);
    colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
  } else {
    colon = memchr(h, ':', end - h);
    out->host = strndup(h, (colon ? colon : end) - h);
  }
  if (colon) {
    out->port = strndup(colon + 1, end - colon - 1);
    if (!*out->port || strspn(out->port, "0123456789") != strlen(out->port) ||
        atoi(out->port) < 1 || atoi(out->port) > 65535) {
      r = bad(uri, "port must be a number from 1 to 65535");
      goto fail;
    }
  } else {
    out->port = strdup("10809");
  }
  size_t plen = strcspn(end, "?");
  if ((r = take_export(uri, end, plen, out)) < 0)
    goto fail;
  if (!out->host || !out->port)
    return ferry_error(ENOMEM, "out of memory");
  struct query_ctx c = { uri, out };
  if (end[plen] == '?' && (r = uri_query_each(end + plen + 1, on_query,
                                               &c)) < 0)
    goto fail;
  return 0;
fail:
  nbd_uri_free(out);
  return r;
}

static int take_part(char *dst, size_t len, const char *src, size_t n,
                     const char *scheme, const char *what)
{
  if (n >= len)
    return ferry_error(ENAMETOOLONG, "%s URI: %s is too long", scheme, what);
  memcpy(dst, src, n);
  dst[n] = 0;
  return 0;
}

int uri_authority_parse(const char *uri, const char *scheme, int default_port,
                        struct uri_authority *a)
{
  memset(a, 0, sizeof *a);
  const char *p = uri;
  size_t sl = strlen(scheme);
  if (!strncmp(p, scheme, sl) && !strncmp(p + sl, "://", 3))
    p += sl + 3;
  size_t len = strlen(p);
  if (len && p[len - 1] == '/')
    len--;
  const char *at = memrchr(p, '@', len);
  int r = 0;
  if (at) {
    char *u = uri_decode(p, (size_t)(at - p));
    if (!u)
      return ferry_error(EINVAL, "%s URI: bad escape in the user name",
                         scheme);
    r = take_part(a->user, sizeof a->user, u, strlen(u), scheme,
                  "the user name");
    free(u);
    len -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  if (r == 0)
    r = take_part(a->host, sizeof a->host, p, len, scheme, "the host");
  if (r == 0 && (!*a->host || strpbrk(a->host, "/@ ?")))
    return ferry_error(EINVAL, "%s URI '%s': want %s://[USER@]HOST[:PORT]",
                       scheme, uri, scheme);
  bool v6 = a->host[0] == '[';
  const char *colon = v6 ? strstr(a->host, "]:") : strrchr(a->host, ':');
  size_t hl = colon ? (size_t)(colon - a->host) + v6 : strlen(a->host);
  if (r == 0)
    r = take_part(a->server, sizeof a->server, a->host, hl, scheme,
                  "the host");
  a->port = colon ? atoi(colon + 1 + v6) : default_port;
  if (r == 0 && (a->port <= 0 || a->port > 65535))
    r = ferry_error(EINVAL, "%s URI '%s': bad port", scheme, uri);
  return r;
}
