/* Pure parts of the registry client: WWW-Authenticate parsing, URLs, token/error bodies, resume and retry. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "image/registry_internal.h"

static void
test_bearer_challenge (void)
{
  struct nook_challenge c;
  const char *h = "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                  "scope=\"repository:samalba/my-app:pull,push\"";
  const char *rest = nook_challenge_parse (h, &c);

  CHECK (rest != NULL && *rest == '\0');
  CHECK_STR (c.scheme, "bearer");
  CHECK_STR (c.realm, "https://auth.docker.io/token");
  CHECK_STR (c.service, "registry.docker.io");
  CHECK_STR (c.scope, "repository:samalba/my-app:pull,push");
  CHECK (c.error == NULL);
  nook_challenge_free (&c);
}

static void
test_challenge_spacing_and_case (void)
{
  struct nook_challenge c;
  const char *rest
      = nook_challenge_parse ("  BEARER  Realm = \"http://h/t\" , SERVICE=svc ,error=\"invalid_token\"", &c);

  CHECK (rest != NULL && *rest == '\0');
  CHECK_STR (c.scheme, "bearer");
  CHECK_STR (c.realm, "http://h/t");
  CHECK_STR (c.service, "svc");
  CHECK_STR (c.error, "invalid_token");
  CHECK (c.scope == NULL);
  nook_challenge_free (&c);
}

static void
test_challenge_escapes (void)
{
  struct nook_challenge c;
  nook_challenge_parse ("Basic realm=\"a \\\"quoted\\\" realm, with comma\"", &c);
  CHECK_STR (c.scheme, "basic");
  CHECK_STR (c.realm, "a \"quoted\" realm, with comma");
  nook_challenge_free (&c);

  /* unterminated quoted string: runs to the end */
  nook_challenge_parse ("Basic realm=\"open", &c);
  CHECK_STR (c.realm, "open");
  nook_challenge_free (&c);
}

static void
test_multiple_challenges (void)
{
  struct nook_challenge c;
  const char *h = "Basic realm=\"reg\", Bearer realm=\"https://t/token\",service=\"s\"";
  const char *rest = nook_challenge_parse (h, &c);

  CHECK_STR (c.scheme, "basic");
  CHECK_STR (c.realm, "reg");
  CHECK (c.service == NULL);
  nook_challenge_free (&c);
  CHECK (rest != NULL && strncmp (rest, "Bearer", 6) == 0);
  rest = nook_challenge_parse (rest, &c);
  CHECK_STR (c.scheme, "bearer");
  CHECK_STR (c.realm, "https://t/token");
  CHECK_STR (c.service, "s");
  CHECK (rest != NULL && *rest == '\0');
  nook_challenge_free (&c);

  /* token68 schemes are skipped */
  rest = nook_challenge_parse ("Negotiate abc==, Basic realm=x", &c);
  CHECK_STR (c.scheme, "negotiate");
  nook_challenge_free (&c);
  CHECK (rest != NULL);
  nook_challenge_parse (rest, &c);
  CHECK_STR (c.scheme, "basic");
  CHECK_STR (c.realm, "x");
  nook_challenge_free (&c);

  CHECK (nook_challenge_parse ("", &c) == NULL);
  CHECK (nook_challenge_parse (" , ", &c) == NULL);
}

static void
test_challenge_pick (void)
{
  struct nook_challenge c;
  char *both[] = { "Basic realm=\"r\"", "Negotiate x, Bearer realm=\"https://a/t\",scope=\"s\"", NULL };
  char *basic[] = { "Negotiate x", "basic realm=r", NULL };
  char *none[] = { "Negotiate x", "Bearer service=nope", NULL };

  CHECK (nook_challenge_pick (both, &c) == 0);
  CHECK_STR (c.scheme, "bearer");
  CHECK_STR (c.realm, "https://a/t");
  CHECK_STR (c.scope, "s");
  nook_challenge_free (&c);
  CHECK (nook_challenge_pick (basic, &c) == 0);
  CHECK_STR (c.scheme, "basic");
  nook_challenge_free (&c);
  CHECK (nook_challenge_pick (none, &c) < 0); /* a Bearer without realm is of no use */
  CHECK (nook_challenge_pick (NULL, &c) < 0);
}

