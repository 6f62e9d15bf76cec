/* Internal: the state behind a client_t made by create_client(). */
#ifndef FERRY_CLIENT_INTERNAL_H
#define FERRY_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include <ferry/ferry.h>

struct ferry_client;
struct ferry_volume;

struct ferry_driver;
struct ferry_auth;

/* Volumes opened through the seed's read/write callbacks, kept open. */
struct open_volume {
  struct open_volume *next;
  char *id;
  int mode;
  struct ferry_volume *v;
};

/* A URI option, as given (validated against the driver's list). */
struct client_option {
  char *name, *value;
};

struct ferry_client {
  unsigned magic;
  const struct ferry_driver *driver;
  char *major_version, *minor_version;
  char *host;     /* the URI (or create_client's host) as given */
  char *username; /* the auth's, or the driver's from the URI */
  char *password; /* secret memory (secret.h) */
  struct client_option *options;
  size_t n_options;
  /* The migration this client works for: the leases it holds let it
   * through (lease.h); NULL for everyone else. */
  char *lease_holder;
  void *priv;
  pthread_mutex_t lock; /* guards volumes */
  struct open_volume *volumes;
  client_t pub;
};

/* The ferry_client behind c, or NULL when c is a hand-made client. */
struct ferry_client *ferry_client_of(struct client *c);

/* A client of driver `only` (NULL: the first driver, of the platforms
 * when platforms_only, that takes uri). */
client_t *client_open(const struct ferry_driver *only, bool platforms_only,
                      const char *uri, const struct ferry_auth *auth,
                      const char *major_version, const char *minor_version,
                      const char *thumb_print, unsigned flags);

/* The registry (lib/platforms/registry.c): every driver, in probing
 * order. */
const struct ferry_driver *const *driver_list(size_t *n);
/* True when d claims uri's scheme ("" for a URI without one: a path). */
bool driver_claims(const struct ferry_driver *d, const char *uri);

#endif
