/* Internal: disk-level helpers shared by internal and external snapshots. */
#ifndef FERRY_QEMU_SNAPDISK_H
#define FERRY_QEMU_SNAPDISK_H

#include <limits.h>
#include <stdbool.h>

#include <json-c/json.h>

#include "qemu.h"

struct qmp;

#define QMP_TIMEOUT 30000

/* The node a running VM's disk reads and writes now: "vda" after a start,
 * an overlay's node after a live external snapshot. */
int active_node(struct qmp *q, const char *device, char *buf, size_t len);
/* The same, with the image file the node reads (file may be NULL). */
int active_node_file(struct qmp *q, const char *device, char *buf,
                     size_t len, char *file, size_t flen);

/* What `qemu-img info` says of a volume, the format fixed by its id:
 * the volume id of its backing file ("" for none), and whether it holds
 * internal snapshots (if holds_snapshots is not NULL). */
int volume_backing(const struct qemu_state *st, const char *id, char *buf,
                   size_t len, bool *holds_snapshots);

/* How many volumes have `id` as their backing file, and whether any. */
int volume_backers(const struct qemu_state *st, const char *id,
                   unsigned *count);
int volume_is_backing(const struct qemu_state *st, const char *id, bool *is);

/* The file an image name in qemu's terms names: a path as it is, or the
 * file.filename of a "json:{...}" pseudo-filename (qemu writes one into a
 * header when the backing node was opened with options); "" if none. */
void image_of_name(const char *name, char *buf, size_t len);

/* The running VM's format node that reads the image at path. */
int node_of_file(struct qmp *q, const char *path, char *buf, size_t len);

/* Whether `id` is one of the layers the VM's disks stand on now. */
int volume_in_chain(const struct qemu_state *st, const struct ferry_vm *vm,
                    const char *id, bool *in);

/* A volume that nothing needs any more: not a disk of any VM, not the
 * backing file of any volume, not an overlay of any snapshot record, and
 * holding no internal snapshots. */
int volume_unused(const struct qemu_state *st, const char *id, bool *unused);
/* *named: a snapshot record of some VM names volume id as its overlay. */
int volume_in_records(const struct qemu_state *st, const char *id,
                      bool *named);

/* Overlay ids: <vm>-<dev>-<snapshot>.qcow2 (overlay_base), or .<k>.qcow2
 * when that is taken (overlay_id, the first free one). buf needs room for
 * a volume id; one that would be longer than a volume id may be is
 * refused (EINVAL, saying which names make it), never cut short. */
int overlay_base(const struct ferry_vm *vm, const struct ferry_disk *d,
                 const char *snap, char *buf, size_t len);
int overlay_id(const struct qemu_state *st, const struct ferry_vm *vm,
               const struct ferry_disk *d, const char *snap, char *buf,
               size_t len);

/* Whether a volume (offline) or a running node (q) holds a bitmap. */
int volume_has_bitmap(const struct qemu_state *st, const char *id,
                      const char *bitmap, bool *has);
int node_has_bitmap(struct qmp *q, const char *node, const char *bitmap,
                    bool *has);

/* qemu-img bitmap --add (persistent, recording, 64 KiB granularity) or
 * --disable on a stopped volume. */
int volume_bitmap(const struct qemu_state *st, const char *id,
                  const char *op, const char *bitmap);

/* Dirty bitmaps record changes in 64 KiB granules (a qcow2 cluster). */
#define BITMAP_GRANULARITY 65536

/* The bitmap of changes made after a snapshot: "ferry-<name>". */
void bitmap_name(const char *snap, char *buf, size_t len);

/* Waits for the block jobs (ids "ferry-...") a dead ferry started in this
 * qemu: they run on after it (a stream or commit of a snapshot delete),
 * and the next snapshot operation must not race them. Their outcome does
 * not matter here: the interrupted operation is finished again later. */
int wait_leftover_jobs(struct qmp *q);

/* qemu-img create -f qcow2 -b <backing id> -F <its format> <overlay id>. */
int overlay_create(const struct qemu_state *st, const char *overlay,
                   const char *backing);

#endif
