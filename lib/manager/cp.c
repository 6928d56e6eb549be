/* nook cp: the container's root (running: /proc/<pid>/root; stopped: its overlay in a private mount
 * namespace), the execution context (rootless: a user namespace with the container's maps), and the top
 * level of the copy (where the source lands).  The tree copy itself is in cp_tree.c, tar streams in
 * cp_tar.c. */
#include "manager/cp.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/cp_internal.h"
#include "manager/ctrstore.h"
#include "manager/lifecycle_internal.h"
#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

void
nook_ctr_overlay (struct nook_store *s, const char *id, json_t *record, struct nook_overlay *ov)
{
  json_t *layers = json_object_get (json_object_get (record, "Nook"), "layers");
  size_t n = json_array_size (layers);
  cleanup_free char *dir = nook_ctr_dir (s, id);

  ov->layers_dir = xasprintf ("%s/layers", s->root);
  ov->lowers = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      const char *d = json_string_value (json_array_get (layers, n - 1 - i));
      ov->lowers[i] = xasprintf ("%s/diff", d && strlen (d) > 7 ? d + 7 : "");
    }
  ov->upper = xasprintf ("%s/upper", dir);
  ov->work = xasprintf ("%s/work", dir);
  ov->userxattr = s->rootless;
}

/* ---- the command line's sides ---- */

/* "CTR:PATH" -> *CTR (allocated) and *PATH; a host path or "-" leaves *CTR NULL. */
static void
split_side (const char *arg, char **ctr, const char **path)
{
  const char *colon = strchr (arg, ':');

  *ctr = NULL;
  *path = arg;
  if (colon == NULL || colon == arg || memchr (arg, '/', (size_t) (colon - arg)) != NULL || arg[0] == '.')
    return;
  *ctr = xasprintf ("%.*s", (int) (colon - arg), arg);
  *path = colon + 1;
}

/* ---- opening paths on either side ---- */

