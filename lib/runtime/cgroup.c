/* Cgroups: detection, path computation, the create/enter/pids/destroy life cycle and the state JSON.
 * The v1 and v2 specifics live in cgroup_v1.c and cgroup_v2.c. */
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define CG_READ_MAX (16 * 1024 * 1024)

/* ---------------------------------------------------------------- detection */

static bool
is_fs (const char *path, unsigned long magic)
{
  struct statfs st;
  return statfs (path, &st) == 0 && (unsigned long) st.f_type == magic;
}

enum nook_cgroup_mode
nook_cgroup_detect (void)
{
  if (is_fs (NOOK_CGROUP_MOUNT, CGROUP2_SUPER_MAGIC))
    return NOOK_CGROUP_V2;
  if (is_fs (NOOK_CGROUP_MOUNT, TMPFS_MAGIC) && is_fs (NOOK_CGROUP_UNIFIED_MOUNT, CGROUP2_SUPER_MAGIC))
    return NOOK_CGROUP_HYBRID;
  return NOOK_CGROUP_V1;
}

/* ---------------------------------------------------------------- pure helpers */

static char *
dupn (const char *s, size_t n)
{
  char *out = xmalloc (n + 1);
  memcpy (out, s, n);
  out[n] = '\0';
  return out;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

bool
nook_cgroup_list_has (const char *list, const char *word)
{
  size_t wl = strlen (word);
  const char *p = list;

  if (list == NULL || wl == 0)
    return false;
  while (*p)
    {
      size_t n = strcspn (p, " ,\n\t");
      if (n == wl && strncmp (p, word, wl) == 0)
        return true;
      p += n;
      p += strspn (p, " ,\n\t");
    }
  return false;
}

/* Append the '/'-separated segments of REL to BUF (collapsing slashes).  False on "." or "..". */
static bool
append_segments (char *buf, const char *rel)
{
  const char *p = rel;

  while (*p)
    {
      size_t n;
      p += strspn (p, "/");
      n = strcspn (p, "/");
      if (n == 0)
        break;
      if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return false;
      strcat (buf, "/");
      strncat (buf, p, n);
      p += n;
    }
  return true;
}

/* ROOT + the segments of A and B.  NULL with ERR when a segment is "." or ".." or nothing is left. */
static char *
join_checked (const char *root, const char *a, const char *b, const char *what, nook_err *err)
{
  size_t rl = strlen (root);
  cleanup_free char *rel = xmalloc (strlen (a) + strlen (b) + 3);
  char *out;

  rel[0] = '\0';
  if (!append_segments (rel, a) || !append_segments (rel, b))
    {
      nook_error_input (err, "linux.cgroupsPath `%s`: `.` and `..` are not allowed", what);
      return NULL;
    }
  if (rel[0] == '\0')
    {
      nook_error_input (err, "linux.cgroupsPath `%s`: refers to the root cgroup", what);
      return NULL;
    }
  while (rl > 1 && root[rl - 1] == '/')
    rl--;
  out = xmalloc (rl + strlen (rel) + 1);
  memcpy (out, root, rl);
  strcpy (out + rl, rel);
  return out;
}

char *
nook_cgroup_expand_slice (const char *slice)
{
  size_t n = strlen (slice);
  cleanup_free char *name = NULL;
  char *out, *dash;

  if (strcmp (slice, "-.slice") == 0)
    return xstrdup ("");
  if (n <= 6 || strcmp (slice + n - 6, ".slice") != 0 || strchr (slice, '/') != NULL)
    return NULL;
  name = dupn (slice, n - 6);
  if (name[0] == '-' || name[strlen (name) - 1] == '-' || strstr (name, "--") != NULL)
    return NULL;
  out = xcalloc (1, 2 * n * (n + 1) + 1);
  for (dash = strchr (name, '-'); dash != NULL; dash = strchr (dash + 1, '-'))
    {
      strcat (out, "/");
      strncat (out, name, dash - name);
      strcat (out, ".slice");
    }
  strcat (out, "/");
  strcat (out, slice);
  return out;
}

static char *
resolve_systemd (const char *root, const char *own, const char *path, bool rootless, nook_err *err)
{
  const char *c1 = strchr (path, ':');
  const char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  cleanup_free char *slice = NULL, *prefix = NULL, *unit = NULL, *expanded = NULL;
  const char *name;

  if (c1 == NULL || c2 == NULL || strchr (c2 + 1, ':') != NULL)
    goto bad;
  slice = dupn (path, c1 - path);
  prefix = dupn (c1 + 1, c2 - c1 - 1);
  name = c2 + 1;
  if (*name == '\0' || strchr (path, '/') != NULL)
    goto bad;
  if (has_suffix (name, ".slice"))
    unit = xstrdup (name);
  else if (*prefix == '\0')
    unit = xasprintf ("%s.scope", name);
  else
    unit = xasprintf ("%s-%s.scope", prefix, name);
  if (rootless)
    return join_checked (root, own, unit, path, err);
  expanded = nook_cgroup_expand_slice (*slice ? slice : "system.slice");
  if (expanded == NULL)
    goto bad;
  return join_checked (root, expanded, unit, path, err);

bad:
  nook_error_input (err, "linux.cgroupsPath `%s`: expected `slice:prefix:name`", path);
  return NULL;
}

char *
nook_cgroup_resolve_path (const char *root, const char *own, const char *cgroups_path, const char *id,
                          bool rootless, nook_err *err)
{
  cleanup_free char *leaf = NULL;

  if (own == NULL)
    own = "/";
  if (cgroups_path != NULL && cgroups_path[0] == '/')
    return join_checked (root, cgroups_path, "", cgroups_path, err);
  if (cgroups_path != NULL && strchr (cgroups_path, ':') != NULL)
    return resolve_systemd (root, own, cgroups_path, rootless, err);
  if (cgroups_path != NULL && cgroups_path[0] != '\0')
    return join_checked (root, own, cgroups_path, cgroups_path, err);
  if (id == NULL || id[0] == '\0' || strchr (id, '/') != NULL)
    {
      nook_error_input (err, "container id `%s`: not usable as a cgroup name", id ? id : "");
      return NULL;
    }
  if (!rootless)
    return join_checked (root, "/nook", id, "/nook/<id>", err);
  leaf = xasprintf ("nook-%s", id);
  return join_checked (root, own, leaf, leaf, err);
}

uint64_t
nook_cgroup_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

int
nook_cgroup_swap_to_v2 (int64_t swap, int64_t limit, int64_t *out, nook_err *err)
{
  if (limit == -1 && swap == 0)
    return *out = -1, 0;
  if (swap == -1 || swap == 0)
    return *out = swap, 0;
  if (limit == 0 || limit == -1)
    return nook_error_input (err, "linux.resources.memory.swap: cannot set a swap limit without a memory limit");
  if (limit < 0 || swap < limit)
    return nook_error_input (err, "linux.resources.memory.swap: memory+swap limit %lld is less than the "
                                  "memory limit %lld",
                             (long long) swap, (long long) limit);
  *out = swap - limit;
  return 0;
}

/* Find line "ID:CONTROLLERS:PATH" matching CONTROLLER (NULL: the v2 line). */
static char *
own_from_line (const char *line, size_t len, const char *controller)
{
  const char *c1 = memchr (line, ':', len);
  const char *c2 = c1 ? memchr (c1 + 1, ':', len - (c1 + 1 - line)) : NULL;
  cleanup_free char *ctrls = NULL;

  if (c2 == NULL)
    return NULL;
  ctrls = dupn (c1 + 1, c2 - c1 - 1);
  if (controller == NULL ? (c1 - line == 1 && line[0] == '0' && *ctrls == '\0')
                         : nook_cgroup_list_has (ctrls, controller))
    return dupn (c2 + 1, len - (c2 + 1 - line));
  return NULL;
}

char *
nook_cgroup_own_path (const char *text, const char *controller)
{
  const char *p = text;

  while (p && *p)
    {
      size_t n = strcspn (p, "\n");
      char *r = own_from_line (p, n, controller);
      if (r)
        return r;
      p += n;
      if (*p == '\n')
        p++;
    }
  return NULL;
}

char *
nook_cgroup_own (const char *controller)
{
  cleanup_free char *text = NULL;
  char *own;
  size_t len;
  nook_err err;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/cgroup", &text, &len, CG_READ_MAX, &err) < 0)
    return xstrdup ("/");
  own = nook_cgroup_own_path (text, controller);
  if (own == NULL || own[0] != '/' || strstr (own, "/..") != NULL)
    {
      free (own);
      return xstrdup ("/");
    }
  return own;
}

static bool
res_memory_limits (const struct nook_resources *r)
{
  return (r->has_memory_limit && r->memory_limit > 0) || (r->has_memory_reservation && r->memory_reservation > 0)
         || (r->has_memory_swap && r->memory_swap > 0);
}

static bool
res_pids_limits (const struct nook_resources *r)
{
  return r->has_pids_limit && r->pids_limit > 0;
}

static bool
res_cpu_limits (const struct nook_resources *r)
{
  return (r->has_cpu_shares && r->cpu_shares > 0) || (r->has_cpu_quota && r->cpu_quota > 0);
}

static bool
res_cpuset_limits (const struct nook_resources *r)
{
  return (r->cpu_cpus && *r->cpu_cpus) || (r->cpu_mems && *r->cpu_mems);
}

bool
nook_cgroup_has_limits (const struct nook_resources *r)
{
  return res_memory_limits (r) || res_pids_limits (r) || res_cpu_limits (r) || res_cpuset_limits (r)
         || r->n_unified > 0;
}

static const struct
{
  char type;
  int64_t major, minor;
} default_allowed[] = {
  { 'c', -1, -1 },  { 'b', -1, -1 }, { 'c', 1, 3 }, { 'c', 1, 5 }, { 'c', 1, 7 },    { 'c', 1, 8 },
  { 'c', 1, 9 },    { 'c', 5, 0 },   { 'c', 5, 1 }, { 'c', 5, 2 }, { 'c', 136, -1 }, { 'c', 10, 200 },
  { 'c', 10, 229 },
};

static bool
rule_default_allowed (const struct nook_device_rule *r)
{
  size_t i;

  if (!r->allow)
    return false;
  for (i = 0; i < sizeof (default_allowed) / sizeof (default_allowed[0]); i++)
    if (r->type == default_allowed[i].type && r->major == default_allowed[i].major
        && r->minor == default_allowed[i].minor)
      return true;
  return false;
}

bool
nook_cgroup_devices_default (const struct nook_device_rule *rules, size_t n)
{
  size_t i;

  if (n == 0)
    return true;
  if (rules[0].allow || rules[0].type != 'a')
    return false;
  for (i = 1; i < n; i++)
    if (!rule_default_allowed (&rules[i]))
      return false;
  return true;
}

static void
devnum_str (int64_t v, char *buf, size_t len)
{
  if (v < 0)
    snprintf (buf, len, "*");
  else
    snprintf (buf, len, "%lld", (long long) v);
}

const char *
nook_cgroup_device_rule_str (const struct nook_device_rule *r, char *buf, size_t len)
{
  char maj[24], min[24];

  if (r->type == 'a')
    {
      snprintf (buf, len, "a");
      return buf;
    }
  devnum_str (r->major, maj, sizeof (maj));
  devnum_str (r->minor, min, sizeof (min));
  snprintf (buf, len, "%c %s:%s %s", r->type, maj, min, r->access[0] ? r->access : "rwm");
  return buf;
}

/* ---------------------------------------------------------------- small I/O */

int
nook_cgroup_write (const char *dir, const char *file, const char *value, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  return nook_write_file_at (AT_FDCWD, path, value, strlen (value), err);
}

char *
nook_cgroup_read (const char *dir, const char *file, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  char *out = NULL;
  size_t len = 0;

  if (nook_read_file_at (AT_FDCWD, path, &out, &len, CG_READ_MAX, err) < 0)
    return NULL;
  while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
    out[--len] = '\0';
  return out;
}

bool
nook_cgroup_dir_writable (const char *dir)
{
  cleanup_free char *procs = xasprintf ("%s/cgroup.procs", dir);
  return faccessat (AT_FDCWD, dir, W_OK, AT_EACCESS) == 0 && faccessat (AT_FDCWD, procs, W_OK, AT_EACCESS) == 0;
}

char *
nook_cgroup_parent (const char *path)
{
  const char *slash = strrchr (path, '/');

  if (slash == NULL || slash == path)
    return xstrdup ("/");
  return dupn (path, slash - path);
}

void
nook_cgroup_warn_once (struct nook_cgroup_ctx *ctx, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  ctx->skipped = true;
  if (ctx->warned)
    return;
  ctx->warned = true;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof (msg), fmt, ap);
  va_end (ap);
  nook_warn ("%s", msg);
}

