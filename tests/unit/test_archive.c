/* nook import / save / load: the Alpine minirootfs imported, saved in both formats, loaded into fresh
 * stores (names, ids, digests, layer content), tampered archives refused, hostile member names ignored.
 * Needs root (layers keep their owners) and the shared Alpine tarball; skipped otherwise. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "image/archive.h"
#include "util/digest.h"
#include "image/manifest.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* The Alpine minirootfs tarball: $NOOK_IMAGES (tests/run sets it to ../shared/images beside the checkout). */
#define ALPINE_TGZ "alpine-minirootfs-3.20.3-x86_64.tar.gz"
static char *alpine_path;
#define ALPINE alpine_path
#define NAME "localhost/alpine:imported"

static char root[] = "/tmp/nook-archive-test-XXXXXX";
static char *src_id, *src_digest, *oci_tar, *docker_tar;

/* ---- fixtures ---- */

static struct nook_store *
open_store (const char *sub)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, sub);
  struct nook_store *s = NULL;
  nook_err err = { 0 };

  if (nook_store_open (path, &s, &err) < 0)
    printf ("    store_open %s: %s\n", path, err.msg);
  return s;
}

static bool
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

/* The layer of IMG holds Alpine's etc/alpine-release. */
static bool
layer_is_alpine (struct nook_store *s, const struct nook_image *img)
{
  cleanup_free char *dir = NULL, *data = NULL;
  size_t len = 0;
  nook_err err = { 0 };
  int dfd;
  bool ok;

  if (img->layers == NULL || img->layers[0] == NULL || img->layers[1] != NULL)
    return false;
  dir = nook_store_layer_path (s, img->layers[0]);
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return false;
  ok = nook_read_file_at (dfd, "etc/alpine-release", &data, &len, 4096, &err) == 0
       && str_has_prefix (data, "3.20.3");
  close (dfd);
  return ok;
}

static size_t
count_images (struct nook_store *s)
{
  struct nook_image **v = NULL;
  size_t n = 0;
  nook_err err = { 0 };

  if (nook_store_images (s, &v, &n, &err) < 0)
    return (size_t) -1;
  nook_images_free (v, n);
  return n;
}

static bool
dir_empty (const char *path)
{
  cleanup_dir DIR *d = opendir (path);
  struct dirent *e;

  while (d && (e = readdir (d)))
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      return false;
  return d != NULL;
}

static void
write_member (struct archive *w, const char *name, const char *data, size_t len)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, len);
  archive_write_header (w, e);
  archive_write_data (w, data, len);
  archive_entry_free (e);
}

struct extra
{
  const char *name;
  const char *data; /* NULL: "evil" */
};

/* Copy the tar IN to OUT, flipping one byte in the member VICTIM (may be NULL), leaving out the member
 * SKIP (may be NULL) and appending EXTRA members (terminated by a NULL name). */
static bool
rewrite_tar (const char *in, const char *out, const char *victim, const char *skip, const struct extra *extra)
{
  struct archive *r = archive_read_new (), *w = archive_write_new ();
  struct archive_entry *e;
  bool tampered = victim == NULL;

  archive_read_support_format_tar (r);
  archive_write_set_format_pax_restricted (w);
  if (archive_read_open_filename (r, in, 65536) != ARCHIVE_OK || archive_write_open_filename (w, out) != ARCHIVE_OK)
    return false;
  while (archive_read_next_header (r, &e) == ARCHIVE_OK)
    {
      size_t len = archive_entry_size (e);
      cleanup_free char *buf = xmalloc (len + 1);
      const char *name = archive_entry_pathname (e);

      if (archive_entry_filetype (e) != AE_IFREG)
        {
          archive_write_header (w, e);
          continue;
        }
      if (archive_read_data (r, buf, len) != (la_ssize_t) len)
        return false;
      if (victim && strcmp (name, victim) == 0 && len > 0)
        {
          buf[len / 2] ^= 0x20;
          tampered = true;
        }
      if (skip == NULL || strcmp (name, skip) != 0)
        write_member (w, name, buf, len);
    }
  for (; extra && extra->name; extra++)
    write_member (w, extra->name, extra->data ? extra->data : "evil", extra->data ? strlen (extra->data) : 4);
  archive_read_free (r);
  archive_write_close (w);
  archive_write_free (w);
  return tampered;
}

/* ---- tests ---- */

