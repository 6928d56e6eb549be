/* pause, resume, update, events: the verbs on a container's cgroup, with runc's flags and output. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "runtime_cli.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

static int
pause_resume (struct rt_global *g, int argc, char **argv, bool pause)
{
  nook_err err = { 0 };

  if (argc != 2 || argv[1][0] == '-')
    return rt_usage (g, "%s: expected exactly one container ID", argv[0]);
  if (nook_container_pause (&g->ctx, argv[1], pause, &err) < 0)
    return rt_fail (g, &err);
  return 0;
}

int
rt_pause (struct rt_global *g, int argc, char **argv)
{
  return pause_resume (g, argc, argv, true);
}

int
rt_resume (struct rt_global *g, int argc, char **argv)
{
  return pause_resume (g, argc, argv, false);
}

/* ---------------------------------------------------------------- update */

/* docker's RAMInBytes: "512", "512k", "1.5g", "64MiB"; binary multiples.  "-1" when MINUS_ONE. */
static bool
parse_bytes (const char *s, bool minus_one, int64_t *out)
{
  static const char units[] = "kmgtp";
  char *end;
  double v;
  const char *u;

  if (minus_one && strcmp (s, "-1") == 0)
    return *out = -1, true;
  errno = 0;
  v = strtod (s, &end);
  if (end == s || errno != 0 || v < 0 || !isfinite (v) || s[0] == '-' || s[0] == '+')
    return false;
  while (*end == ' ')
    end++;
  if (*end && (u = strchr (units, end[0] | 0x20)) != NULL)
    {
      for (long i = 0; i <= u - units; i++)
        v *= 1024;
      end++;
    }
  if (*end == 'i' || *end == 'I')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || v > (double) INT64_MAX)
    return false;
  *out = (int64_t) v;
  return true;
}

static bool
parse_i64 (const char *s, int64_t min, int64_t *out)
{
  char *end;
  long long v;

  errno = 0;
  v = strtoll (s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v < min)
    return false;
  *out = v;
  return true;
}

enum
{
  U_RESOURCES = 'r',
  U_MEMORY = 1000,
  U_MEMORY_RES,
  U_MEMORY_SWAP,
  U_KMEM,
  U_KMEM_TCP,
  U_CPU_SHARES,
  U_CPU_QUOTA,
  U_CPU_PERIOD,
  U_CPU_RT_PERIOD,
  U_CPU_RT_RUNTIME,
  U_CPUSET_CPUS,
  U_CPUSET_MEMS,
  U_PIDS,
  U_BLKIO,
  U_L3,
  U_MEMBW,
};

static const struct option update_opts[] = {
  { "resources", required_argument, NULL, U_RESOURCES },
  { "memory", required_argument, NULL, U_MEMORY },
  { "memory-reservation", required_argument, NULL, U_MEMORY_RES },
  { "memory-swap", required_argument, NULL, U_MEMORY_SWAP },
  { "kernel-memory", required_argument, NULL, U_KMEM },
  { "kernel-memory-tcp", required_argument, NULL, U_KMEM_TCP },
  { "cpu-share", required_argument, NULL, U_CPU_SHARES },
  { "cpu-shares", required_argument, NULL, U_CPU_SHARES },
  { "cpu-quota", required_argument, NULL, U_CPU_QUOTA },
  { "cpu-period", required_argument, NULL, U_CPU_PERIOD },
  { "cpu-rt-period", required_argument, NULL, U_CPU_RT_PERIOD },
  { "cpu-rt-runtime", required_argument, NULL, U_CPU_RT_RUNTIME },
  { "cpuset-cpus", required_argument, NULL, U_CPUSET_CPUS },
  { "cpuset-mems", required_argument, NULL, U_CPUSET_MEMS },
  { "pids-limit", required_argument, NULL, U_PIDS },
  { "blkio-weight", required_argument, NULL, U_BLKIO },
  { "l3-cache-schema", required_argument, NULL, U_L3 },
  { "mem-bw-schema", required_argument, NULL, U_MEMBW },
  { NULL, 0, NULL, 0 },
};

