/* Cgroup v2 (unified), as root or in a delegated subtree (rootless), and the unified side of hybrid. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

static const char *const wanted_controllers[] = { "memory", "pids", "cpu", "cpuset" };

/* ---------------------------------------------------------------- placement */

static char *
dir_of (const char *root, const char *cg)
{
  return xasprintf ("%s%s", root, strcmp (cg, "/") == 0 ? "" : cg);
}

static bool
writable_cg (const char *root, const char *cg)
{
  cleanup_free char *dir = dir_of (root, cg);
  return nook_cgroup_dir_writable (dir);
}

char *
nook_cgroup_v2_rootless_base (const char *root, const char *own)
{
  cleanup_free char *cur = xstrdup (own);
  cleanup_free char *parent = NULL;

  while (!writable_cg (root, cur))
    {
      char *up;
      if (strcmp (cur, "/") == 0)
        return NULL;
      up = nook_cgroup_parent (cur);
      free (cur);
      cur = up;
    }
  /* Our own cgroup holds processes ("no internal processes"): a sibling under a delegated parent can get
   * controllers, a child of ours cannot. */
  if (strcmp (cur, own) != 0 || strcmp (own, "/") == 0)
    return steal_pointer (&cur);
  parent = nook_cgroup_parent (own);
  if (writable_cg (root, parent))
    return steal_pointer (&parent);
  return steal_pointer (&cur);
}

/* Enable the controllers we use in DIR's cgroup.subtree_control, where available; failures are fine
 * (not ours, internal processes, ...): the limits code checks what the leaf really got. */
static void
enable_controllers (const char *dir, bool rootless)
{
  cleanup_free char *avail = NULL, *enabled = NULL, *sc = xasprintf ("%s/cgroup.subtree_control", dir);
  nook_err err;
  size_t i;

  if (rootless && faccessat (AT_FDCWD, sc, W_OK, AT_EACCESS) < 0)
    return;
  avail = nook_cgroup_read (dir, "cgroup.controllers", &err);
  enabled = nook_cgroup_read (dir, "cgroup.subtree_control", &err);
  if (avail == NULL || enabled == NULL)
    return;
  for (i = 0; i < sizeof (wanted_controllers) / sizeof (wanted_controllers[0]); i++)
    {
      char buf[32];
      if (!nook_cgroup_list_has (avail, wanted_controllers[i]) || nook_cgroup_list_has (enabled, wanted_controllers[i]))
        continue;
      snprintf (buf, sizeof (buf), "+%s", wanted_controllers[i]);
      if (nook_cgroup_write (dir, "cgroup.subtree_control", buf, &err) < 0)
        nook_debug ("cgroup: %s", err.msg);
    }
}

/* mkdir -p DIR below ROOT, enabling controllers in each parent on the way down. */
static int
mkdir_tree (const char *root, const char *dir, bool rootless, nook_err *err)
{
  cleanup_free char *p = xstrdup (dir);
  char *s = p + strlen (root);

  while (s != NULL && *s)
    {
      char *next = strchr (s + 1, '/');
      *s = '\0';
      enable_controllers (p[0] ? p : "/", rootless);
      *s = '/';
      if (next)
        *next = '\0';
      if (mkdir (p, 0755) < 0 && errno != EEXIST)
        return nook_error (err, errno, "mkdir `%s`", p);
      if (next)
        *next = '/';
      s = next;
    }
  return 0;
}

int
nook_cgroup_v2_place (struct nook_cgroup_ctx *ctx, const char *root, nook_err *err)
{
  cleanup_free char *own = nook_cgroup_own (NULL);
  cleanup_free char *base = NULL;
  char *dir;

  if (ctx->rootless && (base = nook_cgroup_v2_rootless_base (root, own)) == NULL)
    return 0;
  dir = nook_cgroup_resolve_path (root, base ? base : own, ctx->cgroups_path, ctx->id, ctx->rootless, err);
  if (dir == NULL)
    return -1;
  if (mkdir_tree (root, dir, ctx->rootless, err) < 0)
    {
      int code = err->code;
      free (dir);
      if (ctx->rootless && (code == EACCES || code == EPERM || code == EROFS))
        {
          nook_err_clear (err); /* not ours to write: placed nowhere here */
          return 0;
        }
      return -1;
    }
  ctx->cg->unified = dir;
  return 0;
}

