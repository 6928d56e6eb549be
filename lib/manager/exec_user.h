/* `exec --user NAME[:GROUP]`: the runtime takes numeric ids, the names are looked up in the running
 * container's own /etc/passwd and /etc/group (as runc's GetExecUser: a numeric user need not exist; a
 * user without a group gets its passwd group, else 0).  The supplementary groups are exactly podman's:
 * the primary group, every group of /etc/group listing the user (only when no GROUP is given) and the
 * container's --group-add groups; never the container process's own. */
#ifndef NOOK_MANAGER_EXEC_USER_H
#define NOOK_MANAGER_EXEC_USER_H

#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct nook_exec_user
{
  uint32_t uid, gid;
  gid_t *gids; /* sorted, no duplicates; free() it */
  size_t n_gids;
};

/* USER for the container whose init is PID; GROUP_ADD (NULL-terminated, may be NULL): its --group-add. */
int nook_exec_user_resolve (pid_t pid, const char *user, char *const *group_add, struct nook_exec_user *out,
                            nook_err *err);

#endif
