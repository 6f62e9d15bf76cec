/* Internal: VMware VDDK (Virtual Disk Development Kit) as a volume backend.
 *
 * VDDK's libvixDiskLib.so is loaded at run time with dlopen() from the
 * directory the caller names, so ferry builds and runs without it; only a
 * VDDK volume needs it. A volume is one virtual disk of a VM (or of one of
 * its snapshots) on vCenter or ESXi, read-only: ferry reads VMware disks and
 * writes elsewhere.
 *
 * VDDK is initialised once per process (VixDiskLib_InitEx), by the first
 * open, with that open's version numbers and library directory; every later
 * open uses the same library. A process loads one VDDK: opening with a
 * libdir that holds another copy fails with EBUSY.
 */
#ifndef FERRY_VOLUME_VDDK_H
#define FERRY_VOLUME_VDDK_H

#include <stdbool.h>

struct ferry_volume;

struct vddk_params {
  /* The VDDK directory (as unpacked from VMware's tarball) holding
   * lib64/libvixDiskLib.so, or the directory holding libvixDiskLib.so
   * itself; the plain name is tried first, then the .so.N names VDDK
   * ships. Given to VixDiskLib_InitEx as its libDir (where VDDK finds its
   * plugins), lib64/ stripped. Required. */
  const char *libdir;
  /* The VDDK API version asked for, as the seed's create_client gives it
   * ("7", "0"); NULL means 6.7. Only the first open of a process counts. */
  const char *major, *minor;
  const char *server;     /* vCenter or ESXi host name or IP; required */
  int port;               /* 0: 443 */
  const char *username;   /* required */
  const char *password;   /* required; never shown in any message */
  const char *thumbprint; /* the server certificate's SHA-1, "AA:BB:..."; NULL
                           * leaves the check to VDDK's configuration */
  const char *vm_moref;   /* "vm-42": vmxSpec becomes "moref=vm-42"; required */
  const char *snapshot_moref; /* "snapshot-7", or NULL for the live disk */
  const char *disk_path;  /* "[LocalDS_0] dir/disk1.vmdk"; required */
  const char *transports; /* "nbdssl:nbd", ...; NULL: the library's default */
  bool debug;             /* VDDK's own log lines on stderr */
};

/* Opens the disk read-only through VDDK. The volume is neither writable
 * (writes and zeroes fail with EROFS) nor shared between threads, and has
 * no clone: the engine copies from it with one worker. */
int vddk_volume_open(const struct vddk_params *p, struct ferry_volume **out);

/* True when libvixDiskLib.so (or a .so.N of it) is in libdir or
 * libdir/lib64, for choosing the default transport. NULL: false. */
bool vddk_available(const char *libdir);

/* The transport VDDK chose for an open VDDK volume ("nbdssl", "hotadd",
 * ...), or NULL when the library did not say. */
const char *vddk_volume_transport(const struct ferry_volume *v);

/* Ends VDDK in this process (VixDiskLib_Exit) when no VDDK volume is open;
 * -EBUSY otherwise, 0 when it was not initialised. VDDK cannot be started
 * again afterwards: later opens fail with ESHUTDOWN. For the end of a
 * program that wants VDDK's clean-up; not calling it is harmless. */
int vddk_shutdown(void);

#endif
