/* Published ports: -p parsing, formatting, host port assignment, and the forwarder (loopback only). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "net/net.h"
#include "net/net_internal.h"

struct parse_case
{
  const char *spec;
  const char *ip;
  unsigned host, ctr, count;
  int udp;
};

static void
test_parse_valid (void)
{
  static const struct parse_case cases[] = {
    { "80", "", 0, 80, 1, 0 },
    { "8080:80", "", 8080, 80, 1, 0 },
    { "127.0.0.1:8080:80", "127.0.0.1", 8080, 80, 1, 0 },
    { "127.0.0.1::80", "127.0.0.1", 0, 80, 1, 0 },
    { ":80", "", 0, 80, 1, 0 },
    { "0.0.0.0:8080:80", "", 8080, 80, 1, 0 },
    { "8080:80/udp", "", 8080, 80, 1, 1 },
    { "8080:80/TCP", "", 8080, 80, 1, 0 },
    { "53/udp", "", 0, 53, 1, 1 },
    { "8000-8010:80-90", "", 8000, 80, 11, 0 },
    { "80-81", "", 0, 80, 2, 0 },
    { "127.0.0.1::80-82/udp", "127.0.0.1", 0, 80, 3, 1 },
    { "[::1]:8080:80", "::1", 8080, 80, 1, 0 },
    { "[::1]::80", "::1", 0, 80, 1, 0 },
    { "[0:0::0:1]:8080:80/udp", "::1", 8080, 80, 1, 1 },
    { "[::ffff:10.0.0.1]:8080:80", "10.0.0.1", 8080, 80, 1, 0 },
    { "1:65535", "", 1, 65535, 1, 0 },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct nook_port p;
      nook_err err = { 0 };
      int r = nook_port_parse (cases[i].spec, &p, &err);
      if (r != 0)
        printf ("    %s: %s\n", cases[i].spec, err.msg);
      CHECK (r == 0);
      if (r != 0)
        continue;
      CHECK_STR (p.host_ip, cases[i].ip);
      CHECK (p.host_port == cases[i].host);
      CHECK (p.ctr_port == cases[i].ctr);
      CHECK (p.count == cases[i].count);
      CHECK (p.udp == (bool) cases[i].udp);
    }
}

struct bad_case
{
  const char *spec;
  const char *why;
};

static void
test_parse_invalid (void)
{
  static const struct bad_case cases[] = {
    { "", "must provide a non-empty container port" },
    { "0", "port numbers must be between 1 and 65535 (inclusive), got 0" },
    { "8080:0", "parsing container port: port numbers must be between 1 and 65535 (inclusive), got 0" },
    { "0:80", "parsing host port: port numbers must be between 1 and 65535 (inclusive), got 0" },
    { "65536", "got 65536" },
    { "8080:70000", "got 70000" },
    { "99999999999999:80", "got 99999999999999" },
    { "abc", "invalid port number \"abc\"" },
    { "8080:", "must provide a non-empty container port" },
    { "8080-8081:80", "host and container port ranges have different lengths: 2 vs 1" },
    { "8000-8010:80-85", "different lengths: 11 vs 6" },
    { "90-80", "the end port of a range must be higher than the start port - 80 is not higher than 90" },
    { "80-", "must provide ending number for port range" },
    { "-80", "port numbers cannot be negative" },
    { "80-81-82", "port ranges are formatted as startPort-stopPort" },
    { "80/sctp", "sctp is not supported" },
    { "80/icmp", "unrecognized protocol \"icmp\"" },
    { "80/", "must provide a non-empty protocol" },
    { "80/tcp/udp", "protocol can only be specified once" },
    { "80/tcp,udp", "not supported" },
    { "::1:8080:80", "format is [[hostIP:]hostPort:]containerPort" },
    { "1:2:3:4", "format is [[hostIP:]hostPort:]containerPort" },
    { "[::1]:80", "must provide host and destination port" },
    { "[::1]8080:80", "must be followed by a colon" },
    { "::1]:8080:80", "must be enclosed by []" },
    { "[::1]:[::2]:80", "at most one IPv6 address" },
    { "1.2.3:8080:80", "cannot parse \"1.2.3\" as an IP address" },
    { ":8080:80", "non-empty container host IP" },
    { "127.0.0.1:80", "invalid port number \"127.0.0.1\"" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct nook_port p;
      nook_err err = { 0 };
      char want[128];
      int r = nook_port_parse (cases[i].spec, &p, &err);
      CHECK (r < 0);
      if (r == 0)
        {
          printf ("    accepted: \"%s\"\n", cases[i].spec);
          continue;
        }
      CHECK (err.code == EINVAL);
      snprintf (want, sizeof (want), "`%s`", cases[i].spec);
      if (strstr (err.msg, want) == NULL || strstr (err.msg, cases[i].why) == NULL)
        {
          printf ("    \"%s\": %s\n", cases[i].spec, err.msg);
          harness_failed_now = 1;
        }
    }
}

static void
test_parse_exposed (void)
{
  struct nook_port p;
  nook_err err;

  CHECK (nook_port_parse_exposed ("80/tcp", &p, &err) == 0);
  CHECK (p.ctr_port == 80 && p.count == 1 && !p.udp && p.host_port == 0 && p.host_ip[0] == '\0');
  CHECK (nook_port_parse_exposed ("53/udp", &p, &err) == 0);
  CHECK (p.ctr_port == 53 && p.udp);
  CHECK (nook_port_parse_exposed ("8000-8010/tcp", &p, &err) == 0);
  CHECK (p.ctr_port == 8000 && p.count == 11 && p.host_port == 0);
  CHECK (nook_port_parse_exposed ("8080", &p, &err) == 0);
  CHECK (p.ctr_port == 8080 && !p.udp);
  CHECK (nook_port_parse_exposed ("x/tcp", &p, &err) < 0);
  CHECK (strstr (err.msg, "`x/tcp`") != NULL);
  CHECK (nook_port_parse_exposed ("80/sctp", &p, &err) < 0);
  CHECK (nook_port_parse_exposed ("0/tcp", &p, &err) < 0);
}

static void
check_format (const char *spec, unsigned host_port, const char *want)
{
  struct nook_port p;
  nook_err err;
  char *s;

  CHECK (nook_port_parse (spec, &p, &err) == 0);
  if (host_port)
    p.host_port = (uint16_t) host_port;
  s = nook_port_format (&p);
  CHECK_STR (s, want);
  free (s);
}

static void
test_format (void)
{
  check_format ("8080:80", 0, "0.0.0.0:8080->80/tcp");
  check_format ("127.0.0.1:8080:80/udp", 0, "127.0.0.1:8080->80/udp");
  check_format ("8080-8081:80-81", 0, "0.0.0.0:8080-8081->80-81/tcp");
  check_format ("80", 40000, "0.0.0.0:40000->80/tcp");
  check_format ("[::1]:8080:80", 0, "[::1]:8080->80/tcp");
}

/* ---- sockets for the tests ---- */

