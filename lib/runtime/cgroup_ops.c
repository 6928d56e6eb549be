/* Verbs on a container's existing cgroup: freeze/thaw (pause, resume), live updates of the limits
 * (update) and the statistics of `events`.  v1 (freezer, memory, cpu, cpuacct, pids hierarchies), v2
 * (cgroup.freeze and the unified files) and the hybrid layout, where the v1 side carries the controllers
 * and the unified side may still freeze. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* ---------------------------------------------------------------- finding the directories */

/* The container's v1 directory in the hierarchy that carries CONTROLLER (allocated), or NULL. */
static char *
v1_dir (const struct nook_cgroup *cg, const char *controller, char **controllers_out)
{
  struct nook_cgroup_v1h *h = NULL;
  size_t n = 0;
  char *found = NULL;
  nook_err err;

  if (cg == NULL || cg->v1 == NULL || cg->v1[0] == NULL || nook_cgroup_v1_hierarchies (&h, &n, &err) < 0)
    return NULL;
  for (size_t i = 0; i < n && found == NULL; i++)
    {
      size_t ml = strlen (h[i].mount);
      if (!nook_cgroup_list_has (h[i].controllers, controller))
        continue;
      for (size_t k = 0; cg->v1[k] && found == NULL; k++)
        if (strncmp (cg->v1[k], h[i].mount, ml) == 0 && cg->v1[k][ml] == '/')
          {
            found = xstrdup (cg->v1[k]);
            if (controllers_out)
              *controllers_out = xstrdup (h[i].controllers);
          }
    }
  nook_cgroup_v1h_free (h, n);
  return found;
}

static bool
has_file (const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, file);
  return faccessat (AT_FDCWD, p, F_OK, 0) == 0;
}

/* The unified directory, when CONTROLLER (NULL: any) is enabled there. */
static const char *
v2_dir (const struct nook_cgroup *cg, const char *controller)
{
  cleanup_free char *ctrls = NULL;
  nook_err err;

  if (cg == NULL || cg->unified == NULL)
    return NULL;
  if (controller == NULL)
    return cg->unified;
  ctrls = nook_cgroup_read (cg->unified, "cgroup.controllers", &err);
  return ctrls != NULL && nook_cgroup_list_has (ctrls, controller) ? cg->unified : NULL;
}

/* ---------------------------------------------------------------- freezer */

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

/* v1: write STATE until freezer.state reads it (a FREEZING cgroup with tasks in the middle of a fork may
 * need the write repeated).  About 5 s at most. */
static int
v1_freeze (const char *dir, bool freeze, nook_err *err)
{
  const char *want = freeze ? "FROZEN" : "THAWED";

  for (int i = 0; i < 500; i++)
    {
      cleanup_free char *cur = NULL;
      if (i % 10 == 0 && nook_cgroup_write (dir, "freezer.state", want, err) < 0)
        return -1;
      cur = nook_cgroup_read (dir, "freezer.state", err);
      if (cur == NULL)
        return -1;
      if (strcmp (cur, want) == 0)
        return 0;
      sleep_ms (10);
    }
  if (freeze)
    {
      nook_err ignored;
      nook_cgroup_write (dir, "freezer.state", "THAWED", &ignored);
    }
  return nook_error (err, EBUSY, "`%s/freezer.state` did not become %s", dir, want);
}

