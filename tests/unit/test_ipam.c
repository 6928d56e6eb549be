/* Bridge IPAM (lib/net/ipam.c): allocation order, same-id idempotence, release and reuse, the file's
 * contents, a corrupt file.  Every test uses its own store under /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "net/net_internal.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/strutil.h"

/* The address file's directory: STORE/networks (the real one is NOOK_NET_STATE_DIR). */
static const char *
ndir (struct nook_store *s)
{
  static char buf[4096];
  snprintf (buf, sizeof (buf), "%s/networks", s->root);
  return buf;
}

static struct nook_store *
temp_store (void)
{
  char tmpl[] = "/tmp/nook-test-ipam-XXXXXX";
  struct nook_store *s = NULL;
  nook_err err;

  if (mkdtemp (tmpl) == NULL || nook_store_open (tmpl, &s, &err) < 0)
    {
      printf ("    cannot create a store: %s\n", err.msg);
      exit (1);
    }
  return s;
}

static void
drop_store (struct nook_store *s)
{
  nook_err err;
  char *root = xstrdup (s->root);

  nook_store_close (s);
  nook_rm_rf_at (AT_FDCWD, root, &err);
  free (root);
}

static int
alloc (struct nook_store *s, const char *id, char ip[46])
{
  char gw[46];
  int prefix = 0;
  nook_err err;
  int rc = nook_ipam_allocate (ndir (s), id, ip, &prefix, gw, &err);

  if (rc < 0)
    printf ("    allocate %s: %s\n", id, err.msg);
  else if (prefix != 16 || strcmp (gw, "10.87.0.1") != 0)
    {
      printf ("    allocate %s: prefix %d gateway %s\n", id, prefix, gw);
      rc = -1;
    }
  return rc;
}

static void
test_allocate_several (void)
{
  struct nook_store *s = temp_store ();
  char a[46], b[46], c[46];

  CHECK (alloc (s, "aaa", a) == 0);
  CHECK (alloc (s, "bbb", b) == 0);
  CHECK (alloc (s, "ccc", c) == 0);
  CHECK_STR (a, "10.87.0.2");
  CHECK_STR (b, "10.87.0.3");
  CHECK_STR (c, "10.87.0.4");
  drop_store (s);
}

static void
test_same_id (void)
{
  struct nook_store *s = temp_store ();
  char a[46], again[46], b[46];

  CHECK (alloc (s, "aaa", a) == 0);
  CHECK (alloc (s, "bbb", b) == 0);
  CHECK (alloc (s, "aaa", again) == 0);
  CHECK_STR (again, a);
  drop_store (s);
}

static void
test_release_reallocate (void)
{
  struct nook_store *s = temp_store ();
  char a[46], b[46], c[46], d[46], again[46];
  nook_err err;

  CHECK (alloc (s, "aaa", a) == 0);
  CHECK (alloc (s, "bbb", b) == 0);
  CHECK (nook_ipam_release (ndir (s), "aaa", &err) == 0);
  CHECK (nook_ipam_release (ndir (s), "aaa", &err) == 0);       /* twice: fine */
  CHECK (nook_ipam_release (ndir (s), "unknown", &err) == 0);
  /* Not reused at once: the next free one after the last allocation. */
  CHECK (alloc (s, "ccc", c) == 0);
  CHECK_STR (c, "10.87.0.4");
  CHECK (alloc (s, "aaa", again) == 0);
  CHECK_STR (again, "10.87.0.5");
  CHECK (nook_ipam_release (ndir (s), "bbb", &err) == 0);
  CHECK (alloc (s, "ddd", d) == 0);
  CHECK_STR (d, "10.87.0.6");
  drop_store (s);
}

/* After the end of the range, the search wraps to the lowest free address. */
static void
test_wraps (void)
{
  struct nook_store *s = temp_store ();
  const char *doc = "{\"subnet\": \"10.87.0.0/16\", \"last\": \"10.87.255.254\", "
                    "\"allocations\": {\"10.87.0.2\": \"old\"}}";
  nook_err err;
  char a[46];
  int dfd = openat (s->dirfd, "networks", O_RDONLY | O_DIRECTORY);

  CHECK (dfd < 0 && errno == ENOENT);   /* created on first use */
  CHECK (mkdirat (s->dirfd, "networks", 0700) == 0);
  dfd = openat (s->dirfd, "networks", O_RDONLY | O_DIRECTORY);
  CHECK (nook_write_file_atomic (dfd, "nook0.json", doc, strlen (doc), 0600, false, &err) == 0);
  CHECK (alloc (s, "new", a) == 0);
  CHECK_STR (a, "10.87.0.3");
  close (dfd);
  drop_store (s);
}

static void
test_file_contents (void)
{
  struct nook_store *s = temp_store ();
  char a[46], path[4096];
  json_error_t jerr;
  json_t *doc;

  CHECK (alloc (s, "0123456789abcdef", a) == 0);
  snprintf (path, sizeof (path), "%s/networks/nook0.json", s->root);
  doc = json_load_file (path, 0, &jerr);
  CHECK (doc != NULL);
  CHECK_STR (json_string_value (json_object_get (doc, "subnet")), "10.87.0.0/16");
  CHECK_STR (json_string_value (json_object_get (doc, "gateway")), "10.87.0.1");
  CHECK_STR (json_string_value (json_object_get (json_object_get (doc, "allocations"), a)), "0123456789abcdef");
  json_decref (doc);
  drop_store (s);
}

static void
test_corrupt (void)
{
  struct nook_store *s = temp_store ();
  static const char *const bad[] = { "{\"allocations\": {\"10.87.0.2\": ", "[1, 2]",
                                     "{\"allocations\": {\"10.87.0.2\": 7}}", "{\"allocations\": []}" };
  nook_err err;
  char ip[46], gw[46];
  int prefix;

  CHECK (mkdirat (s->dirfd, "networks", 0700) == 0);
  for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      int dfd = openat (s->dirfd, "networks", O_RDONLY | O_DIRECTORY);

      CHECK (nook_write_file_atomic (dfd, "nook0.json", bad[i], strlen (bad[i]), 0600, false, &err) == 0);
      close (dfd);
      CHECK (nook_ipam_allocate (ndir (s), "aaa", ip, &prefix, gw, &err) < 0);
      CHECK (strstr (err.msg, "corrupt bridge address file") != NULL);
      CHECK (strstr (err.msg, "networks/nook0.json") != NULL);
      CHECK (nook_ipam_release (ndir (s), "aaa", &err) < 0);
    }
  drop_store (s);
}

static void
test_empty_id (void)
{
  struct nook_store *s = temp_store ();
  nook_err err;
  char ip[46], gw[46];
  int prefix;

  CHECK (nook_ipam_allocate (ndir (s), "", ip, &prefix, gw, &err) < 0);
  CHECK (err.code == EINVAL);
  drop_store (s);
}

int
main (void)
{
  RUN (test_allocate_several);
  RUN (test_same_id);
  RUN (test_release_reallocate);
  RUN (test_wraps);
  RUN (test_file_contents);
  RUN (test_corrupt);
  RUN (test_empty_id);
  return HARNESS_END ();
}
