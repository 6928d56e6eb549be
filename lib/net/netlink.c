/* rtnetlink through libmnl: links (bridge, veth pair), addresses, the default route, a link's MAC.
 * Every request goes through nl_talk(): one socket, one request with NLM_F_ACK, the replies run through
 * an optional callback until the kernel's ack (or its error) arrives.  Request buffers start zeroed:
 * libmnl 1.0.4 leaves attribute padding as it found it. */
#include <errno.h>
#include "net/mnl_lib.h"
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net_internal.h"

#define NL_REQ_SIZE 1024 /* every request here is far smaller */

/* Send NLH (NLM_F_ACK added) and read until the ack.  CB (may be NULL) sees the data replies.
 * Returns 0, or -1 with errno set (a NLMSG_ERROR reply gives its error). */
static int
nl_talk (struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  char buf[32768]; /* a link message with its stats can pass 4 KiB */
  struct mnl_socket *nl = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  unsigned int portid;
  int ret, e;

  if (nl == NULL)
    return -1;
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    goto fail;
  portid = mnl_socket_get_portid (nl);
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = (unsigned int) time (NULL);
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    goto fail;
  do
    {
      ret = (int) mnl_socket_recvfrom (nl, buf, sizeof (buf));
      if (ret < 0)
        goto fail;
      ret = mnl_cb_run (buf, ret, nlh->nlmsg_seq, portid, cb, data);
    }
  while (ret > 0);
  if (ret < 0)
    goto fail;
  mnl_socket_close (nl);
  return 0;
fail:
  e = errno;
  mnl_socket_close (nl);
  errno = e;
  return -1;
}

static struct nlmsghdr *
nl_link_msg (char *buf, int type, int flags, struct ifinfomsg **ifm)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof (**ifm));
  (*ifm)->ifi_family = AF_UNSPEC;
  return nlh;
}

int
nook_nl_link_index (const char *ifname, int *index, nook_err *err)
{
  unsigned int i = if_nametoindex (ifname);

  if (i == 0)
    return nook_error (err, errno == ENXIO ? ENODEV : errno, "netlink: find link `%s`", ifname);
  *index = (int) i;
  return 0;
}

int
nook_nl_link_up (const char *ifname, nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = nl_link_msg (buf, RTM_NEWLINK, 0, &ifm);
  int index = 0;

  if (nook_nl_link_index (ifname, &index, err) < 0)
    return -1;
  ifm->ifi_index = index;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  if (nl_talk (nlh, NULL, NULL) < 0)
    return nook_error (err, errno, "netlink: set link `%s` up", ifname);
  return 0;
}

int
nook_nl_link_del (const char *ifname, nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = nl_link_msg (buf, RTM_DELLINK, 0, &ifm);

  mnl_attr_put_strz (nlh, IFLA_IFNAME, ifname);
  if (nl_talk (nlh, NULL, NULL) < 0 && errno != ENODEV)
    return nook_error (err, errno, "netlink: delete link `%s`", ifname);
  return 0;
}

int
nook_nl_bridge_add (const char *ifname, nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = nl_link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
  struct nlattr *info;

  mnl_attr_put_strz (nlh, IFLA_IFNAME, ifname);
  info = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, info);
  if (nl_talk (nlh, NULL, NULL) < 0 && errno != EEXIST)
    return nook_error (err, errno, "netlink: create bridge `%s`", ifname);
  return 0;
}