/* v2: cgroup.freeze, then wait for cgroup.events to say so. */
static int
v2_freeze (const char *dir, bool freeze, nook_err *err)
{
  const char *want = freeze ? "frozen 1" : "frozen 0";

  if (nook_cgroup_write (dir, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
    return -1;
  for (int i = 0; i < 500; i++)
    {
      cleanup_free char *ev = nook_cgroup_read (dir, "cgroup.events", err);
      if (ev == NULL)
        return -1;
      if (strstr (ev, want) != NULL)
        return 0;
      sleep_ms (10);
    }
  if (freeze)
    {
      nook_err ignored;
      nook_cgroup_write (dir, "cgroup.freeze", "0", &ignored);
    }
  return nook_error (err, EBUSY, "`%s/cgroup.events` did not report %s", dir, want);
}

int
nook_cgroup_freeze (const struct nook_cgroup *cg, bool freeze, nook_err *err)
{
  cleanup_free char *v1 = v1_dir (cg, "freezer", NULL);

  if (v1 != NULL)
    return v1_freeze (v1, freeze, err);
  if (cg != NULL && cg->unified != NULL && has_file (cg->unified, "cgroup.freeze"))
    return v2_freeze (cg->unified, freeze, err);
  return nook_error (err, ENOTSUP, "no freezer: the container has no cgroup with a v1 freezer or cgroup.freeze "
                                   "(rootless without a delegated cgroup v2?)");
}

bool
nook_cgroup_is_frozen (const struct nook_cgroup *cg)
{
  cleanup_free char *v1 = v1_dir (cg, "freezer", NULL);
  cleanup_free char *val = NULL;
  nook_err err;

  if (v1 != NULL)
    {
      val = nook_cgroup_read (v1, "freezer.state", &err);
      return val != NULL && strcmp (val, "THAWED") != 0;
    }
  if (cg != NULL && cg->unified != NULL)
    {
      val = nook_cgroup_read (cg->unified, "cgroup.freeze", &err);
      return val != NULL && strcmp (val, "1") == 0;
    }
  return false;
}

/* ---------------------------------------------------------------- update */

/* What is not being changed but is needed to write a changed value (v2's cpu.max holds quota and
 * period together, memory.swap.max is relative to memory.max). */
static void
v2_fill_current (const char *dir, struct nook_resources *r)
{
  nook_err err;

  if (r->has_cpu_quota != r->has_cpu_period)
    {
      cleanup_free char *cur = nook_cgroup_read (dir, "cpu.max", &err);
      char quota[32] = "";
      unsigned long long period = 0;
      if (cur != NULL && sscanf (cur, "%31s %llu", quota, &period) == 2)
        {
          if (!r->has_cpu_period)
            r->cpu_period = period, r->has_cpu_period = true;
          else
            r->cpu_quota = strcmp (quota, "max") == 0 ? -1 : strtoll (quota, NULL, 10), r->has_cpu_quota = true;
        }
    }
  if (r->has_memory_swap && !r->has_memory_limit)
    {
      cleanup_free char *cur = nook_cgroup_read (dir, "memory.max", &err);
      if (cur != NULL)
        {
          r->memory_limit = strcmp (cur, "max") == 0 ? -1 : strtoll (cur, NULL, 10);
          r->has_memory_limit = r->memory_limit != 0;
        }
    }
}

typedef int (*apply_fn) (const char *dir, const struct nook_resources *r, nook_err *err);

static int
update_one (const struct nook_cgroup *cg, const char *controller, bool wanted, apply_fn v1, apply_fn v2,
            const struct nook_resources *r, nook_err *err)
{
  cleanup_free char *dir = NULL;
  const char *udir;

  if (!wanted)
    return 0;
  if ((dir = v1_dir (cg, controller, NULL)) != NULL)
    return v1 (dir, r, err);
  if ((udir = v2_dir (cg, controller)) != NULL)
    {
      struct nook_resources copy = *r;
      v2_fill_current (udir, &copy);
      return v2 (udir, &copy, err);
    }
  return nook_error (err, ENOTSUP, "cgroup controller `%s` is not available to this container", controller);
}

int
nook_cgroup_update (const struct nook_cgroup *cg, const struct nook_resources *r, nook_err *err)
{
  if (cg == NULL)
    return nook_error (err, ENOTSUP, "the container has no cgroup (rootless without a delegated cgroup v2?): "
                                     "its resources cannot be updated");
  if (update_one (cg, "memory", r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap,
                  nook_cgroup_v1_memory, nook_cgroup_v2_memory, r, err)
          < 0
      || update_one (cg, "pids", r->has_pids_limit, nook_cgroup_v1_pids, nook_cgroup_v2_pids, r, err) < 0
      || update_one (cg, "cpu", r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period, nook_cgroup_v1_cpu,
                     nook_cgroup_v2_cpu, r, err)
             < 0
      || update_one (cg, "cpuset", (r->cpu_cpus && *r->cpu_cpus) || (r->cpu_mems && *r->cpu_mems),
                     nook_cgroup_v1_cpuset, nook_cgroup_v2_cpuset, r, err)
             < 0)
    return -1;
  if (r->n_unified > 0)
    {
      if (cg->unified == NULL)
        return nook_error (err, ENOTSUP, "unified: the container has no cgroup v2 directory");
      return nook_cgroup_v2_unified (cg->unified, r, err);
    }
  return 0;
}

/* ---------------------------------------------------------------- statistics */

static uint64_t
read_u64 (const char *dir, const char *file)
{
  cleanup_free char *s = NULL;
  nook_err err;

  if (dir == NULL || (s = nook_cgroup_read (dir, file, &err)) == NULL || strcmp (s, "max") == 0)
    return 0;
  return strtoull (s, NULL, 10);
}

/* "key value" lines into a JSON object of integers. */
static json_t *
read_keyed (const char *dir, const char *file)
{
  cleanup_free char *s = NULL;
  json_t *o = json_object ();
  char *save = NULL, *line;
  nook_err err;

  if (dir == NULL || (s = nook_cgroup_read (dir, file, &err)) == NULL)
    return o;
  for (line = strtok_r (s, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char key[128];
      unsigned long long v;
      if (sscanf (line, "%127s %llu", key, &v) == 2)
        json_object_set_new (o, key, json_integer ((json_int_t) v));
    }
  return o;
}

static uint64_t
keyed_u64 (json_t *o, const char *key)
{
  return (uint64_t) json_integer_value (json_object_get (o, key));
}

/* A JSON integer for an unsigned counter (jansson's integers are signed). */
static json_t *
ju (uint64_t v)
{
  return json_integer ((json_int_t) (v > INT64_MAX ? INT64_MAX : v));
}

static json_t *
percpu_array (const char *dir, const char *file)
{
  cleanup_free char *s = NULL;
  json_t *a = json_array ();
  char *p, *end;
  nook_err err;

  if (dir == NULL || (s = nook_cgroup_read (dir, file, &err)) == NULL)
    return a;
  for (p = s;; p = end)
    {
      unsigned long long v = strtoull (p, &end, 10);
      if (end == p)
        break;
      json_array_append_new (a, ju (v));
    }
  return a;
}

static json_t *
cpu_stats (const struct nook_cgroup *cg)
{
  cleanup_free char *acct = v1_dir (cg, "cpuacct", NULL);
  cleanup_free char *cpu = v1_dir (cg, "cpu", NULL);
  const char *u = v2_dir (cg, NULL);
  json_t *usage, *thr, *stat;
  uint64_t hz = (uint64_t) sysconf (_SC_CLK_TCK);

  if (hz == 0)
    hz = 100;
  if (acct != NULL)
    {
      json_t *ks = read_keyed (acct, "cpuacct.stat");
      usage = json_pack ("{s:o,s:o,s:o}", "total", ju (read_u64 (acct, "cpuacct.usage")), "percpu",
                         percpu_array (acct, "cpuacct.usage_percpu"), "kernel",
                         ju (keyed_u64 (ks, "system") * (1000000000 / hz)));
      json_object_set_new (usage, "user", ju (keyed_u64 (ks, "user") * (1000000000 / hz)));
      json_decref (ks);
    }
  else
    {
      stat = read_keyed (u, "cpu.stat");
      usage = json_pack ("{s:o,s:o,s:o}", "total", ju (keyed_u64 (stat, "usage_usec") * 1000), "kernel",
                         ju (keyed_u64 (stat, "system_usec") * 1000), "user",
                         ju (keyed_u64 (stat, "user_usec") * 1000));
      json_decref (stat);
    }
  stat = cpu != NULL ? read_keyed (cpu, "cpu.stat") : read_keyed (v2_dir (cg, "cpu"), "cpu.stat");
  thr = json_pack ("{s:o,s:o,s:o}", "periods", ju (keyed_u64 (stat, "nr_periods")), "throttled_periods",
                   ju (keyed_u64 (stat, "nr_throttled")), "throttled_time",
                   ju (cpu != NULL ? keyed_u64 (stat, "throttled_time") : keyed_u64 (stat, "throttled_usec") * 1000));
  json_decref (stat);
  return json_pack ("{s:o,s:o}", "usage", usage, "throttling", thr);
}

static json_t *
mem_entry_v1 (const char *dir, const char *prefix)
{
  char f[4][96];
  snprintf (f[0], sizeof f[0], "%s.limit_in_bytes", prefix);
  snprintf (f[1], sizeof f[1], "%s.usage_in_bytes", prefix);
  snprintf (f[2], sizeof f[2], "%s.max_usage_in_bytes", prefix);
  snprintf (f[3], sizeof f[3], "%s.failcnt", prefix);
  return json_pack ("{s:o,s:o,s:o,s:o}", "limit", ju (read_u64 (dir, f[0])), "usage", ju (read_u64 (dir, f[1])),
                    "max", ju (read_u64 (dir, f[2])), "failcnt", ju (read_u64 (dir, f[3])));
}

static json_t *
memory_stats (const struct nook_cgroup *cg)
{
  cleanup_free char *mem = v1_dir (cg, "memory", NULL);
  const char *u = v2_dir (cg, "memory");
  json_t *raw, *o;

  if (mem != NULL)
    {
      raw = read_keyed (mem, "memory.stat");
      o = json_pack ("{s:o,s:o,s:o,s:o,s:o}", "cache", ju (keyed_u64 (raw, "cache")), "usage",
                     mem_entry_v1 (mem, "memory"), "swap", mem_entry_v1 (mem, "memory.memsw"), "kernel",
                     mem_entry_v1 (mem, "memory.kmem"), "kernelTCP", mem_entry_v1 (mem, "memory.kmem.tcp"));
      json_object_set_new (o, "raw", raw);
      return o;
    }
  raw = read_keyed (u, "memory.stat");
  o = json_pack ("{s:o,s:{s:o,s:o,s:o,s:o},s:{s:o,s:o,s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}", "cache",
                 ju (keyed_u64 (raw, "file")), "usage", "limit", ju (read_u64 (u, "memory.max")), "usage",
                 ju (read_u64 (u, "memory.current")), "max", ju (read_u64 (u, "memory.peak")), "failcnt", ju (0),
                 "swap", "limit", ju (read_u64 (u, "memory.swap.max")), "usage",
                 ju (read_u64 (u, "memory.swap.current")), "max", 0, "failcnt", 0, "kernel", "limit", 0, "failcnt", 0,
                 "kernelTCP", "limit", 0, "failcnt", 0);
  json_object_set_new (o, "raw", raw);
  return o;
}

static json_t *
pids_stats (const struct nook_cgroup *cg)
{
  cleanup_free char *p = v1_dir (cg, "pids", NULL);
  const char *dir = p != NULL ? p : v2_dir (cg, "pids");

  return json_pack ("{s:o,s:o}", "current", ju (read_u64 (dir, "pids.current")), "limit",
                    ju (read_u64 (dir, "pids.max")));
}

json_t *
nook_cgroup_stats (const struct nook_cgroup *cg)
{
  return json_pack ("{s:o,s:o,s:o,s:{},s:{},s:{}}", "cpu", cpu_stats (cg), "memory", memory_stats (cg), "pids",
                    pids_stats (cg), "blkio", "hugetlb", "intel_rdt");
}

uint64_t
nook_cgroup_oom_count (const struct nook_cgroup *cg)
{
  cleanup_free char *mem = v1_dir (cg, "memory", NULL);
  const char *u = v2_dir (cg, "memory");
  json_t *o;
  uint64_t n;

  if (mem != NULL)
    o = read_keyed (mem, "memory.oom_control");
  else
    o = read_keyed (u, "memory.events");
  n = keyed_u64 (o, "oom_kill");
  json_decref (o);
  return n;
}
