/* Internal: external (overlay) snapshots of the qemu platform. */
#ifndef FERRY_QEMU_EXTERNAL_H
#define FERRY_QEMU_EXTERNAL_H

#include <stdbool.h>

#include "qemu.h"

struct qmp;

/* Refuses (EINVAL) a snapshot name that would make some disk's overlay id
 * longer than a volume id may be; for a create to call before it changes
 * anything. */
int external_names_check(const struct ferry_vm *vm, const char *snap);

/* Puts a new overlay on every disk (q: the VM runs, switched in one QMP
 * transaction; NULL: it is stopped) and points the definition at them;
 * rec's disks[].file get the overlays. All or nothing. */
int external_create(const struct qemu_state *st, struct qmp *q,
                    const struct ferry_vm *vm, const char *snap,
                    struct ferry_domain_snapshot *rec);

/* The stopped VM's disks go onto fresh overlays over the snapshot's frozen
 * images; rec's files name them (changed says rec must be stored). */
int external_revert(const struct qemu_state *st, const struct ferry_vm *vm,
                    struct ferry_domain_snapshot *rec, bool *changed);

/* What deleting an external snapshot does to one disk, found before
 * anything changes: nothing (done already), drop its overlay (nothing
 * stands on it), stream the frozen image into the running top layer,
 * commit an overlay between others into the image under it (live), rebase
 * the overlay off the frozen image (stopped), or commit the overlay down
 * into a frozen image that holds internal snapshots (stopped). */
enum delete_how {
  DELETE_NOTHING, DELETE_DROP, DELETE_STREAM, DELETE_COMMIT, DELETE_REBASE,
  DELETE_COMMIT_DOWN
};

struct delete_disk {
  enum delete_how how;
  char overlay[256], frozen[256], below[256]; /* volume ids */
  bool active; /* the VM's disk writes to the overlay */
};

/* Fills plan (rec->n_disks entries) and refuses (EBUSY, saying why) a
 * delete that would leave internal snapshots in an image off the VM's
 * chain, or commit live into an image other layers stand on. Changes
 * nothing. */
int external_delete_plan(const struct qemu_state *st, struct qmp *q,
                         const struct ferry_vm *vm,
                         const struct ferry_domain_snapshot *rec,
                         struct delete_disk *plan);

/* Carries out a plan, so that nothing above depends on the snapshot. Can
 * be planned and run again after a crash. unhooked[i] (rec->n_disks of
 * them) get the images taken off the chains. */
int external_delete(const struct qemu_state *st, struct qmp *q,
                    const struct ferry_vm *vm,
                    const struct ferry_domain_snapshot *rec,
                    const struct delete_disk *plan, char (*unhooked)[256]);

/* Removes the overlays a record named (and `also`, rec->n_disks more ids,
 * or NULL), and the layers under them, as far as nothing needs them any
 * more (no VM, record, overlay or internal snapshot). Call it once the
 * record is saved anew or removed. */
void external_drop_unused(const struct qemu_state *st,
                          const struct ferry_domain_snapshot *rec,
                          char (*also)[256]);

#endif
