/* Terminals for the container's process and fd passing over unix sockets (runc's console-socket protocol). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/terminal.h"
#include "util/cleanup.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

#define NOOK_FD_NAME_MAX 4096

/* The peer of MASTER: TIOCGPTPEER (no path lookup, works whatever /dev/pts is), else ptsname_r + open. */
static int
open_pty_peer (int master, nook_err *err)
{
  char name[64];
  int fd;

  fd = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  if (errno != EINVAL && errno != ENOTTY)
    return nook_error (err, errno, "ioctl TIOCGPTPEER");

  errno = ptsname_r (master, name, sizeof (name));
  if (errno != 0)
    return nook_error (err, errno, "ptsname");
  fd = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", name);
  return fd;
}

static int
set_winsize (int fd, unsigned int rows, unsigned int cols, nook_err *err)
{
  struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };

  if (rows > 0xffff || cols > 0xffff)
    return nook_error_input (err, "terminal size %ux%u is too large", rows, cols);
  if (ioctl (fd, TIOCSWINSZ, &ws) < 0)
    return nook_error (err, errno, "ioctl TIOCSWINSZ");
  return 0;
}

/* Move *FD above 2 so that dup2 onto 0, 1, 2 neither clobbers it nor keeps its O_CLOEXEC. */
static int
move_above_stdio (int *fd, nook_err *err)
{
  int nfd;

  if (*fd > 2)
    return 0;
  nfd = fcntl (*fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0)
    return nook_error (err, errno, "fcntl F_DUPFD_CLOEXEC");
  close (*fd);
  *fd = nfd;
  return 0;
}

/* Make SLAVE our controlling terminal in a new session and our stdin, stdout and stderr. */
static int
become_terminal_owner (int slave, nook_err *err)
{
  int i;

  if (setsid () < 0)
    return nook_error (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return nook_error (err, errno, "ioctl TIOCSCTTY");
  for (i = 0; i <= 2; i++)
    if (dup2 (slave, i) < 0)
      return nook_error (err, errno, "dup2 terminal onto fd %d", i);
  return 0;
}

int
nook_terminal_setup_child (unsigned int rows, unsigned int cols, uid_t owner, nook_err *err)
{
  cleanup_close int master = -1;
  cleanup_close int slave = -1;

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return nook_error (err, errno, "open `/dev/ptmx`");
  if (move_above_stdio (&master, err) < 0)
    return -1;
  if (unlockpt (master) < 0)
    return nook_error (err, errno, "unlockpt");
  slave = open_pty_peer (master, err);
  if (slave < 0 || move_above_stdio (&slave, err) < 0)
    return -1;
  if ((rows || cols) && set_winsize (slave, rows, cols, err) < 0)
    return -1;
  /* The terminal belongs to the process's user (its group stays devpts' gid= option, the tty group), as
   * with runc; an id the user namespace does not map (a one-id rootless map) leaves it as it is. */
  if (fchown (slave, owner, (gid_t) -1) < 0 && errno != EINVAL && errno != EPERM)
    return nook_error (err, errno, "chown the container's terminal");
  if (become_terminal_owner (slave, err) < 0)
    return -1;
  return steal_fd (&master);
}

int
nook_send_fd (int sock, int fd, const char *name, nook_err *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  const char *payload = (name && *name) ? name : "";
  struct iovec iov = { .iov_base = (void *) payload, .iov_len = *payload ? strlen (payload) : 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof (ctl.buf) };
  struct cmsghdr *cmsg;
  ssize_t n;

  memset (&ctl, 0, sizeof (ctl));
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));

  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return nook_error (err, errno, "sendmsg fd %d", fd);
  return 0;
}

/* Close every fd carried by MSG's control messages (used when we reject the message). */
static void
close_passed_fds (struct msghdr *msg)
{
  struct cmsghdr *cmsg;

  for (cmsg = CMSG_FIRSTHDR (msg); cmsg; cmsg = CMSG_NXTHDR (msg, cmsg))
    {
      size_t i, nfds;

      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len < CMSG_LEN (0))
        continue;
      nfds = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (i = 0; i < nfds; i++)
        {
          int fd;
          memcpy (&fd, CMSG_DATA (cmsg) + i * sizeof (int), sizeof (int));
          close (fd);
        }
    }
}

/* Exactly one SOL_SOCKET/SCM_RIGHTS message carrying exactly one fd, or -1. */
static int
single_passed_fd (struct msghdr *msg)
{
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (msg);
  int fd;

  if (cmsg == NULL || CMSG_NXTHDR (msg, cmsg) != NULL)
    return -1;
  if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN (sizeof (int)))
    return -1;
  memcpy (&fd, CMSG_DATA (cmsg), sizeof (int));
  return fd;
}

int
nook_recv_fd (int sock, nook_err *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  cleanup_free char *name = malloc (NOOK_FD_NAME_MAX);
  struct iovec iov = { .iov_base = name, .iov_len = NOOK_FD_NAME_MAX };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof (ctl.buf) };
  ssize_t n;
  int fd;

  if (name == NULL)
    return nook_error (err, errno, "malloc");
  memset (&ctl, 0, sizeof (ctl));
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return nook_error (err, errno, "recvmsg");
  if (msg.msg_flags & MSG_CTRUNC)
    {
      close_passed_fds (&msg);
      return nook_error (err, EMSGSIZE, "recvmsg: control message truncated");
    }
  fd = single_passed_fd (&msg);
  if (fd < 0)
    {
      close_passed_fds (&msg);
      if (n == 0)
        return nook_error (err, ECONNRESET, "recvmsg: socket closed before an fd was sent");
      return nook_error (err, EBADMSG, "recvmsg: expected one fd (SCM_RIGHTS)");
    }
  return fd;
}

/* connect() to PATH, going through /proc/self/fd/N/NAME when PATH is longer than sun_path. */
static int
connect_unix (int sock, const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int dirfd = -1;
  cleanup_free char *copy1 = NULL;
  cleanup_free char *copy2 = NULL;
  int r;

  if (strlen (path) < sizeof (addr.sun_path))
    {
      strcpy (addr.sun_path, path);
      return connect (sock, (struct sockaddr *) &addr, sizeof (addr));
    }
  copy1 = strdup (path);
  copy2 = strdup (path);
  if (copy1 == NULL || copy2 == NULL)
    return -1;
  dirfd = open (dirname (copy1), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return -1;
  r = snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/%s", dirfd, basename (copy2));
  if (r < 0 || (size_t) r >= sizeof (addr.sun_path))
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  return connect (sock, (struct sockaddr *) &addr, sizeof (addr));
}

int
nook_console_socket_send (const char *path, int master, nook_err *err)
{
  cleanup_close int sock = -1;
  char name[64];

  if (path == NULL || *path == '\0')
    return nook_error_input (err, "console socket path is empty");
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return nook_error (err, errno, "socket");
  if (connect_unix (sock, path) < 0)
    return nook_error (err, errno, "connect to console socket `%s`", path);
  if (ptsname_r (master, name, sizeof (name)) != 0)
    name[0] = '\0';
  if (nook_send_fd (sock, master, name, err) < 0)
    return nook_error_prefix (err, "console socket `%s`", path);
  return 0;
}
