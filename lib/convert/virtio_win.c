/* Which of virtio-win's directories holds a driver for a given Windows.
 * virtio-win (its ISO, or the files unpacked) keeps one per driver, OS
 * and architecture, DRIVER/OS/ARCH/, OS in its own short names. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/error.h"
#include "virtio_win.h"

/* virtio-win's names for the Windows that share an NT version, the most
 * specific first: a product name holding `match` picks `dir`. */
static const struct os {
  int major, minor;
  const char *match, *dir;
} oses[] = {
  { 10, 0, "Windows 11", "w11" },
  { 10, 0, "Server 2025", "2k25" },
  { 10, 0, "Server 2022", "2k22" },
  { 10, 0, "Server 2019", "2k19" },
  { 10, 0, "Server 2016", "2k16" },
  { 10, 0, "", "w10" },
  { 6, 3, "Server", "2k12R2" },
  { 6, 3, "", "w8.1" },
  { 6, 2, "Server", "2k12" },
  { 6, 2, "", "w8" },
  { 6, 1, "Server", "2k8R2" },
  { 6, 1, "", "w7" },
};

static bool has_sys(const char *dir, const char *driver)
{
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s.sys", dir, driver);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int virtio_win_find(const char *root, const char *driver,
                    const char *product, int major, int minor,
                    const char *arch, char *out, size_t len)
{
  const char *a = !strcmp(arch, "x86_64") ? "amd64"
                  : !strcmp(arch, "i386") ? "x86" : arch;
  const char *tried = NULL;
  for (size_t i = 0; i < sizeof oses / sizeof oses[0]; i++) {
    const struct os *o = &oses[i];
    if (o->major != major || o->minor != minor ||
        !strstr(product ? product : "", o->match))
      continue;
    snprintf(out, len, "%s/%s/%s/%s", root, driver, o->dir, a);
    if (has_sys(out, driver))
      return 0;
    if (!tried)
      tried = o->dir;
  }
  return ferry_error(ENOENT, "virtio-win at %s has no %s for %s (NT %d.%d, "
                     "%s): looked for %s/%s/%s/%s.sys", root, driver,
                     product ? product : "this Windows", major, minor, arch,
                     driver, tried ? tried : "?", a, driver);
}
