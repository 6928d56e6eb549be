/* nook cp with "-": a tar stream of the container's SRC on stdout, or a tar stream from stdin extracted
 * into the container's directory DST.  Extraction resolves every entry's parent inside the container root
 * (an absolute symlink in the container or in the archive never leads out), refuses ".." components, and
 * replaces existing entries instead of writing through them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/archive_lib.h"
#include "manager/cp_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define TAR_BUF 65536

/* ---- create ---- */

static int
ar_fail (struct archive *a, nook_err *err, const char *what, const char *name)
{
  return nook_error_input (err, "tar: %s `%s`: %s", what, name, archive_error_string (a) ?: "unknown error");
}

static int tar_add (struct cp_job *j, struct archive *a, int sfd, const char *name, nook_err *err);

static int
tar_children (struct cp_job *j, struct archive *a, int sfd, const char *prefix, nook_err *err)
{
  int fd = openat (sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return nook_error (err, errno, "open directory `%s`", prefix);
    }
  for (errno = 0; (e = readdir (d)) != NULL; errno = 0)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      cleanup_close int cfd = openat (dirfd (d), e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      cleanup_free char *name = prefix[0] ? xasprintf ("%s/%s", prefix, e->d_name) : xstrdup (e->d_name);
      if (cfd < 0)
        return nook_error (err, errno, "open `%s`", name);
      if (tar_add (j, a, cfd, name, err) < 0)
        return -1;
    }
  return errno ? nook_error (err, errno, "read directory `%s`", prefix) : 0;
}

static int
tar_data (struct archive *a, int sfd, const char *name, nook_err *err)
{
  char p[32], buf[TAR_BUF];
  cleanup_close int in = open (nook_fd_path (sfd, p, sizeof (p)), O_RDONLY | O_NOCTTY | O_CLOEXEC);
  ssize_t n;

  if (in < 0)
    return nook_error (err, errno, "open `%s` for reading", name);
  while ((n = read (in, buf, sizeof (buf))) > 0)
    if (archive_write_data (a, buf, (size_t) n) < 0)
      return ar_fail (a, err, "write", name);
  return n < 0 ? nook_error (err, errno, "read `%s`", name) : 0;
}

static int
tar_add (struct cp_job *j, struct archive *a, int sfd, const char *name, nook_err *err)
{
  struct archive_entry *e = archive_entry_new ();
  struct stat st;
  char target[4096];
  int ret = -1;

  if (fstat (sfd, &st) < 0)
    {
      nook_error (err, errno, "stat `%s`", name);
      goto out;
    }
  if (S_ISSOCK (st.st_mode))
    {
      ret = 0;
      goto out;
    }
  archive_entry_copy_stat (e, &st);
  archive_entry_set_pathname (e, name);
  if (S_ISLNK (st.st_mode))
    {
      ssize_t n = readlinkat (sfd, "", target, sizeof (target) - 1);
      if (n < 0)
        {
          nook_error (err, errno, "readlink `%s`", name);
          goto out;
        }
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  if (!S_ISREG (st.st_mode))
    archive_entry_set_size (e, 0);
  if (archive_write_header (a, e) != ARCHIVE_OK)
    {
      ar_fail (a, err, "write header", name);
      goto out;
    }
  if (S_ISREG (st.st_mode))
    ret = tar_data (a, sfd, name, err);
  else if (S_ISDIR (st.st_mode))
    ret = tar_children (j, a, sfd, name, err);
  else
    ret = 0;
out:
  archive_entry_free (e);
  return ret;
}

int
cp_tar_create (struct cp_job *j, int outfd, nook_err *err)
{
  cleanup_close int sfd = cp_open (j, true, j->src, cp_src_flags (j->src), err);
  struct archive *a;
  struct stat st;
  const char *slash;
  cleanup_free char *base = NULL;
  size_t n = strlen (j->src);
  int ret;

  if (sfd < 0)
    return -1;
  if (fstat (sfd, &st) < 0)
    return nook_error (err, errno, "stat `%s`", j->src);
  /* "dir/." and "/": the contents; else the entry under its own name */
  bool contents = n == 0 || j->src[n - 1] == '/' || (n >= 2 && strcmp (j->src + n - 2, "/.") == 0)
                  || strcmp (j->src, ".") == 0;
  if (!contents)
    {
      slash = strrchr (j->src, '/');
      base = xstrdup (slash ? slash + 1 : j->src);
    }
  contents = contents && S_ISDIR (st.st_mode);
  if (nook_archive_load (err) < 0)
    return -1;
  a = archive_write_new ();
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK || archive_write_open_fd (a, outfd) != ARCHIVE_OK)
    {
      ret = ar_fail (a, err, "open", "-");
      archive_write_free (a);
      return ret;
    }
  if (contents)
    ret = tar_children (j, a, sfd, "", err);
  else
    ret = tar_add (j, a, sfd, base ? base : ".", err);
  if (archive_write_close (a) != ARCHIVE_OK && ret == 0)
    ret = ar_fail (a, err, "close", "-");
  archive_write_free (a);
  return ret;
}

