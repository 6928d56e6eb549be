/* Step 3 of nook_rootfs_setup: the config.json mounts, in order, each destination resolved inside the
 * rootfs.  Special cases: sysfs and mqueue fall back to binding the host's when the kernel refuses a new
 * instance (no network namespace of our own, user namespace); cgroup mounts follow the host's layout. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "runtime/rootfs_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define HOST_CGROUP "/sys/fs/cgroup"

struct mount_job
{
  const struct nook_rootfs_ctx *ctx;
  int rootfd;
  const struct nook_mount *m;
  struct nook_mount_opts o;
  int dstfd; /* O_PATH fd on the destination (the directory or file being covered) */
};

static bool
type_is (const struct nook_mount *m, const char *type)
{
  return m->type != NULL && strcmp (m->type, type) == 0;
}

static bool
is_bind (const struct nook_mount *m, const struct nook_mount_opts *o)
{
  return (o->flags & MS_BIND) || m->type == NULL || type_is (m, "bind") || type_is (m, "rbind");
}

static bool
is_rbind (const struct nook_mount *m, const struct nook_mount_opts *o)
{
  return (o->flags & MS_REC) || type_is (m, "rbind");
}

/* "/dev", "//dev/", "/dev/." all name /dev. */
static bool
dest_is_dev (const char *dest)
{
  const char *p = dest;
  while (*p == '/')
    p++;
  if (strncmp (p, "dev", 3) != 0)
    return false;
  for (p += 3; *p; p++)
    if (*p != '/' && *p != '.')
      return false;
  return true;
}

int
nook_rootfs_dev_readonly (const struct nook_spec *spec, int rootfd, nook_err *err)
{
  bool ro = false;

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct nook_mount *m = &spec->mounts[i];
      struct nook_mount_opts o;
      if (!dest_is_dev (m->destination) || !type_is (m, "tmpfs") || nook_mount_opts_parse (m->options, &o, err) < 0)
        continue;
      ro = !is_bind (m, &o) && (o.flags & MS_RDONLY); /* the last mount on /dev decides */
      nook_mount_opts_free (&o);
    }
  if (!ro)
    return 0;
  return nook_rootfs_set_attrs (rootfd, "/dev", MS_RDONLY, 0, false, err);
}

bool
nook_rootfs_dev_is_bound (const struct nook_spec *spec)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct nook_mount *m = &spec->mounts[i];
      struct nook_mount_opts o;
      nook_err e;
      if (!dest_is_dev (m->destination) || nook_mount_opts_parse (m->options, &o, &e) < 0)
        continue;
      bool bind = is_bind (m, &o);
      nook_mount_opts_free (&o);
      if (bind)
        return true;
    }
  return false;
}

/* A new filesystem instance: mount(SOURCE or TYPE, dest, TYPE, flags, data). */
static int
mount_fs (struct mount_job *j, const char *type, nook_err *err)
{
  const char *src = j->m->source ? j->m->source : type;
  unsigned long flags = j->o.flags & ~(MS_BIND | MS_REC);
  return nook_rootfs_mount_at (src, j->dstfd, j->m->destination, type, flags, j->o.data, err);
}

/* Bind the host's HOST recursively instead, keeping the attributes asked for (ro, nosuid, ...). */
static int
bind_host_instead (struct mount_job *j, const char *host, unsigned long extra, nook_err *err)
{
  if (nook_rootfs_bind_host (host, j->dstfd, j->m->destination, true, err) < 0)
    return -1;
  return nook_rootfs_set_attrs (j->rootfd, j->m->destination, j->o.flags | extra, j->o.clear, true, err);
}

/* A new instance of TYPE, or (on EPERM/EBUSY) a recursive bind of the host's HOST. */
static int
mount_fs_or_bind (struct mount_job *j, const char *type, const char *host, nook_err *err)
{
  if (mount_fs (j, type, err) == 0)
    return 0;
  if (err->code != EPERM && err->code != EBUSY)
    return -1;
  nook_debug ("%s; binding the host's `%s` instead", err->msg, host);
  return bind_host_instead (j, host, 0, err);
}

/* ---- cgroups ------------------------------------------------------------------------------------- */

