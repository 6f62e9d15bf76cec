/* Internal: the operations table every volume backend fills in, after
 * nbdcopy's struct rw_ops. Synchronous backends leave the aio_* members NULL
 * and the engine calls them directly; async backends (NBD) complete I/O from
 * within aio_notify(). */
#ifndef FERRY_VOLUME_INTERNAL_H
#define FERRY_VOLUME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <ferry/sync.h>
#include <ferry/volume.h>

enum vio_op { VIO_READ, VIO_WRITE, VIO_ZERO };

/* One I/O in flight. The backend sets err (0 or a positive errno) and
 * calls done(io) exactly once. */
struct vio {
  enum vio_op op;
  void *buf;
  uint64_t len, offset;
  int err;
  void (*done)(struct vio *io);
  void *opaque;
};

/* A growable allocation map; see ferry_volume_extents(). */
struct extent_map {
  struct ferry_extent_info *v;
  size_t n, cap;
};
/* Appends the map of [off, end) where data, sorted by offset, are the
 * allocated byte ranges (they may reach past either end): data as DATA,
 * the gaps as holes that read as zeroes. */
int extent_map_add_data(struct extent_map *m, uint64_t off, uint64_t end,
                        const struct ferry_extent *data, size_t n);
int extent_map_add(struct extent_map *m, uint64_t offset, uint64_t length,
                   unsigned flags);
void extent_map_free(struct extent_map *m);

struct volume_ops {
  const char *kind;
  int (*pread)(struct ferry_volume *v, void *buf, size_t len, uint64_t off);
  /* pwrite, zero and flush may be NULL in a backend that opens volumes
   * read-only only: writes to a volume that is not writable fail with
   * EROFS before reaching the backend. */
  int (*pwrite)(struct ferry_volume *v, const void *buf, size_t len,
                uint64_t off);
  int (*zero)(struct ferry_volume *v, uint64_t len, uint64_t off);
  int (*flush)(struct ferry_volume *v);
  /* Appends the map of [off, off+len) to m; NULL means all data. */
  int (*extents)(struct ferry_volume *v, uint64_t off, uint64_t len,
                 struct extent_map *m);
  /* Async I/O: start without blocking; done() is called from aio_notify. */
  int (*aio_start)(struct ferry_volume *v, struct vio *io);
  int (*aio_fd)(struct ferry_volume *v, short *events);
  int (*aio_notify)(struct ferry_volume *v, short revents);
  unsigned (*aio_in_flight)(struct ferry_volume *v);
  /* True when the connection is gone and reconnect() is needed. */
  bool (*is_dead)(struct ferry_volume *v);
  /* Another handle on the same volume, for another worker. */
  int (*clone)(struct ferry_volume *v, struct ferry_volume **out);
  int (*reconnect)(struct ferry_volume *v);
  void (*close)(struct ferry_volume *v);
};

struct ferry_volume {
  const struct volume_ops *ops;
  char *name;      /* for messages */
  char format[16]; /* how the data is stored: "raw", "qcow2"; "" unknown */
  int64_t size;    /* -1 unknown */
  uint64_t zero_max; /* largest zero request worth sending at once */
  unsigned workers;  /* workers (clones) it copies best with; 0: the
                      * engine's default */
  unsigned max_workers; /* the most worth having (a clone costs a process);
                         * 0: no limit */
  uint64_t io_size;  /* request size it copies best with; 0: no opinion */
  uint64_t gap_max;  /* a gap between two extents up to this long is read
                      * rather than sent as a second request; 0: never */
  bool writable;
  bool can_multi_conn; /* clones may write and flush independently */
  bool thread_safe;    /* clones may run in parallel threads */
  void *priv;
  /* Called once the volume is closed (its clones are not given it): what
   * the platform made for it to be read, taken back (a LUN clone). */
  void (*release)(void *opaque);
  void *release_opaque;
};

/* Allocates a volume with its name copied; NULL on ENOMEM. */
struct ferry_volume *volume_new(const struct volume_ops *ops,
                                const char *name);
void volume_free(struct ferry_volume *v);

/* Runs one I/O to completion synchronously, async backends included. */
int volume_io_sync(struct ferry_volume *v, struct vio *io);
/* One request on a volume without async ops: io->err is set, -errno
 * returned; io->done is not called. */
int volume_io_blocking(struct ferry_volume *v, struct vio *io);

/* 1 MiB of zeroes, for backends that zero by writing. */
extern const char volume_zero_buf[1 << 20];

/* Zeroes [off, off+len) with ops->pwrite of volume_zero_buf. */
int volume_zero_by_writes(struct ferry_volume *v, uint64_t len, uint64_t off);

/* The back-off before try number `tries` (1, 2, ...): the first delay
 * doubled each time, at most 5 s. */
uint64_t retry_backoff_ms(unsigned first_ms, unsigned tries);

/* True for errno values worth retrying: EIO, EAGAIN, dropped connections. */
bool volume_err_transient(int err);

/* The allocation map of [off, off+len) appended to m (all data when the
 * backend has none). */
int volume_extents(struct ferry_volume *v, uint64_t off, uint64_t len,
                   struct extent_map *m);

/* The identity a volume would have once open, or "" when it cannot be
 * told without opening it. */
void volume_identify(struct client *c, const char *volume_id, char *buf,
                     size_t len);

/* Backends. */
/* Opens root/volume_id. format "raw" or an image format names it; NULL
 * guesses it from the magic, and then refuses an image that points at
 * other files (backing or data file): a guest can write such a header into
 * its raw disk to read the host's files (qemu's probing problem). */
int file_volume_open(const char *root, const char *volume_id,
                     const char *format, int mode, struct ferry_volume **out);
struct nbd_uri;
int nbd_volume_open_uri(const struct nbd_uri *uri, int mode,
                        struct ferry_volume **out);
/* Serves path (an image of the given format) through qemu-nbd started by
 * libnbd's systemd socket activation. */
int nbd_volume_open_image(const char *path, const char *format, int mode,
                          struct ferry_volume **out);
/* The image at path served read-only with its dirty bitmap exported: its
 * extents are the bitmap's, changed areas as data, clean ones as holes. */
int nbd_volume_open_bitmap(const char *path, const char *format,
                           const char *bitmap, struct ferry_volume **out);
/* A read-only export of a unix socket's NBD server; context (NULL:
 * base:allocation) gives its extents, as in nbd_volume_open_bitmap for
 * a dirty bitmap's. */
int nbd_volume_open_export(const char *socket, const char *export,
                           const char *context, struct ferry_volume **out);
/* LUN lun of target at portal (HOST:PORT), logged in as initiator (an
 * IQN): a volume of whole blocks, each handle (clone) its own session. */
int iscsi_volume_open(const char *portal, const char *target, int lun,
                      const char *initiator, int mode,
                      struct ferry_volume **out);
struct client;
int callback_volume_open(struct client *c, const char *volume_id, int mode,
                         struct ferry_volume **out);
void callback_identity(struct client *c, const char *volume_id, char *buf,
                       size_t len);

#endif
