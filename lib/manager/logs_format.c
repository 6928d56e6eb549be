/* The k8s-file log format, time parsing, the attach wire format and the detach keys: pure functions. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager/logs_internal.h"
#include "util/strutil.h"

/* ---- buffers ---- */

void
nook_buf_add (struct nook_buf *b, const void *data, size_t len)
{
  if (b->len + len + 1 > b->cap)
    {
      size_t cap = b->cap ? b->cap : 256;
      while (cap < b->len + len + 1)
        cap *= 2;
      b->data = xrealloc (b->data, cap);
      b->cap = cap;
    }
  if (len)
    memcpy (b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void
nook_buf_addc (struct nook_buf *b, char c)
{
  nook_buf_add (b, &c, 1);
}

void
nook_buf_consume (struct nook_buf *b, size_t n)
{
  if (n >= b->len)
    {
      b->len = 0;
      return;
    }
  memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
}

void
nook_buf_free (struct nook_buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- time ---- */

int64_t
nook_log_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
nook_log_format_ts (int64_t ns, char *buf, size_t len)
{
  time_t sec = (time_t) (ns / 1000000000LL);
  long frac = (long) (ns % 1000000000LL);
  struct tm tm;
  char date[32];

  if (frac < 0)
    {
      frac += 1000000000L;
      sec--;
    }
  gmtime_r (&sec, &tm);
  strftime (date, sizeof (date), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, len, "%s.%09ldZ", date, frac);
}

/* N digits at *P into *OUT. */
static bool
digits (const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (!isdigit ((unsigned char) (*p)[i]))
        return false;
      v = v * 10 + ((*p)[i] - '0');
    }
  *p += n;
  *out = v;
  return true;
}

static bool
parse_fraction (const char **p, int64_t *ns)
{
  int64_t scale = 100000000LL;
  *ns = 0;
  if (**p != '.' && **p != ',')
    return true;
  (*p)++;
  if (!isdigit ((unsigned char) **p))
    return false;
  for (; isdigit ((unsigned char) **p); (*p)++, scale /= 10)
    *ns += (**p - '0') * scale;
  return true;
}

/* "Z", "+hh:mm", "-hh:mm" (also "+hhmm") -> seconds east of UTC. */
static bool
parse_zone (const char *p, long *off)
{
  int h, m;
  int sign;

  if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
    {
      *off = 0;
      return true;
    }
  if (p[0] != '+' && p[0] != '-')
    return false;
  sign = p[0] == '-' ? -1 : 1;
  p++;
  if (!digits (&p, 2, &h))
    return false;
  if (*p == ':')
    p++;
  if (!digits (&p, 2, &m) || *p != '\0' || h > 23 || m > 59)
    return false;
  *off = sign * (h * 3600L + m * 60L);
  return true;
}

bool
nook_log_parse_rfc3339 (const char *s, int64_t *ns)
{
  struct tm tm = { 0 };
  const char *p = s;
  int y, mo, d, h = 0, mi = 0, se = 0;
  int64_t frac = 0;
  long off = 0;
  bool local = false;

  if (!digits (&p, 4, &y) || *p++ != '-' || !digits (&p, 2, &mo) || *p++ != '-' || !digits (&p, 2, &d))
    return false;
  if (*p != '\0')
    {
      if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, !digits (&p, 2, &h)) || *p++ != ':'
          || !digits (&p, 2, &mi) || *p++ != ':' || !digits (&p, 2, &se) || !parse_fraction (&p, &frac)
          || (*p != '\0' && !parse_zone (p, &off)))
        return false;
      local = *p == '\0';
    }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
    return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  if (local)
    {
      tm.tm_isdst = -1;
      *ns = (int64_t) mktime (&tm) * 1000000000LL + frac;
    }
  else
    *ns = ((int64_t) timegm (&tm) - off) * 1000000000LL + frac;
  return true;
}

static int64_t
unit_ns (const char **p)
{
  static const struct
  {
    const char *name;
    int64_t ns;
  } units[] = { { "ns", 1 }, { "us", 1000 }, { "µs", 1000 }, { "ms", 1000000 }, { "s", 1000000000LL },
                { "m", 60000000000LL }, { "h", 3600000000000LL } };

  for (size_t i = 0; i < sizeof (units) / sizeof (units[0]); i++)
    {
      size_t n = strlen (units[i].name);
      if (strncmp (*p, units[i].name, n) == 0)
        {
          *p += n;
          return units[i].ns;
        }
    }
  return 0;
}

