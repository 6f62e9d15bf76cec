/* Converting a Linux guest for KVM's virtio: the virtio drivers into the
 * initramfs of every kernel (appended from the host, initramfs-tools or
 * dracut alike, and named in their configuration), fstab and the
 * boot loader's root= by UUID instead of a /dev/sdX or /dev/hdX name (the
 * disk becomes vda), and a networkd config for the old NIC name made to
 * match any Ethernet NIC. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

#include "../core/error.h"
#include "conv.h"
#include "initrd.h"

static const char *const virtio_modules[] = {
  "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", NULL };

/* The virtio modules named in the guest's initramfs configuration, so
 * that the guest's own rebuilds (a kernel update) keep them. */
static int initramfs_config(struct conv *c)
{
  if (conv_exists(c, "/usr/sbin/update-initramfs") &&
      conv_exists(c, "/etc/initramfs-tools")) {
    const char *f = "/etc/initramfs-tools/modules";
    char *cur = conv_exists(c, f) ? guestfs_cat(c->g, f) : strdup("");
    if (!cur)
      return conv_error(c, f);
    int r = 0;
    for (int i = 0; r == 0 && virtio_modules[i]; i++) {
      char want[64];
      snprintf(want, sizeof want, "\n%s\n", virtio_modules[i]);
      size_t n = strlen(cur);
      char *padded = malloc(n + 3);
      if (!padded) {
        r = ferry_error(ENOMEM, "out of memory");
        break;
      }
      snprintf(padded, n + 3, "\n%s\n", cur);
      bool has = strstr(padded, want) != NULL;
      free(padded);
      snprintf(want, sizeof want, "%s\n", virtio_modules[i]);
      if (!has && guestfs_write_append(c->g, f, want, strlen(want)) < 0)
        r = conv_error(c, f);
    }
    free(cur);
    if (r == 0)
      conv_note(c, "initramfs: %s lists virtio_pci, virtio_blk, "
                "virtio_scsi, virtio_net (for the guest's own rebuilds)", f);
    return r;
  }
  if (conv_exists(c, "/usr/bin/dracut") || conv_exists(c, "/sbin/dracut")) {
    const char *f = "/etc/dracut.conf.d/ferry-virtio.conf";
    const char *conf = "# virtio drivers, for KVM (added by ferry)\n"
                       "add_drivers+=\" virtio_pci virtio_blk virtio_scsi "
                       "virtio_net \"\n";
    if (guestfs_mkdir_p(c->g, "/etc/dracut.conf.d") < 0 ||
        guestfs_write(c->g, f, conf, strlen(conf)) < 0)
      return conv_error(c, f);
    conv_note(c, "initramfs: %s adds the virtio drivers (for the guest's "
              "own rebuilds)", f);
    return 0;
  }
  return ferry_error(ENOTSUP, "the guest has neither initramfs-tools nor "
                     "dracut: ferry cannot add the virtio drivers to its "
                     "initramfs");
}

/* The module indexes modprobe reads (the kernel's whole set: they name
 * the modules the initramfs had too, and the ones it lacks harmlessly). */
static const char *const module_indexes[] = {
  "modules.dep", "modules.dep.bin", "modules.alias.bin",
  "modules.symbols.bin", "modules.builtin", "modules.builtin.bin",
  "modules.builtin.alias.bin", "modules.softdep", "modules.devname", NULL };

/* mdir/rel hard-linked into stage as it will be in the initramfs,
 * prefix/rel (prefix: "usr/lib/modules/KVER"). Links, not copies: one
 * transfer of the whole stage costs what one file's does, under TCG a
 * tenth of a second each. */
static int stage_file(struct conv *c, const char *stage, const char *prefix,
                      const char *mdir, const char *rel)
{
  char from[1024], to[2048];
  snprintf(from, sizeof from, "%s/%s", mdir, rel);
  snprintf(to, sizeof to, "%s/%s/%s", stage, prefix, rel);
  char *slash = strrchr(to, '/');
  *slash = '\0';
  int r = guestfs_mkdir_p(c->g, to);
  *slash = '/';
  if (r < 0 || guestfs_ln(c->g, from, to) < 0)
    return conv_error(c, from);
  return 0;
}

/* The virtio modules (and what they need) of kernel kver appended to its
 * initramfs as one more cpio archive: no rebuild in the guest. The
 * archive is made of a stage of hard links beside the modules (on their
 * filesystem), removed after. */
