/* The container process's last steps (nook_process_finalize, nook_process_exec), run in forked children
 * as root: capabilities, uid change, cwd check, fds, no_new_privs + seccomp, exec errors. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/security.h"

#define CAPS_CHOWN_KILL ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL))

static char *true_args[] = { "true", NULL };
static char *no_env[] = { NULL };

static struct nook_process
minimal_process (void)
{
  return (struct nook_process){ .args = true_args, .env = no_env, .cwd = "/" };
}

/* Run FN in a child; its exit code (or 100 + signal). */
static int
in_child (int (*fn) (void))
{
  pid_t pid;
  int status;

  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    {
      int rc = fn ();
      fflush (stdout);
      _exit (rc);
    }
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 100 + WTERMSIG (status);
}

/* The hex mask of a "CapXxx:" line of /proc/self/status, or ~0 when missing. */
static unsigned long long
status_field (const char *name)
{
  char line[256];
  unsigned long long value = ~0ULL;
  size_t n = strlen (name);
  FILE *f = fopen ("/proc/self/status", "re");

  while (f != NULL && fgets (line, sizeof (line), f) != NULL)
    if (strncmp (line, name, n) == 0 && line[n] == ':')
      value = strtoull (line + n + 1, NULL, name[0] == 'C' ? 16 : 10);
  if (f != NULL)
    fclose (f);
  return value;
}

static int
finalize (struct nook_process *p, const struct nook_seccomp_prog *prog, int preserve, bool setgroups_ok,
          const char *want_error)
{
  nook_err err = { 0 };
  int rc = nook_process_finalize (p, prog, preserve, setgroups_ok, &err);

  if (want_error == NULL && rc < 0)
    printf ("    finalize: %s\n", err.msg);
  if (want_error != NULL && (rc == 0 || strcmp (err.msg, want_error) != 0))
    printf ("    finalize: got \"%s\", wanted \"%s\"\n", rc == 0 ? "success" : err.msg, want_error);
  return want_error == NULL ? rc == 0 : rc < 0 && strcmp (err.msg, want_error) == 0;
}

static int
check_caps (unsigned long long want)
{
  const char *names[] = { "CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb" };
  int bad = 0;

  for (int i = 0; i < 5; i++)
    if (status_field (names[i]) != want)
      {
        printf ("    %s = %llx, wanted %llx\n", names[i], status_field (names[i]), want);
        bad = 1;
      }
  return bad;
}

static struct nook_process
chown_kill_process (uint32_t uid)
{
  struct nook_process p = minimal_process ();

  p.user.uid = p.user.gid = uid;
  p.has_caps = true;
  p.caps = (struct nook_caps){ CAPS_CHOWN_KILL, CAPS_CHOWN_KILL, CAPS_CHOWN_KILL, CAPS_CHOWN_KILL,
                               CAPS_CHOWN_KILL };
  return p;
}

static int
child_caps_root (void)
{
  struct nook_process p = chown_kill_process (0);

  if (!finalize (&p, NULL, 0, true, NULL))
    return 1;
  return check_caps (CAPS_CHOWN_KILL) ? 2 : 0;
}

static int
child_caps_user (void)
{
  struct nook_process p = chown_kill_process (1000);

  if (!finalize (&p, NULL, 0, true, NULL))
    return 1;
  if (getuid () != 1000 || geteuid () != 1000 || getgid () != 1000 || getegid () != 1000)
    return 3;
  return check_caps (CAPS_CHOWN_KILL) ? 2 : 0;
}

static int
child_no_caps (void)
{
  struct nook_process p = minimal_process ();

  if (!finalize (&p, NULL, 0, true, NULL))
    return 1;
  return check_caps (0) ? 2 : 0;
}

static int
write_proc (const char *name, const char *text)
{
  FILE *f = fopen (name, "we");
  int ok = f != NULL && fputs (text, f) >= 0;

  if (f != NULL && fclose (f) != 0)
    ok = 0;
  return ok;
}

/* Rootless: an unprivileged user maps itself to root in a new user namespace (setgroups denied). */
static int
child_caps_rootless (void)
{
  struct nook_process p = chown_kill_process (0);

  if (setresgid (65534, 65534, 65534) < 0 || setresuid (65534, 65534, 65534) < 0)
    return 1;
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0); /* the uid change made /proc/self root's */
  if (unshare (CLONE_NEWUSER) < 0)
    return 0; /* unprivileged user namespaces are off here */
  if (!write_proc ("/proc/self/uid_map", "0 65534 1") || !write_proc ("/proc/self/setgroups", "deny")
      || !write_proc ("/proc/self/gid_map", "0 65534 1"))
    return 2;
  if (!finalize (&p, NULL, 0, false, NULL))
    return 3;
  if (getuid () != 0 || getgid () != 0)
    return 4;
  return check_caps (CAPS_CHOWN_KILL) ? 5 : 0;
}

