/* Containers in the store: the index STORE/containers.json and the per-container directories
 * (see manager/ctrstore.h).
 *
 * containers.json is replaced atomically, so readers (find, list, in_use) take no lock; every change is a
 * read-modify-write under the store lock.  record.json is replaced atomically; its read-modify-write
 * cycles are serialized by the callers with nook_ctr_lock(). */
#include "manager/ctrstore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/names.h"
#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define INDEX_JSON "containers.json"
#define INDEX_MAX (64 * 1024 * 1024)
#define RECORD_JSON "record.json"
#define RECORD_MAX (16 * 1024 * 1024)
#define ID_LEN 64
#define MIN_PREFIX 3
#define NAME_ATTEMPTS 100

#define cleanup_json _cleanup_ (json_decrefp)

/* ---- small helpers ---- */

static bool
id_valid (const char *id)
{
  size_t i;

  if (id == NULL)
    return false;
  for (i = 0; id[i]; i++)
    if (!isxdigit ((unsigned char) id[i]) || isupper ((unsigned char) id[i]))
      return false;
  return i == ID_LEN;
}

static int
err_no_such (nook_err *err, const char *name_or_id)
{
  nook_error_input (err, "no container with name or ID \"%s\" found: no such container", name_or_id);
  err->code = ENOENT;
  return -1;
}

static int
check_id (const char *id, nook_err *err)
{
  if (id_valid (id))
    return 0;
  return err_no_such (err, id ? id : "");
}

/* podman: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static int
check_name (const char *name, nook_err *err)
{
  bool ok = name != NULL && isalnum ((unsigned char) name[0]);

  for (size_t i = 1; ok && name[i]; i++)
    ok = isalnum ((unsigned char) name[i]) || strchr ("_.-", name[i]) != NULL;
  if (ok && strlen (name) <= 253)
    return 0;
  return nook_error_input (err, "container name \"%s\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument",
                           name ? name : "");
}

int
nook_ctr_random_id (char out[65], nook_err *err)
{
  unsigned char raw[ID_LEN / 2];
  size_t got = 0;

  while (got < sizeof (raw))
    {
      ssize_t r = getrandom (raw + got, sizeof (raw) - got, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return nook_error (err, errno, "getrandom");
      got += (size_t) r;
    }
  for (size_t i = 0; i < sizeof (raw); i++)
    snprintf (out + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

static bool
all_digits (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isdigit ((unsigned char) s[i]))
      return false;
  return true;
}

static void
strv_add_unique (char ***v, size_t *n, const char *s)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*v)[i], s) == 0)
      return;
  *v = xrealloc (*v, (*n + 2) * sizeof (char *));
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

/* ---- the index ---- */

static const char *
entry_str (json_t *e, const char *key)
{
  const char *v = json_string_value (json_object_get (e, key));
  return v ? v : "";
}

static int
index_load (struct nook_store *s, json_t **out, nook_err *err)
{
  cleanup_free char *text = NULL;
  json_error_t jerr;
  size_t len = 0;
  json_t *root;

  if (nook_read_file_at (s->dirfd, INDEX_JSON, &text, &len, INDEX_MAX, err) < 0)
    {
      if (err->code != ENOENT)
        return nook_error_prefix (err, "container index");
      *out = json_array ();
      return 0;
    }
  root = json_loadb (text, len, 0, &jerr);
  if (root == NULL || !json_is_array (root))
    {
      json_decref (root);
      return nook_error_input (err, "parse `%s/%s`: %s", s->root, INDEX_JSON, root ? "not an array" : jerr.text);
    }
  *out = root;
  return 0;
}

static int
index_save (struct nook_store *s, json_t *index, nook_err *err)
{
  cleanup_free char *text = json_dumps (index, JSON_INDENT (1));

  if (text == NULL)
    return nook_error (err, ENOMEM, "serialize the container index");
  if (nook_write_file_atomic (s->dirfd, INDEX_JSON, text, strlen (text), 0600, true, err) < 0)
    return nook_error_prefix (err, "write `%s/%s`", s->root, INDEX_JSON);
  return 0;
}

static json_t *
index_by (json_t *index, const char *key, const char *value, size_t *pos)
{
  size_t i;
  json_t *e;

  json_array_foreach (index, i, e)
    if (strcmp (entry_str (e, key), value) == 0)
      {
        if (pos)
          *pos = i;
        return e;
      }
  return NULL;
}

static int
err_name_in_use (nook_err *err, const char *name, json_t *holder)
{
  nook_error_input (err,
                    "the container name \"%s\" is already in use by %s. You have to remove that container to be able "
                    "to reuse that name: that name is already in use",
                    name, entry_str (holder, "id"));
  err->code = EEXIST;
  return -1;
}

