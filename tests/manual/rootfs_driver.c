/* Manual driver for nook_rootfs_setup (not built by make; needs root or user namespaces):
 *
 *   gcc -std=gnu17 -D_GNU_SOURCE -Ilib -o /tmp/rootfs_driver tests/manual/rootfs_driver.c build/libnook.a \
 *       $(pkg-config --libs jansson libseccomp)
 *   rootfs_driver [-u] [-n] [-c] [-N] [-R] [-D] [-P PROP] [-H HOSTDIR] ROOTFS CMD [ARG...]
 *
 *   -u  new user namespace mapping only the caller's uid/gid to 0 (ctx.userns)
 *   -n  new network namespace (ctx.new_netns)     -c  new cgroup namespace (ctx.new_cgroupns)
 *   -N  no pivot (MS_MOVE + chroot)                -R  root.readonly
 *   -D  no tmpfs on /dev (devices are created in the image's own /dev)
 *   -X  DEST:TYPE:SOURCE:OPT,OPT  one more mount (TYPE or SOURCE may be empty)
 *   -P  linux.rootfsPropagation                     -H  a host directory for the bind mount tests
 *                                                       (HOSTDIR/esc, HOSTDIR/file, HOSTDIR/rb)
 *
 * The spec is built by hand (like runc's default spec) plus test mounts; see build_spec(). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/rootfs.h"

struct opts
{
  bool userns, netns, cgroupns, no_pivot, root_ro, no_dev_tmpfs;
  const char *propagation, *hostdir;
  char *extra;
};

#define MAX_MOUNTS 32
static struct nook_mount mounts[MAX_MOUNTS];
static size_t n_mounts;

static void
add_mount (const char *dest, const char *type, const char *src, const char *o1, ...)
{
  static char *optbuf[MAX_MOUNTS][16];
  char **opts = optbuf[n_mounts];
  va_list ap;
  size_t i = 0;

  va_start (ap, o1);
  for (const char *o = o1; o != NULL && i < 15; o = va_arg (ap, const char *))
    opts[i++] = (char *) o;
  va_end (ap);
  opts[i] = NULL;
  mounts[n_mounts++] = (struct nook_mount){ (char *) dest, (char *) type, (char *) src, opts };
}

/* "DEST:TYPE:SOURCE:OPT,OPT" */
static void
add_extra (char *s)
{
  static char *opts[16];
  char *f[4] = { NULL, NULL, NULL, NULL };
  size_t n = 0;

  for (int i = 0; i < 4; i++)
    f[i] = strsep (&s, ":");
  for (char *o = f[3]; o && *o && n < 15;)
    opts[n++] = strsep (&o, ",");
  opts[n] = NULL;
  mounts[n_mounts++] = (struct nook_mount){ f[0], f[1] && *f[1] ? f[1] : NULL, f[2] && *f[2] ? f[2] : NULL, opts };
}

