/* Layer extraction: one tar entry written into the layer directory.
 *
 * The parent directory is resolved inside the layer (nook_open_in_root: RESOLVE_IN_ROOT), so symlinks
 * from the layer never lead outside it; the final component is never followed: whatever is there is
 * removed first (unless both are directories) and the new node is created with O_EXCL / mkdirat /
 * symlinkat / mknodat.  Metadata order: owner, then mode (chown clears setuid), then xattrs (chown
 * clears security.capability), then times (directories: at the end, see extract.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "store/extract_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* The node being written: PFD/NAME, and FD when we hold it open (regular files, directories). */
struct node
{
  const char *path; /* normalized, for messages */
  int pfd;
  const char *name;
  int fd;
  bool is_link;
};

/* ---- metadata ---------------------------------------------------------------------------------- */

static int
chown_node (const struct node *n, uid_t uid, gid_t gid)
{
  if (n->fd >= 0)
    return fchown (n->fd, uid, gid);
  return fchownat (n->pfd, n->name, uid, gid, AT_SYMLINK_NOFOLLOW);
}

static int
apply_owner (struct nook_xt *x, const struct node *n, struct archive_entry *e, nook_err *err)
{
  la_int64_t uid = archive_entry_uid (e), gid = archive_entry_gid (e);

  if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
    return nook_error_input (err, "layer entry `%s`: invalid owner %lld:%lld", n->path, (long long) uid,
                             (long long) gid);
  if (chown_node (n, (uid_t) uid, (gid_t) gid) == 0)
    return 0;
  if (errno != EINVAL || !x->opts->in_userns)
    return nook_error (err, errno, "layer entry `%s`: chown %lld:%lld", n->path, (long long) uid, (long long) gid);
  /* Which of the two is outside the map?  Retry with the uid alone. */
  if (chown_node (n, (uid_t) uid, (gid_t) -1) == 0)
    return nook_error_input (err,
                             "layer entry `%s`: gid %lld is not mapped in the user namespace: potentially "
                             "insufficient UIDs or GIDs available",
                             n->path, (long long) gid);
  return nook_error_input (err,
                           "layer entry `%s`: uid %lld is not mapped in the user namespace: potentially "
                           "insufficient UIDs or GIDs available",
                           n->path, (long long) uid);
}

static int
apply_mode (const struct node *n, struct archive_entry *e, nook_err *err)
{
  mode_t mode = archive_entry_perm (e) & 07777;
  int r;

  if (n->is_link)
    return 0;
  r = n->fd >= 0 ? fchmod (n->fd, mode) : fchmodat (n->pfd, n->name, mode, AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return nook_error (err, errno, "layer entry `%s`: chmod %04o", n->path, (unsigned) mode);
  return 0;
}

/* Overlay's own markers come only from whiteout entries, never from an image's xattrs. */
static bool
xattr_ignored (const char *name)
{
  return str_has_prefix (name, "trusted.overlay.") || str_has_prefix (name, "user.overlay.");
}

static bool
xattr_failure_ok (struct nook_xt *x, const char *name, int errnum)
{
  if (str_has_prefix (name, "security."))
    return true;
  return x->opts->in_userns && errnum == EPERM && str_has_prefix (name, "trusted.");
}

static int
set_one_xattr (const struct node *n, const char *name, const void *value, size_t size)
{
  char path[64];

  if (n->fd >= 0)
    return fsetxattr (n->fd, name, value, size, 0);
  /* lsetxattr does not follow the final component: a symlink gets the xattr itself. */
  snprintf (path, sizeof (path), "/proc/self/fd/%d/", n->pfd);
  cleanup_free char *full = xasprintf ("%s%s", path, n->name);
  return lsetxattr (full, name, value, size, 0);
}

static int
apply_xattrs (struct nook_xt *x, const struct node *n, struct archive_entry *e, nook_err *err)
{
  const char *name;
  const void *value;
  size_t size;

  if (archive_entry_xattr_reset (e) == 0)
    return 0;
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      if (name == NULL || xattr_ignored (name))
        continue;
      if (set_one_xattr (n, name, value, size) < 0 && !xattr_failure_ok (x, name, errno))
        return nook_error (err, errno, "layer entry `%s`: set xattr `%s`", n->path, name);
    }
  return 0;
}

