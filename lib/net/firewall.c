/* NAT and forwarding for the bridge subnet.
 *
 * Backend: nftables when `nft` is installed: one atomic `nft -f -` script that (re)creates the table
 * `ip nook` (add + flush + chains, so running it again never duplicates a rule):
 *   chain postrouting (nat, srcnat):  ip saddr SUBNET ip daddr != SUBNET masquerade
 *   chain forward (filter):           iifname nook0 accept; oifname nook0 ct state established,related accept
 * Else iptables: chain NOOK-POSTROUTING in the nat table with the masquerade rule, jumped to from
 * POSTROUTING.  Either way, when iptables exists and its filter FORWARD policy is DROP (docker does that),
 * ACCEPT rules for the bridge go there too, since a drop in any base chain wins over our accept.
 * Every rule is checked (-C) before it is inserted.  net.ipv4.ip_forward is set to 1.
 *
 * Cost: this runs at every root container start.  After a success the marker /run/nook/firewall-BACKEND
 * is written; while it exists only ip_forward is checked.  /run is a tmpfs: after a reboot (when the
 * rules are gone too) the rules are set up again.  Setup itself is serialized by /run/nook/firewall.lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

extern char **environ;

#define FW_RUNDIR "/run/nook"
#define FW_OUT_MAX 2048
#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

static const char nft_script[]
    = "add table ip nook\n"
      "flush table ip nook\n"
      "table ip nook {\n"
      "  chain postrouting {\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    ip saddr " NOOK_BRIDGE_SUBNET " ip daddr != " NOOK_BRIDGE_SUBNET " masquerade\n"
      "  }\n"
      "  chain forward {\n"
      "    type filter hook forward priority filter; policy accept;\n"
      "    iifname \"" NOOK_BRIDGE_NAME "\" accept\n"
      "    oifname \"" NOOK_BRIDGE_NAME "\" ct state established,related accept\n"
      "  }\n"
      "}\n";

/* NAME as an executable on $PATH (then /usr/sbin, /sbin: a monitor may run with a user's PATH). */
/* stdin for the tool: INPUT in a memfd (no SIGPIPE if the tool exits early), else /dev/null. */
static int
tool_stdin (const char *input, nook_err *err)
{
  int fd;

  if (input == NULL)
    {
      fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      return fd < 0 ? nook_error (err, errno, "open `/dev/null`") : fd;
    }
  fd = memfd_create ("nook-firewall", MFD_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "memfd_create");
  if (nook_write_all (fd, input, strlen (input)) < 0 || lseek (fd, 0, SEEK_SET) < 0)
    {
      int e = errno;
      close (fd);
      return nook_error (err, e, "write firewall script");
    }
  return fd;
}

static int
tool_spawn (char *const argv[], int in, int out, pid_t *pid, nook_err *err)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t mask;
  int rc;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in, 0);
  posix_spawn_file_actions_adddup2 (&fa, out, 1);
  posix_spawn_file_actions_adddup2 (&fa, out, 2);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigemptyset (&mask);
  posix_spawnattr_setsigmask (&attr, &mask);
  sigfillset (&mask);
  posix_spawnattr_setsigdefault (&attr, &mask);
  rc = posix_spawn (pid, argv[0], &fa, &attr, argv, environ);
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&fa);
  if (rc != 0)
    return nook_error (err, rc, "run `%s`", argv[0]);
  return 0;
}

/* Read all of FD, keeping the first LEN-1 bytes in OUT (trailing newlines trimmed). */
static void
read_output (int fd, char *out, size_t len)
{
  size_t used = 0;
  char sink[512];
  ssize_t n;

  for (;;)
    {
      bool keep = used + 1 < len;
      n = keep ? read (fd, out + used, len - 1 - used) : read (fd, sink, sizeof (sink));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (keep)
        used += (size_t) n;
    }
  while (used > 0 && (out[used - 1] == '\n' || out[used - 1] == ' '))
    used--;
  out[used] = '\0';
}

