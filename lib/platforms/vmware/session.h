/* Internal: a logged-in vSphere Web Services (SOAP) session. */
#ifndef FERRY_VMWARE_SESSION_H
#define FERRY_VMWARE_SESSION_H

#include <pthread.h>
#include <stdbool.h>

#include <curl/curl.h>
#include <libxml/tree.h>

#include "../../core/tls_pin.h"

#define MOREF_LEN 160

struct vsession {
  pthread_mutex_t lock; /* one call at a time on the curl handle */
  CURL *curl;
  /* The session cookie, shared by every handle of vsession_handle(). */
  CURLSH *share;
  pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
  struct tls_pin pin;
  char errbuf[CURL_ERROR_SIZE];
  char base[300];       /* "https://host:port" */
  char soap_action[48]; /* "urn:vim25/7.0" */
  char *user, *password;
  /* ServiceContent */
  char root_folder[MOREF_LEN], property_collector[MOREF_LEN],
      session_manager[MOREF_LEN], view_manager[MOREF_LEN],
      vdisk_manager[MOREF_LEN], file_manager[MOREF_LEN],
      search_index[MOREF_LEN];
  char api_type[32];    /* "VirtualCenter" or "HostAgent" */
  char api_version[32];
  unsigned logins;      /* how many times Login succeeded */
  int page_size;        /* objects per PropertyCollector page */
};

/* A parsed reply: free with vreply_free. ret is the <MethodResponse>
 * element (returnval elements are its children). */
struct vreply {
  xmlDoc *doc;
  xmlNode *ret;
};
void vreply_free(struct vreply *r);
/* A reply body (HTTP status for messages) into out: the first element of
 * the SOAP Body, or a fault mapped to errno with its faultstring, the
 * fault's type in fault ("" otherwise). No network: libxml2 reads only
 * these bytes (XML_PARSE_NONET). */
int vreply_parse(const char *body, size_t len, const char *method,
                 const char *what, long status, struct vreply *out,
                 char *fault, size_t fault_len);

/* Connects to host[:port] (443 by default) trusting only thumbprint,
 * reads the ServiceContent, and logs in when user is not NULL. major and
 * minor pick the API version ("7", "0"); NULL: the server's. */
int vsession_open(const char *host, const char *user, const char *password,
                  const char *thumbprint, const char *major,
                  const char *minor, struct vsession **out);
void vsession_close(struct vsession *s);

/* Calls method on the object (type, value) with args (XML, already
 * escaped). A fault becomes -errno with "vSphere <method>: <text>
 * (<fault type>)"; a session that expired (NotAuthenticated) is logged in
 * again once and the call repeated. */
int vsession_call(struct vsession *s, const char *method, const char *type,
                  const char *value, const char *args, struct vreply *out);

/* A curl handle for HTTPS to the session's server (datastore access):
 * pinned to the session's thumbprint (pin gets a copy; it must outlive the
 * handle) and sharing the session's cookies, so that a re-login reaches
 * every handle. errbuf holds CURL_ERROR_SIZE bytes. */
int vsession_handle(struct vsession *s, struct tls_pin *pin, char *errbuf,
                    CURL **out);

/* The thumbprint of host[:port]'s certificate, trusted on first use by
 * whoever calls this; api_type (may be NULL) gets "VirtualCenter" or
 * "HostAgent" from the unauthenticated ServiceContent. */
int vsession_fetch_thumbprint(const char *host, char thumb[TLS_THUMB_LEN],
                              char *api_type, size_t api_len);

#endif
