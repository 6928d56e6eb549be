/* Process security and identity: seccomp, capabilities, user/groups, rlimits, LSM labels, sysctl,
 * hostname, and the fd hygiene before execve.
 *
 * Seccomp is compiled in the runtime (parent) before any fork, so a bad profile is an error before
 * anything exists, and the container's init only installs the ready BPF program. */
#ifndef NOOK_RUNTIME_SECURITY_H
#define NOOK_RUNTIME_SECURITY_H

#include <jansson.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "util/error.h"

struct nook_seccomp_prog
{
  struct sock_filter *filter;
  unsigned short len;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
  bool notify;        /* set by the caller: load with a notify listener and send its fd over NOTIFY_SOCK */
  int notify_sock;    /* a sync socket to the runtime: NOOK_SYNC_SECCOMP_FD, then the fd */
};

/* In the runtime: hand the notify fd NOTIFY_FD of process PID to the agent at S->listener_path, with the
 * container's STATE (the runtime spec's containerProcessState, fds ["seccompFd"]). */
int nook_seccomp_notify_send (const struct nook_seccomp *s, int notify_fd, pid_t pid, json_t *state, nook_err *err);

/* Compile linux.seccomp with libseccomp.  Unknown syscall names are skipped (profiles list syscalls of
 * many kernels); unknown actions, operators, architectures or flags are errors naming them. */
int nook_seccomp_compile (const struct nook_seccomp *s, struct nook_seccomp_prog *out, nook_err *err);
void nook_seccomp_prog_free (struct nook_seccomp_prog *p);
/* The same through the caller's private cache of compiled programs (see seccomp_cache.c). */
int nook_seccomp_compile_cached (const struct nook_seccomp *s, struct nook_seccomp_prog *out, nook_err *err);
int nook_seccomp_load (const struct nook_seccomp_prog *p, nook_err *err);

/* In the runtime, before the container's namespaces exist: oom_score_adj (written while we are still
 * privileged in the host namespaces). */
int nook_process_prepare (const struct nook_process *p, nook_err *err);

/* In the container's init, after its namespaces exist, before pivot_root: hostname, domainname and
 * linux.sysctl (namespaced keys only: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.* when the
 * network namespace is the container's own, kernel.hostname/domainname with a UTS namespace; a key or
 * value that could reach a second file is rejected). */
int nook_linux_setup (const struct nook_spec *spec, bool new_uts, bool new_net, bool new_ipc, nook_err *err);

/* The last steps before execve, in this order: rlimits, umask, LSM exec labels, cwd (chdir, then checked
 * to be inside the container's root), supplementary groups + gid + uid (keeping caps), capabilities
 * (bounding drop, then effective/permitted/inheritable, then ambient), no_new_privs, seccomp (before the
 * uid/caps change when no_new_privs is false, since the filter then needs CAP_SYS_ADMIN; last otherwise),
 * and every fd >= 3 + PRESERVE_FDS marked close-on-exec.  SETGROUPS_ALLOWED is false for a single-id
 * rootless mapping, where additionalGids cannot be set. */
int nook_process_finalize (const struct nook_process *p, const struct nook_seccomp_prog *prog, int preserve_fds,
                           bool setgroups_allowed, nook_err *err);

/* execve the process: args[0] looked up in PATH from the process's env when it has no '/'.
 * Returns only on failure: err->status is 127 (not found) or 126 (not executable). */
int nook_process_exec (const struct nook_process *p, nook_err *err);
/* At create, inside the container's root: the executable exists (in $PATH when it has no '/'), as runc and
 * crun check before `start`.  Status 127 when not: engines map it to "command not found". */
int nook_process_check_executable (const struct nook_process *p, nook_err *err);

/* Whether an LSM is active on this host (for apparmorProfile / selinuxLabel). */
bool nook_apparmor_enabled (void);
bool nook_selinux_enabled (void);

#endif
