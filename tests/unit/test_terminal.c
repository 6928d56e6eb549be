/* Tests for lib/runtime/terminal.c and lib/runtime/attach.c: fd passing, console socket, pty setup,
 * and the attached wait loop (exit codes, signal forwarding, pty proxying). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/terminal.h"
#include "util/syscalls.h"

static bool
same_file (int a, int b)
{
  struct stat sa, sb;

  if (fstat (a, &sa) < 0 || fstat (b, &sb) < 0)
    return false;
  return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static void
test_send_recv_fd (void)
{
  nook_err err = { 0 };
  int sv[2], pfd[2], fd;

  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  CHECK (pipe (pfd) == 0);
  CHECK (nook_send_fd (sv[0], pfd[1], "/dev/pts/0", &err) == 0);
  fd = nook_recv_fd (sv[1], &err);
  CHECK (fd >= 0);
  CHECK (fd != pfd[1]);
  CHECK (same_file (fd, pfd[1]));
  CHECK (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  /* the received fd works: write through it, read from the pipe */
  {
    char c = 0;
    CHECK (write (fd, "z", 1) == 1);
    CHECK (read (pfd[0], &c, 1) == 1 && c == 'z');
  }
  /* an empty name still sends one byte of payload */
  CHECK (nook_send_fd (sv[0], pfd[0], NULL, &err) == 0);
  {
    int fd2 = nook_recv_fd (sv[1], &err);
    CHECK (fd2 >= 0 && same_file (fd2, pfd[0]));
    close (fd2);
  }
  close (fd);
  close (pfd[0]);
  close (pfd[1]);
  close (sv[0]);
  close (sv[1]);
}

static void
test_recv_fd_errors (void)
{
  nook_err err = { 0 };
  int sv[2];

  /* data without an fd */
  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  CHECK (write (sv[0], "x", 1) == 1);
  CHECK (nook_recv_fd (sv[1], &err) < 0);
  CHECK (err.code == EBADMSG);
  /* peer closed */
  close (sv[0]);
  CHECK (nook_recv_fd (sv[1], &err) < 0);
  CHECK (err.code == ECONNRESET);
  close (sv[1]);
}

/* Send NFDS copies of fd 0 in one message. */
static int
send_fds (int sock, int nfds)
{
  union
  {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { .iov_base = "x", .iov_len = 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf };
  struct cmsghdr *cmsg;
  int fds[4] = { 0, 0, 0, 0 };

  memset (&ctl, 0, sizeof (ctl));
  msg.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (nfds * sizeof (int));
  memcpy (CMSG_DATA (cmsg), fds, nfds * sizeof (int));
  return sendmsg (sock, &msg, 0) == 1 ? 0 : -1;
}

/* More fds than expected: rejected (truncated, or two where one was expected), none leaked. */
static void
test_recv_fd_too_many (void)
{
  nook_err err = { 0 };
  int sv[2], probe;

  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  probe = dup (0);
  close (probe);
  CHECK (send_fds (sv[0], 4) == 0);
  CHECK (nook_recv_fd (sv[1], &err) < 0);
  CHECK (err.code == EMSGSIZE);
  CHECK (send_fds (sv[0], 2) == 0);
  CHECK (nook_recv_fd (sv[1], &err) < 0);
  CHECK (err.code == EBADMSG);
  CHECK (dup (0) == probe); /* the received fds were closed again */
  close (probe);
  close (sv[0]);
  close (sv[1]);
}

static int
listen_unix (const char *path, bool do_listen)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  snprintf (addr.sun_path, sizeof (addr.sun_path), "%s", path);
  unlink (path);
  if (s < 0 || bind (s, (struct sockaddr *) &addr, sizeof (addr)) < 0 || (do_listen && listen (s, 1) < 0))
    return -1;
  return s;
}

static void
test_console_socket (void)
{
  char dir[] = "/tmp/nook-test-term-XXXXXX";
  char path[256];
  nook_err err = { 0 };
  int lsock, conn, fd, pfd[2];

  CHECK (mkdtemp (dir) != NULL);
  snprintf (path, sizeof (path), "%s/console.sock", dir);
  lsock = listen_unix (path, true);
  CHECK (lsock >= 0);
  CHECK (pipe (pfd) == 0);
  CHECK (nook_console_socket_send (path, pfd[0], &err) == 0);
  conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  CHECK (conn >= 0);
  fd = nook_recv_fd (conn, &err);
  CHECK (fd >= 0 && same_file (fd, pfd[0]));
  close (fd);
  close (conn);
  close (lsock);
  close (pfd[0]);
  close (pfd[1]);
  unlink (path);
  rmdir (dir);
}

