/* The libvirt driver: a connection URI as libvirt spells it (qemu:///system,
 * qemu+ssh://HOST/system, qemu+unix:///system?socket=PATH, test:///default,
 * test:///PATH.xml), opened with libvirt's C API. Credentials go through
 * virConnectAuth: the user name and password ferry was given, asked only
 * when libvirt asks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/uri.h"
#include "../driver.h"
#include "lv.h"

struct ask {
  struct ferry_client *fc;
  const struct ferry_auth *auth;
  const char *uri;
  int err; /* the password's error, for the message */
};

/* libvirt's credential callback: the user name and password, from ferry's
 * auth (asked now, and only for what libvirt asks). */
static int credentials(virConnectCredentialPtr cred, unsigned int n,
                       void *opaque)
{
  struct ask *a = opaque;
  for (unsigned i = 0; i < n; i++) {
    const char *v = NULL;
    if (cred[i].type == VIR_CRED_AUTHNAME) {
      v = a->fc->username ? a->fc->username : cred[i].defresult;
    } else if (cred[i].type == VIR_CRED_PASSPHRASE ||
               cred[i].type == VIR_CRED_NOECHOPROMPT) {
      if ((a->err = client_password(a->fc, a->auth, a->uri, &v)) < 0)
        return -1;
    } else {
      return -1; /* a question ferry cannot answer */
    }
    if (!v || !(cred[i].result = strdup(v)))
      return -1;
    cred[i].resultlen = (unsigned)strlen(v);
  }
  return 0;
}

/* Taking the URI's query apart: ferry's keys into st, the rest, as they
 * were written, onto the URI libvirt is given. */
struct query {
  struct lv_state *st;
  char *lv;
  size_t at, base, len;
};

static int on_key(void *opaque, const char *key, size_t klen,
                  const char *value)
{
  struct query *q = opaque;
  const char *v = value ? value : "";
  if (klen == 4 && !strncmp(key, "pool", 4)) {
    snprintf(q->st->pool, sizeof q->st->pool, "%s", v);
  } else if (klen == 9 && !strncmp(key, "virt_type", 9)) {
    if (strcmp(v, "kvm") && strcmp(v, "qemu"))
      return ferry_error(EINVAL, "virt_type '%s': want kvm or qemu", v);
    snprintf(q->st->virt_type, sizeof q->st->virt_type, "%s", v);
  } else if (klen == 10 && !strncmp(key, "backup_dir", 10)) {
    if (*v != '/')
      return ferry_error(EINVAL, "backup_dir '%s' is not an absolute path",
                         v);
    if ((size_t)snprintf(q->st->backup_dir, sizeof q->st->backup_dir, "%s",
                         v) >= sizeof q->st->backup_dir)
      return ferry_error(ENAMETOOLONG, "backup_dir is too long");
  } else { /* libvirt's: the pair as written (key points into the URI) */
    size_t n = strcspn(key, "&");
    if (q->at + n + 2 >= q->len)
      return ferry_error(ENAMETOOLONG, "the URI is too long");
    q->at += (size_t)snprintf(q->lv + q->at, q->len - q->at, "%c%.*s",
                              q->at == q->base ? '?' : '&', (int)n, key);
  }
  return 0;
}

/* ferry's own options (pool=, virt_type=, backup_dir=) out of the URI's
 * query, which is otherwise libvirt's (socket=, keyfile=, ...): st gets
 * them, lv the URI libvirt is given. */
static int take_options(const char *uri, struct lv_state *st, char *lv,
                        size_t len)
{
  const char *qs = strchr(uri, '?');
  size_t base = qs ? (size_t)(qs - uri) : strlen(uri);
  if (base >= len)
    return ferry_error(ENAMETOOLONG, "the URI is too long");
  memcpy(lv, uri, base);
  lv[base] = '\0';
  snprintf(st->pool, sizeof st->pool, "default");
  st->virt_type[0] = '\0';
  struct query q = { st, lv, base, base, len };
  int r = qs ? uri_query_each(qs + 1, on_key, &q) : 0;
  if (r < 0)
    return r;
  if (!*st->pool)
    return ferry_error(EINVAL, "pool= names no pool");
  /* the same host: no host in the URI (qemu:///, qemu+unix:///, test:///) */
  const char *authority = strstr(lv, "://");
  st->local = authority && authority[3] == '/' && strncmp(lv, "qemu+ssh", 8) &&
              strncmp(lv, "qemu+tcp", 8) && strncmp(lv, "qemu+tls", 8);
  if (!*st->virt_type) /* TCG where there is no KVM */
    snprintf(st->virt_type, sizeof st->virt_type, "%s",
             !st->local || access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm"
                                                               : "qemu");
  return 0;
}

