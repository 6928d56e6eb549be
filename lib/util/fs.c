#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#define MAX_SYMLINKS 40

/* -1: not probed yet; 0: use openat2; 1: use the walk.  A cached kernel-feature probe, not policy. */
static int use_walk = -1;

void
nook_fs_force_walk (bool force)
{
  use_walk = force ? 1 : 0;
}

static bool
walk_wanted (void)
{
  if (use_walk < 0)
    {
      const char *e = getenv ("NOOK_NO_OPENAT2");
      use_walk = (e && *e && strcmp (e, "0") != 0) ? 1 : 0;
    }
  return use_walk == 1;
}

/* ---- the fallback walk ------------------------------------------------------------------------- */

struct walk
{
  int *stack; /* stack[0] is a dup of the root; stack[depth-1] is where we are */
  size_t depth, cap;
};

static void
walk_free (struct walk *w)
{
  for (size_t i = 0; i < w->depth; i++)
    close (w->stack[i]);
  free (w->stack);
}

static void
walk_push (struct walk *w, int fd)
{
  if (w->depth == w->cap)
    {
      w->cap = w->cap ? w->cap * 2 : 16;
      w->stack = xrealloc (w->stack, w->cap * sizeof (int));
    }
  w->stack[w->depth++] = fd;
}

static void
walk_reset (struct walk *w)
{
  while (w->depth > 1)
    close (w->stack[--w->depth]);
}

/* Split the next component off *REST (in place).  Returns NULL at the end. */
static char *
next_component (char **rest)
{
  char *s = *rest, *slash;
  while (*s == '/')
    s++;
  if (*s == '\0')
    {
      *rest = s;
      return NULL;
    }
  slash = strchr (s, '/');
  if (slash)
    {
      *slash = '\0';
      *rest = slash + 1;
    }
  else
    *rest = s + strlen (s);
  return s;
}

static bool
only_slashes (const char *s)
{
  while (*s == '/')
    s++;
  return *s == '\0';
}

/* Replace the walk's remaining path with TARGET + "/" + REST. */
static char *
splice_link (const char *target, const char *rest)
{
  return xasprintf ("%s/%s", target, rest);
}