/* ---------------------------------------------------------------- limits */

static int
write_i64_or_max (const char *dir, const char *file, int64_t v, nook_err *err)
{
  char buf[32];
  if (v < 0)
    snprintf (buf, sizeof (buf), "max");
  else
    snprintf (buf, sizeof (buf), "%lld", (long long) v);
  return nook_cgroup_write (dir, file, buf, err);
}

static int
write_swap (const char *dir, const struct nook_resources *r, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/memory.swap.max", dir);
  int64_t swap;

  if (nook_cgroup_swap_to_v2 (r->has_memory_swap ? r->memory_swap : 0, r->has_memory_limit ? r->memory_limit : 0,
                              &swap, err)
      < 0)
    return -1;
  if (swap == 0)
    return 0;
  if (faccessat (AT_FDCWD, path, F_OK, 0) < 0)
    {
      nook_debug ("cgroup: %s is missing (no swap accounting): swap limit ignored", path);
      return 0;
    }
  return write_i64_or_max (dir, "memory.swap.max", swap, err);
}

int
nook_cgroup_v2_memory (const char *dir, const struct nook_resources *r, nook_err *err)
{
  if (r->has_memory_limit && r->memory_limit != 0 && write_i64_or_max (dir, "memory.max", r->memory_limit, err) < 0)
    return -1;
  if (r->has_memory_reservation && r->memory_reservation > 0
      && write_i64_or_max (dir, "memory.low", r->memory_reservation, err) < 0)
    return -1;
  return write_swap (dir, r, err);
}

int
nook_cgroup_v2_pids (const char *dir, const struct nook_resources *r, nook_err *err)
{
  if (!r->has_pids_limit)
    return 0;
  return write_i64_or_max (dir, "pids.max", r->pids_limit <= 0 ? -1 : r->pids_limit, err);
}

int
nook_cgroup_v2_cpu (const char *dir, const struct nook_resources *r, nook_err *err)
{
  bool quota = r->has_cpu_quota && r->cpu_quota != 0;
  bool period = r->has_cpu_period && r->cpu_period != 0;
  char buf[64];

  if (r->has_cpu_shares && r->cpu_shares > 0)
    {
      snprintf (buf, sizeof (buf), "%llu", (unsigned long long) nook_cgroup_shares_to_weight (r->cpu_shares));
      if (nook_cgroup_write (dir, "cpu.weight", buf, err) < 0)
        return -1;
    }
  if (!quota && !period)
    return 0;
  if (quota && r->cpu_quota > 0)
    snprintf (buf, sizeof (buf), "%lld %llu", (long long) r->cpu_quota,
              (unsigned long long) (period ? r->cpu_period : 100000));
  else
    snprintf (buf, sizeof (buf), "max %llu", (unsigned long long) (period ? r->cpu_period : 100000));
  return nook_cgroup_write (dir, "cpu.max", buf, err);
}

int
nook_cgroup_v2_cpuset (const char *dir, const struct nook_resources *r, nook_err *err)
{
  if (r->cpu_cpus && *r->cpu_cpus && nook_cgroup_write (dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
    return -1;
  if (r->cpu_mems && *r->cpu_mems && nook_cgroup_write (dir, "cpuset.mems", r->cpu_mems, err) < 0)
    return -1;
  return 0;
}

static bool
plain_file_name (const char *key)
{
  return key[0] != '\0' && strchr (key, '/') == NULL && strcmp (key, ".") != 0 && strcmp (key, "..") != 0;
}

int
nook_cgroup_v2_unified (const char *dir, const struct nook_resources *r, nook_err *err)
{
  size_t i;

  for (i = 0; i < r->n_unified; i++)
    if (!plain_file_name (r->unified[i].key))
      return nook_error_input (err, "linux.resources.unified: `%s` is not a cgroup file name", r->unified[i].key);
  for (i = 0; i < r->n_unified; i++)
    if (nook_cgroup_write (dir, r->unified[i].key, r->unified[i].value, err) < 0)
      return -1;
  return 0;
}
