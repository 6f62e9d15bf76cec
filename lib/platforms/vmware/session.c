/* The vSphere SOAP session: envelopes over libcurl, replies through
 * libxml2, faults as errors, one login again when the session expired. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/secret.h"
#include "session.h"
#include "xml.h"

void vreply_free(struct vreply *r)
{
  if (r->doc)
    xmlFreeDoc(r->doc);
  r->doc = NULL;
  r->ret = NULL;
}

/* Maps a vSphere fault type to an errno. */
static int fault_errno(const char *type)
{
  static const struct {
    const char *type;
    int err;
  } map[] = {
    { "NotAuthenticated", EACCES }, { "InvalidLogin", EACCES },
    { "NoPermission", EACCES },     { "ManagedObjectNotFound", ENOENT },
    { "FileNotFound", ENOENT },     { "NotFound", ENOENT },
    { "InvalidArgument", EINVAL },  { "InvalidRequest", EINVAL },
    { "InvalidName", EINVAL },      { "NotSupported", ENOTSUP },
    { "NotImplemented", ENOTSUP },  { "FileAlreadyExists", EEXIST },
    { "DuplicateName", EEXIST },    { "AlreadyExists", EEXIST },
    { "InvalidPowerState", EBUSY }, { "InvalidState", EBUSY },
    { "TaskInProgress", EBUSY },    { "RequestCanceled", ECANCELED },
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(map[i].type, type))
      return map[i].err;
  return EIO;
}

/* The fault's type: the detail's xsi:type, else its element name without
 * the "Fault" suffix. */
static void fault_type(xmlNode *fault, char *buf, size_t len)
{
  xmlNode *d = xml_child(xml_child(fault, "detail"), NULL);
  if (!d) {
    snprintf(buf, len, "SOAP fault");
    return;
  }
  if (!*xml_type(d, buf, len)) {
    snprintf(buf, len, "%s", (const char *)d->name);
    size_t n = strlen(buf);
    if (n > 5 && !strcmp(buf + n - 5, "Fault"))
      buf[n - 5] = 0;
  }
}

int vreply_parse(const char *body, size_t len, const char *method,
                 const char *what, long status, struct vreply *out,
                 char *fault, size_t fault_len)
{
  fault[0] = 0;
  xmlDoc *doc = body && len && len < INT32_MAX
                    ? xmlReadMemory(body, (int)len, "reply.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOBLANKS)
                    : NULL;
  xmlNode *env = doc ? xmlDocGetRootElement(doc) : NULL;
  xmlNode *b = NULL, *first = NULL;
  for (xmlNode *c = env ? env->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && !strcmp((char *)c->name, "Body"))
      b = c;
  for (xmlNode *c = b ? b->children : NULL; c && !first; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      first = c;
  if (!first) {
    if (doc)
      xmlFreeDoc(doc);
    return ferry_error(EPROTO, "%s: HTTP %ld without a SOAP reply (is this "
                       "a vSphere server?)", what, status);
  }
  if (!strcmp((char *)first->name, "Fault")) {
    char text[600];
    fault_type(first, fault, fault_len);
    int err = fault_errno(fault);
    /* faultstring is unqualified: look it up by name in any namespace */
    text[0] = 0;
    for (xmlNode *c = first->children; c; c = c->next)
      if (c->type == XML_ELEMENT_NODE &&
          !strcmp((char *)c->name, "faultstring"))
        xml_get(c, NULL, text, sizeof text);
    xmlFreeDoc(doc);
    return ferry_error(err, "vSphere %s: %s (%s)", method,
                       *text ? text : "no text", fault);
  }
  out->doc = doc;
  out->ret = first;
  return 0;
}

/* One POST; *fault gets the fault type ("" when the call succeeded). */
static int post(struct vsession *s, const char *method, const char *type,
                const char *value, const char *args, struct vreply *out,
                char *fault, size_t fault_len)
{
  struct sbuf req = { 0 }, body = { 0 };
  fault[0] = 0;
  sb_printf(&req, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                  "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap."
                  "org/soap/envelope/\" xmlns:xsd=\"http://www.w3.org/2001/"
                  "XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-"
                  "instance\"><soapenv:Body><%s xmlns=\"urn:vim25\">", method);
  sb_moref(&req, "_this", type, value);
  sb_printf(&req, "%s</%s></soapenv:Body></soapenv:Envelope>",
            args ? args : "", method);
  if (req.failed)
    return ferry_error(ENOMEM, "out of memory");

  char action[80];
  snprintf(action, sizeof action, "SOAPAction: \"%s\"", s->soap_action);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/xml; "
                                                 "charset=utf-8");
  h = curl_slist_append(h, action);
  char url[340];
  snprintf(url, sizeof url, "%s/sdk", s->base);
  s->errbuf[0] = 0;
  curl_easy_setopt(s->curl, CURLOPT_URL, url);
  curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, req.s);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)req.len);
  curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, sb_curl_write);
  curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(s->curl);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
  curl_slist_free_all(h);
  /* the request may hold a password */
  explicit_bzero(req.s, req.len);
  sb_free(&req);
  char what[400];
  snprintf(what, sizeof what, "vSphere %s at %s", method, s->base);
  if (rc != CURLE_OK) {
    sb_free(&body);
    ferry_log("soap", "%s %s:%s at %s: %s", method, type, value, s->base,
              curl_easy_strerror(rc));
    return tls_pin_fail(&s->pin, rc, what, s->errbuf);
  }
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  int r = vreply_parse(body.s, body.len, method, what, status, out, fault,
                   fault_len);
  /* the method and object only: a body may hold a password */
  ferry_log("soap", "%s %s:%s at %s: HTTP %ld%s%s", method, type, value,
            s->base, status, *fault ? ", fault " : "", fault);
  sb_free(&body);
  return r;
}

