/* The per-container monitor: create and start the runtime container with our pipes (or its pty master),
 * record the state, pump the I/O (monitor_io.c), record the exit, clean up. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/ctr_network.h"
#include "manager/ctr_volumes.h"
#include "manager/ctrstore.h"
#include "manager/monitor_internal.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strutil.h"

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* The monitor runs in its own process: start from default signal handling (the container's init inherits
 * dispositions and the mask from us), and make sure 0, 1, 2 are open so that our pipes never land there. */
static void
reset_process (void)
{
  sigset_t none;

  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int fd = 0; fd < 3; fd++)
    if (fcntl (fd, F_GETFD) < 0)
      {
        int null = open ("/dev/null", O_RDWR);
        if (null >= 0 && null != fd)
          {
            dup2 (null, fd);
            close (null);
          }
      }
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static void
mon_init (struct mon *m, const struct nook_monitor_opts *o)
{
  memset (m, 0, sizeof (*m));
  m->o = o;
  m->userdata_fd = m->log_fd = m->out_fd = m->err_fd = m->in_fd = m->master = m->listen_fd = m->sigfd = -1;
  m->mntns_fd = m->netns_fd = m->userns_fd = -1;
  m->ready_fd = o->ready_fd;
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    m->clients[i].fd = -1;
}

static void
mon_free (struct mon *m)
{
  nook_ctr_net_down (&m->net);
  close_fd (&m->userdata_fd);
  close_fd (&m->log_fd);
  if (m->out_fd != m->master)
    close_fd (&m->out_fd);
  close_fd (&m->err_fd);
  if (m->in_fd != m->master)
    close_fd (&m->in_fd);
  close_fd (&m->master);
  close_fd (&m->listen_fd);
  close_fd (&m->sigfd);
  close_fd (&m->mntns_fd);
  close_fd (&m->netns_fd);
  close_fd (&m->userns_fd);
  close_fd (&m->ready_fd);
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    {
      close_fd (&m->clients[i].fd);
      nook_buf_free (&m->clients[i].out);
      nook_buf_free (&m->clients[i].in);
    }
  nook_buf_free (&m->stdin_q);
  free (m->ctr_dir);
}

/* ---- the record ---- */

typedef void (*state_fn) (json_t *rec, json_t *state, void *arg);

static int
record_update (struct mon *m, state_fn fn, void *arg, nook_err *err)
{
  cleanup_close int lock = nook_ctr_lock (m->o->store, m->o->id, err);
  json_t *rec = NULL, *st;
  int ret;

  if (lock < 0 || nook_ctr_read (m->o->store, m->o->id, &rec, err) < 0)
    return -1;
  st = json_object_get (rec, "State");
  if (!json_is_object (st))
    {
      st = json_object ();
      json_object_set_new (rec, "State", st);
    }
  fn (rec, st, arg);
  ret = nook_ctr_write (m->o->store, m->o->id, rec, err);
  json_decref (rec);
  return ret;
}

static void
record_warn (struct mon *m, state_fn fn, void *arg)
{
  nook_err e = { 0 };
  if (record_update (m, fn, arg, &e) < 0)
    nook_warn ("container `%s`: update the record: %s", m->o->id, e.msg);
}

static void
set_now (json_t *st, const char *key)
{
  char ts[40];
  nook_log_format_ts (nook_log_now_ns (), ts, sizeof (ts));
  json_object_set_new (st, key, json_string (ts));
}

static void
state_running (json_t *rec, json_t *st, void *arg)
{
  struct mon *m = arg;

  json_object_set_new (rec, "NetworkSettings", nook_ctr_net_settings (&m->net));
  json_object_set_new (st, "Status", json_string ("running"));
  json_object_set_new (st, "Running", json_true ());
  json_object_set_new (st, "Paused", json_false ());
  json_object_set_new (st, "Pid", json_integer (m->pid));
  json_object_set_new (st, "ConmonPid", json_integer (getpid ()));
  json_object_set_new (st, "ExitCode", json_integer (0));
  json_object_set_new (st, "Error", json_string (""));
  set_now (st, "StartedAt");
  json_object_set_new (st, "FinishedAt", json_string ("0001-01-01T00:00:00Z"));
}

