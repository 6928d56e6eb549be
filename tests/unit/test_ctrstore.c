/* Container records in the store: new/find/read/write/lock/rename/delete/in_use, generated names, the
 * index under concurrent creators, and rootless deletion of sub-id owned files.  Each test uses its own
 * store under /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "manager/ctrstore.h"
#include "manager/names.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define TEST_UID 2000
#define SUB_START 200000

static struct nook_store *
new_store (char *dir)
{
  struct nook_store *s = NULL;
  nook_err err = { 0 };

  strcpy (dir, "/tmp/nook-ctr-XXXXXX");
  if (mkdtemp (dir) == NULL || nook_store_open (dir, &s, &err) < 0)
    printf ("    store: %s\n", err.msg);
  return s;
}

static void
drop_store (struct nook_store *s, char *dir)
{
  nook_err err = { 0 };
  nook_store_close (s);
  nook_rm_rf_at (AT_FDCWD, dir, &err);
}

static bool
is_dir (const char *root, const char *id, const char *sub, mode_t mode)
{
  cleanup_free char *p = xasprintf ("%s/containers/%s/%s", root, id, sub);
  struct stat st;
  return stat (p, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == mode;
}

static bool
hex64 (const char *id)
{
  size_t n = 0;
  for (; id[n]; n++)
    if (!strchr ("0123456789abcdef", id[n]))
      return false;
  return n == 64;
}

static char *
new_ctr (struct nook_store *s, const char *name, const char *image, char *const *layers)
{
  char *id = NULL, *nm = NULL;
  nook_err err = { 0 };

  if (nook_ctr_new (s, name, image, layers, &id, &nm, &err) < 0)
    printf ("    new %s: %s\n", name ? name : "(generated)", err.msg);
  free (nm);
  return id;
}

static void
test_new_and_find (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *id = NULL, *name = NULL, *found = NULL, *cdir = NULL;
  nook_err err = { 0 };
  char prefix[8];

  CHECK (nook_ctr_new (s, "web", "img1", NULL, &id, &name, &err) == 0);
  CHECK (id && hex64 (id));
  CHECK_STR (name, "web");
  CHECK (is_dir (dir, id, ".", 0700) && is_dir (dir, id, "upper", 0755) && is_dir (dir, id, "work", 0755)
         && is_dir (dir, id, "merged", 0755) && is_dir (dir, id, "userdata", 0700));
  cdir = nook_ctr_dir (s, id);
  CHECK (str_has_prefix (cdir, dir) && strstr (cdir, "/containers/") && strstr (cdir, id));
  /* by name, full id, prefix */
  CHECK (nook_ctr_find (s, "web", &found, &err) == 0);
  CHECK_STR (found, id);
  free (steal_pointer (&found));
  CHECK (nook_ctr_find (s, id, &found, &err) == 0);
  CHECK_STR (found, id);
  free (steal_pointer (&found));
  memcpy (prefix, id, 5);
  prefix[5] = '\0';
  CHECK (nook_ctr_find (s, prefix, &found, &err) == 0);
  CHECK_STR (found, id);
  free (steal_pointer (&found));
  /* too short a prefix, unknown name */
  prefix[2] = '\0';
  CHECK (nook_ctr_find (s, prefix, &found, &err) < 0 && err.code == ENOENT);
  CHECK (nook_ctr_find (s, "nope", &found, &err) < 0 && err.code == ENOENT);
  CHECK_STR (err.msg, "no container with name or ID \"nope\" found: no such container");
  drop_store (s, dir);
}

