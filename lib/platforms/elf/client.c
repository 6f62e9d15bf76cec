/* The ELF driver: SmartX ELF through CloudTower (see elf.h for the URI).
 * Open checks the URI and its options, pins the certificate (nothing is
 * sent to a server whose fingerprint differs, the password least of
 * all), logs in, and finds the cluster new volumes and VMs go in. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/elf.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/uri.h"
#include "../driver.h"
#include "elf.h"

static const char *const policies[] = {
  "REPLICA_1_THIN_PROVISION", "REPLICA_1_THICK_PROVISION",
  "REPLICA_2_THIN_PROVISION", "REPLICA_2_THICK_PROVISION",
  "REPLICA_3_THIN_PROVISION", "REPLICA_3_THICK_PROVISION",
  "ELF_CP_REPLICA_2_THIN_PROVISION", "ELF_CP_REPLICA_2_THICK_PROVISION",
  "ELF_CP_REPLICA_3_THIN_PROVISION", "ELF_CP_REPLICA_3_THICK_PROVISION",
  "EC", NULL
};

static int take_options(struct ferry_client *fc, struct elf_state *st,
                        const char **fingerprint)
{
  const char *pol = client_option(fc, "storage_policy");
  const char *cl = client_option(fc, "cluster");
  const char *ca = client_option(fc, "ca_file");
  const char *port = client_option(fc, "iscsi_port");
  const char *accel = client_option(fc, "accel");
  const char *vw = client_option(fc, "virtio_win");
  *fingerprint = client_option(fc, "fingerprint");
  snprintf(st->storage_policy, sizeof st->storage_policy, "%s",
           pol ? pol : "REPLICA_2_THIN_PROVISION");
  bool known = false;
  for (size_t i = 0; policies[i]; i++)
    known |= !strcmp(policies[i], st->storage_policy);
  if (!known)
    return ferry_error(EINVAL, "storage_policy '%s' is not one of ELF's "
                       "(REPLICA_2_THIN_PROVISION, REPLICA_3_THICK_PROVISION,"
                       " EC, ...)", st->storage_policy);
  snprintf(st->cluster_name, sizeof st->cluster_name, "%s", cl ? cl : "");
  if (ca && (size_t)snprintf(st->ca_file, sizeof st->ca_file, "%s", ca) >=
                sizeof st->ca_file)
    return ferry_error(ENAMETOOLONG, "ca_file is too long");
  char *end = NULL;
  long p = port ? strtol(port, &end, 10) : 3260;
  if (p < 1 || p > 65535 || (end && *end))
    return ferry_error(EINVAL, "iscsi_port '%s': want 1 to 65535", port);
  st->iscsi_port = (int)p;
  if (accel && strcmp(accel, "tcg") && strcmp(accel, "kvm"))
    return ferry_error(EINVAL, "accel '%s': want tcg or kvm", accel);
  snprintf(st->accel, sizeof st->accel, "%s", accel ? accel : "tcg");
  if (vw && (size_t)snprintf(st->virtio_win, sizeof st->virtio_win, "%s",
                             vw) >= sizeof st->virtio_win)
    return ferry_error(ENAMETOOLONG, "virtio_win is too long");
  if (!ca && (!*fingerprint || !**fingerprint))
    return ferry_error(EINVAL, "no fingerprint for %s: ferry trusts "
                       "CloudTower by its certificate's SHA-256 fingerprint "
                       "(or a CA file, ?ca_file=PATH); get it with `ferry elf "
                       "fingerprint %s`, compare it with the one CloudTower "
                       "shows, and pass ?fingerprint=", st->host, st->host);
  return 0;
}

/* An HTTPS handle trusting pin, or the CA file ca_file when not "";
 * its errors in errbuf. */
static int new_handle(char *errbuf, struct tls_pin *pin, const char *ca_file,
                      CURL **out)
{
  CURL *c = *out = curl_easy_init();
  if (!c)
    return ferry_error(ENOMEM, "curl_easy_init failed");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  if (*ca_file)
    return curl_easy_setopt(c, CURLOPT_CAINFO, ca_file) == CURLE_OK
               ? 0 : ferry_error(EINVAL, "libcurl refuses ca_file");
  return tls_pin_setup(c, pin);
}