static int
sock_bound (int type, uint16_t port, uint16_t *bound)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  socklen_t len = sizeof (sa);
  int fd = socket (AF_INET, type | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0
      || (type == SOCK_STREAM && listen (fd, 128) < 0) || getsockname (fd, (struct sockaddr *) &sa, &len) < 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  if (bound)
    *bound = ntohs (sa.sin_port);
  return fd;
}

/* A free loopback port of TYPE (bound, then closed). */
static uint16_t
free_port (int type)
{
  uint16_t port = 0;
  int fd = sock_bound (type, 0, &port);
  if (fd >= 0)
    close (fd);
  return port;
}

static struct nook_port
lo_port (uint16_t host, uint16_t ctr, uint16_t count, bool udp)
{
  struct nook_port p = { .host_ip = "127.0.0.1", .host_port = host, .ctr_port = ctr, .count = count, .udp = udp };
  return p;
}

static void
test_assign_in_use (void)
{
  uint16_t port = 0;
  int fd = sock_bound (SOCK_STREAM, 0, &port);
  struct nook_port p = lo_port (port, 80, 1, false);
  nook_err err = { 0 };
  char want[160];

  CHECK (fd >= 0);
  CHECK (nook_port_assign (&p, 1, &err) < 0);
  CHECK (err.code == EADDRINUSE);
  snprintf (want, sizeof (want), "cannot listen on the TCP port: listen tcp4 127.0.0.1:%u: bind: address already in use",
            port);
  CHECK_STR (err.msg, want);
  /* every address (0.0.0.0) collides with the loopback listener too */
  p.host_ip[0] = '\0';
  CHECK (nook_port_assign (&p, 1, &err) < 0);
  snprintf (want, sizeof (want), "listen tcp4 0.0.0.0:%u: bind: address already in use", port);
  CHECK (strstr (err.msg, want) != NULL);
  /* UDP on the same number is another port */
  p = lo_port (port, 80, 1, true);
  if (nook_port_assign (&p, 1, &err) < 0)
    printf ("    udp %u: %s\n", port, err.msg);   /* only if someone else holds it */
  close (fd);

  fd = sock_bound (SOCK_DGRAM, 0, &port);
  p = lo_port (port, 53, 1, true);
  CHECK (nook_port_assign (&p, 1, &err) < 0);
  snprintf (want, sizeof (want), "cannot listen on the UDP port: listen udp4 127.0.0.1:%u: bind: address already in use",
            port);
  CHECK_STR (err.msg, want);
  close (fd);
  CHECK (nook_port_assign (&p, 1, &err) == 0);
}

