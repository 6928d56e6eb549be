/* inspect (with live state), stop, kill, rm, wait, exec, ps. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/present.h"
#include "manager/ctr_network.h"
#include "manager/ctrstore.h"
#include "manager/ctr_volumes.h"
#include "manager/exec_user.h"
#include "manager/lifecycle_internal.h"
#include "manager/monitor.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "util/syscalls.h"

struct nook_runtime_ctx
nook_mgr_runtime (const struct nook_mgr *m)
{
  return (struct nook_runtime_ctx){ .root = m->runroot };
}

static json_t *
state_of (json_t *record)
{
  json_t *st = json_object_get (record, "State");
  if (st == NULL)
    {
      st = json_object ();
      json_object_set_new (record, "State", st);
    }
  return st;
}

pid_t
nook_ctr_monitor_pid (struct nook_mgr *m, const char *id)
{
  json_t *r = NULL;
  nook_err ignored;
  pid_t pid = 0;

  if (nook_ctr_read (m->store, id, &r, &ignored) == 0)
    pid = (pid_t) json_integer_value (json_object_get (json_object_get (r, "State"), "ConmonPid"));
  json_decref (r);
  return pid;
}

void
nook_ctr_wait_monitor (pid_t pid, int ms)
{
  if (pid <= 0)
    return;
  /* A pidfd turns readable when the process exits (it is not our child): no polling on the run path. */
  cleanup_close int pfd = sys_pidfd_open (pid, 0);
  if (pfd >= 0)
    {
      struct pollfd p = { .fd = pfd, .events = POLLIN };
      while (poll (&p, 1, ms) < 0 && errno == EINTR)
        ;
      return;
    }
  if (errno == ESRCH)
    return;
  for (int waited = 0; pid > 0 && waited < ms && (kill (pid, 0) == 0 || errno == EPERM); waited += 10)
    usleep (10000);
}

bool
nook_ctr_is_running (json_t *record)
{
  const char *s = json_string_value (json_object_get (state_of (record), "Status"));
  return s && strcmp (s, "running") == 0;
}

static int
exit_file_code (struct nook_mgr *m, const char *id, int *code)
{
  cleanup_free char *dir = nook_ctr_dir (m->store, id);
  cleanup_free char *path = xasprintf ("%s/userdata/exit", dir);
  cleanup_free char *text = NULL;
  nook_err ignored;

  if (nook_read_file_at (AT_FDCWD, path, &text, NULL, 64, &ignored) < 0)
    return -1;
  *code = atoi (text);
  return 0;
}

/* A record that says "running" while the runtime says the process is gone: the monitor died too (or has
 * not written yet).  Mark it exited, with the exit file's code when there is one. */
static void
reconcile (struct nook_mgr *m, const char *id, json_t *record)
{
  struct nook_runtime_ctx ctx = nook_mgr_runtime (m);
  json_t *st = state_of (record), *rt = NULL;
  nook_err e = { 0 };
  int code = -1;
  const char *status;

  if (!nook_ctr_is_running (record))
    return;
  /* A live monitor writes the real exit (code, time) itself: only a dead one needs us. */
  pid_t monitor = (pid_t) json_integer_value (json_object_get (st, "ConmonPid"));
  if (monitor > 0 && (kill (monitor, 0) == 0 || errno == EPERM))
    return;
  if (nook_container_state (&ctx, id, &rt, &e) == 0)
    {
      status = json_string_value (json_object_get (rt, "status"));
      bool alive = status && (strcmp (status, "running") == 0 || strcmp (status, "created") == 0);
      json_decref (rt);
      if (alive)
        return;
    }
  if (exit_file_code (m, id, &code) < 0)
    code = json_integer_value (json_object_get (st, "ExitCode"));
  json_object_set_new (st, "Status", json_string ("exited"));
  json_object_set_new (record, "NetworkSettings", nook_ctr_net_settings (NULL));
  json_object_set_new (st, "Running", json_false ());
  json_object_set_new (st, "Pid", json_integer (0));
  json_object_set_new (st, "ExitCode", json_integer (code));
  if (json_object_get (st, "FinishedAt") == NULL
      || strncmp (json_string_value (json_object_get (st, "FinishedAt")) ?: "0001", "0001", 4) == 0)
    {
      char *now = nook_now_rfc3339 ();
      json_object_set_new (st, "FinishedAt", json_string (now));
      free (now);
    }
}

int
nook_ctr_inspect (struct nook_mgr *m, const char *id, json_t **record, nook_err *err)
{
  if (nook_ctr_read (m->store, id, record, err) < 0)
    return -1;
  reconcile (m, id, *record);
  return 0;
}

