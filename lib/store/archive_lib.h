/* libarchive: layer extraction, save/load/import, cp.
 * Loaded with dlopen on first use (see util/dl.h); the function names below are mapped onto the table. */
#ifndef NOOK_STORE_ARCHIVE_LIB_H
#define NOOK_STORE_ARCHIVE_LIB_H

#include <archive.h>
#include <archive_entry.h>

#include "util/error.h"

#define NOOK_ARCHIVE_FUNCS(X) \
  X (archive_bzlib_version) \
  X (archive_entry_atime) \
  X (archive_entry_atime_is_set) \
  X (archive_entry_atime_nsec) \
  X (archive_entry_copy_stat) \
  X (archive_entry_filetype) \
  X (archive_entry_free) \
  X (archive_entry_gid) \
  X (archive_entry_hardlink) \
  X (archive_entry_mtime) \
  X (archive_entry_mtime_nsec) \
  X (archive_entry_new) \
  X (archive_entry_pathname) \
  X (archive_entry_perm) \
  X (archive_entry_rdev) \
  X (archive_entry_set_filetype) \
  X (archive_entry_set_mtime) \
  X (archive_entry_set_pathname) \
  X (archive_entry_set_perm) \
  X (archive_entry_set_size) \
  X (archive_entry_set_symlink) \
  X (archive_entry_size) \
  X (archive_entry_size_is_set) \
  X (archive_entry_symlink) \
  X (archive_entry_uid) \
  X (archive_entry_xattr_next) \
  X (archive_entry_xattr_reset) \
  X (archive_errno) \
  X (archive_error_string) \
  X (archive_liblz4_version) \
  X (archive_liblzma_version) \
  X (archive_libzstd_version) \
  X (archive_read_data) \
  X (archive_read_data_block) \
  X (archive_read_data_into_fd) \
  X (archive_read_free) \
  X (archive_read_new) \
  X (archive_read_next_header) \
  X (archive_read_open) \
  X (archive_read_open_fd) \
  X (archive_read_open_filename) \
  X (archive_read_support_filter_all) \
  X (archive_read_support_filter_bzip2) \
  X (archive_read_support_filter_gzip) \
  X (archive_read_support_filter_lz4) \
  X (archive_read_support_filter_xz) \
  X (archive_read_support_filter_zstd) \
  X (archive_read_support_format_raw) \
  X (archive_read_support_format_tar) \
  X (archive_set_error) \
  X (archive_write_add_filter_none) \
  X (archive_write_close) \
  X (archive_write_data) \
  X (archive_write_free) \
  X (archive_write_header) \
  X (archive_write_new) \
  X (archive_write_open_fd) \
  X (archive_write_set_bytes_in_last_block) \
  X (archive_write_set_format_pax_restricted) \
  X (archive_zlib_version)

struct nook_archive_fns
{
#define NOOK_ARCHIVE_SLOT(f) __typeof__ (f) *f;
  NOOK_ARCHIVE_FUNCS (NOOK_ARCHIVE_SLOT)
#undef NOOK_ARCHIVE_SLOT
};

/* Load libarchive.so.13: 0, or -1 with ERR naming it and its Debian package (libarchive13). */
int nook_archive_load (nook_err *err);
/* The table; loads on first use, stops the process if the library is missing. */
const struct nook_archive_fns *nook_archive_fns (void);

