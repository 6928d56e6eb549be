/* The network of one container: dispatch to the bridge (root), pasta or slirp4netns (user-mode helpers), and
 * the port forwarder; undo in reverse order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/syscalls.h"

struct nook_net
{
  char *id;
  bool attached;      /* bridge: veth and address to undo */
  pid_t helper;       /* pasta or slirp4netns */
  int exit_fd;        /* slirp4netns --exit-fd */
  pid_t forwarder;    /* bridge port forwarder */
  pid_t guard;        /* kills the helper when we die (see start_guard) */
  int guard_fd;       /* its pipe: closing it lets the guard go */
};

/* Close every fd but A and B (both >= 3): a guard must hold none of the monitor's (its READY pipe...). */
static void
keep_only (int a, int b)
{
  unsigned lo = (unsigned) (a < b ? a : b), hi = (unsigned) (a < b ? b : a);

  if (lo > 3)
    sys_close_range (3, lo - 1, 0);
  if (hi > lo + 1)
    sys_close_range (lo + 1, hi - 1, 0);
  sys_close_range (hi + 1, ~0U, 0);
}

/* pasta loses PR_SET_PDEATHSIG when it enters a user namespace (the kernel clears it on a change of
 * credentials), so it would outlive a monitor killed with SIGKILL.  A guard process waits for the end of a
 * pipe only we hold, then kills the helper through a pidfd (no pid reuse race). */
static int
start_guard (struct nook_net *n, nook_err *err)
{
  int p[2];
  cleanup_close int pidfd = sys_pidfd_open (n->helper, 0);

  if (pidfd < 0)
    return nook_error (err, errno, "pidfd_open the network helper");
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  n->guard = fork ();
  if (n->guard < 0)
    {
      close (p[0]);
      close (p[1]);
      return nook_error (err, errno, "fork the helper's guard");
    }
  if (n->guard == 0)
    {
      char c;
      close (p[1]);
      keep_only (p[0], pidfd);
      while (read (p[0], &c, 1) < 0 && errno == EINTR)
        ;
      sys_pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
      _exit (0);
    }
  close (p[0]);
  n->guard_fd = p[1];
  return 0;
}

static void
stop_guard (struct nook_net *n)
{
  if (n->guard_fd >= 0)
    close (n->guard_fd);
  n->guard_fd = -1;
  if (n->guard > 0)
    while (waitpid (n->guard, NULL, 0) < 0 && errno == EINTR)
      ;
  n->guard = 0;
}

static int
setup_bridge (const struct nook_net_req *req, struct nook_net *n, struct nook_net_info *info, nook_err *err)
{
  struct nook_bridge_att att = { 0 };

  if (nook_bridge_attach (req->id, req->netns_fd, &att, err) < 0)
    return -1;
  n->attached = true;
  snprintf (info->ip, sizeof (info->ip), "%s", att.ip);
  snprintf (info->gateway, sizeof (info->gateway), "%s", att.gateway);
  snprintf (info->host_addr, sizeof (info->host_addr), "%s", att.gateway);
  snprintf (info->mac, sizeof (info->mac), "%s", att.mac);
  info->prefix = att.prefix;
  if (req->n_ports > 0 && nook_forward_start (req->ports, req->n_ports, att.ip, &n->forwarder, err) < 0)
    return -1;
  return 0;
}

int
nook_net_setup (const struct nook_net_req *req, struct nook_net **out, struct nook_net_info *info, nook_err *err)
{
  struct nook_net *n = calloc (1, sizeof (*n));
  int ret = 0;

  if (n == NULL)
    return nook_error (err, ENOMEM, "network setup");
  memset (info, 0, sizeof (*info));
  n->id = xstrdup (req->id);
  n->exit_fd = n->guard_fd = -1;
  switch (req->mode)
    {
    case NOOK_NET_PASTA:
      ret = nook_pasta_start (req, &n->helper, info, err);
      if (ret == 0)
        ret = start_guard (n, err);
      break;
    case NOOK_NET_SLIRP:
      ret = nook_slirp_start (req, &n->helper, &n->exit_fd, info, err);
      break;
    case NOOK_NET_BRIDGE:
      ret = setup_bridge (req, n, info, err);
      break;
    default:
      break;   /* none (lo is brought up by the runtime), host, ns:PATH */
    }
  if (ret < 0)
    {
      nook_net_teardown (n);
      *out = NULL;
      return nook_error_prefix (err, "%s network", nook_net_mode_name (req->mode));
    }
  *out = n;
  return 0;
}

void
nook_net_forget_child (struct nook_net *n, pid_t pid)
{
  if (n == NULL || pid <= 0)
    return;
  if (n->helper == pid)
    n->helper = 0;
  if (n->forwarder == pid)
    n->forwarder = 0;
  if (n->guard == pid)
    n->guard = 0;
}

void
nook_net_teardown (struct nook_net *n)
{
  if (n == NULL)
    return;
  nook_net_stop_child (n->forwarder);
  if (n->exit_fd >= 0)
    close (n->exit_fd);
  nook_net_stop_child (n->helper);
  stop_guard (n);
  if (n->attached)
    {
      nook_err ignored = { 0 };
      nook_bridge_detach (n->id, &ignored);
    }
  free (n->id);
  free (n);
}

int
nook_net_cleanup (const char *id, nook_err *err)
{
  /* Only root containers use the bridge; helpers die with their monitor (PR_SET_PDEATHSIG, pasta's guard). */
  if (geteuid () != 0)
    return 0;
  return nook_bridge_detach (id, err);
}
