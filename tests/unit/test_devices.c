/* The device cgroup: the effective rule list, the v2 BPF program (run through a small interpreter of the
 * instructions it uses), and, as root where a cgroup v2 hierarchy is mounted, the program attached for real. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* ---------------------------------------------------------------- an interpreter for the program */

/* Runs the program on one access; returns r0, or -1 on an instruction it does not know or a jump out. */
static int
run_prog (const struct bpf_insn *p, size_t n, char type, uint32_t major, uint32_t minor, const char *access)
{
  uint32_t ctx[3];
  uint64_t r[11] = { 0 };
  int acc = 0;

  for (const char *a = access; *a; a++)
    acc |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  ctx[0] = (uint32_t) acc << 16 | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  ctx[1] = major;
  ctx[2] = minor;
  for (size_t pc = 0; pc < n; pc++)
    {
      const struct bpf_insn *i = &p[pc];
      switch (i->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          if (i->src_reg != 1 || i->off % 4 || i->off < 0 || i->off > 8)
            return -1;
          r[i->dst_reg] = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          r[i->dst_reg] = (uint32_t) r[i->dst_reg] & (uint32_t) i->imm;
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          r[i->dst_reg] = (uint32_t) r[i->dst_reg] >> i->imm;
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
          r[i->dst_reg] = (uint64_t) (int64_t) i->imm;
          break;
        case BPF_ALU64 | BPF_MOV | BPF_X:
          r[i->dst_reg] = r[i->src_reg];
          break;
        case BPF_JMP | BPF_JNE | BPF_K:
          if (r[i->dst_reg] != (uint64_t) (int64_t) i->imm)
            pc += i->off;
          break;
        case BPF_JMP | BPF_EXIT:
          return (int) r[0];
        default:
          return -1;
        }
    }
  return -1;
}

struct case_
{
  char type;
  uint32_t major, minor;
  const char *access;
  int expect;
};

static int
eval (const struct nook_resources *res, const struct nook_device *devs, size_t n_devs, const struct case_ *c)
{
  struct nook_device_rule *rules = NULL;
  struct bpf_insn *prog = NULL;
  size_t n = nook_cgroup_device_rules (res, devs, n_devs, &rules);
  size_t len = nook_cgroup_devices_bpf (rules, n, &prog);
  int r = run_prog (prog, len, c->type, c->major, c->minor, c->access);
  free (rules);
  free (prog);
  return r;
}

#define CHECK_CASES(res, devs, n_devs, cases)                                                             \
  for (size_t _i = 0; _i < sizeof (cases) / sizeof (cases[0]); _i++)                                      \
    if (eval (res, devs, n_devs, &cases[_i]) != cases[_i].expect)                                         \
      {                                                                                                   \
        printf ("    case %zu: %c %u:%u %s: expected %d\n", _i, cases[_i].type, cases[_i].major,           \
                cases[_i].minor, cases[_i].access, cases[_i].expect);                                     \
        harness_failed_now = 1;                                                                           \
      }

static struct nook_device_rule
rule (bool allow, char type, int64_t major, int64_t minor, const char *access)
{
  struct nook_device_rule r = { .allow = allow, .type = type, .major = major, .minor = minor };
  strcpy (r.access, access);
  return r;
}

/* ---------------------------------------------------------------- tests */

static void
test_rule_list (void)
{
  struct nook_resources res = { 0 };
  struct nook_device kmsg = { .path = (char *) "/dev/kmsg", .type = 'c', .major = 1, .minor = 11 };
  struct nook_device mynull = { .path = (char *) "/dev/null", .type = 'c', .major = 1, .minor = 11 };
  struct nook_device_rule spec[2] = { rule (true, 'c', 1, 11, "r"), rule (false, 'c', 1, 11, "") };
  struct nook_device_rule *v = NULL;
  char buf[64];
  size_t n;

  n = nook_cgroup_device_rules (&res, &kmsg, 1, &v);
  CHECK (n == 12);
  CHECK_STR (nook_cgroup_device_rule_str (&v[0], buf, sizeof (buf)), "a");
  CHECK (!v[0].allow);
  CHECK_STR (nook_cgroup_device_rule_str (&v[1], buf, sizeof (buf)), "c *:* m");
  CHECK_STR (nook_cgroup_device_rule_str (&v[3], buf, sizeof (buf)), "c 1:3 rwm");
  for (size_t i = 0; i < n; i++) /* linux.devices grants nothing by itself */
    CHECK (!(v[i].major == 1 && v[i].minor == 11));
  free (v);
  /* A device the config redefines loses its default rule; a rule with no known access letter is dropped. */
  res.devices = spec, res.n_devices = 2;
  n = nook_cgroup_device_rules (&res, &mynull, 1, &v);
  CHECK (n == 1 + 1 + 10);
  CHECK_STR (nook_cgroup_device_rule_str (&v[1], buf, sizeof (buf)), "c 1:11 r");
  for (size_t i = 2; i < n; i++)
    CHECK (!(v[i].major == 1 && v[i].minor == 3));
  free (v);
}

