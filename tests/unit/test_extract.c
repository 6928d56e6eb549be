/* Layer extraction: tar archives built with libarchive's write API, extracted into temp directories. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "util/digest.h"
#include "runtime/userns.h"
#include "store/extract.h"
#include "util/fs.h"
#include "util/strutil.h"

#define MTIME 1234567890
#define TEST_UID 2000 /* nooktest */

static char tmpl[] = "/tmp/nook-test-extract.XXXXXX";
static char *top;
static int counter;
static bool is_root;

/* ---- building archives ------------------------------------------------------------------------- */

enum comp
{
  COMP_NONE,
  COMP_GZIP,
  COMP_ZSTD,
};

struct ent
{
  const char *path;
  mode_t mode;          /* type | permissions */
  const char *data;     /* regular file content, or symlink target */
  const char *hardlink; /* hardlink target */
  int uid, gid;
  dev_t rdev;
  const char *xattr;    /* "name=value", or the name when XVAL is set */
  const void *xval;
  size_t xlen;
};

static char *
tmp_name (const char *what)
{
  return xasprintf ("%s/%s-%d", top, what, counter++);
}

static void
add_entry (struct archive *a, const struct ent *en)
{
  struct archive_entry *e = archive_entry_new ();
  size_t len = en->data && S_ISREG (en->mode) ? strlen (en->data) : 0;

  archive_entry_set_pathname (e, en->path);
  archive_entry_set_mode (e, en->mode);
  /* Unprivileged runs (no user namespace): "root-owned" entries are owned by the caller. */
  archive_entry_set_uid (e, !is_root && en->uid == 0 ? (int) getuid () : en->uid);
  archive_entry_set_gid (e, !is_root && en->gid == 0 ? (int) getgid () : en->gid);
  archive_entry_set_mtime (e, MTIME, 0);
  if (en->hardlink)
    archive_entry_set_hardlink (e, en->hardlink);
  else
    archive_entry_set_size (e, (la_int64_t) len);
  if (S_ISLNK (en->mode))
    archive_entry_set_symlink (e, en->data);
  if (S_ISCHR (en->mode) || S_ISBLK (en->mode))
    archive_entry_set_rdev (e, en->rdev);
  if (en->xattr && en->xval)
    archive_entry_xattr_add_entry (e, en->xattr, en->xval, en->xlen);
  else if (en->xattr)
    {
      char *kv = xstrdup (en->xattr), *eq = strchr (kv, '=');
      *eq = '\0';
      archive_entry_xattr_add_entry (e, kv, eq + 1, strlen (eq + 1));
      free (kv);
    }
  archive_write_header (a, e);
  if (len)
    archive_write_data (a, en->data, len);
  archive_entry_free (e);
}

static void
add_filter (struct archive *a, enum comp c)
{
  if (c == COMP_GZIP)
    archive_write_add_filter_gzip (a);
  else if (c == COMP_ZSTD)
    archive_write_add_filter_zstd (a);
}

/* A tar file with ENTS (terminated by a NULL path).  Returns its path (allocated). */
static char *
make_tar (const struct ent *ents, enum comp c)
{
  char *path = tmp_name ("tar");
  struct archive *a = archive_write_new ();

  archive_write_set_format_pax_restricted (a);
  add_filter (a, c);
  archive_write_open_filename (a, path);
  for (; ents->path; ents++)
    add_entry (a, ents);
  archive_write_close (a);
  archive_write_free (a);
  return path;
}

