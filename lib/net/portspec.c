/* Published ports: the -p/--publish syntax and -P keys (podman's pkg/specgenutil rules and messages), host
 * port assignment and the "can it be bound now" check (podman's texts), and the text `ps` shows. */
#include "net/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"

#define WHY_MAX 512
#define PICK_ATTEMPTS 20

/* Parse failures are described into WHY (podman's wording); the callers name the whole value. */
static int __attribute__ ((format (printf, 2, 3)))
bad (char *why, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (why, WHY_MAX, fmt, ap);
  va_end (ap);
  return -1;
}

static size_t
count_char (const char *s, char c)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == c;
  return n;
}

/* One port number, 1..65535. */
static int
parse_one_port (const char *s, uint16_t *out, char *why)
{
  unsigned long v;

  if (*s == '\0' || strspn (s, "0123456789") != strlen (s))
    return bad (why, "invalid port number \"%s\"", s);
  if (strlen (s) > 9)
    return bad (why, "port numbers must be between 1 and 65535 (inclusive), got %s", s);
  v = strtoul (s, NULL, 10);
  if (v < 1 || v > 65535)
    return bad (why, "port numbers must be between 1 and 65535 (inclusive), got %lu", v);
  *out = (uint16_t) v;
  return 0;
}

/* "A" or "A-B" -> start and length. */
static int
parse_range (const char *s, uint16_t *start, uint32_t *len, char *why)
{
  char first[32];
  const char *dash = strchr (s, '-');
  uint16_t end;
  size_t n;

  if (dash != NULL && strchr (dash + 1, '-') != NULL)
    return bad (why, "invalid port format - port ranges are formatted as startPort-stopPort");
  if (s[0] == '\0' || dash == s)
    return bad (why, "port numbers cannot be negative");
  n = dash ? (size_t) (dash - s) : strlen (s);
  if (n >= sizeof (first))
    return bad (why, "port numbers must be between 1 and 65535 (inclusive), got %.*s", (int) n, s);
  memcpy (first, s, n);
  first[n] = '\0';
  if (parse_one_port (first, start, why) < 0)
    return -1;
  *len = 1;
  if (dash == NULL)
    return 0;
  if (dash[1] == '\0')
    return bad (why, "must provide ending number for port range");
  if (parse_one_port (dash + 1, &end, why) < 0)
    return -1;
  if (end <= *start)
    return bad (why, "the end port of a range must be higher than the start port - %u is not higher than %u",
                end, *start);
  *len = (uint32_t) end - *start + 1;
  return 0;
}

/* A range of a given side, with podman's "parsing container port: " style prefix. */
static int
parse_side (const char *s, const char *side, uint16_t *start, uint32_t *len, char *why)
{
  char inner[WHY_MAX];
  if (parse_range (s, start, len, inner) < 0)
    return bad (why, "parsing %s port: %s", side, inner);
  return 0;
}

static int
parse_proto (const char *proto, bool *udp, char *why)
{
  if (proto == NULL || strcasecmp (proto, "tcp") == 0)
    *udp = false;
  else if (strcasecmp (proto, "udp") == 0)
    *udp = true;
  else if (*proto == '\0')
    return bad (why, "must provide a non-empty protocol to publish");
  else if (strcasecmp (proto, "sctp") == 0)
    return bad (why, "protocol sctp is not supported");
  else if (strchr (proto, ',') != NULL)
    return bad (why, "several protocols (%s) in one mapping are not supported: publish each separately", proto);
  else
    return bad (why, "unrecognized protocol \"%s\" in port mapping", proto);
  return 0;
}

/* The host address, normalized as Go's net.IP.String() does; 0.0.0.0 means every address (""). */
static int
parse_host_ip (const char *ip, char out[46], char *why)
{
  struct in6_addr a6;
  struct in_addr a4;

  if (*ip == '\0')
    return bad (why, "must provide a non-empty container host IP to publish");
  if (inet_pton (AF_INET, ip, &a4) == 1)
    {
      if (a4.s_addr == htonl (INADDR_ANY))
        out[0] = '\0';
      else
        inet_ntop (AF_INET, &a4, out, 46);
      return 0;
    }
  if (inet_pton (AF_INET6, ip, &a6) != 1)
    return bad (why, "cannot parse \"%s\" as an IP address", ip);
  if (IN6_IS_ADDR_V4MAPPED (&a6))
    {
      memcpy (&a4, &a6.s6_addr[12], 4);
      inet_ntop (AF_INET, &a4, out, 46);
    }
  else
    inet_ntop (AF_INET6, &a6, out, 46);
  return 0;
}

