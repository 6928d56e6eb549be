/* The container's filesystem, in the order rootfs.h describes: propagation, the rootfs bind, the
 * config.json mounts (rootfs_mounts.c), devices (devices.c), pivot_root, then masked and read-only
 * paths.  Every path inside the rootfs is resolved with nook_open_in_root/nook_ensure_in_root and
 * mounted through its /proc/self/fd/N name. */
#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "runtime/rootfs_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#define PROC_FD_LEN 32

/* ---- mount helpers shared with rootfs_mounts.c and devices.c ----------------------------------- */

int
nook_rootfs_mount_at (const char *src, int dstfd, const char *dest, const char *type, unsigned long flags,
                      const char *data, nook_err *err)
{
  char target[PROC_FD_LEN];

  nook_fd_path (dstfd, target, sizeof (target));
  if (mount (src, target, type, flags, data) < 0)
    return nook_error (err, errno, "mount `%s` on `%s` (type %s)", src ? src : "none", dest, type ? type : "none");
  return 0;
}

int
nook_rootfs_bind_fd (int srcfd, const char *src, int dstfd, const char *dest, bool rec, nook_err *err)
{
  char source[PROC_FD_LEN], target[PROC_FD_LEN];

  nook_fd_path (srcfd, source, sizeof (source));
  nook_fd_path (dstfd, target, sizeof (target));
  if (mount (source, target, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
    return nook_error (err, errno, "mount `%s` on `%s` (type %s)", src, dest, rec ? "rbind" : "bind");
  return 0;
}

int
nook_rootfs_bind_host (const char *src, int dstfd, const char *dest, bool rec, nook_err *err)
{
  cleanup_close int srcfd = open (src, O_PATH | O_CLOEXEC);
  if (srcfd < 0)
    return nook_error (err, errno, "open `%s`", src);
  return nook_rootfs_bind_fd (srcfd, src, dstfd, dest, rec, err);
}

unsigned long
nook_rootfs_fd_mnt_flags (int fd)
{
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_RDONLY, MS_RDONLY },
    { ST_NOSUID, MS_NOSUID },
    { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },
    { ST_SYNCHRONOUS, MS_SYNCHRONOUS },
    { ST_MANDLOCK, MS_MANDLOCK },
    { ST_NOATIME, MS_NOATIME },
    { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME },
    { NOOK_MS_NOSYMFOLLOW, NOOK_MS_NOSYMFOLLOW }, /* ST_NOSYMFOLLOW has the same value */
  };
  struct statvfs sv;
  unsigned long out = 0;

  if (fstatvfs (fd, &sv) < 0)
    return 0;
  for (size_t i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (sv.f_flag & map[i].st)
      out |= map[i].ms;
  return out;
}

static void
flags_to_attr (unsigned long flags, struct nook_mount_attr *attr)
{
  memset (attr, 0, sizeof (*attr));
  if (flags & MS_RDONLY)
    attr->attr_set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID)
    attr->attr_set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV)
    attr->attr_set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC)
    attr->attr_set |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME)
    attr->attr_set |= MOUNT_ATTR_NODIRATIME;
  if (flags & NOOK_MS_NOSYMFOLLOW)
    attr->attr_set |= MOUNT_ATTR_NOSYMFOLLOW;
  if (flags & NOOK_MNT_ATIME_FLAGS)
    {
      attr->attr_clr |= MOUNT_ATTR__ATIME;
      if (flags & MS_STRICTATIME)
        attr->attr_set |= MOUNT_ATTR_STRICTATIME;
      else if (flags & MS_NOATIME)
        attr->attr_set |= MOUNT_ATTR_NOATIME;
    }
}

static int
set_attrs_fd (int fd, const char *dest, unsigned long flags, unsigned long clear, bool rec, nook_err *err)
{
  char target[PROC_FD_LEN];

  if (rec)
    {
      struct nook_mount_attr attr;
      flags_to_attr (flags, &attr);
      if (sys_mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
        return nook_error (err, errno, "mount_setattr `%s`", dest);
      return 0;
    }
  unsigned long keep = nook_rootfs_fd_mnt_flags (fd) & ~clear;
  if (flags & NOOK_MNT_ATIME_FLAGS)
    keep &= ~NOOK_MNT_ATIME_FLAGS;
  nook_fd_path (fd, target, sizeof (target));
  if (mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | keep | (flags & NOOK_MNT_ATTR_FLAGS), NULL) < 0)
    return nook_error (err, errno, "remount `%s`", dest);
  return 0;
}

