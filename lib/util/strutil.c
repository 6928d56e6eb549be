#include "util/strutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
oom (void)
{
  fputs ("nook: out of memory\n", stderr);
  abort ();
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xcalloc (size_t n, size_t m)
{
  void *p = calloc (n ? n : 1, m ? m : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *p;
  if (s == NULL)
    return NULL;
  p = strdup (s);
  if (p == NULL)
    oom ();
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  char *p;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&p, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return p;
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void
strv_free (char **v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; v[i]; i++)
    free (v[i]);
  free (v);
}

char **
strv_dup (char *const *v)
{
  size_t n = strv_len (v);
  char **r = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  return r;
}

void
strv_push (char ***v, char *s)
{
  size_t n = strv_len (*v);

  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = s;
  (*v)[n + 1] = NULL;
}

void
strv_add (char ***v, const char *s)
{
  strv_push (v, xstrdup (s));
}

bool
str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

bool
str_to_u64 (const char *s, uint64_t max, uint64_t *out)
{
  char *end;
  unsigned long long v;

  if (s == NULL || *s < '0' || *s > '9')
    return false;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return false;
  *out = v;
  return true;
}

char *
str_path_clean (const char *path)
{
  size_t n = strlen (path), len = 0;
  bool abs = path[0] == '/';
  char *out = xmalloc (n + 2);
  size_t floor = 0; /* ".." of a relative path cannot go below what earlier ".." kept */

  if (abs)
    out[len++] = '/', floor = 1;
  for (size_t i = 0; i < n;)
    {
      size_t j = i;
      while (j < n && path[j] != '/')
        j++;
      size_t seg = j - i;
      if (seg == 0 || (seg == 1 && path[i] == '.'))
        ;
      else if (seg == 2 && path[i] == '.' && path[i + 1] == '.')
        {
          if (len > floor)
            {
              while (len > floor && out[len - 1] != '/')
                len--;
              if (len > floor)
                len--; /* the separator */
            }
          else if (!abs)
            {
              if (len > 0)
                out[len++] = '/';
              out[len++] = '.';
              out[len++] = '.';
              floor = len;
            }
        }
      else
        {
          if (len > (abs ? 1u : 0u))
            out[len++] = '/';
          memcpy (out + len, path + i, seg);
          len += seg;
        }
      i = j + 1;
    }
  if (len == 0)
    out[len++] = '.';
  out[len] = '\0';
  return out;
}