/* HOST_IP and HOST_PORT are NULL when the value did not have them. */
static int
parse_split (const char *host_ip, const char *host_port, const char *ctr_port, struct nook_port *out, char *why)
{
  uint16_t start;
  uint32_t ctr_len, host_len;

  if (*ctr_port == '\0')
    return bad (why, "must provide a non-empty container port to publish");
  if (parse_side (ctr_port, "container", &out->ctr_port, &ctr_len, why) < 0)
    return -1;
  out->count = (uint16_t) ctr_len;
  if (host_ip != NULL && parse_host_ip (host_ip, out->host_ip, why) < 0)
    return -1;
  if (host_port == NULL || *host_port == '\0')
    return 0;   /* a random host port (nook_port_assign) */
  if (parse_side (host_port, "host", &start, &host_len, why) < 0)
    return -1;
  if (host_len != ctr_len)
    return bad (why, "host and container port ranges have different lengths: %u vs %u", host_len, ctr_len);
  out->host_port = start;
  return 0;
}

/* [[IP:][HOSTPORT]:]CTRPORT[/PROTO], podman's CreatePortBindings. */
static int
parse_spec (const char *spec, struct nook_port *out, char *why)
{
  cleanup_free char *copy = xstrdup (spec);
  char *rest = copy, *proto = NULL, *slash, *host_ip = NULL, *parts[3];
  bool have_v6 = false;
  size_t n_parts = 0, colons;

  memset (out, 0, sizeof (*out));
  if (count_char (copy, '/') > 1)
    return bad (why, "invalid port format - protocol can only be specified once");
  slash = strchr (copy, '/');
  if (slash != NULL)
    {
      *slash = '\0';
      proto = slash + 1;
    }
  if (parse_proto (proto, &out->udp, why) < 0)
    return -1;

  switch (count_char (rest, ']'))
    {
    case 0:
      break;
    case 1:
      {
        char *close = strchr (rest, ']');
        if (rest[0] != '[')
          return bad (why, "invalid port format - IPv6 addresses must be enclosed by []");
        if (close[1] != ':')
          return bad (why, "invalid port format - IPv6 address must be followed by a colon (':')");
        *close = '\0';
        host_ip = rest + 1;
        rest = close + 2;
        have_v6 = true;
        break;
      }
    default:
      return bad (why, "invalid port format - at most one IPv6 address can be specified in a --publish");
    }

  colons = count_char (rest, ':');
  if (colons > 2)
    return bad (why, "invalid port format - format is [[hostIP:]hostPort:]containerPort");
  for (char *tok = rest;; n_parts++)
    {
      char *colon = strchr (tok, ':');
      parts[n_parts] = tok;
      if (colon == NULL)
        break;
      *colon = '\0';
      tok = colon + 1;
    }
  n_parts++;
  if (n_parts == 1 && have_v6)
    return bad (why, "invalid port format - must provide host and destination port if specifying an IP");
  if (n_parts == 3 && have_v6)
    return bad (why, "invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort");
  if (n_parts == 1)
    return parse_split (host_ip, NULL, parts[0], out, why);
  if (n_parts == 2)
    return parse_split (host_ip, parts[0], parts[1], out, why);
  return parse_split (parts[0], parts[1], parts[2], out, why);
}

int
nook_port_parse (const char *spec, struct nook_port *out, nook_err *err)
{
  char why[WHY_MAX];

  if (spec == NULL)
    spec = "";
  if (parse_spec (spec, out, why) < 0)
    return nook_error_input (err, "invalid value `%s` for -p/--publish: %s", spec, why);
  return 0;
}

int
nook_port_parse_exposed (const char *key, struct nook_port *out, nook_err *err)
{
  char why[WHY_MAX], port[64];
  const char *slash = strchr (key, '/');
  size_t n = slash ? (size_t) (slash - key) : strlen (key);
  uint32_t len;

  memset (out, 0, sizeof (*out));
  if (n >= sizeof (port))
    n = sizeof (port) - 1;
  memcpy (port, key, n);
  port[n] = '\0';
  if (slash != NULL && strchr (slash + 1, '/') != NULL)
    bad (why, "invalid port format - protocol can only be specified once");
  else if (parse_proto (slash ? slash + 1 : NULL, &out->udp, why) == 0 && parse_range (port, &out->ctr_port, &len, why) == 0)
    {
      out->count = (uint16_t) len;
      return 0;
    }
  return nook_error_input (err, "invalid exposed port `%s`: %s", key, why);
}

