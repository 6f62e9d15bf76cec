/* Converting a guest on a disk image for KVM's virtio with libguestfs's C
 * API (ferry's inject_driver): one appliance launch, the guest inspected
 * and its filesystems mounted as it mounts them, then the changes of its
 * kind (linux.c, windows.c). Every change is reported, one line each, as
 * virt-v2v prints them. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <guestfs.h>

#include "../core/error.h"
#include "conv.h"
#include "convert.h"

void conv_note(struct conv *c, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof line) /* a long line, cut */
    n = sizeof line - 1;
  char *r = realloc(c->report, c->len + (size_t)n + 2);
  if (!r)
    return; /* the report is best effort; the change was made */
  memcpy(r + c->len, line, (size_t)n);
  c->len += (size_t)n;
  r[c->len++] = '\n';
  r[c->len] = '\0';
  c->report = r;
}

int conv_error(struct conv *c, const char *what)
{
  const char *m = guestfs_last_error(c->g);
  int e = guestfs_last_errno(c->g);
  return ferry_error(e ? e : EIO, "%s: %s", what, m ? m : "failed");
}

bool conv_exists(struct conv *c, const char *path)
{
  return guestfs_exists(c->g, path) == 1;
}

/* The guest's filesystems mounted as its fstab says, shortest mount
 * point first; mp: (mount point, device) pairs, freed here. */
static int mount_guest(struct conv *c, char **mp)
{
  if (!mp)
    return conv_error(c, "the guest's mount points");
  int r = 0;
  for (size_t len = 1; r == 0 && len < 4096; len++) {
    bool more = false;
    for (size_t i = 0; mp[i] && r == 0; i += 2) {
      size_t l = strlen(mp[i]);
      more = more || l > len;
      if (l == len && guestfs_mount(c->g, mp[i + 1], mp[i]) < 0)
        r = conv_error(c, mp[i]);
    }
    if (!more)
      break;
  }
  for (size_t i = 0; mp[i]; i++)
    free(mp[i]);
  free(mp);
  return r;
}

/* libguestfs's full inspection, for every guest quick_inspect leaves:
 * the guest's filesystems mounted, what it is told; *root (malloc'd) its
 * root for windows_convert. */
static int inspect_and_mount(struct conv *c,
                             const struct guest_convert_opts *opts,
                             bool *windows, char **root)
{
  char **roots = guestfs_inspect_os(c->g);
  int r = 0;
  if (!roots || !roots[0])
    r = roots ? ferry_error(ENOTSUP, "no operating system found on the "
                            "disk: nothing to convert")
              : conv_error(c, "inspection");
  char *type = r == 0 ? guestfs_inspect_get_type(c->g, roots[0]) : NULL;
  char *distro = r == 0 ? guestfs_inspect_get_distro(c->g, roots[0]) : NULL;
  *windows = type && !strcmp(type, "windows");
  if (r == 0 && !*windows && (!type || strcmp(type, "linux")))
    r = ferry_error(ENOTSUP, "cannot convert a %s guest: ferry converts "
                    "Linux and Windows guests", type ? type : "unknown");
  if (r == 0 && *windows && opts->remove_vmware_tools)
    r = ferry_error(ENOTSUP, "removing VMware Tools from Windows takes its "
                    "own uninstaller, in the running guest: convert "
                    "without removing them");
  if (r == 0 && *windows && (!opts->virtio_win || !*opts->virtio_win))
    r = ferry_error(ENOTSUP, "a Windows guest needs virtio-win's drivers, "
                    "which Debian does not ship: give the platform's "
                    "virtio_win option (--virtio-win DIR, virtio-win's "
                    "files: its ISO mounted, or unpacked)");
  if (r == 0) {
    conv_note(c, "guest: %s %s %d.%d on %s", type, distro ? distro : "?",
              guestfs_inspect_get_major_version(c->g, roots[0]),
              guestfs_inspect_get_minor_version(c->g, roots[0]), roots[0]);
    r = mount_guest(c, guestfs_inspect_get_mountpoints(c->g, roots[0]));
  }
  if (r == 0 && !(*root = strdup(roots[0])))
    r = ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; roots && roots[i]; i++)
    free(roots[i]);
  free(roots);
  free(type);
  free(distro);
  return r;
}

int guest_convert(const char *image, const char *format,
                  const struct guest_convert_opts *opts, char **report)
{
  *report = NULL;
  int r = guestfs_lib_load();
  if (r < 0)
    return r;
  struct conv c = { guestfs_create(), NULL, 0, opts->virtio_win,
                    opts->remove_vmware_tools };
  if (!c.g)
    return ferry_error(ENOMEM, "libguestfs: cannot create a handle");
  guestfs_set_error_handler(c.g, NULL, NULL); /* errors come back to us */
  /* the appliance in qemu directly; TCG unless KVM is asked for and
   * works; two vCPUs boot it sooner */
  if (guestfs_set_backend(c.g, "direct") < 0 || guestfs_set_smp(c.g, 2) < 0 ||
      (!opts->kvm && guestfs_set_backend_setting(c.g, "force_tcg", "1") < 0) ||
      guestfs_add_drive_opts(c.g, image, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
                             format, -1) < 0 ||
      guestfs_launch(c.g) < 0)
    r = conv_error(&c, "libguestfs");
  char **mounts = NULL, *what = NULL, *root = NULL;
  bool windows = false;
  int quick = r == 0 ? quick_inspect(&c, &mounts, &what) : r;
  if (quick == 0) {
    conv_note(&c, "guest: %s", what);
    r = mount_guest(&c, mounts);
  } else if (quick == 1) {
    r = inspect_and_mount(&c, opts, &windows, &root);
  } else {
    r = quick;
  }
  if (r == 0)
    r = windows ? windows_convert(&c, root) : linux_convert(&c);
  if (r == 0 && (guestfs_umount_all(c.g) < 0 || guestfs_shutdown(c.g) < 0))
    r = conv_error(&c, "libguestfs: writing the changes");
  free(what);
  free(root);
  guestfs_close(c.g);
  if (r < 0)
    free(c.report);
  else
    *report = c.report ? c.report : strdup("");
  return r;
}