/* ---------------------------------------------------------------- limits */

static bool
res_memory_set (const struct nook_resources *r)
{
  return r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap;
}

static bool
res_pids_set (const struct nook_resources *r)
{
  return r->has_pids_limit;
}

static bool
res_cpu_set (const struct nook_resources *r)
{
  return r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period;
}

typedef int (*cg_apply_fn) (const char *dir, const struct nook_resources *r, nook_err *err);

static const struct cg_group
{
  const char *controller;
  bool (*set) (const struct nook_resources *r);
  bool (*limits) (const struct nook_resources *r);
  cg_apply_fn v1, v2;
} cg_groups[] = {
  { "memory", res_memory_set, res_memory_limits, nook_cgroup_v1_memory, nook_cgroup_v2_memory },
  { "pids", res_pids_set, res_pids_limits, nook_cgroup_v1_pids, nook_cgroup_v2_pids },
  { "cpu", res_cpu_set, res_cpu_limits, nook_cgroup_v1_cpu, nook_cgroup_v2_cpu },
  { "cpuset", res_cpuset_limits, res_cpuset_limits, nook_cgroup_v1_cpuset, nook_cgroup_v2_cpuset },
};

static const char *
v1_dir_for (const struct nook_cgroup_ctx *ctx, const char *controller)
{
  size_t i;
  for (i = 0; i < ctx->n_v1; i++)
    if (nook_cgroup_list_has (ctx->v1_controllers[i], controller))
      return ctx->cg->v1[i];
  return NULL;
}