static int
pick_name (json_t *index, const char *name, char **out, nook_err *err)
{
  json_t *holder;

  if (name && name[0])
    {
      if (check_name (name, err) < 0)
        return -1;
      if ((holder = index_by (index, "name", name, NULL)) != NULL)
        return err_name_in_use (err, name, holder);
      *out = xstrdup (name);
      return 0;
    }
  for (unsigned attempt = 0; attempt < NAME_ATTEMPTS; attempt++)
    {
      cleanup_free char *cand = nook_ctr_name_random (attempt);
      if (index_by (index, "name", cand, NULL) == NULL)
        {
          *out = steal_pointer (&cand);
          return 0;
        }
    }
  return nook_error (err, EEXIST, "generate a unique container name");
}

static int
pick_id (json_t *index, char out[ID_LEN + 1], nook_err *err)
{
  for (;;)
    {
      if (nook_ctr_random_id (out, err) < 0)
        return -1;
      /* docker: a short id made of digits only reads like a number; names must not look like ids */
      if (!all_digits (out, 12) && index_by (index, "id", out, NULL) == NULL && index_by (index, "name", out, NULL) == NULL)
        return 0;
    }
}

/* ---- the directory ---- */

char *
nook_ctr_dir (struct nook_store *s, const char *id)
{
  return xasprintf ("%s/containers/%s", s->root, id);
}

