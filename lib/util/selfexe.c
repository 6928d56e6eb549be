/* Re-execute from an image a container cannot write (see util/selfexe.h). */
#include "util/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#define SEALED_ENV "_NOOK_SEALED"
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

extern char **environ;

int
nook_selfexe_protected (void)
{
  cleanup_close int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct statfs sfs;
  int seals;

  if (fd < 0)
    return 0;
  seals = fcntl (fd, F_GET_SEALS);
  if (seals >= 0)
    return (seals & F_SEAL_WRITE) != 0;
  /* Only our own overlay has no upper layer: any overlayfs mounted read-only is as good (no upper layer
   * to reach, no way to remount its superblock writable from a container). */
  return fstatfs (fd, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC && (sfs.f_flags & ST_RDONLY);
}

/* Overlay's legacy "lowerdir" option: ':' separates layers, '\' escapes. */
static void
append_escaped (char **p, const char *s)
{
  for (; *s; s++)
    {
      if (*s == ':' || *s == '\\')
        *(*p)++ = '\\';
      *(*p)++ = *s;
    }
}

/* Two lower layers and no upper: overlayfs's read-only "lower only" mode.  The binary's directory is on
 * top, so the dummy's contents never shadow it. */
static int
overlay_lowers (int ctx, const char *dir, const char *dummy)
{
  cleanup_free char *both = NULL;
  char *p;

  if (sys_fsconfig (ctx, FSCONFIG_SET_STRING, "lowerdir+", dir, 0) == 0)
    return sys_fsconfig (ctx, FSCONFIG_SET_STRING, "lowerdir+", dummy, 0);
  p = both = xmalloc (2 * (strlen (dir) + strlen (dummy)) + 2); /* kernels before 6.8 */
  append_escaped (&p, dir);
  *p++ = ':';
  append_escaped (&p, dummy);
  *p = '\0';
  return sys_fsconfig (ctx, FSCONFIG_SET_STRING, "lowerdir", both, 0);
}

/* Our binary opened (O_PATH) through a detached read-only overlayfs of its directory; -1 when the kernel
 * or our privileges do not allow it, or the file found there is not the image we run. */
static int
overlay_exe (const struct stat *self)
{
  static const char *const dummies[] = { "/dev", "/run", "/sys" }; /* must not overlap the binary's dir */
  char path[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", path, sizeof path - 1);
  char *slash;
  struct stat st;

  if (n <= 0 || path[0] != '/')
    return -1;
  path[n] = '\0';
  slash = strrchr (path, '/');
  *slash = '\0';
  for (size_t i = 0; i < sizeof dummies / sizeof dummies[0]; i++)
    {
      cleanup_close int ctx = sys_fsopen ("overlay", FSOPEN_CLOEXEC), mnt = -1, fd = -1;

      if (ctx < 0)
        return -1;
      if (overlay_lowers (ctx, path[0] ? path : "/", dummies[i]) < 0
          || sys_fsconfig (ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        continue;
      mnt = sys_fsmount (ctx, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
      if (mnt < 0)
        return -1;
      fd = openat (mnt, slash + 1, O_PATH | O_CLOEXEC | O_NOFOLLOW);
      /* the same file as the running image (not one renamed over it since) */
      if (fd < 0 || fstat (fd, &st) < 0 || st.st_ino != self->st_ino || st.st_size != self->st_size
          || st.st_mtim.tv_sec != self->st_mtim.tv_sec || st.st_mtim.tv_nsec != self->st_mtim.tv_nsec)
        return -1;
      return steal_fd (&fd);
    }
  return -1;
}

static int
memfd_exe (int src, const struct stat *st, nook_err *err)
{
  cleanup_close int mfd = memfd_create ("nook", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  off_t off = 0;

  if (mfd < 0)
    return nook_error (err, errno, "memfd_create");
  while (off < st->st_size)
    {
      ssize_t n = sendfile (mfd, src, NULL, (size_t) (st->st_size - off));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return nook_error (err, n < 0 ? errno : EIO, "copy /proc/self/exe to memfd");
      off += n;
    }
  if (fcntl (mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return nook_error (err, errno, "seal memfd");
  return steal_fd (&mfd);
}

int
nook_reexec_sealed (char **argv, nook_err *err)
{
  cleanup_close int src = -1, fd = -1;
  struct stat st;

  if (getenv (SEALED_ENV))
    {
      unsetenv (SEALED_ENV);
      if (nook_selfexe_protected ())
        return 0;
    }
  if (geteuid () != 0 && access ("/proc/self/exe", W_OK) < 0)
    return 0; /* not writable by us: nothing a container could do with it either */
  src = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0 || fstat (src, &st) < 0)
    return nook_error (err, errno, "open /proc/self/exe");
  fd = overlay_exe (&st);
  if (fd < 0)
    fd = memfd_exe (src, &st, err);
  if (fd < 0)
    return -1;
  setenv (SEALED_ENV, "1", 1);
  fexecve (fd, argv, environ);
  unsetenv (SEALED_ENV);
  return nook_error (err, errno, "execute a protected copy of the runtime");
}
