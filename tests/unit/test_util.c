/* Errors, ids, signals, id maps. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "harness.h"
#include "runtime/state.h"
#include "runtime/userns.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/proc.h"
#include "util/strutil.h"

static void
test_error_text (void)
{
  nook_err err = { 0 };
  CHECK (nook_error (&err, ENOENT, "open `%s`", "/x") == -1);
  CHECK_STR (err.msg, "open `/x`: No such file or directory");
  CHECK (err.status == 125);
  nook_error_prefix (&err, "container `%s`", "c1");
  CHECK_STR (err.msg, "container `c1`: open `/x`: No such file or directory");
  nook_error_input (&err, "bad %d", 7);
  CHECK (err.code == EINVAL);
  CHECK_STR (err.msg, "bad 7");
}

/* Go's path.Clean (volume destinations, issue 15) and control bytes escaped in messages. */
static void
test_clean_and_escape (void)
{
  static const char *cases[][2] = { { "/../../../etc", "/etc" }, { "/", "/" }, { "//a/./b/../c/", "/a/c" },
                                    { "/a/..", "/" }, { "a/../..", ".." }, { "../a/..", ".." }, { "", "." },
                                    { "./", "." }, { "/a//b", "/a/b" }, { "a/b/../../../c", "../c" } };
  nook_err err = { 0 };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      char *c = str_path_clean (cases[i][0]);
      CHECK_STR (c, cases[i][1]);
      free (c);
    }
  nook_error_input (&err, "bad `%s`", "a\x1b[31mred\nline\x7f\tok\xc2\x9b");
  CHECK_STR (err.msg, "bad `a\\x1b[31mred\\nline\\x7f\tok\\u009b`");
  nook_error_prefix (&err, "in \x07%s", "x");
  CHECK (strncmp (err.msg, "in \\x07x: bad", 13) == 0);
  nook_error_input (&err, "plain ü text");
  CHECK_STR (err.msg, "plain ü text");
}

static void
test_ids (void)
{
  nook_err err;
  char long_id[300];
  CHECK (nook_id_check ("abc-1.2_x+y", &err) == 0);
  CHECK (nook_id_check ("", &err) < 0);
  CHECK (nook_id_check ("../x", &err) < 0);
  CHECK (nook_id_check ("a/b", &err) < 0);
  CHECK (nook_id_check (".", &err) < 0);
  CHECK (nook_id_check ("-x", &err) < 0);
  memset (long_id, 'a', sizeof (long_id) - 1);
  long_id[sizeof (long_id) - 1] = '\0';
  CHECK (nook_id_check (long_id, &err) < 0);
  CHECK (strstr (err.msg, "longer") != NULL);
}

static void
test_signals (void)
{
  CHECK (nook_parse_signal ("KILL") == SIGKILL);
  CHECK (nook_parse_signal ("SIGTERM") == SIGTERM);
  CHECK (nook_parse_signal ("sigusr1") == SIGUSR1);
  CHECK (nook_parse_signal ("9") == 9);
  CHECK (nook_parse_signal ("RTMIN+2") == SIGRTMIN + 2);
  CHECK (nook_parse_signal ("0") == -1);
  CHECK (nook_parse_signal ("NOPE") == -1);
  CHECK (nook_parse_signal ("99") == -1);
  CHECK (nook_exit_status (0x0900) == 9);
  CHECK (nook_exit_status (SIGKILL) == 137);
}

static void
test_idmaps (void)
{
  struct nook_idmap single = { 0, 1000, 1 };
  struct nook_idmap full[2] = { { 0, 1000, 1 }, { 1, 200000, 65536 } };
  struct nook_spec spec = { 0 };
  char *s;

  spec.uid_mappings = spec.gid_mappings = &single;
  spec.n_uid_mappings = spec.n_gid_mappings = 1;
  CHECK (nook_idmap_method (&spec, 0, 0) == NOOK_IDMAP_DIRECT);
  CHECK (nook_idmap_method (&spec, 1000, 1000) == NOOK_IDMAP_DIRECT_DENY);
  CHECK (nook_idmap_method (&spec, 1001, 1000) == NOOK_IDMAP_HELPER);
  spec.uid_mappings = spec.gid_mappings = full;
  spec.n_uid_mappings = spec.n_gid_mappings = 2;
  CHECK (nook_idmap_method (&spec, 1000, 1000) == NOOK_IDMAP_HELPER);
  s = nook_idmap_format (full, 2);
  CHECK_STR (s, "0 1000 1\n1 200000 65536\n");
  free (s);
}

static void
test_base64 (void)
{
  size_t len = 99;
  char *e = nook_base64_encode ("user:pass", 9), *d;

  CHECK_STR (e, "dXNlcjpwYXNz");
  free (e);
  e = nook_base64_encode ("fo", 2);
  CHECK_STR (e, "Zm8=");
  free (e);
  d = nook_base64_decode ("Zm8=", &len);
  CHECK_STR (d, "fo");
  CHECK (len == 2);
  free (d);
  d = nook_base64_decode ("Zm8", &len); /* padding optional */
  CHECK_STR (d, "fo");
  free (d);
  d = nook_base64_decode ("", &len);
  CHECK_STR (d, "");
  CHECK (len == 0);
  free (d);
  d = nook_base64_decode ("AGE6AGI=", &len); /* NULs inside are kept and counted */
  CHECK (d != NULL && len == 5 && memcmp (d, "\0a:\0b", 5) == 0);
  free (d);
  CHECK (nook_base64_decode ("Z", &len) == NULL);
  CHECK (nook_base64_decode ("Zm8===", &len) == NULL);
  CHECK (nook_base64_decode ("Zm=8", &len) == NULL);
  CHECK (nook_base64_decode ("Zm9v!", &len) == NULL);
  CHECK (nook_base64_decode (" Zm9v", &len) == NULL);
}

int
main (void)
{
  RUN (test_error_text);
  RUN (test_clean_and_escape);
  RUN (test_ids);
  RUN (test_signals);
  RUN (test_base64);
  RUN (test_idmaps);
  return HARNESS_END ();
}