static int
walk_open_last (struct walk *w, const char *name, int flags, mode_t mode, nook_err *err)
{
  int cur = w->stack[w->depth - 1];
  int fd = openat (cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", name);
  return fd;
}

int
nook_open_in_root_walk (int rootfd, const char *path, int flags, mode_t mode, nook_err *err)
{
  struct walk w = { 0 };
  cleanup_free char *buf = xstrdup (path);
  char *rest = buf, *comp;
  int links = 0, ret = -1, fd;

  fd = openat (rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open root directory");
  walk_push (&w, fd);

  while ((comp = next_component (&rest)) != NULL)
    {
      bool last = only_slashes (rest);
      struct stat st;

      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        {
          if (w.depth > 1)
            close (w.stack[--w.depth]);
          continue;
        }
      fd = openat (w.stack[w.depth - 1], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && last && (flags & O_CREAT))
        {
          ret = walk_open_last (&w, comp, flags, mode, err);
          goto out;
        }
      if (fd < 0)
        {
          nook_error (err, errno, "open `%s`", path);
          goto out;
        }
      if (fstat (fd, &st) < 0)
        {
          nook_error (err, errno, "stat `%s`", path);
          close (fd);
          goto out;
        }
      if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (fd, "", target, sizeof (target) - 1);
          char *spliced;
          close (fd);
          if (n < 0)
            {
              nook_error (err, errno, "readlink `%s`", path);
              goto out;
            }
          target[n] = '\0';
          if (++links > MAX_SYMLINKS)
            {
              nook_error (err, ELOOP, "open `%s`", path);
              goto out;
            }
          if (target[0] == '/')
            walk_reset (&w);
          spliced = splice_link (target, rest);
          free (buf);
          buf = spliced;
          rest = buf;
          continue;
        }
      if (last && (flags & O_PATH) == 0)
        {
          close (fd);
          ret = walk_open_last (&w, comp, flags, mode, err);
          goto out;
        }
      if (last && !S_ISDIR (st.st_mode))
        {
          if (flags & O_DIRECTORY)
            {
              close (fd);
              nook_error (err, ENOTDIR, "open `%s`", path);
            }
          else
            ret = fd; /* O_PATH of a non-directory: the fd we hold is the answer */
          goto out;
        }
      if (!last && !S_ISDIR (st.st_mode))
        {
          close (fd);
          nook_error (err, ENOTDIR, "open `%s`", path);
          goto out;
        }
      walk_push (&w, fd);
    }
  /* The path ended on a directory we hold (or the root): reopen it with the wanted flags. */
  ret = openat (w.stack[w.depth - 1], ".", (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
  if (ret < 0)
    nook_error (err, errno, "open `%s`", path);
out:
  walk_free (&w);
  return ret;
}

/* ---- openat2 ----------------------------------------------------------------------------------- */

int
nook_open_in_root (int rootfd, const char *path, int flags, mode_t mode, nook_err *err)
{
  struct open_how how = { 0 };
  int fd, tries = 0;

  if (walk_wanted ())
    return nook_open_in_root_walk (rootfd, path, flags, mode, err);

  how.flags = (uint64_t) (flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  do
    fd = sys_openat2 (rootfd, path, &how);
  while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 64);

  if (fd < 0 && (errno == ENOSYS || errno == E2BIG))
    {
      use_walk = 1;
      return nook_open_in_root_walk (rootfd, path, flags, mode, err);
    }
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", path);
  return fd;
}

/* ---- creating paths inside a root -------------------------------------------------------------- */

static int
create_last (int rootfd, const char *parent, const char *name, bool is_dir, mode_t mode, nook_err *err)
{
  cleanup_close int pfd = nook_open_in_root (rootfd, parent, O_PATH | O_DIRECTORY, 0, err);
  if (pfd < 0)
    return -1;
  if (is_dir)
    {
      if (mkdirat (pfd, name, mode) < 0 && errno != EEXIST)
        return nook_error (err, errno, "mkdir `%s/%s`", parent, name);
      return 0;
    }
  int fd = openat (pfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode & 0666);
  if (fd < 0 && errno != EEXIST && errno != ELOOP && errno != EISDIR)
    return nook_error (err, errno, "create `%s/%s`", parent, name);
  if (fd >= 0)
    close (fd);
  return 0;
}

static int ensure_depth (int rootfd, const char *path, bool is_dir, mode_t mode, int depth, nook_err *err);

/* PARENT/NAME is a dangling symlink: create its target (inside the root) with REST appended. */
static int
ensure_link_target (int rootfd, const char *parent, const char *name, const char *rest, bool is_dir, mode_t mode,
                    int depth, nook_err *err)
{
  cleanup_close int pfd = nook_open_in_root (rootfd, parent, O_PATH | O_DIRECTORY, 0, err);
  char target[PATH_MAX];
  cleanup_free char *next = NULL;
  ssize_t n;

  if (pfd < 0)
    return -1;
  n = readlinkat (pfd, name, target, sizeof (target) - 1);
  if (n < 0)
    return nook_error (err, errno, "readlink `%s/%s`", parent, name);
  target[n] = '\0';
  next = xasprintf ("%s%s%s/%s", target[0] == '/' ? "" : parent, target[0] == '/' ? "" : "/", target, rest);
  return ensure_depth (rootfd, next, is_dir, mode, depth + 1, err);
}

static bool
is_symlink_at (int rootfd, const char *parent, const char *name)
{
  nook_err ignored;
  cleanup_close int pfd = nook_open_in_root (rootfd, parent, O_PATH | O_DIRECTORY, 0, &ignored);
  struct stat st;
  return pfd >= 0 && fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode);
}

static int
ensure_depth (int rootfd, const char *path, bool is_dir, mode_t mode, int depth, nook_err *err)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_free char *prefix = xcalloc (strlen (path) + 2, 1);
  char *rest = copy, *comp;
  int fd;

  if (depth > MAX_SYMLINKS)
    return nook_error (err, ELOOP, "create `%s`", path);
  fd = nook_open_in_root (rootfd, path, O_PATH, 0, err);
  if (fd >= 0 || err->code != ENOENT)
    return fd;

  while ((comp = next_component (&rest)) != NULL)
    {
      bool last = only_slashes (rest);
      size_t plen = strlen (prefix);
      cleanup_free char *parent = xstrdup (plen ? prefix : "/");

      strcat (prefix, "/");
      strcat (prefix, comp);
      fd = nook_open_in_root (rootfd, prefix, O_PATH, 0, err);
      if (fd >= 0)
        {
          close (fd);
          continue;
        }
      if (err->code != ENOENT)
        return -1;
      if (is_symlink_at (rootfd, parent, comp))
        return ensure_link_target (rootfd, parent, comp, rest, is_dir, mode, depth, err);
      if (create_last (rootfd, parent, comp, last ? is_dir : true, last ? mode : 0755, err) < 0)
        return -1;
    }
  return nook_open_in_root (rootfd, path, O_PATH, 0, err);
}

int
nook_ensure_in_root (int rootfd, const char *path, bool is_dir, mode_t mode, nook_err *err)
{
  return ensure_depth (rootfd, path, is_dir, mode, 0, err);
}

const char *
nook_fd_path (int fd, char *buf, size_t len)
{
  snprintf (buf, len, "/proc/self/fd/%d", fd);
  return buf;
}

/* ---- whole files ------------------------------------------------------------------------------- */

int
nook_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EAGAIN)
        {
          /* a non-blocking fd (our stdout shared with a terminal): wait until it takes more */
          struct pollfd pfd = { .fd = fd, .events = POLLOUT };
          if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
            return -1;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
nook_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, p + got, len - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      got += (size_t) n;
    }
  return (int) got;
}

