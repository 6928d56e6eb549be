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

/* RFC 3339 with nanoseconds, UTC (logrus's time format in runc's logs). */
static void
timestamp (char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  char sec[32];

  clock_gettime (CLOCK_REALTIME, &ts);
  strftime (sec, sizeof (sec), "%Y-%m-%dT%H:%M:%S", gmtime_r (&ts.tv_sec, &tm));
  snprintf (buf, len, "%s.%09ldZ", sec, ts.tv_nsec);
}

/* One log record as runc writes it: JSON {"level","msg","time"}, or logrus's text
 * `time="..." level=debug msg="..."` (quotes and backslashes in MSG escaped). */
static void
format_record (const char *level, const char *msg, bool json, char *line, size_t len)
{
  char ts[64];

  timestamp (ts, sizeof (ts));
  if (json)
    {
      json_t *o = json_pack ("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", ts);
      char *s = o ? json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
      snprintf (line, len, "%s\n", s ? s : "");
      free (s);
      json_decref (o);
      return;
    }
  size_t n = (size_t) snprintf (line, len, "time=\"%s\" level=%s msg=\"", ts, level);
  for (const char *p = msg; *p && n + 4 < len; p++)
    {
      if (*p == '"' || *p == '\\')
        line[n++] = '\\';
      line[n++] = *p == '\n' ? ' ' : *p;
    }
  snprintf (line + n, len - n, "\"\n");
}

/* To the --log file, when there is one. */
static void
emit (const char *level, const char *msg)
{
  char line[2048];

  if (log_cfg.fd < 0)
    return;
  format_record (level, msg, log_cfg.json, line, sizeof (line));
  nook_write_all (log_cfg.fd, line, strlen (line));
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

/* Debug records go to the --log file when there is one, else to stderr in the log format (runc's
 * `--debug` without `--log`). */
void
nook_debug (const char *fmt, ...)
{
  char msg[1536], line[2048];
  va_list ap;

  if (!log_cfg.debug)
    return;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof (msg), fmt, ap);
  va_end (ap);
  if (log_cfg.fd >= 0)
    {
      emit ("debug", msg);
      return;
    }
  format_record ("debug", msg, log_cfg.json, line, sizeof (line));
  nook_write_all (STDERR_FILENO, line, strlen (line));
}

void
nook_log_error (const char *msg)
{
  emit ("error", msg);
  nook_write_all (STDERR_FILENO, msg, strlen (msg));
  nook_write_all (STDERR_FILENO, "\n", 1);
}