int
nook_rootfs_set_attrs (int rootfd, const char *dest, unsigned long flags, unsigned long clear, bool rec, nook_err *err)
{
  flags &= NOOK_MNT_ATTR_FLAGS;
  clear &= NOOK_MNT_ATTR_FLAGS;
  if (flags == 0 && (clear == 0 || rec))
    return 0;

  /* Resolve DEST again: the fd used for mounting still names the covered directory. */
  cleanup_close int fd = nook_open_in_root (rootfd, dest, O_PATH, 0, err);
  if (fd < 0)
    return -1;
  if (!rec && (clear & nook_rootfs_fd_mnt_flags (fd)) == 0 && flags == 0)
    return 0;
  return set_attrs_fd (fd, dest, flags, clear, rec, err);
}

int
nook_rootfs_set_propagation (int rootfd, const char *dest, unsigned long propagation, nook_err *err)
{
  if (propagation == 0)
    return 0;
  cleanup_close int fd = nook_open_in_root (rootfd, dest, O_PATH, 0, err);
  if (fd < 0)
    return -1;
  return nook_rootfs_mount_at (NULL, fd, dest, NULL, propagation, NULL, err);
}

/* ---- steps 1 and 2: propagation and the rootfs bind ---------------------------------------------- */

static int
parse_propagation (const char *value, unsigned long *out, nook_err *err)
{
  char *opts[] = { (char *)value, NULL };
  struct nook_mount_opts o;

  *out = 0;
  if (value == NULL)
    return 0;
  if (nook_mount_opts_parse (opts, &o, err) < 0)
    return -1;
  bool ok = o.propagation != 0 && o.flags == 0 && o.clear == 0 && o.data == NULL;
  nook_mount_opts_free (&o);
  if (!ok)
    return nook_error_input (err, "linux.rootfsPropagation: unknown value `%s`", value);
  *out = o.propagation;
  return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space, ...) in place. */
