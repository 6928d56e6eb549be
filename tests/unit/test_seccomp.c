/* Seccomp: compile profiles with libseccomp, load them in forked children and watch syscalls fail. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/security.h"

static char *allow_names[] = { "exit_group", "exit", "write", NULL };
static char *mkdir_names[] = { "mkdir", NULL };
static char *no_arches[] = { NULL };
static char *no_flags[] = { NULL };

static struct nook_seccomp
profile (char *def, struct nook_seccomp_rule *rules, size_t n)
{
  return (struct nook_seccomp){ .default_action = def, .architectures = no_arches, .flags = no_flags,
                                .rules = rules, .n_rules = n };
}

/* Fork; the child sets no_new_privs, loads PROG and runs FN; returns FN's exit code (or 100 + signal). */
static int
in_child (const struct nook_seccomp_prog *prog, int (*fn) (void))
{
  pid_t pid = fork ();
  int status;

  if (pid == 0)
    {
      nook_err err;
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        _exit (90);
      if (nook_seccomp_load (prog, &err) < 0)
        {
          printf ("    load: %s\n", err.msg);
          fflush (stdout);
          _exit (91);
        }
      syscall (SYS_exit_group, fn ()); /* nothing else: the filter may deny what _exit hooks need */
    }
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 100 + WTERMSIG (status);
}

static int
compile_error (struct nook_seccomp *s, const char *want)
{
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };
  int rc = nook_seccomp_compile (s, &prog, &err);

  if (rc == 0)
    {
      nook_seccomp_prog_free (&prog);
      printf ("    compiled, wanted an error naming %s\n", want);
      return 0;
    }
  if (strstr (err.msg, want) == NULL)
    {
      printf ("    error \"%s\" does not name %s\n", err.msg, want);
      return 0;
    }
  return 1;
}

static int
child_mkdir (void)
{
  char dir[64];

  snprintf (dir, sizeof (dir), "/tmp/nook-seccomp-test-%d", (int) getpid ());
  if (syscall (SYS_mkdir, dir, 0700) == 0)
    {
      rmdir (dir);
      return 1;
    }
  if (errno != ENOSYS)
    return 2;
  if (syscall (SYS_getpid) != getpid () || access ("/", F_OK) != 0)
    return 3;
  return 0;
}

static void
test_errno_rule (void)
{
  struct nook_seccomp_rule rule = { .names = mkdir_names, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                    .errno_ret = ENOSYS };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (prog.filter != NULL && prog.len > 0);
  CHECK (in_child (&prog, child_mkdir) == 0);
  nook_seccomp_prog_free (&prog);
  CHECK (prog.filter == NULL);
}

static int
child_default_errno (void)
{
  if (syscall (SYS_getppid) != -1 || errno != EACCES)
    return 1;
  return 0;
}

static int
child_default_eperm (void)
{
  return syscall (SYS_getppid) == -1 && errno == EPERM ? 0 : 1;
}

static void
test_default_errno (void)
{
  struct nook_seccomp_rule rule = { .names = allow_names, .action = "SCMP_ACT_ALLOW" };
  struct nook_seccomp s = profile ("SCMP_ACT_ERRNO", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  s.has_default_errno_ret = true;
  s.default_errno_ret = EACCES;
  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_default_errno) == 0);
  nook_seccomp_prog_free (&prog);

  s.has_default_errno_ret = false;
  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_default_eperm) == 0);
  nook_seccomp_prog_free (&prog);
}

static void
test_unknown_names (void)
{
  char *bad_arch[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_NOPE", NULL };
  char *bad_flag[] = { "SECCOMP_FILTER_FLAG_NOPE", NULL };
  struct nook_seccomp_arg bad_op = { .index = 0, .value = 1, .op = "SCMP_CMP_NOPE" };
  struct nook_seccomp_rule rule = { .names = mkdir_names, .action = "SCMP_ACT_NOPE" };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);

  CHECK (compile_error (&s, "SCMP_ACT_NOPE"));
  CHECK (compile_error (&s, "syscalls[0]"));
  rule.action = "SCMP_ACT_NOTIFY"; /* compiles (the spec parser requires a listenerPath with it) */
  {
    struct nook_seccomp_prog p;
    nook_err err = { 0 };
    CHECK (nook_seccomp_compile (&s, &p, &err) == 0);
    nook_seccomp_prog_free (&p);
  }
  rule.action = "SCMP_ACT_ERRNO";
  rule.args = &bad_op;
  rule.n_args = 1;
  CHECK (compile_error (&s, "SCMP_CMP_NOPE"));
  rule.n_args = 0;
  s.architectures = bad_arch;
  CHECK (compile_error (&s, "SCMP_ARCH_NOPE"));
  s.architectures = no_arches;
  s.flags = bad_flag;
  CHECK (compile_error (&s, "SECCOMP_FILTER_FLAG_NOPE"));
  s.flags = no_flags;
  s.default_action = "SCMP_ACT_WHAT";
  CHECK (compile_error (&s, "defaultAction"));
  CHECK (compile_error (&s, "SCMP_ACT_WHAT"));
}

