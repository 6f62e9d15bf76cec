/* Certificate pinning by a digest (SHA-1 or SHA-256), checked in
 * OpenSSL's verify callback so that a wrong server never sees a
 * request. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "error.h"
#include "tls_pin.h"

struct tls_pin tls_pin_init(enum tls_digest d, const char *word)
{
  return (struct tls_pin){ .digest = d, .word = word };
}

int tls_pin_parse(const char *text, enum tls_digest d, unsigned char *out)
{
  size_t n = 0, want = (size_t)d;
  const char *p = text ? text : "";
  while (*p && n < want) {
    if (*p == ':' || *p == ' ') {
      p++;
      continue;
    }
    if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
      break;
    char hex[3] = { p[0], p[1], 0 };
    out[n++] = (unsigned char)strtoul(hex, NULL, 16);
    p += 2;
  }
  if (n != want || *p)
    return ferry_error(EINVAL, "'%s' is not a %s %s (%zu hex bytes such as "
                       "AA:BB:...)", text ? text : "",
                       d == TLS_SHA1 ? "SHA-1" : "SHA-256",
                       d == TLS_SHA1 ? "thumbprint" : "fingerprint", want);
  return 0;
}

void tls_pin_format(const unsigned char *fp, enum tls_digest d,
                    char out[TLS_FP_TEXT])
{
  int n = (int)d;
  for (int i = 0; i < n; i++)
    snprintf(out + 3 * i, 4, i < n - 1 ? "%02X:" : "%02X", fp[i]);
}

/* Called for each certificate of the chain; only the leaf (depth 0) is
 * judged, by its digest alone (vSphere's and CloudTower's self-signed
 * certificates do not chain to a CA, and the digest is what the user
 * trusts). */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
  (void)preverify_ok;
  if (X509_STORE_CTX_get_error_depth(store) > 0)
    return 1;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store,
                                        SSL_get_ex_data_X509_STORE_CTX_idx());
  struct tls_pin *pin = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))
                            : NULL;
  X509 *cert = X509_STORE_CTX_get_current_cert(store);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!pin || !cert ||
      !X509_digest(cert, pin->digest == TLS_SHA1 ? EVP_sha1() : EVP_sha256(),
                   md, &len) ||
      len != (unsigned)pin->digest)
    return 0;
  tls_pin_format(md, pin->digest, pin->seen);
  if (!pin->record_only && memcmp(md, pin->want, len) != 0)
    return 0;
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

static CURLcode sslctx_cb(CURL *c, void *sslctx, void *opaque)
{
  (void)c;
  SSL_CTX_set_app_data((SSL_CTX *)sslctx, opaque);
  SSL_CTX_set_verify((SSL_CTX *)sslctx, SSL_VERIFY_PEER, verify_cb);
  return CURLE_OK;
}

int tls_pin_setup(CURL *c, struct tls_pin *pin)
{
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  if (!v->ssl_version || strncmp(v->ssl_version, "OpenSSL", 7))
    return ferry_error(ENOTSUP, "libcurl is built with %s, not OpenSSL: "
                       "ferry pins certificates through OpenSSL",
                       v->ssl_version ? v->ssl_version : "no TLS");
  pin->seen[0] = 0;
  /* curl's own CA and host name checks are replaced by the pin, which
   * sslctx_cb installs as OpenSSL's verify callback. */
  if (curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L) ||
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L) ||
      curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, sslctx_cb) ||
      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, pin))
    return ferry_error(ENOTSUP, "libcurl refuses an SSL context callback");
  return 0;
}

int tls_pin_fail(const struct tls_pin *pin, CURLcode rc, const char *what,
                 const char *curl_errbuf)
{
  if (!pin->record_only && pin->seen[0]) {
    char want[TLS_FP_TEXT];
    tls_pin_format(pin->want, pin->digest, want);
    if (strcmp(want, pin->seen) && (rc == CURLE_SSL_CONNECT_ERROR ||
                                    rc == CURLE_PEER_FAILED_VERIFICATION))
      return ferry_error(EPERM, "%s: TLS certificate %s mismatch: the server "
                         "presents %s but the expected %s is %s; connection "
                         "refused (if the certificate was replaced on "
                         "purpose, check the new one and pass its %s)", what,
                         pin->word, pin->seen, pin->word, want, pin->word);
  }
  int err = rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED
            : rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT
            : rc == CURLE_COULDNT_RESOLVE_HOST ? EHOSTUNREACH
                                                : EIO;
  return ferry_error(err, "%s: %s", what,
                     curl_errbuf && *curl_errbuf ? curl_errbuf
                                                 : curl_easy_strerror(rc));
}