static void
test_caps (void)
{
  if (geteuid () != 0)
    return;
  CHECK (in_child (child_caps_root) == 0);
  CHECK (in_child (child_caps_user) == 0);
  CHECK (in_child (child_no_caps) == 0);
  int rc = in_child (child_caps_rootless);
  if (rc != 0)
    printf ("    rootless child: %d\n", rc);
  CHECK (rc == 0);
}

static int
child_groups_denied (void)
{
  gid_t gids[] = { 10 };
  struct nook_process p = minimal_process ();

  p.user.additional_gids = gids;
  p.user.n_additional_gids = 1;
  if (!finalize (&p, NULL, 0, false, "process.user.additionalGids: cannot set supplementary groups: "
                                       "setgroups is denied in this user namespace"))
    return 1;
  p = minimal_process ();
  p.user.additional_gids = gids;
  p.user.n_additional_gids = 1;
  p.user.has_umask = true;
  p.user.umask = 077;
  if (!finalize (&p, NULL, 0, true, NULL))
    return 2;
  if (getgroups (0, NULL) != 1 || umask (0) != 077)
    return 3;
  return 0;
}

static int
child_rlimit (void)
{
  struct nook_rlimit lim = { .resource = RLIMIT_NOFILE, .soft = 512, .hard = 1000 };
  struct nook_process p = minimal_process ();
  struct rlimit now;

  p.rlimits = &lim;
  p.n_rlimits = 1;
  if (!finalize (&p, NULL, 0, true, NULL))
    return 1;
  if (getrlimit (RLIMIT_NOFILE, &now) < 0 || now.rlim_cur != 512 || now.rlim_max != 1000)
    return 2;
  return 0;
}

static int
child_rlimit_denied (void)
{
  struct nook_rlimit big = { .resource = RLIMIT_NOFILE, .soft = 512, .hard = 1 << 20 };
  struct nook_process p = minimal_process ();
  struct rlimit small = { 1000, 1000 };

  if (setrlimit (RLIMIT_NOFILE, &small) < 0 || setresuid (65534, 65534, 65534) < 0)
    return 3;
  p.rlimits = &big;
  p.n_rlimits = 1;
  return finalize (&p, NULL, 0, true, "setrlimit RLIMIT_NOFILE: Operation not permitted") ? 0 : 4;
}

static void
test_groups_umask_rlimits (void)
{
  if (geteuid () != 0)
    return;
  CHECK (in_child (child_groups_denied) == 0);
  CHECK (in_child (child_rlimit) == 0);
  CHECK (in_child (child_rlimit_denied) == 0);
}

/* CVE-2024-21626: a cwd that resolves outside our root is refused. */
static char cwd_root[] = "/tmp/nook-cwd-XXXXXX";

static int
child_cwd_outside (void)
{
  struct nook_process p = minimal_process ();
  int outside = open ("/usr", O_RDONLY | O_DIRECTORY);

  if (outside < 0)
    return 1;
  if (chroot (cwd_root) < 0 || fchdir (outside) < 0)
    return 2;
  p.cwd = ".";
  if (!finalize (&p, NULL, 0, true, "cwd `.` is outside the container"))
    return 3;
  p.cwd = "/no/such/dir";
  if (!finalize (&p, NULL, 0, true, "chdir to cwd `/no/such/dir`: No such file or directory"))
    return 4;
  return 0;
}

static void
test_cwd (void)
{
  if (geteuid () != 0)
    return;
  CHECK (mkdtemp (cwd_root) != NULL);
  CHECK (in_child (child_cwd_outside) == 0);
  rmdir (cwd_root);
}

static int
child_fds (void)
{
  struct nook_process p = minimal_process ();

  if (dup2 (1, 20) < 0 || dup2 (1, 7) < 0)
    return 1;
  p.user.uid = (uint32_t) getuid ();
  p.user.gid = (uint32_t) getgid ();
  if (!finalize (&p, NULL, 5, geteuid () == 0, NULL)) /* keeps 3..7 */
    return 2;
  if ((fcntl (20, F_GETFD) & FD_CLOEXEC) == 0 || (fcntl (7, F_GETFD) & FD_CLOEXEC) != 0)
    return 3;
  if (!finalize (&p, NULL, 0, false, NULL)) /* no caps left: no setgroups */
    return 4;
  return (fcntl (7, F_GETFD) & FD_CLOEXEC) != 0 ? 0 : 5;
}

static void
test_fds (void)
{
  if (geteuid () != 0)
    return;
  CHECK (in_child (child_fds) == 0);
}

static const struct nook_seccomp_prog *mkdir_prog;

static int
child_nnp_seccomp (void)
{
  struct nook_process p = chown_kill_process (1000);

  p.no_new_privileges = true;
  if (!finalize (&p, mkdir_prog, 0, true, NULL))
    return 1;
  if (status_field ("NoNewPrivs") != 1)
    return 2;
  if (syscall (SYS_mkdir, "/tmp/nook-nnp-never", 0700) != -1 || errno != ENOSYS)
    return 3;
  return check_caps (CAPS_CHOWN_KILL) ? 4 : 0;
}

