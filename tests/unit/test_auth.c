/* Registry credential files: lookup order, key spellings, login/logout editing. */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "image/auth.h"
#include "util/fs.h"
#include "util/strutil.h"

static char tmpdir[] = "/tmp/nook-test-auth-XXXXXX";

static char *
tpath (const char *rel)
{
  return xasprintf ("%s/%s", tmpdir, rel);
}

static void
put (const char *rel, const char *content)
{
  char *p = tpath (rel), *slash = strrchr (p, '/');
  nook_err err;
  int fd;

  *slash = '\0';
  nook_mkdir_p (p, 0700, &err);
  *slash = '/';
  fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      nook_write_all (fd, content, strlen (content));
      close (fd);
    }
  free (p);
}

static char *
get (const char *rel)
{
  char *p = tpath (rel), *data = NULL;
  size_t len;
  nook_err err;

  nook_read_file_at (AT_FDCWD, p, &data, &len, 1 << 20, &err);
  free (p);
  return data;
}

/* A fresh environment: HOME and XDG_RUNTIME_DIR inside the temp dir, nothing else set. */
static void
reset_env (void)
{
  nook_err err;
  char *p;

  nook_rm_rf_at (AT_FDCWD, tmpdir, &err);
  mkdir (tmpdir, 0700);
  p = tpath ("home");
  setenv ("HOME", p, 1);
  free (p);
  p = tpath ("run");
  setenv ("XDG_RUNTIME_DIR", p, 1);
  free (p);
  unsetenv ("REGISTRY_AUTH_FILE");
  unsetenv ("XDG_CONFIG_HOME");
  unsetenv ("DOCKER_CONFIG");
}

/* Look REGISTRY up: the return value, and "user|pass" into OUT. */
static int
lookup (const char *registry, char *out)
{
  char *u = NULL, *p = NULL;
  nook_err err = { 0 };
  int r = nook_auth_lookup (registry, &u, &p, &err);

  if (r > 0)
    sprintf (out, "%s|%s", u, p);
  else
    strcpy (out, r < 0 ? err.msg : "");
  free (u);
  free (p);
  return r;
}

static void
test_default_file (void)
{
  char *f, *want;

  reset_env ();
  f = nook_auth_default_file ();
  want = tpath ("run/containers/auth.json");
  CHECK_STR (f, want);
  free (f);
  free (want);
  unsetenv ("XDG_RUNTIME_DIR");
  f = nook_auth_default_file ();
  want = tpath ("home/.config/containers/auth.json");
  CHECK_STR (f, want);
  free (f);
  free (want);
  setenv ("REGISTRY_AUTH_FILE", "/some/auth.json", 1);
  f = nook_auth_default_file ();
  CHECK_STR (f, "/some/auth.json");
  free (f);
}

static void
test_store_lookup (void)
{
  nook_err err = { 0 };
  char buf[256], *data, *p;
  struct stat st;

  reset_env ();
  CHECK (lookup ("quay.io", buf) == 0);
  CHECK (nook_auth_store (NULL, "quay.io", "user", "pass", &err) == 0);
  CHECK (lookup ("quay.io", buf) == 1);
  CHECK_STR (buf, "user|pass");
  CHECK (lookup ("docker.io", buf) == 0);
  data = get ("run/containers/auth.json");
  CHECK (data && strstr (data, "\"dXNlcjpwYXNz\"") != NULL);
  free (data);
  p = tpath ("run/containers/auth.json");
  CHECK (stat (p, &st) == 0 && (st.st_mode & 07777) == 0600);
  free (p);
  p = tpath ("run/containers");
  CHECK (stat (p, &st) == 0 && (st.st_mode & 07777) == 0700);
  free (p);

  /* A second registry keeps the first; a password may contain ':'; re-login replaces. */
  CHECK (nook_auth_store (NULL, "localhost:5000", "u2", "pa:ss", &err) == 0);
  CHECK (nook_auth_store (NULL, "quay.io", "user", "new", &err) == 0);
  CHECK (lookup ("localhost:5000", buf) == 1);
  CHECK_STR (buf, "u2|pa:ss");
  CHECK (lookup ("quay.io", buf) == 1);
  CHECK_STR (buf, "user|new");

  CHECK (nook_auth_store (NULL, "quay.io", "a:b", "x", &err) < 0);
  CHECK (nook_auth_store (NULL, "", "a", "x", &err) < 0);
}

