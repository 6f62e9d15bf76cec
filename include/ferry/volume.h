/* The volume interface beneath the seed's client_t.
 *
 * A volume of a client is opened to a handle with a size, positioned I/O,
 * zeroing, flush and an allocation map. The copy engine uses it (and async
 * I/O where the backend has it); a hand-made client_t is wrapped in a volume
 * that calls its read/write callbacks.
 */
#ifndef FERRY_VOLUME_H
#define FERRY_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct client;
struct ferry_volume;

enum {
  FERRY_OPEN_READ = 0,
  FERRY_OPEN_WRITE = 1,
};

/* Allocation flags of an extent: DATA has neither. */
enum {
  FERRY_EXTENT_HOLE = 1, /* not allocated */
  FERRY_EXTENT_ZERO = 2, /* reads as zeroes */
};

struct ferry_extent_info {
  uint64_t offset;
  uint64_t length;
  unsigned flags;
};

int ferry_volume_open(struct client *client, const char *volume_id,
                      int mode, struct ferry_volume **out);
void ferry_volume_close(struct ferry_volume *v);

/* Size in bytes, or -1 when the backend cannot tell (a hand-made client). */
int64_t ferry_volume_size(const struct ferry_volume *v);
/* A name for messages, e.g. "nbd+unix:///disk?socket=/run/x.sock". */
const char *ferry_volume_name(const struct ferry_volume *v);
/* How the volume's data is stored: "raw", "qcow2", "vmdk"; an NBD export
 * is "raw" (the protocol serves plain bytes); NULL when unknown (a
 * hand-made client). */
const char *ferry_volume_format(const struct ferry_volume *v);
bool ferry_volume_can_multi_conn(const struct ferry_volume *v);

int ferry_volume_pread(struct ferry_volume *v, void *buf, size_t len,
                       uint64_t offset);
int ferry_volume_pwrite(struct ferry_volume *v, const void *buf, size_t len,
                        uint64_t offset);
/* Makes the range read as zeroes, as a hole where the backend can. */
int ferry_volume_zero(struct ferry_volume *v, uint64_t len, uint64_t offset);
int ferry_volume_flush(struct ferry_volume *v);

/* The allocation map of [offset, offset+len): an array of extents that
 * covers the range exactly, in order, adjacent ones of equal flags merged.
 * A backend without allocation information reports one DATA extent.
 * Free *out with free(). */
int ferry_volume_extents(struct ferry_volume *v, uint64_t offset, uint64_t len,
                         struct ferry_extent_info **out, size_t *n_out);

#ifdef __cplusplus
}
#endif

#endif
