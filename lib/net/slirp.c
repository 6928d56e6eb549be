/* slirp4netns: rootless user-mode networking.  slirp4netns runs as our child, joins the user and network
 * namespaces of the container's init (PID form: the one that works, with --enable-sandbox, from the host
 * user namespace), creates and configures NOOK_NET_IFNAME (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3),
 * says "1" on --ready-fd, and exits when the write end of its --exit-fd pipe closes.  The host's loopback
 * stays reachable as 10.0.2.2 (no --disable-host-loopback).  Published ports: one add_hostfwd request per
 * port on its API socket RUNROOT/<id>/slirp4netns.sock. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define SLIRP_READY_TIMEOUT_MS 10000
#define SLIRP_IP "10.0.2.100"
#define SLIRP_PREFIX 24
#define API_SOCKET "slirp4netns.sock"
#define SLIRP_GATEWAY "10.0.2.2"

/* slirp4netns' command line: ready pipe fd 3, exit pipe fd 4. */
static char **
slirp_argv (const struct nook_net_req *req, const char *api_socket)
{
  char **argv = xcalloc (16, sizeof (char *));
  size_t n = 0;

  argv[n++] = xstrdup ("slirp4netns");
  argv[n++] = xstrdup ("--configure");
  argv[n++] = xasprintf ("--mtu=%d", NOOK_NET_MTU);
  argv[n++] = xstrdup ("--ready-fd=3");
  argv[n++] = xstrdup ("--exit-fd=4");
  /* (--enable-sandbox fails with --userns-path in slirp4netns 1.2: "setegid(0)") */
  argv[n++] = xstrdup ("--enable-seccomp");
  if (api_socket)
    argv[n++] = xasprintf ("--api-socket=%s", api_socket);
  /* The namespaces as inherited fds (5: user, 6: net): the created init's /proc/PID/ns/ is closed to us. */
  if (req->userns_fd >= 0)
    argv[n++] = xstrdup ("--userns-path=/proc/self/fd/5");
  argv[n++] = xstrdup ("--netns-type=path");
  argv[n++] = xstrdup ("/proc/self/fd/6");
  argv[n++] = xstrdup (NOOK_NET_IFNAME);
  return argv;
}

/* One request on the API socket; an {"error": {"desc": ...}} reply is the error. */
static int
api_call (const char *path, json_t *request, nook_err *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = 5 };
  cleanup_free char *text = json_dumps (request, JSON_COMPACT);
  char reply[4096];
  int n = 0;

  snprintf (addr.sun_path, sizeof (addr.sun_path), "%s", path);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error (err, errno, "socket");
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return nook_error (err, errno, "connect `%s`", path);
  if (nook_write_all (fd, text, strlen (text)) < 0)
    return nook_error (err, errno, "write `%s`", path);
  shutdown (fd, SHUT_WR);
  n = nook_read_all (fd, reply, sizeof (reply) - 1);
  if (n < 0)
    return nook_error (err, errno, "read `%s`", path);
  reply[n] = '\0';

  json_error_t jerr;
  json_t *root = json_loads (reply, 0, &jerr);
  json_t *error = json_object_get (root, "error");
  int rc = 0;
  if (root == NULL || !json_is_object (root))
    rc = nook_error_input (err, "slirp4netns: unexpected reply `%s`", reply);
  else if (error)
    {
      const char *desc = json_string_value (json_object_get (error, "desc"));
      rc = nook_error (err, 0, "slirp4netns: %s", desc ? desc : reply);
      err->code = EIO;
    }
  json_decref (root);
  return rc;
}

static int
add_hostfwd (const char *api, const struct nook_port *p, nook_err *err)
{
  unsigned count = p->count ? p->count : 1;
  const char *proto = p->udp ? "udp" : "tcp";

  for (unsigned i = 0; i < count; i++)
    {
      json_t *req = json_pack ("{s:s, s:{s:s, s:s, s:i, s:i}}", "execute", "add_hostfwd", "arguments", "proto",
                               proto, "host_addr", p->host_ip[0] ? p->host_ip : "0.0.0.0", "host_port",
                               (int) (p->host_port + i), "guest_port", (int) (p->ctr_port + i));
      int rc = api_call (api, req, err);
      json_decref (req);
      if (rc < 0)
        return nook_error_prefix (err, "publish %s port %u to %u", proto, p->host_port + i, p->ctr_port + i);
    }
  return 0;
}

