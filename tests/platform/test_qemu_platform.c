/* The qemu platform through the public API, under TCG: a VM with two
 * disks, patterns written between snapshots, RAM snapshot and revert,
 * delete, and the data checked in the images with qemu-img. Built in the
 * ASan+UBSan build too, so the platform code runs under the sanitizers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ferry/platform.h>

#include "../../lib/qmp/qmp.h"
#include "../unit/check.h"

static char dir[] = "/tmp/ferry-test-platform-XXXXXX";
static client_t *c;

static void cleanup(void)
{
  if (c) {
    ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE);
    destroy_client(c);
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "for p in %s/run/*/qemu.pid; do [ -f \"$p\" ] && "
           "kill -9 $(cat \"$p\") 2>/dev/null; done; rm -rf %s", dir, dir);
  if (system(cmd)) {}
}

static void on_alarm(int sig)
{
  (void)sig;
  cleanup();
  _exit(1);
}

/* Writes a pattern (64 KiB at off) to a disk of the running VM through
 * HMP qemu-io. */
static void write_at(const char *uuid, const char *dev, int pattern,
                     unsigned off)
{
  char sock[512], cmd[256];
  snprintf(sock, sizeof sock, "%s/run/%s/qmp.sock", dir, uuid);
  struct qmp *q;
  CHECK(qmp_connect(sock, 10000, &q) == 0);
  /* By qdev path: the node itself refuses a second writer, and for
   * virtio-blk-pci the block device is the proxy's virtio-backend child. */
  snprintf(cmd, sizeof cmd, "qemu-io -d /machine/peripheral/%s/virtio-backend "
           "\"write -P 0x%02x %u 64k\"", dev, pattern, off);
  char *out = NULL;
  CHECK(qmp_hmp(q, cmd, &out, 10000) == 0);
  CHECK(out && !*out); /* HMP reports its errors as text */
  free(out);
  qmp_close(q);
}

static void write_pattern(const char *uuid, const char *dev, int pattern)
{
  write_at(uuid, dev, pattern, 0);
}

/* The changed areas of a disk between two snapshots, as "start+len,...". */
static const char *changes(const char *disk, const char *from, const char *to)
{
  static char buf[256];
  struct ferry_changed_areas ch;
  ferry_changed_areas_init(&ch);
  CHECK(ferry_query_snapshot_changes(c, "t", disk, from, to, &ch) == 0);
  buf[0] = '\0';
  for (size_t i = 0; i < ch.n_areas; i++)
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%llu+%llu",
             i ? "," : "", (unsigned long long)ch.areas[i].start,
             (unsigned long long)ch.areas[i].length);
  ferry_changed_areas_dispose(&ch);
  return buf;
}

/* The first byte of a disk image, or of one of its snapshots. */
static int first_byte(const char *vol, const char *snap)
{
  char cmd[1024], raw[600];
  snprintf(raw, sizeof raw, "%s/out.raw", dir);
  snprintf(cmd, sizeof cmd, "qemu-img convert -U -f qcow2 -O raw %s%s "
           "%s/volumes/%s %s", snap ? "-l snapshot.name=" : "",
           snap ? snap : "", dir, vol, raw);
  CHECK(system(cmd) == 0);
  FILE *f = fopen(raw, "rb");
  CHECK(f);
  int b = fgetc(f);
  fclose(f);
  unlink(raw);
  return b;
}

/* Whether a disk image holds an internal snapshot of that name. */
static bool has_snapshot(const char *vol, const char *name)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "qemu-img snapshot -U -l %s/volumes/%s | "
           "awk '{print $2}' | grep -qx '%s'", dir, vol, name);
  return system(cmd) == 0;
}

static void no_records(void)
{
  struct ferry_domain_snapshot *list;
  size_t n;
  CHECK(ferry_snapshot_list(c, "t", &list, &n) == 0 && n == 0);
  free(list);
}

/* A stopped VM's snapshot that fails on the second disk (another process
 * holds its write lock) is undone on the first: nothing is left behind. */
static void partial_failure(void)
{
  char cmd[800];
  snprintf(cmd, sizeof cmd, "qemu-nbd -f qcow2 -k %s/lock.sock --fork "
           "--pid-file %s/nbd.pid %s/volumes/t-vdb.qcow2", dir, dir, dir);
  CHECK(system(cmd) == 0);
  struct ferry_snapshot_spec half = { sizeof half, "half", NULL, 0 };
  int r = ferry_snapshot_create(c, "t", &half, NULL);
  snprintf(cmd, sizeof cmd, "kill $(cat %s/nbd.pid); sleep 0.2", dir);
  CHECK(system(cmd) == 0);
  CHECK(r < 0);
  CHECK_HAS(ferry_last_error(), "vdb");
  CHECK(!has_snapshot("t-vda.qcow2", "half"));
  CHECK(!has_snapshot("t-vdb.qcow2", "half"));
  no_records();
}

/* A name an image already holds (made outside ferry) is refused before
 * anything is written: qemu-img would make a second one of that name. */
