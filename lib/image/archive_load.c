/* nook load: an oci-archive or docker-archive tar (optionally compressed) into the store.
 *
 * The tar is unpacked into a private directory under STORE/tmp; only the member names an image archive
 * uses are accepted and each gets a file name of our own ("f<N>"), so no path from the archive is ever
 * used on the file system.  Every member is hashed while it is unpacked; blobs are checked against their
 * digests and sizes before anything enters the store, layers are committed by rename and extracted by
 * nook_store_layer_create, and the image is recorded last. */
#include "image/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/archive_lib.h"
#include "image/archive_internal.h"
#include "util/digest.h"
#include "image/manifest.h"
#include "store/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define MAX_MEMBERS 65536

struct member
{
  char *name;      /* archive name (without a leading "./") */
  char local[24];  /* our file name in the unpack directory */
  char digest[72]; /* sha256 of the content */
  uint64_t size;
  bool committed;  /* moved into the store's blobs */
};

struct unpacked
{
  struct nook_store *s;
  int tmpfd;    /* STORE/tmp */
  int dirfd;    /* our directory inside it */
  char dir[64];
  struct member *m;
  size_t n;
};

/* ---- member names ------------------------------------------------------------------------------ */

static bool
is_hex64 (const char *s, size_t len)
{
  if (len != 64)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* One path component of letters, digits, '.', '_' and '-', not starting with '.'. */
static bool
safe_component (const char *s, size_t len)
{
  if (len == 0 || len > 200 || s[0] == '.')
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')
          || s[i] == '.' || s[i] == '_' || s[i] == '-'))
      return false;
  return true;
}

static bool
has_suffix (const char *s, size_t len, const char *suffix)
{
  size_t n = strlen (suffix);
  return len > n && memcmp (s + len - n, suffix, n) == 0;
}

/* The names an image archive uses: oci-layout, index.json, blobs/sha256/<hex>, manifest.json,
 * repositories, <hex>.json, <name>/layer.tar, <name>.tar (also .tar.gz, .tar.zst). */
static bool
accepted_name (const char *name)
{
  static const char *const fixed[] = { "oci-layout", "index.json", "manifest.json", "repositories" };
  const char *slash = strchr (name, '/');
  size_t len = strlen (name);

  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (strcmp (name, fixed[i]) == 0)
      return true;
  if (str_has_prefix (name, "blobs/sha256/"))
    return is_hex64 (name + 13, len - 13);
  if (slash == NULL)
    return (has_suffix (name, len, ".json") && is_hex64 (name, len - 5))
           || ((has_suffix (name, len, ".tar") || has_suffix (name, len, ".tar.gz")
                || has_suffix (name, len, ".tar.zst"))
               && safe_component (name, len));
  return strcmp (slash, "/layer.tar") == 0 && safe_component (name, slash - name);
}

static struct member *
member_find (struct unpacked *u, const char *name)
{
  while (str_has_prefix (name, "./"))
    name += 2;
  for (size_t i = 0; i < u->n; i++)
    if (strcmp (u->m[i].name, name) == 0)
      return &u->m[i];
  return NULL;
}

/* ---- unpacking --------------------------------------------------------------------------------- */

static int
archive_fail (struct archive *a, const char *input, nook_err *err)
{
  const char *msg = archive_error_string (a);
  int code = archive_errno (a);

  nook_error (err, 0, "read archive `%s`: %s", input, msg ? msg : "unknown libarchive error");
  err->code = code > 0 ? code : EIO;
  return -1;
}

static struct member *
member_add (struct unpacked *u, const char *name, nook_err *err)
{
  struct member *m = member_find (u, name);

  if (m) /* a later member of the same name replaces the earlier one, as tar extraction would */
    return m;
  if (u->n >= MAX_MEMBERS)
    {
      nook_error_input (err, "archive has more than %d members", MAX_MEMBERS);
      return NULL;
    }
  u->m = xrealloc (u->m, (u->n + 1) * sizeof *u->m);
  m = &u->m[u->n];
  memset (m, 0, sizeof *m);
  m->name = xstrdup (name);
  snprintf (m->local, sizeof m->local, "f%zu", u->n);
  u->n++;
  return m;
}

