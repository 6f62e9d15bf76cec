/* The SYSTEM hive edits a Windows guest needs to boot from virtio disks,
 * as virt-v2v makes them before the first boot on KVM: Windows loads only
 * the boot-start drivers its registry names, and binds the boot disk's
 * controller through the CriticalDeviceDatabase before Plug and Play has
 * run (INACCESSIBLE_BOOT_DEVICE otherwise). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivex.h>

#include "../core/error.h"
#include "windows_hive.h"

#define SCSI_ADAPTER_CLASS "{4D36E97B-E325-11CE-BFC1-08002BE10318}"

static const char *const viostor_ids[] = {
  "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00", /* legacy virtio-blk */
  "pci#ven_1af4&dev_1042&subsys_11001af4&rev_01", /* modern virtio-blk */
  NULL };
static const char *const vioscsi_ids[] = {
  "pci#ven_1af4&dev_1004&subsys_00081af4&rev_00", /* legacy virtio-scsi */
  "pci#ven_1af4&dev_1048&subsys_11001af4&rev_01", /* modern virtio-scsi */
  NULL };

static const struct service {
  const char *name, *group;
  uint32_t start;              /* 0: boot, 3: on demand */
  const char *const *pci_ids;  /* CriticalDeviceDatabase entries */
} services[] = {
  { "viostor", "SCSI miniport", 0, viostor_ids },
  { "vioscsi", "SCSI miniport", 0, vioscsi_ids },
  { "netkvm", "NDIS", 3, NULL },
};

struct edit {
  hive_h *h;
  hive_note_fn note;
  void *opaque;
  char where[512]; /* the key being written, for notes and errors */
};

static int hive_error(const char *what)
{
  int e = errno ? errno : EIO;
  return ferry_error(e, "SYSTEM hive: %s: %s", what, strerror(e));
}

/* The child key name of parent, made when missing. */
static hive_node_h child(struct edit *e, hive_node_h parent, const char *name)
{
  errno = 0;
  hive_node_h n = hivex_node_get_child(e->h, parent, name);
  if (n == 0 && errno == 0)
    n = hivex_node_add_child(e->h, parent, name);
  return n;
}

/* The key at path (backslashes) under from, made as needed. */
static int key(struct edit *e, hive_node_h from, const char *path,
               hive_node_h *out)
{
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  snprintf(e->where, sizeof e->where, "%s", path);
  hive_node_h n = from;
  for (char *save = NULL, *part = strtok_r(buf, "\\", &save); part && n;
       part = strtok_r(NULL, "\\", &save))
    n = child(e, n, part);
  if (!n)
    return hive_error(path);
  *out = n;
  return 0;
}

/* A REG_SZ or REG_EXPAND_SZ: UTF-16LE with its NUL (the names here are
 * ASCII). */
static int set_string(struct edit *e, hive_node_h n, const char *name,
                      hive_type t, const char *text)
{
  size_t len = strlen(text);
  char *u = calloc(len + 1, 2);
  if (!u)
    return ferry_error(ENOMEM, "out of memory");
  for (size_t i = 0; i < len; i++)
    u[2 * i] = text[i];
  hive_set_value v = { (char *)name, t, 2 * (len + 1), u };
  int r = hivex_node_set_value(e->h, n, &v, 0);
  free(u);
  if (r < 0)
    return hive_error(e->where);
  char line[768];
  snprintf(line, sizeof line, "%s: %s = %s\"%s\"", e->where, name,
           t == hive_t_REG_EXPAND_SZ ? "expand:" : "", text);
  e->note(e->opaque, line);
  return 0;
}

static int set_dword(struct edit *e, hive_node_h n, const char *name,
                     uint32_t value)
{
  unsigned char le[4] = { value & 0xff, (value >> 8) & 0xff,
                          (value >> 16) & 0xff, value >> 24 };
  hive_set_value v = { (char *)name, hive_t_REG_DWORD, 4, (char *)le };
  if (hivex_node_set_value(e->h, n, &v, 0) < 0)
    return hive_error(e->where);
  char line[768];
  snprintf(line, sizeof line, "%s: %s = dword:%u", e->where, name, value);
  e->note(e->opaque, line);
  return 0;
}