static void
test_assign_random (void)
{
  struct nook_port ps[3] = { lo_port (0, 80, 1, false), lo_port (0, 80, 1, true), lo_port (0, 1000, 4, false) };
  nook_err err = { 0 };

  ps[0].host_ip[0] = '\0';
  CHECK (nook_port_assign (ps, 3, &err) == 0);
  if (err.msg[0])
    printf ("    %s\n", err.msg);
  CHECK (ps[0].host_port != 0);
  CHECK (ps[1].host_port != 0);
  CHECK (ps[2].host_port != 0 && ps[2].host_port + 3 <= 65535);
  for (unsigned k = 0; k < 4; k++)
    {
      int fd = sock_bound (SOCK_STREAM, (uint16_t) (ps[2].host_port + k), NULL);
      CHECK (fd >= 0);
      if (fd >= 0)
        close (fd);
    }
}

static void
test_assign_duplicates (void)
{
  uint16_t port = free_port (SOCK_STREAM);
  struct nook_port ps[2] = { lo_port (port, 80, 1, false), lo_port (port, 81, 1, false) };
  nook_err err = { 0 };
  char want[96];

  snprintf (want, sizeof (want), "conflicting port mappings for host port %u (protocol tcp)", port);
  CHECK (nook_port_assign (ps, 2, &err) < 0);
  CHECK_STR (err.msg, want);
  ps[0].host_ip[0] = '\0';   /* every address vs loopback: still the same port */
  CHECK (nook_port_assign (ps, 2, &err) < 0);
  CHECK_STR (err.msg, want);
  strcpy (ps[0].host_ip, "::");   /* IPv6 vs IPv4 loopback: no collision */
  CHECK (nook_port_assign (ps, 2, &err) == 0 || strstr (err.msg, "conflicting") == NULL);
  strcpy (ps[1].host_ip, "::1");  /* every IPv6 address vs ::1 */
  CHECK (nook_port_assign (ps, 2, &err) < 0);
  CHECK_STR (err.msg, want);
  ps[1].udp = true;          /* tcp and udp: fine */
  if (nook_port_assign (ps, 2, &err) < 0)
    printf ("    tcp+udp %u: %s\n", port, err.msg);

  /* overlapping ranges */
  ps[0] = lo_port (10000, 80, 5, false);
  ps[1] = lo_port (10003, 60, 1, false);
  CHECK (nook_port_assign (ps, 2, &err) < 0);
  CHECK_STR (err.msg, "conflicting port mappings for host port 10003 (protocol tcp)");
  ps[1] = lo_port (9990, 60, 11, false);
  CHECK (nook_port_assign (ps, 2, &err) < 0);
  CHECK (strstr (err.msg, "host port 10000") != NULL);
}

/* ---- the forwarder ---- */

/* Echo servers in a child: each TCP listener echoes every connection until EOF, then closes; each UDP
 * socket answers every datagram. */
static pid_t
echo_server (int *fds, size_t n)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  signal (SIGCHLD, SIG_IGN);
  for (;;)
    {
      struct pollfd pfd[8];
      char buf[65536];
      for (size_t i = 0; i < n; i++)
        pfd[i] = (struct pollfd) { .fd = fds[i], .events = POLLIN };
      if (poll (pfd, n, -1) < 0)
        continue;
      for (size_t i = 0; i < n; i++)
        {
          int type = 0;
          socklen_t tl = sizeof (type);
          if (!(pfd[i].revents & POLLIN))
            continue;
          getsockopt (fds[i], SOL_SOCKET, SO_TYPE, &type, &tl);
          if (type == SOCK_DGRAM)
            {
              struct sockaddr_storage peer;
              socklen_t pl = sizeof (peer);
              ssize_t r = recvfrom (fds[i], buf, sizeof (buf), 0, (struct sockaddr *) &peer, &pl);
              if (r > 0)
                sendto (fds[i], buf, (size_t) r, 0, (struct sockaddr *) &peer, pl);
              continue;
            }
          int c = accept (fds[i], NULL, NULL);
          if (c >= 0 && fork () == 0)
            {
              ssize_t r;
              while ((r = read (c, buf, sizeof (buf))) > 0)
                for (ssize_t off = 0; off < r;)
                  {
                    ssize_t w = write (c, buf + off, (size_t) (r - off));
                    if (w <= 0)
                      _exit (1);
                    off += w;
                  }
              shutdown (c, SHUT_WR);
              _exit (0);
            }
          if (c >= 0)
            close (c);
        }
    }
}

