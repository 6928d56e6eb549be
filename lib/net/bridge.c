/* Root bridge networking: the bridge nook0 (gateway NOOK_BRIDGE_SUBNET .0.1), NAT (firewall.c), an address
 * from ipam.c and a veth pair per container: the host side "nk<12 chars of the id>" enslaved to nook0, the
 * peer NOOK_NET_IFNAME created directly in the container's netns and configured there by a short-lived
 * child that setns()es into it (the caller's own namespaces never change). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

/* What the configuring child sends back through its pipe. */
struct child_report
{
  int rc;
  char mac[18];
  nook_err err;
};

static void
veth_name (const char *id, char out[16])
{
  snprintf (out, 16, "nk%.12s", id);
}

static int
subnet_of (const char *cidr, uint32_t *net, uint32_t *mask)
{
  char buf[32];
  char *slash;
  struct in_addr a;
  int prefix;

  snprintf (buf, sizeof (buf), "%s", cidr);
  slash = strchr (buf, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  prefix = atoi (slash + 1);
  if (inet_pton (AF_INET, buf, &a) != 1 || prefix <= 0 || prefix > 32)
    return -1;
  *mask = 0xffffffffu << (32 - prefix);
  *net = ntohl (a.s_addr) & *mask;
  return 0;
}

/* Another interface with a route overlapping the bridge subnet (not the default route): its name in
 * CONFLICT.  /proc/net/route holds the main table, addresses in network byte order as hex. */
static bool
subnet_taken (char conflict[32])
{
  cleanup_file FILE *f = fopen ("/proc/net/route", "re");
  uint32_t net, mask;
  char line[512];

  if (f == NULL || subnet_of (NOOK_BRIDGE_SUBNET, &net, &mask) < 0 || fgets (line, sizeof (line), f) == NULL)
    return false;
  while (fgets (line, sizeof (line), f))
    {
      char ifname[32];
      unsigned int dst, gw, flags, rmask, refcnt, use, metric;

      if (sscanf (line, "%31s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags, &refcnt, &use, &metric, &rmask) != 8)
        continue;
      dst = ntohl (dst);
      rmask = ntohl (rmask);
      if (rmask == 0 || strcmp (ifname, NOOK_BRIDGE_NAME) == 0)
        continue;
      if ((dst & mask & rmask) == (net & mask & rmask))
        {
          snprintf (conflict, 32, "%s", ifname);
          return true;
        }
    }
  return false;
}

/* nook0 exists, has the gateway address and is up. */
static int
ensure_bridge (const char *gateway, int prefix, nook_err *err)
{
  char conflict[32];
  int index;

  if (nook_nl_link_index (NOOK_BRIDGE_NAME, &index, err) < 0)
    {
      if (err->code != ENODEV)
        return -1;
      if (subnet_taken (conflict))
        return nook_error (err, EADDRINUSE, "bridge `%s`: the subnet %s is already routed through `%s`",
                           NOOK_BRIDGE_NAME, NOOK_BRIDGE_SUBNET, conflict);
      if (nook_nl_bridge_add (NOOK_BRIDGE_NAME, err) < 0)
        return -1;
    }
  if (nook_nl_addr_add (NOOK_BRIDGE_NAME, gateway, prefix, err) < 0 || nook_nl_link_up (NOOK_BRIDGE_NAME, err) < 0)
    return -1;
  return 0;
}

/* In the child, inside the container's netns: lo up, eth0 address + up, default route, its MAC. */
static int
configure_inside (int netns_fd, const struct nook_bridge_att *att, char mac[18], nook_err *err)
{
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return nook_error (err, errno, "setns into the container's network namespace");
  if (nook_nl_link_up ("lo", err) < 0 || nook_nl_addr_add (NOOK_NET_IFNAME, att->ip, att->prefix, err) < 0
      || nook_nl_link_up (NOOK_NET_IFNAME, err) < 0 || nook_nl_route_default (NOOK_NET_IFNAME, att->gateway, err) < 0
      || nook_nl_link_mac (NOOK_NET_IFNAME, mac, err) < 0)
    return -1;
  return 0;
}

static int
read_report (int fd, pid_t pid, struct nook_bridge_att *att, nook_err *err)
{
  struct child_report r;
  int n = nook_read_all (fd, &r, sizeof (r));
  int status = nook_wait_status (pid, err);

  if (status < 0)
    return -1;
  if (n != (int) sizeof (r))
    return nook_error (err, EIO, "configure `%s` in the container (helper exit status %d)", NOOK_NET_IFNAME, status);
  if (r.rc < 0)
    {
      *err = r.err;
      return nook_error_prefix (err, "configure `%s` in the container", NOOK_NET_IFNAME);
    }
  memcpy (att->mac, r.mac, sizeof (att->mac));
  att->mac[sizeof (att->mac) - 1] = '\0';
  return 0;
}

static int
configure_in_netns (int netns_fd, struct nook_bridge_att *att, nook_err *err)
{
  cleanup_close int rd = -1;
  cleanup_close int wr = -1;
  int p[2];
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  rd = p[0];
  wr = p[1];
  pid = fork ();
  if (pid < 0)
    return nook_error (err, errno, "fork");
  if (pid == 0)
    {
      struct child_report r;

      memset (&r, 0, sizeof (r));
      r.rc = configure_inside (netns_fd, att, r.mac, &r.err);
      _exit (nook_write_all (wr, &r, sizeof (r)) < 0 ? 2 : 0);
    }
  close (steal_fd (&wr));
  return read_report (rd, pid, att, err);
}

static int
attach_veth (pid_t pid, struct nook_bridge_att *att, nook_err *err)
{
  char path[64];
  cleanup_close int nsfd = -1;

  snprintf (path, sizeof (path), "/proc/%d/ns/net", (int) pid);
  nsfd = open (path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return nook_error (err, errno, "open `%s`", path);
  if (nook_nl_veth_add (att->veth, NOOK_NET_IFNAME, nsfd, NOOK_BRIDGE_NAME, err) < 0)
    {
      /* A host side left over from an earlier run of this container: replace it once. */
      if (err->code != EEXIST || nook_nl_link_del (att->veth, err) < 0
          || nook_nl_veth_add (att->veth, NOOK_NET_IFNAME, nsfd, NOOK_BRIDGE_NAME, err) < 0)
        return -1;
    }
  return configure_in_netns (nsfd, att, err);
}

int
nook_bridge_attach (struct nook_store *s, const char *id, pid_t pid, struct nook_bridge_att *att, nook_err *err)
{
  nook_err ignored;

  memset (att, 0, sizeof (*att));
  veth_name (id, att->veth);
  if (nook_ipam_allocate (NOOK_NET_STATE_DIR, id, att->ip, &att->prefix, att->gateway, err) < 0)
    return nook_error_prefix (err, "bridge network");
  if (ensure_bridge (att->gateway, att->prefix, err) < 0 || nook_firewall_ensure (err) < 0
      || attach_veth (pid, att, err) < 0)
    {
      nook_nl_link_del (att->veth, &ignored);
      nook_ipam_release (NOOK_NET_STATE_DIR, id, &ignored);
      return nook_error_prefix (err, "bridge network");
    }
  return 0;
}

int
nook_bridge_detach (struct nook_store *s, const char *id, nook_err *err)
{
  char veth[16];
  nook_err second;
  int rc;

  veth_name (id, veth);
  rc = nook_nl_link_del (veth, err);
  if (nook_ipam_release (NOOK_NET_STATE_DIR, id, rc < 0 ? &second : err) < 0)
    rc = -1;
  return rc;
}
