/* The container process's last steps: identity, limits, LSM labels, capabilities, seccomp, execve. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/security.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define APPARMOR_ENABLED "/sys/module/apparmor/parameters/enabled"
#define SELINUX_ENFORCE "/sys/fs/selinux/enforce"

static const char *const rlimit_names[] = {
  [RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",     [RLIMIT_DATA] = "RLIMIT_DATA",
  [RLIMIT_STACK] = "RLIMIT_STACK",     [RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
  [RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",   [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
  [RLIMIT_AS] = "RLIMIT_AS",           [RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
  [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",     [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",
  [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

/* ---- LSMs ---- */

bool
nook_apparmor_enabled (void)
{
  char c = 0;
  cleanup_close int fd = open (APPARMOR_ENABLED, O_RDONLY | O_CLOEXEC);

  return fd >= 0 && read (fd, &c, 1) == 1 && c == 'Y';
}

bool
nook_selinux_enabled (void)
{
  return access (SELINUX_ENFORCE, F_OK) == 0;
}

static int
lsm_not_enabled (nook_err *err, const char *field, const char *lsm)
{
  return nook_error_input (err, "process.%s: %s is not enabled on this host", field, lsm);
}

static int
check_lsm (const struct nook_process *p, nook_err *err)
{
  if (p->apparmor_profile != NULL && !nook_apparmor_enabled ())
    return lsm_not_enabled (err, "apparmorProfile", "AppArmor");
  if (p->selinux_label != NULL && !nook_selinux_enabled ())
    return lsm_not_enabled (err, "selinuxLabel", "SELinux");
  return 0;
}

/* The label applies at the next execve.  When the write fails and the LSM is not active, say so. */
static int
write_attr (const char *path, const char *fallback, const char *data, bool (*enabled) (void), const char *field,
            const char *lsm, nook_err *err)
{
  if (nook_write_file_at (AT_FDCWD, path, data, strlen (data), err) == 0)
    return 0;
  if (err->code == ENOENT && fallback != NULL)
    return write_attr (fallback, NULL, data, enabled, field, lsm, err);
  if (!enabled ())
    return lsm_not_enabled (err, field, lsm);
  return nook_error_prefix (err, "process.%s", field);
}

static int
set_lsm_labels (const struct nook_process *p, nook_err *err)
{
  if (p->apparmor_profile != NULL)
    {
      cleanup_free char *data = xasprintf ("exec %s", p->apparmor_profile);
      if (write_attr ("/proc/self/attr/apparmor/exec", "/proc/self/attr/exec", data, nook_apparmor_enabled,
                      "apparmorProfile", "AppArmor", err)
          < 0)
        return -1;
    }
  if (p->selinux_label != NULL
      && write_attr ("/proc/self/attr/exec", NULL, p->selinux_label, nook_selinux_enabled, "selinuxLabel",
                     "SELinux", err)
             < 0)
    return -1;
  return 0;
}

/* ---- prepare ---- */

int
nook_process_prepare (const struct nook_process *p, nook_err *err)
{
  char buf[32];
  int n;

  if (check_lsm (p, err) < 0)
    return -1;
  if (!p->has_oom_score_adj)
    return 0;
  n = snprintf (buf, sizeof (buf), "%d", p->oom_score_adj);
  if (nook_write_file_at (AT_FDCWD, "/proc/self/oom_score_adj", buf, (size_t) n, err) < 0)
    return nook_error_prefix (err, "process.oomScoreAdj");
  return 0;
}

/* ---- finalize ---- */

static int
set_rlimits (const struct nook_process *p, nook_err *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const struct nook_rlimit *r = &p->rlimits[i];
      struct rlimit lim = { .rlim_cur = r->soft, .rlim_max = r->hard };
      const char *name = NULL;

      if (r->resource >= 0 && (size_t) r->resource < sizeof (rlimit_names) / sizeof (rlimit_names[0]))
        name = rlimit_names[r->resource];
      if (setrlimit ((__rlimit_resource_t) r->resource, &lim) < 0)
        {
          if (name != NULL)
            return nook_error (err, errno, "setrlimit %s", name);
          return nook_error (err, errno, "setrlimit %d", r->resource);
        }
    }
  return 0;
}

/* chdir, then make sure the directory is reachable from our root: an fd leaked from the host (or a
 * cwd outside the rootfs) makes getcwd() fail or answer "(unreachable)/..." (CVE-2024-21626). */
