/* Converting a Linux guest for KVM's virtio, with libguestfs on a disk
 * image (ferry's inject_driver): the virtio drivers into the initramfs of
 * every kernel (initramfs-tools or dracut), fstab and the boot loader's
 * root= by UUID instead of a /dev/sdX or /dev/hdX name (the disk becomes
 * vda), and a networkd config for the old NIC name made to match any
 * Ethernet NIC. Every change is reported, one line each, as virt-v2v
 * prints them. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

#include "../core/error.h"
#include "convert.h"

static const char *const virtio_modules[] = {
  "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", NULL };

struct conv {
  guestfs_h *g;
  char *report;
  size_t len;
};

static void note(struct conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct conv *c, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  char *r = realloc(c->report, c->len + (size_t)n + 2);
  if (!r)
    return; /* the report is best effort; the change was made */
  memcpy(r + c->len, line, (size_t)n);
  c->len += (size_t)n;
  r[c->len++] = '\n';
  r[c->len] = '\0';
  c->report = r;
}

static int gfs_error(struct conv *c, const char *what)
{
  const char *m = guestfs_last_error(c->g);
  int e = guestfs_last_errno(c->g);
  return ferry_error(e ? e : EIO, "%s: %s", what, m ? m : "failed");
}

/* Runs a command of the guest's own (its update-initramfs, dracut). */
static int guest_command(struct conv *c, const char *const *argv)
{
  char *out = guestfs_command(c->g, (char **)argv);
  if (!out)
    return gfs_error(c, argv[0]);
  free(out);
  return 0;
}

static bool exists(struct conv *c, const char *path)
{
  return guestfs_exists(c->g, path) == 1;
}

/* 1. The virtio drivers in the initramfs of every installed kernel. */
static int initramfs(struct conv *c)
{
  if (exists(c, "/usr/sbin/update-initramfs") &&
      exists(c, "/etc/initramfs-tools")) {
    const char *f = "/etc/initramfs-tools/modules";
    char *cur = exists(c, f) ? guestfs_cat(c->g, f) : strdup("");
    if (!cur)
      return gfs_error(c, f);
    for (int i = 0; virtio_modules[i]; i++) {
      char want[64];
      snprintf(want, sizeof want, "\n%s\n", virtio_modules[i]);
      size_t n = strlen(cur);
      char *padded = malloc(n + 3);
      if (!padded) {
        free(cur);
        return ferry_error(ENOMEM, "out of memory");
      }
      snprintf(padded, n + 3, "\n%s\n", cur);
      bool has = strstr(padded, want) != NULL;
      free(padded);
      if (has)
        continue;
      snprintf(want, sizeof want, "%s\n", virtio_modules[i]);
      if (guestfs_write_append(c->g, f, want, strlen(want)) < 0) {
        free(cur);
        return gfs_error(c, f);
      }
    }
    free(cur);
    note(c, "initramfs: %s lists virtio_pci, virtio_blk, virtio_scsi, "
         "virtio_net", f);
    const char *argv[] = { "update-initramfs", "-u", "-k", "all", NULL };
    int r = guest_command(c, argv);
    if (r == 0)
      note(c, "initramfs: rebuilt for every kernel (update-initramfs)");
    return r;
  }
  if (exists(c, "/usr/bin/dracut") || exists(c, "/sbin/dracut")) {
    const char *f = "/etc/dracut.conf.d/ferry-virtio.conf";
    const char *conf = "# virtio drivers, for KVM (added by ferry)\n"
                       "add_drivers+=\" virtio_pci virtio_blk virtio_scsi "
                       "virtio_net \"\n";
    if (guestfs_mkdir_p(c->g, "/etc/dracut.conf.d") < 0 ||
        guestfs_write(c->g, f, conf, strlen(conf)) < 0)
      return gfs_error(c, f);
    note(c, "initramfs: %s adds the virtio drivers", f);
    const char *argv[] = { "dracut", "-f", "--regenerate-all", NULL };
    int r = guest_command(c, argv);
    if (r == 0)
      note(c, "initramfs: rebuilt for every kernel (dracut)");
    return r;
  }
  return ferry_error(ENOTSUP, "the guest has neither initramfs-tools nor "
                     "dracut: ferry cannot add the virtio drivers to its "
                     "initramfs");
}

/* The UUID= spelling of a device the guest names /dev/sdXN or /dev/hdXN
 * (the appliance sees the guest's disks as /dev/sdX in the same order). */