static void
entry_times (struct archive_entry *e, struct timespec ts[2])
{
  ts[1].tv_sec = archive_entry_mtime (e);
  ts[1].tv_nsec = archive_entry_mtime_nsec (e);
  if (archive_entry_atime_is_set (e))
    {
      ts[0].tv_sec = archive_entry_atime (e);
      ts[0].tv_nsec = archive_entry_atime_nsec (e);
    }
  else
    ts[0] = ts[1];
}

static int
apply_times (const struct node *n, struct archive_entry *e, nook_err *err)
{
  struct timespec ts[2];
  int r;

  entry_times (e, ts);
  r = n->fd >= 0 ? futimens (n->fd, ts) : utimensat (n->pfd, n->name, ts, AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return nook_error (err, errno, "layer entry `%s`: set times", n->path);
  return 0;
}

/* Owner, mode, xattrs; times too unless the node is a directory (deferred). */
static int
apply_meta (struct nook_xt *x, const struct node *n, struct archive_entry *e, bool is_dir, nook_err *err)
{
  if (apply_owner (x, n, e, err) < 0 || apply_mode (n, e, err) < 0 || apply_xattrs (x, n, e, err) < 0)
    return -1;
  if (is_dir)
    {
      struct timespec ts[2];
      entry_times (e, ts);
      nook_xt_defer_dir_times (x, n->path, ts);
      return 0;
    }
  return apply_times (n, e, err);
}

/* ---- the slot ---------------------------------------------------------------------------------- */

/* Make room for NAME in PFD: remove what is there unless both it and the new entry are directories.
 * *KEPT_DIR tells that an existing directory stays. */
static int
clear_slot (const char *path, int pfd, const char *name, bool new_is_dir, bool *kept_dir, nook_err *err)
{
  struct stat st;

  *kept_dir = false;
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return nook_error (err, errno, "layer entry `%s`: stat", path);
    }
  if (S_ISDIR (st.st_mode))
    {
      if (new_is_dir)
        {
          *kept_dir = true;
          return 0;
        }
      if (nook_rm_rf_at (pfd, name, err) < 0)
        return nook_error_prefix (err, "layer entry `%s`: replace directory", path);
      return 0;
    }
  if (unlinkat (pfd, name, 0) < 0 && errno != ENOENT)
    return nook_error (err, errno, "layer entry `%s`: unlink", path);
  return 0;
}

/* ---- node types -------------------------------------------------------------------------------- */

static int
pwrite_all (int fd, const char *buf, size_t len, off_t off)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, buf, len, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      buf += n;
      len -= (size_t) n;
      off += n;
    }
  return 0;
}

static int
copy_data (struct nook_xt *x, const struct node *n, struct archive_entry *e, nook_err *err)
{
  la_int64_t end = 0, off;
  const void *buf;
  size_t size;
  int r;

  while ((r = archive_read_data_block (x->tar, &buf, &size, &off)) != ARCHIVE_EOF)
    {
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return nook_xt_read_error (x, n->path, false, err);
      if (size > 0 && pwrite_all (n->fd, buf, size, (off_t) off) < 0)
        return nook_error (err, errno ? errno : EIO, "layer entry `%s`: write", n->path);
      if (off + (la_int64_t) size > end)
        end = off + (la_int64_t) size;
    }
  /* Sparse files may end in a hole. */
  if (archive_entry_size_is_set (e) && archive_entry_size (e) > end
      && ftruncate (n->fd, (off_t) archive_entry_size (e)) < 0)
    return nook_error (err, errno, "layer entry `%s`: truncate", n->path);
  return 0;
}