bool
nook_log_parse_duration (const char *s, int64_t *ns)
{
  const char *p = s;
  double total = 0;

  if (*p == '\0')
    return false;
  if (strcmp (p, "0") == 0)
    {
      *ns = 0;
      return true;
    }
  while (*p)
    {
      char *end;
      double v;
      int64_t unit;

      if (!isdigit ((unsigned char) *p) && *p != '.')
        return false;
      errno = 0;
      v = strtod (p, &end);
      if (end == p || errno != 0)
        return false;
      p = end;
      unit = unit_ns (&p);
      if (unit == 0)
        return false;
      total += v * (double) unit;
    }
  if (total > 9.2e18)
    return false;
  *ns = (int64_t) total;
  return true;
}

static bool
parse_unix (const char *s, int64_t *ns)
{
  const char *p = s;
  int64_t sec = 0, frac = 0;

  if (!isdigit ((unsigned char) *p))
    return false;
  for (; isdigit ((unsigned char) *p); p++)
    {
      if (sec > 9000000000LL)
        return false;
      sec = sec * 10 + (*p - '0');
    }
  if (!parse_fraction (&p, &frac) || *p != '\0')
    return false;
  *ns = sec * 1000000000LL + frac;
  return true;
}

int
nook_log_parse_time (const char *s, int64_t now_ns, int64_t *ns, nook_err *err)
{
  int64_t d;

  if (s == NULL || *s == '\0')
    return nook_error_input (err, "empty time value");
  if (nook_log_parse_rfc3339 (s, ns) || parse_unix (s, ns))
    return 0;
  if (nook_log_parse_duration (s, &d))
    {
      *ns = now_ns - d;
      return 0;
    }
  return nook_error_input (err, "invalid time `%s`: use RFC 3339 (2006-01-02T15:04:05Z), unix seconds or a duration "
                                "(10s, 5m, 2h)",
                           s);
}

/* ---- writer ---- */

static void
format_one (struct nook_buf *out, const char *ts, int stream, const char *data, size_t len, bool full)
{
  nook_buf_add (out, ts, strlen (ts));
  nook_buf_add (out, stream == NOOK_LOG_STDERR ? " stderr " : " stdout ", 8);
  nook_buf_add (out, full ? "F " : "P ", 2);
  nook_buf_add (out, data, len);
  nook_buf_addc (out, '\n');
}

void
nook_log_format (struct nook_buf *out, const char *ts, int stream, const char *data, size_t len)
{
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      size_t n = nl ? (size_t) (nl - data) : len;

      format_one (out, ts, stream, data, n, nl != NULL);
      if (nl == NULL)
        break;
      data += n + 1;
      len -= n + 1;
    }
}

/* ---- parser ---- */

static const char *
next_field (const char *p, const char *end, const char **field, size_t *flen)
{
  const char *sp = memchr (p, ' ', (size_t) (end - p));
  if (sp == NULL)
    return NULL;
  *field = p;
  *flen = (size_t) (sp - p);
  return sp + 1;
}

int
nook_log_parse_line (const char *line, size_t len, struct nook_log_line *out, nook_err *err)
{
  const char *end = line + len, *p = line, *f;
  size_t flen;
  char ts[64];

  p = next_field (p, end, &out->ts, &out->ts_len);
  if (p == NULL || out->ts_len == 0 || out->ts_len >= sizeof (ts))
    return nook_error_input (err, "log line: no timestamp");
  memcpy (ts, out->ts, out->ts_len);
  ts[out->ts_len] = '\0';
  if (!nook_log_parse_rfc3339 (ts, &out->ns))
    return nook_error_input (err, "log line: bad timestamp `%s`", ts);
  p = next_field (p, end, &f, &flen);
  if (p == NULL)
    return nook_error_input (err, "log line: no stream");
  if (flen == 6 && memcmp (f, "stdout", 6) == 0)
    out->stream = NOOK_LOG_STDOUT;
  else if (flen == 6 && memcmp (f, "stderr", 6) == 0)
    out->stream = NOOK_LOG_STDERR;
  else
    return nook_error_input (err, "log line: bad stream `%.*s`", (int) flen, f);
  /* The tag may end the line (an empty text): "TS stdout F". */
  f = p;
  flen = (size_t) (end - p);
  if (flen >= 1 && (flen == 1 || p[1] == ' ') && (p[0] == 'F' || p[0] == 'P'))
    {
      out->partial = p[0] == 'P';
      out->text = flen > 1 ? p + 2 : end;
      out->len = flen > 1 ? flen - 2 : 0;
      return 0;
    }
  return nook_error_input (err, "log line: bad tag `%.*s`", (int) (flen > 8 ? 8 : flen), f);
}

