#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

void
nook_escape_ctl (char *buf, size_t size)
{
  char src[NOOK_ERR_MSG_MAX * 2];
  size_t n = strnlen (buf, size), o = 0;
  const unsigned char *u = (const unsigned char *) src;

  if (size == 0)
    return;
  for (size_t i = 0;; i++)
    {
      if (i == n)
        return; /* nothing to escape: the common case leaves BUF alone */
      unsigned char c = (unsigned char) buf[i];
      if ((c < 0x20 && c != '\t') || c == 0x7f || (c == 0xc2 && i + 1 < n && ((unsigned char) buf[i + 1] & 0xe0) == 0x80))
        break;
    }
  if (n >= sizeof (src))
    n = sizeof (src) - 1;
  memcpy (src, buf, n);
  src[n] = '\0';
  for (size_t i = 0; i < n && o + 1 < size; i++)
    {
      char esc[8];
      size_t k;
      if (u[i] == '\n')
        k = (size_t) snprintf (esc, sizeof (esc), "\\n");
      else if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
        k = (size_t) snprintf (esc, sizeof (esc), "\\x%02x", u[i]);
      else if (u[i] == 0xc2 && i + 1 < n && (u[i + 1] & 0xe0) == 0x80)
        {
          k = (size_t) snprintf (esc, sizeof (esc), "\\u%04x", u[i + 1]);
          i++;
        }
      else
        esc[0] = (char) u[i], k = 1;
      if (o + k >= size)
        break;
      memcpy (buf + o, esc, k);
      o += k;
    }
  buf[o] = '\0';
}

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
  nook_escape_ctl (err->msg, sizeof (err->msg));
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
  nook_escape_ctl (prefix, sizeof (prefix));
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
