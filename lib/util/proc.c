#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* Fields after the command name in /proc/PID/stat: "S ppid pgrp ..."; state is field 3, starttime 22. */
static int
read_stat (pid_t pid, char *state, uint64_t *start, nook_err *err)
{
  char path[64];
  cleanup_free char *buf = NULL;
  char *p;
  int field = 3;

  snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
  if (nook_read_file_at (AT_FDCWD, path, &buf, NULL, 4096, err) < 0)
    return -1;
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return nook_error_input (err, "parse `%s`", path);
  p += 2;
  *state = *p;
  while (field < 22 && (p = strchr (p, ' ')) != NULL)
    {
      p++;
      field++;
    }
  if (p == NULL)
    return nook_error_input (err, "parse `%s`", path);
  *start = strtoull (p, NULL, 10);
  return 0;
}

int
nook_proc_start_time (pid_t pid, uint64_t *out, nook_err *err)
{
  char state;
  return read_stat (pid, &state, out, err);
}

bool
nook_proc_alive (pid_t pid, uint64_t start_time)
{
  nook_err err;
  char state;
  uint64_t st;

  if (pid <= 0 || read_stat (pid, &state, &st, &err) < 0)
    return false;
  if (state == 'Z' || state == 'X')
    return false;
  return start_time == 0 || st == start_time;
}

int
nook_exit_status (int wstatus)
{
  if (WIFEXITED (wstatus))
    return WEXITSTATUS (wstatus);
  if (WIFSIGNALED (wstatus))
    return 128 + WTERMSIG (wstatus);
  return 255;
}

int
nook_wait_status (pid_t pid, nook_err *err)
{
  int st;
  while (waitpid (pid, &st, 0) < 0)
    if (errno != EINTR)
      return nook_error (err, errno, "waitpid %d", (int) pid);
  return nook_exit_status (st);
}

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },     { "ILL", SIGILL },
  { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },     { "IOT", SIGIOT },       { "BUS", SIGBUS },
  { "FPE", SIGFPE },       { "KILL", SIGKILL },     { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },     { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },     { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH },   { "IO", SIGIO },         { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
nook_parse_signal (const char *s)
{
  uint64_t n;

  if (s == NULL || *s == '\0')
    return -1;
  if (str_to_u64 (s, 64, &n))
    return n >= 1 && (int) n <= SIGRTMAX ? (int) n : -1;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof (signals) / sizeof (signals[0]); i++)
    if (strcasecmp (s, signals[i].name) == 0)
      return signals[i].sig;
  if (strncasecmp (s, "RTMIN", 5) == 0 || strncasecmp (s, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (s, "RTMIN", 5) == 0;
      const char *off = s + 5;
      int base = min ? SIGRTMIN : SIGRTMAX;
      if (*off == '\0')
        return base;
      if ((*off == '+' && min) || (*off == '-' && !min))
        {
          if (!str_to_u64 (off + 1, 32, &n))
            return -1;
          int sig = min ? base + (int) n : base - (int) n;
          return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
        }
    }
  return -1;
}

const char *
nook_signal_name (int sig)
{
  static const char *const names[] = {
    [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT", [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1", [SIGUSR2] = "SIGUSR2", [SIGTERM] = "SIGTERM", [SIGCHLD] = "SIGCHLD",
    [SIGSTOP] = "SIGSTOP", [SIGCONT] = "SIGCONT", [SIGWINCH] = "SIGWINCH",
  };
  if (sig > 0 && (size_t) sig < sizeof (names) / sizeof (names[0]))
    return names[sig];
  return NULL;
}
