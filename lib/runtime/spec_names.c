/* Name tables of the OCI spec: capabilities, rlimits, namespaces. */
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "runtime/spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Indexed by capability number (linux/capability.h). */
static const char *const cap_names[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

#define N_CAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

int
nook_cap_from_name (const char *name)
{
  if (name == NULL)
    return -1;
  if (strncasecmp (name, "CAP_", 4) == 0)
    name += 4;
  for (int i = 0; i < N_CAPS; i++)
    if (strcasecmp (cap_names[i] + 4, name) == 0)
      return i;
  return -1;
}

const char *
nook_cap_name (int cap)
{
  if (cap < 0 || cap >= N_CAPS)
    return NULL;
  return cap_names[cap];
}

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_CPU", RLIMIT_CPU },           { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_DATA", RLIMIT_DATA },         { "RLIMIT_STACK", RLIMIT_STACK },
  { "RLIMIT_CORE", RLIMIT_CORE },         { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_NPROC", RLIMIT_NPROC },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },   { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },       { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },     { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int
nook_rlimit_from_name (const char *name)
{
  if (name == NULL)
    return -1;
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (strcmp (rlimit_names[i].name, name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

/* Indexed by enum nook_ns_type. */
static const struct
{
  const char *name;
  const char *proc_name;
  int clone_flag;
} ns_names[NOOK_NS_COUNT] = {
  [NOOK_NS_USER] = { "user", "user", CLONE_NEWUSER },
  [NOOK_NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
  [NOOK_NS_PID] = { "pid", "pid", CLONE_NEWPID },
  [NOOK_NS_NET] = { "network", "net", CLONE_NEWNET },
  [NOOK_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
  [NOOK_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
  [NOOK_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
  [NOOK_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

int
nook_ns_from_name (const char *name)
{
  if (name == NULL)
    return -1;
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    if (strcmp (ns_names[i].name, name) == 0)
      return i;
  return -1;
}

const char *
nook_ns_name (int type)
{
  if (type < 0 || type >= NOOK_NS_COUNT)
    return NULL;
  return ns_names[type].name;
}

const char *
nook_ns_proc_name (int type)
{
  if (type < 0 || type >= NOOK_NS_COUNT)
    return NULL;
  return ns_names[type].proc_name;
}

int
nook_ns_clone_flag (int type)
{
  if (type < 0 || type >= NOOK_NS_COUNT)
    return 0;
  return ns_names[type].clone_flag;
}
