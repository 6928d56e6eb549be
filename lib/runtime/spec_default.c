/* `spec` and `features`: the default config.json (as runc/crun write it) and the OCI features document. */
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define NOOK_VERSION "0.1.0"

static const char *const default_caps[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
  NULL,
};

static const char *const masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
  "/sys/devices/virtual/powercap",
  NULL,
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const mount_options[] = {
  "ro",       "rw",         "suid",        "nosuid",        "dev",         "nodev", "exec",    "noexec",   "sync",
  "async",    "dirsync",    "remount",     "mand",          "nomand",      "atime", "noatime", "diratime", "nodiratime",
  "relatime", "norelatime", "strictatime", "nostrictatime", "bind",        "rbind", "private", "rprivate", "shared",
  "rshared",  "slave",      "rslave",      "unbindable",    "runbindable", NULL,
};

static const char *const seccomp_actions[] = {
  "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
  "SCMP_ACT_TRAP",         "SCMP_ACT_TRACE",       NULL,
};

static const char *const seccomp_operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

static const char *const seccomp_archs[] = {
  "SCMP_ARCH_AARCH64",  "SCMP_ARCH_ARM",         "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",       "SCMP_ARCH_X32",
  "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",      NULL,
};

static const char *const seccomp_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  NULL,
};

static json_t *
str_array (const char *const *v)
{
  json_t *a = json_array ();
  for (; *v != NULL; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

/* A JSON array of the NULL-terminated vararg strings. */
static json_t *
strs (const char *first, ...)
{
  json_t *a = json_array ();
  va_list ap;

  va_start (ap, first);
  for (const char *s = first; s != NULL; s = va_arg (ap, const char *))
    json_array_append_new (a, json_string (s));
  va_end (ap);
  return a;
}

static char *
dump (json_t *doc)
{
  char *text = json_dumps (doc, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  char *out = xasprintf ("%s\n", text);
  free (text);
  json_decref (doc);
  return out;
}

static json_t *
default_process (void)
{
  json_t *caps = json_object ();
  json_object_set_new (caps, "bounding", str_array (default_caps));
  json_object_set_new (caps, "effective", str_array (default_caps));
  json_object_set_new (caps, "permitted", str_array (default_caps));

  return json_pack ("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:o, s:[{s:s, s:i, s:i}], s:b}", "terminal", 1, "user", "uid",
                    0, "gid", 0, "args", strs ("sh", NULL), "env",
                    strs ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL),
                    "cwd", "/", "capabilities", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
                    "noNewPrivileges", 1);
}

static json_t *
mount_entry (const char *dest, const char *type, const char *source, json_t *options)
{
  json_t *m = json_pack ("{s:s, s:s, s:s}", "destination", dest, "type", type, "source", source);
  if (options != NULL)
    json_object_set_new (m, "options", options);
  return m;
}

static json_t *
default_mounts (bool rootless)
{
  json_t *m = json_array ();

  json_array_append_new (m, mount_entry ("/proc", "proc", "proc", NULL));
  json_array_append_new (
      m, mount_entry ("/dev", "tmpfs", "tmpfs", strs ("nosuid", "strictatime", "mode=755", "size=65536k", NULL)));
  json_array_append_new (m, mount_entry ("/dev/pts", "devpts", "devpts",
                                         strs ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                               rootless ? NULL : "gid=5", NULL)));
  json_array_append_new (m, mount_entry ("/dev/shm", "tmpfs", "shm",
                                         strs ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL)));
  json_array_append_new (m, mount_entry ("/dev/mqueue", "mqueue", "mqueue", strs ("nosuid", "noexec", "nodev", NULL)));
  if (rootless)
    json_array_append_new (
        m, mount_entry ("/sys", "none", "/sys", strs ("rbind", "nosuid", "noexec", "nodev", "ro", NULL)));
  else
    {
      json_array_append_new (m, mount_entry ("/sys", "sysfs", "sysfs", strs ("nosuid", "noexec", "nodev", "ro", NULL)));
      json_array_append_new (m, mount_entry ("/sys/fs/cgroup", "cgroup", "cgroup",
                                             strs ("nosuid", "noexec", "nodev", "relatime", "ro", NULL)));
    }
  return m;
}

