/* Unit tests for the config.json parser, the name tables and the default spec / features documents. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/spec.h"
#include "util/strutil.h"

#define CAP(n) (UINT64_C (1) << (n))

static const char full_config[]
    = "{\n"
      "  \"ociVersion\": \"1.1.0\",\n"
      "  \"process\": {\n"
      "    \"terminal\": true,\n"
      "    \"consoleSize\": {\"height\": 24, \"width\": 80},\n"
      "    \"user\": {\"uid\": 1000, \"gid\": 1001, \"umask\": 18, \"additionalGids\": [5, 6, 2147483647]},\n"
      "    \"args\": [\"/bin/sh\", \"-c\", \"echo hi\"],\n"
      "    \"env\": [\"PATH=/usr/bin:/bin\", \"TERM=xterm\", \"EMPTY=\"],\n"
      "    \"cwd\": \"/work\",\n"
      "    \"capabilities\": {\n"
      "      \"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", \"net_raw\"],\n"
      "      \"effective\": [\"CAP_KILL\"],\n"
      "      \"permitted\": [\"CAP_KILL\", \"CAP_SYS_ADMIN\"],\n"
      "      \"inheritable\": [],\n"
      "      \"ambient\": [\"CAP_NET_BIND_SERVICE\"]\n"
      "    },\n"
      "    \"rlimits\": [\n"
      "      {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096},\n"
      "      {\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": 18446744073709551615}\n"
      "    ],\n"
      "    \"noNewPrivileges\": true,\n"
      "    \"oomScoreAdj\": -500,\n"
      "    \"apparmorProfile\": \"nook-default\",\n"
      "    \"selinuxLabel\": \"system_u:system_r:container_t:s0\",\n"
      "    \"unknownKey\": {\"ignored\": [1, 2]}\n"
      "  },\n"
      "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
      "  \"hostname\": \"box\",\n"
      "  \"domainname\": \"example.org\",\n"
      "  \"mounts\": [\n"
      "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
      "    {\"destination\": \"//data/./x/\", \"type\": \"bind\", \"source\": \"/srv/data\", \"options\": [\"rbind\", "
      "\"ro\"]}\n"
      "  ],\n"
      "  \"hooks\": {\"prestart\": []},\n"
      "  \"annotations\": {\"org.example.key\": \"value\", \"other\": \"\"},\n"
      "  \"linux\": {\n"
      "    \"namespaces\": [\n"
      "      {\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}, {\"type\": \"ipc\"},\n"
      "      {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}, {\"type\": \"cgroup\"}, {\"type\": "
      "\"time\", \"path\": \"\"}\n"
      "    ],\n"
      "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],\n"
      "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 200000, \"size\": 1},\n"
      "                    {\"containerID\": 1, \"hostID\": 4294967294, \"size\": 1}],\n"
      "    \"maskedPaths\": [\"/proc/kcore\", \"/sys/firmware\"],\n"
      "    \"readonlyPaths\": [\"/proc/sys\"],\n"
      "    \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"4096\"},\n"
      "    \"rootfsPropagation\": \"rslave\",\n"
      "    \"devices\": [\n"
      "      {\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438, \"uid\": 0, "
      "\"gid\": 5},\n"
      "      {\"path\": \"/dev/fifo\", \"type\": \"p\"}\n"
      "    ],\n"
      "    \"seccomp\": {\n"
      "      \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,\n"
      "      \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
      "      \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
      "      \"syscalls\": [\n"
      "        {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
      "        {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,\n"
      "         \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},\n"
      "                  {\"index\": 5, \"value\": 18446744073709551615, \"valueTwo\": 3, \"op\": "
      "\"SCMP_CMP_MASKED_EQ\"}]}\n"
      "      ]\n"
      "    },\n"
      "    \"cgroupsPath\": \"/nook/test\",\n"
      "    \"resources\": {\n"
      "      \"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": -1},\n"
      "      \"pids\": {\"limit\": 100},\n"
      "      \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\", \"mems\": \"0\"},\n"
      "      \"devices\": [{\"allow\": false, \"access\": \"rwm\"},\n"
      "                  {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}],\n"
      "      \"unified\": {\"memory.high\": \"max\"},\n"
      "      \"hugepageLimits\": [], \"blockIO\": {}\n"
      "    },\n"
      "    \"mountLabel\": \"system_u:object_r:container_file_t:s0\"\n"
      "  }\n"
      "}\n";

static struct nook_spec *
parse (const char *text, nook_err *err)
{
  struct nook_spec *s = NULL;
  nook_err_clear (err);
  if (nook_spec_parse (text, strlen (text), "config.json", &s, err) < 0)
    return NULL;
  return s;
}

static const char *
kv_get (const struct nook_kv *kv, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (kv[i].key, key) == 0)
      return kv[i].value;
  return NULL;
}

static int
cap_last (void)
{
  FILE *f = fopen ("/proc/sys/kernel/cap_last_cap", "r");
  int v = 63;
  if (f != NULL)
    {
      if (fscanf (f, "%d", &v) != 1)
        v = 63;
      fclose (f);
    }
  return v;
}

static void
check_full_process (const struct nook_process *p)
{
  CHECK (p != NULL);
  if (p == NULL)
    return;
  CHECK (strv_len (p->args) == 3);
  CHECK_STR (p->args[0], "/bin/sh");
  CHECK_STR (p->args[2], "echo hi");
  CHECK (strv_len (p->env) == 3);
  CHECK_STR (p->env[2], "EMPTY=");
  CHECK_STR (p->cwd, "/work");
  CHECK (p->user.uid == 1000 && p->user.gid == 1001);
  CHECK (p->user.has_umask && p->user.umask == 022);
  CHECK (p->user.n_additional_gids == 3);
  CHECK (p->user.additional_gids[0] == 5 && p->user.additional_gids[2] == 2147483647);
  CHECK (p->terminal);
  CHECK (p->console_height == 24 && p->console_width == 80);
  CHECK (p->no_new_privileges);
  CHECK (p->has_caps);
  CHECK (p->caps.bounding == (CAP (0) | CAP (5) | CAP (13)));
  CHECK (p->caps.effective == CAP (5));
  CHECK (p->caps.permitted == (CAP (5) | CAP (21)));
  CHECK (p->caps.inheritable == 0);
  CHECK (p->caps.ambient == CAP (10));
  CHECK (p->n_rlimits == 2);
  CHECK (p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096);
  CHECK (p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX);
  CHECK (p->has_oom_score_adj && p->oom_score_adj == -500);
  CHECK_STR (p->apparmor_profile, "nook-default");
  CHECK_STR (p->selinux_label, "system_u:system_r:container_t:s0");
}

static void
check_full_linux (const struct nook_spec *s)
{
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    CHECK (s->namespaces[i].enabled);
  CHECK_STR (s->namespaces[NOOK_NS_NET].path, "/proc/1/ns/net");
  CHECK (s->namespaces[NOOK_NS_PID].path == NULL);
  CHECK (s->namespaces[NOOK_NS_TIME].path == NULL);
  CHECK (s->n_uid_mappings == 1 && s->uid_mappings[0].container_id == 0 && s->uid_mappings[0].host_id == 100000
         && s->uid_mappings[0].size == 65536);
  CHECK (s->n_gid_mappings == 2 && s->gid_mappings[1].host_id == 4294967294u);
  CHECK (strv_len (s->masked_paths) == 2);
  CHECK_STR (s->masked_paths[1], "/sys/firmware");
  CHECK (strv_len (s->readonly_paths) == 1);
  CHECK (s->n_sysctl == 2);
  CHECK_STR (kv_get (s->sysctl, s->n_sysctl, "net.ipv4.ip_forward"), "1");
  CHECK_STR (s->rootfs_propagation, "rslave");
  CHECK (s->n_devices == 2);
  CHECK_STR (s->devices[0].path, "/dev/fuse");
  CHECK (s->devices[0].type == 'c' && s->devices[0].major == 10 && s->devices[0].minor == 229);
  CHECK (s->devices[0].has_mode && s->devices[0].mode == 0666);
  CHECK (s->devices[0].has_uid && s->devices[0].uid == 0 && s->devices[0].has_gid && s->devices[0].gid == 5);
  CHECK (s->devices[1].type == 'p' && !s->devices[1].has_mode && !s->devices[1].has_uid);
  CHECK_STR (s->cgroups_path, "/nook/test");
  CHECK_STR (s->mount_label, "system_u:object_r:container_file_t:s0");
}

static void
check_full_seccomp (const struct nook_seccomp *sc)
{
  CHECK (sc != NULL);
  if (sc == NULL)
    return;
  CHECK_STR (sc->default_action, "SCMP_ACT_ERRNO");
  CHECK (sc->has_default_errno_ret && sc->default_errno_ret == 38);
  CHECK (strv_len (sc->architectures) == 2);
  CHECK_STR (sc->architectures[0], "SCMP_ARCH_X86_64");
  CHECK (strv_len (sc->flags) == 1);
  CHECK (sc->n_rules == 2);
  CHECK (strv_len (sc->rules[0].names) == 2 && !sc->rules[0].has_errno_ret && sc->rules[0].n_args == 0);
  CHECK_STR (sc->rules[1].action, "SCMP_ACT_ERRNO");
  CHECK (sc->rules[1].has_errno_ret && sc->rules[1].errno_ret == 1);
  CHECK (sc->rules[1].n_args == 2);
  CHECK (sc->rules[1].args[0].index == 0 && sc->rules[1].args[0].value == 8 && sc->rules[1].args[0].value_two == 0);
  CHECK (sc->rules[1].args[1].index == 5 && sc->rules[1].args[1].value == UINT64_MAX
         && sc->rules[1].args[1].value_two == 3);
  CHECK_STR (sc->rules[1].args[1].op, "SCMP_CMP_MASKED_EQ");
}

static void
check_full_resources (const struct nook_resources *r)
{
  CHECK (r->has_memory_limit && r->memory_limit == 536870912);
  CHECK (r->has_memory_reservation && r->memory_reservation == 268435456);
  CHECK (r->has_memory_swap && r->memory_swap == -1);
  CHECK (r->has_pids_limit && r->pids_limit == 100);
  CHECK (r->has_cpu_shares && r->cpu_shares == 512);
  CHECK (r->has_cpu_quota && r->cpu_quota == 50000);
  CHECK (r->has_cpu_period && r->cpu_period == 100000);
  CHECK_STR (r->cpu_cpus, "0-1");
  CHECK_STR (r->cpu_mems, "0");
  CHECK (r->n_devices == 2);
  CHECK (!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 && r->devices[0].minor == -1);
  CHECK_STR (r->devices[0].access, "rwm");
  CHECK (r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].major == 1 && r->devices[1].minor == 3);
  CHECK_STR (r->devices[1].access, "rw");
  CHECK (r->n_unified == 1);
  CHECK_STR (kv_get (r->unified, r->n_unified, "memory.high"), "max");
}

static void
test_full_config (void)
{
  nook_err err;
  struct nook_spec *s = parse (full_config, &err);

  CHECK (s != NULL);
  if (s == NULL)
    {
      printf ("    error: %s\n", err.msg);
      return;
    }
  CHECK_STR (s->oci_version, "1.1.0");
  check_full_process (s->process);
  CHECK_STR (s->root_path, "rootfs");
  CHECK (s->root_readonly);
  CHECK_STR (s->hostname, "box");
  CHECK_STR (s->domainname, "example.org");
  CHECK (s->n_mounts == 2);
  CHECK_STR (s->mounts[0].destination, "/proc");
  CHECK_STR (s->mounts[0].type, "proc");
  CHECK (s->mounts[0].options != NULL && s->mounts[0].options[0] == NULL);
  CHECK_STR (s->mounts[1].destination, "/data/x");
  CHECK_STR (s->mounts[1].source, "/srv/data");
  CHECK (strv_len (s->mounts[1].options) == 2);
  CHECK_STR (s->mounts[1].options[1], "ro");
  CHECK (s->n_annotations == 2);
  CHECK_STR (kv_get (s->annotations, s->n_annotations, "org.example.key"), "value");
  CHECK_STR (kv_get (s->annotations, s->n_annotations, "other"), "");
  check_full_linux (s);
  check_full_seccomp (s->seccomp);
  check_full_resources (&s->resources);
  nook_spec_free (s);
}

static void
test_minimal_config (void)
{
  nook_err err;
  struct nook_spec *s = parse ("{\"root\": {\"path\": \"/r\"}}", &err);

  CHECK (s != NULL);
  if (s == NULL)
    return;
  CHECK (s->process == NULL && s->oci_version == NULL && s->hostname == NULL);
  CHECK (s->n_mounts == 0 && s->seccomp == NULL);
  CHECK (s->masked_paths != NULL && s->masked_paths[0] == NULL);
  CHECK (s->readonly_paths != NULL && s->readonly_paths[0] == NULL);
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    CHECK (!s->namespaces[i].enabled);
  nook_spec_free (s);
}

/* The kernel's last capability bounds what the parser keeps. */
static void
test_caps_beyond_kernel (void)
{
  nook_err err;
  struct nook_spec *s = parse ("{\"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"x\"], \"cwd\": \"/\","
                               " \"capabilities\": {\"bounding\": [\"CAP_CHECKPOINT_RESTORE\", \"CAP_CHOWN\"]}}}",
                               &err);
  CHECK (s != NULL);
  if (s == NULL)
    return;
  if (cap_last () >= 40)
    CHECK (s->process->caps.bounding == (CAP (40) | CAP (0)));
  else
    CHECK (s->process->caps.bounding == CAP (0));
  CHECK (s->process->env != NULL && s->process->env[0] == NULL);
  CHECK (s->process->user.uid == 0 && !s->process->user.has_umask && !s->process->has_oom_score_adj);
  nook_spec_free (s);
}