/* A deterministic ambiguity: write the index by hand with two ids sharing "abc". */
static void
test_ambiguous_index (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *found = NULL;
  nook_err err = { 0 };
  const char *idx = "[{\"id\":\"abc1000000000000000000000000000000000000000000000000000000000000\",\"name\":\"a\","
                    "\"image\":\"i1\",\"layers\":[\"sha256:l1\"]},"
                    "{\"id\":\"abc2000000000000000000000000000000000000000000000000000000000000\",\"name\":\"abc\","
                    "\"image\":\"i2\",\"layers\":[\"sha256:l1\",\"sha256:l2\"]}]";

  CHECK (nook_write_file_atomic (s->dirfd, "containers.json", idx, strlen (idx), 0600, false, &err) == 0);
  CHECK (nook_ctr_find (s, "abc", &found, &err) == 0); /* a name wins over a prefix */
  CHECK_STR (found, "abc2000000000000000000000000000000000000000000000000000000000000");
  free (steal_pointer (&found));
  CHECK (nook_ctr_find (s, "ab", &found, &err) < 0 && err.code == ENOENT); /* < 3 chars: not a prefix */
  CHECK (nook_ctr_find (s, "abc", &found, &err) == 0);
  free (steal_pointer (&found));
  CHECK (nook_ctr_find (s, "abc2", &found, &err) == 0);
  free (steal_pointer (&found));
  CHECK (nook_ctr_find (s, "abc0", &found, &err) < 0 && err.code == ENOENT);
  {
    const char *idx2 = "[{\"id\":\"abc1000000000000000000000000000000000000000000000000000000000000\",\"name\":\"a\"},"
                       "{\"id\":\"abc2000000000000000000000000000000000000000000000000000000000000\",\"name\":\"z\"}]";
    CHECK (nook_write_file_atomic (s->dirfd, "containers.json", idx2, strlen (idx2), 0600, false, &err) == 0);
    CHECK (nook_ctr_find (s, "abc", &found, &err) < 0); /* no name "abc" any more: two ids match */
    CHECK_STR (err.msg, "more than one result for container \"abc\"");
  }
  drop_store (s, dir);
}

static void
test_in_use (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  char *l1[] = { "sha256:aa", "sha256:bb", NULL }, *l2[] = { "sha256:bb", "sha256:cc", NULL };
  cleanup_free char *a = new_ctr (s, "a", "img1", l1), *b = new_ctr (s, "b", "img2", l2);
  cleanup_free char *c = new_ctr (s, "c", "img1", l1);
  cleanup_strv char **layers = NULL, **images = NULL;
  nook_err err = { 0 };

  CHECK (nook_ctr_in_use (s, &layers, &images, &err) == 0);
  CHECK (strv_len (layers) == 3 && strv_len (images) == 2);
  CHECK_STR (layers[0], "sha256:aa");
  CHECK_STR (layers[1], "sha256:bb");
  CHECK_STR (layers[2], "sha256:cc");
  CHECK_STR (images[0], "img1");
  CHECK_STR (images[1], "img2");
  drop_store (s, dir);
}

static void
test_name_collision (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *id = new_ctr (s, "dup", "img", NULL), *want = NULL;
  char *id2 = NULL, *nm = NULL;
  nook_err err = { 0 };

  CHECK (nook_ctr_new (s, "dup", "img", NULL, &id2, &nm, &err) < 0 && id2 == NULL);
  want = xasprintf ("the container name \"dup\" is already in use by %s. You have to remove that container to be "
                    "able to reuse that name: that name is already in use",
                    id);
  CHECK_STR (err.msg, want);
  CHECK (nook_ctr_new (s, "bad/name", "img", NULL, &id2, &nm, &err) < 0);
  CHECK (strstr (err.msg, "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*") != NULL);
  CHECK (nook_ctr_new (s, "-x", "img", NULL, &id2, &nm, &err) < 0);
  drop_store (s, dir);
}

static void
test_generated_names (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  char *names[60] = { 0 };
  nook_err err = { 0 };

  CHECK (nook_ctr_name_space () >= 3600);
  for (int i = 0; i < 60; i++)
    {
      char *id = NULL;
      CHECK (nook_ctr_new (s, NULL, "img", NULL, &id, &names[i], &err) == 0);
      CHECK (names[i] && strchr (names[i], '_') != NULL);
      free (id);
    }
  for (int i = 0; i < 60; i++)
    for (int j = i + 1; j < 60; j++)
      CHECK (names[i] && names[j] && strcmp (names[i], names[j]) != 0);
  for (int i = 0; i < 60; i++)
    free (names[i]);
  {
    cleanup_free char *late = nook_ctr_name_random (12); /* after many collisions: a digit suffix */
    size_t n = strlen (late);
    CHECK (n > 0 && late[n - 1] >= '0' && late[n - 1] <= '9');
  }
  drop_store (s, dir);
}

