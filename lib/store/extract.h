/* Layer extraction: libarchive reads (tar; gzip, zstd or none, auto-detected), nook writes, every
 * operation relative to the layer's directory fd.
 *
 * Refused with a clear error naming the entry: ".." components, absolute paths, hardlinks whose target
 * is outside the layer or missing, whiteouts that name "." / ".." / contain '/', unknown ".wh..wh."
 * markers, entries after the bound on decompressed bytes, non-tar data.  Symlinks are created as they
 * are and never followed while extracting (parents are resolved inside the layer; an existing entry at
 * a path is replaced, not followed).  Nothing from the image is ever executed. */
#ifndef NOOK_STORE_EXTRACT_H
#define NOOK_STORE_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct nook_extract_opts
{
  bool in_userns;        /* rootless: device nodes are skipped (counted), ownership beyond the map fails */
  bool userxattr;        /* opaque marker as user.overlay.opaque (rootless overlay), else trusted.* */
  uint64_t max_bytes;    /* bound on the uncompressed stream; 0: default (see nook_extract_bound) */
};

struct nook_extract_result
{
  char diff_id[72];      /* sha256 of the uncompressed tar stream */
  uint64_t size;         /* uncompressed bytes */
  unsigned skipped_devices;
};

/* Bound for a layer whose compressed size is COMPRESSED: $NOOK_LAYER_MAX_BYTES when set, else
 * max(1 GiB, 200 x COMPRESSED). */
uint64_t nook_extract_bound (uint64_t compressed);

/* Extract the layer read from FD into the empty directory DIRFD. */
int nook_layer_extract (int fd, int dirfd, const struct nook_extract_opts *opts, struct nook_extract_result *res,
                        nook_err *err);

#endif
