/* The SYSTEM hive edits for virtio on a hive the test builds (mkhive.h)
 * and fills with hivex as a Windows one starts (Select\Current and the
 * control sets): the exact keys and values written (types included),
 * nothing else touched, the same hive again after a second run, the
 * control set Select\Current names, and a hive that is not a SYSTEM one
 * refused. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivex.h>

#include <ferry/ferry.h>

#include "../../lib/convert/windows_hive.h"
#include "check.h"
#include "mkhive.h"

static char dir[] = "/tmp/ferry-hive-XXXXXX";
static char notes[16384];

static void note(void *opaque, const char *line)
{
  (void)opaque;
  strncat(notes, line, sizeof notes - strlen(notes) - 2);
  strcat(notes, "\n");
}

static hive_node_h at(hive_h *h, const char *path)
{
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  hive_node_h n = hivex_root(h);
  for (char *s = NULL, *p = strtok_r(buf, "\\", &s); p && n;
       p = strtok_r(NULL, "\\", &s))
    n = hivex_node_get_child(h, n, p);
  return n;
}

static size_t count(hive_node_h *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  free(v);
  return n;
}

/* A hive with Select\Current = current and ControlSet001..sets, each with
 * empty Services and Control keys. */
static void windows_hive(const char *path, int current, int sets)
{
  CHECK(mkhive(path) == 0);
  hive_h *h = hivex_open(path, HIVEX_OPEN_WRITE);
  CHECK(h);
  hive_node_h root = hivex_root(h);
  if (current > 0) {
    hive_node_h sel = hivex_node_add_child(h, root, "Select");
    unsigned char le[4] = { (unsigned char)current, 0, 0, 0 };
    hive_set_value v = { "Current", hive_t_REG_DWORD, 4, (char *)le };
    CHECK(sel && hivex_node_set_value(h, sel, &v, 0) == 0);
  }
  for (int i = 1; i <= sets; i++) {
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03d", i);
    hive_node_h cs = hivex_node_add_child(h, root, name);
    CHECK(cs && hivex_node_add_child(h, cs, "Services") &&
          hivex_node_add_child(h, cs, "Control"));
  }
  CHECK(hivex_commit(h, NULL, 0) == 0);
  hivex_close(h);
}

static void check_dword(hive_h *h, hive_node_h n, const char *name,
                        int32_t want)
{
  hive_value_h v = hivex_node_get_value(h, n, name);
  hive_type t;
  size_t len;
  CHECK(v && hivex_value_type(h, v, &t, &len) == 0);
  CHECK(t == hive_t_REG_DWORD && len == 4);
  CHECK(hivex_value_dword(h, v) == want);
}

static void check_string(hive_h *h, hive_node_h n, const char *name,
                         hive_type want_type, const char *want)
{
  hive_value_h v = hivex_node_get_value(h, n, name);
  hive_type t;
  size_t len;
  CHECK(v && hivex_value_type(h, v, &t, &len) == 0);
  CHECK(t == want_type && len == 2 * (strlen(want) + 1)); /* UTF-16, NUL */
  char *s = hivex_value_string(h, v);
  CHECK(s && !strcmp(s, want));
  free(s);
}

static void check_service(hive_h *h, const char *cs, const char *name,
                          int32_t start, const char *group, bool pnp)
{
  char path[256], image[128];
  snprintf(path, sizeof path, "%s\\Services\\%s", cs, name);
  hive_node_h n = at(h, path);
  CHECK(n);
  CHECK(count(hivex_node_values(h, n)) == 5); /* these, and no more */
  check_dword(h, n, "Type", 1);
  check_dword(h, n, "Start", start);
  check_string(h, n, "Group", hive_t_REG_SZ, group);
  check_dword(h, n, "ErrorControl", 1);
  snprintf(image, sizeof image, "system32\\drivers\\%s.sys", name);
  check_string(h, n, "ImagePath", hive_t_REG_EXPAND_SZ, image);
  strcat(path, "\\Parameters\\PnpInterface");
  hive_node_h p = at(h, path);
  CHECK(pnp ? p != 0 : p == 0);
  if (pnp) {
    CHECK(count(hivex_node_values(h, p)) == 1);
    check_dword(h, p, "5", 1);
  }
}