static void
test_urls (void)
{
  char *s;

  CHECK_STR (nook_reg_api_host ("docker.io"), "registry-1.docker.io");
  CHECK_STR (nook_reg_api_host ("127.0.0.1:5000"), "127.0.0.1:5000");
  s = nook_reg_api_url ("https", "quay.io", NULL, NULL, NULL);
  CHECK_STR (s, "https://quay.io/v2/");
  free (s);
  s = nook_reg_api_url ("http", "127.0.0.1:5000", "a/b", "manifests", "latest");
  CHECK_STR (s, "http://127.0.0.1:5000/v2/a/b/manifests/latest");
  free (s);
  s = nook_reg_url_escape ("repository:a/b:pull,push x~._-");
  CHECK_STR (s, "repository%3Aa%2Fb%3Apull%2Cpush%20x~._-");
  free (s);
  s = nook_reg_token_url ("https://auth/token", "reg svc", "repository:a:pull");
  CHECK_STR (s, "https://auth/token?service=reg%20svc&scope=repository%3Aa%3Apull");
  free (s);
  s = nook_reg_token_url ("https://auth/token?x=1", NULL, "s");
  CHECK_STR (s, "https://auth/token?x=1&scope=s");
  free (s);
  s = nook_reg_token_url ("https://auth/token", "svc", NULL);
  CHECK_STR (s, "https://auth/token?service=svc");
  free (s);
  s = nook_reg_pull_scope ("library/alpine");
  CHECK_STR (s, "repository:library/alpine:pull");
  free (s);
}

static void
test_same_origin (void)
{
  CHECK (nook_reg_same_origin ("https://r.io/v2/x", "https://R.IO:443/v2/y?z"));
  CHECK (nook_reg_same_origin ("http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b"));
  CHECK (!nook_reg_same_origin ("http://127.0.0.1:5000/a", "http://127.0.0.1:5001/a"));
  CHECK (!nook_reg_same_origin ("https://r.io/a", "http://r.io/a"));
  CHECK (!nook_reg_same_origin ("https://r.io/a", "https://cdn.r.io/a"));
  CHECK (!nook_reg_same_origin ("https://r.io/a", "not a url"));
  CHECK (nook_reg_url_is_http ("HTTPS://x/"));
  CHECK (nook_reg_url_is_http ("http://x/"));
  CHECK (!nook_reg_url_is_http ("file:///etc/passwd"));
  CHECK (!nook_reg_url_is_http ("ftp://x/"));
}

static void
test_json_bodies (void)
{
  char *t = NULL;
  const char *b1 = "{\"token\":\"abc\",\"expires_in\":300}";
  const char *b2 = "{\"access_token\":\"def\"}";
  const char *b3 = "{\"token\":\"\",\"access_token\":\"ghi\"}";
  const char *e = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}";

  CHECK (nook_reg_token_parse (b1, strlen (b1), &t) == 0);
  CHECK_STR (t, "abc");
  free (t);
  CHECK (nook_reg_token_parse (b2, strlen (b2), &t) == 0);
  CHECK_STR (t, "def");
  free (t);
  CHECK (nook_reg_token_parse (b3, strlen (b3), &t) == 0);
  CHECK_STR (t, "ghi");
  free (t);
  CHECK (nook_reg_token_parse ("{}", 2, &t) < 0);
  CHECK (nook_reg_token_parse ("<html>", 6, &t) < 0);
  t = nook_reg_json_error (e, strlen (e));
  CHECK_STR (t, "authentication required");
  free (t);
  CHECK (nook_reg_json_error ("{\"errors\":[]}", 13) == NULL);
  CHECK (nook_reg_json_error ("not json", 8) == NULL);
  CHECK (nook_reg_json_error (NULL, 0) == NULL);
}