static int
unpack_data (struct archive *a, int fd, struct member *m, const char *input, nook_err *err)
{
  cleanup_free char *buf = xmalloc (ARCH_BUF_SIZE);
  struct nook_sha256 *h = nook_sha256_new ();
  int ret = 0;

  m->size = 0;
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, ARCH_BUF_SIZE);
      if (n < 0)
        ret = archive_fail (a, input, err);
      if (n <= 0)
        break;
      nook_sha256_update (h, buf, n);
      m->size += n;
      if (nook_write_all (fd, buf, n) < 0)
        {
          ret = nook_error (err, errno, "write `%s` (member `%s`)", m->local, m->name);
          break;
        }
    }
  nook_sha256_final (h, m->digest);
  nook_sha256_free (h);
  return ret;
}

static int
unpack_entry (struct unpacked *u, struct archive *a, struct archive_entry *e, const char *input, nook_err *err)
{
  const char *name = archive_entry_pathname (e);
  cleanup_close int fd = -1;
  struct member *m;

  while (name && str_has_prefix (name, "./"))
    name += 2;
  if (name == NULL || archive_entry_filetype (e) != AE_IFREG || archive_entry_hardlink (e) != NULL
      || !accepted_name (name))
    {
      if (name && archive_entry_filetype (e) != AE_IFDIR)
        nook_debug ("load: skipping archive member `%s`", name);
      return 0;
    }
  m = member_add (u, name, err);
  if (m == NULL)
    return -1;
  fd = openat (u->dirfd, m->local, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error (err, errno, "create `%s` for member `%s`", m->local, m->name);
  return unpack_data (a, fd, m, input, err);
}

static int
unpack_all (struct unpacked *u, struct archive *a, const char *input, nook_err *err)
{
  for (;;)
    {
      struct archive_entry *e;
      int r = archive_read_next_header (a, &e);

      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        return archive_fail (a, input, err);
      if (unpack_entry (u, a, e, input, err) < 0)
        return -1;
    }
}

static int
unpack (struct unpacked *u, const char *input, nook_err *err)
{
  struct archive *a;
  int ret;

  u->tmpfd = nook_store_tmp_dir (u->s, err);
  if (u->tmpfd < 0)
    return -1;
  u->dirfd = arch_tmp_create (u->tmpfd, "load", true, u->dir, err);
  if (u->dirfd < 0)
    return -1;
  if (nook_archive_load (err) < 0)
    return -1;
  a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, strcmp (input, "-") == 0 ? NULL : input, ARCH_BUF_SIZE) != ARCHIVE_OK)
    ret = archive_fail (a, input, err);
  else
    ret = unpack_all (u, a, input, err);
  archive_read_free (a);
  return ret;
}

static void
unpacked_free (struct unpacked *u)
{
  nook_err ignored = { 0 };

  if (u->dirfd >= 0)
    close (u->dirfd);
  if (u->tmpfd >= 0 && u->dir[0] && nook_rm_rf_at (u->tmpfd, u->dir, &ignored) < 0)
    nook_warn ("remove temp directory `%s`: %s", u->dir, ignored.msg);
  if (u->tmpfd >= 0)
    close (u->tmpfd);
  for (size_t i = 0; i < u->n; i++)
    free (u->m[i].name);
  free (u->m);
}

/* ---- members as blobs -------------------------------------------------------------------------- */

static int
read_member (struct unpacked *u, const struct member *m, char **data, size_t *len, nook_err *err)
{
  if (nook_read_file_at (u->dirfd, m->local, data, len, NOOK_MANIFEST_MAX, err) < 0)
    return nook_error_prefix (err, "archive member `%s`", m->name);
  return 0;
}

static const struct member *
need_member (struct unpacked *u, const char *name, nook_err *err)
{
  const struct member *m = member_find (u, name);

  if (m == NULL)
    nook_error_input (err, "archive has no `%s`", name);
  return m;
}

/* The member holding blob DIGEST, verified: its content must hash to DIGEST and have SIZE bytes (SIZE < 0:
 * not checked). */