/* The control set Select\Current names ("ControlSet001"), which
 * CurrentControlSet is at boot. */
static int current_control_set(struct edit *e, char *name, size_t len,
                               hive_node_h *out)
{
  hive_node_h root = hivex_root(e->h), sel;
  errno = 0;
  sel = root ? hivex_node_get_child(e->h, root, "Select") : 0;
  hive_value_h cur = sel ? hivex_node_get_value(e->h, sel, "Current") : 0;
  hive_type t;
  size_t vlen;
  if (!cur || hivex_value_type(e->h, cur, &t, &vlen) < 0 ||
      t != hive_t_REG_DWORD)
    return ferry_error(EINVAL, "SYSTEM hive: no Select\\Current dword: not "
                       "a Windows SYSTEM hive");
  int32_t n = hivex_value_dword(e->h, cur);
  snprintf(name, len, "ControlSet%03d", (int)n);
  errno = 0;
  *out = hivex_node_get_child(e->h, root, name);
  if (!*out)
    return ferry_error(EINVAL, "SYSTEM hive: Select\\Current is %d, but "
                       "there is no %s", (int)n, name);
  return 0;
}

static int add_service(struct edit *e, hive_node_h cs, const char *cs_name,
                       const struct service *s)
{
  char path[256], image[128];
  hive_node_h n;
  snprintf(path, sizeof path, "Services\\%s", s->name);
  int r = key(e, cs, path, &n);
  snprintf(e->where, sizeof e->where, "%s\\Services\\%s", cs_name, s->name);
  snprintf(image, sizeof image, "system32\\drivers\\%s.sys", s->name);
  if (r == 0 && (r = set_dword(e, n, "Type", 1)) == 0 && /* kernel driver */
      (r = set_dword(e, n, "Start", s->start)) == 0 &&
      (r = set_string(e, n, "Group", hive_t_REG_SZ, s->group)) == 0 &&
      (r = set_dword(e, n, "ErrorControl", 1)) == 0)
    r = set_string(e, n, "ImagePath", hive_t_REG_EXPAND_SZ, image);
  if (r == 0 && s->pci_ids) { /* storport's PnP interface: PCI */
    snprintf(path, sizeof path, "Services\\%s\\Parameters\\PnpInterface",
             s->name);
    if ((r = key(e, cs, path, &n)) == 0) {
      snprintf(e->where, sizeof e->where, "%s\\%s", cs_name, path);
      r = set_dword(e, n, "5", 1);
    }
  }
  for (size_t i = 0; r == 0 && s->pci_ids && s->pci_ids[i]; i++) {
    snprintf(path, sizeof path, "Control\\CriticalDeviceDatabase\\%s",
             s->pci_ids[i]);
    if ((r = key(e, cs, path, &n)) == 0) {
      snprintf(e->where, sizeof e->where, "%s\\%s", cs_name, path);
      if ((r = set_string(e, n, "Service", hive_t_REG_SZ, s->name)) == 0)
        r = set_string(e, n, "ClassGUID", hive_t_REG_SZ, SCSI_ADAPTER_CLASS);
    }
  }
  return r;
}

int hive_add_virtio(const char *path, hive_note_fn note, void *opaque)
{
  struct edit e = { hivex_open(path, HIVEX_OPEN_WRITE), note, opaque, "" };
  if (!e.h)
    return hive_error(path);
  char cs_name[32];
  hive_node_h cs;
  int r = current_control_set(&e, cs_name, sizeof cs_name, &cs);
  for (size_t i = 0; r == 0 && i < sizeof services / sizeof services[0]; i++)
    r = add_service(&e, cs, cs_name, &services[i]);
  if (r == 0 && hivex_commit(e.h, NULL, 0) < 0)
    r = hive_error("commit");
  hivex_close(e.h); /* uncommitted changes are dropped */
  return r;
}
