/* nook save: an image from the store as an oci-archive or a docker-archive tar (see archive.h).
 * Blobs stream from the store's fds into the tar and are re-hashed on the way (a damaged store is an
 * error, never a silently broken archive).  The output appears atomically: temp file + rename. */
#include "image/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/archive_lib.h"
#include "image/archive_internal.h"
#include "util/digest.h"
#include "image/manifest.h"
#include "store/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

struct saver
{
  struct nook_store *s;
  struct archive *a;
  const struct nook_image *img;
  char *name;     /* the full name being saved, NULL when saved by id */
  char **written; /* blob or layer paths already in the tar */
};

/* ---- tar entries ------------------------------------------------------------------------------- */

static int
tar_fail (struct saver *sv, const char *path, nook_err *err)
{
  const char *msg = archive_error_string (sv->a);
  int code = archive_errno (sv->a);

  nook_error (err, 0, "write `%s` to archive: %s", path, msg ? msg : "unknown libarchive error");
  err->code = code > 0 ? code : EIO;
  return -1;
}

static int
put_header (struct saver *sv, const char *path, bool dir, int64_t size, nook_err *err)
{
  struct archive_entry *e = archive_entry_new ();
  int r;

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (e, dir ? 0755 : 0644);
  archive_entry_set_size (e, dir ? 0 : size);
  archive_entry_set_mtime (e, 0, 0); /* reproducible archives: the same image saves to the same bytes */
  r = archive_write_header (sv->a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return tar_fail (sv, path, err);
  return 0;
}

static int
put_bytes (struct saver *sv, const char *path, const char *data, size_t len, nook_err *err)
{
  while (len > 0)
    {
      la_ssize_t n = archive_write_data (sv->a, data, len);
      if (n <= 0)
        return tar_fail (sv, path, err);
      data += n;
      len -= n;
    }
  return 0;
}

static int
put_mem (struct saver *sv, const char *path, const char *data, size_t len, nook_err *err)
{
  if (put_header (sv, path, false, len, err) < 0)
    return -1;
  return put_bytes (sv, path, data, len, err);
}

/* Stream FD (from its current offset to the end, SIZE bytes) into PATH; DIGEST gets its sha256. */
static int
put_fd (struct saver *sv, const char *path, int fd, int64_t size, char digest[72], nook_err *err)
{
  cleanup_free char *buf = xmalloc (ARCH_BUF_SIZE);
  struct nook_sha256 *h = nook_sha256_new ();
  int64_t left = size;
  int ret = put_header (sv, path, false, size, err);

  while (ret == 0 && left > 0)
    {
      ssize_t n = read (fd, buf, left < ARCH_BUF_SIZE ? left : ARCH_BUF_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        ret = nook_error (err, n < 0 ? errno : EIO, "read data for `%s`", path);
      else
        {
          nook_sha256_update (h, buf, n);
          left -= n;
          ret = put_bytes (sv, path, buf, n, err);
        }
    }
  nook_sha256_final (h, digest);
  nook_sha256_free (h);
  return ret;
}

static bool
mark_written (struct saver *sv, const char *key)
{
  size_t n = strv_len (sv->written);

  for (size_t i = 0; i < n; i++)
    if (strcmp (sv->written[i], key) == 0)
      return false;
  sv->written = xrealloc (sv->written, (n + 2) * sizeof (char *));
  sv->written[n] = xstrdup (key);
  sv->written[n + 1] = NULL;
  return true;
}

static int
check_digest (const char *what, const char *want, const char *got, nook_err *err)
{
  if (strcmp (want, got) == 0)
    return 0;
  return nook_error (err, EIO, "%s %s in the store is damaged: content has digest %s", what, want, got);
}

/* ---- oci-archive ------------------------------------------------------------------------------- */

/* blobs/sha256/<hex> from the store, streamed and re-verified. */
static int
put_blob (struct saver *sv, const char *digest, nook_err *err)
{
  cleanup_free char *path = xasprintf ("blobs/sha256/%s", arch_hex (digest));
  cleanup_close int fd = -1;
  struct stat st;
  char got[72];

  if (!mark_written (sv, digest))
    return 0;
  fd = nook_store_blob_open (sv->s, digest, err);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return nook_error (err, errno, "stat blob %s", digest);
  if (put_fd (sv, path, fd, st.st_size, got, err) < 0)
    return -1;
  return check_digest ("blob", digest, got, err);
}

static char *
manifest_media_type (const struct nook_image *img, const char *data, size_t len)
{
  json_t *doc, *mt;
  char *out = NULL;

  if (img->manifest_type && *img->manifest_type)
    return xstrdup (img->manifest_type);
  doc = json_loadb (data, len, 0, NULL);
  mt = json_object_get (doc, "mediaType");
  if (json_is_string (mt))
    out = xstrdup (json_string_value (mt));
  json_decref (doc);
  return out ? out : xstrdup (NOOK_MT_OCI_MANIFEST);
}

/* ref.name carries the tag (as docker and skopeo write it); the containerd annotation the full name. */
static json_t *
index_annotations (const char *name)
{
  struct nook_ref ref = { 0 };
  nook_err ignored = { 0 };
  json_t *ann;

  if (name == NULL || nook_ref_parse (name, &ref, &ignored) < 0)
    return NULL;
  ann = json_pack ("{s:s, s:s}", ARCH_REF_NAME, ref.tag ? ref.tag : "latest", ARCH_CONTAINERD_NAME, name);
  nook_ref_free (&ref);
  return ann;
}

static int
put_index (struct saver *sv, const char *mt, size_t manifest_len, nook_err *err)
{
  json_t *entry = json_pack ("{s:s, s:s, s:I}", "mediaType", mt, "digest", sv->img->digest, "size",
                             (json_int_t) manifest_len);
  json_t *ann = index_annotations (sv->name);
  cleanup_free char *data = NULL;

  if (ann)
    json_object_set_new (entry, "annotations", ann);
  json_t *doc = json_pack ("{s:i, s:[o]}", "schemaVersion", 2, "manifests", entry);
  data = json_dumps (doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (doc);
  return put_mem (sv, "index.json", data, strlen (data), err);
}

static int
save_oci (struct saver *sv, nook_err *err)
{
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  const struct nook_image *img = sv->img;
  cleanup_free char *manifest = NULL;
  cleanup_free char *mt = NULL;
  cleanup_free char *config = xasprintf ("sha256:%s", img->id);
  cleanup_free char *mpath = xasprintf ("blobs/sha256/%s", arch_hex (img->digest));
  size_t len = 0;

  if (nook_store_blob_read (sv->s, img->digest, NOOK_MANIFEST_MAX, &manifest, &len, err) < 0)
    return nook_error_prefix (err, "manifest of image %s", img->id);
  mt = manifest_media_type (img, manifest, len);
  if (put_mem (sv, "oci-layout", layout, strlen (layout), err) < 0
      || put_header (sv, "blobs/", true, 0, err) < 0 || put_header (sv, "blobs/sha256/", true, 0, err) < 0)
    return -1;
  mark_written (sv, img->digest);
  if (put_mem (sv, mpath, manifest, len, err) < 0)
    return -1;
  if (put_blob (sv, config, err) < 0)
    return -1;
  for (size_t i = 0; img->blobs && img->blobs[i]; i++)
    if (put_blob (sv, img->blobs[i], err) < 0)
      return -1;
  return put_index (sv, mt, len, err);
}

/* ---- docker-archive ---------------------------------------------------------------------------- */

/* <diffid hex>/layer.tar: the blob decompressed into an unlinked temp file (the tar header needs the
 * size), checked against the diff_id, then streamed. */
static int
put_layer (struct saver *sv, const char *blob, const char *diff_id, const char *path, nook_err *err)
{
  cleanup_close int tmpfd = nook_store_tmp_dir (sv->s, err);
  cleanup_close int fd = -1, blobfd = -1;
  char name[64], got[72];
  uint64_t size = 0;

  if (tmpfd < 0)
    return -1;
  fd = arch_tmp_create (tmpfd, "save", false, name, err);
  if (fd < 0)
    return -1;
  unlinkat (tmpfd, name, 0);
  blobfd = nook_store_blob_open (sv->s, blob, err);
  if (blobfd < 0)
    return -1;
  if (arch_decompress (blobfd, fd, got, &size, err) < 0)
    return nook_error_prefix (err, "layer blob %s", blob);
  if (check_digest ("layer", diff_id, got, err) < 0)
    return -1;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return nook_error (err, errno, "seek temp file for layer %s", diff_id);
  return put_fd (sv, path, fd, (int64_t) size, got, err);
}

static json_t *
docker_tags (const char *name)
{
  return name ? json_pack ("[s]", name) : json_array ();
}

/* {"<repo>": {"<tag>": "<top layer hex>"}} */
static int
put_repositories (struct saver *sv, const char *top, nook_err *err)
{
  struct nook_ref ref = { 0 };
  nook_err ignored = { 0 };
  cleanup_free char *repo = NULL;
  cleanup_free char *data = NULL;
  json_t *doc;

  if (sv->name == NULL || top == NULL || nook_ref_parse (sv->name, &ref, &ignored) < 0)
    return 0;
  repo = nook_ref_repo (&ref);
  doc = json_pack ("{s:{s:s}}", repo, ref.tag ? ref.tag : "latest", arch_hex (top));
  nook_ref_free (&ref);
  data = json_dumps (doc, JSON_COMPACT);
  json_decref (doc);
  return put_mem (sv, "repositories", data, strlen (data), err);
}

static int
put_docker_layers (struct saver *sv, json_t *paths, nook_err *err)
{
  const struct nook_image *img = sv->img;

  for (size_t i = 0; img->layers && img->layers[i]; i++)
    {
      const char *hex = arch_hex (img->layers[i]);
      cleanup_free char *dir = xasprintf ("%s/", hex);
      cleanup_free char *path = xasprintf ("%s/layer.tar", hex);

      if (img->blobs == NULL || img->blobs[i] == NULL)
        return nook_error_input (err, "image %s: no blob recorded for layer %s", img->id, img->layers[i]);
      json_array_append_new (paths, json_string (path));
      if (!mark_written (sv, path))
        continue;
      if (put_header (sv, dir, true, 0, err) < 0 || put_layer (sv, img->blobs[i], img->layers[i], path, err) < 0)
        return -1;
    }
  return 0;
}

static int
save_docker (struct saver *sv, nook_err *err)
{
  const struct nook_image *img = sv->img;
  cleanup_free char *digest = xasprintf ("sha256:%s", img->id);
  cleanup_free char *cpath = xasprintf ("%s.json", img->id);
  cleanup_free char *config = NULL;
  cleanup_free char *data = NULL;
  json_t *paths = json_array ();
  json_t *doc;
  size_t len = 0, n = strv_len (img->layers);
  int ret;

  if (nook_store_blob_read (sv->s, digest, NOOK_MANIFEST_MAX, &config, &len, err) < 0)
    {
      json_decref (paths);
      return nook_error_prefix (err, "config of image %s", img->id);
    }
  ret = put_mem (sv, cpath, config, len, err);
  if (ret == 0)
    ret = put_docker_layers (sv, paths, err);
  doc = json_pack ("[{s:s, s:o, s:o}]", "Config", cpath, "RepoTags", docker_tags (sv->name), "Layers", paths);
  data = json_dumps (doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (doc);
  if (ret == 0)
    ret = put_mem (sv, "manifest.json", data, strlen (data), err);
  if (ret == 0)
    ret = put_repositories (sv, n ? img->layers[n - 1] : NULL, err);
  return ret;
}

/* ---- output file ------------------------------------------------------------------------------- */

struct output
{
  int dirfd;
  int fd;
  char tmp[64];
  char *base;
};

static int
output_open (const char *path, struct output *o, nook_err *err)
{
  cleanup_free char *d = xstrdup (path);
  cleanup_free char *b = xstrdup (path);

  o->fd = o->dirfd = -1;
  o->base = xstrdup (basename (b));
  if (*o->base == '\0' || strcmp (o->base, ".") == 0 || strcmp (o->base, "..") == 0 || path[strlen (path) - 1] == '/')
    return nook_error_input (err, "output `%s`: not a file name", path);
  o->dirfd = open (dirname (d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (o->dirfd < 0)
    return nook_error (err, errno, "open directory of `%s`", path);
  o->fd = arch_tmp_create (o->dirfd, ".nook-save", false, o->tmp, err);
  if (o->fd < 0)
    return -1;
  fchmod (o->fd, 0644);
  return 0;
}

static int
output_finish (struct output *o, const char *path, bool ok, nook_err *err)
{
  int ret = ok ? 0 : -1;

  if (ok && fsync (o->fd) < 0)
    ret = nook_error (err, errno, "fsync `%s`", path);
  if (ret == 0 && renameat (o->dirfd, o->tmp, o->dirfd, o->base) < 0)
    ret = nook_error (err, errno, "rename temp file to `%s`", path);
  if (ret < 0 && o->fd >= 0)
    unlinkat (o->dirfd, o->tmp, 0);
  if (o->fd >= 0)
    close (o->fd);
  if (o->dirfd >= 0)
    close (o->dirfd);
  free (o->base);
  return ret;
}

/* ---- entry point ------------------------------------------------------------------------------- */

/* The image name NAME stands for, when it is one of the image's names (not an id). */
static char *
matched_name (const struct nook_image *img, const char *name)
{
  nook_err ignored = { 0 };
  cleanup_free char *full = arch_normalize_name (name, &ignored);

  for (size_t i = 0; full && img->names && img->names[i]; i++)
    if (strcmp (img->names[i], full) == 0)
      return steal_pointer (&full);
  return NULL;
}

static int
write_archive (struct saver *sv, int fd, enum nook_archive_format fmt, nook_err *err)
{
  int ret;

  if (nook_archive_load (err) < 0)
    return -1;
  sv->a = archive_write_new ();
  if (archive_write_set_format_pax_restricted (sv->a) != ARCHIVE_OK
      || archive_write_add_filter_none (sv->a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (sv->a, 1) != ARCHIVE_OK
      || archive_write_open_fd (sv->a, fd) != ARCHIVE_OK)
    ret = tar_fail (sv, "(archive)", err);
  else
    ret = fmt == NOOK_ARCHIVE_DOCKER ? save_docker (sv, err) : save_oci (sv, err);
  if (ret == 0 && archive_write_close (sv->a) != ARCHIVE_OK)
    ret = tar_fail (sv, "(end of archive)", err);
  archive_write_free (sv->a);
  sv->a = NULL;
  return ret;
}

/* A destination that exists and is not a regular file (a symlink such as /dev/stdout, a FIFO, a terminal) is
 * written through in place, never replaced by a temp file renamed over it. */
static bool
output_is_file (const char *path)
{
  struct stat st;
  return lstat (path, &st) < 0 || S_ISREG (st.st_mode);
}

static int
write_to_special (struct saver *sv, const char *path, enum nook_archive_format fmt, nook_err *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    return nook_error (err, errno, "open `%s`", path);
  return write_archive (sv, fd, fmt, err);
}

int
nook_image_save (struct nook_store *s, const char *name, const char *output, enum nook_archive_format fmt,
                 nook_err *err)
{
  struct nook_image *img = NULL;
  struct saver sv = { .s = s };
  struct output o = { .fd = -1, .dirfd = -1 };
  int ret;

  if (nook_store_image_find (s, name, &img, err) < 0)
    return -1;
  sv.img = img;
  sv.name = matched_name (img, name);
  if (output == NULL || strcmp (output, "-") == 0)
    ret = write_archive (&sv, STDOUT_FILENO, fmt, err);
  else if (!output_is_file (output))
    ret = write_to_special (&sv, output, fmt, err);
  else
    {
      ret = output_open (output, &o, err);
      if (ret == 0)
        ret = write_archive (&sv, o.fd, fmt, err);
      ret = output_finish (&o, output, ret == 0, err);
    }
  if (ret < 0)
    nook_error_prefix (err, "save image `%s`", name);
  free (sv.name);
  strv_free (sv.written);
  nook_image_free (img);
  return ret;
}
