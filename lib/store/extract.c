/* Layer extraction: the streams and the entry loop.
 *
 * Two libarchive readers are chained: A decompresses (filters gzip, zstd, xz, bzip2, lz4, none; format
 * "raw"), B parses tar with no filter and pulls A's output through a read callback that hashes every byte
 * (the diff_id is the sha256 of the uncompressed stream) and enforces the bound on decompressed bytes.
 * Once B has seen the end of the archive, the rest of A (padding, trailing blocks) is drained into the
 * hash.  Entries are written by extract_entry.c; directory times are applied last, deepest first. */
#include "store/extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/digest.h"
#include "store/extract_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define XT_BUF_SIZE (128 * 1024)
#define XT_DEFAULT_BOUND (UINT64_C (1) << 30)

uint64_t
nook_extract_bound (uint64_t compressed)
{
  const char *env = getenv ("NOOK_LAYER_MAX_BYTES");
  uint64_t v;

  if (env && str_to_u64 (env, UINT64_MAX, &v) && v > 0)
    return v;
  if (compressed > UINT64_MAX / 200)
    return UINT64_MAX;
  return compressed * 200 > XT_DEFAULT_BOUND ? compressed * 200 : XT_DEFAULT_BOUND;
}

/* ---- paths ------------------------------------------------------------------------------------- */

int
nook_xt_normalize (const char *in, char **out)
{
  size_t len = strlen (in);
  char *res = xmalloc (len + 1), *o = res;
  const char *p = in;

  *out = NULL;
  /* "/" alone (umoci writes it) and "./" name the layer root; any other absolute path is refused. */
  if (*in == '/' && in[strspn (in, "/")] != '\0')
    goto escapes;
  while (*p)
    {
      const char *end = strchrnul (p, '/');
      size_t n = (size_t) (end - p);

      if (n == 2 && p[0] == '.' && p[1] == '.')
        goto escapes;
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (o != res)
            *o++ = '/';
          memcpy (o, p, n);
          o += n;
        }
      p = *end ? end + 1 : end;
    }
  *o = '\0';
  *out = res;
  return 0;

escapes:
  free (res);
  return -1;
}

void
nook_xt_split (const char *path, char **parent, char **name)
{
  const char *slash = strrchr (path, '/');

  if (slash == NULL)
    {
      *parent = xstrdup ("");
      *name = xstrdup (path);
      return;
    }
  *parent = xstrdup (path);
  (*parent)[slash - path] = '\0';
  *name = xstrdup (slash + 1);
}

