/* Test harness for the QMP tests: a private temp dir, a real QEMU started
 * in it and always killed by PID (atexit, a 60 s SIGALRM watchdog, and
 * PR_SET_PDEATHSIG should the test itself crash), and small helpers. */
#ifndef FERRY_TEST_QMP_HARNESS_H
#define FERRY_TEST_QMP_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

/* Creates the temp dir and arms the watchdog. Call first. */
void h_init(const char *test_name);
/* A path inside the temp dir (static storage: one per slot 0..7). */
const char *h_path(int slot, const char *name);
/* Starts qemu-system-x86_64 (TCG, -S, no defaults, QMP on "qmp.sock" in the
 * temp dir) plus extra arguments (NULL-terminated). Returns the socket. */
const char *h_start_qemu(const char *const *extra);
pid_t h_qemu_pid(void);
/* Waits up to timeout_ms for QEMU to exit; its wait status, or -1. */
int h_wait_qemu(int timeout_ms);
/* Runs argv, returns its exit status; *out (if out) gets stdout+stderr. */
int h_run(const char *const *argv, char **out);
int64_t h_now_ms(void);

#endif