static void
test_base64_lengths (void)
{
  static const char *const pw[] = { "", "a", "ab", "abc", "abcd", "abcde", "\xc3\xa9t\xc3\xa9 !@#$%^&*()" };
  nook_err err = { 0 };
  char buf[256], want[256];

  reset_env ();
  for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++)
    {
      CHECK (nook_auth_store (NULL, "r.io", "me", pw[i], &err) == 0);
      CHECK (lookup ("r.io", buf) == 1);
      snprintf (want, sizeof want, "me|%s", pw[i]);
      CHECK_STR (buf, want);
    }
}

static void
test_preserve_other_keys (void)
{
  nook_err err = { 0 };
  char *data;

  reset_env ();
  put ("run/containers/auth.json", "{\"auths\":{\"a.io\":{\"auth\":\"YTpi\"}},\"credHelpers\":{\"x.io\":\"h\"}}");
  CHECK (nook_auth_store (NULL, "b.io", "c", "d", &err) == 0);
  data = get ("run/containers/auth.json");
  CHECK (data && strstr (data, "\"a.io\"") && strstr (data, "\"b.io\"") && strstr (data, "credHelpers"));
  free (data);
}

static void
test_remove (void)
{
  nook_err err = { 0 };
  char buf[256], *data;

  reset_env ();
  CHECK (nook_auth_remove (NULL, "quay.io", false, &err) < 0);
  CHECK_STR (err.msg, "not logged into quay.io");
  CHECK (nook_auth_remove (NULL, NULL, true, &err) == 0);
  CHECK (nook_auth_store (NULL, "quay.io", "u", "p", &err) == 0);
  CHECK (nook_auth_store (NULL, "b.io", "u", "p", &err) == 0);
  CHECK (nook_auth_remove (NULL, "quay.io", false, &err) == 0);
  CHECK (lookup ("quay.io", buf) == 0);
  CHECK (lookup ("b.io", buf) == 1);
  CHECK (nook_auth_remove (NULL, "quay.io", false, &err) < 0);
  CHECK_STR (err.msg, "not logged into quay.io");
  CHECK (nook_auth_store (NULL, "c.io", "u", "p", &err) == 0);
  CHECK (nook_auth_remove (NULL, NULL, true, &err) == 0);
  CHECK (lookup ("b.io", buf) == 0);
  CHECK (lookup ("c.io", buf) == 0);

  /* Logout removes every spelling of the registry. */
  put ("run/containers/auth.json", "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"YTpi\"},"
                                   "\"docker.io\":{\"auth\":\"YTpi\"},\"quay.io\":{\"auth\":\"YTpi\"}}}");
  CHECK (nook_auth_remove (NULL, "docker.io", false, &err) == 0);
  data = get ("run/containers/auth.json");
  CHECK (data && strstr (data, "docker") == NULL && strstr (data, "quay.io") != NULL);
  free (data);

  /* An explicit file. */
  data = tpath ("explicit/auth.json");
  CHECK (nook_auth_store (data, "e.io", "u", "p", &err) == 0);
  CHECK (lookup ("e.io", buf) == 0);
  CHECK (nook_auth_remove (data, "e.io", false, &err) == 0);
  CHECK (nook_auth_remove (data, "e.io", false, &err) < 0);
  free (data);
}

static void
test_key_spellings (void)
{
  char buf[256];

  reset_env ();
  put ("run/containers/auth.json", "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"},"
                                   "\"https://myreg:5000/v2/\":{\"auth\":\"bXk6cmVn\"},"
                                   "\"old.io/v1/\":{\"auth\":\"b2xkOm9sZA==\"},"
                                   "\"quay.io/org\":{\"auth\":\"bnM6bnM=\"},"
                                   "\"sep.io\":{\"username\":\"su\",\"password\":\"sp\"}}}");
  CHECK (lookup ("docker.io", buf) == 1);
  CHECK_STR (buf, "hub|hubpw");
  CHECK (lookup ("myreg:5000", buf) == 1);
  CHECK_STR (buf, "my|reg");
  CHECK (lookup ("myreg", buf) == 0);
  CHECK (lookup ("old.io", buf) == 1);
  CHECK_STR (buf, "old|old");
  CHECK (lookup ("quay.io", buf) == 0);
  CHECK (lookup ("sep.io", buf) == 1);
  CHECK_STR (buf, "su|sp");

  /* The exact key wins over another spelling. */
  put ("run/containers/auth.json",
       "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"},\"docker.io\":{\"auth\":\"YTpi\"}}}");
  CHECK (lookup ("docker.io", buf) == 1);
  CHECK_STR (buf, "a|b");
}

