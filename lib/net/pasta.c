/* pasta (package passt): rootless user-mode networking.  pasta runs in the foreground as our child, joins the
 * user and network namespaces of the container's init, creates the tap NOOK_NET_IFNAME there with a copy of
 * the host's address, gateway and routes, and writes its pid into a pipe (-P /proc/self/fd/3) once ready.
 * The gateway address is mapped to the host's loopback (no --no-map-gw): it is the container's way to the
 * host.  pasta does not exit when the container does: the caller stops it (nook_net_stop_child). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define PASTA_READY_TIMEOUT_MS 10000

/* "[IP/]HOST[-HOSTEND]:CTR[-CTREND]" */
static char *
port_spec (const struct nook_port *p)
{
  unsigned count = p->count ? p->count : 1;
  char host[32], ctr[32];

  if (count > 1)
    {
      snprintf (host, sizeof (host), "%u-%u", p->host_port, p->host_port + count - 1);
      snprintf (ctr, sizeof (ctr), "%u-%u", p->ctr_port, p->ctr_port + count - 1);
    }
  else
    {
      snprintf (host, sizeof (host), "%u", p->host_port);
      snprintf (ctr, sizeof (ctr), "%u", p->ctr_port);
    }
  return xasprintf ("%s%s%s:%s", p->host_ip, p->host_ip[0] ? "/" : "", host, ctr);
}

static void
add_arg (char **argv, size_t *n, const char *a)
{
  argv[(*n)++] = xstrdup (a);
}

/* pasta's command line; the pid pipe is fd 3. */
static char **
pasta_argv (const struct nook_net_req *req)
{
  size_t max = 24 + 2 * req->n_ports;
  char **argv = xcalloc (max, sizeof (char *));
  size_t n = 0;
  add_arg (argv, &n, "pasta");
  add_arg (argv, &n, "--config-net");
  add_arg (argv, &n, "--foreground");
  add_arg (argv, &n, "--quiet");
  add_arg (argv, &n, "--ns-ifname");
  add_arg (argv, &n, NOOK_NET_IFNAME);
  add_arg (argv, &n, "--pid");
  add_arg (argv, &n, "/proc/self/fd/3");
  for (int udp = 0; udp <= 1; udp++)
    {
      bool any = false;
      for (size_t i = 0; i < req->n_ports; i++)
        if (req->ports[i].udp == (bool) udp)
          {
            add_arg (argv, &n, udp ? "-u" : "-t");
            argv[n++] = port_spec (&req->ports[i]);
            any = true;
          }
      if (!any)
        {
          add_arg (argv, &n, udp ? "-u" : "-t");
          add_arg (argv, &n, "none");
        }
    }
  add_arg (argv, &n, "-T");
  add_arg (argv, &n, "none");
  add_arg (argv, &n, "-U");
  add_arg (argv, &n, "none");
  /* The namespaces as inherited fds (4: user, 5: net): the created init's /proc/PID/ns/ is closed to us. */
  add_arg (argv, &n, "--no-netns-quit");
  if (req->userns_fd >= 0)
    {
      add_arg (argv, &n, "--userns");
      add_arg (argv, &n, "/proc/self/fd/4");
    }
  add_arg (argv, &n, "--netns");
  add_arg (argv, &n, "/proc/self/fd/5");
  return argv;
}

/* What the container got: read in its netns; else what pasta copies, the host's default-route interface. */
static void
pasta_info (const struct nook_net_req *req, struct nook_net_info *info)
{
  nook_err ignored = { 0 };

  if (nook_net_ns_iface (req->netns_fd, req->userns_fd, NOOK_NET_IFNAME, info, &ignored) < 0
      && nook_net_ns_iface (-1, -1, NULL, info, &ignored) == 0)
    info->mac[0] = '\0';   /* pasta's tap has a MAC of its own */
  snprintf (info->host_addr, sizeof (info->host_addr), "%s", info->gateway);
}

int
nook_pasta_start (const struct nook_net_req *req, pid_t *helper, struct nook_net_info *info, nook_err *err)
{
  cleanup_strv char **argv = pasta_argv (req);
  cleanup_close int log_fd = nook_net_log_open (req->runroot, req->id, "pasta", err);
  int pipefd[2];

  if (log_fd < 0)
    return -1;
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  cleanup_close int rd = pipefd[0];
  cleanup_close int wr = pipefd[1];

  cleanup_pid pid_t pid = 0;
  int fds[3] = { wr, req->userns_fd >= 0 ? req->userns_fd : req->netns_fd, req->netns_fd };
  if (req->netns_fd < 0)
    return nook_error_input (err, "pasta: no network namespace to configure");
  if (nook_net_spawn (argv, log_fd, fds, 3, &pid, err) < 0)
    return nook_error_prefix (err, "start pasta");
  close (steal_fd (&wr));
  if (nook_net_wait_ready ("pasta", &pid, rd, log_fd, PASTA_READY_TIMEOUT_MS, err) < 0)
    return -1;

  pasta_info (req, info);
  *helper = steal_pid (&pid);
  return 0;
}
