/* Cgroups: detection, path computation, conversions, state JSON, and real placement on this host. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define NOBODY 65534

static bool
is_root (void)
{
  return geteuid () == 0;
}

static char *
resolve (const char *root, const char *own, const char *path, const char *id, bool rootless)
{
  nook_err err = { 0 };
  return nook_cgroup_resolve_path (root, own, path, id, rootless, &err);
}

static bool
resolve_fails (const char *path, const char *id)
{
  nook_err err = { 0 };
  char *r = nook_cgroup_resolve_path ("/sys/fs/cgroup", "/own", path, id, false, &err);
  bool failed = r == NULL && err.code == EINVAL && err.msg[0] != '\0';
  free (r);
  return failed;
}

#define CHECK_RESOLVE(expect, root, own, path, id, rootless)                                              \
  do                                                                                                      \
    {                                                                                                     \
      char *_r = resolve (root, own, path, id, rootless);                                                 \
      CHECK_STR (_r, expect);                                                                             \
      free (_r);                                                                                          \
    }                                                                                                     \
  while (0)

/* ---------------------------------------------------------------- pure */

static void
test_detect_hybrid (void)
{
  CHECK (nook_cgroup_detect () == NOOK_CGROUP_HYBRID);
}

static void
test_resolve_absolute (void)
{
  CHECK_RESOLVE ("/sys/fs/cgroup/memory/foo/bar", "/sys/fs/cgroup/memory", "/own", "/foo/bar", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/foo/bar", "/sys/fs/cgroup/", "/own", "//foo//bar/", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/unified/foo", "/sys/fs/cgroup/unified", "/own", "/foo", "id", true);
  CHECK (resolve_fails ("/foo/../bar", "id"));
  CHECK (resolve_fails ("/foo/./bar", "id"));
  CHECK (resolve_fails ("/", "id"));
  CHECK (resolve_fails ("//", "id"));
}

static void
test_resolve_relative (void)
{
  CHECK_RESOLVE ("/sys/fs/cgroup/user.slice/a.scope/foo/bar", "/sys/fs/cgroup", "/user.slice/a.scope", "foo/bar",
                 "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/cpu/foo", "/sys/fs/cgroup/cpu", "/", "foo", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/app.slice/foo", "/sys/fs/cgroup", "/app.slice", "foo", "id", true);
  CHECK (resolve_fails ("../escape", "id"));
  CHECK (resolve_fails ("a/../../b", "id"));
}

static void
test_resolve_default (void)
{
  CHECK_RESOLVE ("/sys/fs/cgroup/memory/nook/abc", "/sys/fs/cgroup/memory", "/process_api/x", NULL, "abc", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/nook/abc", "/sys/fs/cgroup", "/", "", "abc", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/nook-abc", "/sys/fs/cgroup",
                 "/user.slice/user-1000.slice/user@1000.service/app.slice", NULL, "abc", true);
  CHECK (resolve_fails (NULL, "a/b"));
  CHECK (resolve_fails (NULL, ""));
  CHECK (resolve_fails (NULL, ".."));
}

static void
test_resolve_systemd (void)
{
  char *s;

  CHECK_RESOLVE ("/sys/fs/cgroup/machine.slice/libpod-abc.scope", "/sys/fs/cgroup", "/own",
                 "machine.slice:libpod:abc", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/user.slice/user-1000.slice/nook-x.scope", "/sys/fs/cgroup", "/own",
                 "user-1000.slice:nook:x", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/system.slice/nook-x.scope", "/sys/fs/cgroup", "/own", ":nook:x", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/system.slice/x.scope", "/sys/fs/cgroup", "/own", "system.slice::x", "id", false);
  CHECK_RESOLVE ("/sys/fs/cgroup/u/app.slice/libpod-abc.scope", "/sys/fs/cgroup", "/u/app.slice",
                 "user.slice:libpod:abc", "id", true);
  CHECK (resolve_fails ("a.slice:b", "id"));
  CHECK (resolve_fails ("a.slice:b:c:d", "id"));
  CHECK (resolve_fails ("a.slice:p:", "id"));
  CHECK (resolve_fails ("a.slice:p:n/x", "id"));
  CHECK (resolve_fails ("notaslice:p:n", "id"));
  CHECK (resolve_fails ("a--b.slice:p:n", "id"));
  s = nook_cgroup_expand_slice ("a-b-c.slice");
  CHECK_STR (s, "/a.slice/a-b.slice/a-b-c.slice");
  free (s);
  s = nook_cgroup_expand_slice ("-.slice");
  CHECK_STR (s, "");
  free (s);
}

static void
test_shares_to_weight (void)
{
  CHECK (nook_cgroup_shares_to_weight (0) == 0);
  CHECK (nook_cgroup_shares_to_weight (1) == 1);
  CHECK (nook_cgroup_shares_to_weight (2) == 1);
  CHECK (nook_cgroup_shares_to_weight (1024) == 39);
  CHECK (nook_cgroup_shares_to_weight (262144) == 10000);
  CHECK (nook_cgroup_shares_to_weight (1000000) == 10000);
}

static void
test_swap_to_v2 (void)
{
  nook_err err = { 0 };
  int64_t v = 7;

  CHECK (nook_cgroup_swap_to_v2 (0, -1, &v, &err) == 0 && v == -1);
  CHECK (nook_cgroup_swap_to_v2 (-1, 1 << 20, &v, &err) == 0 && v == -1);
  CHECK (nook_cgroup_swap_to_v2 (0, 1 << 20, &v, &err) == 0 && v == 0);
  CHECK (nook_cgroup_swap_to_v2 (2 << 20, 1 << 20, &v, &err) == 0 && v == 1 << 20);
  CHECK (nook_cgroup_swap_to_v2 (1 << 20, 0, &v, &err) < 0);
  CHECK (nook_cgroup_swap_to_v2 (1 << 20, 2 << 20, &v, &err) < 0);
}

static void
test_own_path (void)
{
  const char *text = "9:name=systemd:/user.slice\n4:memory:/process_api/1a\n2:cpu,cpuacct:/c\n3:cpuset:/s\n0::/v2/x\n";
  char *s;

  s = nook_cgroup_own_path (text, NULL);
  CHECK_STR (s, "/v2/x");
  free (s);
  s = nook_cgroup_own_path (text, "memory");
  CHECK_STR (s, "/process_api/1a");
  free (s);
  s = nook_cgroup_own_path (text, "cpuacct");
  CHECK_STR (s, "/c");
  free (s);
  s = nook_cgroup_own_path (text, "cpu");
  CHECK_STR (s, "/c");
  free (s);
  s = nook_cgroup_own_path (text, "name=systemd");
  CHECK_STR (s, "/user.slice");
  free (s);
  CHECK (nook_cgroup_own_path (text, "pids") == NULL);
  CHECK (nook_cgroup_own_path ("1:cpu:/a\n", NULL) == NULL);
}

static void
test_devices (void)
{
  struct nook_device_rule deny_all = { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" };
  struct nook_device_rule null_dev = { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" };
  struct nook_device_rule any_b = { .allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m" };
  struct nook_device_rule odd = { .allow = true, .type = 'c', .major = 4, .minor = 5, .access = "" };
  struct nook_device_rule rules[3];
  char buf[64];

  CHECK (nook_cgroup_devices_default (NULL, 0));
  CHECK (nook_cgroup_devices_default (&deny_all, 1));
  rules[0] = deny_all, rules[1] = null_dev, rules[2] = any_b;
  CHECK (nook_cgroup_devices_default (rules, 3));
  rules[2] = odd;
  CHECK (!nook_cgroup_devices_default (rules, 3));
  CHECK (!nook_cgroup_devices_default (&null_dev, 1));
  CHECK_STR (nook_cgroup_device_rule_str (&deny_all, buf, sizeof (buf)), "a");
  CHECK_STR (nook_cgroup_device_rule_str (&null_dev, buf, sizeof (buf)), "c 1:3 rwm");
  CHECK_STR (nook_cgroup_device_rule_str (&any_b, buf, sizeof (buf)), "b *:* m");
  CHECK_STR (nook_cgroup_device_rule_str (&odd, buf, sizeof (buf)), "c 4:5 rwm");
}

static void
test_has_limits (void)
{
  struct nook_resources r = { 0 };

  CHECK (!nook_cgroup_has_limits (&r));
  r.has_memory_limit = true, r.memory_limit = -1;
  CHECK (!nook_cgroup_has_limits (&r));
  r.memory_limit = 1 << 20;
  CHECK (nook_cgroup_has_limits (&r));
  r = (struct nook_resources){ .has_pids_limit = true, .pids_limit = 10 };
  CHECK (nook_cgroup_has_limits (&r));
  r = (struct nook_resources){ .n_devices = 1 };
  CHECK (!nook_cgroup_has_limits (&r));
}

static void
test_json_round_trip (void)
{
  char *v1[] = { "/sys/fs/cgroup/memory/nook/a", "/sys/fs/cgroup/pids/nook/a", NULL };
  struct nook_cgroup cg = { .mode = NOOK_CGROUP_HYBRID, .unified = "/sys/fs/cgroup/unified/nook/a", .v1 = v1,
                            .limits_applied = true };
  struct nook_cgroup *back = NULL;
  nook_err err = { 0 };
  json_t *j = nook_cgroup_to_json (&cg);
  char *text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
  json_t *parsed = json_loads (text, 0, NULL);

  CHECK (text && strstr (text, "\"mode\":\"hybrid\"") != NULL);
  CHECK (nook_cgroup_from_json (parsed, &back, &err) == 0);
  CHECK (back && back->mode == NOOK_CGROUP_HYBRID && back->limits_applied);
  CHECK_STR (back ? back->unified : NULL, cg.unified);
  CHECK (back && strv_len (back->v1) == 2);
  CHECK_STR (back && back->v1[0] ? back->v1[0] : NULL, v1[0]);
  CHECK_STR (back && back->v1[1] ? back->v1[1] : NULL, v1[1]);
  nook_cgroup_free (back);
  json_decref (parsed);
  json_decref (j);
  free (text);

  cg = (struct nook_cgroup){ .mode = NOOK_CGROUP_V2, .unified = "/sys/fs/cgroup/x", .v1 = NULL };
  j = nook_cgroup_to_json (&cg);
  CHECK (nook_cgroup_from_json (j, &back, &err) == 0 && back->mode == NOOK_CGROUP_V2 && back->v1 && !back->v1[0]);
  nook_cgroup_free (back);
  json_decref (j);

  j = json_pack ("{s:s}", "mode", "v3");
  CHECK (nook_cgroup_from_json (j, &back, &err) < 0 && back == NULL);
  json_decref (j);
  j = json_pack ("{s:s,s:[s]}", "mode", "v1", "v1", "relative/dir");
  CHECK (nook_cgroup_from_json (j, &back, &err) < 0 && back == NULL);
  json_decref (j);
  j = json_pack ("{s:s,s:s}", "mode", "v2", "unified", "/sys/fs/cgroup/../../etc");
  CHECK (nook_cgroup_from_json (j, &back, &err) < 0);
  json_decref (j);
}

/* ---------------------------------------------------------------- limit writers on a fake directory */

static char *
fake_dir (const char *const *files)
{
  char tmpl[] = "/tmp/nook-cgfiles-XXXXXX";
  char *dir = xstrdup (mkdtemp (tmpl));
  size_t i;

  for (i = 0; files[i]; i++)
    {
      char *p = xasprintf ("%s/%s", dir, files[i]);
      close (open (p, O_WRONLY | O_CREAT | O_TRUNC, 0644));
      free (p);
    }
  return dir;
}

static char *
fake_read (const char *dir, const char *file)
{
  nook_err err;
  return nook_cgroup_read (dir, file, &err);
}

#define CHECK_FILE(dir, file, expect)                                                                     \
  do                                                                                                      \
    {                                                                                                     \
      char *_v = fake_read (dir, file);                                                                   \
      CHECK_STR (_v, expect);                                                                             \
      free (_v);                                                                                          \
    }                                                                                                     \
  while (0)

static void
test_v2_writers (void)
{
  const char *const files[] = { "memory.max", "memory.low", "memory.swap.max", "pids.max", "cpu.max",
                                "cpu.weight", "cpuset.cpus", "cpuset.mems", "io.weight", NULL };
  struct nook_kv kv[] = { { "io.weight", "50" } }, bad[] = { { "../x", "1" } };
  struct nook_resources r = { .has_memory_limit = true, .memory_limit = 1 << 20, .has_memory_swap = true,
                              .memory_swap = 3 << 20, .has_memory_reservation = true, .memory_reservation = 4096,
                              .has_pids_limit = true, .pids_limit = 0, .has_cpu_shares = true, .cpu_shares = 1024,
                              .has_cpu_quota = true, .cpu_quota = 50000, .cpu_cpus = "0", .cpu_mems = "0",
                              .unified = kv, .n_unified = 1 };
  char *dir = fake_dir (files);
  nook_err err = { 0 };

  CHECK (nook_cgroup_v2_memory (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v2_pids (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v2_cpu (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v2_cpuset (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v2_unified (dir, &r, &err) == 0);
  CHECK_FILE (dir, "memory.max", "1048576");
  CHECK_FILE (dir, "memory.low", "4096");
  CHECK_FILE (dir, "memory.swap.max", "2097152");
  CHECK_FILE (dir, "pids.max", "max");
  CHECK_FILE (dir, "cpu.max", "50000 100000");
  CHECK_FILE (dir, "cpu.weight", "39");
  CHECK_FILE (dir, "cpuset.cpus", "0");
  CHECK_FILE (dir, "io.weight", "50");
  r = (struct nook_resources){ .has_memory_limit = true, .memory_limit = -1, .has_cpu_quota = true,
                               .cpu_quota = -1, .has_cpu_period = true, .cpu_period = 250000 };
  nook_rm_rf_at (AT_FDCWD, dir, &err);
  free (dir);
  dir = fake_dir (files); /* regular files are not truncated by the writes: start afresh */
  CHECK (nook_cgroup_v2_memory (dir, &r, &err) == 0 && nook_cgroup_v2_cpu (dir, &r, &err) == 0);
  CHECK_FILE (dir, "memory.max", "max");
  CHECK_FILE (dir, "cpu.max", "max 250000");
  r = (struct nook_resources){ .unified = bad, .n_unified = 1 };
  CHECK (nook_cgroup_v2_unified (dir, &r, &err) < 0 && err.code == EINVAL);
  nook_rm_rf_at (AT_FDCWD, dir, &err);
  free (dir);
}

static void
test_v1_writers (void)
{
  const char *const files[] = { "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "pids.max", "cpu.shares",
                                "cpu.cfs_quota_us", "cpu.cfs_period_us", "devices.allow", "devices.deny", NULL };
  struct nook_device_rule dev[] = { { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
                                    { .allow = true, .type = 'c', .major = 1, .minor = -1, .access = "rw" } };
  struct nook_resources r = { .has_memory_limit = true, .memory_limit = 1 << 20, .has_memory_swap = true,
                              .memory_swap = 3 << 20, .has_pids_limit = true, .pids_limit = 7,
                              .has_cpu_shares = true, .cpu_shares = 512, .has_cpu_quota = true, .cpu_quota = -1,
                              .has_cpu_period = true, .cpu_period = 100000, .devices = dev, .n_devices = 2 };
  char *dir = fake_dir (files);
  nook_err err = { 0 };

  /* memory.memsw.limit_in_bytes absent (no swap accounting): the swap limit is skipped, not an error */
  CHECK (nook_cgroup_v1_memory (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v1_pids (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v1_cpu (dir, &r, &err) == 0);
  CHECK (nook_cgroup_v1_devices (dir, &r, NULL, 0, &err) == 0);
  CHECK_FILE (dir, "memory.limit_in_bytes", "1048576");
  CHECK_FILE (dir, "pids.max", "7");
  CHECK_FILE (dir, "cpu.shares", "512");
  CHECK_FILE (dir, "cpu.cfs_quota_us", "-1");
  CHECK_FILE (dir, "cpu.cfs_period_us", "100000");
  CHECK_FILE (dir, "devices.deny", "a");
  /* the spec's allow rules come first, then the always-allowed list: the fake file keeps the last write */
  CHECK_FILE (dir, "devices.allow", "c 10:200 rwm");
  nook_rm_rf_at (AT_FDCWD, dir, &err);
  free (dir);
}

/* ---------------------------------------------------------------- real placement */

static pid_t
spawn_sleeper (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      for (;;)
        pause ();
    }
  return pid;
}

static char *
read_path (const char *path)
{
  char *out = NULL;
  size_t len;
  nook_err err;

  if (nook_read_file_at (AT_FDCWD, path, &out, &len, 1 << 20, &err) < 0)
    return NULL;
  while (len > 0 && out[len - 1] == '\n')
    out[--len] = '\0';
  return out;
}

static bool
path_exists (const char *p)
{
  struct stat st;
  return stat (p, &st) == 0;
}

static bool
has_dir (const struct nook_cgroup *cg, const char *dir)
{
  size_t i;
  for (i = 0; cg->v1 && cg->v1[i]; i++)
    if (strcmp (cg->v1[i], dir) == 0)
      return true;
  return false;
}

static void
check_child_cgroups (pid_t pid, const char *id)
{
  char *procfile = xasprintf ("/proc/%d/cgroup", (int) pid);
  char *text = read_path (procfile);
  char *mem = xasprintf ("memory:/nook/%s\n", id);
  char *pids = xasprintf ("pids:/nook/%s\n", id);
  char *uni = xasprintf ("0::/nook/%s", id);

  CHECK (text && strstr (text, mem) != NULL);
  CHECK (text && strstr (text, pids) != NULL);
  CHECK (text && strstr (text, uni) != NULL);
  free (procfile), free (text), free (mem), free (pids), free (uni);
}

static void
check_limits_and_pids (const struct nook_cgroup *cg, const char *id, pid_t child)
{
  char *memdir = xasprintf ("/sys/fs/cgroup/memory/nook/%s", id);
  char *memfile = xasprintf ("%s/memory.limit_in_bytes", memdir);
  char *pidsfile = xasprintf ("/sys/fs/cgroup/pids/nook/%s/pids.max", id);
  char *v;
  pid_t *pids = NULL;
  size_t n = 0;
  nook_err err = { 0 };

  CHECK (has_dir (cg, memdir));
  v = read_path (memfile);
  CHECK_STR (v, "67108864");
  free (v);
  v = read_path (pidsfile);
  CHECK_STR (v, "32");
  free (v);
  CHECK (nook_cgroup_pids (cg, &pids, &n, &err) == 0 && n == 1 && pids && pids[0] == child);
  free (pids);
  free (memdir), free (memfile), free (pidsfile);
}

static void
check_gone (const struct nook_cgroup *cg)
{
  size_t i;
  CHECK (!path_exists (cg->unified));
  for (i = 0; cg->v1[i]; i++)
    CHECK (!path_exists (cg->v1[i]));
}

/* Best effort: the shared /nook parents go when no other container uses them. */
static void
remove_nook_parents (void)
{
  const char *h[] = { "unified", "cpu",     "cpuacct", "cpuset", "memory", "devices",
                      "freezer", "blkio",   "pids",    "systemd", NULL };
  size_t i;

  for (i = 0; h[i]; i++)
    {
      char *d = xasprintf ("/sys/fs/cgroup/%s/nook", h[i]);
      rmdir (d);
      free (d);
    }
}

static void
test_real_root (void)
{
  struct nook_spec spec = { 0 };
  struct nook_cgroup *cg = NULL;
  nook_err err = { 0 };
  char id[64];
  char *uni;
  pid_t child, child2;
  int st;

  if (!is_root ())
    {
      printf ("    note: not root, real cgroup test skipped\n");
      return;
    }
  snprintf (id, sizeof (id), "unit-%d", (int) getpid ());
  spec.resources = (struct nook_resources){ .has_memory_limit = true, .memory_limit = 64 << 20,
                                            .has_pids_limit = true, .pids_limit = 32 };
  child = spawn_sleeper ();
  CHECK (nook_cgroup_create (&spec, id, false, child, &cg, &err) == 0);
  if (cg == NULL)
    {
      printf ("    create: %s\n", err.msg);
      kill (child, SIGKILL), waitpid (child, &st, 0);
      CHECK (cg != NULL);
      return;
    }
  uni = xasprintf ("/sys/fs/cgroup/unified/nook/%s", id);
  CHECK (cg->mode == NOOK_CGROUP_HYBRID && cg->limits_applied);
  CHECK_STR (cg->unified, uni);
  check_limits_and_pids (cg, id, child);
  check_child_cgroups (child, id);

  child2 = spawn_sleeper ();
  CHECK (nook_cgroup_enter (cg, child2, &err) == 0);
  check_child_cgroups (child2, id);
  kill (child2, SIGKILL), waitpid (child2, &st, 0);

  kill (child, SIGKILL), waitpid (child, &st, 0);
  CHECK (nook_cgroup_destroy (cg, &err) == 0);
  check_gone (cg);
  CHECK (nook_cgroup_destroy (cg, &err) == 0); /* ENOENT is fine */
  nook_cgroup_free (cg);
  free (uni);
  remove_nook_parents ();
}

static void
test_real_limit_error (void)
{
  struct nook_spec spec = { 0 };
  struct nook_cgroup *cg = NULL;
  nook_err err = { 0 };
  char id[64];
  char *expect, *dir;

  if (!is_root ())
    {
      printf ("    note: not root, real cgroup test skipped\n");
      return;
    }
  snprintf (id, sizeof (id), "unit-bad-%d", (int) getpid ());
  spec.resources.cpu_cpus = "4095";
  CHECK (nook_cgroup_create (&spec, id, false, 0, &cg, &err) < 0 && cg == NULL);
  expect = xasprintf ("write `/sys/fs/cgroup/cpuset/nook/%s/cpuset.cpus`: ", id);
  CHECK (strncmp (err.msg, expect, strlen (expect)) == 0);
  if (strncmp (err.msg, expect, strlen (expect)) != 0)
    printf ("    got: %s\n", err.msg);
  dir = xasprintf ("/sys/fs/cgroup/cpuset/nook/%s", id);
  CHECK (!path_exists (dir));
  free (dir);
  dir = xasprintf ("/sys/fs/cgroup/unified/nook/%s", id);
  CHECK (!path_exists (dir));
  free (dir), free (expect);
  remove_nook_parents ();
}

/* ---------------------------------------------------------------- rootless simulation */

static void
drop_to_nobody (void)
{
  if (setgroups (0, NULL) < 0 || setgid (NOBODY) < 0 || setuid (NOBODY) < 0)
    _exit (90);
}

/* In a child that becomes nobody: create with or without limits; stderr goes to LOG.
 * Exit status: 0 = returned 0 and placed nothing, 1 = failed, 2 = placed something. */
static int
rootless_create (bool limits, const char *log)
{
  pid_t pid = fork ();
  int st;

  if (pid == 0)
    {
      struct nook_spec spec = { 0 };
      struct nook_cgroup *cg = NULL;
      nook_err err = { 0 };
      int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

      if (fd < 0 || dup2 (fd, STDERR_FILENO) < 0)
        _exit (91);
      drop_to_nobody ();
      if (limits)
        spec.resources = (struct nook_resources){ .has_memory_limit = true, .memory_limit = 64 << 20,
                                                  .has_pids_limit = true, .pids_limit = 32 };
      if (nook_cgroup_create (&spec, "rootless-unit", true, getpid (), &cg, &err) < 0)
        _exit (1);
      _exit (cg == NULL ? 0 : 2);
    }
  if (waitpid (pid, &st, 0) < 0 || !WIFEXITED (st))
    return -1;
  return WEXITSTATUS (st);
}

static int
count (const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = hay; p && (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

static void
test_rootless_v1_warns (void)
{
  char log[] = "/tmp/nook-cgroup-test-XXXXXX";
  int fd;
  char *text;

  if (!is_root ())
    {
      printf ("    note: not root, cannot simulate rootless with setuid\n");
      return;
    }
  fd = mkstemp (log);
  CHECK (fd >= 0);
  close (fd);
  CHECK (rootless_create (true, log) == 0);
  text = read_path (log);
  CHECK (count (text, "cgroup v1 is not delegated to unprivileged users: running without resource limits") == 1);
  free (text);
  CHECK (rootless_create (false, log) == 0);
  text = read_path (log);
  CHECK (text && text[0] == '\0');
  free (text);
  unlink (log);
}

/* A fake cgroup tree: ROOT/a/b/c, each with a cgroup.procs; the listed ones owned by nobody. */
static char *
fake_tree (const char *const *owned)
{
  char tmpl[] = "/tmp/nook-cgtree-XXXXXX";
  char *root = xstrdup (mkdtemp (tmpl));
  const char *dirs[] = { "", "/a", "/a/b", "/a/b/c" };
  size_t i;

  chmod (root, 0755);
  for (i = 0; i < 4; i++)
    {
      char *d = xasprintf ("%s%s", root, dirs[i]);
      char *p = xasprintf ("%s/cgroup.procs", d);
      mkdir (d, 0755);
      close (open (p, O_WRONLY | O_CREAT, 0644));
      free (d), free (p);
    }
  for (i = 0; owned[i]; i++)
    {
      char *d = xasprintf ("%s%s", root, owned[i]);
      char *p = xasprintf ("%s/cgroup.procs", d);
      CHECK (chown (d, NOBODY, NOBODY) == 0 && chown (p, NOBODY, NOBODY) == 0);
      free (d), free (p);
    }
  return root;
}

/* nook_cgroup_v2_rootless_base (ROOT, OWN) computed as nobody; compared with EXPECT (NULL: none). */
static bool
base_as_nobody (const char *root, const char *own, const char *expect)
{
  pid_t pid = fork ();
  int st;

  if (pid == 0)
    {
      char *b;
      drop_to_nobody ();
      b = nook_cgroup_v2_rootless_base (root, own);
      if (expect == NULL)
        _exit (b == NULL ? 0 : 1);
      _exit (b != NULL && strcmp (b, expect) == 0 ? 0 : 1);
    }
  return waitpid (pid, &st, 0) == pid && WIFEXITED (st) && WEXITSTATUS (st) == 0;
}

static void
test_rootless_v2_base (void)
{
  const char *const bc[] = { "/a/b", "/a/b/c", NULL };
  const char *const c[] = { "/a/b/c", NULL };
  const char *const none[] = { NULL };
  nook_err err;
  char *root;

  if (!is_root ())
    {
      printf ("    note: not root, cannot simulate rootless with setuid\n");
      return;
    }
  root = fake_tree (bc);
  CHECK (base_as_nobody (root, "/a/b/c", "/a/b"));       /* parent of our own cgroup: delegated */
  CHECK (base_as_nobody (root, "/a/b/c/d/e", "/a/b/c")); /* closest writable ancestor */
  nook_rm_rf_at (AT_FDCWD, root, &err);
  free (root);
  root = fake_tree (c);
  CHECK (base_as_nobody (root, "/a/b/c", "/a/b/c")); /* only our own cgroup is ours */
  nook_rm_rf_at (AT_FDCWD, root, &err);
  free (root);
  root = fake_tree (none);
  CHECK (base_as_nobody (root, "/a/b/c", NULL));
  nook_rm_rf_at (AT_FDCWD, root, &err);
  free (root);
}

/* Delegation simulated on the unified hierarchy: D owned by nobody, our process in D/own; as nobody,
 * create must pick D (the parent of our own cgroup) and move us to D/nook-deleg. */
static char *
make_delegated (void)
{
  char *d = xasprintf ("/sys/fs/cgroup/unified/nook-deleg-%d", (int) getpid ());
  const char *files[] = { "", "/cgroup.procs", "/cgroup.subtree_control", "/own", "/own/cgroup.procs" };
  size_t i;
  char *own = xasprintf ("%s/own", d);

  CHECK (mkdir (d, 0755) == 0 && mkdir (own, 0755) == 0);
  for (i = 0; i < sizeof (files) / sizeof (files[0]); i++)
    {
      char *p = xasprintf ("%s%s", d, files[i]);
      CHECK (chown (p, NOBODY, NOBODY) == 0);
      free (p);
    }
  free (own);
  return d;
}

static int
deleg_child (const char *d, int rfd, const char *log)
{
  struct nook_spec spec = { 0 };
  struct nook_cgroup *cg = NULL;
  nook_err err = { 0 };
  char c, *expect = xasprintf ("%s/nook-deleg", d), *self;
  int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0 || dup2 (fd, STDERR_FILENO) < 0 || read (rfd, &c, 1) != 1)
    return 91;
  drop_to_nobody ();
  spec.resources = (struct nook_resources){ .has_pids_limit = true, .pids_limit = 32 };
  if (nook_cgroup_create (&spec, "deleg", true, getpid (), &cg, &err) < 0)
    return 1;
  if (cg == NULL || cg->unified == NULL || strcmp (cg->unified, expect) != 0 || cg->v1[0] != NULL)
    return 2;
  self = read_path ("/proc/self/cgroup");
  if (self == NULL || strstr (self, expect + strlen ("/sys/fs/cgroup/unified")) == NULL)
    return 3;
  return 0;
}

static void
test_rootless_v2_delegated (void)
{
  char log[] = "/tmp/nook-cgroup-test-XXXXXX";
  int p[2], st = 0, fd;
  char *d, *own_procs, *leaf, *own, *text, buf[32];
  pid_t pid;
  nook_err err;

  if (!is_root ())
    {
      printf ("    note: not root, cannot simulate delegation\n");
      return;
    }
  fd = mkstemp (log);
  close (fd);
  d = make_delegated ();
  CHECK (pipe (p) == 0);
  pid = fork ();
  if (pid == 0)
    _exit (deleg_child (d, p[0], log));
  own_procs = xasprintf ("%s/own/cgroup.procs", d);
  snprintf (buf, sizeof (buf), "%d", (int) pid);
  CHECK (nook_write_file_at (AT_FDCWD, own_procs, buf, strlen (buf), &err) == 0);
  CHECK (write (p[1], "x", 1) == 1);
  CHECK (waitpid (pid, &st, 0) == pid && WIFEXITED (st));
  CHECK (WEXITSTATUS (st) == 0);
  if (WEXITSTATUS (st) != 0)
    printf ("    child status %d\n", WEXITSTATUS (st));
  text = read_path (log);
  CHECK (count (text, "cgroup v1 is not delegated to unprivileged users") == 1);
  leaf = xasprintf ("%s/nook-deleg", d);
  own = xasprintf ("%s/own", d);
  rmdir (leaf), rmdir (own);
  CHECK (rmdir (d) == 0);
  close (p[0]), close (p[1]);
  unlink (log);
  free (d), free (own_procs), free (leaf), free (own), free (text);
}

int
main (void)
{
  RUN (test_detect_hybrid);
  RUN (test_resolve_absolute);
  RUN (test_resolve_relative);
  RUN (test_resolve_default);
  RUN (test_resolve_systemd);
  RUN (test_shares_to_weight);
  RUN (test_swap_to_v2);
  RUN (test_own_path);
  RUN (test_devices);
  RUN (test_has_limits);
  RUN (test_json_round_trip);
  RUN (test_v2_writers);
  RUN (test_v1_writers);
  RUN (test_real_root);
  RUN (test_real_limit_error);
  RUN (test_rootless_v1_warns);
  RUN (test_rootless_v2_base);
  RUN (test_rootless_v2_delegated);
  return HARNESS_END ();
}
