/* The runtime's verbs: what `nook-runtime create/start/run/state/kill/delete/exec/list/ps` do.
 * Each CLI verb calls exactly one of these. */
#ifndef NOOK_RUNTIME_CONTAINER_H
#define NOOK_RUNTIME_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime/overlay.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "util/error.h"

struct nook_runtime_ctx
{
  const char *root;     /* state root directory */
  bool systemd_cgroup;  /* accepted; cgroups are managed through cgroupfs */
  enum nook_rootless rootless; /* --rootless: auto (0) detects, see nook_rootless() */
};

struct nook_create_opts
{
  const char *id;
  const char *bundle;         /* NULL: current directory */
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  int listen_fds;             /* socket activation (LISTEN_FDS, already counted in preserve_fds): the process
                                 gets LISTEN_FDS=N and LISTEN_PID=1, like runc */
  bool no_pivot;
  bool no_new_keyring;
  bool detach;                /* run -d */
  bool keep;                  /* run --keep: an exited container stays (stopped) until `delete` */
  /* Not from the CLI: what the manager (in-process) uses. */
  const struct nook_overlay *overlay; /* the image rootfs, mounted on root.path by the init inside the
                                         container's namespaces */
  const int *stdio;           /* 3 fds to become the process's 0, 1, 2 (without a terminal); NULL: ours */
  int *master_out;            /* receives the pty master (instead of --console-socket) */
  pid_t *pid_out;             /* receives the init's pid (a child of the caller) */
  int *netns_out, *userns_out; /* receive fds of the init's new network namespace and its user namespace
                                  (-1 when not new): the init is not dumpable until it execs, so a
                                  rootless caller cannot open /proc/PID/ns/ itself */
  /* Called as soon as the init's new network namespace exists, with the fds netns_out/userns_out will
   * receive (borrowed), while the init goes on to mount the rootfs: the caller starts the network beside
   * it (a rootless network helper takes tens of ms to get ready).  Its failure fails the create. */
  int (*on_netns) (void *ud, int netns_fd, int userns_fd, nook_err *err);
  void *on_netns_ud;
};

struct nook_exec_opts
{
  const char *id;
  const char *process_file;   /* -p process.json; NULL: from args and the container's process */
  char **args;                /* NULL-terminated */
  char **env;                 /* -e K=V (added / overriding) */
  const char *cwd;
  const char *user;           /* "UID[:GID]" */
  const gid_t *gids;          /* with SET_GIDS: exactly these supplementary groups (else the spec's) */
  size_t n_gids;
  bool set_gids;
  char **additional_gids;     /* --additional-gids (each may be a comma list): replace the process's */
  char **cgroups;             /* --cgroup [CTRL[,CTRL]:]PATH: sub-cgroups to join (nook_cgroup_enter_sub) */
  char **caps;                /* --cap names added */
  bool tty;
  bool detach;
  bool no_new_privs;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  const int *stdio;           /* 3 fds to become the process's 0, 1, 2 (without a terminal); NULL: ours */
};

int nook_container_create (const struct nook_runtime_ctx *ctx, const struct nook_create_opts *opts, nook_err *err);
int nook_container_start (const struct nook_runtime_ctx *ctx, const char *id, nook_err *err);
/* create + start; attached unless opts->detach.  *STATUS gets the process's shell-style status. */
int nook_container_run (const struct nook_runtime_ctx *ctx, const struct nook_create_opts *opts, int *status,
                        nook_err *err);
int nook_container_state (const struct nook_runtime_ctx *ctx, const char *id, json_t **out, nook_err *err);
int nook_container_kill (const struct nook_runtime_ctx *ctx, const char *id, int sig, bool all, nook_err *err);
int nook_container_delete (const struct nook_runtime_ctx *ctx, const char *id, bool force, nook_err *err);
/* Every container's state, sorted by id. */
int nook_container_list (const struct nook_runtime_ctx *ctx, struct nook_state ***out, size_t *n, nook_err *err);
/* PIDs of the container's processes (host pid namespace). */
int nook_container_pids (const struct nook_runtime_ctx *ctx, const char *id, pid_t **pids, size_t *n,
                         nook_err *err);
/* Freeze (PAUSE) or thaw the container's cgroup; state then reports "paused" / "running". */
int nook_container_pause (const struct nook_runtime_ctx *ctx, const char *id, bool pause, nook_err *err);
/* Apply the limits RES sets to the running container. */
int nook_container_update (const struct nook_runtime_ctx *ctx, const char *id, const struct nook_resources *res,
                           nook_err *err);
/* runc's stats object for `events`, and the OOM kill count so far (OOMS may be NULL). */
int nook_container_stats (const struct nook_runtime_ctx *ctx, const char *id, json_t **stats, uint64_t *ooms,
                          nook_err *err);
int nook_container_exec (const struct nook_runtime_ctx *ctx, const struct nook_exec_opts *opts, int *status,
                         nook_err *err);

/* SIGNAL every process in the mount namespace NSFD (an open /proc/PID/ns/mnt, which keeps the namespace,
 * and so its inode number, from being reused).  Never our own namespace.  For a container that shares the
 * host's pid namespace, whose processes outlive its init. */
void nook_kill_mntns_members (int nsfd, int sig);

/* Internal to lib/runtime: shared by create, exec and the ops. */
struct nook_launch;
int nook_pidfd_for (const struct nook_state *st, nook_err *err);

#endif
