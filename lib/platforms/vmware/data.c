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

/* out->path's datastore and the path inside it, checked to stay there. */
static int split_path(struct vmw_volume_id *out)
{
  const char *p = out->path, *close = strchr(p, ']');
  if (p[0] != '[' || !close || close[1] != ' ' ||
      (size_t)(close - p - 1) >= sizeof out->datastore)
    return ferry_error(EINVAL, "VMware volume '%s' must be a datastore path "
                       "such as '[datastore1] vm/disk.vmdk'", p);
  memcpy(out->datastore, p + 1, (size_t)(close - p - 1));
  out->datastore[close - p - 1] = '\0';
  snprintf(out->rel, sizeof out->rel, "%s", close + 2);
  if (strstr(out->rel, "..") || out->rel[0] == '/' || !*out->rel)
    return ferry_error(EINVAL, "VMware volume '%s': the path must stay "
                       "inside its datastore", p);
  for (; *p; p++)
    if ((unsigned char)*p < 0x20)
      return ferry_error(EINVAL, "VMware volume id has a control character");
  return 0;
}

int vmw_volume_id_parse(const char *id, struct vmw_volume_id *out)
{
  memset(out, 0, sizeof *out);
  const char *q = strchr(id, '?');
  size_t plen = q ? (size_t)(q - id) : strlen(id);
  if (plen >= sizeof out->path)
    return ferry_error(ENAMETOOLONG, "VMware volume '%.64s...' is too long",
                       id);
  memcpy(out->path, id, plen);
  int r = split_path(out);
  return r == 0 && q ? uri_query_each(q + 1, id_option, out) : r;
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

/* Disk `disk` of a VM's snapshot, as the data path needs it: its file,
 * datacenter, VM, snapshot and device key. */
static int snapshot_disk(struct vmw *w, const struct ferry_vm *vm,
                         const char *snapshot, const char *disk,
                         struct vmw_volume_id *out)
{
  struct ferry_vm at;
  ferry_vm_init(&at);
  memset(out, 0, sizeof *out);
  int r = vmw_snapshot_moref(w, vm->id, snapshot, out->snapshot,
                             sizeof out->snapshot);
  if (r == 0)
    r = vmw_snapshot_disks(w, out->snapshot, &at);
  if (r == 0)
    r = vmw_datacenter_of(w, vm->id, out->dc, sizeof out->dc);
  const struct ferry_disk *d = NULL;
  for (size_t i = 0; r == 0 && i < at.n_disks; i++)
    if (!strcmp(at.disks[i].device, disk) || !strcmp(at.disks[i].id, disk))
      d = &at.disks[i];
  if (r == 0 && !d)
    r = ferry_error(ENOENT, "snapshot '%s' of VM %s has no disk '%s'",
                    snapshot, vm->name, disk);
  if (r == 0 && (strlen(d->volume_id) >= sizeof out->path ||
                 strlen(d->id) >= sizeof out->key ||
                 strlen(vm->id) >= sizeof out->vm))
    r = ferry_error(ENAMETOOLONG, "snapshot '%s' of VM %s: disk %s's names "
                    "are too long", snapshot, vm->name, disk);
  if (r == 0) {
    snprintf(out->path, sizeof out->path, "%s", d->volume_id);
    snprintf(out->key, sizeof out->key, "%s", d->id);
    snprintf(out->vm, sizeof out->vm, "%s", vm->id);
    r = split_path(out);
  }
  ferry_vm_dispose(&at);
  return r;
}

int vmw_snapshot_volume(struct ferry_client *fc, const struct ferry_vm *vm,
                        const char *snapshot, const char *disk,
                        char **volume_id)
{
  struct vmw_volume_id v;
  *volume_id = NULL;
  int r = snapshot_disk(VMW(fc), vm, snapshot, disk, &v);
  if (r == 0) {
    char id[2048];
    snprintf(id, sizeof id, "%s", v.path);
    add_option(id, sizeof id, "dc", v.dc);
    add_option(id, sizeof id, "vm", v.vm);
    add_option(id, sizeof id, "snapshot", v.snapshot);
    add_option(id, sizeof id, "key", v.key);
    if (!(*volume_id = strdup(id)))
      r = ferry_error(ENOMEM, "out of memory");
  }
  return r;
}

/* The disk v names, through the client's data path. */
static int open_disk(struct vmw *w, const struct vmw_volume_id *v, int mode,
                     struct ferry_volume **out)
{
  if (strcmp(w->transport, "vddk"))
    return datastore_volume_open(w, v, mode, out);
  if (mode != FERRY_OPEN_READ)
    return ferry_error(ENOTSUP, "%s: ferry reads VMware disks through VDDK "
                       "but does not write them", v->path);
  if (!*v->vm)
    return ferry_error(EINVAL, "%s: VDDK opens a VM's disk: the volume id "
                       "names no VM (?vm=MOREF)", v->path);
  struct vddk_params p = {
    .libdir = w->vddk_libdir, .major = w->major, .minor = w->minor,
    .server = w->server, .port = w->port, .username = w->user,
    .password = w->password, .thumbprint = w->thumbprint,
    .vm_moref = v->vm, .snapshot_moref = *v->snapshot ? v->snapshot : NULL,
    .disk_path = v->path, .transports = NULL, .debug = w->vddk_debug,
  };
  return vddk_volume_open(&p, out);
}

int vmw_open_volume(struct ferry_client *fc, const char *id, int mode,
                    struct ferry_volume **out)
{
  struct vmw_volume_id v;
  int r = vmw_volume_id_parse(id, &v);
  /* A VM's disk as its devices name it ("[ds] path"): the datacenter is
   * the datastore's. */
  if (r == 0 && !*v.dc)
    r = vmw_datastore_datacenter(VMW(fc), v.datastore, v.dc, sizeof v.dc);
  return r < 0 ? r : open_disk(VMW(fc), &v, mode, out);
}

/* A snapshot's disk opened from what the snapshot says, with no volume id
 * written and parsed in between. */
int vmw_snapshot_open(struct ferry_client *fc, const struct ferry_vm *vm,
                      const char *snapshot, const char *disk,
                      struct ferry_volume **out)
{
  struct vmw_volume_id v;
  int r = snapshot_disk(VMW(fc), vm, snapshot, disk, &v);
  return r < 0 ? r : open_disk(VMW(fc), &v, FERRY_OPEN_READ, out);
}
