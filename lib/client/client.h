/* Internal: the state behind a client_t made by create_client(). */
#ifndef FERRY_CLIENT_INTERNAL_H
#define FERRY_CLIENT_INTERNAL_H

#include <pthread.h>

#include <ferry/ferry.h>

struct ferry_client;
struct ferry_volume;

struct platform_ops;

/* One table per client type: its volumes, and (for platforms) the
 * client-wrapper operations of platform.h. */
struct client_ops {
  const char *name;
  const struct platform_ops *platform; /* NULL: not a platform */
  int (*connect)(struct ferry_client *fc);
  int (*open_volume)(struct ferry_client *fc, const char *volume_id, int mode,
                     struct ferry_volume **out);
  /* What a volume is, without opening it (for the same-volume check);
   * equal strings are the same volume. */
  int (*identify)(struct ferry_client *fc, const char *volume_id, char *buf,
                  size_t len);
  void (*disconnect)(struct ferry_client *fc);
};

/* Volumes opened through the seed's read/write callbacks, kept open. */
struct open_volume {
  struct open_volume *next;
  char *id;
  int mode;
  struct ferry_volume *v;
};

struct ferry_client {
  unsigned magic;
  enum client_type type;
  const struct client_ops *ops;
  char *major_version, *minor_version, *host, *username, *password,
      *thumb_print;
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

extern const struct client_ops file_client_ops;
extern const struct client_ops nbd_client_ops;
extern const struct client_ops qemu_client_ops;
extern const struct client_ops vmware_client_ops;

#endif