static int
containers_dir (struct nook_store *s, bool create, nook_err *err)
{
  int fd;

  if (create && mkdirat (s->dirfd, "containers", 0700) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s/containers`", s->root);
  fd = openat (s->dirfd, "containers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s/containers`", s->root);
  return fd;
}

/* O_DIRECTORY fd of containers/ID; a missing one is "no such container". */
static int
ctr_dirfd (struct nook_store *s, const char *id, nook_err *err)
{
  cleanup_free char *rel = NULL;
  int fd;

  if (check_id (id, err) < 0)
    return -1;
  rel = xasprintf ("containers/%s", id);
  fd = openat (s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return err_no_such (err, id);
  if (fd < 0)
    return nook_error (err, errno, "open `%s/%s`", s->root, rel);
  return fd;
}

static int
write_record_at (int dfd, const char *id, json_t *record, nook_err *err)
{
  cleanup_free char *text = json_dumps (record, JSON_INDENT (4));

  if (text == NULL)
    return nook_error (err, ENOMEM, "serialize the record of container %s", id);
  if (nook_write_file_atomic (dfd, RECORD_JSON, text, strlen (text), 0600, false, err) < 0)
    return nook_error_prefix (err, "container %s", id);
  return 0;
}

static int
make_tree (struct nook_store *s, int cfd, const char *id, const char *name, nook_err *err)
{
  static const char *const subdirs[] = { "upper", "work", "merged", "userdata" };
  cleanup_close int dfd = -1;
  json_t *rec;
  int ret;

  if (mkdirat (cfd, id, 0700) < 0)
    return nook_error (err, errno, "mkdir `%s/containers/%s`", s->root, id);
  dfd = openat (cfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return nook_error (err, errno, "open `%s/containers/%s`", s->root, id);
  /* Rootless: the container's root is the user itself (uid map 0 -> user), so plain mkdir gives the
   * upper and work dirs the right owner. */
  for (size_t i = 0; i < sizeof (subdirs) / sizeof (subdirs[0]); i++)
    if (mkdirat (dfd, subdirs[i], i == 3 ? 0700 : 0755) < 0)
      return nook_error (err, errno, "mkdir `%s/containers/%s/%s`", s->root, id, subdirs[i]);
  rec = json_pack ("{s:s, s:s}", "Id", id, "Name", name);
  ret = write_record_at (dfd, id, rec, err);
  json_decref (rec);
  return ret;
}

static json_t *
index_entry (const char *id, const char *name, const char *image_id, char *const *layers)
{
  json_t *l = json_array ();

  for (size_t i = 0; layers && layers[i]; i++)
    json_array_append_new (l, json_string (layers[i]));
  return json_pack ("{s:s, s:s, s:s, s:o}", "id", id, "name", name, "image", image_id ? image_id : "", "layers", l);
}

static int
new_locked (struct nook_store *s, json_t *index, const char *name, const char *image_id, char *const *layers,
            char **id_out, char **name_out, nook_err *err)
{
  cleanup_free char *nm = NULL;
  cleanup_close int cfd = -1;
  char id[ID_LEN + 1];
  nook_err ignored = { 0 };

  if (pick_name (index, name, &nm, err) < 0 || pick_id (index, id, err) < 0)
    return -1;
  cfd = containers_dir (s, true, err);
  if (cfd < 0)
    return -1;
  if (make_tree (s, cfd, id, nm, err) < 0)
    {
      nook_rm_rf_at (cfd, id, &ignored);
      return -1;
    }
  json_array_append_new (index, index_entry (id, nm, image_id, layers));
  if (index_save (s, index, err) < 0)
    {
      nook_rm_rf_at (cfd, id, &ignored);
      return -1;
    }
  *id_out = xstrdup (id);
  if (name_out)
    *name_out = steal_pointer (&nm);
  return 0;
}

int
nook_ctr_new (struct nook_store *s, const char *name, const char *image_id, char *const *layers, char **id,
              char **name_out, nook_err *err)
{
  cleanup_close int lock = nook_store_lock (s, err);
  cleanup_json json_t *index = NULL;

  if (lock < 0 || index_load (s, &index, err) < 0)
    return -1;
  return new_locked (s, index, name, image_id, layers, id, name_out, err);
}

/* ---- lookups ---- */

static int
find_prefix (json_t *index, const char *prefix, const char **out, nook_err *err)
{
  size_t i, n = strlen (prefix);
  json_t *e;

  *out = NULL;
  json_array_foreach (index, i, e)
    if (strncmp (entry_str (e, "id"), prefix, n) == 0)
      {
        if (*out)
          return nook_error_input (err, "more than one result for container \"%s\"", prefix);
        *out = entry_str (e, "id");
      }
  return 0;
}

int
nook_ctr_find (struct nook_store *s, const char *name_or_id, char **id, nook_err *err)
{
  cleanup_json json_t *index = NULL;
  const char *hit = NULL;
  json_t *e;

  if (name_or_id == NULL || name_or_id[0] == '\0')
    return err_no_such (err, "");
  if (index_load (s, &index, err) < 0)
    return -1;
  if ((e = index_by (index, "name", name_or_id, NULL)) != NULL || (e = index_by (index, "id", name_or_id, NULL)))
    hit = entry_str (e, "id");
  else if (strlen (name_or_id) >= MIN_PREFIX && find_prefix (index, name_or_id, &hit, err) < 0)
    return -1;
  if (hit == NULL)
    return err_no_such (err, name_or_id);
  *id = xstrdup (hit);
  return 0;
}

int
nook_ctr_list (struct nook_store *s, char ***ids, nook_err *err)
{
  cleanup_json json_t *index = NULL;
  size_t i, k = 0;
  json_t *e;
  char **v;

  if (index_load (s, &index, err) < 0)
    return -1;
  v = xcalloc (json_array_size (index) + 1, sizeof (char *));
  json_array_foreach (index, i, e)
    if (id_valid (entry_str (e, "id")))
      v[k++] = xstrdup (entry_str (e, "id"));
  *ids = v;
  return 0;
}

int
nook_ctr_in_use (struct nook_store *s, char ***layers, char ***images, nook_err *err)
{
  cleanup_json json_t *index = NULL;
  char **lv = xcalloc (1, sizeof (char *)), **iv = xcalloc (1, sizeof (char *));
  size_t i, nl = 0, ni = 0;
  json_t *e;

  if (index_load (s, &index, err) < 0)
    {
      free (lv);
      free (iv);
      return -1;
    }
  json_array_foreach (index, i, e)
    {
      size_t j;
      json_t *l;
      if (entry_str (e, "image")[0])
        strv_add_unique (&iv, &ni, entry_str (e, "image"));
      json_array_foreach (json_object_get (e, "layers"), j, l)
        if (json_is_string (l))
          strv_add_unique (&lv, &nl, json_string_value (l));
    }
  *layers = lv;
  *images = iv;
  return 0;
}

/* ---- records and locks ---- */

int
nook_ctr_read (struct nook_store *s, const char *id, json_t **record, nook_err *err)
{
  cleanup_close int dfd = ctr_dirfd (s, id, err);
  cleanup_free char *text = NULL;
  json_error_t jerr;
  size_t len = 0;

  if (dfd < 0)
    return -1;
  if (nook_read_file_at (dfd, RECORD_JSON, &text, &len, RECORD_MAX, err) < 0)
    {
      if (err->code == ENOENT)
        return err_no_such (err, id);
      return nook_error_prefix (err, "container %s", id);
    }
  *record = json_loadb (text, len, 0, &jerr);
  if (*record == NULL || !json_is_object (*record))
    {
      json_decref (*record);
      *record = NULL;
      return nook_error_input (err, "container %s: parse `%s`: %s", id, RECORD_JSON, jerr.text);
    }
  return 0;
}

int
nook_ctr_write (struct nook_store *s, const char *id, json_t *record, nook_err *err)
{
  cleanup_close int dfd = ctr_dirfd (s, id, err);

  if (dfd < 0)
    return -1;
  return write_record_at (dfd, id, record, err);
}

int
nook_ctr_lock (struct nook_store *s, const char *id, nook_err *err)
{
  cleanup_close int dfd = ctr_dirfd (s, id, err);
  cleanup_close int fd = -1;

  if (dfd < 0)
    return -1;
  fd = openat (dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return nook_error (err, errno, "open `%s/containers/%s/lock`", s->root, id);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return nook_error (err, errno, "lock `%s/containers/%s/lock`", s->root, id);
  return steal_fd (&fd);
}

/* ---- rename ---- */

static int
record_set_name (struct nook_store *s, const char *id, const char *name, nook_err *err)
{
  cleanup_json json_t *rec = NULL;

  if (nook_ctr_read (s, id, &rec, err) < 0)
    return err->code == ENOENT ? 0 : -1;
  json_object_set_new (rec, "Name", json_string (name));
  return nook_ctr_write (s, id, rec, err);
}

int
nook_ctr_rename (struct nook_store *s, const char *id, const char *new_name, nook_err *err)
{
  cleanup_close int lock = -1;
  cleanup_json json_t *index = NULL;
  json_t *e, *holder;

  if (check_id (id, err) < 0 || check_name (new_name, err) < 0)
    return -1;
  lock = nook_store_lock (s, err);
  if (lock < 0 || index_load (s, &index, err) < 0)
    return -1;
  if ((e = index_by (index, "id", id, NULL)) == NULL)
    return err_no_such (err, id);
  holder = index_by (index, "name", new_name, NULL);
  if (holder == e)
    return 0;
  if (holder)
    return err_name_in_use (err, new_name, holder);
  json_object_set_new (e, "name", json_string (new_name));
  if (record_set_name (s, id, new_name, err) < 0)
    return -1;
  return index_save (s, index, err);
}

/* ---- delete ---- */

struct rm_job
{
  struct nook_store *s;
  const char *id;
};

/* The heavy subtrees first, so a failure (files of sub-ids) leaves record.json in place for a retry. */
static int
rm_tree (void *ud, nook_err *err)
{
  static const char *const first[] = { "merged", "work", "upper", "userdata" };
  struct rm_job *j = ud;
  cleanup_close int cfd = containers_dir (j->s, false, err);
  cleanup_close int dfd = -1;

  if (cfd < 0)
    return err->code == ENOENT ? 0 : -1;
  dfd = openat (cfd, j->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0)
    for (size_t i = 0; i < sizeof (first) / sizeof (first[0]); i++)
      if (nook_rm_rf_at (dfd, first[i], err) < 0)
        return nook_error_prefix (err, "remove `%s/containers/%s`", j->s->root, j->id);
  if (nook_rm_rf_at (cfd, j->id, err) < 0)
    return nook_error_prefix (err, "remove `%s/containers/%s`", j->s->root, j->id);
  return 0;
}

/* A merged dir still mounted in our mount namespace must not be emptied through the mount. */
static int
check_unmounted (struct nook_store *s, const char *id, nook_err *err)
{
  cleanup_free char *dir = xasprintf ("containers/%s", id), *merged = xasprintf ("containers/%s/merged", id);
  struct stat a, b;

  if (fstatat (s->dirfd, dir, &a, AT_SYMLINK_NOFOLLOW) < 0 || fstatat (s->dirfd, merged, &b, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (a.st_dev != b.st_dev)
    return nook_error (err, EBUSY, "remove container %s: `%s/%s` is mounted", id, s->root, merged);
  return 0;
}

static int
rm_dir (struct nook_store *s, const char *id, nook_err *err)
{
  struct rm_job j = { .s = s, .id = id };

  if (check_unmounted (s, id, err) < 0)
    return -1;
  /* Rootless: the upper dir holds files owned by sub-ids; they go as root of a user namespace. */
  return nook_store_as_owner (s, rm_tree, &j, err);
}

int
nook_ctr_delete (struct nook_store *s, const char *id, nook_err *err)
{
  cleanup_close int lock = -1;
  cleanup_json json_t *index = NULL;
  cleanup_free char *rel = NULL;
  struct stat st;
  size_t pos = 0;
  bool listed, present;

  if (check_id (id, err) < 0)
    return -1;
  lock = nook_store_lock (s, err);
  if (lock < 0 || index_load (s, &index, err) < 0)
    return -1;
  rel = xasprintf ("containers/%s", id);
  listed = index_by (index, "id", id, &pos) != NULL;
  present = fstatat (s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!listed && !present)
    return err_no_such (err, id);
  if (present && rm_dir (s, id, err) < 0)
    return -1;
  if (!listed)
    return 0;
  json_array_remove (index, pos);
  return index_save (s, index, err);
}
