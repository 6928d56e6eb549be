/* Internals of lib/net: the pieces net.c puts together.  See net.h for the modes and the life cycle. */
#ifndef NOOK_NET_NET_INTERNAL_H
#define NOOK_NET_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net/net.h"

/* ---- netlink.c (libmnl, rtnetlink) ----
 * Every function works in the network namespace of the calling thread; NETNS_FD >= 0 variants fork a child
 * that setns()es into it first (root only: the monitor of a root container). */
int nook_nl_link_index (const char *ifname, int *index, nook_err *err);      /* ENODEV when missing */
int nook_nl_link_up (const char *ifname, nook_err *err);
int nook_nl_link_del (const char *ifname, nook_err *err);                    /* missing: 0 */
int nook_nl_bridge_add (const char *ifname, nook_err *err);                  /* exists: 0 */
/* A veth pair HOST_IF <-> PEER_IF, the peer created directly in the netns NETNS_FD, HOST_IF enslaved to the
 * bridge MASTER and up. */
int nook_nl_veth_add (const char *host_if, const char *peer_if, int netns_fd, const char *master, nook_err *err);
int nook_nl_addr_add (const char *ifname, const char *ip, int prefix, nook_err *err);  /* exists: 0 */
int nook_nl_route_default (const char *ifname, const char *gateway, nook_err *err);
int nook_nl_link_mac (const char *ifname, char mac[18], nook_err *err);

/* ---- ipam.c: addresses of the bridge network, host-wide like the bridge (every store's root containers
 * share it): DIR/nook0.json, DIR = NOOK_NET_STATE_DIR (tmpfs: gone with the bridge at reboot); locked,
 * temp + rename:
 *   {"subnet": "10.87.0.0/16", "gateway": "10.87.0.1", "allocations": {"10.87.0.2": "<container id>"}} */
#define NOOK_NET_STATE_DIR "/run/nook/networks"
int nook_ipam_allocate (const char *dir, const char *id, char ip[46], int *prefix, char gateway[46],
                        nook_err *err);   /* the same id again: its existing address */
int nook_ipam_release (const char *dir, const char *id, nook_err *err);   /* none: 0 */

/* ---- firewall.c: NAT for the bridge subnet.  nftables (`nft`) when installed, else iptables.
 * Idempotent: a table `ip nook` (nft) or a chain NOOK-POSTROUTING in the nat table (iptables) with
 * "masquerade what leaves NOOK_BRIDGE_SUBNET for elsewhere", plus net.ipv4.ip_forward=1 and forward
 * accept rules for the bridge (a host whose filter FORWARD policy is drop still lets containers out). */
int nook_firewall_ensure (nook_err *err);

/* ---- bridge.c: root only ---- */
struct nook_bridge_att
{
  char ip[46], gateway[46], mac[18];
  int prefix;
  char veth[16];        /* the host side: "nk" + the first 12 characters of the id */
};
/* Ensure the bridge (address, up), the firewall; allocate an address; create the veth pair with the peer
 * NOOK_NET_IFNAME in the netns NETNS_FD, configure it there (address, up, default route via the gateway). */
int nook_bridge_attach (const char *id, int netns_fd, struct nook_bridge_att *att, nook_err *err);
/* Delete the host veth (if still there) and release the address.  Idempotent. */
int nook_bridge_detach (const char *id, nook_err *err);

/* ---- pasta.c, slirp.c: rootless helpers, children of the caller (PR_SET_PDEATHSIG SIGKILL) ----
 * Both: ports forwarded per REQ->ports (already assigned), host loopback reachable from the container
 * (INFO->host_addr), INFO filled (ip, prefix, gateway, mac: read from the netns when possible, else the
 * helper's known defaults), *HELPER = the helper's pid (running, ready).  A helper that fails reports its
 * own stderr in the error message. */
int nook_pasta_start (const struct nook_net_req *req, pid_t *helper, struct nook_net_info *info, nook_err *err);
/* slirp4netns: *EXIT_FD is the write end of its --exit-fd pipe: closing it stops slirp4netns. */
int nook_slirp_start (const struct nook_net_req *req, pid_t *helper, int *exit_fd, struct nook_net_info *info,
                      nook_err *err);

/* ---- portspec.c, shared with forward.c ---- */
/* A socket (SOCK_FLAGS added to its type) bound on P's host address at PORT, listening (BACKLOG) for TCP;
 * podman's error text ("cannot listen on the TCP port: listen tcp4 0.0.0.0:8080: bind: address already in
 * use").  Returns the fd. */
int nook_port_listen (const struct nook_port *p, uint16_t port, int sock_flags, int backlog, nook_err *err);
/* IP ("" = any IPv4) and PORT as a socket address; false when IP does not parse. */
bool nook_port_sockaddr (const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/* ---- forward.c: root bridge port publishing: a child process (PR_SET_PDEATHSIG SIGKILL) listening on each
 * host port (already checked by nook_port_assign) and forwarding TCP connections and UDP datagrams to
 * CTR_IP:ctr_port.  Returns once every socket is bound (a bind error comes back as the error). */
int nook_forward_start (const struct nook_port *ports, size_t n, const char *ctr_ip, pid_t *helper, nook_err *err);

/* ---- helpers.c ---- */
/* SIGTERM, wait up to 1 s, SIGKILL; reap.  0 or negative: nothing. */
void nook_net_stop_child (pid_t pid);
/* Whether PROG is an executable on PATH. */
bool nook_net_on_path (const char *prog);
/* Its full path in *PATH (PROG itself when it has a '/'); SBIN: also look in /usr/sbin and /sbin (tools a
 * user's PATH may lack).  False when not found. */
bool nook_net_find (const char *prog, bool sbin, char path[4096]);
/* Run FN (ARG, OUT, err) in a forked child that enters USERNS_FD (>= 0) and NETNS_FD first; OUT (LEN bytes)
 * and FN's error come back to us.  Returns FN's result. */
int nook_net_in_ns (int netns_fd, int userns_fd, int (*fn) (const void *arg, void *out, nook_err *err),
                    const void *arg, void *out, size_t len, nook_err *err);
/* Shared by pasta.c and slirp.c.  The helper's stdout+stderr: RUNROOT/<ID>/NAME.log (created or truncated;
 * a memfd when RUNROOT is NULL), quoted in its errors. */
int nook_net_log_open (const char *runroot, const char *id, const char *name, nook_err *err);
/* Fork + exec ARGV (argv[0] on PATH) with PR_SET_PDEATHSIG SIGKILL: stdin /dev/null, stdout and stderr LOG_FD,
 * FDS[i] as fd 3 + i (at most 16), every other fd closed, signals default and unblocked. */
int nook_net_spawn (char *const argv[], int log_fd, const int *fds, size_t n_fds, pid_t *pid, nook_err *err);
/* Wait up to TIMEOUT_MS for the helper *PID to write to READY_FD.  An exit first (reaped, *PID = 0), a
 * closed READY_FD or the timeout: an error with the end of its log; the caller stops a helper still running. */
int nook_net_wait_ready (const char *name, pid_t *pid, int ready_fd, int log_fd, int timeout_ms, nook_err *err);
/* INFO->ip, prefix, gateway (of the default route on IFNAME), mac of IFNAME in the netns NETNS_FD (entered
 * with nook_net_in_ns).  NETNS_FD -1: here; IFNAME NULL: the interface of the default route. */
int nook_net_ns_iface (int netns_fd, int userns_fd, const char *ifname, struct nook_net_info *info, nook_err *err);

#endif
