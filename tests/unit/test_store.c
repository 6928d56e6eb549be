/* Content store: blobs, temp + commit, layers (verified diff_ids, sharing, races, rootless ownership),
 * the image index (find/tag/untag/remove) and gc.  Every test uses its own store under /tmp. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util/digest.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define TEST_UID 2000
#define SUB_START 200000
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

struct entry
{
  const char *path;
  const char *content; /* NULL: directory */
  unsigned uid;
};

struct layer
{
  char *gz;
  size_t gz_len;
  char blob[72], diff_id[72];
};

/* ---- fixtures ---- */

static char *
write_tar (const struct entry *e, bool gzip, size_t *len)
{
  size_t cap = 1 << 20, used = 0;
  char *buf = xmalloc (cap);
  struct archive *a = archive_write_new ();

  if (gzip)
    archive_write_add_filter_gzip (a);
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_in_last_block (a, 1);
  archive_write_open_memory (a, buf, cap, &used);
  for (; e->path; e++)
    {
      struct archive_entry *ae = archive_entry_new ();
      archive_entry_set_pathname (ae, e->path);
      archive_entry_set_filetype (ae, e->content ? AE_IFREG : AE_IFDIR);
      archive_entry_set_perm (ae, e->content ? 0644 : 0755);
      archive_entry_set_uid (ae, e->uid);
      archive_entry_set_gid (ae, e->uid);
      archive_entry_set_mtime (ae, 1700000000, 0);
      archive_entry_set_size (ae, e->content ? (la_int64_t) strlen (e->content) : 0);
      archive_write_header (a, ae);
      if (e->content)
        archive_write_data (a, e->content, strlen (e->content));
      archive_entry_free (ae);
    }
  archive_write_close (a);
  archive_write_free (a);
  *len = used;
  return buf;
}

static void
make_layer (const struct entry *e, struct layer *l)
{
  size_t tar_len;
  cleanup_free char *tar = write_tar (e, false, &tar_len);

  nook_sha256_digest (tar, tar_len, l->diff_id);
  l->gz = write_tar (e, true, &l->gz_len);
  nook_sha256_digest (l->gz, l->gz_len, l->blob);
}

static const struct entry base_entries[] = { { "etc", NULL, 0 }, { "etc/os-release", "ID=test\n", 0 }, { NULL } };
static const struct entry top1_entries[] = { { "app1", "one\n", 0 }, { NULL } };
static const struct entry top2_entries[] = { { "app2", "two\n", 0 }, { NULL } };
static const struct entry owned_entries[]
    = { { "home", NULL, 0 }, { "home/user", NULL, 100 }, { "home/user/owned", "x\n", 100 }, { NULL } };

static struct nook_store *
new_store (char *dir)
{
  struct nook_store *s = NULL;
  nook_err err = { 0 };

  strcpy (dir, "/tmp/nook-store-XXXXXX");
  if (mkdtemp (dir) == NULL || nook_store_open (dir, &s, &err) < 0)
    printf ("    store: %s\n", err.msg);
  return s;
}

static void
drop_store (struct nook_store *s, char *dir)
{
  nook_err err = { 0 };
  nook_store_close (s);
  nook_rm_rf_at (AT_FDCWD, dir, &err);
}

static int
write_file (int dirfd, const char *path, const char *data)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  return fd >= 0 && nook_write_all (fd, data, strlen (data)) == 0 ? 0 : -1;
}

/* Entries in STORE/SUB (without . and ..); -1 when it cannot be read. */
static int
count_entries (const char *root, const char *sub)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, sub);
  cleanup_dir DIR *d = opendir (path);
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    n += strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0;
  return n;
}

static int
put_layer (struct nook_store *s, struct layer *l, nook_err *err)
{
  if (nook_store_blob_put (s, l->blob, l->gz, l->gz_len, err) < 0)
    return -1;
  return nook_store_layer_create (s, l->blob, l->diff_id, err);
}

static char *
hex_id (char c, char d)
{
  char *id = xmalloc (65);
  memset (id, c, 64);
  id[1] = d;
  id[64] = '\0';
  return id;
}

/* ---- blobs ---- */

