/* Image manifests, indexes and configs: OCI and Docker schema2.  Pure parsing, no I/O.
 * Size caps and media-type checks live here; an ambiguous document (e.g. both "manifests" and "layers",
 * or a mediaType field that contradicts the Content-Type) is rejected. */
#ifndef NOOK_IMAGE_MANIFEST_H
#define NOOK_IMAGE_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define NOOK_MANIFEST_MAX (4 << 20) /* manifests and configs */

#define NOOK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define NOOK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define NOOK_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define NOOK_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define NOOK_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define NOOK_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define NOOK_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define NOOK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define NOOK_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define NOOK_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define NOOK_MT_DOCKER_FOREIGN_LAYER "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
/* The Accept header value for manifest requests. */
#define NOOK_MANIFEST_ACCEPT                                                                              \
  NOOK_MT_OCI_INDEX ", " NOOK_MT_OCI_MANIFEST ", " NOOK_MT_DOCKER_LIST ", " NOOK_MT_DOCKER_MANIFEST

enum nook_compression
{
  NOOK_COMP_NONE,
  NOOK_COMP_GZIP,
  NOOK_COMP_ZSTD,
};

struct nook_platform
{
  char *os;       /* "linux" */
  char *arch;     /* "amd64", "arm64", ... (GOARCH names) */
  char *variant;  /* "v8", "v7" or NULL */
};

struct nook_descriptor
{
  char *media_type;
  char *digest;   /* validated "sha256:<hex>" */
  int64_t size;   /* >= 0 */
  struct nook_platform platform; /* index entries only (fields NULL otherwise) */
  char **urls;    /* foreign layers: NULL-terminated or NULL */
};

struct nook_manifest
{
  bool is_index;                  /* OCI index or Docker manifest list */
  char *media_type;               /* the effective media type */
  struct nook_descriptor config;  /* manifests only */
  struct nook_descriptor *layers; /* manifests only */
  size_t n_layers;
  struct nook_descriptor *manifests; /* indexes only */
  size_t n_manifests;
  json_t *annotations;            /* object or NULL */
};

/* CONTENT_TYPE is the HTTP Content-Type (may be NULL, or a generic "application/json"). */
int nook_manifest_parse (const char *data, size_t len, const char *content_type, struct nook_manifest **out,
                         nook_err *err);
void nook_manifest_free (struct nook_manifest *m);
/* Pick the entry for WANT (variant optional; "arm64" without variant matches "v8" or none).  Error names
 * the wanted platform and lists the available ones. */
int nook_manifest_select (const struct nook_manifest *index, const struct nook_platform *want,
                          const struct nook_descriptor **out, nook_err *err);
/* Layer media type -> compression; -1 with ERR for an unknown/unsupported layer type. */
int nook_layer_compression (const char *media_type, nook_err *err);

/* "linux/arm64/v8", "arm64" (os linux) -> platform. */
int nook_platform_parse (const char *s, struct nook_platform *out, nook_err *err);
/* The host's platform (linux/amd64, linux/arm64/v8, ...). */
void nook_platform_host (struct nook_platform *out);
void nook_platform_free (struct nook_platform *p);
char *nook_platform_string (const struct nook_platform *p); /* "linux/arm64/v8" */

struct nook_image_config
{
  struct nook_platform platform;
  char **diff_ids;      /* rootfs.diff_ids, validated digests, NULL-terminated */
  size_t n_diff_ids;
  char *created;        /* may be NULL */
  json_t *config;       /* the "config" object (Env, Cmd, Entrypoint, WorkingDir, User, ...) or NULL */
  json_t *raw;          /* whole document */
};

int nook_image_config_parse (const char *data, size_t len, struct nook_image_config **out, nook_err *err);
void nook_image_config_free (struct nook_image_config *c);

#endif
