/* Pure helpers of the registry client: WWW-Authenticate parsing, URLs, token and error bodies, resume and
 * retry decisions.  No I/O. */
#include "image/registry_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/strutil.h"

/* ---- WWW-Authenticate (RFC 7235) ---- */

static bool
is_tchar (char c)
{
  return isalnum ((unsigned char) c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *
skip_ws (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static const char *
read_token (const char *p, char **out)
{
  const char *s = p;
  while (is_tchar (*p))
    p++;
  *out = p > s ? strndup (s, p - s) : NULL;
  return p;
}

/* A quoted-string (backslash escapes resolved; an unterminated one runs to the end) or a token. */
static const char *
read_value (const char *p, char **out)
{
  char *buf;
  size_t n = 0;

  if (*p != '"')
    {
      const char *s = p;
      while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
        p++;
      *out = strndup (s, p - s);
      return p;
    }
  buf = xmalloc (strlen (p) + 1);
  for (p++; *p != '\0' && *p != '"'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      buf[n++] = *p;
    }
  buf[n] = '\0';
  *out = buf;
  return *p == '"' ? p + 1 : p;
}

static void
set_param (struct nook_challenge *c, const char *name, char *value)
{
  char **slot = NULL;
  if (strcasecmp (name, "realm") == 0)
    slot = &c->realm;
  else if (strcasecmp (name, "service") == 0)
    slot = &c->service;
  else if (strcasecmp (name, "scope") == 0)
    slot = &c->scope;
  else if (strcasecmp (name, "error") == 0)
    slot = &c->error;
  if (slot == NULL || *slot != NULL)
    {
      free (value);
      return;
    }
  *slot = value;
}

/* One "name = value" at P.  Returns the position after it, or NULL when P does not start a parameter
 * (the start of the next challenge, or a token68). */
static const char *
read_param (const char *p, struct nook_challenge *c)
{
  cleanup_free char *name = NULL;
  char *value = NULL;
  const char *q = read_token (p, &name);

  q = skip_ws (q);
  if (name == NULL || *q != '=')
    return NULL;
  q = read_value (skip_ws (q + 1), &value);
  set_param (c, name, value);
  return skip_ws (q);
}

const char *
nook_challenge_parse (const char *p, struct nook_challenge *out)
{
  bool first = true;

  memset (out, 0, sizeof (*out));
  while (*p == ' ' || *p == '\t' || *p == ',')
    p++;
  p = read_token (p, &out->scheme);
  if (out->scheme == NULL)
    return NULL;
  for (char *s = out->scheme; *s; s++)
    *s = tolower ((unsigned char) *s);
  p = skip_ws (p);
  while (*p != '\0')
    {
      const char *q = read_param (p, out);
      if (q == NULL && first && *p != ',')
        {
          /* token68 (e.g. "Negotiate abc=="): skip it */
          while (*p != '\0' && *p != ',')
            p++;
          q = p;
        }
      if (q == NULL)
        break; /* the next challenge starts at P */
      p = q;
      first = false;
      if (*p != ',')
        break;
      p = skip_ws (p + 1);
      while (*p == ',')
        p = skip_ws (p + 1);
    }
  return p;
}

void
nook_challenge_free (struct nook_challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  free (c->error);
  memset (c, 0, sizeof (*c));
}

int
nook_challenge_pick (char *const *headers, struct nook_challenge *out)
{
  struct nook_challenge basic = { 0 };
  bool have_basic = false;

  for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
    {
      const char *p = headers[i];
      struct nook_challenge c;
      while (p != NULL && *p != '\0' && (p = nook_challenge_parse (p, &c)) != NULL)
        {
          if (strcmp (c.scheme, "bearer") == 0 && c.realm != NULL)
            {
              nook_challenge_free (&basic);
              *out = c;
              return 0;
            }
          if (strcmp (c.scheme, "basic") == 0 && !have_basic)
            {
              basic = c;
              have_basic = true;
              continue;
            }
          nook_challenge_free (&c);
        }
    }
  if (!have_basic)
    return -1;
  *out = basic;
  return 0;
}

/* ---- URLs ---- */

const char *
nook_reg_api_host (const char *domain)
{
  if (strcmp (domain, "docker.io") == 0 || strcmp (domain, "index.docker.io") == 0)
    return "registry-1.docker.io";
  return domain;
}

char *
nook_reg_api_url (const char *scheme, const char *host, const char *repo, const char *kind, const char *ref)
{
  if (kind == NULL)
    return xasprintf ("%s://%s/v2/", scheme, host);
  return xasprintf ("%s://%s/v2/%s/%s/%s", scheme, host, repo, kind, ref);
}

char *
nook_reg_url_escape (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = xmalloc (strlen (s) * 3 + 1), *o = out;

  for (; *s; s++)
    {
      unsigned char c = *s;
      if (isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~')
        *o++ = c;
      else
        {
          *o++ = '%';
          *o++ = hex[c >> 4];
          *o++ = hex[c & 15];
        }
    }
  *o = '\0';
  return out;
}

char *
nook_reg_token_url (const char *realm, const char *service, const char *scope)
{
  cleanup_free char *svc = service ? nook_reg_url_escape (service) : NULL;
  cleanup_free char *scp = scope ? nook_reg_url_escape (scope) : NULL;
  char sep = strchr (realm, '?') ? '&' : '?';

  if (svc && scp)
    return xasprintf ("%s%cservice=%s&scope=%s", realm, sep, svc, scp);
  if (svc)
    return xasprintf ("%s%cservice=%s", realm, sep, svc);
  if (scp)
    return xasprintf ("%s%cscope=%s", realm, sep, scp);
  return xstrdup (realm);
}

char *
nook_reg_pull_scope (const char *path)
{
  return xasprintf ("repository:%s:pull", path);
}

bool
nook_reg_url_is_http (const char *url)
{
  return strncasecmp (url, "http://", 7) == 0 || strncasecmp (url, "https://", 8) == 0;
}

/* scheme, host, port of URL (lowercased scheme/host, default port filled in).  false when unparseable. */
static bool
url_origin (const char *url, char **scheme, char **host, char **port)
{
  CURLU *u = curl_url ();
  bool ok = u != NULL && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
            && curl_url_get (u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK
            && curl_url_get (u, CURLUPART_HOST, host, 0) == CURLUE_OK
            && curl_url_get (u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  curl_url_cleanup (u);
  return ok;
}

bool
nook_reg_same_origin (const char *a, const char *b)
{
  char *sa = NULL, *ha = NULL, *pa = NULL, *sb = NULL, *hb = NULL, *pb = NULL;
  bool same = url_origin (a, &sa, &ha, &pa) && url_origin (b, &sb, &hb, &pb) && strcasecmp (sa, sb) == 0
              && strcasecmp (ha, hb) == 0 && strcmp (pa, pb) == 0;
  curl_free (sa);
  curl_free (ha);
  curl_free (pa);
  curl_free (sb);
  curl_free (hb);
  curl_free (pb);
  return same;
}

/* ---- JSON bodies ---- */

int
nook_reg_token_parse (const char *body, size_t len, char **token)
{
  json_t *root = json_loadb (body, len, 0, NULL);
  const char *keys[] = { "token", "access_token" };
  int ret = -1;

  for (size_t i = 0; root != NULL && i < 2 && ret < 0; i++)
    {
      const char *t = json_string_value (json_object_get (root, keys[i]));
      if (t != NULL && *t != '\0')
        {
          *token = xstrdup (t);
          ret = 0;
        }
    }
  json_decref (root);
  return ret;
}

char *
nook_reg_json_error (const char *body, size_t len)
{
  json_t *root, *e;
  const char *msg;
  char *out = NULL;

  if (body == NULL || len == 0)
    return NULL;
  root = json_loadb (body, len, 0, NULL);
  e = json_array_get (json_object_get (root, "errors"), 0);
  msg = json_string_value (json_object_get (e, "message"));
  if (msg == NULL)
    msg = json_string_value (json_object_get (root, "details"));
  if (msg != NULL && *msg != '\0')
    out = strndup (msg, 512);
  json_decref (root);
  return out;
}

/* ---- resume and retry ---- */

static bool
parse_i64 (const char **p, int64_t *out)
{
  char *end;
  long long v;
  if (**p < '0' || **p > '9')
    return false;
  v = strtoll (*p, &end, 10);
  if (v < 0 || v == LLONG_MAX)
    return false;
  *out = v;
  *p = end;
  return true;
}

bool
nook_reg_content_range_parse (const char *v, int64_t *first, int64_t *last, int64_t *total)
{
  if (v == NULL || strncasecmp (v, "bytes", 5) != 0)
    return false;
  v = skip_ws (v + 5);
  if (!parse_i64 (&v, first) || *v++ != '-' || !parse_i64 (&v, last) || *v++ != '/' || *last < *first)
    return false;
  if (*v == '*')
    {
      *total = -1;
      v++;
    }
  else if (!parse_i64 (&v, total) || *total <= *last)
    return false;
  return *skip_ws (v) == '\0';
}

enum nook_resume_action
nook_reg_resume_action (long status, int64_t have, int64_t total, const char *content_range)
{
  int64_t first, last, all;

  if (status == 200)
    return NOOK_RESUME_RESTART;
  if (status != 206)
    return NOOK_RESUME_NONE;
  if (nook_reg_content_range_parse (content_range, &first, &last, &all) && first == have && (all < 0 || all == total)
      && last < total)
    return NOOK_RESUME_APPEND;
  return NOOK_RESUME_BAD;
}

bool
nook_reg_retryable (CURLcode cc, long status)
{
  switch (cc)
    {
    case CURLE_OK:
      return status >= 500 || status == 429 || status == 408;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
    }
}

bool
nook_reg_https_fallback (CURLcode cc)
{
  return cc == CURLE_COULDNT_CONNECT || cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_RECV_ERROR
         || cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR;
}

long
nook_reg_backoff_ms (int attempt)
{
  long ms = NOOK_REG_BACKOFF_FIRST_MS;
  for (int i = 1; i < attempt && ms < NOOK_REG_BACKOFF_MAX_MS; i++)
    ms *= 2;
  return ms < NOOK_REG_BACKOFF_MAX_MS ? ms : NOOK_REG_BACKOFF_MAX_MS;
}