static void
test_import (void)
{
  struct nook_store *s = open_store ("src");
  struct nook_image *img = NULL;
  nook_err err = { 0 };
  char *id = NULL;

  CHECK (s != NULL);
  if (s == NULL)
    return;
  if (nook_image_import (s, ALPINE, NAME, &id, &err) < 0)
    printf ("    import: %s\n", err.msg);
  CHECK (id != NULL);
  CHECK (nook_store_image_find (s, NAME, &img, &err) == 0);
  if (img && id)
    {
      CHECK_STR (img->id, id);
      CHECK_STR (img->names[0], NAME);
      CHECK (img->names[1] == NULL);
      CHECK_STR (img->os, "linux");
      CHECK (img->layers[0] && img->blobs[0] && strcmp (img->layers[0], img->blobs[0]) == 0);
      CHECK (layer_is_alpine (s, img));
      src_id = xstrdup (img->id);
      src_digest = xstrdup (img->digest);
    }
  /* import again: same layer, a new config (new "created"), the name moves to the new image */
  free (id);
  id = NULL;
  CHECK (nook_image_import (s, ALPINE, NULL, &id, &err) == 0);
  CHECK (id && src_id && strcmp (id, src_id) != 0);
  CHECK (count_images (s) == 2);
  free (id);
  nook_image_free (img);
  nook_store_close (s);
}

static void
test_save (void)
{
  struct nook_store *s = open_store ("src");
  nook_err err = { 0 };

  CHECK (s != NULL && src_id != NULL);
  if (s == NULL || src_id == NULL)
    return;
  oci_tar = xasprintf ("%s/alpine-oci.tar", root);
  docker_tar = xasprintf ("%s/alpine-docker.tar", root);
  if (nook_image_save (s, "localhost/alpine:imported", oci_tar, NOOK_ARCHIVE_OCI, &err) < 0)
    printf ("    save oci: %s\n", err.msg);
  if (nook_image_save (s, src_id, docker_tar, NOOK_ARCHIVE_DOCKER, &err) < 0)
    printf ("    save docker by id: %s\n", err.msg);
  CHECK (exists (oci_tar));
  CHECK (exists (docker_tar));
  /* by id: no RepoTags; by name: with.  Keep the named one. */
  CHECK (nook_image_save (s, NAME, docker_tar, NOOK_ARCHIVE_DOCKER, &err) == 0);
  /* errors: unknown image, missing directory; no temp file left behind */
  CHECK (nook_image_save (s, "nosuch:image", oci_tar, NOOK_ARCHIVE_OCI, &err) < 0);
  {
    cleanup_free char *bad = xasprintf ("%s/nodir/x.tar", root);
    CHECK (nook_image_save (s, NAME, bad, NOOK_ARCHIVE_OCI, &err) < 0);
  }
  CHECK (nook_image_save (s, NAME, "/proc/nook-archive-test.tar", NOOK_ARCHIVE_OCI, &err) < 0);
  nook_store_close (s);
}

static void
check_loaded (const char *sub, const char *tar, bool same_digest)
{
  struct nook_store *s = open_store (sub);
  struct nook_image *img = NULL;
  cleanup_strv char **names = NULL;
  nook_err err = { 0 };

  CHECK (s != NULL && tar != NULL);
  if (s == NULL || tar == NULL)
    return;
  if (nook_image_load (s, tar, &names, &err) < 0)
    printf ("    load %s: %s\n", tar, err.msg);
  CHECK (names && names[0] && strcmp (names[0], NAME) == 0 && names[1] == NULL);
  CHECK (nook_store_image_find (s, NAME, &img, &err) == 0);
  if (img)
    {
      CHECK_STR (img->id, src_id);
      if (same_digest)
        CHECK_STR (img->digest, src_digest);
      CHECK (layer_is_alpine (s, img));
    }
  nook_image_free (img);
  /* loading again is harmless */
  strv_free (steal_pointer (&names));
  CHECK (nook_image_load (s, tar, &names, &err) == 0);
  CHECK (count_images (s) == 1);
  {
    cleanup_free char *tmp = xasprintf ("%s/%s/tmp", root, sub);
    CHECK (dir_empty (tmp));
  }
  nook_store_close (s);
}

static void
test_load_oci (void)
{
  check_loaded ("oci", oci_tar, true);
}

static void
test_load_docker (void)
{
  check_loaded ("docker", docker_tar, false);
}

/* A loaded docker-archive saves as OCI and loads again (Docker's uncompressed layer type round-trips). */
static void
test_docker_to_oci (void)
{
  struct nook_store *s = open_store ("docker");
  cleanup_free char *out = xasprintf ("%s/from-docker-oci.tar", root);
  cleanup_strv char **names = NULL;
  nook_err err = { 0 };

  CHECK (s != NULL);
  if (s == NULL)
    return;
  CHECK (nook_image_save (s, NAME, out, NOOK_ARCHIVE_OCI, &err) == 0);
  nook_store_close (s);
  s = open_store ("docker2");
  if (nook_image_load (s, out, &names, &err) < 0)
    printf ("    load: %s\n", err.msg);
  CHECK (names && names[0] && strcmp (names[0], NAME) == 0);
  nook_store_close (s);
}