/* ---- assignment ---- */

static bool
is_v6 (const char *ip)
{
  return strchr (ip, ':') != NULL;
}

bool
nook_port_sockaddr (const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
  memset (ss, 0, sizeof (*ss));
  if (is_v6 (ip))
    {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons (port);
      *len = sizeof (*s6);
      return inet_pton (AF_INET6, ip, &s6->sin6_addr) == 1;
    }
  struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons (port);
  *len = sizeof (*s4);
  return *ip == '\0' || inet_pton (AF_INET, ip, &s4->sin_addr) == 1;
}

/* podman's text: "cannot listen on the TCP port: listen tcp4 0.0.0.0:8080: bind: address already in use"
 * (Go prints the errno text in lower case); a privileged port refused to a rootless user gets
 * rootlessport's hint instead of the first part. */
static int
listen_error (nook_err *err, const struct nook_port *p, uint16_t port, const char *op, int errnum)
{
  bool v6 = is_v6 (p->host_ip);
  const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";
  size_t len, tail = strlen (strerror (errnum));
  char head[256];

  if (errnum == EACCES && port < 1024)
    snprintf (head, sizeof (head),
              "cannot expose privileged port %u, you can add 'net.ipv4.ip_unprivileged_port_start=%u' to "
              "/etc/sysctl.conf, or choose a larger port number",
              port, port);
  else
    snprintf (head, sizeof (head), "cannot listen on the %s port", p->udp ? "UDP" : "TCP");
  nook_error (err, errnum, "%s: listen %s%c %s%s%s:%u: %s", head, p->udp ? "udp" : "tcp", v6 ? '6' : '4',
              v6 ? "[" : "", ip, v6 ? "]" : "", port, op);
  len = strlen (err->msg);
  if (len >= tail)
    err->msg[len - tail] = (char) tolower ((unsigned char) err->msg[len - tail]);
  return -1;
}

int
nook_port_listen (const struct nook_port *p, uint16_t port, int sock_flags, int backlog, nook_err *err)
{
  struct sockaddr_storage ss;
  socklen_t len;
  cleanup_close int fd = -1;
  int one = 1;

  if (!nook_port_sockaddr (p->host_ip, port, &ss, &len))
    return nook_error_input (err, "invalid host IP `%s` of a published port", p->host_ip);
  fd = socket (ss.ss_family, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | sock_flags, 0);
  if (fd < 0)
    return nook_error (err, errno, "socket");
  if (ss.ss_family == AF_INET6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof (one)) < 0)
    return nook_error (err, errno, "setsockopt IPV6_V6ONLY");
  if (!p->udp && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one)) < 0)
    return nook_error (err, errno, "setsockopt SO_REUSEADDR");
  if (bind (fd, (struct sockaddr *) &ss, len) < 0)
    return listen_error (err, p, port, "bind", errno);
  if (!p->udp && listen (fd, backlog) < 0)
    return listen_error (err, p, port, "listen", errno);
  return steal_fd (&fd);
}

/* Bind (and for TCP listen on) P's address at PORT, then close again.  PORT 0: *BOUND gets the port. */
static int
port_try (const struct nook_port *p, uint16_t port, uint16_t *bound, nook_err *err)
{
  struct sockaddr_storage ss;
  socklen_t len;
  cleanup_close int fd = nook_port_listen (p, port, 0, 1, err);

  if (fd < 0)
    return -1;
  if (bound != NULL)
    {
      len = sizeof (ss);
      if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
        return nook_error (err, errno, "getsockname");
      *bound = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                               : ((struct sockaddr_in *) &ss)->sin_port);
    }
  return 0;
}

/* Whether A is every address of B's family ("" for IPv4, "::" for IPv6). */
static bool
ip_covers (const char *a, const char *b)
{
  return is_v6 (a) == is_v6 (b) && (a[0] == '\0' || strcmp (a, "::") == 0);
}