static bool
v2_enabled (const char *dir, const char *controller)
{
  cleanup_free char *ctrls = NULL;
  nook_err err;

  if (dir == NULL)
    return false;
  ctrls = nook_cgroup_read (dir, "cgroup.controllers", &err);
  return ctrls != NULL && nook_cgroup_list_has (ctrls, controller);
}

static int
apply_group (struct nook_cgroup_ctx *ctx, const struct cg_group *g, nook_err *err)
{
  const char *dir;

  if (!g->set (ctx->res))
    return 0;
  dir = v1_dir_for (ctx, g->controller);
  if (dir != NULL)
    return g->v1 (dir, ctx->res, err);
  if (v2_enabled (ctx->cg->unified, g->controller))
    return g->v2 (ctx->cg->unified, ctx->res, err);
  if (g->limits (ctx->res))
    nook_cgroup_warn_once (ctx, "cgroup controller `%s` is not available to this container: running without "
                                "its limits",
                           g->controller);
  return 0;
}

/* Always, even without rules: a new cgroup inherits its parent's device access (see cgroup_devices.c).
 * Rootless on v2 nothing is attached (that needs privilege; the user namespace already keeps the container
 * from creating or opening devices its user cannot). */
static int
apply_devices (struct nook_cgroup_ctx *ctx, nook_err *err)
{
  const char *dir = v1_dir_for (ctx, "devices");

  if (dir != NULL)
    return nook_cgroup_v1_devices (dir, ctx->res, ctx->devices, ctx->n_devices, err);
  if (ctx->cg->unified != NULL && !ctx->rootless)
    return nook_cgroup_v2_devices (ctx->cg->unified, ctx->res, ctx->devices, ctx->n_devices, err);
  return 0;
}