static struct member *
blob_member (struct unpacked *u, const char *digest, int64_t size, nook_err *err)
{
  cleanup_free char *name = NULL;
  struct member *m;

  if (!nook_digest_valid (digest))
    {
      nook_error_input (err, "invalid blob digest `%s`", digest);
      return NULL;
    }
  name = xasprintf ("blobs/sha256/%s", arch_hex (digest));
  m = member_find (u, name);
  if (m == NULL)
    nook_error_input (err, "archive has no blob %s", digest);
  else if (strcmp (m->digest, digest) != 0)
    nook_error_input (err, "blob %s: digest mismatch: the archive's content has digest %s", digest, m->digest);
  else if (size >= 0 && (uint64_t) size != m->size)
    nook_error_input (err, "blob %s: size mismatch: %llu bytes, descriptor says %lld", digest,
                      (unsigned long long) m->size, (long long) size);
  else
    return m;
  return NULL;
}

/* Move a verified layer member into the store's blobs (once). */
static int
commit_member (struct unpacked *u, struct member *m, const char *digest, nook_err *err)
{
  if (m->committed || nook_store_blob_exists (u->s, digest))
    return 0;
  if (nook_store_blob_commit (u->s, u->dirfd, m->local, digest, err) < 0)
    return -1;
  m->committed = true;
  return 0;
}

static void
names_add (char ***out, char *const *names, const char *id)
{
  size_t n = strv_len (*out), k = strv_len (names);

  *out = xrealloc (*out, (n + (k ? k : 1) + 1) * sizeof (char *));
  for (size_t i = 0; i < k; i++)
    (*out)[n++] = xstrdup (names[i]);
  if (k == 0)
    (*out)[n++] = xasprintf ("sha256:%s", id);
  (*out)[n] = NULL;
}

/* ---- manifests --------------------------------------------------------------------------------- */

struct desc
{
  const char *mt; /* may be NULL */
  const char *digest;
  int64_t size;
};

static int
parse_desc (json_t *o, const char *what, struct desc *d, nook_err *err)
{
  json_t *mt = json_object_get (o, "mediaType"), *dg = json_object_get (o, "digest");
  json_t *sz = json_object_get (o, "size");

  if (!json_is_object (o))
    return nook_error_input (err, "%s: not a descriptor object", what);
  if (!json_is_string (dg) || !nook_digest_valid (json_string_value (dg)))
    return nook_error_input (err, "%s: invalid or missing `digest`", what);
  if (!json_is_integer (sz) || json_integer_value (sz) < 0)
    return nook_error_input (err, "%s: invalid or missing `size`", what);
  if (mt != NULL && !json_is_string (mt))
    return nook_error_input (err, "%s: `mediaType` must be a string", what);
  d->mt = json_string_value (mt);
  d->digest = json_string_value (dg);
  d->size = json_integer_value (sz);
  return 0;
}

/* An image manifest as this file needs it.  Parsed here rather than by nook_manifest_parse because the
 * manifests nook load writes for docker archives use Docker's uncompressed layer type. */
struct man
{
  json_t *doc;
  const char *mt;
  struct desc config;
  struct desc *layers;
  size_t n_layers;
};

static void
man_free (struct man *m)
{
  json_decref (m->doc);
  free (m->layers);
}

static int
layer_type_ok (const char *mt, const char *what, nook_err *err)
{
  if (mt != NULL && strcmp (mt, ARCH_MT_DOCKER_LAYER) == 0)
    return 0;
  if (nook_layer_compression (mt, err) < 0)
    return nook_error_prefix (err, "%s", what);
  return 0;
}

static int
man_parse (const char *data, size_t len, struct man *m, nook_err *err)
{
  json_t *layers, *v;
  size_t i;

  m->doc = json_loadb (data, len, 0, NULL);
  if (!json_is_object (m->doc))
    return nook_error_input (err, "manifest: not a JSON object");
  if (json_object_get (m->doc, "manifests") != NULL)
    return nook_error_input (err, "manifest: an index where an image manifest was expected");
  m->mt = json_string_value (json_object_get (m->doc, "mediaType"));
  if (parse_desc (json_object_get (m->doc, "config"), "manifest: config", &m->config, err) < 0)
    return -1;
  layers = json_object_get (m->doc, "layers");
  if (!json_is_array (layers))
    return nook_error_input (err, "manifest: `layers` must be an array");
  m->layers = xcalloc (json_array_size (layers) + 1, sizeof *m->layers);
  json_array_foreach (layers, i, v)
    {
      char what[64];

      snprintf (what, sizeof what, "manifest: layers[%zu]", i);
      if (parse_desc (v, what, &m->layers[i], err) < 0 || layer_type_ok (m->layers[i].mt, what, err) < 0)
        return -1;
      m->n_layers++;
    }
  return 0;
}