/* runc's default spec: deny all, nothing else; /dev/kmsg listed in linux.devices stays denied. */
static void
test_bpf_default (void)
{
  struct nook_device_rule deny_all = rule (false, 'a', -1, -1, "rwm");
  struct nook_resources res = { .devices = &deny_all, .n_devices = 1 };
  struct nook_device kmsg = { .path = (char *) "/dev/kmsg", .type = 'c', .major = 1, .minor = 11 };
  static const struct case_ cases[] = {
    { 'c', 1, 11, "r", 0 },   { 'c', 1, 11, "w", 0 },    { 'c', 1, 11, "m", 1 },  { 'c', 1, 3, "rw", 1 },
    { 'c', 1, 3, "rwm", 1 },  { 'c', 5, 0, "r", 1 },     { 'c', 136, 7, "rw", 1 }, { 'c', 5, 2, "rw", 1 },
    { 'c', 10, 200, "rw", 1 }, { 'b', 8, 0, "r", 0 },    { 'b', 8, 0, "m", 1 },   { 'c', 4, 1, "rw", 0 },
    { 'c', 1, 9, "r", 1 },    { 'c', 5, 1, "r", 0 },
  };

  CHECK_CASES (&res, &kmsg, 1, cases);
}

/* Later rules win; partial access; "allow a" opens everything until a later deny. */
static void
test_bpf_order (void)
{
  struct nook_device_rule rules[] = {
    rule (true, 'c', 1, 11, "rw"),   rule (false, 'c', 1, 11, "w"), rule (true, 'b', 7, -1, "r"),
    rule (false, 'c', -1, 3, "rwm"), /* a later deny of /dev/null is overridden by the default list */
  };
  struct nook_resources res = { .devices = rules, .n_devices = 4 };
  static const struct case_ cases[] = {
    { 'c', 1, 11, "r", 1 }, { 'c', 1, 11, "w", 0 }, { 'c', 1, 11, "rw", 1 }, { 'b', 7, 3, "r", 1 },
    { 'b', 7, 3, "w", 0 },  { 'b', 7, 3, "rw", 0 }, { 'c', 1, 3, "rw", 1 },  { 'c', 7, 3, "r", 0 },
  };
  struct nook_device_rule all[] = { rule (true, 'a', -1, -1, "rwm"), rule (false, 'c', 1, 11, "rwm") };
  struct nook_resources res_all = { .devices = all, .n_devices = 2 };
  static const struct case_ cases_all[] = {
    { 'c', 4, 1, "rw", 1 }, { 'b', 8, 0, "rwm", 1 }, { 'c', 1, 11, "r", 0 }, { 'c', 1, 11, "m", 1 },
  };

  CHECK_CASES (&res, NULL, 0, cases);
  CHECK_CASES (&res_all, NULL, 0, cases_all);
}

/* Load and attach the program to a v2 cgroup (the hybrid layout here has an empty one), move a child into
 * it: /dev/null opens, /dev/kmsg does not.  Needs root and a cgroup v2 mount. */
static void
test_bpf_attach (void)
{
  const char *base = access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
                                                                              : "/sys/fs/cgroup/unified";
  struct nook_device_rule deny_all = rule (false, 'a', -1, -1, "rwm");
  struct nook_resources res = { .devices = &deny_all, .n_devices = 1 };
  cleanup_free char *dir = xasprintf ("%s/nook-test-devices-%d", base, (int) getpid ());
  nook_err err = { 0 };
  int st = -1;
  pid_t pid;

  if (geteuid () != 0 || access (base, W_OK) != 0 || access ("/dev/kmsg", R_OK) != 0)
    {
      printf ("    skipped: needs root, a writable cgroup v2 mount and /dev/kmsg\n");
      return;
    }
  CHECK (mkdir (dir, 0755) == 0);
  if (nook_cgroup_v2_devices (dir, &res, NULL, 0, &err) < 0)
    {
      printf ("    %s\n", err.msg);
      CHECK (0);
      rmdir (dir);
      return;
    }
  pid = fork ();
  if (pid == 0)
    {
      char me[32];
      int fd;
      snprintf (me, sizeof (me), "%d", (int) getpid ());
      if (nook_cgroup_write (dir, "cgroup.procs", me, &err) < 0)
        _exit (2);
      fd = open ("/dev/null", O_WRONLY);
      if (fd < 0)
        _exit (3);
      close (fd);
      fd = open ("/dev/kmsg", O_RDONLY);
      _exit (fd < 0 && errno == EPERM ? 0 : 4);
    }
  waitpid (pid, &st, 0);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    printf ("    child status %d\n", st);
  CHECK (rmdir (dir) == 0);
}

int
main (void)
{
  RUN (test_rule_list);
  RUN (test_bpf_default);
  RUN (test_bpf_order);
  RUN (test_bpf_attach);
  return HARNESS_END ();
}
