/* Drivers: every platform (qemu, vmware, ...) and data path (file, nbd) is
 * a driver built into the library, found by the URI it is given, as
 * libvirt probes its drivers. A caller learns from the registry what each
 * driver is called, which URIs it takes, which options it has and what it
 * can do, without knowing any platform.
 *
 * Options are URI query keys (vmware://u@h?transport=https): a key the
 * driver does not declare is refused. Credentials are never options: they
 * travel in a struct ferry_auth, are kept in memory no core dump holds, and
 * go into no argv, child environment, log, message or journal. */
#ifndef FERRY_DRIVERS_H
#define FERRY_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>

#include <ferry/ferry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a driver can do, so that a caller asks before it acts. */
enum ferry_feature {
  FERRY_FEATURE_VMS = 1u << 0,            /* lists and finds VMs */
  FERRY_FEATURE_SNAPSHOTS = 1u << 1,      /* disk snapshots */
  FERRY_FEATURE_RAM_SNAPSHOTS = 1u << 2,  /* snapshots with RAM */
  FERRY_FEATURE_CHANGED_BLOCKS = 1u << 3, /* changes between snapshots */
  FERRY_FEATURE_READ_VOLUMES = 1u << 4,   /* a data path to read */
  FERRY_FEATURE_WRITE_VOLUMES = 1u << 5,  /* its data path writes */
  FERRY_FEATURE_CREATE_VMS = 1u << 6,     /* defines VMs */
  FERRY_FEATURE_TASKS = 1u << 7,          /* asynchronous tasks (wait_task) */
  FERRY_FEATURE_BOOT_CHECK = 1u << 8,     /* check_boot_disk */
  FERRY_FEATURE_INJECT_DRIVERS = 1u << 9, /* inject_driver */
  FERRY_FEATURE_LIST_VOLUMES = 1u << 10,  /* volumes */
  FERRY_FEATURE_LIFECYCLE = 1u << 11,     /* start and stop VMs */
  FERRY_FEATURE_CREATE_VOLUMES = 1u << 12, /* creates and deletes volumes */
  /* a warm migration's source whose rounds track changed blocks with the
   * platform's own checkpoints (libvirt's), not between snapshots */
  FERRY_FEATURE_CHECKPOINT_ROUNDS = 1u << 13,
};

struct ferry_driver_option {
  const char *name; /* the URI query key, e.g. "transport" */
  const char *help; /* one line, for --help */
};

struct ferry_driver_info {
  const char *name;        /* "qemu", "vmware", "file", "nbd" */
  const char *description; /* one line */
  const char *uri_help;    /* the URI's shape, e.g. "qemu:///PATH" */
  const char *const *schemes; /* the URI schemes it claims, NULL-ended */
  const struct ferry_driver_option *options; /* ends with a NULL name */
  unsigned features;       /* enum ferry_feature */
  bool platform;           /* false: a data path only (no VMs) */
  bool takes_password;     /* open asks the auth for a password */
  /* its new volumes' format when none is asked for: "qcow2" when NULL
   * (ELF's are "raw": iSCSI LUNs) */
  const char *volume_format;
};

/* Every driver built into the library, in probing order. */
size_t ferry_drivers(const struct ferry_driver_info *const **out);
/* The driver that takes uri (NULL with ferry_last_error() when none). */
const struct ferry_driver_info *ferry_driver_of(const char *uri);
/* The driver behind a client made by this library (NULL otherwise). */
const struct ferry_driver_info *ferry_client_driver(client_t *c);

/* Credentials, as libvirt's virConnectAuth: the password itself, a file
 * whose first line is it, or a callback asked when (and only when) the
 * driver needs one. */
typedef int (*ferry_auth_fn)(void *opaque, const char *prompt, char *buf,
                             size_t len);
struct ferry_auth {
  size_t struct_size;        /* sizeof (struct ferry_auth) */
  const char *username;      /* NULL: the URI's USER@ */
  const char *password;      /* NULL: password_file, then ask */
  const char *password_file;
  ferry_auth_fn ask;         /* fills buf with the password (NUL-ended);
                              * 0 or a negative errno */
  void *opaque;
};

/* Flags of ferry_platform_open_auth. */
enum {
  /* The platform must exist already: a local state directory that is
   * missing is ENOENT naming it, not an empty platform that the first
   * write makes (for commands that only read). */
  FERRY_OPEN_EXISTING = 1u << 8,
};

/* Connects to the platform a URI names (see ferry_drivers for the
 * URIs). auth may be NULL when the platform needs no password. */
client_t *ferry_platform_open_auth(const char *uri,
                                   const struct ferry_auth *auth,
                                   unsigned flags);

/* A data endpoint: a path, or a URI naming one volume (file:///PATH,
 * nbd://..., nbd+unix:///...?socket=...): its client and the volume id
 * (malloc'd) in it. A relative path is taken from the current directory. */
client_t *ferry_endpoint_open(const char *arg, const struct ferry_auth *auth,
                              char **volume_id);

#ifdef __cplusplus
}
#endif

#endif