/* Run ARGV (ARGV[0] a full path) without a shell; stdout and stderr go to OUT.  *STATUS: its exit status. */
static int
run_tool (char *const argv[], const char *input, char *out, size_t outlen, int *status, nook_err *err)
{
  cleanup_close int in = tool_stdin (input, err);
  cleanup_close int rd = -1;
  cleanup_close int wr = -1;
  int p[2];
  pid_t pid;

  if (in < 0)
    return -1;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  rd = p[0];
  wr = p[1];
  if (tool_spawn (argv, in, wr, &pid, err) < 0)
    return -1;
  close (steal_fd (&wr));
  read_output (rd, out, outlen);
  *status = nook_wait_status (pid, err);
  return *status < 0 ? -1 : 0;
}

static int
tool_failed (nook_err *err, char *const argv[], int status, const char *out)
{
  char cmd[512] = "";
  size_t n = 0;

  for (size_t i = 0; argv[i] && n < sizeof (cmd); i++)
    n += (size_t) snprintf (cmd + n, sizeof (cmd) - n, "%s%s", i ? " " : "", i ? argv[i] : strrchr (argv[0], '/') + 1);
  nook_error (err, 0, "firewall: `%s` failed (exit status %d): %s", cmd, status, out[0] ? out : "no output");
  err->code = EIO;
  return -1;
}

/* Run ARGV; a non-zero exit is an error carrying the tool's output. */
static int
run_ok (char *const argv[], const char *input, nook_err *err)
{
  char out[FW_OUT_MAX];
  int status;

  if (run_tool (argv, input, out, sizeof (out), &status, err) < 0)
    return -1;
  return status == 0 ? 0 : tool_failed (err, argv, status, out);
}

/* Run ARGV quietly: true when it exits 0. */
static bool
run_check (char *const argv[])
{
  char out[FW_OUT_MAX];
  nook_err err;
  int status;

  return run_tool (argv, NULL, out, sizeof (out), &status, &err) == 0 && status == 0;
}

/* iptables -w -t TABLE {-C|OP} CHAIN RULE...: add the rule with OP ("-I" or "-A") unless -C finds it. */
static int
ipt_ensure_rule (const char *ipt, const char *table, const char *op, const char *chain, const char *const rule[],
                 nook_err *err)
{
  const char *argv[24] = { ipt, "-w", "-t", table, "-C", chain };
  size_t n = 6;

  for (size_t i = 0; rule[i] && n < 23; i++)
    argv[n++] = rule[i];
  argv[n] = NULL;
  if (run_check ((char *const *) argv))
    return 0;
  argv[4] = op;
  return run_ok ((char *const *) argv, NULL, err);
}

/* When the filter FORWARD policy is DROP, let the bridge's traffic through. */
static int
ipt_forward_accept (const char *ipt, nook_err *err)
{
  static const char *const in_rule[] = { "-i", NOOK_BRIDGE_NAME, "-j", "ACCEPT", NULL };
  static const char *const out_rule[] = { "-o", NOOK_BRIDGE_NAME, "-m", "conntrack", "--ctstate",
                                          "RELATED,ESTABLISHED", "-j", "ACCEPT", NULL };
  const char *argv[] = { ipt, "-w", "-t", "filter", "-S", "FORWARD", NULL };
  char out[FW_OUT_MAX];
  int status;

  if (run_tool ((char *const *) argv, NULL, out, sizeof (out), &status, err) < 0)
    return -1;
  if (status != 0 || strstr (out, "-P FORWARD DROP") == NULL)
    return 0;
  if (ipt_ensure_rule (ipt, "filter", "-I", "FORWARD", in_rule, err) < 0
      || ipt_ensure_rule (ipt, "filter", "-I", "FORWARD", out_rule, err) < 0)
    return -1;
  return 0;
}