static const char *const cdd[][2] = {
  { "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00", "viostor" },
  { "pci#ven_1af4&dev_1042&subsys_11001af4&rev_01", "viostor" },
  { "pci#ven_1af4&dev_1004&subsys_00081af4&rev_00", "vioscsi" },
  { "pci#ven_1af4&dev_1048&subsys_11001af4&rev_01", "vioscsi" },
};

static void check_virtio(const char *path, const char *cs)
{
  hive_h *h = hivex_open(path, 0);
  CHECK(h);
  char p[512];
  snprintf(p, sizeof p, "%s\\Services", cs);
  CHECK(count(hivex_node_children(h, at(h, p))) == 3);
  check_service(h, cs, "viostor", 0, "SCSI miniport", true);
  check_service(h, cs, "vioscsi", 0, "SCSI miniport", true);
  check_service(h, cs, "netkvm", 3, "NDIS", false);
  snprintf(p, sizeof p, "%s\\Control\\CriticalDeviceDatabase", cs);
  CHECK(count(hivex_node_children(h, at(h, p))) == 4);
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s\\Control\\CriticalDeviceDatabase\\%s", cs,
             cdd[i][0]);
    hive_node_h n = at(h, p);
    CHECK(n && count(hivex_node_values(h, n)) == 2);
    check_string(h, n, "Service", hive_t_REG_SZ, cdd[i][1]);
    check_string(h, n, "ClassGUID", hive_t_REG_SZ,
                 "{4D36E97B-E325-11CE-BFC1-08002BE10318}");
  }
  hivex_close(h);
}

int main(void)
{
  CHECK(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/SYSTEM", dir);

  /* the edits, exactly; every one of them reported */
  windows_hive(path, 1, 1);
  CHECK(hive_add_virtio(path, note, NULL) == 0);
  check_virtio(path, "ControlSet001");
  CHECK_HAS(notes, "ControlSet001\\Services\\viostor: Start = dword:0");
  CHECK_HAS(notes, "ControlSet001\\Services\\viostor: ImagePath = "
                   "expand:\"system32\\drivers\\viostor.sys\"");
  CHECK_HAS(notes, "ControlSet001\\Control\\CriticalDeviceDatabase\\"
                   "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00: Service = "
                   "\"viostor\"");
  CHECK_HAS(notes, "ControlSet001\\Services\\netkvm: Start = dword:3");

  /* again: the same keys and values, none twice */
  CHECK(hive_add_virtio(path, note, NULL) == 0);
  check_virtio(path, "ControlSet001");

  /* Select\Current names the control set: 2, and 1 stays as it was */
  windows_hive(path, 2, 2);
  CHECK(hive_add_virtio(path, note, NULL) == 0);
  check_virtio(path, "ControlSet002");
  hive_h *h = hivex_open(path, 0);
  CHECK(h && count(hivex_node_children(h, at(h, "ControlSet001\\Services")))
                 == 0);
  hivex_close(h);

  /* not a SYSTEM hive: refused, the file as it was */
  windows_hive(path, 0, 1);
  FILE *f = fopen(path, "rb");
  static unsigned char before[65536], after[65536];
  size_t nb = fread(before, 1, sizeof before, f);
  fclose(f);
  CHECK(hive_add_virtio(path, note, NULL) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "no Select\\Current");
  f = fopen(path, "rb");
  CHECK(fread(after, 1, sizeof after, f) == nb && !memcmp(before, after, nb));
  fclose(f);
  windows_hive(path, 3, 1);
  CHECK(hive_add_virtio(path, note, NULL) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "Select\\Current is 3, but there is no "
                                "ControlSet003");

  unlink(path);
  rmdir(dir);
  printf("windows_hive: ok\n");
  return 0;
}
