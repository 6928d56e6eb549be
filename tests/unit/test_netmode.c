/* --network parsing (root and rootless, with pasta, slirp4netns or neither on PATH), helper lookup on PATH,
 * and stopping a helper child. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "net/net_internal.h"
#include "util/fs.h"

static char bindir[64];

/* PATH = a temp dir holding exactly the fake helpers named (executable files), or none. */
static void
fake_path (const char *a, const char *b)
{
  nook_err err = { 0 };
  const char *names[] = { "pasta", "slirp4netns" };

  for (size_t i = 0; i < 2; i++)
    {
      char p[128];
      snprintf (p, sizeof (p), "%s/%s", bindir, names[i]);
      unlink (p);
      if ((a && strcmp (a, names[i]) == 0) || (b && strcmp (b, names[i]) == 0))
        {
          int dirfd = open (bindir, O_RDONLY | O_DIRECTORY);
          nook_write_file_atomic (dirfd, names[i], "#!/bin/sh\nexit 0\n", 17, 0755, false, &err);
          close (dirfd);
        }
    }
  setenv ("PATH", bindir, 1);
}

static int
parses (const char *value, bool rootless, enum nook_net_mode want)
{
  nook_err err = { 0 };
  enum nook_net_mode mode = -1;
  const char *path = "junk";

  if (nook_net_mode_parse (value, rootless, &mode, &path, &err) < 0)
    {
      printf ("    `%s`: %s\n", value ? value : "(null)", err.msg);
      return 0;
    }
  if (mode != want)
    {
      printf ("    `%s`: %s, not %s\n", value ? value : "(null)", nook_net_mode_name (mode), nook_net_mode_name (want));
      return 0;
    }
  return want == NOOK_NET_PATH || path == NULL;
}

static int
fails (const char *value, bool rootless, const char *why)
{
  nook_err err = { 0 };
  enum nook_net_mode mode;

  if (nook_net_mode_parse (value, rootless, &mode, NULL, &err) == 0)
    {
      printf ("    `%s` accepted as %s\n", value, nook_net_mode_name (mode));
      return 0;
    }
  if (strstr (err.msg, why) == NULL)
    {
      printf ("    `%s`: \"%s\" does not say \"%s\"\n", value, err.msg, why);
      return 0;
    }
  return 1;
}

static void
test_root (void)
{
  fake_path (NULL, NULL);
  CHECK (parses (NULL, false, NOOK_NET_BRIDGE));
  CHECK (parses ("", false, NOOK_NET_BRIDGE));
  CHECK (parses ("private", false, NOOK_NET_BRIDGE));
  CHECK (parses ("bridge", false, NOOK_NET_BRIDGE));
  CHECK (parses ("none", false, NOOK_NET_NONE));
  CHECK (parses ("host", false, NOOK_NET_HOST));
  CHECK (fails ("pasta", false, "install the package passt"));
  CHECK (fails ("slirp4netns", false, "install the package slirp4netns"));
  fake_path ("pasta", "slirp4netns");
  CHECK (parses ("pasta", false, NOOK_NET_PASTA));
  CHECK (parses ("slirp4netns", false, NOOK_NET_SLIRP));
}

static void
test_rootless_default (void)
{
  fake_path ("pasta", "slirp4netns");
  CHECK (parses (NULL, true, NOOK_NET_PASTA));
  CHECK (parses ("", true, NOOK_NET_PASTA));
  CHECK (parses ("private", true, NOOK_NET_PASTA));
  CHECK (parses ("bridge", true, NOOK_NET_PASTA));

  fake_path ("slirp4netns", NULL);
  CHECK (parses (NULL, true, NOOK_NET_SLIRP));
  CHECK (parses ("private", true, NOOK_NET_SLIRP));
  CHECK (parses ("slirp4netns", true, NOOK_NET_SLIRP));
  CHECK (fails ("pasta", true, "`pasta` is not installed (install the package passt)"));

  fake_path ("pasta", NULL);
  CHECK (parses ("", true, NOOK_NET_PASTA));
  CHECK (fails ("slirp4netns", true, "install the package slirp4netns"));

  fake_path (NULL, NULL);
  CHECK (fails ("", true, "no user-mode network helper: install the package passt (pasta) or slirp4netns, "
                          "or use --network none"));
  CHECK (fails ("private", true, "no user-mode network helper"));
  CHECK (parses ("none", true, NOOK_NET_NONE));
  CHECK (parses ("host", true, NOOK_NET_HOST));

  /* A file that is not executable does not count. */
  char p[128];
  snprintf (p, sizeof (p), "%s/pasta", bindir);
  int dirfd = open (bindir, O_RDONLY | O_DIRECTORY);
  nook_err err = { 0 };
  nook_write_file_atomic (dirfd, "pasta", "x", 1, 0644, false, &err);
  close (dirfd);
  CHECK (!nook_net_on_path ("pasta"));
  unlink (p);
}

