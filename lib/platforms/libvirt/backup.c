/* A migration round's point on libvirt (driver.h, round_begin): while the
 * domain runs, a checkpoint made with the pull backup that exports the
 * disks as they were at that moment, over NBD on a unix socket; the
 * backup's incremental bitmap since the previous round's checkpoint gives
 * the changed areas (changes.c). A shut-off domain cannot be backed up nor
 * checkpointed in libvirt 9.0: its round reads the disks as they are,
 * their changes from the previous checkpoint's bitmap in the images.
 *
 * ferry knows its own jobs by their socket: BACKUP_DIR/KEY.sock, KEY a
 * hash of the domain and the round, so that after a crash the job left
 * running is found, and continued when it serves the same round. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../client/client.h"
#include "../../core/clock.h"
#include "../../core/error.h"
#include "../../core/log.h"
#include "../../core/qemu_img.h"
#include "../../core/sbuf.h"
#include "../../core/statefile.h"
#include <libvirt/virterror.h>

#include "lv.h"

/* How long an aborted backup job may take to go. */
#define JOB_END_TIMEOUT_S 60

static int backup_dir(struct ferry_client *fc, char *buf, size_t len)
{
  const struct lv_state *st = LV_STATE(fc);
  if (*st->backup_dir)
    return snprintf(buf, len, "%s", st->backup_dir) < (int)len
               ? 0 : ferry_error(ENAMETOOLONG, "backup_dir is too long");
  char state[4096];
  int r = ferry_state_dir(state, sizeof state);
  if (r == 0 && (size_t)snprintf(buf, len, "%s/libvirt-backups", state) >=
                    len)
    r = ferry_error(ENAMETOOLONG, "the state directory's path is too long");
  return r;
}

