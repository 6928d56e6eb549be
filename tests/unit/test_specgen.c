/* The spec generator: a fake image (config + hand-made layers with /etc/passwd and /etc/group) in a
 * temporary store, `run` flags parsed by nook_run_opts_parse, and the spec checked as JSON and through
 * nook_spec_parse; the default seccomp profile compiled and loaded in a child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "manager/runopts.h"
#include "manager/specgen.h"
#include "manager/specgen_internal.h"
#include "runtime/security.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define L1 "1111111111111111111111111111111111111111111111111111111111111111"
#define L2 "2222222222222222222222222222222222222222222222222222222222222222"
#define L3 "3333333333333333333333333333333333333333333333333333333333333333"
#define CTR_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char tmp[64];
static struct nook_store store;
static char *layers_two[] = { "sha256:" L1, "sha256:" L2, NULL };
static char *layers_wh[] = { "sha256:" L1, "sha256:" L2, "sha256:" L3, NULL };
static char *img_names[] = { "docker.io/library/alpine:latest", NULL };
static struct nook_image image = { .id = "feedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeed",
                                   .names = img_names, .layers = layers_two };
static const char *image_cfg_text = "{\"config\":{\"Env\":[\"PATH=/bin:/usr/bin\",\"FOO=img\"],\"Cmd\":[\"sh\"],"
                                    "\"WorkingDir\":\"/work\",\"Volumes\":{\"/data\":{}},\"StopSignal\":\"SIGQUIT\","
                                    "\"Labels\":{\"org.x\":\"1\"}}}";

/* ---- fixtures ---- */

static void
write_at (const char *path, const char *text)
{
  nook_err err;
  cleanup_free char *dir = xstrdup (path);
  *strrchr (dir, '/') = '\0';
  nook_mkdir_p (dir, 0755, &err);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      nook_write_all (fd, text, strlen (text));
      close (fd);
    }
}