/* One flag into R.  Returns false on a bad value (message printed). */
static bool
update_flag (struct rt_global *g, int c, const char *name, const char *v, struct nook_resources *r)
{
  int64_t n;

  switch (c)
    {
    case U_MEMORY:
    case U_MEMORY_RES:
    case U_MEMORY_SWAP:
      if (!parse_bytes (v, true, &n))
        return rt_usage (g, "update: --%s `%s`: expected a size such as 512m or -1", name, v), false;
      if (c == U_MEMORY)
        r->memory_limit = n, r->has_memory_limit = true;
      else if (c == U_MEMORY_RES)
        r->memory_reservation = n, r->has_memory_reservation = true;
      else
        r->memory_swap = n, r->has_memory_swap = true;
      return true;
    case U_KMEM:
    case U_KMEM_TCP:
      fprintf (stderr, "%s: update: --%s is deprecated and ignored (kernel memory limits are gone)\n", g->prog,
               name);
      return true;
    case U_CPU_SHARES:
    case U_CPU_PERIOD:
    case U_PIDS:
    case U_CPU_QUOTA:
      if (!parse_i64 (v, c == U_CPU_QUOTA || c == U_PIDS ? INT64_MIN : 0, &n))
        return rt_usage (g, "update: --%s `%s`: expected an integer", name, v), false;
      if (c == U_CPU_SHARES)
        r->cpu_shares = (uint64_t) n, r->has_cpu_shares = true;
      else if (c == U_CPU_PERIOD)
        r->cpu_period = (uint64_t) n, r->has_cpu_period = true;
      else if (c == U_CPU_QUOTA)
        r->cpu_quota = n, r->has_cpu_quota = true;
      else
        r->pids_limit = n, r->has_pids_limit = true;
      return true;
    case U_CPUSET_CPUS:
      free (r->cpu_cpus);
      r->cpu_cpus = xstrdup (v);
      return true;
    case U_CPUSET_MEMS:
      free (r->cpu_mems);
      r->cpu_mems = xstrdup (v);
      return true;
    default:
      if (strcmp (v, "0") == 0 || strcmp (v, "") == 0)
        return true;
      return rt_usage (g, "update: --%s: not supported by nook-runtime (no realtime, blkio or Intel RDT cgroup "
                          "support)",
                       name),
             false;
    }
}

static int
load_resources (struct rt_global *g, const char *file, struct nook_resources *r)
{
  cleanup_free char *text = NULL;
  nook_err err = { 0 };
  json_error_t jerr;
  json_t *o;
  size_t len = 0;
  int ret;

  if (strcmp (file, "-") == 0)
    ret = nook_read_fd (0, &text, &len, 4 << 20, &err);
  else
    ret = nook_read_file_at (AT_FDCWD, file, &text, &len, 4 << 20, &err);
  if (ret < 0)
    return rt_fail (g, &err);
  o = json_loadb (text, len, 0, &jerr);
  if (o == NULL || !json_is_object (o))
    {
      json_decref (o);
      return rt_usage (g, "update: --resources `%s`: not a JSON object: %s", file, jerr.text);
    }
  ret = nook_resources_parse (o, strcmp (file, "-") == 0 ? "resources" : file, r, &err);
  json_decref (o);
  return ret < 0 ? rt_fail (g, &err) : 0;
}

int
rt_update (struct rt_global *g, int argc, char **argv)
{
  struct nook_resources flags = { 0 }, res = { 0 };
  const char *file = NULL;
  nook_err err = { 0 };
  int c, idx, ret;

  optind = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+r:", update_opts, &idx)) != -1)
    {
      if (c == '?' || c == ':')
        {
          nook_resources_free (&flags);
          return rt_usage (g, "update: unknown option or missing value `%s`", argv[optind - 1]);
        }
      if (c == U_RESOURCES)
        file = optarg;
      else if (!update_flag (g, c, c == U_RESOURCES ? "resources" : update_opts[idx].name, optarg, &flags))
        {
          nook_resources_free (&flags);
          return NOOK_EXIT_ERROR;
        }
    }
  if (optind != argc - 1)
    {
      nook_resources_free (&flags);
      return rt_usage (g, "update: expected exactly one container ID");
    }
  /* Like runc: --resources replaces the flags. */
  if (file != NULL)
    {
      nook_resources_free (&flags);
      if ((ret = load_resources (g, file, &res)) != 0)
        return ret;
    }
  else
    res = flags;
  ret = nook_container_update (&g->ctx, argv[optind], &res, &err) < 0 ? rt_fail (g, &err) : 0;
  nook_resources_free (&res);
  return ret;
}