/* The socket of round name of vm's domain, and its files' prefix. */
static int round_paths(struct ferry_client *fc, const struct ferry_vm *vm,
                       const char *name, char *sock, size_t len,
                       char *prefix, size_t plen)
{
  char dir[512];
  int r = backup_dir(fc, dir, sizeof dir);
  if (r < 0)
    return r;
  uint64_t h = 1469598103934665603ull; /* FNV-1a of "UUID\nNAME" */
  for (const char *p = vm->uuid; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ '\n') * 1099511628211ull;
  for (const char *p = name; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  snprintf(prefix, plen, "%s/%016" PRIx64, dir, h);
  /* a unix socket's path has 107 bytes at most */
  if ((size_t)snprintf(sock, len, "%s.sock", prefix) >= len ||
      strlen(sock) > 107)
    return ferry_error(ENAMETOOLONG, "the backup socket %s.sock is too long "
                       "for a unix socket (backup_dir= gives a shorter "
                       "directory)", prefix);
  return 0;
}

static bool no_job(void)
{
  const virError *e = virGetLastError();
  return e && e->code == VIR_ERR_NO_DOMAIN_BACKUP;
}

/* The domain's backup job (anyone's), or -ENOENT when none runs. */
static int read_job(virDomainPtr dom, struct lv_job *job)
{
  memset(job, 0, sizeof *job);
  char *text = virDomainBackupGetXMLDesc(dom, 0);
  if (!text && no_job()) {
    virResetLastError();
    return -ENOENT;
  }
  xmlDoc *doc;
  int r = lv_xml_take(text, "backup job", &doc);
  if (r < 0)
    return r;
  const xmlNode *root = xmlDocGetRootElement(doc);
  lv_attr(lv_child(root, "server"), "socket", job->socket,
          sizeof job->socket);
  lv_text(root, "incremental", job->incremental, sizeof job->incremental);
  for (xmlNode *d = lv_child(lv_child(root, "disks"), "disk");
       d && job->n_disks < sizeof job->disks / sizeof *job->disks;
       d = lv_next(d, "disk")) {
    char yes[8];
    if (strcmp(lv_attr(d, "backup", yes, sizeof yes), "yes"))
      continue;
    struct lv_job_disk *jd = &job->disks[job->n_disks++];
    lv_attr(d, "name", jd->name, sizeof jd->name);
    lv_attr(d, "exportname", jd->export, sizeof jd->export);
    lv_attr(d, "exportbitmap", jd->bitmap, sizeof jd->bitmap);
    if (!*jd->export)
      memcpy(jd->export, jd->name, sizeof jd->export);
  }
  xmlFreeDoc(doc);
  return 0;
}

/* Whether a job's socket is in ferry's backup directory. */
static bool is_ours(struct ferry_client *fc, const struct lv_job *job)
{
  char dir[512];
  if (backup_dir(fc, dir, sizeof dir) < 0) {
    ferry_error_clear();
    return false;
  }
  size_t n = strlen(dir);
  return !strncmp(job->socket, dir, n) && job->socket[n] == '/';
}

/* EBUSY when job (the domain's) is not ferry's. */
static int foreign(struct ferry_client *fc, const struct ferry_vm *vm,
                   const struct lv_job *job)
{
  if (is_ours(fc, job))
    return 0;
  return ferry_error(EBUSY, "VM '%s' has a backup job that ferry did not "
                     "begin (its NBD socket is %s); libvirt runs one at a "
                     "time: wait for it, or end it (virsh domjobabort)",
                     vm->name, *job->socket ? job->socket : "not a unix "
                     "socket");
}

int lv_no_foreign_job(struct ferry_client *fc, virDomainPtr dom,
                      const struct ferry_vm *vm)
{
  struct lv_job job;
  int r = read_job(dom, &job);
  return r == -ENOENT ? 0 : r < 0 ? r : foreign(fc, vm, &job);
}

int lv_round_job(struct ferry_client *fc, virDomainPtr dom,
                 const struct ferry_vm *vm, const char *name,
                 struct lv_job *job)
{
  char sock[600], prefix[560];
  int r = round_paths(fc, vm, name, sock, sizeof sock, prefix,
                      sizeof prefix);
  if (r == 0 && (r = read_job(dom, job)) == 0 && strcmp(job->socket, sock))
    r = -ENOENT;
  if (r == -ENOENT)
    r = ferry_error(ENOENT, "no backup of round '%s' runs on VM '%s'", name,
                    vm->name);
  return r;
}

/* Aborts the domain's backup job and waits until it is gone. */
static int end_job(virDomainPtr dom, const struct ferry_vm *vm)
{
  if (virDomainAbortJob(dom) < 0 && !no_job())
    return lv_error("end the backup job of VM '%s'", vm->name);
  virResetLastError();
  struct lv_job job;
  for (int i = 0; i < JOB_END_TIMEOUT_S * 20; i++) {
    int r = read_job(dom, &job);
    if (r == -ENOENT)
      return 0;
    if (r < 0)
      return r;
    nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
  }
  return ferry_error(ETIMEDOUT, "the backup job of VM '%s' did not end "
                     "within %d s", vm->name, JOB_END_TIMEOUT_S);
}

/* The checkpoint name of the domain, NULL (no error) when it has none. */
static virDomainCheckpointPtr checkpoint_of(virDomainPtr dom,
                                            const char *name)
{
  virDomainCheckpointPtr cp =
      name ? virDomainCheckpointLookupByName(dom, name, 0) : NULL;
  virResetLastError();
  return cp;
}

/* The backup's and the checkpoint's XML: every disk of the VM backed up
 * (its scratch file beside the socket) and in the checkpoint; the
 * domain's other disks (CD-ROMs) in neither. */
static int job_xml(virDomainPtr dom, const char *name, const char *since,
                   const char *sock, const char *prefix, struct sbuf *bk,
                   struct sbuf *cp)
{
  xmlDoc *doc;
  int r = lv_xml_take(virDomainGetXMLDesc(dom, 0), virDomainGetName(dom),
                      &doc);
  if (r < 0)
    return r;
  sb_printf(bk, "<domainbackup mode='pull'>");
  if (since) {
    sb_printf(bk, "<incremental>");
    sb_esc(bk, since);
    sb_printf(bk, "</incremental>");
  }
  sb_printf(bk, "<server transport='unix' socket='");
  sb_esc(bk, sock);
  sb_printf(bk, "'/><disks>");
  sb_printf(cp, "<domaincheckpoint><name>");
  sb_esc(cp, name);
  sb_printf(cp, "</name><description>ferry migration round</description>"
                "<disks>");
  const xmlNode *devices = lv_child(xmlDocGetRootElement(doc), "devices");
  for (xmlNode *d = lv_child(devices, "disk"); d; d = lv_next(d, "disk")) {
    char dev[64], device[32];
    lv_attr(lv_child(d, "target"), "dev", dev, sizeof dev);
    lv_attr(d, "device", device, sizeof device);
    bool take = !*device || !strcmp(device, "disk");
    if (take) {
      sb_printf(bk, "<disk name='");
      sb_esc(bk, dev);
      sb_printf(bk, "' backup='yes' type='file'><scratch file='");
      sb_esc(bk, prefix);
      sb_printf(bk, "-");
      sb_esc(bk, dev);
      sb_printf(bk, ".scratch'/></disk>");
    } else {
      sb_printf(bk, "<disk name='");
      sb_esc(bk, dev);
      sb_printf(bk, "' backup='no'/>");
    }
    sb_printf(cp, "<disk name='");
    sb_esc(cp, dev);
    sb_printf(cp, "' checkpoint='%s'/>", take ? "bitmap" : "no");
  }
  sb_printf(bk, "</disks></domainbackup>");
  sb_printf(cp, "</disks></domaincheckpoint>");
  xmlFreeDoc(doc);
  return bk->failed || cp->failed ? ferry_error(ENOMEM, "out of memory") : 0;
}

/* Removes files an ended job of this round may have left. */
static void remove_leftovers(const struct ferry_vm *vm, const char *sock,
                             const char *prefix)
{
  unlink(sock);
  char path[700];
  for (size_t i = 0; i < vm->n_disks; i++) {
    snprintf(path, sizeof path, "%s-%s.scratch", prefix,
             vm->disks[i].device);
    unlink(path);
  }
}

/* A running domain's round: its job found (kept when it serves this
 * round, ended when it is an older one of ferry's), else begun. */
static int begin_live(struct ferry_client *fc, virDomainPtr dom,
                      const struct ferry_vm *vm, const char *name,
                      const char *since)
{
  char sock[600], prefix[560];
  struct lv_job job;
  int r = round_paths(fc, vm, name, sock, sizeof sock, prefix,
                      sizeof prefix);
  if (r == 0 && (r = read_job(dom, &job)) == 0) {
    if (!strcmp(job.socket, sock)) {
      ferry_log("libvirt", "VM %s: round %s: its backup job runs already "
                "(begun before an interruption): continued", vm->name,
                name);
      return 0;
    }
    if ((r = foreign(fc, vm, &job)) < 0)
      return r;
    ferry_log("libvirt", "VM %s: an earlier backup job of ferry's (%s) "
              "ended", vm->name, job.socket);
    r = end_job(dom, vm);
  } else if (r == -ENOENT) {
    r = 0;
  }
  if (r == 0)
    r = lv_disks_trackable(fc, vm);
  if (r < 0)
    return r;
  /* the round's checkpoint without its job: the moment it kept is gone,
   * so it goes (its bitmap is merged into the one before) and the round
   * begins again */
  virDomainCheckpointPtr stale = checkpoint_of(dom, name);
  if (stale) {
    ferry_log("libvirt", "VM %s: round %s's checkpoint has no backup job "
              "any more: taken again", vm->name, name);
    if (virDomainCheckpointDelete(stale, 0) < 0)
      r = lv_error("delete checkpoint '%s' of VM '%s'", name, vm->name);
    virDomainCheckpointFree(stale);
  }
  virDomainCheckpointPtr prev = checkpoint_of(dom, since);
  bool incremental = prev != NULL;
  if (prev)
    virDomainCheckpointFree(prev);
  else if (since)
    ferry_log("libvirt", "VM %s: no checkpoint '%s': round %s is a full "
              "backup", vm->name, since, name);
  char dir[512];
  if (r == 0 && (r = backup_dir(fc, dir, sizeof dir)) == 0)
    r = statefile_mkdirs(dir);
  struct sbuf bk = { 0 }, cp = { 0 };
  if (r == 0)
    remove_leftovers(vm, sock, prefix);
  if (r == 0 &&
      (r = job_xml(dom, name, incremental ? since : NULL, sock, prefix, &bk,
                   &cp)) == 0) {
    uint64_t t0 = monotonic_ms();
    if (virDomainBackupBegin(dom, bk.s, cp.s, 0) < 0)
      r = lv_error("begin a pull backup of VM '%s'", vm->name);
    else
      ferry_log("libvirt", "VM %s: round %s: pull backup%s%s on %s, begun "
                "in %" PRIu64 " ms", vm->name, name,
                incremental ? " since " : " (full)", incremental ? since : "",
                sock, monotonic_ms() - t0);
  }
  sb_free(&bk);
  sb_free(&cp);
  return r;
}

/* fn on vm's domain when it runs; 0 when it is shut off. */
typedef int live_fn(struct ferry_client *fc, virDomainPtr dom,
                    const struct ferry_vm *vm, const char *name,
                    const char *since);

static int when_running(struct ferry_client *fc, const struct ferry_vm *vm,
                        live_fn *fn, const char *name, const char *since)
{
  virDomainPtr dom;
  int r = lv_lookup(fc, vm->uuid, &dom);
  if (r < 0)
    return r;
  if (virDomainIsActive(dom) == 1)
    r = fn(fc, dom, vm, name, since);
  virDomainFree(dom);
  return r;
}

int lv_round_begin(struct ferry_client *fc, const struct ferry_vm *vm,
                   const char *name, const char *since)
{
  if (vm->power_state == FERRY_POWER_STATE_STOPPED)
    ferry_log("libvirt", "VM %s is shut off: round %s reads its disks as "
              "they are", vm->name, name);
  return when_running(fc, vm, begin_live, name, since);
}

static int has_job(struct ferry_client *fc, virDomainPtr dom,
                   const struct ferry_vm *vm, const char *name,
                   const char *since)
{
  (void)since;
  struct lv_job job;
  return lv_round_job(fc, dom, vm, name, &job);
}

/* Shut off, the disks are the point, as long as it stays so. */
int lv_round_get(struct ferry_client *fc, const struct ferry_vm *vm,
                 const char *name)
{
  return when_running(fc, vm, has_job, name, NULL);
}

/* Ends round name's job when it runs. */
static int end_round_job(struct ferry_client *fc, virDomainPtr dom,
                         const struct ferry_vm *vm, const char *name,
                         const char *since)
{
  (void)since;
  struct lv_job job;
  int r = lv_round_job(fc, dom, vm, name, &job);
  if (r == -ENOENT) {
    ferry_error_clear();
    return 0;
  }
  char sock[600], prefix[560];
  uint64_t t0 = monotonic_ms();
  if (r == 0 && (r = end_job(dom, vm)) == 0 &&
      (r = round_paths(fc, vm, name, sock, sizeof sock, prefix,
                       sizeof prefix)) == 0)
    remove_leftovers(vm, sock, prefix);
  if (r == 0)
    ferry_log("libvirt", "VM %s: round %s: backup job ended in %" PRIu64
              " ms", vm->name, name, monotonic_ms() - t0);
  return r;
}

int lv_round_end(struct ferry_client *fc, const struct ferry_vm *vm,
                 const char *name)
{
  return when_running(fc, vm, end_round_job, name, NULL);
}

/* A shut-off domain's checkpoint, which libvirt 9.0 cannot delete: its
 * bitmaps out of the disks' images (qemu-img), then libvirt's record of
 * it (metadata only). */
static int drop_offline(struct ferry_client *fc, const struct ferry_vm *vm,
                        virDomainCheckpointPtr cp, const char *name)
{
  int r = 0;
  for (size_t i = 0; r == 0 && i < vm->n_disks; i++) {
    char path[4096], fmt[32];
    bool has = false;
    if ((r = lv_disk_image(fc, &vm->disks[i], path, sizeof path, fmt,
                           sizeof fmt)) == 0 &&
        (r = qemu_img_has_bitmap(path, fmt, name, &has)) == 0 && has)
      r = qemu_img_bitmap(path, "--remove", name, 0);
  }
  if (r == 0 && virDomainCheckpointDelete(
                    cp, VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY) < 0)
    r = lv_error("delete checkpoint '%s' of VM '%s'", name, vm->name);
  return r;
}

int lv_round_drop(struct ferry_client *fc, const struct ferry_vm *vm,
                  const char *name)
{
  virDomainPtr dom;
  int r = lv_lookup(fc, vm->uuid, &dom);
  if (r < 0)
    return r;
  bool live = virDomainIsActive(dom) == 1;
  if (live)
    r = end_round_job(fc, dom, vm, name, NULL);
  virDomainCheckpointPtr cp = r == 0 ? checkpoint_of(dom, name) : NULL;
  if (r == 0 && !cp)
    r = ferry_error(ENOENT, "VM '%s' has no checkpoint '%s'", vm->name,
                    name);
  else if (r == 0 && live && virDomainCheckpointDelete(cp, 0) < 0)
    r = lv_error("delete checkpoint '%s' of VM '%s'", name, vm->name);
  else if (r == 0 && !live)
    r = drop_offline(fc, vm, cp, name);
  if (cp)
    virDomainCheckpointFree(cp);
  virDomainFree(dom);
  return r;
}