/* Big integers inside strings stay strings; escaped quotes do not confuse the rewrite. */
static void
test_big_numbers (void)
{
  nook_err err;
  struct nook_spec *s = parse ("{\"root\": {\"path\": \"r\"}, \"hostname\": \"a\\\"18446744073709551615\","
                               " \"annotations\": {\"n\": \"18446744073709551615\", \"m\": \"-9223372036854775808\"},"
                               " \"linux\": {\"resources\": {\"memory\": {\"limit\": 9223372036854775807},"
                               " \"cpu\": {\"shares\": 18446744073709551615}}}}",
                               &err);
  CHECK (s != NULL);
  if (s == NULL)
    {
      printf ("    error: %s\n", err.msg);
      return;
    }
  CHECK_STR (s->hostname, "a\"18446744073709551615");
  CHECK_STR (kv_get (s->annotations, s->n_annotations, "n"), "18446744073709551615");
  CHECK (s->resources.memory_limit == INT64_MAX);
  CHECK (s->resources.cpu_shares == UINT64_MAX);
  nook_spec_free (s);
  CHECK (parse ("{\"root\": {\"path\": \"r\"}, \"linux\": {\"resources\": {\"memory\": {\"limit\": "
                "9223372036854775808}}}}",
                &err)
         == NULL);
  CHECK_STR (err.msg, "config.json: linux.resources.memory.limit: expected an integer in -1..9223372036854775807");
}