int
nook_read_fd (int fd, char **out, size_t *len, size_t max, nook_err *err)
{
  size_t cap = max < 4096 ? max : 4096, used = 0;
  cleanup_free char *buf = xmalloc (cap + 1);

  for (;;)
    {
      ssize_t n;
      if (used == cap)
        {
          char probe;
          if (cap >= max)
            {
              while ((n = read (fd, &probe, 1)) < 0 && errno == EINTR)
                ;
              if (n == 0)
                break;
              return nook_error (err, EFBIG, "read: larger than %zu bytes", max);
            }
          cap = cap * 2 > max ? max : cap * 2;
          buf = xrealloc (buf, cap + 1);
        }
      n = read (fd, buf + used, cap - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nook_error (err, errno, "read");
      if (n == 0)
        break;
      used += (size_t) n;
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_pointer (&buf);
  return 0;
}

int
nook_read_file_at (int dirfd, const char *name, char **out, size_t *len, size_t max, nook_err *err)
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", name);
  if (nook_read_fd (fd, out, len, max, err) < 0)
    return nook_error_prefix (err, "`%s`", name);
  return 0;
}

int
nook_write_file_at (int dirfd, const char *name, const char *data, size_t len, nook_err *err)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", name);
  if (nook_write_all (fd, data, len) < 0)
    return nook_error (err, errno, "write `%s`", name);
  return 0;
}

int
nook_write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode, bool durable,
                        nook_err *err)
{
  cleanup_free char *tmp = xasprintf (".tmp-%s-%d", name, (int) getpid ());
  cleanup_close int fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

  if (fd < 0)
    return nook_error (err, errno, "create `%s`", tmp);
  if (nook_write_all (fd, data, len) < 0 || (durable && fsync (fd) < 0))
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return nook_error (err, e, "write `%s`", tmp);
    }
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return nook_error (err, e, "rename `%s` to `%s`", tmp, name);
    }
  return 0;
}

static int
rm_children (int dfd, nook_err *err)
{
  cleanup_dir DIR *d = fdopendir (dfd);
  struct dirent *de;

  if (d == NULL)
    {
      close (dfd);
      return nook_error (err, errno, "fdopendir");
    }
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (nook_rm_rf_at (dirfd (d), de->d_name, err) < 0)
        return -1;
    }
  return 0;
}

/* A directory of ours without search permission (overlayfs leaves its work/work at mode 0): make it 0700
 * so that we can empty it, rather than take a user namespace to do it.  Through an O_PATH fd of the
 * directory itself, never a symlink. */
static int
chmod_own_dir (int dirfd, const char *name)
{
  cleanup_close int fd = openat (dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  char path[64];

  if (fd < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  return chmod (path, 0700);
}

int
nook_rm_rf_at (int dirfd, const char *name, nook_err *err)
{
  int dfd;

  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return nook_error (err, errno, "unlink `%s`", name);
  dfd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0 && errno == EACCES)
    {
      if (chmod_own_dir (dirfd, name) == 0)
        dfd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      else
        errno = EACCES; /* not ours: the caller may retry in a user namespace */
    }
  if (dfd < 0)
    return errno == ENOENT ? 0 : nook_error (err, errno, "open `%s`", name);
  if (rm_children (dfd, err) < 0)
    return -1;
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return nook_error (err, errno, "rmdir `%s`", name);
  return 0;
}

int
nook_mkdir_p (const char *path, mode_t mode, nook_err *err)
{
  cleanup_free char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return nook_error (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", p);
  return 0;
}