static int
apply_unified (struct nook_cgroup_ctx *ctx, nook_err *err)
{
  if (ctx->res->n_unified == 0)
    return 0;
  if (ctx->cg->unified != NULL && ctx->cg->mode == NOOK_CGROUP_V2)
    return nook_cgroup_v2_unified (ctx->cg->unified, ctx->res, err);
  if (ctx->rootless)
    {
      nook_cgroup_warn_once (ctx, "cgroup v2 is not available to this user: running without resource limits");
      return 0;
    }
  /* The hybrid layout too: its v2 hierarchy has none of the controllers (runc refuses it the same way). */
  return nook_error_input (err, "invalid configuration: linux.resources.unified needs cgroup v2, and this host's "
                                "controllers are on cgroup v1");
}

static int
apply_limits (struct nook_cgroup_ctx *ctx, nook_err *err)
{
  size_t i;

  if (ctx->rootless && ctx->cg->mode != NOOK_CGROUP_V2)
    {
      if (ctx->has_limits)
        nook_cgroup_warn_once (ctx, "cgroup v1 is not delegated to unprivileged users: running without "
                                    "resource limits");
      return 0;
    }
  for (i = 0; i < sizeof (cg_groups) / sizeof (cg_groups[0]); i++)
    if (apply_group (ctx, &cg_groups[i], err) < 0)
      return -1;
  if (apply_devices (ctx, err) < 0)
    return -1;
  return apply_unified (ctx, err);
}

