/* VMware volume ids and the choice of data path: VDDK (what deployments
 * use; loaded at run time) or the datastore's HTTPS interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../../core/uri.h"
#include <curl/curl.h>
#include "vddk.h"
#include "../../volume/volume.h"
#include "data.h"

/* One option of a volume id's query: dc, vm, snapshot or key. */
static int id_option(void *opaque, const char *key, size_t klen,
                     const char *value)
{
  struct vmw_volume_id *id = opaque;
  struct {
    const char *name;
    char *field;
    size_t size;
  } known[] = {
    { "dc", id->dc, sizeof id->dc },
    { "vm", id->vm, sizeof id->vm },
    { "snapshot", id->snapshot, sizeof id->snapshot },
    { "key", id->key, sizeof id->key },
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strlen(known[i].name) == klen && !strncmp(known[i].name, key, klen)) {
      if (value && strlen(value) >= known[i].size)
        return ferry_error(ENAMETOOLONG, "'%s=' is too long", known[i].name);
      snprintf(known[i].field, known[i].size, "%s", value ? value : "");
    }
  return 0; /* other options are for other readers */
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
  return q ? uri_query_each(q + 1, id_option, out) : 0;
}

/* Appends "&key=VALUE" (the first: "?key=") with VALUE percent-encoded. */
static void add_option(char *buf, size_t len, const char *key,
                       const char *value)
{
  char *e = curl_easy_escape(NULL, value, 0);
  size_t n = strlen(buf);
  snprintf(buf + n, len - n, "%c%s=%s", strchr(buf, '?') ? '&' : '?', key,
           e ? e : "");
  curl_free(e);
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
    r = vmw_datacenter_of(w, vm->id, dc, sizeof dc);
  const struct ferry_disk *d = NULL;
  for (size_t i = 0; r == 0 && i < at.n_disks; i++)
    if (!strcmp(at.disks[i].device, disk) || !strcmp(at.disks[i].id, disk))
      d = &at.disks[i];
  if (r == 0 && !d)
    r = ferry_error(ENOENT, "snapshot '%s' of VM %s has no disk '%s'",
                    snapshot, vm->name, disk);
  if (r == 0) {
    char id[2048];
    snprintf(id, sizeof id, "%s", d->volume_id);
    add_option(id, sizeof id, "dc", dc);
    add_option(id, sizeof id, "vm", vm->id);
    add_option(id, sizeof id, "snapshot", snap);
    add_option(id, sizeof id, "key", d->id);
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
    .disk_path = v.path, .transports = NULL, .debug = w->vddk_debug,
  };
  return vddk_volume_open(&p, out);
}
