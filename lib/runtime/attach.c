/* The attached `run`: forward signals to the container's process, proxy its terminal, wait for its exit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/terminal.h"
#include "util/fs.h"
#include "util/term.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/syscalls.h"

#define ATTACH_BUF 8192
#define DRAIN_TIMEOUT_MS 100

struct attach
{
  pid_t pid;
  int pidfd;
  int master;
  int sigfd;
  sigset_t oldmask;
  bool mask_set;
  bool raw;               /* stdin's termios changed: restore SAVED */
  struct termios saved;
  bool in_open;           /* still reading stdin */
  bool master_open;       /* still reading the master (no EIO yet) */
  bool out_ok;            /* stdout still takes our writes */
  size_t in_len, in_off;  /* stdin bytes not yet written to the master */
  char in_buf[ATTACH_BUF];
  bool exited;
  int status;
};

/* Every signal we catch and forward, plus SIGCHLD and SIGWINCH.  Not the synchronous faults (those are
 * ours, and blocking them would only turn them into a kill), nor glibc's internal realtime signals. */
static void
attach_sigset (sigset_t *set)
{
  static const int keep_out[] = { SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
  size_t i;
  int s;

  sigfillset (set);
  for (i = 0; i < sizeof (keep_out) / sizeof (keep_out[0]); i++)
    sigdelset (set, keep_out[i]);
  for (s = 32; s < SIGRTMIN; s++)
    sigdelset (set, s);
}

static int
attach_block_signals (struct attach *a, nook_err *err)
{
  sigset_t set;

  attach_sigset (&set);
  if (sigprocmask (SIG_BLOCK, &set, &a->oldmask) < 0)
    return nook_error (err, errno, "sigprocmask");
  a->mask_set = true;
  a->sigfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (a->sigfd < 0)
    return nook_error (err, errno, "signalfd");
  return 0;
}

/* Put the caller's terminal (stdin) in raw mode so that every key goes to the container's pty. */
static int
attach_raw_mode (struct attach *a, nook_err *err)
{
  int r = nook_term_raw (STDIN_FILENO, &a->saved, err);
  if (r < 0)
    return -1;
  a->raw = r == 1;
  return 0;
}

/* Copy the caller's window size (stdin's, else stdout's) to the pty; nothing when neither is a tty. */
static void
attach_copy_winsize (struct attach *a)
{
  struct winsize ws;

  if (a->master < 0)
    return;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  if (ioctl (a->master, TIOCSWINSZ, &ws) < 0)
    nook_warn ("ioctl TIOCSWINSZ on the container's terminal: %s", strerror (errno));
}

static void
attach_forward (struct attach *a, int sig)
{
  int r;

  if (a->pidfd >= 0)
    r = sys_pidfd_send_signal (a->pidfd, sig, NULL, 0);
  else
    r = kill (a->pid, sig);
  if (r < 0 && errno != ESRCH)
    nook_warn ("forward signal %d to pid %d: %s", sig, (int) a->pid, strerror (errno));
}

/* Reap the child if it has exited; BLOCK waits for it. */
static int
attach_reap (struct attach *a, bool block, nook_err *err)
{
  int wstatus;
  pid_t r;

  do
    r = waitpid (a->pid, &wstatus, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return nook_error (err, errno, "waitpid %d", (int) a->pid);
  if (r == a->pid)
    {
      a->exited = true;
      a->status = nook_exit_status (wstatus);
    }
  return 0;
}

static int
attach_handle_signals (struct attach *a, nook_err *err)
{
  struct signalfd_siginfo si;
  ssize_t n;

  while ((n = read (a->sigfd, &si, sizeof (si))) == (ssize_t) sizeof (si))
    {
      if (si.ssi_signo == SIGCHLD)
        {
          if (attach_reap (a, false, err) < 0)
            return -1;
        }
      else if (si.ssi_signo == SIGWINCH)
        attach_copy_winsize (a);
      else
        attach_forward (a, (int) si.ssi_signo);
    }
  if (n < 0 && errno != EAGAIN && errno != EINTR)
    return nook_error (err, errno, "read signalfd");
  return 0;
}

/* write() all of BUF to FD, waiting when FD is non-blocking.  -1 with errno on failure. */
/* master -> stdout.  EIO (or EOF) means no process holds the slave side any more. */
static void
attach_pump_master (struct attach *a)
{
  char buf[ATTACH_BUF];
  ssize_t n = read (a->master, buf, sizeof (buf));

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      a->master_open = false;
      return;
    }
  if (a->out_ok && nook_write_all (STDOUT_FILENO, buf, (size_t) n) < 0)
    a->out_ok = false; /* keep reading and drop the output, so the container never blocks on us */
}

/* stdin -> our buffer.  EOF (or EIO: we are a background job) stops reading; the master stays open. */
static void
attach_pump_stdin (struct attach *a)
{
  ssize_t n = read (STDIN_FILENO, a->in_buf, sizeof (a->in_buf));

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      a->in_open = false;
      return;
    }
  a->in_len = (size_t) n;
  a->in_off = 0;
}

