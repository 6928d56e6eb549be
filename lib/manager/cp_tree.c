/* nook cp: the recursive copy between two directory fds.  Below the top-level source nothing is followed:
 * entries are opened with O_NOFOLLOW relative to their directory, symlinks are copied as symlinks, an
 * existing destination entry is replaced (never written through). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/cp_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

static long
map_id (const struct nook_idmap *m, size_t n, long id, bool to_host)
{
  for (size_t i = 0; i < n; i++)
    {
      long from = to_host ? m[i].container_id : m[i].host_id, to = to_host ? m[i].host_id : m[i].container_id;
      if (id >= from && id < from + (long) m[i].size)
        return to + (id - from);
    }
  return -1;
}

void
cp_owner (const struct cp_job *j, uid_t uid, gid_t gid, uid_t *ou, gid_t *og)
{
  long u = -1, g = -1;

  if (j->to_ctr)
    {
      /* into the container: its root, or the source's ids (-a) as the container sees them */
      u = j->o->archive ? (long) uid : 0;
      g = j->o->archive ? (long) gid : 0;
      if (!j->userns && j->nu > 0)
        u = map_id (j->umap, j->nu, u, true);
      if (!j->userns && j->ng > 0)
        g = map_id (j->gmap, j->ng, g, true);
    }
  else if (j->userns && !j->o->archive && j->s->n_uidmap > 0 && j->s->n_gidmap > 0)
    {
      /* rootless, to the host: the caller owns the copy, also when it is not the container's root
       * (--userns keep-id); uidmap[0] of the store maps 0 to the caller */
      u = map_id (j->umap, j->nu, j->s->uidmap[0].host_id, false);
      g = map_id (j->gmap, j->ng, j->s->gidmap[0].host_id, false);
    }
  else if (j->o->archive)
    {
      /* to the host with -a: the ids the container sees */
      u = uid, g = gid;
      if (!j->userns && j->nu > 0)
        u = map_id (j->umap, j->nu, u, false);
      if (!j->userns && j->ng > 0)
        g = map_id (j->gmap, j->ng, g, false);
    }
  *ou = (uid_t) u;
  *og = (gid_t) g;
}

static int
set_attrs (struct cp_job *j, int fd, const struct stat *st, const char *name, nook_err *err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  uid_t u;
  gid_t g;

  cp_owner (j, st->st_uid, st->st_gid, &u, &g);
  if ((u != (uid_t) -1 || g != (gid_t) -1) && fchown (fd, u, g) < 0)
    return nook_error (err, errno, "chown `%s` to %d:%d", name, (int) u, (int) g);
  if (fchmod (fd, st->st_mode & 07777) < 0)
    return nook_error (err, errno, "chmod `%s`", name);
  if (futimens (fd, ts) < 0)
    return nook_error (err, errno, "set the times of `%s`", name);
  return 0;
}

int
cp_make_room (struct cp_job *j, int ddir, const char *name, mode_t mode, nook_err *err)
{
  struct stat d;

  if (fstatat (ddir, name, &d, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : nook_error (err, errno, "stat `%s`", name);
  if (S_ISDIR (d.st_mode) && S_ISDIR (mode))
    return 0;
  if (S_ISDIR (d.st_mode))
    {
      if (!j->o->overwrite)
        return nook_error_input (err, "cannot overwrite directory \"%s\" with non-directory", name);
      return nook_rm_rf_at (ddir, name, err);
    }
  if (S_ISDIR (mode) && !j->o->overwrite)
    return nook_error_input (err, "cannot overwrite non-directory \"%s\" with directory", name);
  if (unlinkat (ddir, name, 0) < 0 && errno != ENOENT)
    return nook_error (err, errno, "remove `%s`", name);
  return 0;
}

static int
copy_data (int in, int out, const char *name, nook_err *err)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n > 0 || errno == EINTR)
        continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF
          || errno == EPERM || errno == ETXTBSY)
        break;
      return nook_error (err, errno, "copy `%s`", name);
    }
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof (buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nook_error (err, errno, "read `%s`", name);
      if (n == 0)
        return 0;
      if (nook_write_all (out, buf, (size_t) n) < 0)
        return nook_error (err, errno, "write `%s`", name);
    }
}

