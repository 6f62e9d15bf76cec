/* Converting a Windows guest for KVM's virtio, as far as it can be done
 * before its first boot there (what virt-v2v does too): virtio-win's
 * viostor, vioscsi and netkvm copied in, and its SYSTEM hive edited so
 * that the disk drivers start at boot (windows_hive.c). The rest (the
 * drivers' installation by Plug and Play) Windows does at that boot. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <guestfs.h>

#include "../core/error.h"
#include "conv.h"
#include "virtio_win.h"
#include "windows_hive.h"

static const char *const drivers[] = { "viostor", "vioscsi", "netkvm", NULL };

static void hive_note(void *opaque, const char *line)
{
  conv_note(opaque, "SYSTEM hive: %s", line);
}

/* The guest's own spelling of a path (NTFS is case-insensitive, the
 * appliance is not). */
static char *guest_path(struct conv *c, const char *path)
{
  char *p = guestfs_case_sensitive_path(c->g, path);
  if (!p)
    conv_error(c, path);
  return p;
}

/* Every file of a driver's directory into the guest's dir (its .inf and
 * .cat for Plug and Play), and its .sys into system32\drivers. */
static int copy_driver(struct conv *c, const char *from, const char *name,
                       const char *sys_dir, const char *store)
{
  DIR *d = opendir(from);
  if (!d)
    return ferry_error(errno, "virtio-win: %s: %s", from, strerror(errno));
  int r = 0;
  char src[4096], dst[4096];
  for (struct dirent *de; r == 0 && (de = readdir(d));) {
    struct stat st;
    snprintf(src, sizeof src, "%s/%s", from, de->d_name);
    if (de->d_name[0] == '.' || stat(src, &st) < 0 || !S_ISREG(st.st_mode))
      continue;
    snprintf(dst, sizeof dst, "%s/%s", store, de->d_name);
    if (guestfs_upload(c->g, src, dst) < 0)
      r = conv_error(c, dst);
  }
  closedir(d);
  snprintf(src, sizeof src, "%s/%s.sys", from, name);
  snprintf(dst, sizeof dst, "%s/%s.sys", sys_dir, name);
  if (r == 0 && guestfs_upload(c->g, src, dst) < 0)
    r = conv_error(c, dst);
  if (r == 0)
    conv_note(c, "%s: %s.sys from %s (and its files into %s)", sys_dir, name,
              from, store);
  return r;
}

/* The SYSTEM hive edited on a local copy, then put back whole. */
static int edit_hive(struct conv *c, const char *root)
{
  char *hive = guestfs_inspect_get_windows_system_hive(c->g, root);
  if (!hive)
    return conv_error(c, "the guest's SYSTEM hive");
  char tmp[] = "/tmp/ferry-hive-XXXXXX";
  int fd = mkstemp(tmp), r = 0;
  if (fd < 0)
    r = ferry_error(errno, "a temporary file: %s", strerror(errno));
  else
    close(fd);
  if (r == 0 && guestfs_download(c->g, hive, tmp) < 0)
    r = conv_error(c, hive);
  if (r == 0)
    r = hive_add_virtio(tmp, hive_note, c);
  if (r == 0 && guestfs_upload(c->g, tmp, hive) < 0)
    r = conv_error(c, hive);
  if (fd >= 0)
    unlink(tmp);
  free(hive);
  return r;
}

int windows_convert(struct conv *c, const char *root)
{
  struct stat st;
  if (stat(c->virtio_win, &st) < 0 || !S_ISDIR(st.st_mode))
    return ferry_error(EINVAL, "virtio_win '%s' is not a directory (an "
                       "ISO: mount it, and give its mount point)",
                       c->virtio_win);
  char *product = guestfs_inspect_get_product_name(c->g, root);
  char *arch = guestfs_inspect_get_arch(c->g, root);
  char *sysroot = guestfs_inspect_get_windows_systemroot(c->g, root);
  int major = guestfs_inspect_get_major_version(c->g, root);
  int minor = guestfs_inspect_get_minor_version(c->g, root);
  int r = product && arch && sysroot ? 0 : conv_error(c, "inspection");
  char dirs[3][4096], path[4096];
  /* every driver found before the first change: all of them or none */
  for (size_t i = 0; r == 0 && drivers[i]; i++)
    r = virtio_win_find(c->virtio_win, drivers[i], product, major, minor,
                        arch, dirs[i], sizeof dirs[i]);
  char *sys_dir = NULL, *store = NULL;
  if (r == 0) {
    snprintf(path, sizeof path, "%s/system32/drivers", sysroot);
    if (!(sys_dir = guest_path(c, path)))
      r = -EIO;
  }
  if (r == 0) { /* where virt-v2v leaves them for Plug and Play too */
    snprintf(path, sizeof path, "%s/Drivers/VirtIO", sysroot);
    if (!(store = guest_path(c, path)) || guestfs_mkdir_p(c->g, store) < 0)
      r = conv_error(c, path);
  }
  for (size_t i = 0; r == 0 && drivers[i]; i++)
    r = copy_driver(c, dirs[i], drivers[i], sys_dir, store);
  if (r == 0)
    r = edit_hive(c, root);
  free(sys_dir);
  free(store);
  free(product);
  free(arch);
  free(sysroot);
  return r;
}