static void
test_blobs (void)
{
  char dir[64], digest[72], other[72];
  struct nook_store *s = new_store (dir);
  nook_err err = { 0 };
  char *data = NULL;
  size_t len = 0;

  CHECK (s != NULL);
  if (s == NULL)
    return;
  nook_sha256_digest ("hello", 5, digest);
  nook_sha256_digest ("other", 5, other);
  CHECK (nook_store_blob_put (s, digest, "hello", 5, &err) == 0);
  CHECK (nook_store_blob_exists (s, digest));
  CHECK (nook_store_blob_read (s, digest, 100, &data, &len, &err) == 0 && len == 5 && memcmp (data, "hello", 5) == 0);
  free (data);
  /* the content must match the digest */
  CHECK (nook_store_blob_put (s, other, "hello", 5, &err) < 0 && strstr (err.msg, "digest mismatch"));
  CHECK (!nook_store_blob_exists (s, other));
  /* a digest string is never a path */
  CHECK (nook_store_blob_put (s, "sha256:../../etc/passwd", "x", 1, &err) < 0);
  CHECK (!nook_store_blob_exists (s, "sha256:../lock"));
  /* corruption on disk is caught on read */
  {
    cleanup_free char *path = xasprintf ("blobs/sha256/%s", digest + 7);
    CHECK (write_file (s->dirfd, path, "hellO") == 0);
    data = NULL;
    CHECK (nook_store_blob_read (s, digest, 100, &data, &len, &err) < 0 && strstr (err.msg, "digest mismatch"));
    CHECK (data == NULL);
  }
  CHECK (nook_store_blob_remove (s, digest, &err) == 0 && !nook_store_blob_exists (s, digest));
  CHECK (count_entries (dir, "tmp") == 0);
  drop_store (s, dir);
}

static void
test_tmp_commit (void)
{
  char dir[64], digest[72];
  struct nook_store *s = new_store (dir);
  nook_err err = { 0 };
  cleanup_close int tmpfd = -1;
  cleanup_free char *name = NULL;
  char *data = NULL;
  size_t len;

  if (s == NULL)
    {
      CHECK (s != NULL);
      return;
    }
  nook_sha256_digest ("payload", 7, digest);
  tmpfd = nook_store_tmp_dir (s, &err);
  CHECK (tmpfd >= 0);
  name = xasprintf ("%s.partial", digest + 7);
  CHECK (nook_write_file_atomic (tmpfd, name, "payload", 7, 0644, false, &err) == 0);
  CHECK (!nook_store_blob_exists (s, digest));
  CHECK (nook_store_blob_commit (s, tmpfd, name, digest, &err) == 0);
  CHECK (nook_store_blob_exists (s, digest));
  CHECK (count_entries (dir, "tmp") == 0);
  CHECK (nook_store_blob_read (s, digest, 7, &data, &len, &err) == 0 && len == 7);
  free (data);
  CHECK (nook_store_blob_commit (s, tmpfd, "missing", digest, &err) < 0);
  CHECK (nook_store_blob_commit (s, tmpfd, name, "sha256:zz", &err) < 0);
  drop_store (s, dir);
}

/* ---- layers ---- */

static void
test_layer_create (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  struct layer l, bad;
  nook_err err = { 0 };
  cleanup_free char *path = NULL, *file = NULL, *content = NULL;

  if (s == NULL)
    {
      CHECK (s != NULL);
      return;
    }
  make_layer (base_entries, &l);
  make_layer (top1_entries, &bad);
  /* wrong diff_id: refused, nothing left behind */
  CHECK (nook_store_blob_put (s, l.blob, l.gz, l.gz_len, &err) == 0);
  CHECK (nook_store_layer_create (s, l.blob, bad.diff_id, &err) < 0);
  CHECK (strstr (err.msg, "diff_id mismatch: config says") != NULL);
  CHECK (strstr (err.msg, l.diff_id) != NULL);
  CHECK (count_entries (dir, "layers") == 0);
  CHECK (count_entries (dir, "tmp") == 0);
  CHECK (!nook_store_layer_exists (s, bad.diff_id));
  /* right diff_id */
  CHECK (nook_store_layer_create (s, l.blob, l.diff_id, &err) == 0);
  CHECK (nook_store_layer_exists (s, l.diff_id));
  path = nook_store_layer_path (s, l.diff_id);
  file = xasprintf ("%s/etc/os-release", path);
  CHECK (nook_read_file_at (AT_FDCWD, file, &content, NULL, 100, &err) == 0);
  CHECK_STR (content, "ID=test\n");
  CHECK (nook_store_layer_size (s, l.diff_id) > 0);
  /* idempotent */
  CHECK (nook_store_layer_create (s, l.blob, l.diff_id, &err) == 0);
  CHECK (count_entries (dir, "layers") == 1);
  CHECK (count_entries (dir, "tmp") == 0);
  /* invalid digests are refused before touching the disk */
  CHECK (nook_store_layer_create (s, l.blob, "sha256:../../x", &err) < 0);
  CHECK (nook_store_layer_path (s, "../x") == NULL);
  /* remove */
  CHECK (nook_store_layer_remove (s, l.diff_id, &err) == 0);
  CHECK (!nook_store_layer_exists (s, l.diff_id));
  CHECK (count_entries (dir, "layers") == 0 && count_entries (dir, "tmp") == 0);
  free (l.gz);
  free (bad.gz);
  drop_store (s, dir);
}

