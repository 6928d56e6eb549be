/* The default seccomp profile (moby's profiles/seccomp/default.json, as podman ships it) and the reader of
 * Docker-format profiles (--security-opt seccomp=FILE): includes/excludes and archMap are resolved here,
 * so the runtime gets a plain linux.seccomp object.
 *
 * Unknown syscalls (newer than the profile) get ENOSYS, so libcs fall back to older calls; syscalls that
 * exist and are denied by policy get EPERM from an explicit rule. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define CLONE_NS_FLAGS 2114060288ULL /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */

static const char *const allow_names[] = {
  "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod",
  "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
  "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
  "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
  "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
  "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
  "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
  "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
  "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
  "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd",
  "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
  "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
  "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
  "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
  "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
  "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
  "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc",
  "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
  "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
  "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
  "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
  "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
  "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
  "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
  "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
  "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
  "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
  "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
  "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir",
  "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
  "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
  "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
  "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
  "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
  "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
  "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
  "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
  "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
  "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl",
  "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
  "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
  "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
  "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
  "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
  "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
  "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
  "writev", NULL,
};

/* Syscalls that exist and that the default profile denies on purpose: EPERM, not ENOSYS (podman's list,
 * plus everything gated on a capability the process lacks, added at generation time). */
static const char *const denied_names[] = {
  "_sysctl", "acct", "add_key", "afs_syscall", "bdflush", "bpf", "break", "chroot", "clock_settime",
  "clock_settime64", "create_module", "delete_module", "fanotify_init", "finit_module", "fsconfig", "fsmount",
  "fsopen", "fspick", "ftime", "get_kernel_syms", "get_mempolicy", "getpmsg", "gtty", "idle", "init_module",
  "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lock", "lookup_dcookie", "mbind",
  "migrate_pages", "modify_ldt", "mount", "mount_setattr", "move_mount", "move_pages", "mpx", "nfsservctl",
  "nice", "oldfstat", "oldlstat", "oldolduname", "oldstat", "olduname", "open_by_handle_at", "open_tree",
  "pciconfig_iobase", "pciconfig_read", "pciconfig_write", "perf_event_open", "pidfd_getfd", "pivot_root",
  "process_madvise", "process_vm_readv", "process_vm_writev", "prof", "profil", "ptrace", "putpmsg",
  "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "security", "set_mempolicy",
  "set_mempolicy_home_node", "setdomainname", "sethostname", "setns", "settimeofday", "sgetmask", "ssetmask",
  "stime", "stty", "swapoff", "swapon", "syslog", "sysfs", "tuxcall", "umount", "umount2", "unshare",
  "uselib", "userfaultfd", "ustat", "vhangup", "vm86", "vm86old", "vserver", NULL,
};

#define N(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct dflt_rule
{
  const char *const *names;
  uint32_t errno_ret;       /* 0: SCMP_ACT_ALLOW; else SCMP_ACT_ERRNO with it */
  int arg;                  /* -1: no argument condition */
  uint64_t value, value_two;
  const char *op;
  const char *incl_cap, *excl_cap, *incl_arches, *excl_arches, *min_kernel; /* arches: space-separated */
};

#define NO_ARG -1, 0, 0, NULL