static void
build_spec (struct nook_spec *spec, const struct opts *o)
{
  static char *masked[] = { "/proc/kcore", "/proc/timer_list", "/proc/keys", "/proc/acpi", "/proc/does-not-exist", "/sys/firmware", NULL };
  static char *ro[] = { "/proc/sys", "/proc/bus", NULL };
  static struct nook_device devices[] = {
    { .path = "/dev/myfifo", .type = 'p', .has_mode = true, .mode = 0600 },
    { .path = "/dev/fuse", .type = 'c', .major = 10, .minor = 229, .has_mode = true, .mode = 0666 },
  };
  static char hostfile[4096], hostsub[4096], hostesc[4096];

  add_mount ("/proc", "proc", "proc", NULL);
  if (!o->no_dev_tmpfs)
    add_mount ("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k", NULL);
  if (o->userns)
    add_mount ("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
               NULL);
  else
    add_mount ("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
               "gid=5", NULL);
  add_mount ("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL);
  add_mount ("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev", NULL);
  add_mount ("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro", NULL);
  add_mount ("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro", NULL);
  if (o->hostdir)
    {
      snprintf (hostfile, sizeof (hostfile), "%s/file", o->hostdir);
      snprintf (hostsub, sizeof (hostsub), "%s/rb", o->hostdir);
      snprintf (hostesc, sizeof (hostesc), "%s/esc", o->hostdir);
      /* /escape is a symlink to /../../../tmp/escape in the test image */
      add_mount ("/escape", "bind", hostesc, "bind", "ro", "x-test=1", NULL);
      add_mount ("/etc/hostfile", "bind", hostfile, "bind", "ro", NULL);
      add_mount ("/mnt/rb", NULL, hostsub, "rbind", "ro", "rprivate", NULL);
      add_mount ("/mnt/rw", NULL, hostesc, "bind", NULL);
    }
  if (o->extra)
    add_extra (o->extra);
  spec->mounts = mounts;
  spec->n_mounts = n_mounts;
  spec->masked_paths = masked;
  spec->readonly_paths = ro;
  spec->devices = devices;
  spec->n_devices = o->userns ? 1 : 2; /* no /dev/fuse on the host when rootless, maybe */
  spec->root_readonly = o->root_ro;
  spec->rootfs_propagation = (char *) o->propagation;
}

static void
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY);
  if (fd < 0 || write (fd, text, strlen (text)) < 0)
    {
      perror (path);
      exit (1);
    }
  close (fd);
}

static void
enter_userns (void)
{
  char buf[64];
  uid_t uid = getuid ();
  gid_t gid = getgid ();

  if (unshare (CLONE_NEWUSER) < 0)
    {
      perror ("unshare user");
      exit (1);
    }
  write_file ("/proc/self/setgroups", "deny");
  snprintf (buf, sizeof (buf), "0 %u 1", uid);
  write_file ("/proc/self/uid_map", buf);
  snprintf (buf, sizeof (buf), "0 %u 1", gid);
  write_file ("/proc/self/gid_map", buf);
}

static int
child (const struct opts *o, const char *rootfs, char **argv)
{
  struct nook_spec spec = { 0 };
  struct nook_rootfs_ctx ctx = { .spec = &spec,
                                 .rootfs = rootfs,
                                 .userns = o->userns,
                                 .new_netns = o->netns,
                                 .new_cgroupns = o->cgroupns,
                                 .no_pivot = o->no_pivot };
  nook_err err = { 0 };

  build_spec (&spec, o);
  if (nook_rootfs_setup (&ctx, &err) < 0)
    {
      fprintf (stderr, "rootfs_driver: %s\n", err.msg);
      return 1;
    }
  execv (argv[0], argv);
  perror (argv[0]);
  return 127;
}

int
main (int argc, char **argv)
{
  struct opts o = { 0 };
  int c, flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS, status;

  while ((c = getopt (argc, argv, "+uncNRDP:H:X:")) != -1)
    switch (c)
      {
      case 'u': o.userns = true; break;
      case 'n': o.netns = true; break;
      case 'c': o.cgroupns = true; break;
      case 'N': o.no_pivot = true; break;
      case 'R': o.root_ro = true; break;
      case 'D': o.no_dev_tmpfs = true; break;
      case 'P': o.propagation = optarg; break;
      case 'H': o.hostdir = optarg; break;
      case 'X': o.extra = optarg; break;
      default: return 2;
      }
  if (argc - optind < 2)
    {
      fprintf (stderr, "usage: rootfs_driver [-uncNRD] [-P PROP] [-H DIR] ROOTFS CMD...\n");
      return 2;
    }
  if (o.userns)
    enter_userns ();
  flags |= (o.netns ? CLONE_NEWNET : 0) | (o.cgroupns ? CLONE_NEWCGROUP : 0);
  if (unshare (flags) < 0)
    {
      perror ("unshare");
      return 1;
    }
  pid_t pid = fork ();
  if (pid == 0)
    _exit (child (&o, argv[optind], argv + optind + 1));
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    return 1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}