static int login(struct vsession *s)
{
  struct sbuf a = { 0 };
  struct vreply r = { 0 };
  char fault[80];
  sb_elem(&a, "userName", s->user);
  sb_elem(&a, "password", s->password);
  int rc = a.failed ? ferry_error(ENOMEM, "out of memory")
                    : post(s, "Login", "SessionManager", s->session_manager,
                           a.s, &r, fault, sizeof fault);
  explicit_bzero(a.s, a.len);
  sb_free(&a);
  vreply_free(&r);
  if (rc == 0)
    s->logins++;
  else if (!strcmp(fault, "InvalidLogin"))
    rc = ferry_error(EACCES, "vSphere login as '%s' refused: wrong user "
                     "name or password (InvalidLogin)", s->user);
  return rc;
}

int vsession_call(struct vsession *s, const char *method, const char *type,
                  const char *value, const char *args, struct vreply *out)
{
  char fault[80];
  out->doc = NULL;
  out->ret = NULL;
  pthread_mutex_lock(&s->lock);
  int r = post(s, method, type, value, args, out, fault, sizeof fault);
  if (r < 0 && !strcmp(fault, "NotAuthenticated") && s->user && s->logins) {
    /* the session expired: log in again, once */
    if ((r = login(s)) == 0)
      r = post(s, method, type, value, args, out, fault, sizeof fault);
  }
  pthread_mutex_unlock(&s->lock);
  return r;
}

static int split_host(const char *host, char *base, size_t len)
{
  if (!host || !*host || strpbrk(host, "/?#@ \t\r\n"))
    return ferry_error(EINVAL, "vSphere host '%s' must be HOST or HOST:PORT",
                       host ? host : "");
  bool has_port = host[0] == '[' ? strstr(host, "]:") != NULL
                                 : strchr(host, ':') != NULL;
  snprintf(base, len, "https://%s%s", host, has_port ? "" : ":443");
  return 0;
}

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access a,
                       void *opaque)
{
  (void)c;
  (void)a;
  pthread_mutex_lock(&((struct vsession *)opaque)->share_locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *opaque)
{
  (void)c;
  pthread_mutex_unlock(&((struct vsession *)opaque)->share_locks[data]);
}

int vsession_handle(struct vsession *s, struct tls_pin *pin, char *errbuf,
                    CURL **out)
{
  if (pin != &s->pin) {
    *pin = tls_pin_init(TLS_SHA1, "thumbprint");
    pin->record_only = s->pin.record_only;
  }
  memcpy(pin->want, s->pin.want, sizeof pin->want);
  CURL *c = curl_easy_init();
  if (!c)
    return ferry_error(ENOMEM, "curl_easy_init failed");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""); /* in-memory cookies */
  curl_easy_setopt(c, CURLOPT_SHARE, s->share);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 300L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  int r = tls_pin_setup(c, pin);
  if (r < 0) {
    curl_easy_cleanup(c);
    return r;
  }
  *out = c;
  return 0;
}

