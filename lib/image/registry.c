/* Registry client: session, buffered requests (manifests, configs, tokens, /v2/ checks) with manual
 * redirects, the scheme fallback, retries and the auth dance.  Blob downloads live in registry_blob.c. */
#include "image/registry_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/digest.h"
#include "image/manifest.h"
#include "store/reference.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

#define TOKEN_MAX (1 << 20)

struct reg_req
{
  const char *url;
  const char *accept;
  bool auth;  /* the URL is the registry's: send r->authz, answer a 401 */
  bool basic; /* token request: send the credentials as HTTP Basic */
  size_t max;
};

static int
reg_fail (nook_err *err, int code, const char *fmt, ...)
{
  char buf[NOOK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  nook_error (err, 0, "%s", buf);
  if (err != NULL)
    err->code = code;
  return -1;
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* ---- responses ---- */

static void
resp_clear_headers (struct nook_reg_resp *resp)
{
  free (resp->content_type);
  free (resp->docker_digest);
  free (resp->content_range);
  strv_free (resp->www_auth);
  resp->content_type = resp->docker_digest = resp->content_range = NULL;
  resp->www_auth = NULL;
}

void
nook_reg_resp_reset (struct nook_reg_resp *resp)
{
  resp_clear_headers (resp);
  free (resp->body);
  resp->body = NULL;
  resp->len = 0;
  resp->status = 0;
  resp->too_large = false;
}

static void
set_header (char **slot, const char *v, size_t n)
{
  free (*slot);
  *slot = strndup (v, n);
}

size_t
nook_reg_header_cb (char *buf, size_t size, size_t n, void *userdata)
{
  struct nook_reg_resp *resp = userdata;
  size_t len = size * n, nlen;
  const char *colon = memchr (buf, ':', len), *v, *end = buf + len;

  if (len >= 5 && strncmp (buf, "HTTP/", 5) == 0)
    {
      resp_clear_headers (resp); /* a new response (after 1xx) */
      return len;
    }
  if (colon == NULL)
    return len;
  nlen = colon - buf;
  for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
    ;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (nlen == 12 && strncasecmp (buf, "content-type", nlen) == 0)
    set_header (&resp->content_type, v, end - v);
  else if (nlen == 21 && strncasecmp (buf, "docker-content-digest", nlen) == 0)
    set_header (&resp->docker_digest, v, end - v);
  else if (nlen == 13 && strncasecmp (buf, "content-range", nlen) == 0)
    set_header (&resp->content_range, v, end - v);
  else if (nlen == 16 && strncasecmp (buf, "www-authenticate", nlen) == 0)
    strv_push (&resp->www_auth, strndup (v, end - v));
  return len;
}

/* Body into memory: a 2xx body up to resp->max (then abort), other bodies truncated for the message. */
static size_t
mem_write_cb (char *buf, size_t size, size_t n, void *userdata)
{
  struct nook_reg_resp *resp = userdata;
  size_t len = size * n, cap;
  long status = 0;

  curl_easy_getinfo (resp->h, CURLINFO_RESPONSE_CODE, &status);
  cap = status >= 200 && status < 300 ? resp->max : NOOK_REG_ERRBODY_MAX;
  if (resp->len + len > cap)
    {
      if (status >= 200 && status < 300)
        {
          resp->too_large = true;
          return 0;
        }
      len = cap - resp->len;
    }
  resp->body = xrealloc (resp->body, resp->len + len + 1);
  memcpy (resp->body + resp->len, buf, len);
  resp->len += len;
  resp->body[resp->len] = '\0';
  return size * n;
}

/* ---- errors ---- */

/* A positive number from the environment, else DEF. */
static long
env_long (const char *name, long def)
{
  const char *v = getenv (name);
  uint64_t n;

  return v != NULL && str_to_u64 (v, 1L << 30, &n) && n > 0 ? (long) n : def;
}

int
nook_reg_curl_error (nook_err *err, const char *url, CURLcode cc, const char *errbuf)
{
  const char *hint = "";
  if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
    hint = " (the registry's TLS certificate is not trusted; --tls-verify=false skips the check)";
  else if (cc == CURLE_SSL_CONNECT_ERROR)
    hint = " (a plain-http registry needs --tls-verify=false)";
  if (cc == CURLE_OPERATION_TIMEDOUT)
    return reg_fail (err, ETIMEDOUT, "GET %s: too slow: %s", url, errbuf != NULL && errbuf[0] ? errbuf : curl_easy_strerror (cc));
  if (errbuf != NULL && errbuf[0] != '\0')
    return reg_fail (err, EIO, "GET %s: %s: %s%s", url, curl_easy_strerror (cc), errbuf, hint);
  return reg_fail (err, EIO, "GET %s: %s%s", url, curl_easy_strerror (cc), hint);
}

int
nook_reg_unauthorized (nook_err *err, const char *what, const char *body, size_t len)
{
  cleanup_free char *msg = nook_reg_json_error (body, len);
  if (msg != NULL && strcasecmp (msg, "authentication required") != 0)
    return reg_fail (err, EACCES, "%s: unauthorized: authentication required: %s", what, msg);
  return reg_fail (err, EACCES, "%s: unauthorized: authentication required", what);
}

int
nook_reg_status_error (nook_err *err, const char *what, const char *url, long status, const char *body, size_t len)
{
  cleanup_free char *msg = nook_reg_json_error (body, len);

  if (status == 401)
    return nook_reg_unauthorized (err, what, body, len);
  if (status == 403)
    return reg_fail (err, EACCES, "%s: denied: %s", what, msg ? msg : "requested access to the resource is denied");
  if (msg != NULL)
    return reg_fail (err, EIO, "%s: GET %s: HTTP status %ld: %s", what, url, status, msg);
  return reg_fail (err, EIO, "%s: GET %s: HTTP status %ld", what, url, status);
}

/* ---- transfers ---- */

int
nook_reg_easy_setup (struct nook_registry *r, CURL *h, const char *url, const char *accept, bool with_auth,
                     const char *range, struct curl_slist **hdrs, char *errbuf)
{
  cleanup_free char *acc = accept ? xasprintf ("Accept: %s", accept) : NULL;
  cleanup_free char *rng = range ? xasprintf ("Range: %s", range) : NULL;

  *hdrs = NULL;
  if (acc != NULL)
    *hdrs = curl_slist_append (*hdrs, acc);
  if (with_auth && r->authz != NULL)
    *hdrs = curl_slist_append (*hdrs, r->authz);
  if (rng != NULL)
    *hdrs = curl_slist_append (*hdrs, rng);
  errbuf[0] = '\0';
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, *hdrs);
  curl_easy_setopt (h, CURLOPT_USERAGENT, r->user_agent);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, r->min_rate);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, r->stall_seconds);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt (h, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, nook_reg_header_cb);
  return 0;
}

