/* What the sync engine's tests share: a private temp dir with a file
 * client on it, sparse files, random sources and a hand-made client over
 * memory that can fail on purpose. Each test program includes it once. */
#ifndef FERRY_TEST_SYNC_FIXTURE_H
#define FERRY_TEST_SYNC_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <ferry/ferry.h>

#include "check.h"

#define SIZE (16u << 20)

static char dir[] = "/tmp/ferry-test-sync-XXXXXX";
static unsigned seed = 42;

static inline unsigned rnd(void) { return rand_r(&seed); }

static inline char *path(const char *name)
{
  static char buf[4][256];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 256, "%s/%s", dir, name);
  return p;
}

static inline void write_file(const char *name, const char *data,
                              size_t len)
{
  int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, len) == 0);
  /* Write only non-zero 64 KiB blocks so the file stays sparse. */
  for (size_t off = 0; off < len; off += 65536) {
    size_t n = len - off < 65536 ? len - off : 65536;
    bool zero = true;
    for (size_t i = 0; i < n && zero; i++)
      zero = data[off + i] == 0;
    if (!zero)
      CHECK(pwrite(fd, data + off, n, off) == (ssize_t)n);
  }
  close(fd);
}

static inline char *read_file(const char *name, size_t len)
{
  char *b = malloc(len);
  int fd = open(path(name), O_RDONLY);
  CHECK(b && fd >= 0);
  CHECK(pread(fd, b, len, 0) == (ssize_t)len);
  close(fd);
  return b;
}

/* Random data in some 64 KiB..1 MiB runs, holes elsewhere. */
static inline char *make_source(size_t len)
{
  char *b = calloc(1, len);
  for (int i = 0; i < 12; i++) {
    size_t run = (1 + rnd() % 16) * 65536, off = (rnd() % (len / 65536)) * 65536;
    for (size_t k = off; k < off + run && k < len; k++)
      b[k] = (char)(rnd() | 1);
  }
  return b;
}

/* A hand-made client over a memory buffer, optionally failing. */
struct mem {
  char *buf;
  size_t size;
  int calls, fail_every, fail_from_call;
};

static inline int mem_read(void *c, const char *vol, char *buf,
                           uint64_t len, uint64_t off)
{
  struct mem *m = c;
  (void)vol;
  m->calls++;
  if (m->fail_every && m->calls % m->fail_every == 0)
    return -EIO;
  if (m->fail_from_call && m->calls >= m->fail_from_call)
    return -EIO;
  if (off + len > m->size)
    return -EINVAL;
  memcpy(buf, m->buf + off, len);
  return 0;
}

static inline int mem_write(void *c, const char *vol, char *buf,
                            uint64_t len, uint64_t off)
{
  struct mem *m = c;
  (void)vol;
  if (off + len > m->size)
    return -ENOSPC;
  memcpy(m->buf + off, buf, len);
  return 0;
}

static inline client_t *fixture_start(void)
{
  CHECK(mkdtemp(dir));
  client_t *fc = create_client(CLIENT_FILE, NULL, NULL, dir, NULL, NULL, NULL);
  CHECK(fc);
  return fc;
}

/* Closes the client and removes the temp dir: main's exit status. */
static inline int fixture_end(client_t *fc)
{
  CHECK(destroy_client(fc) == 0);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}

#endif
