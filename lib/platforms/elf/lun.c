/* Where an ELF volume's bytes are: its iSCSI LUN, found through
 * get-vm-volumes → get-iscsi-luns → get-iscsi-targets → the cluster's
 * iscsi_vip, and the LUN opened with libiscsi as ferry's initiator. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../volume/volume.h"
#include "elf.h"

void elf_host_name(char *buf, size_t len)
{
  char host[128] = "localhost";
  gethostname(host, sizeof host - 1);
  for (char *c = host; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
      *c = '-';
  snprintf(buf, len, "%s", host);
}

void elf_initiator_name(char *buf, size_t len)
{
  char host[128];
  elf_host_name(host, sizeof host);
  snprintf(buf, len, "iqn.2024-01.io.ferry:%s", host);
}

/* The LUN record lun (of target, in cluster cl) as out. */
static int to_lun(struct ferry_client *fc, json_object *lun,
                  json_object *target, json_object *cl, struct elf_lun *out)
{
  const char *vip = elf_str(cl, "iscsi_vip");
  if (!*vip)
    return ferry_error(ENOTSUP, "ELF cluster '%s' has no iSCSI address "
                       "(iscsi_vip): enable its iSCSI access first",
                       elf_str(cl, "name"));
  snprintf(out->portal, sizeof out->portal, "%s:%d", vip,
           ELF_STATE(fc)->iscsi_port);
  snprintf(out->iqn, sizeof out->iqn, "%s", elf_str(target, "iqn_name"));
  snprintf(out->target_id, sizeof out->target_id, "%s",
           elf_str(target, "id"));
  snprintf(out->lun_cuid, sizeof out->lun_cuid, "%s", elf_str(lun, "id"));
  out->lun = (int)elf_int(lun, "lun_id");
  elf_initiator_name(out->initiator, sizeof out->initiator);
  return 0;
}

int elf_lun_of(struct ferry_client *fc, const char *lun_id, const char *what,
               struct elf_lun *out)
{
  json_object *lun = NULL, *target = NULL, *cl = NULL;
  int r = elf_get(fc, "/get-iscsi-luns", lun_id, "iSCSI LUN", &lun);
  if (r == 0)
    r = elf_get(fc, "/get-iscsi-targets", elf_nested_id(lun, "iscsi_target"),
                "iSCSI target", &target);
  if (r == 0)
    r = elf_get(fc, "/get-clusters", elf_nested_id(target, "cluster"),
                "cluster", &cl);
  if (r == 0 && (r = to_lun(fc, lun, target, cl, out)) == 0) {
    snprintf(out->what, sizeof out->what, "%s", what);
    out->size = elf_int(lun, "assigned_size");
  }
  json_object_put(cl);
  json_object_put(target);
  json_object_put(lun);
  return r < 0 ? ferry_error_prefix("%s: ", what) : 0;
}

int elf_volume_lun(struct ferry_client *fc, const char *key,
                   struct elf_lun *out)
{
  json_object *v = NULL;
  int r = elf_volume_of(fc, key, &v);
  if (r == 0 && strcmp(elf_str(v, "type"), "KVM_VOLUME_ISCSI"))
    r = ferry_error(ENOTSUP, "ELF volume '%s' is a %s: the elf platform "
                    "reads and writes iSCSI-backed volumes (KVM_VOLUME_ISCSI)",
                    key, *elf_str(v, "type") ? elf_str(v, "type") : "file");
  char what[300];
  snprintf(what, sizeof what, "ELF volume '%s'", key);
  if (r == 0 && (r = elf_lun_of(fc, elf_nested_id(v, "lun"), what, out)) == 0)
  {
    snprintf(out->volume_cuid, sizeof out->volume_cuid, "%s",
             elf_str(v, "id"));
    out->size = elf_int(v, "size");
  }
  json_object_put(v);
  return r;
}

int elf_lun_open(const struct elf_lun *l, int mode, struct ferry_volume **out)
{
  int r = iscsi_volume_open(l->portal, l->iqn, l->lun, l->initiator, mode,
                            out);
  if (r == 0 && (*out)->size < l->size) {
    r = ferry_error(EIO, "%s: its LUN holds %" PRId64 " bytes, the volume %"
                    PRId64, l->what, (*out)->size, l->size);
    (*out)->ops->close(*out);
    *out = NULL;
  }
  return r;
}

int elf_open_volume(struct ferry_client *fc, const char *id, int mode,
                    struct ferry_volume **out)
{
  *out = NULL;
  struct elf_lun l;
  struct elf_grant *g = NULL;
  int r = elf_volume_lun(fc, id, &l);
  if (r == 0)
    r = elf_grant_take(fc, &l, &g);
  if (r == 0 && (r = elf_lun_open(&l, mode, out)) == 0) {
    (*out)->release = elf_grant_drop;
    (*out)->release_opaque = g;
  } else if (g) {
    elf_grant_drop(g);
  }
  return r;
}
