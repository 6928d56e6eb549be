/* Cgroup v1 (and the v1 side of the hybrid layout): one directory per mounted hierarchy, limits written
 * to the hierarchy that carries each controller. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define MOUNTINFO_MAX (8 * 1024 * 1024)

/* ---------------------------------------------------------------- hierarchies */

/* Split a mountinfo line into its root, mount point, fs type and super options (pointers into LINE,
 * which is modified).  False when malformed. */
static bool
mountinfo_fields (char *line, char **root, char **mnt, char **fstype, char **superopts)
{
  char *f[6] = { 0 };
  char *save = NULL, *tok, *sep;
  int i = 0;

  sep = strstr (line, " - ");
  if (sep == NULL)
    return false;
  *sep = '\0';
  for (tok = strtok_r (line, " ", &save); tok && i < 6; tok = strtok_r (NULL, " ", &save))
    f[i++] = tok;
  if (i < 5)
    return false;
  *root = f[3];
  *mnt = f[4];
  *fstype = strtok_r (sep + 3, " ", &save);
  if (*fstype == NULL || strtok_r (NULL, " ", &save) == NULL)
    return false;
  *superopts = strtok_r (NULL, " \n", &save);
  return *superopts != NULL;
}

/* The mount of the v1 hierarchy carrying CONTROLLER: mount point and mounted root (allocated). */
static bool
find_mount (const char *mountinfo, const char *controller, char **mnt_out, char **root_out)
{
  cleanup_free char *copy = xstrdup (mountinfo);
  char *save = NULL, *line;
  bool found = false;

  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *root, *mnt, *fstype, *opts;
      if (!mountinfo_fields (line, &root, &mnt, &fstype, &opts) || strcmp (fstype, "cgroup") != 0
          || !nook_cgroup_list_has (opts, controller))
        continue;
      if (found && !str_has_prefix (mnt, NOOK_CGROUP_MOUNT "/"))
        continue;
      free (*mnt_out);
      free (*root_out);
      *mnt_out = xstrdup (mnt);
      *root_out = xstrdup (root);
      found = true;
      if (str_has_prefix (mnt, NOOK_CGROUP_MOUNT "/"))
        break;
    }
  return found;
}

