/* nook_mount_opts_parse: config.json mount options -> flags, cleared flags, propagation, data. */
#include <errno.h>
#include <sys/mount.h>

#include "harness.h"
#include "runtime/rootfs.h"

static int
parse (char **opts, struct nook_mount_opts *o, nook_err *err)
{
  nook_err_clear (err);
  return nook_mount_opts_parse (opts, o, err);
}

static void
test_empty (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *none[] = { NULL };

  CHECK (parse (none, &o, &err) == 0);
  CHECK (o.flags == 0 && o.clear == 0 && o.propagation == 0 && o.data == NULL);
  CHECK (parse (NULL, &o, &err) == 0);
  CHECK (o.flags == 0 && o.data == NULL);
}

static void
test_flags (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *opts[] = { "nosuid", "noexec", "nodev", "ro", "strictatime", NULL };

  CHECK (parse (opts, &o, &err) == 0);
  CHECK (o.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_STRICTATIME));
  CHECK (o.clear == 0);
  CHECK (o.data == NULL);
  nook_mount_opts_free (&o);
}

static void
test_clear_and_last_wins (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *opts[] = { "ro", "rw", "suid", "dev", "exec", "nosuid", NULL };

  CHECK (parse (opts, &o, &err) == 0);
  CHECK (o.flags == MS_NOSUID);
  CHECK (o.clear == (MS_RDONLY | MS_NODEV | MS_NOEXEC));
  nook_mount_opts_free (&o);
}

static void
test_bind (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *bind[] = { "bind", NULL };
  char *rbind[] = { "rbind", "ro", NULL };

  CHECK (parse (bind, &o, &err) == 0);
  CHECK (o.flags == MS_BIND);
  CHECK (parse (rbind, &o, &err) == 0);
  CHECK (o.flags == (MS_BIND | MS_REC | MS_RDONLY));
}

static void
test_propagation (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *opts[] = { "rbind", "rprivate", NULL };
  char *two[] = { "shared", "rslave", NULL };
  char *plain[] = { "private", NULL };

  CHECK (parse (opts, &o, &err) == 0);
  CHECK (o.propagation == (MS_PRIVATE | MS_REC));
  CHECK ((o.flags & (MS_PRIVATE | MS_SHARED | MS_SLAVE)) == 0);
  CHECK (parse (two, &o, &err) == 0);
  CHECK (o.propagation == (MS_SLAVE | MS_REC));
  CHECK (parse (plain, &o, &err) == 0);
  CHECK (o.propagation == MS_PRIVATE);
}

static void
test_data (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *opts[] = { "nosuid", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };

  CHECK (parse (opts, &o, &err) == 0);
  CHECK (o.flags == MS_NOSUID);
  CHECK_STR (o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  nook_mount_opts_free (&o);
  CHECK (o.data == NULL);
}

static void
test_ignored (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *opts[] = { "x-systemd.automount", "defaults", "tmpcopyup", "x-foo=bar", "size=65536k", "", NULL };

  CHECK (parse (opts, &o, &err) == 0);
  CHECK (o.flags == 0 && o.clear == 0);
  CHECK_STR (o.data, "size=65536k");
  nook_mount_opts_free (&o);
}

static void
test_idmap (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *idmap[] = { "rbind", "idmap", NULL };
  char *idmap_val[] = { "size=1k", "idmap=uids=0-1000-10;gids=0-1000-10", NULL };
  char *ridmap[] = { "ridmap", NULL };
  char *lookalike[] = { "idmapped", NULL };

  CHECK (parse (idmap, &o, &err) < 0);
  CHECK (err.code == EINVAL);
  CHECK_STR (err.msg, "mount option `idmap` is not supported");
  CHECK (parse (idmap_val, &o, &err) < 0);
  CHECK (o.data == NULL); /* freed on error */
  CHECK_STR (err.msg, "mount option `idmap` is not supported");
  CHECK (parse (ridmap, &o, &err) < 0);
  CHECK_STR (err.msg, "mount option `ridmap` is not supported");
  CHECK (parse (lookalike, &o, &err) == 0);
  CHECK_STR (o.data, "idmapped");
  nook_mount_opts_free (&o);
}

static void
test_recursive_attrs (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *opts[] = { "rbind", "rro", "rnosuid", "rnodev", "rnoexec", NULL };

  CHECK (parse (opts, &o, &err) == 0);
  CHECK (o.flags == (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  CHECK (o.rec_flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  nook_mount_opts_free (&o);
}

/* "rbind,ro": read-only, but only the top mount (runc's meaning); "rro" and "rrw" are recursive, and a later
 * plain option takes a flag back out of the recursive set. */
static void
test_recursive_vs_plain (void)
{
  struct nook_mount_opts o;
  nook_err err;
  char *plain[] = { "rbind", "ro", "nosuid", NULL };
  char *mixed[] = { "rbind", "ro", "rro", "rrw", "rnodev", "dev", "rrelatime", NULL };

  CHECK (parse (plain, &o, &err) == 0);
  CHECK (o.flags == (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID) && o.rec_flags == 0 && o.rec_clear == 0);
  nook_mount_opts_free (&o);
  CHECK (parse (mixed, &o, &err) == 0);
  CHECK (!(o.flags & MS_RDONLY) && (o.clear & MS_RDONLY) && (o.rec_clear & MS_RDONLY));
  CHECK (!(o.rec_flags & MS_NODEV) && (o.clear & MS_NODEV) && !(o.rec_clear & MS_NODEV));
  CHECK (o.rec_flags == MS_RELATIME);
  nook_mount_opts_free (&o);
}

int
main (void)
{
  RUN (test_empty);
  RUN (test_flags);
  RUN (test_clear_and_last_wins);
  RUN (test_bind);
  RUN (test_propagation);
  RUN (test_data);
  RUN (test_ignored);
  RUN (test_idmap);
  RUN (test_recursive_attrs);
  RUN (test_recursive_vs_plain);
  return HARNESS_END ();
}