static char *uuid_of(struct conv *c, const char *dev)
{
  char appliance[64];
  if (strncmp(dev, "/dev/sd", 7) && strncmp(dev, "/dev/hd", 7))
    return NULL;
  snprintf(appliance, sizeof appliance, "/dev/sd%s", dev + 7);
  guestfs_push_error_handler(c->g, NULL, NULL);
  char *u = guestfs_vfs_uuid(c->g, appliance);
  guestfs_pop_error_handler(c->g);
  if (u && !*u) {
    free(u);
    u = NULL;
  }
  return u;
}

/* Replaces every word-bounded occurrence of from in text with to. */
static char *replace_all(const char *text, const char *from, const char *to,
                         int *count)
{
  size_t fl = strlen(from), tl = strlen(to), n = 0;
  for (const char *p = strstr(text, from); p; p = strstr(p + fl, from))
    n++;
  char *out = malloc(strlen(text) + n * (tl > fl ? tl - fl : 0) + 1), *w = out;
  if (!out)
    return NULL;
  *count = 0;
  for (const char *p = text;;) {
    const char *hit = strstr(p, from);
    /* a whole name: /dev/sda1 is not /dev/sda10 */
    while (hit && (hit[fl] >= '0' && hit[fl] <= '9'))
      hit = strstr(hit + fl, from);
    if (!hit) {
      strcpy(w, p);
      break;
    }
    memcpy(w, p, (size_t)(hit - p));
    w += hit - p;
    memcpy(w, to, tl);
    w += tl;
    p = hit + fl;
    (*count)++;
  }
  return out;
}

/* 2. fstab and the boot loader's root= by UUID. */
static int rewrite_file(struct conv *c, const char *path, const char *dev,
                        const char *to)
{
  if (!exists(c, path))
    return 0;
  char *text = guestfs_cat(c->g, path);
  if (!text)
    return gfs_error(c, path);
  int count = 0;
  char *out = replace_all(text, dev, to, &count);
  free(text);
  if (!out)
    return ferry_error(ENOMEM, "out of memory");
  int r = 0;
  if (count > 0) {
    if (guestfs_write(c->g, path, out, strlen(out)) < 0)
      r = gfs_error(c, path);
    else
      note(c, "%s: %s is now %s (%d place%s)", path, dev, to, count,
           count == 1 ? "" : "s");
  }
  free(out);
  return r;
}

static int device_names(struct conv *c)
{
  char *fstab = exists(c, "/etc/fstab") ? guestfs_cat(c->g, "/etc/fstab")
                                        : NULL;
  char *cmdline = exists(c, "/boot/grub/grub.cfg")
                      ? guestfs_cat(c->g, "/boot/grub/grub.cfg") : NULL;
  int r = 0;
  /* every /dev/sdXN or /dev/hdXN named in either */
  for (int pass = 0; pass < 2 && r == 0; pass++) {
    const char *text = pass ? cmdline : fstab;
    for (const char *p = text ? strstr(text, "/dev/") : NULL; p && r == 0;
         p = strstr(p + 5, "/dev/")) {
      char dev[32];
      size_t n = strspn(p + 5, "abcdefghijklmnopqrstuvwxyz0123456789");
      if (n + 6 > sizeof dev || (strncmp(p + 5, "sd", 2) &&
                                 strncmp(p + 5, "hd", 2)))
        continue;
      snprintf(dev, sizeof dev, "%.*s", (int)(n + 5), p);
      char *u = uuid_of(c, dev), to[80];
      if (!u)
        continue;
      snprintf(to, sizeof to, "UUID=%s", u);
      free(u);
      if ((r = rewrite_file(c, "/etc/fstab", dev, to)) == 0)
        r = rewrite_file(c, "/boot/grub/grub.cfg", dev, to);
    }
  }
  free(fstab);
  free(cmdline);
  /* update-grub later would write /dev names again */
  if (r == 0 && exists(c, "/etc/default/grub")) {
    char *d = guestfs_cat(c->g, "/etc/default/grub");
    if (d && strstr(d, "\nGRUB_DISABLE_LINUX_UUID=true")) {
      int count;
      char *out = replace_all(d, "\nGRUB_DISABLE_LINUX_UUID=true",
                              "\n#GRUB_DISABLE_LINUX_UUID=true", &count);
      if (out && guestfs_write(c->g, "/etc/default/grub", out,
                               strlen(out)) == 0)
        note(c, "/etc/default/grub: GRUB_DISABLE_LINUX_UUID commented out");
      free(out);
    }
    free(d);
  }
  return r;
}

/* 3. A networkd config for a VMware NIC name (ens192, ...) matches any
 * Ethernet NIC: on virtio the name differs. */