/* PATH (from /proc/self/cgroup) relative to the mounted ROOT of the hierarchy. */
static char *
own_in_mount (const char *path, const char *root)
{
  size_t rl = strlen (root);

  if (path[0] != '/' || strstr (path, "/..") != NULL)
    return xstrdup ("/");
  if (strcmp (root, "/") == 0)
    return xstrdup (path);
  if (strncmp (path, root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
    return xstrdup (path[rl] ? path + rl : "/");
  return xstrdup ("/");
}

/* One /proc/self/cgroup v1 line -> a hierarchy entry (false when not mounted). */
static bool
hierarchy_from_line (const char *line, const char *mountinfo, struct nook_cgroup_v1h *h)
{
  const char *c1 = strchr (line, ':');
  const char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  cleanup_free char *first = NULL, *root = NULL;
  char *mnt = NULL;

  if (c2 == NULL || c2 == c1 + 1)
    return false;
  first = xasprintf ("%.*s", (int) strcspn (c1 + 1, ",:"), c1 + 1);
  if (!find_mount (mountinfo, first, &mnt, &root))
    return false;
  h->mount = mnt;
  h->controllers = xasprintf ("%.*s", (int) (c2 - c1 - 1), c1 + 1);
  h->own = own_in_mount (c2 + 1, root);
  return true;
}

int
nook_cgroup_v1_hierarchies (struct nook_cgroup_v1h **out, size_t *n, nook_err *err)
{
  cleanup_free char *self = NULL, *mountinfo = NULL;
  char *save = NULL, *line;
  size_t len;

  *out = NULL;
  *n = 0;
  if (nook_read_file_at (AT_FDCWD, "/proc/self/cgroup", &self, &len, MOUNTINFO_MAX, err) < 0
      || nook_read_file_at (AT_FDCWD, "/proc/self/mountinfo", &mountinfo, &len, MOUNTINFO_MAX, err) < 0)
    return -1;
  for (line = strtok_r (self, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      struct nook_cgroup_v1h h = { 0 };
      if (!hierarchy_from_line (line, mountinfo, &h))
        continue;
      *out = xrealloc (*out, (*n + 1) * sizeof (**out));
      (*out)[(*n)++] = h;
    }
  return 0;
}

void
nook_cgroup_v1h_free (struct nook_cgroup_v1h *h, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      free (h[i].mount);
      free (h[i].controllers);
      free (h[i].own);
    }
  free (h);
}

/* ---------------------------------------------------------------- placement */

/* An empty cpuset.cpus/mems makes writing tasks fail: inherit the parent's. */
static int
cpuset_inherit (const char *dir, nook_err *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  cleanup_free char *parent = nook_cgroup_parent (dir);
  size_t i;

  for (i = 0; i < 2; i++)
    {
      cleanup_free char *cur = nook_cgroup_read (dir, files[i], err);
      cleanup_free char *val = NULL;
      if (cur == NULL)
        return -1;
      if (cur[0] != '\0')
        continue;
      val = nook_cgroup_read (parent, files[i], err);
      if (val == NULL || nook_cgroup_write (dir, files[i], val, err) < 0)
        return -1;
    }
  return 0;
}

/* mkdir -p DIR below the hierarchy mounted at MOUNT. */
static int
mkdir_tree (const char *mount, const char *dir, bool cpuset, nook_err *err)
{
  cleanup_free char *p = xstrdup (dir);
  size_t ml = strlen (mount);
  char *s = p + ml;

  while (s != NULL && *s)
    {
      char *next = strchr (s + 1, '/');
      if (next)
        *next = '\0';
      if (mkdir (p, 0755) < 0 && errno != EEXIST)
        return nook_error (err, errno, "mkdir `%s`", p);
      if (cpuset && cpuset_inherit (p, err) < 0)
        return -1;
      if (next)
        *next = '/';
      s = next;
    }
  return 0;
}

/* Rootless: the closest ancestor of OWN (itself included) we may write to; NULL when none. */
static char *
rootless_base (const char *mount, const char *own)
{
  cleanup_free char *cur = xstrdup (own);

  for (;;)
    {
      cleanup_free char *dir = xasprintf ("%s%s", mount, strcmp (cur, "/") == 0 ? "" : cur);
      char *up;
      if (nook_cgroup_dir_writable (dir))
        return steal_pointer (&cur);
      if (strcmp (cur, "/") == 0)
        return NULL;
      up = nook_cgroup_parent (cur);
      free (cur);
      cur = up;
    }
}

static void
add_dir (struct nook_cgroup_ctx *ctx, char *dir, const char *controllers)
{
  ctx->cg->v1 = xrealloc (ctx->cg->v1, (ctx->n_v1 + 2) * sizeof (char *));
  ctx->v1_controllers = xrealloc (ctx->v1_controllers, (ctx->n_v1 + 2) * sizeof (char *));
  ctx->cg->v1[ctx->n_v1] = dir;
  ctx->v1_controllers[ctx->n_v1] = xstrdup (controllers);
  ctx->n_v1++;
  ctx->cg->v1[ctx->n_v1] = NULL;
  ctx->v1_controllers[ctx->n_v1] = NULL;
}

static int
place_one (struct nook_cgroup_ctx *ctx, const struct nook_cgroup_v1h *h, nook_err *err)
{
  cleanup_free char *base = NULL;
  char *dir;

  if (ctx->rootless && (base = rootless_base (h->mount, h->own)) == NULL)
    return 0;
  dir = nook_cgroup_resolve_path (h->mount, base ? base : h->own, ctx->cgroups_path, ctx->id, ctx->rootless,
                                  err);
  if (dir == NULL)
    return -1;
  if (mkdir_tree (h->mount, dir, nook_cgroup_list_has (h->controllers, "cpuset"), err) < 0)
    {
      int code = err->code;
      rmdir (dir);
      free (dir);
      if (ctx->rootless && (code == EACCES || code == EPERM || code == EROFS))
        {
          nook_err_clear (err); /* not ours to write: placed nowhere here */
          return 0;
        }
      return -1;
    }
  add_dir (ctx, dir, h->controllers);
  return 0;
}

int
nook_cgroup_v1_place (struct nook_cgroup_ctx *ctx, nook_err *err)
{
  struct nook_cgroup_v1h *h = NULL;
  size_t n = 0, i;
  int ret = 0;

  if (nook_cgroup_v1_hierarchies (&h, &n, err) < 0)
    return -1;
  for (i = 0; i < n && ret == 0; i++)
    ret = place_one (ctx, &h[i], err);
  nook_cgroup_v1h_free (h, n);
  return ret;
}

/* ---------------------------------------------------------------- limits */

static int
write_i64 (const char *dir, const char *file, int64_t v, nook_err *err)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%lld", (long long) v);
  return nook_cgroup_write (dir, file, buf, err);
}

static bool
file_exists (const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, file);
  return faccessat (AT_FDCWD, p, F_OK, 0) == 0;
}

