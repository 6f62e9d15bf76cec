/* The engine's compare mode (FERRY_SYNC_COMPARE) and the verify pass after a
 * copy, which runs the same code: identical sides pass, one differing byte
 * anywhere (holes included) fails naming its offset, a short destination
 * fails, transient errors are retried, and neither side is ever written. */
#include <sys/stat.h>

#include "sync_fixture.h"

#define OLD_TIME 1000000000 /* 2001: any write moves mtime off it */

/* Files get an old mtime, so that a write during the compare would show. */
static void write_aged(const char *name, const char *data, size_t len)
{
  write_file(name, data, len);
  struct timespec t[2] = { { OLD_TIME, 0 }, { OLD_TIME, 0 } };
  CHECK(utimensat(AT_FDCWD, path(name), t, 0) == 0);
}

static void check_untouched(const char *name, const char *data, size_t len)
{
  struct stat s;
  CHECK(stat(path(name), &s) == 0);
  CHECK(s.st_mtim.tv_sec == OLD_TIME && s.st_mtim.tv_nsec == 0);
  CHECK((size_t)s.st_size == len);
  char *now = read_file(name, len);
  CHECK(memcmp(now, data, len) == 0);
  free(now);
}

struct progress {
  unsigned calls;
  uint64_t done, total;
};

static int record(void *opaque, uint64_t done, uint64_t total)
{
  struct progress *p = opaque;
  p->calls++;
  p->done = done;
  p->total = total;
  return 0;
}

static void compare_opts(struct ferry_sync_opts *o, struct progress *p)
{
  ferry_sync_opts_init(o);
  o->mode = FERRY_SYNC_COMPARE;
  o->request_size = 64 * 1024; /* many requests for the workers */
  o->retry_delay_ms = 1;
  o->progress = record;
  o->progress_opaque = p;
}

static int compare(client_t *fc, const char *a, const char *b,
                   struct ferry_sync_stats *st, struct progress *p)
{
  struct ferry_sync_opts o;
  compare_opts(&o, p);
  return ferry_sync_ex(fc, fc, a, b, NULL, 0, &o, st);
}

static void identical(client_t *fc, const char *src)
{
  write_aged("same-a.img", src, SIZE);
  write_aged("same-b.img", src, SIZE);
  struct ferry_sync_stats st;
  struct progress p = { 0 };
  CHECK(compare(fc, "same-a.img", "same-b.img", &st, &p) == 0);
  CHECK(st.verified_bytes == SIZE && st.total_bytes == SIZE);
  CHECK(st.copied_bytes == 0 && st.zeroed_bytes == 0 && !st.wrote);
  CHECK(st.workers > 1); /* files: several threads */
  CHECK(p.calls >= 1 && p.done == SIZE && p.total == SIZE);
  check_untouched("same-a.img", src, SIZE);
  check_untouched("same-b.img", src, SIZE);
}

/* The first all-zero 64 KiB block of src: a hole in its file. */
static size_t hole_in(const char *src)
{
  static const char zero[65536];
  size_t off = 0;
  while (off < SIZE && memcmp(src + off, zero, sizeof zero) != 0)
    off += sizeof zero;
  CHECK(off < SIZE);
  return off + 4097;
}

static void one_byte_differs(client_t *fc, const char *src)
{
  size_t at[] = { 0, SIZE / 2 + 12345, SIZE - 1, hole_in(src) };
  char *dst = malloc(SIZE);
  write_aged("diff-a.img", src, SIZE);
  for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
    memcpy(dst, src, SIZE);
    dst[at[i]] ^= 0x5a;
    write_aged("diff-b.img", dst, SIZE);
    struct ferry_sync_stats st;
    struct progress p = { 0 };
    CHECK(compare(fc, "diff-a.img", "diff-b.img", &st, &p) == -EILSEQ);
    char want[64];
    snprintf(want, sizeof want, "differ at offset %zu (sector %zu;", at[i],
             at[i] / 512);
    CHECK_HAS(ferry_last_error(), want);
    CHECK_HAS(ferry_last_error(), "diff-a.img");
    CHECK_HAS(ferry_last_error(), "diff-b.img");
    CHECK(!st.wrote);
    check_untouched("diff-a.img", src, SIZE);
    check_untouched("diff-b.img", dst, SIZE);
  }
  free(dst);
}

