/* The container's side of create: stage 1 (namespaces) and stage 2 (the init: rootfs, terminal, wait for
 * start, finalize, execve).  Every failure is sent to the runtime as an ERROR record, then we exit. */
#include "runtime/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/overlay.h"
#include "runtime/rootfs.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/syscalls.h"

static int
enter_user_ns (struct nook_launch *l, nook_err *err)
{
  struct nook_sync_msg msg;

  if (!l->spec->namespaces[NOOK_NS_USER].enabled)
    return 0;
  if (l->ns_fds[NOOK_NS_USER] >= 0)
    {
      if (nook_ns_join (l->ns_fds[NOOK_NS_USER], NOOK_NS_USER, err) < 0)
        return -1;
      l->setgroups_allowed = !nook_userns_setgroups_denied ();
    }
  else
    {
      if (unshare (CLONE_NEWUSER) < 0)
        return nook_error (err, errno, "unshare user namespace");
      if (nook_sync_send (l->sync_child, NOOK_SYNC_MAP_REQUEST, 0, err) < 0
          || nook_sync_expect (l->sync_child, NOOK_SYNC_MAPPED, &msg, err) < 0)
        return -1;
    }
  /* Become the namespace's root where 0 is mapped (keeps every capability in the namespace). */
  if (setresgid (0, 0, 0) < 0 && errno != EINVAL)
    return nook_error (err, errno, "setresgid 0");
  if (setresuid (0, 0, 0) < 0 && errno != EINVAL)
    return nook_error (err, errno, "setresuid 0");
  return 0;
}

/* linux.timeOffsets: the new time namespace's clocks, set before its first process (our clone) exists.
 * FD: /proc/self/timens_offsets, opened while we were still dumpable (then our /proc/self is ours). */
static int
set_time_offsets (const struct nook_spec *s, int fd, nook_err *err)
{
  static const char *const names[] = { "monotonic", "boottime" };
  char text[128];
  size_t n = 0;

  for (int i = 0; i < 2; i++)
    if (s->time_offsets[i].set)
      n += (size_t) snprintf (text + n, sizeof (text) - n, "%s %lld %u\n", names[i],
                              (long long) s->time_offsets[i].secs, s->time_offsets[i].nanosecs);
  if (n == 0)
    return 0;
  if (fd < 0 || nook_write_all (fd, text, n) < 0)
    return nook_error (err, fd < 0 ? EBADF : errno, "linux.timeOffsets: write /proc/self/timens_offsets");
  return 0;
}

static int
open_time_offsets (const struct nook_spec *s, nook_err *err)
{
  int fd;

  if (!s->time_offsets[0].set && !s->time_offsets[1].set)
    return -1;
  fd = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    nook_error (err, errno, "linux.timeOffsets: open /proc/self/timens_offsets");
  return fd;
}

/* Namespaces given by path, joined around the user namespace in two passes (nook_ns_join_pending): one owned
 * by the initial user namespace only before we enter ours, one owned by the joined user namespace only after.
 * A cgroup namespace given by path is joined here too; a new one waits for stage 2 (after placement). */
static int
enter_namespaces (struct nook_launch *l, nook_err *err)
{
  cleanup_close int timens_fd = -1;
  unsigned pending = 0;
  int flags = 0;

  for (int t = NOOK_NS_USER + 1; t < NOOK_NS_COUNT; t++)
    {
      if (!l->spec->namespaces[t].enabled)
        continue;
      if (l->ns_fds[t] >= 0)
        pending |= 1u << t;
      else if (t != NOOK_NS_CGROUP)
        flags |= nook_ns_clone_flag (t);
    }
  if (nook_ns_join_pending (l->ns_fds, &pending, true, err) < 0 || enter_user_ns (l, err) < 0)
    return -1;
  timens_fd = open_time_offsets (l->spec, err);
  if (timens_fd < 0 && err->msg[0] != '\0')
    return -1;
  /* From here on /proc/PID of our processes is not accessible to the container (until execve). */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return nook_error (err, errno, "prctl PR_SET_DUMPABLE");
  if (nook_ns_join_pending (l->ns_fds, &pending, false, err) < 0)
    return -1;
  if (flags && unshare (flags) < 0)
    return nook_error (err, errno, "unshare namespaces (flags 0x%x)", flags);
  if (flags & nook_ns_clone_flag (NOOK_NS_TIME))
    return set_time_offsets (l->spec, timens_fd, err);
  return 0;
}

