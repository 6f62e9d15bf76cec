/* The copy engine through the public API: file volumes, qcow2 through
 * qemu-nbd (the async NBD path), hand-made clients, retries, persistent
 * errors, cancel, and refused input. Runs in a private temp dir. */
#include <sys/stat.h>

#include "sync_fixture.h"

static void random_extents(uint64_t *start, uint64_t *count, int n,
                           uint64_t sectors)
{
  for (int i = 0; i < n; i++) {
    count[i] = 1 + rnd() % 4096;
    start[i] = rnd() % (sectors - count[i]);
  }
}

/* Bytes inside the extents equal src; outside, dst kept its old content. */
static void check_extent_copy(const char *src, const char *old,
                              const char *now, size_t len,
                              const uint64_t *start, const uint64_t *count,
                              int n)
{
  char *in = calloc(1, len / 512);
  for (int i = 0; i < n; i++)
    memset(in + start[i], 1, count[i]);
  for (size_t s = 0; s < len / 512; s++)
    CHECK(memcmp(now + s * 512, (in[s] ? src : old) + s * 512, 512) == 0);
  free(in);
}

static void seed_extents_file_to_file(client_t *fc)
{
  char *src = make_source(SIZE), *old = malloc(SIZE);
  memset(old, 0x5a, SIZE);
  write_file("a.img", src, SIZE);
  write_file("b.img", old, SIZE);
  uint64_t start[40], count[40];
  random_extents(start, count, 40, SIZE / 512);
  CHECK(ferry_sync(fc, fc, "a.img", "b.img", start, count, 40) == 0);
  char *now = read_file("b.img", SIZE);
  check_extent_copy(src, old, now, SIZE, start, count, 40);
  free(now);
  free(src);
  free(old);
}

static void allocated_keeps_holes(client_t *fc)
{
  char *src = make_source(SIZE), *junk = malloc(SIZE);
  memset(junk, 0xee, SIZE);
  write_file("c.img", src, SIZE);
  write_file("d.img", junk, SIZE); /* garbage must become zeroes */
  CHECK(ferry_sync(fc, fc, "c.img", "d.img", NULL, NULL, 0) == 0);
  char *now = read_file("d.img", SIZE);
  CHECK(memcmp(now, src, SIZE) == 0);
  struct stat a, b;
  CHECK(stat(path("c.img"), &a) == 0 && stat(path("d.img"), &b) == 0);
  CHECK(b.st_blocks <= a.st_blocks + 128); /* holes stayed holes */
  free(now);
  free(src);
  free(junk);
}

static void qcow2_destination(client_t *fc)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "qemu-img create -q -f qcow2 %s %u",
           path("e.qcow2"), SIZE);
  CHECK(system(cmd) == 0);
  char *src = make_source(SIZE);
  write_file("f.img", src, SIZE);
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_ALLOCATED;
  o.verify = true;
  o.request_size = 256 * 1024; /* many requests in flight */
  struct ferry_sync_stats st;
  CHECK(ferry_sync_ex(fc, fc, "f.img", "e.qcow2", NULL, 0, &o, &st) == 0);
  CHECK(st.verified_bytes == SIZE);
  /* and back out of the qcow2, through the library's read path */
  CHECK(ferry_sync(fc, fc, "e.qcow2", "g.img", NULL, NULL, 0) == -ENOENT);
  write_file("g.img", src, 0);
  CHECK(truncate(path("g.img"), SIZE) == 0);
  CHECK(ferry_sync(fc, fc, "e.qcow2", "g.img", NULL, NULL, 0) == 0);
  char *now = read_file("g.img", SIZE);
  CHECK(memcmp(now, src, SIZE) == 0);
  free(now);
  free(src);
}

static void hand_made_clients(client_t *fc)
{
  struct mem m = { .size = 4u << 20 };
  m.buf = make_source(m.size);
  client_t mc = { &m, mem_read, mem_write, NULL };
  char *old = calloc(1, m.size);
  write_file("h.img", old, m.size);
  uint64_t start[10], count[10];
  random_extents(start, count, 10, m.size / 512);
  CHECK(ferry_sync(&mc, fc, "mem", "h.img", start, count, 10) == 0);
  char *now = read_file("h.img", m.size);
  check_extent_copy(m.buf, old, now, m.size, start, count, 10);
  free(now);

  /* A hand-made client has no size: a full copy needs extents. */
  CHECK(ferry_sync(&mc, fc, "mem", "h.img", NULL, NULL, 0) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "no known size");

  /* Hand-made destination. */
  struct mem d = { .size = m.size };
  d.buf = calloc(1, d.size);
  client_t dc = { &d, mem_read, mem_write, NULL };
  CHECK(ferry_sync(fc, &dc, "h.img", "mem", start, count, 10) == 0);
  check_extent_copy(m.buf, old, d.buf, d.size, start, count, 10);

  /* Same hand-made client and volume on both sides is refused. */
  CHECK(ferry_sync(&mc, &mc, "mem", "mem", start, count, 1) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "same volume");
  free(d.buf);
  free(old);
  free(m.buf);
}

