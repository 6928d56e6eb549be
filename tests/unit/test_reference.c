/* Image references (distribution/reference grammar and docker normalization) and sha256 digests. */
#include <string.h>

#include "harness.h"
#include "util/digest.h"
#include "store/reference.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse S and compare the normalized string (EXPECT NULL: must fail, with ERRSUB in the message). */
static int
check_ref (const char *s, const char *expect, const char *errsub)
{
  struct nook_ref r = { 0 };
  nook_err err = { 0 };
  int ok = 1;
  char *str;

  if (nook_ref_parse (s, &r, &err) < 0)
    {
      if (expect != NULL)
        {
          printf ("    `%s`: unexpected error: %s\n", s, err.msg);
          return 0;
        }
      if (strncmp (err.msg, "invalid reference format", 24) != 0
          || (errsub != NULL && strstr (err.msg, errsub) == NULL))
        {
          printf ("    `%s`: wrong error: %s\n", s, err.msg);
          return 0;
        }
      return 1;
    }
  str = nook_ref_string (&r);
  if (expect == NULL || strcmp (str, expect) != 0)
    {
      printf ("    `%s` -> `%s`, expected %s\n", s, str, expect ? expect : "an error");
      ok = 0;
    }
  free (str);
  nook_ref_free (&r);
  return ok;
}

static void
test_ref_examples (void)
{
  CHECK (check_ref ("alpine", "docker.io/library/alpine:latest", NULL));
  CHECK (check_ref ("user/app:1", "docker.io/user/app:1", NULL));
  CHECK (check_ref ("localhost:5000/app", "localhost:5000/app:latest", NULL));
  CHECK (check_ref ("localhost/app", "localhost/app:latest", NULL));
  CHECK (check_ref ("quay.io/a/b@sha256:" HEX64, "quay.io/a/b@sha256:" HEX64, NULL));
  CHECK (check_ref ("repo:tag@sha256:" HEX64, "docker.io/library/repo:tag@sha256:" HEX64, NULL));
  CHECK (check_ref ("index.docker.io/busybox", "docker.io/library/busybox:latest", NULL));
  CHECK (check_ref ("docker.io/busybox:1.36", "docker.io/library/busybox:1.36", NULL));
  CHECK (check_ref ("127.0.0.1:5000/a/b/c:v1.0-rc_2", "127.0.0.1:5000/a/b/c:v1.0-rc_2", NULL));
  CHECK (check_ref ("[::1]:5000/app", "[::1]:5000/app:latest", NULL));
  CHECK (check_ref ("a__b/c.d/e---f", "docker.io/a__b/c.d/e---f:latest", NULL));
  CHECK (check_ref ("Registry.Example.COM/app", "Registry.Example.COM/app:latest", NULL));
  CHECK (check_ref ("alpine:_x", "docker.io/library/alpine:_x", NULL));
}

static void
test_ref_fields (void)
{
  struct nook_ref r = { 0 };
  nook_err err = { 0 };
  char *s;

  CHECK (nook_ref_parse ("quay.io/a/b@sha256:" HEX64, &r, &err) == 0);
  CHECK_STR (r.domain, "quay.io");
  CHECK_STR (r.path, "a/b");
  CHECK (r.tag == NULL);
  CHECK_STR (r.digest, "sha256:" HEX64);
  CHECK_STR (nook_ref_target (&r), "sha256:" HEX64);
  s = nook_ref_repo (&r);
  CHECK_STR (s, "quay.io/a/b");
  free (s);
  nook_ref_free (&r);

  CHECK (nook_ref_parse ("fedora:39@sha256:" HEX64, &r, &err) == 0);
  CHECK_STR (r.tag, "39");
  CHECK_STR (nook_ref_target (&r), "sha256:" HEX64);
  nook_ref_free (&r);

  CHECK (nook_ref_parse ("alpine", &r, &err) == 0);
  CHECK_STR (r.domain, "docker.io");
  CHECK_STR (r.path, "library/alpine");
  CHECK_STR (nook_ref_target (&r), "latest");
  nook_ref_free (&r);
  nook_ref_free (&r); /* idempotent */
}

