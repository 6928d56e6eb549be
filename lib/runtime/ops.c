/* state, kill, delete, list and ps: verbs on containers that exist. */
#include "runtime/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "util/syscalls.h"

/* Load a container's state with its directory locked; the caller closes *STATEFD (dropping the lock). */
static int
load (const struct nook_runtime_ctx *ctx, const char *id, bool exclusive, int *rootfd, int *statefd,
      struct nook_state **st, nook_err *err)
{
  *rootfd = nook_root_open (ctx->root, err);
  if (*rootfd < 0)
    return -1;
  *statefd = nook_state_dir_open (*rootfd, id, exclusive, err);
  if (*statefd < 0)
    return -1;
  return nook_state_load (*statefd, id, st, err);
}

int
nook_pidfd_for (const struct nook_state *st, nook_err *err)
{
  int fd = sys_pidfd_open (st->pid, 0);
  if (fd < 0)
    return nook_error (err, errno, "pidfd_open %d", (int) st->pid);
  /* The pidfd pins the process; re-check that it is still the one we started. */
  if (!nook_proc_alive (st->pid, st->start_time))
    {
      close (fd);
      return nook_error (err, ESRCH, "container `%s` process %d", st->id, (int) st->pid);
    }
  return fd;
}

int
nook_container_state (const struct nook_runtime_ctx *ctx, const char *id, json_t **out, nook_err *err)
{
  cleanup_close int rootfd = -1, statefd = -1;
  struct nook_state *st = NULL;

  if (load (ctx, id, false, &rootfd, &statefd, &st, err) < 0)
    return -1;
  *out = nook_state_to_oci (st);
  nook_state_free (st);
  return 0;
}

/* Processes left in the container's mount namespace (its init shared our pid namespace, or died first):
 * signal them.  Never our own mount namespace.  False when the namespace is unknown. */
static bool
signal_mntns (const struct nook_state *st, int sig)
{
  cleanup_dir DIR *d = NULL;
  struct stat self;
  struct dirent *de;

  /* Only while the init lives: it pins the namespace, so its inode number cannot have been reused by
   * another container's namespace (signalling by a stale number could hit anyone). */
  if (st->mntns_ino == 0 || !nook_proc_alive (st->pid, st->start_time) || stat ("/proc/self/ns/mnt", &self) < 0
      || (self.st_ino == st->mntns_ino && self.st_dev == st->mntns_dev))
    return false;
  d = opendir ("/proc");
  while (d && (de = readdir (d)) != NULL)
    {
      char path[64];
      struct stat ns;
      uint64_t p;
      if (!str_to_u64 (de->d_name, INT32_MAX, &p))
        continue;
      snprintf (path, sizeof (path), "/proc/%s/ns/mnt", de->d_name);
      if (stat (path, &ns) == 0 && ns.st_ino == st->mntns_ino && ns.st_dev == st->mntns_dev)
        kill ((pid_t) p, sig);
    }
  return true;
}

void
nook_kill_mntns_members (int nsfd, int sig)
{
  struct stat want, self;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (nsfd < 0 || fstat (nsfd, &want) < 0 || stat ("/proc/self/ns/mnt", &self) < 0
      || (self.st_ino == want.st_ino && self.st_dev == want.st_dev))
    return;
  d = opendir ("/proc");
  while (d && (de = readdir (d)) != NULL)
    {
      char path[64];
      struct stat ns;
      uint64_t p;
      if (!str_to_u64 (de->d_name, INT32_MAX, &p))
        continue;
      snprintf (path, sizeof (path), "/proc/%s/ns/mnt", de->d_name);
      if (stat (path, &ns) == 0 && ns.st_ino == want.st_ino && ns.st_dev == want.st_dev)
        kill ((pid_t) p, sig);
    }
}

static int
signal_all (const struct nook_state *st, int sig, nook_err *err)
{
  struct nook_cgroup *cg = NULL;
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = 0;

  if (st->cgroup == NULL || nook_cgroup_from_json (st->cgroup, &cg, err) < 0
      || nook_cgroup_pids (cg, &pids, &n, err) < 0)
    {
      nook_cgroup_free (cg);
      /* No cgroup: every process in the container's mount namespace, else the init alone (the caller). */
      return signal_mntns (st, sig) ? 0 : 1;
    }
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      ret = nook_error (err, errno, "kill %d", (int) pids[i]);
  free (pids);
  nook_cgroup_free (cg);
  return ret;
}

