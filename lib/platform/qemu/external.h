/* Internal: external (overlay) snapshots of the qemu platform. */
#ifndef FERRY_QEMU_EXTERNAL_H
#define FERRY_QEMU_EXTERNAL_H

#include <stdbool.h>

#include "qemu.h"

struct qmp;

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

/* Refuses (EBUSY, saying why) a delete that would leave internal
 * snapshots in an image off the VM's chain and cannot commit down
 * instead; changes nothing. */
int external_delete_check(const struct qemu_state *st, struct qmp *q,
                          const struct ferry_vm *vm,
                          const struct ferry_domain_snapshot *rec);

/* Streams each frozen image into the snapshot's overlay, so that nothing
 * above depends on the snapshot. Can be run again after a crash.
 * unhooked[i] (rec->n_disks of them) get the images taken off the chains. */
int external_delete(const struct qemu_state *st, struct qmp *q,
                    const struct ferry_vm *vm,
                    const struct ferry_domain_snapshot *rec,
                    char (*unhooked)[256]);

/* Removes the overlays a record named (and `also`, rec->n_disks more ids,
 * or NULL), and the layers under them, as far as nothing needs them any
 * more (no VM, record, overlay or internal snapshot). Call it once the
 * record is saved anew or removed. */
void external_drop_unused(const struct qemu_state *st,
                          const struct ferry_domain_snapshot *rec,
                          char (*also)[256]);

#endif
