/* The container rootfs as an overlay of shared read-only layers and a private upper directory, mounted
 * by the container's init inside its own user and mount namespaces (native rootless overlayfs needs
 * Linux >= 5.11 and "userxattr").  Where overlayfs cannot be mounted: fuse-overlayfs when installed, else
 * the layers are copied into the upper directory once (reflink where the filesystem can) and that is
 * bind-mounted. */
#ifndef NOOK_RUNTIME_OVERLAY_H
#define NOOK_RUNTIME_OVERLAY_H

#include <stdbool.h>

#include "util/error.h"

struct nook_overlay
{
  char *layers_dir;   /* directory the lower names are relative to (keeps the mount data short) */
  char **lowers;      /* relative to layers_dir, TOP layer first; NULL-terminated, at least one */
  char *upper;        /* absolute */
  char *work;         /* absolute, same filesystem as upper */
  bool userxattr;     /* rootless: opaque/whiteout xattrs in the user.* namespace */
};

/* Mount O on TARGET (an existing directory).  Tries overlayfs, then fuse-overlayfs, then the copy. */
int nook_overlay_mount (const struct nook_overlay *o, const char *target, nook_err *err);
/* The copy fallback alone (exposed for tests): materialize the layers into O->upper once (a marker file in
 * O->work records that it was done) applying whiteouts, then bind-mount upper on TARGET. */
int nook_overlay_copy_mount (const struct nook_overlay *o, const char *target, nook_err *err);
void nook_overlay_free (struct nook_overlay *o);

#endif
