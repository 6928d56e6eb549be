/* Container networking (lib/net): the modes of `--network`, published ports, and their life cycle.
 *
 * Who calls what:
 *   - the spec generator parses -p/-P (nook_port_parse) and --network (nook_net_mode_parse) and records them;
 *   - the monitor, between the runtime's create (the container's network namespace exists: /proc/PID/ns/net)
 *     and its start, calls nook_net_setup; after the container exits, nook_net_teardown;
 *   - `rm` (and a reconcile after a monitor died) calls nook_net_cleanup: idempotent, by container id.
 *
 * Modes:
 *   none    a private netns with only lo, up (the runtime creates the netns; setup brings lo up).
 *   host    the host's netns: nothing to do.
 *   pasta   rootless user-mode networking through pasta (package passt), child of the monitor.
 *   slirp   slirp4netns (package slirp4netns), child of the monitor.
 *   bridge  root only: the bridge nook0 (NOOK_BRIDGE_SUBNET), a veth pair per container, NAT masquerade for
 *           outbound (nftables, or iptables when nft is missing); published ports by a forwarder process.
 *   private (the default) resolves to bridge as root, to pasta (else slirp4netns) rootless. */
#ifndef NOOK_NET_NET_H
#define NOOK_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define NOOK_BRIDGE_NAME "nook0"
#define NOOK_BRIDGE_SUBNET "10.87.0.0/16"   /* gateway (the bridge's address): .0.1; not podman's 10.88.0.0/16 */
#define NOOK_NET_IFNAME "eth0"              /* the container's interface (bridge, pasta, slirp4netns) */
#define NOOK_NET_MTU 65520                  /* helpers' tap MTU */
#define NOOK_SLIRP_DNS "10.0.2.3"           /* slirp4netns's DNS forwarder (the container's resolv.conf) */

enum nook_net_mode
{
  NOOK_NET_NONE,
  NOOK_NET_HOST,
  NOOK_NET_PASTA,
  NOOK_NET_SLIRP,
  NOOK_NET_BRIDGE,
  NOOK_NET_PATH,      /* ns:/path: joined, nothing to set up */
};

/* ---- ports (portspec.c) ---- */

struct nook_port
{
  char host_ip[46];   /* "" = every address */
  uint16_t host_port; /* first host port; 0 = pick a free one (nook_port_assign) */
  uint16_t ctr_port;  /* first container port */
  uint16_t count;     /* ports in the range (>= 1) */
  bool udp;           /* else tcp */
};

/* Parse one -p value: [[IP:][HOSTPORT]:]CTRPORT[/tcp|/udp], where a port may be a range A-B (host and
 * container ranges must have the same length, or the host range is a single port = 0 = random start).
 * IPv6 addresses in brackets: [::1]:8080:80.  Errors name the value (nook_error_input). */
int nook_port_parse (const char *spec, struct nook_port *out, nook_err *err);
/* -P: one random-host-port entry for an image ExposedPorts key ("80/tcp", "53/udp", "8000-8010/tcp"). */
int nook_port_parse_exposed (const char *key, struct nook_port *out, nook_err *err);
/* Give ports with host_port 0 free host ports (bind to port 0, as podman does), then check that every host
 * port can be bound now (TCP: bind+listen; UDP: bind) on its address.  A port in use fails with
 * "cannot listen on the TCP port 8080: listen tcp4 0.0.0.0:8080: bind: address already in use" (podman's text). */
int nook_port_assign (struct nook_port *ports, size_t n, nook_err *err);
/* "0.0.0.0:8080->80/tcp" style text for ps (podman's), ranges as "0.0.0.0:8080-8081->80-81/tcp". */
char *nook_port_format (const struct nook_port *p);

/* ---- mode (mode.c) ---- */

/* --network VALUE ("" or NULL = default) for a rootless caller or root -> mode; "ns:PATH" gives PATH.
 * pasta/slirp4netns options after ':' ("pasta:-4,--mtu=1500") are not supported: a clear error. */
int nook_net_mode_parse (const char *value, bool rootless, enum nook_net_mode *mode, const char **path,
                         nook_err *err);
/* The private-network helper available on PATH for the default rootless mode: NOOK_NET_PASTA, else
 * NOOK_NET_SLIRP; neither: error "no user-mode network helper: install the package passt (pasta) or
 * slirp4netns, or use --network none". */
int nook_net_pick_helper (enum nook_net_mode *mode, nook_err *err);
const char *nook_net_mode_name (enum nook_net_mode mode);   /* "none" "host" "pasta" "slirp4netns" "bridge" */

/* ---- setup and teardown (net.c dispatches to bridge.c, pasta.c, slirp.c, forward.c) ---- */

struct nook_net_req
{
  const char *id;               /* the container's full id */
  enum nook_net_mode mode;
  int netns_fd, userns_fd;      /* its network and user namespaces (the runtime's netns_out/userns_out: the
                                   init is not dumpable before it execs, /proc/PID/ns/ is closed to a
                                   rootless caller); userns_fd -1: none of its own */
  const struct nook_port *ports;
  size_t n_ports;
  const char *runroot;          /* for helper sockets (slirp4netns API socket): RUNROOT/<id>/ */
};

/* What the container got: for the record (NetworkSettings) and /etc/hosts. */
struct nook_net_info
{
  char ip[46];           /* the container's IPv4 address ("" for none/host) */
  int prefix;            /* its prefix length */
  char gateway[46];      /* its default gateway */
  char mac[18];          /* its interface's MAC ("" when unknown) */
  char host_addr[46];    /* an address in the container that reaches the host (host.containers.internal):
                            bridge: the gateway; pasta: the gateway (mapped to the host's loopback);
                            slirp4netns: 10.0.2.2 */
};

struct nook_net;   /* a running network: its helper processes (children of the caller) */

/* Set up the container's network.  Runs in the monitor (as the caller's user: root, or the rootless
 * user in the host user namespace).  Helpers are children of the caller with PR_SET_PDEATHSIG, so
 * they die with the monitor; a ready helper is waited for (pasta: its pid file; slirp4netns: --ready-fd).
 * On failure everything already set up is undone. */
int nook_net_setup (const struct nook_net_req *req, struct nook_net **out, struct nook_net_info *info,
                    nook_err *err);
/* Stop the helpers (SIGTERM, then SIGKILL after 1 s; reaped), remove the veth, release the address.
 * Frees N.  NULL is fine. */
void nook_net_teardown (struct nook_net *n);
/* The caller reaped PID (a waitpid (-1) loop): when it was one of N's helpers, forget it. */
void nook_net_forget_child (struct nook_net *n, pid_t pid);
/* After a monitor died (or on rm): release what the container ID may still hold (bridge address, veth).
 * Idempotent; a container with nothing is fine. */
int nook_net_cleanup (const char *id, nook_err *err);

#endif