/* ---- extract ---- */

/* NAME without leading "/" and "./", "" for the top; NULL when a component is "..". */
static char *
clean_name (const char *name)
{
  cleanup_free char *copy = xstrdup (name);
  char *out = xstrdup (""), *save = NULL;

  for (char *c = strtok_r (copy, "/", &save); c != NULL; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, ".") == 0)
        continue;
      if (strcmp (c, "..") == 0)
        {
          free (out);
          return NULL;
        }
      char *n = xasprintf ("%s%s%s", out, out[0] ? "/" : "", c);
      free (out);
      out = n;
    }
  return out;
}

static int
entry_attrs (struct cp_job *j, int fd, struct archive_entry *e, const char *name, nook_err *err)
{
  struct timespec ts[2] = { { archive_entry_mtime (e), archive_entry_mtime_nsec (e) },
                            { archive_entry_mtime (e), archive_entry_mtime_nsec (e) } };
  uid_t u;
  gid_t g;

  cp_owner (j, (uid_t) archive_entry_uid (e), (gid_t) archive_entry_gid (e), &u, &g);
  if ((u != (uid_t) -1 || g != (gid_t) -1) && fchown (fd, u, g) < 0)
    return nook_error (err, errno, "chown `%s`", name);
  if (fchmod (fd, archive_entry_perm (e)) < 0)
    return nook_error (err, errno, "chmod `%s`", name);
  futimens (fd, ts);
  return 0;
}

