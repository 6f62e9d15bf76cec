/* Converting a Linux guest for KVM's virtio: the virtio drivers into the
 * initramfs of every kernel (initramfs-tools or dracut), fstab and the
 * boot loader's root= by UUID instead of a /dev/sdX or /dev/hdX name (the
 * disk becomes vda), and a networkd config for the old NIC name made to
 * match any Ethernet NIC. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <guestfs.h>

#include "../core/error.h"
#include "conv.h"

static const char *const virtio_modules[] = {
  "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", NULL };

/* Runs a command of the guest's own (its update-initramfs, dracut). */
static int guest_command(struct conv *c, const char *const *argv)
{
  char *out = guestfs_command(c->g, (char **)argv);
  if (!out)
    return conv_error(c, argv[0]);
  free(out);
  return 0;
}

/* 1. The virtio drivers in the initramfs of every installed kernel. */
static int initramfs(struct conv *c)
{
  if (conv_exists(c, "/usr/sbin/update-initramfs") &&
      conv_exists(c, "/etc/initramfs-tools")) {
    const char *f = "/etc/initramfs-tools/modules";
    char *cur = conv_exists(c, f) ? guestfs_cat(c->g, f) : strdup("");
    if (!cur)
      return conv_error(c, f);
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
        return conv_error(c, f);
      }
    }
    free(cur);
    conv_note(c, "initramfs: %s lists virtio_pci, virtio_blk, virtio_scsi, "
         "virtio_net", f);
    const char *argv[] = { "update-initramfs", "-u", "-k", "all", NULL };
    int r = guest_command(c, argv);
    if (r == 0)
      conv_note(c, "initramfs: rebuilt for every kernel (update-initramfs)");
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
    conv_note(c, "initramfs: %s adds the virtio drivers", f);
    const char *argv[] = { "dracut", "-f", "--regenerate-all", NULL };
    int r = guest_command(c, argv);
    if (r == 0)
      conv_note(c, "initramfs: rebuilt for every kernel (dracut)");
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

int linux_convert(struct conv *c)
{
  /* names first: the initramfs is rebuilt with the final fstab */
  int r = device_names(c);
  if (r == 0)
    r = network(c);
  if (r == 0)
    r = initramfs(c);
  return r;
}
