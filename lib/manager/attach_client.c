/* The attach client: our terminal <-> a container's monitor (RUNROOT/<id>/attach.sock). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "manager/logs_internal.h"
#include "manager/monitor.h"
#include "util/term.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

struct client
{
  int sock;
  int sigfd;
  sigset_t set, oldmask;
  bool mask_set;
  bool raw;
  struct termios saved;
  bool tty, interactive, sig_proxy;
  bool stdin_open;
  bool out_ok[3];
  struct nook_detach detach;
  struct nook_buf sendq;    /* frames to the monitor */
  struct nook_buf recvq;    /* bytes of an incomplete frame */
  bool done;
  int exit_code;
  bool failed;              /* the container could not start: FAILURE */
  nook_err failure;
};

static int
attach_connect (const char *runroot, const char *id, nook_err *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_free char *dir = xasprintf ("%s/%s", runroot, id);
  cleanup_close int dirfd = -1, fd = -1;

  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0 && errno != ENOENT)
    return nook_error (err, errno, "open `%s`", dir);
  if (strlen (dir) + sizeof ("/attach.sock") <= sizeof (addr.sun_path))
    snprintf (addr.sun_path, sizeof (addr.sun_path), "%s/attach.sock", dir);
  else
    snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/attach.sock", dirfd);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error (err, errno, "socket");
  if (dirfd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    {
      if (dirfd < 0 || errno == ENOENT || errno == ECONNREFUSED)
        return nook_error (err, ECONNREFUSED, "attach to container `%s`: its monitor is not running", id);
      return nook_error (err, errno, "connect `%s/attach.sock`", dir);
    }
  return steal_fd (&fd);
}

/* ---- terminal and signals ---- */

static int
raw_mode (struct client *c, nook_err *err)
{
  int r;

  if (!c->tty || !c->interactive)
    return 0;
  r = nook_term_raw (STDIN_FILENO, &c->saved, err);
  if (r < 0)
    return -1;
  c->raw = r == 1;
  return 0;
}

static void
send_winsize (struct client *c)
{
  struct winsize ws;
  unsigned char p[4];

  if (!c->tty)
    return;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  p[0] = (unsigned char) (ws.ws_row >> 8);
  p[1] = (unsigned char) ws.ws_row;
  p[2] = (unsigned char) (ws.ws_col >> 8);
  p[3] = (unsigned char) ws.ws_col;
  nook_attach_frame (&c->sendq, NOOK_ATTACH_WINSIZE, p, sizeof (p));
}

static int
block_signals (struct client *c, nook_err *err)
{
  static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGWINCH);
  sigaddset (&set, SIGPIPE);
  if (c->sig_proxy)
    for (size_t i = 0; i < sizeof (proxied) / sizeof (proxied[0]); i++)
      sigaddset (&set, proxied[i]);
  c->set = set;
  if (sigprocmask (SIG_BLOCK, &set, &c->oldmask) < 0)
    return nook_error (err, errno, "sigprocmask");
  c->mask_set = true;
  c->sigfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (c->sigfd < 0)
    return nook_error (err, errno, "signalfd");
  return 0;
}

static void
handle_signals (struct client *c)
{
  struct signalfd_siginfo si;

  while (read (c->sigfd, &si, sizeof (si)) == (ssize_t) sizeof (si))
    {
      unsigned char sig = (unsigned char) si.ssi_signo;
      if (sig == SIGWINCH)
        send_winsize (c);
      else if (sig != SIGPIPE)
        nook_attach_frame (&c->sendq, NOOK_ATTACH_SIGNAL, &sig, 1);
    }
}

static void
client_cleanup (struct client *c)
{
  if (c->raw)
    tcsetattr (STDIN_FILENO, TCSADRAIN, &c->saved);
  if (c->sigfd >= 0)
    close (c->sigfd);
  if (c->mask_set)
    {
      /* Drop what was caught for the proxy before unblocking, so it does not hit us now. */
      struct timespec zero = { 0 };
      while (sigtimedwait (&c->set, NULL, &zero) > 0)
        ;
      sigprocmask (SIG_SETMASK, &c->oldmask, NULL);
    }
  if (c->sock >= 0)
    close (c->sock);
  nook_buf_free (&c->sendq);
  nook_buf_free (&c->recvq);
}

/* ---- I/O ---- */

static void
on_frame (struct client *c, int type, const char *p, size_t len)
{
  char code[16];

  if (type == NOOK_ATTACH_OUT || type == NOOK_ATTACH_ERR)
    {
      int fd = type == NOOK_ATTACH_OUT ? STDOUT_FILENO : STDERR_FILENO;
      if (c->out_ok[fd] && nook_write_all (fd, p, len) < 0)
        c->out_ok[fd] = false; /* keep reading, drop the output */
    }
  else if (type == NOOK_ATTACH_FAILED)
    {
      int status = 0, off = 0;
      char msg[NOOK_ERR_MSG_MAX];

      snprintf (msg, sizeof (msg), "%.*s", (int) len, p);
      if (sscanf (msg, "%d %n", &status, &off) < 1)
        off = 0;
      nook_error_input (&c->failure, "%s", msg + off);
      c->failure.status = status > 0 ? status : NOOK_EXIT_ERROR;
      c->failed = c->done = true;
    }
  else if (type == NOOK_ATTACH_EXIT)
    {
      snprintf (code, sizeof (code), "%.*s", (int) (len < 15 ? len : 15), p);
      c->exit_code = atoi (code);
      c->done = true;
    }
}

