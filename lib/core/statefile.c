/* Crash-safe state files: temp + fsync + rename + fsync of the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "statefile.h"

int statefile_sync_dir(const char *path)
{
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path);
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ferry_error(errno, "%s: open directory: %s", path, strerror(errno));
  int r = fsync(fd) < 0 ? ferry_error(errno, "%s: fsync directory: %s", path,
                                      strerror(errno))
                        : 0;
  close(fd);
  return r;
}

int statefile_write(const char *path, const char *data, size_t len)
{
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
    return ferry_error(ENAMETOOLONG, "%s: path too long", path);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return ferry_error(errno, "%s: create temp file: %s", path,
                       strerror(errno));
  int r = 0;
  for (size_t done = 0; done < len && r == 0;) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno != EINTR)
      r = ferry_error(errno, "%s: write: %s", tmp, strerror(errno));
    else if (n > 0)
      done += n;
  }
  if (r == 0 && fchmod(fd, 0600) < 0)
    r = ferry_error(errno, "%s: chmod: %s", tmp, strerror(errno));
  if (r == 0 && fsync(fd) < 0)
    r = ferry_error(errno, "%s: fsync: %s", tmp, strerror(errno));
  close(fd);
  if (r == 0 && rename(tmp, path) < 0)
    r = ferry_error(errno, "%s: rename: %s", path, strerror(errno));
  if (r < 0) {
    unlink(tmp);
    return r;
  }
  return statefile_sync_dir(path);
}

int statefile_read(const char *path, size_t max, char **out)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ferry_error(errno, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
    int e = errno;
    close(fd);
    return e && (size_t)st.st_size <= max
               ? ferry_error(e, "%s: %s", path, strerror(e))
               : ferry_error(EFBIG, "%s: larger than %zu bytes", path, max);
  }
  char *buf = malloc(st.st_size + 1);
  size_t done = 0;
  while (buf && done < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + done, st.st_size - done);
    if (n <= 0 && !(n < 0 && errno == EINTR))
      break;
    if (n > 0)
      done += n;
  }
  close(fd);
  if (!buf)
    return ferry_error(ENOMEM, "out of memory");
  buf[done] = '\0';
  *out = buf;
  return 0;
}

int statefile_remove(const char *path, int missing_ok)
{
  if (unlink(path) < 0) {
    if (errno == ENOENT && missing_ok)
      return 0;
    return ferry_error(errno, "%s: remove: %s", path, strerror(errno));
  }
  return statefile_sync_dir(path);
}

int statefile_mkdirs(const char *dir)
{
  char p[PATH_MAX];
  if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
    return ferry_error(ENAMETOOLONG, "%s: path too long", dir);
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0700) < 0 && errno != EEXIST)
        return ferry_error(errno, "mkdir %s: %s", p, strerror(errno));
      *s = c;
      if (c == '\0')
        break;
    }
  }
  return 0;
}

int name_check(const char *name, const char *what)
{
  if (!name || !*name)
    return ferry_error(EINVAL, "%s is empty", what);
  size_t len = strlen(name);
  if (len > 128)
    return ferry_error(EINVAL, "%s is longer than 128 bytes", what);
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '.' ||
      name[0] == '-')
    return ferry_error(EINVAL, "%s '%s' may not start with '.' or '-'", what,
                       name);
  for (const char *s = name; *s; s++) {
    if (*s == '/')
      return ferry_error(EINVAL, "%s '%s' may not contain '/'", what, name);
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return ferry_error(EINVAL, "%s has a control character", what);
  }
  return 0;
}

int lock_acquire(const char *path, int timeout_ms, int *fd_out)
{
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return ferry_error(errno, "lock %s: %s", path, strerror(errno));
  for (int waited = 0;; waited += 20) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      *fd_out = fd;
      return 0;
    }
    if (errno != EWOULDBLOCK || (timeout_ms >= 0 && waited >= timeout_ms)) {
      int e = errno == EWOULDBLOCK ? EBUSY : errno;
      close(fd);
      return ferry_error(e, "lock %s: %s", path,
                         e == EBUSY ? "held by another ferry process"
                                    : strerror(e));
    }
    nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
  }
}

void lock_release(int fd)
{
  if (fd >= 0)
    close(fd); /* closing drops the flock */
}
