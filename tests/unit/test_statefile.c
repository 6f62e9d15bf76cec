/* State files survive kill -9 whole; names cannot escape; locks exclude. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/core/error.h"
#include "../../lib/core/statefile.h"
#include "check.h"

#define BIG (256 * 1024)

static char dir[] = "/tmp/ferry-test-state-XXXXXX";

/* Two versions of a file that differ everywhere, so a torn write shows. */
static char *version(char c)
{
  char *b = malloc(BIG + 1);
  memset(b, c, BIG);
  b[BIG] = '\0';
  return b;
}

static void crash_safety(void)
{
  char path[256];
  snprintf(path, sizeof path, "%s/record.json", dir);
  char *a = version('a'), *b = version('b');
  CHECK(statefile_write(path, a, BIG) == 0);
  unsigned seed = 7;
  for (int round = 0; round < 30; round++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) { /* rewrite forever, alternating */
      for (int i = 0;; i++)
        statefile_write(path, i % 2 ? a : b, BIG);
    }
    usleep(1000 + rand_r(&seed) % 20000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char *got;
    CHECK(statefile_read(path, BIG * 2, &got) == 0);
    CHECK(strlen(got) == BIG);
    CHECK(strcmp(got, a) == 0 || strcmp(got, b) == 0);
    free(got);
  }
  free(a);
  free(b);
}

static void names(void)
{
  CHECK(name_check("before-upgrade_2", "snapshot name") == 0);
  CHECK(name_check("../../etc/x", "snapshot name") == -EINVAL);
  CHECK_HAS(ferry_last_error(), "snapshot name");
  CHECK(name_check("a/b", "x") == -EINVAL);
  CHECK(name_check("..", "x") == -EINVAL);
  CHECK(name_check(".hidden", "x") == -EINVAL);
  CHECK(name_check("-rf", "x") == -EINVAL);
  CHECK(name_check("", "x") == -EINVAL);
  CHECK(name_check(NULL, "x") == -EINVAL);
  CHECK(name_check("tab\there", "x") == -EINVAL);
  char longname[200];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK(name_check(longname, "x") == -EINVAL);
}

static void locks(void)
{
  char path[256];
  snprintf(path, sizeof path, "%s/vm.lock", dir);
  int fd;
  CHECK(lock_acquire(path, 0, &fd) == 0);
  pid_t pid = fork();
  if (pid == 0) { /* another process cannot take it */
    int fd2;
    _exit(lock_acquire(path, 100, &fd2) == -EBUSY ? 0 : 1);
  }
  int st;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  lock_release(fd);
  CHECK(lock_acquire(path, 0, &fd) == 0);
  lock_release(fd);
}

static void mkdirs_and_remove(void)
{
  char p[256], f[300];
  snprintf(p, sizeof p, "%s/a/b/c", dir);
  CHECK(statefile_mkdirs(p) == 0);
  CHECK(statefile_mkdirs(p) == 0);
  snprintf(f, sizeof f, "%s/x.json", p);
  CHECK(statefile_write(f, "{}", 2) == 0);
  CHECK(statefile_remove(f, 0) == 0);
  CHECK(statefile_remove(f, 1) == 0);
  CHECK(statefile_remove(f, 0) == -ENOENT);
}

int main(void)
{
  CHECK(mkdtemp(dir));
  crash_safety();
  names();
  locks();
  mkdirs_and_remove();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}