#define P_BASE "\"args\": [\"sh\"], \"cwd\": \"/\""
#define ROOT "\"root\": {\"path\": \"rootfs\"}"
#define WITH_PROC(extra) "{" ROOT ", \"process\": {" P_BASE extra "}}"
#define WITH_TOP(extra) "{" ROOT ", \"process\": {" P_BASE "}" extra "}"
#define WITH_LINUX(extra) WITH_TOP (", \"linux\": {" extra "}")

static const struct
{
  const char *json;
  const char *want; /* substring of the error message */
} bad_inputs[] = {
  { "{\"root\": {\"path\": \"r\"},\n \"process\": ", "config.json: line 2, column" },
  { "[1, 2, 3]", "expected a JSON object" },
  { "{" ROOT ", \"process\": {\"cwd\": \"/\"}}", "process.args: required field missing" },
  { "{" ROOT ", \"process\": {\"args\": \"sh\", \"cwd\": \"/\"}}", "process.args: expected an array of strings" },
  { "{" ROOT ", \"process\": {\"args\": [\"sh\", 1], \"cwd\": \"/\"}}", "process.args[1]: expected a string" },
  { "{" ROOT ", \"process\": {\"args\": [], \"cwd\": \"/\"}}", "process.args: must not be empty" },
  { "{" ROOT ", \"process\": {\"args\": [\"sh\"]}}", "process.cwd: required field missing" },
  { "{" ROOT ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"work\"}}", "process.cwd: `work` is not an absolute" },
  { WITH_PROC (", \"user\": {\"uid\": 4294967296}"),
    "config.json: process.user.uid: expected an integer in 0..2147483647" },
  { WITH_PROC (", \"user\": {\"uid\": 2147483648}"), "process.user.uid: expected an integer in 0..2147483647" },
  { WITH_PROC (", \"user\": {\"uid\": -1}"), "process.user.uid: expected an integer" },
  { WITH_PROC (", \"user\": {\"uid\": \"0\"}"), "process.user.uid: expected an integer" },
  { WITH_PROC (", \"user\": {\"gid\": 1.5}"), "process.user.gid: expected an integer" },
  { WITH_PROC (", \"user\": {\"additionalGids\": [1, -2]}"), "process.user.additionalGids[1]: expected an integer" },
  { WITH_PROC (", \"user\": {\"umask\": 512}"), "process.user.umask: expected an integer in 0..511" },
  { WITH_PROC (", \"user\": 5"), "process.user: expected an object" },
  { WITH_PROC (", \"terminal\": \"yes\""), "process.terminal: expected a boolean" },
  { WITH_PROC (", \"consoleSize\": {\"height\": 10}"), "process.consoleSize.width: required field missing" },
  { WITH_PROC (", \"env\": [\"A=1\", \"NOEQUALS\"]"), "process.env[1]: expected NAME=VALUE" },
  { WITH_PROC (", \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_FOO\"]}"),
    "process.capabilities.bounding[1]: unknown capability `CAP_FOO`" },
  { WITH_PROC (", \"capabilities\": {\"ambient\": \"CAP_CHOWN\"}"), "process.capabilities.ambient: expected an array" },
  { WITH_PROC (", \"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]"),
    "process.rlimits[0].type: unknown rlimit `RLIMIT_BOGUS`" },
  { WITH_PROC (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2048, \"hard\": 1024}]"),
    "process.rlimits[0]: RLIMIT_NOFILE: soft limit 2048 is above the hard limit 1024" },
  { WITH_PROC (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]"), "process.rlimits[0].hard: required" },
  { WITH_PROC (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 18446744073709551616}]"),
    "config.json: line 1" },
  { WITH_PROC (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
               " {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}]"),
    "process.rlimits[1].type: duplicate rlimit" },
  { WITH_PROC (", \"oomScoreAdj\": 1001"), "process.oomScoreAdj: expected an integer in -1000..1000" },
  { WITH_PROC (", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_IDLE\"}"), "process.ioPriority.class: not supported" },
  { WITH_PROC (", \"scheduler\": {\"policy\": \"SCHED_FIFO\"}"), "process.scheduler.policy: not supported" },
  { WITH_PROC (", \"apparmorProfile\": \"a\\u0000b\""), "process.apparmorProfile: expected a string without NUL" },
  { WITH_PROC (", \"apparmorProfile\": 18446744073709551615"), "process.apparmorProfile: expected a string" },
  { "{" ROOT ", \"process\": {" P_BASE ", \"cwd\": \"/x\"}}", "duplicate object key" },
  { "{\"process\": {" P_BASE "}}", "config.json: root: required field missing" },
  { "{\"root\": {\"path\": \"\"}}", "root.path: must not be empty" },
  { "{\"root\": {\"path\": \"r\", \"readonly\": 1}}", "root.readonly: expected a boolean" },
  { WITH_TOP (", \"hostname\": 7"), "hostname: expected a string" },
  { WITH_TOP (", \"mounts\": [{\"destination\": \"tmp\", \"type\": \"tmpfs\"}]"),
    "mounts[0].destination: relative or escaping mount destination `tmp`" },
  { WITH_TOP (", \"mounts\": [{\"destination\": \"/ok\"}, {\"destination\": \"/a/../../b\"}]"),
    "mounts[1].destination: relative or escaping mount destination `/a/../../b`" },
  { WITH_TOP (", \"mounts\": [{\"type\": \"tmpfs\"}]"), "mounts[0].destination: required field missing" },
  { WITH_TOP (", \"mounts\": [{\"destination\": \"/x\", \"options\": [\"ro\", 3]}]"),
    "mounts[0].options[1]: expected a string" },
  { WITH_TOP (", \"annotations\": {\"a\": 1}"), "annotations.a: expected a string" },
  { WITH_TOP (", \"hooks\": {\"prestart\": [{\"path\": \"/bin/true\"}]}"),
    "config.json: hooks.prestart: not supported" },
  { WITH_TOP (", \"hooks\": {\"createRuntime\": [], \"poststop\": [{\"path\": \"/bin/true\"}]}"),
    "hooks.poststop: not supported" },
  { WITH_TOP (", \"vm\": {\"hypervisor\": {\"path\": \"/usr/bin/qemu\"}}"), "vm.hypervisor: not supported" },
  { WITH_LINUX ("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"bogus\"}]"),
    "linux.namespaces[1].type: unknown namespace type `bogus`" },
  { WITH_LINUX ("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"pid\"}]"),
    "linux.namespaces[2].type: duplicate namespace type `pid`" },
  { WITH_LINUX ("\"namespaces\": [{\"type\": \"network\", \"path\": \"ns/net\"}]"),
    "linux.namespaces[0].path: `ns/net` is not an absolute path" },
  { WITH_LINUX ("\"namespaces\": [{\"type\": \"user\"}]"), "linux.uidMappings: required with a new user namespace" },
  { WITH_LINUX (
        "\"namespaces\": [{\"type\": \"user\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]"),
    "linux.gidMappings: required with a new user namespace" },
  { WITH_LINUX ("\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]"),
    "linux.uidMappings: set without a user namespace" },
  { WITH_LINUX (
        "\"namespaces\": [{\"type\": \"user\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 0}]"),
    "linux.uidMappings[0].size: expected an integer in 1..4294967295" },
  { WITH_LINUX ("\"namespaces\": [{\"type\": \"user\"}],"
                " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 4294967295, \"size\": 2}]"),
    "linux.uidMappings[0]: id + size overflows 32 bits" },
  { WITH_LINUX ("\"namespaces\": [{\"type\": \"user\"}],"
                " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 4294967296, \"size\": 1}]"),
    "linux.uidMappings[0].hostID: expected an integer in 0..4294967295" },
  { WITH_LINUX ("\"maskedPaths\": [\"/ok\", \"relative\"]"), "linux.maskedPaths[1]: `relative` is not an absolute" },
  { WITH_LINUX ("\"readonlyPaths\": \"/proc\""), "linux.readonlyPaths: expected an array of strings" },
  { WITH_LINUX ("\"sysctl\": {\"net.x\": 1}"), "linux.sysctl.net.x: expected a string" },
  { WITH_LINUX ("\"rootfsPropagation\": \"rsomething\""), "linux.rootfsPropagation: unknown propagation" },
  { WITH_LINUX ("\"devices\": [{\"path\": \"dev/x\", \"type\": \"c\", \"major\": 1, \"minor\": 1}]"),
    "linux.devices[0].path: `dev/x` is not an absolute" },
  { WITH_LINUX ("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1}]"),
    "linux.devices[0].minor: required field missing" },
  { WITH_LINUX ("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\", \"major\": 1, \"minor\": 1}]"),
    "linux.devices[0].type: expected one of c, b, u, p" },
  { WITH_LINUX ("\"seccomp\": {\"syscalls\": []}"), "linux.seccomp.defaultAction: required field missing" },
  { WITH_LINUX (
        "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
        " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}"),
    "linux.seccomp.syscalls[0].args[0].index: expected an integer in 0..5" },
  { WITH_LINUX ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
                "\"action\": \"SCMP_ACT_NOTIFY\"}]}"),
    "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY" },
  { WITH_LINUX ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/s\", \"syscalls\": "
                "[{\"names\": [\"write\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"),
    "SCMP_ACT_NOTIFY cannot be used for the write syscall" },
  { WITH_LINUX ("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"@abstract\"}"),
    "linux.seccomp.listenerPath: `@abstract`: expected an absolute path" },
  { WITH_LINUX ("\"intelRdt\": {\"closID\": \"x\"}"), "linux.intelRdt.closID: not supported" },
  { WITH_LINUX ("\"personality\": {\"domain\": \"LINUX32\"}"), "linux.personality.domain: not supported" },
  { WITH_LINUX ("\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}"),
    "linux.resources.hugepageLimits: not supported" },
  { WITH_LINUX ("\"resources\": {\"memory\": {\"limit\": \"1G\"}}"),
    "linux.resources.memory.limit: expected an integer" },
  { WITH_LINUX ("\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rw-\"}]}"),
    "linux.resources.devices[0].access: expected a subset of `rwm`" },
  { WITH_LINUX ("\"resources\": {\"devices\": [{\"access\": \"r\"}]}"), "linux.resources.devices[0].allow: required" },
};

