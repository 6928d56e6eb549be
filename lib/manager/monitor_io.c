/* The monitor's event loop: container output -> log + attach clients, clients -> container stdin, signals,
 * the exit and the drain that follows it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "manager/monitor_internal.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strutil.h"

enum
{
  P_SIG,
  P_LISTEN,
  P_OUT,
  P_ERR,
  P_IN,
  P_CLIENTS,
};

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the attach socket ---- */

int
mon_listen (struct mon *m, nook_err *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_free char *dir = xasprintf ("%s/%s", m->o->runroot, m->o->id);
  cleanup_close int dirfd = -1;

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `%s`", dir);
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return nook_error (err, errno, "open `%s`", dir);
  if (strlen (dir) + sizeof ("/attach.sock") <= sizeof (addr.sun_path))
    snprintf (addr.sun_path, sizeof (addr.sun_path), "%s/attach.sock", dir);
  else
    snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/attach.sock", dirfd);
  unlinkat (dirfd, "attach.sock", 0);
  m->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0)
    return nook_error (err, errno, "socket");
  if (bind (m->listen_fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return nook_error (err, errno, "bind `%s/attach.sock`", dir);
  if (listen (m->listen_fd, MON_MAX_CLIENTS) < 0)
    return nook_error (err, errno, "listen `%s/attach.sock`", dir);
  return 0;
}

static void
client_drop (struct mon *m, struct mon_client *c)
{
  close (c->fd);
  c->fd = -1;
  c->out.len = c->in.len = 0;
  m->n_clients--;
}

static void
accept_client (struct mon *m)
{
  int fd = accept4 (m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd < 0)
    return;
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    if (m->clients[i].fd < 0)
      {
        struct mon_client *c = &m->clients[i];
        c->fd = fd;
        c->out.len = c->in.len = 0;
        m->n_clients++;
        return;
      }
  close (fd); /* full */
}

/* ---- output ---- */

static void
deliver (struct mon *m, int stream, const char *data, size_t len)
{
  struct nook_buf line = { 0 }, frame = { 0 };
  char ts[40];

  nook_log_format_ts (nook_log_now_ns (), ts, sizeof (ts));
  nook_log_format (&line, ts, stream, data, len);
  if (nook_write_all (m->log_fd, line.data, line.len) < 0 && !m->log_failed)
    {
      m->log_failed = true;
      nook_warn ("container `%s`: write ctr.log: %s", m->o->id, strerror (errno));
    }
  nook_attach_frame (&frame, stream, data, len);
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    if (m->clients[i].fd >= 0)
      nook_buf_add (&m->clients[i].out, frame.data, frame.len);
  nook_buf_free (&line);
  nook_buf_free (&frame);
}

/* One read from the container's stdout/stderr (or the pty).  EOF, or EIO on the pty: closed. */
static void
pump_output (struct mon *m, int *fd, int stream)
{
  char buf[MON_READ_CHUNK];
  ssize_t n = read (*fd, buf, sizeof (buf));

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      if (*fd != m->master)
        close (*fd);
      *fd = -1;
      return;
    }
  deliver (m, stream, buf, (size_t) n);
}

static bool
clients_backed_up (struct mon *m)
{
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    if (m->clients[i].fd >= 0 && m->clients[i].out.len > MON_HIGH_WATER)
      return true;
  return false;
}

static void
client_flush (struct mon *m, struct mon_client *c)
{
  while (c->out.len > 0)
    {
      ssize_t n = send (c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          client_drop (m, c);
          return;
        }
      nook_buf_consume (&c->out, (size_t) n);
    }
}

/* ---- input ---- */

static void
close_stdin (struct mon *m)
{
  if (m->in_fd >= 0 && m->in_fd != m->master)
    close (m->in_fd);
  m->in_fd = -1;
  m->stdin_q.len = 0;
}

