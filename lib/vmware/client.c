/* The VMware client: create_client(CLIENT_VMWARE, major, minor, host,
 * user, password, thumbprint) and its one operations table.
 *
 * host is HOST[:PORT] or a URI:
 *   vmware://[USER@]HOST[:PORT][?thumbprint=T&transport=vddk|https
 *                               &vddk_libdir=DIR]
 * The password is the argument, or FERRY_VMWARE_PASSWORD when that is NULL
 * (the CLI fills it from --password-file or a prompt, never from argv).
 * Options the URI leaves out come from FERRY_VMWARE_TRANSPORT and
 * FERRY_VDDK_LIBDIR (the CLI's --transport and --vddk-libdir); the data
 * path is VDDK when the library is there, HTTPS otherwise. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../client/client.h"
#include "../core/error.h"
#include "../core/secret.h"
#include "../core/uri.h"
#include "../platform/platform.h"
#include "../volume/vddk.h"
#include "data.h"
#include "vmware.h"

static int take(char *dst, size_t len, const char *src, size_t n,
                const char *what)
{
  if (n >= len)
    return ferry_error(ENAMETOOLONG, "vmware URI: %s is too long", what);
  memcpy(dst, src, n);
  dst[n] = 0;
  return 0;
}

struct uri_options {
  struct vmw *w;
  char *thumb;
  size_t tlen;
};

/* One option of a vmware URI. */
static int uri_option(void *opaque, const char *key, size_t k,
                      const char *v)
{
  struct uri_options *o = opaque;
  struct vmw *w = o->w;
  if (!v)
    return ferry_error(EINVAL, "vmware URI: option '%.*s' has no value",
                       (int)k, key);
  if (k == 10 && !strncmp(key, "thumbprint", k))
    return take(o->thumb, o->tlen, v, strlen(v), "the thumbprint");
  if (k == 9 && !strncmp(key, "transport", k)) {
    if (strcmp(v, "vddk") && strcmp(v, "https"))
      return ferry_error(EINVAL, "vmware URI: transport '%s': want vddk or "
                         "https", v);
    return take(w->transport, sizeof w->transport, v, strlen(v),
                "transport");
  }
  if (k == 11 && !strncmp(key, "vddk_libdir", k))
    return take(w->vddk_libdir, sizeof w->vddk_libdir, v, strlen(v),
                "vddk_libdir");
  return ferry_error(EINVAL, "vmware URI: unknown option '%.*s' (known: "
                     "thumbprint, transport, vddk_libdir)", (int)k, key);
}

