/* Step 4 of nook_rootfs_setup: device nodes and the /dev links.
 *
 * Real root (no user namespace) creates nodes with mknodat(2) relative to the resolved parent directory
 * and chowns them; in a user namespace (or when mknod is refused with EPERM) an empty file is created and
 * the host's device at the same path is bind-mounted over it.  Whatever was at a device path before (a symlink in
 * the image pointing anywhere, a stale node) is removed with unlinkat(2) on the parent: never followed. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>

#include "runtime/rootfs_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

static const struct
{
  const char *path;
  int major, minor;
} default_devices[] = {
  { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct
{
  const char *name, *target;
} dev_links[] = {
  { "fd", "/proc/self/fd" },
  { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" },
  { "stderr", "/proc/self/fd/2" },
};

/* Split an absolute device path into its parent ("/dev") and last component ("null"). */
static int
split_path (const char *path, char **parent, char **name, nook_err *err)
{
  cleanup_free char *a = xstrdup (path), *b = xstrdup (path);
  const char *base = basename (b);

  if (path[0] != '/' || base[0] == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0
      || strcmp (base, "/") == 0)
    return nook_error_input (err, "linux.devices: bad path `%s`", path);
  *parent = xstrdup (dirname (a));
  *name = xstrdup (base);
  return 0;
}

/* Remove NAME in DIRFD, whatever it is (a symlink is removed, not followed; an empty dir too). */
static int
remove_entry (int dirfd, const char *name, const char *path, nook_err *err)
{
  struct stat st;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return nook_error (err, errno, "stat `%s`", path);
    }
  if (unlinkat (dirfd, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) < 0)
    return nook_error (err, errno, "remove `%s`", path);
  return 0;
}

static mode_t
type_bits (char type)
{
  switch (type)
    {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default: /* 'c', 'u' */
      return S_IFCHR;
    }
}

