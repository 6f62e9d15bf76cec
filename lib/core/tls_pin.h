/* Internal: trusting a TLS server by a digest of its certificate, the way
 * vSphere clients do (a SHA-1 "thumbprint": VDDK, ovftool, the seed's
 * thumb_print) and as ferry pins CloudTower (a SHA-256 "fingerprint").
 * The check runs inside the TLS handshake, before any byte of a request
 * (and so of a password) is sent. */
#ifndef FERRY_CORE_TLS_PIN_H
#define FERRY_CORE_TLS_PIN_H

#include <stdbool.h>

#include <curl/curl.h>

/* The digests, by their length in bytes. */
enum tls_digest { TLS_SHA1 = 20, TLS_SHA256 = 32 };

#define TLS_FP_MAX 32
#define TLS_FP_TEXT (3 * TLS_FP_MAX) /* "AA:BB:...:ZZ" + NUL */
#define TLS_THUMB_LEN TLS_FP_TEXT

struct tls_pin {
  enum tls_digest digest;
  const char *word;          /* "thumbprint", "fingerprint": for messages */
  bool record_only;          /* accept any certificate, only record it */
  unsigned char want[TLS_FP_MAX];
  char seen[TLS_FP_TEXT];    /* the leaf certificate the server showed */
};

/* A pin of digest d named word, expecting nothing yet. */
struct tls_pin tls_pin_init(enum tls_digest d, const char *word);

/* Parses "aa:bb:..." or plain hex digits of digest d, in any case.
 * -EINVAL with a message naming the text when it is not one. */
int tls_pin_parse(const char *text, enum tls_digest d, unsigned char *out);
void tls_pin_format(const unsigned char *fp, enum tls_digest d,
                    char out[TLS_FP_TEXT]);

/* Sets c up to accept exactly the pinned certificate (or, with
 * record_only, any certificate while recording it). pin must outlive c's
 * transfers. */
int tls_pin_setup(CURL *c, struct tls_pin *pin);

/* The error for a failed transfer to what: a mismatch shows both values;
 * other failures curl's text. Returns -errno. */
int tls_pin_fail(const struct tls_pin *pin, CURLcode rc, const char *what,
                 const char *curl_errbuf);

#endif
