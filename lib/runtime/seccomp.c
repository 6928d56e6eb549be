/* linux.seccomp: compiled with libseccomp into a BPF program in the runtime, installed in the container's
 * init with seccomp(2).  The rules follow runc's reading of the OCI spec. */
#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/security.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define NOOK_BPF_MAX_BYTES (BPF_MAXINSNS * sizeof (struct sock_filter))

static void
nook_seccomp_ctxp (scmp_filter_ctx *ctx)
{
  if (*ctx != NULL)
    seccomp_release (*ctx);
}
#define cleanup_seccomp _cleanup_ (nook_seccomp_ctxp)

/* Map an OCI action name to a libseccomp action.  ERRNO and TRACE take ERRNO_RET (EPERM when absent). */
static int
action_from_name (const char *name, bool has_ret, uint32_t ret, uint32_t *out, nook_err *err)
{
  uint32_t value = has_ret ? ret : EPERM;
  bool takes_ret = false;

  if (name == NULL)
    return nook_error_input (err, "missing action");
  if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if ((takes_ret = strcmp (name, "SCMP_ACT_ERRNO") == 0))
    *out = SCMP_ACT_ERRNO (value);
  else if ((takes_ret = strcmp (name, "SCMP_ACT_TRACE") == 0))
    *out = SCMP_ACT_TRACE (value);
  else if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    *out = SCMP_ACT_NOTIFY; /* the spec parser made sure a listenerPath goes with it */
  else
    return nook_error_input (err, "unknown action `%s`", name);
  if (takes_ret && value > 0xffff)
    return nook_error_input (err, "errnoRet %u of action `%s` is out of range", value, name);
  return 0;
}

static int
op_from_name (const char *name, enum scmp_compare *out, nook_err *err)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },   { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },   { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };

  for (size_t i = 0; name != NULL && i < sizeof (ops) / sizeof (ops[0]); i++)
    if (strcmp (name, ops[i].name) == 0)
      {
        *out = ops[i].op;
        return 0;
      }
  return nook_error_input (err, "unknown operator `%s`", name ? name : "(null)");
}

/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64 via libseccomp's own names ("x86_64"). */
static int
arch_from_name (const char *name, uint32_t *out, nook_err *err)
{
  char lower[64];
  const char *s = name;
  size_t i;

  if (strncmp (s, "SCMP_ARCH_", 10) == 0)
    s += 10;
  for (i = 0; s[i] != '\0' && i < sizeof (lower) - 1; i++)
    lower[i] = (char) tolower ((unsigned char) s[i]);
  lower[i] = '\0';
  *out = s[i] == '\0' && i > 0 ? seccomp_arch_resolve_name (lower) : 0;
  if (*out == 0)
    return nook_error_input (err, "unknown architecture `%s`", name);
  return 0;
}

