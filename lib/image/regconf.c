/* registries.conf: a TOML subset parser (no library) and longest-prefix lookup.
 *
 * The TOML understood: comments, [table] and [[array-of-tables]] headers with bare or quoted dotted names,
 * key = value lines with basic ("...") and literal ('...') strings, booleans, numbers, arrays (which may
 * span lines) and inline tables.  Values are read into jansson values; multi-line strings are refused.
 * Sections nook has no use for ([aliases], [[registry.mirror]], unknown tables and keys) are parsed and
 * ignored.  Every error names its line. */
#include "image/regconf.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define REGCONF_MAX (1 << 20)
#define SYSTEM_REGCONF "/etc/containers/registries.conf"
#define NEST_MAX 32

enum section
{
  SEC_TOP,
  SEC_REGISTRY,
  SEC_V1_INSECURE,
  SEC_V1_BLOCK,
  SEC_V1_SEARCH,
  SEC_IGNORED,
};

struct parser
{
  const char *p;
  int line;
  nook_err *err;
  struct nook_regconf *c;
  enum section sec;
  int *entry_lines; /* the header line of each [[registry]] entry */
};

static int __attribute__ ((format (printf, 2, 3))) perr (struct parser *ps, const char *fmt, ...)
{
  char msg[NOOK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return nook_error_input (ps->err, "line %d: %s", ps->line, msg);
}

/* ---- lexical helpers ---- */

static void
skip_ws (struct parser *ps)
{
  while (*ps->p == ' ' || *ps->p == '\t')
    ps->p++;
}

/* Skip blanks, comments and newlines (inside arrays and between statements). */
static void
skip_ws_nl (struct parser *ps)
{
  for (;;)
    {
      skip_ws (ps);
      if (*ps->p == '#')
        ps->p += strcspn (ps->p, "\n");
      if (*ps->p == '\r' && ps->p[1] == '\n')
        ps->p++;
      if (*ps->p != '\n')
        return;
      ps->p++;
      ps->line++;
    }
}

/* After a statement: blanks, an optional comment, then a newline or the end. */
static int
end_of_line (struct parser *ps)
{
  skip_ws (ps);
  if (*ps->p == '#')
    ps->p += strcspn (ps->p, "\n");
  if (*ps->p == '\r' && ps->p[1] == '\n')
    ps->p++;
  if (*ps->p != '\n' && *ps->p != '\0')
    return perr (ps, "unexpected `%c` after the value", *ps->p);
  return 0;
}

static bool
bare_key_char (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void
put_utf8 (char **o, unsigned long cp)
{
  char *q = *o;

  if (cp < 0x80)
    *q++ = (char)cp;
  else if (cp < 0x800)
    {
      *q++ = (char)(0xc0 | cp >> 6);
      *q++ = (char)(0x80 | (cp & 0x3f));
    }
  else if (cp < 0x10000)
    {
      *q++ = (char)(0xe0 | cp >> 12);
      *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
      *q++ = (char)(0x80 | (cp & 0x3f));
    }
  else
    {
      *q++ = (char)(0xf0 | cp >> 18);
      *q++ = (char)(0x80 | (cp >> 12 & 0x3f));
      *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
      *q++ = (char)(0x80 | (cp & 0x3f));
    }
  *o = q;
}

static int
hex_value (char h)
{
  if (h >= '0' && h <= '9')
    return h - '0';
  if (h >= 'a' && h <= 'f')
    return h - 'a' + 10;
  if (h >= 'A' && h <= 'F')
    return h - 'A' + 10;
  return -1;
}

static int
read_escape (struct parser *ps, char **o)
{
  static const char from[] = "\"\\btnfr", to[] = "\"\\\b\t\n\f\r";
  char c = *ps->p++;
  const char *k = c ? strchr (from, c) : NULL;
  unsigned long cp = 0;
  int digits;

  if (k != NULL)
    {
      *(*o)++ = to[k - from];
      return 0;
    }
  if (c != 'u' && c != 'U')
    return perr (ps, "invalid escape `\\%c` in string", c ? c : ' ');
  digits = c == 'u' ? 4 : 8;
  for (int i = 0; i < digits; i++, ps->p++)
    {
      int v = hex_value (*ps->p);
      if (v < 0)
        return perr (ps, "invalid unicode escape in string");
      cp = cp << 4 | (unsigned long)v;
    }
  if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return perr (ps, "invalid unicode escape in string");
  put_utf8 (o, cp);
  return 0;
}

/* A basic "..." or literal '...' string at ps->p (on the quote).  Allocated into *OUT. */
static int
read_string (struct parser *ps, char **out)
{
  char quote = *ps->p++;
  cleanup_free char *buf = NULL;
  char *o;

  if (ps->p[0] == quote && ps->p[1] == quote)
    return perr (ps, "multi-line strings are not supported");
  buf = xmalloc (strcspn (ps->p, "\n") + 1); /* an escape never expands past its own length */
  o = buf;
  for (;;)
    {
      char c = *ps->p;
      if (c == '\0' || c == '\n' || c == '\r')
        return perr (ps, "unterminated string");
      ps->p++;
      if (c == quote)
        break;
      if (c == '\\' && quote == '"')
        {
          if (read_escape (ps, &o) < 0)
            return -1;
          continue;
        }
      *o++ = c;
    }
  *o = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* A bare or quoted key, or a dotted sequence of them joined with '.'. */
static int
read_key (struct parser *ps, char **out)
{
  cleanup_free char *key = xstrdup ("");

  for (;;)
    {
      cleanup_free char *part = NULL;
      char *joined;

      skip_ws (ps);
      if (*ps->p == '"' || *ps->p == '\'')
        {
          if (read_string (ps, &part) < 0)
            return -1;
        }
      else
        {
          size_t n = 0;
          while (bare_key_char (ps->p[n]))
            n++;
          if (n == 0)
            return perr (ps, "expected a key");
          part = xasprintf ("%.*s", (int)n, ps->p);
          ps->p += n;
        }
      joined = *key ? xasprintf ("%s.%s", key, part) : xstrdup (part);
      free (key);
      key = joined;
      skip_ws (ps);
      if (*ps->p != '.')
        break;
      ps->p++;
    }
  *out = steal_pointer (&key);
  return 0;
}

/* ---- values ---- */

static int read_value (struct parser *ps, json_t **out, int depth);

static int
read_array (struct parser *ps, json_t **out, int depth)
{
  json_t *arr = json_array ();

  ps->p++; /* '[' */
  for (;;)
    {
      json_t *v;

      skip_ws_nl (ps);
      if (*ps->p == ']')
        break;
      if (read_value (ps, &v, depth + 1) < 0)
        {
          json_decref (arr);
          return -1;
        }
      json_array_append_new (arr, v);
      skip_ws_nl (ps);
      if (*ps->p == ',')
        ps->p++;
      else if (*ps->p != ']')
        {
          json_decref (arr);
          return perr (ps, "expected `,` or `]` in array");
        }
    }
  ps->p++;
  *out = arr;
  return 0;
}

static int
read_inline_table (struct parser *ps, json_t **out, int depth)
{
  json_t *obj = json_object ();

  ps->p++; /* '{' */
  skip_ws (ps);
  while (*ps->p != '}')
    {
      cleanup_free char *key = NULL;
      json_t *v;

      if (read_key (ps, &key) < 0)
        goto fail;
      if (*ps->p != '=')
        {
          perr (ps, "expected `=` after key `%s`", key);
          goto fail;
        }
      ps->p++;
      skip_ws (ps);
      if (read_value (ps, &v, depth + 1) < 0)
        goto fail;
      json_object_set_new (obj, key, v);
      skip_ws (ps);
      if (*ps->p == ',')
        ps->p++;
      else if (*ps->p != '}')
        {
          perr (ps, "expected `,` or `}` in inline table");
          goto fail;
        }
      skip_ws (ps);
    }
  ps->p++;
  *out = obj;
  return 0;
fail:
  json_decref (obj);
  return -1;
}

/* Numbers and dates: kept as a string tagged by being null (nook has no key of those types). */
static int
read_scalar (struct parser *ps, json_t **out)
{
  size_t n = strspn (ps->p, "0123456789abcdefABCDEFxXoO_+-.:TZ");

  if (strncmp (ps->p, "true", 4) == 0 && !bare_key_char (ps->p[4]))
    {
      ps->p += 4;
      *out = json_true ();
      return 0;
    }
  if (strncmp (ps->p, "false", 5) == 0 && !bare_key_char (ps->p[5]))
    {
      ps->p += 5;
      *out = json_false ();
      return 0;
    }
  if (n == 0)
    return perr (ps, "invalid value");
  ps->p += n;
  *out = json_null ();
  return 0;
}

static int
read_value (struct parser *ps, json_t **out, int depth)
{
  char *s;

  if (depth > NEST_MAX)
    return perr (ps, "values nested too deeply");
  switch (*ps->p)
    {
    case '"':
    case '\'':
      if (read_string (ps, &s) < 0)
        return -1;
      *out = json_string (s);
      free (s);
      if (*out == NULL)
        return perr (ps, "string is not valid UTF-8");
      return 0;
    case '[':
      return read_array (ps, out, depth);
    case '{':
      return read_inline_table (ps, out, depth);
    default:
      return read_scalar (ps, out);
    }
}

/* ---- semantics ---- */

static int
want_string (struct parser *ps, const char *key, json_t *v, char **out)
{
  if (!json_is_string (v))
    return perr (ps, "`%s` must be a string", key);
  free (*out);
  *out = xstrdup (json_string_value (v));
  return 0;
}

static int
want_bool (struct parser *ps, const char *key, json_t *v, bool *out)
{
  if (!json_is_boolean (v))
    return perr (ps, "`%s` must be true or false", key);
  *out = json_is_true (v);
  return 0;
}

static int
want_strings (struct parser *ps, const char *key, json_t *v, char ***out)
{
  json_t *item;
  size_t i;
  char **vec;

  if (!json_is_array (v))
    return perr (ps, "`%s` must be an array of strings", key);
  vec = xcalloc (json_array_size (v) + 1, sizeof *vec);
  json_array_foreach (v, i, item)
  {
    if (!json_is_string (item))
      {
        strv_free (vec);
        return perr (ps, "`%s` must be an array of strings", key);
      }
    vec[i] = xstrdup (json_string_value (item));
  }
  strv_free (*out);
  *out = vec;
  return 0;
}

static struct nook_regconf_entry *
find_prefix (struct nook_regconf *c, const char *prefix)
{
  for (size_t i = 0; i < c->n; i++)
    if (c->entries[i].prefix && strcmp (c->entries[i].prefix, prefix) == 0)
      return &c->entries[i];
  return NULL;
}

static struct nook_regconf_entry *
add_entry (struct parser *ps)
{
  struct nook_regconf *c = ps->c;

  c->entries = xrealloc (c->entries, (c->n + 1) * sizeof *c->entries);
  ps->entry_lines = xrealloc (ps->entry_lines, (c->n + 1) * sizeof *ps->entry_lines);
  memset (&c->entries[c->n], 0, sizeof c->entries[c->n]);
  ps->entry_lines[c->n] = ps->line;
  return &c->entries[c->n++];
}

/* v1: [registries.insecure] / [registries.block] registries = [...] set the flag on a location entry. */
static int
v1_registries (struct parser *ps, const char *key, json_t *v)
{
  cleanup_strv char **list = NULL;

  if (strcmp (key, "registries") != 0)
    return 0;
  if (want_strings (ps, key, v, &list) < 0)
    return -1;
  if (ps->sec == SEC_V1_SEARCH)
    {
      strv_free (ps->c->search);
      ps->c->search = steal_pointer (&list);
      return 0;
    }
  for (size_t i = 0; list[i]; i++)
    {
      struct nook_regconf_entry *e = find_prefix (ps->c, list[i]);
      if (e == NULL)
        {
          e = add_entry (ps);
          e->prefix = xstrdup (list[i]);
          e->location = xstrdup (list[i]);
        }
      if (ps->sec == SEC_V1_INSECURE)
        e->insecure = true;
      else
        e->blocked = true;
    }
  return 0;
}

static int
registry_key (struct parser *ps, const char *key, json_t *v)
{
  struct nook_regconf_entry *e = &ps->c->entries[ps->c->n - 1];

  if (strcmp (key, "location") == 0)
    return want_string (ps, key, v, &e->location);
  if (strcmp (key, "prefix") == 0)
    return want_string (ps, key, v, &e->prefix);
  if (strcmp (key, "insecure") == 0)
    return want_bool (ps, key, v, &e->insecure);
  if (strcmp (key, "blocked") == 0)
    return want_bool (ps, key, v, &e->blocked);
  return 0; /* mirror, mirror-by-digest-only, pull-from-mirror: not used */
}

static int
apply_key (struct parser *ps, const char *key, json_t *v)
{
  switch (ps->sec)
    {
    case SEC_TOP:
      if (strcmp (key, "unqualified-search-registries") == 0)
        return want_strings (ps, key, v, &ps->c->search);
      if (strcmp (key, "short-name-mode") == 0 && !json_is_string (v))
        return perr (ps, "`%s` must be a string", key);
      return 0;
    case SEC_REGISTRY:
      return registry_key (ps, key, v);
    case SEC_V1_INSECURE:
    case SEC_V1_BLOCK:
    case SEC_V1_SEARCH:
      return v1_registries (ps, key, v);
    case SEC_IGNORED:
      return 0;
    }
  return 0;
}

static int
key_value (struct parser *ps)
{
  cleanup_free char *key = NULL;
  json_t *v = NULL;
  int r;

  if (read_key (ps, &key) < 0)
    return -1;
  if (*ps->p != '=')
    return perr (ps, "expected `=` after key `%s`", key);
  ps->p++;
  skip_ws (ps);
  if (*ps->p == '\n' || *ps->p == '\0' || *ps->p == '#')
    return perr (ps, "missing value for key `%s`", key);
  if (read_value (ps, &v, 0) < 0)
    return -1;
  r = apply_key (ps, key, v);
  json_decref (v);
  if (r < 0)
    return -1;
  return end_of_line (ps);
}

static int
table_header (struct parser *ps)
{
  bool array = ps->p[1] == '[';
  cleanup_free char *name = NULL;

  ps->p += array ? 2 : 1;
  if (read_key (ps, &name) < 0)
    return -1;
  if (*ps->p != ']' || (array && ps->p[1] != ']'))
    return perr (ps, "expected `%s` after table name `%s`", array ? "]]" : "]", name);
  ps->p += array ? 2 : 1;
  ps->sec = SEC_IGNORED;
  if (array && strcmp (name, "registry") == 0)
    {
      add_entry (ps);
      ps->sec = SEC_REGISTRY;
    }
  else if (!array && strcmp (name, "registries.insecure") == 0)
    ps->sec = SEC_V1_INSECURE;
  else if (!array && strcmp (name, "registries.block") == 0)
    ps->sec = SEC_V1_BLOCK;
  else if (!array && strcmp (name, "registries.search") == 0)
    ps->sec = SEC_V1_SEARCH;
  return end_of_line (ps);
}

/* Every entry needs a location or a prefix; prefixes are unique. */
static int
finish (struct parser *ps)
{
  struct nook_regconf *c = ps->c;

  for (size_t i = 0; i < c->n; i++)
    {
      struct nook_regconf_entry *e = &c->entries[i];

      ps->line = ps->entry_lines[i];
      if ((e->location == NULL || *e->location == '\0') && (e->prefix == NULL || *e->prefix == '\0'))
        return perr (ps, "[[registry]] needs a location or a prefix");
      if (e->prefix == NULL || *e->prefix == '\0')
        {
          free (e->prefix);
          e->prefix = xstrdup (e->location);
        }
      for (size_t j = 0; j < i; j++)
        if (strcmp (c->entries[j].prefix, e->prefix) == 0)
          return perr (ps, "registry prefix `%s` is defined more than once", e->prefix);
    }
  if (c->search == NULL)
    c->search = xcalloc (1, sizeof *c->search);
  return 0;
}

static int
parse (struct parser *ps)
{
  for (;;)
    {
      skip_ws_nl (ps);
      if (*ps->p == '\0')
        return finish (ps);
      if ((*ps->p == '[' ? table_header (ps) : key_value (ps)) < 0)
        return -1;
    }
}

static int
parse_text (const char *text, struct nook_regconf **out, nook_err *err)
{
  struct parser ps = { .p = text, .line = 1, .err = err, .sec = SEC_TOP };

  ps.c = xcalloc (1, sizeof *ps.c);
  if (parse (&ps) < 0)
    {
      free (ps.entry_lines);
      nook_regconf_free (ps.c);
      return -1;
    }
  free (ps.entry_lines);
  *out = ps.c;
  return 0;
}

int
nook_regconf_parse (const char *text, struct nook_regconf **out, nook_err *err)
{
  if (parse_text (text, out, err) < 0)
    return nook_error_prefix (err, "registries.conf");
  return 0;
}

static char *
default_path (void)
{
  const char *xdg = getenv ("XDG_CONFIG_HOME"), *home = getenv ("HOME");
  char *p = NULL;

  if (xdg != NULL && *xdg != '\0')
    p = xasprintf ("%s/containers/registries.conf", xdg);
  else if (home != NULL && *home != '\0')
    p = xasprintf ("%s/.config/containers/registries.conf", home);
  if (p != NULL && access (p, F_OK) == 0)
    return p;
  free (p);
  return xstrdup (SYSTEM_REGCONF);
}

int
nook_regconf_load (const char *path, struct nook_regconf **out, nook_err *err)
{
  cleanup_free char *file = path ? xstrdup (path) : default_path ();
  cleanup_free char *data = NULL;
  size_t len;

  if (nook_read_file_at (AT_FDCWD, file, &data, &len, REGCONF_MAX, err) < 0)
    {
      if (err->code == ENOENT)
        return parse_text ("", out, err);
      return -1;
    }
  if (strlen (data) != len)
    return nook_error_input (err, "`%s`: contains a NUL byte", file);
  if (parse_text (data, out, err) < 0)
    return nook_error_prefix (err, "`%s`", file);
  return 0;
}

void
nook_regconf_free (struct nook_regconf *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n; i++)
    {
      free (c->entries[i].prefix);
      free (c->entries[i].location);
    }
  free (c->entries);
  strv_free (c->search);
  free (c);
}

/* ---- lookup ---- */

/* The length of the match of PREFIX against KEY ("domain/path") with DOMAIN its host part, or -1. */
static long
prefix_match (const char *prefix, const char *key, const char *domain)
{
  size_t n = strlen (prefix);

  if (str_has_prefix (prefix, "*."))
    {
      const char *suffix = prefix + 1; /* ".example.com" */
      size_t hn = strcspn (domain, ":"), sn = strlen (suffix);
      if (hn > sn && strncmp (domain + hn - sn, suffix, sn) == 0)
        return (long)n;
      return -1;
    }
  if (strncmp (key, prefix, n) != 0)
    return -1;
  if (key[n] == '\0' || key[n] == '/' || (n > 0 && prefix[n - 1] == '/'))
    return (long)n;
  return -1;
}

const struct nook_regconf_entry *
nook_regconf_find (const struct nook_regconf *c, const char *domain, const char *path)
{
  cleanup_free char *key = path && *path ? xasprintf ("%s/%s", domain, path) : xstrdup (domain);
  const struct nook_regconf_entry *best = NULL;
  long best_len = -1;

  if (c == NULL)
    return NULL;
  for (size_t i = 0; i < c->n; i++)
    {
      long l = prefix_match (c->entries[i].prefix, key, domain);
      if (l > best_len)
        {
          best_len = l;
          best = &c->entries[i];
        }
    }
  return best;
}
