/* Internal: VMware volume ids and the HTTPS datastore data path. */
#ifndef FERRY_VMWARE_DATA_H
#define FERRY_VMWARE_DATA_H

#include "vmware.h"

/* A volume id: "[ds] dir/disk.vmdk?dc=DC&vm=vm-1&snapshot=snapshot-2&key=2000"
 * (query values percent-encoded; all but the path optional). */
struct vmw_volume_id {
  char path[1024];     /* "[ds] dir/disk.vmdk" */
  char datastore[256]; /* "ds" */
  char rel[1024];      /* "dir/disk.vmdk" */
  char dc[256], vm[MOREF_LEN], snapshot[MOREF_LEN], key[32];
};

int vmw_volume_id_parse(const char *id, struct vmw_volume_id *out);

struct ferry_volume;
/* The disk at id->path read (and, with FERRY_OPEN_WRITE, written) through
 * the datastore's /folder HTTPS interface. Its allocation map is CBT's "*"
 * when id names a snapshot and a disk key. */
int datastore_volume_open(struct vmw *w, const struct vmw_volume_id *id,
                          int mode, struct ferry_volume **out);

#endif
