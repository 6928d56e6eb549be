/* nook import: a rootfs tarball (plain or compressed) becomes a single-layer image.  The tarball is
 * decompressed into a temp file under STORE/tmp while hashing, so the stored blob is the uncompressed
 * layer and its digest is the diff_id; config and OCI manifest are generated. */
#include "image/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive_internal.h"
#include "util/digest.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* Decompress TARBALL into the store's blobs; DIGEST gets the blob digest (= diff_id), SIZE its size. */
static int
import_blob (struct nook_store *s, const char *tarball, char digest[72], uint64_t *size, nook_err *err)
{
  cleanup_close int in = -1, tmpfd = -1, fd = -1;
  char name[64];
  int ret;

  in = open (tarball, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return nook_error (err, errno, "open `%s`", tarball);
  tmpfd = nook_store_tmp_dir (s, err);
  if (tmpfd < 0)
    return -1;
  fd = arch_tmp_create (tmpfd, "import", false, name, err);
  if (fd < 0)
    return -1;
  ret = arch_decompress (in, fd, digest, size, err);
  if (ret < 0)
    nook_error_prefix (err, "`%s`", tarball);
  else if (!nook_store_blob_exists (s, digest))
    {
      fchmod (fd, 0644); /* blobs are world-readable, as the store writes them */
      ret = nook_store_blob_commit (s, tmpfd, name, digest, err);
      if (ret == 0)
        return 0;
    }
  unlinkat (tmpfd, name, 0);
  return ret;
}

static char *
import_config (const char *diff_id)
{
  struct nook_platform host;
  cleanup_free char *now = arch_now ();
  json_t *doc;
  char *out;

  nook_platform_host (&host);
  doc = json_pack ("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "created", now, "architecture",
                   host.arch, "os", "linux", "config", "Env", ARCH_DEFAULT_PATH, "rootfs", "type", "layers",
                   "diff_ids", diff_id, "history", "created", now, "created_by", "nook import");
  if (host.variant)
    json_object_set_new (doc, "variant", json_string (host.variant));
  out = json_dumps (doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (doc);
  nook_platform_free (&host);
  if (out == NULL)
    abort (); /* out of memory */
  return out;
}

/* Generate and store config and manifest for the layer DIGEST; record the image. */
static int
import_record (struct nook_store *s, const char *digest, uint64_t size, const char *name, char **id, nook_err *err)
{
  cleanup_free char *config = import_config (digest);
  cleanup_free char *manifest = NULL;
  char *blobs[] = { (char *) digest, NULL };
  char *names[] = { (char *) name, NULL };
  const char *mts[] = { NOOK_MT_OCI_LAYER, NULL };
  int64_t sizes[] = { (int64_t) size, 0 };
  char cdigest[72], mdigest[72];

  nook_sha256_digest (config, strlen (config), cdigest);
  manifest = arch_manifest_build (NOOK_MT_OCI_MANIFEST, NOOK_MT_OCI_CONFIG, cdigest, strlen (config), blobs, sizes,
                                  mts);
  nook_sha256_digest (manifest, strlen (manifest), mdigest);
  if (nook_store_blob_put (s, cdigest, config, strlen (config), err) < 0
      || nook_store_blob_put (s, mdigest, manifest, strlen (manifest), err) < 0)
    return -1;
  struct arch_image ai = {
    .manifest_digest = mdigest,
    .manifest_type = NOOK_MT_OCI_MANIFEST,
    .config_digest = cdigest,
    .config_data = config,
    .config_len = strlen (config),
    .blobs = blobs,
    .names = name ? names : NULL,
  };
  return arch_image_record (s, &ai, id, err);
}

int
nook_image_import (struct nook_store *s, const char *tarball, const char *name, char **id, nook_err *err)
{
  cleanup_free char *full = NULL;
  cleanup_close int writer = nook_store_writer_lock (s, false, err);
  char digest[72];
  uint64_t size = 0;

  if (writer < 0)
    return -1;
  if (name && *name)
    {
      full = arch_normalize_name (name, err);
      if (full == NULL)
        return -1;
    }
  if (import_blob (s, tarball, digest, &size, err) < 0 || import_record (s, digest, size, full, id, err) < 0)
    return nook_error_prefix (err, "import `%s`", tarball);
  return 0;
}
