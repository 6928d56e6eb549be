/* Offline image transport: `nook save`, `nook load`, `nook import`.
 *
 * save: oci-archive (a tar of an OCI image layout: oci-layout, index.json with the name in
 *       org.opencontainers.image.ref.name, blobs/sha256/...) or docker-archive (docker save's format:
 *       manifest.json with RepoTags, <config hex>.json, <layer>/layer.tar (uncompressed), repositories).
 *       Blobs come from the store exactly as pulled, so digests survive a save/load round trip for OCI.
 * load: either format (detected), every blob verified against its digest, layers extracted through the
 *       store (nook_store_layer_create), the image recorded with its names.  Prints nothing itself.
 * import: a rootfs tarball (optionally compressed) becomes a single-layer image named NAME: the layer
 *       is stored uncompressed (diff_id = blob digest), a minimal config is generated (os/arch of the
 *       host, created now, optional Cmd/Env changes). */
#ifndef NOOK_IMAGE_ARCHIVE_H
#define NOOK_IMAGE_ARCHIVE_H

#include "store/store.h"
#include "util/error.h"

enum nook_archive_format
{
  NOOK_ARCHIVE_OCI,
  NOOK_ARCHIVE_DOCKER,
};

int nook_image_save (struct nook_store *s, const char *name, const char *output, enum nook_archive_format fmt,
                     nook_err *err);
/* *NAMES gets the loaded image names (NULL-terminated, allocated; "sha256:<id>" for an unnamed image). */
int nook_image_load (struct nook_store *s, const char *input, char ***names, nook_err *err);
/* *ID gets the new image ID (allocated).  NAME may be NULL (dangling image). */
int nook_image_import (struct nook_store *s, const char *tarball, const char *name, char **id, nook_err *err);

#endif