static int network(struct conv *c)
{
  const char *dir = "/etc/systemd/network";
  if (!exists(c, dir))
    return 0;
  char **names = guestfs_ls(c->g, dir);
  if (!names)
    return gfs_error(c, dir);
  int r = 0;
  for (size_t i = 0; names[i] && r == 0; i++) {
    size_t n = strlen(names[i]);
    if (n < 8 || strcmp(names[i] + n - 8, ".network"))
      continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    char *t = guestfs_cat(c->g, path), *nm = t ? strstr(t, "\nName=") : NULL;
    if (nm) {
      size_t e = strcspn(nm + 1, "\n");
      char old[128];
      snprintf(old, sizeof old, "%.*s", (int)e, nm + 1);
      int count;
      char *out = replace_all(t, old, "Type=ether", &count);
      if (out && guestfs_write(c->g, path, out, strlen(out)) < 0)
        r = gfs_error(c, path);
      else if (out)
        note(c, "%s: %s is now Type=ether (any Ethernet NIC)", path, old);
      free(out);
    }
    free(t);
  }
  for (size_t i = 0; names[i]; i++)
    free(names[i]);
  free(names);
  return r;
}

/* The guest's filesystems mounted as its fstab says, shortest mount
 * point first. */
static int mount_guest(struct conv *c, const char *root)
{
  char **mp = guestfs_inspect_get_mountpoints(c->g, root);
  if (!mp)
    return gfs_error(c, "the guest's mount points");
  int r = 0;
  for (size_t len = 1; r == 0 && len < 4096; len++) {
    bool more = false;
    for (size_t i = 0; mp[i] && r == 0; i += 2) {
      size_t l = strlen(mp[i]);
      more = more || l > len;
      if (l == len && guestfs_mount(c->g, mp[i + 1], mp[i]) < 0)
        r = gfs_error(c, mp[i]);
    }
    if (!more)
      break;
  }
  for (size_t i = 0; mp[i]; i++)
    free(mp[i]);
  free(mp);
  return r;
}

int guest_convert(const char *image, const char *format, bool kvm,
                  char **report)
{
  struct conv c = { guestfs_create(), NULL, 0 };
  *report = NULL;
  if (!c.g)
    return ferry_error(ENOMEM, "libguestfs: cannot create a handle");
  guestfs_set_error_handler(c.g, NULL, NULL); /* errors come back to us */
  int r = 0;
  /* the appliance in qemu directly; TCG unless KVM is asked for and works */
  if (guestfs_set_backend(c.g, "direct") < 0 ||
      (!kvm && guestfs_set_backend_setting(c.g, "force_tcg", "1") < 0) ||
      guestfs_add_drive_opts(c.g, image, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
                             format, -1) < 0 ||
      guestfs_launch(c.g) < 0)
    r = gfs_error(&c, "libguestfs");
  char **roots = r == 0 ? guestfs_inspect_os(c.g) : NULL;
  if (r == 0 && (!roots || !roots[0]))
    r = ferry_error(ENOTSUP, "no operating system found on the disk: "
                    "nothing to convert");
  char *type = r == 0 ? guestfs_inspect_get_type(c.g, roots[0]) : NULL;
  char *distro = r == 0 ? guestfs_inspect_get_distro(c.g, roots[0]) : NULL;
  if (r == 0 && type && !strcmp(type, "windows"))
    r = ferry_error(ENOTSUP, "a Windows guest needs the virtio-win drivers "
                    "copied in and its SYSTEM hive edited: not in this "
                    "version of ferry");
  else if (r == 0 && (!type || strcmp(type, "linux")))
    r = ferry_error(ENOTSUP, "cannot convert a %s guest: ferry converts "
                    "Linux guests", type ? type : "unknown");
  if (r == 0) {
    note(&c, "guest: %s %s %d.%d on %s", type, distro ? distro : "?",
         guestfs_inspect_get_major_version(c.g, roots[0]),
         guestfs_inspect_get_minor_version(c.g, roots[0]), roots[0]);
    r = mount_guest(&c, roots[0]);
  }
  /* names first: the initramfs is rebuilt with the final fstab */
  if (r == 0)
    r = device_names(&c);
  if (r == 0)
    r = network(&c);
  if (r == 0)
    r = initramfs(&c);
  if (r == 0 && (guestfs_umount_all(c.g) < 0 || guestfs_shutdown(c.g) < 0))
    r = gfs_error(&c, "libguestfs: writing the changes");
  for (size_t i = 0; roots && roots[i]; i++)
    free(roots[i]);
  free(roots);
  free(type);
  free(distro);
  guestfs_close(c.g);
  if (r < 0)
    free(c.report);
  else
    *report = c.report ? c.report : strdup("");
  return r;
}