static int
set_cwd (const char *cwd, nook_err *err)
{
  char buf[PATH_MAX];

  if (chdir (cwd) < 0)
    return nook_error (err, errno, "chdir to cwd `%s`", cwd);
  if (getcwd (buf, sizeof (buf)) == NULL || buf[0] != '/' || str_has_prefix (buf, "(unreachable)"))
    return nook_error_input (err, "cwd `%s` is outside the container", cwd);
  return 0;
}

static int
set_groups (const struct nook_user *u, bool setgroups_allowed, nook_err *err)
{
  if (!setgroups_allowed)
    {
      if (u->n_additional_gids > 0)
        return nook_error_input (err, "process.user.additionalGids: cannot set supplementary groups: "
                                      "setgroups is denied in this user namespace");
      return 0;
    }
  if (setgroups (u->n_additional_gids, u->n_additional_gids ? u->additional_gids : NULL) < 0)
    return nook_error (err, errno, "setgroups (process.user.additionalGids)");
  return 0;
}

/* Groups, gid and uid; the capabilities survive the uid change through PR_SET_KEEPCAPS. */
static int
set_user (const struct nook_user *u, bool setgroups_allowed, nook_err *err)
{
  if (set_groups (u, setgroups_allowed, err) < 0)
    return -1;
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return nook_error (err, errno, "setresgid to gid %u", u->gid);
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return nook_error (err, errno, "setresuid to uid %u", u->uid);
  return 0;
}

static int
set_keepcaps (int on, nook_err *err)
{
  if (prctl (PR_SET_KEEPCAPS, on, 0, 0, 0) < 0)
    return nook_error (err, errno, "prctl PR_SET_KEEPCAPS %d", on);
  return 0;
}

