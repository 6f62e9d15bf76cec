/* Thread-local error state, in the manner of libnbd's nbd_get_error(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

#define MSG_MAX 1024

static _Thread_local char last_msg[MSG_MAX];
static _Thread_local int last_errno;

int ferry_error(int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_msg, sizeof last_msg, fmt, ap);
  va_end(ap);
  last_errno = errnum > 0 ? errnum : EIO;
  return -last_errno;
}

int ferry_error_prefix(const char *fmt, ...)
{
  char prefix[MSG_MAX], old[MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, last_msg, sizeof old);
  snprintf(last_msg, sizeof last_msg, "%s%s", prefix, old);
  if (last_errno == 0)
    last_errno = EIO;
  return -last_errno;
}

void ferry_error_clear(void)
{
  last_msg[0] = '\0';
  last_errno = 0;
}

const char *ferry_last_error(void)
{
  return last_errno ? last_msg : NULL;
}

int ferry_last_errno(void)
{
  return last_errno;
}

void error_save(struct saved_error *e)
{
  e->err = last_errno;
  memcpy(e->msg, last_msg, sizeof e->msg);
  e->msg[sizeof e->msg - 1] = '\0';
}

int error_restore(const struct saved_error *e)
{
  if (!e->err)
    return 0;
  memcpy(last_msg, e->msg, sizeof e->msg < sizeof last_msg ? sizeof e->msg
                                                           : sizeof last_msg);
  last_errno = e->err;
  return -last_errno;
}