static void
test_bad_inputs (void)
{
  for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++)
    {
      nook_err err;
      struct nook_spec *s = parse (bad_inputs[i].json, &err);
      if (s != NULL)
        {
          printf ("    case %zu parsed but should fail: %s\n", i, bad_inputs[i].json);
          harness_failed_now = 1;
          nook_spec_free (s);
          continue;
        }
      if (getenv ("NOOK_TEST_VERBOSE") != NULL)
        printf ("    case %zu: %s\n", i, err.msg);
      if (strstr (err.msg, bad_inputs[i].want) == NULL || err.code != EINVAL)
        {
          printf ("    case %zu: got \"%s\", want \"%s\"\n", i, err.msg, bad_inputs[i].want);
          harness_failed_now = 1;
        }
    }
}

/* Error that names the duplicated key. */
static void
test_duplicate_key_named (void)
{
  nook_err err;
  CHECK (parse ("{" ROOT ", \"process\": {" P_BASE ", \"user\": {\"uid\": 1, \"uid\": 2}}}", &err) == NULL);
  CHECK (strstr (err.msg, "duplicate object key") != NULL && strstr (err.msg, "uid") != NULL);
}

static void
test_process_parse (void)
{
  nook_err err;
  json_error_t jerr;
  struct nook_process *p = NULL;
  json_t *o = json_loads ("{\"args\": [\"ls\"], \"cwd\": \"/\", \"env\": [\"A=b\"], \"user\": {\"uid\": 7}}", 0, &jerr);

  CHECK (nook_process_parse (o, "process.json", &p, &err) == 0);
  if (p != NULL)
    {
      CHECK_STR (p->args[0], "ls");
      CHECK (p->user.uid == 7 && !p->has_caps);
      nook_process_free (p);
    }
  json_decref (o);
  o = json_loads ("{\"args\": [\"ls\"], \"cwd\": \"rel\"}", 0, &jerr);
  p = NULL;
  CHECK (nook_process_parse (o, "process.json", &p, &err) < 0 && p == NULL);
  CHECK_STR (err.msg, "process.json: cwd: `rel` is not an absolute path");
  json_decref (o);
}