int
nook_cgroup_v1_memory (const char *dir, const struct nook_resources *r, nook_err *err)
{
  bool swap = r->has_memory_swap && r->memory_swap != 0;

  if (swap && !file_exists (dir, "memory.memsw.limit_in_bytes"))
    {
      nook_debug ("cgroup: %s/memory.memsw.limit_in_bytes is missing (no swap accounting): swap limit ignored",
                  dir);
      swap = false;
    }
  if (r->has_memory_reservation && r->memory_reservation != 0
      && write_i64 (dir, "memory.soft_limit_in_bytes", r->memory_reservation, err) < 0)
    return -1;
  if (r->has_memory_limit && r->memory_limit != 0
      && write_i64 (dir, "memory.limit_in_bytes", r->memory_limit, err) < 0)
    {
      /* Raising the limit above memory+swap: memsw first, then the limit. */
      if (!swap || err->code != EINVAL)
        return -1;
      if (write_i64 (dir, "memory.memsw.limit_in_bytes", r->memory_swap, err) < 0
          || write_i64 (dir, "memory.limit_in_bytes", r->memory_limit, err) < 0)
        return -1;
      return 0;
    }
  if (swap && write_i64 (dir, "memory.memsw.limit_in_bytes", r->memory_swap, err) < 0)
    return -1;
  return 0;
}

int
nook_cgroup_v1_pids (const char *dir, const struct nook_resources *r, nook_err *err)
{
  if (!r->has_pids_limit)
    return 0;
  if (r->pids_limit <= 0)
    return nook_cgroup_write (dir, "pids.max", "max", err);
  return write_i64 (dir, "pids.max", r->pids_limit, err);
}

int
nook_cgroup_v1_cpu (const char *dir, const struct nook_resources *r, nook_err *err)
{
  if (r->has_cpu_shares && r->cpu_shares > 0 && write_i64 (dir, "cpu.shares", (int64_t) r->cpu_shares, err) < 0)
    return -1;
  if (r->has_cpu_period && r->cpu_period > 0
      && write_i64 (dir, "cpu.cfs_period_us", (int64_t) r->cpu_period, err) < 0)
    return -1;
  if (r->has_cpu_quota && r->cpu_quota != 0 && write_i64 (dir, "cpu.cfs_quota_us", r->cpu_quota, err) < 0)
    return -1;
  return 0;
}

int
nook_cgroup_v1_cpuset (const char *dir, const struct nook_resources *r, nook_err *err)
{
  if (r->cpu_cpus && *r->cpu_cpus && nook_cgroup_write (dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
    return -1;
  if (r->cpu_mems && *r->cpu_mems && nook_cgroup_write (dir, "cpuset.mems", r->cpu_mems, err) < 0)
    return -1;
  return 0;
}