static int
extract_reg (struct cp_job *j, struct archive *a, struct archive_entry *e, int pfd, const char *base,
             const char *name, nook_err *err)
{
  cleanup_close int out = openat (pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (out < 0)
    return nook_error (err, errno, "create `%s`", name);
  if (archive_read_data_into_fd (a, out) != ARCHIVE_OK)
    return ar_fail (a, err, "extract", name);
  return entry_attrs (j, out, e, name, err);
}

static int
extract_dir (struct cp_job *j, struct archive_entry *e, int pfd, const char *base, const char *name, nook_err *err)
{
  cleanup_close int fd = -1;

  if (mkdirat (pfd, base, 0700) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", name);
  fd = openat (pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", name);
  return entry_attrs (j, fd, e, name, err);
}

static int
extract_link (struct cp_job *j, struct archive_entry *e, int pfd, const char *base, const char *name, nook_err *err)
{
  const char *hl = archive_entry_hardlink (e);
  uid_t u;
  gid_t g;

  if (hl != NULL)
    {
      cleanup_free char *clean = clean_name (hl);
      cleanup_free char *full = clean ? xasprintf ("%s/%s", j->dst, clean) : NULL;
      char p[32];
      if (full == NULL)
        return nook_error_input (err, "tar: hardlink `%s` leaves the destination", name);
      cleanup_close int t = nook_open_in_root (j->rootfd, full, O_PATH | O_NOFOLLOW, 0, err);
      if (t < 0)
        return nook_error_prefix (err, "hardlink `%s`", name);
      if (linkat (AT_FDCWD, nook_fd_path (t, p, sizeof (p)), pfd, base, AT_SYMLINK_FOLLOW) < 0)
        return nook_error (err, errno, "link `%s`", name);
      return 0;
    }
  if (symlinkat (archive_entry_symlink (e) ?: "", pfd, base) < 0)
    return nook_error (err, errno, "symlink `%s`", name);
  cp_owner (j, (uid_t) archive_entry_uid (e), (gid_t) archive_entry_gid (e), &u, &g);
  if ((u != (uid_t) -1 || g != (gid_t) -1) && fchownat (pfd, base, u, g, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error (err, errno, "chown `%s`", name);
  return 0;
}

static int
extract_entry (struct cp_job *j, struct archive *a, struct archive_entry *e, nook_err *err)
{
  cleanup_free char *name = clean_name (archive_entry_pathname (e) ?: "");
  mode_t type = archive_entry_filetype (e);
  char *slash;

  if (name == NULL)
    return nook_error_input (err, "tar: entry `%s` contains \"..\"", archive_entry_pathname (e));
  if (name[0] == '\0')
    return 0; /* "./": the destination itself */
  cleanup_free char *parent = xstrdup (name);
  slash = strrchr (parent, '/');
  const char *base = slash ? slash + 1 : name;
  if (slash)
    *slash = '\0';
  cleanup_free char *pfull = xasprintf ("%s/%s", j->dst, slash ? parent : "");
  cleanup_close int pfd = nook_ensure_in_root (j->rootfd, pfull, true, 0755, err);
  cleanup_close int pdir = -1;
  if (pfd < 0)
    return nook_error_prefix (err, "tar entry `%s`", name);
  pdir = openat (pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pdir < 0)
    return nook_error (err, errno, "open the directory of `%s`", name);
  if (cp_make_room (j, pdir, base, type == AE_IFDIR ? S_IFDIR : S_IFREG, err) < 0)
    return -1;
  if (type == AE_IFDIR)
    return extract_dir (j, e, pdir, base, name, err);
  if (type == AE_IFREG && archive_entry_hardlink (e) == NULL)
    return extract_reg (j, a, e, pdir, base, name, err);
  if (type == AE_IFLNK || archive_entry_hardlink (e) != NULL)
    return extract_link (j, e, pdir, base, name, err);
  if (mknodat (pdir, base, type | archive_entry_perm (e), archive_entry_rdev (e)) < 0)
    {
      if (errno == EPERM && type != AE_IFIFO)
        {
          nook_warn ("cp: device `%s` skipped: %s", name, strerror (errno));
          return 0;
        }
      return nook_error (err, errno, "mknod `%s`", name);
    }
  return 0;
}

int
cp_tar_extract (struct cp_job *j, int infd, nook_err *err)
{
  cleanup_close int dst = cp_open (j, true, j->dst, O_RDONLY | O_DIRECTORY, err);
  struct archive *a;
  struct archive_entry *e;
  int r, ret = 0;

  if (dst < 0)
    return nook_error_prefix (err, "destination must be a directory when copying from stdin");
  if (nook_archive_load (err) < 0)
    return -1;
  a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_filter_all (a);
  if (archive_read_open_fd (a, infd, TAR_BUF) != ARCHIVE_OK)
    ret = ar_fail (a, err, "read", "-");
  while (ret == 0 && (r = archive_read_next_header (a, &e)) != ARCHIVE_EOF)
    {
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        ret = ar_fail (a, err, "read", "-");
      else
        ret = extract_entry (j, a, e, err);
    }
  archive_read_free (a);
  return ret;
}
