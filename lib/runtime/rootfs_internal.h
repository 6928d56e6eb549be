/* Internals shared by rootfs.c (the sequence, pivot, masking), rootfs_mounts.c (config.json mounts)
 * and devices.c (device nodes and /dev links).  Not a contract for other engineers. */
#ifndef NOOK_RUNTIME_ROOTFS_INTERNAL_H
#define NOOK_RUNTIME_ROOTFS_INTERNAL_H

#include <stdbool.h>

#include "runtime/rootfs.h"
#include "util/error.h"

/* mount(2) flags that are per-mount attributes (what a bind mount needs a remount for). */
#define NOOK_MNT_ATTR_FLAGS                                                                                            \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME            \
   | NOOK_MS_NOSYMFOLLOW)
#define NOOK_MS_NOSYMFOLLOW 256
#define NOOK_MNT_ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

/* rootfs.c */
/* mount(SRC, /proc/self/fd/DSTFD, TYPE, FLAGS, DATA); the error reads
 * "mount `SRC` on `DEST` (type TYPE): ..." (SRC "none" and TYPE "none" when NULL). */
int nook_rootfs_mount_at (const char *src, int dstfd, const char *dest, const char *type, unsigned long flags,
                          const char *data, nook_err *err);
/* Bind SRCFD (an O_PATH fd; SRC names it in errors) onto DSTFD, recursively when REC. */
int nook_rootfs_bind_fd (int srcfd, const char *src, int dstfd, const char *dest, bool rec, nook_err *err);
/* Bind the host path SRC (followed normally: it is the host's) onto DSTFD (recursively when REC). */
int nook_rootfs_bind_host (const char *src, int dstfd, const char *dest, bool rec, nook_err *err);
/* The mount at DEST (resolved in ROOTFD, i.e. the mount that now covers it) gets the per-mount attributes
 * FLAGS (MS_RDONLY, MS_NOSUID, ...) and loses CLEAR: recursively with mount_setattr when REC, else with
 * a bind remount that keeps the flags the kernel locks in a user namespace.  No-op when FLAGS and CLEAR
 * carry no per-mount attribute. */
int nook_rootfs_set_attrs (int rootfd, const char *dest, unsigned long flags, unsigned long clear, bool rec,
                           nook_err *err);
/* mount(NULL, DEST, NULL, PROPAGATION) on the mount covering DEST in ROOTFD.  No-op when 0. */
int nook_rootfs_set_propagation (int rootfd, const char *dest, unsigned long propagation, nook_err *err);
/* statvfs(2) f_flag of FD as MS_* flags (the ones a remount must repeat). */
unsigned long nook_rootfs_fd_mnt_flags (int fd);

/* rootfs_mounts.c */
/* Step 3: the config.json mounts, in order. */
int nook_rootfs_spec_mounts (const struct nook_rootfs_ctx *ctx, int rootfd, nook_err *err);
/* After a recursive propagation change of "/": give each config.json mount its own propagation again
 * (ROOTFD is the new root). */
int nook_rootfs_mounts_propagation (const struct nook_spec *spec, int rootfd, nook_err *err);
/* True when config.json bind-mounts something onto /dev (then nook leaves /dev alone, like runc). */
bool nook_rootfs_dev_is_bound (const struct nook_spec *spec);
/* A tmpfs /dev asked read-only was mounted writable so that devices and mount points could be made in it:
 * make it read-only now. */
int nook_rootfs_dev_readonly (const struct nook_spec *spec, int rootfd, nook_err *err);

/* rootfs_copyup.c */
/* Copy the tree of directory SRC into directory DST (both readable fds); DEST names DST in errors. */
int nook_rootfs_copy_up (int src, int dst, const char *dest, nook_err *err);

/* devices.c */
/* Step 4: linux.devices, the default devices and the /dev links, all inside ROOTFD. */
int nook_rootfs_devices (const struct nook_rootfs_ctx *ctx, int rootfd, nook_err *err);

#endif