static int
child_seccomp_early (void)
{
  struct nook_process p = chown_kill_process (0);

  if (!finalize (&p, mkdir_prog, 0, true, NULL))
    return 1;
  if (status_field ("NoNewPrivs") != 0 || status_field ("Seccomp") != 2)
    return 2;
  return syscall (SYS_mkdir, "/tmp/nook-nnp-never", 0700) == -1 && errno == ENOSYS ? 0 : 3;
}

static void
test_seccomp_order (void)
{
  char *names[] = { "mkdir", NULL };
  char *none[] = { NULL };
  struct nook_seccomp_rule rule = { .names = names, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                    .errno_ret = ENOSYS };
  struct nook_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .architectures = none, .flags = none,
                            .rules = &rule, .n_rules = 1 };
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  if (geteuid () != 0)
    return;
  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  mkdir_prog = &prog;
  CHECK (in_child (child_nnp_seccomp) == 0);
  CHECK (in_child (child_seccomp_early) == 0);
  nook_seccomp_prog_free (&prog);
}

static int
oom_score_adj (void)
{
  int value = -1;
  FILE *f = fopen ("/proc/self/oom_score_adj", "re");

  if (f != NULL && fscanf (f, "%d", &value) != 1)
    value = -1;
  if (f != NULL)
    fclose (f);
  return value;
}

static int
child_lsm (void)
{
  struct nook_process p = minimal_process ();
  nook_err err = { 0 };

  p.apparmor_profile = "nook-test";
  if (!nook_apparmor_enabled ())
    {
      if (nook_process_prepare (&p, &err) == 0
          || strcmp (err.msg, "process.apparmorProfile: AppArmor is not enabled on this host") != 0)
        return 1;
      if (!finalize (&p, NULL, 0, true, "process.apparmorProfile: AppArmor is not enabled on this host"))
        return 2;
    }
  p = minimal_process ();
  p.selinux_label = "system_u:system_r:container_t:s0";
  if (!nook_selinux_enabled ()
      && (nook_process_prepare (&p, &err) == 0
          || strcmp (err.msg, "process.selinuxLabel: SELinux is not enabled on this host") != 0))
    return 3;
  p = minimal_process ();
  p.has_oom_score_adj = true;
  p.oom_score_adj = 345;
  if (nook_process_prepare (&p, &err) < 0)
    return 4;
  return oom_score_adj () == 345 ? 0 : 5;
}

static void
test_lsm_and_prepare (void)
{
  CHECK (in_child (child_lsm) == 0);
}

static int
exec_error (char **args, char **env, int want_status, const char *want_msg)
{
  struct nook_process p = minimal_process ();
  nook_err err = { 0 };

  p.args = args;
  p.env = env;
  if (nook_process_exec (&p, &err) == 0)
    return 0;
  if (err.status != want_status || strcmp (err.msg, want_msg) != 0)
    {
      printf ("    exec: %d \"%s\", wanted %d \"%s\"\n", err.status, err.msg, want_status, want_msg);
      return 0;
    }
  return 1;
}

static int
child_exec_path (void)
{
  char *env[] = { "PATH=/tmp/nook-exec-test:/usr/bin:/bin", NULL };
  struct nook_process p = minimal_process ();
  nook_err err;

  p.env = env;
  nook_process_exec (&p, &err);
  return 99;
}

static void
test_exec (void)
{
  char *missing[] = { "nook-no-such-command", NULL };
  char *missing_abs[] = { "/no/such/file", NULL };
  char *not_exec[] = { "/tmp/nook-exec-test/true", NULL };
  char *dir[] = { "/tmp", NULL };
  char *only_denied[] = { "true", NULL };
  char *env_path[] = { "FOO=1", "PATH=/nonexistent:/tmp/nook-exec-test", NULL };
  int fd;

  mkdir ("/tmp/nook-exec-test", 0755);
  fd = open ("/tmp/nook-exec-test/true", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  CHECK (fd >= 0);
  close (fd);
  CHECK (exec_error (missing, no_env, 127,
                     "executable file `nook-no-such-command` not found in $PATH: No such file or directory"));
  CHECK (exec_error (missing, env_path, 127,
                     "executable file `nook-no-such-command` not found in $PATH: No such file or directory"));
  CHECK (exec_error (missing_abs, no_env, 127, "executable file `/no/such/file` not found: No such file or directory"));
  CHECK (exec_error (not_exec, no_env, 126, "exec `/tmp/nook-exec-test/true`: Permission denied"));
  CHECK (exec_error (dir, no_env, 126, "exec `/tmp`: Permission denied"));
  CHECK (exec_error (only_denied, env_path, 126, "exec `true`: Permission denied"));
  /* a non-executable match earlier in PATH does not hide the real one */
  CHECK (in_child (child_exec_path) == 0);
  unlink ("/tmp/nook-exec-test/true");
  rmdir ("/tmp/nook-exec-test");
}

int
main (void)
{
  RUN (test_caps);
  RUN (test_groups_umask_rlimits);
  RUN (test_cwd);
  RUN (test_fds);
  RUN (test_seccomp_order);
  RUN (test_lsm_and_prepare);
  RUN (test_exec);
  return HARNESS_END ();
}