static void
check_tampered (const char *sub, const char *tar, const char *victim)
{
  cleanup_free char *bad = xasprintf ("%s/%s.tar", root, sub);
  struct nook_store *s = open_store (sub);
  struct nook_image *img = NULL;
  char **names = NULL;
  nook_err err = { 0 };

  CHECK (s != NULL && tar != NULL);
  if (s == NULL || tar == NULL)
    return;
  CHECK (rewrite_tar (tar, bad, victim, NULL, NULL));
  CHECK (nook_image_load (s, bad, &names, &err) < 0);
  CHECK (strstr (err.msg, "digest mismatch") != NULL);
  printf ("    (expected) %s\n", err.msg);
  CHECK (names == NULL);
  CHECK (nook_store_image_find (s, NAME, &img, &err) < 0);
  CHECK (count_images (s) == 0);
  nook_store_close (s);
}

static void
test_tampered (void)
{
  cleanup_free char *config = xasprintf ("blobs/sha256/%s", src_id ? src_id : "");
  cleanup_free char *layer = NULL;
  struct nook_store *s = open_store ("src");
  struct nook_image *img = NULL;
  nook_err err = { 0 };

  CHECK (s && nook_store_image_find (s, NAME, &img, &err) == 0);
  if (img == NULL)
    return;
  layer = xasprintf ("%s/layer.tar", img->layers[0] + 7);
  check_tampered ("bad-oci-config", oci_tar, config);
  {
    cleanup_free char *blob = xasprintf ("blobs/sha256/%s", img->blobs[0] + 7);
    check_tampered ("bad-oci-layer", oci_tar, blob);
  }
  check_tampered ("bad-docker-layer", docker_tar, layer);
  {
    cleanup_free char *cfg = xasprintf ("%s.json", src_id);
    check_tampered ("bad-docker-config", docker_tar, cfg);
  }
  nook_image_free (img);
  nook_store_close (s);
}

static void
test_evil_names (void)
{
  static const struct extra evil[] = { { "../evil" },          { "../../evil" },
                                       { "../../../evil" },    { "/tmp/nook-archive-evil-abs" },
                                       { "blobs/sha256/../../../evil" }, { "./../evil" },
                                       { "x/../../evil/layer.tar" },     { NULL } };
  cleanup_free char *only = xasprintf ("%s/evil-only.tar", root);
  cleanup_free char *mixed = xasprintf ("%s/evil-mixed.tar", root);
  cleanup_free char *tmp = xasprintf ("%s/hostile/tmp", root);
  struct nook_store *s = open_store ("hostile");
  cleanup_strv char **names = NULL;
  nook_err err = { 0 };

  CHECK (s != NULL && oci_tar != NULL);
  if (s == NULL || oci_tar == NULL)
    return;
  /* an archive of hostile names only: nothing accepted, so not an image archive */
  {
    struct archive *w = archive_write_new ();
    archive_write_set_format_pax_restricted (w);
    archive_write_open_filename (w, only);
    for (const struct extra *e = evil; e->name; e++)
      write_member (w, e->name, "evil", 4);
    archive_write_close (w);
    archive_write_free (w);
  }
  CHECK (nook_image_load (s, only, &names, &err) < 0);
  CHECK (strstr (err.msg, "not an image archive") != NULL);
  /* a good archive with hostile extras: loads, the extras go nowhere */
  CHECK (rewrite_tar (oci_tar, mixed, NULL, NULL, evil));
  if (nook_image_load (s, mixed, &names, &err) < 0)
    printf ("    load: %s\n", err.msg);
  CHECK (names && names[0] && strcmp (names[0], NAME) == 0);
  {
    cleanup_free char *a = xasprintf ("%s/hostile/tmp/evil", root), *b = xasprintf ("%s/hostile/evil", root);
    cleanup_free char *c = xasprintf ("%s/evil", root);
    CHECK (!exists (a) && !exists (b) && !exists (c));
    CHECK (!exists ("/tmp/nook-archive-evil-abs") && !exists ("/evil") && !exists ("/tmp/evil"));
  }
  CHECK (dir_empty (tmp));
  nook_store_close (s);
}