static int
copy_reg (struct cp_job *j, int sfd, const struct stat *st, int ddir, const char *dname, nook_err *err)
{
  char p[32];
  cleanup_close int in = open (nook_fd_path (sfd, p, sizeof (p)), O_RDONLY | O_NOCTTY | O_CLOEXEC);
  cleanup_close int out = -1;

  if (in < 0)
    return nook_error (err, errno, "open `%s` for reading", dname);
  if (cp_make_room (j, ddir, dname, st->st_mode, err) < 0)
    return -1;
  out = openat (ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return nook_error (err, errno, "create `%s`", dname);
  if (copy_data (in, out, dname, err) < 0)
    return -1;
  return set_attrs (j, out, st, dname, err);
}

static int
copy_dir (struct cp_job *j, int sfd, const struct stat *st, int ddir, const char *dname, nook_err *err)
{
  cleanup_close int sdir = openat (sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dfd = -1;

  if (sdir < 0)
    return nook_error (err, errno, "open directory `%s`", dname);
  if (cp_make_room (j, ddir, dname, st->st_mode, err) < 0)
    return -1;
  if (mkdirat (ddir, dname, 0700) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", dname);
  dfd = openat (ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return nook_error (err, errno, "open directory `%s`", dname);
  if (cp_tree_children (j, sdir, dfd, err) < 0)
    return nook_error_prefix (err, "%s", dname);
  return set_attrs (j, dfd, st, dname, err);
}

static int
copy_link (struct cp_job *j, int sfd, const struct stat *st, int ddir, const char *dname, nook_err *err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  char target[4096];
  ssize_t n = readlinkat (sfd, "", target, sizeof (target) - 1);
  uid_t u;
  gid_t g;

  if (n < 0)
    return nook_error (err, errno, "readlink `%s`", dname);
  target[n] = '\0';
  if (cp_make_room (j, ddir, dname, st->st_mode, err) < 0)
    return -1;
  if (symlinkat (target, ddir, dname) < 0)
    return nook_error (err, errno, "symlink `%s`", dname);
  cp_owner (j, st->st_uid, st->st_gid, &u, &g);
  if ((u != (uid_t) -1 || g != (gid_t) -1) && fchownat (ddir, dname, u, g, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error (err, errno, "chown `%s`", dname);
  utimensat (ddir, dname, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_special (struct cp_job *j, const struct stat *st, int ddir, const char *dname, nook_err *err)
{
  cleanup_close int fd = -1;

  if (S_ISSOCK (st->st_mode))
    return 0;
  if (cp_make_room (j, ddir, dname, st->st_mode, err) < 0)
    return -1;
  if (mknodat (ddir, dname, st->st_mode & ~07777, st->st_rdev) < 0)
    {
      if (errno == EPERM && !S_ISFIFO (st->st_mode))
        {
          nook_warn ("cp: device `%s` skipped: %s", dname, strerror (errno));
          return 0;
        }
      return nook_error (err, errno, "mknod `%s`", dname);
    }
  fd = openat (ddir, dname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", dname);
  char p[32];
  uid_t u;
  gid_t g;
  cp_owner (j, st->st_uid, st->st_gid, &u, &g);
  if ((u != (uid_t) -1 || g != (gid_t) -1) && fchownat (fd, "", u, g, AT_EMPTY_PATH) < 0)
    return nook_error (err, errno, "chown `%s`", dname);
  if (fchmodat (AT_FDCWD, nook_fd_path (fd, p, sizeof (p)), st->st_mode & 07777, 0) < 0)
    return nook_error (err, errno, "chmod `%s`", dname);
  return 0;
}

int
cp_tree_node (struct cp_job *j, int sfd, const struct stat *st, int ddir, const char *dname, nook_err *err)
{
  if (S_ISDIR (st->st_mode))
    return copy_dir (j, sfd, st, ddir, dname, err);
  if (S_ISREG (st->st_mode))
    return copy_reg (j, sfd, st, ddir, dname, err);
  if (S_ISLNK (st->st_mode))
    return copy_link (j, sfd, st, ddir, dname, err);
  return copy_special (j, st, ddir, dname, err);
}

static int
copy_at (struct cp_job *j, int sdir, const char *name, int ddir, nook_err *err)
{
  cleanup_close int sfd = openat (sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (sfd < 0)
    return nook_error (err, errno, "open `%s`", name);
  if (fstat (sfd, &st) < 0)
    return nook_error (err, errno, "stat `%s`", name);
  return cp_tree_node (j, sfd, &st, ddir, name, err);
}

int
cp_tree_children (struct cp_job *j, int sdir, int ddir, nook_err *err)
{
  int fd = dup (sdir);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return nook_error (err, errno, "read directory");
    }
  for (errno = 0; (e = readdir (d)) != NULL; errno = 0)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (copy_at (j, sdir, e->d_name, ddir, err) < 0)
        return -1;
    }
  if (errno != 0)
    return nook_error (err, errno, "read directory");
  return 0;
}