/* Our buffer -> master, without blocking (the master is non-blocking). */
static void
attach_pump_input (struct attach *a)
{
  ssize_t n = write (a->master, a->in_buf + a->in_off, a->in_len - a->in_off);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n < 0)
    {
      a->in_len = a->in_off = 0;
      a->in_open = false;
      return;
    }
  a->in_off += (size_t) n;
  if (a->in_off == a->in_len)
    a->in_len = a->in_off = 0;
}

enum
{
  PFD_SIG,
  PFD_PID,
  PFD_MASTER,
  PFD_STDIN,
  PFD_N
};

static void
attach_fill_pollfds (struct attach *a, struct pollfd *p)
{
  bool have_input = a->in_len > 0;

  p[PFD_SIG] = (struct pollfd) { .fd = a->sigfd, .events = POLLIN };
  p[PFD_PID] = (struct pollfd) { .fd = a->pidfd, .events = POLLIN };
  p[PFD_MASTER] = (struct pollfd) { .fd = -1 };
  p[PFD_STDIN] = (struct pollfd) { .fd = -1 };
  if (a->master >= 0 && a->master_open)
    {
      p[PFD_MASTER].fd = a->master;
      p[PFD_MASTER].events = POLLIN | (have_input ? POLLOUT : 0);
    }
  if (a->master >= 0 && a->master_open && a->in_open && !have_input)
    p[PFD_STDIN] = (struct pollfd) { .fd = STDIN_FILENO, .events = POLLIN };
}

/* One round of poll and the work it reports. */
static int
attach_step (struct attach *a, nook_err *err)
{
  struct pollfd p[PFD_N];

  attach_fill_pollfds (a, p);
  if (poll (p, PFD_N, -1) < 0)
    return errno == EINTR ? 0 : nook_error (err, errno, "poll");
  if (p[PFD_SIG].revents && attach_handle_signals (a, err) < 0)
    return -1;
  if (p[PFD_MASTER].revents & (POLLIN | POLLHUP | POLLERR))
    attach_pump_master (a);
  if ((p[PFD_MASTER].revents & POLLOUT) && a->in_len > 0)
    attach_pump_input (a);
  if (p[PFD_STDIN].revents)
    attach_pump_stdin (a);
  if (!a->exited && p[PFD_PID].revents)
    return attach_reap (a, true, err);
  return 0;
}

/* After the exit: read what is still in the pty until EIO, or until nothing comes for a while (another
 * process may still hold the slave open). */
static void
attach_drain (struct attach *a)
{
  while (a->master >= 0 && a->master_open)
    {
      struct pollfd p = { .fd = a->master, .events = POLLIN };
      int r = poll (&p, 1, DRAIN_TIMEOUT_MS);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return;
      attach_pump_master (a);
    }
}

/* Undo everything attach_wait changed: pending signals are dropped (the child is gone), the terminal
 * mode and the signal mask are restored. */
static void
attach_restore (struct attach *a)
{
  if (a->sigfd >= 0)
    {
      struct signalfd_siginfo si;
      while (read (a->sigfd, &si, sizeof (si)) == (ssize_t) sizeof (si))
        ;
      close (a->sigfd);
      a->sigfd = -1;
    }
  if (a->raw && tcsetattr (STDIN_FILENO, TCSADRAIN, &a->saved) < 0)
    nook_warn ("restore the terminal mode of stdin: %s", strerror (errno));
  a->raw = false;
  if (a->mask_set)
    sigprocmask (SIG_SETMASK, &a->oldmask, NULL);
  a->mask_set = false;
}

static int
attach_setup_terminal (struct attach *a, nook_err *err)
{
  int flags;

  if (a->master < 0)
    return 0;
  flags = fcntl (a->master, F_GETFL);
  if (flags < 0 || fcntl (a->master, F_SETFL, flags | O_NONBLOCK) < 0)
    return nook_error (err, errno, "fcntl O_NONBLOCK on the terminal master");
  a->in_open = a->master_open = a->out_ok = true;
  if (attach_raw_mode (a, err) < 0)
    return -1;
  attach_copy_winsize (a);
  return 0;
}

static int
attach_run (struct attach *a, nook_err *err)
{
  if (attach_block_signals (a, err) < 0 || attach_setup_terminal (a, err) < 0)
    return -1;
  /* The child may have exited before SIGCHLD was blocked. */
  if (attach_reap (a, false, err) < 0)
    return -1;
  while (!a->exited)
    if (attach_step (a, err) < 0)
      return -1;
  attach_drain (a);
  return 0;
}

int
nook_attach_wait (pid_t pid, int pidfd, int master, nook_err *err)
{
  struct attach a = { .pid = pid, .pidfd = pidfd, .master = master, .sigfd = -1 };
  int r;

  if (pid <= 0)
    return nook_error_input (err, "attach: invalid pid %d", (int) pid);
  r = attach_run (&a, err);
  attach_restore (&a);
  return r < 0 ? -1 : a.status;
}
