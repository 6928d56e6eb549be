/* Helpers shared by save, load and import (see archive_internal.h). */
#include "image/archive_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/archive_lib.h"
#include "util/digest.h"
#include "store/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* ---- temp files -------------------------------------------------------------------------------- */

static uint64_t
tmp_random (void)
{
  uint64_t r = 0;
  struct timespec ts;

  if (getrandom (&r, sizeof r, GRND_NONBLOCK) == sizeof r)
    return r;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ((uint64_t) ts.tv_sec << 30) ^ (uint64_t) ts.tv_nsec ^ ((uint64_t) getpid () << 16);
}

int
arch_tmp_create (int dirfd, const char *prefix, bool dir, char *name, nook_err *err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      int fd;

      /* "PREFIX-PID-RANDOM": the store's gc keeps temp entries whose owner is alive. */
      snprintf (name, 64, "%s-%d-%08x", prefix, (int) getpid (), (unsigned) tmp_random ());
      if (!dir)
        fd = openat (dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      else if (mkdirat (dirfd, name, 0700) < 0)
        fd = -1;
      else
        {
          fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            {
              int saved = errno;
              unlinkat (dirfd, name, AT_REMOVEDIR);
              errno = saved;
            }
        }
      if (fd >= 0)
        return fd;
      if (errno != EEXIST)
        return nook_error (err, errno, "create temp %s `%s`", dir ? "directory" : "file", name);
    }
  return nook_error (err, EEXIST, "create temp %s `%s-*`", dir ? "directory" : "file", prefix);
}

/* ---- copying and hashing ----------------------------------------------------------------------- */

static int
archive_fail (struct archive *a, nook_err *err, const char *what)
{
  int code = archive_errno (a);
  const char *msg = archive_error_string (a);

  nook_error (err, 0, "%s: %s", what, msg ? msg : "unknown libarchive error");
  err->code = code > 0 ? code : EIO;
  return -1;
}

static int
decompress_stream (struct archive *a, int out, struct nook_sha256 *h, uint64_t *size, nook_err *err)
{
  cleanup_free char *buf = xmalloc (ARCH_BUF_SIZE);
  struct archive_entry *e;
  int r = archive_read_next_header (a, &e);

  if (r == ARCHIVE_EOF)
    return nook_error_input (err, "decompress: empty input");
  if (r < ARCHIVE_WARN)
    return archive_fail (a, err, "decompress");
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, ARCH_BUF_SIZE);
      if (n < 0)
        return archive_fail (a, err, "decompress");
      if (n == 0)
        return 0;
      nook_sha256_update (h, buf, n);
      *size += n;
      if (out >= 0 && nook_write_all (out, buf, n) < 0)
        return nook_error (err, errno, "write");
    }
}

int
arch_decompress (int in, int out, char digest[72], uint64_t *size, nook_err *err)
{
  struct archive *a;
  struct nook_sha256 *h;
  int ret;

  if (nook_archive_load (err) < 0)
    return -1;
  a = archive_read_new ();
  h = nook_sha256_new ();
  *size = 0;
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  if (archive_read_open_fd (a, in, ARCH_BUF_SIZE) != ARCHIVE_OK)
    ret = archive_fail (a, err, "decompress");
  else
    ret = decompress_stream (a, out, h, size, err);
  nook_sha256_final (h, digest);
  nook_sha256_free (h);
  archive_read_free (a);
  return ret;
}

enum nook_compression
arch_sniff_compression (int fd)
{
  unsigned char m[4] = { 0 };

  if (pread (fd, m, sizeof m, 0) < 4)
    return NOOK_COMP_NONE;
  if (m[0] == 0x1f && m[1] == 0x8b)
    return NOOK_COMP_GZIP;
  if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    return NOOK_COMP_ZSTD;
  return NOOK_COMP_NONE;
}

/* ---- names and times --------------------------------------------------------------------------- */

char *
arch_normalize_name (const char *name, nook_err *err)
{
  struct nook_ref ref = { 0 };
  char *out;

  if (nook_ref_parse (name, &ref, err) < 0)
    return NULL;
  if (ref.tag == NULL)
    {
      nook_ref_free (&ref);
      nook_error_input (err, "invalid image name `%s`: a name needs a tag, not only a digest", name);
      return NULL;
    }
  out = nook_ref_string (&ref);
  nook_ref_free (&ref);
  return out;
}

char *
arch_now (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%09ldZ", buf, (long) ts.tv_nsec);
}

const char *
arch_hex (const char *d)
{
  return str_has_prefix (d, "sha256:") ? d + 7 : d;
}

/* ---- recording an image ------------------------------------------------------------------------ */

static int
create_layers (struct nook_store *s, char *const *blobs, char *const *diff_ids, int64_t *size, nook_err *err)
{
  *size = 0;
  for (size_t i = 0; blobs[i]; i++)
    {
      if (!nook_store_layer_exists (s, diff_ids[i])
          && nook_store_layer_create (s, blobs[i], diff_ids[i], err) < 0)
        return nook_error_prefix (err, "layer %s", diff_ids[i]);
      *size += nook_store_layer_size (s, diff_ids[i]);
    }
  return 0;
}

int
arch_image_record (struct nook_store *s, const struct arch_image *ai, char **id, nook_err *err)
{
  static char *no_names[] = { NULL };
  struct nook_image_config *cfg = NULL;
  struct nook_image img = { 0 };
  cleanup_free char *now = arch_now ();
  int ret;

  if (nook_image_config_parse (ai->config_data, ai->config_len, &cfg, err) < 0)
    return nook_error_prefix (err, "image config %s", ai->config_digest);
  if (cfg->n_diff_ids != strv_len (ai->blobs))
    {
      nook_image_config_free (cfg);
      return nook_error_input (err, "image config %s: %zu diff_ids for %zu layers", ai->config_digest,
                               cfg->n_diff_ids, strv_len (ai->blobs));
    }
  ret = create_layers (s, ai->blobs, cfg->diff_ids, &img.size, err);
  if (ret == 0)
    {
      img.id = (char *) arch_hex (ai->config_digest);
      img.digest = (char *) ai->manifest_digest;
      img.manifest_type = (char *) ai->manifest_type;
      img.names = ai->names ? (char **) ai->names : no_names;
      img.layers = cfg->diff_ids;
      img.blobs = (char **) ai->blobs;
      img.created = cfg->created ? cfg->created : "";
      img.pulled = now;
      img.os = cfg->platform.os;
      img.arch = cfg->platform.arch;
      img.variant = cfg->platform.variant;
      ret = nook_store_image_put (s, &img, err);
    }
  if (ret == 0 && id)
    *id = xstrdup (img.id);
  nook_image_config_free (cfg);
  return ret;
}

char *
arch_manifest_build (const char *mt, const char *config_mt, const char *config_digest, int64_t config_size,
                     char *const *layer_digests, const int64_t *layer_sizes, const char *const *layer_mts)
{
  json_t *layers = json_array ();
  json_t *doc;
  char *out;

  for (size_t i = 0; layer_digests[i]; i++)
    json_array_append_new (layers, json_pack ("{s:s, s:s, s:I}", "mediaType", layer_mts[i], "digest",
                                              layer_digests[i], "size", (json_int_t) layer_sizes[i]));
  doc = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType", mt, "config",
                   "mediaType", config_mt, "digest", config_digest, "size", (json_int_t) config_size, "layers",
                   layers);
  out = json_dumps (doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (doc);
  if (out == NULL)
    abort (); /* only on out-of-memory, like xmalloc */
  return out;
}