/* ---------------------------------------------------------------- life cycle */

static int
place (struct nook_cgroup_ctx *ctx, nook_err *err)
{
  enum nook_cgroup_mode mode = ctx->cg->mode;

  if (mode != NOOK_CGROUP_V1)
    {
      const char *root = mode == NOOK_CGROUP_V2 ? NOOK_CGROUP_MOUNT : NOOK_CGROUP_UNIFIED_MOUNT;
      if (nook_cgroup_v2_place (ctx, root, err) < 0)
        return -1;
    }
  if (mode != NOOK_CGROUP_V2)
    return nook_cgroup_v1_place (ctx, err);
  return 0;
}

/* A cgroup that already exists (cgroupsPath shared or made beforehand): a frozen one would freeze the
 * init before it reports back (the runtime would wait forever), so refuse it; one with processes in it
 * works but is worth a warning (runc's messages). */
static int
check_existing (struct nook_cgroup_ctx *ctx, nook_err *err)
{
  const char *fz = v1_dir_for (ctx, "freezer");
  cleanup_free char *v1 = fz ? nook_cgroup_read (fz, "freezer.state", &(nook_err){ 0 }) : NULL;
  cleanup_free char *v2 = ctx->cg->unified ? nook_cgroup_read (ctx->cg->unified, "cgroup.freeze", &(nook_err){ 0 })
                                           : NULL;
  pid_t *pids = NULL;
  size_t n = 0;

  if ((v1 && strcmp (v1, "THAWED") != 0) || (v2 && strcmp (v2, "1") == 0))
    return nook_error_input (err, "container's cgroup unexpectedly frozen (`%s`)", v1 ? fz : ctx->cg->unified);
  if (nook_cgroup_pids (ctx->cg, &pids, &n, &(nook_err){ 0 }) == 0 && n > 0)
    nook_warn ("container's cgroup is not empty: %zu process(es) in it already", n);
  free (pids);
  return 0;
}

static void
warn_unplaced (struct nook_cgroup_ctx *ctx)
{
  if (!ctx->has_limits)
    return;
  if (ctx->cg->mode != NOOK_CGROUP_V2)
    nook_cgroup_warn_once (ctx, "cgroup v1 is not delegated to unprivileged users: running without resource "
                                "limits");
  else
    nook_cgroup_warn_once (ctx, "cgroup v2: no delegated cgroup is writable by this user: running without "
                                "resource limits");
}

/* A cgroup that already holds processes belongs to someone else: `kill --all` and `delete --force` signal
 * every process of the container's cgroup, so sharing one would reach them too (runc refuses it as well). */
static int
check_unused (const struct nook_cgroup *cg, nook_err *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;

  if (nook_cgroup_pids (cg, &pids, &n, err) < 0)
    return -1;
  if (n > 0)
    return nook_error_input (err, "linux.cgroupsPath: cgroup `%s` already has %zu process(es): a container "
                                  "needs a cgroup of its own",
                             cg->unified ? cg->unified : cg->v1[0], n);
  return 0;
}

int
nook_cgroup_create (const struct nook_spec *spec, const char *id, bool rootless, pid_t pid,
                    struct nook_cgroup **out, nook_err *err)
{
  struct nook_cgroup_ctx ctx = { .res = &spec->resources, .devices = spec->devices, .n_devices = spec->n_devices,
                                 .cgroups_path = spec->cgroups_path, .id = id, .rootless = rootless };
  int ret = -1, placed;

