/* Internals of the registry client (registry.c, registry_blob.c, registry_parse.c).
 * The pure helpers (challenge parsing, URL building, resume and retry decisions) are exported for the unit
 * tests in tests/unit/test_registry_parse.c. */
#ifndef NOOK_IMAGE_REGISTRY_INTERNAL_H
#define NOOK_IMAGE_REGISTRY_INTERNAL_H

#include "image/curl_lib.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/registry.h"
#include "util/error.h"

#define NOOK_REG_DEFAULT_UA "nook/0.1.0"
#define NOOK_REG_DEFAULT_RETRIES 5
/* A transfer slower than MIN_RATE bytes/s over STALL seconds is given up (then retried); a blob download
 * also has an overall deadline of DEADLINE_BASE s + its size / MIN_RATE.  NOOK_PULL_MIN_RATE and
 * NOOK_PULL_STALL_SECONDS in the environment override the first two (slow links; tests). */
#define NOOK_REG_MIN_RATE 1024
#define NOOK_REG_STALL_SECONDS 60
#define NOOK_REG_DEADLINE_BASE 300
#define NOOK_REG_MAX_REDIRECTS 10
#define NOOK_REG_ERRBODY_MAX (64 << 10) /* kept of a non-2xx body, for the error message */
#define NOOK_REG_BACKOFF_FIRST_MS 200
#define NOOK_REG_BACKOFF_MAX_MS 10000

/* ---- pure helpers (registry_parse.c) ---- */

/* One WWW-Authenticate challenge.  SCHEME is lowercased ("bearer", "basic", ...); parameters NULL when
 * absent.  Values are unquoted (quoted-string escapes resolved). */
struct nook_challenge
{
  char *scheme;
  char *realm;
  char *service;
  char *scope;
  char *error;
};

/* Parse the first challenge at P (a WWW-Authenticate value may hold several, separated by commas).
 * Returns a pointer past it (to the next challenge, or the end) or NULL when nothing parseable is there. */
const char *nook_challenge_parse (const char *p, struct nook_challenge *out);
void nook_challenge_free (struct nook_challenge *c);
/* Pick the challenge to answer from all WWW-Authenticate values (NULL-terminated): Bearer first, then
 * Basic.  Returns 0 and fills OUT, or -1 when there is no Bearer/Basic challenge. */
int nook_challenge_pick (char *const *headers, struct nook_challenge *out);

/* The host actually serving DOMAIN's API ("docker.io" -> "registry-1.docker.io"). */
const char *nook_reg_api_host (const char *domain);
/* SCHEME://HOST/v2/ (KIND NULL) or SCHEME://HOST/v2/REPO/KIND/REF.  Allocated. */
char *nook_reg_api_url (const char *scheme, const char *host, const char *repo, const char *kind, const char *ref);
/* Percent-encode everything but RFC 3986 unreserved characters.  Allocated. */
char *nook_reg_url_escape (const char *s);
/* REALM?service=..&scope=.. (parameters skipped when NULL; '&' when REALM has a query already).  Allocated. */
char *nook_reg_token_url (const char *realm, const char *service, const char *scope);
/* "repository:PATH:pull".  Allocated. */
char *nook_reg_pull_scope (const char *path);
/* True when URLs A and B have the same scheme, host and port (credentials may go from A to B). */
bool nook_reg_same_origin (const char *a, const char *b);
/* True for an http:// or https:// URL. */
bool nook_reg_url_is_http (const char *url);

/* {"token": T} or {"access_token": T} -> *TOKEN allocated; -1 when neither is a non-empty string. */
int nook_reg_token_parse (const char *body, size_t len, char **token);
/* errors[0].message of a registry error body (allocated), or NULL. */
char *nook_reg_json_error (const char *body, size_t len);

