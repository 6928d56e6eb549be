/* The image index STORE/images.json and garbage collection (see store/store.h).
 *
 * images.json is replaced atomically, so readers take no lock; every change is a read-modify-write under
 * STORE/lock. */
#include "store/store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/reference.h"
#include "runtime/state.h"
#include "store/store_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strutil.h"

#define IMAGES_JSON "images.json"
#define IMAGES_JSON_MAX (64 * 1024 * 1024)
#define TMP_MAX_AGE 3600

struct image_list
{
  struct nook_image **v;
  size_t n;
};

static void
list_clear (struct image_list *l)
{
  nook_images_free (l->v, l->n);
  l->v = NULL;
  l->n = 0;
}

void
nook_image_free (struct nook_image *img)
{
  if (img == NULL)
    return;
  free (img->id);
  free (img->digest);
  free (img->manifest_type);
  strv_free (img->names);
  strv_free (img->layers);
  strv_free (img->blobs);
  free (img->created);
  free (img->pulled);
  free (img->arch);
  free (img->os);
  free (img->variant);
  free (img);
}

void
nook_images_free (struct nook_image **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    nook_image_free (v[i]);
  free (v);
}

static char *
dup_or_empty (const char *s)
{
  return xstrdup (s ? s : "");
}

static char **
strv_dup_or_empty (char *const *v)
{
  return v ? strv_dup (v) : xcalloc (1, sizeof (char *));
}

static struct nook_image *
image_dup (const struct nook_image *src)
{
  struct nook_image *img = xcalloc (1, sizeof (*img));

  img->id = dup_or_empty (src->id);
  img->digest = dup_or_empty (src->digest);
  img->manifest_type = dup_or_empty (src->manifest_type);
  img->names = strv_dup_or_empty (src->names);
  img->layers = strv_dup_or_empty (src->layers);
  img->blobs = strv_dup_or_empty (src->blobs);
  img->created = dup_or_empty (src->created);
  img->pulled = src->pulled && src->pulled[0] ? xstrdup (src->pulled) : nook_now_rfc3339 ();
  img->arch = dup_or_empty (src->arch);
  img->os = dup_or_empty (src->os);
  img->variant = dup_or_empty (src->variant);
  img->size = src->size;
  return img;
}

/* ---- JSON ---- */

static char *
jstr (json_t *o, const char *key)
{
  return dup_or_empty (json_string_value (json_object_get (o, key)));
}

static char **
jstrv (json_t *o, const char *key)
{
  json_t *a = json_object_get (o, key);
  size_t n = json_array_size (a), k = 0;
  char **v = xcalloc (n + 1, sizeof (char *));

  for (size_t i = 0; i < n; i++)
    if (json_is_string (json_array_get (a, i)))
      v[k++] = xstrdup (json_string_value (json_array_get (a, i)));
  return v;
}