static void
test_shared_base (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  struct layer base, t1, t2;
  nook_err err = { 0 };

  if (s == NULL)
    {
      CHECK (s != NULL);
      return;
    }
  make_layer (base_entries, &base);
  make_layer (top1_entries, &t1);
  make_layer (top2_entries, &t2);
  /* image 1: base + t1; image 2: base + t2 */
  CHECK (put_layer (s, &base, &err) == 0 && put_layer (s, &t1, &err) == 0);
  CHECK (put_layer (s, &base, &err) == 0 && put_layer (s, &t2, &err) == 0);
  CHECK (count_entries (dir, "layers") == 3);
  CHECK (count_entries (dir, "blobs/sha256") == 3);
  free (base.gz);
  free (t1.gz);
  free (t2.gz);
  drop_store (s, dir);
}

static void
test_layer_race (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  struct layer l;
  nook_err err = { 0 };
  pid_t pids[2];
  int ok = 0;

  if (s == NULL)
    {
      CHECK (s != NULL);
      return;
    }
  make_layer (base_entries, &l);
  CHECK (nook_store_blob_put (s, l.blob, l.gz, l.gz_len, &err) == 0);
  for (int i = 0; i < 2; i++)
    {
      pids[i] = fork ();
      if (pids[i] == 0)
        {
          nook_err e = { 0 };
          int r = nook_store_layer_create (s, l.blob, l.diff_id, &e);
          if (r < 0)
            printf ("    child: %s\n", e.msg);
          fflush (stdout);
          _exit (r < 0);
        }
    }
  for (int i = 0; i < 2; i++)
    {
      int st;
      ok += waitpid (pids[i], &st, 0) == pids[i] && WIFEXITED (st) && WEXITSTATUS (st) == 0;
    }
  CHECK (ok == 2);
  CHECK (count_entries (dir, "layers") == 1);
  CHECK (count_entries (dir, "tmp") == 0);
  CHECK (nook_store_layer_exists (s, l.diff_id));
  free (l.gz);
  drop_store (s, dir);
}

/* ---- images ---- */

static struct nook_image
image_of (char *id, char **names, char **layers, char **blobs, const char *pulled)
{
  return (struct nook_image){ .id = id, .digest = "sha256:" ZERO64,
                              .manifest_type = "application/vnd.oci.image.manifest.v1+json", .names = names,
                              .layers = layers, .blobs = blobs, .created = "", .pulled = (char *) pulled,
                              .arch = "amd64", .os = "linux", .variant = "", .size = 1 };
}

static bool
finds (struct nook_store *s, const char *name, const char *id)
{
  struct nook_image *img = NULL;
  nook_err err = { 0 };
  bool ok = nook_store_image_find (s, name, &img, &err) == 0 && strcmp (img->id, id) == 0;

  if (!ok)
    printf ("    find `%s`: %s\n", name, img ? img->id : err.msg);
  nook_image_free (img);
  return ok;
}

