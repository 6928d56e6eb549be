/* exec: a new process inside a running container, in all of its namespaces (user first), its root,
 * its cgroup, with its own caps, no_new_privs, seccomp, cwd, env, user and rlimits. */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/security.h"
#include "runtime/spec.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "util/syscalls.h"

struct entry
{
  const struct nook_exec_opts *opts;
  struct nook_state *st;
  struct nook_spec *spec;        /* the container's config.json */
  struct nook_process *proc;     /* what to run (owned: from -p, or the spec's, adjusted) */
  struct nook_seccomp_prog prog;
  bool has_prog;
  int ns_fds[NOOK_NS_COUNT];
  int root_fd;                   /* the init's root when the container has no mount namespace of its own */
  int sync_parent, sync_child;
};

static int
load_process_file (const char *path, struct nook_process **out, nook_err *err)
{
  json_error_t jerr;
  cleanup_free char *text = NULL;
  size_t len;
  json_t *o;
  int ret;

  if (nook_read_file_at (AT_FDCWD, path, &text, &len, NOOK_ARG_FILE_MAX, err) < 0)
    return nook_error_prefix (err, "process file");
  o = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (o == NULL)
    return nook_error_input (err, "process file `%s`: %s (line %d)", path, jerr.text, jerr.line);
  ret = nook_process_parse (o, path, out, err);
  json_decref (o);
  return ret;
}