/* ---------------------------------------------------------------- events */

/* Go's durations ("5s", "100ms", "1m30s", "1.5h"); a bare number is seconds. */
static bool
parse_duration (const char *s, double *secs)
{
  static const struct
  {
    const char *unit;
    double mul;
  } units[] = { { "ns", 1e-9 }, { "us", 1e-6 }, { "µs", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 } };
  double total = 0;
  const char *p = s;

  while (*p)
    {
      char *end;
      double v = strtod (p, &end);
      size_t best = 0, k;
      if (end == p || v < 0 || !isfinite (v))
        return false;
      if (*end == '\0' && p == s)
        return *secs = v, v > 0;
      for (k = 0; k < sizeof (units) / sizeof (units[0]); k++)
        if (strncmp (end, units[k].unit, strlen (units[k].unit)) == 0
            && (best == 0 || strlen (units[k].unit) > strlen (units[best - 1].unit)))
          best = k + 1;
      if (best == 0)
        return false;
      total += v * units[best - 1].mul;
      p = end + strlen (units[best - 1].unit);
    }
  *secs = total;
  return total > 0;
}

static void
emit (const char *type, const char *id, json_t *data)
{
  json_t *o = json_pack ("{s:s,s:s}", "type", type, "id", id);
  char *s;

  if (data)
    json_object_set (o, "data", data);
  s = json_dumps (o, JSON_COMPACT);
  if (s)
    {
      puts (s);
      fflush (stdout);
    }
  free (s);
  json_decref (o);
}

static void
sleep_secs (double s)
{
  struct timespec ts = { (time_t) s, (long) ((s - (double) (time_t) s) * 1e9) };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Until the container stops: its stats every INTERVAL, and an "oom" event whenever the OOM count grows
 * (checked at least every 200 ms). */
static int
events_stream (struct rt_global *g, const char *id, double interval)
{
  nook_err err = { 0 };
  json_t *stats = NULL;
  uint64_t ooms = 0, now;
  double since = interval;

  if (nook_container_stats (&g->ctx, id, &stats, &ooms, &err) < 0)
    return rt_fail (g, &err);
  json_decref (stats);
  for (;;)
    {
      double step = interval < 0.2 ? interval : 0.2;
      stats = NULL;
      if (nook_container_stats (&g->ctx, id, &stats, &now, &err) < 0)
        return err.code == EINVAL || err.code == ENOENT ? 0 : rt_fail (g, &err); /* stopped or deleted */
      if (now > ooms)
        emit ("oom", id, NULL);
      ooms = now;
      if (since >= interval)
        {
          emit ("stats", id, stats);
          since = 0;
        }
      json_decref (stats);
      sleep_secs (step);
      since += step;
    }
}

int
rt_events (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  bool once = false;
  double interval = 5;
  json_t *stats = NULL;
  int i = 1;

  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *v = NULL;
      if (strcmp (argv[i], "--stats") == 0)
        once = true;
      else if (strncmp (argv[i], "--interval=", 11) == 0)
        v = argv[i] + 11;
      else if (strcmp (argv[i], "--interval") == 0 && i + 1 < argc)
        v = argv[++i];
      else
        return rt_usage (g, "events: unknown option `%s`", argv[i]);
      if (v && !parse_duration (v, &interval))
        return rt_usage (g, "events: --interval `%s`: expected a duration such as 5s or 500ms", v);
    }
  if (i != argc - 1)
    return rt_usage (g, "events: expected exactly one container ID");
  if (!once)
    return events_stream (g, argv[i], interval);
  if (nook_container_stats (&g->ctx, argv[i], &stats, NULL, &err) < 0)
    return rt_fail (g, &err);
  emit ("stats", argv[i], stats);
  json_decref (stats);
  return 0;
}