static void
test_images (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *ida = hex_id ('a', 'b'), *idb = hex_id ('a', 'b'), *idc = hex_id ('c', 'd');
  char *names_a[] = { "docker.io/library/alpine:latest", "127.0.0.1:5000/alpine:3.20", NULL };
  char *names_b[] = { "quay.io/x/busybox:1", NULL }, *names_c[] = { "docker.io/library/alpine:latest", NULL };
  char *none[] = { NULL };
  struct nook_image a, b, c, *img = NULL, **all = NULL;
  nook_err err = { 0 };
  bool removed = false;
  char *id = NULL;
  size_t n = 0;

  if (s == NULL)
    {
      CHECK (s != NULL);
      return;
    }
  idb[10] = 'f'; /* a and b share the prefix "abaaaaaaaa" */
  a = image_of (ida, names_a, none, none, "2026-01-01T00:00:00.000000000Z");
  b = image_of (idb, names_b, none, none, "2026-01-02T00:00:00.000000000Z");
  CHECK (nook_store_image_put (s, &a, &err) == 0 && nook_store_image_put (s, &b, &err) == 0);
  CHECK (nook_store_images (s, &all, &n, &err) == 0 && n == 2);
  CHECK (n == 2 && strcmp (all[0]->id, idb) == 0); /* newest first */
  nook_images_free (all, n);
  CHECK (finds (s, "alpine", ida));
  CHECK (finds (s, "docker.io/library/alpine:latest", ida));
  CHECK (finds (s, "docker.io/library/alpine", ida));
  CHECK (finds (s, "127.0.0.1:5000/alpine:3.20", ida));
  CHECK (finds (s, "alpine:3.20", ida)); /* short name matched against local names */
  CHECK (finds (s, "busybox:1", idb));
  CHECK (finds (s, "x/busybox:1", idb));
  CHECK (finds (s, ida, ida));
  CHECK (finds (s, idb, idb));
  CHECK (nook_store_image_find (s, "aba", &img, &err) < 0 && strstr (err.msg, "ambiguous") && err.code != ENOENT);
  CHECK (nook_store_image_find (s, "abaaaaaaaa", &img, &err) < 0 && strstr (err.msg, "ambiguous"));
  {
    cleanup_free char *pre = xasprintf ("sha256:%.12s", ida);
    idb[5] = 'e';
    CHECK (nook_store_image_put (s, &b, &err) == 0); /* new id: a different image with the same names */
    CHECK (finds (s, pre, ida));
    CHECK (finds (s, "busybox:1", idb));
  }
  CHECK (nook_store_image_find (s, "nope", &img, &err) < 0 && err.code == ENOENT);
  CHECK_STR (err.msg, "nope: image not known");
  CHECK (nook_store_image_find (s, "ab", &img, &err) < 0 && err.code == ENOENT); /* too short for an id */
  /* tag */
  CHECK (nook_store_image_tag (s, "alpine", "myimg:v1", &err) == 0);
  CHECK (nook_store_image_find (s, "localhost/myimg:v1", &img, &err) < 0 && err.code == ENOENT);
  CHECK (finds (s, "docker.io/library/myimg:v1", ida));
  CHECK (finds (s, "myimg:v1", ida));
  CHECK (nook_store_image_tag (s, "alpine", "bad@sha256:00", &err) < 0);
  CHECK (nook_store_image_tag (s, "nope", "x", &err) < 0 && err.code == ENOENT);
  /* a name points at one image: C takes "alpine" from A */
  c = image_of (idc, names_c, none, none, "2026-01-03T00:00:00.000000000Z");
  CHECK (nook_store_image_put (s, &c, &err) == 0);
  CHECK (finds (s, "alpine", idc));
  CHECK (finds (s, "127.0.0.1:5000/alpine:3.20", ida));
  /* untag: A keeps its other name */
  CHECK (nook_store_image_untag_or_remove (s, "myimg:v1", &removed, &id, &err) == 0 && !removed);
  CHECK_STR (id, ida);
  free (id);
  CHECK (nook_store_image_find (s, "myimg:v1", &img, &err) < 0 && err.code == ENOENT);
  /* untag of the last name removes the image */
  CHECK (nook_store_image_untag_or_remove (s, "127.0.0.1:5000/alpine:3.20", &removed, NULL, &err) == 0 && removed);
  CHECK (nook_store_image_find (s, ida, &img, &err) < 0 && err.code == ENOENT);
  /* by id: the image goes with all its names */
  CHECK (nook_store_image_untag_or_remove (s, idc, &removed, NULL, &err) == 0 && removed);
  CHECK (nook_store_image_find (s, "alpine", &img, &err) < 0);
  /* a dangling image (no names) stays and is found by id */
  CHECK (nook_store_image_tag (s, "busybox:1", "busybox:2", &err) == 0);
  b.names = names_c;
  CHECK (nook_store_image_put (s, &b, &err) == 0); /* merge: busybox names stay */
  CHECK (finds (s, "busybox:2", idb) && finds (s, "alpine", idb));
  b.names = none;
  idb[6] = 'e';
  CHECK (nook_store_image_put (s, &b, &err) == 0 && finds (s, idb, idb));
  CHECK (nook_store_images (s, &all, &n, &err) == 0 && n == 3);
  nook_images_free (all, n);
  drop_store (s, dir);
}

