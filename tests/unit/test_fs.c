/* Path resolution inside a root: openat2 and the fallback walk must agree, and nothing escapes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "util/fs.h"
#include "util/strutil.h"

static char tmpl[] = "/tmp/nook-test-fs.XXXXXX";
static char *top;    /* holds root/ and outside/ */
static int rootfd;

static void
mk (const char *rel, bool dir)
{
  char *p = xasprintf ("%s/%s", top, rel);
  if (dir)
    mkdir (p, 0755);
  else
    close (open (p, O_CREAT | O_WRONLY, 0644));
  free (p);
}

static void
ln (const char *target, const char *rel)
{
  char *p = xasprintf ("%s/%s", top, rel);
  if (symlink (target, p) < 0)
    {
      perror ("symlink");
      abort ();
    }
  free (p);
}

static void
setup (void)
{
  top = mkdtemp (tmpl);
  mk ("root", true);
  mk ("outside", true);
  mk ("outside/secret", false);
  mk ("root/etc", true);
  mk ("root/etc/passwd", false);
  mk ("root/secret", false);
  ln ("/etc/passwd", "root/abs");             /* absolute link: must stay inside */
  ln ("../../outside/secret", "root/rel");     /* climbing link: clamps at the root */
  ln ("/../../../outside", "root/dirlink");
  ln ("loop2", "root/loop1");
  ln ("loop1", "root/loop2");
  ln ("/newdir/sub", "root/dangling");
  char *r = xasprintf ("%s/root", top);
  rootfd = open (r, O_PATH | O_DIRECTORY);
  free (r);
}

static ino_t
ino_of_fd (int fd)
{
  struct stat st;
  return fstat (fd, &st) == 0 ? st.st_ino : 0;
}

static ino_t
ino_of (const char *rel)
{
  struct stat st;
  char *p = xasprintf ("%s/%s", top, rel);
  int r = stat (p, &st);
  free (p);
  return r == 0 ? st.st_ino : 0;
}

static void
check_both (const char *path, int flags, const char *expect_rel, int expect_errno)
{
  for (int walk = 0; walk < 2; walk++)
    {
      nook_err err = { 0 };
      int fd = walk ? nook_open_in_root_walk (rootfd, path, flags, 0, &err)
                    : nook_open_in_root (rootfd, path, flags, 0, &err);
      if (expect_rel)
        {
          CHECK (fd >= 0);
          if (fd >= 0)
            CHECK (ino_of_fd (fd) == ino_of (expect_rel));
          if (fd < 0)
            printf ("    walk=%d %s: %s\n", walk, path, err.msg);
        }
      else
        {
          CHECK (fd < 0);
          CHECK (err.code == expect_errno);
        }
      if (fd >= 0)
        close (fd);
    }
}

static void
test_plain (void)
{
  check_both ("/etc/passwd", O_RDONLY, "root/etc/passwd", 0);
  check_both ("etc/passwd", O_PATH, "root/etc/passwd", 0);
  check_both ("/", O_PATH | O_DIRECTORY, "root", 0);
  check_both ("/etc/", O_RDONLY | O_DIRECTORY, "root/etc", 0);
}

static void
test_escapes_clamped (void)
{
  /* ".." clamps at the root: /outside/secret is looked up inside, where it does not exist. */
  check_both ("/../../outside/secret", O_RDONLY, NULL, ENOENT);
  check_both ("/../../secret", O_RDONLY, "root/secret", 0);
  check_both ("/abs", O_RDONLY, "root/etc/passwd", 0);
  check_both ("/rel", O_RDONLY, NULL, ENOENT);
  check_both ("/dirlink/secret", O_RDONLY, NULL, ENOENT); /* /outside does not exist inside */
}

static void
test_loops_and_missing (void)
{
  check_both ("/loop1", O_RDONLY, NULL, ELOOP);
  check_both ("/nope/x", O_PATH, NULL, ENOENT);
  check_both ("/etc/passwd/x", O_PATH, NULL, ENOTDIR);
}

