/* Internal: the registry edits that let a Windows guest boot from virtio
 * (windows_hive.c), on a SYSTEM hive file, with hivex. */
#ifndef FERRY_WINDOWS_HIVE_H
#define FERRY_WINDOWS_HIVE_H

typedef void (*hive_note_fn)(void *opaque, const char *line);

/* In the hive file at path (a SYSTEM hive), in the control set that
 * Select\Current names: the services viostor and vioscsi (boot start,
 * "SCSI miniport") and netkvm (demand start, "NDIS"), each with its
 * ImagePath under system32\drivers, and the CriticalDeviceDatabase
 * entries that bind virtio's PCI ids to viostor and vioscsi before Plug
 * and Play runs (as virt-v2v writes them). Every key and value written is
 * told to note, a line each. Run again, it writes the same. Committed to
 * path only when all of it was made. */
int hive_add_virtio(const char *path, hive_note_fn note, void *opaque);

#endif
