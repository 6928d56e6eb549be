/* registries.conf parsing (TOML subset) and longest-prefix lookup. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "image/regconf.h"
#include "util/fs.h"
#include "util/strutil.h"

/* Shaped like the registries.conf Fedora ships, plus nook's keys. */
static const char sample_v2[]
    = "# For more information on this configuration file, see containers-registries.conf(5).\n"
      "#\n"
      "unqualified-search-registries = [\"registry.fedoraproject.org\", \"registry.access.redhat.com\",\n"
      "  \"docker.io\",   # trailing comment\n"
      "]\n"
      "short-name-mode = \"enforcing\"\n"
      "\n"
      "[[registry]]\n"
      "location = \"localhost:5000\"\n"
      "insecure = true\n"
      "\n"
      "[[registry]]\n"
      "prefix = \"example.com/foo\"\n"
      "location = 'mirror.example.com/bar'  # literal string\n"
      "blocked = false\n"
      "mirror-by-digest-only = true\n"
      "\n"
      "[[registry.mirror]]\n"
      "location = \"should-not-override.example\"\n"
      "insecure = true\n"
      "\n"
      "[[registry]]\n"
      "  location=\"example.com\"\n"
      "  blocked=true\n"
      "  mirror = [ { location = \"m1.example\", insecure = false }, { location = \"m2\" } ]\n"
      "\n"
      "[[registry]]\n"
      "prefix = \"*.wild.io\"\n"
      "location = \"\"\n"
      "insecure = true\n"
      "\n"
      "[aliases]\n"
      "\"fedora\" = \"registry.fedoraproject.org/fedora\"\n"
      "\"ubi8\" = \"registry.access.redhat.com/ubi8\"\n"
      "\n"
      "[engine]\n"
      "number = 42\n"
      "float = 3.5\n"
      "date = 1979-05-27T07:32:00Z\n"
      "nested = [[1, 2], [\"a\"]]\n"
      "esc = \"tab\\there \\\"q\\\" \\u00e9\"\n";

static void
test_parse_v2 (void)
{
  struct nook_regconf *c = NULL;
  nook_err err = { 0 };

  CHECK (nook_regconf_parse (sample_v2, &c, &err) == 0);
  if (c == NULL)
    {
      printf ("    %s\n", err.msg);
      return;
    }
  CHECK (strv_len (c->search) == 3);
  CHECK_STR (c->search[2], "docker.io");
  CHECK (c->n == 4);
  CHECK_STR (c->entries[0].prefix, "localhost:5000");
  CHECK_STR (c->entries[0].location, "localhost:5000");
  CHECK (c->entries[0].insecure && !c->entries[0].blocked);
  CHECK_STR (c->entries[1].prefix, "example.com/foo");
  CHECK_STR (c->entries[1].location, "mirror.example.com/bar");
  CHECK (!c->entries[1].insecure && !c->entries[1].blocked);
  CHECK_STR (c->entries[2].prefix, "example.com");
  CHECK (c->entries[2].blocked && !c->entries[2].insecure);
  CHECK_STR (c->entries[3].prefix, "*.wild.io");
  nook_regconf_free (c);
}

static void
test_parse_v1 (void)
{
  static const char text[] = "[registries.search]\n"
                             "registries = ['docker.io', 'quay.io']\n"
                             "[registries.insecure]\n"
                             "registries = [\"10.0.0.1:5000\", \"blocked.io\"]\n"
                             "\n"
                             "[registries.block]\n"
                             "registries = [\"blocked.io\"]\n";
  struct nook_regconf *c = NULL;
  nook_err err = { 0 };

  CHECK (nook_regconf_parse (text, &c, &err) == 0);
  if (c == NULL)
    {
      printf ("    %s\n", err.msg);
      return;
    }
  CHECK (strv_len (c->search) == 2);
  CHECK (c->n == 2);
  CHECK_STR (c->entries[0].prefix, "10.0.0.1:5000");
  CHECK (c->entries[0].insecure && !c->entries[0].blocked);
  CHECK_STR (c->entries[1].location, "blocked.io");
  CHECK (c->entries[1].insecure && c->entries[1].blocked);
  nook_regconf_free (c);
}

static void
test_empty (void)
{
  struct nook_regconf *c = NULL;
  nook_err err = { 0 };

  CHECK (nook_regconf_parse ("", &c, &err) == 0);
  CHECK (c && c->n == 0 && c->search && c->search[0] == NULL);
  CHECK (nook_regconf_find (c, "docker.io", "library/alpine") == NULL);
  nook_regconf_free (c);
  CHECK (nook_regconf_parse ("# only a comment\r\n\r\n   \n# x", &c, &err) == 0);
  nook_regconf_free (c);
  CHECK (nook_regconf_load ("/nonexistent/registries.conf", &c, &err) == 0);
  CHECK (c && c->n == 0);
  nook_regconf_free (c);
  CHECK (nook_regconf_parse ("[[registry]]\nlocation = \"\\u00e9\\u002eio\\t\\\"\\\\\"\n", &c, &err) == 0);
  CHECK (c && c->n == 1 && strcmp (c->entries[0].location, "\xc3\xa9.io\t\"\\") == 0);
  nook_regconf_free (c);
}

/* TEXT must fail with SUB in the error. */
static int
bad (const char *text, const char *sub)
{
  struct nook_regconf *c = NULL;
  nook_err err = { 0 };

  if (nook_regconf_parse (text, &c, &err) == 0)
    {
      printf ("    accepted: %s\n", text);
      nook_regconf_free (c);
      return 0;
    }
  if (strstr (err.msg, sub) == NULL)
    {
      printf ("    error `%s` lacks `%s`\n", err.msg, sub);
      return 0;
    }
  return 1;
}