static void elf_close(struct ferry_client *fc)
{
  struct elf_state *st = fc->priv;
  if (!st)
    return;
  elf_logout(st);
  if (st->curl)
    curl_easy_cleanup(st->curl);
  pthread_mutex_destroy(&st->lock);
  free(st);
  fc->priv = NULL;
}

static int elf_open(struct ferry_client *fc, const char *uri,
                    const struct ferry_auth *auth, unsigned flags)
{
  (void)flags;
  struct elf_state *st = calloc(1, sizeof *st);
  if (!st)
    return ferry_error(ENOMEM, "out of memory");
  pthread_mutex_init(&st->lock, NULL);
  st->pin = tls_pin_init(TLS_SHA256, "fingerprint");
  fc->priv = st;
  snprintf(st->uri, sizeof st->uri, "%s", uri);
  char base[2048], who[800];
  struct uri_authority a;
  const char *fp = NULL;
  int r = client_uri_base(uri, base, sizeof base);
  if (r == 0)
    r = uri_authority_parse(base, "elf", 443, &a);
  if (r == 0) {
    snprintf(st->host, sizeof st->host, "%s", a.host);
    snprintf(st->user, sizeof st->user, "%s",
             fc->username && *fc->username ? fc->username : a.user);
    snprintf(st->base, sizeof st->base, "https://%s:%d/v2/api", a.server,
             a.port);
    r = take_options(fc, st, &fp);
  }
  if (r == 0 && fp && *fp)
    r = tls_pin_parse(fp, TLS_SHA256, st->pin.want);
  if (r == 0 && !*st->user)
    r = ferry_error(EINVAL, "no user name: elf://USER@HOST or the auth's "
                    "username");
  snprintf(who, sizeof who, "%s@%s", st->user, st->host);
  if (r == 0)
    r = client_password(fc, auth, who, &st->password);
  if (r == 0)
    r = new_handle(st->errbuf, &st->pin, st->ca_file, &st->curl);
  if (r == 0)
    r = elf_login(fc);
  if (r == 0)
    r = elf_pick_cluster(fc);
  if (r == 0 && !fc->username && !(fc->username = strdup(st->user)))
    r = ferry_error(ENOMEM, "out of memory");
  if (r < 0)
    elf_close(fc);
  return r;
}

/* get-version's answer is not needed: the handshake is. */
static size_t discard(char *data, size_t size, size_t n, void *opaque)
{
  (void)data;
  (void)opaque;
  return size * n;
}

int ferry_elf_fingerprint(const char *host, char *buf, size_t len)
{
  ferry_error_clear();
  if (!host || !*host || !buf)
    return ferry_error(EINVAL, "no host");
  struct uri_authority a;
  int r = uri_authority_parse(host, "elf", 443, &a);
  if (r < 0)
    return r;
  struct tls_pin pin = tls_pin_init(TLS_SHA256, "fingerprint");
  pin.record_only = true;
  char url[700], err[CURL_ERROR_SIZE] = "";
  snprintf(url, sizeof url, "https://%s:%d/v2/api/get-version", a.server,
           a.port);
  CURL *c;
  if ((r = new_handle(err, &pin, "", &c)) == 0) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    if (!pin.seen[0])
      r = tls_pin_fail(&pin, rc, "CloudTower", err);
    else if ((size_t)snprintf(buf, len, "%s", pin.seen) >= len)
      r = ferry_error(ERANGE, "the fingerprint needs %zu bytes",
                      strlen(pin.seen) + 1);
  }
  if (c)
    curl_easy_cleanup(c);
  return r;
}

/* CloudTower tells no changed blocks (4.6 to 4.8 have no such endpoint),
 * so a migration from ELF copies all of each round's data. */
