#include "runtime/overlay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define COPY_MARKER ".nook-copied"

void
nook_overlay_free (struct nook_overlay *o)
{
  if (o == NULL)
    return;
  free (o->layers_dir);
  strv_free (o->lowers);
  free (o->upper);
  free (o->work);
  memset (o, 0, sizeof (*o));
}

static char *
mount_data (const struct nook_overlay *o, bool absolute)
{
  size_t cap = 64 + strlen (o->upper) + strlen (o->work);
  for (size_t i = 0; o->lowers[i]; i++)
    cap += strlen (o->lowers[i]) + strlen (o->layers_dir) + 2;
  char *s = xmalloc (cap);
  strcpy (s, "lowerdir=");
  for (size_t i = 0; o->lowers[i]; i++)
    {
      if (i)
        strcat (s, ":");
      if (absolute)
        {
          strcat (s, o->layers_dir);
          strcat (s, "/");
        }
      strcat (s, o->lowers[i]);
    }
  strcat (s, ",upperdir=");
  strcat (s, o->upper);
  strcat (s, ",workdir=");
  strcat (s, o->work);
  if (o->userxattr)
    strcat (s, ",userxattr");
  return s;
}

static int
mount_kernel (const struct nook_overlay *o, const char *target, nook_err *err)
{
  cleanup_close int cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *data = mount_data (o, false);
  int r, e;

  if (chdir (o->layers_dir) < 0)
    return nook_error (err, errno, "chdir `%s`", o->layers_dir);
  r = mount ("overlay", target, "overlay", 0, data);
  e = errno;
  if (cwd >= 0 && fchdir (cwd) < 0)
    nook_warn ("fchdir back to the previous working directory: %s", strerror (errno));
  if (r < 0)
    return nook_error (err, e, "mount overlay on `%s`", target);
  return 0;
}