static void
test_record (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *id = new_ctr (s, "rec", "img", NULL);
  json_t *rec = NULL;
  nook_err err = { 0 };
  int fd, fd2;

  CHECK (nook_ctr_read (s, id, &rec, &err) == 0);
  CHECK_STR (json_string_value (json_object_get (rec, "Id")), id);
  CHECK_STR (json_string_value (json_object_get (rec, "Name")), "rec");
  json_object_set_new (rec, "State", json_pack ("{s:s}", "Status", "created"));
  fd = nook_ctr_lock (s, id, &err);
  CHECK (fd >= 0);
  /* the lock is exclusive: a second open description cannot take it */
  {
    cleanup_free char *p = xasprintf ("%s/containers/%s/lock", dir, id);
    fd2 = open (p, O_RDWR | O_CLOEXEC);
    CHECK (fd2 >= 0 && flock (fd2, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK);
    close (fd2);
  }
  CHECK (nook_ctr_write (s, id, rec, &err) == 0);
  close (fd);
  json_decref (rec);
  rec = NULL;
  CHECK (nook_ctr_read (s, id, &rec, &err) == 0);
  CHECK_STR (json_string_value (json_object_get (json_object_get (rec, "State"), "Status")), "created");
  json_decref (rec);
  /* bad ids never reach the file system */
  CHECK (nook_ctr_read (s, "../../etc", &rec, &err) < 0 && err.code == ENOENT);
  CHECK (nook_ctr_lock (s, "0000000000000000000000000000000000000000000000000000000000000000", &err) < 0
         && err.code == ENOENT);
  drop_store (s, dir);
}

static void
test_rename (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *a = new_ctr (s, "one", "img", NULL), *b = new_ctr (s, "two", "img", NULL), *found = NULL;
  json_t *rec = NULL;
  nook_err err = { 0 };

  CHECK (nook_ctr_rename (s, a, "two", &err) < 0 && strstr (err.msg, "is already in use by") != NULL);
  CHECK (nook_ctr_rename (s, a, "one", &err) == 0); /* own name: nothing to do */
  CHECK (nook_ctr_rename (s, a, "three", &err) == 0);
  CHECK (nook_ctr_find (s, "one", &found, &err) < 0);
  CHECK (nook_ctr_find (s, "three", &found, &err) == 0);
  CHECK_STR (found, a);
  CHECK (nook_ctr_read (s, a, &rec, &err) == 0);
  CHECK_STR (json_string_value (json_object_get (rec, "Name")), "three");
  json_decref (rec);
  CHECK (nook_ctr_rename (s, b, "bad name", &err) < 0);
  drop_store (s, dir);
}

static void
test_delete (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_free char *a = new_ctr (s, "a", "img1", NULL), *b = new_ctr (s, "b", "img2", NULL), *found = NULL;
  cleanup_free char *file = NULL, *cdir = NULL;
  cleanup_strv char **ids = NULL, **layers = NULL, **images = NULL;
  nook_err err = { 0 };
  struct stat st;

  file = xasprintf ("%s/containers/%s/upper/etc", dir, a);
  CHECK (mkdir (file, 0500) == 0); /* read-only dirs in the upper go too (root) */
  CHECK (nook_ctr_list (s, &ids, &err) == 0 && strv_len (ids) == 2);
  CHECK (ids && ids[0] && ids[1] && strcmp (ids[0], a) == 0 && strcmp (ids[1], b) == 0); /* oldest first */
  CHECK (nook_ctr_delete (s, a, &err) == 0);
  cdir = nook_ctr_dir (s, a);
  CHECK (stat (cdir, &st) < 0 && errno == ENOENT);
  CHECK (nook_ctr_find (s, "a", &found, &err) < 0);
  strv_free (steal_pointer (&ids));
  CHECK (nook_ctr_list (s, &ids, &err) == 0 && strv_len (ids) == 1 && strcmp (ids[0], b) == 0);
  CHECK (nook_ctr_in_use (s, &layers, &images, &err) == 0 && strv_len (images) == 1);
  CHECK (nook_ctr_delete (s, a, &err) < 0 && err.code == ENOENT);
  CHECK (nook_ctr_delete (s, b, &err) == 0);
  strv_free (steal_pointer (&ids));
  CHECK (nook_ctr_list (s, &ids, &err) == 0 && strv_len (ids) == 0);
  drop_store (s, dir);
}

static void
test_concurrent_new (void)
{
  char dir[64];
  struct nook_store *s = new_store (dir);
  cleanup_strv char **ids = NULL;
  nook_err err = { 0 };
  pid_t pids[20];
  int ok = 0;

  fflush (stdout);
  for (int i = 0; i < 20; i++)
    {
      pids[i] = fork ();
      if (pids[i] == 0)
        {
          struct nook_store *cs = NULL;
          char name[16], *id = NULL;
          snprintf (name, sizeof (name), "c%d", i);
          if (nook_store_open (dir, &cs, &err) < 0 || nook_ctr_new (cs, name, "img", NULL, &id, NULL, &err) < 0)
            {
              printf ("    child %d: %s\n", i, err.msg);
              fflush (stdout);
              _exit (1);
            }
          _exit (0);
        }
    }
  for (int i = 0; i < 20; i++)
    {
      int status;
      if (pids[i] > 0 && waitpid (pids[i], &status, 0) == pids[i] && WIFEXITED (status) && WEXITSTATUS (status) == 0)
        ok++;
    }
  CHECK (ok == 20);
  CHECK (nook_ctr_list (s, &ids, &err) == 0 && strv_len (ids) == 20);
  for (int i = 0; i < 20; i++)
    {
      char name[16];
      cleanup_free char *id = NULL;
      snprintf (name, sizeof (name), "c%d", i);
      CHECK (nook_ctr_find (s, name, &id, &err) == 0);
    }
  drop_store (s, dir);
}

/* ---- rootless ---- */

static void
as_test_user (void)
{
  if (setgroups (0, NULL) < 0 || setgid (TEST_UID) < 0 || setuid (TEST_UID) < 0)
    _exit (2);
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0); /* newuidmap checks /proc/PID ownership */
}

