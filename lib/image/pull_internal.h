/* Internal to lib/image/pull*.c: one pull in progress. */
#ifndef NOOK_IMAGE_PULL_INTERNAL_H
#define NOOK_IMAGE_PULL_INTERNAL_H

#include "image/manifest.h"
#include "image/progress.h"
#include "image/pull.h"
#include "store/reference.h"
#include "image/registry.h"

struct pull
{
  struct nook_store *s;
  const struct nook_pull_opts *o;
  struct nook_ref ref;
  struct nook_registry *reg;
  struct nook_progress *progress;
  char *user, *pass;
  char *manifest_data;
  size_t manifest_len;
  char *manifest_type;
  char *manifest_digest;
  struct nook_manifest *manifest;
  struct nook_image_config *config;
  char *config_data;
  size_t config_len;
};

/* Download the layer blobs the store lacks (in parallel, each verified, one downloader per blob across
 * processes), then commit them into the store. */
int nook_pull_fetch_layers (struct pull *p, nook_err *err);
/* Extract the layers the store lacks, in parallel (one process per layer, up to the number of CPUs). */
int nook_pull_extract_layers (struct pull *p, nook_err *err);

#endif