static void
test_load (void)
{
  char dir[] = "/tmp/nook-test-spec-XXXXXX";
  nook_err err;
  struct nook_spec *s = NULL;

  CHECK (mkdtemp (dir) != NULL);
  CHECK (nook_spec_load (dir, &s, &err) < 0);
  {
    char want[256];
    snprintf (want, sizeof want, "open `%s/config.json`: No such file or directory", dir);
    CHECK_STR (err.msg, want);
  }
  char *path = xasprintf ("%s/config.json", dir);
  FILE *f = fopen (path, "w");
  CHECK (f != NULL);
  if (f != NULL)
    {
      fputs ("{\"root\": {\"path\": \"rootfs\"}, \"hostname\": 3}", f);
      fclose (f);
    }
  CHECK (nook_spec_load (dir, &s, &err) < 0);
  CHECK (strstr (err.msg, "config.json: hostname: expected a string") != NULL);
  CHECK (strstr (err.msg, dir) != NULL);
  f = fopen (path, "w");
  if (f != NULL)
    {
      fputs (full_config, f);
      fclose (f);
    }
  CHECK (nook_spec_load (dir, &s, &err) == 0);
  nook_spec_free (s);
  unlink (path);
  rmdir (dir);
  free (path);
}

static void
check_default (bool rootless)
{
  nook_err err;
  char *text = nook_spec_default (rootless, 1000, 1001);
  struct nook_spec *s = parse (text, &err);
  uint64_t docker = CAP (0) | CAP (1) | CAP (4) | CAP (3) | CAP (27) | CAP (13) | CAP (6) | CAP (7) | CAP (31) | CAP (8)
                    | CAP (10) | CAP (18) | CAP (5) | CAP (29);

  CHECK (s != NULL);
  if (s == NULL)
    {
      printf ("    error: %s\n%s", err.msg, text);
      free (text);
      return;
    }
  CHECK (strstr (text, "\n  \"process\": {") != NULL); /* pretty-printed */
  CHECK_STR (s->oci_version, "1.0.2-dev");
  CHECK (s->process->terminal && s->process->no_new_privileges);
  CHECK_STR (s->process->args[0], "sh");
  CHECK_STR (s->process->env[1], "TERM=xterm");
  CHECK_STR (s->process->cwd, "/");
  CHECK (s->process->caps.bounding == docker && s->process->caps.effective == docker
         && s->process->caps.permitted == docker);
  CHECK (s->process->caps.inheritable == 0 && s->process->caps.ambient == 0);
  CHECK (s->process->n_rlimits == 1 && s->process->rlimits[0].resource == RLIMIT_NOFILE
         && s->process->rlimits[0].soft == 1024 && s->process->rlimits[0].hard == 1024);
  CHECK_STR (s->root_path, "rootfs");
  CHECK (s->root_readonly);
  CHECK_STR (s->hostname, "nook");
  CHECK (strv_len (s->masked_paths) == 11 && strv_len (s->readonly_paths) == 5);
  CHECK (s->namespaces[NOOK_NS_PID].enabled && s->namespaces[NOOK_NS_IPC].enabled && s->namespaces[NOOK_NS_UTS].enabled
         && s->namespaces[NOOK_NS_MOUNT].enabled && !s->namespaces[NOOK_NS_CGROUP].enabled /* runc's set */
         && !s->namespaces[NOOK_NS_TIME].enabled);
  CHECK (s->namespaces[NOOK_NS_NET].enabled == !rootless);
  CHECK (s->namespaces[NOOK_NS_USER].enabled == rootless);
  CHECK_STR (s->mounts[2].destination, "/dev/pts");
  CHECK ((strstr (text, "gid=5") != NULL) == !rootless);
  if (rootless)
    {
      CHECK (s->n_mounts == 6);
      CHECK (s->n_uid_mappings == 1 && s->uid_mappings[0].container_id == 0 && s->uid_mappings[0].host_id == 1000
             && s->uid_mappings[0].size == 1);
      CHECK (s->n_gid_mappings == 1 && s->gid_mappings[0].host_id == 1001);
      CHECK_STR (s->mounts[5].destination, "/sys");
      CHECK_STR (s->mounts[5].options[0], "rbind");
    }
  else
    {
      CHECK (s->n_mounts == 7);
      CHECK (s->n_uid_mappings == 0 && s->n_gid_mappings == 0);
      CHECK_STR (s->mounts[6].destination, "/sys/fs/cgroup");
      CHECK (s->resources.n_devices == 1 && !s->resources.devices[0].allow);
    }
  nook_spec_free (s);
  free (text);
}

