/* Cgroups for containers: cgroup v2 (unified), v1, and the hybrid layout (controllers on v1, an empty
 * or nearly empty unified hierarchy at /sys/fs/cgroup/unified).  Never assume one.
 *
 * Placement always happens where the host lets us write (root: always; rootless: a delegated v2 subtree,
 * the closest writable ancestor of our own cgroup).  Limits (linux.resources) are applied where the
 * controllers are available to us; where they are not (rootless on v1 or without delegation), one warning
 * on stderr and the container runs without them, like podman. */
#ifndef NOOK_RUNTIME_CGROUP_H
#define NOOK_RUNTIME_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "util/error.h"

enum nook_cgroup_mode
{
  NOOK_CGROUP_V2,
  NOOK_CGROUP_V1,
  NOOK_CGROUP_HYBRID,
};

struct nook_cgroup
{
  enum nook_cgroup_mode mode;
  char *unified;       /* absolute directory in the v2 hierarchy, or NULL */
  char **v1;           /* NULL-terminated absolute directories, one per v1 hierarchy we joined */
  bool limits_applied;
};

enum nook_cgroup_mode nook_cgroup_detect (void);

/* Create the container's cgroup(s) for ID (spec->cgroups_path or a default under our own cgroup), move
 * PID into them, apply spec->resources.  *OUT is NULL (and 0 returned) when no placement was possible
 * at all, after the warning. */
int nook_cgroup_create (const struct nook_spec *spec, const char *id, bool rootless, pid_t pid,
                        struct nook_cgroup **out, nook_err *err);
/* Move PID into an existing container cgroup (exec). */
int nook_cgroup_enter (const struct nook_cgroup *cg, pid_t pid, nook_err *err);
/* The same into sub-cgroups of it (exec --cgroup): each of SUBS is "PATH" (every hierarchy) or
 * "CTRL[,CTRL]:PATH" (the v1 hierarchies of those controllers), relative to the container's cgroup; the
 * last one that applies wins; ".." and unknown controllers are refused; the sub-cgroup must exist. */
int nook_cgroup_enter_sub (const struct nook_cgroup *cg, char *const *subs, pid_t pid, nook_err *err);
/* PIDs in the container's cgroup (from the unified dir, else the first v1 dir).  NULL-free: *PIDS is
 * an allocated array of *N pids. */
int nook_cgroup_pids (const struct nook_cgroup *cg, pid_t **pids, size_t *n, nook_err *err);
/* Remove the directories (the caller killed the processes first); retries while they drain. */
int nook_cgroup_destroy (const struct nook_cgroup *cg, nook_err *err);
void nook_cgroup_free (struct nook_cgroup *cg);

/* cgroup_ops.c: pause/resume (the v1 freezer, else v2 cgroup.freeze), waiting until the kernel reports the
 * new state.  ENOTSUP when the container has no freezer (no cgroup at all, rootless on v1). */
int nook_cgroup_freeze (const struct nook_cgroup *cg, bool freeze, nook_err *err);
bool nook_cgroup_is_frozen (const struct nook_cgroup *cg);
/* Write the limits R sets (has_* / non-NULL) to the running container's cgroup. */
int nook_cgroup_update (const struct nook_cgroup *cg, const struct nook_resources *r, nook_err *err);
/* runc's statistics object (`events --stats` "data"): cpu, memory, pids, blkio, hugetlb. */
json_t *nook_cgroup_stats (const struct nook_cgroup *cg);
/* OOM kills counted by the memory controller so far. */
uint64_t nook_cgroup_oom_count (const struct nook_cgroup *cg);

/* Saved in the container's state so later commands find the cgroup. */
json_t *nook_cgroup_to_json (const struct nook_cgroup *cg);
int nook_cgroup_from_json (json_t *obj, struct nook_cgroup **out, nook_err *err);

#endif