static int
flag_from_name (const char *name, unsigned int *flags, nook_err *err)
{
  if (strcmp (name, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
    *flags |= SECCOMP_FILTER_FLAG_TSYNC;
  else if (strcmp (name, "SECCOMP_FILTER_FLAG_LOG") == 0)
    *flags |= SECCOMP_FILTER_FLAG_LOG;
  else if (strcmp (name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
    *flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  else if (strcmp (name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
    ; /* only meaningful with a notify listener, and not on every kernel: accepted, not asked for */
  else
    return nook_error_input (err, "unknown flag `%s`", name);
  return 0;
}

static int
add_arches (scmp_filter_ctx ctx, char **arches, nook_err *err)
{
  for (size_t i = 0; arches != NULL && arches[i] != NULL; i++)
    {
      uint32_t arch;
      int rc;

      if (arch_from_name (arches[i], &arch, err) < 0)
        return -1;
      rc = seccomp_arch_add (ctx, arch);
      if (rc < 0 && rc != -EEXIST)
        return nook_error (err, -rc, "seccomp_arch_add `%s`", arches[i]);
    }
  return 0;
}

static int
build_conds (const struct nook_seccomp_rule *r, struct scmp_arg_cmp *conds, bool *same_index, nook_err *err)
{
  *same_index = false;
  for (size_t i = 0; i < r->n_args; i++)
    {
      const struct nook_seccomp_arg *a = &r->args[i];
      enum scmp_compare op = SCMP_CMP_EQ;

      if (op_from_name (a->op, &op, err) < 0)
        return -1;
      if (a->index > 5)
        return nook_error_input (err, "argument index %u is out of range (0-5)", a->index);
      conds[i] = (struct scmp_arg_cmp){ .arg = a->index, .op = op, .datum_a = a->value, .datum_b = a->value_two };
      for (size_t j = 0; j < i; j++)
        if (r->args[j].index == a->index)
          *same_index = true;
    }
  return 0;
}

/* One syscall of a rule.  Conditions on distinct arguments form one rule (all must match); when two
 * conditions test the same argument, libseccomp cannot AND them, so each becomes its own rule (runc). */
static int
add_syscall (scmp_filter_ctx ctx, const char *name, uint32_t action, const struct nook_seccomp_rule *r,
             const struct scmp_arg_cmp *conds, bool same_index, nook_err *err)
{
  int nr = seccomp_syscall_resolve_name (name);
  int rc = 0;

  if (nr == __NR_SCMP_ERROR)
    return 0; /* not a syscall of this libseccomp/kernel: profiles list syscalls of many */
  if (!same_index)
    rc = seccomp_rule_add_array (ctx, action, nr, (unsigned int) r->n_args, conds);
  else
    for (size_t i = 0; i < r->n_args && rc >= 0; i++)
      rc = seccomp_rule_add_array (ctx, action, nr, 1, &conds[i]);
  if (rc < 0)
    return nook_error (err, -rc, "seccomp_rule_add `%s`", name);
  return 0;
}

static int
add_rule (scmp_filter_ctx ctx, const struct nook_seccomp_rule *r, uint32_t default_action, nook_err *err)
{
  cleanup_free struct scmp_arg_cmp *conds = NULL;
  uint32_t action;
  bool same_index;

  if (action_from_name (r->action, r->has_errno_ret, r->errno_ret, &action, err) < 0)
    return -1;
  conds = xcalloc (r->n_args ? r->n_args : 1, sizeof (*conds));
  if (build_conds (r, conds, &same_index, err) < 0)
    return -1;
  if (action == default_action)
    return 0; /* libseccomp rejects a rule that repeats the default action; it changes nothing anyway */
  for (size_t i = 0; r->names != NULL && r->names[i] != NULL; i++)
    if (add_syscall (ctx, r->names[i], action, r, conds, same_index, err) < 0)
      return -1;
  return 0;
}

/* seccomp_export_bpf writes to an fd: use a memfd and read the program back. */
static int
export_bpf (scmp_filter_ctx ctx, struct nook_seccomp_prog *out, nook_err *err)
{
  cleanup_close int fd = memfd_create ("nook-seccomp", MFD_CLOEXEC);
  cleanup_free char *data = NULL;
  size_t len = 0;
  int rc;

  if (fd < 0)
    return nook_error (err, errno, "memfd_create");
  rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0)
    return nook_error (err, -rc, "seccomp_export_bpf");
  if (lseek (fd, 0, SEEK_SET) < 0)
    return nook_error (err, errno, "lseek seccomp program");
  if (nook_read_fd (fd, &data, &len, 2 * NOOK_BPF_MAX_BYTES, err) < 0)
    return nook_error_prefix (err, "seccomp program");
  if (len > NOOK_BPF_MAX_BYTES)
    return nook_error (err, E2BIG, "seccomp program of %zu instructions (the kernel takes %d)",
                       len / sizeof (struct sock_filter), BPF_MAXINSNS);
  if (len == 0 || len % sizeof (struct sock_filter) != 0)
    return nook_error (err, EINVAL, "seccomp program has an invalid size %zu", len);
  out->filter = (struct sock_filter *) steal_pointer (&data);
  out->len = (unsigned short) (len / sizeof (struct sock_filter));
  return 0;
}

/* ---- -ENOSYS for syscalls newer than the profile ----
 * A profile whose default is to refuse lists the syscalls it knows; a syscall newer than all of them
 * (clone3 to an old profile, a future one) must look unimplemented (ENOSYS: libc falls back to an older
 * call), not forbidden (EPERM): a stub in front of libseccomp's program answers -ENOSYS for every syscall
 * number above the highest the profile names for that architecture (runc does the same). */

#define STUB_MAX_ARCHES 8

struct stub_arch
{
  uint32_t arch; /* AUDIT_ARCH_*: libseccomp's SCMP_ARCH_* are those values */
  int max_nr;
};

static size_t
stub_arches (const struct nook_seccomp *s, struct stub_arch *out)
{
  size_t n = 0;
  uint32_t native = seccomp_arch_native ();

  for (size_t i = 0; n < STUB_MAX_ARCHES; i++)
    {
      uint32_t arch;
      nook_err ignored;
      if (s->architectures == NULL || s->architectures[0] == NULL)
        {
          if (i > 0)
            break;
          arch = native;
        }
      else if (s->architectures[i] == NULL)
        break;
      else if (arch_from_name (s->architectures[i], &arch, &ignored) < 0 || arch == SCMP_ARCH_X32)
        continue; /* x32 shares x86_64's audit arch (its numbers carry bit 30): left to the main program */
      out[n] = (struct stub_arch){ .arch = arch, .max_nr = -1 };
      for (size_t r = 0; r < s->n_rules; r++)
        for (size_t k = 0; s->rules[r].names && s->rules[r].names[k]; k++)
          {
            int nr = seccomp_syscall_resolve_name_arch (arch, s->rules[r].names[k]);
            if (nr > out[n].max_nr && nr < 0x40000000)
              out[n].max_nr = nr;
          }
      if (out[n].max_nr >= 0)
        n++;
    }
  return n;
}

static int
prepend_enosys_stub (const struct nook_seccomp *s, struct nook_seccomp_prog *p)
{
  struct stub_arch a[STUB_MAX_ARCHES];
  size_t n = stub_arches (s, a), len = 0, blocks, enosys, main_at;
  struct sock_filter *f;

  if (n == 0)
    return 0;
  blocks = 1 + n + 1;                 /* load arch, one test per arch, jump to main */
  enosys = blocks;
  for (size_t i = 0; i < n; i++)
    enosys += a[i].arch == SCMP_ARCH_X86_64 ? 3 : 2;
  main_at = enosys + 1;
  if (main_at + p->len > BPF_MAXINSNS)
    return 0; /* no room: the profile's own answer stands */
  f = xcalloc (main_at + p->len, sizeof (*f));
  f[len++] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch));
  size_t block = blocks;
  for (size_t i = 0; i < n; i++)
    {
      f[len] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, a[i].arch, (uint8_t) (block - len - 1), 0);
      len++;
      block += a[i].arch == SCMP_ARCH_X86_64 ? 3 : 2;
    }
  f[len] = (struct sock_filter) BPF_STMT (BPF_JMP | BPF_JA | BPF_K, (uint32_t) (main_at - len - 1));
  len++;
  for (size_t i = 0; i < n; i++)
    {
      f[len++] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr));
      if (a[i].arch == SCMP_ARCH_X86_64)
        {
          f[len] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 0x40000000, (uint8_t) (main_at - len - 1), 0);
          len++;
        }
      f[len] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JGT | BPF_K, (uint32_t) a[i].max_nr,
                                              (uint8_t) (enosys - len - 1), (uint8_t) (main_at - len - 1));
      len++;
    }
  f[len++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  memcpy (f + len, p->filter, p->len * sizeof (*f));
  free (p->filter);
  p->filter = f;
  p->len = (unsigned short) (len + p->len);
  return 0;
}