int
nook_container_kill (const struct nook_runtime_ctx *ctx, const char *id, int sig, bool all, nook_err *err)
{
  cleanup_close int rootfd = -1, statefd = -1, pidfd = -1;
  struct nook_state *st = NULL;
  int ret = -1;

  if (load (ctx, id, false, &rootfd, &statefd, &st, err) < 0)
    return -1;
  if (!nook_status_alive (st->status) && all)
    {
      ret = 0; /* kill --all of a stopped container: no process left to signal (runc answers 0 too) */
      goto out;
    }
  if (!nook_status_alive (st->status))
    {
      nook_error_input (err, "container `%s` is not running", id);
      goto out;
    }
  if (all && (ret = signal_all (st, sig, err)) <= 0)
    goto out;
  pidfd = nook_pidfd_for (st, err);
  if (pidfd < 0)
    goto out;
  if (sys_pidfd_send_signal (pidfd, sig, NULL, 0) < 0)
    {
      nook_error (err, errno, "kill container `%s` (pid %d) with signal %d", id, (int) st->pid, sig);
      goto out;
    }
  ret = 0;
out:
  nook_state_free (st);
  return ret;
}

static int
kill_and_wait (const struct nook_state *st, nook_err *err)
{
  cleanup_close int pidfd = nook_pidfd_for (st, err);
  struct pollfd p;

  if (pidfd < 0)
    return err->code == ESRCH ? 0 : -1;
  if (sys_pidfd_send_signal (pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
    return nook_error (err, errno, "kill container `%s`", st->id);
  p.fd = pidfd;
  p.events = POLLIN;
  while (poll (&p, 1, 10000) < 0)
    if (errno != EINTR)
      return nook_error (err, errno, "poll pidfd");
  return 0;
}

/* A frozen task only dies once thawed: SIGKILL everything, then thaw (runc does the same). */
static void
thaw_killed (const struct nook_state *st)
{
  struct nook_cgroup *cg = NULL;
  nook_err ignored;

  if (nook_cgroup_from_json (st->cgroup, &cg, &ignored) < 0)
    return;
  signal_all (st, SIGKILL, &ignored);
  nook_cgroup_freeze (cg, false, &ignored);
  nook_cgroup_free (cg);
}

int
nook_container_delete (const struct nook_runtime_ctx *ctx, const char *id, bool force, nook_err *err)
{
  cleanup_close int rootfd = -1, statefd = -1;
  struct nook_state *st = NULL;
  struct nook_cgroup *cg = NULL;
  int ret = -1;

  rootfd = nook_root_open (ctx->root, err);
  if (rootfd >= 0)
    statefd = nook_state_dir_open (rootfd, id, true, err);
  if (rootfd < 0 || statefd < 0)
    {
      /* runc and crun: deleting a container that does not exist with --force succeeds */
      if (force && err->code == ENOENT)
        {
          nook_err_clear (err);
          return 0;
        }
      return -1;
    }
  if (nook_state_load (statefd, id, &st, err) < 0)
    return -1;
  if (nook_status_alive (st->status))
    {
      /* Like runc: a created container's init runs nothing of the user's yet, delete just kills it. */
      if (!force && st->status != NOOK_STATUS_CREATED)
        {
          nook_error_input (err, "cannot delete container `%s` that is not stopped: %s", id,
                            nook_status_name (st->status));
          goto out;
        }
      signal_mntns (st, SIGKILL); /* the init's fellow processes (a shared pid namespace), while it lives */
      if (st->status == NOOK_STATUS_PAUSED)
        thaw_killed (st);
      if (kill_and_wait (st, err) < 0)
        goto out;
    }
  if (st->cgroup && nook_cgroup_from_json (st->cgroup, &cg, err) == 0)
    {
      signal_all (st, SIGKILL, err);
      if (nook_cgroup_destroy (cg, err) < 0)
        goto out;
    }
  ret = nook_state_dir_remove (rootfd, id, err);
out:
  nook_cgroup_free (cg);
  nook_state_free (st);
  return ret;
}

static int
cmp_state (const void *a, const void *b)
{
  return strcmp ((*(struct nook_state *const *) a)->id, (*(struct nook_state *const *) b)->id);
}

int
nook_container_list (const struct nook_runtime_ctx *ctx, struct nook_state ***out, size_t *n, nook_err *err)
{
  cleanup_close int rootfd = nook_root_open (ctx->root, err);
  cleanup_dir DIR *d = NULL;
  struct nook_state **v = NULL;
  struct dirent *de;
  size_t cnt = 0;

  if (rootfd < 0)
    return -1;
  d = fdopendir (dup (rootfd));
  if (d == NULL)
    return nook_error (err, errno, "open runtime root `%s`", ctx->root);
  while ((de = readdir (d)) != NULL)
    {
      struct nook_state *st = NULL;
      nook_err ignored;
      int fd;

      if (de->d_name[0] == '.' || de->d_type != DT_DIR)
        continue;
      fd = nook_state_dir_open (rootfd, de->d_name, false, &ignored);
      if (fd < 0)
        continue;
      if (nook_state_load (fd, de->d_name, &st, &ignored) == 0)
        {
          v = xrealloc (v, (cnt + 1) * sizeof (*v));
          v[cnt++] = st;
        }
      close (fd);
    }
  if (cnt > 1)
    qsort (v, cnt, sizeof (*v), cmp_state);
  *out = v;
  *n = cnt;
  return 0;
}

static bool
same_ns (pid_t pid, const char *which, const struct stat *ns)
{
  char path[64];
  struct stat st;
  snprintf (path, sizeof (path), "/proc/%d/ns/%s", (int) pid, which);
  return stat (path, &st) == 0 && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev;
}

/* Without a cgroup: every process in the init's pid namespace; when the container shares our pid
 * namespace, every process in the mount namespace the runtime created for it; else (it has none of its
 * own: that namespace is shared with others) the init alone. */
static int
pids_by_ns (const struct nook_state *st, pid_t **pids, size_t *n, nook_err *err)
{
  char path[64];
  struct stat ns, self;
  const char *which = "pid";
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  pid_t *v = NULL;
  size_t cnt = 0;

  snprintf (path, sizeof (path), "/proc/%d/ns/pid", (int) st->pid);
  if (stat (path, &ns) < 0)
    return nook_error (err, errno, "stat `%s`", path);
  if (stat ("/proc/self/ns/pid", &self) == 0 && self.st_ino == ns.st_ino && self.st_dev == ns.st_dev)
    {
      which = "mnt";
      snprintf (path, sizeof (path), "/proc/%d/ns/mnt", (int) st->pid);
      if (stat (path, &ns) < 0)
        return nook_error (err, errno, "stat `%s`", path);
      if (st->mntns_ino == 0 || ns.st_ino != st->mntns_ino || ns.st_dev != st->mntns_dev)
        {
          v = xmalloc (sizeof (pid_t));
          v[cnt++] = st->pid;
          *pids = v;
          *n = cnt;
          return 0;
        }
    }
  d = opendir ("/proc");
  if (d == NULL)
    return nook_error (err, errno, "opendir /proc");
  while ((de = readdir (d)) != NULL)
    {
      uint64_t p;
      if (!str_to_u64 (de->d_name, INT32_MAX, &p) || !same_ns ((pid_t) p, which, &ns))
        continue;
      v = xrealloc (v, (cnt + 1) * sizeof (pid_t));
      v[cnt++] = (pid_t) p;
    }
  *pids = v;
  *n = cnt;
  return 0;
}

int
nook_container_pids (const struct nook_runtime_ctx *ctx, const char *id, pid_t **pids, size_t *n, nook_err *err)
{
  cleanup_close int rootfd = -1, statefd = -1;
  struct nook_state *st = NULL;
  struct nook_cgroup *cg = NULL;
  int ret = -1;

  *pids = NULL;
  *n = 0;
  if (load (ctx, id, false, &rootfd, &statefd, &st, err) < 0)
    return -1;
  if (!nook_status_alive (st->status))
    ret = 0;
  else if (st->cgroup && nook_cgroup_from_json (st->cgroup, &cg, err) == 0 && nook_cgroup_pids (cg, pids, n, err) == 0
           && *n > 0)
    ret = 0;
  else
    ret = pids_by_ns (st, pids, n, err);
  nook_cgroup_free (cg);
  nook_state_free (st);
  return ret;
}
