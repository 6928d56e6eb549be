/* Internals of the cgroup code (cgroup.c, cgroup_v1.c, cgroup_v2.c), exposed for the unit tests.
 * Paths named "own" or "cgroup path" are relative to a hierarchy's root and start with '/'; "dir" is an
 * absolute host directory (hierarchy mount point + cgroup path). */
#ifndef NOOK_RUNTIME_CGROUP_INTERNAL_H
#define NOOK_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "util/error.h"

#define NOOK_CGROUP_MOUNT "/sys/fs/cgroup"
#define NOOK_CGROUP_UNIFIED_MOUNT "/sys/fs/cgroup/unified"

/* ---- pure functions ---- */

/* The container's cgroup directory in the hierarchy mounted at ROOT:
 *   "/foo/bar"            -> ROOT/foo/bar
 *   "slice:prefix:name"   -> ROOT/<expanded slice>/<prefix>-<name>.scope (systemd's layout; with ROOTLESS
 *                            the slice is dropped: OWN/<prefix>-<name>.scope)
 *   "rel/path"            -> ROOT/OWN/rel/path
 *   NULL or ""            -> ROOT/nook/ID, or with ROOTLESS ROOT/OWN/nook-ID
 * OWN is our own cgroup in that hierarchy (rootless: the writable base chosen for us).  ".." components
 * and the root cgroup itself are refused.  Returns an allocated path or NULL with ERR. */
char *nook_cgroup_resolve_path (const char *root, const char *own, const char *cgroups_path, const char *id,
                                bool rootless, nook_err *err);
/* systemd's slice expansion: "a-b.slice" -> "/a.slice/a-b.slice".  NULL when SLICE is malformed. */
char *nook_cgroup_expand_slice (const char *slice);
/* cpu.shares (v1, 2..262144) -> cpu.weight (v2, 1..10000); 0 stays 0 (unset). */
uint64_t nook_cgroup_shares_to_weight (uint64_t shares);
/* OCI memory.swap (memory+swap) -> v2 memory.swap.max as runc converts it; -1 = "max", 0 = unset. */
int nook_cgroup_swap_to_v2 (int64_t swap, int64_t limit, int64_t *out, nook_err *err);
/* Our cgroup from /proc/self/cgroup TEXT: the v2 line ("0::") when CONTROLLER is NULL, else the v1 line
 * whose controller list contains CONTROLLER ("memory", "name=systemd").  Allocated, NULL when absent. */
char *nook_cgroup_own_path (const char *text, const char *controller);
/* True when any limit other than device rules is requested. */
bool nook_cgroup_has_limits (const struct nook_resources *r);
/* True when the device rules are empty or the usual "deny all, allow the standard devices" set. */
bool nook_cgroup_devices_default (const struct nook_device_rule *rules, size_t n);
/* "c 1:3 rwm", "a": the v1 devices.allow/deny line.  Returns BUF. */
const char *nook_cgroup_device_rule_str (const struct nook_device_rule *r, char *buf, size_t len);
/* True when the token WORD appears in the space/comma/newline separated LIST. */
bool nook_cgroup_list_has (const char *list, const char *word);

/* ---- small I/O helpers shared by the three files ---- */

/* Write VALUE to DIR/FILE: "write `DIR/FILE`: <strerror>" on failure. */
int nook_cgroup_write (const char *dir, const char *file, const char *value, nook_err *err);
/* Read DIR/FILE (trailing newline stripped); NULL with ERR on failure. */
char *nook_cgroup_read (const char *dir, const char *file, nook_err *err);
/* DIR and DIR/cgroup.procs writable by our effective ids. */
bool nook_cgroup_dir_writable (const char *dir);
/* "/a/b/c" -> "/a/b"; "/a" -> "/". */
char *nook_cgroup_parent (const char *path);
/* Our own cgroup (see nook_cgroup_own_path) read from /proc/self/cgroup; "/" when absent or outside
 * our cgroup namespace. */
char *nook_cgroup_own (const char *controller);

/* ---- placement and limits ---- */

struct nook_cgroup_v1h   /* one mounted v1 hierarchy */
{
  char *mount;            /* "/sys/fs/cgroup/memory" */
  char *controllers;      /* "memory", "cpu,cpuacct", "name=systemd" */
  char *own;              /* our cgroup in it, relative to the mount */
};

struct nook_cgroup_ctx
{
  const struct nook_resources *res;
  const struct nook_device *devices; /* linux.devices: each gets an allow rule after the spec's rules */
  size_t n_devices;
  const char *cgroups_path;
  const char *id;
  bool rootless;
  bool has_limits;
  bool warned;            /* the one resource warning of this create was given */
  bool warned_devices;
  bool skipped;           /* some requested limit was not applied */
  struct nook_cgroup *cg;
  char **v1_controllers;  /* parallel to cg->v1 */
  size_t n_v1;
};

void nook_cgroup_warn_once (struct nook_cgroup_ctx *ctx, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* cgroup_v1.c */
int nook_cgroup_v1_hierarchies (struct nook_cgroup_v1h **out, size_t *n, nook_err *err);
void nook_cgroup_v1h_free (struct nook_cgroup_v1h *h, size_t n);
/* mkdir the container's directory in every v1 hierarchy (rootless: only where writable). */
int nook_cgroup_v1_place (struct nook_cgroup_ctx *ctx, nook_err *err);
int nook_cgroup_v1_memory (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v1_pids (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v1_cpu (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v1_cpuset (const char *dir, const struct nook_resources *r, nook_err *err);

/* cgroup_v2.c */
/* Rootless: the closest writable ancestor of OWN (preferring OWN's parent over OWN, see cgroup.h). */
char *nook_cgroup_v2_rootless_base (const char *root, const char *own);
/* mkdir the container's directory in the unified hierarchy mounted at ROOT, enabling controllers. */
int nook_cgroup_v2_place (struct nook_cgroup_ctx *ctx, const char *root, nook_err *err);
int nook_cgroup_v2_memory (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v2_pids (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v2_cpu (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v2_cpuset (const char *dir, const struct nook_resources *r, nook_err *err);
int nook_cgroup_v2_unified (const char *dir, const struct nook_resources *r, nook_err *err);

/* cgroup_devices.c */
/* The rules the container's device cgroup enforces, in order: "deny a", R's rules (those with an access),
 * runc's default allow list without the devices DEVS redefines.  *OUT is allocated; returns its length. */
size_t nook_cgroup_device_rules (const struct nook_resources *r, const struct nook_device *devs, size_t n_devs,
                                 struct nook_device_rule **out);
/* RULES as a BPF_PROG_TYPE_CGROUP_DEVICE program: the last matching rule decides.  *OUT is allocated
 * (struct bpf_insn); returns the number of instructions. */
struct bpf_insn;
size_t nook_cgroup_devices_bpf (const struct nook_device_rule *rules, size_t n, struct bpf_insn **out);
/* v1: the rules written to DIR's devices.deny/devices.allow in order. */
int nook_cgroup_v1_devices (const char *dir, const struct nook_resources *r, const struct nook_device *devs,
                            size_t n_devs, nook_err *err);
/* v2: the rules as a device program attached to the cgroup directory DIR. */
int nook_cgroup_v2_devices (const char *dir, const struct nook_resources *r, const struct nook_device *devs,
                            size_t n_devs, nook_err *err);

#endif