static int
compile_ctx (const struct nook_seccomp *s, scmp_filter_ctx ctx, uint32_t default_action, nook_err *err)
{
  int rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);

  if (rc < 0)
    return nook_error (err, -rc, "seccomp_attr_set SCMP_FLTATR_CTL_NNP");
  if (add_arches (ctx, s->architectures, err) < 0)
    return nook_error_prefix (err, "architectures");
  for (size_t i = 0; i < s->n_rules; i++)
    if (add_rule (ctx, &s->rules[i], default_action, err) < 0)
      return nook_error_prefix (err, "syscalls[%zu]", i);
  return 0;
}

int
nook_seccomp_compile (const struct nook_seccomp *s, struct nook_seccomp_prog *out, nook_err *err)
{
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  uint32_t default_action;
  unsigned int flags = 0;

  *out = (struct nook_seccomp_prog){ 0 };
  if (action_from_name (s->default_action, s->has_default_errno_ret, s->default_errno_ret, &default_action, err)
      < 0)
    return nook_error_prefix (err, "defaultAction");
  for (size_t i = 0; s->flags != NULL && s->flags[i] != NULL; i++)
    if (flag_from_name (s->flags[i], &flags, err) < 0)
      return nook_error_prefix (err, "flags");
  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return nook_error (err, EINVAL, "seccomp_init");
  if (compile_ctx (s, ctx, default_action, err) < 0)
    return -1;
  if (export_bpf (ctx, out, err) < 0)
    return -1;
  if (default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG)
    prepend_enosys_stub (s, out);
  out->flags = flags;
  return 0;
}