/* Fills w from the URI (or HOST[:PORT]); user gets the URI's user. */
static int parse_uri(struct vmw *w, const char *uri, char *user, size_t ulen,
                     char *thumb, size_t tlen)
{
  const char *p = uri;
  user[0] = thumb[0] = 0;
  if (!strncmp(p, "vmware://", 9))
    p += 9;
  const char *q = strchr(p, '?');
  size_t auth_len = q ? (size_t)(q - p) : strlen(p);
  if (auth_len && p[auth_len - 1] == '/')
    auth_len--;
  const char *at = memchr(p, '@', auth_len);
  int r = 0;
  if (at) {
    char *u = uri_decode(p, (size_t)(at - p));
    if (!u)
      return ferry_error(EINVAL, "vmware URI: bad escape in the user name");
    r = take(user, ulen, u, strlen(u), "the user name");
    free(u);
    auth_len -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  if (r == 0)
    r = take(w->host, sizeof w->host, p, auth_len, "the host");
  if (r == 0 && (!*w->host || strpbrk(w->host, "/@ ")))
    r = ferry_error(EINVAL, "vmware URI '%s': want vmware://[USER@]HOST[:PORT]"
                    "[?thumbprint=...]", uri);
  const char *colon = w->host[0] == '[' ? strstr(w->host, "]:")
                                        : strrchr(w->host, ':');
  if (r == 0) {
    size_t hl = colon ? (size_t)(colon - w->host) + (w->host[0] == '[')
                      : strlen(w->host);
    r = take(w->server, sizeof w->server, w->host, hl, "the host");
    w->port = colon ? atoi(colon + 1 + (w->host[0] == '[')) : 443;
    if (r == 0 && (w->port <= 0 || w->port > 65535))
      r = ferry_error(EINVAL, "vmware URI '%s': bad port", uri);
  }
  struct uri_options o = { w, thumb, tlen };
  if (r == 0 && q)
    r = uri_query_each(q + 1, uri_option, &o);
  return r;
}

static int vmw_connect(struct ferry_client *fc)
{
  struct vmw *w = calloc(1, sizeof *w);
  if (!w)
    return ferry_error(ENOMEM, "out of memory");
  char user[256], thumb[256];
  int r = parse_uri(w, fc->host, user, sizeof user, thumb, sizeof thumb);
  if (r == 0 && fc->username && *fc->username)
    snprintf(user, sizeof user, "%s", fc->username);
  if (r == 0 && fc->thumb_print && *fc->thumb_print)
    snprintf(thumb, sizeof thumb, "%s", fc->thumb_print);
  if (r == 0 && !fc->password) {
    const char *env = getenv("FERRY_VMWARE_PASSWORD");
    if (env && !(fc->password = secret_dup(env)))
      r = ferry_error(ENOMEM, "out of memory");
  }
  if (r == 0 && !*user)
    r = ferry_error(EINVAL, "no user name: vmware://USER@HOST or the "
                    "username argument");
  if (r == 0 && !fc->password)
    r = ferry_error(EINVAL, "no password for %s@%s: give it to "
                    "create_client, or set FERRY_VMWARE_PASSWORD (the CLI "
                    "reads --password-file or asks)", user, w->host);
  if (r == 0 && !*w->vddk_libdir) {
    const char *env = getenv("FERRY_VDDK_LIBDIR");
    snprintf(w->vddk_libdir, sizeof w->vddk_libdir, "%s", env ? env : "");
  }
  const char *tenv = getenv("FERRY_VMWARE_TRANSPORT");
  if (r == 0 && !*w->transport && tenv && *tenv) {
    if (strcmp(tenv, "vddk") && strcmp(tenv, "https"))
      r = ferry_error(EINVAL, "transport '%s': want vddk or https", tenv);
    else
      snprintf(w->transport, sizeof w->transport, "%s", tenv);
  }
  if (r == 0 && !*w->transport) /* VDDK when it is there */
    snprintf(w->transport, sizeof w->transport, "%s",
             *w->vddk_libdir && vddk_available(w->vddk_libdir) ? "vddk"
                                                                : "https");
  if (r == 0 && !strcmp(w->transport, "vddk") && !*w->vddk_libdir)
    r = ferry_error(EINVAL, "transport=vddk needs the VDDK directory: "
                    "vddk_libdir=DIR or FERRY_VDDK_LIBDIR");
  if (r == 0)
    r = vsession_open(w->host, user, fc->password, thumb, fc->major_version,
                      fc->minor_version, &w->s);
  if (r == 0) {
    tls_pin_format(w->s->pin.want, w->thumbprint);
    w->major = fc->major_version;
    w->minor = fc->minor_version;
    w->password = fc->password;
    if (!fc->username && !(fc->username = strdup(user)))
      r = ferry_error(ENOMEM, "out of memory");
    w->user = fc->username;
  }
  if (r < 0) {
    vsession_close(w->s);
    free(w);
    return r;
  }
  fc->priv = w;
  return 0;
}

static void vmw_disconnect(struct ferry_client *fc)
{
  struct vmw *w = VMW(fc);
  if (w)
    vsession_close(w->s);
  free(w);
  fc->priv = NULL;
}

static int vmw_identify(struct ferry_client *fc, const char *id, char *buf,
                        size_t len)
{
  struct vmw_volume_id v;
  if (vmw_volume_id_parse(id, &v) < 0) {
    ferry_error_clear();
    buf[0] = 0;
    return 0;
  }
  snprintf(buf, len, "vmware://%s/%s/%s@%s", VMW(fc)->host, v.dc, v.path,
           v.snapshot);
  return 0;
}

const struct platform_ops vmware_platform_ops = {
  .name = "vmware",
  .vms = vmw_vms,
  .datacenters = vmw_datacenters,
  .clusters = vmw_clusters,
  .hosts = vmw_hosts,
  .vlans = vmw_vlans,
  .snapshot_create = vmw_snapshot_create,
  .snapshot_delete = vmw_snapshot_delete,
  .snapshot_list = vmw_snapshot_list,
  .snapshot_current = vmw_snapshot_current,
  .snapshot_revert = vmw_snapshot_revert,
  .wait_task = vmw_wait_task,
  .snapshot_volume = vmw_snapshot_volume,
  .query_snapshot_changes = vmw_query_snapshot_changes,
  .create_volume = vmw_create_volume,
  .delete_volume = vmw_delete_volume,
  .create_vm = vmw_create_vm,
  .delete_vm = vmw_delete_vm,
  .start_vm = vmw_start_vm,
  .stop_vm = vmw_stop_vm,
  .open_cbt = vmw_open_cbt,
  /* volumes (listing every datastore file), check_boot_disk and
   * inject_driver: not in this version (ENOTSUP from the dispatcher). */
};

const struct client_ops vmware_client_ops = {
  .name = "vmware",
  .platform = &vmware_platform_ops,
  .connect = vmw_connect,
  .open_volume = vmw_open_volume,
  .identify = vmw_identify,
  .disconnect = vmw_disconnect,
};

/* GetthumbPrint_vcenter / GetthumbPrint_esxi: the thumbprint, checked to
 * come from the kind of server asked for. */
static int thumbprint_of(const char *host, const char *want,
                         const char *label, char *buf, size_t len)
{
  char thumb[TLS_THUMB_LEN], type[32];
  int r = vsession_fetch_thumbprint(host, thumb, type, sizeof type);
  if (r < 0)
    return r;
  if (*type && strcmp(type, want))
    return ferry_error(EPROTO, "%s is a %s, not %s (its thumbprint is %s)",
                       host, !strcmp(type, "HostAgent") ? "ESXi host"
                                                        : "vCenter", label,
                       thumb);
  snprintf(buf, len, "%s", thumb);
  return 0;
}

int ferry_get_thumbprint_vcenter(const char *host, char *buf, size_t len)
{
  ferry_error_clear();
  return thumbprint_of(host, "VirtualCenter", "a vCenter", buf, len);
}

int ferry_get_thumbprint_esxi(const char *host, char *buf, size_t len)
{
  ferry_error_clear();
  return thumbprint_of(host, "HostAgent", "an ESXi host", buf, len);
}