/* One request, no redirects followed. */
static CURLcode
reg_transfer (struct nook_registry *r, const char *url, const char *accept, bool auth, bool basic, size_t max,
              struct nook_reg_resp *resp, char *errbuf)
{
  struct curl_slist *hdrs = NULL;
  CURLcode cc;

  curl_easy_reset (r->easy);
  nook_reg_resp_reset (resp);
  resp->h = r->easy;
  resp->max = max;
  nook_reg_easy_setup (r, r->easy, url, accept, auth, NULL, &hdrs, errbuf);
  curl_easy_setopt (r->easy, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt (r->easy, CURLOPT_WRITEFUNCTION, mem_write_cb);
  curl_easy_setopt (r->easy, CURLOPT_WRITEDATA, resp);
  if (basic && r->username != NULL)
    {
      curl_easy_setopt (r->easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      curl_easy_setopt (r->easy, CURLOPT_USERNAME, r->username);
      curl_easy_setopt (r->easy, CURLOPT_PASSWORD, r->password ? r->password : "");
    }
  nook_debug ("registry: GET %s%s", url, auth && r->authz ? " (authorized)" : "");
  cc = curl_easy_perform (r->easy);
  curl_easy_getinfo (r->easy, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_easy_setopt (r->easy, CURLOPT_ERRORBUFFER, NULL); /* ERRBUF belongs to the caller's frame */
  curl_easy_setopt (r->easy, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all (hdrs);
  return cc;
}

/* The redirect target of the last response, or NULL. Allocated. */
static char *
redirect_target (CURL *h, long status)
{
  char *loc = NULL;
  if (status < 300 || status >= 400 || status == 304)
    return NULL;
  if (curl_easy_getinfo (h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL)
    return NULL;
  return xstrdup (loc);
}

/* GET RQ->URL following redirects by hand (credentials only to the same origin) and answering one 401 with
 * the auth dance.  0 with RESP filled (any status, or resp->too_large), -1 with ERR; *CC the transport
 * result of the last transfer. */
static int
reg_get_follow (struct nook_registry *r, const struct reg_req *rq, struct nook_reg_resp *resp, CURLcode *cc,
                nook_err *err)
{
  cleanup_free char *url = xstrdup (rq->url);
  char errbuf[CURL_ERROR_SIZE];
  bool auth = rq->auth, basic = rq->basic, tried = false;
  int redirects = 0, rc;

  for (;;)
    {
      char *next;
      *cc = reg_transfer (r, url, rq->accept, auth, basic, rq->max, resp, errbuf);
      if (*cc != CURLE_OK)
        return resp->too_large ? 0 : nook_reg_curl_error (err, url, *cc, errbuf);
      next = redirect_target (r->easy, resp->status);
      if (next != NULL)
        {
          if (++redirects > NOOK_REG_MAX_REDIRECTS || !nook_reg_url_is_http (next))
            {
              free (next);
              return reg_fail (err, EIO, "GET %s: too many redirects or a redirect to a non-HTTP URL", rq->url);
            }
          if (!nook_reg_same_origin (url, next))
            auth = basic = false;
          free (url);
          url = next;
          continue;
        }
      if (resp->status == 401 && auth && !tried)
        {
          tried = true;
          rc = nook_reg_authenticate (r, resp->www_auth, err);
          if (rc < 0)
            return -1;
          if (rc == 0)
            continue;
          /* no way to answer: the caller reports the 401 */
        }
      return 0;
    }
}

/* GET /v2/... of the registry (KIND NULL: /v2/ itself): scheme fallback, retries, redirects, auth. */
static int
reg_api_get (struct nook_registry *r, const char *kind, const char *ref, const char *accept, size_t max,
             struct nook_reg_resp *resp, nook_err *err)
{
  for (int attempt = 1;; attempt++)
    {
      cleanup_free char *url = nook_reg_api_url (r->scheme, r->host, r->path, kind, ref);
      struct reg_req rq = { url, accept, true, false, max };
      CURLcode cc = CURLE_OK;
      int rc = reg_get_follow (r, &rq, resp, &cc, err);

      if (rc < 0 && !r->scheme_decided && !r->tls_verify && strcmp (r->scheme, "https") == 0
          && nook_reg_https_fallback (cc))
        {
          nook_debug ("registry: %s: https failed (%s), trying http", r->domain, err->msg);
          free (r->scheme);
          r->scheme = xstrdup ("http");
          attempt--;
          continue;
        }
      if (rc == 0 || cc == CURLE_OK)
        r->scheme_decided = true;
      if (attempt <= r->max_retries && nook_reg_retryable (cc, rc == 0 && !resp->too_large ? resp->status : 0))
        {
          nook_debug ("registry: retrying %s (attempt %d)", url, attempt + 1);
          sleep_ms (nook_reg_backoff_ms (attempt));
          continue;
        }
      return rc;
    }
}

/* ---- auth ---- */

static void
set_authz (struct nook_registry *r, char *line)
{
  free (r->authz);
  r->authz = line;
  r->authz_gen++;
}

static char *
basic_authz (const char *user, const char *pass)
{
  cleanup_free char *plain = xasprintf ("%s:%s", user, pass ? pass : "");
  cleanup_free char *b64 = nook_base64_encode (plain, strlen (plain));

  return xasprintf ("Authorization: Basic %s", b64);
}

static int
token_response (struct nook_registry *r, const struct nook_challenge *c, struct nook_reg_resp *resp, nook_err *err)
{
  cleanup_free char *token = NULL;

  if (resp->too_large)
    return reg_fail (err, EIO, "token from %s: response too large", c->realm);
  if (resp->status == 401 || resp->status == 403)
    return nook_reg_unauthorized (err, r->domain, resp->body, resp->len);
  if (resp->status != 200)
    return nook_reg_status_error (err, "fetching a token", c->realm, resp->status, resp->body, resp->len);
  if (nook_reg_token_parse (resp->body, resp->len, &token) < 0)
    return reg_fail (err, EIO, "token from %s: no \"token\" in the response", c->realm);
  set_authz (r, xasprintf ("Authorization: Bearer %s", token));
  return 0;
}

static int
fetch_token (struct nook_registry *r, const struct nook_challenge *c, nook_err *err)
{
  cleanup_free char *scope = c->scope ? xstrdup (c->scope) : r->path ? nook_reg_pull_scope (r->path) : NULL;
  cleanup_free char *url = NULL;
  struct nook_reg_resp resp = { 0 };
  CURLcode cc;
  int rc;

  if (!nook_reg_url_is_http (c->realm))
    return reg_fail (err, EIO, "%s: unsupported token realm `%s`", r->domain, c->realm);
  if (r->username != NULL && r->tls_verify && strncasecmp (c->realm, "http://", 7) == 0)
    return reg_fail (err, EACCES, "%s: refusing to send credentials over plain http to `%s`", r->domain, c->realm);
  url = nook_reg_token_url (c->realm, c->service, scope);
  struct reg_req rq = { url, "application/json", false, r->username != NULL, TOKEN_MAX };
  rc = reg_get_follow (r, &rq, &resp, &cc, err);
  if (rc == 0)
    rc = token_response (r, c, &resp, err);
  nook_reg_resp_reset (&resp);
  return rc;
}

int
nook_reg_authenticate (struct nook_registry *r, char *const *www_auth, nook_err *err)
{
  struct nook_challenge c;
  int rc;

  if (nook_challenge_pick (www_auth, &c) < 0)
    return 1;
  if (strcmp (c.scheme, "basic") == 0)
    {
      nook_challenge_free (&c);
      if (r->username == NULL)
        return 1;
      set_authz (r, basic_authz (r->username, r->password));
      return 0;
    }
  rc = fetch_token (r, &c, err);
  nook_challenge_free (&c);
  return rc;
}

/* ---- session ---- */

int
nook_registry_open (const struct nook_ref *ref, const struct nook_registry_opts *opts, struct nook_registry **out,
                    nook_err *err)
{
  struct nook_registry *r;

  if (ref == NULL || ref->domain == NULL || ref->domain[0] == '\0')
    return nook_error_input (err, "registry: no registry domain");
  if (nook_curl_load (err) < 0)
    return -1;
  if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return reg_fail (err, EIO, "curl_global_init failed");
  r = xcalloc (1, sizeof (*r));
  r->easy = curl_easy_init ();
  if (r->easy == NULL)
    {
      free (r);
      curl_global_cleanup ();
      return reg_fail (err, ENOMEM, "curl_easy_init failed");
    }
  r->domain = xstrdup (ref->domain);
  r->host = xstrdup (nook_reg_api_host (ref->domain));
  r->path = ref->path ? xstrdup (ref->path) : NULL;
  r->scheme = xstrdup ("https");
  r->tls_verify = opts ? opts->tls_verify : true;
  r->username = opts && opts->username ? xstrdup (opts->username) : NULL;
  r->password = opts && opts->password ? xstrdup (opts->password) : NULL;
  r->user_agent = xstrdup (opts && opts->user_agent ? opts->user_agent : NOOK_REG_DEFAULT_UA);
  r->max_retries = opts && opts->max_retries > 0 ? opts->max_retries : NOOK_REG_DEFAULT_RETRIES;
  r->min_rate = env_long ("NOOK_PULL_MIN_RATE", NOOK_REG_MIN_RATE);
  r->stall_seconds = env_long ("NOOK_PULL_STALL_SECONDS", NOOK_REG_STALL_SECONDS);
  *out = r;
  return 0;
}

void
nook_registry_close (struct nook_registry *r)
{
  if (r == NULL)
    return;
  curl_easy_cleanup (r->easy);
  free (r->domain);
  free (r->host);
  free (r->path);
  free (r->scheme);
  free (r->username);
  if (r->password != NULL)
    explicit_bzero (r->password, strlen (r->password));
  free (r->password);
  free (r->user_agent);
  if (r->authz != NULL)
    explicit_bzero (r->authz, strlen (r->authz));
  free (r->authz);
  free (r);
  curl_global_cleanup ();
}

char *
nook_reg_base_url (struct nook_registry *r)
{
  return nook_reg_api_url (r->scheme, r->host, NULL, NULL, NULL);
}

/* ---- manifests and small blobs ---- */

static char *
ref_name (struct nook_registry *r, const char *reference)
{
  bool dig = strchr (reference, ':') != NULL;
  return xasprintf ("%s/%s%s%s", r->domain, r->path ? r->path : "", dig ? "@" : ":", reference);
}

static int
check_manifest (const char *name, const char *reference, struct nook_reg_resp *resp, char out[72], nook_err *err)
{
  nook_sha256_digest (resp->body ? resp->body : "", resp->len, out);
  if (strchr (reference, ':') != NULL && strcmp (out, reference) != 0)
    return reg_fail (err, EIO, "manifest digest mismatch for %s: got %s", name, out);
  if (resp->docker_digest != NULL && str_has_prefix (resp->docker_digest, "sha256:")
      && strcmp (resp->docker_digest, out) != 0)
    return reg_fail (err, EIO, "manifest digest mismatch for %s: Docker-Content-Digest is %s, content is %s", name,
                     resp->docker_digest, out);
  return 0;
}

static int
manifest_status (const char *name, const char *url, struct nook_reg_resp *resp, nook_err *err)
{
  cleanup_free char *msg = NULL;

  if (resp->too_large)
    return reg_fail (err, EFBIG, "%s: manifest too large (more than %d bytes)", name, NOOK_MANIFEST_MAX);
  if (resp->status == 200)
    return 0;
  if (resp->status != 404)
    return nook_reg_status_error (err, name, url, resp->status, resp->body, resp->len);
  msg = nook_reg_json_error (resp->body, resp->len);
  if (msg != NULL && strcasecmp (msg, "manifest unknown") != 0)
    return reg_fail (err, ENOENT, "%s: manifest unknown: %s", name, msg);
  return reg_fail (err, ENOENT, "%s: manifest unknown", name);
}

int
nook_registry_get_manifest (struct nook_registry *r, const char *reference, char **data, size_t *len,
                            char **content_type, char **digest, nook_err *err)
{
  cleanup_free char *name = ref_name (r, reference);
  cleanup_free char *url = NULL;
  struct nook_reg_resp resp = { 0 };
  char computed[72];
  int rc;

  if (strchr (reference, ':') != NULL && !nook_digest_valid (reference))
    return nook_error_input (err, "%s: unsupported manifest digest", name);
  rc = reg_api_get (r, "manifests", reference, NOOK_MANIFEST_ACCEPT, NOOK_MANIFEST_MAX, &resp, err);
  url = nook_reg_api_url (r->scheme, r->host, r->path, "manifests", reference);
  if (rc < 0)
    nook_error_prefix (err, "reading manifest %s", name);
  if (rc == 0)
    rc = manifest_status (name, url, &resp, err);
  if (rc == 0)
    rc = check_manifest (name, reference, &resp, computed, err);
  if (rc == 0)
    {
      *data = resp.body ? steal_pointer (&resp.body) : xstrdup ("");
      *len = resp.len;
      *content_type = resp.content_type ? xstrdup (resp.content_type) : NULL;
      *digest = xstrdup (computed);
    }
  nook_reg_resp_reset (&resp);
  return rc;
}

static int
blob_mem_check (const char *digest, int64_t size, struct nook_reg_resp *resp, const char *url, nook_err *err)
{
  char got[72];

  if (resp->too_large)
    return reg_fail (err, EFBIG, "blob %s: too large (more than %zu bytes)", digest, resp->max);
  if (resp->status == 404)
    return reg_fail (err, ENOENT, "blob %s not found", digest);
  if (resp->status != 200)
    return nook_reg_status_error (err, digest, url, resp->status, resp->body, resp->len);
  if (size >= 0 && (int64_t) resp->len != size)
    return reg_fail (err, EIO, "size mismatch for blob %s: got %zu bytes, expected %lld", digest, resp->len,
                     (long long) size);
  nook_sha256_digest (resp->body ? resp->body : "", resp->len, got);
  if (strcmp (got, digest) != 0)
    return reg_fail (err, EIO, "digest mismatch for blob %s: got %s", digest, got);
  return 0;
}

int
nook_registry_get_blob_mem (struct nook_registry *r, const char *digest, int64_t size, size_t max, char **data,
                            size_t *len, nook_err *err)
{
  cleanup_free char *url = NULL;
  struct nook_reg_resp resp = { 0 };
  int rc;

  if (!nook_digest_valid (digest))
    return nook_error_input (err, "blob digest `%s`: not a sha256 digest", digest);
  if (size >= 0 && (uint64_t) size > max)
    return reg_fail (err, EFBIG, "blob %s: too large (%lld bytes, at most %zu)", digest, (long long) size, max);
  rc = reg_api_get (r, "blobs", digest, NULL, max, &resp, err);
  url = nook_reg_api_url (r->scheme, r->host, r->path, "blobs", digest);
  if (rc < 0)
    nook_error_prefix (err, "fetching blob %s", digest);
  if (rc == 0)
    rc = blob_mem_check (digest, size, &resp, url, err);
  if (rc == 0)
    {
      *data = resp.body ? steal_pointer (&resp.body) : xstrdup ("");
      *len = resp.len;
    }
  nook_reg_resp_reset (&resp);
  return rc;
}

/* ---- /v2/ ---- */

int
nook_reg_ping (struct nook_registry *r, nook_err *err)
{
  struct nook_reg_resp resp = { 0 };
  int rc = reg_api_get (r, NULL, NULL, NULL, NOOK_REG_ERRBODY_MAX, &resp, err);
  long status = resp.status;

  nook_reg_resp_reset (&resp);
  return rc < 0 ? -1 : (int) status;
}

int
nook_registry_login_check (const char *domain, const struct nook_registry_opts *opts, nook_err *err)
{
  struct nook_ref ref = { .domain = (char *) domain };
  struct nook_registry *r = NULL;
  struct nook_reg_resp resp = { 0 };
  cleanup_free char *url = NULL;
  int rc;

  if (nook_registry_open (&ref, opts, &r, err) < 0)
    return -1;
  rc = reg_api_get (r, NULL, NULL, NULL, NOOK_REG_ERRBODY_MAX, &resp, err);
  url = nook_reg_base_url (r);
  if (rc == 0 && resp.status != 200)
    rc = nook_reg_status_error (err, domain, url, resp.status, resp.body, resp.len);
  nook_reg_resp_reset (&resp);
  nook_registry_close (r);
  return rc;
}