static int lv_open(struct ferry_client *fc, const char *uri,
                   const struct ferry_auth *auth, unsigned flags)
{
  (void)flags;
  int r = virt_lib_load();
  if (r < 0)
    return r;
  lv_silence_errors();
  struct lv_state *st = calloc(1, sizeof *st);
  if (!st)
    return ferry_error(ENOMEM, "out of memory");
  snprintf(st->uri, sizeof st->uri, "%s", uri);
  char lvuri[1024];
  r = take_options(uri, st, lvuri, sizeof lvuri);
  if (r < 0) {
    free(st);
    return r;
  }
  int types[] = { VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE,
                  VIR_CRED_NOECHOPROMPT };
  struct ask a = { fc, auth, uri, 0 };
  virConnectAuth va = { types, sizeof types / sizeof *types, credentials,
                        &a };
  ferry_log("libvirt", "connect %s", lvuri);
  st->conn = virConnectOpenAuth(lvuri, &va, 0);
  if (!st->conn) {
    free(st);
    return a.err < 0 ? a.err : lv_error("connect");
  }
  fc->priv = st;
  return 0;
}

static void lv_close(struct ferry_client *fc)
{
  struct lv_state *st = fc->priv;
  if (st && st->conn)
    virConnectClose(st->conn);
  free(st);
  fc->priv = NULL;
}

static const struct platform_ops lv_ops = {
  .vms = lv_vms,
  .lookup_vm = lv_lookup_vm,
  .datacenters = lv_datacenters,
  .clusters = lv_clusters,
  .hosts = lv_hosts,
  .vlans = lv_vlans,
  .volumes = lv_volumes,
  .snapshot_create = lv_snapshot_create,
  .snapshot_delete = lv_snapshot_delete,
  .snapshot_list = lv_snapshot_list,
  .snapshot_current = lv_snapshot_current,
  .snapshot_revert = lv_snapshot_revert,
  .start_vm = lv_start_vm,
  .stop_vm = lv_stop_vm,
  .resume_vm = lv_resume_vm,
  .delete_vm = lv_delete_vm,
  .create_vm = lv_create_vm,
  .plan_volumes = lv_plan_volumes,
  .create_volume = lv_create_volume,
  .delete_volume = lv_delete_volume,
  .inject_driver = lv_inject_driver,
  .prepare_tracking = lv_check_tracking,
  .check_tracking = lv_check_tracking,
  .round_begin = lv_round_begin,
  .round_get = lv_round_get,
  .round_end = lv_round_end,
  .round_drop = lv_round_drop,
  .round_open = lv_round_open,
  .round_changes = lv_round_changes,
};

static const struct ferry_driver_option lv_options[] = {
  { "pool", "the storage pool new volumes go in (default: default)" },
  { "virt_type", "new domains' type: kvm (default where /dev/kvm is) or "
                 "qemu (TCG)" },
  { "backup_dir", "where the NBD sockets and scratch files of a "
                  "migration's pull backups go; qemu must be able to create "
                  "files there (default: STATE_DIR/libvirt-backups)" },
  { NULL, NULL },
};

static const char *const lv_schemes[] = {
  "qemu", "qemu+unix", "qemu+ssh", "qemu+tcp", "qemu+tls", "test", NULL
};

const struct ferry_driver libvirt_driver = {
  .info = {
    .name = "libvirt",
    .description = "a libvirt host (its qemu driver), or libvirt's test "
                   "driver",
    .uri_help = "qemu:///system, qemu+ssh://HOST/system, "
                "qemu+unix:///system?socket=PATH, test:///default",
    .schemes = lv_schemes,
    .options = lv_options,
    .features = FERRY_FEATURE_VMS | FERRY_FEATURE_SNAPSHOTS |
                FERRY_FEATURE_RAM_SNAPSHOTS | FERRY_FEATURE_LIST_VOLUMES |
                FERRY_FEATURE_LIFECYCLE | FERRY_FEATURE_READ_VOLUMES |
                FERRY_FEATURE_WRITE_VOLUMES | FERRY_FEATURE_CREATE_VOLUMES |
                FERRY_FEATURE_CREATE_VMS | FERRY_FEATURE_BOOT_CHECK |
                FERRY_FEATURE_INJECT_DRIVERS |
                FERRY_FEATURE_CHECKPOINT_ROUNDS,
    .platform = true,
  },
  .type = CLIENT_LIBVIRT,
  .own_query = true, /* libvirt's own: socket=, keyfile=, ... */
  .open = lv_open,
  .close = lv_close,
  .open_volume = lv_open_volume,
  .ops = &lv_ops,
};
