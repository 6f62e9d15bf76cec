/* Internal: libnbd, loaded with dlopen on first use (core/dynlib.h): a
 * sync between files never pays for libnbd and what it pulls in (gnutls,
 * libxml2, ICU), about 30 ms of every cold start. Including this header
 * routes every nbd_* call below through the loaded table. */
#ifndef FERRY_NBD_LIB_H
#define FERRY_NBD_LIB_H

#include <libnbd.h>

#include "../core/dynlib.h"

#define NBD_LIB_FUNCS(X)                                                      \
  X(nbd_add_meta_context) X(nbd_aio_get_direction) X(nbd_aio_get_fd)          \
  X(nbd_aio_in_flight) X(nbd_aio_is_closed) X(nbd_aio_is_dead)                \
  X(nbd_aio_flush) X(nbd_aio_notify_read) X(nbd_aio_notify_write)            \
  X(nbd_aio_pread) X(nbd_aio_pwrite) X(nbd_aio_zero) X(nbd_block_status) X(nbd_can_flush)      \
  X(nbd_can_meta_context) X(nbd_can_multi_conn) X(nbd_can_zero)               \
  X(nbd_close) X(nbd_connect_systemd_socket_activation) X(nbd_connect_tcp)    \
  X(nbd_connect_unix) X(nbd_create) X(nbd_flush) X(nbd_get_block_size)          \
  X(nbd_get_errno) X(nbd_get_error) X(nbd_get_size) X(nbd_is_read_only) X(nbd_pread)           \
  X(nbd_pwrite) X(nbd_set_export_name) X(nbd_zero)

DYNLIB_DECLARE(nbd, NBD_LIB_FUNCS)

#ifndef NBD_LIB_NO_REDIRECT
#define NBD_LIB_REDIRECT(f) (nbd_lib()->f)
#define nbd_add_meta_context NBD_LIB_REDIRECT(nbd_add_meta_context)
#define nbd_aio_flush NBD_LIB_REDIRECT(nbd_aio_flush)
#define nbd_aio_get_direction NBD_LIB_REDIRECT(nbd_aio_get_direction)
#define nbd_aio_get_fd NBD_LIB_REDIRECT(nbd_aio_get_fd)
#define nbd_aio_in_flight NBD_LIB_REDIRECT(nbd_aio_in_flight)
#define nbd_aio_is_closed NBD_LIB_REDIRECT(nbd_aio_is_closed)
#define nbd_aio_is_dead NBD_LIB_REDIRECT(nbd_aio_is_dead)
#define nbd_aio_notify_read NBD_LIB_REDIRECT(nbd_aio_notify_read)
#define nbd_aio_notify_write NBD_LIB_REDIRECT(nbd_aio_notify_write)
#define nbd_aio_pread NBD_LIB_REDIRECT(nbd_aio_pread)
#define nbd_aio_pwrite NBD_LIB_REDIRECT(nbd_aio_pwrite)
#define nbd_aio_zero NBD_LIB_REDIRECT(nbd_aio_zero)
#define nbd_block_status NBD_LIB_REDIRECT(nbd_block_status)
#define nbd_can_flush NBD_LIB_REDIRECT(nbd_can_flush)
#define nbd_can_meta_context NBD_LIB_REDIRECT(nbd_can_meta_context)
#define nbd_can_multi_conn NBD_LIB_REDIRECT(nbd_can_multi_conn)
#define nbd_can_zero NBD_LIB_REDIRECT(nbd_can_zero)
#define nbd_close NBD_LIB_REDIRECT(nbd_close)
#define nbd_connect_systemd_socket_activation \
  NBD_LIB_REDIRECT(nbd_connect_systemd_socket_activation)
#define nbd_connect_tcp NBD_LIB_REDIRECT(nbd_connect_tcp)
#define nbd_connect_unix NBD_LIB_REDIRECT(nbd_connect_unix)
#define nbd_create NBD_LIB_REDIRECT(nbd_create)
#define nbd_flush NBD_LIB_REDIRECT(nbd_flush)
#define nbd_get_block_size NBD_LIB_REDIRECT(nbd_get_block_size)
#define nbd_get_errno NBD_LIB_REDIRECT(nbd_get_errno)
#define nbd_get_error NBD_LIB_REDIRECT(nbd_get_error)
#define nbd_get_size NBD_LIB_REDIRECT(nbd_get_size)
#define nbd_is_read_only NBD_LIB_REDIRECT(nbd_is_read_only)
#define nbd_pread NBD_LIB_REDIRECT(nbd_pread)
#define nbd_pwrite NBD_LIB_REDIRECT(nbd_pwrite)
#define nbd_set_export_name NBD_LIB_REDIRECT(nbd_set_export_name)
#define nbd_zero NBD_LIB_REDIRECT(nbd_zero)
#endif

#endif