__attribute__ ((noreturn)) static void
rootless_new (const char *root, const char *idfile)
{
  struct nook_store *s = NULL;
  nook_err err = { 0 };
  char *id = NULL;

  as_test_user ();
  if (nook_store_open (root, &s, &err) == 0 && nook_ctr_new (s, "rl", "img", NULL, &id, NULL, &err) == 0)
    {
      FILE *f = fopen (idfile, "w");
      fputs (id, f);
      fclose (f);
      _exit (0);
    }
  printf ("    rootless new: %s\n", err.msg);
  fflush (stdout);
  _exit (1);
}

__attribute__ ((noreturn)) static void
rootless_delete (const char *root, const char *id)
{
  struct nook_store *s = NULL;
  nook_err err = { 0 };

  as_test_user ();
  if (nook_store_open (root, &s, &err) == 0 && nook_ctr_delete (s, id, &err) == 0)
    _exit (0);
  printf ("    rootless delete: %s\n", err.msg);
  fflush (stdout);
  _exit (1);
}

static bool
run_child (void (*fn) (const char *, const char *), const char *a, const char *b)
{
  int status = -1;
  pid_t pid;

  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    fn (a, b);
  return waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static void
test_rootless_delete (void)
{
  char dir[64] = "/tmp/nook-ctr-rl-XXXXXX";
  cleanup_free char *root = NULL, *idfile = NULL, *id = NULL, *sub = NULL, *file = NULL, *cdir = NULL;
  nook_err err = { 0 };
  struct stat st;
  size_t len = 0;

  if (geteuid () != 0 || access ("/usr/bin/newuidmap", X_OK) < 0 || access ("/etc/subuid", R_OK) < 0)
    {
      printf ("    skipped: needs root, newuidmap and /etc/subuid\n");
      return;
    }
  CHECK (mkdtemp (dir) != NULL && chown (dir, TEST_UID, TEST_UID) == 0);
  root = xasprintf ("%s/store", dir);
  idfile = xasprintf ("%s/id", dir);
  CHECK (run_child (rootless_new, root, idfile));
  CHECK (nook_read_file_at (AT_FDCWD, idfile, &id, &len, 100, &err) == 0 && len == 64);
  if (id == NULL)
    return;
  cdir = xasprintf ("%s/containers/%s", root, id);
  CHECK (stat (cdir, &st) == 0 && st.st_uid == TEST_UID);
  /* what a container leaves in its upper: a read-only directory owned by a sub-id, with a file */
  sub = xasprintf ("%s/upper/home", cdir);
  file = xasprintf ("%s/upper/home/f", cdir);
  CHECK (mkdir (sub, 0755) == 0 && close (open (file, O_CREAT | O_WRONLY, 0644)) == 0);
  CHECK (chown (file, SUB_START + 5, SUB_START + 5) == 0 && chown (sub, SUB_START + 5, SUB_START + 5) == 0);
  CHECK (chmod (sub, 0500) == 0);
  CHECK (run_child (rootless_delete, root, id));
  CHECK (stat (cdir, &st) < 0 && errno == ENOENT);
  nook_rm_rf_at (AT_FDCWD, dir, &err);
}

int
main (void)
{
  RUN (test_new_and_find);
  RUN (test_ambiguous_index);
  RUN (test_in_use);
  RUN (test_name_collision);
  RUN (test_generated_names);
  RUN (test_record);
  RUN (test_rename);
  RUN (test_delete);
  RUN (test_concurrent_new);
  RUN (test_rootless_delete);
  return HARNESS_END ();
}
