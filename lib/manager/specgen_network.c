/* --network, -p/--publish, -P/--publish-all, --expose: the network mode and the ports, as the record keeps
 * them (Nook.network for the monitor; podman's NetworkMode, PortBindings, ExposedPorts for inspect). */
#include <stdlib.h>
#include <string.h>

#include "manager/ctr_network.h"
#include "manager/specgen_internal.h"
#include "util/log.h"
#include "util/strutil.h"

/* The namespace the runtime gets for MODE. */
static void
ns_for_mode (struct sg *g, enum nook_net_mode mode, const char *path)
{
  g->net.mode = mode == NOOK_NET_HOST ? SG_NS_HOST : mode == NOOK_NET_PATH ? SG_NS_PATH : SG_NS_PRIVATE;
  g->net.path = mode == NOOK_NET_PATH ? path : NULL;
}

/* "80", "80/udp", "8000-8010/tcp" (--expose and the image's ExposedPorts keys). */
static int
add_exposed (struct sg *g, const char *v, bool publish, nook_err *err)
{
  struct nook_port p;
  char key[32];

  if (nook_port_parse_exposed (v, &p, err) < 0)
    return -1;
  for (unsigned k = 0; k < p.count; k++)
    {
      snprintf (key, sizeof (key), "%u/%s", (unsigned) p.ctr_port + k, p.udp ? "udp" : "tcp");
      json_object_set_new (g->exposed, key, json_object ());
    }
  if (publish)
    {
      json_t *a = nook_ports_to_json (&p, 1);
      json_array_extend (g->ports, a);
      json_decref (a);
    }
  return 0;
}

/* A -P port that -p already publishes is not published twice. */
static bool
published (struct sg *g, const struct nook_port *p)
{
  size_t i;
  json_t *e;

  json_array_foreach (g->ports, i, e)
    {
      json_int_t c = json_integer_value (json_object_get (e, "container_port"));
      json_int_t n = json_integer_value (json_object_get (e, "count"));
      const char *proto = json_string_value (json_object_get (e, "protocol"));
      if (p->ctr_port >= c && p->ctr_port < c + n && strcmp (proto, p->udp ? "udp" : "tcp") == 0)
        return true;
    }
  return false;
}

static int
sg_ports (struct sg *g, nook_err *err)
{
  const struct nook_run_opts *o = g->o;
  json_t *img = json_object_get (g->cfg, "ExposedPorts");
  const char *key;
  json_t *v;

  for (size_t i = 0; o->publish != NULL && o->publish[i] != NULL; i++)
    {
      struct nook_port p;
      if (nook_port_parse (o->publish[i], &p, err) < 0)
        return -1;
      json_t *a = nook_ports_to_json (&p, 1);
      json_array_extend (g->ports, a);
      json_decref (a);
    }
  for (size_t i = 0; o->expose != NULL && o->expose[i] != NULL; i++)
    if (add_exposed (g, o->expose[i], false, err) < 0)
      return -1;
  json_object_foreach (img, key, v)
    if (add_exposed (g, key, false, err) < 0)
      return nook_error_prefix (err, "the image's ExposedPorts");
  if (o->publish_all)
    json_object_foreach (g->exposed, key, v)
      {
        struct nook_port p;
        if (nook_port_parse_exposed (key, &p, err) < 0)
          return -1;
        if (!published (g, &p) && add_exposed (g, key, true, err) < 0)
          return -1;
      }
  return 0;
}

int
sg_network (struct sg *g, nook_err *err)
{
  enum nook_net_mode mode;
  const char *path = NULL;

  g->ports = json_array ();
  g->exposed = json_object ();
  if (nook_net_mode_parse (g->o->network, g->rootless, &mode, &path, err) < 0)
    return -1;
  ns_for_mode (g, mode, path);
  g->net_mode = mode;
  g->network_mode = mode == NOOK_NET_PATH ? g->o->network : nook_net_mode_name (mode);
  if (sg_ports (g, err) < 0)
    return -1;
  if (json_array_size (g->ports) > 0 && (mode == NOOK_NET_HOST || mode == NOOK_NET_NONE || mode == NOOK_NET_PATH))
    {
      nook_warn ("Port mappings have been discarded as one of the Host, Container, Pod, and None network modes "
                 "are in use");
      json_array_clear (g->ports);
    }
  return 0;
}

json_t *
sg_network_record (struct sg *g)
{
  return json_pack ("{s:s,s:O}", "mode", g->network_mode, "ports", g->ports);
}

json_t *
sg_port_bindings (struct sg *g)
{
  struct nook_port *p = NULL;
  size_t n = 0;
  nook_err ignored = { 0 };
  json_t *b;

  if (nook_ports_from_json (g->ports, &p, &n, &ignored) < 0)
    return json_object ();
  b = nook_ports_bindings (p, n);
  free (p);
  return b;
}