/* A socket of TYPE connected to 127.0.0.1:PORT, or [::1]:PORT when V6. */
static int
connect_any (int type, uint16_t port, bool v6)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons (port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  int fd = socket (v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd >= 0
      && (v6 ? connect (fd, (struct sockaddr *) &sa6, sizeof (sa6)) : connect (fd, (struct sockaddr *) &sa, sizeof (sa)))
             < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
connect_lo (int type, uint16_t port)
{
  return connect_any (type, port, false);
}

/* Send LEN bytes while reading the echo, then half-close; read until EOF.  The number of bytes read back
 * (must equal LEN, with the same content), or -1. */
static ssize_t
echo_exchange (int fd, const char *data, size_t len, char *back, size_t cap)
{
  size_t sent = 0, got = 0;
  bool shut = false;

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN | (shut ? 0 : POLLOUT) };
      if (poll (&pfd, 1, 10000) <= 0)
        return -1;
      if ((pfd.revents & POLLOUT) && !shut)
        {
          ssize_t w = send (fd, data + sent, len - sent > 65536 ? 65536 : len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
          if (w < 0 && errno != EAGAIN)
            return -1;
          sent += w > 0 ? (size_t) w : 0;
          if (sent == len)
            {
              shutdown (fd, SHUT_WR);
              shut = true;
            }
        }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t r = recv (fd, back + got, cap - got, MSG_DONTWAIT);
          if (r == 0)
            return shut ? (ssize_t) got : -1;
          if (r < 0 && errno != EAGAIN)
            return -1;
          got += r > 0 ? (size_t) r : 0;
          if (got == cap)
            return -1;
        }
    }
}

static void
check_tcp_echo_af (uint16_t port, size_t len, bool v6)
{
  char *data = malloc (len), *back = malloc (len + 1);
  int fd = connect_any (SOCK_STREAM, port, v6);
  ssize_t got;

  for (size_t i = 0; i < len; i++)
    data[i] = (char) (i * 7 + i / 251);
  CHECK (fd >= 0);
  got = fd >= 0 ? echo_exchange (fd, data, len, back, len + 1) : -1;
  CHECK (got == (ssize_t) len);
  CHECK (got == (ssize_t) len && memcmp (data, back, len) == 0);
  if (fd >= 0)
    close (fd);
  free (data);
  free (back);
}

static void
check_tcp_echo (uint16_t port, size_t len)
{
  check_tcp_echo_af (port, len, false);
}

static void
check_udp_echo (uint16_t port, const char *msg)
{
  int fd = connect_lo (SOCK_DGRAM, port);
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char buf[256] = { 0 };

  CHECK (fd >= 0 && send (fd, msg, strlen (msg), 0) == (ssize_t) strlen (msg));
  CHECK (poll (&pfd, 1, 5000) == 1);
  CHECK (recv (fd, buf, sizeof (buf) - 1, MSG_DONTWAIT) == (ssize_t) strlen (msg));
  CHECK_STR (buf, msg);
  close (fd);
}

/* Many connections at once, each echoing a little. */
static void
check_many (uint16_t port, int n)
{
  int fds[200];
  char buf[32];

  for (int i = 0; i < n; i++)
    {
      fds[i] = connect_lo (SOCK_STREAM, port);
      CHECK (fds[i] >= 0);
    }
  for (int i = 0; i < n; i++)
    {
      snprintf (buf, sizeof (buf), "conn %d", i);
      CHECK (send (fds[i], buf, strlen (buf), MSG_NOSIGNAL) == (ssize_t) strlen (buf));
      shutdown (fds[i], SHUT_WR);
    }
  for (int i = 0; i < n; i++)
    {
      char want[32], got[32] = { 0 };
      size_t off = 0;
      ssize_t r;
      struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
      snprintf (want, sizeof (want), "conn %d", i);
      while (poll (&pfd, 1, 5000) == 1 && (r = recv (fds[i], got + off, sizeof (got) - 1 - off, 0)) > 0)
        off += (size_t) r;
      CHECK_STR (got, want);
      close (fds[i]);
    }
}

