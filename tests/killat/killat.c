/* A test-only LD_PRELOAD library: the process kills itself (SIGKILL,
 * as ferry's helpers die when ferry is killed) just before its Nth write
 * (pwrite/pwritev, counted over all its threads), N from KILL_AT_WRITE.
 * Running a tool again and again with N = 1, 2, ... leaves, one run each,
 * every state its writes can be cut at: a crash-consistency test of
 * whatever ferry asks the tool to do. Without KILL_AT_WRITE it only
 * passes the calls on. */
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long writes;

static void before_write(void)
{
  const char *n = getenv("KILL_AT_WRITE");
  if (n && atomic_fetch_add(&writes, 1) + 1 == atol(n))
    kill(getpid(), SIGKILL);
}

#define PASS_ON(ret, name, params, args)                                     \
  ret name params                                                            \
  {                                                                          \
    static ret(*real) params;                                                \
    if (!real)                                                               \
      real = (ret(*) params)dlsym(RTLD_NEXT, #name);                         \
    before_write();                                                          \
    return real args;                                                        \
  }

PASS_ON(ssize_t, pwrite, (int fd, const void *b, size_t n, off_t o),
        (fd, b, n, o))
PASS_ON(ssize_t, pwrite64, (int fd, const void *b, size_t n, off64_t o),
        (fd, b, n, o))
PASS_ON(ssize_t, pwritev, (int fd, const struct iovec *v, int c, off_t o),
        (fd, v, c, o))
PASS_ON(ssize_t, pwritev64,
        (int fd, const struct iovec *v, int c, off64_t o), (fd, v, c, o))
PASS_ON(ssize_t, pwritev2,
        (int fd, const struct iovec *v, int c, off_t o, int f),
        (fd, v, c, o, f))
PASS_ON(ssize_t, pwritev64v2,
        (int fd, const struct iovec *v, int c, off64_t o, int f),
        (fd, v, c, o, f))