/* Whether binding both would collide: same protocol, overlapping host ports, the same address (or every
 * address of the other's family). */
static bool
ports_overlap (const struct nook_port *a, const struct nook_port *b)
{
  uint32_t a_end = (uint32_t) a->host_port + a->count - 1, b_end = (uint32_t) b->host_port + b->count - 1;
  bool same_ip = strcmp (a->host_ip, b->host_ip) == 0 || ip_covers (a->host_ip, b->host_ip)
                 || ip_covers (b->host_ip, a->host_ip);

  if (a->udp != b->udp || a->host_port == 0 || b->host_port == 0 || !same_ip)
    return false;
  return a->host_port <= b_end && b->host_port <= a_end;
}

static bool
overlaps_any (const struct nook_port *ports, size_t n, size_t self)
{
  for (size_t j = 0; j < n; j++)
    if (j != self && ports_overlap (&ports[self], &ports[j]))
      return true;
  return false;
}

/* Every port of P's range (from START) can be bound now; the first failure fills ERR. */
static int
range_free (const struct nook_port *p, uint16_t start, nook_err *err)
{
  for (uint32_t k = 0; k < p->count; k++)
    if (port_try (p, (uint16_t) (start + k), NULL, err) < 0)
      return -1;
  return 0;
}

/* Give PORTS[I] a free host port (range: COUNT consecutive ones) that no other entry uses. */
static int
pick_free (struct nook_port *ports, size_t n, size_t i, nook_err *err)
{
  struct nook_port *p = &ports[i];
  nook_err ignored;

  for (int attempt = 0; attempt < PICK_ATTEMPTS; attempt++)
    {
      uint16_t base = 0;
      if (port_try (p, 0, &base, err) < 0)
        return -1;
      if (base == 0 || (uint32_t) base + p->count - 1 > 65535)
        continue;
      p->host_port = base;
      if (!overlaps_any (ports, n, i) && range_free (p, base, &ignored) == 0)
        return 0;
      p->host_port = 0;
    }
  return nook_error (err, EADDRINUSE, "failed to find an open port to expose container port %u with range %u on the host",
                     p->ctr_port, p->count);
}

static int
check_entry (const struct nook_port *p, nook_err *err)
{
  struct sockaddr_storage ss;
  socklen_t len;

  if (p->count == 0 || p->ctr_port == 0 || (uint32_t) p->ctr_port + p->count - 1 > 65535
      || (uint32_t) p->host_port + p->count - 1 > 65535)
    return nook_error_input (err, "invalid published port range %u-%u (%u ports)", p->host_port, p->ctr_port,
                             p->count);
  if (!nook_port_sockaddr (p->host_ip, 0, &ss, &len))
    return nook_error_input (err, "invalid host IP `%s` of a published port", p->host_ip);
  return 0;
}

int
nook_port_assign (struct nook_port *ports, size_t n, nook_err *err)
{
  for (size_t i = 0; i < n; i++)
    {
      if (check_entry (&ports[i], err) < 0)
        return -1;
      for (size_t j = 0; j < i; j++)
        if (ports_overlap (&ports[i], &ports[j]))
          {
            unsigned first = ports[i].host_port > ports[j].host_port ? ports[i].host_port : ports[j].host_port;
            return nook_error_input (err, "conflicting port mappings for host port %u (protocol %s)", first,
                                     ports[i].udp ? "udp" : "tcp");
          }
    }
  for (size_t i = 0; i < n; i++)
    if (ports[i].host_port == 0 && pick_free (ports, n, i, err) < 0)
      return -1;
  for (size_t i = 0; i < n; i++)
    if (range_free (&ports[i], ports[i].host_port, err) < 0)
      return -1;
  return 0;
}

char *
nook_port_format (const struct nook_port *p)
{
  const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";
  const char *open = is_v6 (ip) ? "[" : "", *close = is_v6 (ip) ? "]" : "";
  const char *proto = p->udp ? "udp" : "tcp";
  unsigned count = p->count ? p->count : 1;

  if (count > 1)
    return xasprintf ("%s%s%s:%u-%u->%u-%u/%s", open, ip, close, p->host_port, p->host_port + count - 1,
                      p->ctr_port, p->ctr_port + count - 1, proto);
  return xasprintf ("%s%s%s:%u->%u/%s", open, ip, close, p->host_port, p->ctr_port, proto);
}