static void
test_forward (void)
{
  struct nook_port echo_range = lo_port (0, 1, 2, false), ps[5];
  uint16_t udp_port = 0, dead_port = free_port (SOCK_STREAM);
  int srv[3];
  nook_err err = { 0 };
  pid_t echo, fwd = 0;
  int status = 0, fd;
  char c;

  /* the "container": two consecutive TCP echo ports and a UDP echo port on loopback */
  CHECK (nook_port_assign (&echo_range, 1, &err) == 0);
  srv[0] = sock_bound (SOCK_STREAM, echo_range.host_port, NULL);
  srv[1] = sock_bound (SOCK_STREAM, (uint16_t) (echo_range.host_port + 1), NULL);
  srv[2] = sock_bound (SOCK_DGRAM, 0, &udp_port);
  CHECK (srv[0] >= 0 && srv[1] >= 0 && srv[2] >= 0);
  echo = echo_server (srv, 3);
  for (int i = 0; i < 3; i++)
    close (srv[i]);

  ps[0] = lo_port (0, echo_range.host_port, 1, false);
  ps[1] = lo_port (0, echo_range.host_port, 2, false);
  ps[2] = lo_port (0, udp_port, 1, true);
  ps[3] = lo_port (0, dead_port, 1, false);
  ps[4] = lo_port (0, echo_range.host_port, 1, false);
  strcpy (ps[4].host_ip, "::1");
  CHECK (nook_port_assign (ps, 5, &err) == 0);
  CHECK (nook_forward_start (ps, 5, "127.0.0.1", &fwd, &err) == 0);
  if (fwd <= 0)
    printf ("    %s\n", err.msg);
  CHECK (fwd > 0);

  check_tcp_echo (ps[0].host_port, 1 << 20);
  check_tcp_echo ((uint16_t) (ps[1].host_port + 1), 1 << 20);   /* the second port of a range */
  check_tcp_echo (ps[1].host_port, 10);
  check_tcp_echo (ps[0].host_port, 0);                          /* only a half-close */
  check_many (ps[0].host_port, 200);
  check_tcp_echo_af (ps[4].host_port, 100000, true);   /* [::1] on the host side */
  check_udp_echo (ps[2].host_port, "hello over udp");
  check_udp_echo (ps[2].host_port, "another client");

  /* nothing listens at the container port: the client's connection is closed */
  fd = connect_lo (SOCK_STREAM, ps[3].host_port);
  CHECK (fd >= 0);
  if (fd >= 0)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      CHECK (poll (&pfd, 1, 5000) == 1);
      CHECK (recv (fd, &c, 1, 0) <= 0);
      close (fd);
    }

  /* a host port that is taken now: the bind error comes back, no forwarder is left */
  {
    pid_t other = 0;
    CHECK (nook_forward_start (&ps[0], 1, "127.0.0.1", &other, &err) < 0);
    CHECK (other == 0);
    CHECK (strstr (err.msg, "bind: address already in use") != NULL);
    CHECK (err.code == EADDRINUSE);
    CHECK (nook_forward_start (&ps[4], 1, "127.0.0.1", &other, &err) < 0);
    CHECK (strstr (err.msg, "listen tcp6 [::1]:") != NULL);
  }

  if (fwd > 0)
    {
      CHECK (kill (fwd, SIGTERM) == 0);
      CHECK (waitpid (fwd, &status, 0) == fwd);
      CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
      /* its ports are free again */
      CHECK (connect_lo (SOCK_STREAM, ps[0].host_port) < 0);
    }
  kill (echo, SIGKILL);
  waitpid (echo, NULL, 0);
}

int
main (void)
{
  signal (SIGPIPE, SIG_IGN);
  alarm (120);
  RUN (test_parse_valid);
  RUN (test_parse_invalid);
  RUN (test_parse_exposed);
  RUN (test_format);
  RUN (test_assign_in_use);
  RUN (test_assign_random);
  RUN (test_assign_duplicates);
  RUN (test_forward);
  return HARNESS_END ();
}