void
nook_seccomp_prog_free (struct nook_seccomp_prog *p)
{
  if (p == NULL)
    return;
  free (p->filter);
  *p = (struct nook_seccomp_prog){ 0 };
}

int
nook_seccomp_load (const struct nook_seccomp_prog *p, nook_err *err)
{
  struct sock_fprog fprog = { .len = p->len, .filter = p->filter };

  int fd;

  if (p->filter == NULL || p->len == 0)
    return 0;
  fd = sys_seccomp (SECCOMP_SET_MODE_FILTER, p->flags | (p->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0),
                    &fprog);
  if (fd < 0)
    return nook_error (err, errno, "seccomp SECCOMP_SET_MODE_FILTER");
  if (!p->notify)
    return 0;
  /* The notify fd goes to the runtime, which hands it to the agent (listenerPath is on the host). */
  if (nook_sync_send (p->notify_sock, NOOK_SYNC_SECCOMP_FD, 0, err) < 0
      || nook_send_fd (p->notify_sock, fd, "seccomp", err) < 0)
    {
      close (fd);
      return -1;
    }
  close (fd);
  return 0;
}

int
nook_seccomp_notify_send (const struct nook_seccomp *s, int notify_fd, pid_t pid, json_t *state, nook_err *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int sock = -1;
  cleanup_free char *text = NULL;
  json_t *msg;

  if (s->listener_path == NULL || strlen (s->listener_path) >= sizeof (addr.sun_path))
    return nook_error_input (err, "linux.seccomp.listenerPath: missing or too long");
  strcpy (addr.sun_path, s->listener_path);
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return nook_error (err, errno, "socket");
  if (connect (sock, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return nook_error (err, errno, "failed to connect with seccomp agent specified in the seccomp profile `%s`",
                       s->listener_path);
  msg = json_pack ("{s:s, s:[s], s:I, s:s, s:O}", "ociVersion", "1.0.2", "fds", "seccompFd", "pid", (json_int_t) pid,
                   "metadata", s->listener_metadata ? s->listener_metadata : "", "state", state);
  text = msg ? json_dumps (msg, JSON_COMPACT) : NULL;
  json_decref (msg);
  if (text == NULL)
    return nook_error_input (err, "seccomp agent: cannot encode the container state");
  if (nook_send_fd (sock, notify_fd, text, err) < 0)
    return nook_error_prefix (err, "send the seccomp notify fd to `%s`", s->listener_path);
  return 0;
}