/* RUNROOT/<id>/slirp4netns.sock, or NULL (with no ports: no API socket). */
static int
api_path (const struct nook_net_req *req, int *dirfd, char **out, nook_err *err)
{
  *out = NULL;
  *dirfd = -1;
  if (req->n_ports == 0)
    return 0;
  if (req->runroot == NULL || req->id == NULL)
    return nook_error_input (err, "slirp4netns: no run directory for the API socket");
  cleanup_free char *dir = xasprintf ("%s/%s", req->runroot, req->id);
  if (nook_mkdir_p (dir, 0700, err) < 0)
    return -1;
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error (err, errno, "open `%s`", dir);
  if (unlinkat (dfd, API_SOCKET, 0) < 0 && errno != ENOENT)
    return nook_error (err, errno, "unlink `%s/" API_SOCKET "`", dir);
  *dirfd = steal_fd (&dfd);
  /* A sockaddr_un holds 108 bytes, less than a run directory may take: both sides reach the socket
   * through the directory's fd (slirp4netns: its fd 7). */
  *out = xstrdup ("/proc/self/fd/7/" API_SOCKET);
  return 0;
}

static void
slirp_info (const struct nook_net_req *req, struct nook_net_info *info)
{
  nook_err ignored = { 0 };

  if (nook_net_ns_iface (req->netns_fd, req->userns_fd, NOOK_NET_IFNAME, info, &ignored) < 0)
    {
      snprintf (info->ip, sizeof (info->ip), "%s", SLIRP_IP);
      info->prefix = SLIRP_PREFIX;
      snprintf (info->gateway, sizeof (info->gateway), "%s", SLIRP_GATEWAY);
      info->mac[0] = '\0';
    }
  snprintf (info->host_addr, sizeof (info->host_addr), "%s", SLIRP_GATEWAY);
}

int
nook_slirp_start (const struct nook_net_req *req, pid_t *helper, int *exit_fd, struct nook_net_info *info,
                  nook_err *err)
{
  cleanup_free char *api = NULL, *api_here = NULL;
  cleanup_close int api_dir = -1;
  int ready[2], quit[2];

  if (api_path (req, &api_dir, &api, err) < 0)
    return -1;
  if (api_dir >= 0)
    api_here = xasprintf ("/proc/self/fd/%d/" API_SOCKET, api_dir);
  cleanup_strv char **argv = slirp_argv (req, api);
  cleanup_close int log_fd = nook_net_log_open (req->runroot, req->id, "slirp4netns", err);
  if (log_fd < 0)
    return -1;
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  cleanup_close int ready_rd = ready[0];
  cleanup_close int ready_wr = ready[1];
  if (pipe2 (quit, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  cleanup_close int quit_rd = quit[0];
  cleanup_close int quit_wr = quit[1];

  cleanup_pid pid_t pid = 0;
  int fds[5] = { ready_wr, quit_rd, req->userns_fd >= 0 ? req->userns_fd : req->netns_fd, req->netns_fd, api_dir };
  if (req->netns_fd < 0)
    return nook_error_input (err, "slirp4netns: no network namespace to configure");
  if (nook_net_spawn (argv, log_fd, fds, api_dir >= 0 ? 5 : 4, &pid, err) < 0)
    return nook_error_prefix (err, "start slirp4netns");
  close (steal_fd (&ready_wr));
  close (steal_fd (&quit_rd));
  if (nook_net_wait_ready ("slirp4netns", &pid, ready_rd, log_fd, SLIRP_READY_TIMEOUT_MS, err) < 0)
    return -1;

  for (size_t i = 0; i < req->n_ports; i++)
    if (add_hostfwd (api_here, &req->ports[i], err) < 0)
      return -1;

  slirp_info (req, info);
  *exit_fd = steal_fd (&quit_wr);
  *helper = steal_pid (&pid);
  return 0;
}
