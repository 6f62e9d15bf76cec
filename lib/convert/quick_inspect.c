/* A quick look at the common guest, Linux with its root on one
 * filesystem and every other mount in its fstab by UUID, LABEL or device
 * name: libguestfs's own inspection looks at everything (every
 * filesystem, augeas on each config) and costs 6 s under TCG, more than
 * the rest of a conversion. Anything else (several roots, btrfs, LVM
 * names it cannot resolve, PARTUUID, Windows) is left to that inspection:
 * this one only ever says "not mine". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <guestfs.h>

#include "../core/error.h"
#include "conv.h"

static void free_strings(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

/* os-release's KEY's value, quotes off ("" when missing). */
static void os_release(const char *text, const char *key, char *out,
                       size_t len)
{
  size_t k = strlen(key);
  out[0] = '\0';
  for (const char *l = text; l && *l;) {
    size_t n = strcspn(l, "\n");
    if (n > k && !strncmp(l, key, k) && l[k] == '=') {
      const char *v = l + k + 1;
      size_t vn = n - k - 1;
      if (vn >= 2 && (*v == '"' || *v == '\'') && v[vn - 1] == *v) {
        v++;
        vn -= 2;
      }
      snprintf(out, len, "%.*s", (int)vn, v);
      return;
    }
    l += n + (l[n] == '\n');
  }
}

/* The appliance's device for an fstab spec, or NULL (not resolvable
 * here); fs: list_filesystems's pairs. */
static char *resolve(struct conv *c, char *const *fs, const char *spec)
{
  if (!strncmp(spec, "UUID=", 5))
    return guestfs_findfs_uuid(c->g, spec + 5);
  if (!strncmp(spec, "LABEL=", 6))
    return guestfs_findfs_label(c->g, spec + 6);
  /* one disk in the appliance: the guest's /dev/sdaN or /dev/vdaN is
   * its /dev/sdaN */
  if (!strncmp(spec, "/dev/sd", 7) || !strncmp(spec, "/dev/vd", 7) ||
      !strncmp(spec, "/dev/hd", 7)) {
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/sd%s", spec + 7);
    for (size_t i = 0; fs[i] && fs[i + 1]; i += 2)
      if (!strcmp(fs[i], dev))
        return strdup(dev);
    return NULL;
  }
  return NULL;
}

static bool pseudo(const char *type, const char *mp)
{
  static const char *const skip[] = { "swap", "proc", "sysfs", "tmpfs",
                                      "devpts", "none", "nfs", "nfs4",
                                      "cifs", "efivarfs", NULL };
  if (mp[0] != '/')
    return true;
  for (int i = 0; skip[i]; i++)
    if (!strcmp(type, skip[i]))
      return true;
  return false;
}

/* fstab's local mounts as (mount point, device) pairs; 1 when one does
 * not resolve or "/" is not root_dev. */
static int fstab_mounts(struct conv *c, char *const *fs, const char *fstab,
                        const char *root_dev, char ***out)
{
  char **v = NULL;
  size_t n = 0;
  int r = 0;
  bool has_root = false;
  for (const char *l = fstab; r == 0 && l && *l;) {
    size_t len = strcspn(l, "\n");
    char line[1024], spec[512], mp[512], type[64];
    snprintf(line, sizeof line, "%.*s", (int)len, l);
    l += len + (l[len] == '\n');
    if (sscanf(line, " %511s %511s %63s", spec, mp, type) != 3 ||
        spec[0] == '#' || pseudo(type, mp))
      continue;
    char *dev = resolve(c, fs, spec);
    char **nv = dev ? realloc(v, (n + 3) * sizeof *v) : NULL;
    if (!nv) {
      free(dev);
      r = 1;
      break;
    }
    v = nv;
    v[n++] = strdup(mp);
    v[n++] = dev;
    v[n] = NULL;
    if (!strcmp(mp, "/")) {
      char *a = guestfs_canonical_device_name(c->g, dev);
      char *b = guestfs_canonical_device_name(c->g, root_dev);
      has_root = a && b && !strcmp(a, b);
      free(a);
      free(b);
      if (!has_root)
        r = 1;
    }
  }
  if (r == 0 && !has_root)
    r = 1;
  if (r != 0) {
    free_strings(v);
    v = NULL;
  }
  *out = v;
  return r;
}

int quick_inspect(struct conv *c, char ***mounts, char **what)
{
  *mounts = NULL;
  *what = NULL;
  char **fs = guestfs_list_filesystems(c->g);
  if (!fs)
    return conv_error(c, "listing the guest's filesystems");
  char *root = NULL, *fstab = NULL, *osr = NULL;
  int roots = 0, r = 0;
  for (size_t i = 0; fs[i] && fs[i + 1] && roots < 2; i += 2) {
    const char *t = fs[i + 1];
    if (strncmp(t, "ext", 3) && strcmp(t, "xfs"))
      continue; /* btrfs subvolumes, and the rest: the full inspection */
    if (guestfs_mount_ro(c->g, fs[i], "/") < 0) {
      guestfs_umount_all(c->g);
      continue;
    }
    if (guestfs_is_dir(c->g, "/Windows") == 1) {
      roots = 2; /* not this kind */
    } else if (guestfs_exists(c->g, "/etc/os-release") == 1 && /* a link */
               guestfs_is_file(c->g, "/etc/fstab") == 1) {
      if (roots++ == 0) {
        root = strdup(fs[i]);
        fstab = guestfs_cat(c->g, "/etc/fstab");
        osr = guestfs_cat(c->g, "/etc/os-release");
      }
    }
    guestfs_umount_all(c->g);
  }
  if (roots != 1 || !root || !fstab || !osr)
    r = 1;
  if (r == 0)
    r = fstab_mounts(c, fs, fstab, root, mounts);
  free_strings(fs);
  if (r == 0) {
    char id[64], ver[64];
    os_release(osr, "ID", id, sizeof id);
    os_release(osr, "VERSION_ID", ver, sizeof ver);
    if (asprintf(what, "linux %s %s on %s", *id ? id : "?",
                 *ver ? ver : "?", root) < 0) {
      *what = NULL;
      r = ferry_error(ENOMEM, "out of memory");
    }
  }
  if (r != 0) {
    free_strings(*mounts);
    *mounts = NULL;
  }
  free(root);
  free(fstab);
  free(osr);
  return r;
}