/* index.json pointing at an image index: the host's platform is picked; a full ref.name names it. */
static void
test_index (void)
{
  cleanup_free char *mpath = xasprintf ("%s/src/blobs/sha256/%s", root, src_digest ? src_digest + 7 : "");
  cleanup_free char *out = xasprintf ("%s/indexed.tar", root);
  cleanup_free char *index = NULL, *index_json = NULL, *blob_name = NULL;
  struct nook_store *s = open_store ("index");
  struct nook_platform host;
  cleanup_strv char **names = NULL;
  nook_err err = { 0 };
  struct stat st;
  char idx_digest[72];

  CHECK (s != NULL && src_digest != NULL && stat (mpath, &st) == 0);
  if (s == NULL || src_digest == NULL)
    return;
  nook_platform_host (&host);
  index = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
                     "{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\",\"size\":1,"
                     "\"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"}},"
                     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,"
                     "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
                     NOOK_MT_OCI_INDEX, NOOK_MT_OCI_MANIFEST, 0, NOOK_MT_OCI_MANIFEST, src_digest,
                     (long long) st.st_size, host.arch);
  nook_platform_free (&host);
  nook_sha256_digest (index, strlen (index), idx_digest);
  blob_name = xasprintf ("blobs/sha256/%s", idx_digest + 7);
  index_json = xasprintf ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                          "\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/alpine:indexed\"}}]}",
                          NOOK_MT_OCI_INDEX, idx_digest, strlen (index));
  {
    const struct extra extra[] = { { blob_name, index }, { "index.json", index_json }, { NULL } };
    CHECK (rewrite_tar (oci_tar, out, NULL, "index.json", extra));
  }
  if (nook_image_load (s, out, &names, &err) < 0)
    printf ("    load: %s\n", err.msg);
  CHECK (names && names[0] && strcmp (names[0], "localhost/alpine:indexed") == 0);
  {
    struct nook_image *img = NULL;
    CHECK (nook_store_image_find (s, "localhost/alpine:indexed", &img, &err) == 0);
    CHECK (img && strcmp (img->digest, src_digest) == 0 && layer_is_alpine (s, img));
    nook_image_free (img);
  }
  nook_store_close (s);
}

/* A store missing a blob: save fails and leaves neither the output nor its temp file. */
static void
test_save_damaged (void)
{
  cleanup_free char *out = xasprintf ("%s/damaged.tar", root);
  struct nook_store *s = open_store ("docker2");
  struct nook_image *img = NULL;
  nook_err err = { 0 };

  CHECK (s && nook_store_image_find (s, NAME, &img, &err) == 0);
  if (img == NULL)
    return;
  CHECK (nook_store_blob_remove (s, img->blobs[0], &err) == 0);
  CHECK (nook_image_save (s, NAME, out, NOOK_ARCHIVE_OCI, &err) < 0);
  CHECK (nook_image_save (s, NAME, out, NOOK_ARCHIVE_DOCKER, &err) < 0);
  CHECK (!exists (out));
  {
    cleanup_dir DIR *d = opendir (root);
    struct dirent *e;
    while (d && (e = readdir (d)))
      CHECK (!str_has_prefix (e->d_name, ".nook-save"));
  }
  nook_image_free (img);
  nook_store_close (s);
}

static void
test_errors (void)
{
  struct nook_store *s = open_store ("errors");
  cleanup_free char *junk = xasprintf ("%s/junk.tar", root);
  char **names = NULL, *id = NULL;
  nook_err err = { 0 };

  CHECK (s != NULL);
  if (s == NULL)
    return;
  CHECK (nook_image_load (s, "/nonexistent/archive.tar", &names, &err) < 0);
  {
    cleanup_file FILE *f = fopen (junk, "w");
    CHECK (f && fputs ("not a tar at all\n", f) >= 0);
  }
  CHECK (nook_image_load (s, junk, &names, &err) < 0);
  CHECK (nook_image_import (s, "/nonexistent.tar", NULL, &id, &err) < 0);
  CHECK (nook_image_import (s, ALPINE, "Bad Name!", &id, &err) < 0);
  CHECK (strstr (err.msg, "invalid reference format") != NULL);
  CHECK (count_images (s) == 0);
  nook_store_close (s);
}

int
main (void)
{
  nook_err err = { 0 };

  const char *images = getenv ("NOOK_IMAGES");
  alpine_path = xasprintf ("%s/" ALPINE_TGZ, images ? images : "../shared/images");
  if (geteuid () != 0 || access (ALPINE, R_OK) < 0)
    SKIP_ALL ("needs root and $NOOK_IMAGES/" ALPINE_TGZ);
  if (mkdtemp (root) == NULL)
    return 1;
  RUN (test_import);
  RUN (test_save);
  RUN (test_load_oci);
  RUN (test_load_docker);
  RUN (test_docker_to_oci);
  RUN (test_tampered);
  RUN (test_evil_names);
  RUN (test_index);
  RUN (test_errors);
  RUN (test_save_damaged);
  if (!harness_failed && getenv ("NOOK_TEST_KEEP") == NULL)
    nook_rm_rf_at (AT_FDCWD, root, &err);
  else
    printf ("    kept %s\n", root);
  return HARNESS_END ();
}
