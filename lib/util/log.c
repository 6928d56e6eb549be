#include "util/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"

/* The one piece of process-wide state: how the CLI asked us to log.  Set once, before any work. */
static struct nook_log_cfg log_cfg = { .fd = -1 };

void
nook_log_setup (const struct nook_log_cfg *cfg)
{
  log_cfg = *cfg;
}

static void
emit (const char *level, const char *msg)
{
  char line[2048];
  int n;

  if (log_cfg.fd >= 0 && log_cfg.json)
    {
      char ts[64];
      time_t now = time (NULL);
      struct tm tm;
      json_t *o;
      char *s;

      strftime (ts, sizeof (ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &tm));
      o = json_pack ("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", ts);
      s = o ? json_dumps (o, JSON_COMPACT) : NULL;
      if (s)
        {
          nook_write_all (log_cfg.fd, s, strlen (s));
          nook_write_all (log_cfg.fd, "\n", 1);
        }
      free (s);
      json_decref (o);
      return;
    }
  n = snprintf (line, sizeof (line), "%s\n", msg);
  if (n > (int) sizeof (line) - 1)
    n = sizeof (line) - 1;
  if (log_cfg.fd >= 0)
    nook_write_all (log_cfg.fd, line, n);
}

static void
vlog (const char *level, const char *prefix, const char *fmt, va_list ap)
{
  char msg[1536];
  char line[1600];

  vsnprintf (msg, sizeof (msg), fmt, ap);
  nook_escape_ctl (msg, sizeof (msg));
  emit (level, msg);
  snprintf (line, sizeof (line), "%s%s\n", prefix, msg);
  nook_write_all (STDERR_FILENO, line, strlen (line));
}

void
nook_warn (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog ("warning", "WARN: ", fmt, ap);
  va_end (ap);
}

void
nook_debug (const char *fmt, ...)
{
  va_list ap;
  if (!log_cfg.debug)
    return;
  va_start (ap, fmt);
  vlog ("debug", "DEBU: ", fmt, ap);
  va_end (ap);
}

void
nook_log_error (const char *msg)
{
  emit ("error", msg);
  nook_write_all (STDERR_FILENO, msg, strlen (msg));
  nook_write_all (STDERR_FILENO, "\n", 1);
}