static int
make_file (struct nook_xt *x, struct node *n, struct archive_entry *e, nook_err *err)
{
  cleanup_close int fd = openat (n->pfd, n->name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return nook_error (err, errno, "layer entry `%s`: create", n->path);
  n->fd = fd;
  if (copy_data (x, n, e, err) < 0 || apply_meta (x, n, e, false, err) < 0)
    return -1;
  if (close (steal_fd (&fd)) < 0)
    return nook_error (err, errno, "layer entry `%s`: close", n->path);
  return 0;
}

static int
make_dir (struct nook_xt *x, struct node *n, struct archive_entry *e, bool exists, nook_err *err)
{
  cleanup_close int fd = -1;

  if (!exists && mkdirat (n->pfd, n->name, 0700) < 0)
    return nook_error (err, errno, "layer entry `%s`: mkdir", n->path);
  fd = openat (n->pfd, n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "layer entry `%s`: open directory", n->path);
  n->fd = fd;
  return apply_meta (x, n, e, true, err);
}

static int
make_symlink (struct nook_xt *x, struct node *n, struct archive_entry *e, nook_err *err)
{
  const char *target = archive_entry_symlink (e);

  if (target == NULL || *target == '\0')
    return nook_error_input (err, "layer entry `%s`: symlink without a target", n->path);
  if (symlinkat (target, n->pfd, n->name) < 0)
    return nook_error (err, errno, "layer entry `%s`: symlink", n->path);
  n->is_link = true;
  return apply_meta (x, n, e, false, err);
}

static int
make_special (struct nook_xt *x, struct node *n, struct archive_entry *e, mode_t type, nook_err *err)
{
  int r;

  if (type == S_IFIFO)
    r = mkfifoat (n->pfd, n->name, 0600);
  else
    r = mknodat (n->pfd, n->name, type | 0600, archive_entry_rdev (e));
  if (r < 0)
    return nook_error (err, errno, "layer entry `%s`: mknod", n->path);
  return apply_meta (x, n, e, false, err);
}

/* The hardlink target, resolved inside the layer without following its final component. */
static int
open_link_target (struct nook_xt *x, const char *path, const char *raw, nook_err *err)
{
  cleanup_free char *target = NULL, *parent = NULL, *name = NULL;
  cleanup_close int pfd = -1;
  int fd;

  if (nook_xt_normalize (raw, &target) < 0)
    return nook_error_input (err, "layer entry `%s`: hardlink target `%s` escapes the layer", path, raw);
  if (*target == '\0')
    return nook_error_input (err, "layer entry `%s`: hardlink to the layer root", path);
  nook_xt_split (target, &parent, &name);
  pfd = nook_xt_open_dir (x, parent, false, err);
  if (pfd < 0)
    return nook_error_prefix (err, "layer entry `%s`: hardlink target `%s`", path, raw);
  fd = openat (pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "layer entry `%s`: hardlink target `%s`", path, raw);
  return fd;
}

static int
make_hardlink (struct nook_xt *x, struct node *n, const char *raw, nook_err *err)
{
  cleanup_close int tfd = open_link_target (x, n->path, raw, err);
  char proc[64];
  struct stat st;

  if (tfd < 0)
    return -1;
  if (fstat (tfd, &st) < 0)
    return nook_error (err, errno, "layer entry `%s`: stat hardlink target `%s`", n->path, raw);
  if (S_ISDIR (st.st_mode))
    return nook_error (err, EPERM, "layer entry `%s`: hardlink to directory `%s`", n->path, raw);
  if (linkat (tfd, "", n->pfd, n->name, AT_EMPTY_PATH) == 0)
    return 0;
  if (errno != EPERM && errno != ENOENT)
    return nook_error (err, errno, "layer entry `%s`: link to `%s`", n->path, raw);
  nook_fd_path (tfd, proc, sizeof (proc));
  if (linkat (AT_FDCWD, proc, n->pfd, n->name, AT_SYMLINK_FOLLOW) < 0)
    return nook_error (err, errno, "layer entry `%s`: link to `%s`", n->path, raw);
  return 0;
}

/* ---- whiteouts --------------------------------------------------------------------------------- */

static int
make_opaque (struct nook_xt *x, const char *path, const char *dir, nook_err *err)
{
  const char *key = x->opts->userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
  cleanup_close int fd = -1;

  if (*dir)
    {
      int p = nook_xt_open_dir (x, dir, true, err);
      if (p < 0)
        return nook_error_prefix (err, "layer entry `%s`", path);
      close (p);
    }
  fd = nook_open_in_root (x->rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY, 0, err);
  if (fd < 0)
    return nook_error_prefix (err, "layer entry `%s`", path);
  if (fsetxattr (fd, key, "y", 1, 0) < 0)
    return nook_error (err, errno, "layer entry `%s`: set xattr `%s`", path, key);
  return 0;
}

static bool
whiteout_name_ok (const char *name)
{
  return *name && strcmp (name, ".") != 0 && strcmp (name, "..") != 0 && strchr (name, '/') == NULL;
}

static int
make_whiteout (struct nook_xt *x, const char *path, const char *parent, const char *base, nook_err *err)
{
  const char *name = base + strlen (WH_PREFIX);
  cleanup_close int pfd = -1;
  bool kept;

  if (strcmp (base, WH_OPAQUE) == 0)
    return make_opaque (x, path, parent, err);
  if (str_has_prefix (base, WH_META_PREFIX))
    return nook_error_input (err, "layer entry `%s`: unsupported whiteout", path);
  if (!whiteout_name_ok (name))
    return nook_error_input (err, "layer entry `%s`: invalid whiteout", path);
  pfd = nook_xt_open_dir (x, parent, true, err);
  if (pfd < 0)
    return nook_error_prefix (err, "layer entry `%s`: parent directory", path);
  if (clear_slot (path, pfd, name, false, &kept, err) < 0)
    return -1;
  if (mknodat (pfd, name, S_IFCHR | 0000, makedev (0, 0)) < 0)
    return nook_error (err, errno, "layer entry `%s`: create whiteout", path);
  return 0;
}

/* ---- one entry --------------------------------------------------------------------------------- */

static int
make_node (struct nook_xt *x, struct node *n, struct archive_entry *e, nook_err *err)
{
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  bool kept_dir;

  if (clear_slot (n->path, n->pfd, n->name, hardlink == NULL && type == AE_IFDIR, &kept_dir, err) < 0)
    return -1;
  if (hardlink)
    return make_hardlink (x, n, hardlink, err);
  switch (type)
    {
    case AE_IFREG:
      return make_file (x, n, e, err);
    case AE_IFDIR:
      return make_dir (x, n, e, kept_dir, err);
    case AE_IFLNK:
      return make_symlink (x, n, e, err);
    case AE_IFIFO:
    case AE_IFCHR:
    case AE_IFBLK:
      return make_special (x, n, e, type, err);
    default:
      return nook_error_input (err, "layer entry `%s`: unsupported file type 0%o", n->path, (unsigned) type);
    }
}

int
nook_xt_entry (struct nook_xt *x, struct archive_entry *e, nook_err *err)
{
  const char *raw = archive_entry_pathname (e);
  cleanup_free char *path = NULL, *parent = NULL, *name = NULL;
  cleanup_close int pfd = -1;
  mode_t type = archive_entry_filetype (e);
  struct node n = { .fd = -1 };

  if (raw == NULL)
    return nook_error_input (err, "layer entry without a path");
  if (nook_xt_normalize (raw, &path) < 0)
    return nook_error_input (err, "layer entry `%s`: path escapes the layer", raw);
  if (*path == '\0')
    return 0; /* "." itself */
  nook_xt_split (path, &parent, &name);
  if (str_has_prefix (name, WH_PREFIX))
    return make_whiteout (x, path, parent, name, err);
  if (x->opts->in_userns && archive_entry_hardlink (e) == NULL && (type == AE_IFCHR || type == AE_IFBLK))
    {
      x->res->skipped_devices++;
      return 0;
    }
  pfd = nook_xt_open_dir (x, parent, true, err);
  if (pfd < 0)
    return nook_error_prefix (err, "layer entry `%s`: parent directory", path);
  n.path = path;
  n.pfd = pfd;
  n.name = name;
  return make_node (x, &n, e, err);
}