static int
enter_new_cgroup_ns (struct nook_launch *l, nook_err *err)
{
  if (!l->spec->namespaces[NOOK_NS_CGROUP].enabled || l->ns_fds[NOOK_NS_CGROUP] >= 0)
    return 0;
  if (unshare (CLONE_NEWCGROUP) < 0)
    return nook_error (err, errno, "unshare cgroup namespace");
  return 0;
}

static int
setup_tty (struct nook_launch *l, nook_err *err)
{
  const struct nook_process *p = l->spec->process;
  int master;

  /* A session of its own, terminal or not (runc and crun): conmon's --timeout kills the init's process
   * group, which must not be the caller's. */
  if (p == NULL || !p->terminal)
    return setsid () < 0 ? nook_error (err, errno, "setsid") : 0;
  master = nook_terminal_setup_child (p->console_height, p->console_width, p->user.uid, err);
  if (master < 0)
    return -1;
  if (nook_sync_send (l->sync_child, NOOK_SYNC_TTY, 0, err) < 0 || nook_send_fd (l->sync_child, master, "pty", err) < 0)
    {
      close (master);
      return -1;
    }
  close (master);
  return 0;
}

int
nook_init_wait_start (int sync_fd, int listen_fd, nook_err *err)
{
  struct pollfd fds[2] = { { .fd = sync_fd, .events = POLLIN }, { .fd = listen_fd, .events = POLLIN } };
  struct nook_sync_msg msg;

  for (;;)
    {
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return nook_error (err, errno, "poll");
        }
      if (fds[0].revents)
        {
          if (nook_sync_recv (sync_fd, &msg, err) == 0 && msg.type == NOOK_SYNC_START)
            return sync_fd;
          fds[0].fd = -1; /* the runtime that created us is gone: wait for `start` */
        }
      if (fds[1].revents)
        {
          int conn = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
          if (conn < 0)
            continue;
          if (nook_sync_recv (conn, &msg, err) == 0 && msg.type == NOOK_SYNC_START)
            return conn;
          close (conn);
        }
    }
}

/* Preserved fds (3 .. 3+N-1) reach the process; whatever else is open is close-on-exec. */
static void
keep_preserved_fds (int n)
{
  for (int fd = 3; fd < 3 + n; fd++)
    fcntl (fd, F_SETFD, 0);
}

/* The caller sets up the network of a new netns between create and start (netns_out): hand it our network
 * and user namespaces (user: /proc/self/ns/user also when not new, the caller only passes it on). */
static int
send_ns_fds (struct nook_launch *l, nook_err *err)
{
  cleanup_close int net = -1, user = -1;

  if (l->opts->netns_out == NULL || !l->spec->namespaces[NOOK_NS_NET].enabled || l->ns_fds[NOOK_NS_NET] >= 0)
    return 0;
  net = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  user = open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (net < 0 || user < 0)
    return nook_error (err, errno, "open /proc/self/ns/{net,user}");
  if (nook_sync_send (l->sync_child, NOOK_SYNC_NS_FDS, 0, err) < 0 || nook_send_fd (l->sync_child, net, "netns", err) < 0
      || nook_send_fd (l->sync_child, user, "userns", err) < 0)
    return -1;
  return 0;
}

static int
stage2_setup (struct nook_launch *l, nook_err *err)
{
  const struct nook_spec *spec = l->spec;
  struct nook_sync_msg msg;
  struct nook_rootfs_ctx rctx = {
    .spec = spec,
    .rootfs = l->rootfs,
    .bundle = l->bundle,
    .userns = spec->namespaces[NOOK_NS_USER].enabled || l->rootless,
    .new_netns = spec->namespaces[NOOK_NS_NET].enabled,
    .new_cgroupns = spec->namespaces[NOOK_NS_CGROUP].enabled,
    .no_pivot = l->opts->no_pivot,
    .own_mountns = nook_spec_owns_mountns (spec),
  };

  nook_debug ("child process in init()");
  if (nook_sync_expect (l->sync_child, NOOK_SYNC_CGROUP_DONE, &msg, err) < 0)
    return -1;
  if (enter_new_cgroup_ns (l, err) < 0 || send_ns_fds (l, err) < 0)
    return -1;
  if (nook_linux_setup (spec, spec->namespaces[NOOK_NS_UTS].enabled, spec->namespaces[NOOK_NS_NET].enabled,
                        spec->namespaces[NOOK_NS_IPC].enabled, err)
      < 0)
    return -1;
  if (l->opts->overlay && nook_overlay_mount (l->opts->overlay, l->rootfs, err) < 0)
    return -1;
  if (nook_rootfs_setup (&rctx, err) < 0)
    return -1;
  if (nook_process_check_executable (spec->process, err) < 0 || setup_tty (l, err) < 0)
    return -1;
  if (l->opts->stdio && !(l->spec->process && l->spec->process->terminal))
    for (int i = 0; i < 3; i++)
      if (dup2 (l->opts->stdio[i], i) < 0)
        return nook_error (err, errno, "dup2 stdio %d", i);
  /* A session keyring of its own (like runc): the container does not share the caller's keys.  Kernels or
   * seccomp policies that refuse keyctl leave the inherited one, as runc does. */
  if (!l->opts->no_new_keyring && sys_keyctl_join_session (NULL) < 0 && errno != ENOSYS && errno != EPERM
      && errno != EACCES)
    return nook_error (err, errno, "keyctl join session keyring");
  return nook_sync_send (l->sync_child, NOOK_SYNC_CREATED, 0, err);
}