static void
test_unknown_syscall_skipped (void)
{
  char *names[] = { "no_such_syscall_ever", "mkdir", NULL };
  struct nook_seccomp_rule rule = { .names = names, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                    .errno_ret = ENOSYS };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_mkdir) == 0);
  nook_seccomp_prog_free (&prog);
}

static int
child_personality (void)
{
  if (syscall (SYS_personality, 0x20000) != -1 || errno != ENOSYS)
    return 1;
  if (syscall (SYS_personality, 0x40000) != -1 || errno != ENOSYS)
    return 2;
  if (syscall (SYS_personality, 0xffffffff) < 0)
    return 3;
  return 0;
}

/* Two conditions on the same argument are alternatives (one rule each), as runc reads them. */
static void
test_same_index_args (void)
{
  char *names[] = { "personality", NULL };
  struct nook_seccomp_arg args[] = {
    { .index = 0, .value = 0x20000, .op = "SCMP_CMP_EQ" },
    { .index = 0, .value = 0x40000, .op = "SCMP_CMP_EQ" },
  };
  struct nook_seccomp_rule rule = { .names = names, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                    .errno_ret = ENOSYS, .args = args, .n_args = 2 };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_personality) == 0);
  nook_seccomp_prog_free (&prog);
}

static int
child_masked (void)
{
  /* mkdir with mode bit 0100 set fails, without it succeeds */
  char dir[64];

  snprintf (dir, sizeof (dir), "/tmp/nook-seccomp-masked-%d", (int) getpid ());
  if (syscall (SYS_mkdir, dir, 0700) != -1 || errno != ENOSYS)
    return 1;
  if (syscall (SYS_mkdir, dir, 0600) != 0)
    return 2;
  rmdir (dir);
  return 0;
}

static void
test_masked_eq_and_distinct_args (void)
{
  struct nook_seccomp_arg args[] = {
    { .index = 1, .value = 0100, .value_two = 0100, .op = "SCMP_CMP_MASKED_EQ" },
    { .index = 0, .value = 0, .op = "SCMP_CMP_NE" },
  };
  struct nook_seccomp_rule rule = { .names = mkdir_names, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                    .errno_ret = ENOSYS, .args = args, .n_args = 2 };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_masked) == 0);
  nook_seccomp_prog_free (&prog);
}

static int
child_nothing (void)
{
  return 0;
}

static void
test_flags_arches_and_default_repeat (void)
{
  char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", NULL };
  char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
  char *socket_names[] = { "socket", "socketcall", "getpid", NULL };
  struct nook_seccomp_rule rules[] = {
    { .names = socket_names, .action = "SCMP_ACT_ERRNO" },
    { .names = allow_names, .action = "SCMP_ACT_ALLOW" }, /* same as the default: skipped */
    { .names = mkdir_names, .action = "SCMP_ACT_LOG" },
  };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", rules, 3);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  s.architectures = arches;
  s.flags = flags;
  if (nook_seccomp_compile (&s, &prog, &err) < 0)
    printf ("    %s\n", err.msg);
  CHECK (prog.filter != NULL);
  CHECK (prog.flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  CHECK (in_child (&prog, child_nothing) == 0);
  nook_seccomp_prog_free (&prog);
}

static int
child_kill (void)
{
  syscall (SYS_getppid);
  return 0;
}

static void
test_kill_action (void)
{
  char *names[] = { "getppid", NULL };
  struct nook_seccomp_rule rule = { .names = names, .action = "SCMP_ACT_KILL_PROCESS" };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_kill) == 100 + SIGSYS);
  nook_seccomp_prog_free (&prog);
}

/* Default "refuse": a syscall numbered above everything the profile names is ENOSYS (it looks new, libc
 * falls back), one below that the profile does not allow is the default's EPERM. */