static int
sock_read (struct client *c, nook_err *err)
{
  char buf[65536];
  ssize_t n = read (c->sock, buf, sizeof (buf));
  int type, r;
  const char *payload;
  size_t plen, total;

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n < 0)
    return nook_error (err, errno, "read from the container's monitor");
  if (n == 0)
    return nook_error (err, ECONNRESET, "the container's monitor went away before reporting the exit");
  nook_buf_add (&c->recvq, buf, (size_t) n);
  while (!c->done && (r = nook_attach_frame_next (c->recvq.data, c->recvq.len, &type, &payload, &plen, &total)) == 1)
    {
      on_frame (c, type, payload, plen);
      nook_buf_consume (&c->recvq, total);
    }
  if (!c->done && r < 0)
    return nook_error_input (err, "bad frame from the container's monitor");
  return 0;
}

/* Our stdin -> stdin frames.  Returns 1 when the detach keys were typed. */
static int
stdin_read (struct client *c)
{
  char buf[8192];
  struct nook_buf fwd = { 0 };
  ssize_t n = read (STDIN_FILENO, buf, sizeof (buf));
  bool detach;

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0)
    {
      c->stdin_open = false;
      nook_attach_frame (&c->sendq, NOOK_ATTACH_STDIN_EOF, NULL, 0);
      return 0;
    }
  detach = nook_detach_filter (&c->detach, buf, (size_t) n, &fwd);
  if (fwd.len)
    nook_attach_frame (&c->sendq, NOOK_ATTACH_STDIN, fwd.data, fwd.len);
  nook_buf_free (&fwd);
  return detach ? 1 : 0;
}

static int
sock_flush (struct client *c, bool block, nook_err *err)
{
  while (c->sendq.len > 0)
    {
      ssize_t n = send (c->sock, c->sendq.data, c->sendq.len, MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n < 0)
        return nook_error (err, errno, "write to the container's monitor");
      nook_buf_consume (&c->sendq, (size_t) n);
    }
  return 0;
}

static int
client_loop (struct client *c, nook_err *err)
{
  while (!c->done)
    {
      struct pollfd p[3] = {
        { .fd = c->sock, .events = POLLIN | (c->sendq.len ? POLLOUT : 0) },
        { .fd = c->sigfd, .events = POLLIN },
        { .fd = c->stdin_open && c->sendq.len < (1U << 20) ? STDIN_FILENO : -1, .events = POLLIN },
      };

      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return nook_error (err, errno, "poll");
        }
      if (p[1].revents)
        handle_signals (c);
      if (p[2].revents && stdin_read (c) == 1)
        {
          c->exit_code = -1; /* detached: the container goes on */
          return sock_flush (c, true, err);
        }
      if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && sock_read (c, err) < 0)
        return -1;
      if (c->sendq.len && sock_flush (c, false, err) < 0 && !c->done)
        return -1;
    }
  return 0;
}

static int
attach_run (struct client *c, const char *runroot, const char *id, const char *detach_keys, nook_err *err)
{
  if (nook_detach_parse (detach_keys, &c->detach, err) < 0)
    return -1;
  if (!c->tty)
    memset (&c->detach, 0, sizeof (c->detach)); /* like podman: the keys detach a terminal session */
  c->sock = attach_connect (runroot, id, err);
  if (c->sock < 0 || block_signals (c, err) < 0 || raw_mode (c, err) < 0)
    return -1;
  send_winsize (c);
  nook_attach_frame (&c->sendq, NOOK_ATTACH_READY, NULL, 0);
  if (!c->interactive)
    c->stdin_open = false;
  return client_loop (c, err);
}

int
nook_monitor_attach_full (const char *runroot, const char *id, bool tty, bool interactive, bool sig_proxy,
                          const char *detach_keys, int *exit_code, nook_err *err)
{
  struct client c = { .sock = -1, .sigfd = -1, .tty = tty, .interactive = interactive, .sig_proxy = sig_proxy,
                      .stdin_open = true, .out_ok = { true, true, true } };
  int ret;

  *exit_code = -1;
  ret = attach_run (&c, runroot, id, detach_keys, err);
  if (ret == 0 && c.failed)
    {
      *err = c.failure;
      ret = -1;
    }
  if (ret == 0)
    *exit_code = c.exit_code;
  client_cleanup (&c);
  return ret;
}

int
nook_monitor_attach (const char *runroot, const char *id, bool tty, bool interactive, const char *detach_keys,
                     int *exit_code, nook_err *err)
{
  return nook_monitor_attach_full (runroot, id, tty, interactive, true, detach_keys, exit_code, err);
}
