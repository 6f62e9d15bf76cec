/* create_client / destroy_client and the seed's read/write callbacks. */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/secret.h"
#include "../core/uri.h"
#include "../platforms/driver.h"
#include "../volume/volume.h"
#include "client.h"

#define CLIENT_MAGIC 0xfe77c11eu

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
  for (size_t i = 0; i < fc->n_options; i++) {
    free(fc->options[i].name);
    free(fc->options[i].value);
  }
  free(fc->options);
  free(fc->lease_holder);
  pthread_mutex_destroy(&fc->lock);
  fc->magic = 0;
  free(fc);
}

const char *client_option(const struct ferry_client *fc, const char *name)
{
  for (size_t i = 0; i < fc->n_options; i++)
    if (!strcmp(fc->options[i].name, name))
      return fc->options[i].value;
  return NULL;
}

static bool declares(const struct ferry_driver *d, const char *name,
                     size_t len)
{
  for (const struct ferry_driver_option *o = d->info.options; o && o->name;
       o++)
    if (strlen(o->name) == len && !strncmp(o->name, name, len))
      return true;
  return false;
}

/* "a, b, c": the options d declares, for messages. */
static void option_names(const struct ferry_driver *d, char *buf, size_t len)
{
  size_t w = 0;
  buf[0] = '\0';
  for (const struct ferry_driver_option *o = d->info.options; o && o->name;
       o++)
    w += snprintf(buf + w, w < len ? len - w : 0, "%s%s", w ? ", " : "",
                  o->name);
  if (!w)
    snprintf(buf, len, "none");
}

static int set_option(struct ferry_client *fc, const char *name, size_t len,
                      const char *value)
{
  const struct ferry_driver *d = fc->driver;
  char known[512];
  if (!declares(d, name, len)) {
    option_names(d, known, sizeof known);
    return ferry_error(EINVAL, "the %s driver has no option '%.*s' (it has: "
                       "%s)", d->info.name, (int)len, name, known);
  }
  if (!value)
    return ferry_error(EINVAL, "option '%.*s' has no value (%.*s=VALUE)",
                       (int)len, name, (int)len, name);
  for (size_t i = 0; i < fc->n_options; i++)
    if (strlen(fc->options[i].name) == len &&
        !strncmp(fc->options[i].name, name, len))
      return ferry_error(EINVAL, "option '%.*s' is given twice", (int)len,
                         name);
  struct client_option *o = realloc(fc->options,
                                    (fc->n_options + 1) * sizeof *o);
  if (!o)
    return ferry_error(ENOMEM, "out of memory");
  fc->options = o;
  o = &o[fc->n_options];
  o->name = strndup(name, len);
  o->value = strdup(value);
  if (!o->name || !o->value) {
    free(o->name);
    free(o->value);
    return ferry_error(ENOMEM, "out of memory");
  }
  fc->n_options++;
  return 0;
}

static int query_option(void *opaque, const char *key, size_t klen,
                        const char *value)
{
  return set_option(opaque, key, klen, value);
}

int client_uri_base(const char *uri, char *buf, size_t len)
{
  size_t n = strcspn(uri, "?");
  if (n >= len)
    return ferry_error(ENAMETOOLONG, "the URI is too long");
  memcpy(buf, uri, n);
  buf[n] = '\0';
  return 0;
}

/* The password: create_client's, else the auth's own, its file's first
 * line, or its callback's answer; read into secret memory, once. */