static void
test_errors (void)
{
  CHECK (bad ("[[registry]]\nlocation = \"a\"\ninsecure = \"yes\"\n",
              "registries.conf: line 3: `insecure` must be true or false"));
  CHECK (bad ("\n\n[[registry]]\nlocation = 5\n", "line 4: `location` must be a string"));
  CHECK (bad ("[[registry]]\nlocation = \"a\"\n\n[[registry]]\ninsecure = true\n",
              "line 4: [[registry]] needs a location"));
  CHECK (bad ("[[registry]]\nlocation = \"a\"\n[[registry]]\nlocation = \"a\"\n",
              "line 3: registry prefix `a` is defined more than once"));
  CHECK (bad ("unqualified-search-registries = [\"a\", 1]\n",
              "line 1: `unqualified-search-registries` must be an array of strings"));
  CHECK (bad ("unqualified-search-registries = \"a\"\n", "must be an array"));
  CHECK (bad ("a = \"unterminated\n", "line 1: unterminated string"));
  CHECK (bad ("x = 1\n\na = [\"x\" \"y\"]\n", "line 3: expected `,` or `]`"));
  CHECK (bad ("a = [\"x\",\n\n", "line 3"));
  CHECK (bad ("a = \"x\" junk\n", "line 1: unexpected"));
  CHECK (bad ("a \"x\"\n", "expected `=`"));
  CHECK (bad ("a =\n", "missing value"));
  CHECK (bad ("= 1\n", "expected a key"));
  CHECK (bad ("[registry\n", "expected `]`"));
  CHECK (bad ("[[registry]\n", "expected `]]`"));
  CHECK (bad ("a = yes\n", "invalid value"));
  CHECK (bad ("a = \"\"\"multi\"\"\"\n", "multi-line"));
  CHECK (bad ("a = \"bad \\q escape\"\n", "invalid escape"));
  CHECK (bad ("a = \"\\u12\"\n", "unicode"));
  CHECK (bad ("a = { b = 1 \n", "inline table"));
  CHECK (bad ("short-name-mode = true\n", "short-name-mode"));
  CHECK (bad ("[registries.insecure]\nregistries = \"a\"\n", "line 2"));
  CHECK (
      bad ("a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
           "nested"));
}

static void
test_find (void)
{
  struct nook_regconf *c = NULL;
  const struct nook_regconf_entry *e;
  nook_err err = { 0 };

  CHECK (nook_regconf_parse (sample_v2, &c, &err) == 0);
  if (c == NULL)
    return;
  e = nook_regconf_find (c, "localhost:5000", "app");
  CHECK (e && e->insecure && strcmp (e->prefix, "localhost:5000") == 0);
  CHECK (nook_regconf_find (c, "localhost", "app") == NULL);
  CHECK (nook_regconf_find (c, "localhost:50000", "app") == NULL);
  e = nook_regconf_find (c, "example.com", "foo/bar");
  CHECK (e && strcmp (e->prefix, "example.com/foo") == 0 && !e->blocked);
  e = nook_regconf_find (c, "example.com", "foo");
  CHECK (e && strcmp (e->prefix, "example.com/foo") == 0);
  e = nook_regconf_find (c, "example.com", "foobar/x");
  CHECK (e && strcmp (e->prefix, "example.com") == 0 && e->blocked);
  e = nook_regconf_find (c, "example.com", "other");
  CHECK (e && e->blocked);
  CHECK (nook_regconf_find (c, "example.community", "x") == NULL);
  e = nook_regconf_find (c, "a.wild.io", "x/y");
  CHECK (e && e->insecure);
  e = nook_regconf_find (c, "b.a.wild.io:5000", "x");
  CHECK (e && e->insecure);
  CHECK (nook_regconf_find (c, "wild.io", "x") == NULL);
  CHECK (nook_regconf_find (c, "docker.io", "library/alpine") == NULL);
  CHECK (nook_regconf_find (NULL, "docker.io", "x") == NULL);
  nook_regconf_free (c);
}

static void
test_load (void)
{
  char dir[] = "/tmp/nook-test-regconf-XXXXXX";
  struct nook_regconf *c = NULL;
  nook_err err = { 0 };
  char *path, *xdg;
  int fd;

  if (mkdtemp (dir) == NULL)
    {
      CHECK (0);
      return;
    }
  xdg = xasprintf ("%s/containers", dir);
  mkdir (xdg, 0700);
  path = xasprintf ("%s/registries.conf", xdg);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK (fd >= 0);
  nook_write_all (fd, "[[registry]]\nlocation = \"my.io\"\nblocked = true\n", 46);
  close (fd);
  setenv ("XDG_CONFIG_HOME", dir, 1);
  CHECK (nook_regconf_load (NULL, &c, &err) == 0);
  CHECK (c && c->n == 1 && c->entries[0].blocked);
  nook_regconf_free (c);
  c = NULL;
  CHECK (nook_regconf_load (path, &c, &err) == 0);
  CHECK (c && c->n == 1);
  nook_regconf_free (c);

  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  nook_write_all (fd, "[[registry]]\nblocked = 1\n", 24);
  close (fd);
  CHECK (nook_regconf_load (path, &c, &err) < 0);
  CHECK (strstr (err.msg, path) != NULL && strstr (err.msg, "line 2") != NULL);
  unsetenv ("XDG_CONFIG_HOME");
  nook_rm_rf_at (AT_FDCWD, dir, &err);
  free (path);
  free (xdg);
}

int
main (void)
{
  RUN (test_parse_v2);
  RUN (test_parse_v1);
  RUN (test_empty);
  RUN (test_errors);
  RUN (test_find);
  RUN (test_load);
  return HARNESS_END ();
}
