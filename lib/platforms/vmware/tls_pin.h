/* Internal: trusting a vSphere server by its certificate's SHA-1
 * thumbprint, the way vSphere clients do (VDDK, ovftool, the seed's
 * thumb_print). The check runs inside the TLS handshake, before any byte of
 * a request (and so of a password) is sent. */
#ifndef FERRY_VMWARE_TLS_PIN_H
#define FERRY_VMWARE_TLS_PIN_H

#include <stdbool.h>

#include <curl/curl.h>

#define TLS_THUMB_LEN 60 /* "AA:BB:...:TT" + NUL */

struct tls_pin {
  bool record_only;          /* accept any certificate, only record it */
  unsigned char want[20];
  char seen[TLS_THUMB_LEN];  /* the leaf certificate the server showed */
};

/* Parses "aa:bb:..." or 40 hex digits, in any case. -EINVAL with a
 * message naming the text when it is not a SHA-1 thumbprint. */
int tls_pin_parse(const char *text, unsigned char out[20]);
void tls_pin_format(const unsigned char fp[20], char out[TLS_THUMB_LEN]);

/* Sets c up to accept exactly the pinned certificate (or, with
 * record_only, any certificate while recording it). pin must outlive c's
 * transfers. */
int tls_pin_setup(CURL *c, struct tls_pin *pin);

/* The error for a failed transfer to what: a thumbprint mismatch shows
 * both values; other failures curl's text. Returns -errno. */
int tls_pin_fail(const struct tls_pin *pin, CURLcode rc, const char *what,
                 const char *curl_errbuf);

#endif
