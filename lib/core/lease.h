/* Internal: leases, so that one operation at a time works on a VM (or on
 * a name about to be created) across processes.
 *
 * A lease is a file <dir>/<key>.lease naming its holder (a migration id)
 * and the holder's journal. A lease whose journal is gone, or says the
 * migration is done or aborted, is stale and may be taken over: a crash
 * never leaves a VM leased forever. Taking and checking hold <dir>/lock,
 * so two takers never both win. Keys are name_check() names:
 * "vm-<uuid>", "vmname-<name>", "volume-<id>". */
#ifndef FERRY_CORE_LEASE_H
#define FERRY_CORE_LEASE_H

/* Takes the lease key for holder (whose journal is at journal): 0 when
 * taken or already held by holder; -EBUSY naming the other holder and
 * `what` ("VM 'web'") otherwise. */
int lease_take(const char *dir, const char *key, const char *holder,
               const char *journal, const char *what);

/* Drops holder's lease key (another's is left alone; none is fine). */
int lease_drop(const char *dir, const char *key, const char *holder);

/* 0 when key is free or held by holder (NULL: the caller holds none);
 * -EBUSY with a message naming the holder, `what` and `doing` ("snapshot
 * create") otherwise. */
int lease_check(const char *dir, const char *key, const char *holder,
                const char *what, const char *doing);

#endif