int
nook_ctr_attach_running (struct nook_mgr *m, const char *id, json_t *record, bool interactive, int *exit_code,
                         nook_err *err)
{
  json_t *nook = json_object_get (record, "Nook");
  return nook_monitor_attach (m->runroot, id, json_is_true (json_object_get (nook, "tty")), interactive,
                              json_string_value (json_object_get (nook, "detach_keys")), exit_code, err);
}

/* Sleep until the container's record may have changed: its directory sees a new record.json (inotify,
 * the store writes it by rename), its monitor exits (pidfd), or at most MS pass (a last resort for a
 * store on a filesystem without inotify). */
static void
wait_record_change (int inotify_fd, pid_t monitor, long ms)
{
  cleanup_close int pfd = monitor > 0 ? sys_pidfd_open (monitor, 0) : -1;
  struct pollfd p[2] = { { .fd = inotify_fd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
  char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));

  if (poll (p, 2, (int) ms) > 0 && (p[0].revents & POLLIN))
    while (read (inotify_fd, buf, sizeof (buf)) > 0)
      ;
}

/* Wait until the container is no longer running (or TIMEOUT_MS passes: returns 1). */
static int
wait_exit (struct nook_mgr *m, const char *id, long timeout_ms, int *code, nook_err *err)
{
  struct timespec start, now;
  cleanup_free char *dir = nook_ctr_dir (m->store, id);
  cleanup_close int ino = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);

  if (ino >= 0)
    inotify_add_watch (ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      json_t *r = NULL;
      if (nook_ctr_inspect (m, id, &r, err) < 0)
        {
          if (err->code != ENOENT)
            return -1;
          nook_err_clear (err); /* removed meanwhile (its --rm monitor): it has exited */
          return 0;
        }
      bool running = nook_ctr_is_running (r);
      pid_t monitor = (pid_t) json_integer_value (json_object_get (state_of (r), "ConmonPid"));
      if (!running && code)
        *code = (int) json_integer_value (json_object_get (state_of (r), "ExitCode"));
      json_decref (r);
      if (!running)
        return 0;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (timeout_ms >= 0 && ms >= timeout_ms)
        return 1;
      long left = timeout_ms >= 0 ? timeout_ms - ms : 1000;
      if (ino < 0)
        left = left < 20 ? left : 20;
      wait_record_change (ino, monitor, left < 1000 ? left : 1000);
    }
}

int
nook_ctr_kill (struct nook_mgr *m, const char *id, int sig, nook_err *err)
{
  struct nook_runtime_ctx ctx = nook_mgr_runtime (m);
  json_t *r = NULL;
  int ret;

  if (nook_ctr_inspect (m, id, &r, err) < 0)
    return -1;
  if (!nook_ctr_is_running (r))
    {
      json_decref (r);
      return nook_error_input (err, "can only kill running containers. %s is in state %s: container state improper",
                               id, json_string_value (json_object_get (state_of (r), "Status")) ?: "unknown");
    }
  json_decref (r);
  ret = nook_container_kill (&ctx, id, sig, false, err);
  return ret;
}

int
nook_ctr_stop (struct nook_mgr *m, const char *id, int timeout, nook_err *err)
{
  struct nook_runtime_ctx ctx = nook_mgr_runtime (m);
  json_t *r = NULL, *nook;
  int sig, code, w;

  if (nook_ctr_inspect (m, id, &r, err) < 0)
    return -1;
  if (!nook_ctr_is_running (r))
    {
      json_decref (r);
      return 0;
    }
  nook = json_object_get (r, "Nook");
  sig = json_integer_value (json_object_get (nook, "stop_signal"));
  if (timeout < 0)
    timeout = json_object_get (nook, "stop_timeout") ? (int) json_integer_value (json_object_get (nook, "stop_timeout")) : 10;
  json_decref (r);
  nook_container_kill (&ctx, id, sig > 0 ? sig : SIGTERM, false, &(nook_err){ 0 });
  w = wait_exit (m, id, (long) timeout * 1000, &code, err);
  if (w < 0)
    return -1;
  if (w == 1)
    {
      if (timeout > 0)
        nook_warn ("StopSignal %s failed to stop container %s in %d seconds, resorting to SIGKILL",
                   nook_signal_name (sig > 0 ? sig : SIGTERM) ?: "SIGTERM", id, timeout);
      nook_container_kill (&ctx, id, SIGKILL, true, &(nook_err){ 0 });
      if (wait_exit (m, id, 10000, &code, err) != 0)
        return nook_error_input (err, "container %s did not stop after SIGKILL", id);
    }
  return 0;
}

