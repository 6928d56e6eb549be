/* pause, resume, update and the statistics of `events`: verbs that act on a container's cgroup. */
#include "runtime/container.h"

#include <errno.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/cleanup.h"

/* The container's state and cgroup, its directory locked (shared); the caller closes *STATEFD. */
static int
load_cg (const struct nook_runtime_ctx *ctx, const char *id, int *statefd, struct nook_state **st,
         struct nook_cgroup **cg, nook_err *err)
{
  cleanup_close int rootfd = nook_root_open (ctx->root, err);

  *st = NULL;
  *cg = NULL;
  if (rootfd < 0 || (*statefd = nook_state_dir_open (rootfd, id, false, err)) < 0
      || nook_state_load (*statefd, id, st, err) < 0)
    return -1;
  if (!nook_status_alive ((*st)->status))
    return nook_error_input (err, "container `%s` is not running: it is %s", id, nook_status_name ((*st)->status));
  if ((*st)->cgroup == NULL)
    return 0;
  return nook_cgroup_from_json ((*st)->cgroup, cg, err);
}

int
nook_container_pause (const struct nook_runtime_ctx *ctx, const char *id, bool pause, nook_err *err)
{
  cleanup_close int statefd = -1;
  struct nook_state *st = NULL;
  struct nook_cgroup *cg = NULL;
  int ret = -1;

  if (load_cg (ctx, id, &statefd, &st, &cg, err) < 0)
    goto out;
  if (pause && st->status != NOOK_STATUS_RUNNING)
    {
      nook_error_input (err, "cannot pause container `%s`: it is %s, not running", id, nook_status_name (st->status));
      goto out;
    }
  if (!pause && st->status != NOOK_STATUS_PAUSED)
    {
      nook_error_input (err, "cannot resume container `%s`: it is %s, not paused", id, nook_status_name (st->status));
      goto out;
    }
  if (nook_cgroup_freeze (cg, pause, err) < 0)
    {
      nook_error_prefix (err, "%s container `%s`", pause ? "pause" : "resume", id);
      goto out;
    }
  ret = 0;
out:
  nook_cgroup_free (cg);
  nook_state_free (st);
  return ret;
}

int
nook_container_update (const struct nook_runtime_ctx *ctx, const char *id, const struct nook_resources *res,
                       nook_err *err)
{
  cleanup_close int statefd = -1;
  struct nook_state *st = NULL;
  struct nook_cgroup *cg = NULL;
  int ret = -1;

  if (load_cg (ctx, id, &statefd, &st, &cg, err) < 0)
    goto out;
  if (nook_cgroup_update (cg, res, err) < 0)
    {
      nook_error_prefix (err, "update container `%s`", id);
      goto out;
    }
  ret = 0;
out:
  nook_cgroup_free (cg);
  nook_state_free (st);
  return ret;
}

int
nook_container_stats (const struct nook_runtime_ctx *ctx, const char *id, json_t **stats, uint64_t *ooms,
                      nook_err *err)
{
  cleanup_close int statefd = -1;
  struct nook_state *st = NULL;
  struct nook_cgroup *cg = NULL;
  int ret = -1;

  *stats = NULL;
  if (load_cg (ctx, id, &statefd, &st, &cg, err) < 0)
    goto out;
  if (cg == NULL)
    {
      nook_error (err, ENOTSUP, "container `%s` has no cgroup (rootless without a delegated cgroup v2?): "
                                "no statistics",
                  id);
      goto out;
    }
  *stats = nook_cgroup_stats (cg);
  if (ooms)
    *ooms = nook_cgroup_oom_count (cg);
  ret = 0;
out:
  nook_cgroup_free (cg);
  nook_state_free (st);
  return ret;
}