static void smaller_destination(client_t *fc, const char *src)
{
  write_aged("big.img", src, SIZE);
  write_aged("half.img", src, SIZE / 2);
  struct ferry_sync_stats st;
  struct progress p = { 0 };
  CHECK(compare(fc, "big.img", "half.img", &st, &p) == -EILSEQ);
  CHECK_HAS(ferry_last_error(), "the destination is smaller than the source");
  CHECK(st.verified_bytes == 0);
  /* A larger destination is compared over the source's size. */
  CHECK(compare(fc, "half.img", "big.img", &st, &p) == 0);
  CHECK(st.verified_bytes == SIZE / 2);
  check_untouched("big.img", src, SIZE);
  check_untouched("half.img", src, SIZE / 2);
}

/* A hand-made side: transient errors are retried; it has no size, so the
 * source needs extents, and only they are compared. */
static void retries_and_extents(client_t *fc, const char *src)
{
  struct mem m = { .size = SIZE, .fail_every = 3 };
  m.buf = malloc(SIZE);
  memcpy(m.buf, src, SIZE);
  client_t mc = { &m, mem_read, mem_write, NULL };
  write_aged("mem-b.img", src, SIZE);
  struct ferry_sync_opts o;
  struct progress p = { 0 };
  compare_opts(&o, &p);
  struct ferry_sync_stats st;
  CHECK(ferry_sync_ex(fc, &mc, "mem-b.img", "mem", NULL, 0, &o, &st) == 0);
  CHECK(st.retries > 0 && st.verified_bytes == SIZE);

  m.buf[3u << 20] ^= 1;
  struct ferry_extent before = { 0, 3u << 20 }, over = { 2u << 20, 2u << 20 };
  CHECK(ferry_sync_ex(&mc, fc, "mem", "mem-b.img", &before, 1, &o, &st) == 0);
  CHECK(st.verified_bytes == 3u << 20);
  CHECK(ferry_sync_ex(&mc, fc, "mem", "mem-b.img", &over, 1, &o, &st) ==
        -EILSEQ);
  CHECK_HAS(ferry_last_error(), "differ at offset 3145728 ");
  CHECK(ferry_sync_ex(&mc, fc, "mem", "mem-b.img", NULL, 0, &o, &st) ==
        -EINVAL);
  CHECK_HAS(ferry_last_error(), "no known size");
  check_untouched("mem-b.img", src, SIZE);
  free(m.buf);
}

/* Like nbdkit's null plugin: takes writes and forgets them. */
static int forget_write(void *c, const char *vol, char *buf, uint64_t len,
                        uint64_t off)
{
  (void)c, (void)vol, (void)buf, (void)len, (void)off;
  return 0;
}

/* The verify after a copy is the same compare: it catches a destination
 * that dropped the writes, at the source's first non-zero byte (one
 * worker here: a hand-made client is not thread-safe). */
static void verify_after_copy(client_t *fc, const char *src)
{
  struct mem m = { .size = SIZE };
  m.buf = calloc(1, SIZE);
  client_t null = { &m, mem_read, forget_write, NULL };
  write_file("v-a.img", src, SIZE);
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.verify = true;
  struct ferry_extent all = { 0, SIZE };
  struct ferry_sync_stats st;
  CHECK(ferry_sync_ex(fc, &null, "v-a.img", "null", &all, 1, &o, &st) ==
        -EILSEQ);
  size_t first = 0;
  while (!src[first])
    first++;
  char want[64];
  snprintf(want, sizeof want, "differ at offset %zu ", first);
  CHECK_HAS(ferry_last_error(), want);
  CHECK(st.wrote && st.copied_bytes > 0);
  free(m.buf);
}

int main(void)
{
  client_t *fc = fixture_start();
  char *src = make_source(SIZE);
  identical(fc, src);
  one_byte_differs(fc, src);
  smaller_destination(fc, src);
  retries_and_extents(fc, src);
  verify_after_copy(fc, src);
  free(src);
  return fixture_end(fc);
}
