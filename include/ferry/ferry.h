/* ferry: VM snapshots and V2V migration with incremental block sync.
 *
 * This header is the seed's data-sync interface (create_client,
 * destroy_client, sync over sector extents), kept with the seed's names and
 * signatures, with one exception:
 *
 *   The seed calls the copy function `sync`. That name is POSIX sync(2) from
 *   <unistd.h>, and a shared library exporting `sync` would replace libc's for
 *   the whole process. It is exported here as ferry_sync(); the Python binding
 *   calls it `sync`.
 *
 * Every function returns a negative errno-style code (or NULL) on failure and
 * leaves a message with context in ferry_last_error().
 */
#ifndef FERRY_FERRY_H
#define FERRY_FERRY_H

#include <stdint.h>

#include <ferry/error.h>
#include <ferry/log.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_SECTOR_SIZE 512

enum client_type {
  CLIENT_FILE = 0,  /* host: root directory; volume id: path under it */
  CLIENT_NBD = 1,   /* host: NBD URI; volume id: export name ("" = URI's) */
  CLIENT_QEMU = 2,  /* local QEMU/KVM host managed by ferry */
  CLIENT_VMWARE = 3,
  CLIENT_ELF = 4,   /* SmartX ELF */
  CLIENT_XEN = 5,
  CLIENT_LIBVIRT = 6,
};

/* The seed's client. `client` is the backend's private state. read and
 * write move `len` bytes at byte `offset` of volume `volume_id` and return 0
 * on success or a negative errno. A caller may fill one in by hand with its
 * own callbacks; ferry_sync() then uses them (and `client` as their first
 * argument). close_client may be NULL for such a client.
 */
typedef struct client {
  void *client;
  int (*read)(void *client, const char *volume_id, char *buf, uint64_t len,
              uint64_t offset);
  int (*write)(void *client, const char *volume_id, char *buf, uint64_t len,
               uint64_t offset);
  int (*close_client)(void *client);
} client_t;

/* Connects a client. Versions and thumb_print may be NULL where the
 * platform does not use them; username and password likewise. The password
 * is copied and never logged. */
client_t *create_client(enum client_type type, const char *major_version,
                        const char *minor_version, const char *host,
                        const char *username, const char *password,
                        const char *thumb_print);

/* Closes and frees a client made by create_client (or calls close_client of
 * a hand-made one). Returns 0 or a negative errno. */
int destroy_client(client_t *client);

/* The seed's `sync`: copies extents of src_volume to the same offsets of
 * dest_volume. start[i] is the first 512-byte sector of extent i and
 * sector[i] its sector count. Extents are validated before the first byte
 * is written; overlapping ones are merged. length == 0 with start == NULL
 * and sector == NULL copies every allocated area of the source (and zeroes
 * the rest at the destination). Returns 0 or a negative errno. */
int ferry_sync(client_t *src_client, client_t *dest_client,
               const char *src_volume, const char *dest_volume,
               uint64_t start[], uint64_t sector[], int length);

#ifdef __cplusplus
}
#endif

#include <ferry/volume.h>
#include <ferry/sync.h>

#endif