static void
test_ensure (void)
{
  nook_err err = { 0 };
  int fd = nook_ensure_in_root (rootfd, "/a/b/c", true, 0755, &err);
  CHECK (fd >= 0);
  CHECK (ino_of ("root/a/b/c") != 0);
  close (fd);
  fd = nook_ensure_in_root (rootfd, "/a/file", false, 0644, &err);
  CHECK (fd >= 0);
  struct stat st;
  char *p = xasprintf ("%s/root/a/file", top);
  CHECK (stat (p, &st) == 0 && S_ISREG (st.st_mode));
  free (p);
  close (fd);
  /* A dangling symlink's target is created inside the root, never outside. */
  fd = nook_ensure_in_root (rootfd, "/dangling/x", true, 0755, &err);
  CHECK (fd >= 0);
  CHECK (ino_of ("root/newdir/sub/x") != 0);
  close (fd);
  /* A link that climbs out lands inside. */
  fd = nook_ensure_in_root (rootfd, "/dirlink/made", true, 0755, &err);
  CHECK (fd >= 0);
  CHECK (ino_of ("root/outside/made") != 0);
  CHECK (ino_of ("outside/made") == 0);
  close (fd);
}

static void
test_files (void)
{
  nook_err err = { 0 };
  int dfd = open (top, O_RDONLY | O_DIRECTORY);
  char *text = NULL;
  size_t len = 0;
  CHECK (nook_write_file_atomic (dfd, "f.json", "{\"a\":1}", 7, 0600, true, &err) == 0);
  CHECK (nook_read_file_at (dfd, "f.json", &text, &len, 100, &err) == 0);
  CHECK (len == 7);
  CHECK_STR (text, "{\"a\":1}");
  free (text);
  text = NULL;
  CHECK (nook_read_file_at (dfd, "f.json", &text, &len, 3, &err) < 0);
  CHECK (err.code == EFBIG);
  close (dfd);
}

/* A tree deeper than the open-file limit (and wide, and without permissions) is removed (issue 15). */
static void
test_rm_rf_hostile (void)
{
  nook_err err;
  struct rlimit old, low;
  int dfd = open (top, O_RDONLY | O_DIRECTORY | O_CLOEXEC), cur;
  struct stat st;

  CHECK (mkdirat (dfd, "deep", 0755) == 0);
  cur = openat (dfd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < 1000 && cur >= 0; i++)
    {
      int next;
      char name[16];
      if (i % 100 == 0)
        for (int k = 0; k < 5; k++)
          {
            snprintf (name, sizeof (name), "f%d", k);
            close (openat (cur, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
            snprintf (name, sizeof (name), "s%d", k);
            mkdirat (cur, name, 0755);
          }
      if (i == 500)
        {
          /* a directory its owner cannot write or search */
          mkdirat (cur, "locked", 0755);
          close (openat (cur, "locked/f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
          CHECK (fchmodat (cur, "locked", 0, 0) == 0);
        }
      mkdirat (cur, "d", 0755);
      next = openat (cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      close (cur);
      cur = next;
    }
  CHECK (cur >= 0);
  for (int k = 0; k < 500 && cur >= 0; k++)
    {
      char name[16];
      snprintf (name, sizeof (name), "w%d", k);
      mkdirat (cur, name, 0755);
    }
  close (cur);
  getrlimit (RLIMIT_NOFILE, &old);
  low = old;
  low.rlim_cur = 64;
  setrlimit (RLIMIT_NOFILE, &low);
  CHECK (nook_rm_rf_at (dfd, "deep", &err) == 0);
  setrlimit (RLIMIT_NOFILE, &old);
  if (fstatat (dfd, "deep", &st, 0) == 0)
    printf ("    not removed: %s\n", err.msg);
  CHECK (fstatat (dfd, "deep", &st, 0) < 0 && errno == ENOENT);
  close (dfd);
}

int
main (void)
{
  setup ();
  RUN (test_plain);
  RUN (test_escapes_clamped);
  RUN (test_loops_and_missing);
  RUN (test_ensure);
  RUN (test_files);
  RUN (test_rm_rf_hostile);
  nook_err err;
  int t = open ("/tmp", O_RDONLY | O_DIRECTORY);
  nook_rm_rf_at (t, top + 5, &err);
  close (t);
  return HARNESS_END ();
}
