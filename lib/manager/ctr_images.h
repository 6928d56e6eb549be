/* What containers hold in the image store: the images they were created from (rmi refuses to remove
 * them without -f, prune skips them) and their layers (kept by the store's gc). */
#ifndef NOOK_MANAGER_CTR_IMAGES_H
#define NOOK_MANAGER_CTR_IMAGES_H

#include <stdbool.h>

#include "store/store.h"
#include "util/error.h"

/* Ids of the containers created from image IMAGE_ID (hex), oldest first; NULL-terminated, allocated. */
int nook_ctr_users_of_image (struct nook_store *s, const char *image_id, char ***ctr_ids, nook_err *err);
/* True when a container uses image IMAGE_ID (errors read as "in use": never remove by mistake). */
bool nook_image_in_use (struct nook_store *s, const char *image_id);
/* The podman error for removing an image in use: EBUSY, exit status 2. */
int nook_err_image_in_use (nook_err *err, const char *ctr_id);
/* nook_store_gc keeping every layer a container uses. */
int nook_store_gc_containers (struct nook_store *s, nook_err *err);

#endif
