/* Image references, following the grammar of github.com/distribution/reference:
 *
 *   reference      := name [ ":" tag ] [ "@" digest ]
 *   name           := [ domain "/" ] path-component [ "/" path-component ]*
 *   domain         := host [ ":" port ]      host := domain-component [ "." domain-component ]* | "[" ipv6 "]"
 *   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component := [a-z0-9]+ ( ( [._] | "__" | "-"* ) [a-z0-9]+ )*
 *   tag            := [\w][\w.-]{0,127}
 *   digest         := algorithm ":" hex      (only sha256 with 64 lowercase hex is supported)
 *
 * and normalized like ParseNormalizedNamed: no domain -> docker.io, a single docker.io component ->
 * library/X, index.docker.io -> docker.io. */
#include "store/reference.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"

#define NAME_TOTAL_MAX 255
#define TAG_MAX 128
#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN "index.docker.io"
#define BAD "invalid reference format"

static bool
lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
word_char (char c)
{
  return isalnum ((unsigned char)c) || c == '_';
}

static bool
lower_hex (char c)
{
  return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

bool
nook_digest_valid (const char *d)
{
  if (d == NULL || strncmp (d, "sha256:", 7) != 0 || strlen (d) != 7 + 64)
    return false;
  for (d += 7; *d; d++)
    if (!lower_hex (*d))
      return false;
  return true;
}

/* [a-z0-9]+ ( ([._] | "__" | "-"*) [a-z0-9]+ )* over [S, S+N). */
static bool
path_component_valid (const char *s, size_t n)
{
  size_t i = 0;

  if (n == 0 || !lower_alnum (s[0]))
    return false;
  while (i < n)
    {
      size_t seps;

      while (i < n && lower_alnum (s[i]))
        i++;
      if (i == n)
        return true;
      seps = 0;
      if (s[i] == '.')
        seps = 1;
      else if (s[i] == '_')
        seps = (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else
        while (i + seps < n && s[i + seps] == '-')
          seps++;
      if (seps == 0)
        return false;
      i += seps;
      if (i == n || !lower_alnum (s[i]))
        return false;
    }
  return true;
}

static bool
path_valid (const char *path)
{
  const char *p = path;

  for (;;)
    {
      const char *slash = strchr (p, '/');
      size_t n = slash ? (size_t)(slash - p) : strlen (p);

      if (!path_component_valid (p, n))
        return false;
      if (slash == NULL)
        return true;
      p = slash + 1;
    }
}

/* [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool
domain_component_valid (const char *s, size_t n)
{
  if (n == 0 || !isalnum ((unsigned char)s[0]) || !isalnum ((unsigned char)s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char)s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool
host_valid (const char *s, size_t n)
{
  size_t start = 0;

  if (n >= 2 && s[0] == '[')
    {
      if (s[n - 1] != ']' || n == 2)
        return false;
      for (size_t i = 1; i < n - 1; i++)
        if (!isxdigit ((unsigned char)s[i]) && s[i] != ':')
          return false;
      return true;
    }
  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '.')
      {
        if (!domain_component_valid (s + start, i - start))
          return false;
        start = i + 1;
      }
  return true;
}

static bool
domain_valid (const char *d)
{
  const char *colon = strrchr (d, ':');
  const char *bracket = strrchr (d, ']');

  if (colon != NULL && (bracket == NULL || colon > bracket))
    {
      if (colon[1] == '\0')
        return false;
      for (const char *p = colon + 1; *p; p++)
        if (!isdigit ((unsigned char)*p))
          return false;
      return host_valid (d, colon - d);
    }
  return host_valid (d, strlen (d));
}

static bool
tag_valid (const char *t)
{
  size_t n = strlen (t);

  if (n == 0 || n > TAG_MAX || !word_char (t[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!word_char (t[i]) && t[i] != '.' && t[i] != '-')
      return false;
  return true;
}

/* algorithm := [a-z0-9]+ ( [+._-] [a-z0-9]+ )* */
static bool
algorithm_valid (const char *s, size_t n)
{
  bool want_alnum = true;

  for (size_t i = 0; i < n; i++)
    {
      if (lower_alnum (s[i]))
        want_alnum = false;
      else if (!want_alnum && strchr ("+._-", s[i]) != NULL)
        want_alnum = true;
      else
        return false;
    }
  return n > 0 && !want_alnum;
}

static int
digest_check (const char *d, nook_err *err)
{
  const char *colon = strchr (d, ':');
  size_t hexlen;

  if (colon == NULL || !algorithm_valid (d, colon - d))
    return nook_error_input (err, BAD ": invalid digest `%s`", d);
  hexlen = strlen (colon + 1);
  for (const char *p = colon + 1; *p; p++)
    if (!isxdigit ((unsigned char)*p))
      return nook_error_input (err, BAD ": invalid digest `%s`", d);
  if (hexlen < 32)
    return nook_error_input (err, BAD ": invalid digest `%s`", d);
  if (colon - d != 6 || strncmp (d, "sha256", 6) != 0)
    return nook_error_input (err, BAD ": unsupported digest algorithm `%.*s`", (int)(colon - d), d);
  if (!nook_digest_valid (d))
    return nook_error_input (err, BAD ": invalid checksum digest `%s`", d);
  return 0;
}

/* splitDockerDomain: the first component is a registry host when it has '.' or ':', is "localhost", or
 * has uppercase letters (which a repository path cannot have). */
static void
split_domain (const char *name, char **domain, char **path)
{
  const char *slash = strchr (name, '/');
  size_t n = slash ? (size_t)(slash - name) : 0;
  bool upper = false;

  for (size_t i = 0; i < n; i++)
    upper |= isupper ((unsigned char)name[i]) != 0;
  if (slash == NULL
      || (memchr (name, '.', n) == NULL && memchr (name, ':', n) == NULL && !upper
          && !(n == 9 && strncmp (name, "localhost", 9) == 0)))
    {
      *domain = xstrdup (DEFAULT_DOMAIN);
      *path = xstrdup (name);
      return;
    }
  *domain = xasprintf ("%.*s", (int)n, name);
  *path = xstrdup (slash + 1);
}

static void
normalize (struct nook_ref *r)
{
  if (strcmp (r->domain, LEGACY_DOMAIN) == 0)
    {
      free (r->domain);
      r->domain = xstrdup (DEFAULT_DOMAIN);
    }
  if (strcmp (r->domain, DEFAULT_DOMAIN) == 0 && strchr (r->path, '/') == NULL)
    {
      char *p = xasprintf ("library/%s", r->path);
      free (r->path);
      r->path = p;
    }
}

static bool
is_hex64 (const char *s)
{
  if (strlen (s) != 64)
    return false;
  for (; *s; s++)
    if (!lower_hex (*s))
      return false;
  return true;
}

/* Split S into name, tag and digest (the tag separator is the last ':' after the last '/'). */
static int
split_parts (const char *s, struct nook_ref *r, char **name, nook_err *err)
{
  cleanup_free char *copy = xstrdup (s);
  char *at = strchr (copy, '@');
  char *slash, *colon;

  if (at != NULL)
    {
      *at = '\0';
      r->digest = xstrdup (at + 1);
      if (digest_check (r->digest, err) < 0)
        return -1;
    }
  slash = strrchr (copy, '/');
  colon = strrchr (copy, ':');
  if (colon != NULL && (slash == NULL || colon > slash))
    {
      *colon = '\0';
      if (colon[1] == '\0')
        return nook_error_input (err, BAD ": empty tag after ':' in `%s`", s);
      if (!tag_valid (colon + 1))
        return nook_error_input (err, BAD ": invalid tag `%s`", colon + 1);
      r->tag = xstrdup (colon + 1);
    }
  *name = steal_pointer (&copy);
  return 0;
}

static int
check_name (const struct nook_ref *r, nook_err *err)
{
  for (const char *p = r->path; *p; p++)
    if (isupper ((unsigned char)*p))
      return nook_error_input (err, BAD ": repository name must be lowercase");
  if (!domain_valid (r->domain))
    return nook_error_input (err, BAD ": invalid registry host `%s`", r->domain);
  if (!path_valid (r->path))
    return nook_error_input (err, BAD ": invalid repository name `%s`", r->path);
  return 0;
}

static int
ref_parse (const char *s, struct nook_ref *r, nook_err *err)
{
  cleanup_free char *name = NULL;

  if (*s == '\0')
    return nook_error_input (err, BAD ": empty reference");
  if (is_hex64 (s))
    return nook_error_input (err, BAD ": `%s`: cannot specify 64-byte hexadecimal strings", s);
  if (split_parts (s, r, &name, err) < 0)
    return -1;
  if (*name == '\0')
    return nook_error_input (err, BAD ": missing repository name in `%s`", s);
  split_domain (name, &r->domain, &r->path);
  if (check_name (r, err) < 0)
    return -1;
  normalize (r);
  if (strlen (r->domain) + 1 + strlen (r->path) > NAME_TOTAL_MAX)
    return nook_error_input (err, BAD ": repository name must not be more than %d characters", NAME_TOTAL_MAX);
  if (r->tag == NULL && r->digest == NULL)
    r->tag = xstrdup ("latest");
  return 0;
}

int
nook_ref_parse (const char *s, struct nook_ref *out, nook_err *err)
{
  struct nook_ref r = { 0 };

  if (s == NULL)
    s = "";
  if (ref_parse (s, &r, err) < 0)
    {
      nook_ref_free (&r);
      return -1;
    }
  *out = r;
  return 0;
}

void
nook_ref_free (struct nook_ref *r)
{
  if (r == NULL)
    return;
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  r->domain = r->path = r->tag = r->digest = NULL;
}

char *
nook_ref_string (const struct nook_ref *r)
{
  return xasprintf ("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                    r->digest ? r->digest : "");
}

char *
nook_ref_repo (const struct nook_ref *r)
{
  return xasprintf ("%s/%s", r->domain, r->path);
}

const char *
nook_ref_target (const struct nook_ref *r)
{
  return r->digest ? r->digest : r->tag;
}