static void
test_content_range (void)
{
  int64_t f, l, t;
  CHECK (nook_reg_content_range_parse ("bytes 100-199/200", &f, &l, &t) && f == 100 && l == 199 && t == 200);
  CHECK (nook_reg_content_range_parse ("bytes 0-9/*", &f, &l, &t) && f == 0 && l == 9 && t == -1);
  CHECK (!nook_reg_content_range_parse ("bytes 10-5/20", &f, &l, &t));
  CHECK (!nook_reg_content_range_parse ("bytes 0-20/20", &f, &l, &t));
  CHECK (!nook_reg_content_range_parse ("bytes */20", &f, &l, &t));
  CHECK (!nook_reg_content_range_parse ("items 0-1/2", &f, &l, &t));
  CHECK (!nook_reg_content_range_parse ("bytes 0-1/2x", &f, &l, &t));
  CHECK (!nook_reg_content_range_parse (NULL, &f, &l, &t));
}

static void
test_resume_action (void)
{
  CHECK (nook_reg_resume_action (200, 0, 100, NULL) == NOOK_RESUME_RESTART);
  CHECK (nook_reg_resume_action (200, 40, 100, NULL) == NOOK_RESUME_RESTART); /* range ignored */
  CHECK (nook_reg_resume_action (206, 40, 100, "bytes 40-99/100") == NOOK_RESUME_APPEND);
  CHECK (nook_reg_resume_action (206, 40, 100, "bytes 40-99/*") == NOOK_RESUME_APPEND);
  CHECK (nook_reg_resume_action (206, 40, 100, "bytes 41-99/100") == NOOK_RESUME_BAD);
  CHECK (nook_reg_resume_action (206, 40, 100, "bytes 40-99/150") == NOOK_RESUME_BAD);
  CHECK (nook_reg_resume_action (206, 40, 100, NULL) == NOOK_RESUME_BAD);
  CHECK (nook_reg_resume_action (404, 0, 100, NULL) == NOOK_RESUME_NONE);
  CHECK (nook_reg_resume_action (307, 40, 100, NULL) == NOOK_RESUME_NONE);
  CHECK (nook_reg_resume_action (416, 40, 100, NULL) == NOOK_RESUME_NONE);
}

static void
test_retry_and_backoff (void)
{
  CHECK (nook_reg_retryable (CURLE_OK, 500));
  CHECK (nook_reg_retryable (CURLE_OK, 503));
  CHECK (nook_reg_retryable (CURLE_OK, 429));
  CHECK (!nook_reg_retryable (CURLE_OK, 404));
  CHECK (!nook_reg_retryable (CURLE_OK, 401));
  CHECK (!nook_reg_retryable (CURLE_OK, 200));
  CHECK (nook_reg_retryable (CURLE_COULDNT_CONNECT, 0));
  CHECK (nook_reg_retryable (CURLE_OPERATION_TIMEDOUT, 0));
  CHECK (nook_reg_retryable (CURLE_PARTIAL_FILE, 0));
  CHECK (nook_reg_retryable (CURLE_RECV_ERROR, 0));
  CHECK (!nook_reg_retryable (CURLE_PEER_FAILED_VERIFICATION, 0));
  CHECK (!nook_reg_retryable (CURLE_WRITE_ERROR, 0));
  CHECK (nook_reg_https_fallback (CURLE_SSL_CONNECT_ERROR));
  CHECK (nook_reg_https_fallback (CURLE_COULDNT_CONNECT));
  CHECK (!nook_reg_https_fallback (CURLE_OK));
  CHECK (nook_reg_backoff_ms (1) == 200);
  CHECK (nook_reg_backoff_ms (2) == 400);
  CHECK (nook_reg_backoff_ms (3) == 800);
  CHECK (nook_reg_backoff_ms (20) == NOOK_REG_BACKOFF_MAX_MS);
}

int
main (void)
{
  RUN (test_bearer_challenge);
  RUN (test_challenge_spacing_and_case);
  RUN (test_challenge_escapes);
  RUN (test_multiple_challenges);
  RUN (test_challenge_pick);
  RUN (test_urls);
  RUN (test_same_origin);
  RUN (test_json_bodies);
  RUN (test_content_range);
  RUN (test_resume_action);
  RUN (test_retry_and_backoff);
  return HARNESS_END ();
}