static void clash_refused(void)
{
  struct ferry_snapshot_spec clash = { sizeof clash, "clash", NULL, 0 };
  CHECK(ferry_snapshot_create(c, "t", &clash, NULL) == -EEXIST);
  CHECK_HAS(ferry_last_error(), "disk vdb");
  CHECK(!has_snapshot("t-vda.qcow2", "clash"));
  no_records();
}

/* The volume vda uses now (external snapshots move it to overlays). */
static const char *active_volume(void)
{
  static char id[256];
  struct ferry_vm v;
  ferry_vm_init(&v);
  CHECK(ferry_get_vm(c, "t", &v) == 0);
  snprintf(id, sizeof id, "%s", v.disks[0].volume_id);
  ferry_vm_dispose(&v);
  return id;
}

static enum ferry_power_state state(void)
{
  struct ferry_vm v;
  ferry_vm_init(&v);
  CHECK(ferry_get_vm(c, "t", &v) == 0);
  enum ferry_power_state ps = v.power_state;
  ferry_vm_dispose(&v);
  return ps;
}

int main(void)
{
  CHECK(mkdtemp(dir));
  atexit(cleanup);
  signal(SIGALRM, on_alarm);
  alarm(120);
  c = create_client(CLIENT_QEMU, NULL, NULL, dir, NULL, NULL, NULL);
  CHECK(c);

  struct ferry_vm spec, vm;
  ferry_vm_init(&spec);
  ferry_vm_init(&vm);
  spec.name = strdup("t");
  spec.memory_mib = 64;
  ferry_vm_disks_append(&spec)->capacity = 8 << 20;
  ferry_vm_disks_append(&spec)->capacity = 4 << 20;
  CHECK(ferry_create_vm(c, &spec, &vm) == 0);
  CHECK(vm.n_disks == 2 && !strcmp(vm.disks[1].device, "vdb"));
  CHECK(vm.disks[0].boot_order == 1 && vm.disks[1].capacity == 4 << 20);
  CHECK(ferry_create_vm(c, &spec, NULL) == -EEXIST);

  /* The second disk already has a snapshot named "clash". */
  char cmd[600];
  snprintf(cmd, sizeof cmd, "qemu-img snapshot -c clash %s/volumes/t-vdb.qcow2",
           dir);
  CHECK(system(cmd) == 0);
  clash_refused();
  partial_failure();
  CHECK(ferry_start_vm(c, "t") == 0);
  clash_refused();
  CHECK(state() == FERRY_POWER_STATE_RUNNING); /* un-paused after failing */
  CHECK(state() == FERRY_POWER_STATE_RUNNING);

  /* s1: 0x11 on both disks; s2 (with RAM): 0x22; then 0x33. */
  struct ferry_domain_snapshot s;
  ferry_domain_snapshot_init(&s);
  write_pattern(vm.uuid, "vda", 0x11);
  write_pattern(vm.uuid, "vdb", 0x11);
  struct ferry_snapshot_spec s1 = { sizeof s1, "s1", "first", 0 };
  CHECK(ferry_snapshot_create(c, "t", &s1, &s) == 0);
  CHECK(s.running && s.n_disks == 2 && !s.parent);
  ferry_domain_snapshot_dispose(&s);
  CHECK(ferry_snapshot_create(c, "t", &s1, NULL) == -EEXIST);
  write_pattern(vm.uuid, "vda", 0x22);
  write_pattern(vm.uuid, "vdb", 0x22);
  struct ferry_snapshot_spec s2 = { sizeof s2, "s2", NULL, FERRY_SNAPSHOT_MEMORY };
  CHECK(ferry_snapshot_create(c, "t", &s2, &s) == 0);
  CHECK(!strcmp(s.parent, "s1") && s.memory && *s.memory);
  ferry_domain_snapshot_dispose(&s);
  CHECK(state() == FERRY_POWER_STATE_RUNNING);
  write_pattern(vm.uuid, "vda", 0x33);

  struct ferry_domain_snapshot *list;
  size_t n;
  CHECK(ferry_snapshot_list(c, "t", &list, &n) == 0 && n == 2);
  ferry_domain_snapshot_list_free(list, n);
  char *cur;
  CHECK(ferry_snapshot_current(c, "t", &cur) == 0 && !strcmp(cur, "s2"));
  free(cur);

  /* A running VM is not reverted without FORCE. */
  CHECK(ferry_snapshot_revert(c, "t", "s1", 0) == -EBUSY);
  CHECK(ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE) == 0);
  CHECK(state() == FERRY_POWER_STATE_STOPPED);
  CHECK(first_byte("t-vda.qcow2", NULL) == 0x33);
  CHECK(first_byte("t-vda.qcow2", "s1") == 0x11);
  CHECK(first_byte("t-vdb.qcow2", "s1") == 0x11);
  CHECK(first_byte("t-vdb.qcow2", "s2") == 0x22);

  /* RAM snapshot: back running, with s2's disks. */
  CHECK(ferry_snapshot_revert(c, "t", "s2", 0) == 0);
  CHECK(state() == FERRY_POWER_STATE_RUNNING);
  CHECK(ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE) == 0);
  CHECK(first_byte("t-vda.qcow2", NULL) == 0x22);

  /* Deleting s1, the parent of s2: s2 stays valid and becomes a root. */
  CHECK(ferry_snapshot_delete(c, "t", "s1") == 0);
  CHECK(ferry_snapshot_get(c, "t", "s2", &s) == 0 && !s.parent);
  ferry_domain_snapshot_dispose(&s);
  CHECK(ferry_snapshot_revert(c, "t", "s2", FERRY_REVERT_FORCE) == 0);
  CHECK(ferry_snapshot_delete(c, "t", "s2") == 0); /* while it runs */
  CHECK(ferry_snapshot_list(c, "t", &list, &n) == 0 && n == 0);
  free(list);
  CHECK(ferry_snapshot_current(c, "t", &cur) == 0 && cur == NULL);

  /* External: an overlay offline, another live, revert, delete both. */
  CHECK(ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE) == 0);
  struct ferry_snapshot_spec x1 = { sizeof x1, "x1", NULL, FERRY_SNAPSHOT_EXTERNAL };
  struct ferry_snapshot_spec x2 = { sizeof x2, "x2", NULL, FERRY_SNAPSHOT_EXTERNAL };
  CHECK(ferry_snapshot_create(c, "t", &x1, NULL) == 0);
  CHECK(ferry_start_vm(c, "t") == 0);
  write_pattern(vm.uuid, "vda", 0x44);
  CHECK(ferry_snapshot_create(c, "t", &x2, &s) == 0);
  CHECK(s.kind == FERRY_SNAPSHOT_KIND_EXTERNAL && !strcmp(s.parent, "x1"));
  ferry_domain_snapshot_dispose(&s);
  write_pattern(vm.uuid, "vda", 0x55);
  write_at(vm.uuid, "vda", 0x66, 1 << 20);
  struct ferry_snapshot_spec x3 = { sizeof x3, "x3", NULL, FERRY_SNAPSHOT_EXTERNAL };
  CHECK(ferry_snapshot_create(c, "t", &x3, NULL) == 0);
  CHECK(ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE) == 0);
  CHECK(first_byte(active_volume(), NULL) == 0x55);

  /* Changed areas, from the bitmaps: exactly what was written between. */
  CHECK(!strcmp(changes("vda", "x1", "x2"), "0+65536"));
  CHECK(!strcmp(changes("vda", "x2", "x3"), "0+65536,1048576+65536"));
  CHECK(!strcmp(changes("vda", "x1", "x3"), "0+65536,1048576+65536"));
  CHECK(!strcmp(changes("vdb", "x1", "x3"), "")); /* untouched */
  CHECK(!strcmp(changes("vda", "*", "x2"), "0+65536")); /* allocated */
  struct ferry_changed_areas ch;
  CHECK(ferry_query_snapshot_changes(c, "t", "vda", "x3", "x1", &ch) ==
        -EINVAL); /* not an ancestor */
  CHECK(ferry_query_snapshot_changes(c, "t", "vdz", "x1", "x2", &ch) ==
        -ENOENT);
  CHECK(ferry_snapshot_delete(c, "t", "x3") == 0);
  CHECK(ferry_snapshot_revert(c, "t", "x1", 0) == 0);
  CHECK(first_byte(active_volume(), NULL) == 0x22); /* what s2 left */
  CHECK(ferry_snapshot_revert(c, "t", "x2", 0) == 0);
  CHECK(first_byte(active_volume(), NULL) == 0x44);
  CHECK(ferry_start_vm(c, "t") == 0);
  struct ferry_snapshot_spec x4 = { sizeof x4, "x4", NULL, FERRY_SNAPSHOT_EXTERNAL };
  CHECK(ferry_snapshot_create(c, "t", &x4, NULL) == 0);
  /* x2 lies under x4 while the VM runs, but the reverts above left two
   * overlays on its image: a commit into it would break the other branch,
   * so it is refused until the VM stops. */
  CHECK(ferry_snapshot_delete(c, "t", "x2") == -EBUSY);
  CHECK_HAS(ferry_last_error(), "other layers stand on");
  CHECK(ferry_snapshot_delete(c, "t", "x4") == 0); /* live, on top: stream */
  CHECK(ferry_snapshot_delete(c, "t", "x2") == 0); /* live, now on top */
  CHECK(ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE) == 0);
  CHECK(ferry_snapshot_delete(c, "t", "x1") == 0); /* offline: rebase */
  CHECK(first_byte(active_volume(), NULL) == 0x44);
  CHECK(ferry_start_vm(c, "t") == 0);

  CHECK(ferry_delete_vm(c, "t") == -EBUSY);
  CHECK(ferry_stop_vm(c, "t", 0, FERRY_STOP_FORCE) == 0);
  CHECK(ferry_delete_vm(c, "t") == 0);
  CHECK(ferry_get_vm(c, "t", &vm) == -ENOENT);
  ferry_vm_dispose(&vm);
  ferry_vm_dispose(&spec);
  return 0;
}
