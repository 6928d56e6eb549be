/* linux.resources.devices: the rules a container's device cgroup enforces, and how.
 *
 * The effective list is runc's: "deny everything" first (a new cgroup inherits its parent's access, and a
 * config without rules must not mean "every device"), then the config's rules in order, then the devices
 * every container gets (mknod of anything, the standard character devices, ptys, /dev/net/tun); a default
 * whose path the config redefines in linux.devices is left out.  linux.devices itself grants nothing: a
 * device node the config creates is usable only when a rule allows it.
 *
 * cgroup v1 gets the list written to devices.deny/devices.allow in order.  cgroup v2 has no device files:
 * the list is compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup.  The
 * program evaluates the rules from the last to the first; the first rule whose type, major, minor match and
 * whose access includes every requested access decides (as runc's generated filter does).  Since the list
 * starts with "deny a", nothing falls through. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/syscalls.h"

static const struct
{
  const char *path; /* NULL: no node of its own */
  char type;
  int64_t major, minor;
  const char *access;
} default_rules[] = {
  { NULL, 'c', -1, -1, "m" },          { NULL, 'b', -1, -1, "m" },           { "/dev/null", 'c', 1, 3, "rwm" },
  { "/dev/random", 'c', 1, 8, "rwm" }, { "/dev/full", 'c', 1, 7, "rwm" },    { "/dev/tty", 'c', 5, 0, "rwm" },
  { "/dev/zero", 'c', 1, 5, "rwm" },   { "/dev/urandom", 'c', 1, 9, "rwm" }, { NULL, 'c', 136, -1, "rwm" },
  { NULL, 'c', 5, 2, "rwm" },          { NULL, 'c', 10, 200, "rwm" },
};

#define N_DEFAULT_RULES (sizeof (default_rules) / sizeof (default_rules[0]))

static bool
devs_have_path (const struct nook_device *devs, size_t n, const char *path)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (devs[i].path, path) == 0)
      return true;
  return false;
}

size_t
nook_cgroup_device_rules (const struct nook_resources *r, const struct nook_device *devs, size_t n_devs,
                          struct nook_device_rule **out)
{
  struct nook_device_rule *v = xcalloc (1 + r->n_devices + N_DEFAULT_RULES, sizeof (*v));
  size_t n = 0;