static void
test_lookup_order (void)
{
  char buf[256], *p;

  reset_env ();
  put ("home/.docker/config.json", "{\"auths\":{\"a.io\":{\"auth\":\"ZDpk\"},\"b.io\":{\"auth\":\"ZDpk\"},"
                                   "\"c.io\":{\"auth\":\"ZDpk\"},\"d.io\":{\"auth\":\"ZDpk\"}}}");
  put ("home/.config/containers/auth.json", "{\"auths\":{\"a.io\":{\"auth\":\"Yzpj\"},\"b.io\":{\"auth\":\"Yzpj\"},"
                                            "\"c.io\":{\"auth\":\"Yzpj\"}}}");
  put ("run/containers/auth.json", "{\"auths\":{\"a.io\":{\"auth\":\"cjpy\"},\"b.io\":{\"auth\":\"cjpy\"}}}");
  put ("explicit.json", "{\"auths\":{\"a.io\":{\"auth\":\"ZTpl\"}}}");
  p = tpath ("explicit.json");
  setenv ("REGISTRY_AUTH_FILE", p, 1);
  free (p);
  CHECK (lookup ("a.io", buf) == 1);
  CHECK_STR (buf, "e|e");
  CHECK (lookup ("b.io", buf) == 1);
  CHECK_STR (buf, "r|r");
  CHECK (lookup ("c.io", buf) == 1);
  CHECK_STR (buf, "c|c");
  CHECK (lookup ("d.io", buf) == 1);
  CHECK_STR (buf, "d|d");
  CHECK (lookup ("x.io", buf) == 0);

  /* XDG_CONFIG_HOME moves the config file. */
  p = tpath ("xdg");
  setenv ("XDG_CONFIG_HOME", p, 1);
  free (p);
  CHECK (lookup ("c.io", buf) == 1);
  CHECK_STR (buf, "d|d");
}

static void
test_docker_helpers (void)
{
  char buf[256];

  reset_env ();
  put ("home/.docker/config.json", "{\"credsStore\":\"desktop\",\"credHelpers\":{\"gcr.io\":\"gcloud\"},"
                                   "\"auths\":{\"https://index.docker.io/v1/\":{},\"gcr.io\":{}}}");
  CHECK (lookup ("docker.io", buf) == 0);
  CHECK (lookup ("gcr.io", buf) == 0);
  put ("home/.docker/config.json", "{\"credsStore\":\"desktop\",\"auths\":{\"q.io\":{\"auth\":\"cTpx\"}}}");
  CHECK (lookup ("q.io", buf) == 1);
  CHECK_STR (buf, "q|q");
  put ("home/.docker/config.json", "{\"credsStore\":\"desktop\"}");
  CHECK (lookup ("q.io", buf) == 0);
}

static void
test_broken_files (void)
{
  char buf[256];
  nook_err err = { 0 };

  reset_env ();
  put ("run/containers/auth.json", "{\"auths\":");
  CHECK (lookup ("a.io", buf) < 0);
  CHECK (strstr (buf, "auth.json") != NULL);
  CHECK (nook_auth_store (NULL, "a.io", "u", "p", &err) < 0);
  put ("run/containers/auth.json", "{\"auths\":{\"a.io\":{\"auth\":\"!!!\"}}}");
  CHECK (lookup ("a.io", buf) < 0);
  CHECK (strstr (buf, "invalid `auth`") != NULL);
  put ("run/containers/auth.json", "{\"auths\":{\"a.io\":{\"auth\":\"bm9jb2xvbg==\"}}}"); /* "nocolon" */
  CHECK (lookup ("a.io", buf) < 0);
  put ("run/containers/auth.json", "{\"auths\":[]}");
  CHECK (lookup ("a.io", buf) < 0);
  put ("run/containers/auth.json", "{\"auths\":{\"a.io\":\"x\"}}");
  CHECK (lookup ("a.io", buf) < 0);
  put ("run/containers/auth.json", "[]");
  CHECK (lookup ("a.io", buf) < 0);
  put ("run/containers/auth.json", "{}");
  CHECK (lookup ("a.io", buf) == 0);
}

int
main (void)
{
  if (mkdtemp (tmpdir) == NULL)
    return 1;
  RUN (test_default_file);
  RUN (test_store_lookup);
  RUN (test_base64_lengths);
  RUN (test_preserve_other_keys);
  RUN (test_remove);
  RUN (test_key_spellings);
  RUN (test_lookup_order);
  RUN (test_docker_helpers);
  RUN (test_broken_files);
  {
    nook_err err;
    nook_rm_rf_at (AT_FDCWD, tmpdir, &err);
  }
  return HARNESS_END ();
}
