/* recvtty SOCKET-PATH: the receiving end of `--console-socket` for system tests (like runc's recvtty).
 * Listens on SOCKET-PATH (it appears only once it accepts connections), takes one connection, receives
 * the pty master (SCM_RIGHTS), then copies stdin -> master and master -> stdout until the master reports
 * EIO (no process holds the terminal any more).  Exits 0, or 1 on error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/terminal.h"

static int
fail (const char *what)
{
  fprintf (stderr, "recvtty: %s: %s\n", what, strerror (errno));
  return -1;
}

/* Bind to a temporary name, listen, then rename: a client never sees a socket that refuses it. */
static int
listen_at (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int s, n;

  n = snprintf (addr.sun_path, sizeof (addr.sun_path), "%s.%d.tmp", path, (int) getpid ());
  if (n < 0 || (size_t) n >= sizeof (addr.sun_path))
    {
      errno = ENAMETOOLONG;
      return fail (path);
    }
  s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return fail ("socket");
  unlink (addr.sun_path);
  if (bind (s, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return fail ("bind");
  if (listen (s, 1) < 0)
    return fail ("listen");
  if (rename (addr.sun_path, path) < 0)
    return fail ("rename");
  return s;
}

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        {
          struct pollfd p = { .fd = fd, .events = POLLOUT };
          poll (&p, 1, 100);
          continue;
        }
      if (n < 0)
        return -1;
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Copy until the master reports EIO (or EOF).  Input is written to the master with the data kept in
 * a buffer while the pty is full, so output keeps flowing in the meantime. */
static int
proxy (int master)
{
  char in[4096], out[8192];
  size_t in_len = 0, in_off = 0;
  bool in_open = true;

  fcntl (master, F_SETFL, fcntl (master, F_GETFL) | O_NONBLOCK);
  for (;;)
    {
      struct pollfd p[2] = { { .fd = master, .events = POLLIN | (in_len ? POLLOUT : 0) },
                             { .fd = (in_open && !in_len) ? STDIN_FILENO : -1, .events = POLLIN } };
      ssize_t n;

      if (poll (p, 2, -1) < 0 && errno != EINTR)
        return fail ("poll");
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = read (master, out, sizeof (out));
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return 0; /* EIO: the terminal is gone */
          if (n > 0 && write_all (STDOUT_FILENO, out, (size_t) n) < 0)
            return fail ("write stdout");
        }
      if ((p[0].revents & POLLOUT) && in_len)
        {
          n = write (master, in + in_off, in_len - in_off);
          if (n > 0 && (in_off += (size_t) n) == in_len)
            in_len = in_off = 0;
        }
      if (p[1].revents)
        {
          n = read (STDIN_FILENO, in, sizeof (in));
          if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
            in_open = false;
          else if (n > 0)
            in_len = (size_t) n, in_off = 0;
        }
    }
}

int
main (int argc, char **argv)
{
  nook_err err = { 0 };
  int lsock, conn, master;

  if (argc != 2)
    {
      fprintf (stderr, "usage: recvtty SOCKET-PATH\n");
      return 2;
    }
  lsock = listen_at (argv[1]);
  if (lsock < 0)
    return 1;
  conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    {
      fail ("accept");
      return 1;
    }
  close (lsock);
  unlink (argv[1]);
  master = nook_recv_fd (conn, &err);
  if (master < 0)
    {
      fprintf (stderr, "recvtty: %s\n", err.msg);
      return 1;
    }
  close (conn);
  return proxy (master) < 0 ? 1 : 0;
}