static int append_modules(struct conv *c, const char *initrd,
                          const char *kver)
{
  char mdir[512], path[1024], prefix[1024], stage[600];
  snprintf(mdir, sizeof mdir, "/lib/modules/%s", kver);
  snprintf(stage, sizeof stage, "%s/.ferry-virtio-initrd", mdir);
  /* the initramfs has the guest's layout: /lib/modules is
   * /usr/lib/modules on a merged /usr (an archive's directory where a
   * symlink is would replace the symlink) */
  char *real = guestfs_realpath(c->g, "/lib/modules");
  snprintf(path, sizeof path, "%s/modules.dep", mdir);
  char *dep = real ? guestfs_cat(c->g, path) : NULL;
  snprintf(path, sizeof path, "%s/modules.builtin", mdir);
  char *bi = !dep ? NULL : conv_exists(c, path) ? guestfs_cat(c->g, path)
                                                : strdup("");
  int64_t size = bi ? guestfs_filesize(c->g, initrd) : -1;
  int r = size >= 0 ? 0 : conv_error(c, initrd);
  char **mods = NULL;
  size_t n = 0;
  if (r == 0)
    r = initrd_modules(dep, bi, virtio_modules, &mods, &n);
  if (r == 0) {
    snprintf(prefix, sizeof prefix, "%s/%s", real + 1, kver);
    if (guestfs_rm_rf(c->g, stage) < 0) /* a crash's leftover */
      r = conv_error(c, stage);
  }
  for (size_t i = 0; r == 0 && i < n; i++)
    r = stage_file(c, stage, prefix, mdir, mods[i]);
  for (size_t i = 0; r == 0 && module_indexes[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", mdir, module_indexes[i]);
    if (conv_exists(c, path))
      r = stage_file(c, stage, prefix, mdir, module_indexes[i]);
  }
  char tmp[] = "/tmp/ferry-initrd-XXXXXX";
  int fd = r == 0 ? mkstemp(tmp) : -1;
  if (r == 0 && fd < 0)
    r = ferry_error(errno, "a temporary file: %s", strerror(errno));
  if (fd >= 0)
    close(fd);
  if (r == 0 && guestfs_cpio_out(c->g, stage, tmp, -1) < 0)
    r = conv_error(c, stage);
  /* 4-byte aligned after the archives it follows: the hole reads as
   * zeros, which the kernel skips between archives */
  if (r == 0 && guestfs_upload_offset(c->g, tmp, initrd,
                                      (size + 3) & ~(int64_t)3) < 0)
    r = conv_error(c, initrd);
  if (stage[0] && real && guestfs_rm_rf(c->g, stage) < 0 && r == 0)
    r = conv_error(c, stage);
  if (r == 0)
    conv_note(c, "initramfs: %s: virtio_pci, virtio_blk, virtio_scsi, "
              "virtio_net appended as one more archive (%zu module files "
              "with what they need, and the module indexes)", initrd, n);
  if (fd >= 0)
    unlink(tmp);
  initrd_modules_free(mods, n);
  free(real);
  free(dep);
  free(bi);
  return r;
}

/* 1. The virtio drivers in the initramfs of every installed kernel:
 * /boot/initrd.img-KVER (initramfs-tools) or /boot/initramfs-KVER.img
 * (dracut) with its modules in /lib/modules/KVER. */
static int initramfs(struct conv *c)
{
  int r = initramfs_config(c);
  char **names = r == 0 ? guestfs_ls(c->g, "/boot") : NULL;
  if (r == 0 && !names)
    r = conv_error(c, "/boot");
  size_t done = 0;
  for (size_t i = 0; r == 0 && names[i]; i++) {
    const char *nm = names[i];
    char kver[256] = "", initrd[512], dep[512];
    size_t len = strlen(nm);
    if (!strncmp(nm, "initrd.img-", 11))
      snprintf(kver, sizeof kver, "%s", nm + 11);
    else if (!strncmp(nm, "initramfs-", 10) && len > 14 &&
             !strcmp(nm + len - 4, ".img") && !strstr(nm, "kdump"))
      snprintf(kver, sizeof kver, "%.*s", (int)(len - 14), nm + 10);
    snprintf(dep, sizeof dep, "/lib/modules/%s/modules.dep", kver);
    if (!*kver || !conv_exists(c, dep))
      continue;
    snprintf(initrd, sizeof initrd, "/boot/%s", nm);
    if ((r = append_modules(c, initrd, kver)) == 0)
      done++;
  }
  for (size_t i = 0; names && names[i]; i++)
    free(names[i]);
  free(names);
  if (r == 0 && done == 0)
    r = ferry_error(ENOTSUP, "no initramfs under /boot with its kernel's "
                    "modules in /lib/modules: ferry cannot add the virtio "
                    "drivers");
  return r;
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
  if (!conv_exists(c, path))
    return 0;
  char *text = guestfs_cat(c->g, path);
  if (!text)
    return conv_error(c, path);
  int count = 0;
  char *out = replace_all(text, dev, to, &count);
  free(text);
  if (!out)
    return ferry_error(ENOMEM, "out of memory");
  int r = 0;
  if (count > 0) {
    if (guestfs_write(c->g, path, out, strlen(out)) < 0)
      r = conv_error(c, path);
    else
      conv_note(c, "%s: %s is now %s (%d place%s)", path, dev, to, count,
           count == 1 ? "" : "s");
  }
  free(out);
  return r;
}

static int device_names(struct conv *c)
{
  char *fstab = conv_exists(c, "/etc/fstab") ? guestfs_cat(c->g, "/etc/fstab")
                                        : NULL;
  char *cmdline = conv_exists(c, "/boot/grub/grub.cfg")
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
  if (r == 0 && conv_exists(c, "/etc/default/grub")) {
    char *d = guestfs_cat(c->g, "/etc/default/grub");
    if (d && strstr(d, "\nGRUB_DISABLE_LINUX_UUID=true")) {
      int count;
      char *out = replace_all(d, "\nGRUB_DISABLE_LINUX_UUID=true",
                              "\n#GRUB_DISABLE_LINUX_UUID=true", &count);
      if (out && guestfs_write(c->g, "/etc/default/grub", out,
                               strlen(out)) == 0)
        conv_note(c, "/etc/default/grub: GRUB_DISABLE_LINUX_UUID commented out");
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
  if (!conv_exists(c, dir))
    return 0;
  char **names = guestfs_ls(c->g, dir);
  if (!names)
    return conv_error(c, dir);
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
        r = conv_error(c, path);
      else if (out)
        conv_note(c, "%s: %s is now Type=ether (any Ethernet NIC)", path, old);
      free(out);
    }
    free(t);
  }
  for (size_t i = 0; names[i]; i++)
    free(names[i]);
  free(names);
  return r;
}

/* Runs a command of the guest's own (its package manager). */
static int guest_command(struct conv *c, const char *const *argv)
{
  char *out = guestfs_command(c->g, (char **)argv);
  if (!out)
    return conv_error(c, argv[0]);
  free(out);
  return 0;
}

/* open-vm-tools uninstalled, when asked: VMware's agent has nothing to
 * talk to on KVM. By the guest's own package manager, maintainer scripts
 * and all. */
static int vmware_tools(struct conv *c)
{
  if (!c->remove_vmware_tools)
    return 0;
  if (conv_exists(c, "/var/lib/dpkg/info/open-vm-tools.list")) {
    bool desktop =
        conv_exists(c, "/var/lib/dpkg/info/open-vm-tools-desktop.list");
    const char *argv[] = { "dpkg", "--purge", "open-vm-tools",
                           desktop ? "open-vm-tools-desktop" : NULL, NULL };
    int r = guest_command(c, argv);
    if (r == 0)
      conv_note(c, "open-vm-tools%s: removed (dpkg --purge)",
                desktop ? " and open-vm-tools-desktop" : "");
    return r;
  }
  if (conv_exists(c, "/usr/bin/rpm") || conv_exists(c, "/bin/rpm")) {
    const char *q[] = { "rpm", "-q", "open-vm-tools", NULL };
    char *have = guestfs_command(c->g, (char **)q);
    free(have);
    if (have) { /* rpm -q fails when it is not installed */
      const char *argv[] = { "rpm", "-e", "--nodeps", "open-vm-tools", NULL };
      int r = guest_command(c, argv);
      if (r == 0)
        conv_note(c, "open-vm-tools: removed (rpm -e)");
      return r;
    }
  }
  conv_note(c, "open-vm-tools: not installed, nothing to remove");
  return 0;
}

int linux_convert(struct conv *c)
{
  /* names first: the initramfs gets the final fstab's */
  int r = device_names(c);
  if (r == 0)
    r = network(c);
  if (r == 0)
    r = vmware_tools(c);
  if (r == 0)
    r = initramfs(c);
  return r;
}
