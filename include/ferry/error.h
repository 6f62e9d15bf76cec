/* Errors: functions return a negative errno-style code and leave a message
 * with context (which volume, which offset, what the server said) in a
 * thread-local buffer, the way libnbd's nbd_get_error() works. */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* The last error message of this thread, or NULL if none. Valid until the
 * next ferry call in this thread. */
const char *ferry_last_error(void);

/* The errno of the last error of this thread (positive), or 0. */
int ferry_last_errno(void);

#ifdef __cplusplus
}
#endif

#endif