static void
setup (void)
{
  nook_err err;
  char path[256];

  snprintf (tmp, sizeof (tmp), "/tmp/nook-specgen-XXXXXX");
  if (mkdtemp (tmp) == NULL)
    abort ();
  store = (struct nook_store){ .root = tmp, .dirfd = -1 };
  snprintf (path, sizeof (path), "%s/layers/%s/diff/etc/passwd", tmp, L1);
  write_at (path, "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
  snprintf (path, sizeof (path), "%s/layers/%s/diff/etc/group", tmp, L1);
  write_at (path, "root:x:0:root\nold:x:99:alice\n");
  /* the upper layer replaces /etc/group */
  snprintf (path, sizeof (path), "%s/layers/%s/diff/etc/group", tmp, L2);
  write_at (path, "root:x:0:root\nwheel:x:10:root,alice\nalice:x:1000:\nstaff:x:50:\n");
  snprintf (path, sizeof (path), "%s/layers/%s/diff/etc", tmp, L3);
  nook_mkdir_p (path, 0755, &err);
  snprintf (path, sizeof (path), "%s/layers/%s/diff/etc/passwd", tmp, L3);
  mknod (path, S_IFCHR | 0600, makedev (0, 0)); /* a whiteout: hides the lower passwd (needs root) */
  snprintf (path, sizeof (path), "%s/hostdir", tmp);
  nook_mkdir_p (path, 0755, &err);
}

static void
teardown (void)
{
  nook_err err;
  nook_rm_rf_at (AT_FDCWD, tmp, &err);
}

struct gen
{
  json_t *spec, *record;
  struct nook_spec *parsed;
  nook_err err;
  int rc;
};

static void
gen_free (struct gen *g)
{
  json_decref (g->spec);
  json_decref (g->record);
  if (g->parsed)
    nook_spec_free (g->parsed);
}

/* Parse "run FLAGS... IMAGE [CMD...]" (NULL-terminated varargs) and generate. */
static struct gen
gen_with (const char *cfg_text, const struct nook_image *img, const char *first, ...)
{
  struct gen g = { 0 };
  char *argv[64] = { "run" };
  int argc = 1;
  va_list ap;
  struct nook_run_opts o;
  json_t *cfg = json_loads (cfg_text, 0, NULL);
  cleanup_free char *dir = xasprintf ("%s/containers/%s", tmp, CTR_ID);

  va_start (ap, first);
  for (const char *a = first; a != NULL && argc < 63; a = va_arg (ap, const char *))
    argv[argc++] = (char *) a;
  va_end (ap);
  nook_run_opts_init (&o);
  g.rc = nook_run_opts_parse (argc, argv, &o, &g.err);
  if (g.rc < 0)
    {
      printf ("    parse: %s\n", g.err.msg);
      goto out;
    }
  struct nook_specgen_in in = { .store = &store, .image = img, .image_config = cfg, .opts = &o, .id = CTR_ID,
                                .name = "ctr", .ctr_dir = dir };
  g.rc = nook_specgen (&in, &g.spec, &g.record, &g.err);
  if (g.rc == 0)
    {
      cleanup_free char *text = json_dumps (g.spec, 0);
      nook_err perr;
      if (nook_spec_parse (text, strlen (text), "config.json", &g.parsed, &perr) < 0)
        {
          printf ("    nook_spec_parse: %s\n", perr.msg);
          g.rc = -2;
        }
    }
out:
  nook_run_opts_free (&o);
  json_decref (cfg);
  return g;
}

#define GEN(...) gen_with (image_cfg_text, &image, __VA_ARGS__, NULL)

static const char *
jstr (json_t *root, const char *path)
{
  json_t *v = root;
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;

  for (char *k = strtok_r (copy, ".", &save); k != NULL && v != NULL; k = strtok_r (NULL, ".", &save))
    v = json_is_array (v) ? json_array_get (v, (size_t) atoi (k)) : json_object_get (v, k);
  return json_string_value (v);
}

static json_t *
jget (json_t *root, const char *path)
{
  json_t *v = root;
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;

  for (char *k = strtok_r (copy, ".", &save); k != NULL && v != NULL; k = strtok_r (NULL, ".", &save))
    v = json_is_array (v) ? json_array_get (v, (size_t) atoi (k)) : json_object_get (v, k);
  return v;
}

static bool
has_str (json_t *arr, const char *s)
{
  size_t i;
  json_t *v;

  json_array_foreach (arr, i, v)
    if (json_is_string (v) && strcmp (json_string_value (v), s) == 0)
      return true;
  return false;
}

static json_t *
mount_at (json_t *spec, const char *dest)
{
  size_t i;
  json_t *m;

  json_array_foreach (json_object_get (spec, "mounts"), i, m)
    if (strcmp (json_string_value (json_object_get (m, "destination")), dest) == 0)
      return m;
  return NULL;
}

static char *
argv_str (json_t *spec)
{
  return json_dumps (jget (spec, "process.args"), JSON_COMPACT);
}

/* ---- tests ---- */

static void
test_args (void)
{
  struct gen g = GEN ("alpine");
  cleanup_free char *a1 = g.rc == 0 ? argv_str (g.spec) : NULL;
  CHECK (g.rc == 0);
  CHECK_STR (a1, "[\"sh\"]");
  gen_free (&g);

  g = GEN ("alpine", "echo", "hi");
  cleanup_free char *a2 = g.rc == 0 ? argv_str (g.spec) : NULL;
  CHECK_STR (a2, "[\"echo\",\"hi\"]");
  CHECK_STR (jstr (g.record, "Path"), "echo");
  CHECK_STR (jstr (g.record, "Args.0"), "hi");
  CHECK_STR (jstr (g.record, "Config.Cmd.0"), "echo");
  CHECK_STR (jstr (g.record, "Config.Entrypoint"), "");
  gen_free (&g);

  g = gen_with ("{\"config\":{\"Entrypoint\":[\"/ep\",\"-x\"],\"Cmd\":[\"a\"]}}", &image, "alpine", NULL);
  cleanup_free char *a3 = g.rc == 0 ? argv_str (g.spec) : NULL;
  CHECK_STR (a3, "[\"/ep\",\"-x\",\"a\"]");
  gen_free (&g);

  /* --entrypoint replaces the entrypoint and drops the image's Cmd */
  g = gen_with ("{\"config\":{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}}", &image, "--entrypoint", "/x", "alpine",
                NULL);
  cleanup_free char *a4 = g.rc == 0 ? argv_str (g.spec) : NULL;
  CHECK_STR (a4, "[\"/x\"]");
  gen_free (&g);

  g = GEN ("--entrypoint", "[\"/x\",\"y\"]", "alpine", "z");
  cleanup_free char *a5 = g.rc == 0 ? argv_str (g.spec) : NULL;
  CHECK_STR (a5, "[\"/x\",\"y\",\"z\"]");
  gen_free (&g);

  g = GEN ("--entrypoint", "", "alpine");
  CHECK (g.rc == -1);
  CHECK_STR (g.err.msg, "no command or entrypoint provided, and no CMD or ENTRYPOINT from image");
  gen_free (&g);

  g = gen_with ("{\"config\":{}}", &image, "alpine", NULL);
  CHECK (g.rc == -1 && strstr (g.err.msg, "no command or entrypoint") != NULL);
  gen_free (&g);

  g = GEN ("--entrypoint", "[broken", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--entrypoint") != NULL);
  gen_free (&g);
}

static void
test_env_cwd (void)
{
  struct gen g = GEN ("-t", "-e", "FOO=cli", "-e", "BAR=1", "alpine");
  json_t *env = jget (g.spec, "process.env");

  CHECK (g.rc == 0);
  CHECK (has_str (env, "PATH=/bin:/usr/bin"));
  CHECK (has_str (env, "FOO=cli"));
  CHECK (!has_str (env, "FOO=img"));
  CHECK (has_str (env, "BAR=1"));
  CHECK (has_str (env, "container=nook"));
  CHECK (has_str (env, "HOSTNAME=0123456789ab"));
  CHECK (has_str (env, "TERM=xterm"));
  CHECK (has_str (env, "HOME=/root"));
  CHECK_STR (jstr (g.spec, "process.cwd"), "/work");
  CHECK (json_is_true (jget (g.spec, "process.terminal")));
  CHECK_STR (jstr (g.spec, "hostname"), "0123456789ab");
  gen_free (&g);

  g = GEN ("-w", "/srv", "--hostname", "box", "alpine");
  CHECK_STR (jstr (g.spec, "process.cwd"), "/srv");
  CHECK_STR (jstr (g.spec, "hostname"), "box");
  CHECK (!has_str (jget (g.spec, "process.env"), "TERM=xterm"));
  gen_free (&g);

  g = GEN ("-w", "rel", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--workdir") != NULL);
  gen_free (&g);
}

static void
test_user (void)
{
  struct gen g = GEN ("alpine");
  CHECK (g.rc == 0);
  if (g.parsed)
    {
      struct nook_user *u = &g.parsed->process->user;
      CHECK (u->uid == 0 && u->gid == 0);
      CHECK (u->n_additional_gids == 2 && u->additional_gids[0] == 0 && u->additional_gids[1] == 10);
    }
  gen_free (&g);

  g = GEN ("-u", "alice", "alpine");
  CHECK (g.rc == 0);
  if (g.parsed)
    {
      struct nook_user *u = &g.parsed->process->user;
      CHECK (u->uid == 1000 && u->gid == 1000);
      /* the primary group first (podman's -u NAME), then the upper layer's /etc/group only */
      CHECK (u->n_additional_gids == 2 && u->additional_gids[0] == 1000 && u->additional_gids[1] == 10);
    }
  CHECK (has_str (jget (g.spec, "process.env"), "HOME=/home/alice"));
  CHECK_STR (jstr (g.record, "Config.User"), "alice");
  gen_free (&g);

  g = GEN ("-u", "1000", "alpine");
  CHECK (g.parsed && g.parsed->process->user.uid == 1000 && g.parsed->process->user.gid == 1000);
  gen_free (&g);

  g = GEN ("-u", "1000:50", "--group-add", "staff", "--group-add", "keep-groups", "--group-add", "77", "alpine");
  if (g.parsed)
    {
      struct nook_user *u = &g.parsed->process->user;
      CHECK (u->uid == 1000 && u->gid == 50);
      CHECK (u->n_additional_gids == 2 && u->additional_gids[0] == 50 && u->additional_gids[1] == 77);
    }
  else
    CHECK (0);
  gen_free (&g);

  g = GEN ("-u", "alice:staff", "alpine");
  CHECK (g.parsed && g.parsed->process->user.gid == 50 && g.parsed->process->user.n_additional_gids == 0);
  gen_free (&g);

  g = GEN ("-u", "4242", "alpine");
  CHECK (g.parsed && g.parsed->process->user.uid == 4242 && g.parsed->process->user.gid == 0);
  gen_free (&g);

  g = GEN ("-u", "bob", "alpine");
  CHECK (g.rc == -1);
  CHECK (strstr (g.err.msg, "unable to find user bob: no matching entries in passwd file") != NULL);
  gen_free (&g);

  g = GEN ("-u", "alice:nogroup", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "unable to find group nogroup") != NULL);
  gen_free (&g);

  g = GEN ("--group-add", "nogroup", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--group-add") != NULL);
  gen_free (&g);
}

static void
test_user_whiteout (void)
{
  struct nook_image wh = image;
  struct stat st;
  char path[256];

  snprintf (path, sizeof (path), "%s/layers/%s/diff/etc/passwd", tmp, L3);
  if (stat (path, &st) < 0 || !S_ISCHR (st.st_mode))
    {
      printf ("    (skipped: cannot create a whiteout without root)\n");
      return;
    }
  wh.layers = layers_wh;
  struct gen g = gen_with (image_cfg_text, &wh, "-u", "alice", "alpine", NULL);
  CHECK (g.rc == -1 && strstr (g.err.msg, "unable to find user alice") != NULL);
  gen_free (&g);
  /* a numeric user still works */
  g = gen_with (image_cfg_text, &wh, "-u", "1000", "alpine", NULL);
  CHECK (g.rc == 0);
  gen_free (&g);
}

static bool
map_is (json_t *m, json_int_t c, json_int_t h, json_int_t s)
{
  return json_integer_value (json_object_get (m, "containerID")) == c
         && json_integer_value (json_object_get (m, "hostID")) == h
         && json_integer_value (json_object_get (m, "size")) == s;
}

static bool
has_ns (struct gen *g, int type)
{
  return g->parsed && g->parsed->namespaces[type].enabled;
}

static void
test_userns (void)
{
  struct gen g = GEN ("alpine");
  CHECK (!has_ns (&g, NOOK_NS_USER)); /* root, no --userns: podman's rootful default */
  CHECK (jget (g.spec, "linux.uidMappings") == NULL);
  gen_free (&g);

  g = GEN ("--userns", "keep-id", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--userns") != NULL);
  gen_free (&g);

  store.rootless = true;
  store.uidmap[0] = store.gidmap[0] = (struct nook_idmap){ 0, 2000, 1 };
  store.uidmap[1] = store.gidmap[1] = (struct nook_idmap){ 1, 200000, 65536 };
  store.n_uidmap = store.n_gidmap = 2;

  g = GEN ("alpine");
  CHECK (has_ns (&g, NOOK_NS_USER));
  CHECK (json_array_size (jget (g.spec, "linux.uidMappings")) == 2);
  CHECK (map_is (jget (g.spec, "linux.uidMappings.0"), 0, 2000, 1));
  CHECK (map_is (jget (g.spec, "linux.gidMappings.1"), 1, 200000, 65536));
  CHECK (jstr (g.spec, "mounts.2.destination") != NULL);
  gen_free (&g);

  g = GEN ("--userns", "keep-id", "alpine");
  CHECK (g.rc == 0);
  json_t *um = jget (g.spec, "linux.uidMappings");
  CHECK (json_array_size (um) == 3);
  CHECK (map_is (json_array_get (um, 0), 0, 200000, 2000));
  CHECK (map_is (json_array_get (um, 1), 2000, 2000, 1));
  CHECK (map_is (json_array_get (um, 2), 2001, 202000, 63536));
  CHECK (g.parsed && g.parsed->process->user.uid == 2000 && g.parsed->process->user.gid == 2000);
  CHECK (json_array_size (jget (g.spec, "process.capabilities.effective")) == 0);
  CHECK (json_array_size (jget (g.spec, "process.capabilities.bounding")) == 11);
  gen_free (&g);

  g = GEN ("--userns", "keep-id:uid=1000,gid=1000", "-u", "0", "alpine");
  um = jget (g.spec, "linux.gidMappings");
  CHECK (json_array_size (um) == 3 && map_is (json_array_get (um, 1), 1000, 2000, 1));
  CHECK (g.parsed && g.parsed->process->user.uid == 0);
  gen_free (&g);

  g = GEN ("--userns", "nomap", "alpine");
  CHECK (json_array_size (jget (g.spec, "linux.uidMappings")) == 1);
  CHECK (map_is (jget (g.spec, "linux.uidMappings.0"), 0, 200000, 65536));
  gen_free (&g);

  g = GEN ("--userns", "host", "alpine");
  CHECK (g.rc == -1);
  gen_free (&g);

  /* rootless: rlimits are the caller's hard limits */
  struct rlimit rl;
  getrlimit (RLIMIT_NOFILE, &rl);
  g = GEN ("alpine");
  CHECK (g.parsed != NULL);
  for (size_t i = 0; g.parsed && i < g.parsed->process->n_rlimits; i++)
    if (g.parsed->process->rlimits[i].resource == RLIMIT_NOFILE)
      CHECK (g.parsed->process->rlimits[i].soft == rl.rlim_max && g.parsed->process->rlimits[i].hard == rl.rlim_max);
  CHECK (has_str (jget (mount_at (g.spec, "/dev/pts"), "options"), "gid=5"));
  gen_free (&g);

  /* no sub-ids: a single mapping, and gid 5 is not mapped */
  store.n_uidmap = store.n_gidmap = 0;
  g = GEN ("alpine");
  CHECK (json_array_size (jget (g.spec, "linux.uidMappings")) == 1);
  CHECK (map_is (jget (g.spec, "linux.uidMappings.0"), 0, geteuid (), 1)); /* the caller's own uid */
  CHECK (!has_str (jget (mount_at (g.spec, "/dev/pts"), "options"), "gid=5"));
  gen_free (&g);

  store.rootless = false;
  store.n_uidmap = store.n_gidmap = 0;
}

static uint64_t
bits (uint64_t m)
{
  return (uint64_t) __builtin_popcountll (m);
}

/* The errnoRet of the unconditional rule naming SYSCALL (0 for ALLOW), -1 when none names it. */
static int
seccomp_action_of (json_t *sc, const char *syscall_name)
{
  size_t i;
  json_t *r;

  json_array_foreach (json_object_get (sc, "syscalls"), i, r)
    if (json_object_get (r, "args") == NULL && has_str (json_object_get (r, "names"), syscall_name))
      return strcmp (json_string_value (json_object_get (r, "action")), "SCMP_ACT_ALLOW") == 0
                 ? 0
                 : (int) json_integer_value (json_object_get (r, "errnoRet"));
  return -1;
}

static void
test_caps_security (void)
{
  struct gen g = GEN ("alpine");
  CHECK (g.parsed != NULL);
  if (g.parsed)
    {
      struct nook_caps *c = &g.parsed->process->caps;
      CHECK (bits (c->bounding) == 11 && c->effective == c->bounding && c->permitted == c->bounding);
      CHECK (c->inheritable == 0 && c->ambient == 0);
      CHECK (g.parsed->seccomp != NULL);
      CHECK (seccomp_action_of (jget (g.spec, "linux.seccomp"), "mount") == EPERM);
      CHECK (seccomp_action_of (jget (g.spec, "linux.seccomp"), "read") == 0);
      CHECK (seccomp_action_of (jget (g.spec, "linux.seccomp"), "clone3") == ENOSYS);
      CHECK (!g.parsed->process->no_new_privileges);
      CHECK (!g.parsed->process->has_oom_score_adj);
    }
  CHECK (has_str (jget (g.spec, "linux.maskedPaths"), "/proc/kcore"));
  CHECK (has_str (jget (g.spec, "linux.maskedPaths"), "/sys/devices/virtual/powercap"));
  CHECK (has_str (jget (g.spec, "linux.readonlyPaths"), "/proc/sysrq-trigger"));
  CHECK (has_str (jget (g.spec, "mounts.4.options"), "ro") || has_str (jget (mount_at (g.spec, "/sys"), "options"), "ro"));
  gen_free (&g);

  g = GEN ("--privileged", "alpine");
  if (g.parsed)
    {
      CHECK (bits (g.parsed->process->caps.bounding) >= 38);
      CHECK (g.parsed->seccomp == NULL);
      CHECK (g.parsed->masked_paths[0] == NULL && g.parsed->readonly_paths[0] == NULL);
    }
  else
    CHECK (0);
  CHECK (!has_str (jget (mount_at (g.spec, "/sys"), "options"), "ro"));
  gen_free (&g);

  g = GEN ("--cap-add", "sys_admin", "--cap-drop", "CAP_CHOWN", "--cap-add", "NET_RAW", "alpine");
  json_t *b = jget (g.spec, "process.capabilities.bounding");
  CHECK (has_str (b, "CAP_SYS_ADMIN") && has_str (b, "CAP_NET_RAW") && !has_str (b, "CAP_CHOWN"));
  CHECK (has_str (jget (g.record, "HostConfig.CapAdd"), "CAP_SYS_ADMIN"));
  CHECK (has_str (jget (g.record, "HostConfig.CapDrop"), "CAP_CHOWN"));
  /* with SYS_ADMIN the profile allows mount */
  CHECK (seccomp_action_of (jget (g.spec, "linux.seccomp"), "mount") == 0);
  gen_free (&g);

  g = GEN ("--cap-drop", "all", "--cap-add", "kill", "alpine");
  b = jget (g.spec, "process.capabilities.bounding");
  CHECK (json_array_size (b) == 1 && has_str (b, "CAP_KILL"));
  gen_free (&g);

  g = GEN ("--cap-add", "bogus", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--cap-add") != NULL);
  gen_free (&g);

  /* a non-root user: no effective caps, only what --cap-add asked for */
  g = GEN ("-u", "alice", "--cap-add", "NET_ADMIN", "alpine");
  CHECK (json_array_size (jget (g.spec, "process.capabilities.effective")) == 1);
  CHECK (has_str (jget (g.spec, "process.capabilities.ambient"), "CAP_NET_ADMIN"));
  CHECK (json_array_size (jget (g.spec, "process.capabilities.bounding")) == 12);
  gen_free (&g);

  g = GEN ("--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges", "--security-opt",
           "unmask=ALL", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined", "alpine");
  CHECK (g.parsed && g.parsed->seccomp == NULL && g.parsed->process->no_new_privileges);
  CHECK (g.parsed && g.parsed->masked_paths[0] == NULL && g.parsed->process->apparmor_profile == NULL);
  gen_free (&g);

  g = GEN ("--security-opt", "unmask=/proc/kcore", "--security-opt", "mask=/opt/secret", "--security-opt",
           "apparmor=myprof", "--security-opt", "label=type:spc_t", "alpine");
  CHECK (!has_str (jget (g.spec, "linux.maskedPaths"), "/proc/kcore"));
  CHECK (has_str (jget (g.spec, "linux.maskedPaths"), "/proc/keys"));
  CHECK (has_str (jget (g.spec, "linux.maskedPaths"), "/opt/secret"));
  CHECK_STR (jstr (g.spec, "process.apparmorProfile"), "myprof");
  CHECK_STR (jstr (g.spec, "process.selinuxLabel"), "system_u:system_r:spc_t:s0");
  gen_free (&g);

  g = GEN ("--security-opt", "bogus=1", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--security-opt") != NULL);
  gen_free (&g);
}

static void
test_volumes (void)
{
  cleanup_free char *bind = xasprintf ("%s/hostdir:/mnt/host:ro,rslave", tmp);
  cleanup_free char *mnt = xasprintf ("type=bind,source=%s/hostdir,target=/m2,readonly", tmp);
  struct gen g = GEN ("-v", bind, "-v", "myvol:/vol", "-v", "/anon", "--mount", mnt, "alpine");
  json_t *m;

  CHECK (g.rc == 0);
  m = mount_at (g.spec, "/mnt/host");
  CHECK (m != NULL);
  if (m)
    {
      cleanup_free char *src = xasprintf ("%s/hostdir", tmp);
      CHECK_STR (jstr (m, "source"), src);
      CHECK (has_str (jget (m, "options"), "ro") && has_str (jget (m, "options"), "rslave"));
      CHECK (has_str (jget (m, "options"), "rbind") && !has_str (jget (m, "options"), "rprivate"));
    }
  m = mount_at (g.spec, "/vol");
  cleanup_free char *vsrc = xasprintf ("%s/volumes/myvol/_data", tmp);
  CHECK (m && strcmp (jstr (m, "source"), vsrc) == 0);
  struct stat st;
  CHECK (stat (vsrc, &st) == 0 && S_ISDIR (st.st_mode));
  m = mount_at (g.spec, "/anon");
  CHECK (m && strstr (jstr (m, "source"), "/volumes/") != NULL && strlen (jstr (m, "source")) > 64);
  CHECK (m && stat (jstr (m, "source"), &st) == 0);
  m = mount_at (g.spec, "/m2");
  CHECK (m && has_str (jget (m, "options"), "ro"));
  /* the image's /data volume becomes an anonymous volume */
  CHECK (mount_at (g.spec, "/data") != NULL);
  CHECK (json_array_size (jget (g.record, "Mounts")) == 5);
  CHECK (json_array_size (jget (g.record, "HostConfig.Binds")) == 5);
  CHECK_STR (jstr (g.record, "Mounts.1.Type"), "volume");
  CHECK_STR (jstr (g.record, "Mounts.1.Name"), "myvol");
  CHECK (json_is_false (jget (g.record, "Mounts.0.RW")));
  CHECK_STR (jstr (g.record, "Mounts.0.Propagation"), "rslave");
  /* parents first */
  size_t i_mnt = 0, i_dev = 0, i_shm = 0, i;
  json_array_foreach (jget (g.spec, "mounts"), i, m)
    {
      const char *d = jstr (m, "destination");
      i_mnt = strcmp (d, "/mnt/host") == 0 ? i : i_mnt;
      i_dev = strcmp (d, "/dev") == 0 ? i : i_dev;
      i_shm = strcmp (d, "/dev/shm") == 0 ? i : i_shm;
    }
  CHECK (i_dev < i_shm && i_dev < i_mnt);
  gen_free (&g);

  /* a user mount of an image volume's path wins; a user /dev/shm replaces the default */
  g = GEN ("-v", "myvol:/data", "--tmpfs", "/dev/shm", "alpine");
  CHECK (json_array_size (jget (g.record, "Mounts")) == 1);
  CHECK_STR (jstr (mount_at (g.spec, "/dev/shm"), "source"), "tmpfs");
  gen_free (&g);

  g = GEN ("-v", "rel/path", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--volume") != NULL);
  gen_free (&g);

  g = GEN ("-v", "/nonexistent-nook:/x", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "No such file") != NULL);
  gen_free (&g);

  g = GEN ("-v", "myvol:/x:O", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "overlay") != NULL);
  gen_free (&g);

  g = GEN ("--mount", "type=bind,source=/tmp,target=rel", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--mount") != NULL);
  gen_free (&g);

  g = GEN ("--mount", "type=devpts,destination=/dev/pts", "alpine");
  m = mount_at (g.spec, "/dev/pts");
  CHECK (m && has_str (jget (m, "options"), "newinstance") && has_str (jget (m, "options"), "gid=5"));
  gen_free (&g);
}

static void
test_tmpfs_readonly (void)
{
  struct gen g = GEN ("--tmpfs", "/scratch:size=10m,exec", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m",
                      "--read-only", "--shm-size", "128m", "alpine");
  json_t *o = jget (mount_at (g.spec, "/scratch"), "options");

  CHECK (g.rc == 0);
  CHECK (has_str (o, "exec") && !has_str (o, "noexec") && has_str (o, "nosuid") && has_str (o, "nodev"));
  CHECK (has_str (o, "rw") && has_str (o, "size=10m"));
  CHECK (has_str (jget (mount_at (g.spec, "/t"), "options"), "size=1048576"));
  CHECK (has_str (jget (mount_at (g.spec, "/dev/shm"), "options"), "size=131072k"));
  CHECK (json_is_true (jget (g.spec, "root.readonly")));
  CHECK (mount_at (g.spec, "/tmp") != NULL && mount_at (g.spec, "/run") != NULL);
  CHECK_STR (jstr (g.record, "HostConfig.Tmpfs./scratch"), "size=10m,exec");
  gen_free (&g);

  g = GEN ("--tmpfs", "relative", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--tmpfs") != NULL);
  gen_free (&g);
}

static struct nook_rlimit *
rlimit_of (struct nook_spec *s, int res)
{
  for (size_t i = 0; s && i < s->process->n_rlimits; i++)
    if (s->process->rlimits[i].resource == res)
      return &s->process->rlimits[i];
  return NULL;
}

static void
test_ulimits_resources (void)
{
  struct gen g = GEN ("alpine");
  struct nook_rlimit *r = rlimit_of (g.parsed, RLIMIT_NOFILE);
  struct rlimit cur;
  /* podman's 1048576, or the current hard limit when we lack CAP_SYS_RESOURCE to raise it */
  getrlimit (RLIMIT_NOFILE, &cur);
  CHECK (r && r->soft == r->hard && (r->hard == 1048576 || (r->hard == cur.rlim_max && cur.rlim_max < 1048576)));
  r = rlimit_of (g.parsed, RLIMIT_NPROC);
  getrlimit (RLIMIT_NPROC, &cur);
  CHECK (r && r->soft == r->hard && (r->hard == 4194304 || (r->hard == cur.rlim_max && cur.rlim_max < 4194304)));
  CHECK (!g.parsed || !g.parsed->resources.has_memory_limit);
  gen_free (&g);

  g = GEN ("--ulimit", "nofile=1024:2048", "--ulimit", "core=-1", "--memory", "256m", "--pids-limit", "100",
           "--cpus", "1.5", "alpine");
  CHECK (g.rc == 0);
  r = rlimit_of (g.parsed, RLIMIT_NOFILE);
  CHECK (r && r->soft == 1024 && r->hard == 2048);
  r = rlimit_of (g.parsed, RLIMIT_CORE);
  CHECK (r && r->soft == RLIM_INFINITY && r->hard == RLIM_INFINITY);
  if (g.parsed)
    {
      struct nook_resources *res = &g.parsed->resources;
      CHECK (res->has_memory_limit && res->memory_limit == 256 << 20);
      CHECK (res->has_pids_limit && res->pids_limit == 100);
      CHECK (res->has_cpu_quota && res->cpu_quota == 150000 && res->cpu_period == 100000);
    }
  CHECK (json_integer_value (jget (g.record, "HostConfig.NanoCpus")) == 1500000000);
  CHECK (json_integer_value (jget (g.record, "HostConfig.Memory")) == 256 << 20);
  gen_free (&g);

  g = GEN ("--ulimit", "host", "alpine");
  struct rlimit host;
  getrlimit (RLIMIT_STACK, &host);
  r = rlimit_of (g.parsed, RLIMIT_STACK);
  CHECK (r && r->soft == host.rlim_cur && r->hard == host.rlim_max);
  gen_free (&g);
}

static void
test_namespaces (void)
{
  struct gen g = GEN ("alpine");
  int all[] = { NOOK_NS_PID, NOOK_NS_NET, NOOK_NS_IPC, NOOK_NS_UTS, NOOK_NS_MOUNT, NOOK_NS_CGROUP };
  for (size_t i = 0; i < 6; i++)
    CHECK (has_ns (&g, all[i]));
  CHECK_STR (jstr (g.record, "HostConfig.NetworkMode"), "bridge");
  CHECK_STR (jstr (mount_at (g.spec, "/sys"), "type"), "sysfs");
  gen_free (&g);

  g = GEN ("--pid", "host", "--ipc", "host", "--uts", "host", "--network", "host", "--cgroupns", "host", "alpine");
  CHECK (g.rc == 0);
  for (size_t i = 0; i < 6; i++)
    CHECK (has_ns (&g, all[i]) == (all[i] == NOOK_NS_MOUNT));
  CHECK (jget (g.spec, "hostname") == NULL);
  CHECK_STR (jstr (g.record, "HostConfig.PidMode"), "host");
  CHECK_STR (jstr (g.record, "HostConfig.NetworkMode"), "host");
  CHECK_STR (jstr (mount_at (g.spec, "/dev/shm"), "source"), "/dev/shm");
  gen_free (&g);

  g = GEN ("--network", "none", "alpine");
  CHECK (has_ns (&g, NOOK_NS_NET));
  CHECK_STR (jstr (g.record, "HostConfig.NetworkMode"), "none");
  gen_free (&g);

  g = GEN ("--network", "ns:/proc/self/ns/net", "alpine");
  CHECK (g.parsed && g.parsed->namespaces[NOOK_NS_NET].path
         && strcmp (g.parsed->namespaces[NOOK_NS_NET].path, "/proc/self/ns/net") == 0);
  gen_free (&g);

  g = GEN ("--pid", "container:other", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "not supported yet") != NULL);
  gen_free (&g);

  g = GEN ("--uts", "host", "--hostname", "x", "alpine");
  CHECK (g.rc == -1);
  gen_free (&g);

  /* rootless with the host's network: sysfs cannot be mounted, the host's is bound read-only */
  store.rootless = true;
  g = GEN ("--network", "host", "--pid", "host", "alpine");
  json_t *m = mount_at (g.spec, "/sys");
  CHECK (m && strcmp (jstr (m, "type"), "bind") == 0 && has_str (jget (m, "options"), "ro"));
  CHECK_STR (jstr (mount_at (g.spec, "/proc"), "type"), "bind");
  CHECK (has_ns (&g, NOOK_NS_USER));
  gen_free (&g);
  store.rootless = false;
}

static char *
userdata (const char *name)
{
  cleanup_free char *path = xasprintf ("%s/containers/%s/userdata/%s", tmp, CTR_ID, name);
  char *text = NULL;
  nook_err err;

  if (nook_read_file_at (AT_FDCWD, path, &text, NULL, 1 << 20, &err) < 0)
    return xstrdup ("(missing)");
  return text;
}

static void
test_userdata (void)
{
  struct gen g = GEN ("--add-host", "db:10.0.0.2", "--add-host", "v6:[fd00::1]", "--dns", "1.1.1.1", "--dns-search",
                      "example.com", "--dns-option", "ndots:2", "alpine");
  cleanup_free char *hosts = userdata ("hosts"), *hn = userdata ("hostname"), *resolv = userdata ("resolv.conf");
  cleanup_free char *env = userdata (".containerenv");
  cleanup_free char *hpath = xasprintf ("%s/containers/%s/userdata/hosts", tmp, CTR_ID);
  struct stat st;

  CHECK (g.rc == 0);
  CHECK_STR (hn, "0123456789ab\n");
  CHECK (strstr (hosts, "127.0.0.1 localhost\n") != NULL);
  CHECK (strstr (hosts, "127.0.1.1 0123456789ab ctr\n") != NULL);
  CHECK (strstr (hosts, "10.0.0.2 db\n") != NULL);
  CHECK (strstr (hosts, "fd00::1 v6\n") != NULL);
  CHECK_STR (resolv, "search example.com\nnameserver 1.1.1.1\noptions ndots:2\n");
  CHECK_STR (env, "engine=\"nook-0.1.0\"\nname=\"ctr\"\nid=\"" CTR_ID "\"\nimage=\"docker.io/library/alpine:latest\"\n"
                  "imageid=\"feedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeed\"\nrootless=0\n");
  CHECK (stat (hpath, &st) == 0 && (st.st_mode & 0777) == 0644);
  json_t *m = mount_at (g.spec, "/etc/hosts");
  CHECK (m && strcmp (jstr (m, "source"), hpath) == 0 && has_str (jget (m, "options"), "rbind"));
  CHECK (has_str (jget (mount_at (g.spec, "/run/.containerenv"), "options"), "ro"));
  gen_free (&g);

  /* no loopback nameservers with a network namespace of our own */
  g = GEN ("alpine");
  free (resolv);
  resolv = userdata ("resolv.conf");
  CHECK (strstr (resolv, "nameserver 127.") == NULL && strstr (resolv, "nameserver ") != NULL);
  gen_free (&g);

  g = GEN ("--add-host", "nocolon", "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "--add-host") != NULL);
  gen_free (&g);
}

static void
test_record (void)
{
  struct gen g = GEN ("--rm", "-i", "--name", "ctr", "--label", "k=v", "--annotation", "a=b", "alpine", "ls");

  CHECK (g.rc == 0);
  CHECK_STR (jstr (g.record, "Id"), CTR_ID);
  CHECK_STR (jstr (g.record, "State.Status"), "created");
  CHECK_STR (jstr (g.record, "State.StartedAt"), "0001-01-01T00:00:00Z");
  CHECK_STR (jstr (g.record, "Image"), image.id);
  CHECK_STR (jstr (g.record, "ImageName"), "docker.io/library/alpine:latest");
  CHECK_STR (jstr (g.record, "Driver"), "overlay");
  CHECK_STR (jstr (g.record, "Config.StopSignal"), "SIGQUIT");
  CHECK (json_integer_value (jget (g.record, "Config.StopTimeout")) == 10);
  CHECK_STR (jstr (g.record, "Config.Labels.k"), "v");
  CHECK_STR (json_string_value (json_object_get (jget (g.record, "Config.Labels"), "org.x")), "1");
  CHECK_STR (jstr (g.record, "Config.Annotations.a"), "b");
  CHECK_STR (jstr (g.record, "Config.Umask"), "0022");
  CHECK (json_is_true (jget (g.record, "Config.OpenStdin")));
  CHECK (json_is_true (jget (g.record, "HostConfig.AutoRemove")));
  CHECK_STR (jstr (g.record, "Nook.layers.1"), "sha256:" L2);
  CHECK (json_integer_value (jget (g.record, "Nook.stop_signal")) == SIGQUIT);
  CHECK_STR (jstr (g.record, "Nook.detach_keys"), "ctrl-p,ctrl-q");
  CHECK_STR (json_string_value (json_object_get (json_object_get (g.spec, "annotations"), "io.container.manager")),
             "nook");
  cleanup_free char *root = xasprintf ("%s/containers/%s/merged", tmp, CTR_ID);
  CHECK_STR (g.parsed ? g.parsed->root_path : NULL, root);
  gen_free (&g);

  g = GEN ("--stop-signal", "9", "alpine");
  CHECK_STR (jstr (g.record, "Config.StopSignal"), "SIGKILL");
  gen_free (&g);
}

/* ---- the default seccomp profile ---- */

static int
child_checks (void)
{
  if (syscall (SYS_getpid) != getpid ())
    return 1;
  errno = 0;
  if (syscall (SYS_mount, "none", "/mnt", "tmpfs", 0, NULL) != -1 || errno != EPERM)
    return 2;
  errno = 0;
  if (syscall (SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
    return 3;
  errno = 0;
  if (syscall (SYS_unshare, CLONE_NEWUSER) != -1 || errno != EPERM)
    return 4;
  errno = 0;
  if (syscall (SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
    return 5;
  errno = 0;
  if (syscall (SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM)
    return 6;
  errno = 0;
  if (syscall (1000, 0) != -1 || errno != ENOSYS) /* a number no kernel has yet */
    return 7;
  return 0;
}

static void
test_seccomp_default (void)
{
  json_t *sc = nook_seccomp_default ();
  json_t *doc = json_pack ("{s:s,s:{s:s},s:{s:o}}", "ociVersion", "1.2.0", "root", "path", "/", "linux", "seccomp", sc);
  cleanup_free char *text = json_dumps (doc, 0);
  struct nook_spec *spec = NULL;
  struct nook_seccomp_prog prog = { 0 };
  nook_err err;
  int status = -1;

  CHECK_STR (json_string_value (json_object_get (sc, "defaultAction")), "SCMP_ACT_ERRNO");
  CHECK (json_integer_value (json_object_get (sc, "defaultErrnoRet")) == ENOSYS);
  CHECK (has_str (json_object_get (sc, "architectures"), "SCMP_ARCH_X86_64")
         || has_str (json_object_get (sc, "architectures"), "SCMP_ARCH_AARCH64"));
  if (nook_spec_parse (text, strlen (text), "config.json", &spec, &err) < 0)
    {
      printf ("    parse: %s\n", err.msg);
      CHECK (0);
      goto out;
    }
  if (nook_seccomp_compile (spec->seccomp, &prog, &err) < 0)
    {
      printf ("    compile: %s\n", err.msg);
      CHECK (0);
      goto out;
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || nook_seccomp_load (&prog, &err) < 0)
        _exit (90);
      syscall (SYS_exit_group, child_checks ());
    }
  if (pid > 0 && waitpid (pid, &status, 0) == pid)
    {
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        printf ("    child status %d (check %d failed)\n", status, WEXITSTATUS (status));
      CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  else
    CHECK (0);
out:
  nook_seccomp_prog_free (&prog);
  if (spec)
    nook_spec_free (spec);
  json_decref (doc);
}

static void
test_seccomp_file (void)
{
  cleanup_free char *path = xasprintf ("%s/profile.json", tmp);
  cleanup_free char *arg = xasprintf ("seccomp=%s", path);
  write_at (path, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
                  "\"subArchitectures\":[\"SCMP_ARCH_X86\"]},{\"architecture\":\"SCMP_ARCH_AARCH64\","
                  "\"subArchitectures\":[]}],\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":"
                  "\"SCMP_ACT_ALLOW\"},{\"name\":\"mount\",\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
                  "[\"CAP_SYS_ADMIN\"]}},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":"
                  "[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}");
  struct gen g = GEN ("--security-opt", arg, "alpine");
  json_t *sc = jget (g.spec, "linux.seccomp");

  CHECK (g.rc == 0);
  CHECK (json_array_size (json_object_get (sc, "syscalls")) == 2);
  CHECK (json_array_size (json_object_get (sc, "architectures")) >= 1);
  CHECK (g.parsed && g.parsed->seccomp && g.parsed->seccomp->n_rules == 2 && g.parsed->seccomp->rules[1].n_args == 1);
  gen_free (&g);

  g = GEN ("--security-opt", arg, "--cap-add", "SYS_ADMIN", "alpine");
  CHECK (json_array_size (jget (g.spec, "linux.seccomp.syscalls")) == 3);
  gen_free (&g);

  write_at (path, "{\"syscalls\":[]}");
  g = GEN ("--security-opt", arg, "alpine");
  CHECK (g.rc == -1 && strstr (g.err.msg, "defaultAction") != NULL);
  gen_free (&g);
}

int
main (void)
{
  setup ();
  RUN (test_args);
  RUN (test_env_cwd);
  RUN (test_user);
  RUN (test_user_whiteout);
  RUN (test_userns);
  RUN (test_caps_security);
  RUN (test_volumes);
  RUN (test_tmpfs_readonly);
  RUN (test_ulimits_resources);
  RUN (test_namespaces);
  RUN (test_userdata);
  RUN (test_record);
  RUN (test_seccomp_default);
  RUN (test_seccomp_file);
  teardown ();
  return HARNESS_END ();
}
