/* End-to-end verification: digests per chunk of the last snapshot's data
 * and of the destination volumes. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../sync/engine.h"
#include "migrate.h"

#define CHUNK (4u << 20)

static int verify_disk(client_t *src, client_t *dst, const char *src_vol,
                       const char *dst_vol, const char *device)
{
  struct ferry_volume *a = NULL, *b = NULL;
  char *ba = malloc(CHUNK), *bb = malloc(CHUNK);
  int r = !ba || !bb ? ferry_error(ENOMEM, "out of memory") : 0;
  if (r == 0)
    r = ferry_volume_open(src, src_vol, FERRY_OPEN_READ, &a);
  if (r == 0)
    r = ferry_volume_open(dst, dst_vol, FERRY_OPEN_READ, &b);
  int64_t size = r == 0 ? ferry_volume_size(a) : 0;
  if (r == 0 && ferry_volume_size(b) < size)
    r = ferry_error(EILSEQ, "disk %s: the destination is smaller than the "
                    "source", device);
  for (int64_t off = 0; r == 0 && off < size; off += CHUNK) {
    size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
    unsigned char da[32], db[32];
    if ((r = ferry_volume_pread(a, ba, n, off)) < 0 ||
        (r = ferry_volume_pread(b, bb, n, off)) < 0)
      break;
    chunk_digest(ba, n, da);
    chunk_digest(bb, n, db);
    if (memcmp(da, db, sizeof da)) {
      size_t at = 0;
      while (at < n && ba[at] == bb[at])
        at++;
      r = ferry_error(EILSEQ, "disk %s: source and destination differ at "
                      "offset %" PRId64, device, off + (int64_t)at);
    }
  }
  ferry_volume_close(a);
  ferry_volume_close(b);
  free(ba);
  free(bb);
  return r;
}

int verify_disks(client_t *src, client_t *dst, const struct ferry_vm *vm,
                 const struct ferry_migration *m, const char *snap)
{
  int r = 0;
  for (size_t i = 0; r == 0 && i < m->n_disks; i++) {
    char *vol = NULL;
    r = ferry_snapshot_volume(src, vm->uuid, snap, m->disks[i].device, &vol);
    if (r == 0)
      r = verify_disk(src, dst, vol, m->disks[i].dst_volume,
                      m->disks[i].device);
    free(vol);
  }
  return r;
}