/* What to do with the body of a (possibly ranged) blob response. */
enum nook_resume_action
{
  NOOK_RESUME_APPEND,  /* 206 matching our range: append to what is on disk */
  NOOK_RESUME_RESTART, /* 200 (range ignored): truncate, take the body from byte 0 */
  NOOK_RESUME_BAD,     /* 206 for another range: discard it, truncate, try again from byte 0 */
  NOOK_RESUME_NONE,    /* not a success status: the body is not blob data */
};
/* STATUS of a request for bytes HAVE.. of a TOTAL-byte blob (HAVE 0: no Range header sent);
 * CONTENT_RANGE is the header value or NULL. */
enum nook_resume_action nook_reg_resume_action (long status, int64_t have, int64_t total, const char *content_range);
/* "bytes FIRST-LAST/TOTAL" ("*" total allowed) -> true and the numbers (total -1 for "*"). */
bool nook_reg_content_range_parse (const char *v, int64_t *first, int64_t *last, int64_t *total);
/* Transport errors and statuses worth another attempt (connect/timeouts/partial transfers, 5xx, 429, 408). */
bool nook_reg_retryable (CURLcode cc, long status);
/* Transport errors after which "http" is tried when TLS verification is off. */
bool nook_reg_https_fallback (CURLcode cc);
/* Delay before retry ATTEMPT (1-based): 200 ms doubling, capped. */
long nook_reg_backoff_ms (int attempt);

/* ---- session (registry.c) ---- */

struct nook_registry
{
  char *domain; /* as in the reference: "127.0.0.1:5000", "docker.io" */
  char *host;   /* API host */
  char *path;   /* repository, NULL for login checks */
  char *scheme; /* "https" or "http" */
  bool scheme_decided;
  bool tls_verify;
  char *username;
  char *password;
  char *user_agent;
  int max_retries;
  long min_rate;      /* bytes/s */
  long stall_seconds;
  char *authz;        /* "Authorization: ..." header line for the registry, or NULL */
  unsigned authz_gen; /* bumped whenever AUTHZ changes */
  CURL *easy;         /* reused for manifests, configs, tokens */
};

/* The buffered response of one request. */
struct nook_reg_resp
{
  CURL *h; /* the transfer (to read the status in the write callback) */
  long status;
  char *body;
  size_t len;
  size_t max;     /* cap for a 2xx body */
  bool too_large; /* 2xx body exceeded MAX: transfer aborted */
  char *content_type;
  char *docker_digest;
  char *content_range;
  char **www_auth; /* NULL-terminated */
};

void nook_reg_resp_reset (struct nook_reg_resp *resp);
/* Header callback shared by the easy and the multi transfers (USERDATA is a struct nook_reg_resp). */
size_t nook_reg_header_cb (char *buf, size_t size, size_t n, void *userdata);
/* Common options: URL, user agent, timeouts, TLS, protocols, the Authorization header when WITH_AUTH.
 * *HDRS receives the header list (freed by the caller after the transfer). */
int nook_reg_easy_setup (struct nook_registry *r, CURL *h, const char *url, const char *accept, bool with_auth,
                         const char *range, struct curl_slist **hdrs, char *errbuf);
/* Answer the challenges of a 401 (Bearer token or Basic credentials): 0 and r->authz set; 1 when there is
 * nothing to answer with (no Bearer/Basic challenge, or Basic without credentials); -1 with ERR. */
int nook_reg_authenticate (struct nook_registry *r, char *const *www_auth, nook_err *err);
/* Make sure the scheme is decided (and the auth dance done) with a GET /v2/. */
int nook_reg_ping (struct nook_registry *r, nook_err *err);
/* The base URL of the registry API (for origin comparisons).  Allocated. */
char *nook_reg_base_url (struct nook_registry *r);
/* Fill ERR for a failed transfer: "GET URL: curl message (detail)". */
int nook_reg_curl_error (nook_err *err, const char *url, CURLcode cc, const char *errbuf);
/* Fill ERR for a non-success HTTP status of WHAT (a reference or blob digest). */
int nook_reg_status_error (nook_err *err, const char *what, const char *url, long status, const char *body, size_t len);
/* Fill ERR with the "unauthorized: authentication required" message (+ the registry's message). */
int nook_reg_unauthorized (nook_err *err, const char *what, const char *body, size_t len);

#endif