static void
test_default_rootless (void)
{
  check_default (true);
}

static void
test_default_root (void)
{
  check_default (false);
}

static void
test_features (void)
{
  char *text = nook_features_json ();
  json_error_t jerr;
  json_t *doc = json_loads (text, 0, &jerr), *lx;

  CHECK (doc != NULL);
  if (doc == NULL)
    {
      free (text);
      return;
    }
  CHECK_STR (json_string_value (json_object_get (doc, "ociVersionMin")), "1.0.0");
  CHECK_STR (json_string_value (json_object_get (doc, "ociVersionMax")), "1.1.0");
  CHECK (json_array_size (json_object_get (doc, "hooks")) == 0);
  CHECK (json_array_size (json_object_get (doc, "mountOptions")) == 32);
  lx = json_object_get (doc, "linux");
  CHECK (json_array_size (json_object_get (lx, "namespaces")) == 8);
  CHECK (json_array_size (json_object_get (lx, "capabilities")) == 41);
  CHECK (json_is_true (json_object_get (json_object_get (lx, "cgroup"), "v2")));
  CHECK (json_is_false (json_object_get (json_object_get (lx, "cgroup"), "systemd")));
  CHECK (json_is_true (json_object_get (json_object_get (lx, "seccomp"), "enabled")));
  CHECK (json_array_size (json_object_get (json_object_get (lx, "seccomp"), "operators")) == 7);
  CHECK (json_is_boolean (json_object_get (json_object_get (lx, "apparmor"), "enabled")));
  CHECK (json_is_boolean (json_object_get (json_object_get (lx, "selinux"), "enabled")));
  CHECK_STR (json_string_value (json_object_get (json_object_get (doc, "annotations"), "io.github.nook.version")),
             "0.1.0");
  json_decref (doc);
  free (text);
}