/* Compress the file IN as a whole (format raw). */
static char *
compress_file (const char *in, enum comp c)
{
  char *path = tmp_name ("comp");
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  char *data = NULL;
  size_t len = 0;
  nook_err err = { 0 };

  nook_read_file_at (AT_FDCWD, in, &data, &len, 1 << 26, &err);
  archive_write_set_format_raw (a);
  add_filter (a, c);
  archive_write_open_filename (a, path);
  archive_entry_set_pathname (e, "data");
  archive_entry_set_mode (e, S_IFREG | 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_write_header (a, e);
  archive_write_data (a, data, len);
  archive_write_close (a);
  archive_write_free (a);
  archive_entry_free (e);
  free (data);
  return path;
}

/* ---- extracting -------------------------------------------------------------------------------- */

static char *
new_dir (void)
{
  char *d = tmp_name ("layer");
  mkdir (d, 0755);
  return d;
}

static int
extract_opts (const char *tar, const char *dir, const struct nook_extract_opts *o, struct nook_extract_result *r,
              nook_err *err)
{
  int fd = open (tar, O_RDONLY | O_CLOEXEC);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int ret = nook_layer_extract (fd, dfd, o, r, err);
  close (fd);
  close (dfd);
  return ret;
}

static int
extract (const char *tar, const char *dir, nook_err *err)
{
  struct nook_extract_result r;
  return extract_opts (tar, dir, NULL, &r, err);
}

/* Extract ENTS into a new directory; returns it (allocated).  *RET gets the result. */
static char *
extract_ents (const struct ent *ents, int *ret, nook_err *err)
{
  char *tar = make_tar (ents, COMP_NONE);
  char *dir = new_dir ();
  *ret = extract (tar, dir, err);
  free (tar);
  return dir;
}

static char *
read_at (const char *dir, const char *rel)
{
  char *p = xasprintf ("%s/%s", dir, rel), *data = NULL;
  size_t len;
  nook_err err = { 0 };
  if (nook_read_file_at (AT_FDCWD, p, &data, &len, 1 << 20, &err) < 0)
    data = NULL;
  free (p);
  return data;
}

static int
lstat_at (const char *dir, const char *rel, struct stat *st)
{
  char *p = xasprintf ("%s/%s", dir, rel);
  int r = lstat (p, st);
  free (p);
  return r;
}

static bool
contains (const char *s, const char *sub)
{
  if (strstr (s, sub))
    return true;
  printf ("    message `%s` lacks `%s`\n", s, sub);
  return false;
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void
test_regular (void)
{
  const struct ent ents[] = {
    { "./etc", S_IFDIR | 0750 },
    { "./etc/hello", S_IFREG | 0640, "hello\n" },
    { "etc/sub/deep", S_IFREG | 0600, "x" }, /* parent created implicitly */
    { "./", S_IFDIR | 0700 },
    { "etc/F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt", S_IFREG | 0644, "utf8" }, /* pax path */
    { NULL },
  };
  nook_err err = { 0 };
  int ret;
  char *dir = extract_ents (ents, &ret, &err);
  char *data = read_at (dir, "etc/hello");
  struct stat st;

  CHECK (ret == 0);
  CHECK_STR (data, "hello\n");
  CHECK (lstat_at (dir, "etc/hello", &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_mtime == MTIME);
  /* The directory's time is applied after its children were written. */
  CHECK (lstat_at (dir, "etc", &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0750
         && st.st_mtime == MTIME);
  CHECK (lstat_at (dir, "etc/sub", &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0755);
  CHECK (lstat_at (dir, ".", &st) == 0 && (st.st_mode & 07777) == 0755); /* "." is skipped */
  CHECK (lstat_at (dir, "etc/F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt", &st) == 0 && st.st_size == 4);
  free (data);
  free (dir);
}

/* vfs_cap_data v2: cap_net_raw permitted + effective. */
static const unsigned char cap_net_raw[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };

static void
test_owner_setuid (void)
{
  const struct ent ents[] = {
    { "bin/su", S_IFREG | 04755, "#!", NULL, 100, 200 },
    /* chown clears security.capability: the xattr must be set after the owner. */
    { "bin/ping", S_IFREG | 0755, "#!", NULL, 0, 0, 0, "security.capability", cap_net_raw, sizeof (cap_net_raw) },
    { "bin/wall", S_IFREG | 02755, "#!", NULL, 0, 5 },
    { "tmp", S_IFDIR | 01777 },
    { NULL },
  };
  nook_err err = { 0 };
  unsigned char cap[64];
  struct stat st;
  int ret;
  char *dir, *ping;

  if (!is_root)
    SKIP_TEST ("needs root");
  dir = extract_ents (ents, &ret, &err);
  CHECK (ret == 0);
  CHECK (lstat_at (dir, "bin/su", &st) == 0 && (st.st_mode & 07777) == 04755 && st.st_uid == 100
         && st.st_gid == 200);
  CHECK (lstat_at (dir, "bin/wall", &st) == 0 && (st.st_mode & 07777) == 02755 && st.st_gid == 5);
  CHECK (lstat_at (dir, "tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
  ping = xasprintf ("%s/bin/ping", dir);
  CHECK (lgetxattr (ping, "security.capability", cap, sizeof (cap)) == sizeof (cap_net_raw)
         && memcmp (cap, cap_net_raw, sizeof (cap_net_raw)) == 0);
  free (ping);
  free (dir);
}

static void
test_symlink_not_followed (void)
{
  const struct ent ents[] = {
    { "link", S_IFLNK | 0777, "/etc" },
    { "link/passwd", S_IFREG | 0644, "pwned\n" },
    { "link2", S_IFLNK | 0777, "/etc/hostname" },
    { "link2", S_IFREG | 0644, "replaced\n" }, /* replaces the symlink, does not write through it */
    { "rel", S_IFLNK | 0777, "../../../../etc" },
    { "rel/group", S_IFREG | 0644, "pwned\n" },
    { NULL },
  };
  nook_err err = { 0 };
  struct stat before, before2, after, after2, st;
  int ret;
  char *dir, *data, *data2;

  stat ("/etc/passwd", &before);
  stat ("/etc/hostname", &before2);
  dir = extract_ents (ents, &ret, &err);
  stat ("/etc/passwd", &after);
  stat ("/etc/hostname", &after2);
  CHECK (ret == 0);
  if (ret < 0)
    printf ("    %s\n", err.msg);
  CHECK (before.st_size == after.st_size && before.st_mtime == after.st_mtime && before.st_ino == after.st_ino);
  CHECK (before2.st_size == after2.st_size && before2.st_mtime == after2.st_mtime);
  data = read_at (dir, "etc/passwd");
  data2 = read_at (dir, "etc/group");
  CHECK_STR (data, "pwned\n"); /* landed inside the layer */
  CHECK_STR (data2, "pwned\n");
  CHECK (lstat_at (dir, "link", &st) == 0 && S_ISLNK (st.st_mode));
  CHECK (lstat_at (dir, "link2", &st) == 0 && S_ISREG (st.st_mode) && st.st_mtime == MTIME);
  free (data);
  free (data2);
  free (dir);
}

static void
test_hardlink (void)
{
  const struct ent ents[] = {
    { "a/file", S_IFREG | 0644, "data" },
    { "b/link", S_IFREG | 0644, NULL, "./a/file" },
    { "sym", S_IFLNK | 0777, "a/file" },
    { "symlink-hl", S_IFREG | 0644, NULL, "sym" }, /* links the symlink itself */
    { NULL },
  };
  nook_err err = { 0 };
  struct stat s1, s2;
  int ret;
  char *dir = extract_ents (ents, &ret, &err);

  CHECK (ret == 0);
  CHECK (lstat_at (dir, "a/file", &s1) == 0 && lstat_at (dir, "b/link", &s2) == 0 && s1.st_ino == s2.st_ino
         && s1.st_nlink == 2);
  CHECK (lstat_at (dir, "sym", &s1) == 0 && lstat_at (dir, "symlink-hl", &s2) == 0 && s1.st_ino == s2.st_ino
         && S_ISLNK (s2.st_mode));
  free (dir);
}

static void
test_hardlink_rejected (void)
{
  const struct ent escape[] = {
    { "x", S_IFREG | 0644, NULL, "../../x" },
    { NULL },
  };
  const struct ent missing[] = {
    { "x", S_IFREG | 0644, NULL, "nothing/here" },
    { NULL },
  };
  const struct ent absolute[] = {
    { "x", S_IFREG | 0644, NULL, "/etc/passwd" },
    { NULL },
  };
  nook_err err = { 0 };
  int ret;
  char *dir = extract_ents (escape, &ret, &err);
  struct stat st;

  CHECK (ret < 0 && contains (err.msg, "layer entry `x`: hardlink target `../../x` escapes the layer"));
  free (dir);
  dir = extract_ents (missing, &ret, &err);
  CHECK (ret < 0 && contains (err.msg, "hardlink target `nothing/here`") && err.code == ENOENT);
  free (dir);
  dir = extract_ents (absolute, &ret, &err);
  CHECK (ret < 0 && contains (err.msg, "escapes the layer"));
  CHECK (lstat_at (dir, "x", &st) < 0);
  free (dir);
}

static void
test_paths_rejected (void)
{
  static const char *bad[] = { "/etc/passwd", "../x", "a/../../x", "a/..", "./..", NULL };
  for (const char **p = bad; *p; p++)
    {
      const struct ent ents[] = { { *p, S_IFREG | 0644, "x" }, { NULL } };
      nook_err err = { 0 };
      int ret;
      char *dir = extract_ents (ents, &ret, &err);
      char *want = xasprintf ("layer entry `%s`: path escapes the layer", *p);
      CHECK (ret < 0 && contains (err.msg, want));
      free (want);
      free (dir);
    }
}

static void
test_replace (void)
{
  const struct ent ents[] = {
    { "d/inner/file", S_IFREG | 0644, "x" },
    { "d", S_IFREG | 0644, "now a file" }, /* a directory replaced by a file */
    { "f", S_IFREG | 0644, "x" },
    { "f", S_IFDIR | 0711 },               /* a file replaced by a directory */
    { "f/in", S_IFREG | 0644, "y" },
    { "f", S_IFDIR | 0700 },               /* an existing directory is kept */
    { NULL },
  };
  nook_err err = { 0 };
  struct stat st;
  int ret;
  char *dir = extract_ents (ents, &ret, &err);
  char *d = read_at (dir, "d"), *in = read_at (dir, "f/in");

  CHECK (ret == 0);
  CHECK_STR (d, "now a file");
  CHECK_STR (in, "y");
  CHECK (lstat_at (dir, "f", &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0700);
  free (d);
  free (in);
  free (dir);
}

static void
test_special (void)
{
  const struct ent ents[] = {
    { "fifo", S_IFIFO | 0640 },
    { "dev/null", S_IFCHR | 0666, NULL, NULL, 0, 0, makedev (1, 3) },
    { "dev/loop", S_IFBLK | 0660, NULL, NULL, 0, 6, makedev (7, 0) },
    { NULL },
  };
  struct nook_extract_opts o = { .in_userns = true };
  struct nook_extract_result r;
  nook_err err = { 0 };
  struct stat st;
  char *tar = make_tar (ents, COMP_NONE), *dir = new_dir ();

  if (!is_root)
    {
      free (tar);
      free (dir);
      SKIP_TEST ("needs root");
    }
  CHECK (extract_opts (tar, dir, NULL, &r, &err) == 0 && r.skipped_devices == 0);
  CHECK (lstat_at (dir, "fifo", &st) == 0 && S_ISFIFO (st.st_mode) && (st.st_mode & 07777) == 0640);
  CHECK (lstat_at (dir, "dev/null", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3)
         && (st.st_mode & 07777) == 0666);
  CHECK (lstat_at (dir, "dev/loop", &st) == 0 && S_ISBLK (st.st_mode) && st.st_gid == 6);
  free (dir);
  dir = new_dir ();
  CHECK (extract_opts (tar, dir, &o, &r, &err) == 0 && r.skipped_devices == 2);
  CHECK (lstat_at (dir, "dev/null", &st) < 0 && lstat_at (dir, "fifo", &st) == 0);
  free (dir);
  free (tar);
}

static void
test_xattrs (void)
{
  const struct ent ents[] = {
    { "f", S_IFREG | 0644, "x", NULL, 0, 0, 0, "user.nook=value" },
    { "g", S_IFREG | 0644, "x", NULL, 0, 0, 0, "trusted.overlay.opaque=y" }, /* ignored */
    { "d", S_IFDIR | 0755, NULL, NULL, 0, 0, 0, "user.dir=1" },
    { NULL },
  };
  nook_err err = { 0 };
  char buf[64] = "";
  int ret;
  char *dir = extract_ents (ents, &ret, &err);
  char *f = xasprintf ("%s/f", dir), *g = xasprintf ("%s/g", dir), *d = xasprintf ("%s/d", dir);

  CHECK (ret == 0);
  CHECK (lgetxattr (f, "user.nook", buf, sizeof (buf)) == 5 && memcmp (buf, "value", 5) == 0);
  CHECK (lgetxattr (d, "user.dir", buf, sizeof (buf)) == 1);
  CHECK (lgetxattr (g, "trusted.overlay.opaque", buf, sizeof (buf)) < 0);
  free (f);
  free (g);
  free (d);
  free (dir);
}

static void
test_whiteouts (void)
{
  const struct ent ents[] = {
    { "dir/foo", S_IFREG | 0644, "x" },
    { "dir/.wh.foo", S_IFREG | 0644, "" },      /* replaces foo */
    { "dir/.wh.bar", S_IFREG | 0644, "" },      /* nothing there yet */
    { "gone/.wh.x", S_IFREG | 0644, "" },       /* parent created */
    { "opq/.wh..wh..opq", S_IFREG | 0644, "" }, /* directory created and marked */
    { "dir2", S_IFDIR | 0755 },
    { "dir2/.wh..wh..opq", S_IFREG | 0644, "" },
    { NULL },
  };
  nook_err err = { 0 };
  struct stat st;
  char buf[8] = "";
  int ret;
  char *dir, *opq, *dir2;

  if (!is_root)
    SKIP_TEST ("needs root (whiteout devices, trusted.* xattrs)");
  dir = extract_ents (ents, &ret, &err);
  CHECK (ret == 0);
  if (ret < 0)
    printf ("    %s\n", err.msg);
  CHECK (lstat_at (dir, "dir/foo", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
  CHECK (lstat_at (dir, "dir/bar", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
  CHECK (lstat_at (dir, "gone/x", &st) == 0 && S_ISCHR (st.st_mode));
  CHECK (lstat_at (dir, "dir/.wh.foo", &st) < 0 && lstat_at (dir, "opq/.wh..wh..opq", &st) < 0);
  opq = xasprintf ("%s/opq", dir);
  dir2 = xasprintf ("%s/dir2", dir);
  CHECK (lgetxattr (opq, "trusted.overlay.opaque", buf, sizeof (buf)) == 1 && buf[0] == 'y');
  CHECK (lgetxattr (dir2, "trusted.overlay.opaque", buf, sizeof (buf)) == 1 && buf[0] == 'y');
  free (opq);
  free (dir2);
  free (dir);
}

static void
test_opaque_userxattr (void)
{
  const struct ent ents[] = {
    { "d/.wh..wh..opq", S_IFREG | 0644, "" },
    { NULL },
  };
  struct nook_extract_opts o = { .userxattr = true };
  struct nook_extract_result r;
  nook_err err = { 0 };
  char buf[8] = "";
  char *tar = make_tar (ents, COMP_NONE), *dir = new_dir (), *d = xasprintf ("%s/d", dir);

  CHECK (extract_opts (tar, dir, &o, &r, &err) == 0);
  CHECK (lgetxattr (d, "user.overlay.opaque", buf, sizeof (buf)) == 1 && buf[0] == 'y');
  CHECK (lgetxattr (d, "trusted.overlay.opaque", buf, sizeof (buf)) < 0);
  free (d);
  free (dir);
  free (tar);
}

static void
test_whiteouts_rejected (void)
{
  static const char *bad[] = { ".wh..", "a/.wh..", "a/.wh...", ".wh.", ".wh..wh.plnk", "a/.wh..wh..opqx", NULL };
  for (const char **p = bad; *p; p++)
    {
      const struct ent ents[] = { { *p, S_IFREG | 0644, "" }, { NULL } };
      nook_err err = { 0 };
      int ret;
      char *dir = extract_ents (ents, &ret, &err);
      char *want = xasprintf ("layer entry `%s`: ", *p);
      CHECK (ret < 0 && contains (err.msg, want) && contains (err.msg, "whiteout"));
      free (want);
      free (dir);
    }
}

static const struct ent sample[] = {
  { "etc", S_IFDIR | 0755 },
  { "etc/os-release", S_IFREG | 0644, "ID=nook\n" },
  { "bin/sh", S_IFLNK | 0777, "busybox" },
  { NULL },
};

static void
test_diff_id (void)
{
  char *plain = make_tar (sample, COMP_NONE);
  char *comp[2] = { compress_file (plain, COMP_GZIP), compress_file (plain, COMP_ZSTD) };
  char *data = NULL, want[72];
  size_t len = 0;
  nook_err err = { 0 };
  struct nook_extract_result r;
  char *dir = new_dir ();

  nook_read_file_at (AT_FDCWD, plain, &data, &len, 1 << 20, &err);
  nook_sha256_digest (data, len, want);
  CHECK (extract_opts (plain, dir, NULL, &r, &err) == 0);
  CHECK_STR (r.diff_id, want);
  CHECK (r.size == len && len > 0);
  free (dir);
  for (int i = 0; i < 2; i++)
    {
      struct stat st;
      dir = new_dir ();
      CHECK (stat (comp[i], &st) == 0 && (size_t) st.st_size != len);
      CHECK (extract_opts (comp[i], dir, NULL, &r, &err) == 0);
      CHECK_STR (r.diff_id, want);
      CHECK (r.size == len);
      free (dir);
      free (comp[i]);
    }
  free (data);
  free (plain);
}

/* 200 MB of zeros compress to ~200 KB. */
static char *
make_bomb (void)
{
  char *path = tmp_name ("bomb");
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  size_t chunk = 1 << 20;
  char *zeros = xcalloc (chunk, 1);

  archive_write_set_format_pax_restricted (a);
  archive_write_add_filter_gzip (a);
  archive_write_set_filter_option (a, "gzip", "compression-level", "1");
  archive_write_open_filename (a, path);
  archive_entry_set_pathname (e, "zeros");
  archive_entry_set_mode (e, S_IFREG | 0644);
  archive_entry_set_size (e, (la_int64_t) (200 * chunk));
  archive_write_header (a, e);
  for (int i = 0; i < 200; i++)
    archive_write_data (a, zeros, chunk);
  archive_write_close (a);
  archive_write_free (a);
  archive_entry_free (e);
  free (zeros);
  return path;
}

static void
test_bomb (void)
{
  char *bomb = make_bomb (), *dir = new_dir ();
  struct nook_extract_opts o = { .max_bytes = 10 << 20 };
  struct nook_extract_result r;
  nook_err err = { 0 };
  struct stat st;

  CHECK (extract_opts (bomb, dir, &o, &r, &err) < 0);
  CHECK (contains (err.msg, "layer exceeds the size bound of 10485760 bytes (gzip bomb?)"));
  CHECK (lstat_at (dir, "zeros", &st) < 0 || st.st_size <= (10 << 20));
  free (dir);
  free (bomb);
}

static void
test_bound (void)
{
  unsetenv ("NOOK_LAYER_MAX_BYTES");
  CHECK (nook_extract_bound (0) == (UINT64_C (1) << 30));
  CHECK (nook_extract_bound (1000) == (UINT64_C (1) << 30));
  CHECK (nook_extract_bound (UINT64_C (100) << 20) == UINT64_C (200) * (UINT64_C (100) << 20));
  CHECK (nook_extract_bound (UINT64_MAX / 2) == UINT64_MAX);
  setenv ("NOOK_LAYER_MAX_BYTES", "4096", 1);
  CHECK (nook_extract_bound (UINT64_C (100) << 20) == 4096);
  setenv ("NOOK_LAYER_MAX_BYTES", "junk", 1);
  CHECK (nook_extract_bound (0) == (UINT64_C (1) << 30));
  unsetenv ("NOOK_LAYER_MAX_BYTES");
}

static void
write_bytes (const char *path, const void *data, size_t len)
{
  int fd = open (path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  nook_write_all (fd, data, len);
  close (fd);
}

static void
test_not_tar (void)
{
  char *path = tmp_name ("random"), *dir = new_dir ();
  unsigned char junk[4096];
  nook_err err = { 0 };

  srand (42);
  for (size_t i = 0; i < sizeof (junk); i++)
    junk[i] = (unsigned char) rand ();
  write_bytes (path, junk, sizeof (junk));
  CHECK (extract (path, dir, &err) < 0 && contains (err.msg, "layer is not a tar archive: "));
  write_bytes (path, "", 0);
  CHECK (extract (path, dir, &err) < 0 && contains (err.msg, "layer is not a tar archive"));
  free (dir);
  free (path);
}

static void
test_damaged_header (void)
{
  char *plain = make_tar (sample, COMP_NONE), *dir = new_dir ();
  char *data = NULL;
  size_t len = 0;
  nook_err err = { 0 };

  nook_read_file_at (AT_FDCWD, plain, &data, &len, 1 << 20, &err);
  data[512 + 148] ^= 0x7; /* the second header's checksum */
  write_bytes (plain, data, len);
  CHECK (extract (plain, dir, &err) < 0 && contains (err.msg, "layer entry after `etc/`: read tar: "));
  free (data);
  free (dir);
  free (plain);
}

static void
test_truncated_gzip (void)
{
  char *plain = make_tar (sample, COMP_NONE);
  char *gz = compress_file (plain, COMP_GZIP), *dir;
  char *data = NULL;
  size_t len = 0;
  nook_err err = { 0 };

  nook_read_file_at (AT_FDCWD, gz, &data, &len, 1 << 20, &err);
  for (size_t cut = len / 2; cut < len; cut += len / 4)
    {
      write_bytes (gz, data, cut);
      dir = new_dir ();
      CHECK (extract (gz, dir, &err) < 0 && contains (err.msg, "gzip"));
      free (dir);
    }
  /* Only the gzip trailer missing: the tar is complete, the stream is not. */
  write_bytes (gz, data, len - 4);
  dir = new_dir ();
  CHECK (extract (gz, dir, &err) < 0 && contains (err.msg, "gzip"));
  free (dir);
  /* Corrupt deflate data. */
  data[len / 2] ^= 0x55;
  data[len / 2 + 1] ^= 0xaa;
  write_bytes (gz, data, len);
  dir = new_dir ();
  CHECK (extract (gz, dir, &err) < 0);
  free (dir);
  free (data);
  free (gz);
  free (plain);
}

/* ---- rootless ---------------------------------------------------------------------------------- */

struct shared
{
  int ret;
  nook_err err;
  struct nook_extract_result res;
};

struct job
{
  int fd, dfd;
  struct nook_extract_result *res;
};

static int
job_extract (void *ud, nook_err *err)
{
  struct job *j = ud;
  struct nook_extract_opts o = { .in_userns = true, .userxattr = true };
  return nook_layer_extract (j->fd, j->dfd, &o, j->res, err);
}

/* As nooktest: extract TAR into DIR inside a user namespace with the sub-id map. */
static void
rootless_extract (const char *tar, const char *dir, struct shared *sh)
{
  struct nook_idmap u[2], g[2];
  size_t nu, ng;
  struct job j = { .res = &sh->res };
  gid_t gid = TEST_UID;

  if (setgroups (1, &gid) < 0 || setresgid (TEST_UID, TEST_UID, TEST_UID) < 0
      || setresuid (TEST_UID, TEST_UID, TEST_UID) < 0)
    _exit (3);
  j.fd = open (tar, O_RDONLY | O_CLOEXEC);
  j.dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (nook_idmap_for_caller (u, &nu, g, &ng, &sh->err) < 0)
    _exit (4);
  sh->ret = nook_userns_run (u, nu, g, ng, false, job_extract, &j, &sh->err);
  _exit (0);
}

static int
run_rootless (const char *tar, const char *dir, struct shared *sh)
{
  int status;
  pid_t pid;

  memset (sh, 0, sizeof (*sh));
  sh->ret = -2;
  pid = fork ();
  if (pid == 0)
    rootless_extract (tar, dir, sh);
  waitpid (pid, &status, 0);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    printf ("    rootless child exited with %d\n", status);
  return sh->ret;
}

static void
test_rootless (void)
{
  const struct ent ents[] = {
    { "etc", S_IFDIR | 0755 },
    { "etc/owned", S_IFREG | 0640, "x", NULL, 100, 101 },
    { "etc/rootfile", S_IFREG | 04755, "x", NULL, 0, 0 },
    { "dev/null", S_IFCHR | 0666, NULL, NULL, 0, 0, makedev (1, 3) },
    { "etc/.wh.gone", S_IFREG | 0644, "" },
    { "opq/.wh..wh..opq", S_IFREG | 0644, "" },
    { "etc/hard", S_IFREG | 0644, NULL, "etc/owned" },
    { "etc/sym", S_IFLNK | 0777, "owned", NULL, 100, 101 },
    { "fifo", S_IFIFO | 0600, NULL, NULL, 100, 101 },
    { "bin/ping", S_IFREG | 0755, "#!", NULL, 0, 0, 0, "security.capability", cap_net_raw, sizeof (cap_net_raw) },
    { NULL },
  };
  const struct ent unmapped[] = {
    { "far", S_IFREG | 0644, "x", NULL, 70000, 0 },
    { NULL },
  };
  struct shared *sh;
  struct stat st;
  unsigned char cap[64];
  char buf[8] = "";
  char *tar, *dir, *opq;

  if (!is_root || access ("/usr/bin/newuidmap", X_OK) != 0)
    SKIP_TEST ("needs root and newuidmap");
  sh = mmap (NULL, sizeof (*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  tar = make_tar (ents, COMP_GZIP);
  dir = new_dir ();
  CHECK (chown (dir, TEST_UID, TEST_UID) == 0);
  CHECK (run_rootless (tar, dir, sh) == 0);
  if (sh->ret != 0)
    printf ("    %s\n", sh->err.msg);
  CHECK (lstat_at (dir, "etc/owned", &st) == 0 && st.st_uid == 200000 + 99 && st.st_gid == 200000 + 100
         && (st.st_mode & 07777) == 0640);
  CHECK (lstat_at (dir, "etc/rootfile", &st) == 0 && st.st_uid == TEST_UID && (st.st_mode & 07777) == 04755);
  CHECK (lstat_at (dir, "dev/null", &st) < 0);
  CHECK (lstat_at (dir, "etc/gone", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
  opq = xasprintf ("%s/opq", dir);
  CHECK (lgetxattr (opq, "user.overlay.opaque", buf, sizeof (buf)) == 1 && buf[0] == 'y');
  CHECK (lstat_at (dir, "etc/hard", &st) == 0 && st.st_nlink == 2);
  CHECK (lstat_at (dir, "etc/sym", &st) == 0 && S_ISLNK (st.st_mode) && st.st_uid == 200000 + 99);
  CHECK (lstat_at (dir, "fifo", &st) == 0 && S_ISFIFO (st.st_mode) && st.st_gid == 200000 + 100);
  free (opq);
  opq = xasprintf ("%s/bin/ping", dir);
  CHECK (lgetxattr (opq, "security.capability", cap, sizeof (cap)) > 0); /* v3, rooted at the namespace */
  free (opq);
  free (tar);
  free (dir);

  tar = make_tar (unmapped, COMP_NONE);
  dir = new_dir ();
  CHECK (chown (dir, TEST_UID, TEST_UID) == 0);
  CHECK (run_rootless (tar, dir, sh) < 0);
  CHECK (contains (sh->err.msg, "layer entry `far`: uid 70000 is not mapped in the user namespace: potentially "
                                "insufficient UIDs or GIDs available"));
  free (tar);
  free (dir);
  munmap (sh, sizeof (*sh));
}

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  while (d && readdir (d))
    n++;
  if (d)
    closedir (d);
  return n;
}

static int fds_at_start;

static void
test_no_fd_leak (void)
{
  CHECK (count_fds () == fds_at_start);
}

int
main (void)
{
  nook_err err = { 0 };

  is_root = geteuid () == 0;
  top = mkdtemp (tmpl);
  chmod (top, 0755);
  fds_at_start = count_fds ();
  RUN (test_regular);
  RUN (test_owner_setuid);
  RUN (test_symlink_not_followed);
  RUN (test_hardlink);
  RUN (test_hardlink_rejected);
  RUN (test_paths_rejected);
  RUN (test_replace);
  RUN (test_special);
  RUN (test_xattrs);
  RUN (test_whiteouts);
  RUN (test_opaque_userxattr);
  RUN (test_whiteouts_rejected);
  RUN (test_diff_id);
  RUN (test_bomb);
  RUN (test_bound);
  RUN (test_not_tar);
  RUN (test_damaged_header);
  RUN (test_truncated_gzip);
  RUN (test_rootless);
  RUN (test_no_fd_leak);
  nook_rm_rf_at (AT_FDCWD, top, &err);
  return HARNESS_END ();
}