/* One v1 hierarchy ("cpu,cpuacct", "name=systemd") under the tmpfs CGFD, named as on the host. */
static int
mount_v1_hierarchy (struct mount_job *j, int cgfd, const char *controllers, unsigned long flags, nook_err *err)
{
  bool named = str_has_prefix (controllers, "name=");
  const char *dir = named ? controllers + 5 : controllers;
  cleanup_free char *data = named ? xasprintf ("none,%s", controllers) : xstrdup (controllers);
  cleanup_free char *dest = xasprintf ("%s/%s", j->m->destination, dir);
  cleanup_close int fd = -1;

  if (strchr (dir, '/') != NULL || strcmp (dir, "..") == 0 || strcmp (dir, ".") == 0)
    return nook_error_input (err, "/proc/self/cgroup: bad hierarchy `%s`", controllers);
  if (mkdirat (cgfd, dir, 0755) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", dest);
  fd = openat (cgfd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", dest);
  if (nook_rootfs_mount_at ("cgroup", fd, dest, "cgroup", flags, data, err) < 0)
    return -1;
  /* Co-mounted controllers get a link each, as on the host: cpu -> cpu,cpuacct. */
  if (strchr (dir, ',') != NULL && !named)
    {
      cleanup_free char *copy = xstrdup (dir);
      char *save = NULL;
      for (char *c = strtok_r (copy, ",", &save); c; c = strtok_r (NULL, ",", &save))
        if (!str_has_prefix (c, "name=") && symlinkat (dir, cgfd, c) < 0 && errno != EEXIST)
          return nook_error (err, errno, "symlink `%s/%s`", j->m->destination, c);
    }
  return 0;
}

/* The hybrid layout's cgroup2 at "unified", when the host has one. */
static int
mount_v1_unified (struct mount_job *j, int cgfd, unsigned long flags, nook_err *err)
{
  struct statfs sfs;
  cleanup_free char *dest = xasprintf ("%s/unified", j->m->destination);
  cleanup_close int fd = -1;

  if (statfs (HOST_CGROUP "/unified", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
    return 0;
  if (mkdirat (cgfd, "unified", 0755) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", dest);
  fd = openat (cgfd, "unified", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", dest);
  return nook_rootfs_mount_at ("cgroup2", fd, dest, "cgroup2", flags, NULL, err);
}

/* Each "ID:CONTROLLERS:PATH" line of /proc/self/cgroup gets its hierarchy mounted under CGFD. */
static int
mount_v1_all (struct mount_job *j, int cgfd, unsigned long flags, nook_err *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL;
  size_t len;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/cgroup", &text, &len, 1 << 20, err) < 0)
    return -1;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *controllers = strchr (line, ':'), *end;
      if (controllers == NULL || (end = strchr (++controllers, ':')) == NULL)
        continue;
      *end = '\0';
      int ret = *controllers ? mount_v1_hierarchy (j, cgfd, controllers, flags, err)
                             : mount_v1_unified (j, cgfd, flags, err);
      if (ret < 0)
        return -1;
    }
  return 0;
}

/* As root on a v1/hybrid host: a tmpfs with one cgroup v1 mount per hierarchy, like the host's. */
static int
mount_cgroup_v1 (struct mount_job *j, nook_err *err)
{
  unsigned long flags = (j->o.flags & (NOOK_MNT_ATTR_FLAGS)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  cleanup_close int cgfd = -1;

  if (nook_rootfs_mount_at ("tmpfs", j->dstfd, j->m->destination, "tmpfs", flags & ~MS_RDONLY, "mode=755", err) < 0)
    return -1;
  cgfd = nook_open_in_root (j->rootfd, j->m->destination, O_PATH | O_DIRECTORY, 0, err);
  if (cgfd < 0)
    return -1;
  if (mount_v1_all (j, cgfd, flags, err) < 0)
    return -1;
  return nook_rootfs_set_attrs (j->rootfd, j->m->destination, flags & MS_RDONLY, 0, false, err);
}

static int
mount_cgroup (struct mount_job *j, nook_err *err)
{
  struct statfs sfs;
  bool host_v2 = statfs (HOST_CGROUP, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  /* A user namespace cannot get a new cgroup instance unless it owns a cgroup namespace, and must
   * not get the host's writable. */
  unsigned long rootless_ro = j->ctx->userns ? MS_RDONLY : 0;

  if (host_v2 || type_is (j->m, "cgroup2"))
    {
      if (mount_fs (j, "cgroup2", err) == 0)
        return 0;
      if (err->code != EPERM && err->code != EBUSY)
        return -1;
      return bind_host_instead (j, HOST_CGROUP, rootless_ro, err);
    }
  if (j->ctx->userns)
    return bind_host_instead (j, HOST_CGROUP, MS_RDONLY, err);
  return mount_cgroup_v1 (j, err);
}

/* ---- tmpfs with tmpcopyup ------------------------------------------------------------------------ */

static bool
wants_copyup (const struct nook_mount *m)
{
  bool want = false;
  for (size_t i = 0; m->options && m->options[i]; i++)
    if (strcmp (m->options[i], "tmpcopyup") == 0)
      want = true;
    else if (strcmp (m->options[i], "notmpcopyup") == 0)
      want = false;
  return want;
}

/* Mount the tmpfs writable, copy in what it covers (still reachable through the fd of the covered
 * directory), then make it read-only if asked. */
static int
mount_tmpfs_copyup (struct mount_job *j, nook_err *err)
{
  const char *dest = j->m->destination;
  unsigned long ro = j->o.flags & MS_RDONLY;
  cleanup_close int src = openat (j->dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dst = -1;

  if (src < 0)
    return nook_error (err, errno, "open `%s`", dest);
  j->o.flags &= ~MS_RDONLY;
  if (mount_fs (j, "tmpfs", err) < 0)
    return -1;
  dst = nook_open_in_root (j->rootfd, dest, O_RDONLY | O_DIRECTORY, 0, err);
  if (dst < 0 || nook_rootfs_copy_up (src, dst, dest, err) < 0)
    return -1;
  return nook_rootfs_set_attrs (j->rootfd, dest, ro, 0, false, err);
}

/* ---- one mount ------------------------------------------------------------------------------------ */

/* The runtime spec: bind sources are absolute or relative to the bundle. */
static int
open_bind_source (const struct nook_rootfs_ctx *ctx, const char *source)
{
  cleanup_close int bundlefd = -1;

  if (source[0] == '/' || ctx->bundle == NULL)
    return open (source, O_PATH | O_CLOEXEC);
  bundlefd = open (ctx->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundlefd < 0)
    return -1;
  return openat (bundlefd, source, O_PATH | O_CLOEXEC);
}

static int
mount_bind (struct mount_job *j, nook_err *err)
{
  const struct nook_mount *m = j->m;
  cleanup_close int srcfd = -1;
  struct stat st;
  bool rec = is_rbind (m, &j->o);

  if (m->source == NULL)
    return nook_error_input (err, "bind mount on `%s` has no source", m->destination);
  srcfd = open_bind_source (j->ctx, m->source);
  if (srcfd < 0 || fstat (srcfd, &st) < 0)
    return nook_error (err, errno, "open bind source `%s`", m->source);
  j->dstfd = nook_ensure_in_root (j->rootfd, m->destination, S_ISDIR (st.st_mode), 0755, err);
  if (j->dstfd < 0)
    return -1;
  if (nook_rootfs_bind_fd (srcfd, m->source, j->dstfd, m->destination, rec, err) < 0)
    return -1;
  /* "ro", "nosuid", ... on the top mount; "rro", "rnosuid", ... on the whole tree (runc's semantics). */
  if (nook_rootfs_set_attrs (j->rootfd, m->destination, j->o.flags, j->o.clear, false, err) < 0)
    return -1;
  if (rec && (j->o.rec_flags | j->o.rec_clear) != 0)
    return nook_rootfs_set_attrs (j->rootfd, m->destination, j->o.rec_flags, j->o.rec_clear, true, err);
  return 0;
}

/* proc and sysfs go on a real directory: an image whose /proc is a symlink (to anywhere, even inside the
 * rootfs) would get them elsewhere than where the masked and read-only paths are applied (runc refuses it
 * too). */
static int
require_plain_dir (int rootfd, const char *dest, nook_err *err)
{
  cleanup_free char *copy = xasprintf ("/%s", dest); /* a relative destination is relative to "/" */
  char *slash;
  cleanup_close int dirfd = -1;
  struct stat st;

  while ((slash = strrchr (copy, '/')) != NULL && slash[1] == '\0' && slash != copy) /* "/proc/" */
    *slash = '\0';
  slash = strrchr (copy, '/');
  if (slash[1] == '\0' || strcmp (slash + 1, ".") == 0 || strcmp (slash + 1, "..") == 0)
    return 0;
  *slash = '\0';
  dirfd = nook_ensure_in_root (rootfd, copy[0] ? copy : "/", true, 0755, err);
  if (dirfd < 0)
    return -1;
  if (fstatat (dirfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : nook_error (err, errno, "stat `%s`", dest);
  if (!S_ISDIR (st.st_mode))
    return nook_error_input (err, "`%s` must be mounted on ordinary directory: it is a %s in the rootfs", dest,
                             S_ISLNK (st.st_mode) ? "symlink" : "non-directory");
  return 0;
}

static int
mount_typed (struct mount_job *j, nook_err *err)
{
  const char *type = j->m->type;

  if ((strcmp (type, "proc") == 0 || strcmp (type, "sysfs") == 0)
      && require_plain_dir (j->rootfd, j->m->destination, err) < 0)
    return -1;
  j->dstfd = nook_ensure_in_root (j->rootfd, j->m->destination, true, 0755, err);
  if (j->dstfd < 0)
    return -1;
  if (strcmp (type, "proc") == 0)
    return mount_fs_or_bind (j, type, "/proc", err);
  if (strcmp (type, "sysfs") == 0)
    {
      if (!j->ctx->new_netns)
        return bind_host_instead (j, "/sys", 0, err);
      return mount_fs_or_bind (j, type, "/sys", err);
    }
  if (strcmp (type, "mqueue") == 0)
    return mount_fs_or_bind (j, type, "/dev/mqueue", err);
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    return mount_cgroup (j, err);
  if (strcmp (type, "tmpfs") == 0 && wants_copyup (j->m))
    return mount_tmpfs_copyup (j, err);
  /* A read-only /dev still needs its mount points and device nodes: read-only once they are made
   * (nook_rootfs_dev_readonly). */
  if (strcmp (type, "tmpfs") == 0 && dest_is_dev (j->m->destination))
    j->o.flags &= ~MS_RDONLY;
  return mount_fs (j, type, err);
}

static int
mount_one (const struct nook_rootfs_ctx *ctx, int rootfd, const struct nook_mount *m, nook_err *err)
{
  struct mount_job j = { .ctx = ctx, .rootfd = rootfd, .m = m, .dstfd = -1 };
  int ret;

  /* A relative destination is relative to "/" (the runtime spec asks runtimes to accept it). */
  if (m->destination == NULL || m->destination[0] == '\0')
    return nook_error_input (err, "mount destination is empty");
  if (nook_mount_opts_parse (m->options, &j.o, err) < 0)
    return nook_error_prefix (err, "mount `%s`", m->destination);

  ret = is_bind (m, &j.o) ? mount_bind (&j, err) : mount_typed (&j, err);
  if (ret == 0)
    ret = nook_rootfs_set_propagation (rootfd, m->destination, j.o.propagation, err);
  if (j.dstfd >= 0)
    close (j.dstfd);
  nook_mount_opts_free (&j.o);
  return ret;
}

int
nook_rootfs_spec_mounts (const struct nook_rootfs_ctx *ctx, int rootfd, nook_err *err)
{
  for (size_t i = 0; i < ctx->spec->n_mounts; i++)
    if (mount_one (ctx, rootfd, &ctx->spec->mounts[i], err) < 0)
      return -1;
  return 0;
}

int
nook_rootfs_mounts_propagation (const struct nook_spec *spec, int rootfd, nook_err *err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct nook_mount *m = &spec->mounts[i];
      struct nook_mount_opts o;
      if (nook_mount_opts_parse (m->options, &o, err) < 0)
        return -1;
      nook_mount_opts_free (&o);
      if (nook_rootfs_set_propagation (rootfd, m->destination, o.propagation, err) < 0)
        return -1;
    }
  return 0;
}
