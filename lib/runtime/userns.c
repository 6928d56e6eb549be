#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

static bool
is_own_single (const struct nook_idmap *m, size_t n, uint32_t own)
{
  return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

enum nook_idmap_method
nook_idmap_method_for (const struct nook_idmap *u, size_t nu, const struct nook_idmap *g, size_t ng, uid_t euid,
                       gid_t egid)
{
  if (euid == 0)
    return NOOK_IDMAP_DIRECT;
  if (is_own_single (u, nu, euid) && is_own_single (g, ng, egid))
    return NOOK_IDMAP_DIRECT_DENY;
  return NOOK_IDMAP_HELPER;
}

enum nook_idmap_method
nook_idmap_method (const struct nook_spec *spec, uid_t euid, gid_t egid)
{
  return nook_idmap_method_for (spec->uid_mappings, spec->n_uid_mappings, spec->gid_mappings, spec->n_gid_mappings,
                                euid, egid);
}

char *
nook_idmap_format (const struct nook_idmap *maps, size_t n)
{
  size_t cap = n * 40 + 1, used = 0;
  char *s = xmalloc (cap);
  s[0] = '\0';
  for (size_t i = 0; i < n; i++)
    used += (size_t) snprintf (s + used, cap - used, "%u %u %u\n", maps[i].container_id, maps[i].host_id,
                               maps[i].size);
  return s;
}

static int
write_proc (pid_t pid, const char *file, const char *data, nook_err *err)
{
  char path[64];
  snprintf (path, sizeof (path), "/proc/%d/%s", (int) pid, file);
  return nook_write_file_at (AT_FDCWD, path, data, strlen (data), err);
}

/* Run HELPER PID id host size ...; its stderr becomes part of the error. */
static int
run_helper (const char *helper, pid_t pid, const struct nook_idmap *maps, size_t n, nook_err *err)
{
  size_t argc = 2 + 3 * n + 1, k = 0;
  cleanup_strv char **argv = xcalloc (argc, sizeof (char *));
  int pipefd[2], status;
  char msg[512] = "";
  pid_t child;

  argv[k++] = xstrdup (helper);
  argv[k++] = xasprintf ("%d", (int) pid);
  for (size_t i = 0; i < n; i++)
    {
      argv[k++] = xasprintf ("%u", maps[i].container_id);
      argv[k++] = xasprintf ("%u", maps[i].host_id);
      argv[k++] = xasprintf ("%u", maps[i].size);
    }
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  child = fork ();
  if (child < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return nook_error (err, errno, "fork");
    }
  if (child == 0)
    {
      dup2 (pipefd[1], STDERR_FILENO);
      dup2 (pipefd[1], STDOUT_FILENO);
      execvp (helper, argv);
      dprintf (STDERR_FILENO, "exec %s: %s (install the uidmap package)", helper, strerror (errno));
      _exit (127);
    }
  close (pipefd[1]);
  int got = nook_read_all (pipefd[0], msg, sizeof (msg) - 1);
  close (pipefd[0]);
  msg[got > 0 ? got : 0] = '\0';
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  for (char *p = msg + strlen (msg); p > msg && (p[-1] == '\n' || p[-1] == ' '); p--)
    p[-1] = '\0';
  return nook_error_input (err, "%s failed: %s", helper, msg[0] ? msg : "unknown error");
}

int
nook_idmap_write_maps (pid_t pid, const struct nook_idmap *u, size_t nu, const struct nook_idmap *g, size_t ng,
                       enum nook_idmap_method method, nook_err *err)
{
  if (method == NOOK_IDMAP_HELPER)
    {
      if (run_helper ("newuidmap", pid, u, nu, err) < 0)
        return nook_error_prefix (err, "linux.uidMappings");
      if (run_helper ("newgidmap", pid, g, ng, err) < 0)
        return nook_error_prefix (err, "linux.gidMappings");
      return 0;
    }

  cleanup_free char *uids = nook_idmap_format (u, nu);
  cleanup_free char *gids = nook_idmap_format (g, ng);
  if (write_proc (pid, "uid_map", uids, err) < 0)
    return nook_error_prefix (err, "linux.uidMappings");
  if (method == NOOK_IDMAP_DIRECT_DENY && write_proc (pid, "setgroups", "deny", err) < 0)
    return -1;
  if (write_proc (pid, "gid_map", gids, err) < 0)
    return nook_error_prefix (err, "linux.gidMappings");
  return 0;
}

int
nook_idmap_write (const struct nook_spec *spec, pid_t pid, enum nook_idmap_method method, nook_err *err)
{
  return nook_idmap_write_maps (pid, spec->uid_mappings, spec->n_uid_mappings, spec->gid_mappings,
                                spec->n_gid_mappings, method, err);
}

int
nook_ns_open_paths (const struct nook_spec *spec, int fds[NOOK_NS_COUNT], nook_err *err)
{
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    fds[i] = -1;
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    {
      const struct nook_ns *ns = &spec->namespaces[i];
      if (!ns->enabled || ns->path == NULL)
        continue;
      fds[i] = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        return nook_error (err, errno, "open %s namespace `%s`", nook_ns_name (i), ns->path);
    }
  return 0;
}

int
nook_ns_join (int fd, int type, nook_err *err)
{
  if (setns (fd, nook_ns_clone_flag (type)) < 0)
    return nook_error (err, errno, "setns %s namespace", nook_ns_name (type));
  return 0;
}

bool
nook_userns_setgroups_denied (void)
{
  char buf[16] = "";
  cleanup_close int fd = open ("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

  return fd >= 0 && read (fd, buf, sizeof (buf) - 1) > 0 && strncmp (buf, "deny", 4) == 0;
}

int
nook_ns_join_pending (const int fds[NOOK_NS_COUNT], unsigned *pending, bool tolerate_eperm, nook_err *err)
{
  /* The mount namespace last: joining it changes our root, and the others are opened already anyway. */
  static const int order[] = { NOOK_NS_USER, NOOK_NS_IPC,    NOOK_NS_UTS,  NOOK_NS_NET,
                               NOOK_NS_PID,  NOOK_NS_CGROUP, NOOK_NS_TIME, NOOK_NS_MOUNT };

  for (size_t i = 0; i < sizeof (order) / sizeof (order[0]); i++)
    {
      int t = order[i];
      if (!(*pending & (1u << t)) || fds[t] < 0)
        continue;
      if (setns (fds[t], nook_ns_clone_flag (t)) < 0)
        {
          if (tolerate_eperm && errno == EPERM)
            continue;
          return nook_error (err, errno, "setns %s namespace", nook_ns_name (t));
        }
      *pending &= ~(1u << t);
    }
  return 0;
}