static void
env_set (char ***env, const char *kv)
{
  size_t klen = strcspn (kv, "=");
  size_t n = strv_len (*env);

  for (size_t i = 0; i < n; i++)
    if (strncmp ((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = xstrdup (kv);
        return;
      }
  *env = xrealloc (*env, (n + 2) * sizeof (char *));
  (*env)[n] = xstrdup (kv);
  (*env)[n + 1] = NULL;
}

static int
apply_user (struct nook_process *p, const char *user, nook_err *err)
{
  uint64_t uid, gid;
  cleanup_free char *copy = xstrdup (user);
  char *colon = strchr (copy, ':');

  if (colon)
    *colon = '\0';
  if (!str_to_u64 (copy, INT32_MAX, &uid) || (colon && !str_to_u64 (colon + 1, INT32_MAX, &gid)))
    return nook_error_input (err, "--user `%s`: expected UID[:GID]", user);
  p->user.uid = (uint32_t) uid;
  if (colon)
    p->user.gid = (uint32_t) gid;
  return 0;
}

static int
apply_additional_gids (struct nook_process *p, char **gids, nook_err *err)
{
  free (p->user.additional_gids);
  p->user.additional_gids = NULL;
  p->user.n_additional_gids = 0;
  for (size_t i = 0; gids[i]; i++)
    {
      cleanup_free char *copy = xstrdup (gids[i]);
      char *save = NULL;
      for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
        {
          uint64_t g;
          if (!str_to_u64 (t, INT32_MAX, &g))
            return nook_error_input (err, "--additional-gids `%s`: expected a group id", gids[i]);
          p->user.additional_gids
              = xrealloc (p->user.additional_gids, (p->user.n_additional_gids + 1) * sizeof (gid_t));
          p->user.additional_gids[p->user.n_additional_gids++] = (gid_t) g;
        }
    }
  return 0;
}

/* The spec's process with exec's flags on top. */
static int
adjust_process (struct entry *e, nook_err *err)
{
  const struct nook_exec_opts *o = e->opts;
  struct nook_process *p = e->proc;
  bool userns = e->spec->namespaces[NOOK_NS_USER].enabled;

  if (o->args && o->args[0])
    {
      strv_free (p->args);
      p->args = strv_dup (o->args);
    }
  for (size_t i = 0; o->env && o->env[i]; i++)
    {
      if (strchr (o->env[i], '=') == NULL)
        return nook_error_input (err, "--env `%s`: expected KEY=VALUE", o->env[i]);
      env_set (&p->env, o->env[i]);
    }
  if (o->cwd)
    {
      free (p->cwd);
      p->cwd = xstrdup (o->cwd);
    }
  if (o->user && apply_user (p, o->user, err) < 0)
    return -1;
  if (o->set_gids)
    {
      free (p->user.additional_gids);
      p->user.additional_gids = o->n_gids ? xmalloc (o->n_gids * sizeof (gid_t)) : NULL;
      if (o->n_gids)
        memcpy (p->user.additional_gids, o->gids, o->n_gids * sizeof (gid_t));
      p->user.n_additional_gids = o->n_gids;
    }
  if (o->additional_gids && apply_additional_gids (p, o->additional_gids, err) < 0)
    return -1;
  for (size_t i = 0; o->caps && o->caps[i]; i++)
    {
      if (strcasecmp (o->caps[i], "ALL") == 0)
        {
          /* Joining the container's user namespace resets the bounding set to full; without one, only
             what is in ours can be handed on. */
          uint64_t all = 0;
          for (int c = 0; c < 64; c++)
            if (userns || prctl (PR_CAPBSET_READ, c, 0, 0, 0) == 1)
              all |= 1ULL << c;
          p->caps.bounding = p->caps.effective = p->caps.permitted = all;
          p->has_caps = true;
          continue;
        }
      int cap = nook_cap_from_name (o->caps[i]);
      if (cap < 0)
        return nook_error_input (err, "--cap `%s`: unknown capability", o->caps[i]);
      p->caps.bounding |= 1ULL << cap;
      p->caps.effective |= 1ULL << cap;
      p->caps.permitted |= 1ULL << cap;
      p->has_caps = true;
    }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  p->terminal = o->tty;
  return 0;
}

static int
build_process (struct entry *e, int statefd, nook_err *err)
{
  cleanup_free char *text = NULL;
  size_t len;

  if (nook_read_file_at (statefd, "config.json", &text, &len, 4 << 20, err) < 0
      || nook_spec_parse (text, len, "config.json", &e->spec, err) < 0)
    return nook_error_prefix (err, "container `%s`", e->st->id);
  if (e->opts->process_file)
    return load_process_file (e->opts->process_file, &e->proc, err);
  if (e->spec->process == NULL)
    {
      /* Created with `process: null` (the spec allows it): exec's flags alone, as root in /. */
      e->proc = xcalloc (1, sizeof (*e->proc));
      e->proc->env = xcalloc (2, sizeof (char *));
      e->proc->env[0] = xstrdup ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      e->proc->cwd = xstrdup ("/");
    }
  else
    {
      e->proc = e->spec->process;
      e->spec->process = NULL;
    }
  if (e->opts->args == NULL || e->opts->args[0] == NULL)
    return nook_error_input (err, "exec: no command given");
  return adjust_process (e, err);
}

static int
open_namespaces (struct entry *e, nook_err *err)
{
  for (int t = 0; t < NOOK_NS_COUNT; t++)
    {
      char path[64];
      e->ns_fds[t] = -1;
      if (!e->spec->namespaces[t].enabled)
        continue;
      snprintf (path, sizeof (path), "/proc/%d/ns/%s", (int) e->st->pid, nook_ns_proc_name (t));
      e->ns_fds[t] = open (path, O_RDONLY | O_CLOEXEC);
      if (e->ns_fds[t] < 0)
        return nook_error (err, errno, "open `%s`", path);
    }
  if (!nook_spec_owns_mountns (e->spec))
    {
      char path[64];
      snprintf (path, sizeof (path), "/proc/%d/root", (int) e->st->pid);
      e->root_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (e->root_fd < 0)
        return nook_error (err, errno, "open `%s`", path);
    }
  return 0;
}

/* Around the user namespace in two passes (see nook_ns_join_pending), the mount namespace last.  A container
 * without a mount namespace of its own was chrooted into its rootfs: so is the new process (through the
 * init's root, opened before we joined anything). */
static int
join_all (struct entry *e, nook_err *err)
{
  unsigned pending = 0;

  for (int t = NOOK_NS_USER + 1; t < NOOK_NS_COUNT; t++)
    if (e->ns_fds[t] >= 0)
      pending |= 1u << t;
  if (nook_ns_join_pending (e->ns_fds, &pending, true, err) < 0)
    return -1;
  if (e->ns_fds[NOOK_NS_USER] >= 0)
    {
      if (nook_ns_join (e->ns_fds[NOOK_NS_USER], NOOK_NS_USER, err) < 0)
        return -1;
      e->st->setgroups_allowed = !nook_userns_setgroups_denied ();
      if (setresgid (0, 0, 0) < 0 && errno != EINVAL)
        return nook_error (err, errno, "setresgid 0");
      if (setresuid (0, 0, 0) < 0 && errno != EINVAL)
        return nook_error (err, errno, "setresuid 0");
    }
  if (nook_ns_join_pending (e->ns_fds, &pending, false, err) < 0)
    return -1;
  if (e->root_fd >= 0 && (fchdir (e->root_fd) < 0 || chroot (".") < 0))
    return nook_error (err, errno, "chroot into the root of container `%s`", e->st->id);
  return 0;
}

static int
child_setup (struct entry *e, nook_err *err)
{
  struct nook_sync_msg msg;

  nook_debug ("child process in init()");
  if (nook_sync_expect (e->sync_child, NOOK_SYNC_CGROUP_DONE, &msg, err) < 0)
    return -1;
  if (chdir ("/") < 0)
    return nook_error (err, errno, "chdir /");
  if (e->proc->terminal)
    {
      int master = nook_terminal_setup_child (e->proc->console_height, e->proc->console_width, e->proc->user.uid,
                                              err);
      if (master < 0)
        return -1;
      if (nook_sync_send (e->sync_child, NOOK_SYNC_TTY, 0, err) < 0 || nook_send_fd (e->sync_child, master, "pty", err) < 0)
        return -1;
      close (master);
    }
  if (e->opts->stdio && !e->proc->terminal)
    for (int i = 0; i < 3; i++)
      if (dup2 (e->opts->stdio[i], i) < 0)
        return nook_error (err, errno, "dup2 stdio %d", i);
  nook_debug ("setns_init: about to exec");
  if (e->has_prog && e->spec->seccomp->listener_path && e->spec->seccomp->listener_path[0])
    {
      e->prog.notify = true;
      e->prog.notify_sock = e->sync_child;
    }
  for (int fd = 3; fd < 3 + e->opts->preserve_fds; fd++)
    fcntl (fd, F_SETFD, 0);
  if (nook_process_finalize (e->proc, e->has_prog ? &e->prog : NULL, e->opts->preserve_fds, e->st->setgroups_allowed,
                             err)
      < 0)
    return -1;
  return nook_process_exec (e->proc, err);
}

__attribute__ ((noreturn)) static void
child (struct entry *e)
{
  nook_err err = { 0 };
  pid_t pid;

  close (e->sync_parent);
  nook_debug ("nsexec container setup");
  if (join_all (e, &err) < 0 || prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    goto fail;
  pid = sys_clone_parent ();
  if (pid < 0)
    {
      nook_error (&err, errno, "clone");
      goto fail;
    }
  if (pid == 0)
    {
      child_setup (e, &err);
      nook_sync_send_error (e->sync_child, &err);
      _exit (err.status ? err.status : NOOK_EXIT_ERROR);
    }
  if (nook_sync_send (e->sync_child, NOOK_SYNC_PID, pid, &err) < 0)
    goto fail;
  _exit (0);
fail:
  nook_sync_send_error (e->sync_child, &err);
  _exit (NOOK_EXIT_ERROR);
}

static void
entry_free (struct entry *e)
{
  for (int t = 0; t < NOOK_NS_COUNT; t++)
    if (e->ns_fds[t] >= 0)
      close (e->ns_fds[t]);
  if (e->root_fd >= 0)
    close (e->root_fd);
  if (e->sync_parent >= 0)
    close (e->sync_parent);
  if (e->sync_child >= 0)
    close (e->sync_child);
  if (e->has_prog)
    nook_seccomp_prog_free (&e->prog);
  nook_process_free (e->proc);
  nook_spec_free (e->spec);
  nook_state_free (e->st);
}

static int
prepare (struct entry *e, const struct nook_runtime_ctx *ctx, nook_err *err)
{
  cleanup_close int rootfd = -1, statefd = -1;
  int sv[2];

  rootfd = nook_root_open (ctx->root, err);
  if (rootfd < 0 || (statefd = nook_state_dir_open (rootfd, e->opts->id, false, err)) < 0)
    return -1;
  if (nook_state_load (statefd, e->opts->id, &e->st, err) < 0)
    return -1;
  if (e->st->status == NOOK_STATUS_PAUSED)
    return nook_error_input (err, "cannot exec in a paused container `%s`: resume it first", e->opts->id);
  if (e->st->status != NOOK_STATUS_RUNNING && e->st->status != NOOK_STATUS_CREATED)
    return nook_error_input (err, "cannot exec in container `%s`: it is %s", e->opts->id,
                             nook_status_name (e->st->status));
  if (build_process (e, statefd, err) < 0)
    return -1;
  if (e->proc->terminal && e->opts->console_socket == NULL && e->opts->detach)
    return nook_error_input (err, "exec -t -d needs --console-socket");
  if (e->spec->seccomp)
    {
      if (nook_seccomp_compile_cached (e->spec->seccomp, &e->prog, err) < 0)
        return nook_error_prefix (err, "linux.seccomp");
      e->has_prog = true;
    }
  if (open_namespaces (e, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return nook_error (err, errno, "socketpair");
  e->sync_parent = sv[0];
  e->sync_child = sv[1];
  return 0;
}

static int
place_in_cgroup (struct entry *e, pid_t pid, nook_err *err)
{
  struct nook_cgroup *cg = NULL;
  int ret = 0;

  if (e->st->cgroup && nook_cgroup_from_json (e->st->cgroup, &cg, err) == 0)
    ret = e->opts->cgroups ? nook_cgroup_enter_sub (cg, e->opts->cgroups, pid, err) : nook_cgroup_enter (cg, pid, err);
  else if (e->opts->cgroups)
    ret = nook_error_input (err, "--cgroup: container `%s` has no cgroup of its own", e->st->id);
  nook_cgroup_free (cg);
  return ret;
}

/* The process loaded a seccomp filter with a notify listener: its fd goes to the agent. */
static int
pass_notify_fd (struct entry *e, pid_t proc, nook_err *err)
{
  cleanup_close int fd = nook_recv_fd (e->sync_parent, err);
  json_t *state;
  int r;

  if (fd < 0)
    return -1;
  if (e->spec->seccomp == NULL)
    return nook_error_input (err, "sync: unexpected seccomp notify fd");
  state = nook_state_to_oci (e->st);
  r = nook_seccomp_notify_send (e->spec->seccomp, fd, proc, state, err);
  json_decref (state);
  return r;
}

/* From the first child's exit to "exec'd". */
static int
converse (struct entry *e, pid_t first, pid_t *proc, int *master, nook_err *err)
{
  struct nook_sync_msg msg;
  nook_err e2 = { 0 };

  if (nook_sync_expect (e->sync_parent, NOOK_SYNC_PID, &msg, err) < 0)
    return -1;
  *proc = msg.value;
  waitpid (first, NULL, 0);
  if (place_in_cgroup (e, *proc, err) < 0 || nook_sync_send (e->sync_parent, NOOK_SYNC_CGROUP_DONE, 0, err) < 0)
    {
      kill (*proc, SIGKILL); /* it waits for CGROUP_DONE, which will not come */
      return -1;
    }
  for (;;)
    {
      if (nook_sync_recv (e->sync_parent, &msg, &e2) < 0)
        {
          if (e2.code == EPIPE)
            return 0;
          *err = e2;
          return -1;
        }
      if (msg.type == NOOK_SYNC_SECCOMP_FD)
        {
          if (pass_notify_fd (e, *proc, err) < 0)
            return -1;
          continue;
        }
      if (msg.type != NOOK_SYNC_TTY)
        return nook_error_input (err, "sync: unexpected record %d", msg.type);
      *master = nook_recv_fd (e->sync_parent, err);
      if (*master < 0)
        return -1;
    }
}

static int
finish (struct entry *e, pid_t proc, int master, int *status, nook_err *err)
{
  const struct nook_exec_opts *o = e->opts;
  cleanup_close int pidfd = -1;

  if (o->pid_file && nook_pid_file_write (o->pid_file, proc, err) < 0)
    return -1;
  if (master >= 0 && o->console_socket)
    {
      int r = nook_console_socket_send (o->console_socket, master, err);
      close (master);
      master = -1;
      if (r < 0)
        return -1;
    }
  if (o->detach)
    {
      if (master >= 0)
        close (master);
      *status = 0;
      return 0;
    }
  pidfd = sys_pidfd_open (proc, 0);
  *status = nook_attach_wait (proc, pidfd, master, err);
  if (master >= 0)
    close (master);
  return *status < 0 ? -1 : 0;
}

int
nook_container_exec (const struct nook_runtime_ctx *ctx, const struct nook_exec_opts *opts, int *status,
                     nook_err *err)
{
  struct entry e = { .opts = opts, .root_fd = -1, .sync_parent = -1, .sync_child = -1 };
  pid_t first, proc = 0;
  int master = -1, ret = -1;

  for (int t = 0; t < NOOK_NS_COUNT; t++)
    e.ns_fds[t] = -1;
  if (prepare (&e, ctx, err) < 0)
    goto out;
  first = fork ();
  if (first < 0)
    {
      nook_error (err, errno, "fork");
      goto out;
    }
  if (first == 0)
    child (&e);
  close (e.sync_child);
  e.sync_child = -1;
  if (converse (&e, first, &proc, &master, err) < 0)
    {
      if (proc > 0)
        {
          int st = nook_wait_status (proc, &(nook_err){ 0 });
          if (err->status == NOOK_EXIT_ERROR && (st == 126 || st == 127))
            err->status = st;
        }
      else
        waitpid (first, NULL, 0);
      goto out;
    }
  ret = finish (&e, proc, master, status, err);
out:
  entry_free (&e);
  return ret;
}
