/* Running helper programs with their output captured. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "error.h"
#include "log.h"
#include "run.h"

extern char **environ;

struct buf {
  char *p;
  size_t n, cap;
};

static int buf_add(struct buf *b, const char *d, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 0;
}

/* The last non-empty line of s, for messages. */
static const char *last_line(char *s)
{
  size_t n = s ? strlen(s) : 0;
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
    s[--n] = '\0';
  char *nl = s ? strrchr(s, '\n') : NULL;
  return nl ? nl + 1 : s ? s : "";
}

/* argv0 looked up in PATH, as execvp would (no lookup after fork). */
static int find_program(const char *argv0, char *buf, size_t len)
{
  if (strchr(argv0, '/')) {
    snprintf(buf, len, "%s", argv0);
    return 0;
  }
  const char *path = getenv("PATH");
  for (const char *p = path && *path ? path : "/usr/bin:/bin"; *p;) {
    size_t n = strcspn(p, ":");
    snprintf(buf, len, "%.*s%s%s", (int)n, p, n ? "/" : "", argv0);
    if (access(buf, X_OK) == 0)
      return 0;
    p += n + (p[n] == ':');
  }
  return ferry_error(ENOENT, "%s: not found (is it installed?)", argv0);
}

int run_command(char *const argv[], char **output)
{
  char prog[4096];
  int r = find_program(argv[0], prog, sizeof prog);
  if (r < 0)
    return r;
  log_argv("child", "run", argv);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0)
    return ferry_error(errno, "pipe: %s", strerror(errno));
  if (pipe2(err, O_CLOEXEC) < 0) {
    close(out[0]);
    close(out[1]);
    return ferry_error(errno, "pipe: %s", strerror(errno));
  }
  /* fork, not posix_spawn: the guard's handler must run in the child, so
   * that the helper dies with ferry (child.h). */
  child_guard_begin();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 ||
        dup2(err[1], 2) < 0)
      _exit(126);
    if (null > 2)
      close(null);
    execve(prog, argv, environ); /* no secret is ever in it */
    _exit(errno == ENOENT ? 127 : 126);
  }
  int fork_errno = errno;
  child_guard_end();
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return ferry_error(fork_errno, "cannot run %s: %s", argv[0],
                       strerror(fork_errno));
  }
  struct buf o = { 0 }, e = { 0 };
  struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !p[i].revents)
        continue;
      char chunk[4096];
      ssize_t n = read(p[i].fd, chunk, sizeof chunk);
      if (n > 0)
        buf_add(i == 0 ? &o : &e, chunk, n);
      else if (n == 0 || errno != EINTR) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
      }
    }
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char cmd[512] = "";
    for (int i = 0; argv[i] && strlen(cmd) < 400; i++)
      snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%s%s",
               i ? " " : "", argv[i]);
    const char *why = last_line(e.p);
    r = WIFEXITED(status) && WEXITSTATUS(status) == 127
            ? ferry_error(ENOENT, "%s: not found (is it installed?)", argv[0])
            : ferry_error(EIO, "%s failed: %s", cmd,
                          *why ? why : "no message");
  }
  free(e.p);
  if (r == 0 && output)
    *output = o.p ? o.p : strdup("");
  else
    free(o.p);
  return r;
}
