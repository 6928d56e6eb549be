/* File helpers.  Every path that comes from an image, a bundle or a config is opened relative to a
 * directory fd with nook_open_in_root(): openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), or, where the
 * kernel lacks openat2, an equivalent component-by-component walk that resolves symlinks against the
 * root fd itself.  ".." never climbs above the root and absolute symlinks restart at the root. */
#ifndef NOOK_UTIL_FS_H
#define NOOK_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

/* Open PATH (absolute or relative, resolved inside ROOTFD) with open(2) FLAGS (O_CLOEXEC is added).
 * O_CREAT is honoured for the last component only.  Returns the fd or -1 with ERR filled. */
int nook_open_in_root (int rootfd, const char *path, int flags, mode_t mode, nook_err *err);
/* The fallback walk, exported so tests can check it against openat2. */
int nook_open_in_root_walk (int rootfd, const char *path, int flags, mode_t mode, nook_err *err);
/* Force the fallback for the whole process (NOOK_NO_OPENAT2=1 in the environment does the same). */
void nook_fs_force_walk (bool force);

/* Make sure PATH exists inside ROOTFD, creating missing directories (MODE) on the way and, when
 * IS_DIR is false, an empty regular file as the last component.  Returns an O_PATH fd to it: use
 * nook_fd_path() to turn it into a /proc/self/fd/N name for mount(2). */
int nook_ensure_in_root (int rootfd, const char *path, bool is_dir, mode_t mode, nook_err *err);

/* "/proc/self/fd/N" into BUF (at least 32 bytes).  Returns BUF. */
const char *nook_fd_path (int fd, char *buf, size_t len);

/* The bound on a file the user names on the command line (--env-file, --label-file, ...). */
#define NOOK_ARG_FILE_MAX (16u << 20)

/* Whole-file helpers.  Reads stop at MAX bytes (error EFBIG past it); *OUT is NUL-terminated. */
int nook_read_file_at (int dirfd, const char *name, char **out, size_t *len, size_t max, nook_err *err);
int nook_read_fd (int fd, char **out, size_t *len, size_t max, nook_err *err);
/* A file of a rootfs or layer (image-controlled): PATH resolved inside ROOTFD, read only when it is a
 * regular file (a FIFO, device or socket is refused with EINVAL, never opened for reading), opened
 * O_NONBLOCK, at most MAX bytes.  nook_read_regular_fd does the same for an already resolved fd (O_PATH or
 * not).  *OUT is NUL-terminated, *LEN (when LEN) the bytes read, which may include NULs. */
int nook_read_in_root (int rootfd, const char *path, char **out, size_t *len, size_t max, nook_err *err);
int nook_read_regular_fd (int fd, char **out, size_t *len, size_t max, nook_err *err);
/* Write DATA to an existing file (procfs, cgroupfs): open O_WRONLY, one write, close. */
int nook_write_file_at (int dirfd, const char *name, const char *data, size_t len, nook_err *err);
/* Atomically replace NAME in DIRFD: write a temp file, fsync if DURABLE, rename over NAME. */
int nook_write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode, bool durable,
                            nook_err *err);
/* Remove NAME in DIRFD and everything below it; never follows symlinks; ENOENT is not an error. */
int nook_rm_rf_at (int dirfd, const char *name, nook_err *err);
/* mkdir -p of an absolute or relative host path (used for state and store roots only). */
int nook_mkdir_p (const char *path, mode_t mode, nook_err *err);

/* write(2)/read(2) that retry on EINTR and short transfers. */
int nook_write_all (int fd, const void *buf, size_t len);
int nook_read_all (int fd, void *buf, size_t len); /* returns bytes read (< len only at EOF) or -1 */

#endif
