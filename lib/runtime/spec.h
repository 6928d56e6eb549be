/* The OCI runtime spec (config.json), parsed into plain C structs.
 *
 * Parsing checks types and values and names the field on error ("config.json: process.user.uid: ...").
 * Unknown keys are ignored (the spec says so); known keys nook cannot honour are an error naming
 * them (hooks, linux.intelRdt, ...), never silently dropped.  All strings are owned by the spec. */
#ifndef NOOK_RUNTIME_SPEC_H
#define NOOK_RUNTIME_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define NOOK_CAP_MAX 64 /* bit i of a mask = capability number i */

struct nook_idmap
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct nook_rlimit
{
  int resource; /* RLIMIT_* */
  uint64_t soft;
  uint64_t hard;
};

struct nook_caps
{
  uint64_t bounding, effective, permitted, inheritable, ambient;
};

struct nook_user
{
  uint32_t uid, gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  mode_t umask;
};

struct nook_process
{
  char **args;                /* NULL-terminated, at least one element */
  char **env;                 /* NULL-terminated, may be empty */
  char *cwd;                  /* absolute */
  struct nook_user user;
  bool terminal;
  unsigned int console_height, console_width; /* 0: not given */
  bool no_new_privileges;
  bool has_caps;              /* false: process.capabilities absent (all sets empty) */
  struct nook_caps caps;
  struct nook_rlimit *rlimits;
  size_t n_rlimits;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *apparmor_profile;     /* NULL when absent */
  char *selinux_label;        /* NULL when absent */
};

struct nook_mount
{
  char *destination;          /* absolute path inside the container */
  char *type;                 /* may be NULL (bind mounts) */
  char *source;               /* may be NULL */
  char **options;             /* NULL-terminated, may be empty */
};

enum nook_ns_type
{
  NOOK_NS_USER = 0, /* keep user first: it is created/joined before the others */
  NOOK_NS_MOUNT,
  NOOK_NS_PID,
  NOOK_NS_NET,
  NOOK_NS_IPC,
  NOOK_NS_UTS,
  NOOK_NS_CGROUP,
  NOOK_NS_TIME,
  NOOK_NS_COUNT
};

struct nook_ns
{
  bool enabled;  /* listed in linux.namespaces */
  char *path;    /* join this one instead of creating; NULL: create new */
};

struct nook_device
{
  char *path;    /* absolute, inside the container */
  char type;     /* 'c', 'b', 'u' (= c) or 'p' */
  int64_t major, minor;
  bool has_mode;
  mode_t mode;   /* permission bits */
  bool has_uid, has_gid;
  uint32_t uid, gid;
};

struct nook_kv
{
  char *key;
  char *value;
};

struct nook_seccomp_arg
{
  unsigned int index;
  uint64_t value;
  uint64_t value_two;
  char *op;      /* "SCMP_CMP_EQ", ... as written */
};

struct nook_seccomp_rule
{
  char **names;              /* NULL-terminated */
  char *action;              /* "SCMP_ACT_ERRNO", ... as written */
  bool has_errno_ret;
  uint32_t errno_ret;
  struct nook_seccomp_arg *args;
  size_t n_args;
};

struct nook_seccomp
{
  char *default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  char **architectures;      /* NULL-terminated, may be empty: "SCMP_ARCH_X86_64", ... */
  char **flags;              /* NULL-terminated, may be empty: "SECCOMP_FILTER_FLAG_LOG", ... */
  struct nook_seccomp_rule *rules;
  size_t n_rules;
  char *listener_path;       /* seccomp notify: the agent's unix socket (NULL: none) */
  char *listener_metadata;   /* passed to the agent as "metadata" */
};

struct nook_device_rule      /* linux.resources.devices (cgroup device controller) */
{
  bool allow;
  char type;                 /* 'a', 'c' or 'b' */
  int64_t major, minor;      /* -1: any */
  char access[4];            /* subset of "rwm" */
};

struct nook_resources
{
  /* memory (bytes); 0 = unset; -1 = unlimited where the spec allows it */
  int64_t memory_limit, memory_reservation, memory_swap;
  bool has_memory_limit, has_memory_reservation, has_memory_swap;
  /* pids */
  bool has_pids_limit;
  int64_t pids_limit;        /* <= 0: unlimited */
  /* cpu */
  bool has_cpu_shares, has_cpu_quota, has_cpu_period;
  uint64_t cpu_shares;
  int64_t cpu_quota;
  uint64_t cpu_period;
  char *cpu_cpus, *cpu_mems; /* cpuset strings, NULL when absent */
  struct nook_device_rule *devices;
  size_t n_devices;
  struct nook_kv *unified;   /* linux.resources.unified (cgroup v2 files) */
  size_t n_unified;
};