int
cp_open (struct cp_job *j, bool ctr_side, const char *path, int flags, nook_err *err)
{
  int fd;

  if (ctr_side)
    {
      fd = nook_open_in_root (j->rootfd, path[0] ? path : "/", flags, 0, err);
      if (fd < 0 && err->code == ENOENT)
        nook_error (err, ENOENT, "\"%s\" could not be found on container %s", path, j->name);
      return fd;
    }
  fd = open (path, flags | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", path);
  return fd;
}

/* O_NOFOLLOW for a source whose last component is to be copied as it is: like podman (and docker), a
 * symlink is copied as the link; "LINK/" and "LINK/." follow it. */
int
cp_src_flags (const char *path)
{
  size_t n = strlen (path);

  if (n == 0 || path[n - 1] == '/' || (n >= 2 && strcmp (path + n - 2, "/.") == 0) || strcmp (path, ".") == 0)
    return O_PATH;
  return O_PATH | O_NOFOLLOW;
}

/* The last component of PATH ("" for "/" and for paths ending in "/." or "."), allocated. */
static char *
base_of (const char *path, bool *contents)
{
  cleanup_free char *p = xstrdup (path);
  size_t n = strlen (p);
  char *slash;

  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  slash = strrchr (p, '/');
  char *b = slash ? slash + 1 : p;
  *contents = b[0] == '\0' || strcmp (b, ".") == 0;
  return xstrdup (*contents ? "" : b);
}

/* The directory part of PATH ("/" or "." when it has none). */
static char *
dir_of (const char *path, bool ctr_side)
{
  cleanup_free char *p = xstrdup (path);
  size_t n = strlen (p);
  char *slash;

  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  slash = strrchr (p, '/');
  if (slash == NULL)
    return xstrdup (ctr_side ? "/" : ".");
  if (slash == p)
    return xstrdup ("/");
  *slash = '\0';
  return xstrdup (p);
}

/* Where the source goes: into DST when it is a directory, else as DST itself (its parent must exist). */
static int
open_dest (struct cp_job *j, const char *dst, const char *src_base, bool src_is_dir, int *ddir, char **dname,
           nook_err *err)
{
  bool dst_ctr = j->to_ctr;
  nook_err e = { 0 };
  cleanup_close int fd = cp_open (j, dst_ctr, dst, O_RDONLY | O_DIRECTORY, &e);
  bool contents;

  if (fd >= 0)
    {
      *ddir = steal_fd (&fd);
      *dname = src_base[0] ? xstrdup (src_base) : NULL;
      return 0;
    }
  if (e.code != ENOENT && e.code != ENOTDIR)
    {
      *err = e;
      return -1;
    }
  size_t n = strlen (dst);
  if (e.code == ENOENT && n > 0 && dst[n - 1] == '/' && !src_is_dir)
    return nook_error (err, ENOENT, "destination directory \"%s\" does not exist", dst);
  cleanup_free char *parent = dir_of (dst, dst_ctr);
  *dname = base_of (dst, &contents);
  if (contents)
    {
      free (*dname);
      *dname = NULL;
      *err = e;
      return -1;
    }
  *ddir = cp_open (j, dst_ctr, parent, O_RDONLY | O_DIRECTORY, err);
  if (*ddir < 0)
    {
      free (*dname);
      *dname = NULL;
      return -1;
    }
  return 0;
}

static int
copy_files (struct cp_job *j, nook_err *err)
{
  bool contents;
  cleanup_free char *base = base_of (j->src, &contents), *dname = NULL;
  cleanup_close int sfd = cp_open (j, !j->to_ctr, j->src, cp_src_flags (j->src), err);
  cleanup_close int ddir = -1;
  struct stat st;

  if (sfd < 0)
    return -1;
  if (fstat (sfd, &st) < 0)
    return nook_error (err, errno, "stat `%s`", j->src);
  if (contents && !S_ISDIR (st.st_mode))
    return nook_error (err, ENOTDIR, "`%s`", j->src);
  if (open_dest (j, j->dst, base, S_ISDIR (st.st_mode), &ddir, &dname, err) < 0)
    return -1;
  if (dname == NULL)
    {
      /* SRC/. into an existing directory: the contents merge, the directory keeps its attributes */
      cleanup_close int sdir = openat (sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sdir < 0)
        return nook_error (err, errno, "open `%s`", j->src);
      return cp_tree_children (j, sdir, ddir, err);
    }
  return cp_tree_node (j, sfd, &st, ddir, dname, err);
}

static int
do_copy (struct cp_job *j, nook_err *err)
{
  umask (0);
  if (j->stream && j->to_ctr)
    return cp_tar_extract (j, STDIN_FILENO, err);
  if (j->stream)
    return cp_tar_create (j, STDOUT_FILENO, err);
  return copy_files (j, err);
}

/* In the copy's process: the root of a stopped container is its overlay, mounted here (a private mount
 * namespace) on STORE/containers/<id>/merged. */
static int
cp_run (void *ud, nook_err *err)
{
  struct cp_job *j = ud;

  if (!j->running)
    {
      if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return nook_error (err, errno, "make the mount namespace private");
      if (nook_overlay_mount (&j->ov, j->merged, err) < 0)
        return nook_error_prefix (err, "mount the rootfs of container %s", j->name);
      j->rootfd = open (j->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (j->rootfd < 0)
        return nook_error (err, errno, "open `%s`", j->merged);
    }
  return do_copy (j, err);
}

/* Root and stopped: a child in its own mount namespace; its error comes back through a pipe. */
static int
run_in_mountns (struct cp_job *j, nook_err *err)
{
  int fds[2], status;
  pid_t pid;
  nook_err child = { 0 };

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return nook_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      close (fds[0]);
      if (unshare (CLONE_NEWNS) < 0)
        nook_error (&child, errno, "unshare the mount namespace");
      else if (cp_run (j, &child) == 0)
        {
          fflush (stdout);
          _exit (0);
        }
      fflush (stdout);
      nook_write_all (fds[1], &child, sizeof (child));
      _exit (1);
    }
  close (fds[1]);
  int n = nook_read_all (fds[0], &child, sizeof (child));
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (n == (int) sizeof (child))
    {
      *err = child;
      return -1;
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return nook_error_input (err, "the copy process died");
  return 0;
}

/* linux.uidMappings / gidMappings of the container's config.json. */
static size_t
maps_from (json_t *arr, struct nook_idmap *out, size_t max)
{
  size_t i, n = 0;
  json_t *e;

  json_array_foreach (arr, i, e)
    if (n < max)
      out[n++] = (struct nook_idmap){ .container_id = json_integer_value (json_object_get (e, "containerID")),
                                      .host_id = json_integer_value (json_object_get (e, "hostID")),
                                      .size = json_integer_value (json_object_get (e, "size")) };
  return n;
}

static int
load_maps (struct cp_job *j, nook_err *err)
{
  cleanup_free char *dir = nook_ctr_dir (j->s, j->id);
  cleanup_free char *path = xasprintf ("%s/config.json", dir);
  json_error_t jerr;
  json_t *spec = json_load_file (path, JSON_ALLOW_NUL, &jerr), *lx;

  if (spec == NULL)
    return nook_error_input (err, "container %s: read `%s`: %s", j->name, path, jerr.text);
  lx = json_object_get (spec, "linux");
  j->nu = maps_from (json_object_get (lx, "uidMappings"), j->umap, CP_MAX_MAPS);
  j->ng = maps_from (json_object_get (lx, "gidMappings"), j->gmap, CP_MAX_MAPS);
  json_decref (spec);
  if (j->userns && (j->nu == 0 || j->ng == 0))
    {
      /* rootless without maps in the spec: the store's (or just the user) */
      j->nu = j->s->n_uidmap, j->ng = j->s->n_gidmap;
      memcpy (j->umap, j->s->uidmap, sizeof (j->s->uidmap));
      memcpy (j->gmap, j->s->gidmap, sizeof (j->s->gidmap));
      if (j->nu == 0 || j->ng == 0)
        {
          j->umap[0] = (struct nook_idmap){ .container_id = 0, .host_id = geteuid (), .size = 1 };
          j->gmap[0] = (struct nook_idmap){ .container_id = 0, .host_id = getegid (), .size = 1 };
          j->nu = j->ng = 1;
        }
    }
  return 0;
}

static int
prepare (struct nook_mgr *m, struct cp_job *j, const char *name, nook_err *err)
{
  json_t *st;

  if (nook_ctr_find (m->store, name, &j->id, err) < 0 || nook_ctr_inspect (m, j->id, &j->record, err) < 0)
    return -1;
  j->name = name;
  j->userns = m->store->rootless;
  if (load_maps (j, err) < 0)
    return -1;
  j->running = nook_ctr_is_running (j->record);
  st = json_object_get (j->record, "State");
  j->pid = (pid_t) json_integer_value (json_object_get (st, "Pid"));
  if (j->running && j->pid > 0)
    {
      cleanup_free char *proc = xasprintf ("/proc/%d/root", (int) j->pid);
      j->rootfd = open (proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (j->rootfd < 0)
        return nook_error (err, errno, "container %s: open `%s`", name, proc);
      return 0;
    }
  j->running = false;
  cleanup_free char *dir = nook_ctr_dir (m->store, j->id);
  j->merged = xasprintf ("%s/merged", dir);
  nook_ctr_overlay (m->store, j->id, j->record, &j->ov);
  return 0;
}

static void
job_free (struct cp_job *j)
{
  if (j->rootfd >= 0)
    close (j->rootfd);
  free (j->id);
  free (j->merged);
  json_decref (j->record);
  nook_overlay_free (&j->ov);
}

int
nook_ctr_cp (struct nook_mgr *m, const char *src, const char *dst, const struct nook_cp_opts *o, nook_err *err)
{
  cleanup_free char *sctr = NULL, *dctr = NULL;
  struct cp_job j = { .s = m->store, .o = o, .rootfd = -1 };
  const char *name;
  int ret = -1;

  split_side (src, &sctr, &j.src);
  split_side (dst, &dctr, &j.dst);
  if (sctr != NULL && dctr != NULL)
    return nook_error_input (err, "copying from a container to another container is not supported");
  if (sctr == NULL && dctr == NULL)
    return nook_error_input (err, "invalid arguments %s, %s you must use just one container", src, dst);
  j.to_ctr = dctr != NULL;
  name = j.to_ctr ? dctr : sctr;
  j.stream = strcmp (j.to_ctr ? j.src : j.dst, "-") == 0;
  if (prepare (m, &j, name, err) < 0)
    goto out;
  if (j.userns)
    ret = nook_userns_run (j.umap, j.nu, j.gmap, j.ng, !j.running, cp_run, &j, err);
  else if (!j.running)
    ret = run_in_mountns (&j, err);
  else
    ret = cp_run (&j, err);
out:
  job_free (&j);
  return ret;
}
