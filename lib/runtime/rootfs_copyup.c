/* "tmpcopyup" (a podman/crun/runc extension podman adds to tmpfs mounts by default): the new tmpfs starts
 * with a copy of what the directory it covers held in the image.  Everything is copied relative to
 * directory fds, never following symlinks; ownership that cannot be kept (ids not mapped in a user
 * namespace) and device nodes that cannot be made are skipped, as crun does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/rootfs_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define COPYUP_MAX_DEPTH 128

static int copy_dir (int src, int dst, const char *what, int depth, nook_err *err);

static int
copy_data (int in, int out, const char *what, nook_err *err)
{
  char buf[65536];
  ssize_t n;

  for (;;)
    {
      n = copy_file_range (in, NULL, out, NULL, SSIZE_MAX, 0);
      if (n > 0)
        continue;
      if (n == 0)
        return 0;
      if (errno == EINTR)
        continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return nook_error (err, errno, "copy `%s`", what);
      break;
    }
  while ((n = read (in, buf, sizeof (buf))) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || write (out, buf, (size_t)n) != n)
        return nook_error (err, errno ? errno : EIO, "copy `%s`", what);
    }
  return 0;
}

static int
copy_file (int src, int dst, const char *name, const struct stat *st, const char *what, nook_err *err)
{
  cleanup_close int in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int out = -1;

  if (in < 0)
    return nook_error (err, errno, "open `%s`", what);
  out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 0777);
  if (out < 0)
    return nook_error (err, errno, "create `%s`", what);
  return copy_data (in, out, what, err);
}

static int
copy_symlink (int src, int dst, const char *name, const char *what, nook_err *err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (src, name, target, sizeof (target) - 1);

  if (n < 0)
    return nook_error (err, errno, "readlink `%s`", what);
  target[n] = '\0';
  if (symlinkat (target, dst, name) < 0)
    return nook_error (err, errno, "symlink `%s`", what);
  return 0;
}

static int
copy_subdir (int src, int dst, const char *name, const struct stat *st, const char *what, int depth, nook_err *err)
{
  cleanup_close int s = -1, d = -1;

  if (depth >= COPYUP_MAX_DEPTH)
    return nook_error (err, ELOOP, "copy `%s`", what);
  if (mkdirat (dst, name, (st->st_mode & 0777) | 0700) < 0)
    return nook_error (err, errno, "mkdir `%s`", what);
  s = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  d = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0 || d < 0)
    return nook_error (err, errno, "open `%s`", what);
  return copy_dir (s, d, what, depth + 1, err);
}

/* Owner, mode and times of NAME in DST as in ST; what the kernel refuses (unmapped ids) is skipped. */
static void
copy_meta (int dst, const char *name, const struct stat *st)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  int ignored;

  /* Best effort: EPERM/EINVAL for ids a user namespace does not map (the copy keeps ours). */
  ignored = fchownat (dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
  if (!S_ISLNK (st->st_mode)) /* after chown, which clears set-id bits */
    ignored = fchmodat (dst, name, st->st_mode & 07777, 0);
  ignored = utimensat (dst, name, times, AT_SYMLINK_NOFOLLOW);
  (void)ignored;
}

static int
copy_entry (int src, int dst, const char *name, const char *what, int depth, nook_err *err)
{
  struct stat st;
  int ret = 0;

  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error (err, errno, "stat `%s`", what);
  if (S_ISDIR (st.st_mode))
    ret = copy_subdir (src, dst, name, &st, what, depth, err);
  else if (S_ISREG (st.st_mode))
    ret = copy_file (src, dst, name, &st, what, err);
  else if (S_ISLNK (st.st_mode))
    ret = copy_symlink (src, dst, name, what, err);
  else if (mknodat (dst, name, st.st_mode, st.st_rdev) < 0)
    return 0; /* a device node we may not create: skipped */
  if (ret == 0)
    copy_meta (dst, name, &st);
  return ret;
}

static int
copy_dir (int src, int dst, const char *what, int depth, nook_err *err)
{
  int fd = dup (src);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;

  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return nook_error (err, errno, "read directory `%s`", what);
    }
  while ((errno = 0, de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", what, de->d_name);
      if (copy_entry (src, dst, de->d_name, sub, depth, err) < 0)
        return -1;
    }
  if (errno != 0)
    return nook_error (err, errno, "read directory `%s`", what);
  return 0;
}

int
nook_rootfs_copy_up (int src, int dst, const char *dest, nook_err *err)
{
  return copy_dir (src, dst, dest, 0, err);
}