static void retries_and_persistent_errors(client_t *fc)
{
  struct mem m = { .size = 4u << 20, .fail_every = 3 };
  m.buf = make_source(m.size);
  client_t mc = { &m, mem_read, mem_write, NULL };
  char *old = malloc(m.size);
  memset(old, 0x33, m.size);
  write_file("i.img", old, m.size);
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.retry_delay_ms = 1;
  o.request_size = 64 * 1024;
  struct ferry_extent all = { 0, m.size };
  struct ferry_sync_stats st;
  CHECK(ferry_sync_ex(&mc, fc, "mem", "i.img", &all, 1, &o, &st) == 0);
  CHECK(st.retries > 0);
  char *now = read_file("i.img", m.size);
  CHECK(memcmp(now, m.buf, m.size) == 0);
  free(now);

  /* From the 5th read on, every read fails: the error names the offset,
   * and nothing outside the extents is touched. */
  write_file("i.img", old, m.size);
  m.fail_every = 0;
  m.calls = 0;
  m.fail_from_call = 5;
  struct ferry_extent two[] = { { 0, 1u << 20 }, { 2u << 20, 1u << 20 } };
  CHECK(ferry_sync_ex(&mc, fc, "mem", "i.img", two, 2, &o, &st) == -EIO);
  CHECK_HAS(ferry_last_error(), "at offset ");
  CHECK_HAS(ferry_last_error(), "hand-made client");
  now = read_file("i.img", m.size);
  CHECK(memcmp(now + (1u << 20), old, 1u << 20) == 0);
  CHECK(memcmp(now + (3u << 20), old, 1u << 20) == 0);
  free(now);
  free(old);
  free(m.buf);
}

static int cancel_at_once(void *opaque, uint64_t done, uint64_t total)
{
  (void)done;
  (void)total;
  ++*(int *)opaque;
  return 1;
}

/* A slow hand-made source, so that the progress callback runs mid-copy. */
static int slow_read(void *c, const char *vol, char *buf, uint64_t len,
                     uint64_t off)
{
  usleep(20000);
  return mem_read(c, vol, buf, len, off);
}

static void cancel(client_t *fc)
{
  struct mem m = { .size = 4u << 20 };
  m.buf = make_source(m.size);
  client_t mc = { &m, slow_read, mem_write, NULL };
  write_file("j.img", m.buf, 0);
  CHECK(truncate(path("j.img"), m.size) == 0);
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.request_size = 64 * 1024;
  int calls = 0;
  o.progress = cancel_at_once;
  o.progress_opaque = &calls;
  struct ferry_extent all = { 0, m.size };
  CHECK(ferry_sync_ex(&mc, fc, "mem", "j.img", &all, 1, &o, NULL) ==
        -ECANCELED);
  CHECK(calls >= 1);
  free(m.buf);
}

static void refused_input(client_t *fc)
{
  char *old = malloc(1 << 20);
  memset(old, 0x77, 1 << 20);
  write_file("k.img", old, 1 << 20);
  write_file("small.img", old, 1 << 19);
  uint64_t s[] = { 0 }, c[] = { 4096 }; /* 2 MiB: past the end */
  CHECK(ferry_sync(fc, fc, "k.img", "small.img", s, c, 1) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "past the end");
  CHECK(ferry_sync(fc, fc, "k.img", "small.img", NULL, NULL, 0) == -ENOSPC);
  CHECK_HAS(ferry_last_error(), "smaller");
  CHECK(ferry_sync(fc, fc, "k.img", "k.img", NULL, NULL, 0) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "same volume");
  CHECK(ferry_sync(fc, fc, "missing.img", "k.img", NULL, NULL, 0) == -ENOENT);
  CHECK_HAS(ferry_last_error(), "missing.img");
  CHECK(ferry_sync(fc, fc, "../etc/passwd", "k.img", NULL, NULL, 0) == -EXDEV);
  CHECK_HAS(ferry_last_error(), "escapes");
  CHECK(ferry_sync(fc, fc, "/etc/passwd", "k.img", NULL, NULL, 0) == -EXDEV);
  CHECK(symlink("/etc/passwd", path("link")) == 0);
  CHECK(ferry_sync(fc, fc, "link", "k.img", NULL, NULL, 0) == -EXDEV);
  uint64_t z[] = { 0 };
  CHECK(ferry_sync(fc, fc, "small.img", "k.img", z, z, 1) == -EINVAL);
  char *now = read_file("k.img", 1 << 20);
  CHECK(memcmp(now, old, 1 << 20) == 0); /* nothing was written */
  free(now);
  free(old);
  /* Types not implemented yet say so. */
  CHECK(create_client(CLIENT_XEN, "7", "0", "h", "u", "p", "t") == NULL);
  CHECK(ferry_last_errno() == ENOTSUP);
  /* A vSphere client without a usable thumbprint connects nowhere. */
  CHECK(create_client(CLIENT_VMWARE, "7", "0", "h", "u", "p", "t") == NULL);
  CHECK(ferry_last_errno() == EINVAL);
  CHECK_HAS(ferry_last_error(), "not a SHA-1 thumbprint");
  CHECK(create_client(CLIENT_FILE, 0, 0, path("nope"), 0, 0, 0) == NULL);
  CHECK(ferry_last_errno() == ENOENT);
}

