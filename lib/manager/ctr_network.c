/* A container's network in the manager: ports in the record, and the monitor's bring-up/tear-down. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/ctr_network.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* ---- ports in the record ---- */

json_t *
nook_ports_to_json (const struct nook_port *p, size_t n)
{
  json_t *a = json_array ();

  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_pack ("{s:s,s:i,s:i,s:i,s:s}", "host_ip", p[i].host_ip, "host_port",
                                         (int) p[i].host_port, "container_port", (int) p[i].ctr_port, "count",
                                         (int) p[i].count, "protocol", p[i].udp ? "udp" : "tcp"));
  return a;
}

int
nook_ports_from_json (json_t *arr, struct nook_port **out, size_t *n, nook_err *err)
{
  size_t i, len = json_array_size (arr);
  struct nook_port *p = calloc (len ? len : 1, sizeof (*p));
  json_t *e;

  if (p == NULL)
    return nook_error (err, ENOMEM, "ports");
  json_array_foreach (arr, i, e)
    {
      const char *ip = json_string_value (json_object_get (e, "host_ip"));
      json_int_t hp = json_integer_value (json_object_get (e, "host_port"));
      json_int_t cp = json_integer_value (json_object_get (e, "container_port"));
      json_int_t cnt = json_integer_value (json_object_get (e, "count"));
      const char *proto = json_string_value (json_object_get (e, "protocol"));

      if (hp < 0 || hp > 65535 || cp < 1 || cp > 65535 || cnt < 1 || cp + cnt - 1 > 65535 || hp + cnt - 1 > 65535)
        {
          free (p);
          return nook_error_input (err, "the record's port #%zu is invalid", i);
        }
      snprintf (p[i].host_ip, sizeof (p[i].host_ip), "%s", ip ? ip : "");
      p[i].host_port = (uint16_t) hp;
      p[i].ctr_port = (uint16_t) cp;
      p[i].count = (uint16_t) cnt;
      p[i].udp = proto && strcmp (proto, "udp") == 0;
    }
  *out = p;
  *n = len;
  return 0;
}

json_t *
nook_ports_bindings (const struct nook_port *p, size_t n)
{
  json_t *o = json_object ();

  for (size_t i = 0; i < n; i++)
    for (unsigned k = 0; k < p[i].count; k++)
      {
        char key[32], hp[8];
        json_t *list;

        snprintf (key, sizeof (key), "%u/%s", (unsigned) p[i].ctr_port + k, p[i].udp ? "udp" : "tcp");
        snprintf (hp, sizeof (hp), "%u", p[i].host_port ? (unsigned) p[i].host_port + k : 0);
        list = json_object_get (o, key);
        if (list == NULL)
          {
            list = json_array ();
            json_object_set_new (o, key, list);
          }
        json_array_append_new (list, json_pack ("{s:s,s:s}", "HostIp", p[i].host_ip, "HostPort",
                                                p[i].host_port ? hp : ""));
      }
  return o;
}

/* ---- /etc/hosts ---- */

