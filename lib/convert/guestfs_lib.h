/* Internal: libguestfs, loaded with dlopen when a conversion starts
 * (core/dynlib.h). Including this header (conv.h does) routes every
 * libguestfs call below through the loaded table. */
#ifndef FERRY_CONVERT_GUESTFS_LIB_H
#define FERRY_CONVERT_GUESTFS_LIB_H

#include <guestfs.h>

#include "../core/dynlib.h"

#define GUESTFS_LIB_FUNCS(X) \
  X(guestfs_add_drive_opts) X(guestfs_canonical_device_name)                  \
  X(guestfs_case_sensitive_path) X(guestfs_cat) X(guestfs_close)              \
  X(guestfs_command) X(guestfs_cpio_out) X(guestfs_create)                    \
  X(guestfs_download) X(guestfs_exists) X(guestfs_filesize)                   \
  X(guestfs_findfs_label) X(guestfs_findfs_uuid) X(guestfs_inspect_get_arch)  \
  X(guestfs_inspect_get_distro) X(guestfs_inspect_get_major_version)          \
  X(guestfs_inspect_get_minor_version) X(guestfs_inspect_get_mountpoints)     \
  X(guestfs_inspect_get_product_name) X(guestfs_inspect_get_type)             \
  X(guestfs_inspect_get_windows_system_hive)                                  \
  X(guestfs_inspect_get_windows_systemroot) X(guestfs_inspect_os)             \
  X(guestfs_is_dir) X(guestfs_is_file) X(guestfs_last_errno)                  \
  X(guestfs_last_error) X(guestfs_launch) X(guestfs_list_filesystems)         \
  X(guestfs_ln) X(guestfs_ls) X(guestfs_mkdir_p) X(guestfs_mount)             \
  X(guestfs_mount_ro) X(guestfs_pop_error_handler)                            \
  X(guestfs_push_error_handler) X(guestfs_realpath) X(guestfs_rm_rf)          \
  X(guestfs_set_backend) X(guestfs_set_backend_setting)                       \
  X(guestfs_set_error_handler) X(guestfs_set_smp) X(guestfs_shutdown)         \
  X(guestfs_umount_all) X(guestfs_upload) X(guestfs_upload_offset)            \
  X(guestfs_vfs_uuid) X(guestfs_write) X(guestfs_write_append)

DYNLIB_DECLARE(guestfs, GUESTFS_LIB_FUNCS)

#ifndef GUESTFS_LIB_NO_REDIRECT
#define GUESTFS_LIB(f) (guestfs_lib()->f)
#define guestfs_add_drive_opts GUESTFS_LIB(guestfs_add_drive_opts)
#define guestfs_canonical_device_name GUESTFS_LIB(guestfs_canonical_device_name)
#define guestfs_case_sensitive_path GUESTFS_LIB(guestfs_case_sensitive_path)
#define guestfs_cat GUESTFS_LIB(guestfs_cat)
#define guestfs_close GUESTFS_LIB(guestfs_close)
#define guestfs_command GUESTFS_LIB(guestfs_command)
#define guestfs_cpio_out GUESTFS_LIB(guestfs_cpio_out)
#define guestfs_create GUESTFS_LIB(guestfs_create)
#define guestfs_download GUESTFS_LIB(guestfs_download)
#define guestfs_exists GUESTFS_LIB(guestfs_exists)
#define guestfs_filesize GUESTFS_LIB(guestfs_filesize)
#define guestfs_findfs_label GUESTFS_LIB(guestfs_findfs_label)
#define guestfs_findfs_uuid GUESTFS_LIB(guestfs_findfs_uuid)
#define guestfs_inspect_get_arch GUESTFS_LIB(guestfs_inspect_get_arch)
#define guestfs_inspect_get_distro GUESTFS_LIB(guestfs_inspect_get_distro)
#define guestfs_inspect_get_major_version \
  GUESTFS_LIB(guestfs_inspect_get_major_version)
#define guestfs_inspect_get_minor_version \
  GUESTFS_LIB(guestfs_inspect_get_minor_version)
#define guestfs_inspect_get_mountpoints \
  GUESTFS_LIB(guestfs_inspect_get_mountpoints)
#define guestfs_inspect_get_product_name \
  GUESTFS_LIB(guestfs_inspect_get_product_name)
#define guestfs_inspect_get_type GUESTFS_LIB(guestfs_inspect_get_type)
#define guestfs_inspect_get_windows_system_hive \
  GUESTFS_LIB(guestfs_inspect_get_windows_system_hive)
#define guestfs_inspect_get_windows_systemroot \
  GUESTFS_LIB(guestfs_inspect_get_windows_systemroot)
#define guestfs_inspect_os GUESTFS_LIB(guestfs_inspect_os)
#define guestfs_is_dir GUESTFS_LIB(guestfs_is_dir)
#define guestfs_is_file GUESTFS_LIB(guestfs_is_file)
#define guestfs_last_errno GUESTFS_LIB(guestfs_last_errno)
#define guestfs_last_error GUESTFS_LIB(guestfs_last_error)
#define guestfs_launch GUESTFS_LIB(guestfs_launch)
#define guestfs_list_filesystems GUESTFS_LIB(guestfs_list_filesystems)
#define guestfs_ln GUESTFS_LIB(guestfs_ln)
#define guestfs_ls GUESTFS_LIB(guestfs_ls)
#define guestfs_mkdir_p GUESTFS_LIB(guestfs_mkdir_p)
#define guestfs_mount GUESTFS_LIB(guestfs_mount)
#define guestfs_mount_ro GUESTFS_LIB(guestfs_mount_ro)
#define guestfs_pop_error_handler GUESTFS_LIB(guestfs_pop_error_handler)
#define guestfs_push_error_handler GUESTFS_LIB(guestfs_push_error_handler)
#define guestfs_realpath GUESTFS_LIB(guestfs_realpath)
#define guestfs_rm_rf GUESTFS_LIB(guestfs_rm_rf)
#define guestfs_set_backend GUESTFS_LIB(guestfs_set_backend)
#define guestfs_set_backend_setting GUESTFS_LIB(guestfs_set_backend_setting)
#define guestfs_set_error_handler GUESTFS_LIB(guestfs_set_error_handler)
#define guestfs_set_smp GUESTFS_LIB(guestfs_set_smp)
#define guestfs_shutdown GUESTFS_LIB(guestfs_shutdown)
#define guestfs_umount_all GUESTFS_LIB(guestfs_umount_all)
#define guestfs_upload GUESTFS_LIB(guestfs_upload)
#define guestfs_upload_offset GUESTFS_LIB(guestfs_upload_offset)
#define guestfs_vfs_uuid GUESTFS_LIB(guestfs_vfs_uuid)
#define guestfs_write GUESTFS_LIB(guestfs_write)
#define guestfs_write_append GUESTFS_LIB(guestfs_write_append)
#endif

#endif
