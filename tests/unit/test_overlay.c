/* The container rootfs: overlayfs and the copy fallback must show the same tree (whiteouts and opaque
 * directories applied).  Needs root (mounts in a private mount namespace); skipped otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/overlay.h"
#include "util/fs.h"
#include "util/strutil.h"

static char tmpl[] = "/tmp/nook-test-overlay.XXXXXX";
static char *top;

static void
mkfile (const char *rel, const char *text)
{
  char *p = xasprintf ("%s/%s", top, rel);
  int fd = open (p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd >= 0)
    {
      nook_write_all (fd, text, strlen (text));
      close (fd);
    }
  free (p);
}

static void
mkd (const char *rel)
{
  char *p = xasprintf ("%s/%s", top, rel);
  mkdir (p, 0755);
  free (p);
}

static void
setup (void)
{
  top = mkdtemp (tmpl);
  mkd ("layers");
  mkd ("layers/l1");
  mkd ("layers/l1/diff");
  mkd ("layers/l1/diff/a");
  mkd ("layers/l1/diff/d");
  mkfile ("layers/l1/diff/a/file1", "one");
  mkfile ("layers/l1/diff/d/x", "x");
  mkfile ("layers/l1/diff/gone", "bye");
  mkd ("layers/l2");
  mkd ("layers/l2/diff");
  mkd ("layers/l2/diff/d");
  mkfile ("layers/l2/diff/d/y", "y");
  mkd ("layers/l2/diff/a");
  mkfile ("layers/l2/diff/a/file2", "two");
  char *wh = xasprintf ("%s/layers/l2/diff/gone", top);
  mknod (wh, S_IFCHR | 0000, makedev (0, 0));
  free (wh);
  char *opq = xasprintf ("%s/layers/l2/diff/d", top);
  setxattr (opq, "trusted.overlay.opaque", "y", 1, 0);
  free (opq);
}

/* In a child with a private mount namespace: mount with FN, then check the view. 0 when right. */
static int
view_ok (int (*fn) (const struct nook_overlay *, const char *, nook_err *), const char *name)
{
  pid_t pid = fork ();
  int st;

  if (pid == 0)
    {
      struct nook_overlay ov = { 0 };
      nook_err err = { 0 };
      char *lowers[] = { (char *) "l2/diff", (char *) "l1/diff", NULL };
      char *target = xasprintf ("%s/%s-target", top, name);
      char *up = xasprintf ("%s/%s-upper", top, name), *work = xasprintf ("%s/%s-work", top, name);
      struct stat sb;

      mkdir (target, 0755);
      mkdir (up, 0755);
      mkdir (work, 0755);
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        _exit (2);
      ov.layers_dir = xasprintf ("%s/layers", top);
      ov.lowers = strv_dup (lowers);
      ov.upper = up;
      ov.work = work;
      if (fn (&ov, target, &err) < 0)
        {
          printf ("    %s: %s\n", name, err.msg);
          _exit (3);
        }
      if (chdir (target) < 0)
        _exit (4);
      int bad = (stat ("a/file1", &sb) < 0) + (stat ("a/file2", &sb) < 0) + (stat ("d/y", &sb) < 0)
                + (stat ("d/x", &sb) == 0) + (lstat ("gone", &sb) == 0);
      _exit (bad ? 4 : 0);
    }
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (st) ? WEXITSTATUS (st) : 99;
}

static void
test_kernel_overlay (void)
{
  CHECK (view_ok (nook_overlay_mount, "kernel") == 0);
}

static void
test_copy_fallback (void)
{
  CHECK (view_ok (nook_overlay_copy_mount, "copy") == 0);
  /* The copy is made once: a marker in the work directory says so. */
  char *marker = xasprintf ("%s/copy-work/.nook-copied", top);
  CHECK (access (marker, F_OK) == 0);
  free (marker);
}

int
main (void)
{
  if (geteuid () != 0)
    SKIP_ALL ("needs root");
  setup ();
  RUN (test_kernel_overlay);
  RUN (test_copy_fallback);
  nook_err err;
  nook_rm_rf_at (AT_FDCWD, top, &err);
  return HARNESS_END ();
}
