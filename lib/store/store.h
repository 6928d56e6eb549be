/* The content store: $NOOK_ROOT / --root, else /var/lib/nook (root) or $XDG_DATA_HOME/nook
 * (~/.local/share/nook) for users.
 *
 *   STORE/lock                      flock: held while images.json (and later containers.json) change
 *   STORE/blobs/sha256/<hex>        verified blobs: manifests, configs, compressed layers as pulled
 *   STORE/tmp/                      downloads in progress (<hex>.partial) and extraction temp dirs
 *   STORE/layers/<hex of diff_id>/  one directory per uncompressed layer, shared by every image:
 *        diff/                      the extracted tree, with overlayfs whiteouts (0/0 char devices) and
 *                                   opaque markers (trusted.overlay.opaque, or user.overlay.opaque when
 *                                   rootless: mount with "userxattr")
 *        layer.json                 {"diff_id", "size", "blob"}
 *   STORE/images.json               the image index (see struct nook_image)
 *
 * Rootless stores hold files owned by the user's sub-ids: everything that creates or deletes inside
 * layers runs in a user namespace carrying the full sub-id map (nook_userns_run).
 * Crash safety: everything is written under tmp/ and renamed into place; a store killed at any point
 * reads fine (leftovers in tmp/ are removed by the next writer holding the lock). */
#ifndef NOOK_STORE_STORE_H
#define NOOK_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "util/error.h"

struct nook_store
{
  char *root;
  int dirfd;                 /* O_DIRECTORY fd of root */
  bool rootless;             /* euid != 0 */
  struct nook_idmap uidmap[2], gidmap[2]; /* rootless: 0 -> uid (1), 1 -> sub-id range */
  size_t n_uidmap, n_gidmap; /* 0 when root or when the user has no sub-ids (then: single mapping) */
};

/* ROOT NULL: the default above.  Creates the directory tree.  Rootless: reads /etc/subuid and
 * /etc/subgid for the caller (by name or uid); no range -> a single-id mapping and a warning when
 * layers need other owners. */
int nook_store_open (const char *root, struct nook_store **out, nook_err *err);
void nook_store_close (struct nook_store *s);
char *nook_store_default_root (void);
/* Exclusive lock on STORE/lock; returns the fd (closing it unlocks). */
int nook_store_lock (struct nook_store *s, nook_err *err);

/* Writers that add blobs and layers before recording an image (pull, load, import) hold this lock
 * shared for their whole run; gc takes it exclusive, so it never removes what a writer has stored but
 * not yet recorded.  Returns the fd (closing it unlocks). */
int nook_store_writer_lock (struct nook_store *s, bool exclusive, nook_err *err);

/* Run FN (UD); when it fails in a rootless store for lack of permission (files owned by sub-ids), run it
 * again as root of a user namespace with the store's id maps. */
int nook_store_as_owner (struct nook_store *s, int (*fn) (void *ud, nook_err *err), void *ud, nook_err *err);

/* ---- blobs ---- */
bool nook_store_blob_exists (struct nook_store *s, const char *digest);
int nook_store_blob_open (struct nook_store *s, const char *digest, nook_err *err); /* O_RDONLY fd */
/* Read a whole blob (at most MAX bytes) and verify its digest. */
int nook_store_blob_read (struct nook_store *s, const char *digest, size_t max, char **data, size_t *len,
                          nook_err *err);
/* Verify DATA against DIGEST and store it (temp + rename). */
int nook_store_blob_put (struct nook_store *s, const char *digest, const void *data, size_t len, nook_err *err);
/* O_DIRECTORY fd of STORE/tmp for downloads; name files "<hex>.partial". */
int nook_store_tmp_dir (struct nook_store *s, nook_err *err);
/* Remove what dead writers left in STORE/tmp (their pid is in the name), and entries untouched for an
 * hour.  Every writer calls it first, so a killed pull leaves nothing that outlives the next one. */
int nook_store_tmp_clean (struct nook_store *s, nook_err *err);
/* Rename a verified download TMPDIRFD/NAME to blobs/sha256/<hex>. */
int nook_store_blob_commit (struct nook_store *s, int tmpdirfd, const char *name, const char *digest, nook_err *err);
int nook_store_blob_remove (struct nook_store *s, const char *digest, nook_err *err);

/* ---- layers ---- */
bool nook_store_layer_exists (struct nook_store *s, const char *diff_id);
/* Extract the (verified) blob BLOB_DIGEST into layers/<diff_id>: decompression auto-detected, the
 * uncompressed digest checked against DIFF_ID, the size bounded (nook_extract_opts), temp + rename.
 * Rootless: runs in the user namespace with the full sub-id map.  Concurrent creators of the same layer
 * both succeed (the loser discards its copy). */
int nook_store_layer_create (struct nook_store *s, const char *blob_digest, const char *diff_id, nook_err *err);
/* "STORE/layers/<hex>/diff".  Allocated. */
char *nook_store_layer_path (struct nook_store *s, const char *diff_id);
int nook_store_layer_remove (struct nook_store *s, const char *diff_id, nook_err *err);
/* Size in bytes recorded at extraction (0 when unknown). */
int64_t nook_store_layer_size (struct nook_store *s, const char *diff_id);

/* ---- images ---- */
struct nook_image
{
  char *id;            /* config digest hex: the image ID */
  char *digest;        /* manifest digest "sha256:..." */
  char *manifest_type; /* manifest media type */
  char **names;        /* "docker.io/library/alpine:latest"; NULL-terminated, may be empty */
  char **layers;       /* diff_ids, base first; NULL-terminated */
  char **blobs;        /* compressed layer blob digests, parallel to layers */
  char *created;       /* image creation time from its config (RFC 3339) or "" */
  char *pulled;        /* when it entered the store */
  char *arch, *os, *variant;
  int64_t size;        /* sum of the uncompressed layer sizes */
};

void nook_image_free (struct nook_image *img);
void nook_images_free (struct nook_image **v, size_t n);
/* podman's `images NAME`: a NAME without tag or digest matches every tag of its repository; a short NAME
 * matches whole path components at the end of a name ("alpine" ~ "docker.io/library/alpine:3.20"). */
bool nook_image_matches_reference (const struct nook_image *img, const char *ref);
/* All images, newest first. */
int nook_store_images (struct nook_store *s, struct nook_image ***out, size_t *n, nook_err *err);
/* Add or update IMG (by id): names merge, and each of IMG's names is removed from any other image (a name
 * points at one image).  Takes the lock. */
int nook_store_image_put (struct nook_store *s, const struct nook_image *img, nook_err *err);
/* Find by name ("alpine", "alpine:3.20", full name, name@digest), full or short (>= 3 hex) id, or
 * "sha256:<id>".  ENOENT error "image not known" (podman's words: "NAME: image not known"). */
int nook_store_image_find (struct nook_store *s, const char *name, struct nook_image **out, nook_err *err);
/* Add NEW_NAME to the image found by NAME. */
int nook_store_image_tag (struct nook_store *s, const char *name, const char *new_name, nook_err *err);
/* Remove a name; when it was the last name (or NAME is an id) remove the image. *REMOVED is true when
 * the image itself went. Does not garbage-collect. */
int nook_store_image_untag_or_remove (struct nook_store *s, const char *name, bool *removed, char **id,
                                      nook_err *err);
/* Remove every layer and blob no image references (KEEP_LAYERS: extra diff_ids in use, e.g. by
 * containers).  Also clears stale tmp/ entries. */
int nook_store_gc (struct nook_store *s, char *const *keep_layers, nook_err *err);

#endif