static void
test_others (void)
{
  nook_err err = { 0 };
  enum nook_net_mode mode;
  const char *path = NULL;

  fake_path ("pasta", "slirp4netns");
  CHECK (nook_net_mode_parse ("ns:/proc/1/ns/net", true, &mode, &path, &err) == 0);
  CHECK (mode == NOOK_NET_PATH);
  CHECK_STR (path, "/proc/1/ns/net");
  CHECK (parses ("ns:/run/netns/x", false, NOOK_NET_PATH));
  CHECK (fails ("ns:", true, "needs a path"));
  CHECK (fails ("pasta:-4,--mtu=1500", true, "options for pasta are not supported"));
  CHECK (fails ("slirp4netns:allow_host_loopback=true", true, "options for slirp4netns are not supported"));
  CHECK (fails ("slirp4netns:port_handler=slirp4netns", false, "not supported"));
  CHECK (fails ("container:web", true, "not supported yet"));
  CHECK (fails ("container:web", false, "not supported yet"));
  CHECK (fails ("pastafarian", true, "invalid network mode `pastafarian`"));
  CHECK (fails ("mynet", false, "invalid network mode `mynet`"));
  CHECK (fails ("Host", false, "invalid network mode"));
}

static void
test_names (void)
{
  CHECK_STR (nook_net_mode_name (NOOK_NET_NONE), "none");
  CHECK_STR (nook_net_mode_name (NOOK_NET_HOST), "host");
  CHECK_STR (nook_net_mode_name (NOOK_NET_PASTA), "pasta");
  CHECK_STR (nook_net_mode_name (NOOK_NET_SLIRP), "slirp4netns");
  CHECK_STR (nook_net_mode_name (NOOK_NET_BRIDGE), "bridge");
}

static void
test_on_path (void)
{
  setenv ("PATH", "/nonexistent::/bin:/usr/bin", 1);
  CHECK (nook_net_on_path ("sh"));
  CHECK (nook_net_on_path ("/bin/sh"));
  CHECK (!nook_net_on_path ("/bin"));
  CHECK (!nook_net_on_path ("no-such-program-here"));
  CHECK (!nook_net_on_path (""));
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_stop_child (void)
{
  /* A child that ends on SIGTERM: reaped at once. */
  pid_t pid = fork ();
  if (pid == 0)
    {
      pause ();
      _exit (0);
    }
  double t0 = now ();
  nook_net_stop_child (pid);
  CHECK (now () - t0 < 0.5);
  CHECK (waitpid (pid, NULL, WNOHANG) < 0);

  /* One that ignores SIGTERM: SIGKILL after about a second. */
  int p[2];
  CHECK (pipe (p) == 0);
  pid = fork ();
  if (pid == 0)
    {
      signal (SIGTERM, SIG_IGN);
      close (p[0]);
      close (p[1]);   /* now ignoring */
      for (;;)
        pause ();
    }
  close (p[1]);
  char c;
  CHECK (read (p[0], &c, 1) == 0);
  close (p[0]);
  t0 = now ();
  nook_net_stop_child (pid);
  double took = now () - t0;
  CHECK (took >= 0.9 && took < 3);
  CHECK (waitpid (pid, NULL, WNOHANG) < 0);

  nook_net_stop_child (0);
  nook_net_stop_child (-1);
}

int
main (void)
{
  char tmpl[] = "/tmp/nook-netmode-XXXXXX";
  const char *saved = getenv ("PATH");
  char *old_path = saved ? strdup (saved) : NULL;
  nook_err err = { 0 };

  if (mkdtemp (tmpl) == NULL)
    return 1;
  snprintf (bindir, sizeof (bindir), "%s", tmpl);

  RUN (test_root);
  RUN (test_rootless_default);
  RUN (test_others);
  RUN (test_names);
  RUN (test_on_path);
  RUN (test_stop_child);

  if (old_path)
    setenv ("PATH", old_path, 1);
  free (old_path);
  nook_rm_rf_at (AT_FDCWD, bindir, &err);
  return HARNESS_END ();
}