static const struct dflt_rule dflt_rules[] = {
  { N ("process_vm_readv", "process_vm_writev", "ptrace"), 0, NO_ARG, NULL, NULL, NULL, NULL, "4.8" },
  { N ("socket"), 0, 0, 40, 0, "SCMP_CMP_NE" },
  { N ("personality"), 0, 0, 0, 0, "SCMP_CMP_EQ" },
  { N ("personality"), 0, 0, 8, 0, "SCMP_CMP_EQ" },
  { N ("personality"), 0, 0, 131072, 0, "SCMP_CMP_EQ" },
  { N ("personality"), 0, 0, 131080, 0, "SCMP_CMP_EQ" },
  { N ("personality"), 0, 0, 4294967295ULL, 0, "SCMP_CMP_EQ" },
  { N ("sync_file_range2", "swapcontext"), 0, NO_ARG, NULL, NULL, "ppc64le" },
  { N ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"), 0,
    NO_ARG, NULL, NULL, "arm arm64" },
  { N ("arch_prctl"), 0, NO_ARG, NULL, NULL, "amd64 x32" },
  { N ("modify_ldt"), 0, NO_ARG, NULL, NULL, "amd64 x32 x86" },
  { N ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), 0, NO_ARG, NULL, NULL, "s390 s390x" },
  { N ("riscv_flush_icache"), 0, NO_ARG, NULL, NULL, "riscv64" },
  { N ("open_by_handle_at"), 0, NO_ARG, "CAP_DAC_READ_SEARCH" },
  { N ("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
       "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
       "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
    0, NO_ARG, "CAP_SYS_ADMIN" },
  { N ("clone"), 0, 0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), 0, 1, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", "s390 s390x" },
  /* nook: clone with a namespace flag is EPERM (moby's default action), not the ENOSYS of unknown calls */
  { N ("clone"), EPERM, 0, 0x00020000, 0x00020000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), EPERM, 0, 0x02000000, 0x02000000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), EPERM, 0, 0x04000000, 0x04000000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), EPERM, 0, 0x08000000, 0x08000000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), EPERM, 0, 0x10000000, 0x10000000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), EPERM, 0, 0x20000000, 0x20000000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone"), EPERM, 0, 0x40000000, 0x40000000, "SCMP_CMP_MASKED_EQ", NULL, "CAP_SYS_ADMIN", NULL, "s390 s390x" },
  { N ("clone3"), ENOSYS, NO_ARG, NULL, "CAP_SYS_ADMIN" },
  { N ("reboot"), 0, NO_ARG, "CAP_SYS_BOOT" },
  { N ("chroot"), 0, NO_ARG, "CAP_SYS_CHROOT" },
  { N ("delete_module", "init_module", "finit_module"), 0, NO_ARG, "CAP_SYS_MODULE" },
  { N ("acct"), 0, NO_ARG, "CAP_SYS_PACCT" },
  { N ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"), 0, NO_ARG,
    "CAP_SYS_PTRACE" },
  { N ("iopl", "ioperm"), 0, NO_ARG, "CAP_SYS_RAWIO" },
  { N ("settimeofday", "stime", "clock_settime", "clock_settime64"), 0, NO_ARG, "CAP_SYS_TIME" },
  { N ("vhangup"), 0, NO_ARG, "CAP_SYS_TTY_CONFIG" },
  { N ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"), 0, NO_ARG, "CAP_SYS_NICE" },
  { N ("syslog"), 0, NO_ARG, "CAP_SYSLOG" },
  { N ("bpf"), 0, NO_ARG, "CAP_BPF" },
  { N ("perf_event_open"), 0, NO_ARG, "CAP_PERFMON" },
};

/* ---- this machine ---- */

struct machine
{
  const char *native;       /* SCMP_ARCH_X86_64 */
  const char *goarch;       /* amd64: the names "arches" use */
  int kmajor, kminor;
};

static void
machine_get (struct machine *m)
{
  static const struct
  {
    const char *uname, *native, *goarch;
  } table[] = {
    { "x86_64", "SCMP_ARCH_X86_64", "amd64" },   { "aarch64", "SCMP_ARCH_AARCH64", "arm64" },
    { "i686", "SCMP_ARCH_X86", "386" },          { "armv7l", "SCMP_ARCH_ARM", "arm" },
    { "ppc64le", "SCMP_ARCH_PPC64LE", "ppc64le" }, { "s390x", "SCMP_ARCH_S390X", "s390x" },
    { "riscv64", "SCMP_ARCH_RISCV64", "riscv64" },
  };
  struct utsname u;

  *m = (struct machine){ "SCMP_ARCH_X86_64", "amd64", 0, 0 };
  if (uname (&u) < 0)
    return;
  for (size_t i = 0; i < sizeof (table) / sizeof (table[0]); i++)
    if (strcmp (u.machine, table[i].uname) == 0)
      {
        m->native = table[i].native;
        m->goarch = table[i].goarch;
      }
  if (sscanf (u.release, "%d.%d", &m->kmajor, &m->kminor) != 2)
    m->kmajor = m->kminor = 0;
}

