/* CVE-2019-5736 defence: a container process must never be able to write the runtime binary through
 * /proc/PID/exe (e.g. a container binary `#!/proc/self/exe` makes our final execve run the runtime binary
 * inside the container, where the container can open /proc/PID/exe and write it once we exit).  When the
 * binary is writable by us (always for root), re-execute ourselves, before creating or entering a
 * container, from an image nobody can write:
 *
 *   1. (root; as runc >= 1.2) the binary opened through a private, detached, lower-layers-only overlayfs
 *      of its own directory: no copy, and there is no upper layer to write to, so unlike a read-only bind
 *      mount it cannot be remounted writable (the superblock itself is read-only);
 *   2. else a sealed memfd copy of the image (F_SEAL_WRITE | SHRINK | GROW | SEAL).
 *
 * A binary the caller cannot write (an unprivileged user running a root-owned nook) needs neither. */
#ifndef NOOK_UTIL_SELFEXE_H
#define NOOK_UTIL_SELFEXE_H

#include "util/error.h"

/* Returns 0 when nothing was needed (or we already run from a protected image); on success of the
 * re-exec it does not return. */
int nook_reexec_sealed (char **argv, nook_err *err);

/* Whether /proc/self/exe is a protected image (a sealed memfd or a read-only overlayfs). */
int nook_selfexe_protected (void);

#endif
