/* The VMware driver: vCenter or ESXi through the vSphere API.
 *
 *   vmware://[USER@]HOST[:PORT][?thumbprint=T&transport=vddk|https
 *                               &vddk_libdir=DIR&...]
 * (create_client gives HOST[:PORT], the user, password and thumbprint as
 * its arguments). The password comes from the auth; the data path is VDDK
 * when the library is there, HTTPS otherwise. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/uri.h"
#include "../driver.h"
#include "vddk.h"
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

/* Fills w from the URI (or HOST[:PORT]) without its query; user gets the
 * URI's user. */
static int parse_uri(struct vmw *w, const char *uri, char *user, size_t ulen)
{
  struct uri_authority a;
  int r = uri_authority_parse(uri, "vmware", 443, &a);
  if (r == 0)
    r = take(user, ulen, a.user, strlen(a.user), "the user name");
  if (r == 0)
    r = take(w->host, sizeof w->host, a.host, strlen(a.host), "the host");
  if (r == 0)
    r = take(w->server, sizeof w->server, a.server, strlen(a.server),
             "the host");
  w->port = a.port;
  return r;
}

/* The URI's options, checked. */
static int take_options(struct ferry_client *fc, struct vmw *w, char *thumb,
                        size_t tlen)
{
  const char *t = client_option(fc, "thumbprint");
  const char *tr = client_option(fc, "transport");
  const char *lib = client_option(fc, "vddk_libdir");
  const char *dbg = client_option(fc, "vddk_debug");
  const char *page = client_option(fc, "page_size");
  int r = take(thumb, tlen, t ? t : "", t ? strlen(t) : 0, "the thumbprint");
  if (r == 0 && tr && strcmp(tr, "vddk") && strcmp(tr, "https"))
    r = ferry_error(EINVAL, "transport '%s': want vddk or https", tr);
  if (r == 0 && tr)
    r = take(w->transport, sizeof w->transport, tr, strlen(tr), "transport");
  if (r == 0 && lib)
    r = take(w->vddk_libdir, sizeof w->vddk_libdir, lib, strlen(lib),
             "vddk_libdir");
  if (r == 0 && dbg && strcmp(dbg, "0") && strcmp(dbg, "1"))
    r = ferry_error(EINVAL, "vddk_debug '%s': want 0 or 1", dbg);
  w->vddk_debug = dbg && !strcmp(dbg, "1");
  char *end = NULL;
  long n = page ? strtol(page, &end, 10) : 100;
  if (r == 0 && (n < 1 || n > 10000 || (end && *end)))
    r = ferry_error(EINVAL, "page_size '%s': want 1 to 10000", page);
  w->page_size = (int)n;
  return r;
}

static int vmw_open(struct ferry_client *fc, const char *uri,
                    const struct ferry_auth *auth, unsigned flags)
{
  (void)flags;
  struct vmw *w = calloc(1, sizeof *w);
  if (!w)
    return ferry_error(ENOMEM, "out of memory");
  char base[2048], user[256], thumb[256], who[600];
  const char *password = NULL;
  int r = client_uri_base(uri, base, sizeof base);
  if (r == 0)
    r = parse_uri(w, base, user, sizeof user);
  if (r == 0)
    r = take_options(fc, w, thumb, sizeof thumb);
  if (r == 0 && fc->username && *fc->username)
    snprintf(user, sizeof user, "%s", fc->username);
  if (r == 0 && !*user)
    r = ferry_error(EINVAL, "no user name: vmware://USER@HOST or the "
                    "auth's username");
  snprintf(who, sizeof who, "%s@%s", user, w->host);
  if (r == 0)
    r = client_password(fc, auth, who, &password);
  if (r == 0 && !*w->transport) /* VDDK when it is there */
    snprintf(w->transport, sizeof w->transport, "%s",
             *w->vddk_libdir && vddk_available(w->vddk_libdir) ? "vddk"
                                                                : "https");
  if (r == 0 && !strcmp(w->transport, "vddk") && !*w->vddk_libdir)
    r = ferry_error(EINVAL, "transport=vddk needs the VDDK directory: "
                    "vddk_libdir=DIR");
  if (r == 0)
    r = vsession_open(w->host, user, password, thumb, fc->major_version,
                      fc->minor_version, &w->s);
  if (r == 0) {
    w->s->page_size = w->page_size;
    tls_pin_format(w->s->pin.want, TLS_SHA1, w->thumbprint);
    w->major = fc->major_version;
    w->minor = fc->minor_version;
    w->password = password;
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

static void vmw_close(struct ferry_client *fc)
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

static const struct platform_ops vmw_ops = {
  .vms = vmw_vms,
  .lookup_vm = vmw_lookup_vm,
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
  .snapshot_open = vmw_snapshot_open,
  .query_snapshot_changes = vmw_query_snapshot_changes,
  .create_volume = vmw_create_volume,
  .delete_volume = vmw_delete_volume,
  .create_vm = vmw_create_vm,
  .delete_vm = vmw_delete_vm,
  .start_vm = vmw_start_vm,
  .stop_vm = vmw_stop_vm,
  .prepare_tracking = vmw_open_cbt,
  /* volumes (listing every datastore file) and inject_driver: not in
   * this version; check_boot_disk: the common one, through the data path. */
};

static const char *const vmw_schemes[] = { "vmware", NULL };

static const struct ferry_driver_option vmw_options[] = {
  { "thumbprint", "the SHA-1 thumbprint of the server's certificate "
                  "(`ferry vmware thumbprint HOST` shows it)" },
  { "transport", "the data path: vddk or https (default: vddk when "
                 "vddk_libdir holds the library)" },
  { "vddk_libdir", "the directory of VDDK's libvixDiskLib.so" },
  { "vddk_debug", "1: VDDK's own log lines on standard error" },
  { "page_size", "objects per PropertyCollector page (default 100)" },
  { NULL, NULL },
};

const struct ferry_driver vmware_driver = {
  .info = {
    .name = "vmware",
    .description = "VMware vCenter or ESXi",
    .uri_help = "vmware://USER@HOST[:PORT]?thumbprint=SHA1",
    .schemes = vmw_schemes,
    .options = vmw_options,
    .features = FERRY_FEATURE_VMS | FERRY_FEATURE_SNAPSHOTS |
                FERRY_FEATURE_RAM_SNAPSHOTS | FERRY_FEATURE_CHANGED_BLOCKS |
                FERRY_FEATURE_READ_VOLUMES | FERRY_FEATURE_CREATE_VMS |
                FERRY_FEATURE_TASKS | FERRY_FEATURE_LIFECYCLE |
                FERRY_FEATURE_BOOT_CHECK |
                FERRY_FEATURE_CREATE_VOLUMES, /* its data path only reads */
    .platform = true,
    .takes_password = true,
  },
  .type = CLIENT_VMWARE,
  .open = vmw_open,
  .close = vmw_close,
  .open_volume = vmw_open_volume,
  .identify = vmw_identify,
  .ops = &vmw_ops,
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
