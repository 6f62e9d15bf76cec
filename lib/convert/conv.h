/* Internal to lib/convert: one conversion's libguestfs handle and its
 * report, shared by the guest kinds (linux.c, windows.c). */
#ifndef FERRY_CONV_H
#define FERRY_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "guestfs_lib.h" /* libguestfs's API, loaded on first use */

struct conv {
  guestfs_h *g;
  char *report; /* what changed, a line each */
  size_t len;
  const char *virtio_win; /* virtio-win's files (Windows), or NULL */
  bool remove_vmware_tools;
};

/* A line of the report (best effort: the change was made anyway). */
void conv_note(struct conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* libguestfs's last error as ferry's, about what. */
int conv_error(struct conv *c, const char *what);
bool conv_exists(struct conv *c, const char *path);

/* The common guest found quickly: 0 with its mounts ((mount point,
 * device) pairs, NULL-ended) and what it is ("linux debian 12 on
 * /dev/sda1"), all malloc'd; 1 when it is left to libguestfs's full
 * inspection; -errno. */
int quick_inspect(struct conv *c, char ***mounts, char **what);

/* The guest kinds: the guest's filesystems are mounted. */
int linux_convert(struct conv *c);
int windows_convert(struct conv *c, const char *root);

#endif