/* ---- the default profile in Docker format ---- */

static json_t *
names_json (const char *const *names)
{
  json_t *a = json_array ();
  for (size_t i = 0; names[i] != NULL; i++)
    json_array_append_new (a, json_string (names[i]));
  return a;
}

static json_t *
words_json (const char *words)
{
  json_t *a = json_array ();
  cleanup_free char *copy = xstrdup (words);
  char *save = NULL;

  for (char *w = strtok_r (copy, " ", &save); w != NULL; w = strtok_r (NULL, " ", &save))
    json_array_append_new (a, json_string (w));
  return a;
}

static json_t *
cond_json (const char *cap, const char *arches, const char *min_kernel)
{
  json_t *o = json_object ();
  if (cap != NULL)
    json_object_set_new (o, "caps", words_json (cap));
  if (arches != NULL)
    json_object_set_new (o, "arches", words_json (arches));
  if (min_kernel != NULL)
    json_object_set_new (o, "minKernel", json_string (min_kernel));
  return o;
}

static json_t *
dflt_rule_json (const struct dflt_rule *r)
{
  json_t *o = json_pack ("{s:o}", "names", names_json (r->names));

  json_object_set_new (o, "action", json_string (r->errno_ret ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW"));
  if (r->errno_ret)
    json_object_set_new (o, "errnoRet", json_integer (r->errno_ret));
  if (r->arg >= 0)
    json_object_set_new (o, "args", json_pack ("[{s:i,s:I,s:I,s:s}]", "index", r->arg, "value",
                                               (json_int_t) r->value, "valueTwo", (json_int_t) r->value_two,
                                               "op", r->op));
  json_object_set_new (o, "includes", cond_json (r->incl_cap, r->incl_arches, r->min_kernel));
  json_object_set_new (o, "excludes", cond_json (r->excl_cap, r->excl_arches, NULL));
  return o;
}

static json_t *
default_docker_profile (void)
{
  json_t *rules = json_array ();
  json_t *p = json_pack ("{s:s,s:i}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", ENOSYS);

  json_object_set_new (p, "archMap",
                       json_pack ("[{s:s,s:[s,s]},{s:s,s:[s]}]", "architecture", "SCMP_ARCH_X86_64",
                                  "subArchitectures", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "architecture",
                                  "SCMP_ARCH_AARCH64", "subArchitectures", "SCMP_ARCH_ARM"));
  json_array_append_new (rules, json_pack ("{s:o,s:s}", "names", names_json (allow_names), "action",
                                           "SCMP_ACT_ALLOW"));
  for (size_t i = 0; i < sizeof (dflt_rules) / sizeof (dflt_rules[0]); i++)
    json_array_append_new (rules, dflt_rule_json (&dflt_rules[i]));
  json_object_set_new (p, "syscalls", rules);
  return p;
}

/* ---- Docker format -> OCI ---- */

static bool
in_words (json_t *arr, const char *s)
{
  size_t i;
  json_t *v;

  json_array_foreach (arr, i, v)
    if (json_is_string (v) && strcmp (json_string_value (v), s) == 0)
      return true;
  return false;
}

static bool
has_cap (uint64_t caps, const char *name)
{
  int c = nook_cap_from_name (name);
  return c >= 0 && c < NOOK_CAP_MAX && (caps & (1ULL << c));
}

/* includes: every cap held, our arch listed, kernel new enough.  excludes: any cap held or arch listed. */
static bool
rule_applies (json_t *rule, uint64_t caps, const struct machine *m)
{
  json_t *inc = json_object_get (rule, "includes"), *exc = json_object_get (rule, "excludes"), *v;
  const char *mk = json_string_value (json_object_get (inc, "minKernel"));
  size_t i;

  json_array_foreach (json_object_get (inc, "caps"), i, v)
    if (!json_is_string (v) || !has_cap (caps, json_string_value (v)))
      return false;
  if (json_array_size (json_object_get (inc, "arches")) > 0 && !in_words (json_object_get (inc, "arches"), m->goarch))
    return false;
  if (mk != NULL)
    {
      int maj = 0, min = 0;
      if (sscanf (mk, "%d.%d", &maj, &min) >= 1 && (m->kmajor < maj || (m->kmajor == maj && m->kminor < min)))
        return false;
    }
  json_array_foreach (json_object_get (exc, "caps"), i, v)
    if (json_is_string (v) && has_cap (caps, json_string_value (v)))
      return false;
  return !in_words (json_object_get (exc, "arches"), m->goarch);
}

static json_t *
architectures (json_t *profile, const struct machine *m)
{
  json_t *arches = json_array (), *e, *v;
  size_t i, j;

  json_array_foreach (json_object_get (profile, "archMap"), i, e)
    {
      const char *a = json_string_value (json_object_get (e, "architecture"));
      if (a == NULL || strcmp (a, m->native) != 0)
        continue;
      json_array_append_new (arches, json_string (a));
      json_array_foreach (json_object_get (e, "subArchitectures"), j, v)
        if (json_is_string (v))
          json_array_append (arches, v);
    }
  if (json_array_size (arches) == 0 && json_is_array (json_object_get (profile, "architectures")))
    json_array_extend (arches, json_object_get (profile, "architectures"));
  return arches;
}

static int
rule_names (json_t *rule, size_t idx, json_t **out, nook_err *err)
{
  json_t *names = json_object_get (rule, "names"), *one = json_object_get (rule, "name"), *v;
  size_t i;

  *out = json_array ();
  if (json_is_string (one))
    json_array_append (*out, one);
  json_array_foreach (names, i, v)
    {
      if (!json_is_string (v))
        return nook_error_input (err, "seccomp profile: syscalls[%zu].names[%zu]: expected a string", idx, i);
      json_array_append (*out, v);
    }
  if (json_array_size (*out) == 0)
    return nook_error_input (err, "seccomp profile: syscalls[%zu]: no syscall names", idx);
  return 0;
}

static int
convert_rule (json_t *rule, size_t idx, json_t **out, nook_err *err)
{
  json_t *names = NULL, *v;
  const char *action = json_string_value (json_object_get (rule, "action"));

  *out = NULL;
  if (!json_is_object (rule))
    return nook_error_input (err, "seccomp profile: syscalls[%zu]: expected an object", idx);
  if (action == NULL)
    return nook_error_input (err, "seccomp profile: syscalls[%zu]: action: expected a string", idx);
  if (rule_names (rule, idx, &names, err) < 0)
    {
      json_decref (names);
      return -1;
    }
  *out = json_pack ("{s:o,s:s}", "names", names, "action", action);
  if ((v = json_object_get (rule, "errnoRet")) != NULL && !json_is_null (v))
    json_object_set (*out, "errnoRet", v);
  if (json_array_size (json_object_get (rule, "args")) > 0)
    json_object_set_new (*out, "args", json_deep_copy (json_object_get (rule, "args")));
  return 0;
}

static void
collect_names (json_t *set, json_t *rule)
{
  size_t i;
  json_t *v;

  json_array_foreach (json_object_get (rule, "names"), i, v)
    if (json_is_string (v))
      json_object_set_new (set, json_string_value (v), json_true ());
  if (json_is_string (json_object_get (rule, "name")))
    json_object_set_new (set, json_string_value (json_object_get (rule, "name")), json_true ());
}

/* One EPERM rule: the denied list and what capability rules left out, minus anything another rule names. */
static void
add_errno_fill (json_t *syscalls, json_t *gated)
{
  json_t *used = json_object (), *names = json_array (), *r, *v;
  const char *k;
  size_t i;

  json_array_foreach (syscalls, i, r)
    collect_names (used, r);
  for (i = 0; denied_names[i] != NULL; i++)
    json_object_set_new (gated, denied_names[i], json_true ());
  json_object_foreach (gated, k, v)
    if (json_object_get (used, k) == NULL)
      json_array_append_new (names, json_string (k));
  json_decref (used);
  if (json_array_size (names) == 0)
    {
      json_decref (names);
      return;
    }
  json_array_append_new (syscalls, json_pack ("{s:o,s:s,s:i}", "names", names, "action", "SCMP_ACT_ERRNO",
                                              "errnoRet", EPERM));
}

static int
convert_syscalls (json_t *profile, uint64_t caps, const struct machine *m, json_t *syscalls, json_t *gated,
                  nook_err *err)
{
  json_t *rule, *list = json_object_get (profile, "syscalls");
  size_t i;

  if (list != NULL && !json_is_array (list) && !json_is_null (list))
    return nook_error_input (err, "seccomp profile: syscalls: expected an array");
  json_array_foreach (list, i, rule)
    {
      json_t *out;
      if (!rule_applies (rule, caps, m))
        {
          collect_names (gated, rule);
          continue;
        }
      if (convert_rule (rule, i, &out, err) < 0)
        return -1;
      json_array_append_new (syscalls, out);
    }
  return 0;
}

json_t *
nook_seccomp_from_docker (json_t *profile, uint64_t caps, bool errno_fill, nook_err *err)
{
  json_t *syscalls = json_array (), *gated = json_object (), *out, *v;
  const char *def = json_string_value (json_object_get (profile, "defaultAction"));
  struct machine m;

  machine_get (&m);
  if (!json_is_object (profile) || def == NULL)
    {
      json_decref (syscalls);
      json_decref (gated);
      nook_error_input (err, "seccomp profile: defaultAction: expected a string");
      return NULL;
    }
  if (convert_syscalls (profile, caps, &m, syscalls, gated, err) < 0)
    {
      json_decref (syscalls);
      json_decref (gated);
      return NULL;
    }
  if (errno_fill)
    add_errno_fill (syscalls, gated);
  json_decref (gated);
  out = json_pack ("{s:s,s:o,s:o}", "defaultAction", def, "architectures", architectures (profile, &m),
                   "syscalls", syscalls);
  if ((v = json_object_get (profile, "defaultErrnoRet")) != NULL && json_is_integer (v))
    json_object_set (out, "defaultErrnoRet", v);
  if (json_is_array (json_object_get (profile, "flags")))
    json_object_set (out, "flags", json_object_get (profile, "flags"));
  return out;
}

json_t *
nook_seccomp_default_for (uint64_t caps)
{
  json_t *docker = default_docker_profile ();
  nook_err err;
  json_t *out = nook_seccomp_from_docker (docker, caps, true, &err);

  json_decref (docker);
  return out;
}

/* The default capability set (podman's). */
json_t *
nook_seccomp_default (void)
{
  static const char *const caps[] = { "CHOWN",   "DAC_OVERRIDE", "FOWNER", "FSETID",     "KILL",      "NET_BIND_SERVICE",
                                      "SETFCAP", "SETGID",       "SETPCAP", "SETUID",    "SYS_CHROOT", NULL };
  uint64_t mask = 0;

  for (size_t i = 0; caps[i] != NULL; i++)
    {
      int c = nook_cap_from_name (caps[i]);
      if (c >= 0)
        mask |= 1ULL << c;
    }
  return nook_seccomp_default_for (mask);
}