static void
state_exited (json_t *rec, json_t *st, void *arg)
{
  struct mon *m = arg;

  json_object_set_new (rec, "NetworkSettings", nook_ctr_net_settings (NULL));
  json_object_set_new (st, "Status", json_string ("exited"));
  json_object_set_new (st, "Running", json_false ());
  json_object_set_new (st, "Pid", json_integer (0));
  json_object_set_new (st, "ConmonPid", json_integer (0));
  json_object_set_new (st, "ExitCode", json_integer (m->status));
  set_now (st, "FinishedAt");
}

static void
state_failed (json_t *rec, json_t *st, void *arg)
{
  const nook_err *e = arg;

  json_object_set_new (st, "Error", json_string (e->msg));
  if (e->status == 126 || e->status == 127)
    json_object_set_new (st, "ExitCode", json_integer (e->status));
}

/* ---- setup ---- */

static int
open_userdata (struct mon *m, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/userdata", m->ctr_dir);

  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", path);
  m->userdata_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->userdata_fd < 0)
    return nook_error (err, errno, "open `%s`", path);
  if (unlinkat (m->userdata_fd, "exit", 0) < 0 && errno != ENOENT)
    return nook_error (err, errno, "remove `%s/exit`", path);
  m->log_fd = openat (m->userdata_fd, "ctr.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (m->log_fd < 0)
    return nook_error (err, errno, "open `%s/ctr.log`", path);
  return 0;
}

static int
set_nonblock (int fd, nook_err *err)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return nook_error (err, errno, "fcntl O_NONBLOCK");
  return 0;
}

