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

#include "net/mnl_lib.h"
#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

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

/* In a child inside the container's netns (nook_net_in_ns): lo up, eth0 address + up, default route; OUT
 * gets its MAC. */
static int
configure_inside (const void *arg, void *out, nook_err *err)
{
  const struct nook_bridge_att *att = arg;

  if (nook_nl_link_up ("lo", err) < 0 || nook_nl_addr_add (NOOK_NET_IFNAME, att->ip, att->prefix, err) < 0
      || nook_nl_link_up (NOOK_NET_IFNAME, err) < 0 || nook_nl_route_default (NOOK_NET_IFNAME, att->gateway, err) < 0
      || nook_nl_link_mac (NOOK_NET_IFNAME, out, err) < 0)
    return nook_error_prefix (err, "configure `%s` in the container", NOOK_NET_IFNAME);
  return 0;
}

static int
attach_veth (int netns_fd, struct nook_bridge_att *att, nook_err *err)
{
  char mac[18] = "";

  if (nook_nl_veth_add (att->veth, NOOK_NET_IFNAME, netns_fd, NOOK_BRIDGE_NAME, err) < 0)
    {
      /* A host side left over from an earlier run of this container: replace it once. */
      if (err->code != EEXIST || nook_nl_link_del (att->veth, err) < 0
          || nook_nl_veth_add (att->veth, NOOK_NET_IFNAME, netns_fd, NOOK_BRIDGE_NAME, err) < 0)
        return -1;
    }
  if (nook_net_in_ns (netns_fd, -1, configure_inside, att, mac, sizeof (mac), err) < 0)
    return -1;
  memcpy (att->mac, mac, sizeof (att->mac));
  att->mac[sizeof (att->mac) - 1] = '\0';
  return 0;
}

int
nook_bridge_attach (const char *id, int netns_fd, struct nook_bridge_att *att, nook_err *err)
{
  nook_err ignored;

  memset (att, 0, sizeof (*att));
  if (nook_mnl_load (err) < 0)
    return -1;
  veth_name (id, att->veth);
  if (nook_ipam_allocate (NOOK_NET_STATE_DIR, id, att->ip, &att->prefix, att->gateway, err) < 0)
    return nook_error_prefix (err, "bridge network");
  if (ensure_bridge (att->gateway, att->prefix, err) < 0 || nook_firewall_ensure (err) < 0
      || attach_veth (netns_fd, att, err) < 0)
    {
      nook_nl_link_del (att->veth, &ignored);
      nook_ipam_release (NOOK_NET_STATE_DIR, id, &ignored);
      return nook_error_prefix (err, "bridge network");
    }
  return 0;
}

int
nook_bridge_detach (const char *id, nook_err *err)
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