static void
test_ref_bad (void)
{
  char longname[300];

  CHECK (check_ref ("", NULL, NULL));
  CHECK (check_ref ("UPPER", NULL, "repository name must be lowercase"));
  CHECK (check_ref ("docker.io/Library/alpine", NULL, "repository name must be lowercase"));
  CHECK (check_ref ("a:b:c", NULL, NULL));
  CHECK (check_ref ("repo@sha256:short", NULL, NULL));
  CHECK (check_ref ("repo@sha256:0123456789abcdef0123456789abcdef", NULL, "digest"));
  CHECK (check_ref ("repo@sha512:" HEX64 HEX64, NULL, "unsupported digest algorithm"));
  CHECK (check_ref ("repo@sha256:" HEX64 "00", NULL, NULL));
  CHECK (check_ref ("repo@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL, NULL));
  CHECK (check_ref (":tag", NULL, NULL));
  CHECK (check_ref ("a//b", NULL, NULL));
  CHECK (check_ref ("-a", NULL, NULL));
  CHECK (check_ref ("a-", NULL, NULL));
  CHECK (check_ref ("alpine:", NULL, NULL));
  CHECK (check_ref ("alpine@", NULL, NULL));
  CHECK (check_ref ("alpine:-x", NULL, NULL));
  CHECK (check_ref ("a/b/", NULL, NULL));
  CHECK (check_ref ("a..b", NULL, NULL));
  CHECK (check_ref ("a___b", NULL, NULL));
  CHECK (check_ref ("-host.io/a", NULL, NULL));
  CHECK (check_ref ("host.io:x/a", NULL, NULL));
  CHECK (check_ref ("host.io:/a", NULL, NULL));
  CHECK (check_ref ("a b", NULL, NULL));
  CHECK (check_ref (HEX64, NULL, "64-byte"));
  memset (longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK (check_ref (longname, NULL, "255"));
  /* 128-character tags are the limit. */
  memset (longname, 't', 131);
  memcpy (longname, "a:", 2);
  longname[131] = '\0';
  CHECK (check_ref (longname, NULL, "tag"));
  longname[130] = '\0';
  CHECK (check_ref (longname,
                    "docker.io/library/a:"
                    "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"
                    "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
                    NULL));
}

static void
test_digest_valid (void)
{
  CHECK (nook_digest_valid ("sha256:" HEX64));
  CHECK (!nook_digest_valid (NULL));
  CHECK (!nook_digest_valid ("sha256:" HEX64 "0"));
  CHECK (!nook_digest_valid ("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
  CHECK (!nook_digest_valid ("sha512:" HEX64));
  CHECK (!nook_digest_valid (HEX64));
}

static void
test_sha256_vectors (void)
{
  char out[72];
  struct nook_sha256 *h;

  nook_sha256_digest ("", 0, out);
  CHECK_STR (out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  nook_sha256_digest ("abc", 3, out);
  CHECK_STR (out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  h = nook_sha256_new ();
  nook_sha256_update (h, "a", 1);
  nook_sha256_update (h, NULL, 0);
  nook_sha256_update (h, "bc", 2);
  nook_sha256_final (h, out);
  nook_sha256_free (h);
  CHECK_STR (out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  nook_sha256_free (NULL);
  CHECK (nook_digest_valid (out));
  /* FIPS 180-4 two-block message */
  nook_sha256_digest ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
  CHECK_STR (out, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int
main (void)
{
  RUN (test_ref_examples);
  RUN (test_ref_fields);
  RUN (test_ref_bad);
  RUN (test_digest_valid);
  RUN (test_sha256_vectors);
  return HARNESS_END ();
}
