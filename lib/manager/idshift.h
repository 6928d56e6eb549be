/* Rootless containers whose id maps differ from the store's (`--userns keep-id`, `--uidmap`).
 *
 * The shared layers are owned for the store's maps (0 -> the user, 1.. -> the sub-ids), so under other
 * maps the container would see every file with a shifted owner (e.g. keep-id: a setuid-root `mount`
 * owned by the user).  Like podman's mapped copy of the image, the container's overlay is mounted once in
 * the store's user namespace and every entry is chowned so that it keeps its image owner under the
 * container's maps; overlayfs copies everything up into the container's upper directory, the layers stay
 * shared and untouched.  Setuid/setgid bits survive; file capabilities do not (chown drops them). */
#ifndef NOOK_MANAGER_IDSHIFT_H
#define NOOK_MANAGER_IDSHIFT_H

#include <jansson.h>

#include "runtime/overlay.h"
#include "store/store.h"
#include "util/error.h"

/* Shift the rootfs of the container whose overlay is OV (mounted on MERGED, an empty directory, in a
 * private mount namespace) to the maps of SPEC (its config.json: linux.uidMappings/gidMappings).
 * No-op when the store is not rootless, has no sub-id maps, or the maps are the store's. */
int nook_ctr_idshift (struct nook_store *s, const struct nook_overlay *ov, const char *merged, json_t *spec,
                      nook_err *err);

#endif