/* Replace or add NAME=VALUE in the process's environment. */
static void
env_put (struct nook_process *p, const char *name, const char *value)
{
  size_t n = 0, len = strlen (name);
  char *kv = xasprintf ("%s=%s", name, value);

  for (; p->env && p->env[n]; n++)
    if (strncmp (p->env[n], name, len) == 0 && p->env[n][len] == '=')
      {
        free (p->env[n]);
        p->env[n] = kv;
        return;
      }
  p->env = xrealloc (p->env, (n + 2) * sizeof (char *));
  p->env[n] = kv;
  p->env[n + 1] = NULL;
}

/* Socket activation passed through (runc's behaviour): the fds are 3..3+N-1, the process is pid 1. */
static void
set_listen_env (struct nook_process *p, int n)
{
  char buf[16];
  snprintf (buf, sizeof (buf), "%d", n);
  env_put (p, "LISTEN_FDS", buf);
  env_put (p, "LISTEN_PID", "1");
}

__attribute__ ((noreturn)) static void
stage2 (struct nook_launch *l)
{
  nook_err err = { 0 };
  int reply;

  if (stage2_setup (l, &err) < 0)
    {
      nook_sync_send_error (l->sync_child, &err);
      _exit (NOOK_EXIT_ERROR);
    }
  /* Without a process the init only waits (and `exec` enters its namespaces): let a rootless caller open
   * its /proc/PID/ns/ as it could once a process was exec'd. */
  if (l->spec->process == NULL)
    prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  reply = nook_init_wait_start (l->sync_child, l->listen_fd, &err);
  if (reply < 0)
    _exit (NOOK_EXIT_ERROR);
  /* runc's debug messages, word for word: scripts and tests look for them. */
  nook_debug ("init: closing the pipe to signal completion");
  if (l->has_prog && l->spec->seccomp->listener_path && l->spec->seccomp->listener_path[0])
    {
      l->prog.notify = true; /* the notify fd goes back on the connection that said "start" */
      l->prog.notify_sock = reply;
    }
  keep_preserved_fds (l->opts->preserve_fds);
  if (l->spec->process == NULL)
    {
      nook_error_input (&err, "config.json: process: required to start a container");
      nook_sync_send_error (reply, &err);
      _exit (NOOK_EXIT_ERROR);
    }
  if (l->opts->listen_fds > 0)
    set_listen_env (l->spec->process, l->opts->listen_fds);
  if (nook_process_finalize (l->spec->process, l->has_prog ? &l->prog : NULL, l->opts->preserve_fds,
                             l->setgroups_allowed, &err)
          < 0
      || nook_process_exec (l->spec->process, &err) < 0)
    {
      nook_sync_send_error (reply, &err);
      _exit (err.status ? err.status : NOOK_EXIT_ERROR);
    }
  _exit (NOOK_EXIT_ERROR);
}

static int
stage1_run (struct nook_launch *l, nook_err *err)
{
  pid_t pid;

  nook_debug ("nsexec container setup");
  if (l->spec->process && nook_process_prepare (l->spec->process, err) < 0)
    return -1;
  if (enter_namespaces (l, err) < 0)
    return -1;
  pid = sys_clone_parent ();
  if (pid < 0)
    return nook_error (err, errno, "clone container init");
  if (pid == 0)
    stage2 (l);
  return nook_sync_send (l->sync_child, NOOK_SYNC_PID, pid, err);
}

void
nook_init_stage1 (struct nook_launch *l)
{
  nook_err err = { 0 };

  close (l->sync_parent);
  for (size_t i = 0; i < sizeof (l->runtime_fds) / sizeof (l->runtime_fds[0]); i++)
    if (l->runtime_fds[i] >= 0)
      close (l->runtime_fds[i]);
  if (stage1_run (l, &err) < 0)
    {
      nook_sync_send_error (l->sync_child, &err);
      _exit (NOOK_EXIT_ERROR);
    }
  _exit (0);
}
