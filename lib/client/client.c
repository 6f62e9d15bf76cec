/* create_client / destroy_client and the seed's read/write callbacks. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/secret.h"
#include "../core/uri.h"
#include "../volume/volume.h"
#include "client.h"

#define CLIENT_MAGIC 0xfe77c11eu

static const struct {
  enum client_type type;
  const char *name;
  const struct client_ops *ops; /* NULL: not implemented yet */
} client_types[] = {
  { CLIENT_FILE, "file", &file_client_ops },
  { CLIENT_NBD, "nbd", &nbd_client_ops },
  { CLIENT_QEMU, "qemu", &qemu_client_ops },
  { CLIENT_VMWARE, "vmware", &vmware_client_ops },
  { CLIENT_ELF, "elf", NULL },
  { CLIENT_XEN, "xen", NULL },
  { CLIENT_LIBVIRT, "libvirt", NULL },
};

static int shim_read(void *client, const char *volume_id, char *buf,
                     uint64_t len, uint64_t offset);
static int shim_write(void *client, const char *volume_id, char *buf,
                      uint64_t len, uint64_t offset);
static int shim_close(void *client);

struct ferry_client *ferry_client_of(struct client *c)
{
  if (!c || c->close_client != shim_close)
    return NULL;
  struct ferry_client *fc = c->client;
  return fc && fc->magic == CLIENT_MAGIC ? fc : NULL;
}

static char *dup_or_null(const char *s, int *failed)
{
  if (!s)
    return NULL;
  char *d = strdup(s);
  if (!d)
    *failed = 1;
  return d;
}

/* Closes the volumes the seed's callbacks opened: before the client
 * disconnects, since they may use its connection (a vSphere session). */
static void close_volumes(struct ferry_client *fc)
{
  struct open_volume *ov = fc->volumes;
  while (ov) {
    struct open_volume *next = ov->next;
    ferry_volume_close(ov->v);
    free(ov->id);
    free(ov);
    ov = next;
  }
  fc->volumes = NULL;
}

static void client_free(struct ferry_client *fc)
{
  close_volumes(fc);
  free(fc->major_version);
  free(fc->minor_version);
  free(fc->host);
  free(fc->username);
  secret_free(fc->password); /* wiped, on pages no core dump holds */
  free(fc->thumb_print);
  free(fc->lease_holder);
  pthread_mutex_destroy(&fc->lock);
  fc->magic = 0;
  free(fc);
}

client_t *create_client(enum client_type type, const char *major_version,
                        const char *minor_version, const char *host,
                        const char *username, const char *password,
                        const char *thumb_print)
{
  ferry_error_clear();
  const struct client_ops *ops = NULL;
  const char *name = NULL;
  for (size_t i = 0; i < sizeof client_types / sizeof client_types[0]; i++)
    if (client_types[i].type == type) {
      ops = client_types[i].ops;
      name = client_types[i].name;
    }
  if (!name) {
    ferry_error(EINVAL, "unknown client type %d", (int)type);
    return NULL;
  }
  if (!ops) {
    ferry_error(ENOTSUP, "client type '%s' is not implemented in this "
                "version of ferry", name);
    return NULL;
  }
  if (!host || !*host) {
    ferry_error(EINVAL, "%s client: host is empty", name);
    return NULL;
  }
  struct ferry_client *fc = calloc(1, sizeof *fc);
  if (!fc) {
    ferry_error(ENOMEM, "out of memory");
    return NULL;
  }
  int failed = 0;
  fc->magic = CLIENT_MAGIC;
  fc->type = type;
  fc->ops = ops;
  fc->major_version = dup_or_null(major_version, &failed);
  fc->minor_version = dup_or_null(minor_version, &failed);
  fc->host = dup_or_null(host, &failed);
  fc->username = dup_or_null(username, &failed);
  fc->password = secret_dup(password);
  failed = failed || (password && !fc->password);
  fc->thumb_print = dup_or_null(thumb_print, &failed);
  pthread_mutex_init(&fc->lock, NULL);
  fc->pub = (client_t){ fc, shim_read, shim_write, shim_close };
  if (failed) {
    client_free(fc);
    ferry_error(ENOMEM, "out of memory");
    return NULL;
  }
  if (ops->connect && ops->connect(fc) < 0) {
    char shown[1024];
    uri_redact(host ? host : "", shown, sizeof shown);
    ferry_error_prefix("%s client '%s': ", name, shown);
    client_free(fc);
    return NULL;
  }
  return &fc->pub;
}

int destroy_client(client_t *client)
{
  ferry_error_clear();
  if (!client)
    return ferry_error(EINVAL, "client is NULL");
  struct ferry_client *fc = ferry_client_of(client);
  if (!fc)
    return client->close_client ? client->close_client(client->client) : 0;
  int r = 0;
  for (struct open_volume *ov = fc->volumes; ov; ov = ov->next)
    if (ov->mode == FERRY_OPEN_WRITE && r == 0)
      r = ferry_volume_flush(ov->v);
  close_volumes(fc);
  if (fc->ops->disconnect)
    fc->ops->disconnect(fc);
  client_free(fc);
  return r;
}

/* The seed's callbacks keep each volume open until destroy_client. */
static int shim_volume(struct ferry_client *fc, const char *id, int mode,
                       struct ferry_volume **out)
{
  int r = 0;
  pthread_mutex_lock(&fc->lock);
  struct open_volume *ov;
  for (ov = fc->volumes; ov; ov = ov->next)
    if (strcmp(ov->id, id) == 0 && ov->mode >= mode)
      break;
  if (!ov) {
    ov = calloc(1, sizeof *ov);
    if (!ov || !(ov->id = strdup(id))) {
      free(ov);
      r = ferry_error(ENOMEM, "out of memory");
      goto out;
    }
    ov->mode = mode;
    if ((r = fc->ops->open_volume(fc, id, mode, &ov->v)) < 0) {
      free(ov->id);
      free(ov);
      goto out;
    }
    ov->next = fc->volumes;
    fc->volumes = ov;
  }
  *out = ov->v;
out:
  pthread_mutex_unlock(&fc->lock);
  return r;
}

static int shim_read(void *client, const char *volume_id, char *buf,
                     uint64_t len, uint64_t offset)
{
  struct ferry_volume *v;
  int r = shim_volume(client, volume_id, FERRY_OPEN_READ, &v);
  return r < 0 ? r : ferry_volume_pread(v, buf, len, offset);
}

static int shim_write(void *client, const char *volume_id, char *buf,
                      uint64_t len, uint64_t offset)
{
  struct ferry_volume *v;
  int r = shim_volume(client, volume_id, FERRY_OPEN_WRITE, &v);
  return r < 0 ? r : ferry_volume_pwrite(v, buf, len, offset);
}

static int shim_close(void *client)
{
  (void)client; /* destroy_client frees the state */
  return 0;
}