/* ---- reader ---- */

void
nook_log_reader_init (struct nook_log_reader *r, nook_log_emit_fn emit, void *ctx)
{
  memset (r, 0, sizeof (*r));
  r->emit = emit;
  r->ctx = ctx;
}

static void
emit_entry (struct nook_log_reader *r, int64_t ns, const char *ts, int stream, const char *text, size_t len,
            bool newline)
{
  struct nook_log_entry e = { .ns = ns, .stream = stream, .text = text, .len = len, .newline = newline };

  if (r->since_ns && ns < r->since_ns)
    return;
  if (r->until_ns && ns > r->until_ns)
    return;
  snprintf (e.ts, sizeof (e.ts), "%s", ts);
  r->emit (r->ctx, &e);
}

static void
reader_line (struct nook_log_reader *r, const char *line, size_t len)
{
  struct nook_log_line l;
  nook_err e;
  int s;

  if (len == 0)
    return;
  if (nook_log_parse_line (line, len, &l, &e) < 0)
    {
      r->bad++;
      return;
    }
  s = l.stream;
  if (!r->has_pend[s] && !l.partial)
    {
      char ts[40];
      snprintf (ts, sizeof (ts), "%.*s", (int) l.ts_len, l.ts);
      emit_entry (r, l.ns, ts, s, l.text, l.len, true);
      return;
    }
  if (!r->has_pend[s])
    {
      r->has_pend[s] = true;
      r->pend_ns[s] = l.ns;
      snprintf (r->pend_ts[s], sizeof (r->pend_ts[s]), "%.*s", (int) l.ts_len, l.ts);
      r->pend[s].len = 0;
    }
  nook_buf_add (&r->pend[s], l.text, l.len);
  if (!l.partial)
    {
      r->has_pend[s] = false;
      emit_entry (r, r->pend_ns[s], r->pend_ts[s], s, r->pend[s].data, r->pend[s].len, true);
    }
}

void
nook_log_reader_feed (struct nook_log_reader *r, const char *data, size_t len)
{
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      size_t n = nl ? (size_t) (nl - data) : len;

      if (nl == NULL)
        {
          nook_buf_add (&r->line, data, n);
          return;
        }
      if (r->line.len)
        {
          nook_buf_add (&r->line, data, n);
          reader_line (r, r->line.data, r->line.len);
          r->line.len = 0;
        }
      else
        reader_line (r, data, n);
      data += n + 1;
      len -= n + 1;
    }
}

void
nook_log_reader_flush (struct nook_log_reader *r)
{
  for (int s = 1; s <= 2; s++)
    if (r->has_pend[s])
      {
        r->has_pend[s] = false;
        emit_entry (r, r->pend_ns[s], r->pend_ts[s], s, r->pend[s].data, r->pend[s].len, false);
      }
}

void
nook_log_reader_free (struct nook_log_reader *r)
{
  nook_buf_free (&r->line);
  for (int s = 0; s < 3; s++)
    nook_buf_free (&r->pend[s]);
}

/* ---- tail ---- */

void
nook_log_tail_init (struct nook_log_tail *t, size_t n)
{
  memset (t, 0, sizeof (*t));
  t->n = n;
  if (n)
    {
      t->ring = xcalloc (n, sizeof (*t->ring));
      t->texts = xcalloc (n, sizeof (*t->texts));
    }
}