static int
ipt_nat (const char *ipt, nook_err *err)
{
  static const char *const masq[] = { "-s", NOOK_BRIDGE_SUBNET, "!", "-d", NOOK_BRIDGE_SUBNET, "-j", "MASQUERADE", NULL };
  static const char *const jump[] = { "-j", "NOOK-POSTROUTING", NULL };
  const char *list[] = { ipt, "-w", "-t", "nat", "-S", "NOOK-POSTROUTING", NULL };
  const char *create[] = { ipt, "-w", "-t", "nat", "-N", "NOOK-POSTROUTING", NULL };

  if (!run_check ((char *const *) list) && run_ok ((char *const *) create, NULL, err) < 0)
    return -1;
  if (ipt_ensure_rule (ipt, "nat", "-A", "NOOK-POSTROUTING", masq, err) < 0
      || ipt_ensure_rule (ipt, "nat", "-I", "POSTROUTING", jump, err) < 0)
    return -1;
  return 0;
}

static int
ensure_ip_forward (nook_err *err)
{
  char v = 0;
  cleanup_close int fd = open (IP_FORWARD, O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return nook_error (err, errno, "firewall: open `" IP_FORWARD "`");
  if (read (fd, &v, 1) == 1 && v == '1')
    return 0;
  if (pwrite (fd, "1\n", 2, 0) != 2)
    return nook_error (err, errno, "firewall: set net.ipv4.ip_forward=1");
  return 0;
}

static int
fw_lock (nook_err *err)
{
  int fd;

  if (mkdir (FW_RUNDIR, 0700) < 0 && errno != EEXIST)
    return nook_error (err, errno, "mkdir `" FW_RUNDIR "`");
  fd = open (FW_RUNDIR "/firewall.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return nook_error (err, errno, "open `" FW_RUNDIR "/firewall.lock`");
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (fd);
        return nook_error (err, e, "lock `" FW_RUNDIR "/firewall.lock`");
      }
  return fd;
}

static bool
marker_exists (const char *backend)
{
  char path[64];
  struct stat st;

  snprintf (path, sizeof (path), FW_RUNDIR "/firewall-%s", backend);
  return stat (path, &st) == 0;
}

static void
marker_write (const char *backend)
{
  char path[64];
  int fd;

  snprintf (path, sizeof (path), FW_RUNDIR "/firewall-%s", backend);
  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0)
    close (fd);
}

static int
fw_setup (const char *nft, const char *ipt, nook_err *err)
{
  nook_err werr;

  if (nft)
    {
      const char *argv[] = { nft, "-f", "-", NULL };
      if (run_ok ((char *const *) argv, nft_script, err) < 0)
        return -1;
    }
  else if (ipt_nat (ipt, err) < 0)
    return -1;
  if (ipt == NULL)
    return 0;
  if (ipt_forward_accept (ipt, nft ? &werr : err) < 0)
    {
      if (nft == NULL)
        return -1;
      nook_warn ("%s", werr.msg);   /* nft set up the NAT: a broken iptables only warns */
    }
  return 0;
}

int
nook_firewall_ensure (nook_err *err)
{
  char nft[PATH_MAX], ipt[PATH_MAX];
  cleanup_close int lock = -1;
  bool have_nft, have_ipt;
  const char *backend;

  if (ensure_ip_forward (err) < 0)
    return -1;
  if (marker_exists ("nft") || marker_exists ("iptables"))
    return 0;
  have_nft = nook_net_find ("nft", true, nft);
  have_ipt = nook_net_find ("iptables", true, ipt);
  if (!have_nft && !have_ipt)
    {
      nook_error (err, 0, "firewall: neither `nft` nor `iptables` found: install the package nftables (or "
                          "iptables) for bridge networking");
      err->code = ENOENT;
      return -1;
    }
  backend = have_nft ? "nft" : "iptables";
  lock = fw_lock (err);
  if (lock < 0)
    return -1;
  if (marker_exists (backend))
    return 0;
  if (fw_setup (have_nft ? nft : NULL, have_ipt ? ipt : NULL, err) < 0)
    return -1;
  marker_write (backend);
  return 0;
}