static int
make_node (int dirfd, const char *name, const struct nook_device *d, bool chown, nook_err *err)
{
  mode_t perm = d->has_mode ? (d->mode & 07777) : 0666;
  dev_t dev = d->type == 'p' ? 0 : makedev (d->major, d->minor);

  if (mknodat (dirfd, name, type_bits (d->type) | perm, dev) < 0)
    return nook_error (err, errno, "mknod `%s`", d->path);
  if (fchmodat (dirfd, name, perm, 0) < 0) /* past the umask */
    return nook_error (err, errno, "chmod `%s`", d->path);
  if (chown && fchownat (dirfd, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error (err, errno, "chown `%s`", d->path);
  return 0;
}

/* In a user namespace: an empty file with the host's device (same path) bind-mounted over it. */
static int
bind_node (int dirfd, const char *name, const struct nook_device *d, nook_err *err)
{
  cleanup_close int srcfd = open (d->path, O_PATH | O_CLOEXEC);
  cleanup_close int dstfd = -1;
  struct stat st;
  int fd;

  if (srcfd < 0 || fstat (srcfd, &st) < 0)
    return nook_error (err, errno, "open host device `%s`", d->path);
  if ((st.st_mode & S_IFMT) != type_bits (d->type) || major (st.st_rdev) != d->major || minor (st.st_rdev) != d->minor)
    return nook_error_input (err, "host `%s` is not device %c %lld:%lld", d->path, d->type == 'b' ? 'b' : 'c',
                             (long long)d->major, (long long)d->minor);
  fd = openat (dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error (err, errno, "create `%s`", d->path);
  close (fd);
  dstfd = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (dstfd < 0)
    return nook_error (err, errno, "open `%s`", d->path);
  return nook_rootfs_bind_fd (srcfd, d->path, dstfd, d->path, false, err);
}

/* The device is already there as a mount point (a `mounts` entry bound the host's node, as podman does for
 * --privileged rootless): it cannot be removed (EBUSY) and needs no node of ours. */
static bool
already_mounted (int dirfd, const char *name, const struct nook_device *d)
{
  struct stat st, parent;

  if (d->type == 'p' || fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || fstat (dirfd, &parent) < 0)
    return false;
  if ((st.st_mode & S_IFMT) != type_bits (d->type) || major (st.st_rdev) != d->major
      || minor (st.st_rdev) != d->minor)
    return false;
  /* A mount point: another device (filesystem) than its directory's. */
  return st.st_dev != parent.st_dev;
}

static int
create_device (const struct nook_rootfs_ctx *ctx, int rootfd, const struct nook_device *d, nook_err *err)
{
  cleanup_free char *parent = NULL, *name = NULL;
  cleanup_close int dirfd = -1;

  if (split_path (d->path, &parent, &name, err) < 0)
    return -1;
  dirfd = nook_ensure_in_root (rootfd, parent, true, 0755, err);
  if (dirfd < 0)
    return -1;
  if (already_mounted (dirfd, name, d))
    return 0;
  if (remove_entry (dirfd, name, d->path, err) < 0)
    return -1;
  if (d->type == 'p') /* a fifo needs no privilege */
    return make_node (dirfd, name, d, !ctx->userns || d->has_uid || d->has_gid, err);
  if (ctx->userns)
    return bind_node (dirfd, name, d, err);
  if (make_node (dirfd, name, d, true, err) == 0)
    return 0;
  /* No CAP_MKNOD (a runtime inside a container, a devices cgroup): bind the host's, as crun does. */
  if (err->code != EPERM || remove_entry (dirfd, name, d->path, err) < 0)
    return -1;
  return bind_node (dirfd, name, d, err);
}

static bool
spec_has_device (const struct nook_spec *spec, const char *path)
{
  for (size_t i = 0; i < spec->n_devices; i++)
    if (strcmp (spec->devices[i].path, path) == 0)
      return true;
  return false;
}

static int
create_defaults (const struct nook_rootfs_ctx *ctx, int rootfd, nook_err *err)
{
  for (size_t i = 0; i < sizeof (default_devices) / sizeof (default_devices[0]); i++)
    {
      struct nook_device d = { .path = (char *)default_devices[i].path,
                               .type = 'c',
                               .major = default_devices[i].major,
                               .minor = default_devices[i].minor,
                               .has_mode = true,
                               .mode = 0666 };
      if (spec_has_device (ctx->spec, d.path))
        continue;
      if (create_device (ctx, rootfd, &d, err) < 0)
        return -1;
    }
  return 0;
}

/* /dev/ptmx -> pts/ptmx when /dev/pts is a devpts instance (the container's own). */
static int
ptmx_link (const struct nook_rootfs_ctx *ctx, int rootfd, int devfd, nook_err *err)
{
  cleanup_close int ptsfd = -1;
  struct statfs sfs;
  nook_err e;

  if (spec_has_device (ctx->spec, "/dev/ptmx"))
    return 0;
  ptsfd = nook_open_in_root (rootfd, "/dev/pts", O_PATH | O_DIRECTORY, 0, &e);
  if (ptsfd < 0 || fstatfs (ptsfd, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC)
    return 0;
  if (remove_entry (devfd, "ptmx", "/dev/ptmx", err) < 0)
    return -1;
  if (symlinkat ("pts/ptmx", devfd, "ptmx") < 0)
    return nook_error (err, errno, "symlink `/dev/ptmx`");
  return 0;
}

/* /dev/fd, stdin, stdout, stderr: created when missing; an entry the image already has is kept. */
static int
create_links (const struct nook_rootfs_ctx *ctx, int rootfd, nook_err *err)
{
  cleanup_close int devfd = nook_ensure_in_root (rootfd, "/dev", true, 0755, err);
  if (devfd < 0)
    return -1;
  if (ptmx_link (ctx, rootfd, devfd, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof (dev_links) / sizeof (dev_links[0]); i++)
    if (symlinkat (dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST)
      return nook_error (err, errno, "symlink `/dev/%s`", dev_links[i].name);
  return 0;
}

int
nook_rootfs_devices (const struct nook_rootfs_ctx *ctx, int rootfd, nook_err *err)
{
  if (create_defaults (ctx, rootfd, err) < 0)
    return -1;
  for (size_t i = 0; i < ctx->spec->n_devices; i++)
    if (create_device (ctx, rootfd, &ctx->spec->devices[i], err) < 0)
      return -1;
  return create_links (ctx, rootfd, err);
}
