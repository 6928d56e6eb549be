/* The spec's mounts: podman's defaults (/proc, /dev, /dev/pts, /dev/mqueue, /sys, /sys/fs/cgroup, /dev/shm,
 * the generated /etc files, /run/.containerenv), then the user's, which replace a default with the same
 * destination; sorted by depth (stable) so parents are mounted before their children. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

static json_t *
opts (const char *csv)
{
  json_t *a = json_array ();
  cleanup_free char *copy = xstrdup (csv);
  char *save = NULL;

  for (char *o = strtok_r (copy, ",", &save); o != NULL; o = strtok_r (NULL, ",", &save))
    json_array_append_new (a, json_string (o));
  return a;
}

static void
add (json_t *m, const char *dest, const char *type, const char *source, const char *csv)
{
  json_array_append_new (m, sg_mount (dest, type, source, opts (csv)));
}

static char *
size_opt (int64_t bytes)
{
  if (bytes <= 0)
    bytes = SG_DEFAULT_SHM;
  if (bytes % 1024 == 0)
    return xasprintf ("size=%lldk", (long long) (bytes / 1024));
  return xasprintf ("size=%lld", (long long) bytes);
}

static void
dev_mounts (struct sg *g, json_t *m)
{
  cleanup_free char *shm = NULL, *shm_opts = NULL;

  add (m, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
  add (m, "/dev/pts", "devpts", "devpts",
       sg_gid_mapped (g, 5) ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"
                            : "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
  /* with the host's IPC namespace a user namespace cannot mount mqueue: the host's, when it has one */
  if (g->ipc.mode != SG_NS_HOST || !g->rootless)
    add (m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
  else if (access ("/dev/mqueue", F_OK) == 0)
    add (m, "/dev/mqueue", "bind", "/dev/mqueue", "rbind,nosuid,noexec,nodev");
  if (g->ipc.mode == SG_NS_HOST && access ("/dev/shm", F_OK) == 0)
    {
      add (m, "/dev/shm", "bind", "/dev/shm", "rbind,nosuid,noexec,nodev");
      return;
    }
  shm = size_opt (g->o->shm_size);
  shm_opts = xasprintf ("nosuid,noexec,nodev,mode=1777,%s", shm);
  add (m, "/dev/shm", "tmpfs", "shm", shm_opts);
}