static json_t *
jarray (char *const *v)
{
  json_t *a = json_array ();

  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static struct nook_image *
image_from_json (json_t *o)
{
  struct nook_image *img = xcalloc (1, sizeof (*img));

  img->id = jstr (o, "id");
  img->digest = jstr (o, "digest");
  img->manifest_type = jstr (o, "manifest_type");
  img->names = jstrv (o, "names");
  img->layers = jstrv (o, "layers");
  img->blobs = jstrv (o, "blobs");
  img->created = jstr (o, "created");
  img->pulled = jstr (o, "pulled");
  img->arch = jstr (o, "arch");
  img->os = jstr (o, "os");
  img->variant = jstr (o, "variant");
  img->size = json_integer_value (json_object_get (o, "size"));
  return img;
}

static json_t *
image_to_json (const struct nook_image *img)
{
  return json_pack ("{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:I}", "id", img->id, "digest", img->digest,
                    "manifest_type", img->manifest_type, "names", jarray (img->names), "layers",
                    jarray (img->layers), "blobs", jarray (img->blobs), "created", img->created, "pulled",
                    img->pulled, "arch", img->arch, "os", img->os, "variant", img->variant, "size",
                    (json_int_t) img->size);
}

static int
newest_first (const void *a, const void *b)
{
  const struct nook_image *x = *(struct nook_image *const *) a, *y = *(struct nook_image *const *) b;
  return strcmp (y->pulled, x->pulled);
}

static int
parse_images (const char *dir, const char *data, size_t len, struct image_list *l, nook_err *err)
{
  json_error_t jerr;
  json_t *root = json_loadb (data, len, 0, &jerr), *a, *o;
  size_t i;

  a = json_object_get (root, "images");
  if (root == NULL || !json_is_array (a))
    {
      json_decref (root);
      /* every image command reads it: say which file and the way out */
      return nook_error_input (err,
                               "the image index `%s/%s` is damaged (%s): move it away to start again with no "
                               "images (the layers are downloaded again)",
                               dir, IMAGES_JSON, root ? "no \"images\" array" : jerr.text);
    }
  l->v = xcalloc (json_array_size (a) + 1, sizeof (*l->v));
  json_array_foreach (a, i, o)
    {
      if (!json_is_object (o) || !json_is_string (json_object_get (o, "id")))
        continue;
      l->v[l->n++] = image_from_json (o);
    }
  json_decref (root);
  qsort (l->v, l->n, sizeof (*l->v), newest_first);
  return 0;
}

static int
load_images (struct nook_store *s, struct image_list *l, nook_err *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  int fd;

  l->v = NULL;
  l->n = 0;
  fd = openat (s->dirfd, IMAGES_JSON, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : nook_error (err, errno, "open `%s/%s`", s->root, IMAGES_JSON);
  if (nook_read_fd (fd, &data, &len, IMAGES_JSON_MAX, err) < 0)
    {
      close (fd);
      return nook_error_prefix (err, "`%s/%s`", s->root, IMAGES_JSON);
    }
  close (fd);
  return parse_images (s->root, data, len, l, err);
}

static int
save_images (struct nook_store *s, const struct image_list *l, nook_err *err)
{
  json_t *a = json_array (), *root;
  cleanup_free char *text = NULL;

  for (size_t i = 0; i < l->n; i++)
    json_array_append_new (a, image_to_json (l->v[i]));
  root = json_pack ("{s:o}", "images", a);
  text = root ? json_dumps (root, JSON_INDENT (1)) : NULL;
  json_decref (root);
  if (text == NULL)
    return nook_error_input (err, "encode `%s`", IMAGES_JSON);
  return nook_write_file_atomic (s->dirfd, IMAGES_JSON, text, strlen (text), 0600, true, err);
}

int
nook_store_images (struct nook_store *s, struct nook_image ***out, size_t *n, nook_err *err)
{
  struct image_list l;

  if (load_images (s, &l, err) < 0)
    return -1;
  if (l.v == NULL)
    l.v = xcalloc (1, sizeof (*l.v));
  *out = l.v;
  *n = l.n;
  return 0;
}

/* ---- name helpers ---- */

static bool
strv_has (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

/* Remove S from the vector V (in place); true when it was there. */
static bool
strv_remove (char **v, const char *s)
{
  bool found = false;
  size_t k = 0;

  for (size_t i = 0; v && v[i]; i++)
    {
      if (strcmp (v[i], s) == 0)
        {
          free (v[i]);
          found = true;
          continue;
        }
      v[k++] = v[i];
    }
  if (v)
    v[k] = NULL;
  return found;
}

/* A name points at one image: take each of NAMES away from every image but KEEP. */
static void
steal_names (struct image_list *l, size_t keep, char *const *names)
{
  for (size_t i = 0; i < l->n; i++)
    for (size_t k = 0; i != keep && names && names[k]; k++)
      strv_remove (l->v[i]->names, names[k]);
}

static void
list_remove (struct image_list *l, size_t idx)
{
  nook_image_free (l->v[idx]);
  memmove (&l->v[idx], &l->v[idx + 1], (l->n - idx - 1) * sizeof (*l->v));
  l->n--;
}

/* ---- lookup ---- */

static bool
all_hex (const char *s)
{
  for (; *s; s++)
    if (!isxdigit ((unsigned char) *s) || isupper ((unsigned char) *s))
      return false;
  return true;
}

/* The image whose names hold exactly NAME; *MATCHED points at the stored name. */
static int
find_name (const struct image_list *l, const char *name, const char **matched)
{
  for (size_t i = 0; i < l->n; i++)
    for (size_t k = 0; l->v[i]->names[k]; k++)
      if (strcmp (l->v[i]->names[k], name) == 0)
        {
          *matched = l->v[i]->names[k];
          return (int) i;
        }
  return -1;
}

/* The first image with a name ending in SUFFIX ("/alpine:3.20"). */
static int
find_suffix (const struct image_list *l, const char *suffix, const char **matched)
{
  size_t sl = strlen (suffix);

  for (size_t i = 0; i < l->n; i++)
    for (size_t k = 0; l->v[i]->names[k]; k++)
      {
        const char *nm = l->v[i]->names[k];
        size_t nl = strlen (nm);
        if (nl > sl && strcmp (nm + nl - sl, suffix) == 0)
          {
            *matched = nm;
            return (int) i;
          }
      }
  return -1;
}

/* NAME@DIGEST: the image with that manifest digest named in the same repository. */
static int
find_repo_digest (const struct image_list *l, const struct nook_ref *ref)
{
  cleanup_free char *repo = nook_ref_repo (ref);

  for (size_t i = 0; i < l->n; i++)
    {
      if (strcmp (l->v[i]->digest, ref->digest) != 0)
        continue;
      for (size_t k = 0; l->v[i]->names[k]; k++)
        {
          struct nook_ref r = { 0 };
          nook_err ignored;
          bool same = false;
          if (nook_ref_parse (l->v[i]->names[k], &r, &ignored) == 0)
            {
              cleanup_free char *other = nook_ref_repo (&r);
              same = strcmp (other, repo) == 0;
            }
          nook_ref_free (&r);
          if (same)
            return (int) i;
        }
    }
  return -1;
}

/* True when the reference text names no registry (a short name: "alpine", "user/app:1"). */
static bool
is_short_name (const char *name)
{
  const char *slash = strchr (name, '/');
  size_t n = slash ? (size_t) (slash - name) : 0;

  if (slash == NULL)
    return true;
  if (memchr (name, '.', n) || memchr (name, ':', n) || (n == 9 && strncmp (name, "localhost", 9) == 0))
    return false;
  return true;
}

/* "/alpine:3.20" for the short name "alpine:3.20" (without the implied "library/"). */
static char *
short_suffix (const char *name, const struct nook_ref *ref)
{
  const char *path = ref->path;

  if (str_has_prefix (path, "library/") && !str_has_prefix (name, "library/"))
    path += strlen ("library/");
  return xasprintf ("/%s%s%s%s%s", path, ref->tag ? ":" : "", ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                    ref->digest ? ref->digest : "");
}

/* By reference: the normalized name, NAME@DIGEST, then podman-style short-name matching. */
static int
find_ref (const struct image_list *l, const char *name, const char **matched)
{
  struct nook_ref ref = { 0 };
  nook_err ignored;
  int idx = -1;

  if (nook_ref_parse (name, &ref, &ignored) < 0)
    return -1;
  {
    cleanup_free char *full = nook_ref_string (&ref);
    idx = find_name (l, full, matched);
  }
  if (idx < 0 && ref.digest)
    {
      idx = find_repo_digest (l, &ref);
      *matched = NULL;
    }
  if (idx < 0 && is_short_name (name))
    {
      cleanup_free char *suffix = short_suffix (name, &ref);
      idx = find_suffix (l, suffix, matched);
    }
  nook_ref_free (&ref);
  return idx;
}

/* By id: full, or a unique prefix of at least 3 hex digits.  -2: ambiguous (ERR filled). */
static int
find_id (const struct image_list *l, const char *id, bool prefix, nook_err *err)
{
  size_t len = strlen (id);
  int found = -1, count = 0;

  if (len == 0 || len > 64 || !all_hex (id) || (prefix && len < 3))
    return -1;
  for (size_t i = 0; i < l->n; i++)
    if (prefix ? strncmp (l->v[i]->id, id, len) == 0 : strcmp (l->v[i]->id, id) == 0)
      {
        found = (int) i;
        count++;
      }
  if (count > 1)
    {
      nook_error_input (err, "%s: image ID prefix is ambiguous (%d images match)", id, count);
      return -2;
    }
  return found;
}

static int
not_known (const char *name, nook_err *err)
{
  nook_error_input (err, "%s: image not known", name);
  err->code = ENOENT;
  return -1;
}

/* Index of the image NAME designates; *MATCHED the stored name when found by name, NULL when by id. */
static int
find_in (const struct image_list *l, const char *name, const char **matched, nook_err *err)
{
  const char *id = str_has_prefix (name, "sha256:") ? name + strlen ("sha256:") : name;
  int idx;

  *matched = NULL;
  idx = find_name (l, name, matched);
  if (idx < 0)
    idx = find_id (l, id, false, err);
  if (idx < 0 && id == name)
    idx = find_ref (l, name, matched);
  if (idx == -1)
    idx = find_id (l, id, true, err);
  if (idx == -1)
    return not_known (name, err);
  return idx;
}

/* NAME without its ":tag" and "@digest". */
static size_t
repo_len (const char *name)
{
  const char *at = strchr (name, '@'), *slash = strrchr (name, '/'), *colon;
  size_t n = at ? (size_t) (at - name) : strlen (name);

  colon = memrchr (name, ':', n);
  if (colon && (slash == NULL || colon > slash))
    n = (size_t) (colon - name);
  return n;
}

static bool
ends_with_components (const char *s, size_t n, const char *suffix)
{
  size_t k = strlen (suffix);
  if (k > n || memcmp (s + n - k, suffix, k) != 0)
    return false;
  return k == n || s[n - k - 1] == '/';
}

bool
nook_image_matches_reference (const struct nook_image *img, const char *ref)
{
  bool whole = repo_len (ref) != strlen (ref); /* a tag or digest: compare whole names */

  for (size_t i = 0; img->names && img->names[i]; i++)
    {
      const char *name = img->names[i];
      if (ends_with_components (name, whole ? strlen (name) : repo_len (name), ref))
        return true;
    }
  return false;
}

int
nook_store_image_find (struct nook_store *s, const char *name, struct nook_image **out, nook_err *err)
{
  struct image_list l;
  const char *matched;
  int idx;

  if (load_images (s, &l, err) < 0)
    return -1;
  idx = find_in (&l, name, &matched, err);
  if (idx >= 0)
    *out = image_dup (l.v[idx]);
  list_clear (&l);
  return idx < 0 ? -1 : 0;
}

/* ---- changes (under the lock) ---- */

static int
put_locked (struct nook_store *s, struct image_list *l, const struct nook_image *img, nook_err *err)
{
  size_t idx;

  for (idx = 0; idx < l->n; idx++)
    if (strcmp (l->v[idx]->id, img->id) == 0)
      break;
  if (idx < l->n)
    {
      struct nook_image *old = l->v[idx], *merged = image_dup (img);
      for (size_t k = 0; old->names[k]; k++)
        if (!strv_has (merged->names, old->names[k]))
          strv_add (&merged->names, old->names[k]);
      if (img->pulled == NULL || img->pulled[0] == '\0')
        {
          free (merged->pulled);
          merged->pulled = xstrdup (old->pulled);
        }
      nook_image_free (old);
      l->v[idx] = merged;
    }
  else
    {
      l->v = xrealloc (l->v, (l->n + 1) * sizeof (*l->v));
      l->v[l->n++] = image_dup (img);
    }
  steal_names (l, idx, img->names);
  return save_images (s, l, err);
}

int
nook_store_image_put (struct nook_store *s, const struct nook_image *img, nook_err *err)
{
  struct image_list l = { 0 };
  cleanup_close int lock = -1;
  int ret;

  if (img->id == NULL || strlen (img->id) != 64 || !all_hex (img->id))
    return nook_error_input (err, "invalid image id `%s`", img->id ? img->id : "(null)");
  lock = nook_store_lock (s, err);
  if (lock < 0 || load_images (s, &l, err) < 0)
    return -1;
  ret = put_locked (s, &l, img, err);
  list_clear (&l);
  return ret;
}

static char *
normalize_tag (const char *name, nook_err *err)
{
  struct nook_ref ref = { 0 };
  char *out = NULL;

  if (nook_ref_parse (name, &ref, err) < 0)
    return NULL;
  if (ref.digest)
    nook_error_input (err, "tag `%s`: a new name cannot hold a digest", name);
  else
    out = nook_ref_string (&ref);
  nook_ref_free (&ref);
  return out;
}

int
nook_store_image_tag (struct nook_store *s, const char *name, const char *new_name, nook_err *err)
{
  cleanup_free char *full = normalize_tag (new_name, err);
  struct image_list l = { 0 };
  cleanup_close int lock = -1;
  const char *matched;
  char *names[2] = { full, NULL };
  int idx, ret = -1;

  if (full == NULL)
    return -1;
  lock = nook_store_lock (s, err);
  if (lock < 0 || load_images (s, &l, err) < 0)
    return -1;
  idx = find_in (&l, name, &matched, err);
  if (idx >= 0)
    {
      if (!strv_has (l.v[idx]->names, full))
        strv_add (&l.v[idx]->names, full);
      steal_names (&l, (size_t) idx, names);
      ret = save_images (s, &l, err);
    }
  list_clear (&l);
  return ret;
}

int
nook_store_image_untag_or_remove (struct nook_store *s, const char *name, bool *removed, char **id, nook_err *err)
{
  struct image_list l = { 0 };
  cleanup_close int lock = nook_store_lock (s, err);
  const char *matched;
  struct nook_image *img;
  int idx, ret = -1;

  if (lock < 0 || load_images (s, &l, err) < 0)
    return -1;
  idx = find_in (&l, name, &matched, err);
  if (idx >= 0)
    {
      img = l.v[idx];
      if (id)
        *id = xstrdup (img->id);
      if (matched)
        strv_remove (img->names, matched);
      *removed = matched == NULL || img->names[0] == NULL;
      if (*removed)
        list_remove (&l, (size_t) idx);
      ret = save_images (s, &l, err);
    }
  list_clear (&l);
  return ret;
}

/* ---- garbage collection ---- */

static void
set_add_digest (json_t *set, const char *digest)
{
  if (digest && nook_digest_valid (digest))
    json_object_set_new (set, digest + strlen ("sha256:"), json_true ());
}

static void
collect_refs (const struct image_list *l, char *const *keep_layers, json_t *layers, json_t *blobs)
{
  for (size_t i = 0; i < l->n; i++)
    {
      const struct nook_image *img = l->v[i];
      cleanup_free char *cfg = xasprintf ("sha256:%s", img->id);
      set_add_digest (blobs, img->digest);
      set_add_digest (blobs, cfg);
      for (size_t k = 0; img->blobs[k]; k++)
        set_add_digest (blobs, img->blobs[k]);
      for (size_t k = 0; img->layers[k]; k++)
        set_add_digest (layers, img->layers[k]);
    }
  for (size_t k = 0; keep_layers && keep_layers[k]; k++)
    set_add_digest (layers, keep_layers[k]);
}

static bool
is_hex64 (const char *name)
{
  return strlen (name) == 64 && all_hex (name);
}

/* Open STORE/SUB for listing. */
static DIR *
open_listing (struct nook_store *s, const char *sub, nook_err *err)
{
  int fd = nook_store_subdir (s, sub, err);
  DIR *d = fd < 0 ? NULL : fdopendir (fd);

  if (fd >= 0 && d == NULL)
    {
      nook_error (err, errno, "list `%s/%s`", s->root, sub);
      close (fd);
    }
  return d;
}

static int
gc_layers (struct nook_store *s, json_t *keep, char ***detached, nook_err *err)
{
  cleanup_dir DIR *d = open_listing (s, "layers", err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (is_hex64 (de->d_name) && json_object_get (keep, de->d_name) == NULL)
      if (nook_store_layer_detach (s, de->d_name, detached, err) < 0)
        return -1;
  return 0;
}

static int
gc_blobs (struct nook_store *s, json_t *keep, nook_err *err)
{
  cleanup_dir DIR *d = open_listing (s, "blobs/sha256", err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (is_hex64 (de->d_name) && json_object_get (keep, de->d_name) == NULL)
      if (unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT)
        return nook_error (err, errno, "remove blob sha256:%s", de->d_name);
  return 0;
}

/* A temp entry whose owner died, or that nobody touched for an hour. */
static bool
tmp_stale (int dfd, const char *name, time_t now)
{
  pid_t pid = nook_store_tmp_pid (name);
  struct stat st;

  if (pid > 0 && !nook_proc_alive (pid, 0))
    return true;
  size_t len = strlen (name);
  if (len > 5 && strcmp (name + len - 5, ".lock") == 0)
    {
      /* a per-blob download lock (pull_layers.c) that nobody holds: its pull died */
      cleanup_close int fd = openat (dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      return fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0;
    }
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return false;
  return now - st.st_mtime > TMP_MAX_AGE;
}

static int
gc_tmp (struct nook_store *s, char ***stale, nook_err *err)
{
  cleanup_dir DIR *d = open_listing (s, "tmp", err);
  struct dirent *de;
  time_t now = time (NULL);

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0 && tmp_stale (dirfd (d), de->d_name, now))
      strv_add (stale, de->d_name);
  return 0;
}

/* nook_write_file_atomic() leftovers in the store root: ".tmp-NAME-PID" of a dead process. */
static void
gc_root_leftovers (struct nook_store *s)
{
  int fd = dup (s->dirfd);
  cleanup_dir DIR *d = fd < 0 ? NULL : fdopendir (fd);
  struct dirent *de;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  while ((de = readdir (d)) != NULL)
    {
      const char *dash = strrchr (de->d_name, '-');
      uint64_t pid;
      if (str_has_prefix (de->d_name, ".tmp-") && dash && str_to_u64 (dash + 1, INT32_MAX, &pid)
          && !nook_proc_alive ((pid_t) pid, 0))
        unlinkat (dirfd (d), de->d_name, 0);
    }
}

int
nook_store_tmp_clean (struct nook_store *s, nook_err *err)
{
  cleanup_strv char **trash = NULL;
  if (gc_tmp (s, &trash, err) < 0)
    return -1;
  return trash ? nook_store_tmp_remove (s, trash, err) : 0;
}

static int
gc_locked (struct nook_store *s, const struct image_list *l, char *const *keep_layers, nook_err *err)
{
  json_t *layers = json_object (), *blobs = json_object ();
  cleanup_strv char **trash = NULL;
  int ret = -1;

  collect_refs (l, keep_layers, layers, blobs);
  if (gc_tmp (s, &trash, err) == 0 && gc_layers (s, layers, &trash, err) == 0 && gc_blobs (s, blobs, err) == 0)
    {
      /* what is in tmp is out of every image already: what cannot go now goes at the next clean */
      ret = 0;
      if (trash != NULL && nook_store_tmp_remove (s, trash, err) < 0)
        {
          nook_warn ("cleaning the store's temp area: %s", err->msg);
          nook_err_clear (err);
        }
    }
  json_decref (layers);
  json_decref (blobs);
  gc_root_leftovers (s);
  return ret;
}

int
nook_store_gc (struct nook_store *s, char *const *keep_layers, nook_err *err)
{
  struct image_list l = { 0 };
  cleanup_close int writers = nook_store_writer_lock (s, true, err);
  cleanup_close int lock = writers < 0 ? -1 : nook_store_lock (s, err);
  int ret;

  if (lock < 0 || load_images (s, &l, err) < 0)
    return -1;
  ret = gc_locked (s, &l, keep_layers, err);
  list_clear (&l);
  if (ret < 0)
    nook_error_prefix (err, "store gc");
  return ret;
}