static void
unescape_mountinfo (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7')
        {
          *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

static bool
path_under (const char *path, const char *mnt)
{
  size_t n = strlen (mnt);
  if (strcmp (mnt, "/") == 0)
    return true;
  return strncmp (path, mnt, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* One mountinfo line: when its mount point contains PATH and is longer than *BEST, remember it. */
static void
consider_mount (char *line, const char *path, char **best, bool *shared)
{
  char *save = NULL, *field, *mnt = NULL;
  bool is_shared = false;
  int i = 0;

  for (field = strtok_r (line, " ", &save); field; field = strtok_r (NULL, " ", &save), i++)
    {
      if (i == 4)
        mnt = field;
      else if (i > 5 && strcmp (field, "-") == 0)
        break;
      else if (i > 5 && str_has_prefix (field, "shared:"))
        is_shared = true;
    }
  if (mnt == NULL)
    return;
  unescape_mountinfo (mnt);
  if (!path_under (path, mnt) || (*best && strlen (*best) > strlen (mnt)))
    return;
  free (*best);
  *best = xstrdup (mnt);
  *shared = is_shared;
}

/* pivot_root refuses a new root whose parent mount is shared, and a bind under a shared parent would
 * propagate to the host: make the mount holding ROOTFS private when it is shared (as runc does). */
static int
make_parent_private (const char *rootfs, nook_err *err)
{
  cleanup_free char *info = NULL, *best = NULL;
  char *save = NULL, *line;
  bool shared = false;
  size_t len;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/mountinfo", &info, &len, 64 << 20, err) < 0)
    return -1;
  for (line = strtok_r (info, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    consider_mount (line, rootfs, &best, &shared);
  if (best == NULL || !shared)
    return 0;
  if (mount (NULL, best, NULL, MS_PRIVATE, NULL) < 0)
    return nook_error (err, errno, "make `%s` private", best);
  return 0;
}

static int
prepare_root (const char *rootfs, unsigned long propagation, int *rootfd, nook_err *err)
{
  /* An unbindable rootfs could not be bound onto itself: it becomes unbindable at the very end. */
  if (propagation == 0 || (propagation & MS_UNBINDABLE))
    propagation = MS_SLAVE;
  if (mount (NULL, "/", NULL, MS_REC | propagation, NULL) < 0)
    return nook_error (err, errno, "set the propagation of `/`");
  if (make_parent_private (rootfs, err) < 0)
    return -1;
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return nook_error (err, errno, "bind mount the rootfs `%s`", rootfs);
  *rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*rootfd < 0)
    return nook_error (err, errno, "open the rootfs `%s`", rootfs);
  return 0;
}

/* ---- step 5: pivot_root ------------------------------------------------------------------------ */

static int
do_pivot (int rootfd, const char *rootfs, nook_err *err)
{
  if (fchdir (rootfd) < 0)
    return nook_error (err, errno, "chdir `%s`", rootfs);
  if (sys_pivot_root (".", ".") < 0)
    return nook_error (err, errno, "pivot_root `%s`", rootfs);
  /* The old root now sits on top of "."; keep its unmount from propagating anywhere. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return nook_error (err, errno, "make the old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return nook_error (err, errno, "unmount the old root");
  if (chdir ("/") < 0)
    return nook_error (err, errno, "chdir `/`");
  return 0;
}

/* One mountinfo line: the (unescaped) mount point when the line is a full mount (its root is "/") of a
 * proc or sysfs filesystem, else NULL. */
static char *
full_procfs_mount (char *line)
{
  char *save = NULL, *field, *root = NULL, *mnt = NULL;
  bool after_sep = false;
  int i = 0;

  for (field = strtok_r (line, " ", &save); field; field = strtok_r (NULL, " ", &save), i++)
    {
      if (i == 3)
        root = field;
      else if (i == 4)
        mnt = field;
      else if (i > 5 && !after_sep && strcmp (field, "-") == 0)
        after_sep = true;
      else if (after_sep)
        {
          if (root == NULL || mnt == NULL || strcmp (root, "/") != 0
              || (strcmp (field, "proc") != 0 && strcmp (field, "sysfs") != 0))
            return NULL;
          unescape_mountinfo (mnt);
          return mnt;
        }
    }
  return NULL;
}

/* --no-pivot leaves the host's mounts in this mount namespace, under the moved root.  While a full proc or
 * sysfs mount is among them, the kernel lets a nested user namespace mount a fresh, unmasked proc or sysfs
 * (it only refuses one that would reveal more than what is already mounted).  Detach every such mount
 * outside the rootfs, innermost first, or cover it with a tmpfs where detaching is refused (a locked mount
 * in a user namespace), as runc does. */
static int
hide_host_procfs (const char *rootfs, nook_err *err)
{
  cleanup_free char *info = NULL;
  cleanup_strv char **mnts = NULL;
  char *save = NULL, *line, *m;
  size_t len, n = 0;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/mountinfo", &info, &len, 64 << 20, err) < 0)
    return -1;
  mnts = xcalloc (1, sizeof (char *));
  for (line = strtok_r (info, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if ((m = full_procfs_mount (line)) != NULL && !path_under (m, rootfs))
      {
        mnts = xrealloc (mnts, (n + 2) * sizeof (char *));
        mnts[n++] = xstrdup (m);
        mnts[n] = NULL;
      }
  while (n-- > 0)
    {
      if (mount (NULL, mnts[n], NULL, MS_SLAVE | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT) /* under a mount detached already */
            continue;
          return nook_error (err, errno, "make `%s` rslave", mnts[n]);
        }
      if (umount2 (mnts[n], MNT_DETACH) == 0)
        continue;
      if (errno != EINVAL && errno != EPERM)
        return nook_error (err, errno, "unmount `%s`", mnts[n]);
      if (mount ("tmpfs", mnts[n], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return nook_error (err, errno, "cover `%s` with a tmpfs", mnts[n]);
    }
  return 0;
}

/* With --no-pivot only (a ramfs root cannot be pivoted away): move the rootfs over "/" and chroot. */
static int
do_move_root (int rootfd, const char *rootfs, nook_err *err)
{
  if (hide_host_procfs (rootfs, err) < 0)
    return -1;
  if (fchdir (rootfd) < 0)
    return nook_error (err, errno, "chdir `%s`", rootfs);
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    return nook_error (err, errno, "move the rootfs `%s` to `/`", rootfs);
  if (chroot (".") < 0)
    return nook_error (err, errno, "chroot `%s`", rootfs);
  if (chdir ("/") < 0)
    return nook_error (err, errno, "chdir `/`");
  return 0;
}

/* ---- step 6: masked and read-only paths, root.readonly ------------------------------------------ */

/* Open PATH in ROOTFD; *FD = -1 (and success) when it does not exist. */
static int
open_if_exists (int rootfd, const char *path, int *fd, nook_err *err)
{
  nook_err e = { 0 };

  *fd = nook_open_in_root (rootfd, path, O_PATH, 0, &e);
  if (*fd >= 0 || e.code == ENOENT)
    return 0;
  *err = e;
  return -1;
}

static int
mask_path (int rootfd, const char *path, nook_err *err)
{
  cleanup_close int fd = -1;
  cleanup_close int nullfd = -1;
  struct stat st;

  if (open_if_exists (rootfd, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  if (fstat (fd, &st) < 0)
    return nook_error (err, errno, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    return nook_rootfs_mount_at ("tmpfs", fd, path, "tmpfs", MS_RDONLY, NULL, err);
  nullfd = nook_open_in_root (rootfd, "/dev/null", O_PATH, 0, err);
  if (nullfd < 0)
    return -1;
  return nook_rootfs_bind_fd (nullfd, "/dev/null", fd, path, false, err);
}

static int
readonly_path (int rootfd, const char *path, nook_err *err)
{
  cleanup_close int fd = -1;

  if (open_if_exists (rootfd, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  if (nook_rootfs_bind_fd (fd, path, fd, path, true, err) < 0)
    return -1;
  return nook_rootfs_set_attrs (rootfd, path, MS_RDONLY, 0, true, err);
}

static int
after_pivot (const struct nook_spec *spec, unsigned long propagation, nook_err *err)
{
  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return nook_error (err, errno, "open `/`");

  for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
    if (mask_path (rootfd, spec->masked_paths[i], err) < 0)
      return nook_error_prefix (err, "linux.maskedPaths");
  for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
    if (readonly_path (rootfd, spec->readonly_paths[i], err) < 0)
      return nook_error_prefix (err, "linux.readonlyPaths");
  if (spec->root_readonly && nook_rootfs_set_attrs (rootfd, "/", MS_RDONLY, 0, false, err) < 0)
    return nook_error_prefix (err, "root.readonly");
  if (propagation == 0)
    return 0;
  if (mount (NULL, "/", NULL, propagation, NULL) < 0)
    return nook_error (err, errno, "set the propagation of `/`");
  if (propagation & MS_REC) /* that overrode the mounts' own "rprivate", ... */
    return nook_rootfs_mounts_propagation (spec, rootfd, err);
  return 0;
}

/* ---- without a mount namespace of our own ----------------------------------------------------------- */

int
nook_rootfs_check_shared_mountns (const struct nook_spec *spec, bool no_pivot, bool overlay, size_t *ignored,
                                  nook_err *err)
{
  static const char why[] = "requires a private mount namespace (linux.namespaces has no `mount` without a path)";

  *ignored = 0;
  if (nook_spec_owns_mountns (spec))
    return 0;
  if (spec->masked_paths && spec->masked_paths[0])
    return nook_error_input (err, "linux.maskedPaths: %s", why);
  if (spec->readonly_paths && spec->readonly_paths[0])
    return nook_error_input (err, "linux.readonlyPaths: %s", why);
  if (spec->root_readonly)
    return nook_error_input (err, "root.readonly: %s", why);
  if (spec->rootfs_propagation)
    return nook_error_input (err, "linux.rootfsPropagation: %s", why);
  if (no_pivot)
    return nook_error_input (err, "--no-pivot: %s", why);
  if (overlay)
    return nook_error_input (err, "the overlay rootfs: %s", why);
  *ignored = spec->n_mounts + spec->n_devices;
  return 0;
}

/* Never pivot_root, mount or unmount in a namespace we did not create: only our root changes. */
static int
enter_root_shared (const char *rootfs, nook_err *err)
{
  if (chdir (rootfs) < 0)
    return nook_error (err, errno, "chdir `%s`", rootfs);
  if (chroot (".") < 0)
    return nook_error (err, errno, "chroot `%s`", rootfs);
  if (chdir ("/") < 0)
    return nook_error (err, errno, "chdir `/`");
  return 0;
}

/* ---- the whole sequence ---------------------------------------------------------------------------- */

int
nook_rootfs_setup (const struct nook_rootfs_ctx *ctx, nook_err *err)
{
  cleanup_free char *rootfs = NULL;
  cleanup_close int rootfd = -1;
  unsigned long propagation;

  if (parse_propagation (ctx->spec->rootfs_propagation, &propagation, err) < 0)
    return -1;
  rootfs = realpath (ctx->rootfs, NULL);
  if (rootfs == NULL)
    return nook_error (err, errno, "rootfs `%s`", ctx->rootfs);
  if (!ctx->own_mountns)
    return enter_root_shared (rootfs, err);

  if (prepare_root (rootfs, propagation, &rootfd, err) < 0)
    return -1;
  if (nook_rootfs_spec_mounts (ctx, rootfd, err) < 0)
    return -1;
  if (!nook_rootfs_dev_is_bound (ctx->spec) && nook_rootfs_devices (ctx, rootfd, err) < 0)
    return -1;
  if (nook_rootfs_dev_readonly (ctx->spec, rootfd, err) < 0)
    return -1;
  if ((ctx->no_pivot ? do_move_root : do_pivot) (rootfd, rootfs, err) < 0)
    return -1;
  return after_pivot (ctx->spec, propagation, err);
}