int
nook_xt_open_dir (struct nook_xt *x, const char *parent, bool create, nook_err *err)
{
  nook_err first = { 0 };
  int fd;

  if (*parent == '\0')
    {
      fd = openat (x->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      return fd >= 0 ? fd : nook_error (err, errno, "open the layer directory");
    }
  fd = nook_open_in_root (x->rootfd, parent, O_PATH | O_DIRECTORY, 0, &first);
  if (fd >= 0 || first.code != ENOENT || !create)
    {
      if (fd < 0)
        *err = first;
      return fd;
    }
  fd = nook_ensure_in_root (x->rootfd, parent, true, 0755, err);
  if (fd < 0)
    return -1;
  close (fd);
  return nook_open_in_root (x->rootfd, parent, O_PATH | O_DIRECTORY, 0, err);
}

/* ---- the streams ------------------------------------------------------------------------------- */

static int
stream_fail (struct nook_xt *x, int code, const char *msg)
{
  if (!x->stream_failed)
    {
      nook_error_input (&x->stream_err, "%s", msg);
      x->stream_err.code = code;
      x->stream_failed = true;
    }
  return -1;
}

/* The compression named by the stream's first bytes, NULL for none. */
static const char *
compression_name (const struct nook_xt *x)
{
  static const struct
  {
    const char *name;
    unsigned char magic[6];
    size_t len;
  } known[] = {
    { "gzip", { 0x1f, 0x8b }, 2 },
    { "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
    { "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },
    { "bzip2", { 'B', 'Z', 'h' }, 3 },
    { "lz4", { 0x04, 0x22, 0x4d, 0x18 }, 4 },
  };

  for (size_t i = 0; i < sizeof (known) / sizeof (known[0]); i++)
    if (x->nmagic >= known[i].len && memcmp (x->magic, known[i].magic, known[i].len) == 0)
      return known[i].name;
  return NULL;
}

static int
decompress_fail (struct nook_xt *x)
{
  const char *filter = compression_name (x);
  const char *why = archive_error_string (x->in);
  cleanup_free char *msg = NULL;

  if (why == NULL)
    why = "truncated or corrupt data";
  if (filter)
    msg = xasprintf ("decompress layer (%s): %s", filter, why);
  else
    msg = xasprintf ("layer is not a tar archive: %s", x->nmagic ? why : "empty stream");
  return stream_fail (x, filter ? EIO : EINVAL, msg);
}

/* Account N bytes of uncompressed data in X->buf: hash and bound. */
static int
account (struct nook_xt *x, size_t n)
{
  x->total += n;
  if (x->total > x->max)
    {
      cleanup_free char *msg = xasprintf ("layer exceeds the size bound of %llu bytes (gzip bomb?)",
                                          (unsigned long long) x->max);
      return stream_fail (x, EFBIG, msg);
    }
  nook_sha256_update (x->hash, x->buf, n);
  return 0;
}

/* Pull the next chunk of uncompressed data from A.  Returns bytes (0 at the end) or -1. */
static la_ssize_t
pull (struct nook_xt *x)
{
  la_ssize_t n;

  if (x->stream_failed)
    return -1;
  n = archive_read_data (x->in, x->buf, XT_BUF_SIZE);
  if (n < 0)
    return decompress_fail (x);
  if (n > 0 && account (x, (size_t) n) < 0)
    return -1;
  return n;
}

static la_ssize_t
tar_read_cb (struct archive *b, void *ud, const void **out)
{
  struct nook_xt *x = ud;
  la_ssize_t n = pull (x);

  *out = x->buf;
  if (n < 0)
    archive_set_error (b, x->stream_err.code, "%s", x->stream_err.msg);
  return n;
}

static int
tar_close_cb (struct archive *b, void *ud)
{
  return ARCHIVE_OK;
}

static la_ssize_t
in_read_cb (struct archive *a, void *ud, const void **out)
{
  struct nook_xt *x = ud;
  ssize_t n;

  *out = x->inbuf;
  do
    n = read (x->fd, x->inbuf, XT_BUF_SIZE);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      nook_error (&x->stream_err, errno, "read layer");
      x->stream_failed = true;
      archive_set_error (a, x->stream_err.code, "%s", x->stream_err.msg);
      return -1;
    }
  while (x->nmagic < sizeof (x->magic) && n > 0 && (ssize_t) x->nmagic < n)
    {
      x->magic[x->nmagic] = (unsigned char) x->inbuf[x->nmagic];
      x->nmagic++;
    }
  return n;
}

static int
in_close_cb (struct archive *a, void *ud)
{
  return ARCHIVE_OK;
}

static int
open_input (struct nook_xt *x, nook_err *err)
{
  struct archive_entry *e;
  int r;

  x->in = archive_read_new ();
  if (x->in == NULL)
    return nook_error (err, ENOMEM, "libarchive reader");
  /* Built-in decompressors only: a filter whose library is missing would fall back to running an external
   * program (and support_filter_all adds lrzip/lzop/grzip, which always do). */
  if (archive_zlib_version ())
    archive_read_support_filter_gzip (x->in);
  if (archive_libzstd_version ())
    archive_read_support_filter_zstd (x->in);
  if (archive_liblzma_version ())
    archive_read_support_filter_xz (x->in);
  if (archive_bzlib_version ())
    archive_read_support_filter_bzip2 (x->in);
  if (archive_liblz4_version ())
    archive_read_support_filter_lz4 (x->in);
  archive_read_support_format_raw (x->in);
  r = archive_read_open (x->in, x, NULL, in_read_cb, in_close_cb);
  if (r == ARCHIVE_OK)
    r = archive_read_next_header (x->in, &e);
  if (r == ARCHIVE_EOF)
    return nook_error_input (err, "layer is not a tar archive: empty stream");
  if (r < ARCHIVE_WARN)
    {
      if (!x->stream_failed)
        decompress_fail (x);
      *err = x->stream_err;
      return -1;
    }
  return 0;
}

static int
open_tar (struct nook_xt *x, nook_err *err)
{
  x->tar = archive_read_new ();
  if (x->tar == NULL)
    return nook_error (err, ENOMEM, "libarchive reader");
  archive_read_support_format_tar (x->tar); /* ustar, pax, gnutar, v7 */
  if (archive_read_open (x->tar, x, NULL, tar_read_cb, tar_close_cb) != ARCHIVE_OK)
    return nook_xt_read_error (x, NULL, false, err);
  return 0;
}

int
nook_xt_read_error (struct nook_xt *x, const char *path, bool after, nook_err *err)
{
  const char *why = archive_error_string (x->tar);
  cleanup_free char *saved = xstrdup (why ? why : "read error");

  /* A damaged tar inside a compressed stream is usually a corrupt stream: prefer saying so. */
  while (!x->stream_failed && pull (x) > 0)
    ;
  if (x->stream_failed)
    {
      *err = x->stream_err;
      return -1;
    }
  if (path == NULL)
    return nook_error_input (err, "layer is not a tar archive: %s", saved);
  return nook_error_input (err, "layer entry %s`%s`: read tar: %s", after ? "after " : "", path, saved);
}

static int
drain (struct nook_xt *x, nook_err *err)
{
  la_ssize_t n;

  while ((n = pull (x)) > 0)
    ;
  if (n < 0)
    {
      *err = x->stream_err;
      return -1;
    }
  return 0;
}

/* ---- entries and directory times -------------------------------------------------------------- */

void
nook_xt_defer_dir_times (struct nook_xt *x, const char *path, const struct timespec ts[2])
{
  struct nook_xt_dirtime *d;

  if (x->ndirs == x->capdirs)
    {
      x->capdirs = x->capdirs ? x->capdirs * 2 : 64;
      x->dirs = xrealloc (x->dirs, x->capdirs * sizeof (*x->dirs));
    }
  d = &x->dirs[x->ndirs];
  d->path = xstrdup (path);
  d->ts[0] = ts[0];
  d->ts[1] = ts[1];
  d->seq = x->ndirs++;
}

static size_t
depth_of (const char *path)
{
  size_t n = 0;
  for (; *path; path++)
    n += *path == '/';
  return n;
}

static int
cmp_dirtime (const void *a, const void *b)
{
  const struct nook_xt_dirtime *da = a, *db = b;
  size_t xa = depth_of (da->path), xb = depth_of (db->path);

  if (xa != xb)
    return xa > xb ? -1 : 1;
  return da->seq < db->seq ? -1 : da->seq > db->seq;
}

/* A directory replaced or removed by a later entry is skipped. */
static int
apply_dir_time (struct nook_xt *x, const struct nook_xt_dirtime *d, nook_err *err)
{
  cleanup_free char *parent = NULL, *name = NULL;
  cleanup_close int pfd = -1;
  nook_err ignored = { 0 };
  struct stat st;

  nook_xt_split (d->path, &parent, &name);
  pfd = nook_xt_open_dir (x, parent, false, &ignored);
  if (pfd < 0 || fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
    return 0;
  if (utimensat (pfd, name, d->ts, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error (err, errno, "layer entry `%s`: set times", d->path);
  return 0;
}

static int
apply_dir_times (struct nook_xt *x, nook_err *err)
{
  if (x->ndirs > 1)
    qsort (x->dirs, x->ndirs, sizeof (*x->dirs), cmp_dirtime);
  for (size_t i = 0; i < x->ndirs; i++)
    if (apply_dir_time (x, &x->dirs[i], err) < 0)
      return -1;
  return 0;
}

static int
extract_entries (struct nook_xt *x, nook_err *err)
{
  cleanup_free char *last = NULL;
  struct archive_entry *e;
  int r;

  for (;;)
    {
      r = archive_read_next_header (x->tar, &e);
      if (r == ARCHIVE_EOF)
        return 0;
      /* ARCHIVE_WARN: e.g. a UTF-8 pax name that the C locale cannot convert; the raw bytes are kept. */
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) /* ARCHIVE_RETRY too: a damaged header */
        return nook_xt_read_error (x, last, true, err);
      if (nook_xt_entry (x, e, err) < 0)
        return -1;
      free (last);
      last = xstrdup (archive_entry_pathname (e) ? archive_entry_pathname (e) : "");
    }
}

static void
xt_free (struct nook_xt *x)
{
  if (x->tar)
    archive_read_free (x->tar);
  if (x->in)
    archive_read_free (x->in);
  if (x->hash)
    nook_sha256_free (x->hash);
  for (size_t i = 0; i < x->ndirs; i++)
    free (x->dirs[i].path);
  free (x->dirs);
  free (x->buf);
  free (x->inbuf);
}

int
nook_layer_extract (int fd, int dirfd, const struct nook_extract_opts *opts, struct nook_extract_result *res,
                    nook_err *err)
{
  static const struct nook_extract_opts defaults = { 0 };
  struct nook_extract_result local;
  struct nook_xt x = { .rootfd = dirfd, .fd = fd };
  int ret;

  if (nook_archive_load (err) < 0)
    return -1;
  x.opts = opts ? opts : &defaults;
  x.res = res ? res : &local;
  memset (x.res, 0, sizeof (*x.res));
  x.max = x.opts->max_bytes ? x.opts->max_bytes : nook_extract_bound (0);
  x.buf = xmalloc (XT_BUF_SIZE);
  x.inbuf = xmalloc (XT_BUF_SIZE);
  x.hash = nook_sha256_new ();
  if (x.hash == NULL)
    ret = nook_error (err, ENOMEM, "sha256");
  else
    ret = open_input (&x, err);
  if (ret == 0)
    ret = open_tar (&x, err);
  if (ret == 0)
    ret = extract_entries (&x, err);
  if (ret == 0)
    ret = drain (&x, err);
  if (ret == 0)
    ret = apply_dir_times (&x, err);
  if (ret == 0)
    {
      nook_sha256_final (x.hash, x.res->diff_id);
      x.res->size = x.total;
    }
  xt_free (&x);
  return ret;
}
