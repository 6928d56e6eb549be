/* Layers: STORE/layers/<hex of diff_id>/{diff/,layer.json}, created by extracting a verified blob into a
 * temp directory under STORE/tmp and renaming it into place (see store/store.h). */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/userns.h"
#include "store/extract.h"
#include "store/store_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define LAYER_JSON_MAX (64 * 1024)

bool
nook_store_layer_exists (struct nook_store *s, const char *diff_id)
{
  nook_err err;
  const char *hex = nook_store_hex (diff_id, "diff_id", &err);
  cleanup_free char *path = NULL;
  struct stat st;

  if (hex == NULL)
    return false;
  path = xasprintf ("layers/%s/diff", hex);
  return fstatat (s->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

char *
nook_store_layer_path (struct nook_store *s, const char *diff_id)
{
  nook_err err;
  const char *hex = nook_store_hex (diff_id, "diff_id", &err);

  if (hex == NULL)
    return NULL;
  return xasprintf ("%s/layers/%s/diff", s->root, hex);
}

/* layer.json of the layer directory DIRFD/NAME. */
static json_t *
read_layer_json (int dirfd, const char *name, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/layer.json", name);
  cleanup_free char *data = NULL;
  json_error_t jerr;
  json_t *j;

  if (nook_read_file_at (dirfd, path, &data, NULL, LAYER_JSON_MAX, err) < 0)
    return NULL;
  j = json_loads (data, 0, &jerr);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      nook_error_input (err, "parse `%s`: %s", path, jerr.text);
      return NULL;
    }
  return j;
}

int64_t
nook_store_layer_size (struct nook_store *s, const char *diff_id)
{
  nook_err err;
  const char *hex = nook_store_hex (diff_id, "diff_id", &err);
  cleanup_free char *name = NULL;
  json_t *j, *size;
  int64_t ret = 0;

  if (hex == NULL)
    return 0;
  name = xasprintf ("layers/%s", hex);
  j = read_layer_json (s->dirfd, name, &err);
  if (j == NULL)
    return 0;
  size = json_object_get (j, "size");
  if (json_is_integer (size) && json_integer_value (size) >= 0)
    ret = json_integer_value (size);
  json_decref (j);
  return ret;
}

/* ---- creation ---- */

struct extract_job
{
  struct nook_store *s;
  const char *tmpname; /* STORE/tmp/TMPNAME: the layer directory being built */
  int blobfd;
  const char *blob_digest, *diff_id;
  struct nook_extract_opts opts;
};

static int
write_layer_json (int layerfd, const char *diff_id, uint64_t size, const char *blob, nook_err *err)
{
  json_t *j = json_pack ("{s:s,s:I,s:s}", "diff_id", diff_id, "size", (json_int_t) size, "blob", blob);
  cleanup_free char *text = j ? json_dumps (j, JSON_COMPACT) : NULL;
  json_decref (j);

  if (text == NULL)
    return nook_error_input (err, "encode layer.json");
  return nook_write_file_atomic (layerfd, "layer.json", text, strlen (text), 0644, true, err);
}

/* Runs as root, or in the user namespace with the sub-id map (rootless): extract, check the diff_id,
 * make the tree durable and record layer.json. */
static int
extract_job_run (void *ud, nook_err *err)
{
  struct extract_job *j = ud;
  struct nook_extract_result res = { 0 };
  cleanup_close int tmpfd = nook_store_subdir (j->s, "tmp", err);
  cleanup_close int layerfd = -1, difffd = -1;

  if (tmpfd < 0)
    return -1;
  layerfd = openat (tmpfd, j->tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (layerfd < 0)
    return nook_error (err, errno, "open `%s`", j->tmpname);
  difffd = openat (layerfd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (difffd < 0)
    return nook_error (err, errno, "open `%s/diff`", j->tmpname);
  if (nook_layer_extract (j->blobfd, difffd, &j->opts, &res, err) < 0)
    return -1;
  if (strcmp (res.diff_id, j->diff_id) != 0)
    return nook_error_input (err, "diff_id mismatch: config says %s, content is %s", j->diff_id, res.diff_id);
  if (syncfs (difffd) < 0)
    return nook_error (err, errno, "syncfs `%s`", j->tmpname);
  if (res.skipped_devices > 0)
    nook_warn ("layer %s: %u device nodes skipped (rootless)", j->diff_id, res.skipped_devices);
  return write_layer_json (layerfd, j->diff_id, res.size, j->blob_digest, err);
}

/* The child wrote layer.json: make sure it describes the layer we asked for. */
static int
check_layer_json (int tmpfd, const char *name, const char *diff_id, nook_err *err)
{
  json_t *j = read_layer_json (tmpfd, name, err);
  const char *got;
  int ret = 0;

  if (j == NULL)
    return -1;
  got = json_string_value (json_object_get (j, "diff_id"));
  if (got == NULL || strcmp (got, diff_id) != 0)
    ret = nook_error_input (err, "diff_id mismatch: config says %s, content is %s", diff_id, got ? got : "?");
  json_decref (j);
  return ret;
}

static int
run_extraction (struct nook_store *s, struct extract_job *j, nook_err *err)
{
  if (!s->rootless)
    return extract_job_run (j, err);
  return nook_userns_run (s->uidmap, s->n_uidmap, s->gidmap, s->n_gidmap, false, extract_job_run, j, err);
}

/* Rename tmp/NAME to layers/HEX.  Returns 1 when another creator got there first (ours is left in tmp). */
static int
install_layer (struct nook_store *s, int tmpfd, const char *name, const char *hex, nook_err *err)
{
  cleanup_close int layersfd = nook_store_subdir (s, "layers", err);

  if (layersfd < 0)
    return -1;
  if (renameat (tmpfd, name, layersfd, hex) < 0)
    {
      if (errno == EEXIST || errno == ENOTEMPTY)
        return 1;
      return nook_error (err, errno, "rename `%s` to layer sha256:%s", name, hex);
    }
  fsync (layersfd);
  return 0;
}

static int
build_layer (struct nook_store *s, struct extract_job *j, int tmpfd, const char *hex, nook_err *err)
{
  cleanup_free char *diff = xasprintf ("%s/diff", j->tmpname);
  struct stat st;

  if (fstat (j->blobfd, &st) < 0)
    return nook_error (err, errno, "stat blob %s", j->blob_digest);
  j->opts.max_bytes = nook_extract_bound ((uint64_t) st.st_size);
  if (mkdirat (tmpfd, diff, 0755) < 0)
    return nook_error (err, errno, "mkdir `%s`", diff);
  if (run_extraction (s, j, err) < 0 || check_layer_json (tmpfd, j->tmpname, j->diff_id, err) < 0)
    return -1;
  return install_layer (s, tmpfd, j->tmpname, hex, err);
}

int
nook_store_layer_create (struct nook_store *s, const char *blob_digest, const char *diff_id, nook_err *err)
{
  const char *hex = nook_store_hex (diff_id, "diff_id", err);
  cleanup_close int blobfd = -1, tmpfd = -1;
  cleanup_free char *name = NULL;
  struct extract_job j = { .s = s, .blob_digest = blob_digest, .diff_id = diff_id };
  char *names[2] = { NULL, NULL };
  nook_err ignored = { 0 };
  int r;

  if (hex == NULL || nook_store_hex (blob_digest, "blob", err) == NULL)
    return -1;
  if (nook_store_layer_exists (s, diff_id))
    return 0;
  blobfd = nook_store_blob_open (s, blob_digest, err);
  tmpfd = blobfd < 0 ? -1 : nook_store_tmp_dir (s, err);
  if (tmpfd < 0)
    return nook_error_prefix (err, "layer %s", blob_digest);
  name = nook_store_tmp_name ("layer", hex);
  if (mkdirat (tmpfd, name, 0755) < 0)
    return nook_error (err, errno, "layer %s: mkdir `%s/tmp/%s`", blob_digest, s->root, name);
  j.tmpname = name;
  j.blobfd = blobfd;
  j.opts.in_userns = s->rootless;
  j.opts.userxattr = s->rootless;
  r = build_layer (s, &j, tmpfd, hex, err);
  if (r == 0)
    return 0;
  names[0] = name;
  if (nook_store_tmp_remove (s, names, &ignored) < 0)
    nook_warn ("layer %s: remove `%s/tmp/%s`: %s", blob_digest, s->root, name, ignored.msg);
  if (r > 0)
    return 0; /* another process created the same layer */
  return nook_error_prefix (err, "layer %s", blob_digest);
}

/* ---- removal ---- */

int
nook_store_layer_detach (struct nook_store *s, const char *hex, char ***names, nook_err *err)
{
  cleanup_close int layersfd = nook_store_subdir (s, "layers", err);
  cleanup_close int tmpfd = layersfd < 0 ? -1 : nook_store_tmp_dir (s, err);
  cleanup_free char *name = NULL;

  if (tmpfd < 0)
    return -1;
  name = nook_store_tmp_name ("rm", hex);
  if (renameat (layersfd, hex, tmpfd, name) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return nook_error (err, errno, "rename layer sha256:%s to `tmp/%s`", hex, name);
    }
  strv_add (names, name);
  return 1;
}

int
nook_store_layer_remove (struct nook_store *s, const char *diff_id, nook_err *err)
{
  const char *hex = nook_store_hex (diff_id, "diff_id", err);
  cleanup_strv char **names = NULL;

  if (hex == NULL)
    return -1;
  if (nook_store_layer_detach (s, hex, &names, err) < 0 || nook_store_tmp_remove (s, names, err) < 0)
    return nook_error_prefix (err, "remove layer %s", diff_id);
  return 0;
}
