/* Running helper programs with their output captured. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
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

/* The environment for a child: ours without the vSphere password (the
 * CLI hands it to the library there; qemu-img and qemu need no secret). */
static char **child_env(void)
{
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 1, sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "FERRY_VMWARE_PASSWORD=", 22))
      env[k++] = environ[i];
  return env;
}

int run_command(char *const argv[], char **output)
{
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0)
    return ferry_error(errno, "pipe: %s", strerror(errno));
  if (pipe2(err, O_CLOEXEC) < 0) {
    close(out[0]);
    close(out[1]);
    return ferry_error(errno, "pipe: %s", strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid;
  char **env = child_env();
  int sr = env ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, env) : ENOMEM;
  free(env);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  if (sr != 0) {
    close(out[0]);
    close(err[0]);
    return ferry_error(sr, "cannot run %s: %s", argv[0], strerror(sr));
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
  int r = 0;
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