  *out = NULL;
  ctx.has_limits = nook_cgroup_has_limits (ctx.res);
  ctx.cg = xcalloc (1, sizeof (*ctx.cg));
  ctx.cg->mode = nook_cgroup_detect ();
  ctx.cg->v1 = xcalloc (1, sizeof (char *));
  ctx.v1_controllers = xcalloc (1, sizeof (char *));
  placed = place (&ctx, err);
  if (placed == 0 && ctx.cg->unified == NULL && ctx.n_v1 == 0)
    {
      warn_unplaced (&ctx);
      ret = 0;
      goto out;
    }
  if (placed == 0 && check_unused (ctx.cg, err) < 0)
    goto out;
  /* From here on, a failure removes what was created (a partial placement included). */
  if (placed < 0 || check_existing (&ctx, err) < 0 || apply_limits (&ctx, err) < 0 || (pid > 0 && nook_cgroup_enter (ctx.cg, pid, err) < 0))
    {
      nook_err ignored;
      nook_cgroup_destroy (ctx.cg, &ignored);
      goto out;
    }
  ctx.cg->limits_applied = !ctx.skipped;
  *out = steal_pointer (&ctx.cg);
  ret = 0;
out:
  strv_free (ctx.v1_controllers);
  nook_cgroup_free (ctx.cg);
  return ret;
}

static int
write_pid (const char *dir, pid_t pid, nook_err *err)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%d", (int) pid);
  return nook_cgroup_write (dir, "cgroup.procs", buf, err);
}

int
nook_cgroup_enter (const struct nook_cgroup *cg, pid_t pid, nook_err *err)
{
  size_t i;

  if (cg == NULL)
    return 0;
  if (cg->unified && write_pid (cg->unified, pid, err) < 0)
    return -1;
  for (i = 0; cg->v1 && cg->v1[i]; i++)
    if (write_pid (cg->v1[i], pid, err) < 0)
      return -1;
  return 0;
}

/* The controllers of a v1 container directory: the hierarchy's mount name ("/sys/fs/cgroup/cpu,cpuacct/x"
 * -> "cpu,cpuacct"). */
static char *
v1_dir_controllers (const char *dir)
{
  const char *p = dir + strlen (NOOK_CGROUP_MOUNT "/"), *end;

  if (strncmp (dir, NOOK_CGROUP_MOUNT "/", strlen (NOOK_CGROUP_MOUNT "/")) != 0)
    return xstrdup ("");
  end = strchr (p, '/');
  return end ? xasprintf ("%.*s", (int) (end - p), p) : xstrdup (p);
}

/* "PATH" or "CTRL[,CTRL]:PATH" (exec --cgroup): *CTRLS (NULL: every hierarchy) and *PATH; ".." refused. */
static int
parse_sub (const char *spec, char **ctrls, const char **path, nook_err *err)
{
  const char *colon = strchr (spec, ':');
  cleanup_free char *copy = NULL;
  char *save = NULL;

  *ctrls = colon ? xasprintf ("%.*s", (int) (colon - spec), spec) : NULL;
  *path = colon ? colon + 1 : spec;
  copy = xstrdup (*path);
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    if (strcmp (c, "..") == 0)
      {
        free (*ctrls);
        *ctrls = NULL;
        return nook_error_input (err, "--cgroup: %s is not a sub cgroup path", *path);
      }
  return 0;
}

/* Which of SUBS applies to the directory DIR (controllers DIR_CTRLS; NULL for the unified one): the last
 * one naming no controller or one of DIR_CTRLS.  "" when none. */
static int
sub_for (char *const *subs, const char *dir_ctrls, const char *known, const char **out, nook_err *err)
{
  *out = "";
  for (size_t i = 0; subs && subs[i]; i++)
    {
      cleanup_free char *ctrls = NULL;
      const char *path;
      char *save = NULL;
      bool match = false;

      if (parse_sub (subs[i], &ctrls, &path, err) < 0)
        return -1;
      for (char *c = ctrls ? strtok_r (ctrls, ",", &save) : NULL; c; c = strtok_r (NULL, ",", &save))
        {
          if (!nook_cgroup_list_has (known, c))
            return nook_error_input (err, "--cgroup `%s`: unknown controller `%s`", subs[i], c);
          match |= dir_ctrls != NULL && nook_cgroup_list_has (dir_ctrls, c);
        }
      if (ctrls == NULL || match)
        *out = path;
    }
  return 0;
}

