/* Helpers shared by store.c, layers.c and images.c (not part of the store's contract). */
#ifndef NOOK_STORE_STORE_INTERNAL_H
#define NOOK_STORE_STORE_INTERNAL_H

#include "store/store.h"

/* The 64-hex part of a validated "sha256:<hex>" DIGEST; NULL with an input error naming WHAT. */
const char *nook_store_hex (const char *digest, const char *what, nook_err *err);
/* O_DIRECTORY fd of STORE/SUB ("tmp", "layers", "blobs/sha256"). */
int nook_store_subdir (struct nook_store *s, const char *sub, nook_err *err);
/* A fresh temp name "KIND-HEX-PID-RANDOM" (allocated); the pid lets gc spot dead owners. */
char *nook_store_tmp_name (const char *kind, const char *hex);
/* The owner pid encoded in a temp name, or 0 when the name carries none. */
pid_t nook_store_tmp_pid (const char *name);
/* rm -rf each of NAMES (NULL-terminated) inside STORE/tmp; rootless stores do it in the user namespace
 * (files owned by sub-ids). */
int nook_store_tmp_remove (struct nook_store *s, char *const *names, nook_err *err);
/* Rename layers/HEX to a temp name (collected in *NAMES, a growing strv) without removing it yet.
 * Returns 1 when moved, 0 when the layer does not exist. */
int nook_store_layer_detach (struct nook_store *s, const char *hex, char ***names, nook_err *err);

#endif