static void
sys_mounts (struct sg *g, json_t *m)
{
  const char *ro = g->privileged ? "" : ",ro";
  cleanup_free char *sys = xasprintf ("nosuid,noexec,nodev%s", ro);
  cleanup_free char *sys_bind = xasprintf ("rbind,nosuid,noexec,nodev%s", ro);
  cleanup_free char *cg = xasprintf ("rprivate,nosuid,noexec,nodev,relatime%s", ro);

  /* sysfs needs a network namespace of our own when we are not root on the host */
  if (g->net.mode == SG_NS_HOST && g->rootless)
    add (m, "/sys", "bind", "/sys", sys_bind);
  else
    add (m, "/sys", "sysfs", "sysfs", sys);
  add (m, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
}

static void
userdata_mount (struct sg *g, json_t *m, const char *dest, const char *name, const char *csv)
{
  cleanup_free char *src = xasprintf ("%s/userdata/%s", g->in->ctr_dir, name);
  add (m, dest, "bind", src, csv);
}

static void
default_mounts (struct sg *g, json_t *m)
{
  /* a new proc instance needs the pid namespace's owner: rootless with --pid host binds the host's */
  if (g->pid.mode == SG_NS_HOST && g->rootless)
    add (m, "/proc", "bind", "/proc", "rbind,nosuid,noexec,nodev");
  else
    add (m, "/proc", "proc", "proc", "nosuid,noexec,nodev");
  dev_mounts (g, m);
  sys_mounts (g, m);
  userdata_mount (g, m, "/etc/hosts", "hosts", "rbind,rprivate");
  userdata_mount (g, m, "/etc/hostname", "hostname", "rbind,rprivate");
  userdata_mount (g, m, "/etc/resolv.conf", "resolv.conf", "rbind,rprivate");
  userdata_mount (g, m, "/run/.containerenv", ".containerenv", "rbind,rprivate,ro");
  if (g->keepid_passwd)
    userdata_mount (g, m, "/etc/passwd", "passwd", "rbind,rprivate");
  if (g->keepid_group)
    userdata_mount (g, m, "/etc/group", "group", "rbind,rprivate");
  if (g->o->read_only)
    {
      add (m, "/tmp", "tmpfs", "tmpfs", "rw,nosuid,nodev");
      add (m, "/var/tmp", "tmpfs", "tmpfs", "rw,nosuid,nodev");
      add (m, "/run", "tmpfs", "tmpfs", "rw,nosuid,nodev");
    }
}

static const char *
dest_of (json_t *m)
{
  return json_string_value (json_object_get (m, "destination"));
}

static size_t
depth (const char *path)
{
  size_t n = 0;

  for (const char *p = path; *p; p++)
    if (*p == '/' && p[1] != '/' && p[1] != '\0')
      n++;
  return n;
}

static bool
same_dest (json_t *list, const char *dest)
{
  size_t i;
  json_t *m;

  json_array_foreach (list, i, m)
    if (strcmp (dest_of (m), dest) == 0)
      return true;
  return false;
}

/* Stable insertion sort by depth. */
static void
sort_mounts (json_t *arr)
{
  size_t n = json_array_size (arr);

  for (size_t i = 1; i < n; i++)
    {
      json_t *m = json_incref (json_array_get (arr, i));
      size_t d = depth (dest_of (m)), j = i;

      while (j > 0 && depth (dest_of (json_array_get (arr, j - 1))) > d)
        {
          json_array_set (arr, j, json_array_get (arr, j - 1));
          j--;
        }
      json_array_set_new (arr, j, m);
    }
}

/* Trailing slashes off; "//" collapsed. */
static void
clean_dests (json_t *list)
{
  size_t i;
  json_t *m;

  json_array_foreach (list, i, m)
    {
      cleanup_free char *d = xstrdup (dest_of (m));
      char *w = d;

      for (const char *r = d; *r; r++)
        if (!(*r == '/' && r[1] == '/'))
          *w++ = *r;
      *w = '\0';
      while (w > d + 1 && w[-1] == '/')
        *--w = '\0';
      json_object_set_new (m, "destination", json_string (d));
    }
}

static int
user_mounts (struct sg *g, json_t *user, nook_err *err)
{
  const struct nook_run_opts *o = g->o;

  for (size_t i = 0; o->volumes != NULL && o->volumes[i] != NULL; i++)
    if (sg_volume_flag (g, o->volumes[i], user, err) < 0)
      return -1;
  for (size_t i = 0; o->mounts != NULL && o->mounts[i] != NULL; i++)
    if (sg_mount_flag (g, o->mounts[i], user, err) < 0)
      return -1;
  for (size_t i = 0; o->tmpfs != NULL && o->tmpfs[i] != NULL; i++)
    if (sg_tmpfs_flag (g, o->tmpfs[i], user, err) < 0)
      return -1;
  clean_dests (user);
  return sg_image_volumes (g, user, err);
}

/* --init: a static init binary (catatonit, else tini-static), resolved to its real path. */
static char *
init_binary (nook_err *err)
{
  static const char *const paths[] = { "/usr/libexec/podman/catatonit", "/usr/bin/catatonit",
                                       "/usr/bin/tini-static", "/usr/local/bin/catatonit", NULL };

  for (size_t i = 0; paths[i] != NULL; i++)
    {
      char *real = realpath (paths[i], NULL);
      if (real != NULL && access (real, X_OK) == 0)
        return real;
      free (real);
    }
  nook_error_input (err, "--init: no init binary found: install catatonit or tini");
  err->code = ENOENT;
  return NULL;
}

/* The init binary read-only at SG_INIT_PATH (process.args get it prepended by specgen.c). */
static int
init_mount (struct sg *g, json_t *m, nook_err *err)
{
  cleanup_free char *bin = NULL;

  if (!g->o->init)
    return 0;
  if ((bin = init_binary (err)) == NULL)
    return -1;
  add (m, SG_INIT_PATH, "bind", bin, "bind,ro,rprivate");
  return 0;
}

int
sg_mounts (struct sg *g, nook_err *err)
{
  json_t *user = json_array (), *defs = json_array (), *m;
  size_t i;
  int ret;

  default_mounts (g, defs);
  ret = init_mount (g, defs, err);
  if (ret == 0)
    ret = user_mounts (g, user, err);
  if (ret == 0)
    {
      json_array_foreach (defs, i, m)
        if (!same_dest (user, dest_of (m)))
          json_array_append (g->mounts, m);
      json_array_extend (g->mounts, user);
      sort_mounts (g->mounts);
    }
  json_decref (user);
  json_decref (defs);
  return ret;
}