int
nook_cgroup_enter_sub (const struct nook_cgroup *cg, char *const *subs, pid_t pid, nook_err *err)
{
  cleanup_free char *known = xstrdup ("");
  char buf[32];
  const char *sub;

  if (cg == NULL)
    return 0;
  for (size_t i = 0; cg->v1 && cg->v1[i]; i++)
    {
      cleanup_free char *c = v1_dir_controllers (cg->v1[i]);
      char *next = xasprintf ("%s,%s", known, c);
      free (known);
      known = next;
    }
  snprintf (buf, sizeof (buf), "%d", (int) pid);
  for (size_t i = 0; cg->v1 && cg->v1[i]; i++)
    {
      cleanup_free char *c = v1_dir_controllers (cg->v1[i]);
      cleanup_free char *dir = NULL;
      if (sub_for (subs, c, known, &sub, err) < 0)
        return -1;
      dir = xasprintf ("%s/%s", cg->v1[i], sub);
      if (nook_cgroup_write (dir, "cgroup.procs", buf, err) < 0)
        return nook_error_prefix (err, "adding pid %d to cgroups", (int) pid);
    }
  if (cg->unified)
    {
      cleanup_free char *dir = NULL;
      if (sub_for (subs, NULL, known, &sub, err) < 0)
        return -1;
      dir = xasprintf ("%s/%s", cg->unified, sub);
      if (nook_cgroup_write (dir, "cgroup.procs", buf, err) < 0)
        return nook_error_prefix (err, "adding pid %d to cgroups", (int) pid);
    }
  return 0;
}

static int
parse_pids (const char *text, pid_t **pids, size_t *n, const char *dir, nook_err *err)
{
  const char *p = text;
  size_t cap = 16;

  *pids = xmalloc (cap * sizeof (pid_t));
  *n = 0;
  while (*p)
    {
      char *end;
      long v = strtol (p, &end, 10);
      if (end == p || v <= 0 || (*end != '\n' && *end != '\0'))
        {
          free (*pids);
          *pids = NULL;
          return nook_error_input (err, "`%s/cgroup.procs`: unexpected content", dir);
        }
      if (*n == cap)
        *pids = xrealloc (*pids, (cap *= 2) * sizeof (pid_t));
      (*pids)[(*n)++] = (pid_t) v;
      p = *end ? end + 1 : end;
    }
  return 0;
}

int
nook_cgroup_pids (const struct nook_cgroup *cg, pid_t **pids, size_t *n, nook_err *err)
{
  const char *dir = NULL;
  cleanup_free char *text = NULL;

  *pids = NULL;
  *n = 0;
  if (cg != NULL)
    dir = cg->unified ? cg->unified : (cg->v1 ? cg->v1[0] : NULL);
  if (dir == NULL)
    return 0;
  text = nook_cgroup_read (dir, "cgroup.procs", err);
  if (text == NULL)
    return -1;
  return parse_pids (text, pids, n, dir, err);
}

static int
rmdir_retry (const char *dir, nook_err *err)
{
  struct timespec ts = { 0, 10 * 1000 * 1000 };
  int i;

  for (i = 0; i < 100; i++)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        break;
      nanosleep (&ts, NULL);
    }
  return nook_error (err, errno, "rmdir `%s`", dir);
}

/* DIR and the cgroups the container made under it (a cgroup namespace lets it), innermost first; a process
 * left in one of those (the container moved it there) is killed first. */
static int
rmdir_tree (const char *dir, int depth, nook_err *err)
{
  cleanup_dir DIR *d = depth < 32 ? opendir (dir) : NULL;
  struct dirent *de;
  int ret = 0;

  while (d != NULL && (de = readdir (d)) != NULL)
    {
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", dir, de->d_name);
      cleanup_free char *procs = nook_cgroup_read (sub, "cgroup.procs", &(nook_err){ 0 });
      for (char *p = procs, *end; p && *p; p = *end ? end + 1 : end)
        {
          long pid = strtol (p, &end, 10);
          if (end == p)
            break;
          if (pid > 0)
            kill ((pid_t) pid, SIGKILL);
        }
      if (rmdir_tree (sub, depth + 1, err) < 0)
        ret = -1;
    }
  if (ret < 0)
    return -1;
  return rmdir_retry (dir, err);
}

