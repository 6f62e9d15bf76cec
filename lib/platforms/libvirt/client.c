/* The libvirt driver: a connection URI as libvirt spells it (qemu:///system,
 * qemu+ssh://HOST/system, qemu+unix:///system?socket=PATH, test:///default,
 * test:///PATH.xml), opened with libvirt's C API. Credentials go through
 * virConnectAuth: the user name and password ferry was given, asked only
 * when libvirt asks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/log.h"
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

static int lv_open(struct ferry_client *fc, const char *uri,
                   const struct ferry_auth *auth, unsigned flags)
{
  (void)flags;
  lv_silence_errors();
  struct lv_state *st = calloc(1, sizeof *st);
  if (!st)
    return ferry_error(ENOMEM, "out of memory");
  snprintf(st->uri, sizeof st->uri, "%s", uri);
  int types[] = { VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE,
                  VIR_CRED_NOECHOPROMPT };
  struct ask a = { fc, auth, uri, 0 };
  virConnectAuth va = { types, sizeof types / sizeof *types, credentials,
                        &a };
  ferry_log("libvirt", "connect %s", uri);
  st->conn = virConnectOpenAuth(uri, &va, 0);
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
  /* Not yet in this version, and so ENOTSUP: the data path (volumes and
   * snapshots read and written), changed blocks (checkpoints and pull
   * backups), creating volumes and domains. */
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
    .features = FERRY_FEATURE_VMS | FERRY_FEATURE_SNAPSHOTS |
                FERRY_FEATURE_RAM_SNAPSHOTS | FERRY_FEATURE_LIST_VOLUMES |
                FERRY_FEATURE_LIFECYCLE,
    .platform = true,
  },
  .type = CLIENT_LIBVIRT,
  .own_query = true, /* libvirt's own: socket=, keyfile=, ... */
  .open = lv_open,
  .close = lv_close,
  .ops = &lv_ops,
};