/* ---- gc ---- */

static pid_t
dead_pid (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    _exit (0);
  waitpid (pid, NULL, 0);
  return pid;
}

static void
test_gc (void)
{
  char dir[64], cfg[72], mf[72], junk[72];
  struct nook_store *s = new_store (dir);
  struct layer base, t1, t2;
  nook_err err = { 0 };
  struct nook_image img;
  cleanup_free char *stale = NULL, *partial = NULL, *stalepath = NULL;

  if (s == NULL)
    {
      CHECK (s != NULL);
      return;
    }
  make_layer (base_entries, &base);
  make_layer (top1_entries, &t1);
  make_layer (top2_entries, &t2);
  CHECK (put_layer (s, &base, &err) == 0 && put_layer (s, &t1, &err) == 0 && put_layer (s, &t2, &err) == 0);
  nook_sha256_digest ("{\"config\":1}", 12, cfg);
  nook_sha256_digest ("{\"manifest\":1}", 14, mf);
  nook_sha256_digest ("junk", 4, junk);
  CHECK (nook_store_blob_put (s, cfg, "{\"config\":1}", 12, &err) == 0);
  CHECK (nook_store_blob_put (s, mf, "{\"manifest\":1}", 14, &err) == 0);
  CHECK (nook_store_blob_put (s, junk, "junk", 4, &err) == 0);
  {
    char *names[] = { "docker.io/library/t:1", NULL }, *layers[] = { base.diff_id, t1.diff_id, NULL };
    char *blobs[] = { base.blob, t1.blob, NULL };
    img = image_of (cfg + 7, names, layers, blobs, NULL);
    img.digest = mf;
    CHECK (nook_store_image_put (s, &img, &err) == 0);
  }
  /* temp leftovers: one of a dead process, one fresh download */
  stale = xasprintf ("layer-%s-%d-0000beef", t2.diff_id + 7, (int) dead_pid ());
  stalepath = xasprintf ("%s/tmp/%s/diff", dir, stale);
  CHECK (nook_mkdir_p (stalepath, 0755, &err) == 0);
  partial = xasprintf ("%s/tmp/%s.partial", dir, junk + 7);
  CHECK (write_file (AT_FDCWD, partial, "j") == 0);
  /* keep_layers protects t2 */
  {
    char *keep[] = { t2.diff_id, NULL };
    CHECK (nook_store_gc (s, keep, &err) == 0);
    CHECK (nook_store_layer_exists (s, t2.diff_id));
    CHECK (count_entries (dir, "tmp") == 1); /* the stale dir went, the fresh download stays */
  }
  CHECK (nook_store_gc (s, NULL, &err) == 0);
  CHECK (nook_store_layer_exists (s, base.diff_id) && nook_store_layer_exists (s, t1.diff_id));
  CHECK (!nook_store_layer_exists (s, t2.diff_id));
  CHECK (count_entries (dir, "layers") == 2);
  CHECK (nook_store_blob_exists (s, cfg) && nook_store_blob_exists (s, mf));
  CHECK (nook_store_blob_exists (s, base.blob) && nook_store_blob_exists (s, t1.blob));
  CHECK (!nook_store_blob_exists (s, t2.blob) && !nook_store_blob_exists (s, junk));
  CHECK (count_entries (dir, "blobs/sha256") == 4);
  /* once the image goes, everything goes */
  {
    bool removed = false;
    CHECK (nook_store_image_untag_or_remove (s, "t:1", &removed, NULL, &err) == 0 && removed);
    CHECK (nook_store_gc (s, NULL, &err) == 0);
    CHECK (count_entries (dir, "layers") == 0 && count_entries (dir, "blobs/sha256") == 0);
  }
  free (base.gz);
  free (t1.gz);
  free (t2.gz);
  drop_store (s, dir);
}