int
nook_cgroup_destroy (const struct nook_cgroup *cg, nook_err *err)
{
  nook_err tmp;
  int ret = 0;
  size_t i;

  if (cg == NULL)
    return 0;
  if (cg->unified && rmdir_tree (cg->unified, 0, err) < 0)
    ret = -1;
  for (i = 0; cg->v1 && cg->v1[i]; i++)
    if (rmdir_tree (cg->v1[i], 0, ret < 0 ? &tmp : err) < 0)
      ret = -1;
  return ret;
}

void
nook_cgroup_free (struct nook_cgroup *cg)
{
  if (cg == NULL)
    return;
  free (cg->unified);
  strv_free (cg->v1);
  free (cg);
}

/* ---------------------------------------------------------------- state JSON */

static const char *const mode_names[] = {
  [NOOK_CGROUP_V2] = "v2",
  [NOOK_CGROUP_V1] = "v1",
  [NOOK_CGROUP_HYBRID] = "hybrid",
};

json_t *
nook_cgroup_to_json (const struct nook_cgroup *cg)
{
  json_t *v1 = json_array ();
  size_t i;

  for (i = 0; cg->v1 && cg->v1[i]; i++)
    json_array_append_new (v1, json_string (cg->v1[i]));
  return json_pack ("{s:s,s:s?,s:o,s:b}", "mode", mode_names[cg->mode], "unified", cg->unified, "v1", v1,
                    "limits_applied", (int) cg->limits_applied);
}

static bool
state_path_ok (const char *p)
{
  return p[0] == '/' && strstr (p, "/../") == NULL && !has_suffix (p, "/..");
}

static int
mode_from_name (const char *name, enum nook_cgroup_mode *mode)
{
  size_t i;
  for (i = 0; i < sizeof (mode_names) / sizeof (mode_names[0]); i++)
    if (strcmp (name, mode_names[i]) == 0)
      return *mode = (enum nook_cgroup_mode) i, 0;
  return -1;
}

static int
v1_from_json (json_t *arr, struct nook_cgroup *cg, nook_err *err)
{
  size_t i, n = arr ? json_array_size (arr) : 0;

  if (arr != NULL && !json_is_array (arr))
    return nook_error_input (err, "cgroup state: `v1` must be an array");
  cg->v1 = xcalloc (n + 1, sizeof (char *));
  for (i = 0; i < n; i++)
    {
      const char *s = json_string_value (json_array_get (arr, i));
      if (s == NULL || !state_path_ok (s))
        return nook_error_input (err, "cgroup state: `v1[%zu]` must be an absolute path", i);
      cg->v1[i] = xstrdup (s);
    }
  return 0;
}

int
nook_cgroup_from_json (json_t *obj, struct nook_cgroup **out, nook_err *err)
{
  struct nook_cgroup *cg;
  const char *mode;
  json_t *unified;

  *out = NULL;
  mode = json_string_value (json_object_get (obj, "mode"));
  if (!json_is_object (obj) || mode == NULL)
    return nook_error_input (err, "cgroup state: `mode` missing");
  cg = xcalloc (1, sizeof (*cg));
  if (mode_from_name (mode, &cg->mode) < 0)
    {
      nook_cgroup_free (cg);
      return nook_error_input (err, "cgroup state: unknown mode `%s`", mode);
    }
  unified = json_object_get (obj, "unified");
  if (unified != NULL && !json_is_null (unified)
      && (!json_is_string (unified) || !state_path_ok (json_string_value (unified))))
    {
      nook_cgroup_free (cg);
      return nook_error_input (err, "cgroup state: `unified` must be an absolute path");
    }
  if (json_is_string (unified))
    cg->unified = xstrdup (json_string_value (unified));
  cg->limits_applied = json_is_true (json_object_get (obj, "limits_applied"));
  if (v1_from_json (json_object_get (obj, "v1"), cg, err) < 0)
    {
      nook_cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}