static int elf_snapshot_changes(struct ferry_client *fc,
                                const struct ferry_vm *vm, const char *disk,
                                const char *from, const char *to,
                                struct ferry_changed_areas *out)
{
  (void)fc, (void)vm, (void)disk, (void)from, (void)to, (void)out;
  return ferry_error(ENOTSUP, "the elf platform cannot tell which blocks "
                     "changed between snapshots: CloudTower has no "
                     "changed-block API");
}

int elf_state_path(char *buf, size_t len, const char *fmt, ...)
{
  char dir[PATH_MAX], rest[PATH_MAX];
  int r = ferry_state_dir(dir, sizeof dir);
  if (r < 0)
    return r;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(rest, sizeof rest, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof rest ||
      (size_t)snprintf(buf, len, "%s/elf/%s", dir, rest) >= len)
    return ferry_error(ENAMETOOLONG, "the state directory's path is too "
                       "long");
  return 0;
}

static const struct platform_ops elf_ops = {
  .vms = elf_vms,
  .lookup_vm = elf_lookup_vm,
  .datacenters = elf_datacenters,
  .clusters = elf_clusters,
  .hosts = elf_hosts,
  .vlans = elf_vlans,
  .volumes = elf_volumes,
  .wait_task = elf_wait_task,
  .plan_volumes = elf_plan_volumes,
  .create_volume = elf_create_volume,
  .delete_volume = elf_delete_volume,
  .create_vm = elf_create_vm,
  .delete_vm = elf_delete_vm,
  .start_vm = elf_start_vm,
  .stop_vm = elf_stop_vm,
  .inject_driver = elf_inject_driver,
  .snapshot_create = elf_snapshot_create,
  .snapshot_delete = elf_snapshot_delete,
  .snapshot_list = elf_snapshot_list,
  .snapshot_current = elf_snapshot_current,
  .snapshot_revert = elf_snapshot_revert,
  .snapshot_open = elf_snapshot_open,
  .query_snapshot_changes = elf_snapshot_changes,
};

static const struct ferry_driver_option elf_options[] = {
  { "fingerprint", "the SHA-256 fingerprint of CloudTower's certificate "
                   "(`ferry elf fingerprint HOST`)" },
  { "ca_file", "trust CloudTower's certificate through this CA file "
               "instead" },
  { "cluster", "the ELF cluster new volumes and VMs go in (default: the "
               "only one)" },
  { "storage_policy", "new volumes' (default REPLICA_2_THIN_PROVISION)" },
  { "iscsi_port", "the iSCSI portal's port on the cluster's iscsi_vip "
                  "(default 3260)" },
  { "accel", "the accelerator of the appliance that converts guests on "
             "ferry's host: tcg (default) or kvm" },
  { "virtio_win", "a directory of virtio-win's drivers (its ISO mounted), "
                  "for converting Windows guests" },
  { NULL, NULL },
};

static const char *const elf_schemes[] = { "elf", NULL };

const struct ferry_driver elf_driver = {
  .info = {
    .name = "elf",
    .description = "SmartX ELF, through CloudTower's REST API",
    .uri_help = "elf://USER@HOST[:PORT]?fingerprint=SHA256",
    .schemes = elf_schemes,
    .options = elf_options,
    .takes_password = true,
    .volume_format = "raw",
    .features = FERRY_FEATURE_VMS | FERRY_FEATURE_LIST_VOLUMES |
                FERRY_FEATURE_CREATE_VOLUMES | FERRY_FEATURE_TASKS |
                FERRY_FEATURE_READ_VOLUMES | FERRY_FEATURE_WRITE_VOLUMES |
                FERRY_FEATURE_BOOT_CHECK | FERRY_FEATURE_CREATE_VMS |
                FERRY_FEATURE_LIFECYCLE | FERRY_FEATURE_INJECT_DRIVERS |
                FERRY_FEATURE_SNAPSHOTS,
    .platform = true,
  },
  .type = CLIENT_ELF,
  .open = elf_open,
  .close = elf_close,
  .open_volume = elf_open_volume,
  .ops = &elf_ops,
};