void
nook_log_tail_push (void *tail, const struct nook_log_entry *e)
{
  struct nook_log_tail *t = tail;
  size_t slot;

  if (t->n == 0)
    return;
  slot = (t->head + t->count) % t->n;
  if (t->count == t->n)
    {
      slot = t->head;
      t->head = (t->head + 1) % t->n;
    }
  else
    t->count++;
  free (t->texts[slot]);
  t->texts[slot] = xmalloc (e->len + 1);
  memcpy (t->texts[slot], e->text, e->len);
  t->texts[slot][e->len] = '\0';
  t->ring[slot] = *e;
  t->ring[slot].text = t->texts[slot];
}

const struct nook_log_entry *
nook_log_tail_get (const struct nook_log_tail *t, size_t i)
{
  return &t->ring[(t->head + i) % t->n];
}

void
nook_log_tail_free (struct nook_log_tail *t)
{
  for (size_t i = 0; i < t->n; i++)
    free (t->texts[i]);
  free (t->texts);
  free (t->ring);
  memset (t, 0, sizeof (*t));
}

/* ---- attach frames ---- */

void
nook_attach_frame (struct nook_buf *out, int type, const void *data, size_t len)
{
  unsigned char hdr[NOOK_ATTACH_HDR] = { (unsigned char) type, (unsigned char) (len >> 24),
                                         (unsigned char) (len >> 16), (unsigned char) (len >> 8),
                                         (unsigned char) len };
  nook_buf_add (out, hdr, sizeof (hdr));
  nook_buf_add (out, data, len);
}

int
nook_attach_frame_next (const char *buf, size_t len, int *type, const char **payload, size_t *plen, size_t *total)
{
  const unsigned char *u = (const unsigned char *) buf;
  size_t n;

  if (len < NOOK_ATTACH_HDR)
    return 0;
  n = ((size_t) u[1] << 24) | ((size_t) u[2] << 16) | ((size_t) u[3] << 8) | u[4];
  if (n > NOOK_ATTACH_MAX_FRAME)
    return -1;
  if (len < NOOK_ATTACH_HDR + n)
    return 0;
  *type = u[0];
  *payload = buf + NOOK_ATTACH_HDR;
  *plen = n;
  *total = NOOK_ATTACH_HDR + n;
  return 1;
}

/* ---- detach keys ---- */

static int
detach_key (const char *k, size_t n)
{
  if (n == 1)
    return (unsigned char) k[0];
  if (n == 6 && strncmp (k, "ctrl-", 5) == 0)
    {
      char c = k[5];
      if (c >= 'a' && c <= 'z')
        return c - 'a' + 1;
      if (c >= 'A' && c <= 'Z')
        return c - 'A' + 1;
      if (c == '@')
        return 0;
      if (c >= '[' && c <= '_')
        return c - '[' + 27;
    }
  return -1;
}

int
nook_detach_parse (const char *spec, struct nook_detach *d, nook_err *err)
{
  const char *p;

  memset (d, 0, sizeof (*d));
  if (spec == NULL)
    spec = NOOK_DETACH_KEYS_DEFAULT;
  for (p = spec; *p;)
    {
      size_t n = strcspn (p, ",");
      int k = detach_key (p, n);

      if (k < 0 || d->n == sizeof (d->keys))
        return nook_error_input (err, "invalid detach keys `%s`: use \"ctrl-<a-z@[\\]^_>\" or single characters, "
                                      "separated by commas",
                                 spec);
      d->keys[d->n++] = (unsigned char) k;
      p += n;
      if (*p == ',')
        {
          p++;
          if (*p == '\0')
            return nook_error_input (err, "invalid detach keys `%s`: trailing comma", spec);
        }
    }
  return 0;
}

bool
nook_detach_filter (struct nook_detach *d, const char *in, size_t len, struct nook_buf *out)
{
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) in[i];

      if (d->n == 0)
        {
          nook_buf_add (out, in + i, len - i);
          return false;
        }
      if (c == d->keys[d->matched])
        {
          if (++d->matched == d->n)
            {
              d->matched = 0;
              return true;
            }
          continue;
        }
      /* The match broke: release what was held, then look at C afresh. */
      nook_buf_add (out, d->keys, d->matched);
      d->matched = 0;
      if (c == d->keys[0]) /* here d->n >= 2: a 1-key sequence matched above */
        d->matched = 1;
      else
        nook_buf_addc (out, (char) c);
    }
  return false;
}
