/* Child processes of lib/net: starting a user-mode network helper (pasta, slirp4netns) as a child that dies
 * with us, waiting until it is ready, stopping it, and reading what the container's interface got. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#define LOG_TAIL 600          /* characters of a helper's log quoted in an error */
#define NS_ROUTE_MAX 16384    /* bytes of /proc/net/route read from a netns */

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

void
nook_net_stop_child (pid_t pid)
{
  if (pid <= 0)
    return;
  if (kill (pid, SIGTERM) < 0 && errno == ESRCH)
    return;
  for (int i = 0; i < 100; i++)
    {
      pid_t r = waitpid (pid, NULL, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD))
        return;
      sleep_ms (10);
    }
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static bool
is_executable (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && faccessat (AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

bool
nook_net_find (const char *prog, bool sbin, char path[4096])
{
  const char *env = getenv ("PATH");
  char dirs[4096];
  char *save = NULL;

  if (prog == NULL || *prog == '\0')
    return false;
  if (strchr (prog, '/'))
    {
      snprintf (path, 4096, "%s", prog);
      return is_executable (prog);
    }
  snprintf (dirs, sizeof (dirs), "%s%s", env ? env : "/usr/local/bin:/usr/bin:/bin", sbin ? ":/usr/sbin:/sbin" : "");
  for (char *d = strtok_r (dirs, ":", &save); d; d = strtok_r (NULL, ":", &save))
    if (d[0] == '/' && snprintf (path, 4096, "%s/%s", d, prog) < 4096 && is_executable (path))
      return true;
  return false;
}

bool
nook_net_on_path (const char *prog)
{
  char path[4096];
  return nook_net_find (prog, false, path);
}

/* ---- the helper's log ---- */

int
nook_net_log_open (const char *runroot, const char *id, const char *name, nook_err *err)
{
  if (runroot == NULL || id == NULL)
    {
      int fd = memfd_create (name, MFD_CLOEXEC);
      if (fd < 0)
        return nook_error (err, errno, "memfd_create `%s`", name);
      return fd;
    }

  cleanup_free char *dir = xasprintf ("%s/%s", runroot, id);
  if (nook_mkdir_p (dir, 0700, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("%s/%s.log", dir, name);
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return nook_error (err, errno, "open `%s`", path);
  return fd;
}

/* Whether LINE (LEN bytes) is noise: pasta's "Failed to send N bytes to syslog" when there is no syslog,
 * slirp4netns' "* Key: value" banner and its seccomp warning. */
static bool
log_noise (const char *line, size_t len)
{
  static const char syslog_tail[] = "bytes to syslog";
  size_t tl = sizeof (syslog_tail) - 1;

  if (len == 0 || (len >= 2 && line[0] == '*' && line[1] == ' ')
      || strncmp (line, "WARNING: Support for seccomp is experimental", len) == 0)
    return true;
  return len > tl && strncmp (line, "Failed to send ", 15) == 0 && memcmp (line + len - tl, syslog_tail, tl) == 0;
}

/* The end of the helper's log, noise dropped, lines joined with "; ".  "" when empty or unreadable. */
static void
log_tail (int log_fd, char *out, size_t size)
{
  char buf[8192];
  char text[8192];
  size_t n = 0;
  off_t end = log_fd >= 0 ? lseek (log_fd, 0, SEEK_END) : -1;
  off_t start = end > (off_t) sizeof (buf) - 1 ? end - (off_t) sizeof (buf) + 1 : 0;
  ssize_t len = end >= 0 ? pread (log_fd, buf, sizeof (buf) - 1, start) : -1;

  out[0] = '\0';
  if (len <= 0)
    return;
  buf[len] = '\0';
  for (char *line = buf; *line; )
    {
      char *nl = strchrnul (line, '\n');
      size_t ll = nl - line;
      while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
        ll--;
      if (!log_noise (line, ll) && n + ll + 3 < sizeof (text))
        {
          if (n > 0)
            {
              memcpy (text + n, "; ", 2);
              n += 2;
            }
          memcpy (text + n, line, ll);
          n += ll;
        }
      line = *nl ? nl + 1 : nl;
    }
  text[n] = '\0';
  snprintf (out, size, "%s", n > size - 1 ? text + n - (size - 1) : text);
}

/* ---- starting a helper ---- */

static void __attribute__ ((noreturn))
child_exec (char *const argv[], int devnull, int log_fd, const int *fds, size_t n_fds, pid_t parent)
{
  static const char msg[] = "cannot execute the network helper\n";
  int low = 3 + (int) n_fds;
  int moved[3 + 16];
  sigset_t none;

  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (127);

  /* Move every source above the targets first: no dup2 below clobbers a source. */
  moved[0] = fcntl (devnull, F_DUPFD, low);
  moved[1] = fcntl (log_fd, F_DUPFD, low);
  for (size_t i = 0; i < n_fds; i++)
    moved[2 + i] = fcntl (fds[i], F_DUPFD, low);
  for (size_t i = 0; i < 2 + n_fds; i++)
    if (moved[i] < 0)
      _exit (127);
  if (dup2 (moved[0], 0) < 0 || dup2 (moved[1], 1) < 0 || dup2 (moved[1], 2) < 0)
    _exit (127);
  for (size_t i = 0; i < n_fds; i++)
    if (dup2 (moved[2 + i], 3 + (int) i) < 0)
      _exit (127);
  sys_close_range ((unsigned) low, ~0U, CLOSE_RANGE_CLOEXEC);

  /* The caller may block or ignore signals (a monitor's signalfd): the helper must still stop on SIGTERM. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);

  execvp (argv[0], argv);
  if (write (2, msg, sizeof (msg) - 1) < 0)
    _exit (127);
  _exit (127);
}

int
nook_net_spawn (char *const argv[], int log_fd, const int *fds, size_t n_fds, pid_t *pid, nook_err *err)
{
  pid_t parent = getpid ();
  cleanup_close int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (n_fds > 16)
    return nook_error_input (err, "too many descriptors for `%s`", argv[0]);
  if (devnull < 0)
    return nook_error (err, errno, "open `/dev/null`");
  if (!nook_net_on_path (argv[0]))
    {
      nook_error (err, ENOENT, "`%s` not found in $PATH", argv[0]);
      err->status = 127;
      return -1;
    }

  pid_t child = fork ();
  if (child < 0)
    return nook_error (err, errno, "fork `%s`", argv[0]);
  if (child == 0)
    child_exec (argv, devnull, log_fd, fds, n_fds, parent);
  *pid = child;
  return 0;
}

/* The helper is gone (reaped): an error naming how it ended, with its log. */
static int
helper_died (const char *name, int wstatus, int log_fd, nook_err *err)
{
  char tail[LOG_TAIL + 1];
  char how[64];

  log_tail (log_fd, tail, sizeof (tail));
  if (WIFSIGNALED (wstatus))
    snprintf (how, sizeof (how), "was killed by signal %d", WTERMSIG (wstatus));
  else
    snprintf (how, sizeof (how), "exited with status %d", WEXITSTATUS (wstatus));
  nook_error (err, 0, "%s %s%s%s", name, how, tail[0] ? ": " : "", tail);
  err->code = EIO;
  return -1;
}

static long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
nook_net_wait_ready (const char *name, pid_t *pid, int ready_fd, int log_fd, int timeout_ms, nook_err *err)
{
  char tail[LOG_TAIL + 1];
  long deadline = now_ms () + timeout_ms;
  long eof_at = 0;

  while (now_ms () < deadline)
    {
      struct pollfd p = { .fd = ready_fd, .events = POLLIN };
      int r = eof_at ? 0 : poll (&p, 1, 20);
      if (r < 0 && errno != EINTR)
        return nook_error (err, errno, "poll the ready pipe of %s", name);
      if (r > 0)
        {
          char buf[64];
          ssize_t n = read (ready_fd, buf, sizeof (buf));
          if (n > 0)
            return 0;
          if (n < 0 && errno != EINTR && errno != EAGAIN)
            return nook_error (err, errno, "read the ready pipe of %s", name);
          if (n == 0)
            eof_at = now_ms ();
        }
      if (eof_at)
        sleep_ms (20);

      int wstatus;
      if (waitpid (*pid, &wstatus, WNOHANG) == *pid)
        {
          *pid = 0;
          return helper_died (name, wstatus, log_fd, err);
        }
      if (eof_at && now_ms () - eof_at >= 1000)
        break;   /* closed its end without a word and did not exit either */
    }

  log_tail (log_fd, tail, sizeof (tail));
  nook_error (err, 0, "%s %s%s%s", name, eof_at ? "closed its ready pipe" : "did not get ready in time",
              tail[0] ? ": " : "", tail);
  err->code = eof_at ? EIO : ETIMEDOUT;
  return -1;
}

/* ---- the interface a helper configured ---- */

/* What a child in the netns reads with plain syscalls (async-signal-safe), for the parent to parse. */
struct ns_raw
{
  int ok_addr, ok_mask, ok_mac;
  struct in_addr addr, mask;
  unsigned char mac[6];
  ssize_t route_len;
  char route[NS_ROUTE_MAX];
};

static void
raw_route (struct ns_raw *r)
{
  int fd = open ("/proc/self/net/route", O_RDONLY | O_CLOEXEC);
  r->route_len = fd >= 0 ? nook_read_all (fd, r->route, sizeof (r->route) - 1) : -1;
  if (fd >= 0)
    close (fd);
  r->route[r->route_len > 0 ? r->route_len : 0] = '\0';
}

static void
raw_iface (const char *ifname, struct ns_raw *r)
{
  struct ifreq ifr;
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (s < 0 || strlen (ifname) >= IFNAMSIZ)
    {
      if (s >= 0)
        close (s);
      return;
    }
  memset (&ifr, 0, sizeof (ifr));
  memcpy (ifr.ifr_name, ifname, strlen (ifname));
  if ((r->ok_addr = ioctl (s, SIOCGIFADDR, &ifr) == 0))
    r->addr = ((struct sockaddr_in *) &ifr.ifr_addr)->sin_addr;
  if ((r->ok_mask = ioctl (s, SIOCGIFNETMASK, &ifr) == 0))
    r->mask = ((struct sockaddr_in *) &ifr.ifr_netmask)->sin_addr;
  if ((r->ok_mac = ioctl (s, SIOCGIFHWADDR, &ifr) == 0))
    memcpy (r->mac, ifr.ifr_hwaddr.sa_data, 6);
  close (s);
}

/* The default route's gateway (and interface) in a /proc/net/route text; IFNAME non-empty: on that one. */
static bool
parse_default_route (const char *text, char ifname[IFNAMSIZ], struct in_addr *gw)
{
  const char *line = strchr (text, '\n');   /* the header */

  while (line && *++line)
    {
      char iface[IFNAMSIZ + 1];
      unsigned long dst, gateway, flags, mask;
      if (sscanf (line, "%16s %lx %lx %lx %*s %*s %*s %lx", iface, &dst, &gateway, &flags, &mask) == 5
          && dst == 0 && mask == 0 && (flags & 0x3) == 0x3 && strlen (iface) < IFNAMSIZ
          && (ifname[0] == '\0' || strcmp (ifname, iface) == 0))
        {
          strcpy (ifname, iface);
          gw->s_addr = (uint32_t) gateway;
          return true;
        }
      line = strchr (line, '\n');
    }
  return false;
}

struct in_ns_report
{
  int rc;
  nook_err err;
};

int
nook_net_in_ns (int netns_fd, int userns_fd, int (*fn) (const void *arg, void *out, nook_err *err),
                const void *arg, void *out, size_t len, nook_err *err)
{
  struct in_ns_report r = { 0 };
  int p[2];

  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  cleanup_close int rd = p[0];
  cleanup_close int wr = p[1];
  pid_t child = fork ();
  if (child < 0)
    return nook_error (err, errno, "fork");
  if (child == 0)
    {
      if ((userns_fd >= 0 && setns (userns_fd, CLONE_NEWUSER) < 0) || setns (netns_fd, CLONE_NEWNET) < 0)
        r.rc = nook_error (&r.err, errno, "setns into the container's network namespace");
      else
        r.rc = fn (arg, out, &r.err);
      _exit (nook_write_all (wr, &r, sizeof (r)) < 0 || nook_write_all (wr, out, len) < 0 ? 1 : 0);
    }
  close (steal_fd (&wr));
  int n = nook_read_all (rd, &r, sizeof (r));
  int m = n == (int) sizeof (r) ? nook_read_all (rd, out, len) : 0;
  if (nook_wait_status (child, err) < 0)
    return -1;
  if (n != (int) sizeof (r) || m != (int) len)
    return nook_error (err, EIO, "read the report of the child in the container's network namespace");
  if (r.rc < 0)
    *err = r.err;
  return r.rc;
}

static int
read_iface (const void *arg, void *out, nook_err *err)
{
  raw_route (out);
  raw_iface (arg, out);
  return 0;
}

int
nook_net_ns_iface (int netns_fd, int userns_fd, const char *ifname, struct nook_net_info *info, nook_err *err)
{
  cleanup_free struct ns_raw *raw = xcalloc (1, sizeof (*raw));
  char iface[IFNAMSIZ] = "";
  struct in_addr gw;

  if (ifname)
    snprintf (iface, sizeof (iface), "%s", ifname);
  if (netns_fd >= 0)
    {
      if (nook_net_in_ns (netns_fd, userns_fd, read_iface, iface, raw, sizeof (*raw), err) < 0)
        return -1;
    }
  else
    {
      raw_route (raw);
      if (iface[0] == '\0' && !parse_default_route (raw->route, iface, &gw))
        return nook_error (err, ENETUNREACH, "find the default route");
      raw_iface (iface, raw);
    }
  if (!raw->ok_addr || !raw->ok_mask)
    return nook_error (err, EADDRNOTAVAIL, "read the address of `%s`", iface);

  inet_ntop (AF_INET, &raw->addr, info->ip, sizeof (info->ip));
  info->prefix = __builtin_popcount (raw->mask.s_addr);
  info->gateway[0] = '\0';
  if (parse_default_route (raw->route, iface, &gw))
    inet_ntop (AF_INET, &gw, info->gateway, sizeof (info->gateway));
  info->mac[0] = '\0';
  if (raw->ok_mac)
    snprintf (info->mac, sizeof (info->mac), "%02x:%02x:%02x:%02x:%02x:%02x", raw->mac[0], raw->mac[1],
              raw->mac[2], raw->mac[3], raw->mac[4], raw->mac[5]);
  return 0;
}