int
nook_ctr_remove (struct nook_mgr *m, const char *id, bool force, bool volumes, nook_err *err)
{
  struct nook_runtime_ctx ctx = nook_mgr_runtime (m);
  json_t *r = NULL;
  bool running;

  int ret = -1;

  if (nook_ctr_inspect (m, id, &r, err) < 0)
    return -1;
  running = nook_ctr_is_running (r);
  if (running && !force)
    {
      json_decref (r);
      return nook_error_input (err,
                               "cannot remove container %s as it is running - running or paused containers cannot be "
                               "removed without force: container state improper",
                               id);
    }
  if (running)
    {
      /* The monitor writes the exit into the container's directory after the process is gone: let it
       * finish before the directory goes (a --rm monitor may even remove it first). */
      pid_t monitor = nook_ctr_monitor_pid (m, id);
      if (nook_ctr_stop (m, id, 0, err) < 0)
        goto out;
      nook_ctr_wait_monitor (monitor, 10000);
    }
  nook_container_delete (&ctx, id, true, &(nook_err){ 0 });
  /* What a monitor that died could not release (the bridge address and veth). */
  nook_err net_err = { 0 };
  if (nook_net_cleanup (id, &net_err) < 0)
    nook_warn ("container `%s`: release its network: %s", id, net_err.msg);
  if (nook_ctr_delete (m->store, id, err) < 0)
    {
      nook_err probe = { 0 };
      json_t *gone = NULL;
      if (!running || nook_ctr_read (m->store, id, &gone, &probe) == 0 || probe.code != ENOENT)
        {
          json_decref (gone);
          goto out;
        }
      nook_err_clear (err); /* its --rm monitor removed it meanwhile */
    }
  /* -v (and --rm): the anonymous volumes go with the container; named volumes stay */
  ret = volumes ? nook_ctr_remove_anon_volumes (m->store, r, err) : 0;
out:
  json_decref (r);
  return ret;
}

int
nook_ctr_wait (struct nook_mgr *m, const char *id, int *exit_code, nook_err *err)
{
  return wait_exit (m, id, -1, exit_code, err) < 0 ? -1 : 0;
}

/* A JSON array of strings as a NULL-terminated vector (non-strings skipped). */
static char **
json_strv (json_t *a)
{
  char **v = xcalloc (json_array_size (a) + 1, sizeof (char *));
  size_t i, n = 0;
  json_t *s;

  json_array_foreach (a, i, s)
    if (json_is_string (s))
      v[n++] = xstrdup (json_string_value (s));
  return v;
}

int
nook_ctr_exec (struct nook_mgr *m, const char *id, const struct nook_ctr_exec_opts *o, int *exit_code,
               nook_err *err)
{
  struct nook_runtime_ctx ctx = nook_mgr_runtime (m);
  struct nook_exec_opts eo = { .id = id, .args = o->command, .env = o->env, .cwd = o->workdir, .user = o->user,
                               .tty = o->tty, .detach = o->detach };
  static char *all_caps[] = { "ALL", NULL };
  cleanup_free char *user = NULL;
  cleanup_close int devnull = -1;
  int stdio[3];
  cleanup_strv char **group_add = NULL;
  struct nook_exec_user xu = { 0 };
  json_t *r = NULL;
  bool running;
  pid_t pid;
  int ret;

  if (nook_ctr_inspect (m, id, &r, err) < 0)
    return -1;
  running = nook_ctr_is_running (r);
  pid = (pid_t) json_integer_value (json_object_get (json_object_get (r, "State"), "Pid"));
  group_add = json_strv (json_object_get (json_object_get (r, "HostConfig"), "GroupAdd"));
  json_decref (r);
  if (!running)
    return nook_error_input (err, "can only create exec sessions on running containers: container state improper");
  if (o->privileged)
    eo.caps = all_caps;
  /* podman: without -i the process reads /dev/null; detached it holds none of our stdio (a caller's
   * `$(nook exec -d …)` returns at once) and we print the session's id. */
  if (o->detach || (!o->interactive && !o->tty))
    {
      devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (devnull < 0)
        return nook_error (err, errno, "open `/dev/null`");
      stdio[0] = devnull;
      stdio[1] = o->detach ? devnull : STDOUT_FILENO;
      stdio[2] = o->detach ? devnull : STDERR_FILENO;
      eo.stdio = stdio;
    }
  if (o->detach && o->session_id && nook_ctr_random_id (o->session_id, err) < 0)
    return -1;
  /* --user NAME[:GROUP]: the runtime takes ids, looked up in the container's /etc/passwd; the groups are
     the user's own, never those of the container's process */
  if (o->user && o->user[0] && pid > 0)
    {
      if (nook_exec_user_resolve (pid, o->user, group_add, &xu, err) < 0)
        return -1;
      user = xasprintf ("%u:%u", xu.uid, xu.gid);
      eo.user = user;
      eo.gids = xu.gids;
      eo.n_gids = xu.n_gids;
      eo.set_gids = true;
    }
  ret = nook_container_exec (&ctx, &eo, exit_code, err);
  free (xu.gids);
  return ret;
}