/* ---- oci-archive ------------------------------------------------------------------------------- */

/* Verify the config and every layer of M against the archive; BLOBS gets the layer digests. */
static int
oci_check_blobs (struct unpacked *u, const struct man *m, struct member **lm, char ***blobs, nook_err *err)
{
  for (size_t i = 0; i < m->n_layers; i++)
    {
      lm[i] = blob_member (u, m->layers[i].digest, m->layers[i].size, err);
      if (lm[i] == NULL)
        return -1;
      strv_push (blobs, xstrdup (m->layers[i].digest));
    }
  return 0;
}

static int
oci_store (struct unpacked *u, const struct desc *md, const struct man *m, struct member **lm,
           const char *mdata, size_t mlen, const char *cdata, size_t clen, nook_err *err)
{
  if (nook_store_blob_put (u->s, md->digest, mdata, mlen, err) < 0
      || nook_store_blob_put (u->s, m->config.digest, cdata, clen, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_layers; i++)
    if (commit_member (u, lm[i], m->layers[i].digest, err) < 0)
      return -1;
  return 0;
}

/* The image manifest MD (already resolved from an index): verify, store, record. */
static int
oci_load_manifest (struct unpacked *u, const struct desc *md, char *const *names, char **id, nook_err *err)
{
  cleanup_free char *mdata = NULL, *cdata = NULL;
  cleanup_free struct member **lm = NULL;
  cleanup_strv char **blobs = xcalloc (1, sizeof (char *));
  const struct member *mm, *cm;
  struct man m = { 0 };
  size_t mlen = 0, clen = 0;
  int ret = -1;

  mm = blob_member (u, md->digest, md->size, err);
  if (mm == NULL || read_member (u, mm, &mdata, &mlen, err) < 0)
    return -1;
  if (man_parse (mdata, mlen, &m, err) < 0)
    goto out;
  lm = xcalloc (m.n_layers + 1, sizeof *lm);
  cm = blob_member (u, m.config.digest, m.config.size, err);
  if (cm == NULL || read_member (u, cm, &cdata, &clen, err) < 0 || oci_check_blobs (u, &m, lm, &blobs, err) < 0)
    goto out;
  if (oci_store (u, md, &m, lm, mdata, mlen, cdata, clen, err) < 0)
    goto out;
  struct arch_image ai = {
    .manifest_digest = md->digest,
    .manifest_type = md->mt ? md->mt : m.mt ? m.mt : NOOK_MT_OCI_MANIFEST,
    .config_digest = m.config.digest,
    .config_data = cdata,
    .config_len = clen,
    .blobs = blobs,
    .names = names,
  };
  ret = arch_image_record (u->s, &ai, id, err);
out:
  if (ret < 0)
    nook_error_prefix (err, "manifest %s", md->digest);
  man_free (&m);
  return ret;
}

/* Names from an index entry's annotations: a full reference in ref.name, else (ref.name a bare tag, as
 * docker and skopeo write it) the containerd name, else none. */
static int
oci_names (json_t *ann, char ***names, nook_err *err)
{
  const char *ref = json_string_value (json_object_get (ann, ARCH_REF_NAME));
  const char *cname = json_string_value (json_object_get (ann, ARCH_CONTAINERD_NAME));
  const char *use = (ref && strpbrk (ref, "/:@")) ? ref : cname;
  char *full;

  if (use == NULL)
    return 0;
  full = arch_normalize_name (use, err);
  if (full == NULL)
    return nook_error_prefix (err, "image name annotation `%s`", use);
  strv_push (names, full);
  return 0;
}

/* An index (OCI or Docker list) in the archive: pick the host's platform; *D, *MT and *DIGEST become the
 * chosen manifest's. */
static int
oci_select (struct unpacked *u, struct desc *d, char **mt, char **digest, nook_err *err)
{
  const struct member *im = blob_member (u, d->digest, d->size, err);
  const struct nook_descriptor *sel = NULL;
  struct nook_manifest *idx = NULL;
  struct nook_platform host;
  cleanup_free char *data = NULL;
  size_t len = 0;
  int ret;

  if (im == NULL || read_member (u, im, &data, &len, err) < 0 || nook_manifest_parse (data, len, d->mt, &idx, err) < 0)
    return -1;
  nook_platform_host (&host);
  ret = nook_manifest_select (idx, &host, &sel, err);
  if (ret == 0)
    {
      free (*mt);
      free (*digest);
      *mt = sel->media_type ? xstrdup (sel->media_type) : NULL;
      *digest = xstrdup (sel->digest);
      d->mt = *mt;
      d->digest = *digest;
      d->size = sel->size;
    }
  nook_platform_free (&host);
  nook_manifest_free (idx);
  return ret;
}

static bool
is_index_type (const char *mt)
{
  return mt && (strcmp (mt, NOOK_MT_OCI_INDEX) == 0 || strcmp (mt, NOOK_MT_DOCKER_LIST) == 0);
}

static int
oci_load_entry (struct unpacked *u, json_t *entry, size_t i, char ***out, nook_err *err)
{
  cleanup_strv char **names = xcalloc (1, sizeof (char *));
  cleanup_free char *mt = NULL, *digest = NULL, *id = NULL;
  char what[64];
  struct desc d;

  snprintf (what, sizeof what, "index.json: manifests[%zu]", i);
  if (parse_desc (entry, what, &d, err) < 0 || oci_names (json_object_get (entry, "annotations"), &names, err) < 0)
    return -1;
  mt = d.mt ? xstrdup (d.mt) : NULL;
  digest = xstrdup (d.digest);
  d.mt = mt;
  d.digest = digest;
  if (is_index_type (mt) && oci_select (u, &d, &mt, &digest, err) < 0)
    return nook_error_prefix (err, "%s", what);
  if (oci_load_manifest (u, &d, names, &id, err) < 0)
    return -1;
  names_add (out, names, id);
  return 0;
}

static int
read_json_member (struct unpacked *u, const char *name, json_t **doc, nook_err *err)
{
  const struct member *m = need_member (u, name, err);
  cleanup_free char *data = NULL;
  json_error_t jerr;
  size_t len = 0;

  if (m == NULL || read_member (u, m, &data, &len, err) < 0)
    return -1;
  *doc = json_loadb (data, len, 0, &jerr);
  if (*doc == NULL)
    return nook_error_input (err, "`%s`: invalid JSON: %s", name, jerr.text);
  return 0;
}

static int
load_oci (struct unpacked *u, char ***out, nook_err *err)
{
  json_t *layout = NULL, *index = NULL, *manifests, *entry;
  int ret = -1;
  size_t i;

  if (read_json_member (u, "oci-layout", &layout, err) < 0 || read_json_member (u, "index.json", &index, err) < 0)
    goto out;
  if (!json_is_string (json_object_get (layout, "imageLayoutVersion")))
    {
      nook_error_input (err, "oci-layout: missing `imageLayoutVersion`");
      goto out;
    }
  manifests = json_object_get (index, "manifests");
  if (!json_is_array (manifests) || json_array_size (manifests) == 0)
    {
      nook_error_input (err, "index.json: `manifests` must be a non-empty array");
      goto out;
    }
  json_array_foreach (manifests, i, entry)
    if (oci_load_entry (u, entry, i, out, err) < 0)
      goto out;
  ret = 0;
out:
  json_decref (layout);
  json_decref (index);
  return ret;
}

/* ---- docker-archive ---------------------------------------------------------------------------- */

struct dlayer
{
  struct member *m;
  const char *mt;
};

/* The diff_id of a layer member: its own digest when uncompressed, else the digest of its decompressed
 * stream.  MT gets the matching layer media type. */
static int
docker_diff_id (struct unpacked *u, struct dlayer *l, char diff_id[72], nook_err *err)
{
  cleanup_close int fd = openat (u->dirfd, l->m->local, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  enum nook_compression comp;
  uint64_t size = 0;

  if (fd < 0)
    return nook_error (err, errno, "open `%s` (member `%s`)", l->m->local, l->m->name);
  comp = arch_sniff_compression (fd);
  l->mt = comp == NOOK_COMP_GZIP   ? NOOK_MT_DOCKER_LAYER_GZIP
          : comp == NOOK_COMP_ZSTD ? NOOK_MT_OCI_LAYER_ZSTD
                                   : ARCH_MT_DOCKER_LAYER;
  if (comp == NOOK_COMP_NONE)
    {
      memcpy (diff_id, l->m->digest, 72);
      return 0;
    }
  if (arch_decompress (fd, -1, diff_id, &size, err) < 0)
    return nook_error_prefix (err, "archive member `%s`", l->m->name);
  return 0;
}

/* Every layer of the entry, checked against the config's diff_ids. */
static int
docker_check_layers (struct unpacked *u, json_t *paths, const struct nook_image_config *cfg, struct dlayer *ls,
                     nook_err *err)
{
  json_t *p;
  size_t i;

  if (json_array_size (paths) != cfg->n_diff_ids)
    return nook_error_input (err, "manifest.json: %zu layers, the config has %zu diff_ids", json_array_size (paths),
                             cfg->n_diff_ids);
  json_array_foreach (paths, i, p)
    {
      char diff_id[72];

      if (!json_is_string (p))
        return nook_error_input (err, "manifest.json: `Layers` must hold strings");
      ls[i].m = (struct member *) need_member (u, json_string_value (p), err);
      if (ls[i].m == NULL || docker_diff_id (u, &ls[i], diff_id, err) < 0)
        return -1;
      if (strcmp (diff_id, cfg->diff_ids[i]) != 0)
        return nook_error_input (err, "layer `%s`: digest mismatch: content has diff_id %s, the config says %s",
                                 ls[i].m->name, diff_id, cfg->diff_ids[i]);
    }
  return 0;
}

/* The config member named by CONFIG; "<hex>.json" must hash to its name. */
static const struct member *
docker_config (struct unpacked *u, const char *config, nook_err *err)
{
  const struct member *m = need_member (u, config, err);
  size_t len = strlen (config);

  if (m && has_suffix (config, len, ".json") && is_hex64 (config, len - 5)
      && (strncmp (config, arch_hex (m->digest), 64) != 0))
    {
      nook_error_input (err, "config `%s`: digest mismatch: content has digest %s", config, m->digest);
      return NULL;
    }
  return m;
}

static int
docker_names (json_t *tags, char ***names, nook_err *err)
{
  json_t *t;
  size_t i;

  if (tags != NULL && !json_is_null (tags) && !json_is_array (tags))
    return nook_error_input (err, "manifest.json: `RepoTags` must be an array");
  json_array_foreach (tags, i, t)
    {
      char *full = json_is_string (t) ? arch_normalize_name (json_string_value (t), err) : NULL;
      if (full == NULL)
        return nook_error_prefix (err, "manifest.json: RepoTags[%zu]", i);
      strv_push (names, full);
    }
  return 0;
}

/* Store config and layers, then write the Docker schema2 manifest the image is recorded with. */
static int
docker_store (struct unpacked *u, const struct member *cm, const char *cdata, struct dlayer *ls, size_t n,
              char *const *names, char **id, nook_err *err)
{
  cleanup_strv char **blobs = xcalloc (n + 1, sizeof (char *));
  cleanup_free int64_t *sizes = xcalloc (n + 1, sizeof (int64_t));
  cleanup_free const char **mts = xcalloc (n + 1, sizeof (char *));
  cleanup_free char *manifest = NULL;
  char mdigest[72];

  if (nook_store_blob_put (u->s, cm->digest, cdata, cm->size, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      if (commit_member (u, ls[i].m, ls[i].m->digest, err) < 0)
        return -1;
      blobs[i] = xstrdup (ls[i].m->digest);
      sizes[i] = ls[i].m->size;
      mts[i] = ls[i].mt;
    }
  manifest = arch_manifest_build (NOOK_MT_DOCKER_MANIFEST, NOOK_MT_DOCKER_CONFIG, cm->digest, cm->size, blobs, sizes,
                                  mts);
  nook_sha256_digest (manifest, strlen (manifest), mdigest);
  if (nook_store_blob_put (u->s, mdigest, manifest, strlen (manifest), err) < 0)
    return -1;
  struct arch_image ai = {
    .manifest_digest = mdigest,
    .manifest_type = NOOK_MT_DOCKER_MANIFEST,
    .config_digest = cm->digest,
    .config_data = cdata,
    .config_len = cm->size,
    .blobs = blobs,
    .names = names,
  };
  return arch_image_record (u->s, &ai, id, err);
}

static int
docker_load_entry (struct unpacked *u, json_t *entry, size_t i, char ***out, nook_err *err)
{
  const char *config = json_string_value (json_object_get (entry, "Config"));
  json_t *paths = json_object_get (entry, "Layers");
  cleanup_strv char **names = xcalloc (1, sizeof (char *));
  cleanup_free char *cdata = NULL, *id = NULL;
  cleanup_free struct dlayer *ls = NULL;
  struct nook_image_config *cfg = NULL;
  const struct member *cm;
  size_t clen = 0;
  int ret = -1;

  if (config == NULL || !json_is_array (paths))
    return nook_error_input (err, "manifest.json[%zu]: needs `Config` and `Layers`", i);
  cm = docker_config (u, config, err);
  if (cm == NULL || read_member (u, cm, &cdata, &clen, err) < 0
      || docker_names (json_object_get (entry, "RepoTags"), &names, err) < 0)
    return -1;
  if (nook_image_config_parse (cdata, clen, &cfg, err) < 0)
    return nook_error_prefix (err, "config `%s`", config);
  ls = xcalloc (json_array_size (paths) + 1, sizeof *ls);
  if (docker_check_layers (u, paths, cfg, ls, err) == 0)
    ret = docker_store (u, cm, cdata, ls, json_array_size (paths), names, &id, err);
  nook_image_config_free (cfg);
  if (ret == 0)
    names_add (out, names, id);
  return ret;
}

static int
load_docker (struct unpacked *u, char ***out, nook_err *err)
{
  json_t *doc = NULL, *entry;
  int ret = -1;
  size_t i;

  if (read_json_member (u, "manifest.json", &doc, err) < 0)
    return -1;
  if (!json_is_array (doc) || json_array_size (doc) == 0)
    nook_error_input (err, "manifest.json: must be a non-empty array");
  else
    {
      ret = 0;
      json_array_foreach (doc, i, entry)
        if (ret == 0)
          ret = docker_load_entry (u, entry, i, out, err);
    }
  json_decref (doc);
  return ret;
}

/* ---- entry point ------------------------------------------------------------------------------- */

int
nook_image_load (struct nook_store *s, const char *input, char ***names, nook_err *err)
{
  struct unpacked u = { .s = s, .tmpfd = -1, .dirfd = -1 };
  cleanup_strv char **out = xcalloc (1, sizeof (char *));
  cleanup_close int writer = nook_store_writer_lock (s, false, err);
  int ret;

  if (writer < 0)
    return -1;
  if (input && strcmp (input, "-") != 0 && access (input, R_OK) < 0)
    return nook_error (err, errno, "open `%s`", input);
  if (input == NULL)
    input = "-";
  ret = unpack (&u, input, err);
  if (ret == 0)
    {
      if (member_find (&u, "index.json") && member_find (&u, "oci-layout"))
        ret = load_oci (&u, &out, err);
      else if (member_find (&u, "manifest.json"))
        ret = load_docker (&u, &out, err);
      else
        ret = nook_error_input (err, "no index.json+oci-layout or manifest.json: not an image archive");
    }
  unpacked_free (&u);
  if (ret < 0)
    return nook_error_prefix (err, "load `%s`", input);
  *names = steal_pointer (&out);
  return 0;
}
