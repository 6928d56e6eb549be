/* CVE-2019-5736 defence: a container process must never be able to write the runtime binary through
 * /proc/PID/exe.  When the binary is writable by us (always for root), re-execute ourselves from a sealed
 * memfd copy before creating or entering a container. */
#ifndef NOOK_UTIL_SELFEXE_H
#define NOOK_UTIL_SELFEXE_H

#include "util/error.h"

/* Returns 0 when nothing was needed (or we are already the sealed copy); on success of the re-exec it
 * does not return. */
int nook_reexec_sealed (char **argv, nook_err *err);

#endif
