/* Capabilities of the container process (internal to lib/runtime: process.c calls it). */
#ifndef NOOK_RUNTIME_CAPS_H
#define NOOK_RUNTIME_CAPS_H

#include "runtime/spec.h"
#include "util/error.h"

/* Apply CAPS to the calling thread: drop every capability not in caps->bounding from the bounding set,
 * set effective/permitted/inheritable with capset(2), then clear the ambient set and raise each ambient
 * capability.  Works after a setresuid() to a non-zero uid with PR_SET_KEEPCAPS (the effective set is
 * raised to the permitted one first, so the bounding drop has CAP_SETPCAP).  Capabilities this kernel does
 * not know are ignored.  CAPS == NULL means all sets empty. */
int nook_caps_apply (const struct nook_caps *caps, nook_err *err);

/* The highest capability number of the running kernel. */
int nook_cap_last_cap (void);

#endif