int client_password(struct ferry_client *fc, const struct ferry_auth *auth,
                    const char *who, const char **out)
{
  if (fc->password) {
    *out = fc->password;
    return 0;
  }
  char buf[1024];
  buf[0] = '\0';
  int r = 0;
  if (auth && auth->password) {
    fc->password = secret_dup(auth->password);
  } else if (auth && auth->password_file) {
    FILE *f = fopen(auth->password_file, "re");
    if (!f)
      return ferry_error(errno, "password file %s: %s", auth->password_file,
                         strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0'; /* the first line */
    if (bad)
      r = ferry_error(EIO, "password file %s: read error",
                      auth->password_file);
    else
      fc->password = secret_dup(buf);
  } else if (auth && auth->ask) {
    char prompt[600];
    snprintf(prompt, sizeof prompt, "Password for %s: ", who);
    if ((r = auth->ask(auth->opaque, prompt, buf, sizeof buf)) < 0)
      r = ferry_error(-r, "no password for %s: the callback gave none", who);
    else if (!memchr(buf, '\0', sizeof buf))
      r = ferry_error(EINVAL, "no password for %s: the callback's answer is "
                      "not a string", who);
    else
      fc->password = secret_dup(buf);
  } else {
    r = ferry_error(EINVAL, "no password for %s: give a password, a "
                    "password file or a callback to ask", who);
  }
  explicit_bzero(buf, sizeof buf);
  if (r == 0 && !fc->password)
    r = ferry_error(ENOMEM, "out of memory");
  if (r == 0)
    *out = fc->password;
  return r;
}

/* 0: fc is d's; DRIVER_DECLINED; or -errno. */
static int try_driver(const struct ferry_driver *d, const char *uri,
                      const struct ferry_auth *auth, const char *major,
                      const char *minor, const char *thumb, unsigned flags,
                      struct ferry_client **out)
{
  if (!(flags & DRIVER_OPEN_BY_TYPE) && !driver_claims(d, uri))
    return DRIVER_DECLINED;
  struct ferry_client *fc = calloc(1, sizeof *fc);
  if (!fc)
    return ferry_error(ENOMEM, "out of memory");
  int failed = 0;
  fc->magic = CLIENT_MAGIC;
  fc->driver = d;
  fc->major_version = dup_or_null(major, &failed);
  fc->minor_version = dup_or_null(minor, &failed);
  fc->host = dup_or_null(uri, &failed);
  fc->username = dup_or_null(auth ? auth->username : NULL, &failed);
  pthread_mutex_init(&fc->lock, NULL);
  fc->pub = (client_t){ fc, shim_read, shim_write, shim_close };
  int r = failed ? ferry_error(ENOMEM, "out of memory") : 0;
  const char *q = strchr(uri, '?');
  if (r == 0 && q && !d->own_query)
    r = uri_query_each(q + 1, query_option, fc);
  /* the seed's thumb_print, for a driver that has one (else unused, as
   * the seed says of arguments a platform does not use) */
  if (r == 0 && thumb && *thumb && declares(d, "thumbprint", 10))
    r = set_option(fc, "thumbprint", strlen("thumbprint"), thumb);
  if (r == 0 && auth && auth->password_file && auth->password)
    r = ferry_error(EINVAL, "give a password or a password file, not both");
  if (r == 0)
    r = d->open(fc, uri, auth, flags);
  if (r != 0) {
    fc->priv = NULL; /* a failed or declining open keeps nothing */
    client_free(fc);
    return r;
  }
  *out = fc;
  return 0;
}

client_t *client_open(const struct ferry_driver *only, bool platforms_only,
                      const char *uri, const struct ferry_auth *auth,
                      const char *major_version, const char *minor_version,
                      const char *thumb_print, unsigned flags)
{
  ferry_error_clear();
  if (!uri || !*uri) {
    ferry_error(EINVAL, "no URI given");
    return NULL;
  }
  if (auth && auth->struct_size < sizeof(size_t)) {
    ferry_error(EINVAL, "struct ferry_auth: set struct_size");
    return NULL;
  }
  size_t n;
  const struct ferry_driver *const *list = driver_list(&n);
  struct ferry_client *fc = NULL;
  const struct ferry_driver *d = NULL;
  int r = DRIVER_DECLINED;
  for (size_t i = 0; i < n && r == DRIVER_DECLINED; i++)
    if ((!only || list[i] == only) && (!platforms_only || list[i]->ops))
      r = try_driver(d = list[i], uri, auth, major_version, minor_version,
                     thumb_print, flags, &fc);
  char shown[1024];
  uri_redact(uri, shown, sizeof shown);
  if (r == DRIVER_DECLINED && only) {
    ferry_error(EINVAL, "%s client: '%s' is not what it takes (%s)",
                only->info.name, shown, only->info.uri_help);
    return NULL;
  }
  if (r == DRIVER_DECLINED) {
    char known[2048];
    size_t w = 0;
    known[0] = '\0';
    for (size_t i = 0; i < n; i++)
      if (!platforms_only || list[i]->ops)
        w += snprintf(known + w, w < sizeof known ? sizeof known - w : 0,
                      "%s%s (%s)", w ? ", " : "", list[i]->info.uri_help,
                      list[i]->info.description);
    ferry_error(ENOTSUP, "'%s': no driver takes it; ferry knows %s", shown,
                known);
    return NULL;
  }
  if (r < 0) {
    ferry_error_prefix("%s client '%s': ", d->info.name, shown);
    return NULL;
  }
  return &fc->pub;
}

/* The seed's names of its client types, for a type no driver of this
 * build claims. */
static const char *seed_type_name(enum client_type type)
{
  static const char *const names[] = { "file", "nbd", "qemu", "vmware",
                                       "elf", "xen", "libvirt" };
  return (unsigned)type < sizeof names / sizeof names[0] ? names[type]
                                                          : NULL;
}

client_t *create_client(enum client_type type, const char *major_version,
                        const char *minor_version, const char *host,
                        const char *username, const char *password,
                        const char *thumb_print)
{
  ferry_error_clear();
  size_t n;
  const struct ferry_driver *const *list = driver_list(&n), *d = NULL;
  for (size_t i = 0; i < n && !d; i++)
    if (list[i]->type == type)
      d = list[i];
  if (!d) {
    const char *name = seed_type_name(type);
    if (name)
      ferry_error(ENOTSUP, "client type '%s' is not implemented in this "
                  "version of ferry", name);
    else
      ferry_error(EINVAL, "unknown client type %d", (int)type);
    return NULL;
  }
  if (!host || !*host) {
    ferry_error(EINVAL, "%s client: host is empty", d->info.name);
    return NULL;
  }
  struct ferry_auth auth = { sizeof auth, username, password, NULL, NULL,
                             NULL };
  return client_open(d, false, host, &auth, major_version, minor_version,
                     thumb_print, DRIVER_OPEN_BY_TYPE);
}

/* As libnbd's close: the thread's error is left as it is, unless this
 * call fails (a flush), so that clean-up keeps the error being cleaned
 * up after. */
int destroy_client(client_t *client)
{
  if (!client)
    return ferry_error(EINVAL, "client is NULL");
  struct ferry_client *fc = ferry_client_of(client);
  if (!fc)
    return client->close_client ? client->close_client(client->client) : 0;
  struct saved_error e;
  error_save(&e);
  int r = 0;
  for (struct open_volume *ov = fc->volumes; ov; ov = ov->next)
    if (ov->mode == FERRY_OPEN_WRITE && r == 0)
      r = ferry_volume_flush(ov->v);
  close_volumes(fc);
  if (fc->driver->close)
    fc->driver->close(fc);
  client_free(fc);
  if (r == 0)
    error_restore(&e);
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
    if ((r = fc->driver->open_volume(fc, id, mode, &ov->v)) < 0) {
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
