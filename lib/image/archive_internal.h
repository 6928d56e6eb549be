/* Shared by archive_save.c, archive_load.c and archive_import.c: temp files in the store, streaming
 * decompression with hashing, names, and recording an image whose blobs are already in the store. */
#ifndef NOOK_IMAGE_ARCHIVE_INTERNAL_H
#define NOOK_IMAGE_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"
#include "store/store.h"
#include "util/error.h"

/* Docker's uncompressed layer type (docker save / docker load); manifest.c may not know it. */
#define ARCH_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define ARCH_REF_NAME "org.opencontainers.image.ref.name"
#define ARCH_CONTAINERD_NAME "io.containerd.image.name"
#define ARCH_BUF_SIZE (128 * 1024)
#define ARCH_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Create a new file or directory "PREFIX-PID-RANDOM" in DIRFD; NAME (at least 64 bytes) gets its name.
 * Files are opened O_RDWR; directories are returned as O_DIRECTORY fds. */
int arch_tmp_create (int dirfd, const char *prefix, bool dir, char *name, nook_err *err);

/* Copy IN to OUT (OUT may be -1: hash only), hashing into DIGEST and counting SIZE. */
/* Decompress IN (gzip, zstd, xz, bzip2 or none; detected) into OUT (may be -1), hashing the
 * uncompressed stream. */
int arch_decompress (int in, int out, char digest[72], uint64_t *size, nook_err *err);
/* Compression of the data at the start of FD (pread: the offset is kept). */
enum nook_compression arch_sniff_compression (int fd);

/* Normalize NAME ("alpine:3.20" -> "docker.io/library/alpine:3.20").  Allocated. */
char *arch_normalize_name (const char *name, nook_err *err);
/* RFC 3339 UTC with nanoseconds, now.  Allocated. */
char *arch_now (void);
/* "sha256:<hex>" -> "<hex>" (pointer into D). */
const char *arch_hex (const char *d);

/* The image whose manifest, config and layer blobs are already in the store: create the missing layers
 * (nook_store_layer_create) and record it with NAMES (normalized already, may be NULL).  The config is
 * parsed for diff_ids, which must pair with BLOBS.  *ID (optional) gets the image id. */
struct arch_image
{
  const char *manifest_digest;
  const char *manifest_type;
  const char *config_digest;
  const char *config_data;
  size_t config_len;
  char *const *blobs; /* layer blob digests, NULL-terminated */
  char *const *names; /* NULL-terminated or NULL */
};

int arch_image_record (struct nook_store *s, const struct arch_image *ai, char **id, nook_err *err);

/* Serialize a manifest: MT, the config descriptor and layers (digests, sizes and media types parallel). */
char *arch_manifest_build (const char *mt, const char *config_mt, const char *config_digest, int64_t config_size,
                           char *const *layer_digests, const int64_t *layer_sizes, const char *const *layer_mts);

#endif
