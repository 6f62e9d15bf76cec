/* Internal: running helper programs (qemu-img, qemu-system-x86_64). */
#ifndef FERRY_CORE_RUN_H
#define FERRY_CORE_RUN_H

/* Runs argv[0] (looked up in PATH) with stdin from /dev/null and waits.
 * On exit status 0 returns 0 and, if output != NULL, its stdout (malloc'd,
 * NUL-terminated). Otherwise returns -EIO (-ENOENT if it could not be run)
 * with a message holding the command and the last line of its stderr. */
int run_command(char *const argv[], char **output);

#endif