#ifndef NOOK_ARCHIVE_LIB_IMPL
#define archive_bzlib_version (nook_archive_fns ()->archive_bzlib_version)
#define archive_entry_atime (nook_archive_fns ()->archive_entry_atime)
#define archive_entry_atime_is_set (nook_archive_fns ()->archive_entry_atime_is_set)
#define archive_entry_atime_nsec (nook_archive_fns ()->archive_entry_atime_nsec)
#define archive_entry_copy_stat (nook_archive_fns ()->archive_entry_copy_stat)
#define archive_entry_filetype (nook_archive_fns ()->archive_entry_filetype)
#define archive_entry_free (nook_archive_fns ()->archive_entry_free)
#define archive_entry_gid (nook_archive_fns ()->archive_entry_gid)
#define archive_entry_hardlink (nook_archive_fns ()->archive_entry_hardlink)
#define archive_entry_mtime (nook_archive_fns ()->archive_entry_mtime)
#define archive_entry_mtime_nsec (nook_archive_fns ()->archive_entry_mtime_nsec)
#define archive_entry_new (nook_archive_fns ()->archive_entry_new)
#define archive_entry_pathname (nook_archive_fns ()->archive_entry_pathname)
#define archive_entry_perm (nook_archive_fns ()->archive_entry_perm)
#define archive_entry_rdev (nook_archive_fns ()->archive_entry_rdev)
#define archive_entry_set_filetype (nook_archive_fns ()->archive_entry_set_filetype)
#define archive_entry_set_mtime (nook_archive_fns ()->archive_entry_set_mtime)
#define archive_entry_set_pathname (nook_archive_fns ()->archive_entry_set_pathname)
#define archive_entry_set_perm (nook_archive_fns ()->archive_entry_set_perm)
#define archive_entry_set_size (nook_archive_fns ()->archive_entry_set_size)
#define archive_entry_set_symlink (nook_archive_fns ()->archive_entry_set_symlink)
#define archive_entry_size (nook_archive_fns ()->archive_entry_size)
#define archive_entry_size_is_set (nook_archive_fns ()->archive_entry_size_is_set)
#define archive_entry_symlink (nook_archive_fns ()->archive_entry_symlink)
#define archive_entry_uid (nook_archive_fns ()->archive_entry_uid)
#define archive_entry_xattr_next (nook_archive_fns ()->archive_entry_xattr_next)
#define archive_entry_xattr_reset (nook_archive_fns ()->archive_entry_xattr_reset)
#define archive_errno (nook_archive_fns ()->archive_errno)
#define archive_error_string (nook_archive_fns ()->archive_error_string)
#define archive_liblz4_version (nook_archive_fns ()->archive_liblz4_version)
#define archive_liblzma_version (nook_archive_fns ()->archive_liblzma_version)
#define archive_libzstd_version (nook_archive_fns ()->archive_libzstd_version)
#define archive_read_data (nook_archive_fns ()->archive_read_data)
#define archive_read_data_block (nook_archive_fns ()->archive_read_data_block)
#define archive_read_data_into_fd (nook_archive_fns ()->archive_read_data_into_fd)
#define archive_read_free (nook_archive_fns ()->archive_read_free)
#define archive_read_new (nook_archive_fns ()->archive_read_new)
#define archive_read_next_header (nook_archive_fns ()->archive_read_next_header)
#define archive_read_open (nook_archive_fns ()->archive_read_open)
#define archive_read_open_fd (nook_archive_fns ()->archive_read_open_fd)
#define archive_read_open_filename (nook_archive_fns ()->archive_read_open_filename)
#define archive_read_support_filter_all (nook_archive_fns ()->archive_read_support_filter_all)
#define archive_read_support_filter_bzip2 (nook_archive_fns ()->archive_read_support_filter_bzip2)
#define archive_read_support_filter_gzip (nook_archive_fns ()->archive_read_support_filter_gzip)
#define archive_read_support_filter_lz4 (nook_archive_fns ()->archive_read_support_filter_lz4)
#define archive_read_support_filter_xz (nook_archive_fns ()->archive_read_support_filter_xz)
#define archive_read_support_filter_zstd (nook_archive_fns ()->archive_read_support_filter_zstd)
#define archive_read_support_format_raw (nook_archive_fns ()->archive_read_support_format_raw)
#define archive_read_support_format_tar (nook_archive_fns ()->archive_read_support_format_tar)
#define archive_set_error (nook_archive_fns ()->archive_set_error)
#define archive_write_add_filter_none (nook_archive_fns ()->archive_write_add_filter_none)
#define archive_write_close (nook_archive_fns ()->archive_write_close)
#define archive_write_data (nook_archive_fns ()->archive_write_data)
#define archive_write_free (nook_archive_fns ()->archive_write_free)
#define archive_write_header (nook_archive_fns ()->archive_write_header)
#define archive_write_new (nook_archive_fns ()->archive_write_new)
#define archive_write_open_fd (nook_archive_fns ()->archive_write_open_fd)
#define archive_write_set_bytes_in_last_block (nook_archive_fns ()->archive_write_set_bytes_in_last_block)
#define archive_write_set_format_pax_restricted (nook_archive_fns ()->archive_write_set_format_pax_restricted)
#define archive_zlib_version (nook_archive_fns ()->archive_zlib_version)
#endif

#endif