/* The memory budget bounds every buffer: fewer workers and requests run
 * when it holds fewer, too little for one request is refused before the
 * first write, and the stats say what was used. */
static void memory_budget(client_t *fc)
{
  char *src = make_source(SIZE), *old = malloc(SIZE);
  memset(old, 0x21, SIZE);
  write_file("m.img", src, SIZE);
  write_file("n.img", old, SIZE);
  struct ferry_sync_opts o;
  ferry_sync_opts_init(&o);
  o.mode = FERRY_SYNC_ALLOCATED;
  o.request_size = 1u << 20;
  o.workers = 8;
  o.memory = 3u << 20; /* three requests */
  o.verify = true;     /* two buffers each: one request */
  struct ferry_sync_stats st;
  CHECK(ferry_sync_ex(fc, fc, "m.img", "n.img", NULL, 0, &o, &st) == 0);
  CHECK(st.workers == 1 && st.buffer_bytes <= o.memory);
  CHECK(st.memory == o.memory && st.verified_bytes == SIZE);
  o.verify = false;
  CHECK(ferry_sync_ex(fc, fc, "m.img", "n.img", NULL, 0, &o, &st) == 0);
  CHECK(st.workers == 3 && st.buffer_bytes <= o.memory);
  char *now = read_file("n.img", SIZE);
  CHECK(memcmp(now, src, SIZE) == 0);
  free(now);

  write_file("n.img", old, SIZE);
  o.memory = (1u << 20) - 512;
  CHECK(ferry_sync_ex(fc, fc, "m.img", "n.img", NULL, 0, &o, &st) ==
        -EINVAL);
  CHECK_HAS(ferry_last_error(), "memory budget");
  CHECK(!st.started);
  now = read_file("n.img", SIZE);
  CHECK(memcmp(now, old, SIZE) == 0); /* nothing was written */
  free(now);
  free(src);
  free(old);
}

/* Extents read through the gaps between them write only themselves: the
 * gaps at the destination keep what they had, though the source's differ.
 * Whatever the gap allowed, the result is the same. */
static void read_gaps(client_t *fc)
{
  char *src = malloc(SIZE), *old = malloc(SIZE);
  memset(src, 0x55, SIZE);
  memset(old, 0xaa, SIZE);
  write_file("g.img", src, SIZE);
  struct ferry_extent ext[40];
  for (int i = 0; i < 40; i++) /* 4 KiB, then a gap of i KiB */
    ext[i] = (struct ferry_extent){ (uint64_t)i * (64 << 10),
                                    4096 + (uint64_t)(i % 3) * 512 };
  const uint64_t gaps[] = { FERRY_READ_GAP_NEVER, 0, 4096, 1u << 20 };
  for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    write_file("h.img", old, SIZE);
    struct ferry_sync_opts o;
    ferry_sync_opts_init(&o);
    o.read_gap = gaps[g];
    struct ferry_sync_stats st;
    CHECK(ferry_sync_ex(fc, fc, "g.img", "h.img", ext, 40, &o, &st) == 0);
    uint64_t want = 0;
    for (int i = 0; i < 40; i++)
      want += ext[i].length;
    CHECK(st.copied_bytes == want);
    char *now = read_file("h.img", SIZE);
    uint64_t start[40], count[40];
    for (int i = 0; i < 40; i++) {
      start[i] = ext[i].offset / 512;
      count[i] = ext[i].length / 512;
    }
    check_extent_copy(src, old, now, SIZE, start, count, 40);
    free(now);
  }
  free(src);
  free(old);
}

int main(void)
{
  client_t *fc = fixture_start();
  seed_extents_file_to_file(fc);
  allocated_keeps_holes(fc);
  qcow2_destination(fc);
  hand_made_clients(fc);
  retries_and_persistent_errors(fc);
  cancel(fc);
  refused_input(fc);
  memory_budget(fc);
  read_gaps(fc);
  return fixture_end(fc);
}
