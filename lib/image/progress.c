#include "image/progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/strutil.h"

struct bar
{
  char digest[20];   /* "sha256:" + 12 hex */
  int64_t done, total;
  bool finished;
  bool announced;
};

struct nook_progress
{
  FILE *out;
  bool tty;
  size_t n;
  struct bar *bars;
  double start;
  double last_draw;
  bool drawn;
};

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

struct nook_progress *
nook_progress_new (FILE *out, size_t n, const char *const *digests, const int64_t *sizes)
{
  struct nook_progress *p = xcalloc (1, sizeof (*p));
  p->out = out;
  p->tty = out && isatty (fileno (out));
  p->n = n;
  p->bars = xcalloc (n ? n : 1, sizeof (struct bar));
  for (size_t i = 0; i < n; i++)
    {
      snprintf (p->bars[i].digest, sizeof (p->bars[i].digest), "%.19s", digests[i]);
      p->bars[i].total = sizes[i];
    }
  p->start = now ();
  return p;
}

static void
human (double bytes, char *buf, size_t len)
{
  const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  int u = 0;
  while (bytes >= 1024 && u < 4)
    {
      bytes /= 1024;
      u++;
    }
  snprintf (buf, len, u ? "%.1f%s" : "%.0f%s", bytes, units[u]);
}

static void
draw_bar (struct nook_progress *p, struct bar *b, double elapsed)
{
  char done[16], total[16], speed[16], line[160];
  int width = 20, fill = b->total > 0 ? (int) ((double) b->done * width / (double) b->total) : width;
  char meter[32];

  if (fill > width)
    fill = width;
  memset (meter, ' ', (size_t) width);
  for (int i = 0; i < fill; i++)
    memcpy (meter + i, "=", 1);
  meter[width] = '\0';
  human ((double) b->done, done, sizeof (done));
  human ((double) b->total, total, sizeof (total));
  human (elapsed > 0 ? (double) b->done / elapsed : 0, speed, sizeof (speed));
  snprintf (line, sizeof (line), "Copying blob %s %s / %s [%s] %s (%s/s)", b->digest, done, total, meter,
            b->finished ? "done" : "", speed);
  fprintf (p->out, "\r\033[2K%s\n", line);
}

static void
redraw (struct nook_progress *p, bool force)
{
  double t = now ();
  if (!force && t - p->last_draw < 0.1)
    return;
  p->last_draw = t;
  if (p->drawn)
    fprintf (p->out, "\033[%zuA", p->n);
  for (size_t i = 0; i < p->n; i++)
    draw_bar (p, &p->bars[i], t - p->start);
  p->drawn = true;
  fflush (p->out);
}

void
nook_progress_update (void *ud, size_t index, int64_t done, int64_t total, bool finished)
{
  struct nook_progress *p = ud;
  struct bar *b;

  if (p == NULL || p->out == NULL || index >= p->n)
    return;
  b = &p->bars[index];
  b->done = done;
  if (total > 0)
    b->total = total;
  b->finished = finished;
  if (p->tty)
    {
      redraw (p, finished);
      return;
    }
  if (!b->announced)
    {
      fprintf (p->out, "Copying blob %s\n", b->digest);
      b->announced = true;
    }
  if (finished)
    {
      char size[16];
      human ((double) b->done, size, sizeof (size));
      fprintf (p->out, "Copying blob %s done (%s)\n", b->digest, size);
    }
  fflush (p->out);
}

void
nook_progress_line (struct nook_progress *p, const char *fmt, ...)
{
  va_list ap;
  if (p == NULL || p->out == NULL)
    return;
  va_start (ap, fmt);
  vfprintf (p->out, fmt, ap);
  va_end (ap);
  fputc ('\n', p->out);
  fflush (p->out);
}

void
nook_progress_free (struct nook_progress *p)
{
  if (p == NULL)
    return;
  free (p->bars);
  free (p);
}
