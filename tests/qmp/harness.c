/* See harness.h. Cleanup paths only use async-signal-safe calls, because
 * the watchdog runs them from a signal handler. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/check.h"
#include "harness.h"

#define WATCHDOG_S 60
#define MAX_FILES 32

static char dir[64];
static char files[MAX_FILES][128]; /* everything created in dir */
static int nfiles;
static pid_t qemu_pid = -1;
static const char *name = "qmp test";

static void note_file(const char *path)
{
  for (int i = 0; i < nfiles; i++)
    if (!strcmp(files[i], path))
      return;
  CHECK(nfiles < MAX_FILES);
  snprintf(files[nfiles++], sizeof files[0], "%s", path);
}

static void kill_and_clean(void)
{
  if (qemu_pid > 0) {
    kill(qemu_pid, SIGKILL);
    waitpid(qemu_pid, NULL, 0);
    qemu_pid = -1;
  }
  for (int i = 0; i < nfiles; i++)
    unlink(files[i]);
  if (dir[0])
    rmdir(dir);
}

static void watchdog(int sig)
{
  (void)sig;
  static const char msg[] = "watchdog: test took over 60 s, killing qemu\n";
  if (write(2, msg, sizeof msg - 1) < 0) {
    /* nothing more to do */
  }
  kill_and_clean();
  _exit(1);
}

void h_init(const char *test_name)
{
  name = test_name;
  snprintf(dir, sizeof dir, "/tmp/ferry-qmp-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  atexit(kill_and_clean);
  signal(SIGALRM, watchdog);
  alarm(WATCHDOG_S);
}

const char *h_path(int slot, const char *file)
{
  static char paths[8][128];
  CHECK(slot >= 0 && slot < 8);
  snprintf(paths[slot], sizeof paths[slot], "%s/%s", dir, file);
  note_file(paths[slot]);
  return paths[slot];
}

int64_t h_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *h_start_qemu(const char *const *extra)
{
  static char sock[128], qmparg[160];
  snprintf(sock, sizeof sock, "%s", h_path(0, "qmp.sock"));
  snprintf(qmparg, sizeof qmparg, "unix:%s,server=on,wait=off", sock);
  const char *log = h_path(1, "qemu.log");
  const char *argv[64] = { "qemu-system-x86_64", "-machine", "q35,accel=tcg",
                           "-nodefaults", "-display", "none", "-S", "-qmp",
                           qmparg };
  int n = 9;
  for (; extra && *extra; extra++) {
    CHECK(n < 63);
    argv[n++] = *extra;
  }
  argv[n] = NULL;
  pid_t parent = getpid();
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    /* Dies with the test even if the test is killed or aborts (ASan). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  qemu_pid = pid;
  return sock;
}

pid_t h_qemu_pid(void)
{
  return qemu_pid;
}

int h_wait_qemu(int timeout_ms)
{
  int64_t end = h_now_ms() + timeout_ms;
  while (qemu_pid > 0) {
    int st;
    pid_t r = waitpid(qemu_pid, &st, WNOHANG);
    if (r == qemu_pid) {
      qemu_pid = -1;
      return st;
    }
    if (h_now_ms() >= end)
      return -1;
    usleep(10000);
  }
  return -1;
}

int h_run(const char *const *argv, char **out)
{
  const char *log = h_path(7, "run.out");
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    CHECK(errno == EINTR);
  if (out) {
    FILE *f = fopen(log, "r");
    CHECK(f);
    size_t cap = 65536, len = fread(*out = malloc(cap), 1, cap - 1, f);
    (*out)[len] = '\0';
    fclose(f);
  }
  return st;
}