/* A path longer than sun_path still works (through /proc/self/fd/N/NAME). */
static void
test_console_socket_long_path (void)
{
  char dir[] = "/tmp/nook-test-term-XXXXXX";
  char sub[512], path[600], cwd[512];
  nook_err err = { 0 };
  int lsock, conn, fd, pfd[2];

  CHECK (mkdtemp (dir) != NULL);
  snprintf (sub, sizeof (sub), "%s/%0120d", dir, 0);
  CHECK (mkdir (sub, 0700) == 0);
  snprintf (path, sizeof (path), "%s/c.sock", sub);
  CHECK (strlen (path) > sizeof (((struct sockaddr_un *) 0)->sun_path));
  CHECK (getcwd (cwd, sizeof (cwd)) != NULL);
  CHECK (chdir (sub) == 0);
  lsock = listen_unix ("c.sock", true);
  CHECK (chdir (cwd) == 0);
  CHECK (lsock >= 0);
  CHECK (pipe (pfd) == 0);
  CHECK (nook_console_socket_send (path, pfd[1], &err) == 0);
  conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  fd = nook_recv_fd (conn, &err);
  CHECK (fd >= 0 && same_file (fd, pfd[1]));
  close (fd);
  close (conn);
  close (lsock);
  close (pfd[0]);
  close (pfd[1]);
  unlink (path);
  rmdir (sub);
  rmdir (dir);
}

static void
test_console_socket_refused (void)
{
  char dir[] = "/tmp/nook-test-term-XXXXXX";
  char path[256], want[400];
  nook_err err = { 0 };
  int sock, pfd[2];

  CHECK (mkdtemp (dir) != NULL);
  snprintf (path, sizeof (path), "%s/console.sock", dir);
  sock = listen_unix (path, false); /* bound, not listening */
  CHECK (sock >= 0);
  CHECK (pipe (pfd) == 0);
  CHECK (nook_console_socket_send (path, pfd[0], &err) < 0);
  snprintf (want, sizeof (want), "connect to console socket `%s`: Connection refused", path);
  CHECK_STR (err.msg, want);
  CHECK (nook_console_socket_send ("/nonexistent/nook.sock", pfd[0], &err) < 0);
  CHECK (err.code == ENOENT);
  close (sock);
  close (pfd[0]);
  close (pfd[1]);
  unlink (path);
  rmdir (dir);
}

/* In a child: set up a pty with 24x80, report size and session, send the master to the parent. */
static void
terminal_child (int sock)
{
  nook_err err = { 0 };
  struct winsize ws;
  char msg[128];
  int master;

  master = nook_terminal_setup_child (24, 80, geteuid (), &err);
  if (master < 0)
    {
      dprintf (sock, "E%s", err.msg);
      _exit (1);
    }
  if (nook_send_fd (sock, master, "pty", &err) < 0)
    _exit (2);
  if (ioctl (0, TIOCGWINSZ, &ws) < 0)
    _exit (3);
  snprintf (msg, sizeof (msg), "size=%ux%u sid=%d ctty=%d cloexec=%d\n", ws.ws_row, ws.ws_col,
            getsid (0) == getpid (), tcgetsid (0) == getpid (), (fcntl (1, F_GETFD) & FD_CLOEXEC) != 0);
  if (write (1, msg, strlen (msg)) < 0)
    _exit (4);
  _exit (0);
}

static void
test_terminal_setup_child (void)
{
  nook_err err = { 0 };
  char out[512];
  size_t len = 0;
  int sv[2], master, st;
  pid_t pid;

  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  pid = fork ();
  if (pid == 0)
    {
      close (sv[0]);
      terminal_child (sv[1]);
    }
  close (sv[1]);
  master = nook_recv_fd (sv[0], &err);
  if (master < 0)
    printf ("    recv: %s\n", err.msg);
  CHECK (master >= 0);
  for (;;)
    {
      ssize_t n = master >= 0 ? read (master, out + len, sizeof (out) - 1 - len) : -1;
      if (n <= 0)
        break;
      len += (size_t) n;
    }
  out[len] = '\0';
  CHECK (waitpid (pid, &st, 0) == pid && WIFEXITED (st) && WEXITSTATUS (st) == 0);
  CHECK (strstr (out, "size=24x80 sid=1 ctty=1 cloexec=0") != NULL);
  if (master >= 0)
    close (master);
  close (sv[0]);
}