/* The hostname line ("127.0.1.1 NAME ...") gets the container's address; host.containers.internal is added. */
static int
rewrite_hosts (int userdata_fd, const struct nook_net_info *info, nook_err *err)
{
  cleanup_free char *text = NULL, *copy = NULL, *out = xstrdup ("");
  cleanup_close int fd = -1;
  size_t len = 0;
  char *save = NULL;

  if (nook_read_file_at (userdata_fd, "hosts", &text, &len, 1 << 20, err) < 0)
    return -1;
  copy = xstrdup (text);
  for (char *l = strtok_r (text, "\n", &save); l != NULL; l = strtok_r (NULL, "\n", &save))
    {
      char *next;
      if (info->ip[0] && str_has_prefix (l, "127.0.1.1 "))
        next = xasprintf ("%s%s%s\n", out, info->ip, l + strlen ("127.0.1.1"));
      else if (str_has_prefix (l, "host-gateway "))   /* --add-host NAME:host-gateway */
        next = xasprintf ("%s%s%s\n", out, info->host_addr[0] ? info->host_addr : "127.0.0.1",
                          l + strlen ("host-gateway"));
      else
        next = xasprintf ("%s%s\n", out, l);
      free (out);
      out = next;
    }
  if (info->host_addr[0])
    {
      char *next = xasprintf ("%s%s host.containers.internal host.docker.internal\n", out, info->host_addr);
      free (out);
      out = next;
    }
  if (strcmp (out, copy) == 0)
    return 0;   /* none, host: nothing to change */
  /* In place: the file is bind-mounted into the container already. */
  fd = openat (userdata_fd, "hosts", O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open the container's hosts file");
  if (nook_write_all (fd, out, strlen (out)) < 0)
    return nook_error (err, errno, "write the container's hosts file");
  return 0;
}

/* ---- the monitor's part ---- */

int
nook_ctr_net_up (struct nook_store *s, const char *id, const char *runroot, json_t *netrec, int netns_fd,
                 int userns_fd, int userdata_fd, struct nook_ctr_net *cn, nook_err *err)
{
  const char *mode = json_string_value (json_object_get (netrec, "mode"));
  const char *path = NULL;

  memset (cn, 0, sizeof (*cn));
  cn->mode = NOOK_NET_HOST;
  if (netrec == NULL || mode == NULL)
    return 0;
  if (nook_net_mode_parse (mode, s->rootless, &cn->mode, &path, err) < 0
      || nook_ports_from_json (json_object_get (netrec, "ports"), &cn->ports, &cn->n_ports, err) < 0)
    return -1;
  if (cn->n_ports > 0 && nook_port_assign (cn->ports, cn->n_ports, err) < 0)
    goto fail;
  struct nook_net_req req = { .id = id, .mode = cn->mode, .netns_fd = netns_fd,
                              .userns_fd = userns_fd, .ports = cn->ports,
                              .n_ports = cn->n_ports, .runroot = runroot };
  if (nook_net_setup (&req, &cn->net, &cn->info, err) < 0)
    goto fail;
  if (rewrite_hosts (userdata_fd, &cn->info, err) < 0)
    goto fail;
  return 0;
fail:
  nook_ctr_net_down (cn);
  return -1;
}

void
nook_ctr_net_down (struct nook_ctr_net *cn)
{
  nook_net_teardown (cn->net);
  cn->net = NULL;
  free (cn->ports);
  cn->ports = NULL;
  cn->n_ports = 0;
}

void
nook_ctr_net_reaped (struct nook_ctr_net *cn, pid_t pid)
{
  nook_net_forget_child (cn->net, pid);
}

json_t *
nook_ctr_net_settings (const struct nook_ctr_net *cn)
{
  const struct nook_net_info *i = cn ? &cn->info : &(struct nook_net_info){ 0 };
  json_t *ports = cn ? nook_ports_bindings (cn->ports, cn->n_ports) : json_object ();

  return json_pack ("{s:s,s:i,s:s,s:s,s:o,s:s}", "IPAddress", i->ip, "IPPrefixLen", i->prefix, "Gateway",
                    i->gateway, "MacAddress", i->mac, "Ports", ports, "SandboxKey", "");
}

json_t *
nook_ctr_ports_of (json_t *record)
{
  json_t *ports = json_object_get (json_object_get (record, "NetworkSettings"), "Ports");

  if (json_object_size (ports) == 0)
    ports = json_object_get (json_object_get (record, "HostConfig"), "PortBindings");
  return ports;
}

char *
nook_ctr_ports_text (json_t *record)
{
  json_t *ports = nook_ctr_ports_of (record), *list, *b;
  const char *key;
  char *out = xstrdup ("");
  size_t i;

  json_object_foreach (ports, key, list)
    json_array_foreach (list, i, b)
      {
        const char *ip = json_string_value (json_object_get (b, "HostIp"));
        const char *hp = json_string_value (json_object_get (b, "HostPort"));
        char *next = xasprintf ("%s%s%s:%s->%s", out, out[0] ? ", " : "", ip && *ip ? ip : "0.0.0.0", hp ? hp : "",
                                key);
        free (out);
        out = next;
      }
  return out;
}
