/* User namespace id maps and namespace entry.
 *
 * Id maps are written by the runtime for the child that just unshared its user namespace:
 *   - as root: written directly to /proc/PID/{uid,gid}_map (setgroups stays "allow");
 *   - rootless, one line mapping exactly our own uid (and gid): written directly, setgroups "deny";
 *   - anything else: newuidmap/newgidmap (setuid helpers that check /etc/subuid and /etc/subgid), with
 *     setgroups allowed; their error text is part of nook's message. */
#ifndef NOOK_RUNTIME_USERNS_H
#define NOOK_RUNTIME_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "util/error.h"

enum nook_idmap_method
{
  NOOK_IDMAP_DIRECT,       /* root, or write our own id */
  NOOK_IDMAP_DIRECT_DENY,  /* rootless single mapping: setgroups must be denied first */
  NOOK_IDMAP_HELPER,       /* newuidmap / newgidmap */
};

/* Pure: which method the spec's mappings need for a caller with EUID/EGID. */
enum nook_idmap_method nook_idmap_method (const struct nook_spec *spec, uid_t euid, gid_t egid);
enum nook_idmap_method nook_idmap_method_for (const struct nook_idmap *u, size_t nu, const struct nook_idmap *g,
                                              size_t ng, uid_t euid, gid_t egid);
/* Write PID's maps with METHOD. */
int nook_idmap_write (const struct nook_spec *spec, pid_t pid, enum nook_idmap_method method, nook_err *err);
int nook_idmap_write_maps (pid_t pid, const struct nook_idmap *u, size_t nu, const struct nook_idmap *g, size_t ng,
                           enum nook_idmap_method method, nook_err *err);

/* The first range of USER (by name, or by numeric UID) in FILE (/etc/subuid, /etc/subgid).
 * Returns 1 when found, 0 when not (or no file), -1 on error. */
int nook_subid_lookup (const char *file, const char *user, uid_t uid, uint32_t *start, uint32_t *count,
                       nook_err *err);
/* The rootless map podman uses: 0 -> ID (size 1), then 1 -> START (COUNT) when COUNT > 0.  Returns n. */
size_t nook_idmap_rootless (uint32_t id, uint32_t start, uint32_t count, struct nook_idmap out[2]);
/* The caller's full rootless maps from /etc/subuid and /etc/subgid (sizes 1 when it has no range). */
int nook_idmap_for_caller (struct nook_idmap u[2], size_t *nu, struct nook_idmap g[2], size_t *ng, nook_err *err);

/* Run FN (UD) in a child process that is root in a new user namespace with maps U/G (and in a new mount
 * namespace when NEW_MOUNTNS).  FN's failure comes back in ERR.  Used for rootless store work: files
 * owned by sub-ids can only be created or removed from inside such a namespace. */
int nook_userns_run (const struct nook_idmap *u, size_t nu, const struct nook_idmap *g, size_t ng, bool new_mountns,
                     int (*fn) (void *ud, nook_err *err), void *ud, nook_err *err);
/* The text of a map file ("0 1000 1\n1 200000 65536\n"); allocated. */
char *nook_idmap_format (const struct nook_idmap *maps, size_t n);

/* In the child: open every namespace the spec joins by path (before anything changes). FDS gets -1
 * for the ones created new. */
int nook_ns_open_paths (const struct nook_spec *spec, int fds[NOOK_NS_COUNT], nook_err *err);
/* setns() one namespace fd; TYPE names it in the error. */
int nook_ns_join (int fd, int type, nook_err *err);
/* After joining a user namespace: whether setgroups(2) is denied in it (its maps were written unprivileged). */
bool nook_userns_setgroups_denied (void);
/* Join the namespaces of FDS whose bit (1 << type) is set in *PENDING, the mount namespace last; clear the bit
 * of each one joined.  With TOLERATE_EPERM a join refused with EPERM stays pending instead of failing: a
 * namespace owned by the initial user namespace can only be joined before entering a new user namespace,
 * one owned by the container's only after, so callers join in two passes around the user namespace. */
int nook_ns_join_pending (const int fds[NOOK_NS_COUNT], unsigned *pending, bool tolerate_eperm, nook_err *err);

#endif