enum
{
  NOOK_TIME_MONOTONIC,
  NOOK_TIME_BOOTTIME,
};

struct nook_spec
{
  char *oci_version;
  struct nook_process *process; /* may be NULL only for specs that are never started */
  char *root_path;              /* as written: relative to the bundle or absolute */
  bool root_readonly;
  char *hostname, *domainname;  /* NULL when absent */
  struct nook_mount *mounts;
  size_t n_mounts;

  /* linux */
  struct nook_ns namespaces[NOOK_NS_COUNT];
  struct nook_idmap *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  char **masked_paths, **readonly_paths; /* NULL-terminated, may be empty */
  struct nook_kv *sysctl;
  size_t n_sysctl;
  char *rootfs_propagation;     /* NULL: default (rslave for the rootfs parent, like runc) */
  struct nook_device *devices;
  size_t n_devices;
  struct nook_seccomp *seccomp; /* NULL: no filter */
  char *cgroups_path;           /* NULL: runtime's choice */
  struct nook_resources resources;
  char *mount_label;
  /* linux.timeOffsets: written to /proc/self/timens_offsets when a time namespace is created */
  struct
  {
    bool set;
    int64_t secs;
    uint32_t nanosecs;
  } time_offsets[2]; /* NOOK_TIME_MONOTONIC, NOOK_TIME_BOOTTIME */
  struct nook_kv *annotations;
  size_t n_annotations;
};

/* Parse a config.json document.  WHAT names it in errors ("config.json"). */
int nook_spec_parse (const char *text, size_t len, const char *what, struct nook_spec **out, nook_err *err);
/* Read and parse BUNDLE/config.json. */
int nook_spec_load (const char *bundle, struct nook_spec **out, nook_err *err);
/* Parse a "process" object (config.json's, or exec's process.json).  WHAT prefixes field names. */
int nook_process_parse (json_t *obj, const char *what, struct nook_process **out, nook_err *err);
void nook_spec_free (struct nook_spec *spec);
/* Parse a LinuxResources object (`update --resources`).  Errors name fields "linux.resources.*". */
int nook_resources_parse (json_t *obj, const char *what, struct nook_resources *out, nook_err *err);
void nook_resources_free (struct nook_resources *r);
void nook_process_free (struct nook_process *p);

/* Capability names ("CAP_CHOWN" or "chown") <-> numbers.  -1 when unknown. */
int nook_cap_from_name (const char *name);
const char *nook_cap_name (int cap); /* "CAP_CHOWN"; NULL when unknown */
/* RLIMIT_* names ("RLIMIT_NOFILE") -> resource number; -1 when unknown. */
int nook_rlimit_from_name (const char *name);
/* Namespace type names as in config.json ("pid", "network", ...) and their CLONE_NEW* flags. */
int nook_ns_from_name (const char *name);   /* enum nook_ns_type or -1 */
const char *nook_ns_name (int type);        /* config.json name */
const char *nook_ns_proc_name (int type);   /* name under /proc/PID/ns: "user", "mnt", "net", ... */
int nook_ns_clone_flag (int type);          /* CLONE_NEWUSER, ... */
/* The container gets a mount namespace of its own (listed without a path).  Only then may the runtime
 * mount, pivot_root or unmount: any other mount namespace belongs to the caller or to someone else. */
static inline bool
nook_spec_owns_mountns (const struct nook_spec *spec)
{
  return spec->namespaces[NOOK_NS_MOUNT].enabled && spec->namespaces[NOOK_NS_MOUNT].path == NULL;
}

/* A default config.json as runc/crun `spec` writes it (ROOTLESS: user namespace with a single mapping of
 * UID/GID, no network namespace, sysfs bound, no cgroup limits).  Returns an allocated JSON text. */
char *nook_spec_default (bool rootless, uid_t uid, gid_t gid);
/* The OCI features document (`features` verb).  Returns an allocated JSON text. */
char *nook_features_json (void);

#endif