static int service_content(struct vsession *s)
{
  struct vreply r = { 0 };
  char fault[80];
  int rc = post(s, "RetrieveServiceContent", "ServiceInstance",
                "ServiceInstance", NULL, &r, fault, sizeof fault);
  if (rc < 0)
    return rc;
  xmlNode *sc = xml_child(r.ret, "returnval");
  xml_get(sc, "rootFolder", s->root_folder, MOREF_LEN);
  xml_get(sc, "propertyCollector", s->property_collector, MOREF_LEN);
  xml_get(sc, "sessionManager", s->session_manager, MOREF_LEN);
  xml_get(sc, "viewManager", s->view_manager, MOREF_LEN);
  xml_get(sc, "virtualDiskManager", s->vdisk_manager, MOREF_LEN);
  xml_get(sc, "fileManager", s->file_manager, MOREF_LEN);
  xml_get(sc, "searchIndex", s->search_index, MOREF_LEN);
  xml_get(sc, "about/apiType", s->api_type, sizeof s->api_type);
  xml_get(sc, "about/apiVersion", s->api_version, sizeof s->api_version);
  vreply_free(&r);
  if (!*s->root_folder || !*s->property_collector || !*s->session_manager)
    return ferry_error(EPROTO, "vSphere at %s: the ServiceContent lacks "
                       "rootFolder, propertyCollector or sessionManager",
                       s->base);
  return 0;
}

void vsession_close(struct vsession *s);

static void init_globals(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  xmlInitParser();
}

/* A session not connected yet, for host[:port]; NULL after an error. */
static struct vsession *session_new(const char *host, int *r)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_globals);
  struct vsession *s = calloc(1, sizeof *s);
  if (!s) {
    *r = ferry_error(ENOMEM, "out of memory");
    return NULL;
  }
  s->pin = tls_pin_init(TLS_SHA1, "thumbprint");
  pthread_mutex_init(&s->lock, NULL);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&s->share_locks[i], NULL);
  snprintf(s->soap_action, sizeof s->soap_action, "urn:vim25");
  if (!(s->share = curl_share_init()) ||
      curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock) ||
      curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
      curl_share_setopt(s->share, CURLSHOPT_USERDATA, s) ||
      curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE))
    *r = ferry_error(ENOMEM, "curl_share_init failed");
  else
    *r = split_host(host, s->base, sizeof s->base);
  if (*r < 0) {
    vsession_close(s);
    return NULL;
  }
  return s;
}

int vsession_open(const char *host, const char *user, const char *password,
                  const char *thumbprint, const char *major,
                  const char *minor, struct vsession **out)
{
  int r;
  *out = NULL;
  struct vsession *s = session_new(host, &r);
  if (!s)
    return r;
  if (r == 0 && (!thumbprint || !*thumbprint))
    r = ferry_error(EINVAL, "no thumbprint for %s: ferry trusts a vSphere "
                    "server only by its certificate's SHA-1 thumbprint; get "
                    "it with `ferry vmware thumbprint %s`, compare it with "
                    "the one the server's console shows, and pass it",
                    s->base, host);
  if (r == 0)
    r = tls_pin_parse(thumbprint, TLS_SHA1, s->pin.want);
  if (r == 0 && user && (!(s->user = strdup(user)) ||
                         !(s->password = secret_dup(password ? password
                                                            : ""))))
    r = ferry_error(ENOMEM, "out of memory");
  if (r == 0)
    r = vsession_handle(s, &s->pin, s->errbuf, &s->curl);
  if (r == 0)
    r = service_content(s);
  if (r == 0) {
    if (major && *major)
      snprintf(s->soap_action, sizeof s->soap_action, "urn:vim25/%s.%s",
               major, minor && *minor ? minor : "0");
    else if (*s->api_version)
      snprintf(s->soap_action, sizeof s->soap_action, "urn:vim25/%s",
               s->api_version);
  }
  if (r == 0 && user)
    r = login(s);
  if (r < 0) {
    vsession_close(s);
    return r;
  }
  *out = s;
  return 0;
}

void vsession_close(struct vsession *s)
{
  if (!s)
    return;
  if (s->curl && s->logins) {
    struct vreply r;
    if (vsession_call(s, "Logout", "SessionManager", s->session_manager,
                      NULL, &r) == 0)
      vreply_free(&r);
    ferry_error_clear();
  }
  if (s->curl)
    curl_easy_cleanup(s->curl);
  if (s->share) /* every other handle of the session is closed by now */
    curl_share_cleanup(s->share);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&s->share_locks[i]);
  secret_free(s->password);
  free(s->user);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

int vsession_fetch_thumbprint(const char *host, char thumb[TLS_THUMB_LEN],
                              char *api_type, size_t api_len)
{
  int r;
  struct vsession *s = session_new(host, &r);
  if (!s)
    return r;
  s->pin.record_only = true;
  r = vsession_handle(s, &s->pin, s->errbuf, &s->curl);
  if (r == 0)
    r = service_content(s);
  if (s->pin.seen[0] && (r == 0 || ferry_last_errno() == EPROTO)) {
    snprintf(thumb, TLS_THUMB_LEN, "%s", s->pin.seen);
    if (api_type)
      snprintf(api_type, api_len, "%s", s->api_type);
    r = 0;
  } else if (r == 0) {
    r = ferry_error(EPROTO, "%s did not show a certificate", s->base);
  }
  vsession_close(s);
  return r;
}