static void
client_frame (struct mon *m, int type, const char *p, size_t len)
{
  struct winsize ws = { 0 };

  switch (type)
    {
    case NOOK_ATTACH_STDIN:
      if (m->in_fd >= 0)
        nook_buf_add (&m->stdin_q, p, len);
      break;
    case NOOK_ATTACH_WINSIZE:
      if (m->master < 0 || len < 4)
        break;
      ws.ws_row = (unsigned short) (((unsigned char) p[0] << 8) | (unsigned char) p[1]);
      ws.ws_col = (unsigned short) (((unsigned char) p[2] << 8) | (unsigned char) p[3]);
      if (ioctl (m->master, TIOCSWINSZ, &ws) < 0)
        nook_warn ("container `%s`: TIOCSWINSZ: %s", m->o->id, strerror (errno));
      break;
    case NOOK_ATTACH_STDIN_EOF:
      if (m->master < 0)
        m->stdin_eof = true;
      break;
    case NOOK_ATTACH_READY:
      m->client_ready = true;
      break;
    case NOOK_ATTACH_SIGNAL:
      if (len >= 1 && !m->exited && m->pid > 0)
        kill (m->pid, (unsigned char) p[0]);
      break;
    }
}

static void
client_read (struct mon *m, struct mon_client *c)
{
  char buf[65536];
  ssize_t n = recv (c->fd, buf, sizeof (buf), MSG_DONTWAIT);
  int type, r;
  const char *payload;
  size_t plen, total;

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      client_drop (m, c);
      return;
    }
  nook_buf_add (&c->in, buf, (size_t) n);
  while ((r = nook_attach_frame_next (c->in.data, c->in.len, &type, &payload, &plen, &total)) == 1)
    {
      client_frame (m, type, payload, plen);
      nook_buf_consume (&c->in, total);
    }
  if (r < 0)
    client_drop (m, c);
}

static void
pump_stdin (struct mon *m)
{
  while (m->stdin_q.len > 0)
    {
      ssize_t n = write (m->in_fd, m->stdin_q.data, m->stdin_q.len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          close_stdin (m); /* the container closed its stdin */
          return;
        }
      nook_buf_consume (&m->stdin_q, (size_t) n);
    }
}

/* ---- signals ---- */

static void
reap (struct mon *m)
{
  int ws;
  pid_t r;

  while ((r = waitpid (-1, &ws, WNOHANG)) > 0)
    if (r != m->pid)
      nook_ctr_net_reaped (&m->net, r);
    else
      {
        m->exited = true;
        m->status = nook_exit_status (ws);
        /* What the init leaves behind (it shared the host's pid namespace) goes with it. */
        nook_kill_mntns_members (m->mntns_fd, SIGKILL);
      }
}

static void
handle_signals (struct mon *m)
{
  struct signalfd_siginfo si;

  while (read (m->sigfd, &si, sizeof (si)) == (ssize_t) sizeof (si))
    {
      int sig = (int) si.ssi_signo;
      if (sig == SIGCHLD)
        reap (m);
      else if (sig != SIGPIPE && sig != SIGWINCH && m->o->sig_proxy && !m->exited)
        kill (m->pid, sig);
    }
}

/* ---- the loop ---- */