static void
test_cap_names (void)
{
  CHECK (nook_cap_from_name ("CAP_CHOWN") == 0);
  CHECK (nook_cap_from_name ("chown") == 0);
  CHECK (nook_cap_from_name ("cap_sys_admin") == 21);
  CHECK (nook_cap_from_name ("CAP_CHECKPOINT_RESTORE") == 40);
  CHECK (nook_cap_from_name ("CAP_BOGUS") == -1);
  CHECK (nook_cap_from_name ("") == -1);
  CHECK (nook_cap_from_name ("CAP_") == -1);
  CHECK (nook_cap_from_name (NULL) == -1);
  CHECK_STR (nook_cap_name (0), "CAP_CHOWN");
  CHECK_STR (nook_cap_name (38), "CAP_PERFMON");
  CHECK_STR (nook_cap_name (39), "CAP_BPF");
  CHECK (nook_cap_name (41) == NULL && nook_cap_name (-1) == NULL);
  for (int i = 0; nook_cap_name (i) != NULL; i++)
    CHECK (nook_cap_from_name (nook_cap_name (i)) == i);
}

static void
test_rlimit_names (void)
{
  CHECK (nook_rlimit_from_name ("RLIMIT_NOFILE") == RLIMIT_NOFILE);
  CHECK (nook_rlimit_from_name ("RLIMIT_CPU") == RLIMIT_CPU);
  CHECK (nook_rlimit_from_name ("RLIMIT_RTTIME") == RLIMIT_RTTIME);
  CHECK (nook_rlimit_from_name ("RLIMIT_NPROC") == RLIMIT_NPROC);
  CHECK (nook_rlimit_from_name ("NOFILE") == -1);
  CHECK (nook_rlimit_from_name ("RLIMIT_BOGUS") == -1);
  CHECK (nook_rlimit_from_name (NULL) == -1);
}

