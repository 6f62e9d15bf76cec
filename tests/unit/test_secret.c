/* Secrets: on pages a core dump leaves out, wiped when freed, and the
 * process made non-dumpable. And helpers die with their parent: the
 * guard of child.h arms PR_SET_PDEATHSIG in forked children. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/core/child.h"
#include "../../lib/core/secret.h"
#include "check.h"

/* The VmFlags line of the /proc/self/smaps entry holding addr. */
static void vm_flags_of(const void *addr, char *buf, size_t len)
{
  FILE *f = fopen("/proc/self/smaps", "re");
  CHECK(f);
  char line[512];
  bool in = false;
  buf[0] = '\0';
  uintptr_t a = (uintptr_t)addr;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char dash;
    if (sscanf(line, "%lx%c%lx ", &lo, &dash, &hi) == 3 && dash == '-')
      in = a >= lo && a < hi; /* a mapping's first line */
    if (in && !strncmp(line, "VmFlags:", 8)) {
      snprintf(buf, len, "%s", line);
      break;
    }
  }
  fclose(f);
}

static void secrets(void)
{
  CHECK(secret_dup(NULL) == NULL);
  CHECK(prctl(PR_GET_DUMPABLE) == 1);
  char *s = secret_dup("s3cret");
  CHECK(s && !strcmp(s, "s3cret"));
  CHECK(prctl(PR_GET_DUMPABLE) == 0); /* no core file from here on */
  char flags[512];
  vm_flags_of(s, flags, sizeof flags);
  CHECK_HAS(flags, " dd"); /* MADV_DONTDUMP */
  secret_free(s);
  secret_free(NULL);
}

/* A child forked under the guard is killed when its parent dies. */
static void helpers_die_with_parent(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t mid = fork();
  CHECK(mid >= 0);
  if (mid == 0) { /* the "ferry" that dies: forks a helper, exits */
    child_guard_begin();
    pid_t helper = fork();
    if (helper == 0) {
      close(p[0]);
      pause(); /* a helper that would run forever */
      _exit(0);
    }
    child_guard_end();
    if (write(p[1], &helper, sizeof helper) != sizeof helper)
      _exit(2);
    _exit(0);
  }
  close(p[1]);
  pid_t helper = 0;
  CHECK(read(p[0], &helper, sizeof helper) == sizeof helper);
  CHECK(waitpid(mid, NULL, 0) == mid);
  /* The helper now has init (or a subreaper) as its parent and got
   * SIGKILL: it goes within moments. */
  bool gone = false;
  for (int i = 0; i < 500 && !gone; i++) {
    char path[64], st[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", (int)helper);
    FILE *f = fopen(path, "re");
    if (!f || !fgets(st, sizeof st, f))
      gone = true;
    else
      gone = strstr(st, ") Z ") != NULL; /* a zombie nobody reaps */
    if (f)
      fclose(f);
    usleep(10000);
  }
  CHECK(gone);
  /* Without the guard a child outlives its parent. */
  CHECK(pipe(p) == 0);
  mid = fork();
  if (mid == 0) {
    pid_t h = fork();
    if (h == 0) {
      close(p[0]);
      sleep(3);
      _exit(0);
    }
    if (write(p[1], &h, sizeof h) != sizeof h)
      _exit(2);
    _exit(0);
  }
  close(p[1]);
  CHECK(read(p[0], &helper, sizeof helper) == sizeof helper);
  CHECK(waitpid(mid, NULL, 0) == mid);
  usleep(100000);
  CHECK(kill(helper, 0) == 0);
  kill(helper, SIGKILL);
}

int main(void)
{
  helpers_die_with_parent(); /* first: the secrets make us non-dumpable */
  secrets();
  printf("ok\n");
  return 0;
}