static int
child_new_vs_unlisted (void)
{
  long newer = syscall (1000, 0, 0, 0);
  int e1 = errno;
  long older = syscall (SYS_getppid);
  int e2 = errno;
  return (newer == -1 && e1 == ENOSYS ? 0 : 1) | (older == -1 && e2 == EPERM ? 0 : 2);
}

static void
test_enosys_for_newer_syscalls (void)
{
  char *names[] = { "exit_group", "exit", "write", "pidfd_open", NULL };
  struct nook_seccomp_rule rule = { .names = names, .action = "SCMP_ACT_ALLOW" };
  struct nook_seccomp s = profile ("SCMP_ACT_ERRNO", &rule, 1);
  struct nook_seccomp_prog prog;
  nook_err err = { 0 };

  CHECK (nook_seccomp_compile (&s, &prog, &err) == 0);
  CHECK (in_child (&prog, child_new_vs_unlisted) == 0);
  nook_seccomp_prog_free (&prog);
}

/* The cache (as an unprivileged user: root's is /var/cache): a miss stores an entry, a hit gives the same
 * program, and an entry whose stored key differs (a hash collision, a damaged file) is compiled again and
 * rewritten, never used. */
static int
child_cache (const char *dir)
{
  struct nook_seccomp_rule rule = { .names = mkdir_names, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                    .errno_ret = 77 };
  struct nook_seccomp s = profile ("SCMP_ACT_ALLOW", &rule, 1);
  struct nook_seccomp_prog a = { 0 }, b = { 0 }, c = { 0 };
  char sub[PATH_MAX], path[PATH_MAX * 2], orig[65536], now[65536];
  nook_err err = { 0 };
  struct dirent *de;
  DIR *d;
  FILE *f;
  size_t n = 0, m;

  if (setenv ("XDG_CACHE_HOME", dir, 1) < 0 || nook_seccomp_compile_cached (&s, &a, &err) < 0)
    return 1;
  snprintf (sub, sizeof sub, "%s/nook/seccomp", dir);
  d = opendir (sub);
  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      snprintf (path, sizeof path, "%s/%s", sub, de->d_name), n++;
  if (d)
    closedir (d);
  if (n != 1 || strlen (strrchr (path, '/') + 1) != 32)
    return 2;
  if (nook_seccomp_compile_cached (&s, &b, &err) < 0 || a.len != b.len || a.flags != b.flags
      || memcmp (a.filter, b.filter, a.len * sizeof (struct sock_filter)) != 0)
    return 3;
  f = fopen (path, "r+");
  if (f == NULL || (n = fread (orig, 1, sizeof orig, f)) < 20)
    return 4;
  fseek (f, 10, SEEK_SET); /* inside the stored key */
  fputc (orig[10] ^ 0x55, f);
  fclose (f);
  if (nook_seccomp_compile_cached (&s, &c, &err) < 0 || c.len != a.len
      || memcmp (a.filter, c.filter, a.len * sizeof (struct sock_filter)) != 0)
    return 5;
  f = fopen (path, "r");
  m = f ? fread (now, 1, sizeof now, f) : 0;
  if (f)
    fclose (f);
  if (m != n || memcmp (orig, now, n) != 0)
    return 6;
  nook_seccomp_prog_free (&a);
  nook_seccomp_prog_free (&b);
  nook_seccomp_prog_free (&c);
  return 0;
}

static void
test_cache (void)
{
  char dir[] = "/tmp/nook-seccomp-cache.XXXXXX";
  char cmd[64];
  int status = -1;
  pid_t pid;

  CHECK (mkdtemp (dir) != NULL);
  CHECK (chown (dir, 65534, 65534) == 0);
  pid = fork ();
  if (pid == 0)
    _exit (setgid (65534) == 0 && setuid (65534) == 0 ? child_cache (dir) : 9);
  waitpid (pid, &status, 0);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    printf ("    cache child exit %d\n", WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK (system (cmd) == 0);
}

int
main (void)
{
  RUN (test_errno_rule);
  RUN (test_cache);
  RUN (test_enosys_for_newer_syscalls);
  RUN (test_default_errno);
  RUN (test_unknown_names);
  RUN (test_unknown_syscall_skipped);
  RUN (test_same_index_args);
  RUN (test_masked_eq_and_distinct_args);
  RUN (test_flags_arches_and_default_repeat);
  RUN (test_kill_action);
  return HARNESS_END ();
}