/* ---- rootless ---- */

/* As TEST_UID: create the layer OWNED (after a refused wrong diff_id), in the store ROOT. */
__attribute__ ((noreturn)) static void
rootless_child (const char *root, struct layer *owned, struct layer *other, const char *wrong_diff_id)
{
  struct nook_store *s = NULL;
  nook_err err = { 0 };

  if (setgroups (0, NULL) < 0 || setgid (TEST_UID) < 0 || setuid (TEST_UID) < 0)
    _exit (2);
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0); /* newuidmap checks /proc/PID ownership */
  if (nook_store_open (root, &s, &err) < 0 || !s->rootless || put_layer (s, other, &err) < 0
      || nook_store_blob_put (s, owned->blob, owned->gz, owned->gz_len, &err) < 0)
    goto fail;
  if (nook_store_layer_create (s, owned->blob, wrong_diff_id, &err) == 0)
    _exit (3);
  if (nook_store_layer_create (s, owned->blob, owned->diff_id, &err) < 0
      || nook_store_layer_remove (s, other->diff_id, &err) < 0)
    goto fail;
  _exit (0);
fail:
  printf ("    rootless child: %s\n", err.msg);
  fflush (stdout);
  _exit (1);
}

__attribute__ ((noreturn)) static void
rootless_remove (const char *root, const char *diff_id)
{
  struct nook_store *s = NULL;
  nook_err err = { 0 };

  if (setgroups (0, NULL) < 0 || setgid (TEST_UID) < 0 || setuid (TEST_UID) < 0)
    _exit (2);
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  if (nook_store_open (root, &s, &err) == 0 && nook_store_layer_remove (s, diff_id, &err) == 0)
    _exit (0);
  printf ("    rootless remove: %s\n", err.msg);
  fflush (stdout);
  _exit (1);
}

static void
test_rootless_owner (void)
{
  char dir[64] = "/tmp/nook-rootless-XXXXXX";
  cleanup_free char *root = NULL, *file = NULL, *home = NULL;
  struct layer owned, other, wrong;
  nook_err err = { 0 };
  struct stat st;
  pid_t pid;
  int status;

  if (geteuid () != 0 || access ("/usr/bin/newuidmap", X_OK) < 0 || access ("/etc/subuid", R_OK) < 0)
    {
      printf ("    skipped: needs root, newuidmap and /etc/subuid\n");
      return;
    }
  CHECK (mkdtemp (dir) != NULL && chown (dir, TEST_UID, TEST_UID) == 0);
  root = xasprintf ("%s/store", dir);
  make_layer (owned_entries, &owned);
  make_layer (base_entries, &other);
  make_layer (top1_entries, &wrong);
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    rootless_child (root, &owned, &other, wrong.diff_id);
  CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0);
  if (status != 0)
    printf ("    rootless child status 0x%x\n", status);
  file = xasprintf ("%s/layers/%s/diff/home/user/owned", root, owned.diff_id + 7);
  home = xasprintf ("%s/layers/%s/diff/home", root, owned.diff_id + 7);
  CHECK (stat (file, &st) == 0 && st.st_uid == SUB_START + 99 && st.st_gid == SUB_START + 99);
  CHECK (stat (home, &st) == 0 && st.st_uid == TEST_UID);
  CHECK (count_entries (root, "layers") == 1); /* the other layer was removed in the user namespace */
  CHECK (count_entries (root, "tmp") == 0);    /* and the refused one cleaned up */
  /* removing a layer holding sub-id owned directories needs the user namespace */
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    rootless_remove (root, owned.diff_id);
  CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0);
  CHECK (count_entries (root, "layers") == 0 && count_entries (root, "tmp") == 0);
  nook_rm_rf_at (AT_FDCWD, dir, &err);
  free (owned.gz);
  free (other.gz);
  free (wrong.gz);
}

int
main (void)
{
  RUN (test_blobs);
  RUN (test_tmp_commit);
  RUN (test_layer_create);
  RUN (test_shared_base);
  RUN (test_layer_race);
  RUN (test_images);
  RUN (test_gc);
  RUN (test_rootless_owner);
  return HARNESS_END ();
}
