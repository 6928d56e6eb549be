/* A container's network in the manager: the record's part (Nook.network = {"mode", "ports"}; podman's
 * HostConfig.PortBindings and NetworkSettings), and the monitor's bring-up and tear-down around lib/net. */
#ifndef NOOK_MANAGER_CTR_NETWORK_H
#define NOOK_MANAGER_CTR_NETWORK_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/net.h"
#include "store/store.h"
#include "util/error.h"

/* Ports <-> the record's Nook.network.ports: [{"host_ip","host_port","container_port","count","protocol"}]. */
json_t *nook_ports_to_json (const struct nook_port *p, size_t n);
int nook_ports_from_json (json_t *arr, struct nook_port **out, size_t *n, nook_err *err);
/* podman's shape, one key per container port: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}. */
json_t *nook_ports_bindings (const struct nook_port *p, size_t n);

/* A record's ports: NetworkSettings.Ports (the host ports in use) when running, else HostConfig.PortBindings
 * (borrowed).  _text: podman's ps column, "0.0.0.0:8080->80/tcp, ..." (malloc'd). */
json_t *nook_ctr_ports_of (json_t *record);
char *nook_ctr_ports_text (json_t *record);

/* The monitor's view of a running network. */
struct nook_ctr_net
{
  struct nook_net *net;
  struct nook_net_info info;
  enum nook_net_mode mode;
  struct nook_port *ports;
  size_t n_ports;
};

/* Between the runtime's create and start: assign the host ports, set the network up in the container's
 * namespaces (NETNS_FD, USERNS_FD: from the runtime; NETREC: the record's Nook.network, NULL = nothing to
 * do), point its /etc/hosts (USERDATA_FD/hosts, rewritten in place: it is bind-mounted) at its address and
 * the host.  On failure nothing is left. */
int nook_ctr_net_up (struct nook_store *s, const char *id, const char *runroot, json_t *netrec, int netns_fd,
                     int userns_fd, int userdata_fd, struct nook_ctr_net *cn, nook_err *err);
/* Stop the helpers, release the address.  Safe on a zeroed or already downed CN. */
void nook_ctr_net_down (struct nook_ctr_net *cn);
/* The monitor reaped PID: when it was a helper, forget it (it must not be signalled later). */
void nook_ctr_net_reaped (struct nook_ctr_net *cn, pid_t pid);
/* The record's NetworkSettings for CN (NULL: a stopped container's). */
json_t *nook_ctr_net_settings (const struct nook_ctr_net *cn);

#endif
