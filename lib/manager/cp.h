/* `nook cp`: copy files between the host and a container, as podman does.
 *
 * One side is CONTAINER:PATH, the other a host path or "-" (a tar stream on stdin / stdout).  The
 * container's root is /proc/<pid>/root while it runs, else its overlay mounted in a private mount
 * namespace.  Every container path is resolved INSIDE the container root (nook_open_in_root: a symlink
 * to "/etc" means the container's /etc, ".." never leaves the root); below the source the tree is walked
 * with O_NOFOLLOW and symlinks are copied as symlinks.  Rootless, the copy runs as root of a user
 * namespace with the container's id maps, so files written into the container belong to the container's
 * root (or keep their ids with ARCHIVE) and files owned by sub-ids can be read. */
#ifndef NOOK_MANAGER_CP_H
#define NOOK_MANAGER_CP_H

#include <jansson.h>
#include <stdbool.h>

#include "manager/lifecycle.h"
#include "runtime/overlay.h"
#include "store/store.h"
#include "util/error.h"

struct nook_cp_opts
{
  bool archive;        /* -a: keep uid/gid (else: container root inside, the caller on the host) */
  bool overwrite;      /* --overwrite: a directory may replace a file and the other way round */
};

/* SRC and DST as given on the command line ("CTR:PATH", a host path, or "-"). */
int nook_ctr_cp (struct nook_mgr *m, const char *src, const char *dst, const struct nook_cp_opts *o,
                 nook_err *err);

/* The overlay of container ID from its RECORD (Nook.layers, top layer first; upper/work in its dir). */
void nook_ctr_overlay (struct nook_store *s, const char *id, json_t *record, struct nook_overlay *ov);

#endif