  v[n++] = (struct nook_device_rule){ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" };
  for (size_t i = 0; i < r->n_devices; i++)
    if (r->devices[i].access[0] != '\0') /* an access of only unknown letters grants and denies nothing */
      v[n++] = r->devices[i];
  for (size_t i = 0; i < N_DEFAULT_RULES; i++)
    {
      if (default_rules[i].path != NULL && devs_have_path (devs, n_devs, default_rules[i].path))
        continue;
      v[n] = (struct nook_device_rule){ .allow = true,
                                        .type = default_rules[i].type,
                                        .major = default_rules[i].major,
                                        .minor = default_rules[i].minor };
      strcpy (v[n++].access, default_rules[i].access);
    }
  *out = v;
  return n;
}

int
nook_cgroup_v1_devices (const char *dir, const struct nook_resources *r, const struct nook_device *devs,
                        size_t n_devs, nook_err *err)
{
  cleanup_free struct nook_device_rule *v = NULL;
  size_t n = nook_cgroup_device_rules (r, devs, n_devs, &v);
  char line[96];

  for (size_t i = 0; i < n; i++)
    {
      nook_cgroup_device_rule_str (&v[i], line, sizeof (line));
      if (nook_cgroup_write (dir, v[i].allow ? "devices.allow" : "devices.deny", line, err) < 0)
        return -1;
    }
  return 0;
}

/* ---------------------------------------------------------------- the v2 program */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN (BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_K(op, dst, imm) INSN (BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_R(dst, src) INSN (BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, imm) INSN (BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_K(dst, imm, off) INSN (BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT_INSN() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the prologue: R2 device type, R3 requested access, R4 major, R5 minor. */
enum
{
  R_TYPE = 2,
  R_ACCESS = 3,
  R_MAJOR = 4,
  R_MINOR = 5,
  R_TMP = 1, /* the context pointer is not needed after the prologue */
};

static int
access_bits (const char *access)
{
  int bits = 0;
  for (const char *p = access; *p; p++)
    bits |= *p == 'r' ? BPF_DEVCG_ACC_READ : *p == 'w' ? BPF_DEVCG_ACC_WRITE : *p == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  return bits;
}

struct prog
{
  struct bpf_insn *insns;
  size_t n, cap;
};

static void
emit (struct prog *p, struct bpf_insn insn)
{
  if (p->n == p->cap)
    p->insns = xrealloc (p->insns, (p->cap = p->cap ? 2 * p->cap : 64) * sizeof (*p->insns));
  p->insns[p->n++] = insn;
}

/* One rule: a few conditional jumps past the block, then "return allow".  Returns true when the rule
 * matches everything (the rules before it can never be reached). */
static bool
emit_rule (struct prog *p, const struct nook_device_rule *r)
{
  int acc = access_bits (r->access);
  size_t start = p->n;
  bool all = true;

  if (r->type != 'a')
    {
      emit (p, JNE_K (R_TYPE, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
      if (r->major >= 0)
        emit (p, JNE_K (R_MAJOR, (int32_t) r->major, 0));
      if (r->minor >= 0)
        emit (p, JNE_K (R_MINOR, (int32_t) r->minor, 0));
      if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD))
        {
          emit (p, MOV64_R (R_TMP, R_ACCESS));
          emit (p, ALU32_K (BPF_AND, R_TMP, ~acc));
          emit (p, JNE_K (R_TMP, 0, 0));
        }
      all = false;
    }
  emit (p, MOV64_K (BPF_REG_0, r->allow ? 1 : 0));
  emit (p, EXIT_INSN ());
  for (size_t i = start; i < p->n; i++) /* the jumps skip the rest of the block */
    if (BPF_CLASS (p->insns[i].code) == BPF_JMP && BPF_OP (p->insns[i].code) == BPF_JNE)
      p->insns[i].off = (int16_t) (p->n - i - 1);
  return all;
}

size_t
nook_cgroup_devices_bpf (const struct nook_device_rule *rules, size_t n, struct bpf_insn **out)
{
  struct prog p = { 0 };
  size_t i;

  /* struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; } */
  emit (&p, LDX_W (R_TYPE, BPF_REG_1, 0));
  emit (&p, ALU32_K (BPF_AND, R_TYPE, 0xffff));
  emit (&p, LDX_W (R_ACCESS, BPF_REG_1, 0));
  emit (&p, ALU32_K (BPF_RSH, R_ACCESS, 16));
  emit (&p, LDX_W (R_MAJOR, BPF_REG_1, 4));
  emit (&p, LDX_W (R_MINOR, BPF_REG_1, 8));
  for (i = n; i > 0; i--)
    if (emit_rule (&p, &rules[i - 1]))
      break;
  if (i == 0) /* no catch-all rule: deny */
    {
      emit (&p, MOV64_K (BPF_REG_0, 0));
      emit (&p, EXIT_INSN ());
    }
  *out = p.insns;
  return p.n;
}

static int
load_program (const struct bpf_insn *insns, size_t n, nook_err *err)
{
  union bpf_attr attr;
  char log[4096] = "";
  int fd;

  memset (&attr, 0, sizeof (attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) insns;
  attr.insn_cnt = (uint32_t) n;
  attr.license = (uint64_t) (uintptr_t) "Apache";
  fd = sys_bpf (BPF_PROG_LOAD, &attr, sizeof (attr));
  if (fd >= 0 || errno != EINVAL)
    return fd < 0 ? nook_error (err, errno, "bpf: load the device cgroup program") : fd;
  attr.log_buf = (uint64_t) (uintptr_t) log; /* again, for the verifier's reason */
  attr.log_size = sizeof (log);
  attr.log_level = 1;
  fd = sys_bpf (BPF_PROG_LOAD, &attr, sizeof (attr));
  if (fd < 0)
    return nook_error (err, errno, "bpf: load the device cgroup program (verifier: %.200s)", log);
  return fd;
}

int
nook_cgroup_v2_devices (const char *dir, const struct nook_resources *r, const struct nook_device *devs,
                        size_t n_devs, nook_err *err)
{
  cleanup_free struct nook_device_rule *v = NULL;
  cleanup_free struct bpf_insn *insns = NULL;
  cleanup_close int prog = -1, cgfd = -1;
  size_t n = nook_cgroup_device_rules (r, devs, n_devs, &v);
  size_t n_insns = nook_cgroup_devices_bpf (v, n, &insns);
  union bpf_attr attr;

  prog = load_program (insns, n_insns, err);
  if (prog < 0)
    return -1;
  cgfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return nook_error (err, errno, "open `%s`", dir);
  memset (&attr, 0, sizeof (attr));
  attr.target_fd = (uint32_t) cgfd;
  attr.attach_bpf_fd = (uint32_t) prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &attr, sizeof (attr)) < 0)
    return nook_error (err, errno, "bpf: attach the device program to `%s`", dir);
  return 0;
}