/* IFLA_INFO_DATA { VETH_INFO_PEER { struct ifinfomsg, IFLA_IFNAME, IFLA_NET_NS_FD } } */
static void
put_veth_peer (struct nlmsghdr *nlh, const char *peer_if, int netns_fd)
{
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  struct nlattr *peer = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifm = mnl_nlmsg_get_payload_tail (nlh);

  memset (pifm, 0, sizeof (*pifm));
  pifm->ifi_family = AF_UNSPEC;
  nlh->nlmsg_len += MNL_ALIGN (sizeof (*pifm));
  mnl_attr_put_strz (nlh, IFLA_IFNAME, peer_if);
  if (netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
  mnl_attr_nest_end (nlh, peer);
  mnl_attr_nest_end (nlh, data);
}

int
nook_nl_veth_add (const char *host_if, const char *peer_if, int netns_fd, const char *master, nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = nl_link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
  struct nlattr *info;
  int master_index = 0;

  if (master && nook_nl_link_index (master, &master_index, err) < 0)
    return -1;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, host_if);
  if (master_index > 0)
    mnl_attr_put_u32 (nlh, IFLA_MASTER, (uint32_t) master_index);
  info = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  put_veth_peer (nlh, peer_if, netns_fd);
  mnl_attr_nest_end (nlh, info);
  if (nl_talk (nlh, NULL, NULL) < 0)
    return nook_error (err, errno, "netlink: create veth `%s`", host_if);
  return 0;
}

int
nook_nl_addr_add (const char *ifname, const char *ip, int prefix, nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct ifaddrmsg *ifa;
  struct in_addr a;
  int index = 0;

  if (inet_pton (AF_INET, ip, &a) != 1 || prefix < 0 || prefix > 32)
    return nook_error_input (err, "netlink: invalid IPv4 address `%s/%d`", ip, prefix);
  if (nook_nl_link_index (ifname, &index, err) < 0)
    return -1;
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  ifa = mnl_nlmsg_put_extra_header (nlh, sizeof (*ifa));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char) prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned int) index;
  mnl_attr_put (nlh, IFA_LOCAL, sizeof (a), &a);
  mnl_attr_put (nlh, IFA_ADDRESS, sizeof (a), &a);
  if (nl_talk (nlh, NULL, NULL) < 0 && errno != EEXIST)
    return nook_error (err, errno, "netlink: add address `%s/%d` to `%s`", ip, prefix, ifname);
  return 0;
}

int
nook_nl_route_default (const char *ifname, const char *gateway, nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct rtmsg *rtm;
  struct in_addr gw;
  int index = 0;

  if (inet_pton (AF_INET, gateway, &gw) != 1)
    return nook_error_input (err, "netlink: invalid gateway `%s`", gateway);
  if (nook_nl_link_index (ifname, &index, err) < 0)
    return -1;
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  rtm = mnl_nlmsg_put_extra_header (nlh, sizeof (*rtm));
  rtm->rtm_family = AF_INET;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put (nlh, RTA_GATEWAY, sizeof (gw), &gw);
  mnl_attr_put_u32 (nlh, RTA_OIF, (uint32_t) index);
  if (nl_talk (nlh, NULL, NULL) < 0 && errno != EEXIST)
    return nook_error (err, errno, "netlink: add default route via `%s` on `%s`", gateway, ifname);
  return 0;
}

static int
mac_attr_cb (const struct nlattr *attr, void *data)
{
  if (mnl_attr_get_type (attr) == IFLA_ADDRESS && mnl_attr_get_payload_len (attr) == 6)
    {
      const unsigned char *m = mnl_attr_get_payload (attr);
      snprintf (data, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    }
  return MNL_CB_OK;
}

static int
mac_msg_cb (const struct nlmsghdr *nlh, void *data)
{
  if (nlh->nlmsg_type == RTM_NEWLINK)
    mnl_attr_parse (nlh, sizeof (struct ifinfomsg), mac_attr_cb, data);
  return MNL_CB_OK;
}

int
nook_nl_link_mac (const char *ifname, char mac[18], nook_err *err)
{
  char buf[NL_REQ_SIZE] = { 0 };
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = nl_link_msg (buf, RTM_GETLINK, 0, &ifm);

  mac[0] = '\0';
  mnl_attr_put_strz (nlh, IFLA_IFNAME, ifname);
  if (nl_talk (nlh, mac_msg_cb, mac) < 0)
    return nook_error (err, errno, "netlink: read link `%s`", ifname);
  if (mac[0] == '\0')
    return nook_error (err, ENODATA, "netlink: link `%s` has no MAC address", ifname);
  return 0;
}
