/* CloudTower's REST API: POST /v2/api/OPERATION with a JSON body over
 * HTTPS (its certificate pinned before any byte is sent), the session's
 * token in Authorization (no "Bearer"), a login again once when the token
 * stops working, and a bounded retry while a resource is locked. Only the
 * operation and its outcome are traced, never a body: a login's holds the
 * password, and answers may hold CHAP secrets. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/sbuf.h"
#include "../../core/secret.h"
#include "elf.h"

#define PAGE 100              /* objects per get-* request */
#define LOCKED_TRIES 12       /* ResourceLocked: about 45 s of waits in all */

/* The HTTP status and body of one POST; *out the parsed JSON (NULL when
 * the body is none). */
static int post(struct elf_state *st, const char *op, const char *body,
                size_t len, long *status, json_object **out)
{
  struct sbuf resp = { 0 };
  char url[700], auth[300];
  snprintf(url, sizeof url, "%s%s", st->base, op);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: "
                                                 "application/json");
  h = curl_slist_append(h, "content-language: en-US");
  if (st->token) {
    snprintf(auth, sizeof auth, "Authorization: %s", st->token);
    h = curl_slist_append(h, auth);
    explicit_bzero(auth, sizeof auth);
  }
  st->errbuf[0] = 0;
  curl_easy_setopt(st->curl, CURLOPT_URL, url);
  curl_easy_setopt(st->curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(st->curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(st->curl, CURLOPT_POSTFIELDSIZE, (long)len);
  curl_easy_setopt(st->curl, CURLOPT_WRITEFUNCTION, sb_curl_write);
  curl_easy_setopt(st->curl, CURLOPT_WRITEDATA, &resp);
  CURLcode rc = curl_easy_perform(st->curl);
  curl_easy_setopt(st->curl, CURLOPT_POSTFIELDS, NULL);
  curl_easy_setopt(st->curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(h); /* its Authorization copy goes with it */
  char what[800];
  snprintf(what, sizeof what, "CloudTower %s at %s", op, st->host);
  if (rc != CURLE_OK) {
    sb_free(&resp);
    ferry_log("elf", "%s: %s", op, curl_easy_strerror(rc));
    return *st->ca_file ? ferry_error(rc == CURLE_COULDNT_CONNECT
                                          ? ECONNREFUSED : EIO,
                                      "%s: %s", what, *st->errbuf
                                          ? st->errbuf
                                          : curl_easy_strerror(rc))
                        : tls_pin_fail(&st->pin, rc, what, st->errbuf);
  }
  curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, status);
  ferry_log("elf", "%s: HTTP %ld", op, *status);
  *out = resp.len ? json_tokener_parse(resp.s) : NULL;
  bool bad = resp.len && !*out;
  if (resp.s)
    explicit_bzero(resp.s, resp.len); /* a token, a CHAP secret */
  sb_free(&resp);
  if (bad || resp.failed)
    return ferry_error(EBADMSG, "%s: HTTP %ld with no JSON answer", what,
                       *status);
  return 0;
}

/* A non-200 answer as ferry's error: ErrorBody's message. */
static int http_error(const struct elf_state *st, const char *op,
                      long status, json_object *body, bool *locked)
{
  const char *msg = elf_str(body, "message");
  *locked = status == 400 && !strcmp(elf_str(body, "code"),
                                     "ResourceLocked");
  int e = *locked                           ? EBUSY
          : status == 400                   ? EINVAL
          : status == 404                   ? ENOENT
          : status == 401 || status == 403  ? EACCES
                                            : EIO;
  return ferry_error(e, "CloudTower %s at %s: %s (HTTP %ld)", op, st->host,
                     *msg ? msg : "no message", status);
}

int elf_login(struct ferry_client *fc)
{
  struct elf_state *st = ELF_STATE(fc);
  struct sbuf b = { 0 };
  sb_printf(&b, "{\"username\":");
  sb_json_str(&b, st->user);
  sb_printf(&b, ",\"password\":");
  sb_json_str(&b, st->password);
  sb_printf(&b, ",\"source\":\"LOCAL\"}");
  long status = 0;
  json_object *out = NULL;
  char *old = st->token;
  st->token = NULL;
  secret_free(old);
  int r = b.failed ? ferry_error(ENOMEM, "out of memory")
                   : post(st, "/login", b.s, b.len, &status, &out);
  if (b.s)
    explicit_bzero(b.s, b.len);
  sb_free(&b);
  if (r == 0 && status != 200) {
    const char *why = elf_str(out, "message");
    r = ferry_error(EACCES, "CloudTower login to %s as '%s' refused: %s "
                    "(HTTP %ld)", st->host, st->user, *why ? why
                    : "no reason given", status);
  }
  json_object *data = NULL, *tok = NULL;
  if (r == 0 && (!json_object_object_get_ex(out, "data", &data) ||
                 !json_object_object_get_ex(data, "token", &tok) ||
                 !json_object_is_type(tok, json_type_string)))
    r = ferry_error(EBADMSG, "CloudTower login to %s: no token in the "
                    "answer", st->host);
  if (r == 0 && !(st->token = secret_dup(json_object_get_string(tok))))
    r = ferry_error(ENOMEM, "out of memory");
  if (tok)
    explicit_bzero((char *)json_object_get_string(tok),
                   (size_t)json_object_get_string_len(tok));
  json_object_put(out);
  return r;
}

void elf_logout(struct elf_state *st)
{
  secret_free(st->token);
  st->token = NULL;
}

int elf_call(struct ferry_client *fc, const char *op, json_object *body,
             json_object **out)
{
  struct elf_state *st = ELF_STATE(fc);
  if (out)
    *out = NULL;
  const char *text = json_object_to_json_string_ext(body,
                                                     JSON_C_TO_STRING_PLAIN);
  size_t len = strlen(text);
  int r = 0;
  bool relogged = false;
  json_object *ans = NULL;
  pthread_mutex_lock(&st->lock);
  for (unsigned tries = 1;; tries++) {
    long status = 0;
    json_object_put(ans);
    ans = NULL;
    if ((r = post(st, op, text, len, &status, &ans)) < 0)
      break;
    if (status == 200)
      break;
    if ((status == 401 || status == 403) && !relogged) {
      relogged = true; /* the token expired: once more, logged in anew */
      ferry_log("elf", "%s: the session ended: log in again", op);
      if ((r = elf_login(fc)) < 0)
        break;
      continue;
    }
    bool locked;
    r = http_error(st, op, status, ans, &locked);
    if (!locked || tries >= LOCKED_TRIES)
      break;
    uint64_t ms = 100u << (tries < 6 ? tries : 6); /* to 6.4 s */
    ferry_log("elf", "%s: a resource is locked: again in %" PRIu64 " ms", op,
              ms);
    ferry_error_clear();
    nanosleep(&(struct timespec){ (time_t)(ms / 1000),
                                  (long)(ms % 1000) * 1000000 }, NULL);
  }
  pthread_mutex_unlock(&st->lock);
  json_object_put(body);
  if (r == 0 && out)
    *out = ans;
  else
    json_object_put(ans);
  return r;
}

int elf_list(struct ferry_client *fc, const char *op, json_object *where,
             const char *order_by, json_object **out)
{
  json_object *all = json_object_new_array();
  int r = 0;
  for (int skip = 0;; skip += PAGE) {
    json_object *body = json_object_new_object(), *page = NULL;
    json_object_object_add(body, "where", where ? json_object_get(where)
                                                : json_object_new_object());
    if (order_by)
      json_object_object_add(body, "orderBy",
                             json_object_new_string(order_by));
    json_object_object_add(body, "first", json_object_new_int(PAGE));
    json_object_object_add(body, "skip", json_object_new_int(skip));
    if ((r = elf_call(fc, op, body, &page)) < 0)
      break;
    if (!json_object_is_type(page, json_type_array)) {
      json_object_put(page);
      r = ferry_error(EBADMSG, "CloudTower %s: the answer is not a list", op);
      break;
    }
    size_t n = json_object_array_length(page);
    for (size_t i = 0; i < n; i++)
      json_object_array_add(all,
                            json_object_get(json_object_array_get_idx(page,
                                                                      i)));
    json_object_put(page);
    if (n < PAGE)
      break;
  }
  json_object_put(where);
  if (r < 0) {
    json_object_put(all);
    return r;
  }
  *out = all;
  return 0;
}

int elf_get(struct ferry_client *fc, const char *op, const char *id,
            const char *what, json_object **out)
{
  json_object *list;
  int r = elf_list(fc, op, elf_where_id(id), NULL, &list);
  if (r < 0)
    return r;
  if (json_object_array_length(list) != 1) {
    json_object_put(list);
    return ferry_error(ENOENT, "the elf platform has no %s '%s'", what, id);
  }
  *out = json_object_get(json_object_array_get_idx(list, 0));
  json_object_put(list);
  return 0;
}
