#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static void
fill (nook_err *err, int errnum, const char *fmt, va_list ap)
{
  int n = vsnprintf (err->msg, sizeof (err->msg), fmt, ap);
  if (n < 0)
    n = 0;
  if (errnum != 0 && (size_t) n < sizeof (err->msg))
    snprintf (err->msg + n, sizeof (err->msg) - n, ": %s", strerror (errnum));
  err->code = errnum;
  err->status = NOOK_EXIT_ERROR;
}

int
nook_error (nook_err *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  fill (err, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int
nook_error_input (nook_err *err, const char *fmt, ...)
{
  va_list ap;
  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  fill (err, 0, fmt, ap);
  va_end (ap);
  err->code = EINVAL;
  return -1;
}

int
nook_error_prefix (nook_err *err, const char *fmt, ...)
{
  char prefix[NOOK_ERR_MSG_MAX];
  char old[NOOK_ERR_MSG_MAX];
  va_list ap;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof (prefix), fmt, ap);
  va_end (ap);
  memcpy (old, err->msg, sizeof (old));
  snprintf (err->msg, sizeof (err->msg), "%s: %s", prefix, old);
  return -1;
}

void
nook_err_clear (nook_err *err)
{
  err->code = 0;
  err->status = 0;
  err->msg[0] = '\0';
}

void
nook_err_print (const nook_err *err, const char *prog)
{
  char line[NOOK_ERR_MSG_MAX + 128];
  snprintf (line, sizeof (line), "%s: %s", prog, err->msg[0] ? err->msg : "unknown error");
  nook_log_error (line);
}