static void
test_ns_names (void)
{
  CHECK (nook_ns_from_name ("user") == NOOK_NS_USER);
  CHECK (nook_ns_from_name ("network") == NOOK_NS_NET);
  CHECK (nook_ns_from_name ("mount") == NOOK_NS_MOUNT);
  CHECK (nook_ns_from_name ("net") == -1);
  CHECK (nook_ns_from_name ("mnt") == -1);
  CHECK_STR (nook_ns_name (NOOK_NS_NET), "network");
  CHECK_STR (nook_ns_proc_name (NOOK_NS_NET), "net");
  CHECK_STR (nook_ns_proc_name (NOOK_NS_MOUNT), "mnt");
  CHECK_STR (nook_ns_proc_name (NOOK_NS_TIME), "time");
  CHECK (nook_ns_clone_flag (NOOK_NS_USER) == CLONE_NEWUSER);
  CHECK (nook_ns_clone_flag (NOOK_NS_MOUNT) == CLONE_NEWNS);
  CHECK (nook_ns_clone_flag (NOOK_NS_CGROUP) == CLONE_NEWCGROUP);
  CHECK (nook_ns_clone_flag (NOOK_NS_TIME) == 0x80);
  CHECK (nook_ns_name (NOOK_NS_COUNT) == NULL && nook_ns_proc_name (-1) == NULL);
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    CHECK (nook_ns_from_name (nook_ns_name (i)) == i);
}

int
main (void)
{
  RUN (test_full_config);
  RUN (test_minimal_config);
  RUN (test_caps_beyond_kernel);
  RUN (test_big_numbers);
  RUN (test_bad_inputs);
  RUN (test_duplicate_key_named);
  RUN (test_process_parse);
  RUN (test_load);
  RUN (test_default_rootless);
  RUN (test_default_root);
  RUN (test_features);
  RUN (test_cap_names);
  RUN (test_rlimit_names);
  RUN (test_ns_names);
  return HARNESS_END ();
}