static json_t *
default_linux (bool rootless, uid_t uid, gid_t gid)
{
  json_t *lx = json_object (), *ns = json_array ();
  /* runc's set: no cgroup namespace (configs and tests written for runc add one themselves, and a
   * namespace listed twice is an error). */
  const char *const *names = rootless ? (const char *const[]){ "pid", "ipc", "uts", "mount", "user", NULL }
                                      : (const char *const[]){ "pid", "network", "ipc", "uts", "mount", NULL };

  for (; *names != NULL; names++)
    json_array_append_new (ns, json_pack ("{s:s}", "type", *names));
  json_object_set_new (lx, "namespaces", ns);
  if (rootless)
    {
      json_object_set_new (lx, "uidMappings",
                           json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)uid, "size", 1));
      json_object_set_new (lx, "gidMappings",
                           json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)gid, "size", 1));
    }
  else
    json_object_set_new (lx, "resources", json_pack ("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
  json_object_set_new (lx, "maskedPaths", str_array (masked_paths));
  json_object_set_new (lx, "readonlyPaths", str_array (readonly_paths));
  return lx;
}

char *
nook_spec_default (bool rootless, uid_t uid, gid_t gid)
{
  json_t *doc = json_object ();

  json_object_set_new (doc, "ociVersion", json_string ("1.0.2-dev"));
  json_object_set_new (doc, "process", default_process ());
  json_object_set_new (doc, "root", json_pack ("{s:s, s:b}", "path", "rootfs", "readonly", 1));
  json_object_set_new (doc, "hostname", json_string ("nook"));
  json_object_set_new (doc, "mounts", default_mounts (rootless));
  json_object_set_new (doc, "linux", default_linux (rootless, uid, gid));
  return dump (doc);
}

/* A host LSM is on when its securityfs/sysfs knob says so. */
static bool
apparmor_enabled (void)
{
  cleanup_free char *text = NULL;
  nook_err ignored;

  if (nook_read_file_at (AT_FDCWD, "/sys/module/apparmor/parameters/enabled", &text, NULL, 16, &ignored) < 0)
    return false;
  return text[0] == 'Y';
}

static bool
selinux_enabled (void)
{
  return access ("/sys/fs/selinux/enforce", F_OK) == 0;
}

static json_t *
all_cap_names (void)
{
  json_t *a = json_array ();
  for (int i = 0; nook_cap_name (i) != NULL; i++)
    json_array_append_new (a, json_string (nook_cap_name (i)));
  return a;
}

/* What runc and crun report: their own version and libseccomp's. */
static json_t *
features_annotations (void)
{
  const struct scmp_version *v = seccomp_version ();
  json_t *a = json_pack ("{s:s,s:s}", "io.github.nook.version", NOOK_VERSION, "io.github.seccomp.libseccomp.version",
                         "");
  char buf[64];

  if (v != NULL)
    {
      snprintf (buf, sizeof (buf), "%u.%u.%u", v->major, v->minor, v->micro);
      json_object_set_new (a, "io.github.seccomp.libseccomp.version", json_string (buf));
    }
  return a;
}

char *
nook_features_json (void)
{
  json_t *doc = json_object (), *lx = json_object (), *ns = json_array ();

  for (int i = 0; i < NOOK_NS_COUNT; i++)
    json_array_append_new (ns, json_string (nook_ns_name (i)));
  json_object_set_new (lx, "namespaces", ns);
  json_object_set_new (lx, "capabilities", all_cap_names ());
  json_object_set_new (lx, "cgroup",
                       json_pack ("{s:b, s:b, s:b, s:b}", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0));
  json_object_set_new (lx, "seccomp",
                       json_pack ("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
                                  str_array (seccomp_actions), "operators", str_array (seccomp_operators), "archs",
                                  str_array (seccomp_archs), "knownFlags", str_array (seccomp_flags), "supportedFlags",
                                  str_array (seccomp_flags)));
  json_object_set_new (lx, "apparmor", json_pack ("{s:b}", "enabled", apparmor_enabled ()));
  json_object_set_new (lx, "selinux", json_pack ("{s:b}", "enabled", selinux_enabled ()));
  json_object_set_new (lx, "intelRdt", json_pack ("{s:b}", "enabled", 0));
  json_object_set_new (lx, "mountExtensions", json_pack ("{s:{s:b}}", "idmap", "enabled", 0));

  json_object_set_new (doc, "ociVersionMin", json_string ("1.0.0"));
  json_object_set_new (doc, "ociVersionMax", json_string ("1.1.0"));
  json_object_set_new (doc, "hooks", json_array ());
  json_object_set_new (doc, "mountOptions", str_array (mount_options));
  json_object_set_new (doc, "linux", lx);
  json_object_set_new (doc, "potentiallyUnsafeConfigAnnotations", json_array ());
  json_object_set_new (doc, "annotations", features_annotations ());
  return dump (doc);
}
