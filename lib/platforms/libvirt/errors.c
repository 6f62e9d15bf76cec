/* libvirt's errors as ferry's: an errno for what the code means, and
 * libvirt's own message. libvirt's default handler, which prints every
 * error on stderr, is silenced once: the caller gets the message. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <libvirt/virterror.h>

#include "../../core/error.h"
#include "lv.h"

static void quiet(void *opaque, virErrorPtr e)
{
  (void)opaque;
  (void)e;
}

static void silence(void)
{
  virSetErrorFunc(NULL, quiet);
}

void lv_silence_errors(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, silence);
}

static int errno_of(const virError *e)
{
  switch (e ? e->code : VIR_ERR_INTERNAL_ERROR) {
  case VIR_ERR_NO_DOMAIN: case VIR_ERR_NO_DOMAIN_SNAPSHOT:
  case VIR_ERR_NO_NETWORK: case VIR_ERR_NO_STORAGE_POOL:
  case VIR_ERR_NO_STORAGE_VOL: case VIR_ERR_NO_DOMAIN_CHECKPOINT:
  case VIR_ERR_NO_NETWORK_PORT: case VIR_ERR_NO_DOMAIN_BACKUP:
    return ENOENT;
  case VIR_ERR_OPERATION_INVALID: case VIR_ERR_OPERATION_ABORTED:
    return EBUSY; /* the wrong state: running, shut off, a job */
  case VIR_ERR_NO_SUPPORT: case VIR_ERR_OPERATION_UNSUPPORTED:
  case VIR_ERR_ARGUMENT_UNSUPPORTED:
    return ENOTSUP;
  case VIR_ERR_AUTH_FAILED: case VIR_ERR_AUTH_CANCELLED:
  case VIR_ERR_OPERATION_DENIED: case VIR_ERR_ACCESS_DENIED:
    return EACCES;
  case VIR_ERR_NO_CONNECT: case VIR_ERR_RPC:
    return ECONNREFUSED;
  case VIR_ERR_OPERATION_TIMEOUT: case VIR_ERR_AGENT_UNRESPONSIVE:
    return ETIMEDOUT;
  case VIR_ERR_INVALID_ARG: case VIR_ERR_XML_ERROR: case VIR_ERR_XML_DETAIL:
  case VIR_ERR_CONFIG_UNSUPPORTED: case VIR_ERR_INVALID_DOMAIN:
    return EINVAL;
  case VIR_ERR_DOM_EXIST: case VIR_ERR_NETWORK_EXIST:
  case VIR_ERR_STORAGE_VOL_EXIST:
    return EEXIST;
  case VIR_ERR_SYSTEM_ERROR:
    return e->int1 > 0 ? e->int1 : EPROTO;
  default:
    return EPROTO; /* not EIO: the copy engine retries that */
  }
}

int lv_error(const char *fmt, ...)
{
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  const virError *e = virGetLastError();
  return ferry_error(errno_of(e), "%s: %s", what,
                     e && e->message ? e->message : "libvirt failed");
}
