/* Finding a driver in virtio-win's layout (DRIVER/OS/ARCH/DRIVER.sys) on
 * a tree the test makes: the OS directory from the product name and NT
 * version, the most specific first, then the version's general one; the
 * architecture's name; and what it looked for when there is none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ferry/ferry.h>

#include "../../lib/convert/virtio_win.h"
#include "check.h"

static char root[] = "/tmp/ferry-vw-XXXXXX";

static void driver_file(const char *rel)
{
  char path[512], cmd[600];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && : > '%s'", path,
           path);
  CHECK(system(cmd) == 0);
}

static void want(const char *driver, const char *product, int major,
                 int minor, const char *arch, const char *rel)
{
  char out[4096], expect[4096];
  CHECK(virtio_win_find(root, driver, product, major, minor, arch, out,
                        sizeof out) == 0);
  snprintf(expect, sizeof expect, "%s/%s", root, rel);
  if (strcmp(out, expect)) {
    fprintf(stderr, "%s on %s: got %s, want %s\n", driver, product, out,
            expect);
    exit(1);
  }
}

int main(void)
{
  CHECK(mkdtemp(root));
  driver_file("viostor/w10/amd64/viostor.sys");
  driver_file("viostor/w11/amd64/viostor.sys");
  driver_file("viostor/2k19/amd64/viostor.sys");
  driver_file("viostor/w10/x86/viostor.sys");
  driver_file("viostor/w7/amd64/viostor.inf"); /* no .sys: not a driver */
  driver_file("netkvm/w10/amd64/netkvm.sys");

  want("viostor", "Windows 10 Pro", 10, 0, "x86_64", "viostor/w10/amd64");
  want("viostor", "Windows 11 Enterprise", 10, 0, "x86_64",
       "viostor/w11/amd64");
  want("viostor", "Windows Server 2019 Standard", 10, 0, "x86_64",
       "viostor/2k19/amd64");
  /* no 2k22 directory: the NT 10.0 one */
  want("viostor", "Windows Server 2022 Datacenter", 10, 0, "x86_64",
       "viostor/w10/amd64");
  want("viostor", "Windows 10 Home", 10, 0, "i386", "viostor/w10/x86");
  want("netkvm", "Windows 11 Pro", 10, 0, "x86_64", "netkvm/w10/amd64");

  char out[4096];
  CHECK(virtio_win_find(root, "viostor", "Windows 7 Professional", 6, 1,
                        "x86_64", out, sizeof out) == -ENOENT);
  CHECK_HAS(ferry_last_error(), "no viostor for Windows 7 Professional");
  CHECK_HAS(ferry_last_error(), "looked for viostor/w7/amd64/viostor.sys");
  CHECK(virtio_win_find(root, "vioscsi", "Windows 10 Pro", 10, 0, "x86_64",
                        out, sizeof out) == -ENOENT);

  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
  printf("virtio_win: ok\n");
  return 0;
}
