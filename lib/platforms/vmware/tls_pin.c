/* Certificate pinning by SHA-1 thumbprint, checked in OpenSSL's verify
 * callback so that a wrong server never sees a request. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../../core/error.h"
#include "tls_pin.h"

int tls_pin_parse(const char *text, unsigned char out[20])
{
  size_t n = 0;
  const char *p = text ? text : "";
  while (*p && n < 20) {
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
  if (n != 20 || *p)
    return ferry_error(EINVAL, "thumbprint '%s' is not a SHA-1 thumbprint "
                       "(20 hex bytes such as AA:BB:...:TT)", text ? text
                                                                     : "");
  return 0;
}

void tls_pin_format(const unsigned char fp[20], char out[TLS_THUMB_LEN])
{
  for (int i = 0; i < 20; i++)
    snprintf(out + 3 * i, 4, i < 19 ? "%02X:" : "%02X", fp[i]);
}

/* Called for each certificate of the chain; only the leaf (depth 0) is
 * judged, by its thumbprint alone (vSphere's self-signed certificates do
 * not chain to a CA, and the thumbprint is what the user trusts). */
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
  if (!pin || !cert || !X509_digest(cert, EVP_sha1(), md, &len) || len != 20)
    return 0;
  tls_pin_format(md, pin->seen);
  if (!pin->record_only && memcmp(md, pin->want, 20) != 0)
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
                       "ferry pins vSphere certificates through OpenSSL",
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
    char want[TLS_THUMB_LEN];
    tls_pin_format(pin->want, want);
    if (strcmp(want, pin->seen) && (rc == CURLE_SSL_CONNECT_ERROR ||
                                    rc == CURLE_PEER_FAILED_VERIFICATION))
      return ferry_error(EPERM, "%s: TLS certificate thumbprint mismatch: "
                         "the server presents %s but the expected thumbprint "
                         "is %s; connection refused (if the certificate was "
                         "replaced on purpose, check the new one and pass "
                         "its thumbprint)", what, pin->seen, want);
  }
  int err = rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED
            : rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT
            : rc == CURLE_COULDNT_RESOLVE_HOST ? EHOSTUNREACH
                                                : EIO;
  return ferry_error(err, "%s: %s", what,
                     curl_errbuf && *curl_errbuf ? curl_errbuf
                                                 : curl_easy_strerror(rc));
}
