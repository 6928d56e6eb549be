/* The content store: opening, the lock, verified blobs and the temp area (see store/store.h). */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/digest.h"
#include "store/reference.h"
#include "runtime/userns.h"
#include "store/store_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* ---- internal helpers ---- */

const char *
nook_store_hex (const char *digest, const char *what, nook_err *err)
{
  if (digest == NULL || !nook_digest_valid (digest))
    {
      nook_error_input (err, "invalid %s digest `%s`", what, digest ? digest : "(null)");
      return NULL;
    }
  return digest + strlen ("sha256:");
}

int
nook_store_subdir (struct nook_store *s, const char *sub, nook_err *err)
{
  int fd = openat (s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return nook_error (err, errno, "open `%s/%s`", s->root, sub);
  return fd;
}

char *
nook_store_tmp_name (const char *kind, const char *hex)
{
  uint32_t rnd = 0;

  if (getrandom (&rnd, sizeof (rnd), GRND_NONBLOCK) != (ssize_t) sizeof (rnd))
    {
      struct timespec ts;
      clock_gettime (CLOCK_MONOTONIC, &ts);
      rnd = (uint32_t) ts.tv_nsec ^ (uint32_t) ts.tv_sec;
    }
  return xasprintf ("%s-%s-%d-%08x", kind, hex, (int) getpid (), rnd);
}

pid_t
nook_store_tmp_pid (const char *name)
{
  const char *last = strrchr (name, '-'), *p;
  uint64_t v;
  char buf[16];

  if (last == NULL || last == name)
    return 0;
  for (p = last - 1; p > name && *p != '-'; p--)
    ;
  if (*p != '-' || (size_t) (last - p - 1) >= sizeof (buf) || last - p - 1 == 0)
    return 0;
  memcpy (buf, p + 1, last - p - 1);
  buf[last - p - 1] = '\0';
  if (!str_to_u64 (buf, INT32_MAX, &v) || v == 0)
    return 0;
  return (pid_t) v;
}

struct rm_job
{
  struct nook_store *s;
  char *const *names;
};

static int
rm_names (void *ud, nook_err *err)
{
  struct rm_job *j = ud;
  cleanup_close int tmpfd = nook_store_subdir (j->s, "tmp", err);

  if (tmpfd < 0)
    return -1;
  int ret = 0;

  /* every entry is tried: one that cannot go does not keep the others */
  for (size_t i = 0; j->names[i]; i++)
    {
      nook_err e = { 0 };
      if (nook_rm_rf_at (tmpfd, j->names[i], &e) < 0 && ret == 0)
        {
          *err = e;
          nook_error_prefix (err, "remove `tmp/%s`", j->names[i]);
          ret = -1;
        }
    }
  return ret;
}

int
nook_store_as_owner (struct nook_store *s, int (*fn) (void *ud, nook_err *err), void *ud, nook_err *err)
{
  if (fn (ud, err) == 0)
    return 0;
  if (!s->rootless || (err->code != EACCES && err->code != EPERM))
    return -1;
  nook_err_clear (err);
  return nook_userns_run (s->uidmap, s->n_uidmap, s->gidmap, s->n_gidmap, false, fn, ud, err);
}

int
nook_store_tmp_remove (struct nook_store *s, char *const *names, nook_err *err)
{
  struct rm_job j = { .s = s, .names = names };

  if (names == NULL || names[0] == NULL)
    return 0;
  /* Rootless: what we own goes without a namespace; sub-id owned trees need one. */
  return nook_store_as_owner (s, rm_names, &j, err);
}

/* ---- open / close / lock ---- */

char *
nook_store_default_root (void)
{
  const char *xdg = getenv ("XDG_DATA_HOME"), *home = getenv ("HOME");

  if (geteuid () == 0)
    return xstrdup ("/var/lib/nook");
  if (xdg && xdg[0] == '/')
    return xasprintf ("%s/nook", xdg);
  if (home == NULL || home[0] != '/')
    {
      struct passwd *pw = getpwuid (geteuid ());
      home = pw ? pw->pw_dir : "/tmp";
    }
  return xasprintf ("%s/.local/share/nook", home);
}

static int
store_mkdirs (struct nook_store *s, nook_err *err)
{
  static const char *const dirs[] = { "blobs", "blobs/sha256", "layers", "tmp" };

  for (size_t i = 0; i < sizeof (dirs) / sizeof (dirs[0]); i++)
    if (mkdirat (s->dirfd, dirs[i], 0755) < 0 && errno != EEXIST)
      return nook_error (err, errno, "mkdir `%s/%s`", s->root, dirs[i]);
  return 0;
}

int
nook_store_open (const char *root, struct nook_store **out, nook_err *err)
{
  const char *env = getenv ("NOOK_ROOT");
  struct nook_store *s = xcalloc (1, sizeof (*s));

  s->dirfd = -1;
  if (root && root[0])
    s->root = xstrdup (root);
  else if (env && env[0])
    s->root = xstrdup (env);
  else
    s->root = nook_store_default_root ();
  s->rootless = geteuid () != 0;
  if (nook_mkdir_p (s->root, 0700, err) < 0)
    goto fail;
  s->dirfd = open (s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0)
    {
      nook_error (err, errno, "open store `%s`", s->root);
      goto fail;
    }
  if (store_mkdirs (s, err) < 0)
    goto fail;
  if (s->rootless && nook_idmap_for_caller (s->uidmap, &s->n_uidmap, s->gidmap, &s->n_gidmap, err) < 0)
    goto fail;
  *out = s;
  return 0;
fail:
  nook_store_close (s);
  return -1;
}

void
nook_store_close (struct nook_store *s)
{
  if (s == NULL)
    return;
  if (s->dirfd >= 0)
    close (s->dirfd);
  free (s->root);
  free (s);
}

int
nook_store_lock (struct nook_store *s, nook_err *err)
{
  int fd = openat (s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return nook_error (err, errno, "open `%s/lock`", s->root);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (fd);
        return nook_error (err, e, "lock `%s/lock`", s->root);
      }
  return fd;
}

int
nook_store_writer_lock (struct nook_store *s, bool exclusive, nook_err *err)
{
  int fd = openat (s->dirfd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return nook_error (err, errno, "open `%s/gc.lock`", s->root);
  while (flock (fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (fd);
        return nook_error (err, e, "lock `%s/gc.lock`", s->root);
      }
  return fd;
}

/* ---- blobs ---- */

bool
nook_store_blob_exists (struct nook_store *s, const char *digest)
{
  nook_err err;
  const char *hex = nook_store_hex (digest, "blob", &err);
  cleanup_free char *path = NULL;
  struct stat st;

  if (hex == NULL)
    return false;
  path = xasprintf ("blobs/sha256/%s", hex);
  return fstatat (s->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

int
nook_store_blob_open (struct nook_store *s, const char *digest, nook_err *err)
{
  const char *hex = nook_store_hex (digest, "blob", err);
  cleanup_free char *path = NULL;
  int fd;

  if (hex == NULL)
    return -1;
  path = xasprintf ("blobs/sha256/%s", hex);
  fd = openat (s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open blob %s", digest);
  return fd;
}

static int
verify (const char *digest, const void *data, size_t len, nook_err *err)
{
  char got[72];

  nook_sha256_digest (data, len, got);
  if (strcmp (got, digest) != 0)
    return nook_error_input (err, "blob %s: digest mismatch: content is %s", digest, got);
  return 0;
}

int
nook_store_blob_read (struct nook_store *s, const char *digest, size_t max, char **data, size_t *len, nook_err *err)
{
  cleanup_close int fd = nook_store_blob_open (s, digest, err);
  cleanup_free char *buf = NULL;
  size_t n = 0;

  if (fd < 0)
    return -1;
  if (nook_read_fd (fd, &buf, &n, max, err) < 0)
    return nook_error_prefix (err, "read blob %s", digest);
  if (verify (digest, buf, n, err) < 0)
    return -1;
  *data = steal_pointer (&buf);
  if (len)
    *len = n;
  return 0;
}

int
nook_store_tmp_dir (struct nook_store *s, nook_err *err)
{
  return nook_store_subdir (s, "tmp", err);
}

/* Move TMPDIRFD/NAME to blobs/sha256/HEX after syncing its data. */
static int
blob_install (struct nook_store *s, int tmpdirfd, const char *name, const char *hex, nook_err *err)
{
  cleanup_close int blobsfd = nook_store_subdir (s, "blobs/sha256", err);

  if (blobsfd < 0)
    return -1;
  if (renameat (tmpdirfd, name, blobsfd, hex) < 0)
    return nook_error (err, errno, "rename `%s` to blob sha256:%s", name, hex);
  fsync (blobsfd);
  return 0;
}

int
nook_store_blob_commit (struct nook_store *s, int tmpdirfd, const char *name, const char *digest, nook_err *err)
{
  const char *hex = nook_store_hex (digest, "blob", err);
  cleanup_close int fd = -1;

  if (hex == NULL)
    return -1;
  fd = openat (tmpdirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", name);
  if (fsync (fd) < 0)
    return nook_error (err, errno, "fsync `%s`", name);
  return blob_install (s, tmpdirfd, name, hex, err);
}

static int
write_tmp (int tmpfd, const char *name, const void *data, size_t len, nook_err *err)
{
  cleanup_close int fd = openat (tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

  if (fd < 0)
    return nook_error (err, errno, "create `%s`", name);
  if (nook_write_all (fd, data, len) < 0 || fsync (fd) < 0)
    {
      int e = errno;
      unlinkat (tmpfd, name, 0);
      return nook_error (err, e, "write `%s`", name);
    }
  return 0;
}

int
nook_store_blob_put (struct nook_store *s, const char *digest, const void *data, size_t len, nook_err *err)
{
  const char *hex = nook_store_hex (digest, "blob", err);
  cleanup_close int tmpfd = -1;
  cleanup_free char *name = NULL;

  if (hex == NULL || verify (digest, data, len, err) < 0)
    return -1;
  if (nook_store_blob_exists (s, digest))
    return 0;
  tmpfd = nook_store_tmp_dir (s, err);
  if (tmpfd < 0)
    return -1;
  name = nook_store_tmp_name ("blob", hex);
  if (write_tmp (tmpfd, name, data, len, err) < 0)
    return -1;
  if (blob_install (s, tmpfd, name, hex, err) < 0)
    {
      unlinkat (tmpfd, name, 0);
      return -1;
    }
  return 0;
}

int
nook_store_blob_remove (struct nook_store *s, const char *digest, nook_err *err)
{
  const char *hex = nook_store_hex (digest, "blob", err);
  cleanup_free char *path = NULL;

  if (hex == NULL)
    return -1;
  path = xasprintf ("blobs/sha256/%s", hex);
  if (unlinkat (s->dirfd, path, 0) < 0 && errno != ENOENT)
    return nook_error (err, errno, "remove blob %s", digest);
  return 0;
}