static int
mount_fuse (const struct nook_overlay *o, const char *target, nook_err *err)
{
  cleanup_free char *opts = mount_data (o, true);
  int status;
  pid_t pid = fork ();

  if (pid < 0)
    return nook_error (err, errno, "fork");
  if (pid == 0)
    {
      execlp ("fuse-overlayfs", "fuse-overlayfs", "-o", opts, target, (char *) NULL);
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return nook_error_input (err, "fuse-overlayfs on `%s` failed (status %d)", target, WEXITSTATUS (status));
}

/* ---- the copy fallback ---- */

static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool
is_opaque (int dirfd, bool userxattr)
{
  char v[4] = "";
  char path[64];
  snprintf (path, sizeof (path), "/proc/self/fd/%d", dirfd);
  return getxattr (path, userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque", v, sizeof (v)) > 0
         && v[0] == 'y';
}

static int copy_tree (int src, int dst, bool userxattr, nook_err *err);

/* The copy keeps owners where it can: a rootless caller cannot give a file an id outside its map, and the
 * copy is still right for every id it can represent. */
static inline void
keep_owner (int chown_result)
{
  (void) chown_result;
}

static int
copy_file (int src, int dst, const char *name, const struct stat *st, nook_err *err)
{
  cleanup_close int in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int out = -1;

  if (in < 0)
    return nook_error (err, errno, "open `%s`", name);
  out = openat (dst, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
  if (out < 0)
    return nook_error (err, errno, "create `%s`", name);
  if (ioctl (out, FICLONE, in) < 0)
    {
      off_t left = st->st_size;
      while (left > 0)
        {
          ssize_t n = copy_file_range (in, NULL, out, NULL, (size_t) left, 0);
          if (n <= 0)
            return nook_error (err, n < 0 ? errno : EIO, "copy `%s`", name);
          left -= n;
        }
    }
  keep_owner (fchown (out, st->st_uid, st->st_gid));
  fchmod (out, st->st_mode & 07777);
  return 0;
}

static int
copy_entry (int src, int dst, const char *name, bool userxattr, nook_err *err)
{
  struct stat st;

  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error (err, errno, "stat `%s`", name);
  if (is_whiteout (&st))
    return nook_rm_rf_at (dst, name, err);
  if (S_ISDIR (st.st_mode))
    {
      struct stat dst_st;
      if (fstatat (dst, name, &dst_st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR (dst_st.st_mode)
          && nook_rm_rf_at (dst, name, err) < 0)
        return -1;
      if (mkdirat (dst, name, st.st_mode & 07777) < 0 && errno != EEXIST)
        return nook_error (err, errno, "mkdir `%s`", name);
      cleanup_close int s2 = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int d2 = -1;
      if (s2 < 0)
        return nook_error (err, errno, "open `%s`", name);
      if (is_opaque (s2, userxattr) && (nook_rm_rf_at (dst, name, err) < 0 || mkdirat (dst, name, st.st_mode & 07777) < 0))
        return nook_error (err, errno, "reset opaque `%s`", name);
      d2 = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (d2 < 0)
        return nook_error (err, errno, "open `%s`", name);
      keep_owner (fchown (d2, st.st_uid, st.st_gid));
      fchmod (d2, st.st_mode & 07777);
      return copy_tree (s2, d2, userxattr, err);
    }
  if (nook_rm_rf_at (dst, name, err) < 0)
    return -1;
  if (S_ISREG (st.st_mode))
    return copy_file (src, dst, name, &st, err);
  if (S_ISLNK (st.st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (src, name, target, sizeof (target) - 1);
      if (n < 0)
        return nook_error (err, errno, "readlink `%s`", name);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return nook_error (err, errno, "symlink `%s`", name);
      keep_owner (fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW));
      return 0;
    }
  /* fifos and devices: best effort (devices cannot be created in a user namespace) */
  if (mknodat (dst, name, st.st_mode, st.st_rdev) == 0)
    keep_owner (fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW));
  return 0;
}

static int
copy_tree (int src, int dst, bool userxattr, nook_err *err)
{
  cleanup_dir DIR *d = fdopendir (dup (src));
  struct dirent *de;

  if (d == NULL)
    return nook_error (err, errno, "opendir");
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (src, dst, de->d_name, userxattr, err) < 0)
        return -1;
    }
  return 0;
}

static int
materialize (const struct nook_overlay *o, nook_err *err)
{
  cleanup_close int up = open (o->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int base = open (o->layers_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int work = open (o->work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t n = strv_len (o->lowers);

  if (up < 0 || base < 0 || work < 0)
    return nook_error (err, errno, "open `%s`", up < 0 ? o->upper : base < 0 ? o->layers_dir : o->work);
  /* The marker lives in the (otherwise unused) work directory: nothing extra shows in the container. */
  if (faccessat (work, COPY_MARKER, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  for (size_t i = n; i-- > 0;) /* bottom layer first */
    {
      cleanup_close int l = openat (base, o->lowers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (l < 0)
        return nook_error (err, errno, "open layer `%s`", o->lowers[i]);
      if (copy_tree (l, up, o->userxattr, err) < 0)
        return -1;
    }
  return nook_write_file_atomic (work, COPY_MARKER, "", 0, 0600, false, err);
}

int
nook_overlay_copy_mount (const struct nook_overlay *o, const char *target, nook_err *err)
{
  if (materialize (o, err) < 0)
    return nook_error_prefix (err, "copying the image layers");
  if (mount (o->upper, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return nook_error (err, errno, "bind `%s` on `%s`", o->upper, target);
  return 0;
}

int
nook_overlay_mount (const struct nook_overlay *o, const char *target, nook_err *err)
{
  nook_err first = { 0 }, second = { 0 };

  if (strpbrk (o->upper, ",:") || strpbrk (o->work, ",:") || strpbrk (o->layers_dir, ",:"))
    return nook_error_input (err, "store path `%s` contains ',' or ':', which overlay mount options cannot carry",
                             o->upper);
  if (mount_kernel (o, target, &first) == 0)
    return 0;
  if (mount_fuse (o, target, &second) == 0)
    return 0;
  if (nook_overlay_copy_mount (o, target, err) == 0)
    return 0;
  return nook_error_prefix (err, "%s; and the copy fallback failed", first.msg);
}