static pid_t
fork_exit_code (int code)
{
  pid_t pid = fork ();
  if (pid == 0)
    _exit (code);
  return pid;
}

static void
test_attach_exit_code (void)
{
  nook_err err = { 0 };
  pid_t pid;
  int pidfd;

  pid = fork_exit_code (3);
  CHECK (nook_attach_wait (pid, -1, -1, &err) == 3);
  pid = fork_exit_code (0);
  pidfd = sys_pidfd_open (pid, 0);
  CHECK (pidfd >= 0);
  CHECK (nook_attach_wait (pid, pidfd, -1, &err) == 0);
  close (pidfd);
}

static void
test_attach_killed (void)
{
  nook_err err = { 0 };
  pid_t pid = fork ();
  int pidfd;

  if (pid == 0)
    {
      signal (SIGTERM, SIG_DFL);
      raise (SIGTERM);
      _exit (1);
    }
  pidfd = sys_pidfd_open (pid, 0);
  CHECK (nook_attach_wait (pid, pidfd, -1, &err) == 128 + SIGTERM);
  close (pidfd);
}

static void
usr1_handler (int sig)
{
  _exit (42);
}

/* A child that exits 42 on SIGUSR1; returns once its handler is in place. */
static pid_t
fork_usr1_child (void)
{
  int ready[2];
  char c;
  pid_t pid;

  if (pipe (ready) < 0)
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      sigset_t set;
      signal (SIGUSR1, usr1_handler);
      sigemptyset (&set);
      sigprocmask (SIG_SETMASK, &set, NULL);
      close (ready[0]);
      if (write (ready[1], "r", 1) != 1)
        _exit (1);
      for (;;)
        pause ();
    }
  close (ready[1]);
  if (read (ready[0], &c, 1) != 1)
    pid = -1;
  close (ready[0]);
  return pid;
}

/* SIGUSR1 sent to us (by a helper, while we wait) reaches the child. */
static void
test_attach_forwards_signal (bool use_pidfd)
{
  nook_err err = { 0 };
  sigset_t set, old;
  pid_t pid, helper;
  int pidfd = -1, st;

  pid = fork_usr1_child ();
  CHECK (pid > 0);
  if (use_pidfd)
    pidfd = sys_pidfd_open (pid, 0);
  /* Blocked now, so the signal waits (pending) for attach_wait's signalfd whatever the timing. */
  sigemptyset (&set);
  sigaddset (&set, SIGUSR1);
  sigprocmask (SIG_BLOCK, &set, &old);
  helper = fork ();
  if (helper == 0)
    {
      usleep (50 * 1000);
      kill (getppid (), SIGUSR1);
      _exit (0);
    }
  CHECK (nook_attach_wait (pid, pidfd, -1, &err) == 42);
  CHECK (waitpid (helper, &st, 0) == helper);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (pidfd >= 0)
    close (pidfd);
}

static void
test_attach_forwards_signal_pidfd (void)
{
  test_attach_forwards_signal (true);
}

static void
test_attach_forwards_signal_kill (void)
{
  test_attach_forwards_signal (false);
}

/* The attach loop does not leave signals blocked. */
static void
test_attach_restores_mask (void)
{
  nook_err err = { 0 };
  sigset_t before, after;
  pid_t pid;

  sigprocmask (SIG_SETMASK, NULL, &before);
  pid = fork_exit_code (0);
  CHECK (nook_attach_wait (pid, -1, -1, &err) == 0);
  sigprocmask (SIG_SETMASK, NULL, &after);
  CHECK (sigismember (&before, SIGINT) == sigismember (&after, SIGINT));
  CHECK (sigismember (&before, SIGTERM) == sigismember (&after, SIGTERM));
  CHECK (sigismember (&before, SIGCHLD) == sigismember (&after, SIGCHLD));
}

static int
open_pty (char *slave_name, size_t len)
{
  int m = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (m < 0 || grantpt (m) < 0 || unlockpt (m) < 0 || ptsname_r (m, slave_name, len) != 0)
    return -1;
  return m;
}

