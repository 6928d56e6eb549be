/* The container's filesystem: everything from mount propagation to pivot_root, run by the container's
 * init inside its user and mount namespaces (before it signals "created").
 *
 * Order (nook_rootfs_setup does all of it):
 *   1. make "/" rslave (or linux.rootfsPropagation) recursively, so nothing propagates back to the host;
 *   2. bind-mount the rootfs onto itself (pivot_root needs a mount point) and make its parent private;
 *   3. config.json mounts in order; every destination resolved inside the rootfs (nook_ensure_in_root),
 *      mounted through its /proc/self/fd/N name so a symlink in the image can never redirect it;
 *   4. devices: linux.devices and the default set (null zero full random urandom tty, /dev/ptmx ->
 *      pts/ptmx, /dev/fd, stdin, stdout, stderr links): mknod when we may, else bind-mounted from the host;
 *      an existing symlink at a device path is replaced, never followed;
 *   5. pivot_root(".", ".") + umount2(".", MNT_DETACH) (or, with no_pivot only, MS_MOVE + chroot);
 *   6. linux.maskedPaths, linux.readonlyPaths, root.readonly, then the final propagation of "/".
 * Only in a mount namespace the runtime created: without one the init just chroots into the rootfs. */
#ifndef NOOK_RUNTIME_ROOTFS_H
#define NOOK_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "runtime/spec.h"
#include "util/error.h"

struct nook_rootfs_ctx
{
  const struct nook_spec *spec;
  const char *rootfs;      /* absolute host path of the rootfs directory */
  const char *bundle;      /* absolute host path of the bundle: relative bind sources are resolved
                              against it (NULL: against the current directory) */
  bool userns;             /* we are in a user namespace, ours or the caller's (rootless podman runs us in
                              its own): mknod impossible, locked mount flags */
  bool new_netns;          /* sysfs can be mounted only when we own the network namespace */
  bool new_cgroupns;
  bool no_pivot;
  bool own_mountns;        /* a mount namespace we created: without one, nothing is mounted (chroot only) */
};

int nook_rootfs_setup (const struct nook_rootfs_ctx *ctx, nook_err *err);
/* Before anything is created: a spec without a mount namespace of its own (none listed, or one joined by
 * path) runs chrooted in its rootfs with nothing mounted, since every mount, pivot_root or unmount would
 * change the caller's (or another owner's) mount table.  Refuses what then cannot be honoured safely
 * (maskedPaths, readonlyPaths, root.readonly, rootfsPropagation, --no-pivot, an overlay rootfs); sets
 * *IGNORED to the number of mounts and devices that will not be applied (the caller warns). */
int nook_rootfs_check_shared_mountns (const struct nook_spec *spec, bool no_pivot, bool overlay, size_t *ignored,
                                      nook_err *err);

/* Parsed mount options (pure: unit-tested). */
struct nook_mount_opts
{
  unsigned long flags;       /* MS_* to set (MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ...) */
  unsigned long clear;       /* MS_* explicitly cleared ("rw", "suid", "dev", "exec", ...) */
  unsigned long rec_flags, rec_clear; /* the part of FLAGS / CLEAR asked for recursively ("rro", "rnosuid",
                                         ...): on an rbind, plain "ro" is for the top mount only */
  unsigned long propagation; /* MS_PRIVATE | MS_REC, MS_SLAVE, ... or 0 */
  char *data;                /* the remaining options, comma-joined, for the filesystem; NULL if none */
};
int nook_mount_opts_parse (char *const *options, struct nook_mount_opts *out, nook_err *err);
void nook_mount_opts_free (struct nook_mount_opts *o);

#endif
