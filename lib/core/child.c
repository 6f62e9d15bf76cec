/* Helper processes die with ferry; see child.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "error.h"

static __thread unsigned guard_depth;
static __thread pid_t guard_parent; /* getpid() just before the fork */
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* The helper log: one per process, written by children after fork. */
static atomic_int log_fd = -1;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_path[4096];

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot), or
 * 0. Only system calls and plain code: it runs in a child after fork. */
static unsigned long long start_time(const char *stat_path)
{
  char buf[1024];
  int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the name may hold spaces and ')' */
  if (!p)
    return 0;
  p++;
  for (int field = 2; field < 22 && *p; field++) { /* p is before field+1 */
    while (*p == ' ')
      p++;
    while (*p && *p != ' ')
      p++;
  }
  unsigned long long v = 0;
  while (*p == ' ')
    p++;
  for (; *p >= '0' && *p <= '9'; p++)
    v = v * 10 + (unsigned)(*p - '0');
  return v;
}

unsigned long long process_start_time(long pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  return start_time(path);
}

/* Decimal of v into buf (no stdio after fork); returns the end. */
static char *put_num(char *buf, unsigned long long v)
{
  char t[24];
  int n = 0;
  do
    t[n++] = (char)('0' + v % 10);
  while ((v /= 10) && n < 24);
  while (n)
    *buf++ = t[--n];
  return buf;
}

static void on_prepare(void)
{
  if (guard_depth)
    guard_parent = getpid();
}

static void on_child(void)
{
  if (!guard_depth)
    return;
  guard_depth = 0; /* the helper's own forks are its business */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != guard_parent)
    _exit(127); /* ferry died before the signal was armed */
  int fd = atomic_load(&log_fd);
  if (fd >= 0) {
    char line[64], *e = put_num(line, (unsigned long long)getpid());
    *e++ = ' ';
    e = put_num(e, start_time("/proc/self/stat"));
    *e++ = '\n';
    if (write(fd, line, (size_t)(e - line)) < 0) {
      /* nothing to be done: PDEATHSIG still holds */
    }
  }
}

static void register_handlers(void)
{
  pthread_atfork(on_prepare, NULL, on_child);
}

void child_guard_begin(void)
{
  pthread_once(&once, register_handlers);
  guard_depth++;
}

void child_guard_end(void)
{
  if (guard_depth)
    guard_depth--;
}

int child_log_open(const char *path)
{
  pthread_mutex_lock(&log_mu);
  int r = 0;
  if (atomic_load(&log_fd) < 0) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                  0600);
    if (fd < 0)
      r = ferry_error(errno, "helper log %s: %s", path, strerror(errno));
    else {
      snprintf(log_path, sizeof log_path, "%s", path);
      atomic_store(&log_fd, fd);
      r = 1;
    }
  }
  pthread_mutex_unlock(&log_mu);
  return r;
}

void child_log_close(void)
{
  pthread_mutex_lock(&log_mu);
  int fd = atomic_exchange(&log_fd, -1);
  if (fd >= 0) {
    close(fd);
    unlink(log_path);
  }
  pthread_mutex_unlock(&log_mu);
}

/* True when pid runs (not a zombie) a program named qemu-nbd or qemu-img
 * and started at `started`. */
static bool is_our_helper(long pid, unsigned long long started)
{
  char path[64], argv0[4096];
  if (!started || process_start_time(pid) != started)
    return false;
  snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, argv0, sizeof argv0 - 1);
  close(fd);
  if (n <= 0)
    return false; /* a zombie has an empty command line */
  argv0[n] = '\0';
  const char *base = strrchr(argv0, '/');
  base = base ? base + 1 : argv0;
  return !strcmp(base, "qemu-nbd") || !strcmp(base, "qemu-img");
}

int child_reap_logged(const char *path)
{
  FILE *f = fopen(path, "re");
  if (!f)
    return errno == ENOENT ? 0 : ferry_error(errno, "helper log %s: %s",
                                             path, strerror(errno));
  long pids[256];
  int n = 0;
  long pid;
  unsigned long long started;
  while (n < 256 && fscanf(f, "%ld %llu", &pid, &started) == 2)
    if (pid > 1 && is_our_helper(pid, started) && kill(pid, SIGKILL) == 0)
      pids[n++] = pid;
  fclose(f);
  /* Wait until they are gone: their image locks go with them. */
  for (int waited = 0; waited < 10000; waited += 20) {
    bool any = false;
    for (int i = 0; i < n; i++) {
      char p[64];
      snprintf(p, sizeof p, "/proc/%ld/cmdline", pids[i]);
      int fd = open(p, O_RDONLY | O_CLOEXEC);
      char c;
      if (fd >= 0) {
        any = any || read(fd, &c, 1) == 1; /* zombies read empty */
        close(fd);
      }
    }
    if (!any)
      break;
    nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
  }
  unlink(path);
  return n;
}