/* Run nook_attach_wait with stdin from IN_FD and stdout into a temp file; return what it wrote. */
static int
attach_captured (pid_t pid, int master, int in_fd, char *out, size_t outlen)
{
  nook_err err = { 0 };
  char tmpl[] = "/tmp/nook-test-term-out-XXXXXX";
  int tmp = mkstemp (tmpl), save_in, save_out, r;
  ssize_t n;

  unlink (tmpl);
  fflush (stdout);
  save_in = dup (0);
  save_out = dup (1);
  dup2 (in_fd, 0);
  dup2 (tmp, 1);
  r = nook_attach_wait (pid, -1, master, &err);
  dup2 (save_in, 0);
  dup2 (save_out, 1);
  close (save_in);
  close (save_out);
  if (r < 0)
    printf ("    attach: %s\n", err.msg);
  n = pread (tmp, out, outlen - 1, 0);
  out[n > 0 ? n : 0] = '\0';
  close (tmp);
  return r;
}

static void
test_attach_pty_output (void)
{
  char name[64], out[4096];
  int master, devnull;
  pid_t pid;

  master = open_pty (name, sizeof (name));
  CHECK (master >= 0);
  pid = fork ();
  if (pid == 0)
    {
      int s = open (name, O_RDWR | O_NOCTTY);
      if (s < 0 || write (s, "hello\n", 6) != 6)
        _exit (1);
      _exit (0);
    }
  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK (attach_captured (pid, master, devnull, out, sizeof (out)) == 0);
  CHECK (strstr (out, "hello") != NULL);
  close (devnull);
  close (master);
}

/* stdin reaches the container through the master; its answer comes back on stdout. */
static void
test_attach_pty_input (void)
{
  char name[64], out[4096];
  int master, in[2];
  pid_t pid;

  master = open_pty (name, sizeof (name));
  CHECK (master >= 0);
  pid = fork ();
  if (pid == 0)
    {
      char line[64], reply[128];
      int s = open (name, O_RDWR | O_NOCTTY);
      ssize_t n = s < 0 ? -1 : read (s, line, sizeof (line) - 1); /* canonical mode: one line */
      if (n <= 0)
        _exit (1);
      line[n] = '\0';
      line[strcspn (line, "\r\n")] = '\0';
      snprintf (reply, sizeof (reply), "got:%s\n", line);
      if (write (s, reply, strlen (reply)) < 0)
        _exit (2);
      _exit (7);
    }
  CHECK (pipe (in) == 0);
  CHECK (write (in[1], "ping\n", 5) == 5);
  close (in[1]);
  CHECK (attach_captured (pid, master, in[0], out, sizeof (out)) == 7);
  CHECK (strstr (out, "got:ping") != NULL);
  close (in[0]);
  close (master);
}

/* A lot of output, written right before the exit, is all delivered. */
static void
test_attach_pty_drain (void)
{
  static char out[256 * 1024];
  char name[64];
  int master, devnull;
  size_t count = 0;
  pid_t pid;
  char *p;

  master = open_pty (name, sizeof (name));
  CHECK (master >= 0);
  pid = fork ();
  if (pid == 0)
    {
      int s = open (name, O_RDWR | O_NOCTTY), i;
      for (i = 0; i < 2000; i++)
        if (s < 0 || write (s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n", 63) != 63)
          _exit (1);
      _exit (0);
    }
  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK (attach_captured (pid, master, devnull, out, sizeof (out)) == 0);
  for (p = out; (p = strstr (p, "XYZ")) != NULL; p++)
    count++;
  CHECK (count == 2000);
  close (devnull);
  close (master);
}

int
main (void)
{
  RUN (test_send_recv_fd);
  RUN (test_recv_fd_errors);
  RUN (test_recv_fd_too_many);
  RUN (test_console_socket);
  RUN (test_console_socket_long_path);
  RUN (test_console_socket_refused);
  RUN (test_terminal_setup_child);
  RUN (test_attach_exit_code);
  RUN (test_attach_killed);
  RUN (test_attach_forwards_signal_pidfd);
  RUN (test_attach_forwards_signal_kill);
  RUN (test_attach_restores_mask);
  RUN (test_attach_pty_output);
  RUN (test_attach_pty_input);
  RUN (test_attach_pty_drain);
  return HARNESS_END ();
}