/* The container's ends go to STDIO; ours stay in M. */
static int
make_pipes (struct mon *m, int stdio[3], nook_err *err)
{
  int p[2];

  if (m->o->interactive)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return nook_error (err, errno, "pipe");
      stdio[0] = p[0];
      m->in_fd = p[1];
    }
  else if ((stdio[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
    return nook_error (err, errno, "open /dev/null");
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  m->out_fd = p[0];
  stdio[1] = p[1];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  m->err_fd = p[0];
  stdio[2] = p[1];
  return 0;
}

static bool
same_ns (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The network, from the runtime's create as soon as the container's netns exists (see on_netns). */
static int
net_up (void *ud, int netns_fd, int userns_fd, nook_err *err)
{
  struct mon *m = ud;

  if (userns_fd >= 0 && same_ns (userns_fd, "/proc/self/ns/user"))
    userns_fd = -1; /* no user namespace of its own (root): nothing to join */
  if (nook_ctr_net_up (m->o->store, m->o->id, m->o->runroot, m->o->net, netns_fd, userns_fd, m->userdata_fd,
                       &m->net, err) < 0)
    return -1;
  m->net_up = true;
  return 0;
}

static int
create_container (struct mon *m, nook_err *err)
{
  struct nook_runtime_ctx ctx = { .root = m->o->runroot };
  int stdio[3] = { -1, -1, -1 };
  struct nook_create_opts co = {
    .id = m->o->id, .bundle = m->ctr_dir, .overlay = m->o->overlay, .pid_out = &m->pid,
    .netns_out = &m->netns_fd, .userns_out = &m->userns_fd, .on_netns = net_up, .on_netns_ud = m,
  };
  int ret = -1;

  if (m->o->tty)
    co.master_out = &m->master;
  else if (make_pipes (m, stdio, err) < 0)
    goto out;
  else
    co.stdio = stdio;
  ret = nook_container_create (&ctx, &co, err);
  if (ret == 0 && m->userns_fd >= 0 && same_ns (m->userns_fd, "/proc/self/ns/user"))
    close_fd (&m->userns_fd);   /* no user namespace of its own (root): nothing to join */
  if (ret == 0)
    {
      char path[64];
      snprintf (path, sizeof (path), "/proc/%d/ns/mnt", (int) m->pid);
      m->mntns_fd = open (path, O_RDONLY | O_CLOEXEC);
    }
out:
  for (int i = 0; i < 3; i++)
    close_fd (&stdio[i]);
  if (ret < 0)
    return -1;
  if (m->o->tty)
    {
      if (m->master < 0)
        return nook_error_input (err, "the runtime gave no terminal for container `%s`", m->o->id);
      m->out_fd = m->master;
      m->in_fd = m->o->interactive ? m->master : -1;
      return set_nonblock (m->master, err);
    }
  if (set_nonblock (m->out_fd, err) < 0 || set_nonblock (m->err_fd, err) < 0)
    return -1;
  return m->in_fd >= 0 ? set_nonblock (m->in_fd, err) : 0;
}

static int
block_signals (struct mon *m, nook_err *err)
{
  static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGWINCH };
  sigset_t set;

  sigemptyset (&set);
  for (size_t i = 0; i < sizeof (sigs) / sizeof (sigs[0]); i++)
    sigaddset (&set, sigs[i]);
  if (sigprocmask (SIG_BLOCK, &set, &m->oldmask) < 0)
    return nook_error (err, errno, "sigprocmask");
  m->sigfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (m->sigfd < 0)
    return nook_error (err, errno, "signalfd");
  return 0;
}

/* Kill and reap a container that will not run, and remove its runtime state. */
static void
abandon (struct mon *m)
{
  struct nook_runtime_ctx ctx = { .root = m->o->runroot };
  nook_err ignored;
  int st;

  nook_container_delete (&ctx, m->o->id, true, &ignored);
  if (m->pid > 0)
    while (waitpid (m->pid, &st, 0) < 0 && errno == EINTR)
      ;
  m->pid = 0;
}

static void
append_msg (nook_err *err, const char *text)
{
  strncat (err->msg, text, sizeof (err->msg) - strlen (err->msg) - 1);
}

/* The start failed: one line, podman's wording. */
static void
failure_message (nook_err *err)
{
  if (err->status == 0)
    err->status = NOOK_EXIT_ERROR;
  /* podman's wording, which scripts match. */
  if (err->status == 127 && strstr (err->msg, "OCI runtime") == NULL)
    append_msg (err, ": OCI runtime attempted to invoke a command that was not found");
  else if (err->status == 126 && strstr (err->msg, "OCI") == NULL)
    append_msg (err, ": OCI permission denied");
  for (char *p = err->msg; *p; p++)
    if (*p == '\n')
      *p = ' ';
}

/* Tell the CLI: on READY_FD when it still waits there, else through the attached client(s). */
static void
ready_error (struct mon *m, nook_err *err)
{
  char line[NOOK_ERR_MSG_MAX + 32];
  int n;

  if (m->ready_fd >= 0)
    {
      n = snprintf (line, sizeof (line), "err %d %s\n", err->status, err->msg);
      nook_write_all (m->ready_fd, line, (size_t) n < sizeof (line) ? (size_t) n : sizeof (line) - 1);
    }
  snprintf (line, sizeof (line), "%d %s", err->status, err->msg);
  mon_finish_clients (m, NOOK_ATTACH_FAILED, line);
}

static void
ready_ok (struct mon *m)
{
  if (m->ready_fd < 0)
    return;
  nook_write_all (m->ready_fd, "ok\n", 3);
  close_fd (&m->ready_fd);
}

/* The container's init is forked during the create and keeps a copy of every fd we have until it execs:
 * the CLI reading READY_FD to its end would wait for the start.  So the create runs with READY_FD parked
 * in flight in a socket of ours (an fd in flight is in nobody's table). */
static int
park_ready (struct mon *m, int sv[2], nook_err *err)
{
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return nook_error (err, errno, "socketpair");
  if (nook_send_fd (sv[0], m->ready_fd, "ready", err) < 0)
    return -1;
  close_fd (&m->ready_fd);
  return 0;
}

static int
unpark_ready (struct mon *m, int sv[2], nook_err *err)
{
  m->ready_fd = nook_recv_fd (sv[1], err);
  close_fd (&sv[0]);
  close_fd (&sv[1]);
  return m->ready_fd < 0 ? -1 : 0;
}

static int
create_parked (struct mon *m, nook_err *err)
{
  int sv[2] = { -1, -1 }, ret;

  if (m->ready_fd >= 0 && park_ready (m, sv, err) < 0)
    {
      close_fd (&sv[0]);
      close_fd (&sv[1]);
      return -1;
    }
  ret = create_container (m, err);
  if (sv[0] >= 0 && unpark_ready (m, sv, ret < 0 ? &(nook_err){ 0 } : err) < 0)
    {
      if (ret == 0)
        abandon (m);
      return -1;
    }
  return ret;
}

/* Create, listen, (WAIT_ATTACH: report ready, wait for the first client,) start.  On failure nothing runs
 * and the record carries the error. */
static int
bring_up (struct mon *m, nook_err *err)
{
  struct nook_runtime_ctx ctx = { .root = m->o->runroot };

  if (open_userdata (m, err) < 0 || create_parked (m, err) < 0)
    return -1;
  /* No new netns (host, ns:PATH): on_netns was not called; the setup has nothing to wait for. */
  if (!m->net_up && net_up (m, m->netns_fd, m->userns_fd, err) < 0)
    {
      abandon (m);
      return -1;
    }
  close_fd (&m->netns_fd);
  close_fd (&m->userns_fd);
  if (block_signals (m, err) < 0 || mon_listen (m, err) < 0)
    {
      abandon (m);
      return -1;
    }
  if (m->o->wait_attach)
    {
      ready_ok (m);
      mon_wait_first_client (m, MON_WAIT_ATTACH_MS);
    }
  if (nook_container_start (&ctx, m->o->id, err) < 0)
    {
      abandon (m);
      return -1;
    }
  return 0;
}

/* ---- exit ---- */

static void
write_exit_file (struct mon *m)
{
  char buf[32];
  nook_err e = { 0 };
  int n = snprintf (buf, sizeof (buf), "%d", m->status);

  if (nook_write_file_atomic (m->userdata_fd, "exit", buf, (size_t) n, 0600, false, &e) < 0)
    nook_warn ("container `%s`: %s", m->o->id, e.msg);
}

/* --rm: the container and its anonymous volumes go (named volumes stay). */
static void
remove_container (struct mon *m)
{
  json_t *rec = NULL;
  nook_err e = { 0 };

  if (nook_ctr_read (m->o->store, m->o->id, &rec, &e) < 0)
    rec = NULL;
  if (nook_ctr_delete (m->o->store, m->o->id, &e) < 0)
    nook_warn ("container `%s`: remove: %s", m->o->id, e.msg);
  else if (rec && nook_ctr_remove_anon_volumes (m->o->store, rec, &e) < 0)
    nook_warn ("container `%s`: remove its anonymous volumes: %s", m->o->id, e.msg);
  json_decref (rec);
}

static void
after_exit (struct mon *m)
{
  struct nook_runtime_ctx ctx = { .root = m->o->runroot };
  nook_err e = { 0 };
  char code[16];

  nook_ctr_net_down (&m->net);
  write_exit_file (m);
  record_warn (m, state_exited, m);
  if (nook_container_delete (&ctx, m->o->id, true, &e) < 0)
    nook_warn ("container `%s`: delete the runtime state: %s", m->o->id, e.msg);
  if (m->o->rm)
    remove_container (m);
  snprintf (code, sizeof (code), "%d", m->status);
  mon_finish_clients (m, NOOK_ATTACH_EXIT, code);
}

int
nook_monitor_run (const struct nook_monitor_opts *o, int *exit_code, nook_err *err)
{
  struct mon m;
  int ret = -1;

  *exit_code = -1;
  reset_process ();
  mon_init (&m, o);
  m.ctr_dir = nook_ctr_dir (o->store, o->id);
  if (bring_up (&m, err) < 0)
    {
      failure_message (err);
      record_warn (&m, state_failed, err);
      ready_error (&m, err);
      goto out;
    }
  record_warn (&m, state_running, &m);
  ready_ok (&m);
  if (mon_loop (&m, err) < 0)
    {
      nook_warn ("container `%s`: monitor: %s", o->id, err->msg);
      kill (m.pid, SIGKILL);
      if (!m.exited)
        m.status = nook_wait_status (m.pid, err);
    }
  *exit_code = m.status;
  after_exit (&m);
  ret = 0;
out:
  if (m.sigfd >= 0)
    sigprocmask (SIG_SETMASK, &m.oldmask, NULL);
  mon_free (&m);
  return ret;
}