static size_t
build_pollfds (struct mon *m, struct pollfd *p)
{
  bool out_ok = !clients_backed_up (m);
  size_t n = P_CLIENTS;

  p[P_SIG] = (struct pollfd){ .fd = m->sigfd, .events = POLLIN };
  p[P_LISTEN] = (struct pollfd){ .fd = m->n_clients < MON_MAX_CLIENTS ? m->listen_fd : -1, .events = POLLIN };
  p[P_OUT] = (struct pollfd){ .fd = out_ok ? m->out_fd : -1, .events = POLLIN };
  p[P_ERR] = (struct pollfd){ .fd = out_ok ? m->err_fd : -1, .events = POLLIN };
  p[P_IN] = (struct pollfd){ .fd = m->stdin_q.len ? m->in_fd : -1, .events = POLLOUT };
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    {
      struct mon_client *c = &m->clients[i];
      short ev = (m->stdin_q.len < MON_HIGH_WATER ? POLLIN : 0) | (c->out.len ? POLLOUT : 0);
      p[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
    }
  return n;
}

static void
dispatch (struct mon *m, struct pollfd *p, size_t n)
{
  const short in = POLLIN | POLLHUP | POLLERR;

  if (p[P_SIG].revents)
    handle_signals (m);
  if (p[P_OUT].revents & in)
    pump_output (m, &m->out_fd, NOOK_LOG_STDOUT);
  if (p[P_ERR].revents & in)
    pump_output (m, &m->err_fd, NOOK_LOG_STDERR);
  for (size_t i = P_CLIENTS; i < n; i++)
    {
      struct mon_client *c = &m->clients[i - P_CLIENTS];
      if (c->fd >= 0 && (p[i].revents & (POLLOUT | POLLERR | POLLHUP)) && c->out.len)
        client_flush (m, c);
      if (c->fd >= 0 && (p[i].revents & in))
        client_read (m, c);
    }
  if (p[P_IN].revents && m->in_fd >= 0)
    pump_stdin (m);
  if (m->stdin_eof && m->stdin_q.len == 0)
    close_stdin (m);
  if (p[P_LISTEN].revents & POLLIN)
    accept_client (m);
}

int
mon_loop (struct mon *m, nook_err *err)
{
  struct pollfd p[P_CLIENTS + MON_MAX_CLIENTS];

  reap (m); /* it may have exited before SIGCHLD was blocked */
  for (;;)
    {
      size_t n;
      int r;

      if (m->exited && m->out_fd < 0 && m->err_fd < 0)
        return 0;
      n = build_pollfds (m, p);
      r = poll (p, n, m->exited ? MON_DRAIN_IDLE_MS : -1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return nook_error (err, errno, "poll");
      if (r == 0 && m->exited)
        return 0; /* outputs held open by someone else, or clients not reading: stop draining */
      dispatch (m, p, n);
    }
}

void
mon_wait_first_client (struct mon *m, int ms)
{
  int64_t deadline = now_ms () + ms;
  bool connected = false;

  while (!m->client_ready && !m->exited)
    {
      struct pollfd p[P_CLIENTS + MON_MAX_CLIENTS];
      size_t n = build_pollfds (m, p);
      int64_t left = deadline - now_ms ();

      if (!connected && m->n_clients > 0)
        {
          connected = true; /* now only its READY frame is awaited */
          deadline = now_ms () + MON_CLIENT_READY_MS;
          continue;
        }
      if (left <= 0)
        return;
      p[P_OUT].fd = p[P_ERR].fd = p[P_IN].fd = -1;
      if (poll (p, n, (int) left) < 0 && errno != EINTR)
        return;
      dispatch (m, p, n);
    }
}

/* Blocking send of everything queued, giving up on a client that takes no data for 5 s. */
static void
client_finish (struct mon *m, struct mon_client *c, int type, const char *payload)
{
  struct timeval tv = { .tv_sec = 5 };
  int fl = fcntl (c->fd, F_GETFL);

  nook_attach_frame (&c->out, type, payload, strlen (payload));
  fcntl (c->fd, F_SETFL, fl & ~O_NONBLOCK);
  setsockopt (c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
  while (c->out.len > 0)
    {
      ssize_t n = send (c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      nook_buf_consume (&c->out, (size_t) n);
    }
  shutdown (c->fd, SHUT_WR);
  client_drop (m, c);
}

void
mon_finish_clients (struct mon *m, int type, const char *payload)
{
  for (size_t i = 0; i < MON_MAX_CLIENTS; i++)
    if (m->clients[i].fd >= 0)
      client_finish (m, &m->clients[i], type, payload);
}
