/* VMware volume ids and the choice of data path: VDDK (what deployments
 * use; loaded at run time) or the datastore's HTTPS interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/client.h"
#include "../core/error.h"
#include "../core/uri.h"
#include "../volume/vddk.h"
#include "../volume/volume.h"
#include "data.h"

/* Copies the decoded value of key from a query string into buf. */
static int query_value(const char *q, const char *key, char *buf, size_t len)
{
  size_t klen = strlen(key);
  buf[0] = 0;
  for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1
                                                      : NULL) {
    if (strncmp(p, key, klen) || p[klen] != '=')
      continue;
    const char *v = p + klen + 1;
    char *d = uri_decode(v, strcspn(v, "&"));
    if (!d)
      return ferry_error(EINVAL, "bad escape in '%s'", q);
    int fits = strlen(d) < len;
    if (fits)
      snprintf(buf, len, "%s", d);
    free(d);
    if (!fits)
      return ferry_error(ENAMETOOLONG, "'%s=' is too long", key);
  }
  return 0;
}

int vmw_volume_id_parse(const char *id, struct vmw_volume_id *out)
{
  memset(out, 0, sizeof *out);
  const char *q = strchr(id, '?');
  size_t plen = q ? (size_t)(q - id) : strlen(id);
  const char *close = memchr(id, ']', plen);
  if (id[0] != '[' || !close || close[1] != ' ' || plen >= sizeof out->path ||
      (size_t)(close - id - 1) >= sizeof out->datastore)
    return ferry_error(EINVAL, "VMware volume '%s' must be a datastore path "
                       "such as '[datastore1] vm/disk.vmdk'", id);
  memcpy(out->path, id, plen);
  memcpy(out->datastore, id + 1, (size_t)(close - id - 1));
  snprintf(out->rel, sizeof out->rel, "%s", out->path + (close - id) + 2);
  if (strstr(out->rel, "..") || out->rel[0] == '/' || !*out->rel)
    return ferry_error(EINVAL, "VMware volume '%s': the path must stay "
                       "inside its datastore", id);
  for (const char *p = out->path; *p; p++)
    if ((unsigned char)*p < 0x20)
      return ferry_error(EINVAL, "VMware volume id has a control character");
  int r = 0;
  if (q && ((r = query_value(q + 1, "dc", out->dc, sizeof out->dc)) ||
            (r = query_value(q + 1, "vm", out->vm, sizeof out->vm)) ||
            (r = query_value(q + 1, "snapshot", out->snapshot,
                             sizeof out->snapshot)) ||
            (r = query_value(q + 1, "key", out->key, sizeof out->key))))
    return r;
  return 0;
}

static void put_escaped(char *buf, size_t len, const char *s)
{
  size_t n = strlen(buf);
  for (; *s && n + 4 < len; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || strchr("-._~", c))
      buf[n++] = (char)c;
    else
      n += (size_t)snprintf(buf + n, len - n, "%%%02X", c);
  }
  buf[n] = 0;
}

int vmw_snapshot_volume(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *snapshot, const char *disk,
                        char **volume_id)
{
  struct vmw *w = VMW(fc);
  char snap[MOREF_LEN], dc[256];
  struct ferry_vm at;
  ferry_vm_init(&at);
  *volume_id = NULL;
  int r = vmw_snapshot_moref(w, vm->id, snapshot, snap, sizeof snap);
  if (r == 0)
    r = vmw_snapshot_disks(w, snap, &at);
  if (r == 0)
    r = vmw_datacenter_of(w, "VirtualMachine", vm->id, dc, sizeof dc, NULL,
                          0);
  const struct ferry_disk *d = NULL;
  for (size_t i = 0; r == 0 && i < at.n_disks; i++)
    if (!strcmp(at.disks[i].device, disk) || !strcmp(at.disks[i].id, disk))
      d = &at.disks[i];
  if (r == 0 && !d)
    r = ferry_error(ENOENT, "snapshot '%s' of VM %s has no disk '%s'",
                    snapshot, vm->name, disk);
  if (r == 0) {
    char id[2048];
    snprintf(id, sizeof id, "%s?dc=", d->volume_id);
    put_escaped(id, sizeof id, dc);
    snprintf(id + strlen(id), sizeof id - strlen(id), "&vm=");
    put_escaped(id, sizeof id, vm->id);
    snprintf(id + strlen(id), sizeof id - strlen(id), "&snapshot=");
    put_escaped(id, sizeof id, snap);
    snprintf(id + strlen(id), sizeof id - strlen(id), "&key=");
    put_escaped(id, sizeof id, d->id);
    if (!(*volume_id = strdup(id)))
      r = ferry_error(ENOMEM, "out of memory");
  }
  ferry_vm_dispose(&at);
  return r;
}

int vmw_open_volume(struct ferry_client *fc, const char *id, int mode,
                    struct ferry_volume **out)
{
  struct vmw *w = VMW(fc);
  struct vmw_volume_id v;
  int r = vmw_volume_id_parse(id, &v);
  if (r < 0)
    return r;
  if (strcmp(w->transport, "vddk"))
    return datastore_volume_open(w, &v, mode, out);
  if (mode != FERRY_OPEN_READ)
    return ferry_error(ENOTSUP, "%s: ferry reads VMware disks through VDDK "
                       "but does not write them", v.path);
  if (!*v.vm)
    return ferry_error(EINVAL, "%s: VDDK opens a VM's disk: the volume id "
                       "names no VM (?vm=MOREF)", v.path);
  struct vddk_params p = {
    .libdir = w->vddk_libdir, .major = w->major, .minor = w->minor,
    .server = w->server, .port = w->port, .username = w->user,
    .password = w->password, .thumbprint = w->thumbprint,
    .vm_moref = v.vm, .snapshot_moref = *v.snapshot ? v.snapshot : NULL,
    .disk_path = v.path, .transports = NULL,
  };
  return vddk_volume_open(&p, out);
}
