/* Internal: helper processes (qemu-nbd, qemu-img) die with ferry and can
 * be found again after a crash.
 *
 * A child forked while its thread holds the guard gets PR_SET_PDEATHSIG
 * (SIGKILL) before it runs anything, and exits at once if ferry died
 * before that; so a kill -9 of ferry takes its helpers with it. This works
 * for forks ferry does not make itself (libnbd's systemd socket
 * activation) through a pthread_atfork handler that only acts for a thread
 * holding the guard. The kernel sends the signal when the thread that
 * forked ends, so a helper lives as long as the thread that started it:
 * open and close a volume served by qemu-nbd from one thread.
 *
 * Belt and braces: while a helper log is open, every guarded child writes
 * its PID and start time to it, and child_reap_logged() kills what a
 * dead ferry left (only a process with that PID, that start time and a
 * helper's name: never one that merely reused the PID). */
#ifndef FERRY_CORE_CHILD_H
#define FERRY_CORE_CHILD_H

/* Arms (and disarms) the guard for forks made by this thread; nests. */
void child_guard_begin(void);
void child_guard_end(void);

/* Opens path (created, truncated) as the helper log of this process:
 * returns 1, and the caller closes it with child_log_close (which removes
 * the file: every helper logged is gone by then). One log at a time: while
 * another is open, returns 0 and logs nothing more there. */
int child_log_open(const char *path);
void child_log_close(void);

/* Kills every helper that path lists and that still runs (SIGKILL, then
 * waits up to 10 s for it to go), then removes path. Returns the number
 * killed, or -errno. A missing file is no helper. */
int child_reap_logged(const char *path);

/* When process pid started (clock ticks since boot), 0 when none runs:
 * with the PID, it names a process that no later one can pass for. */
unsigned long long process_start_time(long pid);

#endif
