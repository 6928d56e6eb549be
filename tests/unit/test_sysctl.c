/* linux.sysctl validation: which keys and values reach /proc/sys, and why the others do not. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/linux.h"
#include "runtime/security.h"
#include "util/fs.h"

static int
accepted (const char *key, const char *value, bool uts, bool net, bool ipc)
{
  nook_err err = { 0 };
  int rc = nook_sysctl_check (key, value, uts, net, ipc, &err);

  if (rc < 0)
    printf ("    `%s` rejected: %s\n", key, err.msg);
  return rc == 0;
}

static int
rejected (const char *key, const char *value, bool uts, bool net, bool ipc, const char *why)
{
  nook_err err = { 0 };

  if (nook_sysctl_check (key, value, uts, net, ipc, &err) == 0)
    {
      printf ("    `%s` accepted\n", key);
      return 0;
    }
  if (strstr (err.msg, why) == NULL)
    {
      printf ("    `%s`: \"%s\" does not say \"%s\"\n", key, err.msg, why);
      return 0;
    }
  return 1;
}

static void
test_accepted (void)
{
  CHECK (accepted ("kernel.msgmax", "8192", false, false, true));
  CHECK (accepted ("kernel.msgmnb", "16384", false, false, true));
  CHECK (accepted ("kernel.msgmni", "32000", false, false, true));
  CHECK (accepted ("kernel.sem", "250 32000 32 128", false, false, true));
  CHECK (accepted ("kernel.shmall", "1", false, false, true));
  CHECK (accepted ("kernel.shmmax", "1", false, false, true));
  CHECK (accepted ("kernel.shmmni", "1", false, false, true));
  CHECK (accepted ("kernel.shm_rmid_forced", "1", false, false, true));
  CHECK (accepted ("fs.mqueue.msg_max", "10", false, false, true));
  CHECK (accepted ("net.ipv4.ip_forward", "1", false, true, false));
  CHECK (accepted ("net.ipv4.conf.all.rp_filter", "0", false, true, false));
  CHECK (accepted ("net.ipv6.conf.lo-1.disable_ipv6", "1", false, true, false));
  CHECK (accepted ("kernel.hostname", "box", true, false, false));
  CHECK (accepted ("kernel.domainname", "example.org", true, false, false));
  CHECK (accepted ("net.core.somaxconn", "", false, true, false));
}

static void
test_not_namespaced (void)
{
  CHECK (rejected ("kernel.panic", "1", true, true, true, "not a namespaced sysctl"));
  CHECK (rejected ("vm.overcommit_memory", "1", true, true, true, "not a namespaced sysctl"));
  CHECK (rejected ("kernel.msgmax2", "1", true, true, true, "not a namespaced sysctl"));
  CHECK (rejected ("fs.mqueue", "1", true, true, true, "not a namespaced sysctl"));
  CHECK (rejected ("fs.file-max", "1", true, true, true, "not a namespaced sysctl"));
}

static void
test_needs_namespace (void)
{
  CHECK (rejected ("net.ipv4.ip_forward", "1", true, false, true, "network namespace"));
  CHECK (rejected ("kernel.shmmax", "1", true, true, false, "IPC namespace"));
  CHECK (rejected ("fs.mqueue.queues_max", "1", true, true, false, "IPC namespace"));
  CHECK (rejected ("kernel.hostname", "x", false, true, true, "UTS namespace"));
  CHECK (rejected ("kernel.domainname", "x", false, true, true, "UTS namespace"));
}

static void
test_bad_keys (void)
{
  CHECK (rejected ("", "1", true, true, true, "empty key"));
  CHECK (rejected ("net/ipv4/ip_forward", "1", true, true, true, "must not contain `/`"));
  CHECK (rejected ("net.ipv4..ip_forward", "1", true, true, true, "`..`"));
  CHECK (rejected ("net.ipv4.conf...all", "1", true, true, true, "`..`"));
  CHECK (rejected (".net.ipv4", "1", true, true, true, "empty component"));
  CHECK (rejected ("net.ipv4.", "1", true, true, true, "empty component"));
  CHECK (rejected ("net.ipv4 ip_forward", "1", true, true, true, "invalid character"));
  CHECK (rejected ("net.ipv4.ip_forward\n", "1", true, true, true, "invalid character"));
  CHECK (rejected ("net.*", "1", true, true, true, "invalid character"));
  CHECK (rejected ("kernel.shm\xc3\xa9", "1", true, true, true, "invalid character"));
}

static void
test_bad_values (void)
{
  CHECK (rejected ("net.ipv4.ip_forward", "1\nnet.ipv4.ip_forward=0", true, true, true, "newline"));
  CHECK (rejected ("kernel.sem", "1\n", true, true, true, "newline"));
  CHECK (rejected ("kernel.sem", NULL, true, true, true, "missing"));
  CHECK (rejected ("kernel.sem", "1\n", true, true, true, "`kernel.sem`"));
}

static int
file_is (const char *path, const char *want)
{
  char *text = NULL;
  nook_err err;
  int ok;

  if (nook_read_file_at (AT_FDCWD, path, &text, NULL, 4096, &err) < 0)
    return 0;
  ok = strcmp (text, want) == 0;
  free (text);
  return ok;
}

static int
setup_child (void)
{
  struct nook_kv sysctl[] = {
    { "kernel.shmmni", "1234" },
    { "net.ipv4.ip_forward", "1" },
    { "kernel.domainname", "sysctl.example" },
  };
  struct nook_spec spec = { .hostname = "nook-test", .sysctl = sysctl, .n_sysctl = 3 };
  struct nook_spec bad = { .hostname = "nook-test" };
  char host[64] = "";
  nook_err err;

  if (unshare (CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) < 0)
    return 10;
  if (nook_linux_setup (&bad, false, true, true, &err) == 0 || strstr (err.msg, "UTS") == NULL)
    return 11;
  if (nook_linux_setup (&spec, true, true, true, &err) < 0)
    {
      printf ("    %s\n", err.msg);
      return 12;
    }
  if (gethostname (host, sizeof (host)) < 0 || strcmp (host, "nook-test") != 0)
    return 13;
  if (!file_is ("/proc/sys/kernel/shmmni", "1234\n") || !file_is ("/proc/sys/net/ipv4/ip_forward", "1\n"))
    return 14;
  if (!file_is ("/proc/sys/kernel/domainname", "sysctl.example\n"))
    return 15;
  spec.n_sysctl = 1;
  sysctl[0].key = "kernel.panic";
  if (nook_linux_setup (&spec, true, true, true, &err) == 0 || strstr (err.msg, "kernel.panic") == NULL)
    return 16;
  return 0;
}

/* As root, in fresh UTS/IPC/net namespaces of a child: the values really land. */
static void
test_linux_setup (void)
{
  int status = -1;
  pid_t pid;

  if (geteuid () != 0)
    return;
  pid = fork ();
  if (pid == 0)
    {
      fflush (stdout);
      _exit (setup_child ());
    }
  CHECK (pid > 0 && waitpid (pid, &status, 0) == pid);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    printf ("    child exited %d\n", WEXITSTATUS (status));
}

int
main (void)
{
  RUN (test_accepted);
  RUN (test_not_namespaced);
  RUN (test_needs_namespace);
  RUN (test_bad_keys);
  RUN (test_bad_values);
  RUN (test_linux_setup);
  return HARNESS_END ();
}
