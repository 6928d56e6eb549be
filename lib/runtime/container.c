/* create, start and run: the runtime's side of a container's birth. */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/launch.h"
#include "runtime/rootfs.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "util/syscalls.h"

/* A container being born: everything to undo if it does not make it. */
struct birth
{
  struct nook_launch l;
  int rootfd, statefd;
  char *bundle;
  pid_t stage1, init;
  int pidfd;
  int master;
  int netns, userns;          /* from the init, for netns_out/userns_out */
  struct nook_cgroup *cg;
  bool rootless;              /* nook_rootless(): not the host's root */
  bool done;
};

static void
birth_init (struct birth *b)
{
  memset (b, 0, sizeof (*b));
  b->rootfd = b->statefd = b->pidfd = b->master = b->netns = b->userns = -1;
  b->l.sync_parent = b->l.sync_child = b->l.listen_fd = -1;
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    b->l.ns_fds[i] = -1;
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* Undo a failed create: kill what runs, remove the cgroup and the state directory. */
static void
birth_abort (struct birth *b, const char *id)
{
  nook_err ignored;

  if (b->init > 0)
    {
      kill (b->init, SIGKILL);
      waitpid (b->init, NULL, 0);
    }
  if (b->stage1 > 0)
    {
      kill (b->stage1, SIGKILL);
      waitpid (b->stage1, NULL, 0);
    }
  if (b->cg)
    nook_cgroup_destroy (b->cg, &ignored);
  if (b->statefd >= 0 && b->rootfd >= 0)
    nook_state_dir_remove (b->rootfd, id, &ignored);
}

static void
birth_free (struct birth *b)
{
  close_fd (&b->rootfd);
  close_fd (&b->statefd);
  close_fd (&b->pidfd);
  close_fd (&b->master);
  close_fd (&b->netns);
  close_fd (&b->userns);
  close_fd (&b->l.sync_parent);
  close_fd (&b->l.sync_child);
  close_fd (&b->l.listen_fd);
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    close_fd (&b->l.ns_fds[i]);
  if (b->l.has_prog)
    nook_seccomp_prog_free (&b->l.prog);
  nook_spec_free (b->l.spec);
  nook_cgroup_free (b->cg);
  free (b->l.rootfs);
  free (b->bundle);
}

static int
resolve_paths (struct birth *b, const char *bundle, nook_err *err)
{
  char buf[PATH_MAX];
  cleanup_free char *root = NULL;

  if (realpath (bundle ? bundle : ".", buf) == NULL)
    return nook_error (err, errno, "bundle `%s`", bundle ? bundle : ".");
  b->bundle = xstrdup (buf);
  if (nook_spec_load (b->bundle, &b->l.spec, err) < 0)
    return -1;
  root = b->l.spec->root_path[0] == '/' ? xstrdup (b->l.spec->root_path)
                                         : xasprintf ("%s/%s", b->bundle, b->l.spec->root_path);
  if (realpath (root, buf) == NULL)
    return nook_error (err, errno, "root.path `%s`", root);
  b->l.rootfs = xstrdup (buf);
  return 0;
}

static int
check_terminal (const struct nook_spec *spec, const struct nook_create_opts *o, bool attached, nook_err *err)
{
  bool tty = spec->process != NULL && spec->process->terminal;

  if (spec->process == NULL && attached)
    return nook_error_input (err, "config.json: process: required to run a container");
  if (tty && o->console_socket == NULL && o->master_out == NULL && !attached)
    return nook_error_input (err, "process.terminal is true: --console-socket is required (or run attached)");
  if (!tty && o->console_socket != NULL)
    return nook_error_input (err, "--console-socket given but process.terminal is false");
  return 0;
}

static int
check_mountns (const struct nook_spec *spec, const struct nook_create_opts *o, nook_err *err)
{
  size_t ignored;

  if (nook_rootfs_check_shared_mountns (spec, o->no_pivot, o->overlay != NULL, &ignored, err) < 0)
    return -1;
  if (ignored > 0)
    nook_warn ("no private mount namespace: %zu mounts and devices of config.json are not applied (they would "
               "change the caller's mounts); the container is chrooted into its rootfs",
               ignored);
  return 0;
}

static int
make_listener (struct birth *b, nook_err *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/start.sock", b->statefd);
  b->l.listen_fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (b->l.listen_fd < 0)
    return nook_error (err, errno, "socket");
  if (bind (b->l.listen_fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return nook_error (err, errno, "bind start.sock");
  if (listen (b->l.listen_fd, 4) < 0)
    return nook_error (err, errno, "listen start.sock");
  return 0;
}

/* The user namespace we run in was made with setgroups "deny" (`unshare -r`, a single-id map): the
 * container, sharing it, cannot call setgroups either. */
static bool
setgroups_denied_here (void)
{
  cleanup_free char *text = NULL;
  nook_err ignored;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/setgroups", &text, NULL, 64, &ignored) < 0)
    return false;
  return strncmp (text, "deny", 4) == 0;
}

static int
prepare (struct birth *b, const struct nook_runtime_ctx *ctx, const struct nook_create_opts *o, bool attached,
         nook_err *err)
{
  struct nook_spec *spec;
  int sv[2];

  if (nook_id_check (o->id, err) < 0 || resolve_paths (b, o->bundle, err) < 0)
    return -1;
  spec = b->l.spec;
  if (check_terminal (spec, o, attached, err) < 0 || check_mountns (spec, o, err) < 0)
    return -1;
  b->l.opts = o;
  b->rootless = b->l.rootless = nook_rootless (ctx->rootless);
  b->l.idmap = nook_idmap_method (spec, geteuid (), getegid ());
  b->l.setgroups_allowed = b->l.idmap != NOOK_IDMAP_DIRECT_DENY && spec->namespaces[NOOK_NS_USER].enabled;
  if (!spec->namespaces[NOOK_NS_USER].enabled)
    b->l.setgroups_allowed = !setgroups_denied_here ();
  b->l.want_tty_fd = spec->process != NULL && spec->process->terminal;
  if (nook_ns_open_paths (spec, b->l.ns_fds, err) < 0)
    return -1;
  b->rootfd = nook_root_open (ctx->root, err);
  if (b->rootfd < 0)
    return -1;
  if (spec->seccomp)
    {
      if (nook_seccomp_compile_cached (spec->seccomp, &b->l.prog, err) < 0)
        return nook_error_prefix (err, "linux.seccomp");
      b->l.has_prog = true;
    }
  b->statefd = nook_state_dir_create (b->rootfd, o->id, err);
  if (b->statefd < 0)
    return -1;
  if (make_listener (b, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return nook_error (err, errno, "socketpair");
  b->l.sync_parent = sv[0];
  b->l.sync_child = sv[1];
  return 0;
}

static int
on_init_pid (struct birth *b, const struct nook_create_opts *o, pid_t pid, nook_err *err)
{
  int status;

  b->init = pid;
  while (waitpid (b->stage1, &status, 0) < 0 && errno == EINTR)
    ;
  b->stage1 = 0;
  b->pidfd = sys_pidfd_open (pid, 0);
  if (b->pidfd < 0)
    return nook_error (err, errno, "pidfd_open %d", (int) pid);
  if (nook_cgroup_create (b->l.spec, o->id, b->rootless, pid, &b->cg, err) < 0)
    return -1;
  return nook_sync_send (b->l.sync_parent, NOOK_SYNC_CGROUP_DONE, 0, err);
}

/* Talk to stage 1 and the init until the init says "created". */
static int
converse (struct birth *b, const struct nook_create_opts *o, nook_err *err)
{
  struct nook_sync_msg msg;

  for (;;)
    {
      if (nook_sync_recv (b->l.sync_parent, &msg, err) < 0)
        return -1;
      switch (msg.type)
        {
        case NOOK_SYNC_MAP_REQUEST:
          if (nook_idmap_write (b->l.spec, b->stage1, b->l.idmap, err) < 0)
            return -1;
          if (nook_sync_send (b->l.sync_parent, NOOK_SYNC_MAPPED, 0, err) < 0)
            return -1;
          break;
        case NOOK_SYNC_PID:
          if (on_init_pid (b, o, msg.value, err) < 0)
            return -1;
          break;
        case NOOK_SYNC_TTY:
          b->master = nook_recv_fd (b->l.sync_parent, err);
          if (b->master < 0)
            return -1;
          break;
        case NOOK_SYNC_NS_FDS:
          if ((b->netns = nook_recv_fd (b->l.sync_parent, err)) < 0
              || (b->userns = nook_recv_fd (b->l.sync_parent, err)) < 0)
            return -1;
          /* The init goes on with the rootfs meanwhile: the caller's network comes up beside it. */
          if (o->on_netns && o->on_netns (o->on_netns_ud, b->netns, b->userns, err) < 0)
            return -1;
          break;
        case NOOK_SYNC_CREATED:
          return 0;
        default:
          return nook_error_input (err, "sync: unexpected record %d", msg.type);
        }
    }
}

static char *
owner_name (void)
{
  struct passwd *pw = getpwuid (geteuid ());
  return pw ? xstrdup (pw->pw_name) : xasprintf ("%d", (int) geteuid ());
}

static int
save_state (struct birth *b, const struct nook_create_opts *o, nook_err *err)
{
  struct nook_state st = { 0 };
  cleanup_free char *created = nook_now_rfc3339 ();
  cleanup_free char *owner = owner_name ();
  json_t *ann = json_object ();
  int ret;

  for (size_t i = 0; i < b->l.spec->n_annotations; i++)
    json_object_set_new (ann, b->l.spec->annotations[i].key, json_string (b->l.spec->annotations[i].value));
  st.id = (char *) o->id;
  st.bundle = b->bundle;
  st.rootfs = b->l.rootfs;
  st.pid = b->init;
  st.created = created;
  st.owner = owner;
  st.rootless = b->rootless;
  st.setgroups_allowed = b->l.setgroups_allowed;
  st.annotations = ann;
  st.cgroup = b->cg ? nook_cgroup_to_json (b->cg) : NULL;
  /* Only a mount namespace we created identifies the container's processes: any other is shared. */
  if (nook_spec_owns_mountns (b->l.spec))
  {
    char path[64];
    struct stat ns;
    snprintf (path, sizeof (path), "/proc/%d/ns/mnt", (int) b->init);
    if (stat (path, &ns) == 0)
      {
        st.mntns_dev = ns.st_dev;
        st.mntns_ino = ns.st_ino;
      }
  }
  if (nook_proc_start_time (b->init, &st.start_time, err) < 0)
    ret = -1;
  else
    ret = nook_state_save (b->statefd, &st, err);
  json_decref (ann);
  json_decref (st.cgroup);
  return ret;
}

static int
copy_config (struct birth *b, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", b->bundle);
  cleanup_free char *text = NULL;
  size_t len;

  if (nook_read_file_at (AT_FDCWD, path, &text, &len, 4 << 20, err) < 0)
    return -1;
  return nook_write_file_atomic (b->statefd, "config.json", text, len, 0600, false, err);
}

/* Everything up to "created".  On failure nothing is left behind. */
static int
birth_create (struct birth *b, const struct nook_runtime_ctx *ctx, const struct nook_create_opts *o, bool attached,
              nook_err *err)
{
  if (prepare (b, ctx, o, attached, err) < 0)
    goto fail;
  if (copy_config (b, err) < 0)
    goto fail;
  b->l.runtime_fds[0] = b->rootfd;
  b->l.runtime_fds[1] = b->statefd;
  b->l.bundle = b->bundle;
  b->stage1 = fork ();
  if (b->stage1 < 0)
    {
      nook_error (err, errno, "fork");
      goto fail;
    }
  if (b->stage1 == 0)
    nook_init_stage1 (&b->l);
  close_fd (&b->l.sync_child);
  close_fd (&b->l.listen_fd);
  if (converse (b, o, err) < 0 || save_state (b, o, err) < 0)
    goto fail;
  if (o->console_socket && b->master >= 0)
    {
      if (nook_console_socket_send (o->console_socket, b->master, err) < 0)
        goto fail;
      close_fd (&b->master);
    }
  if (o->master_out)
    *o->master_out = steal_fd (&b->master);
  if (o->pid_out)
    *o->pid_out = b->init;
  if (o->netns_out)
    *o->netns_out = steal_fd (&b->netns);
  if (o->userns_out)
    *o->userns_out = steal_fd (&b->userns);
  if (o->pid_file && nook_pid_file_write (o->pid_file, b->init, err) < 0)
    goto fail;
  return 0;
fail:
  if (err->status == 0)
    err->status = NOOK_EXIT_ERROR;
  birth_abort (b, o->id);
  return -1;
}

int
nook_container_create (const struct nook_runtime_ctx *ctx, const struct nook_create_opts *opts, nook_err *err)
{
  struct birth b;
  int ret;

  birth_init (&b);
  ret = birth_create (&b, ctx, opts, false, err);
  birth_free (&b);
  return ret;
}

/* After START: EOF on CHANNEL means the process was exec'd (the fd is close-on-exec); an ERROR record
 * carries why it was not. */
/* The init loaded a seccomp filter with a notify listener: hand its fd to the agent named by the config
 * (SPEC, or the config.json saved in STATEFD when NULL), with the container's state. */
static int
pass_notify_fd (int channel, int statefd, const char *id, const struct nook_spec *spec, nook_err *err)
{
  cleanup_close int fd = nook_recv_fd (channel, err);
  cleanup_free char *text = NULL;
  struct nook_spec *own = NULL;
  struct nook_state *st = NULL;
  json_t *state = NULL;
  size_t len;
  int ret = -1;

  if (fd < 0)
    return -1;
  if (spec == NULL)
    {
      if (nook_read_file_at (statefd, "config.json", &text, &len, 4 << 20, err) < 0
          || nook_spec_parse (text, len, "config.json", &own, err) < 0)
        return -1;
      spec = own;
    }
  if (spec->seccomp == NULL)
    nook_error_input (err, "sync: unexpected seccomp notify fd");
  else if (nook_state_load (statefd, id, &st, err) == 0)
    {
      state = nook_state_to_oci (st);
      ret = nook_seccomp_notify_send (spec->seccomp, fd, st->pid, state, err);
    }
  json_decref (state);
  nook_state_free (st);
  nook_spec_free (own);
  return ret;
}

/* Until the init execs (the sync socket closes on exec), passing on a seccomp notify fd on the way.
 * -1: the init failed (it reported why and exits); -2: we failed (the init may be alive: kill it). */
static int
wait_exec (int channel, int statefd, const char *id, const struct nook_spec *spec, nook_err *err)
{
  struct nook_sync_msg msg;
  nook_err e = { 0 };

  while (nook_sync_recv (channel, &msg, &e) == 0)
    {
      if (msg.type != NOOK_SYNC_SECCOMP_FD)
        return nook_error_input (err, "sync: unexpected record %d after start", msg.type);
      if (pass_notify_fd (channel, statefd, id, spec, err) < 0)
        return -2;
    }
  if (e.code == EPIPE)
    return 0;
  *err = e;
  return -1;
}

/* The saved config.json has a process to start (created with `process: null`, only exec can run). */
static bool
has_process (int statefd)
{
  cleanup_free char *text = NULL;
  size_t len;
  nook_err ignored;
  json_t *o;
  bool yes;

  if (nook_read_file_at (statefd, "config.json", &text, &len, 4 << 20, &ignored) < 0)
    return true; /* the init reports it */
  o = json_loadb (text, len, 0, NULL);
  yes = o == NULL || json_is_object (json_object_get (o, "process"));
  json_decref (o);
  return yes;
}

int
nook_container_start (const struct nook_runtime_ctx *ctx, const char *id, nook_err *err)
{
  cleanup_close int rootfd = -1, statefd = -1, conn = -1;
  struct nook_state *st = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int ret = -1;

  rootfd = nook_root_open (ctx->root, err);
  if (rootfd < 0 || (statefd = nook_state_dir_open (rootfd, id, true, err)) < 0)
    return -1;
  if (nook_state_load (statefd, id, &st, err) < 0)
    return -1;
  if (st->status != NOOK_STATUS_CREATED)
    {
      nook_error_input (err, "cannot start container `%s`: it is %s, not created", id, nook_status_name (st->status));
      goto out;
    }
  if (!has_process (statefd))
    {
      nook_error_input (err, "cannot start container `%s`: config.json has no process (use exec)", id);
      goto out;
    }
  snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/start.sock", statefd);
  conn = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (conn < 0 || connect (conn, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    {
      nook_error (err, errno, "connect to container `%s`", id);
      goto out;
    }
  if (nook_sync_send (conn, NOOK_SYNC_START, 0, err) < 0)
    goto out;
  unlinkat (statefd, "start.sock", 0);
  ret = wait_exec (conn, statefd, id, NULL, err);
  if (ret == -2) /* the init waits on a syscall nobody will answer: the container cannot run */
    {
      int pidfd = nook_pidfd_for (st, &(nook_err){ 0 });
      if (pidfd >= 0)
        sys_pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
      close_fd (&pidfd);
    }
  ret = ret < 0 ? -1 : 0;
out:
  nook_state_free (st);
  return ret;
}

static void
destroy_after_run (struct birth *b, const char *id)
{
  nook_err ignored;
  pid_t *pids = NULL;
  size_t n = 0;

  if (b->cg && nook_cgroup_pids (b->cg, &pids, &n, &ignored) == 0)
    for (size_t i = 0; i < n; i++)
      kill (pids[i], SIGKILL);
  free (pids);
  if (b->cg)
    nook_cgroup_destroy (b->cg, &ignored);
  nook_state_dir_remove (b->rootfd, id, &ignored);
}

int
nook_container_run (const struct nook_runtime_ctx *ctx, const struct nook_create_opts *opts, int *status,
                    nook_err *err)
{
  struct birth b;
  int ret = -1, r = 0;

  birth_init (&b);
  if (birth_create (&b, ctx, opts, !opts->detach, err) < 0)
    goto out;
  unlinkat (b.statefd, "start.sock", 0);
  if (nook_sync_send (b.l.sync_parent, NOOK_SYNC_START, 0, err) < 0
      || (r = wait_exec (b.l.sync_parent, b.statefd, opts->id, b.l.spec, err)) < 0)
    {
      if (r == -2)
        kill (b.init, SIGKILL);
      int st = nook_wait_status (b.init, &(nook_err){ 0 });
      if (r != -2 && (err->status == 0 || err->status == NOOK_EXIT_ERROR))
        err->status = st > 0 && st != 255 ? st : NOOK_EXIT_ERROR;
      b.init = 0;
      destroy_after_run (&b, opts->id);
      goto out;
    }
  if (opts->detach)
    {
      *status = 0;
      ret = 0;
      goto out;
    }
  /* Attached: the state lock must not block `state`/`kill` from others while we wait. */
  close_fd (&b.statefd);
  *status = nook_attach_wait (b.init, b.pidfd, b.master, err);
  if (*status >= 0)
    ret = 0;
  if (!opts->keep || ret < 0)
    destroy_after_run (&b, opts->id);
out:
  birth_free (&b);
  return ret;
}