static int
cloexec_from_procfs (unsigned int first, nook_err *err)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;

  if (d == NULL)
    return nook_error (err, errno, "open `/proc/self/fd`");
  while ((de = readdir (d)) != NULL)
    {
      uint64_t fd;
      int flags;

      if (!str_to_u64 (de->d_name, INT_MAX, &fd) || fd < first || (int) fd == dirfd (d))
        continue;
      flags = fcntl ((int) fd, F_GETFD);
      if (flags >= 0 && fcntl ((int) fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return nook_error (err, errno, "fcntl F_SETFD FD_CLOEXEC on fd %d", (int) fd);
    }
  return 0;
}

static int
cloexec_fds (int preserve_fds, nook_err *err)
{
  unsigned int first = 3U + (unsigned int) (preserve_fds > 0 ? preserve_fds : 0);

  if (sys_close_range (first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  return cloexec_from_procfs (first, err);
}

static int
set_identity (const struct nook_process *p, const struct nook_seccomp_prog *prog, bool setgroups_allowed,
              nook_err *err)
{
  if (set_keepcaps (1, err) < 0)
    return -1;
  /* Without no_new_privs the filter needs CAP_SYS_ADMIN, which the uid change may take away. */
  if (!p->no_new_privileges && prog != NULL && nook_seccomp_load (prog, err) < 0)
    return -1;
  if (set_user (&p->user, setgroups_allowed, err) < 0)
    return -1;
  if (set_keepcaps (0, err) < 0)
    return -1;
  if (nook_caps_apply (p->has_caps ? &p->caps : NULL, err) < 0)
    return nook_error_prefix (err, "process.capabilities");
  return 0;
}

/* The process starts clean whatever its caller had (podman runs the runtime with SIGPIPE ignored): every
 * disposition back to the default, nothing blocked.  Handlers do not survive execve anyway; ignored
 * signals and the mask would. */
static int
reset_signals (nook_err *err)
{
  for (int sig = 1; sig <= 64; sig++)
    if (sig != SIGKILL && sig != SIGSTOP && sys_sigaction_default (sig) < 0 && errno != EINVAL)
      return nook_error (err, errno, "rt_sigaction %d SIG_DFL", sig);
  if (sys_sigunblock_all () < 0)
    return nook_error (err, errno, "rt_sigprocmask");
  return 0;
}

int
nook_process_finalize (const struct nook_process *p, const struct nook_seccomp_prog *prog, int preserve_fds,
                       bool setgroups_allowed, nook_err *err)
{
  if (reset_signals (err) < 0)
    return -1;
  if (set_rlimits (p, err) < 0)
    return -1;
  umask (p->user.has_umask ? p->user.umask : 0022);
  if (set_lsm_labels (p, err) < 0)
    return -1;
  if (set_cwd (p->cwd != NULL ? p->cwd : "/", err) < 0)
    return -1;
  if (set_identity (p, prog, setgroups_allowed, err) < 0)
    return -1;
  /* Before the last filter: a profile may not allow close_range. */
  if (cloexec_fds (preserve_fds, err) < 0)
    return -1;
  if (p->no_new_privileges)
    {
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return nook_error (err, errno, "prctl PR_SET_NO_NEW_PRIVS");
      if (prog != NULL && nook_seccomp_load (prog, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- exec ---- */

static const char *
env_path (char *const *env)
{
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (str_has_prefix (env[i], "PATH="))
      return env[i] + 5;
  return DEFAULT_PATH;
}

static int
exec_failed (nook_err *err, int errnum, const char *name, bool searched)
{
  if (errnum == ENOENT || errnum == ENOTDIR)
    {
      nook_error (err, ENOENT, "executable file `%s` not found%s", name, searched ? " in $PATH" : "");
      err->status = 127;
      return -1;
    }
  nook_error (err, errnum == EISDIR ? EACCES : errnum, "exec `%s`", name);
  err->status = 126;
  return -1;
}

/* Like execvpe(), with the container's PATH: try each directory; remember EACCES and keep looking;
 * stop at any other error than "not there". */
static int
exec_search (const struct nook_process *p, nook_err *err)
{
  const char *name = p->args[0];
  const char *dirs = env_path (p->env);
  bool denied = false;

  while (true)
    {
      size_t dlen = strcspn (dirs, ":");
      cleanup_free char *cand = xasprintf ("%.*s%s%s", (int) dlen, dirs, dlen ? "/" : "", name);

      execve (cand, p->args, p->env);
      if (errno == EACCES)
        denied = true;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENAMETOOLONG)
        return exec_failed (err, errno, name, true);
      if (dirs[dlen] == '\0')
        break;
      dirs += dlen + 1;
    }
  return exec_failed (err, denied ? EACCES : ENOENT, name, true);
}

int
nook_process_check_executable (const struct nook_process *p, nook_err *err)
{
  const char *name, *dirs;
  bool denied = false;
  struct stat st;

  if (p == NULL || p->args == NULL || p->args[0] == NULL)
    return 0; /* exec says what is wrong */
  name = p->args[0];
  if (name[0] == '\0')
    return exec_failed (err, ENOENT, name, true);
  if (strchr (name, '/') != NULL)
    {
      if (name[0] != '/')
        return 0; /* relative to process.cwd: checked at exec */
      if (stat (name, &st) < 0)
        return errno == ENOENT || errno == ENOTDIR ? exec_failed (err, errno, name, false) : 0;
      if (S_ISDIR (st.st_mode) || (st.st_mode & 0111) == 0)
        return exec_failed (err, EACCES, name, false);
      return 0;
    }
  for (dirs = env_path (p->env);;)
    {
      size_t dlen = strcspn (dirs, ":");
      cleanup_free char *cand = xasprintf ("%.*s/%s", (int) dlen, dirs, name);
      if (dlen == 0 || cand[0] != '/')
        return 0; /* relative to process.cwd: exec decides */
      if (stat (cand, &st) == 0)
        {
          if (!S_ISDIR (st.st_mode) && (st.st_mode & 0111) != 0)
            return 0;
          denied = true; /* execvp goes on looking, then says EACCES */
        }
      if (dirs[dlen] == '\0')
        break;
      dirs += dlen + 1;
    }
  return exec_failed (err, denied ? EACCES : ENOENT, name, true);
}

int
nook_process_exec (const struct nook_process *p, nook_err *err)
{
  static char *const empty_env[] = { NULL };
  struct nook_process q = *p;

  if (q.env == NULL)
    q.env = (char **) empty_env;
  if (q.args == NULL || q.args[0] == NULL || q.args[0][0] == '\0')
    return exec_failed (err, ENOENT, q.args && q.args[0] ? q.args[0] : "", true);
  if (strchr (q.args[0], '/') != NULL)
    {
      execve (q.args[0], q.args, q.env);
      return exec_failed (err, errno, q.args[0], false);
    }
  return exec_search (&q, err);
}
